//===- Execution.h - When recorded ops run, and what it cost --------------===//
//
// Tensor ops are recorded, not run: a result is computed when its values
// are first needed (read, printed, written to, or handed out as a pointer),
// together with every pending value it depends on, as fused kernels
// (docs/ARCHITECTURE.md). `sync()` computes everything pending now; the
// counters say how many kernels ran and how often the compiled-program cache
// was hit. TRUENO_DEBUG=1 prints a line per realize, 2 the fused kernels, 3
// the IR after each compile stage, 4 the assembly.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_EXECUTION_H
#define TRUENO_EXECUTION_H

#include <cstdint>
#include <source_location>

namespace trueno {

/// Computes every pending tensor, and returns when the programs submitted
/// to a GPU (which run after their realize returns) have finished: a
/// DeviceError if one of them failed there. Reading a tensor (item(),
/// cpu()) waits for what computed it without this.
void sync();

struct RuntimeStats {
  /// Pending graphs computed.
  std::int64_t realizes = 0;
  /// Realizes whose program was found in the in-memory cache, and not.
  std::int64_t cacheHits = 0;
  std::int64_t cacheMisses = 0;
  /// Fused kernels called, and compiled.
  std::int64_t kernelsLaunched = 0;
  std::int64_t kernelsCompiled = 0;
  /// Total time spent compiling programs (disk cache loads included).
  double compileMs = 0;
  /// Programs whose kernels were loaded from the disk kernel cache
  /// (TRUENO_CACHE_DIR), and programs it did not have.
  std::int64_t diskCacheHits = 0;
  std::int64_t diskCacheMisses = 0;
  /// Total time spent loading kernels from the disk cache.
  double diskLoadMs = 0;
  /// Programs held by the in-memory cache, the bytes of their machine
  /// code, and the programs it evicted (least recently used first) to stay
  /// within its limits.
  std::int64_t cachedPrograms = 0;
  std::int64_t cachedProgramBytes = 0;
  std::int64_t evictedPrograms = 0;
  /// Host memory the caching allocator holds for reuse, not in use by any
  /// tensor (emptyCache() gives it back).
  std::int64_t cachedHostBytes = 0;
  /// Host memory in use by tensors and by running programs' temporaries
  /// now, and the most at once since the start or resetPeakMemoryStats()
  /// (as torch.cuda.memory_allocated / max_memory_allocated).
  std::int64_t liveHostBytes = 0;
  std::int64_t peakHostBytes = 0;
  /// Time GPUs spent running programs (Vulkan: timestamps written at the
  /// start and end of each submission; 0 where the queue writes none): a
  /// realize's time less this is the host's share.
  double deviceMs = 0;
  /// Times the host waited for a GPU: each read of a device tensor or
  /// upload over 1 MiB, and each sync() with work still running. Programs,
  /// fills and smaller uploads are queued without a wait.
  std::int64_t deviceWaits = 0;
  /// Submissions to a GPU's queue: one per program, small upload or fill,
  /// except that those issued while the GPU has two submissions or more
  /// still to run join one open submission (sent as it runs out).
  std::int64_t deviceSubmissions = 0;
  /// Entries in the list of tensors with an in-place write still to run,
  /// which every realize computes (a loop of parameter updates runs as one
  /// program): each such tensor once, so a training loop keeps it at the
  /// count of tensors it updates.
  std::int64_t pendingWrites = 0;
};

/// Counters since the process started.
RuntimeStats runtimeStats();

/// Drops every compiled program from the in-memory cache.
void clearProgramCache();

/// Bounds the in-memory program cache: past `programs` programs or
/// `codeBytes` bytes of machine code, the least recently used programs are
/// evicted (their code is released once no realize runs it). The defaults,
/// 1024 programs and 256 MiB, come from TRUENO_PROGRAM_CACHE_ENTRIES and
/// TRUENO_PROGRAM_CACHE_MB. An evicted program that is needed again is
/// loaded from the disk kernel cache (about a millisecond) or compiled.
void setProgramCacheLimits(
    std::int64_t programs, std::int64_t codeBytes,
    std::source_location where = std::source_location::current());

/// Starts peakHostBytes over from the memory in use now (as
/// torch.cuda.reset_peak_memory_stats).
void resetPeakMemoryStats();

/// Whether CPU kernels flush subnormal float32 and float64 values to zero,
/// in their inputs and their results, as torch.set_flush_denormal(True).
/// x86 computes with subnormals many times slower, and a long loop whose
/// values decay geometrically spends more and more time on them: Adam's
/// moments of parameters whose gradients are mostly zero shrink by beta1
/// each step, and a Fashion-MNIST step at batch 1 took 3.8 ms after 3000
/// steps instead of 2.6 (2.4 with flushing; docs/PERFORMANCE.md). Off by
/// default, which gives IEEE results, as NumPy and PyTorch;
/// TRUENO_FLUSH_DENORMAL=1 turns it on at start. It applies to the
/// programs run after the call; OpenBLAS's products and GPUs (their float
/// controls) are not affected. Returns false, changing nothing, where the
/// CPU has no such mode (as PyTorch's).
bool setFlushDenormal(bool on);

/// Gives the memory the caching allocator keeps for reuse back to the
/// system, as torch.cuda.empty_cache(); tensors in use are untouched. The
/// allocator keeps at most TRUENO_HOST_CACHE_MB (default 2048) MiB.
void emptyCache();

} // namespace trueno

#endif // TRUENO_EXECUTION_H
