//===- OptimTest.cpp - Optimizers' and schedulers' checks and state dicts -===//
//
// What the trajectories against PyTorch (test_train_vs_torch.py) do not
// reach: every option's domain and every bad parameter list (PyTorch's
// rules, with the caller's line), options by name, every optimizer's state
// dict round trip, each way a loaded state can be wrong (refused before
// anything changes), clipping's arguments, and the schedulers' arguments
// and less common modes, with PyTorch 1.13's numbers.
//
//===----------------------------------------------------------------------===//

#include "../unit/TestUtil.h"

#include <trueno/optim/Optimizer.h>
#include <trueno/optim/Scheduler.h>

#include <cmath>

using namespace trueno;
using trueno::testing::errorOf;

namespace {

std::string line(int n) { return "OptimTest.cpp:" + std::to_string(n); }

/// A state dict's values, for comparing two of them.
std::map<std::string, std::vector<double>>
values(const optim::StateDict &state) {
  std::map<std::string, std::vector<double>> out;
  for (const auto &[name, t] : state)
    out[name] = t.to(kFloat64).toVector<double>();
  return out;
}

/// Two parameters of different shapes with fixed gradients.
struct Params {
  Tensor w = full({2, 3}, 0.5).requiresGrad_();
  Tensor b = full({3}, -0.25).requiresGrad_();
  void grads(double scale) {
    w.setGrad(mul(arange(6).to(kFloat32).reshape({2, 3}), scale));
    b.setGrad(full({3}, -scale));
  }
  std::vector<Tensor> list() const { return {w, b}; }
};

/// Two steps with different gradients.
void twoSteps(Params &p, optim::Optimizer &opt) {
  for (double scale : {1.0, -0.5}) {
    p.grads(scale);
    opt.step();
  }
}

} // namespace

TEST_CASE("optimizers refuse what PyTorch refuses, naming the caller's line") {
  Tensor leaf = zeros({2}).requiresGrad_();
  Tensor other = zeros({3}).requiresGrad_();
  // No parameters at all (PyTorch: "optimizer got an empty parameter list").
  int at = __LINE__ + 2;
  std::string msg =
      errorOf<ValueError>([] { optim::SGD(std::vector<Tensor>{}); });
  CHECK_CONTAINS(msg, "SGD: got an empty parameter list");
  CHECK_CONTAINS(msg, line(at));
  CHECK_CONTAINS(errorOf<ValueError>([] {
                   optim::Adam(
                       std::vector<optim::ParamGroup<optim::AdamOptions>>{});
                 }),
                 "Adam: got an empty parameter list");
  // A group may be empty when another is not.
  optim::RMSprop mixed(std::vector<optim::ParamGroup<optim::RMSpropOptions>>{
      {{}, {}}, {{leaf}, {.lr = 0.5}}});
  CHECK(mixed.groupCount() == 2);
  CHECK(mixed.learningRate(1) == 0.5);
  // Undefined, integer and not-requiring-grad tensors (PyTorch accepts the
  // last and skips it while its grad is None; Trueno asks for the flag).
  for (const Tensor &bad : {Tensor(), arange(3), zeros({2})})
    CHECK_CONTAINS(errorOf<ValueError>([&] {
                     optim::Adagrad({other, bad});
                   }),
                   "parameter 1 of group 0 is not a floating-point leaf that "
                   "requires grad");
  // Twice in one group (PyTorch warns it "will cause an error").
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   optim::SGD({leaf, other, leaf});
                 }),
                 "SGD: parameter 2 of group 0 is parameter 0 too");
  // Each option's domain, as each torch.optim constructor checks it.
  struct Case {
    std::function<void()> make;
    const char *message;
  };
  std::vector<Case> cases = {
      {[&] { optim::SGD({leaf}, {.momentum = -0.5}); },
       "SGD: momentum must be >= 0, got -0.5"},
      {[&] { optim::SGD({leaf}, {.weightDecay = -1}); },
       "SGD: weightDecay must be >= 0, got -1"},
      {[&] { optim::SGD({leaf}, {.lr = NAN}); },
       "SGD: lr must be >= 0, got nan"},
      {[&] {
         optim::SGD({leaf},
                    {.momentum = 0.9, .dampening = 0.1, .nesterov = true});
       },
       "Nesterov momentum requires a momentum and zero dampening"},
      {[&] { optim::Adam({leaf}, {.lr = -1}); },
       "Adam: lr must be >= 0, got -1"},
      {[&] { optim::Adam({leaf}, {.eps = -1e-8}); },
       "Adam: eps must be >= 0, got -1e-08"},
      {[&] { optim::Adam({leaf}, {.beta1 = -0.1}); },
       "Adam: beta1 must be in [0, 1), got -0.1"},
      {[&] { optim::Adam({leaf}, {.beta2 = 1.0}); },
       "Adam: beta2 must be in [0, 1), got 1"},
      {[&] { optim::Adam({leaf}, {.weightDecay = -1}); },
       "Adam: weightDecay must be >= 0"},
      {[&] {
         optim::AdamW({{{leaf}, {.beta2 = 1.5}}});
       },
       "AdamW: beta2 must be in [0, 1), got 1.5"},
      {[&] { optim::RMSprop({leaf}, {.lr = -1}); }, "RMSprop: lr must be >= 0"},
      {[&] { optim::RMSprop({leaf}, {.alpha = -1}); },
       "RMSprop: alpha must be >= 0"},
      {[&] { optim::RMSprop({leaf}, {.eps = -1}); },
       "RMSprop: eps must be >= 0"},
      {[&] { optim::RMSprop({leaf}, {.weightDecay = -1}); },
       "RMSprop: weightDecay must be >= 0"},
      {[&] { optim::RMSprop({leaf}, {.momentum = -1}); },
       "RMSprop: momentum must be >= 0"},
      {[&] { optim::Adagrad({leaf}, {.lr = -1}); }, "Adagrad: lr must be >= 0"},
      {[&] { optim::Adagrad({leaf}, {.lrDecay = -1}); },
       "Adagrad: lrDecay must be >= 0"},
      {[&] { optim::Adagrad({leaf}, {.weightDecay = -1}); },
       "Adagrad: weightDecay must be >= 0"},
      {[&] { optim::Adagrad({leaf}, {.initialAccumulatorValue = -1}); },
       "Adagrad: initialAccumulatorValue must be >= 0"},
      {[&] { optim::Adagrad({leaf}, {.eps = -1}); },
       "Adagrad: eps must be >= 0"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    msg = errorOf<ValueError>(cases[i].make);
    CHECK_CONTAINS(msg, cases[i].message);
    // The caller's line, not the library's.
    CHECK_CONTAINS(msg, "OptimTest.cpp:");
  }
}

TEST_CASE("a parameter without a gradient is skipped and gets no state") {
  Params p;
  optim::SGD sgd(p.list(), {.lr = 0.1, .momentum = 0.9});
  p.w.setGrad(ones({2, 3}));
  sgd.step();
  for (float v : p.w.toVector<float>())
    CHECK(v == doctest::Approx(0.4));
  CHECK(p.b.toVector<float>() == std::vector<float>(3, -0.25f));
  optim::StateDict state = sgd.stateDict();
  CHECK(state.count("state.0.momentum_buffer"));
  CHECK(state.at("state.0.step").item<double>() == 1);
  for (const auto &[name, t] : state)
    CHECK_MESSAGE(!name.starts_with("state.1."), name);
  CHECK(state.at("param_groups.0.params").toVector<std::int64_t>() ==
        std::vector<std::int64_t>{0, 1});
}

TEST_CASE("options by their PyTorch names") {
  Params p;
  optim::SGD sgd(p.list(), {.lr = 0.1, .momentum = 0.9});
  CHECK(sgd.option(0, "momentum") == 0.9);
  CHECK(sgd.hasOption(0, "nesterov"));
  CHECK(!sgd.hasOption(0, "beta1"));
  CHECK_CONTAINS(errorOf<ValueError>([&] { (void)sgd.option(0, "beta1"); }),
                 "SGD: has no option \"beta1\"");
  optim::Adam adam(p.list());
  optim::AdamW adamw(
      std::vector<optim::ParamGroup<optim::AdamOptions>>{{p.list(), {}}});
  optim::RMSprop rmsprop(p.list());
  optim::Adagrad adagrad(p.list());
  for (optim::Optimizer *opt :
       std::vector<optim::Optimizer *>{&sgd, &adam, &adamw, &rmsprop, &adagrad})
    CHECK_CONTAINS(errorOf<ValueError>([&] { opt->setOption(0, "bogus", 1); }),
                   ".setOption: unknown option \"bogus\"");
  CHECK_CONTAINS(errorOf<ValueError>([&] { adamw.setOption(0, "bogus", 1); }),
                 "AdamW.setOption");
  adam.setOption(0, "beta2", 0.5);
  CHECK(adam.option(0, "beta2") == 0.5);
}

TEST_CASE("every optimizer's state dict restores its options and its "
          "trajectory") {
  struct Kind {
    std::string name;
    std::function<std::unique_ptr<optim::Optimizer>(Params &)> trained, fresh;
  };
  std::vector<Kind> kinds = {
      {"SGD nesterov maximize",
       [](Params &p) {
         return std::make_unique<optim::SGD>(
             p.list(), optim::SGDOptions{.lr = 0.1,
                                         .momentum = 0.9,
                                         .weightDecay = 0.01,
                                         .nesterov = true,
                                         .maximize = true});
       },
       [](Params &p) { return std::make_unique<optim::SGD>(p.list()); }},
      {"SGD dampening",
       [](Params &p) {
         return std::make_unique<optim::SGD>(
             p.list(), optim::SGDOptions{.momentum = 0.5, .dampening = 0.3});
       },
       [](Params &p) { return std::make_unique<optim::SGD>(p.list()); }},
      {"Adam maximize",
       [](Params &p) {
         return std::make_unique<optim::Adam>(
             p.list(), optim::AdamOptions{.lr = 0.05, .maximize = true});
       },
       [](Params &p) { return std::make_unique<optim::Adam>(p.list()); }},
      {"RMSprop centered momentum",
       [](Params &p) {
         return std::make_unique<optim::RMSprop>(
             p.list(), optim::RMSpropOptions{.lr = 0.02,
                                             .alpha = 0.9,
                                             .eps = 1e-6,
                                             .weightDecay = 0.1,
                                             .momentum = 0.5,
                                             .centered = true,
                                             .maximize = true});
       },
       [](Params &p) { return std::make_unique<optim::RMSprop>(p.list()); }},
      {"Adagrad",
       [](Params &p) {
         return std::make_unique<optim::Adagrad>(
             p.list(), optim::AdagradOptions{.lr = 0.2,
                                             .lrDecay = 0.1,
                                             .weightDecay = 0.05,
                                             .initialAccumulatorValue = 0.5,
                                             .eps = 1e-6,
                                             .maximize = true});
       },
       [](Params &p) { return std::make_unique<optim::Adagrad>(p.list()); }},
  };
  for (const Kind &kind : kinds) {
    INFO(kind.name);
    Params straight, resumed;
    auto a = kind.trained(straight);
    twoSteps(straight, *a);
    // The resumed run starts from the same parameters and state.
    {
      Params first;
      auto b = kind.trained(first);
      twoSteps(first, *b);
      {
        NoGradGuard noGrad;
        resumed.w.copy_(first.w);
        resumed.b.copy_(first.b);
      }
      auto c = kind.fresh(resumed);
      c->loadStateDict(b->stateDict());
      CHECK(values(c->stateDict()) == values(b->stateDict()));
      // Both take two more steps: the same values.
      twoSteps(straight, *a);
      twoSteps(resumed, *c);
      CHECK(resumed.w.toVector<float>() == straight.w.toVector<float>());
      CHECK(resumed.b.toVector<float>() == straight.b.toVector<float>());
    }
  }
}

TEST_CASE("a wrong optimizer state is refused before anything changes") {
  Params p;
  optim::SGD trained(p.list(), {.lr = 0.5, .momentum = 0.9});
  twoSteps(p, trained);
  const optim::StateDict good = trained.stateDict();
  optim::SGD sgd(p.list(), {.lr = 0.1, .momentum = 0.9});
  twoSteps(p, sgd);
  auto before = values(sgd.stateDict());
  auto refuse = [&]<typename E>(E *, const optim::StateDict &state) {
    std::string msg = errorOf<E>([&] { sgd.loadStateDict(state); });
    CHECK(values(sgd.stateDict()) == before);
    CHECK(sgd.learningRate(0) == 0.1);
    return msg;
  };
  auto with = [&](const std::string &key, Tensor value) {
    optim::StateDict s = good;
    s[key] = value;
    return s;
  };
  ValueError *value = nullptr;
  for (const char *key : {"foo", "state.x.momentum_buffer", "state.1a.step",
                          "state..step", "buffers.0.x"})
    CHECK_CONTAINS(
        refuse(value, with(key, zeros({}))),
        fmt::format("SGD.loadStateDict: unexpected key \"{}\"", key));
  CHECK_CONTAINS(refuse(value, with("state.0.momentum_buffer", Tensor())),
                 "\"state.0.momentum_buffer\" is undefined");
  CHECK_CONTAINS(refuse(value, with("state.7.momentum_buffer", zeros({3}))),
                 "\"state.7.momentum_buffer\" names parameter 7, but the "
                 "optimizer has 2");
  CHECK_CONTAINS(refuse(value, with("state.0.step", zeros({2}))),
                 "\"state.0.step\" must be a scalar");
  for (double step : {-1.0, double(NAN), 1e16})
    CHECK_CONTAINS(refuse(value, with("state.0.step", tensor(step))),
                   "\"state.0.step\" is not a step count");
  CHECK_CONTAINS(refuse(value, with("param_groups.3.lr", tensor(0.1))),
                 "\"param_groups.3.lr\" names group 3, but the optimizer "
                 "has 1");
  CHECK_CONTAINS(refuse(value, with("param_groups.0.lr", zeros({2}))),
                 "\"param_groups.0.lr\" must be a scalar");
  // An unknown option after known ones (lr would be 0.5): refused before
  // any is set.
  std::string msg = refuse(value, with("param_groups.0.zzz", tensor(1.0)));
  CHECK_CONTAINS(msg, "\"param_groups.0.zzz\" is not an option of SGD");
  CHECK_CONTAINS(msg, "hint: load a state saved by the same optimizer");
  optim::StateDict noOptions;
  for (const auto &[k, t] : good)
    if (k.starts_with("state."))
      noOptions[k] = t;
  CHECK_CONTAINS(refuse(value, noOptions),
                 "the state has no options for group 0");
  ShapeError *shape = nullptr;
  CHECK_CONTAINS(refuse(shape, with("state.1.momentum_buffer", zeros({5}))),
                 "state \"momentum_buffer\" of parameter 1 has shape (5,), "
                 "but the parameter has shape (3,)");
  // A good state loads, converted to the parameters' dtype.
  optim::StateDict wide = good;
  wide["state.1.momentum_buffer"] =
      good.at("state.1.momentum_buffer").to(kFloat64);
  sgd.loadStateDict(wide);
  CHECK(sgd.learningRate(0) == 0.5);
  CHECK(sgd.stateDict().at("state.1.momentum_buffer").dtype() == kFloat32);
}

TEST_CASE("clipping: norm types, values, and parameters without gradients") {
  Tensor a = zeros({2}).requiresGrad_(), b = zeros({1}).requiresGrad_(),
         none = zeros({3}).requiresGrad_();
  a.setGrad(tensor({3.0f, -4.0f}));
  b.setGrad(tensor({12.0f}));
  // torch.nn.utils.clip_grad_norm_(ps, 38.0, norm_type=1): 19, unclipped
  // below the norm, scaled by 9.5 / (19 + 1e-6) above it.
  CHECK(optim::clipGradNorm_({a, none, b}, 38.0, 1.0).item<double>() ==
        doctest::Approx(19.0));
  CHECK(a.grad().toVector<float>() == std::vector<float>{3, -4});
  CHECK(optim::clipGradNorm_({a, none, b}, 9.5, 1.0).item<double>() ==
        doctest::Approx(19.0));
  CHECK(b.grad().item<float>() == doctest::Approx(6.0).epsilon(1e-5));
  CHECK(!none.grad().defined());
  // Nothing to clip: a zero norm (as PyTorch).
  CHECK(optim::clipGradNorm_({none}, 1.0).item<double>() == 0.0);
  // PyTorch accepts norm type 0 (counting nonzeros) and negative ones;
  // Trueno asks for a positive norm.
  int at = __LINE__ + 2;
  std::string msg =
      errorOf<ValueError>([&] { optim::clipGradNorm_({a}, 1.0, 0); });
  CHECK_CONTAINS(msg, "clipGradNorm_: the norm type must be positive, got 0");
  CHECK_CONTAINS(msg, line(at));
  CHECK_CONTAINS(errorOf<ValueError>([&] { optim::clipGradValue_({a}, -1); }),
                 "clipGradValue_: the clip value must be >= 0, got -1");
  optim::clipGradValue_({a, none}, 1.0);
  CHECK(a.grad().toVector<float>() == std::vector<float>{1, -1});
}

TEST_CASE("schedulers check their arguments, naming the caller's line") {
  Tensor w = zeros({2}).requiresGrad_();
  optim::SGD sgd({w}, {.lr = 0.1});
  int at = __LINE__ + 1;
  std::string msg = errorOf<ValueError>([&] { optim::StepLR(sgd, 0); });
  CHECK_CONTAINS(msg, "StepLR: the step size must be positive, got 0");
  CHECK_CONTAINS(msg, line(at));
  at = __LINE__ + 1;
  msg = errorOf<ValueError>([&] { optim::CosineAnnealingLR(sgd, 0); });
  CHECK_CONTAINS(msg, "CosineAnnealingLR: tMax must be positive, got 0");
  CHECK_CONTAINS(msg, line(at));
  // PyTorch 1.13 takes a start factor of 0 (later versions refuse it).
  using Linear = std::tuple<double, double, std::int64_t>;
  for (auto [start, end, iters] : std::vector<Linear>{{0.0, 1.0, 5},
                                                      {1.5, 1.0, 5},
                                                      {0.5, 1.5, 5},
                                                      {0.5, -0.1, 5},
                                                      {0.5, 1.0, 0}}) {
    at = __LINE__ + 1;
    msg = errorOf<ValueError>([&] { optim::LinearLR(sgd, start, end, iters); });
    CHECK_CONTAINS(msg, "LinearLR: needs 0 < startFactor <= 1, 0 <= "
                        "endFactor <= 1 and totalIters > 0");
    CHECK_CONTAINS(msg, line(at));
  }
  using Cycle = std::tuple<double, std::int64_t, double>;
  for (auto [maxLr, total, pct] : std::vector<Cycle>{
           {0.1, 0, 0.3}, {0.1, 10, 0.0}, {0.1, 10, 1.0}, {0.0, 10, 0.3}})
    CHECK_CONTAINS(errorOf<ValueError>([&] {
                     optim::OneCycleLR(sgd, maxLr, total, {.pctStart = pct});
                   }),
                   "OneCycleLR: needs totalSteps > 0, 0 < pctStart < 1 and "
                   "maxLr > 0");
  for (double factor : {1.0, -0.5, double(NAN)})
    CHECK_CONTAINS(errorOf<ValueError>([&] {
                     optim::ReduceLROnPlateau(sgd, {.factor = factor});
                   }),
                   "ReduceLROnPlateau: the factor must be in [0, 1)");
  // Nothing above touched the rate.
  CHECK(sgd.learningRate(0) == 0.1);
}

TEST_CASE("lastLr has every group's rate") {
  Tensor a = zeros({2}).requiresGrad_(), b = zeros({2}).requiresGrad_();
  optim::SGD sgd({{{a}, {.lr = 0.1}}, {{b}, {.lr = 0.01}}});
  optim::StepLR step(sgd, 2, 0.5);
  CHECK(step.lastLr() == std::vector<double>{0.1, 0.01});
  step.step();
  step.step();
  CHECK(step.lastEpoch() == 2);
  CHECK(step.lastLr() == std::vector<double>{0.05, 0.005});
}

TEST_CASE("OneCycleLR cycles Adam's beta1 as PyTorch does") {
  Tensor w = zeros({2}).requiresGrad_();
  optim::Adam adam({w}, {.lr = 0.1});
  optim::OneCycleLR cycle(adam, 0.1, 10);
  // torch.optim.lr_scheduler.OneCycleLR(Adam([w], lr=0.1), 0.1, 10): the
  // rate and betas[0] before each of 10 steps.
  std::vector<double> lr = {0.0040000000000000036,
                            0.052000000000000005,
                            0.1,
                            0.09504846320134738,
                            0.0811745653949763,
                            0.06112620219362893,
                            0.03887419780637107,
                            0.0188258346050237,
                            0.004951936798652629,
                            4e-07};
  std::vector<double> beta1 = {0.95,
                               0.8999999999999999,
                               0.85,
                               0.854951556604879,
                               0.8688255099070633,
                               0.8888739533021842,
                               0.9111260466978157,
                               0.9311744900929366,
                               0.945048443395121,
                               0.95};
  for (int i = 0; i < 10; ++i) {
    CHECK(adam.learningRate(0) == doctest::Approx(lr[i]).epsilon(1e-12));
    CHECK(adam.options().beta1 == doctest::Approx(beta1[i]).epsilon(1e-12));
    cycle.step();
  }
}

TEST_CASE("ReduceLROnPlateau's modes agree with PyTorch's") {
  Tensor w = zeros({2}).requiresGrad_();
  auto run = [&](optim::PlateauOptions o, std::vector<double> metrics) {
    optim::SGD sgd({w}, {.lr = 1.0});
    optim::ReduceLROnPlateau plateau(sgd, o);
    std::vector<double> rates;
    for (double m : metrics) {
      plateau.step(m);
      rates.push_back(sgd.learningRate(0));
    }
    return rates;
  };
  // Each expectation is torch's ReduceLROnPlateau(SGD(lr=1), ...) over the
  // same metrics.
  CHECK(run({.maximize = true, .factor = 0.5, .patience = 1},
            {1, 2, 2, 2, 2, 2.0001, 2.5, 2.5, 2.5}) ==
        std::vector<double>{1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125});
  CHECK(run({.factor = 0.5,
             .patience = 0,
             .threshold = 0.25,
             .relativeThreshold = false},
            {5, 4.5, 4.2, 4.0, 3.95, 3.9, 3.0}) ==
        std::vector<double>{1.0, 1.0, 1.0, 0.5, 0.25, 0.25, 0.25});
  // Down to minLr, then no change smaller than eps.
  CHECK(run({.maximize = true,
             .factor = 0.5,
             .patience = 0,
             .threshold = 0.25,
             .relativeThreshold = false,
             .minLr = 0.2},
            {5, 4.5, 4.6, 4.7, 4.8, 4.9, 5.0}) ==
        std::vector<double>{1.0, 0.5, 0.25, 0.2, 0.2, 0.2, 0.2});
}
