//===- Parallel.h - Splitting the frontend's own loops across cores -------===//
//
// The ops that run at the call (sorts, scans) split their independent rows
// across the cores with plain threads: the JIT-ed kernels have OpenMP, but
// the frontend does not link it, and these loops are coarse enough that
// starting a thread per core costs little against the work.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_FRONTEND_PARALLEL_H
#define TRUENO_FRONTEND_PARALLEL_H

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace trueno::detail {

/// Calls `body(begin, end)` on consecutive shares of [0, count), one per
/// core, when `work` (about the element operations in all) pays for the
/// threads; on the calling thread alone otherwise. `body` must not throw.
template <typename F>
void parallelFor(std::int64_t count, std::int64_t work, F &&body) {
  constexpr std::int64_t kMinWork = std::int64_t(1) << 17;
  std::int64_t threads =
      std::max<std::int64_t>(1, std::thread::hardware_concurrency());
  std::int64_t parts = std::min(threads, count);
  if (parts <= 1 || work < kMinWork) {
    body(std::int64_t(0), count);
    return;
  }
  std::vector<std::thread> helpers;
  for (std::int64_t p = 1; p < parts; ++p)
    helpers.emplace_back([&body, count, p, parts] {
      body(count * p / parts, count * (p + 1) / parts);
    });
  body(std::int64_t(0), count / parts);
  for (std::thread &t : helpers)
    t.join();
}

} // namespace trueno::detail

#endif // TRUENO_FRONTEND_PARALLEL_H
