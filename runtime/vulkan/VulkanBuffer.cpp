//===- VulkanBuffer.cpp - Device-local memory of a Vulkan device ----------===//
#include "trueno/Runtime/Vulkan/VulkanBuffer.h"

namespace trueno::runtime::vulkan {

VulkanBuffer::VulkanBuffer(std::shared_ptr<VulkanDevice> device,
                           VkBuffer buffer, VkDeviceMemory memory,
                           std::size_t size)
    : Buffer(Device::vulkan(device->info().index), size),
      device_(std::move(device)), buffer_(buffer), memory_(memory) {
  device_->liveBytes_ += size;
}

VulkanBuffer::~VulkanBuffer() {
  const VulkanDeviceFunctions &vk = device_->functions();
  if (buffer_)
    vk.vkDestroyBuffer(device_->handle(), buffer_, nullptr);
  if (memory_)
    vk.vkFreeMemory(device_->handle(), memory_, nullptr);
  device_->liveBytes_ -= size();
}

} // namespace trueno::runtime::vulkan
