//===- main.cpp - Train a CNN on Fashion-MNIST: the README's main job
//------===//
//
// The whole training library in one program: a Sequential CNN, Adam, a
// shuffling DataLoader over Debian's dataset-fashion-mnist, a progress bar,
// test accuracy per epoch, a safetensors checkpoint (model, optimizer and
// the generator's position) written atomically after every epoch, metrics
// as CSV/JSONL and the curves as an SVG, and a summary.
//
//   trueno-fashion-mnist [--epochs 5] [--batch-size 64] [--lr 1e-3]
//       [--seed 0] [--out DIR] [--data DIR] [--train-subset N]
//       [--test-subset N] [--resume CHECKPOINT] [--min-accuracy A]
//
// Each training step (forward, loss, backward, Adam update) is recorded
// lazily and runs as one compiled program, a cache hit after the first.
//
//===----------------------------------------------------------------------===//

#include "FashionMnistModel.h"

#include <trueno/data/Data.h>
#include <trueno/io/Checkpoint.h>
#include <trueno/io/Logging.h>
#include <trueno/nn/nn.h>
#include <trueno/optim/Optimizer.h>
#include <trueno/trueno.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

namespace tn = trueno;
namespace nn = trueno::nn;

namespace {

struct Args {
  std::int64_t epochs = 5, batchSize = 64;
  double lr = 1e-3;
  std::uint64_t seed = 0;
  std::string out = "fashion-mnist-run", data = tn::data::kFashionMnistDir;
  std::int64_t trainSubset = 0, testSubset = 0;
  std::string resume;
  double minAccuracy = -1;
};

[[noreturn]] void usage(const std::string &problem) {
  std::cerr << "trueno-fashion-mnist: " << problem << "\n"
            << "usage: trueno-fashion-mnist [--epochs N] [--batch-size N] "
               "[--lr X] [--seed N] [--out DIR] [--data DIR] "
               "[--train-subset N] [--test-subset N] [--resume FILE] "
               "[--min-accuracy A]\n";
  std::exit(2);
}

Args parse(int argc, char **argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "-h" || flag == "--help")
      usage("train a CNN on Fashion-MNIST");
    if (i + 1 >= argc)
      usage(flag + " needs a value");
    std::string v = argv[++i];
    try {
      if (flag == "--epochs")
        a.epochs = std::stoll(v);
      else if (flag == "--batch-size")
        a.batchSize = std::stoll(v);
      else if (flag == "--lr")
        a.lr = std::stod(v);
      else if (flag == "--seed")
        a.seed = std::stoull(v);
      else if (flag == "--out")
        a.out = v;
      else if (flag == "--data")
        a.data = v;
      else if (flag == "--train-subset")
        a.trainSubset = std::stoll(v);
      else if (flag == "--test-subset")
        a.testSubset = std::stoll(v);
      else if (flag == "--resume")
        a.resume = v;
      else if (flag == "--min-accuracy")
        a.minAccuracy = std::stod(v);
      else
        usage("unknown option " + flag);
    } catch (const std::logic_error &) {
      usage("bad value for " + flag + ": " + v);
    }
  }
  if (a.epochs < 1 || a.batchSize < 1 || !(a.lr > 0))
    usage("epochs, batch size and learning rate must be positive");
  return a;
}

/// The first `n` examples of a dataset (all when n is 0).
std::shared_ptr<tn::data::TensorDataset> subset(tn::data::TensorDataset all,
                                                std::int64_t n) {
  if (n <= 0 || n >= all.size())
    return std::make_shared<tn::data::TensorDataset>(std::move(all));
  return std::make_shared<tn::data::TensorDataset>(
      all.data().narrow(0, 0, n), all.targets().narrow(0, 0, n));
}

struct Evaluation {
  double loss, accuracy;
};

Evaluation evaluate(nn::Module &model, tn::data::DataLoader &loader) {
  tn::NoGradGuard noGrad;
  model.eval();
  double lossSum = 0;
  std::int64_t correct = 0, seen = 0;
  for (tn::data::Example &batch : loader) {
    tn::Tensor logits = model(batch.data);
    tn::Tensor loss =
        tn::crossEntropy(logits, batch.target, tn::LossReduction::Sum);
    tn::Tensor hits = tn::eq(tn::argmax(logits, 1), batch.target).sum();
    lossSum += loss.item<double>();
    correct += hits.item<std::int64_t>();
    seen += batch.target.size(0);
  }
  model.train();
  return {lossSum / static_cast<double>(seen),
          static_cast<double>(correct) / static_cast<double>(seen)};
}

} // namespace

int main(int argc, char **argv) try {
  Args args = parse(argc, argv);
  std::filesystem::create_directories(args.out);
  auto startRun = std::chrono::steady_clock::now();

  auto train =
      subset(tn::data::loadFashionMnist(args.data, true), args.trainSubset);
  auto test =
      subset(tn::data::loadFashionMnist(args.data, false), args.testSubset);
  // Fashion-MNIST's pixel mean and deviation over the training set.
  auto normalize = tn::data::normalize({0.2860}, {0.3530});
  tn::data::DataLoader trainLoader(train, {.batchSize = args.batchSize,
                                           .shuffle = true,
                                           .dropLast = true,
                                           .seed = args.seed,
                                           .transforms = {normalize}});
  tn::data::DataLoader testLoader(
      test, {.batchSize = 1000, .transforms = {normalize}});

  tn::manualSeed(args.seed);
  auto model = trueno::tools::makeFashionMnistModel();
  tn::optim::Adam optimizer(model->parameters(), {.lr = args.lr});
  std::int64_t firstEpoch = 0;
  if (!args.resume.empty()) {
    tn::io::Safetensors ckpt = tn::io::loadSafetensors(args.resume);
    model->loadStateDict(tn::io::underPrefix("model", ckpt.tensors));
    optimizer.loadStateDict(tn::io::underPrefix("optimizer", ckpt.tensors));
    firstEpoch = std::stoll(ckpt.metadata.at("epoch"));
    tn::defaultGenerator().manualSeed(
        std::stoull(ckpt.metadata.at("generator_seed")));
    tn::defaultGenerator().advance(
        std::stoull(ckpt.metadata.at("generator_offset")));
    // The loader's epochs continue where the run stopped.
    for (std::int64_t e = 0; e < firstEpoch; ++e)
      (void)trainLoader.begin();
    std::printf("resumed from %s after epoch %lld\n", args.resume.c_str(),
                static_cast<long long>(firstEpoch));
  }
  std::printf("Trueno %s: Fashion-MNIST, %lld training and %lld test images; "
              "%lld parameters; batch %lld, Adam lr %g, %lld epochs\n",
              TRUENO_VERSION_STRING, static_cast<long long>(train->size()),
              static_cast<long long>(test->size()),
              static_cast<long long>(model->parameterCount()),
              static_cast<long long>(args.batchSize), args.lr,
              static_cast<long long>(args.epochs));
  std::cout << *model << "\n";

  tn::io::MetricsLog metrics(args.out + "/metrics");
  std::string checkpoint = args.out + "/checkpoint.safetensors";
  double firstStepMs = 0, bestAccuracy = 0, trainSeconds = 0;
  tn::RuntimeStats before = tn::runtimeStats();
  std::vector<double> trainLosses, testLosses, trainAccs, testAccs;
  for (std::int64_t epoch = firstEpoch; epoch < args.epochs; ++epoch) {
    tn::io::ProgressBar bar(fmt::format("epoch {}/{}", epoch + 1, args.epochs),
                            trainLoader.size(), args.batchSize);
    double lossSum = 0;
    std::int64_t correct = 0, seen = 0, step = 0;
    for (tn::data::Example &batch : trainLoader) {
      auto t0 = std::chrono::steady_clock::now();
      tn::Tensor logits = (*model)(batch.data);
      tn::Tensor loss = tn::crossEntropy(logits, batch.target);
      optimizer.zeroGrad();
      loss.backward();
      optimizer.step();
      tn::Tensor hits;
      {
        tn::NoGradGuard noGrad;
        hits = tn::eq(tn::argmax(logits.detach(), 1), batch.target).sum();
      }
      // Reading the loss runs the step: forward, backward and update.
      lossSum +=
          loss.item<double>() * static_cast<double>(batch.target.size(0));
      correct += hits.item<std::int64_t>();
      seen += batch.target.size(0);
      if (epoch == firstEpoch && step == 0)
        firstStepMs = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now() - t0)
                          .count();
      ++step;
      bar.update(step, {{"loss", lossSum / static_cast<double>(seen)},
                        {"acc", static_cast<double>(correct) /
                                    static_cast<double>(seen)}});
    }
    double trainLoss = lossSum / static_cast<double>(seen);
    double trainAcc = static_cast<double>(correct) / static_cast<double>(seen);
    bar.finish({{"loss", trainLoss}, {"acc", trainAcc}});
    double epochSeconds = bar.elapsedSeconds();
    trainSeconds += epochSeconds;
    Evaluation eval = evaluate(*model, testLoader);
    bestAccuracy = std::max(bestAccuracy, eval.accuracy);
    std::printf("epoch %lld: train loss %.4f acc %.2f%% | test loss %.4f "
                "acc %.2f%% | %.1f s, %.0f samples/s\n",
                static_cast<long long>(epoch + 1), trainLoss, 100 * trainAcc,
                eval.loss, 100 * eval.accuracy, epochSeconds,
                static_cast<double>(seen) / epochSeconds);
    std::fflush(stdout);
    metrics.append(
        {{"epoch", static_cast<double>(epoch + 1)},
         {"train_loss", trainLoss},
         {"train_accuracy", trainAcc},
         {"test_loss", eval.loss},
         {"test_accuracy", eval.accuracy},
         {"seconds", epochSeconds},
         {"samples_per_second", static_cast<double>(seen) / epochSeconds}});
    trainLosses.push_back(trainLoss);
    testLosses.push_back(eval.loss);
    trainAccs.push_back(trainAcc);
    testAccs.push_back(eval.accuracy);
    // Model, optimizer and the dropout generator's position: a resumed
    // run continues as this one would have.
    tn::io::TensorMap state = tn::io::withPrefix("model", model->stateDict());
    state.merge(tn::io::withPrefix("optimizer", optimizer.stateDict()));
    tn::io::saveSafetensors(
        checkpoint, state,
        {{"epoch", std::to_string(epoch + 1)},
         {"generator_seed", std::to_string(tn::defaultGenerator().seed())},
         {"generator_offset", std::to_string(tn::defaultGenerator().offset())},
         {"test_accuracy", fmt::format("{:.4f}", eval.accuracy)}});
  }
  tn::RuntimeStats after = tn::runtimeStats();
  tn::io::writeSvgPlot(
      args.out + "/curves.svg",
      {{"loss", {{"train", trainLosses}, {"test", testLosses}}},
       {"accuracy", {{"train", trainAccs}, {"test", testAccs}}}},
      "Trueno: a CNN on Fashion-MNIST");
  double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - startRun)
          .count();
  std::printf("\nsummary: best test accuracy %.2f%%, final %.2f%%\n",
              100 * bestAccuracy,
              testAccs.empty() ? 0.0 : 100 * testAccs.back());
  std::printf("  training %.1f s (%.1f s per epoch), whole run %.1f s\n",
              trainSeconds,
              trainSeconds / static_cast<double>(
                                 std::max<std::size_t>(testAccs.size(), 1)),
              total);
  std::printf(
      "  first step %.1f ms (%s); programs compiled %lld, loaded "
      "from the disk cache %lld\n",
      firstStepMs,
      after.diskCacheHits > before.diskCacheHits &&
              after.diskCacheMisses == before.diskCacheMisses
          ? "kernels from the disk cache"
          : "compiles included",
      static_cast<long long>(after.diskCacheMisses - before.diskCacheMisses),
      static_cast<long long>(after.diskCacheHits - before.diskCacheHits));
  std::printf("  wrote %s, %s, %s and %s\n", checkpoint.c_str(),
              metrics.csvPath().c_str(), metrics.jsonlPath().c_str(),
              (args.out + "/curves.svg").c_str());
  if (args.minAccuracy >= 0 &&
      (testAccs.empty() || testAccs.back() < args.minAccuracy)) {
    std::fprintf(stderr,
                 "trueno-fashion-mnist: final test accuracy %.4f is "
                 "below the required %.4f\n",
                 testAccs.empty() ? 0.0 : testAccs.back(), args.minAccuracy);
    return 1;
  }
  return 0;
} catch (const trueno::Error &e) {
  std::fprintf(stderr, "trueno-fashion-mnist: %s\n", e.what());
  return 1;
}
