//===- VulkanKernel.h - One compute pipeline --------------------*- C++ -*-===//
//
// A compiled kernel on a device: its shader module, the layout of its
// storage buffers (set 0, bindings 0..n-1 in argument order, as
// convert-gpu-to-spirv binds them), its pipeline layout and compute
// pipeline. Created from the words codegen serialized; destroyed with the
// last reference. VulkanDevice::dispatch runs it.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_VULKAN_VULKANKERNEL_H
#define TRUENO_RUNTIME_VULKAN_VULKANKERNEL_H

#include "trueno/Runtime/Vulkan/VulkanDevice.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace trueno::runtime::vulkan {

class VulkanKernel {
public:
  /// `words` (a SPIR-V module) with entry point `entryPoint` binding
  /// `bindings` storage buffers; its pipeline created through `cache`
  /// (VulkanPipelineCache) when one is given.
  static llvm::Expected<std::unique_ptr<VulkanKernel>>
  create(std::shared_ptr<VulkanDevice> device,
         const std::vector<std::uint32_t> &words, const std::string &entryPoint,
         int bindings, VkPipelineCache cache = VK_NULL_HANDLE);
  ~VulkanKernel();
  VulkanKernel(const VulkanKernel &) = delete;
  VulkanKernel &operator=(const VulkanKernel &) = delete;

  int bindings() const { return bindings_; }
  /// Whether the kernel may write binding `b` (SpirvKernel::writes; every
  /// binding until setWrites says otherwise).
  bool writes(int b) const {
    return static_cast<std::size_t>(b) >= writes_.size() ||
           writes_[static_cast<std::size_t>(b)] != 0;
  }
  void setWrites(std::vector<std::uint8_t> writes) {
    writes_ = std::move(writes);
  }
  VkPipeline pipeline() const { return pipeline_; }
  VkPipelineLayout pipelineLayout() const { return pipelineLayout_; }
  VkDescriptorSetLayout setLayout() const { return setLayout_; }
  /// Whether a dispatch pushes its buffers into the command buffer
  /// (vkCmdPushDescriptorSetKHR) rather than binding a descriptor set: the
  /// device has VK_KHR_push_descriptor and the kernel binds no more buffers
  /// than it may push.
  bool pushesDescriptors() const { return pushes_; }
  /// What TRUENO_VULKAN_PROFILE's table calls it: its program's cache key
  /// (abbreviated) and its place there.
  const std::string &label() const { return label_; }
  void setLabel(std::string label) { label_ = std::move(label); }

private:
  /// One line on stderr per executable of the pipeline: the driver's
  /// statistics of its compiled code (TRUENO_VULKAN_PIPELINE_STATISTICS=1).
  void printStatistics(const std::string &entryPoint, std::size_t words) const;
  VulkanKernel(std::shared_ptr<VulkanDevice> device, int bindings)
      : device_(std::move(device)), bindings_(bindings) {}

  std::shared_ptr<VulkanDevice> device_;
  int bindings_;
  bool pushes_ = false;
  std::vector<std::uint8_t> writes_;
  VkShaderModule module_ = VK_NULL_HANDLE;
  VkDescriptorSetLayout setLayout_ = VK_NULL_HANDLE;
  VkPipelineLayout pipelineLayout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
  std::string label_;
};

} // namespace trueno::runtime::vulkan

#endif // TRUENO_RUNTIME_VULKAN_VULKANKERNEL_H
