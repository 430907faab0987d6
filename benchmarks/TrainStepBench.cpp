//===- TrainStepBench.cpp - One SGD step of an MLP and a CNN in Trueno ----===//
//
// The Trueno side of benchmarks/train_step.py (libtorch's is
// TrainStepTorch.cpp, PyTorch's in the script): the same models, batch,
// initial values and SGD update. Prints one line per measure:
//   <model> <measure> <median ms> <min ms> <max ms>
// measures: `step` (forward, loss, backward, update; the loss read each
// step, which computes everything), `forward` (the loss alone), and
// `first` (the first step: recording, compiling, running).
//
//===----------------------------------------------------------------------===//
#include <trueno/trueno.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace tn = trueno;

namespace {

using Clock = std::chrono::steady_clock;

double ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

void report(const char *model, const char *measure, std::vector<double> t) {
  std::sort(t.begin(), t.end());
  std::printf("%s %s %.4f %.4f %.4f\n", model, measure, t[t.size() / 2],
              t.front(), t.back());
}

struct Model {
  std::vector<tn::Tensor> params;
  std::function<tn::Tensor(const std::vector<tn::Tensor> &, const tn::Tensor &)>
      forward;
};

/// PyTorch's default initialization, seeded.
tn::Tensor uniform(tn::Shape shape, double bound, tn::Generator &gen) {
  return (tn::rand(shape, gen) * (2 * bound) - bound).contiguous();
}

Model mlp(tn::Generator &gen) {
  Model m;
  int sizes[] = {784, 256, 128, 10};
  for (int i = 0; i < 3; ++i) {
    double bound = 1.0 / std::sqrt(static_cast<double>(sizes[i]));
    m.params.push_back(uniform({sizes[i + 1], sizes[i]}, bound, gen));
    m.params.push_back(uniform({sizes[i + 1]}, bound, gen));
  }
  m.forward = [](const std::vector<tn::Tensor> &p, const tn::Tensor &x) {
    tn::Tensor h = tn::linear(x, p[0], p[1]).relu();
    h = tn::linear(h, p[2], p[3]).relu();
    return tn::linear(h, p[4], p[5]);
  };
  return m;
}

Model cnn(tn::Generator &gen) {
  Model m;
  m.params.push_back(uniform({32, 1, 3, 3}, 1.0 / 3, gen));
  m.params.push_back(uniform({32}, 1.0 / 3, gen));
  double b2 = 1.0 / std::sqrt(32.0 * 9);
  m.params.push_back(uniform({64, 32, 3, 3}, b2, gen));
  m.params.push_back(uniform({64}, b2, gen));
  double b3 = 1.0 / std::sqrt(64.0 * 25);
  m.params.push_back(uniform({10, 64 * 25}, b3, gen));
  m.params.push_back(uniform({10}, b3, gen));
  m.forward = [](const std::vector<tn::Tensor> &p, const tn::Tensor &x) {
    tn::Tensor h = tn::maxPool2d(tn::conv2d(x, p[0], p[1]).relu(), {2, 2});
    h = tn::maxPool2d(tn::conv2d(h, p[2], p[3]).relu(), {2, 2});
    return tn::linear(h.flatten(1), p[4], p[5]);
  };
  return m;
}

void run(const char *name, Model model, tn::Shape inputShape, int steps) {
  tn::Generator gen(1);
  tn::Tensor x = tn::randn(inputShape, gen);
  tn::Tensor y = tn::randint(0, 10, {inputShape[0]}, gen);
  for (tn::Tensor &p : model.params)
    p.requiresGrad_();
  tn::sync();
  const bool phases = std::getenv("TRUENO_BENCH_PHASES") != nullptr;
  auto step = [&] {
    auto t0 = Clock::now();
    tn::Tensor loss = tn::crossEntropy(model.forward(model.params, x), y);
    auto t1 = Clock::now();
    for (tn::Tensor &p : model.params)
      p.setGrad(tn::Tensor());
    loss.backward();
    {
      tn::NoGradGuard noGrad;
      for (tn::Tensor &p : model.params)
        p.sub_(p.grad() * 0.01);
    }
    auto t2 = Clock::now();
    float value = loss.item<float>();
    if (phases)
      std::fprintf(
          stderr,
          "forward recorded %.3f ms, backward+update %.3f ms, run %.3f ms\n",
          ms(t0, t1), ms(t1, t2), ms(t2, Clock::now()));
    return value;
  };
  auto t0 = Clock::now();
  step();
  report(name, "first", {ms(t0, Clock::now())});
  std::vector<double> times;
  for (int i = 0; i < steps; ++i) {
    auto a = Clock::now();
    step();
    times.push_back(ms(a, Clock::now()));
  }
  report(name, "step", times);
  times.clear();
  for (int i = 0; i < steps; ++i) {
    auto a = Clock::now();
    tn::Tensor loss = tn::crossEntropy(model.forward(model.params, x), y);
    (void)loss.item<float>();
    times.push_back(ms(a, Clock::now()));
  }
  report(name, "forward", times);
}

} // namespace

int main(int argc, char **argv) {
  int steps = argc > 1 ? std::atoi(argv[1]) : 50;
  std::string only = argc > 2 ? argv[2] : "";
  tn::Generator gen(0);
  if (only.empty() || only == "mlp")
    run("mlp", mlp(gen), {64, 784}, steps);
  if (only.empty() || only == "cnn")
    run("cnn", cnn(gen), {64, 1, 28, 28}, steps);
  return 0;
}
