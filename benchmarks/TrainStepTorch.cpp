//===- TrainStepTorch.cpp - The same SGD steps in libtorch ----------------===//
//
// libtorch (Debian's libtorch-dev), for C++ users' real alternative: the
// models, batch and update of TrainStepBench.cpp, timed the same way, on
// the thread count given (default 2). Prints the same lines.
//
//===----------------------------------------------------------------------===//
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace F = torch::nn::functional;
using Clock = std::chrono::steady_clock;

static double ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

static void report(const char *model, const char *measure,
                   std::vector<double> t) {
  std::sort(t.begin(), t.end());
  std::printf("%s %s %.4f %.4f %.4f\n", model, measure, t[t.size() / 2],
              t.front(), t.back());
}

static torch::Tensor uniform(std::vector<int64_t> shape, double bound) {
  return (torch::rand(shape) * (2 * bound) - bound).requires_grad_();
}

static void run(const char *name, std::vector<torch::Tensor> p,
                std::function<torch::Tensor(const torch::Tensor &)> forward,
                std::vector<int64_t> inputShape, int steps) {
  torch::Tensor x = torch::randn(inputShape);
  torch::Tensor y = torch::randint(0, 10, {inputShape[0]});
  auto step = [&] {
    torch::Tensor loss = F::cross_entropy(forward(x), y);
    for (auto &t : p)
      t.mutable_grad() = torch::Tensor();
    loss.backward();
    {
      torch::NoGradGuard noGrad;
      for (auto &t : p)
        t.sub_(t.grad() * 0.01);
    }
    return loss.item<float>();
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
    torch::Tensor loss = F::cross_entropy(forward(x), y);
    (void)loss.item<float>();
    times.push_back(ms(a, Clock::now()));
  }
  report(name, "forward", times);
}

int main(int argc, char **argv) {
  int steps = argc > 1 ? std::atoi(argv[1]) : 50;
  std::string only = argc > 2 ? argv[2] : "";
  int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  if (only.empty() || only == "mlp") {
    std::vector<torch::Tensor> p;
    int sizes[] = {784, 256, 128, 10};
    for (int i = 0; i < 3; ++i) {
      double bound = 1.0 / std::sqrt(static_cast<double>(sizes[i]));
      p.push_back(uniform({sizes[i + 1], sizes[i]}, bound));
      p.push_back(uniform({sizes[i + 1]}, bound));
    }
    run(
        "mlp", p,
        [&p](const torch::Tensor &x) {
          auto h = torch::relu(F::linear(x, p[0], p[1]));
          h = torch::relu(F::linear(h, p[2], p[3]));
          return F::linear(h, p[4], p[5]);
        },
        {64, 784}, steps);
  }
  if (only.empty() || only == "cnn") {
    std::vector<torch::Tensor> p = {
        uniform({32, 1, 3, 3}, 1.0 / 3),
        uniform({32}, 1.0 / 3),
        uniform({64, 32, 3, 3}, 1.0 / std::sqrt(288.0)),
        uniform({64}, 1.0 / std::sqrt(288.0)),
        uniform({10, 1600}, 1.0 / 40),
        uniform({10}, 1.0 / 40)};
    run(
        "cnn", p,
        [&p](const torch::Tensor &x) {
          auto h = torch::max_pool2d(
              torch::relu(
                  F::conv2d(x, p[0], F::Conv2dFuncOptions().bias(p[1]))),
              2);
          h = torch::max_pool2d(
              torch::relu(
                  F::conv2d(h, p[2], F::Conv2dFuncOptions().bias(p[3]))),
              2);
          return F::linear(h.flatten(1), p[4], p[5]);
        },
        {64, 1, 28, 28}, steps);
  }
  return 0;
}
