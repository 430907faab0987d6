//===- VulkanDevice.cpp - One logical Vulkan device -----------------------===//
#include "trueno/Runtime/Vulkan/VulkanDevice.h"
#include "trueno/Runtime/Counters.h"
#include "trueno/Runtime/Settings.h"
#include "trueno/Runtime/Vulkan/VulkanBuffer.h"
#include "trueno/Runtime/Vulkan/VulkanKernel.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

namespace trueno::runtime::vulkan {

namespace {

/// The staging buffer grows to the largest transfer, up to this; longer
/// transfers go in pieces.
constexpr std::size_t kStagingCap = std::size_t(64) << 20;
/// The staging memory an open batch is given for the uploads of calls
/// that join it grows to this at most (a call with more gets what it
/// needs), so that eight batch slots do not keep 8 x 64 MiB.
constexpr std::size_t kWantedStagingCap = std::size_t(4) << 20;

/// A dispatch's buffers as descriptor writes into `set` (null where they
/// are pushed): one storage-buffer write per binding, appended to
/// `writes`, pointing into `infos`, which must have room for them (the
/// writes keep pointers to its elements).
void appendBufferWrites(const VulkanCommand &dispatch, VkDescriptorSet set,
                        std::vector<VkDescriptorBufferInfo> &infos,
                        std::vector<VkWriteDescriptorSet> &writes) {
  assert(infos.capacity() - infos.size() >= dispatch.bindings.size());
  for (std::size_t b = 0; b < dispatch.bindings.size(); ++b) {
    const auto &[buffer, offset] = dispatch.bindings[b];
    infos.push_back({buffer, offset, VK_WHOLE_SIZE});
    VkWriteDescriptorSet write{};
    write.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
    write.dstSet = set;
    write.dstBinding = static_cast<std::uint32_t>(b);
    write.descriptorCount = 1;
    write.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    write.pBufferInfo = &infos.back();
    writes.push_back(write);
  }
}

} // namespace

llvm::Error VulkanDevice::failure(const llvm::Twine &message) const {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 ("vulkan:" + llvm::Twine(info_.index) + " (" +
                                  info_.name + "): " + message)
                                     .str());
}

llvm::Expected<std::shared_ptr<VulkanDevice>>
VulkanDevice::create(VulkanInstance &instance, const VulkanDeviceInfo &info) {
  std::shared_ptr<VulkanDevice> device(new VulkanDevice(instance, info));
  if (!info.unusable.empty())
    return device->failure("unusable: " + info.unusable);
  if (llvm::Error e = device->create())
    return e;
  return device;
}

llvm::Error VulkanDevice::create() {
  // How long a wait polls its fence before it blocks: on a GPU for up to
  // 5 ms (a training step's program runs about 1 ms on an H100, and a
  // blocking wait that long wakes late), on a CPU driver (lavapipe) 200
  // microseconds, as its threads want the cores the poll would take.
  // TRUENO_VULKAN_SPIN_US sets it.
  spinMicros_ = std::chrono::microseconds(info_.type == "CPU" ? 200 : 5000);
  if (auto asked = numberSetting(
          "TRUENO_VULKAN_SPIN_US", "microseconds, 0 to 10000000",
          [](std::int64_t us) { return us >= 0 && us <= 10000000; }))
    spinMicros_ = std::chrono::microseconds(*asked);
  timeSubmissions_ = runtime::debugLevel() >= 2;
  const VulkanFunctions &vki = instance_.functions();
  float priority = 1.0f;
  VkDeviceQueueCreateInfo queue{};
  queue.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  queue.queueFamilyIndex = static_cast<std::uint32_t>(info_.computeQueueFamily);
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;

  // What the device has of what kernels may use; nothing more, so that a
  // kernel that needs a missing feature fails validation, not silently.
  VkPhysicalDeviceVulkan12Features features12{};
  features12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  features12.timelineSemaphore = VK_TRUE;
  features12.shaderFloat16 = info_.float16;
  features12.shaderInt8 = info_.int8;
  features12.storageBuffer8BitAccess = info_.storage8;
  features12.shaderSubgroupExtendedTypes = info_.subgroupExtendedTypes;
  // Kernels on cooperative matrices use the Vulkan memory model.
  features12.vulkanMemoryModel = info_.vulkanMemoryModel;
  VkPhysicalDeviceVulkan11Features features11{};
  features11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  features11.storageBuffer16BitAccess = info_.storage16;
  features11.pNext = &features12;
  VkPhysicalDeviceFeatures2 features{};
  features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  features.features.shaderFloat64 = info_.float64;
  features.features.shaderInt64 = info_.int64;
  features.features.shaderInt16 = info_.int16;
  features.pNext = &features11;
  // Enabled where the device has it and TRUENO_VULKAN_COOPERATIVE_MATRIX is
  // not 0 (VulkanInstance.cpp); float16 products then use it.
  VkPhysicalDeviceCooperativeMatrixFeaturesKHR cooperative{};
  cooperative.sType =
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR;
  cooperative.cooperativeMatrix = VK_TRUE;
  // And bfloat16 ones where the device has them (bfloat16 products).
  VkPhysicalDeviceShaderBfloat16FeaturesKHR bfloat16{};
  bfloat16.sType =
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_BFLOAT16_FEATURES_KHR;
  bfloat16.shaderBFloat16Type = VK_TRUE;
  bfloat16.shaderBFloat16CooperativeMatrix = VK_TRUE;
  // And workgroup-scope matrices of flexible sizes where the device lists
  // them (TRUENO_VULKAN_COOPERATIVE_WORKGROUP=1; the workgroup-matrix
  // kernel).
  VkPhysicalDeviceCooperativeMatrix2FeaturesNV cooperative2{};
  cooperative2.sType =
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_FEATURES_NV;
  cooperative2.cooperativeMatrixWorkgroupScope = VK_TRUE;
  cooperative2.cooperativeMatrixFlexibleDimensions = VK_TRUE;
  cooperative2.cooperativeMatrixTensorAddressing =
      info_.workgroupTensorLoads ? VK_TRUE : VK_FALSE;
  std::vector<const char *> extensions;
  if (info_.cooperativeMatrix) {
    features12.pNext = &cooperative;
    extensions.push_back(VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME);
    if (info_.cooperativeMatrixBf16) {
      cooperative.pNext = &bfloat16;
      extensions.push_back(VK_KHR_SHADER_BFLOAT16_EXTENSION_NAME);
    }
    if (!info_.workgroupMatrices.empty()) {
      cooperative2.pNext = cooperative.pNext;
      cooperative.pNext = &cooperative2;
      extensions.push_back(VK_NV_COOPERATIVE_MATRIX_2_EXTENSION_NAME);
    }
  }
  // Dispatches push their buffers into the command buffer where the device
  // can (VulkanKernel, submit()).
  if (info_.maxPushDescriptors > 0)
    extensions.push_back(VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
  // Pipelines' statistics, where asked for (VulkanKernel prints them).
  VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR executable{};
  executable.sType =
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR;
  executable.pipelineExecutableInfo = VK_TRUE;
  if (info_.pipelineStatistics) {
    executable.pNext = features11.pNext;
    features11.pNext = &executable;
    extensions.push_back(VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME);
  }

  VkDeviceCreateInfo create{};
  create.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  create.pNext = &features;
  create.queueCreateInfoCount = 1;
  create.pQueueCreateInfos = &queue;
  create.enabledExtensionCount = static_cast<std::uint32_t>(extensions.size());
  create.ppEnabledExtensionNames = extensions.data();
  if (llvm::Error e =
          check(vki.vkCreateDevice(info_.handle, &create, nullptr, &device_),
                "vkCreateDevice on " + info_.name))
    return e;
#define TRUENO_VK_DEVICE(name)                                                 \
  vk_.name =                                                                   \
      reinterpret_cast<PFN_##name>(vki.vkGetDeviceProcAddr(device_, #name));
#include "trueno/Runtime/Vulkan/VulkanFunctions.def"
  vk_.vkGetDeviceQueue(device_, queue.queueFamilyIndex, 0, &queue_);
  vki.vkGetPhysicalDeviceMemoryProperties(info_.handle, &memory_);

  VkCommandPoolCreateInfo pool{};
  pool.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  pool.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool.queueFamilyIndex = queue.queueFamilyIndex;
  if (llvm::Error e =
          check(vk_.vkCreateCommandPool(device_, &pool, nullptr, &pool_),
                "vkCreateCommandPool"))
    return e;
  // A command buffer and a fence for each transfer lane, and for every
  // batch two command buffers (its prologue and its commands) and a fence.
  std::array<VkCommandBuffer, 2 * kBatchesInFlight + 2> buffers{};
  VkCommandBufferAllocateInfo allocate{};
  allocate.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  allocate.commandPool = pool_;
  allocate.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  allocate.commandBufferCount = static_cast<std::uint32_t>(buffers.size());
  if (llvm::Error e = check(
          vk_.vkAllocateCommandBuffers(device_, &allocate, buffers.data()),
          "vkAllocateCommandBuffers"))
    return e;
  lanes_[0].commands = buffers[0];
  lanes_[1].commands = buffers[1];
  for (std::size_t i = 0; i < kBatchesInFlight; ++i) {
    batches_[i].commands = buffers[2 * i + 2];
    batches_[i].prologue = buffers[2 * i + 3];
  }
  if (info_.timestamps) {
    VkQueryPoolCreateInfo queries{};
    queries.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
    queries.queryType = VK_QUERY_TYPE_TIMESTAMP;
    queries.queryCount = 2 * kBatchesInFlight;
    if (llvm::Error e = check(
            vk_.vkCreateQueryPool(device_, &queries, nullptr, &timestampPool_),
            "vkCreateQueryPool"))
      return e;
  }
  if (const char *profile = std::getenv("TRUENO_VULKAN_PROFILE");
      profile && std::string_view(profile) == "1") {
    if (!info_.timestamps) {
      llvm::errs() << "trueno: TRUENO_VULKAN_PROFILE: " << info_.describe()
                   << " writes no timestamps; not profiling\n";
    } else {
      VkQueryPoolCreateInfo queries{};
      queries.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
      queries.queryType = VK_QUERY_TYPE_TIMESTAMP;
      queries.queryCount = (kProfiledPerBatch + 1) * kBatchesInFlight;
      if (llvm::Error e = check(
              vk_.vkCreateQueryPool(device_, &queries, nullptr, &profilePool_),
              "vkCreateQueryPool"))
        return e;
    }
  }
  VkFenceCreateInfo fence{};
  fence.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  for (TransferLane &lane : lanes_)
    if (llvm::Error e =
            check(vk_.vkCreateFence(device_, &fence, nullptr, &lane.fence),
                  "vkCreateFence"))
      return e;
  for (Batch &batch : batches_)
    if (llvm::Error e =
            check(vk_.vkCreateFence(device_, &fence, nullptr, &batch.fence),
                  "vkCreateFence"))
      return e;
  VkSemaphoreTypeCreateInfo timelineType{};
  timelineType.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO;
  timelineType.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  VkSemaphoreCreateInfo semaphore{};
  semaphore.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO;
  semaphore.pNext = &timelineType;
  if (llvm::Error e =
          check(vk_.vkCreateSemaphore(device_, &semaphore, nullptr, &timeline_),
                "vkCreateSemaphore (timeline)"))
    return e;
  if (const char *setting = std::getenv("TRUENO_VULKAN_MERGE"))
    merge_ = std::string_view(setting) != "0";
  // A CPU driver (lavapipe) runs a batch on the cores that record the
  // next: there a long call is submitted whole.
  earlySubmitAfter_ = info_.type == "CPU" ? 0 : 8;
  if (auto asked =
          numberSetting("TRUENO_VULKAN_EARLY_SUBMIT", "commands, 0 to 1000000",
                        [](std::int64_t n) { return n >= 0 && n <= 1000000; }))
    earlySubmitAfter_ = static_cast<std::size_t>(*asked);
  if (profilePool_)
    commandsPerBatch_ = kProfiledPerBatch;
  if (merge_)
    submitter_ = std::thread([this] { submitOpenBatchesWhenDue(); });
  liveDevices(this, /*add=*/true);
  return llvm::Error::success();
}

void VulkanDevice::stopSubmitter() {
  if (!submitter_.joinable())
    return;
  {
    std::lock_guard lock(transferMutex_);
    stopping_ = true;
  }
  batchOpened_.notify_all();
  submitter_.join();
}

void VulkanDevice::liveDevices(VulkanDevice *device, bool add) {
  // The backends' devices live until the process exits (runtime/README.md):
  // their threads stop when it does, before the loader and the driver are
  // torn down (an exit handler registered after they were loaded runs
  // before theirs), and their profiles are printed. What a batch left open
  // then never runs; a program that wants its results reads them or calls
  // sync() first. A device destroyed earlier does both itself and leaves
  // the list.
  static std::mutex mutex;
  static std::vector<VulkanDevice *> *devices = nullptr;
  std::lock_guard lock(mutex);
  if (!devices) {
    devices = new std::vector<VulkanDevice *>();
    std::atexit([] {
      std::vector<VulkanDevice *> stopping;
      {
        std::lock_guard lock(mutex);
        stopping.swap(*devices);
      }
      for (VulkanDevice *d : stopping) {
        d->stopSubmitter();
        if (d->profilePool_)
          d->printProfile();
      }
    });
  }
  if (add)
    devices->push_back(device);
  else
    llvm::erase(*devices, device);
}

VulkanDevice::~VulkanDevice() {
  liveDevices(this, /*add=*/false);
  if (profilePool_)
    printProfile(); // a device gone before the process ends (tests)
  if (!device_)
    return;
  stopSubmitter();
  {
    // What was recorded runs, as it would have with the device alive.
    std::lock_guard lock(transferMutex_);
    llvm::consumeError(submitOpenBatch());
  }
  vk_.vkDeviceWaitIdle(device_);
  if (timeline_)
    vk_.vkDestroySemaphore(device_, timeline_, nullptr);
  for (TransferLane &lane : lanes_) {
    releaseStaging(lane.staging);
    if (lane.fence)
      vk_.vkDestroyFence(device_, lane.fence, nullptr);
  }
  for (Batch &batch : batches_) {
    batch.held.clear();
    if (batch.descriptorPool)
      vk_.vkDestroyDescriptorPool(device_, batch.descriptorPool, nullptr);
    releaseStaging(batch.staging);
    if (batch.fence)
      vk_.vkDestroyFence(device_, batch.fence, nullptr);
  }
  if (timestampPool_)
    vk_.vkDestroyQueryPool(device_, timestampPool_, nullptr);
  if (profilePool_)
    vk_.vkDestroyQueryPool(device_, profilePool_, nullptr);
  if (pool_) // frees its command buffers
    vk_.vkDestroyCommandPool(device_, pool_, nullptr);
  vk_.vkDestroyDevice(device_, nullptr);
}

std::optional<std::uint32_t>
VulkanDevice::memoryType(std::uint32_t typeBits,
                         VkMemoryPropertyFlags flags) const {
  for (std::uint32_t i = 0; i < memory_.memoryTypeCount; ++i)
    if ((typeBits & (1u << i)) &&
        (memory_.memoryTypes[i].propertyFlags & flags) == flags)
      return i;
  return std::nullopt;
}

llvm::Error VulkanDevice::createBuffer(std::size_t bytes,
                                       VkBufferUsageFlags usage,
                                       VkMemoryPropertyFlags flags,
                                       VkBuffer &buffer,
                                       VkDeviceMemory &memory) {
  VkBufferCreateInfo create{};
  create.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  create.size = bytes;
  create.usage = usage;
  create.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  if (VkResult r = vk_.vkCreateBuffer(device_, &create, nullptr, &buffer);
      r != VK_SUCCESS)
    return failure("creating a buffer of " + llvm::Twine(bytes) +
                   " bytes failed: " + resultName(r));
  VkMemoryRequirements needs{};
  vk_.vkGetBufferMemoryRequirements(device_, buffer, &needs);
  std::optional<std::uint32_t> type = memoryType(needs.memoryTypeBits, flags);
  auto undo = [&] {
    vk_.vkDestroyBuffer(device_, buffer, nullptr);
    buffer = VK_NULL_HANDLE;
  };
  if (!type) {
    undo();
    return failure("no memory type for a buffer of " + llvm::Twine(bytes) +
                   " bytes with properties " + llvm::Twine(flags));
  }
  VkMemoryAllocateInfo allocate{};
  allocate.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  allocate.allocationSize = needs.size;
  allocate.memoryTypeIndex = *type;
  // Buffers of 16 MiB or more get a dedicated allocation: on an H100 a sum
  // over a 1 GiB buffer took 0.68 ms on the GPU with it and 0.98 without,
  // in each of 6 processes (docs/PERFORMANCE.md); no other case moved.
  // TRUENO_VULKAN_DEDICATED=0 turns it off.
  VkMemoryDedicatedAllocateInfo dedicated{};
  dedicated.sType = VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO;
  dedicated.buffer = buffer;
  static const bool dedicate = [] {
    const char *setting = std::getenv("TRUENO_VULKAN_DEDICATED");
    return !setting || std::string_view(setting) != "0";
  }();
  if (dedicate && bytes >= (std::size_t(16) << 20))
    allocate.pNext = &dedicated;
  if (VkResult r = vk_.vkAllocateMemory(device_, &allocate, nullptr, &memory);
      r != VK_SUCCESS) {
    undo();
    return failure("allocating " + llvm::Twine(bytes) +
                   " bytes of device memory failed: " + resultName(r));
  }
  if (VkResult r = vk_.vkBindBufferMemory(device_, buffer, memory, 0);
      r != VK_SUCCESS) {
    undo();
    vk_.vkFreeMemory(device_, memory, nullptr);
    memory = VK_NULL_HANDLE;
    return failure("binding memory to a buffer failed: " + resultName(r));
  }
  return llvm::Error::success();
}

llvm::Expected<std::shared_ptr<VulkanBuffer>>
VulkanDevice::allocate(std::size_t bytes) {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  if (bytes > info_.deviceLocalBytes)
    return failure("allocating " + llvm::Twine(bytes) +
                   " bytes of device memory: the device has " +
                   llvm::Twine(info_.deviceLocalBytes));
  if (bytes > 0)
    if (llvm::Error e =
            createBuffer(bytes,
                         VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                             VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                             VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                         VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, buffer, memory))
      return e;
  return std::make_shared<VulkanBuffer>(shared_from_this(), buffer, memory,
                                        bytes);
}

void VulkanDevice::releaseStaging(Staging &staging) {
  if (staging.bytes)
    vk_.vkUnmapMemory(device_, staging.memory);
  if (staging.buffer)
    vk_.vkDestroyBuffer(device_, staging.buffer, nullptr);
  if (staging.memory)
    vk_.vkFreeMemory(device_, staging.memory, nullptr);
  staging = {};
}

llvm::Error VulkanDevice::reserveStaging(Staging &staging, std::size_t bytes) {
  if (bytes <= staging.size)
    return llvm::Error::success();
  releaseStaging(staging);
  // Cached host memory where the device has it, as CUDA's pinned memory:
  // the host reads a download's staging memory, which uncached
  // (write-combined) memory serves slowly, and writes an upload's with
  // ordinary stores.
  // A buffer's memory types need not include a cached one: then plain
  // host-visible memory, which Vulkan promises.
  VkMemoryPropertyFlags flags = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  VkBufferUsageFlags usage =
      VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  if (llvm::Error cached =
          createBuffer(bytes, usage, flags | VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
                       staging.buffer, staging.memory)) {
    llvm::consumeError(std::move(cached));
    if (llvm::Error e =
            createBuffer(bytes, usage, flags, staging.buffer, staging.memory))
      return e;
  }
  void *mapped = nullptr;
  if (VkResult r =
          vk_.vkMapMemory(device_, staging.memory, 0, bytes, 0, &mapped);
      r != VK_SUCCESS)
    return failure("mapping staging memory failed: " + resultName(r));
  staging.bytes = static_cast<std::byte *>(mapped);
  staging.size = bytes;
  return llvm::Error::success();
}

VkResult VulkanDevice::waitFor(VkFence fence) {
  // A blocking wait on some drivers sleeps in the kernel and wakes tens of
  // microseconds after the fence: most of a small program's time. Poll
  // for a while first, as CUDA's synchronize spins (spinMicros_).
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < spinMicros_) {
    VkResult r = vk_.vkGetFenceStatus(device_, fence);
    if (r != VK_NOT_READY)
      return r;
    std::this_thread::yield();
  }
  return vk_.vkWaitForFences(device_, 1, &fence, VK_TRUE, UINT64_MAX);
}

llvm::Error VulkanDevice::beginAfterEarlierWork(VkCommandBuffer commands) {
  if (VkResult r = vk_.vkResetCommandBuffer(commands, 0); r != VK_SUCCESS)
    return failure("vkResetCommandBuffer failed: " + resultName(r));
  VkCommandBufferBeginInfo begin{};
  begin.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  if (VkResult r = vk_.vkBeginCommandBuffer(commands, &begin); r != VK_SUCCESS)
    return failure("vkBeginCommandBuffer failed: " + resultName(r));
  // A barrier's first scope is every command submitted to the queue before
  // it, in this command buffer or earlier ones: this one makes the writes
  // of every earlier batch and transfer visible to what follows, and waits
  // for them.
  VkMemoryBarrier barrier{};
  barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  barrier.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT;
  barrier.dstAccessMask =
      VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT;
  vk_.vkCmdPipelineBarrier(commands, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                           VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &barrier,
                           0, nullptr, 0, nullptr);
  return llvm::Error::success();
}

llvm::Error VulkanDevice::endAndSubmit(VkCommandBuffer commands, VkFence fence,
                                       std::uint64_t timelineValue,
                                       VkCommandBuffer prologue) {
  if (prologue)
    if (VkResult r = vk_.vkEndCommandBuffer(prologue); r != VK_SUCCESS)
      return failure("vkEndCommandBuffer failed: " + resultName(r));
  if (VkResult r = vk_.vkEndCommandBuffer(commands); r != VK_SUCCESS)
    return failure("vkEndCommandBuffer failed: " + resultName(r));
  VkCommandBuffer both[] = {prologue, commands};
  VkSubmitInfo submit{};
  submit.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
  submit.commandBufferCount = prologue ? 2 : 1;
  submit.pCommandBuffers = prologue ? both : &commands;
  VkTimelineSemaphoreSubmitInfo timeline{};
  timeline.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO;
  timeline.signalSemaphoreValueCount = 1;
  timeline.pSignalSemaphoreValues = &timelineValue;
  if (timelineValue) {
    submit.pNext = &timeline;
    submit.signalSemaphoreCount = 1;
    submit.pSignalSemaphores = &timeline_;
  }
  if (VkResult r = vk_.vkQueueSubmit(queue_, 1, &submit, fence);
      r != VK_SUCCESS)
    return failure("vkQueueSubmit failed: " + resultName(r));
  return llvm::Error::success();
}

llvm::Error VulkanDevice::startTransfer() {
  if (llvm::Error e = submitOpenBatch())
    return e;
  if (!submitterError_.empty())
    return failure(std::exchange(submitterError_, {}));
  return llvm::Error::success();
}

template <typename Record>
llvm::Error VulkanDevice::submitOn(TransferLane &lane, Record &&record) {
  if (llvm::Error e = beginAfterEarlierWork(lane.commands))
    return e;
  record(lane.commands);
  if (llvm::Error e = endAndSubmit(lane.commands, lane.fence))
    return e;
  lane.pending = true;
  return llvm::Error::success();
}

llvm::Error VulkanDevice::finish(TransferLane &lane) {
  if (!lane.pending)
    return llvm::Error::success();
  lane.pending = false;
  ++counters().deviceWaits;
  VkResult waited = waitFor(lane.fence);
  vk_.vkResetFences(device_, 1, &lane.fence);
  if (waited != VK_SUCCESS)
    return failure("waiting for a transfer failed: " + resultName(waited));
  return llvm::Error::success();
}

llvm::Error VulkanDevice::endTransfer(llvm::Error error) {
  for (TransferLane &lane : lanes_)
    error = llvm::joinErrors(std::move(error), finish(lane));
  if (error)
    return error;
  // The transfer ran after every batch submitted before it: retire them,
  // which gives their buffers back and counts their time.
  return retireBatches(/*finishedOnly=*/true);
}

/// The most bytes a transfer lane stages at once: a large transfer goes
/// in pieces of this size, alternating between the two lanes.
constexpr std::size_t kTransferPiece = kStagingCap / 2;

llvm::Expected<std::size_t> VulkanDevice::stagePiece(TransferLane &lane,
                                                     std::size_t remaining) {
  if (llvm::Error e = reserveStaging(
          lane.staging,
          std::clamp<std::size_t>(remaining, 1 << 20, kTransferPiece)))
    return std::move(e);
  return std::min(remaining, lane.staging.size);
}

llvm::Error VulkanDevice::upload(VulkanBuffer &to, std::size_t offset,
                                 const void *from, std::size_t bytes) {
  if (offset > to.size() || bytes > to.size() - offset)
    return failure("an upload of " + llvm::Twine(bytes) + " bytes at " +
                   llvm::Twine(offset) + " past the end of a buffer of " +
                   llvm::Twine(to.size()));
  std::lock_guard lock(transferMutex_);
  if (llvm::Error e = startTransfer())
    return e;
  const auto *source = static_cast<const std::byte *>(from);
  auto pieces = [&]() -> llvm::Error {
    // Piece k goes through lane k % 2, once that lane's piece k - 2 has
    // been copied out of its staging memory.
    for (std::size_t done = 0, k = 0; done < bytes; ++k) {
      TransferLane &lane = lanes_[k % 2];
      if (llvm::Error e = finish(lane))
        return e;
      llvm::Expected<std::size_t> piece = stagePiece(lane, bytes - done);
      if (!piece)
        return piece.takeError();
      std::memcpy(lane.staging.bytes, source + done, *piece);
      VkBufferCopy region{0, offset + done, *piece};
      VkBuffer staging = lane.staging.buffer;
      if (llvm::Error e = submitOn(lane, [&](VkCommandBuffer c) {
            vk_.vkCmdCopyBuffer(c, staging, to.handle(), 1, &region);
          }))
        return e;
      done += *piece;
    }
    return llvm::Error::success();
  };
  return endTransfer(pieces());
}

llvm::Error VulkanDevice::download(void *to, VulkanBuffer &from,
                                   std::size_t offset, std::size_t bytes) {
  if (offset > from.size() || bytes > from.size() - offset)
    return failure("a download of " + llvm::Twine(bytes) + " bytes at " +
                   llvm::Twine(offset) + " past the end of a buffer of " +
                   llvm::Twine(from.size()));
  std::lock_guard lock(transferMutex_);
  if (llvm::Error e = startTransfer())
    return e;
  auto *target = static_cast<std::byte *>(to);
  // Where each lane's piece lies in the download.
  std::array<std::size_t, 2> at{}, size{};
  auto copyIn = [&](std::size_t k, std::size_t start) -> llvm::Error {
    TransferLane &lane = lanes_[k % 2];
    llvm::Expected<std::size_t> piece = stagePiece(lane, bytes - start);
    if (!piece)
      return piece.takeError();
    at[k % 2] = start;
    size[k % 2] = *piece;
    VkBufferCopy region{offset + start, 0, size[k % 2]};
    VkBuffer staging = lane.staging.buffer;
    return submitOn(lane, [&](VkCommandBuffer c) {
      vk_.vkCmdCopyBuffer(c, from.handle(), staging, 1, &region);
      // The copy's writes made visible to the host's reads.
      VkMemoryBarrier toHost{};
      toHost.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
      toHost.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
      toHost.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
      vk_.vkCmdPipelineBarrier(c, VK_PIPELINE_STAGE_TRANSFER_BIT,
                               VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &toHost, 0,
                               nullptr, 0, nullptr);
    });
  };
  auto pieces = [&]() -> llvm::Error {
    if (bytes == 0)
      return llvm::Error::success();
    // Piece k + 1's device copy runs while the host copies piece k out.
    if (llvm::Error e = copyIn(0, 0))
      return e;
    std::size_t next = size[0];
    for (std::size_t k = 0;; ++k) {
      if (next < bytes) {
        if (llvm::Error e = copyIn(k + 1, next))
          return e;
        next += size[(k + 1) % 2];
      }
      TransferLane &lane = lanes_[k % 2];
      if (llvm::Error e = finish(lane))
        return e;
      std::memcpy(target + at[k % 2], lane.staging.bytes, size[k % 2]);
      if (at[k % 2] + size[k % 2] == bytes)
        return llvm::Error::success();
    }
  };
  return endTransfer(pieces());
}

llvm::Error VulkanDevice::dispatch(const VulkanKernel &kernel,
                                   std::span<VulkanBuffer *const> buffers,
                                   std::array<std::uint32_t, 3> groups) {
  VulkanCommand command;
  command.kernel = &kernel;
  command.groups = groups;
  for (VulkanBuffer *buffer : buffers) {
    if (!buffer || !buffer->handle())
      return failure("a kernel's buffer is empty or missing");
    command.bindings.push_back({buffer->handle(), 0});
  }
  if (llvm::Error e = submit({&command, 1}))
    return e;
  return synchronize();
}

llvm::Error VulkanDevice::reserve(Batch &batch, std::uint32_t sets,
                                  std::uint32_t descriptors,
                                  std::size_t bytes) {
  if (sets && (!batch.descriptorPool || sets > batch.poolSets ||
               descriptors > batch.poolDescriptors)) {
    if (batch.descriptorPool)
      vk_.vkDestroyDescriptorPool(device_, batch.descriptorPool, nullptr);
    batch.descriptorPool = VK_NULL_HANDLE;
    batch.poolSets = std::max<std::uint32_t>(sets, 2 * batch.poolSets);
    batch.poolDescriptors =
        std::max<std::uint32_t>(descriptors, 2 * batch.poolDescriptors);
    VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                              batch.poolDescriptors};
    VkDescriptorPoolCreateInfo poolInfo{};
    poolInfo.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
    poolInfo.maxSets = batch.poolSets;
    poolInfo.poolSizeCount = 1;
    poolInfo.pPoolSizes = &size;
    if (VkResult r = vk_.vkCreateDescriptorPool(device_, &poolInfo, nullptr,
                                                &batch.descriptorPool);
        r != VK_SUCCESS) {
      batch.poolSets = batch.poolDescriptors = 0;
      return failure("vkCreateDescriptorPool failed: " + resultName(r));
    }
  }
  if (bytes)
    return reserveStaging(batch.staging,
                          std::max<std::size_t>(bytes, 64 << 10));
  return llvm::Error::success();
}

llvm::Error VulkanDevice::retire(Batch &batch) {
  if (vk_.vkGetFenceStatus(device_, batch.fence) == VK_NOT_READY)
    ++counters().deviceWaits;
  VkResult waited = waitFor(batch.fence);
  batch.pending = false;
  // Its dispatch times first: they name kernels the batch holds.
  if (profilePool_ && waited == VK_SUCCESS)
    collectProfile(batch);
  batch.timed.clear();
  // What the batch held goes back (buffers to the caching allocator) only
  // now that the device is done with it.
  batch.held.clear();
  vk_.vkResetFences(device_, 1, &batch.fence);
  if (batch.descriptorPool)
    vk_.vkResetDescriptorPool(device_, batch.descriptorPool, 0);
  if (waited != VK_SUCCESS)
    return failure("a submitted program failed on the device: " +
                   resultName(waited));
  if (timestampPool_) {
    auto first = static_cast<std::uint32_t>(2 * (&batch - batches_.data()));
    std::uint64_t ticks[2] = {0, 0};
    if (vk_.vkGetQueryPoolResults(device_, timestampPool_, first, 2,
                                  sizeof ticks, ticks, sizeof ticks[0],
                                  VK_QUERY_RESULT_64_BIT) == VK_SUCCESS &&
        ticks[1] >= ticks[0])
      busyNanos_ += static_cast<std::uint64_t>(
          static_cast<double>(ticks[1] - ticks[0]) * info_.timestampPeriod);
  }
  return llvm::Error::success();
}

void VulkanDevice::collectProfile(Batch &batch) {
  auto count = static_cast<std::uint32_t>(batch.timed.size());
  if (count == 0)
    return;
  auto first = static_cast<std::uint32_t>((&batch - batches_.data()) *
                                          (kProfiledPerBatch + 1));
  std::vector<std::uint64_t> ticks(count + 1);
  if (vk_.vkGetQueryPoolResults(device_, profilePool_, first, count + 1,
                                ticks.size() * sizeof(std::uint64_t),
                                ticks.data(), sizeof(std::uint64_t),
                                VK_QUERY_RESULT_64_BIT) == VK_SUCCESS) {
    std::lock_guard lock(profileMutex_);
    for (std::uint32_t i = 0; i < count; ++i) {
      const VulkanKernel *kernel = batch.timed[i];
      KernelTime &time =
          kernelTimes_[!kernel                   ? "copies and uploads"
                       : kernel->label().empty() ? "kernels without a program"
                                                 : kernel->label()];
      ++time.dispatches;
      if (ticks[i + 1] >= ticks[i])
        time.nanos += static_cast<std::uint64_t>(
            static_cast<double>(ticks[i + 1] - ticks[i]) *
            info_.timestampPeriod);
    }
  }
}

void VulkanDevice::printProfile() const {
  std::lock_guard lock(profileMutex_);
  if (kernelTimes_.empty())
    return;
  std::vector<std::pair<std::string, KernelTime>> rows(kernelTimes_.begin(),
                                                       kernelTimes_.end());
  std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
    return a.second.nanos > b.second.nanos;
  });
  std::uint64_t total = 0;
  for (const auto &row : rows)
    total += row.second.nanos;
  std::string text = fmt::format(
      "trueno: TRUENO_VULKAN_PROFILE on {}: {:.3f} ms in dispatches and "
      "copies (kernel: its program's cache key, for `trueno-cache show`, and "
      "its launch)\n  {:>10} {:>10} {:>10} {:>6}  kernel\n",
      info_.describe(), static_cast<double>(total) * 1e-6, "total ms",
      "dispatches", "mean us", "share");
  for (const auto &[label, time] : rows)
    text += fmt::format("  {:10.3f} {:10} {:10.2f} {:5.1f}%  {}\n",
                        static_cast<double>(time.nanos) * 1e-6, time.dispatches,
                        static_cast<double>(time.nanos) * 1e-3 /
                            static_cast<double>(time.dispatches),
                        total ? 100.0 * static_cast<double>(time.nanos) /
                                    static_cast<double>(total)
                              : 0.0,
                        label);
  // stdio, not llvm::errs(): this runs from an exit handler.
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
}

llvm::Error VulkanDevice::retireBatches(bool finishedOnly) {
  llvm::Error first = llvm::Error::success();
  // Oldest first: nextBatch_ is the one submitted longest ago.
  for (std::size_t k = 0; k < kBatchesInFlight; ++k) {
    Batch &batch = batches_[(nextBatch_ + k) % kBatchesInFlight];
    if (!batch.pending)
      continue;
    if (finishedOnly &&
        vk_.vkGetFenceStatus(device_, batch.fence) != VK_SUCCESS)
      continue;
    llvm::Error e = retire(batch);
    if (!first && e)
      first = std::move(e);
    else
      llvm::consumeError(std::move(e));
  }
  return first;
}

llvm::Error VulkanDevice::synchronize() {
  std::lock_guard lock(transferMutex_);
  unsubmitted_.clear();
  llvm::Error submitted = submitOpenBatch();
  llvm::Error retired = retireBatches(/*finishedOnly=*/false);
  if (!submitterError_.empty()) {
    llvm::consumeError(std::move(retired));
    retired = failure(std::exchange(submitterError_, {}));
  }
  if (submitted) {
    llvm::consumeError(std::move(retired));
    return submitted;
  }
  return retired;
}

std::uint64_t VulkanDevice::unfinishedBatches() {
  std::uint64_t finished = 0;
  if (vk_.vkGetSemaphoreCounterValue(device_, timeline_, &finished) !=
      VK_SUCCESS)
    return 0; // device lost: the submission that follows says so
  return submittedBatches_ - std::min(finished, submittedBatches_);
}

llvm::Error VulkanDevice::openBatch(std::uint32_t sets,
                                    std::uint32_t descriptors,
                                    std::size_t bytes) {
  // The batch submitted kBatchesInFlight batches ago: waited for if it is
  // still running, so that its command buffer, descriptor sets and
  // staging memory can be used again.
  Batch &batch = batches_[nextBatch_];
  if (batch.pending)
    if (llvm::Error e = retire(batch))
      return e;
  if (llvm::Error e = reserve(
          batch, merge_ ? std::max(sets, wantedSets_) : sets,
          merge_ ? std::max(descriptors, wantedDescriptors_) : descriptors,
          merge_ ? std::max(bytes, wantedStaging_) : bytes))
    return e;
  batch.usedSets = batch.usedDescriptors = 0;
  batch.usedStaging = batch.recorded = 0;
  batch.readSinceBarrier.clear();
  batch.writtenSinceBarrier.clear();
  batch.used.clear();
  batch.prologueBegun = false;
  batch.timed.clear();
  VkCommandBuffer cb = batch.commands;
  if (llvm::Error e = beginAfterEarlierWork(cb))
    return e;
  // The start: when everything before the leading barrier has finished
  // (a top-of-pipe timestamp may be written while an earlier batch still
  // runs, counting its time twice).
  if (timestampPool_) {
    auto first = static_cast<std::uint32_t>(2 * nextBatch_);
    vk_.vkCmdResetQueryPool(cb, timestampPool_, first, 2);
    vk_.vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
                            timestampPool_, first);
  }
  // Profiling: a timestamp before the first command and after each.
  if (profilePool_) {
    auto profileFirst =
        static_cast<std::uint32_t>(nextBatch_ * (kProfiledPerBatch + 1));
    vk_.vkCmdResetQueryPool(cb, profilePool_, profileFirst,
                            kProfiledPerBatch + 1);
    vk_.vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
                            profilePool_, profileFirst);
  }
  open_ = true;
  return llvm::Error::success();
}

llvm::Error VulkanDevice::submitOpenBatch() {
  if (!open_)
    return llvm::Error::success();
  Batch &batch = batches_[nextBatch_];
  VkCommandBuffer cb = batch.commands;
  if (timestampPool_)
    vk_.vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
                            timestampPool_,
                            static_cast<std::uint32_t>(2 * nextBatch_ + 1));
  open_ = false;
  if (llvm::Error e =
          endAndSubmit(cb, batch.fence, submittedBatches_ + 1,
                       batch.prologueBegun ? batch.prologue : VK_NULL_HANDLE)) {
    // Not submitted: what it held goes (released by the next submit or
    // synchronize, on its caller's thread: the last reference to this
    // device must not go on its own thread), and its slot is free again.
    for (std::shared_ptr<const void> &h : batch.held)
      unsubmitted_.push_back(std::move(h));
    batch.held.clear();
    batch.timed.clear();
    if (batch.descriptorPool)
      vk_.vkResetDescriptorPool(device_, batch.descriptorPool, 0);
    return e;
  }
  ++submittedBatches_;
  ++counters().deviceSubmissions;
  batch.pending = true;
  nextBatch_ = (nextBatch_ + 1) % kBatchesInFlight;
  return llvm::Error::success();
}

void VulkanDevice::submitOpenBatchesWhenDue() {
  std::unique_lock lock(transferMutex_);
  while (!stopping_) {
    if (!open_) {
      batchOpened_.wait(lock);
      continue;
    }
    if (submittedBatches_ == 0 || unfinishedBatches() < 2) {
      if (llvm::Error e = submitOpenBatch(); e && submitterError_.empty())
        submitterError_ = llvm::toString(std::move(e));
      else
        llvm::consumeError(std::move(e));
      continue;
    }
    // Until the device starts the last batch submitted (a blocking wait,
    // off the lock; at most 50 ms, to see stopping_).
    VkSemaphoreWaitInfo wait{};
    wait.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO;
    wait.semaphoreCount = 1;
    wait.pSemaphores = &timeline_;
    std::uint64_t value = submittedBatches_ - 1;
    wait.pValues = &value;
    lock.unlock();
    VkResult r = vk_.vkWaitSemaphores(device_, &wait, 50'000'000);
    lock.lock();
    if (r != VK_SUCCESS && r != VK_TIMEOUT) {
      // Device lost: submitting now lets the next call see it.
      if (llvm::Error e = submitOpenBatch())
        llvm::consumeError(std::move(e));
      if (submitterError_.empty())
        submitterError_ = "waiting for a batch failed: " + resultName(r);
    }
  }
}

llvm::Error
VulkanDevice::submit(std::span<const VulkanCommand> commands,
                     std::vector<std::shared_ptr<const void>> held) {
  std::uint32_t sets = 0, descriptors = 0;
  std::size_t uploadBytes = 0;
  for (const VulkanCommand &c : commands) {
    switch (c.kind) {
    case VulkanCommand::Dispatch: {
      if (!c.kernel ||
          static_cast<int>(c.bindings.size()) != c.kernel->bindings())
        return failure("a kernel of " +
                       llvm::Twine(c.kernel ? c.kernel->bindings() : 0) +
                       " bindings dispatched with " +
                       llvm::Twine(c.bindings.size()) + " buffers");
      for (std::size_t k = 0; k < 3; ++k)
        if (c.groups[k] == 0 || c.groups[k] > info_.maxWorkgroupCount[k])
          return failure("a dispatch of " + llvm::Twine(c.groups[k]) +
                         " workgroups in dimension " + llvm::Twine(k) +
                         "; the device allows 1 to " +
                         llvm::Twine(info_.maxWorkgroupCount[k]));
      for (const auto &[buffer, offset] : c.bindings)
        if (!buffer)
          return failure("a kernel's buffer is empty or missing");
      if (c.kernel->pushesDescriptors())
        break;
      ++sets;
      descriptors += static_cast<std::uint32_t>(c.bindings.size());
      break;
    }
    case VulkanCommand::Copy:
      if (!c.from || !c.to)
        return failure("a copy from or to an empty buffer");
      break;
    case VulkanCommand::Upload:
      if (!c.to || !c.host)
        return failure("an upload from or to nothing");
      if (c.bytes > kStagingCap)
        return failure("an upload of " + llvm::Twine(c.bytes) +
                       " bytes in a batch; at most " +
                       llvm::Twine(kStagingCap) +
                       " go through the staging buffer at once");
      uploadBytes += (c.bytes + 15) & ~std::size_t(15);
      break;
    }
  }
  if (uploadBytes > kStagingCap)
    return failure("a batch uploads " + llvm::Twine(uploadBytes) +
                   " bytes; at most " + llvm::Twine(kStagingCap) +
                   " go through the staging buffer at once");

  std::unique_lock lock(transferMutex_);
  unsubmitted_.clear();
  if (!submitterError_.empty())
    return failure(std::exchange(submitterError_, {}));
  // TRUENO_DEBUG=2: where a submission's host time goes.
  using Clock = std::chrono::steady_clock;
  const bool timed = timeSubmissions_;
  Clock::time_point marks[4];
  if (timed)
    marks[0] = Clock::now();
  // The open batch if these commands fit in it, else a new one.
  if (open_) {
    const Batch &open = batches_[nextBatch_];
    bool fits = open.usedSets + sets <= open.poolSets &&
                open.usedDescriptors + descriptors <= open.poolDescriptors &&
                open.usedStaging + uploadBytes <= open.staging.size &&
                open.recorded + commands.size() <= commandsPerBatch_;
    if (!fits) {
      // Later batches get room for more.
      wantedSets_ = std::min<std::uint32_t>(2 * wantedSets_, 4096);
      wantedDescriptors_ =
          std::min<std::uint32_t>(2 * wantedDescriptors_, 16384);
      if (uploadBytes)
        wantedStaging_ = std::min(2 * wantedStaging_, kWantedStagingCap);
      if (llvm::Error e = submitOpenBatch())
        return e;
    }
  }
  if (!open_)
    if (llvm::Error e = openBatch(sets, descriptors, uploadBytes))
      return e;
  Batch *batch = &batches_[nextBatch_];
  std::vector<VkDescriptorSet> setOf(commands.size(), VK_NULL_HANDLE);
  if (timed)
    marks[1] = Clock::now();
  if (sets) {
    std::vector<VkDescriptorBufferInfo> infos;
    infos.reserve(descriptors);
    std::vector<VkWriteDescriptorSet> writes;
    for (std::size_t i = 0; i < commands.size(); ++i) {
      const VulkanCommand &c = commands[i];
      if (c.kind != VulkanCommand::Dispatch || c.kernel->pushesDescriptors())
        continue;
      VkDescriptorSetLayout layout = c.kernel->setLayout();
      VkDescriptorSetAllocateInfo allocate{};
      allocate.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
      allocate.descriptorPool = batch->descriptorPool;
      allocate.descriptorSetCount = 1;
      allocate.pSetLayouts = &layout;
      // A failure leaves the open batch's commands as they were; the sets
      // allocated here stay unused until the pool is reset, counted as
      // used.
      if (VkResult r =
              vk_.vkAllocateDescriptorSets(device_, &allocate, &setOf[i]);
          r != VK_SUCCESS) {
        batch->usedSets = batch->poolSets;
        batch->usedDescriptors = batch->poolDescriptors;
        return failure("vkAllocateDescriptorSets failed: " + resultName(r));
      }
      appendBufferWrites(c, setOf[i], infos, writes);
    }
    vk_.vkUpdateDescriptorSets(device_,
                               static_cast<std::uint32_t>(writes.size()),
                               writes.data(), 0, nullptr);
    batch->usedSets += sets;
    batch->usedDescriptors += descriptors;
  }
  if (timed)
    marks[2] = Clock::now();

  // Each command after those before it that wrote what it reads or
  // writes, or read what it writes, in this batch or in the calls that
  // joined it earlier: a barrier where it has such a command since the
  // last one (buffers compared whole).
  VkCommandBuffer cb = batch->commands;
  VkMemoryBarrier barrier{};
  barrier.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  barrier.srcAccessMask =
      VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  barrier.dstAccessMask =
      VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
      VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  VkPipelineStageFlags stages =
      VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  auto profileFirst =
      static_cast<std::uint32_t>(nextBatch_ * (kProfiledPerBatch + 1));
  VkPipeline bound = VK_NULL_HANDLE;
  std::vector<VkBuffer> reads, writes;
  std::vector<VkDescriptorBufferInfo> pushedInfos;
  std::vector<VkWriteDescriptorSet> pushed;
  std::size_t barriers = 0;
  // The prologue begun before anything is recorded, where an upload may go
  // there (a failure leaves the batch as it was).
  if (!batch->prologueBegun &&
      llvm::any_of(commands, [&](const VulkanCommand &c) {
        return c.kind == VulkanCommand::Upload && !batch->used.contains(c.to);
      })) {
    if (llvm::Error e = beginAfterEarlierWork(batch->prologue))
      return e;
    batch->prologueBegun = true;
  }
  // Early submission: where the device has nothing left to run, the
  // commands recorded so far are submitted and the rest go to a new batch,
  // so that the device starts a long program (a training step's 150
  // commands) while the host records the rest. Only where nothing after
  // the cut needs the batch's own memory: descriptor sets (allocated
  // above, for the whole call, from this batch's pool) or staging.
  std::size_t lastUpload = 0;
  for (std::size_t i = 0; i < commands.size(); ++i)
    if (commands[i].kind == VulkanCommand::Upload)
      lastUpload = i + 1;
  const bool mayCut = earlySubmitAfter_ > 0 && sets == 0 &&
                      commands.size() - lastUpload > earlySubmitAfter_;
  std::size_t cuts = 0;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const VulkanCommand &c = commands[i];
    // Asked every 8 commands (a semaphore query each time).
    if (mayCut && i > lastUpload && batch->recorded >= earlySubmitAfter_ &&
        (i - lastUpload) % 8 == 0 && commands.size() - i >= 8 &&
        unfinishedBatches() == 0) {
      // The batch keeps what the whole call holds (the later batches run
      // after it, but one may fail to be submitted).
      for (const std::shared_ptr<const void> &h : held)
        batch->held.push_back(h);
      if (llvm::Error e = submitOpenBatch())
        return e;
      if (llvm::Error e = openBatch(0, 0, 0))
        return e;
      batch = &batches_[nextBatch_];
      cb = batch->commands;
      bound = VK_NULL_HANDLE;
      profileFirst =
          static_cast<std::uint32_t>(nextBatch_ * (kProfiledPerBatch + 1));
      ++cuts;
    }
    reads.clear();
    writes.clear();
    switch (c.kind) {
    case VulkanCommand::Dispatch:
      for (std::size_t b = 0; b < c.bindings.size(); ++b)
        (c.kernel->writes(static_cast<int>(b)) ? writes : reads)
            .push_back(c.bindings[b].first);
      break;
    case VulkanCommand::Copy:
      reads.push_back(c.from);
      writes.push_back(c.to);
      break;
    case VulkanCommand::Upload: // the staging memory is the host's
      writes.push_back(c.to);
      break;
    }
    auto among = [](const std::vector<VkBuffer> &buffers,
                    const llvm::DenseSet<VkBuffer> &set) {
      return llvm::any_of(buffers, [&](VkBuffer b) { return set.contains(b); });
    };
    // An upload into a buffer no command of the batch uses yet goes to the
    // prologue, whose copies the leading barrier orders before every
    // command: nothing waits for it here.
    if (c.kind == VulkanCommand::Upload && batch->prologueBegun &&
        !batch->used.contains(c.to)) {
      VkBufferCopy region{batch->usedStaging, c.toOffset, c.bytes};
      if (c.bytes) {
        std::memcpy(batch->staging.bytes + batch->usedStaging, c.host, c.bytes);
        vk_.vkCmdCopyBuffer(batch->prologue, batch->staging.buffer, c.to, 1,
                            &region);
      }
      batch->usedStaging += (c.bytes + 15) & ~std::size_t(15);
      batch->used.insert(c.to);
      continue;
    }
    batch->used.insert(reads.begin(), reads.end());
    batch->used.insert(writes.begin(), writes.end());
    bool dependent = among(reads, batch->writtenSinceBarrier) ||
                     among(writes, batch->writtenSinceBarrier) ||
                     among(writes, batch->readSinceBarrier);
    if (batch->recorded++ > 0 && dependent) {
      vk_.vkCmdPipelineBarrier(cb, stages, stages, 0, 1, &barrier, 0, nullptr,
                               0, nullptr);
      ++counters().deviceBarriers;
      ++barriers;
      batch->readSinceBarrier.clear();
      batch->writtenSinceBarrier.clear();
    }
    batch->readSinceBarrier.insert(reads.begin(), reads.end());
    batch->writtenSinceBarrier.insert(writes.begin(), writes.end());
    switch (c.kind) {
    case VulkanCommand::Dispatch:
      if (c.kernel->pipeline() != bound) {
        bound = c.kernel->pipeline();
        vk_.vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, bound);
      }
      if (c.kernel->pushesDescriptors()) {
        pushed.clear();
        pushedInfos.clear();
        pushedInfos.reserve(c.bindings.size());
        appendBufferWrites(c, VK_NULL_HANDLE, pushedInfos, pushed);
        vk_.vkCmdPushDescriptorSetKHR(
            cb, VK_PIPELINE_BIND_POINT_COMPUTE, c.kernel->pipelineLayout(), 0,
            static_cast<std::uint32_t>(pushed.size()), pushed.data());
      } else {
        vk_.vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE,
                                    c.kernel->pipelineLayout(), 0, 1, &setOf[i],
                                    0, nullptr);
      }
      vk_.vkCmdDispatch(cb, c.groups[0], c.groups[1], c.groups[2]);
      break;
    case VulkanCommand::Copy: {
      VkBufferCopy region{c.fromOffset, c.toOffset, c.bytes};
      if (c.bytes)
        vk_.vkCmdCopyBuffer(cb, c.from, c.to, 1, &region);
      break;
    }
    case VulkanCommand::Upload: {
      // The host's bytes to the batch's staging memory now, copied on the
      // device when the batch runs.
      VkBufferCopy region{batch->usedStaging, c.toOffset, c.bytes};
      if (c.bytes) {
        std::memcpy(batch->staging.bytes + batch->usedStaging, c.host, c.bytes);
        vk_.vkCmdCopyBuffer(cb, batch->staging.buffer, c.to, 1, &region);
      }
      batch->usedStaging += (c.bytes + 15) & ~std::size_t(15);
      break;
    }
    }
    if (profilePool_ && batch->timed.size() < kProfiledPerBatch) {
      batch->timed.push_back(c.kind == VulkanCommand::Dispatch ? c.kernel
                                                               : nullptr);
      vk_.vkCmdWriteTimestamp(
          cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, profilePool_,
          profileFirst + static_cast<std::uint32_t>(batch->timed.size()));
    }
  }
  for (std::shared_ptr<const void> &h : held)
    batch->held.push_back(std::move(h));
  if (timed)
    marks[3] = Clock::now();
  // Submitted now where the device would otherwise run out of work soon:
  // it has fewer than two batches left to run. Else the thread submits
  // the batch when it does (or a later call, when the batch is full).
  bool now = !merge_ || batch->recorded >= commandsPerBatch_ ||
             unfinishedBatches() < 2;
  llvm::Error submitted = now ? submitOpenBatch() : llvm::Error::success();
  if (!now)
    batchOpened_.notify_one();
  if (timed) {
    auto us = [](Clock::time_point a, Clock::time_point b) {
      return std::chrono::duration<double, std::micro>(b - a).count();
    };
    std::fprintf(stderr,
                 "trueno: vulkan submit: %zu commands, %zu barriers, %zu "
                 "early submissions; earlier batch %.1f us, "
                 "descriptors %.1f us, recording and staging %.1f us, "
                 "vkQueueSubmit %.1f us%s\n",
                 commands.size(), barriers, cuts, us(marks[0], marks[1]),
                 us(marks[1], marks[2]), us(marks[2], marks[3]),
                 us(marks[3], Clock::now()),
                 now ? "" : " (joined the open batch)");
  }
  return submitted;
}

} // namespace trueno::runtime::vulkan
