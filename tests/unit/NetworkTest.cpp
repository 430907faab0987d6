//===- NetworkTest.cpp - Normalization, dropout, scans, loss options ------===//
//
// Known values and every error message of layerNorm, batchNorm, dropout,
// cumsum/cumprod and the class-loss options. The randomized comparison
// against PyTorch is tests/e2e/test_ops_vs_torch.py.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <cmath>

using namespace trueno;
using trueno::testing::errorOf;

TEST_CASE("layerNorm and batchNorm") {
  Tensor x = tensor({{1.f, 2.f, 3.f}, {2.f, 2.f, 2.f}});
  Tensor y = layerNorm(x, {3});
  CHECK(y.at<float>({0, 0}) == doctest::Approx(-1.2247).epsilon(1e-4));
  CHECK(y.at<float>({1, 1}) == 0.0f);
  CHECK_CONTAINS(errorOf<ShapeError>([&] { (void)layerNorm(x, {2}); }),
                 "normalizedShape (2,) does not end the input's shape (2, 3)");
  CHECK_CONTAINS(
      errorOf<ShapeError>([&] { (void)layerNorm(x, {3}, ones({2})); }),
      "weight of shape (2,) for normalizedShape (3,)");
  Tensor mean = zeros({3}), var = ones({3});
  Tensor inference = batchNorm(x, mean, var);
  CHECK(inference.at<float>({0, 2}) ==
        doctest::Approx(3.0 / std::sqrt(1.0 + 1e-5)));
  Tensor trained = batchNorm(x, mean, var, std::nullopt, std::nullopt, true);
  CHECK(trained.at<float>({1, 1}) == 0.0f);
  // The running mean moved 10% of the way to the batch mean (1.5, 2, 2.5),
  // the running variance to the unbiased batch variance (0.5, 0, 0.5).
  CHECK(mean.at<float>({0}) == doctest::Approx(0.15));
  CHECK(var.at<float>({1}) == doctest::Approx(0.9));
  CHECK(var.at<float>({2}) == doctest::Approx(0.95));
  CHECK_CONTAINS(errorOf<ValueError>(
                     [&] { (void)batchNorm(x, std::nullopt, std::nullopt); }),
                 "inference needs runningMean and runningVar");
  CHECK_CONTAINS(
      errorOf<ShapeError>([&] { (void)batchNorm(x, ones({2}), var); }),
      "runningMean of shape (2,) for 3 channels");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)batchNorm(ones({1, 3}), mean, var, std::nullopt,
                                   std::nullopt, true);
                 }),
                 "has 1 value per channel");
  // An empty input is an empty result, as PyTorch; the statistics stay.
  CHECK(batchNorm(zeros({0}), mean, var).shape() == Shape{0});
  CHECK(batchNorm(zeros({0, 3}), mean, var, std::nullopt, std::nullopt, true)
            .shape() == Shape{0, 3});
  CHECK(mean.at<float>({0}) == doctest::Approx(0.15));
}

TEST_CASE("a constant slice normalizes to exact zeros, as PyTorch's") {
  // 45 copies of -4.1245508 (the op suite's seed 839337746): their float32
  // sum divided by 45 was an ulp off, and layerNorm's 1/sqrt(eps) made
  // the centered ulp 0.0015. The mean is now shifted by the slice's first
  // element, which centers a constant slice exactly.
  Tensor x = full({2, 3, 5, 3}, -4.1245508f);
  Tensor w = arange(45, kFloat32).reshape({3, 5, 3});
  Tensor b = full({3, 5, 3}, 3.0f);
  CHECK(eq(layerNorm(x, {3, 5, 3}, w, b), b.expand({2, 3, 5, 3}))
            .all()
            .item<bool>());
  CHECK(eq(var(x, {1, 2, 3}), 0.0).all().item<bool>());
  CHECK(eq(var(x.expand({4, 2, 3, 5, 3}), {}), 0.0).all().item<bool>());
  Tensor mean = zeros({3}), running = ones({3});
  CHECK(eq(batchNorm(x, mean, running, std::nullopt, std::nullopt, true), 0.0)
            .all()
            .item<bool>());
  CHECK(mean.at<float>({1}) == doctest::Approx(-0.41245508));
  // Far from zero, the digits stay: 1e4 + [0, 1, 2] has variance 1.
  Tensor far = add(arange(3, kFloat32), 1e4);
  CHECK(var(far, {0}).item<float>() == 1.0f);
  // An empty slice: NaN, as before.
  CHECK(std::isnan(var(zeros({0}), {0}).item<float>()));
}

TEST_CASE("dropout is seeded, unbiased and off outside training") {
  Tensor x = ones({100000});
  Generator a(7), b(7);
  Tensor da = dropout(x, 0.3, true, a), db = dropout(x, 0.3, true, b);
  CHECK(eq(da, db).all().item<bool>());
  double kept = (da != 0.0).sum().item<double>() / 100000.0;
  CHECK(kept == doctest::Approx(0.7).epsilon(0.02));
  CHECK(da.mean().item<double>() == doctest::Approx(1.0).epsilon(0.02));
  CHECK(da.amax().item<float>() == doctest::Approx(1.0 / 0.7));
  CHECK(dropout(x, 0.3, false).sharesStorageWith(x));
  CHECK_CONTAINS(errorOf<ValueError>([&] { (void)dropout(x, 1.5); }),
                 "dropout probability 1.5 is out of range");
  CHECK_CONTAINS(errorOf<DTypeError>([&] { (void)dropout(ones({2}, kInt32)); }),
                 "dropout is defined for floating tensors, not int32");
}

TEST_CASE("cumsum and cumprod") {
  Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
  CHECK(cumsum(x, 1).toVector<std::int64_t>() ==
        std::vector<std::int64_t>{1, 3, 6, 4, 9, 15});
  CHECK(cumprod(x, 0).toVector<std::int64_t>() ==
        std::vector<std::int64_t>{1, 2, 3, 4, 10, 18});
  CHECK(cumsum(tensor({true, true}), 0).dtype() == kInt64);
  CHECK(cumsum(tensor({0.5f, 0.25f}), -1).dtype() == kFloat32);
  CHECK_CONTAINS(errorOf<IndexError>([&] { (void)cumsum(x, 2); }),
                 "dimension 2");
}

TEST_CASE("class-loss options") {
  Tensor logits = tensor({{2.f, 0.f}, {0.f, 2.f}, {1.f, 1.f}});
  Tensor target = tensor({0, 1, 1});
  Tensor plain = crossEntropy(logits, target, LossReduction::None);
  ClassLossOptions ignore;
  ignore.ignoreIndex = 1;
  ignore.reduction = LossReduction::None;
  Tensor masked = crossEntropy(logits, target, ignore);
  CHECK(masked.at<float>({1}) == 0.0f);
  CHECK(masked.at<float>({0}) == plain.at<float>({0}));
  ignore.reduction = LossReduction::Mean; // only the one kept target counts
  CHECK(crossEntropy(logits, target, ignore).item<float>() ==
        plain.at<float>({0}));
  ClassLossOptions weighted;
  weighted.weight = tensor({1.f, 3.f});
  float w = crossEntropy(logits, target, weighted).item<float>();
  std::vector<float> p = plain.toVector<float>();
  CHECK(w == doctest::Approx((p[0] + 3 * p[1] + 3 * p[2]) / 7));
  CHECK_CONTAINS(errorOf<IndexError>([&] {
                   (void)nllLoss(logits, tensor({0, 2, 1}));
                 }),
                 "target 2 at position 1 is out of range for 2 classes");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   ClassLossOptions bad;
                   bad.weight = ones({3});
                   (void)crossEntropy(logits, target, bad);
                 }),
                 "weight of shape (3,) for 2 classes");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   ClassLossOptions smooth;
                   smooth.labelSmoothing = 0.1;
                   (void)nllLoss(logits, target, smooth);
                 }),
                 "nllLoss has no label smoothing");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)crossEntropy(logits, ones({3, 3}));
                 }),
                 "probability target of shape (3, 3)");
}

TEST_CASE("pooling, conv1d and transposed convolutions") {
  Tensor x = arange(0, 16, 1, kFloat32).reshape({1, 1, 4, 4});
  CHECK(maxPool2d(x, {2, 2}).toVector<float>() ==
        std::vector<float>{5, 7, 13, 15});
  ValuesIndices m = maxPool2dWithIndices(x, {3, 3}, {{2, 2}}, {1, 1});
  CHECK(m.values.shape() == Shape{1, 1, 2, 2});
  CHECK(m.indices.toVector<std::int64_t>() ==
        std::vector<std::int64_t>{5, 7, 13, 15});
  CHECK(avgPool2d(x, {2, 2}).toVector<float>() ==
        std::vector<float>{2.5, 4.5, 10.5, 12.5});
  // count_include_pad = false divides a corner window by its 1 real element.
  CHECK(avgPool2d(x, {2, 2}, {{2, 2}}, {1, 1}, false, false)
            .at<float>({0, 0, 0, 0}) == 0.0f);
  CHECK(adaptiveAvgPool2d(x, {1, 1}).item<float>() == 7.5f);
  CHECK(adaptiveAvgPool2d(x, {3, 3}).shape() == Shape{1, 1, 3, 3});
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)maxPool2d(x, {2, 2}, std::nullopt, {2, 2});
                 }),
                 "padding 2 for a kernel of size 2");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)maxPool2d(x, {5, 5});
                 }),
                 "would be empty");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)avgPool2d(ones({4, 4}), {2, 2});
                 }),
                 "an input of shape (4, 4) has rank 2");
  CHECK_CONTAINS(errorOf<DTypeError>([&] {
                   (void)avgPool2d(x.to(kInt32), {2, 2});
                 }),
                 "avgPool2d is defined for floating tensors, not int32");

  Tensor signal = tensor({{{1.f, 2.f, 3.f}}});
  CHECK(conv1d(signal, tensor({{{1.f, -1.f}}})).toVector<float>() ==
        std::vector<float>{-1, -1});
  // A transposed convolution with stride 2 spreads each input element into
  // the kernel's footprint.
  Tensor up = convTranspose1d(tensor({{{1.f, 2.f}}}), tensor({{{1.f, 1.f}}}),
                              std::nullopt, 2);
  CHECK(up.toVector<float>() == std::vector<float>{1, 1, 2, 2});
  CHECK_CONTAINS(
      errorOf<ShapeError>([&] {
        (void)convTranspose2d(ones({1, 2, 3, 3}), ones({3, 1, 2, 2}));
      }),
      "weight of shape (3, 1, 2, 2)");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)convTranspose2d(ones({1, 1, 1, 1}), ones({1, 1, 1, 1}),
                                         std::nullopt, {1, 1}, {1, 1});
                 }),
                 "gives an output of size -1");
}
