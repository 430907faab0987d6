//===- VulkanBackendTest.cpp - Tensors on a Vulkan device -----------------===//
//
// The frontend on vulkan:0 through the Vulkan backend: transfers, fused
// elementwise chains, views (strided, negative strides, offsets no binding
// may start at), reductions small and split, softmax, matmul, convolution,
// a training step's gradients, host reads and writes of device tensors, and
// the errors of mixing devices. Every result against the same ops on the
// CPU (the CPU path is itself checked against PyTorch). Seeded; the seed is
// printed. On CI the device is Mesa's lavapipe under the validation layer.
//
//===----------------------------------------------------------------------===//
#include <trueno/nn/nn.h>
#include <trueno/optim/Optimizer.h>
#include <trueno/trueno.h>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <string>
#include <tuple>

using namespace trueno;

namespace {

/// vulkan:0, or nothing (the test is skipped) where no device is usable and
/// TRUENO_TEST_REQUIRE_VULKAN is not set.
std::optional<Device> gpu() {
  static std::optional<Device> device = []() -> std::optional<Device> {
    try {
      Tensor probe = zeros({1}).to(Device::vulkan(0));
      (void)probe;
      return Device::vulkan(0);
    } catch (const DeviceError &e) {
      const char *required = std::getenv("TRUENO_TEST_REQUIRE_VULKAN");
      if (required && std::string(required) == "1")
        FAIL("no Vulkan device: " << e.what());
      MESSAGE("skipped: " << e.what());
      return std::nullopt;
    }
  }();
  return device;
}

std::uint64_t seed() {
  static std::uint64_t s = [] {
    const char *env = std::getenv("TRUENO_TEST_SEED");
    std::uint64_t v = env ? std::stoull(env) : std::random_device{}();
    MESSAGE("seed " << v << " (replay with TRUENO_TEST_SEED=" << v << ")");
    return v;
  }();
  return s;
}

/// The largest |gpu - cpu| relative to max(1, |cpu|).
double maxError(const Tensor &onGpu, const Tensor &onCpu) {
  REQUIRE(onGpu.device() != Device::cpu());
  Tensor got = onGpu.detach().cpu().to(kFloat64),
         want = onCpu.detach().to(kFloat64);
  REQUIRE(got.shape() == want.shape());
  if (got.numel() == 0)
    return 0;
  return ((got - want).abs() / want.abs().clamp(1.0, std::nullopt))
      .amax()
      .item<double>();
}

/// Long float32 sums of `terms` elements in another order than the CPU's:
/// as close to the float64 result `exact` as the CPU's own (4x), or within
/// 4 sqrt(terms) roundings, relative to max(1, |exact|). (The CPU's
/// 16-lane sums are sometimes luckier than that: with seed 2919803918 a
/// row of 3000 was off by 1.9e-6 on the CPU and 7.7e-6 on lavapipe.)
void closeAsCpu(const Tensor &onGpu, const Tensor &onCpu, const Tensor &exact,
                std::int64_t terms) {
  Tensor want = exact.to(kFloat64);
  double cpuError =
      ((onCpu.to(kFloat64) - want).abs() / want.abs().clamp(1.0, std::nullopt))
          .amax()
          .item<double>();
  double gpuError = ((onGpu.cpu().to(kFloat64) - want).abs() /
                     want.abs().clamp(1.0, std::nullopt))
                        .amax()
                        .item<double>();
  INFO("cpu error " << cpuError << ", gpu error " << gpuError);
  double roundings =
      4 * std::sqrt(static_cast<double>(terms)) * std::ldexp(1.0, -24);
  CHECK(gpuError <= std::max(4 * cpuError, roundings));
}

/// Equal shapes and elements (NaN-free inputs).
bool equal(const Tensor &a, const Tensor &b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         (a.numel() == 0 || eq(a.cpu(), b.cpu()).all().item<bool>());
}

} // namespace

TEST_CASE("to() moves tensors to the device and back, bit for bit") {
  auto device = gpu();
  if (!device)
    return;
  Generator gen(seed());
  for (DType t : {kFloat32, kFloat64, kInt64, kInt8, kBool, kFloat16}) {
    Tensor x = (randn({37, 5}, gen) * 10).to(t);
    Tensor there = x.to(*device);
    CHECK(there.device() == *device);
    CHECK(there.dtype() == t);
    CHECK(there.to(*device).impl() == there.impl()); // already there
    CHECK(equal(there.cpu(), x));
  }
  Tensor empty = zeros({0, 3}).to(*device);
  CHECK(empty.cpu().shape() == Shape{0, 3});
  // Transfers larger than one staging piece (32 MiB) alternate between two
  // lanes: 84 MiB and 12 bytes up and back, then a window that starts
  // inside the first piece and ends inside the third.
  std::int64_t n = (21 << 20) + 3;
  Tensor big = arange(n, kInt32);
  Tensor there = big.to(*device);
  CHECK(equal(there.cpu(), big));
  std::int64_t from = (5 << 20) + 1, to = (17 << 20) + 7;
  CHECK(equal(there.slice(0, from, to).cpu(), big.slice(0, from, to)));
}

TEST_CASE("rand and dropout on the device compute the host's bits") {
  // rand on a device and dropout's mask run trueno.random_uniform in a
  // kernel, with no upload: the same values the host draws from the same
  // generator state, for every floating dtype the device computes, across
  // a counter that crosses 2^32 inside the draw.
  auto device = gpu();
  if (!device)
    return;
  std::uint64_t s = seed();
  for (DType dtype : {kFloat32, kFloat16, kBFloat16, kFloat64})
    for (Shape shape : {Shape{1}, Shape{5, 3}, Shape{1000, 1001}}) {
      CAPTURE(dtypeName(dtype));
      CAPTURE(shape.size());
      Generator there(s), here(s);
      there.advance((1ull << 32) - 17);
      here.advance((1ull << 32) - 17);
      Tensor onDevice =
          rand(shape, there, TensorOptions(dtype).withDevice(*device));
      CHECK(onDevice.device() == *device);
      CHECK(equal(onDevice.cpu(), uniform(shape, 0.0, 1.0, here, dtype)));
      CHECK(there.offset() == here.offset());
    }
  Generator there(s + 1), here(s + 1);
  Tensor x = ones({64, 128});
  Tensor dropped = dropout(x.to(*device), 0.5, true, there);
  Tensor keep = uniform({64, 128}, 0.0, 1.0, here) >= 0.5;
  CHECK(equal(dropped.cpu(), where(keep, x * 2.0, 0.0)));
}

TEST_CASE("fused elementwise chains with broadcasting match the CPU") {
  auto device = gpu();
  if (!device)
    return;
  Generator gen(seed());
  Tensor a = randn({300, 33}, gen), b = randn({33}, gen),
         c = randn({300, 1}, gen);
  Tensor ga = a.to(*device), gb = b.to(*device), gc = c.to(*device);
  CHECK(maxError((ga * gb + gc).exp(), (a * b + c).exp()) < 1e-6);
  CHECK(maxError(where(ga > 0, ga.sqrt(), -ga), where(a > 0, a.sqrt(), -a)) <
        1e-6);
  CHECK(maxError((ga * 2.5).tanh() - 1, (a * 2.5).tanh() - 1) < 1e-6);
  // int64 and bool arithmetic.
  Tensor i = (a * 100).to(kInt64), gi = i.to(*device);
  CHECK(equal((gi * 3 + gi.abs() - 5).cpu(), i * 3 + i.abs() - 5));
  // True division of integers gives float32, as in PyTorch; a driver's
  // float32 division may be 2.5 ulp off (Vulkan's precision rules), not
  // correctly rounded as the CPU's.
  CHECK(maxError(7 / (gi.abs() + 1), 7 / (i.abs() + 1)) < 4e-7);
  CHECK(equal(logicalAnd(ga > gb, gc < 0).cpu(), logicalAnd(a > b, c < 0)));
}

TEST_CASE("views: transposes, negative steps and misaligned offsets") {
  auto device = gpu();
  if (!device)
    return;
  Generator gen(seed());
  Tensor a = randn({20, 31}, gen), ga = a.to(*device);
  CHECK(maxError(ga.transpose(0, 1) * 2, a.transpose(0, 1) * 2) == 0);
  // One element in: no storage buffer binding may start there.
  CHECK(maxError(ga.slice(1, 1, 30) + 1, a.slice(1, 1, 30) + 1) == 0);
  CHECK(maxError(ga.slice(1, 1, 30).contiguous(), a.slice(1, 1, 30)) == 0);
  // Negative strides reach below the view's first element.
  CHECK(maxError(flip(ga, {0, 1}) - ga, flip(a, {0, 1}) - a) == 0);
  CHECK(maxError(flip(ga.slice(0, 3, 17, 2), {1}).exp(),
                 flip(a.slice(0, 3, 17, 2), {1}).exp()) < 1e-6);
  CHECK(maxError(ga.expand({4, 20, 31}) * ga, a.expand({4, 20, 31}) * a) == 0);
}

TEST_CASE("float32 remainders are exact for every quotient, as the CPU's") {
  auto device = gpu();
  if (!device)
    return;
  // Magnitudes from 2^-100 to 2^110: quotients up to 2^210, where
  // x - y trunc(x / y) in floating point (OpFRem) is far off. Not below:
  // a remainder of a divisor under 2^-102 may be subnormal, which drivers
  // may flush to zero (lavapipe does; docs/ARCHITECTURE.md).
  Generator gen(seed());
  auto spread = [&](std::int64_t n) {
    Tensor sign = rand({n}, gen) * 2.0 - 1.0;
    Tensor exponent = (rand({n}, gen) * 210.0 - 100.0).floor();
    return (sign * exponent.exp2()).to(kFloat32).contiguous();
  };
  Tensor x = spread(4096), y = spread(4096);
  Tensor onCpu = x % y;
  Tensor onGpu = x.to(*device) % y.to(*device);
  CHECK(equal(onGpu.cpu(), onCpu));
  // Special values: an infinite divisor gives x, a zero one NaN.
  Tensor a = tensor({5.5f, -3.0e30f, 1.0f, 7.0f}).to(*device);
  Tensor b = tensor({INFINITY, 7.0f, 0.0f, -7.0f}).to(*device);
  Tensor r = (a % b).cpu();
  CHECK(r.at({0}).toDouble() == 5.5);
  CHECK(r.at({1}).toDouble() == (tensor({-3.0e30f}) % 7.0f).at({0}).toDouble());
  CHECK(std::isnan(r.at({2}).toDouble()));
  CHECK(r.at({3}).toDouble() == 0.0);
}

TEST_CASE("float64 remainders are exact for every quotient, as the CPU's") {
  auto device = gpu();
  if (!device)
    return;
  // Magnitudes from 2^-960 to 2^1000: quotients up to 2^1960, each up to
  // as many shift-and-subtract steps (lavapipe and NVIDIA have int64). Not
  // below: a remainder may then be subnormal, which a driver may flush.
  Generator gen(seed());
  Tensor sign = rand({2048}, gen, kFloat64) * 2.0 - 1.0;
  auto spread = [&](double low, double high) {
    Tensor exponent =
        (rand({2048}, gen, kFloat64) * (high - low) + low).floor();
    return (rand({2048}, gen, kFloat64) + 1.0) * exponent.exp2();
  };
  Tensor x = sign * spread(-960, 1000), y = spread(-960, 1000);
  CHECK(equal((x.to(*device) % y.to(*device)).cpu(), x % y));
  // Near quotients (the common case): x within 2^40 of y (finite: equal()
  // takes NaN for unequal).
  Tensor z = spread(-900, 900);
  Tensor near = z * (rand({2048}, gen, kFloat64) * 1e12 - 5e11);
  CHECK(equal((near.to(*device) % z.to(*device)).cpu(), near % z));
}

TEST_CASE("reductions, softmax, matmul and convolution match the CPU") {
  auto device = gpu();
  if (!device)
    return;
  Generator gen(seed());
  Tensor x = randn({64, 70}, gen), gx = x.to(*device);
  CHECK(maxError(gx.sum({1}), x.sum({1})) < 1e-5);
  CHECK(maxError(gx.amax({0}), x.amax({0})) == 0);
  CHECK(maxError(gx.mean(), x.mean()) < 1e-5);
  CHECK(maxError(softmax(gx, 1), softmax(x, 1)) < 1e-6);
  CHECK(maxError(logSoftmax(gx, 0), logSoftmax(x, 0)) < 1e-5);
  // A whole-tensor sum split into partial sums (1 << 20 elements).
  Tensor big = rand({1 << 20}, gen), gbig = big.to(*device);
  CHECK(maxError(gbig.sum(), big.sum()) < 1e-5);
  // (Not argmax over all of `big`: one thread computes it, and lavapipe
  // stops any shader loop after 65535 iterations.)
  Tensor rows = big.reshape({256, 4096});
  CHECK(equal(argmax(rows.to(*device), 1).cpu(), argmax(rows, 1)));
  Tensor w = randn({70, 40}, gen);
  CHECK(maxError(matmul(gx, w.to(*device)), matmul(x, w)) < 1e-5);
  // Split along the contraction (two tiles, 7 chunks of 144), plain and
  // batched with a transposed operand.
  Tensor p = randn({64, 1000}, gen), q = randn({1000, 96}, gen);
  CHECK(maxError(matmul(p.to(*device), q.to(*device)), matmul(p, q)) < 1e-4);
  Tensor pb = randn({2, 40, 700}, gen), qb = randn({2, 50, 700}, gen);
  CHECK(maxError(matmul(pb.to(*device), qb.to(*device).transpose(1, 2)),
                 matmul(pb, qb.transpose(1, 2))) < 1e-4);
  Tensor image = randn({2, 3, 12, 12}, gen), kernel = randn({5, 3, 3, 3}, gen),
         bias = randn({5}, gen);
  CHECK(maxError(conv2d(image.to(*device), kernel.to(*device), bias.to(*device),
                        {1, 1}, {1, 1}),
                 conv2d(image, kernel, bias, {1, 1}, {1, 1})) < 1e-5);
  // Convolutions whose products are tiled read the input's windows
  // directly (an implicit GEMM): strides, dilations, padding, a split
  // contraction (16 x 5 x 5 = 400 elements over 4 tiles) and one that is
  // not (3 x 3 x 3).
  for (auto [batch, in, out, side, k, stride, dilation] :
       {std::tuple{4, 16, 48, 20, 3, std::array<std::int64_t, 2>{2, 1},
                   std::array<std::int64_t, 2>{1, 2}},
        {2, 16, 64, 17, 5, std::array<std::int64_t, 2>{1, 1},
         std::array<std::int64_t, 2>{1, 1}},
        {3, 3, 32, 30, 3, std::array<std::int64_t, 2>{1, 1},
         std::array<std::int64_t, 2>{1, 1}}}) {
    INFO(batch << "x" << in << "x" << side << "x" << side << " by " << out
               << "x" << in << "x" << k << "x" << k);
    Tensor x = randn({batch, in, side, side}, gen),
           w = randn({out, in, k, k}, gen), b = randn({out}, gen);
    std::array<std::int64_t, 2> padding{1, 2};
    CHECK(maxError(conv2d(x.to(*device), w.to(*device), b.to(*device), stride,
                          padding, dilation),
                   conv2d(x, w, b, stride, padding, dilation)) < 1e-4);
  }
}

TEST_CASE("row reductions match the CPU: NaNs, integers, a workgroup's many "
          "rows") {
  auto device = gpu();
  if (!device)
    return;
  Generator gen(seed());
  // Rows of 3000: 256 threads each, which combine within subgroups where
  // the device's shuffle (32 subgroups of 8 on lavapipe, 8 of 32 on an
  // NVIDIA GPU; VulkanCodegenTest checks the kernels), else by the tree.
  Tensor x = randn({37, 3000}, gen), gx = x.to(*device);
  closeAsCpu(gx.sum({1}), x.sum({1}), x.to(kFloat64).sum({1}), 3000);
  CHECK(maxError(gx.amax({1}), x.amax({1})) == 0);
  CHECK(maxError(gx.amin({1}), x.amin({1})) == 0);
  CHECK(maxError(softmax(gx, 1), softmax(x, 1)) < 1e-6);
  closeAsCpu(var(gx, {1}), var(x, {1}), var(x.to(kFloat64), {1}), 3000);
  // A NaN in about half the rows: their maximum and sum are NaN, and the
  // other rows' are not.
  Tensor holes = where(rand({37, 3000}, gen) < 0.0002, NAN, x);
  for (bool maximum : {true, false}) {
    INFO(std::string(maximum ? "amax" : "sum"));
    Tensor want = maximum ? holes.amax({1}) : holes.sum({1});
    Tensor got =
        (maximum ? holes.to(*device).amax({1}) : holes.to(*device).sum({1}))
            .cpu();
    CHECK(equal(isnan(got), isnan(want)));
    Tensor exact = maximum ? want : holes.to(kFloat64).sum({1});
    closeAsCpu(where(isnan(got), 0.0, got), where(isnan(want), 0.0, want),
               where(isnan(exact), 0.0, exact), 3000);
  }
  // Integers, exactly.
  Tensor counts = randint(-1000000, 1000000, {37, 3000}, gen);
  CHECK(equal(counts.to(*device).sum({1}).cpu(), counts.sum({1})));
  Tensor small = counts.to(kInt32);
  CHECK(equal(small.to(*device).amax({1}).cpu(), small.amax({1})));
  // More rows than a launch has workgroups on lavapipe (65535): each
  // workgroup reduces two rows, or more, in turn.
  Tensor tall = randn({70000, 64}, gen);
  closeAsCpu(tall.to(*device).sum({1}), tall.sum({1}),
             tall.to(kFloat64).sum({1}), 64);
  CHECK(maxError(softmax(tall.to(*device), 1), softmax(tall, 1)) < 1e-6);
}

TEST_CASE("float16 and bfloat16 products match the CPU's, on cooperative "
          "matrices where the device has them") {
  auto device = gpu();
  if (!device)
    return;
  Generator gen(seed());
  // Edges in every dimension (partial tiles and steps), a split
  // contraction, many steps and tiles (every copy of the cooperative
  // kernel's tiles reused), a batch with a transposed operand; rows of
  // multiples of 8 (copied 16 bytes at a time; bfloat16 on bfloat16
  // matrices where the device has them) and not. Both round a
  // float32 sum once (products of halves are exact in float32), so they are at
  // most an ulp of the half apart, relative to max(1, |value|).
  for (DType dtype : {kFloat16, kBFloat16}) {
    INFO("dtype " << dtypeName(dtype));
    double ulp = dtype == kFloat16 ? 1.0 / 1024 : 1.0 / 128;
    for (auto [m, k, n] : {std::tuple{200, 96, 300},
                           {130, 33, 129},
                           {64, 3000, 96},
                           {256, 256, 256},
                           {600, 1000, 700},
                           {600, 1000, 704},
                           // Every tile inside C (workgroup-scope
                           // matrices where the device has them), the
                           // last step partial.
                           {384, 200, 512},
                           // Whole tiles and steps, no split-K: tensor
                           // loads of 128x256 tiles where the device has
                           // them.
                           {384, 224, 768}}) {
      INFO(m << "x" << k << " @ " << k << "x" << n);
      Tensor a = randn({m, k}, gen).to(dtype), b = randn({k, n}, gen).to(dtype);
      CHECK(maxError(matmul(a.to(*device), b.to(*device)), matmul(a, b)) <=
            ulp);
    }
    Tensor pb = randn({3, 70, 160}, gen).to(dtype),
           qb = randn({3, 90, 160}, gen).to(dtype);
    CHECK(maxError(matmul(pb.to(*device), qb.to(*device).transpose(1, 2)),
                   matmul(pb, qb.transpose(1, 2))) <= ulp);
    Tensor pw = randn({2, 128, 96}, gen).to(dtype),
           qw = randn({2, 256, 96}, gen).to(dtype);
    CHECK(maxError(matmul(pw.to(*device), qw.to(*device).transpose(1, 2)),
                   matmul(pw, qw.transpose(1, 2))) <= ulp);
  }
}

TEST_CASE("float64 products match the CPU's, on float64 tiles") {
  auto device = gpu();
  if (!device)
    return;
  Generator gen(seed());
  // Edges in every dimension, a split contraction (64 x 3000 @ 3000 x 96),
  // many steps and tiles, a batch with a transposed operand: within 2^-40
  // of the CPU's, relative to max(1, |value|) (the order of a sum of up to
  // 3000 terms of unit size moves it by far less).
  for (auto [m, k, n] : {std::tuple{200, 96, 300},
                         {130, 33, 129},
                         {64, 3000, 96},
                         {256, 256, 256}}) {
    INFO(m << "x" << k << " @ " << k << "x" << n);
    Tensor a = randn({m, k}, gen, kFloat64), b = randn({k, n}, gen, kFloat64);
    Tensor got = matmul(a.to(*device), b.to(*device));
    CHECK(got.dtype() == kFloat64);
    CHECK(maxError(got, matmul(a, b)) <= std::ldexp(1.0, -40));
  }
  Tensor p = randn({3, 70, 160}, gen, kFloat64),
         q = randn({3, 90, 160}, gen, kFloat64);
  CHECK(maxError(matmul(p.to(*device), q.to(*device).transpose(1, 2)),
                 matmul(p, q.transpose(1, 2))) <= std::ldexp(1.0, -40));
}

TEST_CASE("integer products match the CPU's exactly, on integer tiles") {
  auto device = gpu();
  if (!device)
    return;
  Generator gen(seed());
  // int32 and int64, with edges, a split contraction and a batch with a
  // transposed operand; int32 sums that wrap (elements up to 2^20, sums
  // of 3000 products up to 2^40) wrap alike (the order of wrapping
  // additions does not matter).
  for (DType dtype : {kInt32, kInt64}) {
    INFO("dtype " << dtypeName(dtype));
    for (auto [m, k, n] :
         {std::tuple{200, 96, 300}, {130, 33, 129}, {64, 3000, 96}}) {
      INFO(m << "x" << k << " @ " << k << "x" << n);
      Tensor a = randint(-(1 << 20), 1 << 20, {m, k}, gen).to(dtype),
             b = randint(-(1 << 20), 1 << 20, {k, n}, gen).to(dtype);
      Tensor got = matmul(a.to(*device), b.to(*device));
      CHECK(got.dtype() == dtype);
      CHECK(equal(got.cpu(), matmul(a, b)));
    }
    Tensor p = randint(-100, 100, {3, 70, 160}, gen).to(dtype),
           q = randint(-100, 100, {3, 90, 160}, gen).to(dtype);
    CHECK(equal(matmul(p.to(*device), q.to(*device).transpose(1, 2)).cpu(),
                matmul(p, q.transpose(1, 2))));
  }
}

TEST_CASE("reductions with few outputs, split across threads, match the CPU") {
  auto device = gpu();
  if (!device)
    return;
  Generator gen(seed());
  // A bias gradient's shape: 16 sums over [32, 24, 24] each (outer
  // reduction loops made parallel, trueno-split-narrow-reductions); the
  // same for a maximum and for integers.
  Tensor g = randn({32, 16, 24, 24}, gen), gg = g.to(*device);
  closeAsCpu(gg.sum({0, 2, 3}), g.sum({0, 2, 3}), g.to(kFloat64).sum({0, 2, 3}),
             32 * 24 * 24);
  CHECK(maxError(gg.amax({0, 2, 3}), g.amax({0, 2, 3})) == 0);
  Tensor counts = randint(-50, 50, {32, 16, 24, 24}, gen);
  CHECK(equal(counts.to(*device).sum({0, 2, 3}).cpu(), counts.sum({0, 2, 3})));
  // Convolutions' weight gradients, through autograd: 8 x 4 x 3 x 3
  // outputs, each over 16 x 24 x 24 products (rows of partial results, a
  // workgroup's each), and 16 x 8 x 3 x 3 over 8 x 16 x 16 (columns, a
  // thread's each).
  for (auto [batch, in, out, side] :
       {std::tuple{16, 4, 8, 24}, std::tuple{8, 8, 16, 16}}) {
    Tensor image = randn({batch, in, side, side}, gen),
           kernel = randn({out, in, 3, 3}, gen),
           gradOut = randn({batch, out, side, side}, gen);
    auto weightGrad = [&](Device d, DType t) {
      Tensor w = kernel.to(t).clone().to(d).requiresGrad_();
      Tensor y = conv2d(image.to(t).to(d), w, std::nullopt, {1, 1}, {1, 1});
      (y * gradOut.to(t).to(d)).sum().backward();
      return w.grad();
    };
    closeAsCpu(weightGrad(*device, kFloat32),
               weightGrad(Device::cpu(), kFloat32),
               weightGrad(Device::cpu(), kFloat64), batch * side * side);
  }
}

TEST_CASE("a training step's gradients on the device match the CPU's") {
  auto device = gpu();
  if (!device)
    return;
  Generator gen(seed());
  Tensor x = randn({16, 10}, gen), w1 = randn({32, 10}, gen) * 0.3,
         b1 = randn({32}, gen) * 0.1, w2 = randn({4, 32}, gen) * 0.3;
  Tensor target = randint(0, 4, {16}, gen);
  auto leaf = [](const Tensor &t, Device d) {
    return t.clone().to(d).requiresGrad_(); // a fresh leaf on each device
  };
  auto step = [&](Device d) {
    Tensor pw1 = leaf(w1, d), pb1 = leaf(b1, d), pw2 = leaf(w2, d);
    Tensor h = relu(linear(x.to(d), pw1, pb1));
    Tensor loss = crossEntropy(linear(h, pw2), target.to(d));
    loss.backward();
    return std::vector<Tensor>{loss, pw1.grad(), pb1.grad(), pw2.grad()};
  };
  std::vector<Tensor> onCpu = step(Device::cpu()), onGpu = step(*device);
  for (std::size_t i = 0; i < onCpu.size(); ++i) {
    INFO("value " << i);
    CHECK(maxError(onGpu[i], onCpu[i]) < 1e-5);
  }
  // The loss of the device's scores against targets on the host and on the
  // device, an int32 target, and targets ignored: crossEntropy reads an
  // int64 target itself (one on the host as the program's host input) and
  // makes the others from host values.
  Tensor scores = randn({16, 4}, gen);
  Tensor ignored = target.clone();
  ignored.setAt({3}, -100);
  for (const Tensor &t : {target, target.to(kInt32), ignored}) {
    Tensor want = crossEntropy(scores, t);
    CHECK(maxError(crossEntropy(scores.to(*device), t), want) < 1e-6);
    CHECK(maxError(crossEntropy(scores.to(*device), t.to(*device)), want) <
          1e-6);
  }
}

TEST_CASE("the second derivative of a 3x3 max pool compiles and matches") {
  // The backward of a max pool over a 3x3 window is a chain of 9 selects on
  // slices of one value; differentiated again, trueno-fuse-shared-elementwise
  // once looped on it without end.
  auto device = gpu();
  if (!device)
    return;
  Generator gen(seed());
  Tensor x = randn({1, 2, 4, 3}, gen), along = randn({1, 2, 4, 3}, gen);
  auto hessianAlong = [&](Device d) {
    Tensor leaf = x.clone().to(d).requiresGrad_();
    Tensor g =
        grad({maxPool2d(leaf, {3, 3}, std::array<std::int64_t, 2>{2, 2}).sum()},
             {leaf}, {}, std::nullopt, true)[0];
    return grad({(g * along.to(d) * leaf).sum()}, {leaf})[0];
  };
  CHECK(maxError(hessianAlong(*device), hessianAlong(Device::cpu())) < 1e-5);
}

TEST_CASE("a module moved to the device trains there as on the CPU") {
  auto device = gpu();
  if (!device)
    return;
  Generator gen(seed());
  Tensor x = randn({8, 6}, gen), target = randint(0, 3, {8}, gen);
  auto run = [&](Device d) {
    manualSeed(7); // the same initial weights on both devices
    nn::Sequential model{std::make_shared<nn::Linear>(6, 16),
                         std::make_shared<nn::ReLU>(),
                         std::make_shared<nn::Linear>(16, 3)};
    model.to(d);
    for (const Tensor &p : model.parameters()) {
      CHECK(p.device() == d);
      CHECK(p.requiresGrad());
      CHECK(p.isLeaf());
    }
    optim::SGD sgd(model.parameters(), {.lr = 0.1});
    for (int step = 0; step < 3; ++step) {
      sgd.zeroGrad();
      Tensor loss = crossEntropy(model(x.to(d)), target.to(d));
      loss.backward();
      sgd.step();
    }
    return model.parameters()[0].detach().cpu();
  };
  Tensor onCpu = run(Device::cpu()), onGpu = run(*device);
  CHECK(((onGpu - onCpu).abs().amax()).item<double>() < 1e-5);
}

TEST_CASE("the host reads and writes device tensors") {
  auto device = gpu();
  if (!device)
    return;
  Tensor x = arange(0, 12, 1, kFloat32).reshape({3, 4}).to(*device);
  CHECK(x.at({2, 1}).toDouble() == 9.0);
  CHECK(x.sum().item<double>() == 66.0);
  Tensor pending = x * 2; // reads the old contents when realized
  x.fill_(1.0);           // a write: later reads see it
  CHECK(equal(x.cpu(), ones({3, 4})));
  CHECK(pending.sum().item<double>() == 132.0);
  x.indexPut_({1}, tensor({5.0f, 6.0f, 7.0f, 8.0f}).to(*device));
  CHECK((x + 0).sum().item<double>() == 34.0);
  CHECK(sort(tensor({3.0f, 1.0f, 2.0f}).to(*device)).values.device() ==
        *device);
}

TEST_CASE("fills and small uploads are queued: a step waits only for its "
          "result") {
  auto device = gpu();
  if (!device)
    return;
  Generator gen(seed());
  TensorOptions on(*device);
  Tensor x = randn({64, 10}, gen);
  Tensor onDevice = x.to(*device);
  trueno::sync();
  std::int64_t before = runtimeStats().deviceWaits;
  // What a loss and its backward seed do each step: class indices and a
  // mask from host vectors, constants from full(), ones() and fill_().
  std::vector<std::int64_t> labels(64);
  for (std::size_t i = 0; i < labels.size(); ++i)
    labels[i] = static_cast<std::int64_t>((i * 7) % 10);
  Tensor target =
      fromVector(labels, {64}, TensorOptions(kInt64).withDevice(*device));
  Tensor scale = full({64, 1}, 0.5, on);
  Tensor seedGrad = ones({64}, on);
  Tensor offset = zeros({10}, on);
  offset.fill_(2.0);
  Tensor picked =
      gather(onDevice * scale + offset, 1, target.unsqueeze(1)).squeeze(1);
  double got = (picked * seedGrad).sum().item<double>();
  // One wait: the read of the result.
  CHECK(runtimeStats().deviceWaits - before <= 1);
  Tensor want = gather(x * 0.5 + 2.0, 1, fromVector(labels, {64}).unsqueeze(1));
  CHECK(got == doctest::Approx(want.sum().item<double>()).epsilon(1e-5));
  // The host's bytes are taken when the upload returns: writing them after
  // changes nothing on the device.
  Tensor host = arange(0, 100, 1, kFloat32);
  Tensor there = host.to(*device);
  host.fill_(-1.0);
  CHECK(equal(there.cpu(), arange(0, 100, 1, kFloat32)));
  // fill_ through a window of a device tensor writes only the window.
  Tensor grid = zeros({4, 6}, on);
  grid.narrow(1, 2, 3).fill_(5.0);
  CHECK(grid.sum().item<double>() == 5.0 * 12);
  CHECK(grid.cpu().at({3, 1}).toDouble() == 0.0);
}

TEST_CASE("programs run after their realize returns: sync() and reads "
          "wait, buffers outlive the programs that use them") {
  auto device = gpu();
  if (!device)
    return;
  // 40 programs (more than the batches in flight), each realized by
  // sync() without a wait between them, reading a host scalar and a chain
  // of earlier results; the tensors between are dropped while their
  // programs may still run, so their buffers go back to the allocator
  // only once the device is done with them.
  std::mt19937_64 rng(seed());
  Tensor x = rand({4096}, TensorOptions(*device));
  Tensor onCpu = x.cpu();
  Tensor chain = x, chainCpu = onCpu;
  std::vector<Tensor> kept;
  for (int i = 0; i < 40; ++i) {
    double k = static_cast<double>(rng() % 7) - 3.0;
    Tensor scratch = chain * 3.0 + k; // dropped below
    chain = (scratch - chain * 2.0) * 0.5 + x;
    chainCpu = ((chainCpu * 3.0 + k) - chainCpu * 2.0) * 0.5 + onCpu;
    if (i % 10 == 0)
      kept.push_back(chain + 0.0);
    trueno::sync();
  }
  CHECK(maxError(chain, chainCpu) < 1e-5);
  for (const Tensor &t : kept)
    CHECK(t.device() == *device);
  // Many small programs, one wait; the GPU's busy time counted after it.
  double busy = runtimeStats().deviceMs;
  std::vector<Tensor> ys;
  for (int i = 0; i < 25; ++i)
    ys.push_back(x + static_cast<double>(i));
  trueno::sync();
  for (int i = 0; i < 25; ++i)
    CHECK(maxError(ys[static_cast<std::size_t>(i)],
                   onCpu + static_cast<double>(i)) == 0);
  CHECK(runtimeStats().deviceMs >= busy);
  // A write by the host after programs that read the old value.
  Tensor y = x * 2.0;
  trueno::sync(); // submitted, perhaps still running
  x.fill_(7.0);
  CHECK(maxError(y, onCpu * 2.0) == 0);
  CHECK(x.sum().item<double>() == 7.0 * 4096);
}

TEST_CASE("mixing devices is a DeviceError naming both") {
  auto device = gpu();
  if (!device)
    return;
  Tensor onCpu = ones({3}), onGpu = ones({3}).to(*device);
  try {
    (void)(onCpu + onGpu);
    FAIL("no error");
  } catch (const DeviceError &e) {
    CHECK(std::string(e.what()).find("different devices: cpu and vulkan:0") !=
          std::string::npos);
  }
  // A 0-d CPU tensor is a scalar anywhere, as in PyTorch.
  CHECK(equal((onGpu + tensor(2.0f)).cpu(), full({3}, 3.0)));
  CHECK_THROWS_AS((void)ones({2}).to(Device::vulkan(99)), DeviceError);
  Tensor leaf = ones({2}).requiresGrad_();
  CHECK_THROWS_AS((void)leaf.to(*device), ValueError);
}
