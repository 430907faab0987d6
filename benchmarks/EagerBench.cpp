//===- EagerBench.cpp - The eager frontend through the compiler path ------===//
//
// What a user's code costs: ops recorded on tensors, realized into fused
// kernels (program cache warm), outputs from the caching allocator. Also the
// machine's limit (a STREAM-like triad on all cores, plain C++), the
// per-op overhead on 1-element tensors, and the compile time of fresh fused
// kernels. benchmarks/compare.py runs this next to NumPy and PyTorch.
//
//===----------------------------------------------------------------------===//
#include <trueno/trueno.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using namespace trueno;

namespace {

Tensor filled(std::int64_t n, float value) { return full({n}, value); }

/// How many copies of inputs of `bytes` together span 64 MiB: iteration i
/// reads copy i % count, so that small cases are not timed from the cache.
std::int64_t rotations(std::int64_t bytes) {
  return std::max<std::int64_t>(1,
                                (64 << 20) / std::max<std::int64_t>(bytes, 1));
}

/// `count` sets of random inputs of the given shapes.
std::vector<std::vector<Tensor>> inputSets(std::vector<Shape> shapes,
                                           std::uint64_t seed) {
  std::int64_t bytes = 0;
  for (const Shape &s : shapes) {
    std::int64_t n = 4;
    for (std::int64_t d : s)
      n *= d;
    bytes += n;
  }
  Generator gen(seed);
  std::vector<std::vector<Tensor>> sets(rotations(bytes));
  for (auto &set : sets)
    for (const Shape &s : shapes)
      set.push_back(randn(s, gen));
  return sets;
}

/// Times `expression(a, b, c)` on three float32 inputs of state.range(0)
/// elements, realized every iteration; `bytesPerElement` is what it must
/// move.
template <typename F>
void timeExpression(benchmark::State &state, int bytesPerElement,
                    F expression) {
  std::int64_t n = state.range(0);
  Tensor a = filled(n, 0.5f), b = filled(n, 1.5f), c = filled(n, -0.25f);
  for (auto _ : state) {
    Tensor y = expression(a, b, c);
    trueno::sync();
    benchmark::DoNotOptimize(y);
  }
  state.SetBytesProcessed(state.iterations() * n * bytesPerElement);
}

/// exp(a * b + c): 3 float32 reads and 1 write per element.
void expFma(benchmark::State &state) {
  timeExpression(state, 16,
                 [](const Tensor &a, const Tensor &b, const Tensor &c) {
                   return (a * b + c).exp();
                 });
}
BENCHMARK(expFma)->Arg(1 << 20)->Arg(10 << 20)->UseRealTime();

/// Ten elementwise ops on a, b, c: the same 16 bytes per element.
Tensor chain10(const Tensor &a, const Tensor &b, const Tensor &c) {
  Tensor y = a * b + c;
  y = y.exp();
  y = -y;
  y = y.tanh();
  y = y - a;
  y = y.abs();
  y = y.sqrt();
  y = maximum(y, c);
  y = y.sigmoid();
  return y;
}

void chain(benchmark::State &state) { timeExpression(state, 16, chain10); }
BENCHMARK(chain)->Arg(1 << 20)->Arg(10 << 20)->UseRealTime();

/// a + b, with the inputs rotated through 64 MiB so that small sizes are
/// not timed from the cache (12 bytes per element).
void add(benchmark::State &state) {
  std::int64_t n = state.range(0);
  std::int64_t slots = std::max<std::int64_t>(1, (16 << 20) / n);
  Tensor a = filled(n * slots, 0.5f), b = filled(n * slots, 1.5f);
  std::int64_t i = 0;
  for (auto _ : state) {
    std::int64_t at = (i++ % slots) * n;
    Tensor y = a.narrow(0, at, n) + b.narrow(0, at, n);
    trueno::sync();
    benchmark::DoNotOptimize(y);
  }
  state.SetBytesProcessed(state.iterations() * n * 12);
}
BENCHMARK(add)
    ->Arg(1000)
    ->Arg(100000)
    ->Arg(1 << 20)
    ->Arg(10 << 20)
    ->UseRealTime();

/// [4096, 1] + [1, 4096]: a 64 MiB result from 32 KiB of inputs.
void broadcastAdd(benchmark::State &state) {
  Tensor col = filled(4096, 0.5f).reshape({4096, 1});
  Tensor row = filled(4096, 1.5f).reshape({1, 4096});
  for (auto _ : state) {
    Tensor y = col + row;
    trueno::sync();
    benchmark::DoNotOptimize(y);
  }
  state.SetBytesProcessed(state.iterations() * 4096 * 4096 * 4);
}
BENCHMARK(broadcastAdd)->UseRealTime();

/// sum and mean of n float32: 4 bytes read per element.
void sumAll(benchmark::State &state) {
  timeExpression(state, 4, [](const Tensor &a, const Tensor &, const Tensor &) {
    return a.sum();
  });
}
BENCHMARK(sumAll)->Arg(1 << 20)->Arg(10 << 20)->UseRealTime();

void meanAll(benchmark::State &state) {
  timeExpression(state, 4, [](const Tensor &a, const Tensor &, const Tensor &) {
    return a.mean();
  });
}
BENCHMARK(meanAll)->Arg(1 << 20)->Arg(10 << 20)->UseRealTime();

/// Ten cheap elementwise ops (no transcendental): memory-bound when fused.
Tensor chainArith10(const Tensor &a, const Tensor &b, const Tensor &c) {
  Tensor y = a * b + c;
  y = y - a;
  y = y.abs();
  y = maximum(y, b);
  y = minimum(y, c);
  y = -y;
  y = y * 0.5;
  y = y + 1.0;
  y = y.relu();
  return y;
}

void chainArith(benchmark::State &state) {
  timeExpression(state, 16, chainArith10);
}
BENCHMARK(chainArith)->Arg(1 << 20)->Arg(10 << 20)->UseRealTime();

/// STREAM triad, a = b + s * c, on every core: the memory-bandwidth limit
/// that elementwise kernels are measured against (12 bytes per element).
/// Plain C++ loops over memory from the same allocator as tensors (huge
/// pages: with 4 KiB pages the TLB halves the bandwidth in these VMs).
void streamTriad(benchmark::State &state) {
  std::int64_t n = state.range(0);
  Tensor ta = empty({n}), tb = full({n}, 1.0f), tc = full({n}, 2.0f);
  float *pa = ta.data<float>();
  const float *pb = tb.data<float>(), *pc = tc.data<float>();
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  auto part = [&](unsigned t) {
    std::int64_t begin = n * t / threads, end = n * (t + 1) / threads;
    // restrict: without it GCC's -O2 cost model will not add the runtime
    // alias check, and a scalar loop measures the core, not the memory.
    float *__restrict__ ra = pa;
    const float *__restrict__ rb = pb, *__restrict__ rc = pc;
    for (std::int64_t i = begin; i < end; ++i)
      ra[i] = rb[i] + 3.0f * rc[i];
  };
  // Persistent workers and a barrier: spawning threads per iteration would
  // time thread start-up and start the halves at different moments.
  std::barrier sync(threads);
  bool done = false;
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads; ++t)
    workers.emplace_back([&, t] {
      for (;;) {
        sync.arrive_and_wait();
        if (done)
          return;
        part(t);
        sync.arrive_and_wait();
      }
    });
  for (auto _ : state) {
    sync.arrive_and_wait();
    part(0);
    sync.arrive_and_wait();
    benchmark::DoNotOptimize(pa);
  }
  done = true;
  sync.arrive_and_wait();
  for (auto &w : workers)
    w.join();
  state.SetBytesProcessed(state.iterations() * n * 12);
  state.counters["threads"] = threads;
}
BENCHMARK(streamTriad)->Arg(10 << 20)->UseRealTime();

/// The float32 FMA peak of all cores: 16 independent accumulator vectors
/// per thread (enough to hide the FMA latency), GCC vector extensions of the
/// widest size the CPU has. Reported as FLOP/s (2 per FMA and lane).
using Vec = float __attribute__((vector_size(64)));
void fmaPeak(benchmark::State &state) {
  constexpr int kChains = 16, kSteps = 1 << 20;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  auto work = [] {
    Vec acc[kChains];
    for (int c = 0; c < kChains; ++c)
      acc[c] = Vec{} + static_cast<float>(c);
    Vec m = Vec{} + 0.999999f, k = Vec{} + 1e-7f;
    for (int s = 0; s < kSteps; ++s)
      for (int c = 0; c < kChains; ++c)
        acc[c] = acc[c] * m + k; // contracted to one FMA (-march=native)
    float sum = 0;
    for (int c = 0; c < kChains; ++c)
      sum += acc[c][0];
    benchmark::DoNotOptimize(sum);
  };
  for (auto _ : state) {
    std::vector<std::thread> workers;
    for (unsigned t = 1; t < threads; ++t)
      workers.emplace_back(work);
    work();
    for (auto &w : workers)
      w.join();
  }
  double flops =
      2.0 * kChains * kSteps * (sizeof(Vec) / sizeof(float)) * threads;
  state.counters["flops"] =
      benchmark::Counter(flops * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(fmaPeak)->UseRealTime();

/// Square float32 matrix product, n = state.range(0): one GEMM on OpenBLAS
/// through the compiled kernel. Reported as FLOP/s (2 n^3 per product).
void matmulSquare(benchmark::State &state) {
  std::int64_t n = state.range(0);
  auto sets = inputSets({{n, n}, {n, n}}, 1);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto &in = sets[i++ % sets.size()];
    Tensor y = matmul(in[0], in[1]);
    trueno::sync();
    benchmark::DoNotOptimize(y);
  }
  state.counters["flops"] = benchmark::Counter(
      2.0 * n * n * n * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}
BENCHMARK(matmulSquare)
    ->Arg(128)
    ->Arg(1024)
    ->Arg(4096)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

/// relu(x @ w.T + b), a dense layer: x [batch, in], w [out, in]. One GEMM
/// writing the output, then the bias and relu in place, in one kernel.
/// Args: batch, in_features, out_features.
void linearRelu(benchmark::State &state) {
  std::int64_t batch = state.range(0), in = state.range(1),
               out = state.range(2);
  auto sets = inputSets({{batch, in}, {out, in}, {out}}, 2);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto &v = sets[i++ % sets.size()];
    Tensor y = relu(linear(v[0], v[1], v[2]));
    trueno::sync();
    benchmark::DoNotOptimize(y);
  }
  state.counters["flops"] = benchmark::Counter(
      2.0 * batch * in * out * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}
BENCHMARK(linearRelu)
    ->Args({64, 784, 128})
    ->Args({256, 1024, 1024})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

/// Kernels launched per iteration so far, as a counter (compare.py prints
/// it next to the time).
void countKernels(benchmark::State &state, std::int64_t before) {
  state.counters["kernels"] = benchmark::Counter(
      static_cast<double>(runtimeStats().kernelsLaunched - before) /
      static_cast<double>(
          std::max<benchmark::IterationCount>(state.iterations(), 1)));
}

/// relu(x @ w.mT() + b) written out, not through linear().
void matmulTransposedRelu(benchmark::State &state) {
  std::int64_t batch = state.range(0), in = state.range(1),
               out = state.range(2);
  auto sets = inputSets({{batch, in}, {out, in}, {out}}, 5);
  std::size_t i = 0;
  std::int64_t before = runtimeStats().kernelsLaunched;
  for (auto _ : state) {
    const auto &v = sets[i++ % sets.size()];
    Tensor y = relu(v[0].matmul(v[1].mT()) + v[2]);
    trueno::sync();
    benchmark::DoNotOptimize(y);
  }
  countKernels(state, before);
  state.counters["flops"] = benchmark::Counter(
      2.0 * batch * in * out * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}
BENCHMARK(matmulTransposedRelu)
    ->Args({64, 784, 128})
    ->Args({256, 1024, 1024})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

/// cat({a + 1, b * 2}) of two [rows, cols] float32 tensors.
void catElementwise(benchmark::State &state) {
  std::int64_t rows = state.range(0), cols = state.range(1);
  auto sets = inputSets({{rows, cols}, {rows, cols}}, 6);
  std::size_t i = 0;
  std::int64_t before = runtimeStats().kernelsLaunched;
  for (auto _ : state) {
    const auto &v = sets[i++ % sets.size()];
    Tensor y = cat({v[0] + 1.0, v[1] * 2.0}, 0);
    trueno::sync();
    benchmark::DoNotOptimize(y);
  }
  countKernels(state, before);
  state.SetBytesProcessed(state.iterations() * rows * cols * 16);
}
BENCHMARK(catElementwise)
    ->Args({1024, 1024})
    ->Args({4096, 1024})
    ->UseRealTime();

/// softmax over the last dimension of a [rows, cols] float32 tensor.
void softmaxRows(benchmark::State &state) {
  std::int64_t rows = state.range(0), cols = state.range(1);
  auto sets = inputSets({{rows, cols}}, 3);
  std::size_t i = 0;
  for (auto _ : state) {
    Tensor y = softmax(sets[i++ % sets.size()][0], 1);
    trueno::sync();
    benchmark::DoNotOptimize(y);
  }
  state.SetBytesProcessed(state.iterations() * rows * cols * 8);
}
BENCHMARK(softmaxRows)
    ->Args({1, 10000})
    ->Args({1000, 1000})
    ->Args({1, 1 << 20})
    ->UseRealTime();

/// The row variance of issue 5's target, `((x - x.mean(1, keepdim)) ** 2)
/// .mean(1)`, on a [rows, cols] float32 tensor: two kernels (the row means,
/// then the squared deviations summed with the subtraction fused in).
void rowVariance(benchmark::State &state) {
  std::int64_t rows = state.range(0), cols = state.range(1);
  auto sets = inputSets({{rows, cols}}, 2);
  std::size_t i = 0;
  for (auto _ : state) {
    const Tensor &x = sets[i++ % sets.size()][0];
    Tensor v = pow(x - x.mean({1}, true), 2).mean({1});
    trueno::sync();
    benchmark::DoNotOptimize(v);
  }
  state.SetBytesProcessed(state.iterations() * rows * cols * 8);
}
BENCHMARK(rowVariance)->Args({1000, 10000})->UseRealTime();

/// layerNorm over the last dimension of a [rows, cols] float32 tensor, with
/// a weight and a bias: the row means (shifted by each row's first
/// element), the squared deviations, then the normalized rows.
void layerNormRows(benchmark::State &state) {
  std::int64_t rows = state.range(0), cols = state.range(1);
  auto sets = inputSets({{rows, cols}, {cols}, {cols}}, 3);
  std::size_t i = 0;
  std::int64_t before = runtimeStats().kernelsLaunched;
  for (auto _ : state) {
    const std::vector<Tensor> &in = sets[i++ % sets.size()];
    Tensor y = layerNorm(in[0], {cols}, in[1], in[2]);
    trueno::sync();
    benchmark::DoNotOptimize(y);
  }
  countKernels(state, before);
  state.SetBytesProcessed(state.iterations() * rows * cols * 8);
}
BENCHMARK(layerNormRows)->Args({4096, 1024})->UseRealTime();

/// conv2d with bias, 3x3 filters, stride 1, no padding, on a batch of
/// Fashion-MNIST-sized images. Args: N, C, H (= W), F. Reported as FLOP/s.
void conv2dBias(benchmark::State &state) {
  std::int64_t n = state.range(0), c = state.range(1), h = state.range(2),
               f = state.range(3);
  auto sets = inputSets({{n, c, h, h}, {f, c, 3, 3}, {f}}, 4);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto &v = sets[i++ % sets.size()];
    Tensor y = conv2d(v[0], v[1], v[2]);
    trueno::sync();
    benchmark::DoNotOptimize(y);
  }
  double out = static_cast<double>(n * f * (h - 2) * (h - 2));
  state.counters["flops"] = benchmark::Counter(
      2.0 * out * c * 9 * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}
BENCHMARK(conv2dBias)
    ->Args({8, 1, 28, 32})
    ->Args({64, 1, 28, 32})
    ->Args({64, 32, 13, 64})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

/// Depthwise conv2d with bias (groups = channels), 3x3 filters, padding 1,
/// as in MobileNet's blocks. Args: N, C, H (= W). Reported as FLOP/s.
void conv2dDepthwise(benchmark::State &state) {
  std::int64_t n = state.range(0), c = state.range(1), h = state.range(2);
  auto sets = inputSets({{n, c, h, h}, {c, 1, 3, 3}, {c}}, 4);
  std::size_t i = 0;
  for (auto _ : state) {
    const auto &v = sets[i++ % sets.size()];
    Tensor y = conv2d(v[0], v[1], v[2], {1, 1}, {1, 1}, {1, 1}, c);
    trueno::sync();
    benchmark::DoNotOptimize(y);
  }
  state.counters["flops"] = benchmark::Counter(
      2.0 * static_cast<double>(n * c * h * h * 9 * state.iterations()),
      benchmark::Counter::kIsRate);
}
BENCHMARK(conv2dDepthwise)
    ->Args({64, 32, 28})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

/// Record + realize of a 20-op graph on 1-element tensors (program cache
/// warm), per op.
void perOpOverhead(benchmark::State &state) {
  Tensor x = full({1}, 1.0f);
  constexpr int kOps = 20;
  for (auto _ : state) {
    Tensor y = x;
    for (int k = 0; k < kOps / 2; ++k)
      y = y * 1.0001 + 0.5;
    trueno::sync();
    benchmark::DoNotOptimize(y);
  }
  state.SetItemsProcessed(state.iterations() * kOps);
  state.counters["us_per_op"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kOps / 1e6,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(perOpOverhead);

/// Compile time of fresh fused kernels: a 3-op graph over a shape no earlier
/// iteration used, so every realize compiles (median in compile_ms).
void compileFresh(benchmark::State &state) {
  std::vector<double> ms;
  static std::int64_t size = 1000; // new shapes in every repetition too
  for (auto _ : state) {
    Tensor a = full({size++}, 1.0f);
    double before = runtimeStats().compileMs;
    Tensor y = (a * 2.0 + 1.0).exp();
    trueno::sync();
    ms.push_back(runtimeStats().compileMs - before);
  }
  std::sort(ms.begin(), ms.end());
  state.counters["compile_ms"] = ms.empty() ? 0 : ms[ms.size() / 2];
}
BENCHMARK(compileFresh)->Iterations(15)->Unit(benchmark::kMillisecond);

} // namespace

/// --check DIR: computes every timed expression on seeded random inputs and
/// saves inputs and results as .npy, for compare.py to check against NumPy
/// before it times anything.
static int writeChecks(const std::string &dir) {
  Generator gen(2026);
  Tensor a = randn({4096}, gen), b = randn({4096}, gen), c = randn({4096}, gen);
  saveNpy(dir + "/a.npy", a);
  saveNpy(dir + "/b.npy", b);
  saveNpy(dir + "/c.npy", c);
  saveNpy(dir + "/expFma.npy", (a * b + c).exp());
  saveNpy(dir + "/chain.npy", chain10(a, b, c));
  saveNpy(dir + "/chainArith.npy", chainArith10(a, b, c));
  saveNpy(dir + "/add.npy", a + b);
  saveNpy(dir + "/sum.npy", a.sum());
  saveNpy(dir + "/mean.npy", a.mean());
  Tensor m = a.reshape({64, 64}), w = b.reshape({64, 64});
  saveNpy(dir + "/matmul.npy", matmul(m, w));
  saveNpy(dir + "/linearRelu.npy", relu(linear(m, w, c.slice(0, 0, 64))));
  saveNpy(dir + "/softmax.npy", softmax(m, 1));
  saveNpy(dir + "/conv2d.npy",
          conv2d(a.reshape({4, 4, 16, 16}),
                 b.slice(0, 0, 288).reshape({8, 4, 3, 3}), c.slice(0, 0, 8)));
  saveNpy(dir + "/depthwise.npy",
          conv2d(a.reshape({4, 16, 8, 8}),
                 b.slice(0, 0, 144).reshape({16, 1, 3, 3}), c.slice(0, 0, 16),
                 {1, 1}, {1, 1}, {1, 1}, 16));
  saveNpy(dir + "/broadcastAdd.npy", a.slice(0, 0, 64).reshape({64, 1}) +
                                         b.slice(0, 0, 64).reshape({1, 64}));
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && std::string(argv[1]) == "--check")
    return writeChecks(argv[2]);
  // Compile times are measured cold: no disk kernel cache (unless asked).
  setenv("TRUENO_CACHE", "0", /*overwrite=*/0);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
