//===- VulkanPipelineCache.h - A VkPipelineCache and its bytes --*- C++ -*-===//
//
// The driver's compiled pipelines of one program, kept on disk with the
// program's SPIR-V (in its kernel cache entry): a process that loads the
// program from the cache creates its pipelines from this cache, so the
// driver does not compile the SPIR-V again. Bytes of another device,
// driver or pipeline-cache UUID are checked against the header Vulkan
// defines and left out (the cache starts empty) rather than handed to the
// driver.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_VULKAN_VULKANPIPELINECACHE_H
#define TRUENO_RUNTIME_VULKAN_VULKANPIPELINECACHE_H

#include "trueno/Runtime/Vulkan/VulkanDevice.h"

#include <memory>
#include <string>

namespace trueno::runtime::vulkan {

class VulkanPipelineCache {
public:
  /// A pipeline cache on `device`, holding `data` (from
  /// vkGetPipelineCacheData in an earlier process) when its header is this
  /// device's, else empty.
  static llvm::Expected<std::unique_ptr<VulkanPipelineCache>>
  create(std::shared_ptr<VulkanDevice> device, llvm::StringRef data = {});
  ~VulkanPipelineCache();
  VulkanPipelineCache(const VulkanPipelineCache &) = delete;
  VulkanPipelineCache &operator=(const VulkanPipelineCache &) = delete;

  VkPipelineCache handle() const { return cache_; }
  /// Whether the data given to create() was this device's and was used.
  bool primed() const { return primed_; }
  /// What the cache holds now, to store.
  llvm::Expected<std::string> data() const;

  /// Why `data` is not a pipeline cache of `info`'s device and driver, or
  /// nothing when it is (the header: length, version one, vendor, device,
  /// pipeline-cache UUID).
  static std::optional<std::string> mismatch(llvm::StringRef data,
                                             const VulkanDeviceInfo &info);

private:
  explicit VulkanPipelineCache(std::shared_ptr<VulkanDevice> device)
      : device_(std::move(device)) {}

  std::shared_ptr<VulkanDevice> device_;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  bool primed_ = false;
};

} // namespace trueno::runtime::vulkan

#endif // TRUENO_RUNTIME_VULKAN_VULKANPIPELINECACHE_H
