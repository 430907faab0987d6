//===- AutogradTest.cpp - Gradients: API, semantics, errors, programs -----===//
//
// Known values of small gradients (derived by hand), the API's rules
// (accumulation, grad modes, detach, retainGrad, second derivatives), every
// error with its message and the caller's line, and what a training step
// compiles to (runtime counters). The randomized comparison of every op's
// gradient against torch.autograd and finite differences is
// tests/e2e/test_grads_vs_torch.py.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <cmath>

using namespace trueno;
using trueno::testing::Delta;
using trueno::testing::errorOf;

namespace {

std::vector<double> values(const Tensor &t) {
  return t.to(kFloat64).contiguous().toVector<double>();
}

void checkClose(const Tensor &t, const std::vector<double> &want,
                double tol = 1e-12) {
  std::vector<double> got = values(t);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    CHECK(got[i] == doctest::Approx(want[i]).epsilon(tol));
}

} // namespace

TEST_CASE("backward: gradients of a small expression, by hand") {
  Tensor x = tensor({1.0, 2.0, 3.0}, kFloat64).requiresGrad_();
  Tensor w = tensor({0.5, -1.0, 2.0}, kFloat64).requiresGrad_();
  CHECK(x.requiresGrad());
  CHECK(x.isLeaf());
  CHECK_FALSE(x.grad().defined());
  Tensor y = x.exp() * w;
  CHECK(y.requiresGrad());
  CHECK_FALSE(y.isLeaf());
  y.sum().backward();
  checkClose(x.grad(),
             {std::exp(1.0) * 0.5, -std::exp(2.0), std::exp(3.0) * 2});
  checkClose(w.grad(), {std::exp(1.0), std::exp(2.0), std::exp(3.0)});
  // A second backward accumulates.
  (x * x).sum().backward();
  checkClose(x.grad(), {std::exp(1.0) * 0.5 + 2, -std::exp(2.0) + 4,
                        std::exp(3.0) * 2 + 6});
  // setGrad(Tensor()) clears it, as `x.grad = None`.
  x.setGrad(Tensor());
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("broadcast operands get their gradient summed to their shape") {
  Tensor a =
      tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, kFloat64).requiresGrad_();
  Tensor b = tensor({10.0, 20.0, 30.0}, kFloat64).requiresGrad_();
  Tensor s = tensor(2.0, kFloat64).requiresGrad_();
  ((a * b + s) * s).sum().backward();
  checkClose(a.grad(), {20, 40, 60, 20, 40, 60});
  checkClose(b.grad(), {10, 14, 18});
  // d/ds sum(a b s + s^2) = sum(a b) + 2 s * 6.
  checkClose(s.grad(), {10 + 40 + 90 + 40 + 100 + 180 + 24.0});
}

TEST_CASE("matmul, relu at 0, amax ties and views") {
  Tensor a = tensor({{1.0, -2.0}, {0.0, 3.0}}, kFloat64).requiresGrad_();
  Tensor b = tensor({{1.0, 0.0}, {0.0, 1.0}}, kFloat64).requiresGrad_();
  matmul(a, b).relu().sum().backward();
  // relu'(0) = 0, as PyTorch: a[1][0] = 0 gets no gradient.
  checkClose(a.grad(), {1, 0, 0, 1});
  checkClose(b.grad(), {1, 0, -2, 3}); // a^T @ (a b > 0)
  Tensor x = tensor({3.0, 1.0, 3.0}, kFloat64).requiresGrad_();
  amax(x, {0}).backward(); // the tie splits the gradient
  checkClose(x.grad(), {0.5, 0, 0.5});
  Tensor m = tensor({{1.0, 2.0}, {3.0, 4.0}}, kFloat64).requiresGrad_();
  (m.T() * tensor({{1.0, 10.0}, {100.0, 1000.0}}, kFloat64)).sum().backward();
  checkClose(m.grad(), {1, 100, 10, 1000});
  Tensor v = tensor({1.0, 2.0, 3.0, 4.0}, kFloat64).requiresGrad_();
  v.slice(0, 1, std::nullopt, 2).sum().backward();
  checkClose(v.grad(), {0, 1, 0, 1});
}

TEST_CASE("cumprod through zeros: each product without one factor") {
  // y = (2, 0, 0, 0, 0). d sum(y) / d x_1 = x_0 + x_0 x_2 = 8; x_3 is a
  // second zero, so every later term of x_1 and every term of x_2, x_3, x_4
  // has a zero factor.
  Tensor x = tensor({2.0, 0.0, 3.0, 0.0, 5.0}, kFloat64).requiresGrad_();
  cumprod(x, 0).sum().backward();
  checkClose(x.grad(), {1, 8, 0, 0, 0});
  // Second derivatives along x_1: d/dx_1 of each gradient. x_3's gradient
  // x0 x1 x2 + x0 x1 x2 x4 has the zero x_1 as a factor, but its derivative
  // x0 x2 + x0 x2 x4 = 36 is not zero.
  Tensor y = tensor({2.0, 0.0, 3.0, 0.0, 5.0}, kFloat64).requiresGrad_();
  Tensor g = grad({cumprod(y, 0).sum()}, {y}, {}, std::nullopt, true)[0];
  Tensor along = tensor({0.0, 1.0, 0.0, 0.0, 0.0}, kFloat64);
  checkClose(grad({(g * along).sum()}, {y})[0], {4, 0, 2, 36, 0});
}

TEST_CASE("a realized value keeps what its gradient needs") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requiresGrad_();
  Tensor h = x * x;
  CHECK(values(h) == std::vector<double>{1, 4}); // realized here
  Tensor loss = (h * 3.0).sum();
  CHECK(loss.item<double>() == 15.0); // and the loss too
  loss.backward();
  checkClose(x.grad(), {6, 12});
}

TEST_CASE("grad(): gradients without accumulation, second derivatives") {
  Tensor x = tensor({1.0, 2.0, -1.0}, kFloat64).requiresGrad_();
  Tensor y = (x * x * x).sum();
  std::vector<Tensor> g = grad({y}, {x}, {}, std::nullopt, true);
  checkClose(g[0], {3, 12, 3});
  CHECK(g[0].requiresGrad());
  CHECK_FALSE(x.grad().defined());
  std::vector<Tensor> h = grad({g[0].sum()}, {x});
  checkClose(h[0], {6, 12, -6}); // d/dx sum(3 x^2) = 6 x
  // A Hessian-vector product of f = sum(x^2 * sin(x)).
  Tensor v = tensor({1.0, 0.5, -2.0}, kFloat64);
  Tensor f = (x * x * x.sin()).sum();
  Tensor gx = grad({f}, {x}, {}, std::nullopt, true)[0];
  Tensor hv = grad({(gx * v).sum()}, {x})[0];
  std::vector<double> xs = {1.0, 2.0, -1.0}, vs = {1.0, 0.5, -2.0}, want;
  for (int i = 0; i < 3; ++i) {
    double t = xs[i];
    want.push_back(
        vs[i] * (2 * std::sin(t) + 4 * t * std::cos(t) - t * t * std::sin(t)));
  }
  checkClose(hv, want, 1e-10);
  // An input the output does not use.
  Tensor unused = tensor({1.0}, kFloat64).requiresGrad_();
  CHECK_FALSE(grad({(x * 2).sum()}, {unused}, {}, std::nullopt, false, true)[0]
                  .defined());
}

TEST_CASE("second derivatives of a leaf whose value was pending when it was "
          "marked") {
  // The leaf's value (a cast) is computed with the first-order gradient
  // that is read here; the second grad must still find the leaf in that
  // gradient's graph (it once came back unused).
  Tensor x = tensor({0.5, -1.0, 2.0}, kFloat64).to(kFloat32).requiresGrad_();
  Tensor y = (x.exp() * 2.0).sum();
  Tensor g = grad({y}, {x}, {}, std::nullopt, true)[0];
  CHECK(g.sum().item<double>() ==
        doctest::Approx(2 * (std::exp(0.5) + std::exp(-1.0) + std::exp(2.0)))
            .epsilon(1e-6));
  std::vector<Tensor> h = grad({g.sum()}, {x});
  REQUIRE(h[0].defined());
  checkClose(h[0].to(kFloat64),
             {2 * std::exp(0.5), 2 * std::exp(-1.0), 2 * std::exp(2.0)}, 1e-6);
  // An op computed on the host (sort) realizes such a leaf before its
  // gradient is recorded: the gradient is still with respect to the leaf
  // (it was zero).
  Tensor w = tensor({3.0, 1.0, 2.0}, kFloat64).to(kFloat32).requiresGrad_();
  Tensor sorted = sort(w).values;
  Tensor gw =
      grad({(sorted * tensor({1.0, 10.0, 100.0}, kFloat32)).sum()}, {w})[0];
  checkClose(gw.to(kFloat64), {100, 1, 10}, 1e-6);
  // A write to the leaf is a new version: its node then is a new one.
  Tensor z = tensor({1.0, 2.0}, kFloat64).to(kFloat32).requiresGrad_();
  Tensor before = grad({(z * z).sum()}, {z})[0];
  checkClose(before.to(kFloat64), {2, 4}, 1e-6);
  {
    NoGradGuard off;
    z.mul_(3.0);
  }
  checkClose(grad({(z * z).sum()}, {z})[0].to(kFloat64), {6, 12}, 1e-6);
}

TEST_CASE("grad modes, detach and retainGrad") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requiresGrad_();
  {
    NoGradGuard off;
    CHECK_FALSE(isGradEnabled());
    CHECK_FALSE((x * 2).requiresGrad());
    {
      EnableGradGuard on;
      CHECK((x * 2).requiresGrad());
    }
    x.sub_(
        tensor({0.5, 0.5}, kFloat64)); // an update: allowed without recording
  }
  CHECK(isGradEnabled());
  checkClose(x, {0.5, 1.5});
  Tensor d = x.detach();
  CHECK_FALSE(d.requiresGrad());
  CHECK(d.sharesStorageWith(x));
  Tensor h = x * 2;
  h.retainGrad();
  ((h * d).sum() + (h * h).sum()).backward();
  // d is a constant: d/dx = 2 d + 8 x.
  checkClose(x.grad(), {2 * 0.5 + 8 * 0.5, 2 * 1.5 + 8 * 1.5});
  checkClose(h.grad(), {0.5 + 2 * 1.0, 1.5 + 2 * 3.0});
}

TEST_CASE("hooks on leaves see and may replace their gradient") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requiresGrad_();
  std::vector<double> seen;
  std::int64_t doubler =
      x.registerHook([](const Tensor &g) { return g * 2.0; });
  x.registerHook([&](const Tensor &g) {
    seen = values(g); // reading the pending gradient computes it
    return Tensor();  // undefined: keep it
  });
  (x * x).sum().backward();
  checkClose(x.grad(), {4, 8});
  CHECK(seen == std::vector<double>{4, 8});
  CHECK(x.removeHook(doubler));
  CHECK_FALSE(x.removeHook(doubler));
  x.setGrad(Tensor());
  (x * 3.0).sum().backward();
  checkClose(x.grad(), {3, 3});
  // trueno::grad() runs them too.
  checkClose(grad({(x * x).sum()}, {x})[0], {2, 4});
  Tensor h = x * 2;
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   h.slice(0, 0, 1).registerHook(
                       [](const Tensor &g) { return g; });
                 }),
                 "a hook on a view of a computed value is not supported");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   tensor({1.0}).registerHook(
                       [](const Tensor &g) { return g; });
                 }),
                 "this tensor does not require grad");
}

TEST_CASE(
    "hooks on computed values change the gradient below them, as PyTorch's") {
  // Values from torch 1.13 (register_hook on non-leaf tensors).
  Tensor x = tensor({0.5, -1.0, 2.0}, kFloat64).requiresGrad_();
  Tensor h1 = x * 2;
  h1.registerHook([](const Tensor &g) { return g * 3.0; });
  Tensor h2 = h1.exp();
  h2.registerHook([](const Tensor &g) { return g + 1.0; });
  ((h2 * h1).sum() + (h1 * h1).sum()).backward();
  checkClose(x.grad(), {60.929072912262804, -24.0, 2013.5334011931925});
  // A hook that returns nothing sees the gradient and keeps it.
  x.setGrad(Tensor());
  Tensor h = x * x;
  std::vector<double> seen;
  h.registerHook([&](const Tensor &g) {
    seen = g.toVector<double>();
    return Tensor();
  });
  (h * x).sum().backward();
  checkClose(x.grad(), {0.75, 3.0, 12.0});
  CHECK(seen == std::vector<double>{0.5, -1.0, 2.0});
  // trueno::grad() applies them too.
  Tensor w = tensor({1.0, 2.0, 3.0}, kFloat64).requiresGrad_();
  Tensor hw = w * w;
  hw.registerHook([](const Tensor &g) { return g * 10.0; });
  checkClose(grad({(hw * w).sum()}, {w})[0], {21, 84, 189});
  // A training step with a hooked activation is still one program, found
  // in the cache at the second step.
  Tensor p = tensor({0.3, -0.2}, kFloat64).requiresGrad_();
  auto step = [&] {
    Tensor a = (p * 2.0).tanh();
    a.registerHook([](const Tensor &g) { return g.clamp(-0.5, 0.5); });
    Tensor loss = (a * a).sum();
    p.setGrad(Tensor());
    loss.backward();
    {
      NoGradGuard noGrad;
      p.sub_(p.grad() * 0.1);
    }
    return loss.item<double>();
  };
  step();
  Delta d;
  step();
  CHECK(d.realizes() == 1);
  CHECK(d.misses() == 0);
}

TEST_CASE("gradient errors name the op, the shapes and the caller's line") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requiresGrad_();
  Tensor plain = tensor({1.0, 2.0}, kFloat64);
  int line = __LINE__ + 1;
  std::string msg = errorOf<ValueError>([&] { (x * 2).backward(); });
  CHECK_CONTAINS(msg, "backward: a gradient can be implied only for an output "
                      "of one element; output 0 has shape (2,)");
  CHECK_CONTAINS(msg, "AutogradTest.cpp:" + std::to_string(line));
  CHECK_CONTAINS(errorOf<ValueError>([&] { plain.sum().backward(); }),
                 "output 0 of shape () does not require grad");
  CHECK_CONTAINS(errorOf<ShapeError>([&] { (x * 2).backward(ones({3})); }),
                 "the gradient of shape (3,) does not match output 0 of "
                 "shape (2,)");
  CHECK_CONTAINS(
      errorOf<DTypeError>([&] {
        tensor({1, 2}).requiresGrad_();
      }),
      "only floating-point tensors can require gradients, not int64");
  CHECK_CONTAINS(errorOf<ValueError>([&] { (x * 2).requiresGrad_(false); }),
                 "only a leaf's flag can be changed");
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { ones({4}).narrow(0, 1, 2).requiresGrad_(); }),
      "call clone() first");
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { (void)grad({(x * 2).sum()}, {plain}); }),
      "input 0 of shape (2,) does not require grad");
  Tensor other = tensor({3.0}, kFloat64).requiresGrad_();
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { (void)grad({(x * 2).sum()}, {other}); }),
      "input 0 of shape (1,) was not used to compute the outputs");
  // Factors that are not unique have no gradient: the completion of a tall
  // matrix's complete Q, or of a non-square matrix's full U.
  Tensor m =
      tensor({{4.0, 1.0}, {1.0, 3.0}, {0.5, 2.0}}, kFloat64).requiresGrad_();
  const linalg::QrMode complete = linalg::QrMode::Complete;
  line = __LINE__ + 1;
  msg = errorOf<ValueError>([&] { (void)linalg::qr(m, complete); });
  CHECK_CONTAINS(msg, "the complete Q of a matrix of shape (3, 2) with more "
                      "rows than columns has no gradient");
  CHECK_CONTAINS(msg, "AutogradTest.cpp:" + std::to_string(line));
  CHECK_CONTAINS(errorOf<ValueError>([&] { (void)linalg::svd(m, true); }),
                 "the full u and vh of a matrix of shape (3, 2) have no "
                 "gradient");
  {
    NoGradGuard noGrad;
    CHECK(linalg::qr(m, complete).q.defined()); // no record
  }
  CHECK(linalg::svd(m.detach(), true).u.defined());
  CHECK(linalg::qr(m).q.requiresGrad()); // the reduced factors have one
  // In place on a leaf, outside NoGradGuard.
  line = __LINE__ + 1;
  msg = errorOf<ValueError>([&] { x.add_(1.0); });
  CHECK_CONTAINS(msg, "is (a view of) a leaf that requires grad");
  CHECK_CONTAINS(msg, "AutogradTest.cpp:" + std::to_string(line));
  CHECK_THROWS_AS(x.fill_(0.0), ValueError);
  // A second backward through a freed graph.
  Tensor loss = (x.exp() * 3.0).sum();
  loss.backward();
  line = __LINE__ - 2;
  msg = errorOf<ValueError>([&] { loss.backward(); });
  CHECK_CONTAINS(msg, "trying to compute gradients through the graph a second "
                      "time");
  CHECK_CONTAINS(msg, "pass retainGraph = true");
  // With retainGraph, twice is fine.
  Tensor kept = (x * 5.0).sum();
  x.setGrad(Tensor());
  kept.backward(Tensor(), true);
  kept.backward();
  checkClose(x.grad(), {10, 10});
  (void)line;
}

TEST_CASE("an SGD step of a 3-layer MLP is one program; the second step "
          "compiles nothing") {
  manualSeed(7);
  std::vector<Tensor> params = {
      (randn({16, 8}) * 0.3).requiresGrad_(),  zeros({16}).requiresGrad_(),
      (randn({12, 16}) * 0.3).requiresGrad_(), zeros({12}).requiresGrad_(),
      (randn({4, 12}) * 0.3).requiresGrad_(),  zeros({4}).requiresGrad_()};
  trueno::sync(); // the initial values computed: every step reads Inputs
  Tensor input = randn({32, 8});
  Tensor target = randint(0, 4, {32});
  auto step = [&] {
    Tensor h = linear(input, params[0], params[1]).relu();
    h = linear(h, params[2], params[3]).relu();
    Tensor loss = crossEntropy(linear(h, params[4], params[5]), target);
    for (Tensor &p : params)
      p.setGrad(Tensor());
    loss.backward();
    {
      NoGradGuard noGrad;
      for (Tensor &p : params)
        p.sub_(p.grad() * 0.1);
    }
    return loss;
  };
  Tensor first = step();
  Delta d;
  double l1 = first.item<double>(); // forward, backward and update: one run
  CHECK(d.realizes() == 1);
  // 25 kernels today (docs/PERFORMANCE.md): the forward products with
  // their epilogues, the loss's row reductions, the backward products and
  // the updates fused into their producers.
  INFO("kernels of one step: " << d.kernels());
  CHECK(d.kernels() <= 25);
  Delta d2;
  Tensor second = step();
  double l2 = second.item<double>();
  CHECK(d2.realizes() == 1);
  CHECK(d2.misses() == 0); // a cache hit: no MLIR built, nothing compiled
  CHECK(l2 < l1);
}

TEST_CASE("values realized before backward() are read, not computed again") {
  manualSeed(21);
  Tensor w = randn({48, 40}, kFloat64).requiresGrad_();
  Tensor x = randn({32, 48}, kFloat64);
  auto gradient = [&](bool readFirst) {
    w.setGrad(Tensor());
    Tensor h = x.matmul(w).tanh();
    Tensor loss = (h * h).sum();
    if (readFirst)
      (void)loss.item<double>(); // the forward runs; h is stored
    loss.backward();
    Delta d;
    Tensor g = w.grad().clone();
    trueno::sync();
    return std::pair{g, d.kernels()};
  };
  auto [fused, kernelsFused] = gradient(false);
  auto [stored, kernelsStored] = gradient(true);
  CHECK((fused - stored).abs().amax().item<double>() < 1e-12);
  // The gradient program reads h: no forward product is run again, so it
  // launches fewer kernels than forward and backward together.
  INFO("kernels: forward and backward "
       << kernelsFused << ", backward from stored " << kernelsStored);
  CHECK(kernelsStored < kernelsFused);
  // (From stored h: the derivative of tanh, x^T, the product, the clone.)
  CHECK(kernelsStored <= 4);
}

TEST_CASE("checkpoint: the same gradients, recomputed instead of kept") {
  manualSeed(31);
  std::vector<Tensor> w;
  for (int i = 0; i < 8; ++i)
    w.push_back((randn({512, 512}) * 0.05).requiresGrad_());
  Tensor x = randn({1024, 512});
  trueno::sync();
  auto layers = [&](const Tensor &in, int first, int count) {
    Tensor h = in;
    for (int i = first; i < first + count; ++i)
      h = h.matmul(w[static_cast<std::size_t>(i)]).tanh();
    return h;
  };
  // Returns the gradients and the most host memory in use during the step.
  auto step = [&](bool checkpointed) {
    for (Tensor &p : w)
      p.setGrad(Tensor());
    Tensor h = x;
    for (int segment = 0; segment < 4; ++segment)
      h = checkpointed ? checkpoint(
                             [&](const Tensor &in) {
                               return layers(in, 2 * segment, 2);
                             },
                             h)
                       : layers(h, 2 * segment, 2);
    Tensor loss = (h * h).mean();
    loss.backward();
    std::vector<Tensor> grads;
    for (Tensor &p : w)
      grads.push_back(p.grad());
    resetPeakMemoryStats();
    std::int64_t before = runtimeStats().liveHostBytes;
    trueno::sync();
    return std::pair{grads, runtimeStats().peakHostBytes - before};
  };
  auto [plain, plainPeak] = step(false);
  auto [recomputed, recomputedPeak] = step(true);
  for (std::size_t i = 0; i < plain.size(); ++i)
    CHECK((plain[i] - recomputed[i]).abs().amax().item<double>() <= 1e-6);
  // Each layer's result (2 MiB) is kept for its gradient; with four
  // checkpointed segments only the segments' outputs live through the
  // forward pass, and each segment's values are recomputed while its
  // gradient runs.
  INFO("peak during the step: " << plainPeak / (1 << 20) << " MiB kept, "
                                << recomputedPeak / (1 << 20)
                                << " MiB recomputed");
  CHECK(recomputedPeak < plainPeak);
  // The second checkpointed step is the same program (regions are numbered
  // per graph, not per call).
  Delta d;
  (void)step(true);
  CHECK(d.misses() == 0);
}

TEST_CASE("the autograd API's edge cases and misuse, each with its rule") {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requiresGrad_();
  // Several outputs: the gradient of their sum.
  checkClose(grad({(x * 2).sum(), (x * x).sum()}, {x})[0], {4, 6});
  checkClose(
      grad({x * 2, x * x}, {x},
           {tensor({1.0, 1.0}, kFloat64), tensor({0.5, 0.0}, kFloat64)})[0],
      {3, 2});
  CHECK_CONTAINS(errorOf<ValueError>([&] { (void)grad({}, {x}); }),
                 "grad: no outputs");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)grad({x * 2, x * 3}, {x}, {ones({2}, kFloat64)});
                 }),
                 "2 outputs but 1 output gradients");
  CHECK_CONTAINS(errorOf<DTypeError>([&] {
                   (x * 2).backward(tensor({1, 1}));
                 }),
                 "the gradient has dtype int64");
  // A float32 gradient for a float64 output is converted.
  Tensor y = x * 2;
  y.backward(ones({2}, kFloat32));
  checkClose(x.grad(), {2, 2});
  x.setGrad(Tensor());

  // requiresGrad_(false) turns a leaf back into a constant.
  Tensor leaf = tensor({3.0}, kFloat64).requiresGrad_();
  CHECK(leaf.isLeaf());
  leaf.requiresGrad_(false);
  CHECK_FALSE(leaf.requiresGrad());
  CHECK(leaf.isLeaf()); // as PyTorch: a tensor without grad is a leaf
  CHECK_FALSE((leaf * 2).requiresGrad());
  CHECK(tensor({1.0}).requiresGrad_(false).isLeaf());
  // A computed value that requires grad may be asked again; it is no leaf.
  Tensor computed = x * 2;
  CHECK(computed.requiresGrad_().requiresGrad());
  CHECK_FALSE(computed.isLeaf());
  // A leaf owns its storage: no detached alias, no transposed view.
  Tensor base = ones({2, 3}, kFloat64);
  CHECK_CONTAINS(errorOf<ValueError>([&] { base.detach().requiresGrad_(); }),
                 "is a view of a larger or differently laid out storage");
  CHECK_CONTAINS(errorOf<ValueError>([&] { base.T().requiresGrad_(); }),
                 "this tensor of shape (3, 2) is a view");

  // grad() of a computed value is undefined unless retainGrad() asked.
  Tensor h = x * 3;
  (h * h).sum().backward();
  CHECK_FALSE(h.grad().defined());
  x.setGrad(Tensor());
  // setGrad checks shape and dtype; clearing a gradient never set is fine.
  CHECK_CONTAINS(errorOf<ShapeError>([&] { x.setGrad(ones({3}, kFloat64)); }),
                 "a gradient of shape (3,) and dtype float64 for a tensor of "
                 "shape (2,) and dtype float64");
  CHECK_THROWS_AS(x.setGrad(ones({2}, kFloat32)), ShapeError);
  Tensor fresh = ones({2});
  fresh.setGrad(Tensor());
  CHECK_FALSE(fresh.grad().defined());
  fresh.setGrad(ones({2}) * 7.0);
  CHECK(fresh.grad().sum().item<float>() == 14.0f);

  // retainGrad: refused without grad, a no-op on leaves, idempotent.
  CHECK_CONTAINS(errorOf<ValueError>([&] { ones({2}).retainGrad(); }),
                 "retainGrad: this tensor does not require grad");
  x.retainGrad();
  Tensor r = x * x;
  r.retainGrad();
  r.retainGrad();
  r.sum().backward();
  checkClose(r.grad(), {1, 1});
  checkClose(x.grad(), {2, 4});
  x.setGrad(Tensor());

  // A retained value with a hook: its gradient is the hooked one, and so is
  // what grad() returns for it.
  Tensor k = x * 2;
  k.retainGrad();
  k.registerHook([](const Tensor &g) { return g * 10.0; });
  (k * k).sum().backward();
  checkClose(k.grad(), {40, 80});
  checkClose(x.grad(), {80, 160});
  x.setGrad(Tensor());
  Tensor k2 = x * 2;
  k2.registerHook([](const Tensor &g) { return g * 10.0; });
  checkClose(grad({(k2 * k2).sum()}, {k2})[0], {40, 80});

  // Hooks must be callables; computed values take them whole.
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   x.registerHook(std::function<Tensor(const Tensor &)>());
                 }),
                 "registerHook: the hook is empty");
  Tensor m = (ones({2, 3}, kFloat64).requiresGrad_() * 2);
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   m.T().registerHook([](const Tensor &g) { return g; });
                 }),
                 "a hook on a view of a computed value is not supported");
  CHECK_FALSE(ones({2}).removeHook(1));

  // checkpoint needs a callable that returns a tensor.
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)checkpoint(std::function<Tensor(const Tensor &)>(), x);
                 }),
                 "checkpoint: the function is empty");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)checkpoint(
                       std::function<Tensor(const std::vector<Tensor> &)>(),
                       {x});
                 }),
                 "checkpoint: the function is empty");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)checkpoint([](const Tensor &) { return Tensor(); }, x);
                 }),
                 "the function returned an undefined tensor");

  // A second backward through a graph whose output was realized names the
  // op that made it.
  Tensor loss = (x.exp() * 3.0).sum();
  (void)loss.item<double>();
  loss.backward();
  CHECK_CONTAINS(errorOf<ValueError>([&] { loss.backward(); }),
                 "went through the");
}
