//===- VulkanBench.cpp - The GPU cases, timed on a Vulkan device ----------===//
//
// The cases of the GPU issue's side-by-side table, on vulkan:N (TRUENO_DEVICE
// picks it, as for any program): a fused elementwise chain, softmax, a whole
// sum, matmuls (float32 at 1024, 4096 and 8192; float16 and bfloat16),
// host-device transfers, the overhead of one small program (waited for, and 100
// per wait), the Fashion-MNIST model's convolution and training step, and a
// program's compile time (SPIR-V and pipeline creation). The chain, softmax
// and sum are also timed pipelined (20 calls, then one wait). One JSON object
// per line on stdout (with the GPU's busy time and the host's waits for it
// per call), read by benchmarks/gpu_compare.py, which times the same cases in
// PyTorch on the same machine.
//
// Usage: trueno-vulkan-bench [scale [cases]]  (scale divides the sizes;
// lavapipe on CI-sized machines wants 16 or more; cases, comma-separated,
// runs only the cases whose name contains one of them: upload_256MiB,
// download_256MiB, exp_fma_16M(_pipelined), rand_16M,
// softmax_4096x4096(_pipelined),
// sum_256M(_pipelined), rowsum_256M,
// sumlayout_256M, matmul_{f32,f16,bf16}_N, small_program(_pipelined),
// conv2d_fmnist, fmnist_train_step, compile; and, only when named,
// train_step_drift)
//
//===----------------------------------------------------------------------===//
#include "FashionMnistModel.h"

#include <trueno/nn/nn.h>
#include <trueno/optim/Optimizer.h>
#include <trueno/trueno.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

using namespace trueno;

namespace {

using Clock = std::chrono::steady_clock;
/// When the process started: each case reports when it ended (at_s).
const Clock::time_point processStart = Clock::now();

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start)
      .count();
}

/// The GPU's share of the last medianMs: its busy time per call (mean),
/// and how often a call waited for it (runtimeStats().deviceWaits).
double lastDeviceMs = 0, lastWaits = 0, lastSubmissions = 0;

/// The median of `run`'s times after warm-up calls (two, and at least 300
/// ms of them after the first, which compiles: the GPU, idle while the host
/// compiled, is timed at its working clocks), over at least five calls and
/// about half a second. (The 300 ms once counted the first call's
/// compilation: a process's first product, compiled cold in 2.8 s, then
/// ran 4.5x slow on an H100, 55 TFLOP/s against 248: docs/PERFORMANCE.md,
/// fourteenth pass.)
double medianMs(const std::function<void()> &run) {
  run();
  auto warm = Clock::now();
  for (int calls = 1; calls < 2 || msSince(warm) < 300; ++calls)
    run();
  std::vector<double> times;
  double busyBefore = runtimeStats().deviceMs;
  std::int64_t waitsBefore = runtimeStats().deviceWaits;
  std::int64_t submissionsBefore = runtimeStats().deviceSubmissions;
  auto begin = Clock::now();
  while (times.size() < 5 || (msSince(begin) < 500 && times.size() < 50)) {
    auto start = Clock::now();
    run();
    times.push_back(msSince(start));
  }
  lastDeviceMs = (runtimeStats().deviceMs - busyBefore) /
                 static_cast<double>(times.size());
  lastWaits = static_cast<double>(runtimeStats().deviceWaits - waitsBefore) /
              static_cast<double>(times.size());
  lastSubmissions = static_cast<double>(runtimeStats().deviceSubmissions -
                                        submissionsBefore) /
                    static_cast<double>(times.size());
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

/// One case: its median time, and `amount` (bytes, flops, programs) per
/// second in units of `scale` (1e9: GB/s, 1e12: TFLOP/s).
void report(const std::string &name, double ms, const std::string &unit,
            double amount, double scale = 1e9) {
  std::printf("{\"case\": \"%s\", \"ms\": %.4f, \"device_ms\": %.4f, "
              "\"waits\": %.2f, \"submissions\": %.2f, \"at_s\": %.2f, "
              "\"%s\": %.4f}\n",
              name.c_str(), ms, lastDeviceMs, lastWaits, lastSubmissions,
              msSince(processStart) * 1e-3, unit.c_str(),
              amount / (ms * 1e-3) / scale);
  std::fflush(stdout);
}

/// The main job's model (tools/trueno-fashion-mnist) with Adam, and a batch
/// of `batch` images and labels already on `device`: what the training
/// step cases time.
struct FashionMnistStep {
  FashionMnistStep(std::int64_t batch, Device device)
      : model(tools::makeFashionMnistModel()),
        images(randn({batch, 1, 28, 28}, TensorOptions(device))) {
    Generator gen(0);
    labels = randint(0, 10, {batch}, gen).to(device);
    model->to(device);
    optimizer.emplace(model->parameters(), optim::AdamOptions{.lr = 1e-3});
  }
  /// Records one step (forward, cross entropy, backward, Adam's update)
  /// and returns its loss, not yet computed.
  Tensor record() {
    Tensor loss = crossEntropy((*model)(images), labels);
    optimizer->zeroGrad();
    loss.backward();
    optimizer->step();
    return loss;
  }
  std::shared_ptr<nn::Sequential> model;
  Tensor images, labels;
  std::optional<optim::Adam> optimizer;
};

} // namespace

int main(int argc, char **argv) {
  std::int64_t scale = argc > 1 ? std::max(1L, std::atol(argv[1])) : 1;
  // A second argument runs only the cases whose name contains one of its
  // comma-separated parts.
  std::vector<std::string> only;
  for (std::string rest = argc > 2 ? argv[2] : ""; !rest.empty();) {
    std::size_t comma = rest.find(',');
    only.push_back(rest.substr(0, comma));
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
  }
  // TRUENO_BENCH_FRESH_BUFFERS=1 gives the cached device buffers back
  // before each case (emptyCache), so that no case runs in buffers an
  // earlier one used: an experiment on the slowdown of later cases
  // (docs/PERFORMANCE.md).
  const char *freshSetting = std::getenv("TRUENO_BENCH_FRESH_BUFFERS");
  bool fresh = freshSetting && std::string(freshSetting) == "1";
  auto wanted = [&](const std::string &name) {
    bool yes =
        only.empty() ||
        std::any_of(only.begin(), only.end(), [&](const std::string &part) {
          return name.find(part) != std::string::npos;
        });
    if (yes && fresh)
      emptyCache();
    return yes;
  };
  // TRUENO_BENCH_REPEAT=n times each matrix product n times in a row (an
  // experiment on the first case's slowdown: docs/PERFORMANCE.md).
  const char *repeatSetting = std::getenv("TRUENO_BENCH_REPEAT");
  const int repeats =
      repeatSetting ? std::clamp(std::atoi(repeatSetting), 1, 100) : 1;
  Device device = defaultDevice();
  std::fprintf(stderr, "trueno-vulkan-bench on %s, sizes / %lld\n",
               device.name().c_str(), static_cast<long long>(scale));
  TensorOptions on(device);

  // Host-device transfers of 256 MiB.
  if (wanted("upload_256MiB") || wanted("download_256MiB")) {
    std::int64_t n = (64 << 20) / scale;
    Tensor host = randn({n}, TensorOptions(Device::cpu()));
    Tensor onDevice = host.to(device);
    if (wanted("upload_256MiB"))
      report("upload_256MiB", medianMs([&] { onDevice = host.to(device); }),
             "GB/s", 4.0 * n);
    // A fresh device value each time: a storage keeps its host copy.
    if (wanted("download_256MiB")) {
      std::vector<double> times;
      for (int i = 0; i < 7; ++i) {
        Tensor fresh = onDevice + double(i);
        trueno::sync();
        auto start = Clock::now();
        host = fresh.cpu();
        times.push_back(msSince(start));
      }
      std::sort(times.begin(), times.end());
      report("download_256MiB", times[times.size() / 2], "GB/s", 4.0 * n);
    }
  }
  // `name`_pipelined: kPipelined calls of `make`, their results kept, then
  // one sync(); the time per call. The host records and submits while the
  // GPU runs earlier calls, as PyTorch's launches do (gpu_compare.py times
  // PyTorch the same way), where the plain case waits for every call.
  constexpr int kPipelined = 20;
  auto reportPipelined = [&](const std::string &name,
                             const std::function<Tensor()> &make,
                             const std::string &unit, double amount) {
    if (!wanted(name + "_pipelined"))
      return;
    std::vector<Tensor> kept(kPipelined);
    double ms = medianMs([&] {
      for (Tensor &t : kept)
        t = make();
      trueno::sync();
    });
    lastDeviceMs /= kPipelined;
    lastWaits /= kPipelined;
    lastSubmissions /= kPipelined;
    report(name + "_pipelined", ms / kPipelined, unit, amount);
  };
  // exp(a * b + c) over 16M float32: one fused kernel, 4 x 64 MiB moved.
  if (wanted("exp_fma_16M") || wanted("exp_fma_16M_pipelined")) {
    std::int64_t n = (16 << 20) / scale;
    Tensor a = randn({n}, on), b = randn({n}, on), c = randn({n}, on);
    if (wanted("exp_fma_16M")) {
      Tensor y;
      report("exp_fma_16M", medianMs([&] {
               y = (a * b + c).exp();
               trueno::sync();
             }),
             "GB/s", 16.0 * n);
    }
    reportPipelined(
        "exp_fma_16M", [&] { return (a * b + c).exp(); }, "GB/s", 16.0 * n);
  }
  // rand over 16M float32: Philox in a kernel (trueno.random_uniform), 64
  // MiB written.
  if (wanted("rand_16M")) {
    std::int64_t n = (16 << 20) / scale;
    Generator gen(1);
    Tensor u;
    report("rand_16M", medianMs([&] {
             u = rand({n}, gen, on);
             trueno::sync();
           }),
           "GB/s", 4.0 * n);
  }
  // softmax over rows of [4096, 4096].
  if (wanted("softmax_4096x4096") || wanted("softmax_4096x4096_pipelined")) {
    std::int64_t rows = 4096 / scale;
    Tensor x = randn({rows, 4096}, on);
    if (wanted("softmax_4096x4096")) {
      Tensor y;
      report("softmax_4096x4096", medianMs([&] {
               y = softmax(x, 1);
               trueno::sync();
             }),
             "GB/s", 8.0 * rows * 4096);
    }
    reportPipelined(
        "softmax_4096x4096", [&] { return softmax(x, 1); }, "GB/s",
        8.0 * rows * 4096);
  }
  // layerNorm over rows of [8192, 4096] with a weight and a bias (one
  // kernel: row fusion takes in 1 / sqrt(var + eps)).
  if (wanted("layernorm_8192x4096")) {
    std::int64_t rows = 8192 / scale;
    Tensor x = randn({rows, 4096}, on), w = randn({4096}, on),
           b = randn({4096}, on);
    Tensor y;
    report("layernorm_8192x4096", medianMs([&] {
             y = layerNorm(x, {4096}, w, b);
             trueno::sync();
           }),
           "GB/s", 8.0 * rows * 4096);
    reportPipelined(
        "layernorm_8192x4096", [&] { return layerNorm(x, {4096}, w, b); },
        "GB/s", 8.0 * rows * 4096);
  }
  // A sum case: `sum` timed to completion, at `bytes` read a call.
  auto timeSum = [](const std::string &name, const std::function<Tensor()> &sum,
                    double bytes) {
    Tensor s;
    report(name, medianMs([&] {
             s = sum();
             trueno::sync();
           }),
           "GB/s", bytes);
  };
  // sum of 256M float32.
  if (wanted("sum_256M") || wanted("sum_256M_pipelined")) {
    std::int64_t n = (256 << 20) / scale;
    Tensor x = rand({n}, on);
    if (wanted("sum_256M"))
      timeSum(
          "sum_256M", [&] { return x.sum(); }, 4.0 * n);
    reportPipelined(
        "sum_256M", [&] { return x.sum(); }, "GB/s", 4.0 * n);
  }
  // The same sum written as 2048 contiguous rows summed, then the row
  // sums: a workgroup per row streams a contiguous block (how CUDA
  // libraries lay out a large sum), where x.sum() has each thread read
  // every 262144th element. A layout experiment for docs/PERFORMANCE.md.
  if (wanted("rowsum_256M")) {
    std::int64_t n = (256 << 20) / scale;
    Tensor x = rand({n}, on);
    timeSum(
        "rowsum_256M",
        [&] {
          return x.reshape({2048, n / 2048}).sum({1}).sum();
        },
        4.0 * n);
  }
  // Layouts of the same 256M sum, an experiment for docs/PERFORMANCE.md:
  // [K, P] column sums (P threads each striding by P), [K, G, T] summed
  // over K and T (a workgroup per G, its T threads reading T neighbours,
  // all workgroups one contiguous window per step), and the sum over the
  // first half of the buffer (is the buffer's size or the bytes read what
  // matters?).
  if (wanted("sumlayout_256M")) {
    std::int64_t n = (256 << 20) / scale;
    Tensor x = rand({n}, on);
    for (std::int64_t p : {16384L, 65536L, 262144L})
      if (n % p == 0)
        timeSum(
            "sumlayout_256M_columns" + std::to_string(p),
            [&] {
              return x.reshape({n / p, p}).sum({0}).sum();
            },
            4.0 * n);
    for (std::int64_t g : {512L, 1024L, 2048L})
      if (std::int64_t t = 256; n % (g * t) == 0)
        timeSum(
            "sumlayout_256M_kgt" + std::to_string(g),
            [&] {
              return x.reshape({n / (g * t), g, t}).sum({0, 2}).sum();
            },
            4.0 * n);
    timeSum(
        "sumlayout_256M_firsthalf", [&] { return x.narrow(0, 0, n / 2).sum(); },
        2.0 * n);
  }
  // Matrix products: float32 and float16 at three sizes (float16 on
  // cooperative matrices where the device has them), bfloat16 at 4096
  // (on bfloat16 cooperative matrices where the device has them, else
  // float32 tiles reading bfloat16), float64 at 1024 (where the device has
  // it: NumPy's default type).
  for (auto [size, dtype] : {std::pair{1024L, kFloat32},
                             {4096L, kFloat32},
                             {8192L, kFloat32},
                             {1024L, kFloat16},
                             {4096L, kFloat16},
                             {8192L, kFloat16},
                             {4096L, kBFloat16},
                             {8192L, kBFloat16},
                             {1024L, kFloat64}}) {
    std::string name = "matmul_" +
                       std::string(dtype == kFloat32   ? "f32"
                                   : dtype == kFloat16 ? "f16"
                                   : dtype == kFloat64 ? "f64"
                                                       : "bf16") +
                       "_" + std::to_string(size);
    if (!wanted(name.c_str()))
      continue;
    std::int64_t n = std::max<std::int64_t>(64, size / scale);
    Tensor a = randn({n, n}, on.withDType(dtype)),
           b = randn({n, n}, on.withDType(dtype));
    Tensor c;
    for (int round = 0; round < repeats; ++round)
      report(name, medianMs([&] {
               c = matmul(a, b);
               trueno::sync();
             }),
             "TFLOP/s", 2.0 * n * n * n, 1e12);
  }
  // One small program: the overhead of a realize, a submission and its
  // wait, per program.
  if (wanted("small_program")) {
    Tensor x = randn({1024}, on);
    Tensor y;
    report("small_program", medianMs([&] {
             y = x + 1.0;
             trueno::sync();
           }),
           "programs/s", 1.0, 1.0);
  }
  // The same program 100 times, then one wait: what a loop of small
  // programs costs per program when the host does not wait for each (the
  // submissions overlap the device's work), as PyTorch's launches do.
  if (wanted("small_program_pipelined")) {
    Tensor x = randn({1024}, on);
    std::vector<Tensor> ys(100);
    double ms = medianMs([&] {
      for (Tensor &y : ys)
        y = x + 1.0;
      trueno::sync();
    });
    lastDeviceMs /= 100.0;
    lastWaits /= 100.0;
    lastSubmissions /= 100.0;
    report("small_program_pipelined", ms / 100.0, "programs/s", 1.0, 1.0);
  }
  // The Fashion-MNIST model's second convolution (32 -> 64 channels, 3x3,
  // padding 1) over a batch of 64 maps of 14x14.
  if (wanted("conv2d_fmnist")) {
    std::int64_t batch = std::max<std::int64_t>(1, 64 / scale);
    Tensor x = randn({batch, 32, 14, 14}, on);
    Tensor w = randn({64, 32, 3, 3}, on), b = randn({64}, on);
    Tensor y;
    report("conv2d_fmnist", medianMs([&] {
             y = conv2d(x, w, b, {1, 1}, {1, 1});
             trueno::sync();
           }),
           "TFLOP/s", 2.0 * batch * 64 * 14 * 14 * 32 * 9, 1e12);
  }
  // One training step of the Fashion-MNIST model of the main job
  // (tools/trueno-fashion-mnist): forward, cross entropy, backward and
  // Adam's update, on a batch of 64 already on the device; the loss read
  // each step, as a training loop does.
  if (wanted("fmnist_train_step")) {
    FashionMnistStep training(std::max<std::int64_t>(1, 64 / scale), device);
    float last = 0;
    // The host's time to record a step (the ops, before the loss is read
    // and the program runs): what the device cannot overlap.
    std::vector<double> recording;
    report("fmnist_train_step", medianMs([&] {
             auto start = Clock::now();
             Tensor loss = training.record();
             recording.push_back(msSince(start));
             last = loss.item<float>();
           }),
           "steps/s", 1.0, 1.0);
    std::sort(recording.begin(), recording.end());
    std::fprintf(stderr,
                 "fmnist_train_step: last loss %.4f; recording a step took "
                 "%.3f ms of host time (median; TRUENO_DEBUG=1 splits the "
                 "realize that follows)\n",
                 last, recording[recording.size() / 2]);
  }
  // The training step 3000 times: ms a step over the first and the last
  // 500 (after 20 that compile), which must not grow with the steps (the
  // pending writes a realize walks grew by every write of every step:
  // docs/PERFORMANCE.md). Only when named: it takes minutes on lavapipe.
  if (!only.empty() && wanted("train_step_drift")) {
    FashionMnistStep training(std::max<std::int64_t>(1, 64 / scale), device);
    auto step = [&] { (void)training.record().item<float>(); };
    for (int i = 0; i < 20; ++i)
      step();
    double first = 0, last = 0;
    for (int i = 0; i < 3000; ++i) {
      auto start = Clock::now();
      step();
      if (i < 500)
        first += msSince(start);
      else if (i >= 2500)
        last += msSince(start);
    }
    std::printf("{\"case\": \"train_step_drift\", \"first_500_ms\": %.4f, "
                "\"last_500_ms\": %.4f, \"pending_writes\": %lld}\n",
                first / 500, last / 500,
                static_cast<long long>(runtimeStats().pendingWrites));
    std::fflush(stdout);
  }
  // Compile time of a program never seen (SPIR-V, shader modules,
  // pipelines): a fresh chain each time.
  if (wanted("compile_program")) {
    Tensor x = randn({4096}, on);
    double total = 0;
    int count = 5;
    for (int i = 0; i < count; ++i) {
      auto start = Clock::now();
      Tensor y = (x * (1.5 + i)).exp().tanh() + x * double(i);
      trueno::sync();
      total += msSince(start);
    }
    std::printf("{\"case\": \"compile_program\", \"ms\": %.3f}\n",
                total / count);
  }
  RuntimeStats stats = runtimeStats();
  std::fprintf(stderr, "programs compiled: %lld, compile ms: %.1f\n",
               static_cast<long long>(stats.cacheMisses), stats.compileMs);
  return 0;
}
