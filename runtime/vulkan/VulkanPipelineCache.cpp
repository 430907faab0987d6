//===- VulkanPipelineCache.cpp - A VkPipelineCache and its bytes ----------===//
#include "trueno/Runtime/Vulkan/VulkanPipelineCache.h"

#include <cstring>

namespace trueno::runtime::vulkan {

namespace {
std::uint32_t word(llvm::StringRef data, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[at + i]))
         << (8 * i);
  return v;
}
} // namespace

std::optional<std::string>
VulkanPipelineCache::mismatch(llvm::StringRef data,
                              const VulkanDeviceInfo &info) {
  // VkPipelineCacheHeaderVersionOne: length, version, vendor, device (four
  // little-endian words on every host Trueno runs on), then the UUID.
  constexpr std::size_t kHeaderBytes = 16 + VK_UUID_SIZE;
  if (data.size() < kHeaderBytes)
    return std::string("shorter than a pipeline cache header");
  std::uint32_t length = word(data, 0);
  if (length < kHeaderBytes || length > data.size())
    return std::string("a header length out of range");
  if (word(data, 4) != VK_PIPELINE_CACHE_HEADER_VERSION_ONE)
    return std::string("an unknown header version");
  if (word(data, 8) != info.vendorId || word(data, 12) != info.deviceId)
    return std::string("another device's");
  if (std::memcmp(data.data() + 16, info.pipelineCacheUUID.data(),
                  VK_UUID_SIZE) != 0)
    return std::string("another driver's (pipeline-cache UUID)");
  return std::nullopt;
}

llvm::Expected<std::unique_ptr<VulkanPipelineCache>>
VulkanPipelineCache::create(std::shared_ptr<VulkanDevice> device,
                            llvm::StringRef data) {
  std::unique_ptr<VulkanPipelineCache> cache(new VulkanPipelineCache(device));
  VkPipelineCacheCreateInfo create{};
  create.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO;
  if (!data.empty() && !mismatch(data, device->info())) {
    create.initialDataSize = data.size();
    create.pInitialData = data.data();
    cache->primed_ = true;
  }
  if (VkResult r = device->functions().vkCreatePipelineCache(
          device->handle(), &create, nullptr, &cache->cache_);
      r != VK_SUCCESS)
    return device->failure(llvm::Twine("vkCreatePipelineCache failed: ") +
                           resultName(r));
  return cache;
}

llvm::Expected<std::string> VulkanPipelineCache::data() const {
  const VulkanDeviceFunctions &vk = device_->functions();
  // The size, then the bytes; a cache grown in between (another thread
  // creating pipelines) answers VK_INCOMPLETE, and is asked again.
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::size_t size = 0;
    if (VkResult r = vk.vkGetPipelineCacheData(device_->handle(), cache_, &size,
                                               nullptr);
        r != VK_SUCCESS)
      return device_->failure(llvm::Twine("vkGetPipelineCacheData failed: ") +
                              resultName(r));
    std::string bytes(size, '\0');
    VkResult r = vk.vkGetPipelineCacheData(device_->handle(), cache_, &size,
                                           bytes.data());
    if (r == VK_SUCCESS) {
      bytes.resize(size);
      return bytes;
    }
    if (r != VK_INCOMPLETE)
      return device_->failure(llvm::Twine("vkGetPipelineCacheData failed: ") +
                              resultName(r));
  }
  return device_->failure("vkGetPipelineCacheData kept growing");
}

VulkanPipelineCache::~VulkanPipelineCache() {
  if (cache_)
    device_->functions().vkDestroyPipelineCache(device_->handle(), cache_,
                                                nullptr);
}

} // namespace trueno::runtime::vulkan
