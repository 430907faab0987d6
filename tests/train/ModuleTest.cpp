//===- ModuleTest.cpp - nn::Module, layers, initializers, optimizers
//-------===//
//
// What the PyTorch comparison (test_train_vs_torch.py) does not cover:
// registration and naming, state dicts and their errors, modes, the
// initializers' statistics, errors naming the caller's line, and that a
// training step is one program that the second step finds in the cache.
//
//===----------------------------------------------------------------------===//

#include "../unit/TestUtil.h"

#include <trueno/io/Checkpoint.h>
#include <trueno/nn/nn.h>
#include <trueno/optim/Optimizer.h>
#include <trueno/optim/Scheduler.h>

#include <cmath>

using namespace trueno;
using trueno::testing::Delta;
using trueno::testing::errorOf;

namespace {

/// A residual block: y = relu(x + conv(relu(bn(conv(x))))), the
/// "write your own forward" example of docs/TRAINING.md.
class Residual : public nn::Module {
public:
  explicit Residual(std::int64_t channels) : Module("Residual") {
    nn::ConvOptions same{.padding = {1, 1}, .bias = false};
    conv1 = registerModule("conv1",
                           nn::make<nn::Conv2d>(channels, channels, 3, same));
    bn = registerModule("bn", nn::make<nn::BatchNorm2d>(channels));
    conv2 = registerModule("conv2",
                           nn::make<nn::Conv2d>(channels, channels, 3, same));
  }
  Tensor forward(const Tensor &x, SourceLoc where) override {
    Tensor h = relu((*bn)(conv1->forward(x, where), where), where);
    return relu(add(x, conv2->forward(h, where), where), where);
  }
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn;
};

/// Same shape and the same values, bit for bit (after widening).
bool identical(const Tensor &a, const Tensor &b) {
  return a.shape() == b.shape() &&
         eq(a.to(kFloat64), b.to(kFloat64)).all().item<bool>();
}

std::vector<std::string>
names(const std::vector<std::pair<std::string, Tensor>> &named) {
  std::vector<std::string> out;
  for (const auto &[n, t] : named)
    out.push_back(n);
  return out;
}

} // namespace

TEST_CASE("modules name their parameters and buffers as PyTorch does") {
  manualSeed(3);
  nn::Sequential model{nn::make<nn::Linear>(4, 3), nn::make<nn::ReLU>(),
                       nn::make<Residual>(2),
                       nn::make<nn::Linear>(3, 1, false)};
  CHECK(names(model.namedParameters()) ==
        std::vector<std::string>{"0.weight", "0.bias", "2.conv1.weight",
                                 "2.bn.weight", "2.bn.bias", "2.conv2.weight",
                                 "3.weight"});
  CHECK(names(model.namedBuffers()) ==
        std::vector<std::string>{"2.bn.running_mean", "2.bn.running_var",
                                 "2.bn.num_batches_tracked"});
  nn::StateDict state = model.stateDict();
  CHECK(state.size() == 10);
  CHECK(state.at("2.bn.num_batches_tracked").dtype() == kInt64);
  CHECK(model.parameterCount() == 4 * 3 + 3 + 2 * 2 * 9 * 2 + 2 + 2 + 3);
  for (const Tensor &p : model.parameters())
    CHECK((p.requiresGrad() && p.isLeaf()));
  // A parameter shared by two layers is listed once.
  auto shared = nn::make<nn::Linear>(2, 2);
  nn::Sequential twice{shared, shared};
  CHECK(twice.parameters().size() == 2);
  // Modes reach every submodule.
  model.eval();
  for (auto &[name, m] : model.namedModules())
    CHECK(!m->isTraining());
  model.train();
  CHECK(model[2]->isTraining());
  CHECK_CONTAINS(
      model.toString(),
      "(2): Residual(\n    (conv1): Conv2d(2, 2, kernel_size=(3, 3)");
}

TEST_CASE("a residual block trains: its loss falls and batch norm's statistics "
          "move") {
  manualSeed(5);
  Residual block(3);
  optim::SGD sgd(block.parameters(), {.lr = 0.05, .momentum = 0.9});
  Tensor x = randn({4, 3, 6, 6}), target = randn({4, 3, 6, 6});
  double first = 0, last = 0;
  for (int step = 0; step < 5; ++step) {
    Tensor loss = mseLoss(block(x), target);
    sgd.zeroGrad();
    loss.backward();
    sgd.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  CHECK(last < first);
  CHECK(block.bn->numBatchesTracked.item<std::int64_t>() == 5);
  CHECK(block.bn->runningMean.abs().sum().item<double>() > 0);
}

TEST_CASE("loadStateDict checks keys and shapes before it changes anything") {
  manualSeed(1);
  nn::Linear a(3, 2), b(3, 2);
  b.loadStateDict(a.stateDict());
  CHECK(identical(b.weight, a.weight));
  nn::StateDict state = a.stateDict();
  state.erase("bias");
  state["extra"] = zeros({1});
  std::string msg = errorOf<ValueError>([&] { b.loadStateDict(state); });
  CHECK_CONTAINS(msg, "missing keys [bias], unexpected keys [extra]");
  CHECK_CONTAINS(msg, "strict = false");
  b.loadStateDict({{"bias", full({2}, 7.0)}}, false);
  CHECK(b.bias.at<float>({1}) == 7.0f);
  Tensor before = b.weight.clone();
  int line = __LINE__ + 2;
  msg = errorOf<ShapeError>([&] {
    b.loadStateDict({{"weight", zeros({2, 3})}, {"bias", zeros({3})}});
  });
  CHECK_CONTAINS(msg,
                 "\"bias\" has shape (3,) in the state but (2,) in the module");
  CHECK_CONTAINS(msg, "ModuleTest.cpp:" + std::to_string(line));
  CHECK(identical(b.weight, before)); // nothing was written
  // A float64 state loads into float32 parameters, converted.
  nn::StateDict wide;
  for (auto &[k, v] : a.stateDict())
    wide[k] = v.to(kFloat64);
  b.loadStateDict(wide);
  CHECK(b.weight.dtype() == kFloat32);
}

TEST_CASE("layer errors name the line that called the model") {
  nn::Sequential model{nn::make<nn::Linear>(4, 3)};
  Tensor x = ones({2, 5});
  int line = __LINE__ + 1;
  std::string msg = errorOf<ShapeError>([&] { (void)model(x); });
  CHECK_CONTAINS(msg, "ModuleTest.cpp:" + std::to_string(line));
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)nn::BatchNorm2d(3)(ones({2, 3}));
                 }),
                 "expected a 4-D input, got shape (2, 3)");
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { nn::Conv2d(3, 4, 3, {.groups = 2}); }),
      "must be divisible by groups (2)");
  CHECK_CONTAINS(errorOf<ValueError>(
                     [&] { nn::Module().forward(x, SourceLoc::current()); }),
                 "this module has no forward of its own");
  CHECK_CONTAINS(
      errorOf<DTypeError>([&] { (void)nn::Embedding(4, 2)(ones({3})); }),
      "indices must be integers");
  CHECK_CONTAINS(
      errorOf<IndexError>([&] { (void)nn::Embedding(4, 2)(tensor({4})); }),
      "out of range");
  nn::ModuleDict dict;
  dict.insert("head", nn::make<nn::Identity>());
  CHECK_CONTAINS(errorOf<IndexError>([&] { (void)dict["body"]; }),
                 "no module named \"body\" (it has [head])");
  CHECK_CONTAINS(errorOf<ValueError>(
                     [&] { dict.insert("head", nn::make<nn::Identity>()); }),
                 "the name \"head\" is registered already");
}

TEST_CASE("initializers follow PyTorch's formulas, reproducibly") {
  manualSeed(11);
  nn::Linear big(1000, 300);
  double bound = 1 / std::sqrt(1000.0);
  CHECK(big.weight.amax().item<double>() <= bound);
  CHECK(big.weight.amin().item<double>() >= -bound);
  // U(-b, b): mean 0, variance b^2 / 3 (300,000 draws: within 1%).
  CHECK(std::abs(big.weight.mean().item<double>()) < 0.01 * bound);
  CHECK(var(big.weight).item<double>() ==
        doctest::Approx(bound * bound / 3).epsilon(0.01));
  CHECK(big.bias.abs().amax().item<double>() <= bound);
  Tensor w = empty({256, 128, 3, 3});
  nn::init::kaimingNormal_(w, 0, nn::init::FanMode::FanIn,
                           nn::init::Nonlinearity::Relu);
  CHECK(stddev(w).item<double>() ==
        doctest::Approx(std::sqrt(2.0 / (128 * 9))).epsilon(0.01));
  nn::init::xavierUniform_(w);
  double xb = std::sqrt(6.0 / (128 * 9 + 256 * 9));
  CHECK(w.abs().amax().item<double>() <= xb);
  CHECK(nn::init::calculateGain(nn::init::Nonlinearity::Tanh) ==
        doctest::Approx(5.0 / 3));
  CHECK_CONTAINS(errorOf<ValueError>([&] { (void)nn::init::fans(zeros({3})); }),
                 "cannot compute fan in and fan out of a tensor of shape (3,)");
  // The same seed gives the same model.
  manualSeed(11);
  nn::Linear again(1000, 300);
  CHECK(identical(again.weight, big.weight));
}

TEST_CASE("a training step with Adam is one program; later steps and a new "
          "learning rate compile nothing") {
  manualSeed(2);
  nn::Sequential model{nn::make<nn::Linear>(8, 16), nn::make<nn::ReLU>(),
                       nn::make<nn::Linear>(16, 12), nn::make<nn::ReLU>(),
                       nn::make<nn::Linear>(12, 4)};
  optim::Adam adam(model.parameters(), {.lr = 1e-2});
  optim::StepLR schedule(adam, 1, 0.5);
  Tensor x = randn({32, 8}), y = randint(0, 4, {32});
  trueno::sync();
  auto step = [&] {
    Tensor loss = crossEntropy(model(x), y);
    adam.zeroGrad();
    loss.backward();
    adam.step();
    schedule.step();
    return loss.item<double>();
  };
  double l0 = step(); // state created, bias corrections of step 1
  double l1 = step();
  Delta d;
  double l2 = step();
  CHECK(d.realizes() == 1);
  CHECK(d.misses() == 0);
  // No launch per parameter: the six updates fuse into the step's kernels.
  INFO("kernels of an Adam step: " << d.kernels());
  CHECK(d.kernels() <= 30);
  CHECK(l2 < l0);
  (void)l1;
}

TEST_CASE("optimizers reject what PyTorch rejects") {
  Tensor leaf = zeros({2}).requiresGrad_();
  Tensor computed = leaf * 2;
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { optim::SGD({computed}); }),
      "parameter 0 of group 0 is not a floating-point leaf that requires grad");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   optim::SGD({{{leaf}, {}}, {{leaf}, {}}});
                 }),
                 "parameter 0 of group 1 is in an earlier group too");
  CHECK_CONTAINS(errorOf<ValueError>([&] { optim::SGD({leaf}, {.lr = -1}); }),
                 "lr must be >= 0, got -1");
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { optim::SGD({leaf}, {.nesterov = true}); }),
      "Nesterov momentum requires a momentum and zero dampening");
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { optim::Adam({leaf}, {.beta1 = 1.0}); }),
      "beta1 must be in [0, 1), got 1");
  optim::Adagrad adagrad({leaf});
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { optim::OneCycleLR(adagrad, 0.1, 10); }),
      "the optimizer has no momentum or beta1 to cycle");
  optim::SGD sgd({leaf});
  optim::OneCycleLR ok(sgd, 0.1, 10, {.cycleMomentum = false});
  CHECK(sgd.learningRate(0) == doctest::Approx(0.1 / 25));
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   for (int i = 0; i < 11; ++i)
                     ok.step();
                 }),
                 "stepped 11 times, past its 10 total steps");
}

TEST_CASE("a run resumed from a checkpoint continues exactly as the "
          "uninterrupted run") {
  auto makeModel = [] {
    return nn::make<nn::Sequential>(
        std::initializer_list<std::shared_ptr<nn::Module>>{
            nn::make<nn::Linear>(6, 10), nn::make<nn::Tanh>(),
            nn::make<nn::Linear>(10, 3)});
  };
  manualSeed(9);
  Tensor x = randn({16, 6}), y = randint(0, 3, {16});
  auto train = [&](nn::Module &m, optim::Optimizer &opt, int steps) {
    for (int i = 0; i < steps; ++i) {
      Tensor loss = crossEntropy(m(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      (void)loss.item<double>();
    }
  };
  manualSeed(4);
  auto straight = makeModel();
  optim::Adam a(straight->parameters(), {.lr = 0.01, .amsgrad = true});
  train(*straight, a, 5);

  manualSeed(4);
  auto first = makeModel();
  optim::Adam b(first->parameters(), {.lr = 0.01, .amsgrad = true});
  train(*first, b, 3);
  std::string path =
      "/tmp/trueno-resume-test-" + std::to_string(::getpid()) + ".safetensors";
  io::TensorMap state = io::withPrefix("model", first->stateDict());
  state.merge(io::withPrefix("optimizer", b.stateDict()));
  io::saveSafetensors(path, state);

  manualSeed(100); // a different initialization, overwritten by the load
  auto resumed = makeModel();
  optim::Adam c(resumed->parameters(), {.lr = 0.5});
  io::Safetensors loaded = io::loadSafetensors(path);
  resumed->loadStateDict(io::underPrefix("model", loaded.tensors));
  c.loadStateDict(io::underPrefix("optimizer", loaded.tensors));
  CHECK(c.learningRate(0) == 0.01);
  train(*resumed, c, 2);
  for (auto &[name, p] : straight->stateDict())
    CHECK_MESSAGE(identical(resumed->stateDict().at(name), p), name);
  std::remove(path.c_str());
  // A state of another optimizer's shape is refused.
  optim::Adam other(nn::Linear(2, 2).parameters());
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   other.loadStateDict(
                       io::underPrefix("optimizer", loaded.tensors));
                 }),
                 "group 0 has 4 parameters in the state but 2 here");
}

TEST_CASE("gradient clipping by norm and by value") {
  Tensor a = zeros({2}).requiresGrad_(), b = zeros({1}).requiresGrad_();
  a.setGrad(tensor({3.0f, 0.0f}));
  b.setGrad(tensor({4.0f}));
  Tensor norm = optim::clipGradNorm_({a, b}, 1.0);
  CHECK(norm.item<double>() == doctest::Approx(5.0));
  CHECK(a.grad().at<float>({0}) == doctest::Approx(0.6).epsilon(1e-5));
  CHECK(b.grad().at<float>({0}) == doctest::Approx(0.8).epsilon(1e-5));
  optim::clipGradValue_({a, b}, 0.7);
  CHECK(b.grad().at<float>({0}) == doctest::Approx(0.7));
  CHECK(optim::clipGradNorm_({a, b}, 1.0, INFINITY).item<double>() ==
        doctest::Approx(0.7));
}

namespace {

/// A module that registers what its test hands it.
struct Custom : nn::Module {
  explicit Custom(std::string type = "Custom") : Module(std::move(type)) {}
  using Module::registerBuffer;
  using Module::registerModule;
  using Module::registerParameter;
};

} // namespace

TEST_CASE("registration refuses empty, dotted and taken names") {
  Custom m;
  m.registerParameter("w", ones({2}));
  m.registerBuffer("count", zeros({}, kInt64));
  m.registerModule("child", nn::make<nn::Identity>());
  for (const char *bad : {"", "a.b"})
    CHECK_CONTAINS(
        errorOf<ValueError>([&] { m.registerParameter(bad, ones({1})); }),
        fmt::format("Custom: \"{}\" cannot name a parameter, buffer or "
                    "submodule: it is empty or has a '.'",
                    bad));
  // A name is taken whichever kind holds it (PyTorch: "attribute 'w'
  // already exists").
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { m.registerBuffer("w", zeros({1})); }),
      "the name \"w\" is registered already");
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { m.registerParameter("count", ones({1})); }),
      "the name \"count\" is registered already");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   m.registerModule("child", nn::make<nn::Identity>());
                 }),
                 "the name \"child\" is registered already");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   m.registerModule("none", std::shared_ptr<nn::Module>());
                 }),
                 "Custom: submodule \"none\" is null");
}

TEST_CASE("frozen parameters, reserved names, non-persistent buffers") {
  Custom inner;
  Tensor frozen = inner.registerParameter("frozen", ones({2}), false);
  CHECK(!frozen.requiresGrad());
  inner.registerParameter("off", Tensor()); // reserved, like bias=false
  inner.registerBuffer("scratch", zeros({3}), false);
  inner.registerBuffer("unset", Tensor());
  inner.registerBuffer("stat", zeros({2}));
  auto child = std::make_shared<Custom>("Child");
  child->registerParameter("p", zeros({1}));
  child->registerBuffer("b", zeros({1}));
  inner.registerModule("child", child);
  CHECK(names(inner.namedParameters()) ==
        std::vector<std::string>{"frozen", "child.p"});
  CHECK(names(inner.namedParameters(false)) ==
        std::vector<std::string>{"frozen"});
  CHECK(names(inner.namedBuffers()) ==
        std::vector<std::string>{"scratch", "stat", "child.b"});
  CHECK(names(inner.namedBuffers(false)) ==
        std::vector<std::string>{"scratch", "stat"});
  CHECK(inner.buffers().size() == 3);
  CHECK(inner.parameters(false).size() == 1);
  // The state has persistent, defined tensors only (PyTorch's rule).
  nn::StateDict state = inner.stateDict();
  std::vector<std::string> keys;
  for (auto &[k, v] : state)
    keys.push_back(k);
  CHECK(keys ==
        std::vector<std::string>{"child.b", "child.p", "frozen", "stat"});
  // apply visits children before their parent.
  std::vector<std::string> order;
  inner.apply([&](nn::Module &m) { order.push_back(m.typeName()); });
  CHECK(order == std::vector<std::string>{"Child", "Custom"});
  CHECK(inner.namedChildren().size() == 1);
  // zeroGrad clears every gradient.
  child->parameters()[0].setGrad(ones({1}));
  inner.zeroGrad();
  CHECK(!child->parameters()[0].grad().defined());
}

TEST_CASE("loadStateDict: unexpected keys alone, undefined values") {
  nn::Linear a(3, 2);
  nn::StateDict state = a.stateDict();
  state["running_mean"] = zeros({2});
  CHECK_CONTAINS(errorOf<ValueError>([&] { a.loadStateDict(state); }),
                 "Linear.loadStateDict: the state does not match the module: "
                 "missing keys [], unexpected keys [running_mean]");
  a.loadStateDict(state, false); // the rest loads
  state = a.stateDict();
  Tensor before = a.bias.clone();
  state["bias"] = Tensor();
  CHECK_CONTAINS(errorOf<ValueError>([&] { a.loadStateDict(state); }),
                 "the value for \"bias\" is undefined");
  CHECK(identical(a.bias, before));
}

TEST_CASE("containers: indexing, lists, dicts") {
  nn::Sequential seq{nn::make<nn::ReLU>()};
  CHECK(seq.size() == 1);
  CHECK(seq[0]->typeName() == "ReLU");
  CHECK_CONTAINS(errorOf<IndexError>([&] { (void)seq[3]; }),
                 "Sequential: index 3 is out of range for 1 modules");
  nn::ModuleList list{nn::make<nn::Linear>(2, 2), nn::make<nn::Tanh>()};
  CHECK(list.size() == 2);
  std::vector<std::string> types;
  for (const auto &m : list)
    types.push_back(m->typeName());
  CHECK(types == std::vector<std::string>{"Linear", "Tanh"});
  CHECK(names(list.namedParameters()) ==
        std::vector<std::string>{"0.weight", "0.bias"});
  CHECK_CONTAINS(errorOf<IndexError>([&] { (void)list[2]; }),
                 "ModuleList: index 2 is out of range for 2 modules");
  CHECK_CONTAINS(errorOf<ValueError>([&] { (void)list(ones({2})); }),
                 "ModuleList.forward: this module has no forward of its own");
  nn::ModuleDict dict;
  dict.insert("head", nn::make<nn::Linear>(2, 1))
      .insert("act", nn::make<nn::ReLU>());
  CHECK(dict.contains("head"));
  CHECK(!dict.contains("body"));
  CHECK(dict["head"]->typeName() == "Linear");
  CHECK(dict.keys() == std::vector<std::string>{"act", "head"});
}

TEST_CASE("layers check their sizes and options as PyTorch does, or more "
          "strictly") {
  // PyTorch allows empty layers (Linear(0, 2): the output is the bias).
  nn::Linear empty(0, 2);
  Tensor y = empty(zeros({3, 0}));
  CHECK(y.shape() == Shape{3, 2});
  CHECK(empty.bias.abs().sum().item<double>() == 0); // PyTorch's bound 0
  CHECK(identical(y, empty.bias.detach().unsqueeze(0).expand({3, 2})));
  CHECK_CONTAINS(errorOf<ValueError>([] { nn::Linear(-1, 2); }),
                 "nn.Linear: in_features must be >= 0, got -1");
  CHECK_CONTAINS(errorOf<ValueError>([] { nn::Linear(2, -3); }),
                 "nn.Linear: out_features must be >= 0, got -3");
  // PyTorch builds Conv2d(0, 4, 3) (a zero-element weight); Trueno refuses.
  CHECK_CONTAINS(errorOf<ValueError>([] { nn::Conv2d(0, 4, 3); }),
                 "nn.Conv2d: in_channels must be positive, got 0");
  CHECK_CONTAINS(errorOf<ValueError>([] { nn::Conv1d(2, 4, 0); }),
                 "nn.Conv1d: kernel_size must be positive, got 0");
  CHECK_CONTAINS(
      errorOf<ValueError>([] { nn::ConvTranspose2d(2, 4, 3, {.groups = 0}); }),
      "nn.ConvTranspose2d: groups must be positive, got 0");
  nn::Conv1d c1(2, 4, 3, {.bias = false});
  nn::ConvTranspose2d ct(2, 4, 3, {.bias = false});
  CHECK(c1.parameters().size() == 1);
  CHECK(ct.parameters().size() == 1);
  CHECK_CONTAINS(c1.toString(), "bias=false");
  // GroupNorm (PyTorch: "num_channels must be divisible by num_groups").
  CHECK_CONTAINS(errorOf<ValueError>([] { nn::GroupNorm(3, 4); }),
                 "nn.GroupNorm: num_channels (4) must be divisible by "
                 "num_groups (3)");
  nn::GroupNorm gn(2, 4, {.affine = false});
  CHECK(gn.parameters().empty());
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)gn(ones({2, 3}));
                 }),
                 "expected 4 channels in dimension 1, got shape (2, 3)");
  CHECK_CONTAINS(errorOf<ShapeError>([&] { (void)gn(ones({4})); }),
                 "got shape (4,)");
  // Batch norm: 1-D's ranks; without running statistics it uses the
  // batch's in eval mode too (as PyTorch).
  CHECK_CONTAINS(
      errorOf<ShapeError>([] {
        (void)nn::BatchNorm1d(3)(ones({2, 3, 4, 5}));
      }),
      "BatchNorm1d: expected a 2-D or 3-D input, got shape (2, 3, 4, 5)");
  nn::BatchNorm1d bn(3, {.affine = false, .trackRunningStats = false});
  CHECK(bn.parameters().empty());
  CHECK(bn.buffers().empty());
  bn.eval();
  Tensor x = add(mul(randn({16, 3}), 4.0), 10.0);
  CHECK(bn(x).mean({0}).abs().amax().item<double>() < 1e-4);
  // Dropout and Embedding (PyTorch: "dropout probability has to be between
  // 0 and 1"; "Padding_idx must be within num_embeddings").
  for (double p : {-0.1, 1.5, double(NAN)})
    CHECK_CONTAINS(errorOf<ValueError>([&] { nn::Dropout{p}; }),
                   "nn.Dropout: the probability must be in [0, 1]");
  Generator g1(3), g2(3);
  nn::Dropout d1(0.5, &g1), d2(0.5, &g2);
  CHECK(identical(d1(ones({64})), d2(ones({64}))));
  for (std::int64_t bad : {4, -5})
    CHECK_CONTAINS(errorOf<IndexError>([&] { nn::Embedding(4, 2, bad); }),
                   fmt::format("nn.Embedding: padding_idx {} is out of range "
                               "for 4 embeddings",
                               bad));
  nn::Embedding emb(4, 2, -1);
  CHECK(emb.toString() == "Embedding(4, 2, padding_idx=3)");
  CHECK(emb.weight.select(0, 3).abs().sum().item<double>() == 0);
}
