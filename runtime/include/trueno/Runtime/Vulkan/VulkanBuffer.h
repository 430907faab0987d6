//===- VulkanBuffer.h - Device-local memory of a Vulkan device --*- C++ -*-===//
//
// A runtime::Buffer on a Vulkan device: a VkBuffer with its own
// device-local VkDeviceMemory, freed with the last reference. The host
// cannot address it (hostAddress() is null): bytes move through
// VulkanDevice::upload and download. Buffers keep their device alive.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_VULKAN_VULKANBUFFER_H
#define TRUENO_RUNTIME_VULKAN_VULKANBUFFER_H

#include "trueno/Runtime/Backend.h"
#include "trueno/Runtime/Vulkan/VulkanDevice.h"

namespace trueno::runtime::vulkan {

class VulkanBuffer final : public Buffer {
public:
  VulkanBuffer(std::shared_ptr<VulkanDevice> device, VkBuffer buffer,
               VkDeviceMemory memory, std::size_t size);
  ~VulkanBuffer() override;

  std::byte *hostAddress() override { return nullptr; }
  /// Null for a buffer of zero bytes.
  VkBuffer handle() const { return buffer_; }
  VulkanDevice &vulkanDevice() const { return *device_; }

private:
  std::shared_ptr<VulkanDevice> device_;
  VkBuffer buffer_;
  VkDeviceMemory memory_;
};

} // namespace trueno::runtime::vulkan

#endif // TRUENO_RUNTIME_VULKAN_VULKANBUFFER_H
