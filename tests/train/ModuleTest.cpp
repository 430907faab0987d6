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
