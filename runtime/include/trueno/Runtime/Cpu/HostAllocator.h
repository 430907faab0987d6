//===- HostAllocator.h - Caching allocator for host memory ------*- C++ -*-===//
//
// Touching a fresh 4 KiB page costs ~14 us on these VMs (docs/PERFORMANCE.md),
// so an eager op that allocates its output from the OS each time is 30-50x
// slower than its arithmetic. This allocator keeps freed blocks in size-class
// free lists and hands them back to the next request of that class; blocks of
// 2 MiB and more are 2 MiB aligned and marked for transparent huge pages.
// No MLIR here: the CPU backend's buffers come from it.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_HOSTALLOCATOR_H
#define TRUENO_RUNTIME_HOSTALLOCATOR_H

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace trueno::runtime {

class HostAllocator {
public:
  struct Stats {
    std::size_t liveBytes = 0;     ///< handed out and not yet returned
    std::size_t peakLiveBytes = 0; ///< the most live at once (resetPeak())
    std::size_t cachedBytes = 0;   ///< kept for reuse
    std::uint64_t hits = 0;        ///< requests served from the cache
    std::uint64_t misses = 0;      ///< requests that went to the OS
  };

  /// The process-wide allocator. Its cache limit comes from
  /// TRUENO_HOST_CACHE_MB (default 2048; 0 disables caching).
  static HostAllocator &instance();

  explicit HostAllocator(std::size_t cacheLimitBytes);
  ~HostAllocator();
  HostAllocator(const HostAllocator &) = delete;
  HostAllocator &operator=(const HostAllocator &) = delete;

  /// At least `bytes` bytes, 64-byte aligned (2 MiB for large blocks);
  /// nullptr if the OS refuses.
  void *allocate(std::size_t bytes);
  /// Returns a block; `bytes` is the size it was allocated with.
  void deallocate(void *block, std::size_t bytes);
  /// Gives every cached block back to the OS.
  void releaseCached();

  Stats stats() const;
  /// Starts the peak over from the bytes live now.
  void resetPeak();
  /// The size actually reserved for a request of `bytes`.
  static std::size_t sizeClass(std::size_t bytes);

private:
  mutable std::mutex mutex_;
  std::unordered_map<std::size_t, std::vector<void *>> free_;
  std::size_t cacheLimit_;
  Stats stats_;
};

/// The allocation functions JIT'd kernels call for their scratch memory
/// (`_mlir_memref_to_llvm_alloc`, `_aligned_alloc`, `_free`), served by the
/// caching allocator above: name and address, for the JIT's symbol table.
std::vector<std::pair<const char *, void *>> kernelMemorySymbols();

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_HOSTALLOCATOR_H
