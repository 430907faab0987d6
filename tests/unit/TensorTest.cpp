//===- TensorTest.cpp - Creation, element access, copies and writes -------===//
#include "TestUtil.h"

#include <cmath>

using namespace trueno;
using namespace trueno::testing;

TEST_CASE("nested initializer lists") {
  Tensor a = tensor({{1, 2}, {3, 4}});
  CHECK(a.dtype() == kInt64);
  CHECK(a.shape() == Shape{2, 2});
  CHECK(a.strides() == Strides{2, 1});
  CHECK(a.toVector<std::int64_t>() == std::vector<std::int64_t>{1, 2, 3, 4});
  CHECK(tensor({1.5, 2.0}).dtype() == kFloat32);
  CHECK(tensor({1.5f}).dtype() == kFloat32);
  CHECK(tensor({true, false}).dtype() == kBool);
  CHECK(tensor({{{1.0}}, {{2.0}}}).shape() == Shape{2, 1, 1});
  CHECK(tensor({1, 2}, kFloat64).dtype() == kFloat64);
  CHECK(tensor({{{{{{7}}}}}}).dim() == 6);
  Tensor s = tensor(3.5);
  CHECK(s.dim() == 0);
  CHECK(s.item<float>() == 3.5f);
  CHECK(tensor(std::uint8_t(7)).dtype() == kUInt8);
  std::string msg = errorOf<ValueError>([] { tensor({{1, 2, 3}, {4, 5}}); });
  CHECK_CONTAINS(msg, "tensor: ragged nested list: a list at depth 1 has 2 "
                      "elements where an earlier one had 3");
}

TEST_CASE("from a vector or span with a shape") {
  std::vector<float> values = {1, 2, 3, 4, 5, 6};
  Tensor t = fromVector(values, {2, 3});
  CHECK(t.dtype() == kFloat32);
  CHECK(t.at<float>({1, 2}) == 6.0f);
  values[0] = 100; // the tensor holds a copy
  CHECK(t.at<float>({0, 0}) == 1.0f);
  std::vector<double> doubles = {1.5, 2.5};
  CHECK(fromVector(doubles, {2}).dtype() == kFloat64);
  CHECK(fromVector(doubles, {2}, kFloat32).at<float>({1}) == 2.5f);
  std::vector<bool> flags = {true, false, true};
  CHECK(fromVector(flags, {3}).toVector<bool>() == flags);
  std::vector<std::int16_t> shorts = {1, -2};
  CHECK(fromSpan(std::span<const std::int16_t>(shorts), {2}).dtype() == kInt16);
  std::vector<unsigned> wide = {7u, 8u};
  CHECK(fromVector(wide, {2}).dtype() == kInt64);
  std::string msg = errorOf<ShapeError>([&] { fromVector(values, {4, 2}); });
  CHECK_CONTAINS(msg, "tensor: 6 values cannot fill shape (4, 2) (8 elements)");
}

TEST_CASE("zeros, ones, full, empty and the Like forms") {
  CHECK(zeros({2, 3}).dtype() == kFloat32);
  CHECK(zeros({2, 3}).toVector<float>() == std::vector<float>(6, 0.0f));
  CHECK(ones({2}, kInt32).toVector<int>() == std::vector<int>{1, 1});
  CHECK(full({2}, 7).dtype() == kInt64);
  CHECK(full({2}, 2.5).dtype() == kFloat32);
  CHECK(full({2}, true).dtype() == kBool);
  CHECK(full({3}, 2.75, kInt8).toVector<int>() == std::vector<int>{2, 2, 2});
  CHECK(empty({4, 0}).numel() == 0);
  Tensor like = ones({2, 2}, kFloat64);
  CHECK(zerosLike(like).dtype() == kFloat64);
  CHECK(onesLike(like, kInt8).dtype() == kInt8);
  CHECK(fullLike(like, 3).toVector<double>() == std::vector<double>(4, 3.0));
  CHECK(emptyLike(like).shape() == Shape{2, 2});
  CHECK(zeros({}).dim() == 0);
  CHECK(zeros({}).numel() == 1);
}

TEST_CASE("arange, linspace and eye") {
  CHECK(arange(5).toVector<std::int64_t>() ==
        std::vector<std::int64_t>{0, 1, 2, 3, 4});
  CHECK(arange(5).dtype() == kInt64);
  CHECK(arange(1, 10, 4).toVector<int>() == std::vector<int>{1, 5, 9});
  CHECK(arange(10, 0, -3).toVector<int>() == std::vector<int>{10, 7, 4, 1});
  CHECK(arange(0, 1, 0.25).dtype() == kFloat32);
  CHECK(arange(0, 1, 0.25).toVector<float>() ==
        std::vector<float>{0, 0.25f, 0.5f, 0.75f});
  CHECK(arange(5, 0).numel() == 0);
  CHECK(arange(0.0, 1.0, 0.1).numel() == 10);
  CHECK(linspace(0, 1, 5).toVector<float>() ==
        std::vector<float>{0, 0.25f, 0.5f, 0.75f, 1});
  CHECK(linspace(2, 3, 1).toVector<double>() == std::vector<double>{2});
  CHECK(linspace(2, 3, 0).numel() == 0);
  CHECK(std::isnan(linspace(0, INFINITY, 1).item<float>())); // 0 * inf + 0
  CHECK(linspace(-1, 1, 3, kInt32).toVector<int>() ==
        std::vector<int>{-1, 0, 1});
  CHECK(eye(2).toVector<float>() == std::vector<float>{1, 0, 0, 1});
  CHECK(eye(2, 3, kInt32).toVector<int>() ==
        std::vector<int>{1, 0, 0, 0, 1, 0});
  CHECK_CONTAINS(errorOf<ValueError>([] { arange(0, 10, 0); }),
                 "arange: step must not be zero");
  CHECK_CONTAINS(errorOf<ValueError>([] { arange(0, INFINITY, 1.0); }),
                 "bounds and step must be finite");
  CHECK_CONTAINS(errorOf<DTypeError>([] { arange(0, 3, 1, kBool); }),
                 "a range of bool values is not defined");
  CHECK_CONTAINS(errorOf<ValueError>([] { linspace(0, 1, -1); }),
                 "linspace: steps must be >= 0, got -1");
  CHECK_CONTAINS(errorOf<ValueError>([] { eye(-2); }),
                 "eye: sizes must be >= 0, got n=-2, m=-2");
}

TEST_CASE("item, at, toVector and data") {
  Tensor t = tensor({{1.5, 2.5, 3.5}, {4.5, 5.5, 6.5}});
  CHECK(t.at<float>({1, 2}) == 6.5f);
  CHECK(t.at<float>({-1, -3}) == 4.5f);
  CHECK(t.at({0, 0}).toDouble() == 1.5);
  CHECK(t.toVector<int>() == std::vector<int>{1, 2, 3, 4, 5, 6});
  CHECK(t.data<float>()[4] == 5.5f);
  CHECK(tensor({42}).item<int>() == 42);
  CHECK(t.numel() == 6);
  CHECK(t.itemSize() == 4);
  CHECK(t.size(-1) == 3);
  CHECK(t.stride(0) == 3);
  CHECK(t.device() == Device::cpu());
  CHECK(t.device().name() == "cpu");

  std::string msg = errorOf<ValueError>([&] { t.item(); });
  CHECK_CONTAINS(msg, "item: a tensor with 6 elements (shape (2, 3)) cannot be "
                      "converted to a single value");
  msg = errorOf<IndexError>([&] { t.at({2, 0}); });
  CHECK_CONTAINS(msg, "at: index 2 is out of range for dimension 0 with size 2 "
                      "(shape (2, 3))");
  CHECK_CONTAINS(msg, "hint: valid indices are -2 to 1");
  msg = errorOf<IndexError>([&] { t.at({0}); });
  CHECK_CONTAINS(msg, "at: 1 indices given for a tensor of rank 2");
  msg = errorOf<IndexError>([&] { t.size(2); });
  CHECK_CONTAINS(msg, "size: dimension 2 is out of range for a tensor of rank "
                      "2 (shape (2, 3))");
  CHECK_CONTAINS(msg, "valid dimensions are -2 to 1");
  msg = errorOf<DTypeError>([&] { t.data<double>(); });
  CHECK_CONTAINS(msg, "data: the tensor has dtype float32 but the pointer "
                      "asked for is float64");
  msg = errorOf<ValueError>([&] { t.T().data<float>(); });
  CHECK_CONTAINS(msg, "is not contiguous");
  CHECK_CONTAINS(msg, "hint: call contiguous() first");
  msg = errorOf<IndexError>([] { tensor(1.0).size(0); });
  CHECK_CONTAINS(msg, "a rank-0 tensor has no dimensions");
}

TEST_CASE("clone, contiguous and to copy only when needed") {
  Tensor t = arange(6).reshape({2, 3});
  CHECK(t.contiguous().sharesStorageWith(t));
  Tensor c = t.clone();
  CHECK_FALSE(c.sharesStorageWith(t));
  Tensor tt = t.T();
  CHECK_FALSE(tt.isContiguous());
  Tensor tc = tt.contiguous();
  CHECK(tc.isContiguous());
  CHECK_FALSE(tc.sharesStorageWith(t));
  CHECK(tc.toVector<int>() == std::vector<int>{0, 3, 1, 4, 2, 5});
  CHECK(t.to(kFloat16).to(kFloat64).toVector<double>() ==
        std::vector<double>{0, 1, 2, 3, 4, 5});
}

TEST_CASE("fill_, copy_ and setAt write through views") {
  Tensor base = zeros({3, 4});
  base.slice(1, 1, 3).fill_(7);
  CHECK(base.toVector<int>() ==
        std::vector<int>{0, 7, 7, 0, 0, 7, 7, 0, 0, 7, 7, 0});
  base.select(0, 2).copy_(tensor({1, 2, 3, 4}));
  CHECK(base.at<int>({2, 3}) == 4);
  base.T().select(0, 0).copy_(tensor(9.9)); // broadcast, converted
  CHECK(base.at<float>({1, 0}) == doctest::Approx(9.9f));
  base.setAt({0, -1}, -5);
  CHECK(base.at<int>({0, 3}) == -5);
  // Overlapping source and destination behave as if the source were copied
  // first: shifting a row right by one.
  Tensor row = arange(5, TensorOptions(kFloat32));
  row.slice(0, 1, 5).copy_(row.slice(0, 0, 4));
  CHECK(row.toVector<int>() == std::vector<int>{0, 0, 1, 2, 3});

  std::string msg = errorOf<ShapeError>([&] { base.copy_(ones({2, 4})); });
  CHECK_CONTAINS(msg, "copy_: cannot copy a tensor of shape (2, 4) into one "
                      "of shape (3, 4)");
  msg = errorOf<ValueError>([] { tensor({1.0}).expand({3}).fill_(0); });
  CHECK_CONTAINS(msg, "fill_: the destination of shape (3,) has a broadcast "
                      "dimension 0 (stride 0)");
  msg = errorOf<IndexError>([&] { base.setAt({3, 0}, 1); });
  CHECK_CONTAINS(msg, "setAt: index 3 is out of range for dimension 0");
}

TEST_CASE("empty tensors") {
  Tensor e = zeros({0, 3});
  CHECK(e.numel() == 0);
  CHECK(e.isContiguous());
  CHECK(e.toVector<float>().empty());
  CHECK(e.reshape({3, 0, 5}).shape() == Shape{3, 0, 5});
  CHECK(e.T().shape() == Shape{3, 0});
  CHECK(e.clone().numel() == 0);
  CHECK_CONTAINS(errorOf<IndexError>([&] { e.select(0, 0); }),
                 "hint: the dimension is empty");
}

TEST_CASE("sizes that overflow are rejected before any allocation") {
  // 274177 * 67280421310721 = 2^64 + 1: wraps to 1 without a check.
  const std::int64_t a = 274177, b = 67280421310721;
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   zeros({a, b});
                 }),
                 "zeros: shape (274177, 67280421310721) is too big");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   zeros({1}).reshape({a, b});
                 }),
                 "reshape: shape (274177, 67280421310721) is too big");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   fromVector(std::vector<float>{1}, {a, b});
                 }),
                 "is too big");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   tensor({1.f}).expand({a, b});
                 }),
                 "expand: shape (274177, 67280421310721) is too big");
  CHECK_CONTAINS(errorOf<ValueError>([] { zeros({1LL << 61}, kFloat64); }),
                 "would need more than 2^63 bytes");
  CHECK_CONTAINS(errorOf<ValueError>([] {
                   zeros({0, 1LL << 62, 1LL << 62});
                 }),
                 "is too big"); // zeros do not excuse the other sizes
  CHECK_CONTAINS(errorOf<ValueError>([] { eye(1LL << 32); }), "is too big");
  CHECK_CONTAINS(errorOf<ValueError>([] { arange(0.0, 1e300, 1.0); }),
                 "arange: the range [0, 1e+300) by 1 has too many elements");
  CHECK_CONTAINS(errorOf<ValueError>([] { arange(0, INT64_MAX, 2); }),
                 "is too big");
  CHECK_CONTAINS(errorOf<ValueError>([] { linspace(0, 1, 1LL << 61); }),
                 "linspace: shape (2305843009213693952,) is too big");
  // The op the caller called, at the caller's line.
  CHECK_CONTAINS(errorOf<MemoryError>([] { empty({1LL << 45}); }),
                 "empty: cannot allocate 140737488355328 bytes");
  int line = __LINE__ + 1;
  std::string failed = errorOf<MemoryError>([] { empty({1LL << 45}); });
  CHECK_CONTAINS(failed, "TensorTest.cpp:" + std::to_string(line));
}

TEST_CASE("setFlushDenormal flushes subnormals in CPU kernels, as PyTorch's") {
  // Two subnormals and a normal number, read by a kernel (the product with
  // ones is not folded away: the ones are data).
  Tensor tiny32 = tensor({1e-40f, -3e-42f, 1e-30f});
  Tensor tiny64 = tensor({1e-310, -4e-320, 1e-300}, kFloat64);
  auto run = [&] {
    return std::pair{(tiny32 * ones({3})).toVector<float>(),
                     (tiny64 * ones({3}, kFloat64)).toVector<double>()};
  };
  auto [kept32, kept64] = run();
  CHECK(kept32 == std::vector<float>{1e-40f, -3e-42f, 1e-30f});
  CHECK(kept64 == std::vector<double>{1e-310, -4e-320, 1e-300});
  REQUIRE(setFlushDenormal(true)); // x86-64 has FTZ and DAZ
  auto [flushed32, flushed64] = run();
  CHECK(setFlushDenormal(false));
  CHECK(flushed32 == std::vector<float>{0.0f, 0.0f, 1e-30f});
  CHECK(std::signbit(flushed32[1]));
  CHECK(flushed64 == std::vector<double>{0.0, 0.0, 1e-300});
  // Off again: the same program keeps subnormals.
  CHECK(run().first == kept32);
  // The caller's own floating-point mode is left as it was.
  volatile float small = 1e-20f;
  CHECK(small * small != 0.0f); // 1e-40, a subnormal, not flushed here
}
