//===- HostAllocator.cpp - Caching allocator for host tensor memory -------===//
#include "trueno/Runtime/Cpu/HostAllocator.h"

#include <bit>
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

HostAllocator::Stats HostAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

} // namespace trueno::runtime
