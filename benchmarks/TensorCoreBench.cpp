//===- TensorCoreBench.cpp - Costs of the eager tensor core ---------------===//
//
// What the frontend costs before any kernel runs: making a view (metadata
// only), and the eager strided loops behind contiguous(), to() and fill_().
// The compiler path will replace those loops; these numbers are the baseline
// it must beat, and the view cost bounds the per-op overhead it can reach.
//
//===----------------------------------------------------------------------===//
#include <trueno/trueno.h>

#include <benchmark/benchmark.h>

namespace tn = trueno;

static void viewTranspose(benchmark::State &state) {
  tn::Tensor x = tn::zeros({64, 64});
  for (auto _ : state)
    benchmark::DoNotOptimize(x.transpose(0, 1));
}
BENCHMARK(viewTranspose);

static void viewSliceSelectUnsqueeze(benchmark::State &state) {
  tn::Tensor x = tn::zeros({8, 64, 64});
  for (auto _ : state)
    benchmark::DoNotOptimize(x.slice(1, 1, {}, 2).select(0, 3).unsqueeze(0));
}
BENCHMARK(viewSliceSelectUnsqueeze);

static void createSmall(benchmark::State &state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(tn::tensor({1.0f, 2.0f, 3.0f}));
}
BENCHMARK(createSmall);

static void contiguousOfTranspose(benchmark::State &state) {
  std::int64_t n = state.range(0);
  tn::Tensor x = tn::ones({n, n}).T();
  for (auto _ : state)
    benchmark::DoNotOptimize(x.contiguous());
  state.SetBytesProcessed(state.iterations() * n * n * 4 * 2);
}
BENCHMARK(contiguousOfTranspose)->Arg(64)->Arg(1024);

static void castFloat32ToFloat16(benchmark::State &state) {
  std::int64_t n = state.range(0);
  tn::Tensor x = tn::ones({n});
  for (auto _ : state)
    benchmark::DoNotOptimize(x.to(tn::kFloat16));
  state.SetBytesProcessed(state.iterations() * n * (4 + 2));
}
BENCHMARK(castFloat32ToFloat16)->Arg(1 << 10)->Arg(1 << 20);

static void fillContiguous(benchmark::State &state) {
  std::int64_t n = state.range(0);
  tn::Tensor x = tn::empty({n});
  for (auto _ : state)
    x.fill_(1.5);
  state.SetBytesProcessed(state.iterations() * n * 4);
}
BENCHMARK(fillContiguous)->Arg(1 << 10)->Arg(1 << 20);

/// A fresh 40 MB tensor per iteration, as an eager op's output would be.
/// With the caching allocator the block (and its mapped pages) is reused;
/// run with TRUENO_HOST_CACHE_MB=0 to see the cost of fresh pages.
static void allocateAndFill10M(benchmark::State &state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(tn::full({10'000'000}, 1.5));
}
BENCHMARK(allocateAndFill10M)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
