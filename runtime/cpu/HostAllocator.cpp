//===- HostAllocator.cpp - Caching allocator for host tensor memory -------===//
#include "trueno/Runtime/Cpu/HostAllocator.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <sys/mman.h>

namespace trueno::runtime {

namespace {
constexpr std::size_t kHugePage = std::size_t(2) << 20;
constexpr std::size_t kMinBlock = 64;

std::size_t cacheLimitFromEnvironment() {
  if (const char *mb = std::getenv("TRUENO_HOST_CACHE_MB"))
    return static_cast<std::size_t>(std::strtoull(mb, nullptr, 10)) << 20;
  return std::size_t(2048) << 20;
}
} // namespace

HostAllocator &HostAllocator::instance() {
  // Never destroyed: tensors in static storage may outlive any other object.
  static HostAllocator *allocator =
      new HostAllocator(cacheLimitFromEnvironment());
  return *allocator;
}

HostAllocator::HostAllocator(std::size_t cacheLimitBytes)
    : cacheLimit_(cacheLimitBytes) {}

HostAllocator::~HostAllocator() { releaseCached(); }

std::size_t HostAllocator::sizeClass(std::size_t bytes) {
  // Powers of two below 2 MiB (at most 2x waste, few classes); whole huge
  // pages above, where a power of two could waste gigabytes.
  if (bytes <= kMinBlock)
    return kMinBlock;
  if (bytes < kHugePage)
    return std::bit_ceil(bytes);
  return (bytes + kHugePage - 1) / kHugePage * kHugePage;
}

void *HostAllocator::allocate(std::size_t bytes) {
  std::size_t size = sizeClass(bytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(size);
    if (it != free_.end() && !it->second.empty()) {
      void *block = it->second.back();
      it->second.pop_back();
      stats_.cachedBytes -= size;
      stats_.liveBytes += size;
      stats_.peakLiveBytes = std::max(stats_.peakLiveBytes, stats_.liveBytes);
      ++stats_.hits;
      return block;
    }
    ++stats_.misses;
  }
  bool huge = size >= kHugePage;
  void *block = std::aligned_alloc(huge ? kHugePage : kMinBlock, size);
  if (!block)
    return nullptr;
  if (huge) // best effort: fewer page faults and TLB misses on big tensors
    madvise(block, size, MADV_HUGEPAGE);
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.liveBytes += size;
  stats_.peakLiveBytes = std::max(stats_.peakLiveBytes, stats_.liveBytes);
  return block;
}

void HostAllocator::deallocate(void *block, std::size_t bytes) {
  if (!block)
    return;
  std::size_t size = sizeClass(bytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.liveBytes -= size;
    if (stats_.cachedBytes + size <= cacheLimit_) {
      free_[size].push_back(block);
      stats_.cachedBytes += size;
      return;
    }
  }
  std::free(block);
}

void HostAllocator::releaseCached() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto &[size, blocks] : free_)
    for (void *block : blocks)
      std::free(block);
  free_.clear();
  stats_.cachedBytes = 0;
}

namespace {

/// The scratch memory of JIT'd kernels (`memref.alloc` lowered with
/// finalize-memref-to-llvm's generic functions): blocks of the caching host
/// allocator, so that a kernel's buffers (im2col panels, padded inputs) are
/// reused run after run instead of mapped and faulted in anew each time
/// (that was 85% of a CNN training step). 64 bytes before the pointer
/// handed out hold the block's start and size.
constexpr std::size_t kHeader = 64;

void *kernelAlignedAlloc(std::uint64_t alignment, std::uint64_t size) {
  std::size_t align = std::max<std::size_t>(alignment, 1);
  std::size_t extra = align <= kHeader ? kHeader : kHeader + align;
  std::size_t total = static_cast<std::size_t>(size) + extra;
  auto *block =
      static_cast<std::byte *>(HostAllocator::instance().allocate(total));
  if (!block)
    return nullptr;
  std::byte *user = block + kHeader;
  if (align > kHeader)
    user += (align - reinterpret_cast<std::uintptr_t>(user) % align) % align;
  auto *header = reinterpret_cast<std::size_t *>(user) - 2;
  header[0] = reinterpret_cast<std::uintptr_t>(block);
  header[1] = total;
  return user;
}

void *kernelAlloc(std::uint64_t size) { return kernelAlignedAlloc(16, size); }

void kernelFree(void *pointer) {
  if (!pointer)
    return;
  auto *header = static_cast<std::size_t *>(pointer) - 2;
  HostAllocator::instance().deallocate(reinterpret_cast<void *>(header[0]),
                                       header[1]);
}

} // namespace

std::vector<std::pair<const char *, void *>> kernelMemorySymbols() {
  return {
      {"_mlir_memref_to_llvm_alloc", reinterpret_cast<void *>(&kernelAlloc)},
      {"_mlir_memref_to_llvm_aligned_alloc",
       reinterpret_cast<void *>(&kernelAlignedAlloc)},
      {"_mlir_memref_to_llvm_free", reinterpret_cast<void *>(&kernelFree)}};
}

void HostAllocator::resetPeak() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.peakLiveBytes = stats_.liveBytes;
}

HostAllocator::Stats HostAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

} // namespace trueno::runtime
