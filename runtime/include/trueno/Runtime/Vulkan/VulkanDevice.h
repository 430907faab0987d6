//===- VulkanDevice.h - One logical Vulkan device ---------------*- C++ -*-===//
//
// A VkDevice with one compute queue and the features Trueno uses enabled
// where the device has them (float64, int64, int16, float16, int8, 8- and
// 16-bit storage, timeline semaphores), its device-level entry points, the
// transfers between host memory and device-local buffers through a
// host-visible staging buffer, and the batches of commands that programs
// submit without waiting for them (up to kBatchesInFlight at once). While
// the device has two or more batches still to run, programs join an open
// batch, which a thread of the device submits as the GPU starts the last
// one before it: each submission costs the GPU some 20-30 us on an H100
// (docs/PERFORMANCE.md), which a batch of several programs pays once.
// Every VkResult is checked; errors name the device and the call.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_VULKAN_VULKANDEVICE_H
#define TRUENO_RUNTIME_VULKAN_VULKANDEVICE_H

#include "trueno/Runtime/Vulkan/VulkanInstance.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace trueno::runtime::vulkan {

class VulkanBuffer;
class VulkanKernel;

/// The device-level entry points of one VkDevice.
struct VulkanDeviceFunctions {
#define TRUENO_VK_DEVICE(name) PFN_##name name = nullptr;
#include "trueno/Runtime/Vulkan/VulkanFunctions.def"
};

/// One command of a batch (VulkanDevice::submit): a kernel's dispatch, a
/// copy between device buffers, or host bytes copied into a device buffer.
struct VulkanCommand {
  enum Kind { Dispatch, Copy, Upload } kind = Dispatch;
  /// Dispatch: the kernel, its buffers (one per binding, each a buffer and
  /// a byte offset; a training step's 150 commands allocated a vector
  /// each) and its workgroups.
  const VulkanKernel *kernel = nullptr;
  llvm::SmallVector<std::pair<VkBuffer, VkDeviceSize>, 6> bindings;
  std::array<std::uint32_t, 3> groups{1, 1, 1};
  /// Copy (from `from`) and Upload (from `host`, which must stay valid
  /// until submit returns: its bytes are copied to the batch's own staging
  /// memory there): `bytes` bytes to `to` at `toOffset`.
  VkBuffer from = VK_NULL_HANDLE, to = VK_NULL_HANDLE;
  VkDeviceSize fromOffset = 0, toOffset = 0, bytes = 0;
  const void *host = nullptr;
};

class VulkanDevice : public std::enable_shared_from_this<VulkanDevice> {
public:
  /// Batches submitted and not yet waited for, at most; one more waits for
  /// the oldest. Each has its own command buffer, fence, descriptor pool,
  /// timestamps and staging memory.
  static constexpr std::size_t kBatchesInFlight = 8;

  /// A logical device on `info`'s physical device of `instance`.
  static llvm::Expected<std::shared_ptr<VulkanDevice>>
  create(VulkanInstance &instance, const VulkanDeviceInfo &info);
  ~VulkanDevice();
  VulkanDevice(const VulkanDevice &) = delete;
  VulkanDevice &operator=(const VulkanDevice &) = delete;

  const VulkanDeviceInfo &info() const { return info_; }
  VkDevice handle() const { return device_; }
  const VulkanDeviceFunctions &functions() const { return vk_; }

  /// `bytes` bytes of device-local memory as a storage buffer (and a
  /// transfer source and destination). Zero bytes is a buffer without
  /// Vulkan objects. More than the largest device-local heap is an error
  /// before Vulkan is asked.
  llvm::Expected<std::shared_ptr<VulkanBuffer>> allocate(std::size_t bytes);
  /// Host memory into `to` at byte `offset`, and back; both return when
  /// the copy has finished, which is after every batch submitted before
  /// (a download reads what they wrote). A range past the buffer's end is
  /// an error.
  llvm::Error upload(VulkanBuffer &to, std::size_t offset, const void *from,
                     std::size_t bytes);
  llvm::Error download(void *to, VulkanBuffer &from, std::size_t offset,
                       std::size_t bytes);

  /// Runs `kernel` over `groups` workgroups with `buffers` bound in order
  /// (one per binding); returns when it has finished.
  llvm::Error dispatch(const VulkanKernel &kernel,
                       std::span<VulkanBuffer *const> buffers,
                       std::array<std::uint32_t, 3> groups);

  /// Runs `commands` in order, each seeing the memory writes of those
  /// before (and of every batch and transfer submitted earlier), and
  /// returns once they are recorded: submitted at once where the device
  /// has fewer than two batches left to run, else into the open batch,
  /// which is submitted when it has two no longer (by the device's thread),
  /// when it is full, or before any wait or transfer. `held` (the buffers
  /// and kernels the commands use) is kept alive until the batch has
  /// finished. The uploads of one batch go through its own staging memory
  /// (at most 64 MiB). An error of the device while it runs is returned by
  /// a later submit, transfer or synchronize(). A long call may reach an
  /// idle device in pieces (setEarlySubmission).
  llvm::Error submit(std::span<const VulkanCommand> commands,
                     std::vector<std::shared_ptr<const void>> held = {});

  /// Where the device has nothing left to run, submit() hands it a call's
  /// commands recorded so far once there are `commands` of them, and
  /// records the rest into a new batch (0: never; the default is 8 on a
  /// GPU, 0 on a CPU driver, TRUENO_VULKAN_EARLY_SUBMIT sets it).
  void setEarlySubmission(std::size_t commands) {
    std::lock_guard lock(transferMutex_);
    earlySubmitAfter_ = commands;
  }

  /// Returns when every batch submitted so far has finished: the first
  /// error one of them met, if any.
  llvm::Error synchronize();

  /// An error naming this device ("vulkan:0 (llvmpipe ...): message").
  llvm::Error failure(const llvm::Twine &message) const;

  /// Nanoseconds the device spent running submitted batches, from
  /// timestamps written at each batch's start and end (0 where the queue
  /// writes none).
  std::uint64_t busyNanos() const { return busyNanos_; }

  /// Bytes of device memory held by live buffers.
  std::uint64_t liveBytes() const { return liveBytes_; }

private:
  friend class VulkanBuffer;
  VulkanDevice(VulkanInstance &instance, const VulkanDeviceInfo &info)
      : instance_(instance), info_(info) {}
  llvm::Error create();
  /// The first memory type allowed by `typeBits` with all of `flags`.
  std::optional<std::uint32_t> memoryType(std::uint32_t typeBits,
                                          VkMemoryPropertyFlags flags) const;
  /// A buffer and its own memory (device-local or host-visible).
  llvm::Error createBuffer(std::size_t bytes, VkBufferUsageFlags usage,
                           VkMemoryPropertyFlags flags, VkBuffer &buffer,
                           VkDeviceMemory &memory);
  /// Host-visible, mapped memory that copies go through.
  struct Staging {
    VkBuffer buffer = VK_NULL_HANDLE;
    VkDeviceMemory memory = VK_NULL_HANDLE;
    std::byte *bytes = nullptr;
    std::size_t size = 0;
  };
  /// Makes `staging` at least `bytes` long (replacing a shorter one).
  llvm::Error reserveStaging(Staging &staging, std::size_t bytes);
  /// Unmaps and frees `staging`, if it has memory.
  void releaseStaging(Staging &staging);
  /// Resets and begins `commands`, then records the barrier that orders
  /// what follows after everything submitted to the queue before.
  llvm::Error beginAfterEarlierWork(VkCommandBuffer commands);
  /// Ends `commands` and submits them, after `prologue` where it is not
  /// null (ended too), signalling `fence` and, where `timelineValue` is not
  /// 0, the timeline semaphore to that value.
  llvm::Error endAndSubmit(VkCommandBuffer commands, VkFence fence,
                           std::uint64_t timelineValue = 0,
                           VkCommandBuffer prologue = VK_NULL_HANDLE);
  /// One of the two lanes large transfers alternate between: the host
  /// copies one piece through its staging memory while the device copies
  /// the other's, so a transfer takes about the longer of the two copies,
  /// not their sum.
  struct TransferLane {
    VkCommandBuffer commands = VK_NULL_HANDLE;
    VkFence fence = VK_NULL_HANDLE;
    Staging staging;
    /// Submitted and not yet waited for: its staging memory is the
    /// device's.
    bool pending = false;
  };
  /// Before a transfer: submits the open batch (the transfer comes after
  /// what was recorded before it) and reports what the submitting thread
  /// could not submit.
  llvm::Error startTransfer();
  /// Records `record` into `lane`'s command buffer after earlier work and
  /// submits it, without waiting.
  template <typename Record>
  llvm::Error submitOn(TransferLane &lane, Record &&record);
  /// Makes `lane`'s staging memory hold the next piece of a transfer with
  /// `remaining` bytes to go; returns the piece's size.
  llvm::Expected<std::size_t> stagePiece(TransferLane &lane,
                                         std::size_t remaining);
  /// Waits for `lane`'s submission, if it has one.
  llvm::Error finish(TransferLane &lane);
  /// After a transfer, or when one fails: waits for both lanes (their
  /// staging memory is then the host's again), then retires the batches
  /// submitted before it, which ran first. Returns `error` if it is one,
  /// else the first failure of its own.
  llvm::Error endTransfer(llvm::Error error);

  /// One batch of commands and what it needs while it runs.
  struct Batch {
    VkCommandBuffer commands = VK_NULL_HANDLE;
    /// Uploads into buffers no command of the batch uses before them, run
    /// before `commands` (behind a barrier after the earlier batches): the
    /// commands reading them then need no barrier of their own, as the
    /// leading barrier of `commands` orders them. Begun where one is.
    VkCommandBuffer prologue = VK_NULL_HANDLE;
    bool prologueBegun = false;
    VkFence fence = VK_NULL_HANDLE;
    VkDescriptorPool descriptorPool = VK_NULL_HANDLE;
    std::uint32_t poolSets = 0, poolDescriptors = 0;
    Staging staging;
    std::vector<std::shared_ptr<const void>> held;
    bool pending = false;
    /// While open: the descriptor sets, descriptors and staging bytes its
    /// commands use, and the commands recorded.
    std::uint32_t usedSets = 0, usedDescriptors = 0;
    std::size_t usedStaging = 0, recorded = 0;
    /// The buffers the commands since the last barrier read and wrote: a
    /// command needs a barrier before it only where it reads or writes one
    /// of the written, or writes one of the read.
    llvm::DenseSet<VkBuffer> readSinceBarrier, writtenSinceBarrier;
    /// Every buffer a command of the batch uses.
    llvm::DenseSet<VkBuffer> used;
    /// Profiling: the kernel each timed dispatch ran (its time ends at
    /// query i + 1 of the batch's profile range, and starts at query i).
    std::vector<const VulkanKernel *> timed;
  };
  /// Makes `batch`'s descriptor pool hold `sets` sets of `descriptors`
  /// storage buffers in all, and its staging memory `bytes` bytes.
  llvm::Error reserve(Batch &batch, std::uint32_t sets,
                      std::uint32_t descriptors, std::size_t bytes);
  /// Retires the batch slot nextBatch_ if it is pending, gives it room for
  /// at least the wanted sets, descriptors and staging bytes, and begins
  /// its commands: the batch is open.
  llvm::Error openBatch(std::uint32_t sets, std::uint32_t descriptors,
                        std::size_t bytes);
  /// Ends and submits the open batch (if any); it is pending after.
  llvm::Error submitOpenBatch();
  /// Batches submitted that the device has not finished.
  std::uint64_t unfinishedBatches();
  /// The device's thread: submits the open batch once fewer than two
  /// batches are left to run before it.
  void submitOpenBatchesWhenDue();
  /// Waits for `batch` (which is pending), then reads its timestamps and
  /// lets go of what it held.
  llvm::Error retire(Batch &batch);
  /// Retires the pending batches, oldest first: all of them, or only those
  /// whose fence is already signalled. The first error, if any.
  llvm::Error retireBatches(bool finishedOnly);
  /// Waits for `fence`: polls it for spinMicros_ first (a blocking wait
  /// may sleep past the moment it is signalled), then blocks.
  VkResult waitFor(VkFence fence);
  std::chrono::microseconds spinMicros_{200};
  /// TRUENO_DEBUG=2 when the device was created: each submission prints
  /// where its host time went (read once, off the submission path).
  bool timeSubmissions_ = false;

  VulkanInstance &instance_;
  VulkanDeviceInfo info_;
  VkDevice device_ = VK_NULL_HANDLE;
  VulkanDeviceFunctions vk_;
  VkQueue queue_ = VK_NULL_HANDLE;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkPhysicalDeviceMemoryProperties memory_{};

  /// One submission at a time: transfers (through the staging buffer) and
  /// batches.
  std::mutex transferMutex_;
  std::array<TransferLane, 2> lanes_;

  std::atomic<std::uint64_t> liveBytes_ = 0;
  /// The batches, used in turn (under transferMutex_); batches_[nextBatch_]
  /// is open (recording, not submitted) where open_ is.
  std::array<Batch, kBatchesInFlight> batches_;
  std::size_t nextBatch_ = 0;
  bool open_ = false;
  /// Signalled by each batch to its number (the first is 1); the last
  /// number given.
  VkSemaphore timeline_ = VK_NULL_HANDLE;
  std::uint64_t submittedBatches_ = 0;
  /// TRUENO_VULKAN_MERGE=0 submits each call alone. At most this many
  /// commands join one batch (kProfiledPerBatch while profiling).
  bool merge_ = true;
  std::size_t commandsPerBatch_ = 1024;
  /// setEarlySubmission's count.
  std::size_t earlySubmitAfter_ = 8;
  /// What an open batch is given room for: doubled (up to a cap) each time
  /// a call did not fit, so that later batches take more calls.
  std::uint32_t wantedSets_ = 64, wantedDescriptors_ = 256;
  std::size_t wantedStaging_ = 64 << 10;
  /// The thread that submits open batches; it stops with the device.
  std::thread submitter_;
  std::condition_variable batchOpened_;
  bool stopping_ = false;
  /// An error the thread met, returned by the next submit, transfer or
  /// synchronize.
  std::string submitterError_;
  /// What a batch that could not be submitted held, released by the next
  /// submit or synchronize.
  std::vector<std::shared_ptr<const void>> unsubmitted_;
  /// Stops the thread (the open batch is left as it is).
  void stopSubmitter();
  /// Adds `device` to, or removes it from, the devices whose threads the
  /// exit handler stops and whose profiles it prints.
  static void liveDevices(VulkanDevice *device, bool add);
  /// Two timestamps around each batch (batch i: queries 2i and 2i + 1).
  VkQueryPool timestampPool_ = VK_NULL_HANDLE;
  std::atomic<std::uint64_t> busyNanos_ = 0;

  /// TRUENO_VULKAN_PROFILE=1: a timestamp after every dispatch (at most
  /// kProfiledPerBatch a batch), summed per kernel and printed to stderr
  /// when the process exits, slowest first.
  static constexpr std::uint32_t kProfiledPerBatch = 255;
  VkQueryPool profilePool_ = VK_NULL_HANDLE;
  struct KernelTime {
    std::uint64_t dispatches = 0, nanos = 0;
  };
  std::map<std::string, KernelTime> kernelTimes_;
  mutable std::mutex profileMutex_;
  /// Adds the finished `batch`'s dispatch times to kernelTimes_.
  void collectProfile(Batch &batch);
  void printProfile() const;
};

} // namespace trueno::runtime::vulkan

#endif // TRUENO_RUNTIME_VULKAN_VULKANDEVICE_H
