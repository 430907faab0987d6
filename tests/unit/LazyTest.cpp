//===- LazyTest.cpp - Recording, realizing, fusion and the program cache --===//
//
// What the runtime counts (realizes, kernels, cache hits) proves when and
// how recorded ops run: values are computed only when read, a chain of
// elementwise ops is one kernel, a repeated graph compiles once, and writes
// never change what a pending computation sees.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numeric>
#include <random>
#include <thread>

#include <unistd.h>

using namespace trueno;
using trueno::testing::Delta;
using trueno::testing::errorOf;

namespace {

/// Counter deltas over a scope.

std::vector<float> ramp(int n, float scale = 0.1f) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i)
    v[i] = scale * static_cast<float>(i) - 1.0f;
  return v;
}

} // namespace

TEST_CASE("ops are recorded and computed when read") {
  Tensor a = fromVector(ramp(12), {3, 4});
  Tensor b = fromVector(ramp(4, 0.5f), {4});
  Delta d;
  Tensor y = (a * b + 1.0).exp();
  CHECK(d.realizes() == 0);
  CHECK(d.kernels() == 0);
  std::vector<float> got = y.toVector<float>();
  CHECK(d.realizes() == 1);
  CHECK(d.kernels() == 1);
  std::vector<float> av = ramp(12), bv = ramp(4, 0.5f);
  for (int i = 0; i < 12; ++i)
    CHECK(got[i] ==
          doctest::Approx(std::exp(av[i] * bv[i % 4] + 1.0f)).epsilon(1e-6));
  // Reading again computes nothing.
  (void)y.at<float>({1, 1});
  CHECK(d.realizes() == 1);
}

TEST_CASE("float32 log and log2 of subnormal inputs") {
  // Every subnormal exponent with several mantissas, then normal numbers
  // near FLT_MIN, zero and a negative subnormal; 4099 values so that both
  // the vector loop and its scalar tail run.
  std::vector<float> x;
  for (int i = 0; x.size() < 4096; ++i) {
    int exponent = -149 + i % 24; // 2^-149 .. 2^-126
    float mantissa = 1.0f + static_cast<float>(i % 97) / 97.0f;
    x.push_back(std::ldexp(mantissa, exponent));
  }
  x.push_back(std::numeric_limits<float>::denorm_min());
  x.push_back(std::numeric_limits<float>::min());
  x.push_back(std::nextafter(std::numeric_limits<float>::min(), 0.0f));
  Tensor t = fromVector(x, {static_cast<std::int64_t>(x.size())});
  std::vector<float> ln = t.log().toVector<float>();
  std::vector<float> l2 = t.log2().toVector<float>();
  for (std::size_t i = 0; i < x.size(); ++i) {
    INFO("x = " << x[i]);
    double x64 = x[i];
    CHECK(ln[i] == doctest::Approx(std::log(x64)).epsilon(3e-7));
    CHECK(l2[i] == doctest::Approx(std::log2(x64)).epsilon(3e-7));
  }
  CHECK(t.log().at<float>({static_cast<std::int64_t>(x.size()) - 3}) ==
        doctest::Approx(-103.2789).epsilon(1e-6)); // log(1.4e-45)
  CHECK(t.log2().at<float>({static_cast<std::int64_t>(x.size()) - 3}) ==
        -149.0f);
  Tensor edge = fromVector(std::vector<float>{0.0f, -1e-40f, 1e-40f}, {3});
  std::vector<float> e = edge.log().toVector<float>();
  CHECK(e[0] == -std::numeric_limits<float>::infinity());
  CHECK(std::isnan(e[1]));
  CHECK(e[2] == doctest::Approx(-92.1034).epsilon(1e-6));
}

TEST_CASE("floor, ceil and round of halves, zeros, large values, inf, NaN") {
  // Whatever TRUENO_CPU compiles for (CI runs this with SSE2 code too,
  // where rounding is arithmetic rather than one instruction).
  float nan = std::numeric_limits<float>::quiet_NaN();
  float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x = {0.5f,    1.5f,  2.5f,       -0.5f,       -1.5f,
                          -2.5f,   0.0f,  -0.0f,      -0.3f,       0.3f,
                          3e9f,    -3e9f, 8388609.0f, -8388607.5f, 1e-30f,
                          -1e-30f, inf,   -inf,       nan,         4.999999f};
  // Repeated past a vector's width so that the vector loop runs.
  std::vector<float> many;
  for (int r = 0; r < 8; ++r)
    many.insert(many.end(), x.begin(), x.end());
  Tensor t = fromVector(many, {static_cast<std::int64_t>(many.size())});
  std::vector<float> fl = t.floor().toVector<float>(),
                     ce = t.ceil().toVector<float>(),
                     ro = t.round().toVector<float>();
  for (std::size_t i = 0; i < many.size(); ++i) {
    INFO("x = " << many[i]);
    float f = std::floor(many[i]), c = std::ceil(many[i]),
          r = std::nearbyint(many[i]); // ties to even
    if (std::isnan(many[i])) {
      CHECK(std::isnan(fl[i]));
      CHECK(std::isnan(ce[i]));
      CHECK(std::isnan(ro[i]));
      continue;
    }
    CHECK(fl[i] == f);
    CHECK(ce[i] == c);
    CHECK(ro[i] == r);
    CHECK(std::signbit(fl[i]) == std::signbit(f));
    CHECK(std::signbit(ce[i]) == std::signbit(c));
    CHECK(std::signbit(ro[i]) == std::signbit(r));
  }
}

TEST_CASE("a chain of 10 elementwise ops over broadcast inputs is one kernel") {
  Tensor x = fromVector(ramp(64 * 32), {64, 32});
  Tensor row = fromVector(ramp(32, 0.05f), {32});
  Tensor col = fromVector(ramp(64, 0.02f), {64, 1});
  Delta d;
  Tensor y = x * row;
  y = y + col;
  y = y.exp();
  y = -y;
  y = y.tanh();
  y = y - row;
  y = y.abs();
  y = y.sqrt();
  y = maximum(y, col);
  y = y.sigmoid();
  trueno::sync();
  CHECK(d.realizes() == 1);
  CHECK(d.kernels() == 1);
  // Spot-check one element against the same math in double.
  std::vector<float> xv = ramp(64 * 32), rv = ramp(32, 0.05f),
                     cv = ramp(64, 0.02f);
  int i = 5, j = 7;
  double v = xv[i * 32 + j] * rv[j] + cv[i];
  v = std::sqrt(std::abs(std::tanh(-std::exp(v)) - rv[j]));
  v = std::max(v, double(cv[i]));
  v = 1 / (1 + std::exp(-v));
  CHECK(y.at<float>({i, j}) == doctest::Approx(v).epsilon(1e-5));
}

TEST_CASE("the same graph on new data hits the program cache") {
  auto single = [](float offset) {
    Tensor a = full({1}, offset);
    return ((a + 2.0) * 3.0).item<float>();
  };
  single(0.0f); // compile once
  Delta d;
  CHECK(single(1.0f) == 9.0f);
  CHECK(single(5.0f) == 21.0f);
  CHECK(d.hits() == 2);
  CHECK(d.misses() == 0);
  // A different scalar is data, not structure: still a hit.
  Tensor a = full({1}, 1.0f);
  CHECK(((a + 2.5) * 3.0).item<float>() == 10.5f);
  CHECK(d.misses() == 0);
  // A different shape is a different program.
  Tensor wide = full({2}, 1.0f);
  CHECK(((wide + 2.0) * 3.0).toVector<float>() == std::vector<float>{9, 9});
  CHECK(d.misses() == 1);
}

TEST_CASE("the program cache stays within its limits, least recently used "
          "out") {
  // One program per length: ((a + 2) * 3) over `n` elements.
  auto run = [](std::int64_t n) {
    return ((full({n}, 1.0f) + 2.0) * 3.0).at<float>({n - 1});
  };
  constexpr std::int64_t kDefaultBytes = std::int64_t(256) << 20;
  clearProgramCache();
  setProgramCacheLimits(3, kDefaultBytes);
  std::int64_t evictedBefore = runtimeStats().evictedPrograms;
  for (std::int64_t n = 101; n <= 105; ++n)
    CHECK(run(n) == 9.0f);
  CHECK(runtimeStats().cachedPrograms == 3);
  CHECK(runtimeStats().evictedPrograms - evictedBefore == 2);
  CHECK(runtimeStats().cachedProgramBytes > 0);
  {
    Delta d; // the three most recent stay
    run(103);
    run(105);
    run(104);
    CHECK(d.misses() == 0);
  }
  {
    Delta d; // 103 was used before 105 and 104: it goes for 101
    CHECK(run(101) == 9.0f);
    run(105);
    run(104);
    CHECK(d.misses() == 1);
    run(103);
    CHECK(d.misses() == 2);
  }
  // A byte limit below the three programs' code keeps the newest ones
  // that fit, and always the newest.
  std::int64_t bytes = runtimeStats().cachedProgramBytes;
  setProgramCacheLimits(1024, bytes - 1);
  CHECK(runtimeStats().cachedPrograms == 2);
  CHECK(runtimeStats().cachedProgramBytes < bytes);
  setProgramCacheLimits(1024, 1);
  CHECK(runtimeStats().cachedPrograms == 1);
  {
    Delta d; // the most recent, 103, stayed
    run(103);
    CHECK(d.misses() == 0);
  }
  CHECK_CONTAINS(errorOf<ValueError>([] { setProgramCacheLimits(0, 256); }),
                 "setProgramCacheLimits: got 0 programs and 256 bytes");
  setProgramCacheLimits(1024, kDefaultBytes);
}

TEST_CASE("emptyCache gives the allocator's kept blocks back") {
  {
    Tensor big = full({1 << 18}, 1.0f);
    (void)big.at<float>({0});
  } // freed into the allocator's cache
  CHECK(runtimeStats().cachedHostBytes > 0);
  emptyCache();
  CHECK(runtimeStats().cachedHostBytes == 0);
  // Tensors in use are untouched.
  Tensor kept = full({1 << 18}, 2.0f);
  emptyCache();
  CHECK(kept.at<float>({12345}) == 2.0f);
}

TEST_CASE("a value kept by the caller is a second output of the same kernel") {
  Tensor a = fromVector(ramp(16), {16});
  Delta d;
  Tensor t = a * 2.0;
  Tensor u = t.exp();
  CHECK(u.at<float>({3}) == doctest::Approx(std::exp(2 * ramp(16)[3])));
  CHECK(d.kernels() == 1);
  // t was written by that kernel: reading it runs nothing.
  CHECK(t.at<float>({3}) == doctest::Approx(2 * ramp(16)[3]));
  CHECK(d.realizes() == 1);
}

TEST_CASE("views of realized tensors are read through their strides") {
  Tensor base = fromVector(ramp(24), {4, 6});
  std::vector<float> v = ramp(24);
  Tensor t = base.T();                           // (6, 4), strides (1, 6)
  Tensor s = base.slice(1, 5, std::nullopt, -2); // columns 5, 3, 1
  Tensor e = base.select(0, 2).unsqueeze(0).expand({3, 6});
  Delta d;
  Tensor r1 = t * 10.0;
  Tensor r2 = s + 1.0;
  Tensor r3 = e - base.slice(0, 0, 3);
  CHECK(r1.at<float>({5, 3}) == doctest::Approx(10 * v[3 * 6 + 5]));
  CHECK(r2.at<float>({3, 2}) == doctest::Approx(v[3 * 6 + 1] + 1));
  CHECK(r3.at<float>({1, 4}) == doctest::Approx(v[2 * 6 + 4] - v[1 * 6 + 4]));
  CHECK(base.isContiguous());
  CHECK(d.kernels() == 3);
}

TEST_CASE("views of pending tensors") {
  Tensor a = fromVector(ramp(6), {2, 3});
  std::vector<float> v = ramp(6);
  SUBCASE("a broadcast view stays in the graph") {
    Delta d;
    Tensor q = (a * 2.0).unsqueeze(0).expand({4, 2, 3}) + 1.0;
    CHECK(q.at<float>({3, 1, 2}) == doctest::Approx(2 * v[5] + 1));
    CHECK(d.kernels() == 1);
  }
  SUBCASE("a broadcast value that is also kept is computed once") {
    Delta d;
    Tensor p = a * 2.0; // kept: written by its own small kernel
    Tensor q = p.unsqueeze(0).expand({4, 2, 3}) + 1.0;
    CHECK(q.at<float>({3, 1, 2}) == doctest::Approx(2 * v[5] + 1));
    CHECK(d.realizes() == 1);
    CHECK(d.kernels() == 2);
    CHECK(p.at<float>({1, 2}) == doctest::Approx(2 * v[5]));
    CHECK(d.realizes() == 1);
  }
  SUBCASE("a transpose of a pending tensor stays in the graph") {
    Delta d;
    Tensor p = a * 2.0;
    Tensor q = p.T() + 1.0; // reads p through a trueno.transpose
    CHECK(d.realizes() == 0);
    CHECK(q.at<float>({2, 1}) == doctest::Approx(2 * v[5] + 1));
    CHECK(d.realizes() == 1);
    CHECK(d.kernels() == 1);
  }
}

TEST_CASE("views of pending values fuse: one kernel each") {
  Tensor a = fromVector(ramp(12), {3, 4});
  Tensor b = fromVector(ramp(12, 0.3f), {3, 4});
  std::vector<float> av = ramp(12), bv = ramp(12, 0.3f);
  SUBCASE("(a * b).mT().exp()") {
    Delta d;
    Tensor y = (a * b).mT().exp();
    std::vector<float> got = y.toVector<float>();
    CHECK(d.realizes() == 1);
    CHECK(d.kernels() == 1);
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 3; ++j)
        CHECK(got[i * 3 + j] ==
              doctest::Approx(std::exp(av[j * 4 + i] * bv[j * 4 + i]))
                  .epsilon(1e-6));
  }
  SUBCASE("x.reshape(..).relu()") {
    Delta d;
    Tensor y = (a - b).reshape({2, 6}).relu();
    std::vector<float> got = y.toVector<float>();
    CHECK(d.kernels() == 1);
    for (int i = 0; i < 12; ++i)
      CHECK(got[i] == std::max(av[i] - bv[i], 0.0f));
  }
  SUBCASE("a slice of a pending value, backwards with a step") {
    Delta d;
    Tensor y = (a + b).slice(1, {}, {}, -2).exp(); // (a + b)[:, ::-2]
    std::vector<float> got = y.toVector<float>();
    CHECK(y.shape() == Shape{3, 2});
    CHECK(d.kernels() == 1);
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 2; ++j)
        CHECK(got[i * 2 + j] == doctest::Approx(std::exp(av[i * 4 + 3 - 2 * j] +
                                                         bv[i * 4 + 3 - 2 * j]))
                                    .epsilon(1e-6));
  }
  SUBCASE("cat({a + 1, b * 2})") {
    Delta d;
    Tensor y = cat({a + 1.0, b * 2.0}, 0);
    std::vector<float> got = y.toVector<float>();
    CHECK(y.shape() == Shape{6, 4});
    CHECK(d.kernels() == 1);
    for (int i = 0; i < 12; ++i) {
      CHECK(got[i] == av[i] + 1);
      CHECK(got[12 + i] == bv[i] * 2);
    }
  }
  SUBCASE("a constant pad, a flip and a clone of pending values") {
    Delta d;
    Tensor y = pad(a * 3.0, {1, -2}, PadMode::Constant, 7.0);
    Tensor z = flip(b + 1.0, {0, 1});
    Tensor w = (a - 1.0).T().clone();
    trueno::sync();
    CHECK(d.realizes() == 3);
    CHECK(d.kernels() == 3);
    CHECK(y.shape() == Shape{3, 3});
    CHECK(y.at<float>({1, 0}) == 7.0f);
    CHECK(y.at<float>({1, 2}) == doctest::Approx(3 * av[4 + 1]));
    CHECK(z.at<float>({0, 0}) == doctest::Approx(bv[11] + 1));
    CHECK(w.isContiguous());
    CHECK(w.at<float>({3, 2}) == doctest::Approx(av[2 * 4 + 3] - 1));
  }
}

TEST_CASE("random chains of views of a pending value read what the same "
          "views of its realized value read") {
  // Each case: a pending p = x * 2 + 1, a chain of 1-4 random views, and
  // their sum with a fresh tensor (so the view is read by a kernel). The
  // same chain over the realized value gives the reference.
  unsigned seed = std::random_device{}();
  if (const char *fixed = std::getenv("TRUENO_TEST_SEED"))
    seed = static_cast<unsigned>(std::strtoul(fixed, nullptr, 10));
  MESSAGE("seed " << seed << " (TRUENO_TEST_SEED replays it)");
  std::mt19937 rng(seed);
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  bool tookDiagonal = false;
  auto randomView = [&](const Tensor &t) -> Tensor {
    std::int64_t rank = t.dim();
    switch (pick(0, 7)) {
    case 0: { // permute
      std::vector<std::int64_t> perm(rank);
      std::iota(perm.begin(), perm.end(), 0);
      std::shuffle(perm.begin(), perm.end(), rng);
      return t.permute(perm);
    }
    case 1: { // a slice with a step, maybe backwards
      std::int64_t d = pick(0, rank - 1), n = t.size(d);
      std::int64_t step = pick(1, 3) * (pick(0, 1) ? 1 : -1);
      return t.slice(d, pick(-n, n), {}, step);
    }
    case 2: // select
      return rank > 1 ? t.select(pick(0, rank - 1), 0) : t;
    case 3: { // a new dimension, broadcast to size 3
      std::int64_t d = pick(0, rank);
      Shape s = t.shape();
      s.insert(s.begin() + d, 3);
      return t.unsqueeze(d).expand(s);
    }
    case 4: // flatten when it is a view, else a transpose
      return t.isContiguous() ? t.flatten() : t.transpose(0, rank - 1);
    case 5: // narrow
    {
      std::int64_t d = pick(0, rank - 1), n = t.size(d);
      std::int64_t start = pick(0, n - 1);
      return t.narrow(d, start, pick(1, n - start));
    }
    case 6: // diagonal of the first two dimensions
      if (rank < 2)
        return t;
      tookDiagonal = true;
      return diagonal(t, pick(-1, 1), 0, 1);
    default: // reshape (a view or a copy, as PyTorch)
      return t.reshape({-1});
    }
  };
  for (int c = 0; c < 60; ++c) {
    Shape shape;
    for (std::int64_t r = pick(1, 4); r > 0; --r)
      shape.push_back(pick(1, 5));
    std::vector<float> values(numelOf(shape));
    for (auto &v : values)
      v = static_cast<float>(pick(-50, 50));
    Tensor x = fromVector(values, shape);
    Tensor pending = x * 2.0 + 1.0;
    Tensor realized = (x * 2.0 + 1.0).clone();
    trueno::sync(); // `realized` is computed; `pending` is too, but its
                    // views are taken below as views of a pending value
    pending = x * 2.0 + 1.0;
    Tensor pv = pending, rv = realized;
    tookDiagonal = false;
    for (std::int64_t k = pick(1, 4); k > 0; --k) {
      std::mt19937 before = rng;
      rv = randomView(rv);
      rng = before;
      pv = randomView(pv);
      if (rv.numel() == 0)
        break;
    }
    INFO("case " << c << ": base shape " << formatShape(shape) << ", view "
                 << formatShape(pv.shape()) << " strides "
                 << formatShape(pv.strides()) << " offset " << pv.offset());
    REQUIRE(pv.shape() == rv.shape());
    Tensor ones = onesLike(rv);
    std::vector<float> expected = (rv + ones).toVector<float>();
    Delta d;
    CHECK((pv + ones).toVector<float>() == expected);
    // One realize: these views are movement ops, never an early realize
    // (none for an empty view). A diagonal of two dimensions that a permute
    // separated is the exception: no window of a reshape reads it, and the
    // value is realized first.
    if (pv.numel() == 0)
      CHECK(d.realizes() == 0);
    else if (!tookDiagonal)
      CHECK(d.realizes() == 1);
  }
}

TEST_CASE("writes never change what a pending computation reads") {
  Tensor a = full({4}, 1.0f);
  SUBCASE("fill_") {
    Tensor y = a + 1.0; // pending, reads a
    a.fill_(100.0f);
    CHECK(y.toVector<float>() == std::vector<float>(4, 2.0f));
    CHECK(a.toVector<float>() == std::vector<float>(4, 100.0f));
  }
  SUBCASE("setAt through a view") {
    Tensor y = a * 3.0;
    a.slice(0, 1, 2).setAt({0}, 7.0f);
    CHECK(y.toVector<float>() == std::vector<float>(4, 3.0f));
    CHECK(a.at<float>({1}) == 7.0f);
  }
  SUBCASE("copy_ and data()") {
    Tensor y = a - 1.0;
    a.copy_(full({4}, 5.0f));
    float *p = a.data<float>();
    p[0] = -1.0f;
    CHECK(y.toVector<float>() == std::vector<float>(4, 0.0f));
  }
  SUBCASE("compound assignment updates every view") {
    Tensor view = a.slice(0, 0, 2);
    a += 2.0;
    CHECK(view.toVector<float>() == std::vector<float>(2, 3.0f));
    a *= a;
    CHECK(a.toVector<float>() == std::vector<float>(4, 9.0f));
  }
}

TEST_CASE("outputs that no kernel writes are copied") {
  Tensor x = fromVector(ramp(6), {2, 3});
  SUBCASE("a graph that folds to its input") {
    Tensor y = -(-x.T()); // canonicalization removes both negations
    CHECK(y.toVector<float>() == x.T().contiguous().toVector<float>());
    CHECK(y.isContiguous());
    CHECK(!y.sharesStorageWith(x));
  }
  SUBCASE("one value held twice") {
    Tensor p = x * 2.0;
    Tensor q = x * 2.0; // CSE makes p and q one value of one kernel
    Tensor r = p + q;
    std::vector<float> v = ramp(6);
    CHECK(r.at<float>({1, 2}) == doctest::Approx(4 * v[5]));
    CHECK(p.toVector<float>() == q.toVector<float>());
    CHECK(q.at<float>({0, 1}) == doctest::Approx(2 * v[1]));
    p.fill_(0.0f); // p and q have separate storage
    CHECK(q.at<float>({0, 1}) == doctest::Approx(2 * v[1]));
  }
}

TEST_CASE("long pending graphs are realized early") {
  Tensor x = full({8}, 0.0f);
  Delta d;
  for (int i = 0; i < 600; ++i)
    x = x + 1.0;
  // The runtime realized on its own before anything was read.
  CHECK(d.realizes() >= 2);
  CHECK(x.toVector<float>() == std::vector<float>(8, 600.0f));
}

TEST_CASE("empty and rank-0 tensors") {
  Tensor e = zeros({0, 3});
  Delta d;
  Tensor r = (e + 1.0).exp();
  CHECK(r.shape() == Shape{0, 3});
  CHECK(r.dtype() == kFloat32);
  CHECK(r.numel() == 0);
  CHECK(d.kernels() == 0);
  Tensor s = tensor(2.0f);
  Tensor t = s * s + tensor(1.0f);
  CHECK(t.dim() == 0);
  CHECK(t.item<float>() == 5.0f);
}

TEST_CASE("result dtypes follow PyTorch") {
  Tensor i8 = tensor({1, 2, 3}, kInt8);
  Tensor i32 = tensor({1, 2, 3}, kInt32);
  Tensor f16 = tensor({1.0, 2.0, 3.0}, kFloat16);
  Tensor b = tensor({true, false, true});
  CHECK((i8 + 300).dtype() == kInt8);    // an int scalar does not widen
  CHECK((i8 + 2.5).dtype() == kFloat32); // a float scalar does
  CHECK((i8 + i32).dtype() == kInt32);
  CHECK((i32 / 2).dtype() == kFloat32); // true division
  CHECK((i32 / 2).toVector<float>() == std::vector<float>{0.5f, 1.0f, 1.5f});
  CHECK((f16 * 2).dtype() == kFloat16);
  CHECK(i32.exp().dtype() == kFloat32);
  CHECK((i32 < 2.5).dtype() == kBool);
  CHECK((b + b).dtype() == kBool); // logical or
  CHECK((b + b).toVector<bool>() == std::vector<bool>{true, false, true});
  CHECK((b * b).toVector<bool>() == std::vector<bool>{true, false, true});
  CHECK((b + 1).dtype() == kInt64);
  CHECK(i32.floor().dtype() == kInt32);
  CHECK(i32.isnan().toVector<bool>() == std::vector<bool>(3, false));
  CHECK((~i8).toVector<int>() == std::vector<int>{-2, -3, -4});
  CHECK((~b).toVector<bool>() == std::vector<bool>{false, true, false});
  CHECK((tensor({250}, kUInt8) + tensor({10}, kUInt8)).item<int>() == 4);
  CHECK((tensor({-7}) % 3).item<int>() == 2); // Python's modulo
  CHECK(floorDivide(tensor({-7}), 2).item<int>() == -4);
  CHECK(where(i32 > 1, i32, 0.5).dtype() == kFloat32);
  // Two numbers: the default float dtype, or int64, as torch.where.
  CHECK(where(i32 > 1, -8.5, 2.5).dtype() == kFloat32);
  CHECK(where(i32 > 1, -8.5, 2.5).toVector<float>()[0] == 2.5f);
  CHECK(where(i32 > 1, 3, 4).dtype() == kInt64);
  CHECK(clamp(i32, 2).toVector<int>() == std::vector<int>{2, 2, 3});
  CHECK(clamp(i32, 1.5, 2.5).dtype() == kFloat32);
  CHECK(i32.to(kFloat64).dtype() == kFloat64);
}

TEST_CASE("bad operands are rejected at the call, naming both shapes") {
  Tensor a = zeros({2, 3});
  Tensor b = zeros({4});
  int line = __LINE__ + 1;
  std::string message = errorOf<ShapeError>([&] { (void)(a + b); });
  CHECK_CONTAINS(message, "add: shapes (2, 3) and (4,) cannot be broadcast");
  CHECK_CONTAINS(message, "LazyTest.cpp:" + std::to_string(line));
  CHECK_CONTAINS(errorOf<ShapeError>([&] { (void)where(a > 0, a, b); }),
                 "where: shapes");
  CHECK_CONTAINS(errorOf<DTypeError>([&] { (void)(a & a); }),
                 "bitwiseAnd is not defined for tensors of dtype float32");
  Tensor mask = tensor({true, false});
  CHECK_CONTAINS(errorOf<DTypeError>([&] { (void)-mask; }),
                 "use logicalNot() or ~ instead");
  CHECK_CONTAINS(errorOf<DTypeError>([&] { (void)(mask - mask); }),
                 "use logicalXor() or ^ instead");
  CHECK_CONTAINS(errorOf<DTypeError>([&] { (void)where(a, a, a); }),
                 "the condition must be a bool tensor, not float32");
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { (void)clamp(a, std::nullopt, std::nullopt); }),
      "clamp needs at least one bound");
  Tensor ints = tensor({1, 2});
  CHECK_CONTAINS(errorOf<DTypeError>([&] { ints /= 2; }),
                 "the result has dtype float32, which cannot be stored in "
                 "place in a tensor of dtype int64");
  Tensor row = zeros({3});
  CHECK_CONTAINS(errorOf<ShapeError>([&] { row += a; }),
                 "an in-place update cannot change the shape");
  CHECK_CONTAINS(errorOf<ValueError>([&] { (void)(Tensor() + a); }),
                 "the tensor is undefined");
  // Nothing was recorded or corrupted by the failed calls.
  CHECK(ints.toVector<int>() == std::vector<int>{1, 2});
}

TEST_CASE("threads may record and read concurrently") {
  std::vector<std::thread> threads;
  std::vector<float> results(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &results] {
      Tensor x = full({257}, float(t));
      for (int i = 0; i < 20; ++i)
        x = (x + 1.0) * 1.0;
      results[t] = x.at<float>({256});
    });
  for (auto &thread : threads)
    thread.join();
  for (int t = 0; t < 4; ++t)
    CHECK(results[t] == float(t + 20));
}

namespace {
/// Runs `fn` with TRUENO_DEBUG=`level` and returns what it wrote to stderr.
template <typename F> std::string stderrOf(const char *level, F &&fn) {
  return trueno::testing::outputOf({2}, [&] {
    setenv("TRUENO_DEBUG", level, 1);
    fn();
    unsetenv("TRUENO_DEBUG");
  });
}
} // namespace

TEST_CASE("TRUENO_DEBUG describes each realize and the fused kernels") {
  Tensor a = full({3, 5}, 2.0f); // a shape no other test compiles
  auto realize = [&] {
    Tensor y = (a * 3.0).exp(); // the temporary a * 3.0 is gone when read
    (void)y.at<float>({0, 0});
  };
  std::string miss = stderrOf("1", realize);
  // "compiled in", or "loaded from disk in" when an earlier run of this
  // test filled the disk kernel cache.
  CHECK_CONTAINS(miss, "trueno: realize: 2 ops, 2 inputs, 1 outputs -> 1 "
                       "kernel, cache miss, ");
  CHECK(miss.find("fused kernels") == std::string::npos);
  std::string hit = stderrOf("2", realize);
  CHECK_CONTAINS(hit, "-> 1 kernel, cache hit; host: graph and lookup");
  CHECK(hit.find("fused kernels") == std::string::npos); // nothing compiled
  Tensor b = full({3, 6}, 2.0f);
  std::string groups = stderrOf("2", [&] {
    (void)(b - 1.0).at<float>({0, 0});
  });
  CHECK_CONTAINS(groups, "// ---- trueno: fused kernels ----");
  CHECK_CONTAINS(groups, "trueno.sub");
  CHECK(stderrOf("0", realize).empty());
}

TEST_CASE("reductions: values, dtypes, fusion and errors") {
  Tensor x = arange(24, kFloat32).reshape({2, 3, 4});
  CHECK(x.sum().item<float>() == 276.0f);
  CHECK(x.sum({1}).shape() == Shape{2, 4});
  CHECK(x.sum({0, -1}, true).shape() == Shape{1, 3, 1});
  CHECK(x.mean({2}).toVector<float>() ==
        std::vector<float>{1.5f, 5.5f, 9.5f, 13.5f, 17.5f, 21.5f});
  CHECK(x.amax({1}).at<float>({1, 3}) == 23.0f);
  Tensor ints = tensor({{1, 2}, {3, 4}}, kInt8);
  CHECK(ints.sum().dtype() == kInt64); // as torch.sum
  CHECK(ints.prod({0}).toVector<std::int64_t>() ==
        std::vector<std::int64_t>{3, 8});
  CHECK((ints > 2).any({1}).toVector<bool>() == std::vector<bool>{false, true});
  CHECK(zeros({0, 3}).sum({0}).toVector<float>() == std::vector<float>(3, 0));
  // Large whole-tensor reductions are split into parallel partial ones.
  CHECK(full({1 << 20}, 0.5f).sum().item<float>() == 524288.0f);
  Tensor big = arange(1 << 17, kFloat64);
  CHECK(big.sum().item<double>() == 131072.0 * 131071.0 / 2);
  CHECK(big.amax().item<double>() == 131071.0);
  CHECK((-big).amin().item<double>() == -131071.0);
  CHECK(arange(1 << 17).prod().item<std::int64_t>() == 0);
  CHECK(std::isnan(zeros({0}).mean().item<float>()));
  // The elementwise producer runs inside the reduction's kernel; the
  // consumer of the reduced value is a kernel of its own.
  Delta d;
  Tensor var = ((x - x.mean({2}, true)) * (x - x.mean({2}, true))).mean({2});
  CHECK(var.at<float>({1, 2}) == doctest::Approx(1.25f));
  CHECK(d.kernels() <= 4);

  CHECK_CONTAINS(errorOf<IndexError>([&] {
                   (void)x.sum({1, -2});
                 }),
                 "dimension 1 appears more than once");
  CHECK_CONTAINS(errorOf<IndexError>([&] { (void)x.sum({3}); }),
                 "dimension 3 is out of range for a tensor of rank 3");
  CHECK_CONTAINS(errorOf<DTypeError>([&] { (void)ints.mean(); }),
                 "mean is defined for floating tensors, not int8");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)zeros({2, 0}).amax({1});
                 }),
                 "cannot reduce over an empty dimension of shape (2, 0)");
}

TEST_CASE("matrix products: values, fused epilogue, views and errors") {
  Tensor a = arange(6, kFloat32).reshape({2, 3});
  Tensor b = arange(12, kFloat32).reshape({3, 4});
  CHECK(matmul(a, b).toVector<float>() ==
        std::vector<float>{20, 23, 26, 29, 56, 68, 80, 92});
  // Transposed views reach BLAS as a transpose flag, through strides.
  CHECK(matmul(b.mT(), a.mT()).toVector<float>() ==
        matmul(a, b).mT().contiguous().toVector<float>());
  CHECK(matmul(a, arange(3, kFloat32)).toVector<float>() ==
        std::vector<float>{5, 14});
  CHECK(dot(arange(3, kFloat64), arange(3, kFloat64)).item<double>() == 5.0);
  CHECK(outer(arange(2, kFloat32), arange(3, kFloat32)).shape() == Shape{2, 3});
  CHECK(matmul(a.to(kInt8), b.to(kInt8)).dtype() == kInt8);
  CHECK(matmul(a.to(kFloat16), b.to(kFloat16)).dtype() == kFloat16);
  // Batches broadcast; several batch dimensions fold into one GEMM batch.
  Tensor batched = matmul(ones({2, 1, 3, 4}), ones({5, 4, 2}));
  CHECK(batched.shape() == Shape{2, 5, 3, 2});
  CHECK(batched.sum().item<float>() == 2 * 5 * 3 * 2 * 4.0f);
  CHECK(matmul(zeros({2, 0}), zeros({0, 3})).toVector<float>() ==
        std::vector<float>(6, 0.0f));

  // relu(x @ w.T + b) is one kernel: the GEMM and the in-place epilogue.
  Tensor x = randn({8, 16}), w = randn({4, 16}), bias = randn({4});
  Tensor want = matmul(x, w.mT()).contiguous();
  Delta d;
  Tensor y = relu(linear(x, w, bias));
  std::vector<float> got = y.toVector<float>();
  CHECK(d.kernels() == 1);
  std::vector<float> product = want.toVector<float>();
  std::vector<float> bv = bias.toVector<float>();
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 4; ++j)
      CHECK(got[i * 4 + j] ==
            doctest::Approx(std::max(0.0f, product[i * 4 + j] + bv[j])));
  CHECK(addmm(bias, x, w.mT(), 0.5, 2.0).shape() == Shape{8, 4});
  // Integer addmm takes beta and alpha as integers first (PyTorch: zeros).
  Tensor small = tensor({{1, 2}, {3, 4}});
  CHECK(addmm(small, small, small, 0.2, 0.6).toVector<std::int64_t>() ==
        std::vector<std::int64_t>{0, 0, 0, 0});
  CHECK(addmm(small, small, small, 1.5, 2.7).toVector<std::int64_t>() ==
        std::vector<std::int64_t>{15, 22, 33, 48});
  // outer multiplies elements: bools are an and, as torch.outer.
  CHECK(outer(tensor({true, false}), tensor({true, true})).toVector<bool>() ==
        std::vector<bool>{true, true, false, false});
  CHECK(linear(randn({2, 3, 16}), w).shape() == Shape{2, 3, 4});

  CHECK_CONTAINS(errorOf<ShapeError>([&] { (void)matmul(a, a); }),
                 "cannot multiply shapes (2, 3) and (2, 3) (3 != 2)");
  CHECK_CONTAINS(errorOf<ShapeError>([&] { (void)matmul(a, a); }),
                 "transpose one with mT()");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)matmul(ones({2, 3, 4}), ones({3, 4, 5}));
                 }),
                 "the batch dimensions of shapes (2, 3, 4) and (3, 4, 5) do "
                 "not broadcast");
  CHECK_CONTAINS(errorOf<ShapeError>([&] { (void)matmul(a, full({}, 2.0f)); }),
                 "both operands need at least one dimension");
  CHECK_CONTAINS(errorOf<DTypeError>([&] { (void)matmul(a > 1, a.mT() > 1); }),
                 "matmul is not defined for bool tensors");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)dot(arange(3, kFloat32), arange(4, kFloat32));
                 }),
                 "needs two vectors of one length, got shapes (3,) and (4,)");
  CHECK_CONTAINS(errorOf<ShapeError>([&] { (void)linear(x, w.mT(), bias); }),
                 "input of shape (8, 16) does not match a weight of shape "
                 "(16, 4)");
  CHECK_CONTAINS(errorOf<ShapeError>([&] { (void)linear(x, w, ones({5})); }),
                 "a bias of shape (5,) does not match a weight of shape (4, "
                 "16)");
  CHECK_CONTAINS(
      errorOf<ShapeError>([&] { (void)addmm(ones({3}), x, w.mT()); }),
      "input of shape (3,) does not broadcast to the product's "
      "shape (8, 4)");
}

TEST_CASE("softmax, logSoftmax and logsumexp: values, kernels and errors") {
  Tensor x = arange(8, kFloat32).reshape({2, 4});
  std::vector<float> y = softmax(x, 1).toVector<float>();
  float total = 0;
  for (int j = 0; j < 4; ++j)
    total += y[j];
  CHECK(total == doctest::Approx(1.0f));
  CHECK(y[3] ==
        doctest::Approx(std::exp(3.0f) / (1 + std::exp(1.0f) + std::exp(2.0f) +
                                          std::exp(3.0f))));
  // Large inputs do not overflow: the row maximum is subtracted first.
  CHECK(softmax(full({3}, 1000.0f), 0).toVector<float>() ==
        std::vector<float>(3, 1.0f / 3));
  CHECK(logSoftmax(x, 0).at<float>({0, 0}) ==
        doctest::Approx(-4 - std::log1p(std::exp(-4.0f))));
  CHECK(logsumexp(full({2}, 1000.0f)).item<float>() ==
        doctest::Approx(1000 + std::log(2.0f)));
  CHECK(logsumexp(arange(3), {0}).dtype() == kFloat32);
  CHECK(softmax(x.to(kFloat16), -1).dtype() == kFloat16);
  // A row with NaN is NaN (its maximum is taken with NaN replaced, which
  // the sum of exp(NaN - m) makes up for); the other rows are untouched.
  float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor holes = tensor({{1.f, nan, 2.f}, {nan, nan, nan}, {-5.f, 0.f, 5.f}});
  for (bool logarithm : {false, true}) {
    std::vector<float> s =
        (logarithm ? logSoftmax(holes, 1) : softmax(holes, 1))
            .toVector<float>();
    for (int i = 0; i < 6; ++i)
      CHECK(std::isnan(s[i]));
    float want = logarithm ? -std::log(std::exp(-10.f) + std::exp(-5.f) + 1)
                           : 1.f / (std::exp(-10.f) + std::exp(-5.f) + 1);
    CHECK(s[8] == doctest::Approx(want));
  }

  // One kernel: the row maximum, the sum of exponentials and the
  // normalized result (which recomputes exp rather than storing it) run a
  // block of rows at a time.
  Tensor big = randn({64, 300});
  trueno::sync();
  Delta d;
  Tensor p = softmax(big, 1);
  (void)p.toVector<float>();
  CHECK(d.kernels() == 1);

  // After a product in the same graph (the product stays one GEMM before
  // the blocks of rows): the same values as from the realized product.
  Tensor lhs = randn({512, 64}), rhs = randn({64, 256});
  Tensor logits = matmul(lhs, rhs);
  Tensor fused = logSoftmax(logits, 1), fusedSoft = softmax(logits, 1);
  (void)fused.toVector<float>();
  Tensor realized = matmul(lhs, rhs);
  (void)realized.toVector<float>();
  CHECK((fused - logSoftmax(realized, 1)).abs().amax().item<float>() == 0.0f);
  CHECK((fusedSoft - softmax(realized, 1)).abs().amax().item<float>() == 0.0f);

  CHECK_CONTAINS(errorOf<DTypeError>([&] { (void)softmax(arange(3), 0); }),
                 "softmax is defined for floating tensors, not int64");
  CHECK_CONTAINS(errorOf<IndexError>([&] { (void)softmax(x, 2); }),
                 "dimension 2 is out of range");
  CHECK_CONTAINS(errorOf<IndexError>([&] {
                   (void)logsumexp(x, {0, 0});
                 }),
                 "dimension 0 appears more than once");
}

TEST_CASE("conv2d: values, fused bias, unbatched input and errors") {
  Tensor x = arange(16, kFloat32).reshape({1, 1, 4, 4});
  Tensor w = ones({1, 1, 2, 2});
  CHECK(conv2d(x, w).toVector<float>() ==
        std::vector<float>{10, 14, 18, 26, 30, 34, 42, 46, 50});
  // Zero padding 1 and stride 2: the corners see one or two inputs.
  CHECK(conv2d(x, w, std::nullopt, {2, 2}, {1, 1}).toVector<float>() ==
        std::vector<float>{0, 3, 3, 12, 30, 18, 12, 27, 15});
  // Two groups: each output channel sees only its own input channel.
  Tensor pair = ones({1, 2, 3, 3});
  pair.select(1, 1).fill_(2.0f);
  CHECK(
      conv2d(pair, ones({2, 1, 3, 3}), std::nullopt, {1, 1}, {0, 0}, {1, 1}, 2)
          .toVector<float>() == std::vector<float>{9, 18});
  // An unbatched (C, H, W) input gives a (F, OH, OW) result.
  CHECK(conv2d(x.select(0, 0), w).shape() == Shape{1, 3, 3});
  // The bias and relu run in the convolution's kernel.
  Tensor images = randn({4, 3, 9, 9}), filters = randn({5, 3, 3, 3}),
         bias = randn({5});
  trueno::sync();
  Delta d;
  Tensor y = relu(conv2d(images, filters, bias, {1, 1}, {1, 1}));
  (void)y.toVector<float>();
  CHECK(d.kernels() == 1);
  CHECK(y.shape() == Shape{4, 5, 9, 9});

  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)conv2d(images, ones({5, 2, 3, 3}));
                 }),
                 "a weight of shape (5, 2, 3, 3) with groups = 1 expects 2 "
                 "input channels, but the input of shape (4, 3, 9, 9) has 3");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)conv2d(images, ones({5, 3, 11, 3}));
                 }),
                 "the kernel spans 11 (size 11, dilation 1) along dimension "
                 "2, more than the padded input's 9");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)conv2d(images, filters, std::nullopt, {0, 1});
                 }),
                 "got stride (0, 1)");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)conv2d(images, ones({4, 1, 3, 3}), std::nullopt,
                                {1, 1}, {0, 0}, {1, 1}, 2);
                 }),
                 "groups = 2 does not divide 3 input and 4 output channels");
  CHECK_CONTAINS(errorOf<DTypeError>([&] {
                   (void)conv2d(images.to(kInt32), filters.to(kInt32));
                 }),
                 "conv2d is defined for floating tensors, not int32");
  // A float bias does not make integer operands a float convolution.
  CHECK_CONTAINS(errorOf<DTypeError>([&] {
                   (void)conv2d(images.to(kInt64), filters.to(kInt64),
                                ones({filters.size(0)}));
                 }),
                 "not int64 (with a float32 bias)");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)conv2d(ones({9, 9}), filters);
                 }),
                 "got an input of shape (9, 9)");
  CHECK_CONTAINS(
      errorOf<ShapeError>([&] { (void)conv2d(images, filters, ones({4})); }),
      "a bias of shape (4,) does not match a weight of shape (5, "
      "3, 3, 3)");
}

TEST_CASE("var, std, norm, countNonzero, argmax and argmin") {
  Tensor x = tensor({{1.0f, 2.0f, 3.0f, 4.0f}, {2.0f, 2.0f, 2.0f, 2.0f}});
  CHECK(var(x, {1}).at<float>({0}) == doctest::Approx(5.0f / 3)); // Bessel's
  CHECK(var(x, {1}).at<float>({1}) == 0.0f);
  CHECK(var(x, {1}, 0).at<float>({0}) == doctest::Approx(1.25f));
  CHECK(stddev(x, {1}, 0, true).shape() == Shape{2, 1});
  // The divisor is max(0, N - correction), as PyTorch: 0/0 is NaN, x/0 inf.
  CHECK(std::isnan(var(full({1}, 1.0f), {}, 3).item<float>()));
  CHECK(std::isinf(var(tensor({1.0f, 2.0f}), {}, 2).item<float>()));
  CHECK(var(x.to(kFloat16)).dtype() == kFloat16);
  Tensor ties = tensor({{3, 1, 3}, {0, 0, -1}});
  CHECK(argmax(ties, 1).toVector<std::int64_t>() ==
        std::vector<std::int64_t>{0, 0}); // the first of equal maxima
  CHECK(argmin(ties, 1, true).shape() == Shape{2, 1});
  CHECK(argmin(ties).item<std::int64_t>() == 5); // of the flattened tensor
  Tensor nan = tensor({1.0f, NAN, 5.0f, NAN});
  CHECK(argmax(nan).item<std::int64_t>() == 1);
  CHECK(argmin(nan).item<std::int64_t>() == 1);

  CHECK(norm(tensor({3.0f, -4.0f})).item<float>() == 5.0f);
  CHECK(norm(tensor({3.0f, -4.0f}), INFINITY).item<float>() == 4.0f);
  CHECK(countNonzero(ties).item<std::int64_t>() == 4);
  CHECK_CONTAINS(errorOf<DTypeError>([&] { (void)norm(ties); }),
                 "norm is defined for floating tensors, not int64");
  CHECK_CONTAINS(errorOf<DTypeError>([&] { (void)var(ties); }),
                 "var is defined for floating tensors, not int64");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)argmax(zeros({2, 0}), 1);
                 }),
                 "cannot reduce dimension 1 of shape (2, 0), which is empty");
  CHECK_CONTAINS(errorOf<IndexError>([&] { (void)argmin(ties, 2); }),
                 "dimension 2 is out of range");
}

TEST_CASE("in-place add_, sub_, mul_, div_, clamp_, relu_") {
  Tensor x = arange(6, kFloat32).reshape({2, 3});
  Tensor row = x.select(0, 1); // a view: writes through x show in it
  Tensor before = x * 1.0;     // pending, reads the old values
  x.add_(1.0).mul_(tensor({1.0f, 2.0f, 3.0f})).sub_(0.5);
  CHECK(row.toVector<float>() == std::vector<float>{3.5f, 9.5f, 17.5f});
  CHECK(before.toVector<float>() ==
        std::vector<float>{0, 1, 2, 3, 4, 5}); // computed from the old values
  x.div_(2.0).clamp_(1.0, 5.0);
  CHECK(x.toVector<float>() ==
        std::vector<float>{1.0f, 1.75f, 4.25f, 1.75f, 4.75f, 5.0f});
  Tensor y = tensor({-1.0f, 2.0f});
  CHECK(y.relu_().toVector<float>() == std::vector<float>{0.0f, 2.0f});

  Tensor ints = arange(3);
  CHECK_CONTAINS(errorOf<DTypeError>([&] { ints.add_(0.5); }),
                 "the result has dtype float32, which cannot be stored in "
                 "place in a tensor of dtype int64");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   row.add_(ones({2, 3}));
                 }),
                 "an in-place update cannot change the shape");
}

TEST_CASE("activations and losses: values and errors") {
  Tensor x = tensor({-2.0f, 0.0f, 3.0f});
  CHECK(leakyRelu(x).toVector<float>() == std::vector<float>{-0.02f, 0, 3});
  CHECK(hardtanh(x).toVector<float>() == std::vector<float>{-1, 0, 1});
  CHECK(hardswish(x).at<float>({2}) == 3.0f);
  Tensor logits = tensor({{2.0f, 0.0f}, {0.0f, 2.0f}});
  Tensor target = tensor({0, 1});
  float want = std::log1p(std::exp(-2.0f));
  CHECK(crossEntropy(logits, target).item<float>() == doctest::Approx(want));
  CHECK(crossEntropy(logits, target, LossReduction::None).shape() == Shape{2});
  CHECK(mseLoss(x, zeros({3}), LossReduction::Sum).item<float>() == 13.0f);
  // log(0) is clamped at -100, as PyTorch.
  CHECK(binaryCrossEntropy(zeros({1}), ones({1})).item<float>() == 100.0f);

  CHECK_CONTAINS(errorOf<IndexError>([&] {
                   (void)nllLoss(logits, tensor({0, 2}));
                 }),
                 "target 2 at position 1 is out of range for 2 classes");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)crossEntropy(logits, tensor({0, 1, 1}));
                 }),
                 "input of shape (2, 2) and target of shape (3,) do not match");
  CHECK_CONTAINS(errorOf<DTypeError>([&] {
                   (void)nllLoss(logits, tensor({0.0f, 1.0f}));
                 }),
                 "the target must be an integer tensor, not float32");
  CHECK_CONTAINS(errorOf<ShapeError>([&] { (void)mseLoss(x, zeros({2})); }),
                 "input of shape (3,) and target of shape (2,) differ");
  CHECK_CONTAINS(errorOf<DTypeError>([&] { (void)elu(arange(3)); }),
                 "elu is defined for floating tensors, not int64");
  // low above high: every element is high, as in PyTorch and clamp.
  CHECK(hardtanh(x, 0.5, -0.5).toVector<float>() ==
        std::vector<float>{-0.5f, -0.5f, -0.5f});
}

TEST_CASE("in-place writes are recorded, not run at the call") {
  Tensor a = fromVector(ramp(12), {3, 4});
  std::vector<float> av = ramp(12);
  SUBCASE("20 parameters updated with pending gradients: one program") {
    std::vector<Tensor> params, grads;
    for (int i = 0; i < 20; ++i)
      params.push_back(full({16}, static_cast<float>(i)));
    trueno::sync();
    Delta d;
    Tensor x = fromVector(ramp(16), {16});
    for (int i = 0; i < 20; ++i) {
      Tensor g = (x * static_cast<double>(i)).exp(); // pending
      params[i] -= 0.5 * g;
    }
    CHECK(d.realizes() == 0);
    // The next read runs every pending update, in one program.
    float first = params[0].at<float>({3});
    CHECK(d.realizes() == 1);
    CHECK(first == doctest::Approx(0.0f - 0.5f * std::exp(0.0f)));
    for (int i = 0; i < 20; ++i)
      CHECK(params[i].at<float>({5}) ==
            doctest::Approx(static_cast<float>(i) -
                            0.5f * std::exp(ramp(16)[5] * i))
                .epsilon(1e-5));
    CHECK(d.realizes() == 1);
    // A second step of the same loop is a cache hit.
    Delta second;
    for (int i = 0; i < 20; ++i)
      params[i] -= 0.5 * (x * static_cast<double>(i)).exp();
    trueno::sync();
    CHECK(second.realizes() == 1);
    CHECK(second.misses() == 0);
  }
  SUBCASE("a loop of updates lists each tensor it writes once") {
    // Every realize walks that list: it grew by every write of every step
    // while the tensors stayed pending, and a realize's time with it (a
    // Fashion-MNIST step's host time tripled over 5000 steps).
    Tensor w = full({8}, 1.0f), v = zeros({8});
    for (int step = 0; step < 50; ++step) {
      w.mul_(0.5).add_(1.0);
      v.add_(w);
      if (step > 0) // earlier tests' entries go at the first realize
        CHECK(runtimeStats().pendingWrites <= 2);
      (void)v.sum().item<float>();
    }
    CHECK(runtimeStats().pendingWrites <= 2);
    CHECK(w.at<float>({0}) == doctest::Approx(2.0f));
    CHECK(v.at<float>({0}) == doctest::Approx(99.0f)); // sum of 2 - 2^-k
  }
  SUBCASE("add_, mul_, sub_, div_, copy_, fill_ and x -= y on pending values") {
    Tensor y = a * 2.0; // pending
    Delta d;
    y.add_(1.0);
    y.mul_(a);
    y -= a;
    y.div_(2.0);
    CHECK(d.realizes() == 0);
    std::vector<float> got = y.toVector<float>();
    CHECK(d.realizes() == 1);
    CHECK(d.kernels() == 1);
    for (int i = 0; i < 12; ++i)
      CHECK(
          got[i] ==
          doctest::Approx(((2 * av[i] + 1) * av[i] - av[i]) / 2).epsilon(1e-6));
    Tensor z = zeros({3, 4});
    Delta d2;
    z.copy_(a.exp());
    z.slice(1, 0, 2).fill_(-1.0f);
    CHECK(d2.realizes() == 0);
    CHECK(z.at<float>({1, 1}) == -1.0f);
    CHECK(z.at<float>({2, 3}) == doctest::Approx(std::exp(av[11])));
    CHECK(d2.realizes() == 1);
  }
  SUBCASE("pending readers keep the values from before the write") {
    Tensor p = a.clone();
    Tensor reader = p * 10.0; // reads p as it is now
    p.add_(100.0);            // recorded after the reader
    Tensor later = p * 10.0;  // reads the new p
    p.fill_(0.0f);            // p is read by `later`: recorded too
    CHECK(reader.at<float>({0, 1}) == doctest::Approx(10 * av[1]));
    CHECK(later.at<float>({0, 1}) == doctest::Approx(10 * (av[1] + 100)));
    CHECK(p.at<float>({0, 1}) == 0.0f);
  }
  SUBCASE("a write through a view (aliasing): transposed, stepped, selected") {
    Tensor p = a.clone();
    Tensor before = p + 0.0;
    p.T().slice(0, 1, 4, 2).copy_(full({2, 3}, 7.0f)); // columns 1 and 3
    p.select(0, 2).mul_(-1.0);                         // row 2
    Tensor view = p.slice(1, {}, {}, -1);              // a view, read later
    CHECK(p.at<float>({0, 1}) == 7.0f);
    CHECK(p.at<float>({1, 3}) == 7.0f);
    CHECK(p.at<float>({1, 0}) == doctest::Approx(av[4]));
    CHECK(p.at<float>({2, 0}) == doctest::Approx(-av[8]));
    CHECK(p.at<float>({2, 1}) == -7.0f);
    CHECK(view.at<float>({0, 0}) == 7.0f); // p[0, 3]
    CHECK(before.toVector<float>() == av);
  }
  SUBCASE("a write through one view is seen by every other view") {
    Tensor p = zeros({4, 4});
    Tensor row = p.select(0, 1);
    Tensor col = p.select(1, 2);
    Tensor g = fromVector(ramp(4), {4}).exp(); // pending
    row.copy_(g);
    CHECK(col.at<float>({1}) == doctest::Approx(std::exp(ramp(4)[2])));
    CHECK(p.sum().item<float>() ==
          doctest::Approx(std::exp(ramp(4)[0]) + std::exp(ramp(4)[1]) +
                          std::exp(ramp(4)[2]) + std::exp(ramp(4)[3])));
  }
  SUBCASE("indexPut_ with a mask, with integer arrays, accumulating") {
    Tensor p = a.clone();
    Tensor reader = p + 0.0;
    Delta d;
    p.indexPut_({p < 0.0}, 0.0); // x[x < 0] = 0
    p.indexPut_({tensor({0, 2, 0}), tensor({1, 1, 1})},
                fromVector(std::vector<float>{5, 6, 7}, {3}), true);
    p.maskedFill_(p > 0.5, 9.0);
    CHECK(d.realizes() <= 1); // the integer arrays are read at the call
    std::vector<float> got = p.toVector<float>();
    std::vector<float> want = av;
    for (float &v : want)
      v = std::max(v, 0.0f);
    want[1] += 5 + 7; // (0, 1) twice
    want[9] += 6;     // (2, 1)
    for (float &v : want)
      if (v > 0.5f)
        v = 9.0f;
    CHECK(got == want);
    CHECK(reader.toVector<float>() == av);
  }
  SUBCASE("scatter_ and scatterAdd_ in place, with a pending source") {
    Tensor p = zeros({3, 2});
    Tensor reader = p + 1.0;
    Tensor index = tensor({{0, 1}, {0, 2}});
    Tensor src = fromVector(ramp(4), {2, 2}).exp();
    p.scatterAdd_(0, index, src);
    p.scatter_(0, tensor({{2, 2}}), full({1, 2}, -1.0f));
    std::vector<float> r = ramp(4);
    CHECK(p.at<float>({0, 0}) ==
          doctest::Approx(std::exp(r[0]) + std::exp(r[2])));
    CHECK(p.at<float>({1, 1}) == doctest::Approx(std::exp(r[1])));
    CHECK(p.at<float>({2, 1}) == -1.0f);
    CHECK(reader.toVector<float>() == std::vector<float>(6, 1.0f));
  }
  SUBCASE("data() of a tensor with pending readers copies, they keep theirs") {
    Tensor p = full({4}, 3.0f);
    Tensor reader = p * 2.0;
    float *raw = p.data<float>();
    raw[0] = -5.0f;
    CHECK(reader.toVector<float>() == std::vector<float>(4, 6.0f));
    CHECK(p.at<float>({0}) == -5.0f);
  }
}

TEST_CASE("errors raised when a pending value is computed name the line that "
          "recorded it") {
  // 2^40 float32 elements (4 TiB): recorded at once, refused by the
  // allocator when read.
  Tensor huge = ones({1}).expand({std::int64_t(1) << 40});
  int line = __LINE__ + 1;
  Tensor y = huge + 1.0f;
  std::string message =
      testing::errorOf<MemoryError>([&] { (void)y.at<float>({0}); });
  CHECK_CONTAINS(message, "realize: cannot allocate 4398046511104 bytes");
  CHECK_CONTAINS(message, "for the add recorded here");
  CHECK_CONTAINS(message, "LazyTest.cpp:" + std::to_string(line));
}

TEST_CASE("live and peak host memory, and a program's temporaries' lifetimes") {
  Tensor a = randn({1024, 256}); // 1 MiB
  trueno::sync();
  std::int64_t live = runtimeStats().liveHostBytes;
  CHECK(live >= (1 << 20));
  resetPeakMemoryStats();
  CHECK(runtimeStats().peakHostBytes == live);
  // A chain of products: each intermediate dies after the next product
  // reads it, so the peak holds two of them, not all five.
  Tensor w = randn({256, 256}) * 0.05;
  trueno::sync();
  resetPeakMemoryStats();
  std::int64_t before = runtimeStats().liveHostBytes;
  Tensor h = a;
  for (int i = 0; i < 5; ++i)
    h = h.matmul(w).tanh();
  trueno::sync();
  std::int64_t peak = runtimeStats().peakHostBytes - before;
  INFO("peak of the chain: " << peak);
  CHECK(peak < 4 * (1 << 20));
}
