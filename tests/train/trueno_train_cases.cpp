//===- trueno_train_cases.cpp - Layers, optimizers, schedules for Python
//---===//
//
// The C++ half of tests/train/test_train_vs_torch.py. Each command reads a
// safetensors file the Python side wrote (with its independent writer) and
// writes one back:
//
//   layer <Layer> <k=v...> IN OUT   IN: input, grad_output, param.<name>;
//       OUT: output, grad_input, grad.<name>, and buffer.<name> after the
//       forward (BatchNorm's running statistics)
//   optim <Optimizer> <k=v...> IN OUT   IN: p.<i> (start), a.<i>, b.<i>;
//       20 steps on loss = sum(a sin(p) + b p^2); OUT: p.<i>.<step>
//   gp - IN OUT   three WGAN-GP critic steps (a second derivative in the
//       loss); IN: w1, b1, w2, b2, x.<step>; OUT: loss.<step>, p.<i>.<step>
//   npz - IN OUT   loads a .npz and writes it back with saveNpz
//   sched <Scheduler> <k=v...> OUT   learning rates of 30 steps of SGD
//       (lr 0.1, momentum 0.9): lr (30,)
//
//===----------------------------------------------------------------------===//

#include <trueno/io/Checkpoint.h>
#include <trueno/nn/nn.h>
#include <trueno/optim/Optimizer.h>
#include <trueno/optim/Scheduler.h>
#include <trueno/trueno.h>

#include <iostream>
#include <map>
#include <string>

namespace tn = trueno;
namespace nn = trueno::nn;
namespace optim = trueno::optim;

namespace {

struct Options {
  std::map<std::string, std::string> values;
  double num(const std::string &k, double fallback) const {
    auto it = values.find(k);
    return it == values.end() ? fallback : std::stod(it->second);
  }
  std::int64_t integer(const std::string &k, std::int64_t fallback) const {
    auto it = values.find(k);
    return it == values.end() ? fallback : std::stoll(it->second);
  }
  bool flag(const std::string &k, bool fallback = false) const {
    auto it = values.find(k);
    return it == values.end() ? fallback : it->second == "1";
  }
  nn::Pair pair(const std::string &k, nn::Pair fallback) const {
    auto it = values.find(k);
    if (it == values.end())
      return fallback;
    auto comma = it->second.find(',');
    if (comma == std::string::npos)
      return {std::stoll(it->second), std::stoll(it->second)};
    return {std::stoll(it->second.substr(0, comma)),
            std::stoll(it->second.substr(comma + 1))};
  }
};

std::shared_ptr<nn::Module> makeLayer(const std::string &name,
                                      const Options &o) {
  nn::ConvOptions conv{.stride = o.pair("stride", {1, 1}),
                       .padding = o.pair("padding", {0, 0}),
                       .dilation = o.pair("dilation", {1, 1}),
                       .groups = o.integer("groups", 1),
                       .bias = o.flag("bias", true),
                       .outputPadding = o.pair("output_padding", {0, 0}),
                       .tensor = tn::kFloat64};
  nn::NormOptions norm{.eps = o.num("eps", 1e-5),
                       .momentum = o.num("momentum", 0.1),
                       .affine = o.flag("affine", true),
                       .trackRunningStats = o.flag("track", true),
                       .tensor = tn::kFloat64};
  std::int64_t in = o.integer("in", 1), out = o.integer("out", 1);
  if (name == "Linear")
    return nn::make<nn::Linear>(in, out, o.flag("bias", true), tn::kFloat64);
  if (name == "Conv2d")
    return nn::make<nn::Conv2d>(in, out, o.pair("kernel", {3, 3}), conv);
  if (name == "Conv1d")
    return nn::make<nn::Conv1d>(in, out, o.integer("kernel", 3), conv);
  if (name == "ConvTranspose2d")
    return nn::make<nn::ConvTranspose2d>(in, out, o.pair("kernel", {3, 3}),
                                         conv);
  nn::PoolOptions pool{.padding = o.pair("padding", {0, 0}),
                       .ceilMode = o.flag("ceil")};
  if (o.values.count("stride"))
    pool.stride = o.pair("stride", {1, 1});
  if (name == "MaxPool2d")
    return nn::make<nn::MaxPool2d>(o.pair("kernel", {2, 2}), pool);
  if (name == "AvgPool2d")
    return nn::make<nn::AvgPool2d>(o.pair("kernel", {2, 2}), pool);
  if (name == "AdaptiveAvgPool2d")
    return nn::make<nn::AdaptiveAvgPool2d>(o.pair("size", {2, 2}));
  if (name == "BatchNorm1d")
    return nn::make<nn::BatchNorm1d>(o.integer("features", 1), norm);
  if (name == "BatchNorm2d")
    return nn::make<nn::BatchNorm2d>(o.integer("features", 1), norm);
  if (name == "LayerNorm")
    return nn::make<nn::LayerNorm>(tn::Shape{o.integer("features", 1)}, norm);
  if (name == "GroupNorm")
    return nn::make<nn::GroupNorm>(o.integer("groups", 1),
                                   o.integer("features", 1), norm);
  if (name == "Embedding") {
    std::optional<std::int64_t> padding;
    if (o.values.count("padding_idx"))
      padding = o.integer("padding_idx", 0);
    return nn::make<nn::Embedding>(o.integer("num", 1), o.integer("dim", 1),
                                   padding, tn::kFloat64);
  }
  if (name == "Flatten")
    return nn::make<nn::Flatten>(o.integer("start", 1), o.integer("end", -1));
  if (name == "ReLU")
    return nn::make<nn::ReLU>();
  if (name == "Sigmoid")
    return nn::make<nn::Sigmoid>();
  if (name == "Tanh")
    return nn::make<nn::Tanh>();
  if (name == "SiLU")
    return nn::make<nn::SiLU>();
  if (name == "Softplus")
    return nn::make<nn::Softplus>();
  if (name == "SELU")
    return nn::make<nn::SELU>();
  if (name == "Mish")
    return nn::make<nn::Mish>();
  if (name == "Hardsigmoid")
    return nn::make<nn::Hardsigmoid>();
  if (name == "Hardswish")
    return nn::make<nn::Hardswish>();
  if (name == "Softsign")
    return nn::make<nn::Softsign>();
  if (name == "GELU")
    return nn::make<nn::GELU>(o.flag("tanh"));
  if (name == "LeakyReLU")
    return nn::make<nn::LeakyReLU>(o.num("slope", 0.01));
  if (name == "ELU")
    return nn::make<nn::ELU>(o.num("alpha", 1.0));
  if (name == "Hardtanh")
    return nn::make<nn::Hardtanh>(o.num("low", -1), o.num("high", 1));
  if (name == "Softmax")
    return nn::make<nn::Softmax>(o.integer("dim", -1));
  if (name == "LogSoftmax")
    return nn::make<nn::LogSoftmax>(o.integer("dim", -1));
  throw std::invalid_argument("unknown layer " + name);
}

int runLayer(const std::string &name, const Options &o, const std::string &in,
             const std::string &outPath) {
  tn::io::TensorMap t = tn::io::loadSafetensors(in).tensors;
  auto layer = makeLayer(name, o);
  layer->train(!o.flag("eval"));
  tn::io::TensorMap params = tn::io::underPrefix("param", t);
  layer->loadStateDict(params);
  tn::Tensor input = t.at("input");
  bool floatInput = tn::isFloating(input.dtype());
  if (floatInput)
    input.requiresGrad_();
  tn::Tensor output = (*layer)(input);
  tn::io::TensorMap out;
  out["output"] = output;
  if (output.requiresGrad()) {
    output.backward(t.at("grad_output"));
    if (floatInput)
      out["grad_input"] = input.grad();
    for (auto &[pname, p] : layer->namedParameters())
      if (p.grad().defined())
        out["grad." + pname] = p.grad();
  }
  for (auto &[bname, b] : layer->namedBuffers())
    out["buffer." + bname] = b;
  tn::io::saveSafetensors(outPath, out);
  return 0;
}

/// One group, or (groups=1) parameter 0 alone and parameter 1 in a second
/// group at half the learning rate.
template <typename Optimizer, typename Opts>
std::unique_ptr<optim::Optimizer>
build(const Options &o, std::vector<tn::Tensor> params, Opts opts) {
  if (!o.flag("groups"))
    return std::make_unique<Optimizer>(params, opts);
  Opts half = opts;
  half.lr /= 2;
  return std::make_unique<Optimizer>(std::vector<optim::ParamGroup<Opts>>{
      {{params[0]}, opts}, {{params[1]}, half}});
}

std::unique_ptr<optim::Optimizer>
makeOptimizer(const std::string &name, const Options &o,
              std::vector<tn::Tensor> params) {
  if (name == "SGD")
    return build<optim::SGD>(
        o, params,
        optim::SGDOptions{.lr = o.num("lr", 0.1),
                          .momentum = o.num("momentum", 0),
                          .dampening = o.num("dampening", 0),
                          .weightDecay = o.num("weight_decay", 0),
                          .nesterov = o.flag("nesterov"),
                          .maximize = o.flag("maximize")});
  optim::AdamOptions adam{.lr = o.num("lr", 1e-3),
                          .beta1 = o.num("beta1", 0.9),
                          .beta2 = o.num("beta2", 0.999),
                          .eps = o.num("eps", 1e-8),
                          .weightDecay =
                              o.num("weight_decay", name == "AdamW" ? 1e-2 : 0),
                          .amsgrad = o.flag("amsgrad"),
                          .maximize = o.flag("maximize")};
  if (name == "Adam")
    return build<optim::Adam>(o, params, adam);
  if (name == "AdamW")
    return build<optim::AdamW>(o, params, adam);
  if (name == "RMSprop")
    return build<optim::RMSprop>(
        o, params,
        optim::RMSpropOptions{.lr = o.num("lr", 1e-2),
                              .alpha = o.num("alpha", 0.99),
                              .eps = o.num("eps", 1e-8),
                              .weightDecay = o.num("weight_decay", 0),
                              .momentum = o.num("momentum", 0),
                              .centered = o.flag("centered"),
                              .maximize = o.flag("maximize")});
  if (name == "Adagrad")
    return std::make_unique<optim::Adagrad>(
        params, optim::AdagradOptions{.lr = o.num("lr", 1e-2),
                                      .lrDecay = o.num("lr_decay", 0),
                                      .weightDecay = o.num("weight_decay", 0),
                                      .initialAccumulatorValue =
                                          o.num("initial_accumulator_value", 0),
                                      .eps = o.num("eps", 1e-10),
                                      .maximize = o.flag("maximize")});
  throw std::invalid_argument("unknown optimizer " + name);
}

int runOptim(const std::string &name, const Options &o, const std::string &in,
             const std::string &outPath) {
  tn::io::TensorMap t = tn::io::loadSafetensors(in).tensors;
  std::vector<tn::Tensor> params, a, b;
  for (int i = 0; t.count("p." + std::to_string(i)); ++i) {
    params.push_back(t.at("p." + std::to_string(i)).clone().requiresGrad_());
    a.push_back(t.at("a." + std::to_string(i)));
    b.push_back(t.at("b." + std::to_string(i)));
  }
  auto optimizer = makeOptimizer(name, o, params);
  double clip = o.num("clip_norm", 0);
  tn::io::TensorMap out;
  for (int step = 0; step < 20; ++step) {
    tn::Tensor loss;
    for (std::size_t i = 0; i < params.size(); ++i) {
      tn::Tensor term =
          (a[i] * params[i].sin() + b[i] * params[i] * params[i]).sum();
      loss = loss.defined() ? loss + term : term;
    }
    optimizer->zeroGrad();
    loss.backward();
    if (clip > 0)
      out["norm." + std::to_string(step)] = optim::clipGradNorm_(params, clip);
    optimizer->step();
    tn::sync(); // one step per program, as a loop reading its loss runs
    for (std::size_t i = 0; i < params.size(); ++i)
      out["p." + std::to_string(i) + "." + std::to_string(step)] =
          params[i].detach().clone();
  }
  tn::io::saveSafetensors(outPath, out);
  return 0;
}

/// Three SGD steps of a WGAN-GP critic: loss = mean(D(x)) + 10 * mean((|dD/dx|
/// - 1)^2) with D = linear(tanh(linear(x))); the penalty's gradient with
/// respect to the weights is a second derivative (createGraph).
int runGradientPenalty(const std::string &in, const std::string &outPath) {
  tn::io::TensorMap t = tn::io::loadSafetensors(in).tensors;
  std::vector<tn::Tensor> params = {
      t.at("w1").clone().requiresGrad_(), t.at("b1").clone().requiresGrad_(),
      t.at("w2").clone().requiresGrad_(), t.at("b2").clone().requiresGrad_()};
  optim::SGD sgd(params, {.lr = 0.05});
  tn::io::TensorMap out;
  for (int step = 0; step < 3; ++step) {
    tn::Tensor x = t.at("x." + std::to_string(step)).clone().requiresGrad_();
    tn::Tensor d = tn::linear(tn::tanh(tn::linear(x, params[0], params[1])),
                              params[2], params[3]);
    tn::Tensor dx = tn::grad({d.sum()}, {x}, {}, std::nullopt, true)[0];
    tn::Tensor norm = (dx * dx).sum({1}).sqrt();
    tn::Tensor penalty = ((norm - 1.0) * (norm - 1.0)).mean();
    tn::Tensor loss = d.mean() + penalty * 10.0;
    sgd.zeroGrad();
    loss.backward();
    sgd.step();
    out["loss." + std::to_string(step)] = loss.detach();
    for (std::size_t i = 0; i < params.size(); ++i)
      out["p." + std::to_string(i) + "." + std::to_string(step)] =
          params[i].detach().clone();
    tn::sync();
  }
  tn::io::saveSafetensors(outPath, out);
  return 0;
}

int runSched(const std::string &name, const Options &o,
             const std::string &outPath) {
  tn::Tensor p = tn::zeros({1}).requiresGrad_();
  optim::SGD sgd({p}, {.lr = 0.1, .momentum = 0.9});
  std::vector<double> lrs, momenta;
  std::unique_ptr<optim::LRScheduler> s;
  std::unique_ptr<optim::ReduceLROnPlateau> plateau;
  if (name == "StepLR")
    s = std::make_unique<optim::StepLR>(sgd, o.integer("step_size", 5),
                                        o.num("gamma", 0.1));
  else if (name == "MultiStepLR")
    s = std::make_unique<optim::MultiStepLR>(
        sgd, std::vector<std::int64_t>{3, 7, 20}, o.num("gamma", 0.1));
  else if (name == "ExponentialLR")
    s = std::make_unique<optim::ExponentialLR>(sgd, o.num("gamma", 0.9));
  else if (name == "CosineAnnealingLR")
    s = std::make_unique<optim::CosineAnnealingLR>(sgd, o.integer("t_max", 10),
                                                   o.num("eta_min", 0));
  else if (name == "LinearLR")
    s = std::make_unique<optim::LinearLR>(sgd, o.num("start_factor", 1.0 / 3),
                                          o.num("end_factor", 1.0),
                                          o.integer("total_iters", 5));
  else if (name == "OneCycleLR")
    s = std::make_unique<optim::OneCycleLR>(
        sgd, o.num("max_lr", 1.0), 30,
        optim::OneCycleOptions{.pctStart = o.num("pct_start", 0.3),
                               .cosine = !o.flag("linear"),
                               .threePhase = o.flag("three_phase")});
  else if (name == "ReduceLROnPlateau")
    plateau = std::make_unique<optim::ReduceLROnPlateau>(
        sgd, optim::PlateauOptions{.patience = o.integer("patience", 2),
                                   .cooldown = o.integer("cooldown", 0)});
  else
    throw std::invalid_argument("unknown scheduler " + name);
  for (int step = 0; step < 30; ++step) {
    lrs.push_back(sgd.learningRate(0));
    momenta.push_back(sgd.options().momentum);
    if (s)
      s->step();
    else // a metric that improves, stalls, then improves again
      plateau->step(step < 5 ? 10.0 - step : step < 18 ? 5.0 : 20.0 - step);
  }
  tn::io::saveSafetensors(outPath,
                          {{"lr", tn::fromVector(lrs, {30})},
                           {"momentum", tn::fromVector(momenta, {30})}});
  return 0;
}

} // namespace

int main(int argc, char **argv) try {
  if (argc < 3) {
    std::cerr << "usage: trueno-train-cases layer|optim|sched NAME [k=v...] "
                 "[IN] OUT\n";
    return 2;
  }
  std::string command = argv[1], name = argv[2];
  Options o;
  std::vector<std::string> files;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    auto eq = a.find('=');
    if (eq == std::string::npos)
      files.push_back(a);
    else
      o.values[a.substr(0, eq)] = a.substr(eq + 1);
  }
  if (command == "layer")
    return runLayer(name, o, files.at(0), files.at(1));
  if (command == "optim")
    return runOptim(name, o, files.at(0), files.at(1));
  if (command == "sched")
    return runSched(name, o, files.at(0));
  if (command == "gp")
    return runGradientPenalty(files.at(0), files.at(1));
  if (command == "npz") { // npz - IN OUT: loads an archive and saves it again
    tn::io::saveNpz(files.at(1), tn::io::loadNpz(files.at(0)));
    return 0;
  }
  std::cerr << "unknown command " << command << "\n";
  return 2;
} catch (const std::exception &e) {
  std::cerr << "trueno-train-cases: " << e.what() << "\n";
  return 1;
}
