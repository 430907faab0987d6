//===- FashionMnistTorch.cpp - The main job's epoch in libtorch -----------===//
//
// libtorch (Debian's libtorch-dev): the model, batch size, optimizer and
// loop of tools/trueno-fashion-mnist (shuffled batches, cross-entropy, Adam
// at 1e-3, the loss and the hits read every step), for one epoch over the
// images benchmarks/fashion_mnist_epoch.py hands it as raw files.
//
//   torch-fashion-mnist IMAGES.f32 LABELS.i64 COUNT [THREADS]
//
// Prints "epoch_seconds S first_step_ms F train_accuracy A".
//
//===----------------------------------------------------------------------===//
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <vector>

using Clock = std::chrono::steady_clock;

int main(int argc, char **argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: torch-fashion-mnist IMAGES LABELS COUNT [THREADS]\n");
    return 2;
  }
  std::int64_t n = std::atoll(argv[3]);
  torch::set_num_threads(argc > 4 ? std::atoi(argv[4]) : 2);
  torch::manual_seed(0);
  std::vector<float> images(static_cast<std::size_t>(n) * 784);
  std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
  std::FILE *f = std::fopen(argv[1], "rb");
  std::FILE *g = std::fopen(argv[2], "rb");
  if (!f || !g ||
      std::fread(images.data(), 4, images.size(), f) != images.size() ||
      std::fread(labels.data(), 8, labels.size(), g) != labels.size()) {
    std::fprintf(stderr, "torch-fashion-mnist: cannot read the data\n");
    return 1;
  }
  std::fclose(f);
  std::fclose(g);
  torch::Tensor x = torch::from_blob(images.data(), {n, 1, 28, 28}).clone();
  torch::Tensor y = torch::from_blob(labels.data(), {n}, torch::kInt64).clone();
  namespace nn = torch::nn;
  nn::Sequential model(
      nn::Conv2d(nn::Conv2dOptions(1, 32, 3).padding(1)), nn::ReLU(),
      nn::MaxPool2d(2), nn::Conv2d(nn::Conv2dOptions(32, 64, 3).padding(1)),
      nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(64 * 7 * 7, 128),
      nn::ReLU(), nn::Dropout(0.25), nn::Linear(128, 10));
  torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
  const std::int64_t batch = 64;
  torch::Tensor order = torch::randperm(n);
  std::int64_t correct = 0, seen = 0;
  double firstMs = 0;
  auto start = Clock::now();
  for (std::int64_t b = 0; b + batch <= n; b += batch) {
    auto t0 = Clock::now();
    torch::Tensor idx = order.slice(0, b, b + batch);
    torch::Tensor xb = x.index_select(0, idx), yb = y.index_select(0, idx);
    torch::Tensor logits = model->forward(xb);
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, yb);
    adam.zero_grad();
    loss.backward();
    adam.step();
    (void)loss.item<float>();
    correct += logits.argmax(1).eq(yb).sum().item<std::int64_t>();
    seen += batch;
    if (b == 0)
      firstMs =
          std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("epoch_seconds %.3f first_step_ms %.1f train_accuracy %.4f\n",
              seconds, firstMs,
              static_cast<double>(correct) / static_cast<double>(seen));
  return 0;
}
