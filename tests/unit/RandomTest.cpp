//===- RandomTest.cpp - Philox and the distributions ----------------------===//
#include "TestUtil.h"

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace trueno;
using namespace trueno::testing;

static double mean(const std::vector<double> &v) {
  return std::accumulate(v.begin(), v.end(), 0.0) / v.size();
}
static double stddev(const std::vector<double> &v) {
  double m = mean(v), s = 0;
  for (double x : v)
    s += (x - m) * (x - m);
  return std::sqrt(s / (v.size() - 1));
}

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vector") {
  Generator gen(0);
  auto block = gen.block(0);
  CHECK(block[0] == 0x6627e8d5u);
  CHECK(block[1] == 0xe169c58du);
  CHECK(block[2] == 0xbc57ac4cu);
  CHECK(block[3] == 0x9b00dbd8u);
}

TEST_CASE("a seed reproduces the same numbers; the stream advances") {
  Generator a(42), b(42), c(43);
  std::vector<float> first = rand({100}, a).toVector<float>();
  CHECK(first == rand({100}, b).toVector<float>());
  CHECK(first != rand({100}, c).toVector<float>());
  CHECK(a.offset() == 25); // 100 float32 values use 25 blocks
  CHECK(first != rand({100}, a).toVector<float>());
  a.manualSeed(42);
  CHECK(first == rand({100}, a).toVector<float>());
  // A draw is the prefix of a longer draw from the same state.
  Generator d(7), e(7);
  std::vector<float> shortDraw = randn({5}, d).toVector<float>();
  std::vector<float> longDraw = randn({50}, e).toVector<float>();
  CHECK(std::equal(shortDraw.begin(), shortDraw.end(), longDraw.begin()));
  manualSeed(5);
  std::vector<float> g1 = rand({4}).toVector<float>();
  manualSeed(5);
  CHECK(g1 == rand({4}).toVector<float>());
}

TEST_CASE("pinned values: the recipe never changes silently") {
  // These are part of the reproducibility promise (docs/RANDOM.md).
  Generator gen(42);
  std::vector<float> u = rand({3}, gen).toVector<float>();
  std::vector<float> n = randn({2}, gen).toVector<float>();
  std::vector<std::int64_t> i =
      randint(0, 1000, {2}, gen).toVector<std::int64_t>();
  INFO(fmt::format("u = {:.9g} {:.9g} {:.9g}, n = {:.9g} {:.9g}, i = {} {}",
                   u[0], u[1], u[2], n[0], n[1], i[0], i[1]));
  CHECK(u == std::vector<float>{0.612959862f, 0.468586504f, 0.0732316971f});
  CHECK(n == std::vector<float>{-0.07318151f, 0.139137492f});
  CHECK(i == std::vector<std::int64_t>{507, 449});
}

TEST_CASE("distributions have the right moments and ranges") {
  Generator gen(1234);
  std::vector<double> u = rand({200000}, gen, kFloat64).toVector<double>();
  CHECK(*std::min_element(u.begin(), u.end()) >= 0.0);
  CHECK(*std::max_element(u.begin(), u.end()) < 1.0);
  CHECK(mean(u) == doctest::Approx(0.5).epsilon(0.01));
  std::vector<double> un = uniform({100000}, -2.0, 6.0, gen).toVector<double>();
  CHECK(*std::min_element(un.begin(), un.end()) >= -2.0);
  CHECK(*std::max_element(un.begin(), un.end()) < 6.0);
  CHECK(mean(un) == doctest::Approx(2.0).epsilon(0.01));
  std::vector<double> n = normal({200000}, 3.0, 2.0, gen).toVector<double>();
  CHECK(mean(n) == doctest::Approx(3.0).epsilon(0.01));
  CHECK(stddev(n) == doctest::Approx(2.0).epsilon(0.01));
  std::vector<double> n64 = randn({100000}, gen, kFloat64).toVector<double>();
  CHECK(stddev(n64) == doctest::Approx(1.0).epsilon(0.01));
  std::vector<double> r = randint(-3, 4, {100000}, gen).toVector<double>();
  CHECK(*std::min_element(r.begin(), r.end()) == -3);
  CHECK(*std::max_element(r.begin(), r.end()) == 3);
  CHECK(mean(r) == doctest::Approx(0.0).epsilon(0.02));
  CHECK(randint(0, 10, {3}, gen, kInt8).dtype() == kInt8);
  std::vector<double> b = bernoulli({100000}, 0.3, gen).toVector<double>();
  CHECK(mean(b) == doctest::Approx(0.3).epsilon(0.02));
  CHECK(bernoulli({10}, 0.0, gen).toVector<int>() == std::vector<int>(10, 0));
  CHECK(bernoulli({10}, 1.0, gen).toVector<int>() == std::vector<int>(10, 1));
  Tensor probs = tensor({0.0, 1.0, 0.0, 1.0});
  CHECK(bernoulli(probs, gen).toVector<int>() == std::vector<int>{0, 1, 0, 1});
  CHECK(bernoulli(probs, gen).dtype() == kFloat32);
  CHECK(rand({4}, gen, kFloat16).dtype() == kFloat16);
  CHECK(rand({4}, gen, kBFloat16).toVector<float>()[0] < 1.0f);
}

TEST_CASE("uniform never returns high, even after rounding") {
  // Rounding low + (high - low) * u to float16 reaches 2.0 for about one
  // draw in 2000 without the correction.
  Generator gen(0);
  for (DType dtype : {kFloat16, kBFloat16, kFloat32}) {
    CAPTURE(dtypeName(dtype));
    std::vector<float> v =
        uniform({1 << 16}, 1.0, 2.0, gen, dtype).toVector<float>();
    CHECK(*std::max_element(v.begin(), v.end()) < 2.0f);
    CHECK(*std::min_element(v.begin(), v.end()) >= 1.0f);
  }
  CHECK(uniform({4}, 3.0, 3.0, gen).toVector<float>() ==
        std::vector<float>(4, 3.0f)); // an empty range gives low
}

TEST_CASE("a kernel's uniforms are the host's bits") {
  // rand computes draws of 2^20 elements or more in a kernel
  // (trueno.random_uniform) and smaller ones on the host; uniform(0, 1)
  // always draws on the host. Seeds with high bits set, and streams whose
  // counter crosses 2^32 inside the draw (the kernel adds the element's
  // block to the counter in 32-bit halves).
  constexpr std::int64_t n = (1 << 20) + 3;
  for (DType dtype : {kFloat32, kFloat16, kBFloat16, kFloat64})
    for (std::uint64_t seed :
         {std::uint64_t(7), std::uint64_t(0xfedcba9876543210ull)})
      for (std::uint64_t skip :
           {std::uint64_t(0), std::uint64_t((1ull << 32) - 1000)}) {
        CAPTURE(dtypeName(dtype));
        CAPTURE(seed);
        CAPTURE(skip);
        Generator kernel(seed), host(seed);
        kernel.advance(skip);
        host.advance(skip);
        Tensor fromKernel = rand({n}, kernel, dtype);
        Tensor fromHost = uniform({n}, 0.0, 1.0, host, dtype);
        CHECK(kernel.offset() == host.offset());
        std::vector<double> a = fromKernel.toVector<double>();
        std::vector<double> b = fromHost.toVector<double>();
        std::int64_t differ = 0;
        for (std::int64_t i = 0; i < n; ++i)
          differ += a[i] != b[i];
        CHECK(differ == 0);
      }
  // A kernel's draw in several dimensions is the same row-major stream.
  Generator kernel(3), host(3);
  CHECK(rand({1024, 1025}, kernel).toVector<float>() ==
        uniform({1024 * 1025}, 0.0, 1.0, host).toVector<float>());
}

TEST_CASE("dropout's mask is rand's, computed in its kernel") {
  // dropout draws its uniforms in the kernel that applies the mask, at
  // any size: an element is kept where rand's value is at least p.
  for (Shape shape : {Shape{1}, Shape{7}, Shape{3, 5, 2}, Shape{64, 128}}) {
    CAPTURE(shape.size());
    Generator kernel(11), host(11);
    kernel.advance((1ull << 32) - 5);
    host.advance((1ull << 32) - 5);
    Tensor x = ones(shape);
    std::vector<float> dropped =
        dropout(x, 0.25, true, kernel).toVector<float>();
    std::vector<float> u = uniform(shape, 0.0, 1.0, host).toVector<float>();
    CHECK(kernel.offset() == host.offset());
    std::vector<float> expected;
    for (float v : u)
      expected.push_back(v >= 0.25f ? 1.0f / 0.75f : 0.0f);
    CHECK(dropped == expected);
  }
}

TEST_CASE("bad arguments are rejected") {
  Generator gen(0);
  CHECK_CONTAINS(errorOf<ValueError>([&] { randint(5, 5, {2}, gen); }),
                 "randint: empty range [5, 5)");
  CHECK_CONTAINS(errorOf<ValueError>([&] { randint(0, 300, {2}, gen, kInt8); }),
                 "randint: the range [0, 300) does not fit in int8");
  CHECK_CONTAINS(errorOf<ValueError>([&] { bernoulli({2}, 1.5, gen); }),
                 "bernoulli: probability must be in [0, 1], got 1.5");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   bernoulli(tensor({0.5, -0.1}), gen);
                 }),
                 "probability -0.1 at flat index 1 is not in [0, 1]");
  CHECK_CONTAINS(errorOf<DTypeError>([&] {
                   bernoulli(tensor({1, 0}), gen);
                 }),
                 "probabilities must be floating, got int64");
  CHECK_CONTAINS(errorOf<DTypeError>([&] { rand({2}, gen, kInt32); }),
                 "rand: needs a floating dtype, got int32");
  CHECK_CONTAINS(errorOf<ValueError>([&] { normal({2}, 0, -1, gen); }),
                 "normal: needs a finite mean and std >= 0");
  CHECK_CONTAINS(errorOf<ValueError>([&] { uniform({2}, 2, 1, gen); }),
                 "uniform: needs finite low <= high, got low=2, high=1");
}
