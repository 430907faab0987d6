//===- Counters.h - What the runtime did, for tests and TRUENO_DEBUG ------===//
#ifndef TRUENO_RUNTIME_COUNTERS_H
#define TRUENO_RUNTIME_COUNTERS_H

#include <atomic>
#include <cstdint>

namespace trueno::runtime {

/// Process-wide counters, for TRUENO_DEBUG, tests and benchmarks.
struct RuntimeCounters {
  std::atomic<std::int64_t> kernelsLaunched{0};
  std::atomic<std::int64_t> kernelsCompiled{0};
  std::atomic<std::int64_t> programsCompiled{0};
  std::atomic<std::int64_t> compileMicros{0};
  /// Programs whose code came from the disk cache, and that it lacked.
  std::atomic<std::int64_t> diskHits{0};
  std::atomic<std::int64_t> diskMisses{0};
  std::atomic<std::int64_t> diskLoadMicros{0};
  /// Times the host waited for a GPU: each blocking transfer (a download,
  /// an upload over 1 MiB), and each wait for submitted work that had not
  /// finished (sync(), a batch reused while it still ran).
  std::atomic<std::int64_t> deviceWaits{0};
  /// Batches of commands submitted to a GPU's queue: while the GPU is busy,
  /// several programs (and small uploads) share one.
  std::atomic<std::int64_t> deviceSubmissions{0};
  /// Barriers recorded between commands of a GPU's batches: one where a
  /// command reads or writes what a command since the last one wrote, or
  /// writes what one read.
  std::atomic<std::int64_t> deviceBarriers{0};
};
RuntimeCounters &counters();

/// The TRUENO_DEBUG level (0 when unset): 1 realizes, 2 fused kernels and
/// cache keys, 3 the IR after each stage, 4 the assembly.
int debugLevel();

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_COUNTERS_H
