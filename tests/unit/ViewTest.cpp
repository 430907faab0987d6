//===- ViewTest.cpp - Views share storage and never copy ------------------===//
#include "TestUtil.h"

using namespace trueno;
using namespace trueno::testing;

TEST_CASE("reshape is a view when the layout allows it, a copy otherwise") {
  Tensor x = arange(24).reshape({2, 3, 4});
  Tensor v = x.reshape({6, -1});
  CHECK(v.shape() == Shape{6, 4});
  CHECK(v.sharesStorageWith(x));
  // Merging transposed dims needs a copy...
  Tensor t = x.transpose(1, 2);
  Tensor r = t.reshape({2, 12});
  CHECK_FALSE(r.sharesStorageWith(x));
  CHECK(r.toVector<int>()[1] == 4);
  // ...but splitting a dim of a transposed view does not.
  Tensor split = t.reshape({2, 2, 2, 3});
  CHECK(split.sharesStorageWith(x));
  CHECK(split.strides() == Strides{12, 2, 1, 4});
  CHECK(x.view({4, 6}).sharesStorageWith(x));
  std::string msg = errorOf<ShapeError>([&] { t.view({24}); });
  CHECK_CONTAINS(msg, "view: a tensor of shape (2, 4, 3) with strides (12, 1, "
                      "4) cannot be viewed as shape (24,) without copying");
  CHECK_CONTAINS(msg, "hint: use reshape()");
  msg = errorOf<ShapeError>([&] { x.reshape({-1, -1}); });
  CHECK_CONTAINS(msg, "shape (-1, -1) has more than one -1");
  msg = errorOf<ShapeError>([&] { x.reshape({5, -1}); });
  CHECK_CONTAINS(msg, "into shape (5, -1): the -1 cannot be inferred");
  msg = errorOf<ShapeError>([&] { x.reshape({2, -3, 4}); });
  CHECK_CONTAINS(msg, "has an invalid size -3");
  CHECK(tensor(5).reshape({1, 1}).shape() == Shape{1, 1});
  CHECK_CONTAINS(errorOf<ShapeError>([] { arange(6).reshape({}); }),
                 "into shape () (1 elements)");
}

TEST_CASE("transpose, permute, T and mT swap strides") {
  Tensor x = zeros({2, 3, 4});
  Tensor t = x.transpose(0, -1);
  CHECK(t.shape() == Shape{4, 3, 2});
  CHECK(t.strides() == Strides{1, 4, 12});
  Tensor p = x.permute({1, 2, 0});
  CHECK(p.shape() == Shape{3, 4, 2});
  CHECK(p.strides() == Strides{4, 1, 12});
  CHECK(x.T().shape() == Shape{4, 3, 2});
  CHECK(x.mT().shape() == Shape{2, 4, 3});
  CHECK(tensor(1.0).T().dim() == 0);
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   x.permute({0, 0, 1});
                 }),
                 "permute: dimension 0 appears more than once in (0, 0, 1)");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   x.permute({0, 1});
                 }),
                 "permute: 2 dimensions given for a tensor of rank 3");
  CHECK_CONTAINS(
      errorOf<IndexError>([&] { x.transpose(0, 3); }),
      "transpose: dimension 3 is out of range for a tensor of rank 3 "
      "(shape (2, 3, 4))");
  CHECK_CONTAINS(errorOf<ShapeError>([] { zeros({3}).mT(); }),
                 "mT: needs a tensor of rank >= 2, got shape (3,)");
}

TEST_CASE("slice follows Python's rules") {
  Tensor x = arange(10);
  auto values = [](const Tensor &t) { return t.toVector<int>(); };
  CHECK(values(x.slice(0, 2, 8, 3)) == std::vector<int>{2, 5});
  CHECK(values(x.slice(0, -3, {})) == std::vector<int>{7, 8, 9});
  CHECK(values(x.slice(0, {}, {}, -1)) ==
        std::vector<int>{9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  CHECK(values(x.slice(0, 8, 2, -2)) == std::vector<int>{8, 6, 4});
  CHECK(values(x.slice(0, -100, 100)).size() == 10);
  CHECK(x.slice(0, 5, 2).numel() == 0);
  CHECK(x.slice(0, {}, {}, -1).strides() == Strides{-1});
  CHECK(x.slice(0, {}, {}, -1).offset() == 9);
  CHECK(x.slice(0, 1, 3).sharesStorageWith(x));
  Tensor m = arange(12).reshape({3, 4});
  CHECK(values(m.slice(1, {}, {}, -2)) == std::vector<int>{3, 1, 7, 5, 11, 9});
  CHECK_CONTAINS(errorOf<ValueError>([&] { x.slice(0, 0, 5, 0); }),
                 "slice: slice step cannot be zero");
  CHECK_CONTAINS(errorOf<IndexError>([&] { x.slice(1, 0, 5); }),
                 "slice: dimension 1 is out of range");
}

TEST_CASE("select and narrow") {
  Tensor m = arange(12).reshape({3, 4});
  CHECK(m.select(0, 1).toVector<int>() == std::vector<int>{4, 5, 6, 7});
  CHECK(m.select(1, -1).toVector<int>() == std::vector<int>{3, 7, 11});
  CHECK(m.select(0, 0).select(0, 0).dim() == 0);
  CHECK(m.narrow(1, 1, 2).toVector<int>() ==
        std::vector<int>{1, 2, 5, 6, 9, 10});
  CHECK(m.narrow(0, 3, 0).numel() == 0);
  CHECK_CONTAINS(errorOf<IndexError>([&] { m.select(1, 4); }),
                 "select: index 4 is out of range for dimension 1 with size 4 "
                 "(shape (3, 4))");
  CHECK_CONTAINS(
      errorOf<IndexError>([&] { m.narrow(1, 2, 3); }),
      "narrow: start 2 plus length 3 exceeds dimension 1 with size 4");
  CHECK_CONTAINS(errorOf<IndexError>([&] { m.narrow(1, 5, 0); }),
                 "narrow: start 5 is out of range");
}

TEST_CASE("squeeze, unsqueeze and flatten") {
  Tensor x = zeros({1, 3, 1, 2});
  CHECK(x.squeeze().shape() == Shape{3, 2});
  CHECK(x.squeeze(2).shape() == Shape{1, 3, 2});
  CHECK(x.squeeze(1).shape() == Shape{1, 3, 1, 2});
  CHECK(x.unsqueeze(0).shape() == Shape{1, 1, 3, 1, 2});
  CHECK(x.unsqueeze(-1).shape() == Shape{1, 3, 1, 2, 1});
  CHECK(x.unsqueeze(-1).strides().back() == 1);
  CHECK(tensor(1.0).unsqueeze(0).shape() == Shape{1});
  Tensor y = arange(24).reshape({2, 3, 4});
  CHECK(y.flatten().shape() == Shape{24});
  CHECK(y.flatten(1).shape() == Shape{2, 12});
  CHECK(y.flatten(0, 1).shape() == Shape{6, 4});
  CHECK(y.flatten(0, 1).sharesStorageWith(y));
  CHECK(tensor(1.0).flatten().shape() == Shape{1});
  // A scalar's dims 0 and -1, as PyTorch: squeeze and transpose are itself.
  Tensor scalar = tensor(3.0f);
  CHECK(scalar.squeeze(0).shape() == Shape{});
  CHECK(scalar.squeeze(-1).item<float>() == 3.0f);
  CHECK(scalar.transpose(0, -1).shape() == Shape{});
  CHECK_CONTAINS(errorOf<IndexError>([&] { scalar.squeeze(1); }),
                 "squeeze: dimension 1 is out of range for a tensor of rank 0");
  CHECK_CONTAINS(errorOf<IndexError>([&] { scalar.transpose(0, 2); }),
                 "transpose: dimension 2 is out of range for a tensor of rank 0");
  CHECK_CONTAINS(
      errorOf<IndexError>([&] { x.unsqueeze(5); }),
      "unsqueeze: dimension 5 is out of range for a tensor of rank 5");
  CHECK_CONTAINS(errorOf<ValueError>([&] { y.flatten(2, 1); }),
                 "flatten: startDim 2 comes after endDim 1");
}

TEST_CASE("expand and broadcastTo use stride 0") {
  Tensor col = tensor({{1}, {2}});
  Tensor e = col.expand({3, 2, 4});
  CHECK(e.shape() == Shape{3, 2, 4});
  CHECK(e.strides() == Strides{0, 1, 0});
  CHECK(e.sharesStorageWith(col));
  CHECK(e.at<int>({2, 1, 3}) == 2);
  CHECK(col.expand({-1, 5}).shape() == Shape{2, 5});
  CHECK(col.broadcastTo({2, 2}).toVector<int>() ==
        std::vector<int>{1, 1, 2, 2});
  CHECK(e.contiguous().isContiguous());
  CHECK_CONTAINS(
      errorOf<ShapeError>([&] {
        col.expand({3, 4});
      }),
      "expand: cannot expand shape (2, 1) to (3, 4): dimension 0 has "
      "size 2, which is neither 1 nor 3");
  CHECK_CONTAINS(errorOf<ShapeError>([&] { col.expand({4}); }),
                 "which has fewer dimensions");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   col.broadcastTo({-1, 4});
                 }),
                 "broadcastTo: invalid size -1 at dimension 0");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   col.expand({-1, 2, 1});
                 }),
                 "expand: invalid size -1 at dimension 0");
}

TEST_CASE("writes through any chain of views reach the base") {
  Tensor base = zeros({4, 5}, kInt32);
  Tensor v = base.T().slice(0, 1, {}, 2).select(1, -1); // base[3, 1::2]
  v.fill_(8);
  CHECK(base.at<int>({3, 1}) == 8);
  CHECK(base.at<int>({3, 3}) == 8);
  CHECK(base.at<int>({3, 2}) == 0);
  base.reshape({20}).slice(0, {}, {}, -5).fill_(-1); // base[:, 4]
  CHECK(base.select(1, 4).toVector<int>() == std::vector<int>{-1, -1, -1, -1});
  CHECK(base.isContiguous());
  CHECK_FALSE(base.T().isContiguous());
  CHECK(zeros({3, 1}).T().isContiguous()); // size-1 dims may have any stride
}

TEST_CASE("extreme steps and lengths do not overflow") {
  Tensor x = arange(5);
  CHECK_CONTAINS(errorOf<IndexError>([&] { x.narrow(0, 1, INT64_MAX); }),
                 "narrow: start 1 plus length 9223372036854775807 exceeds");
  Tensor last = x.slice(0, {}, {}, INT64_MIN);
  CHECK(last.toVector<int>() == std::vector<int>{4});
  CHECK(x.slice(0, {}, {}, INT64_MAX).toVector<int>() == std::vector<int>{0});
  CHECK_CONTAINS(errorOf<IndexError>([] { tensor(1.0).flatten(5, 7); }),
                 "flatten: dimension 5 is out of range for a tensor of rank 0");
  CHECK(tensor(1.0).flatten(-1, 0).shape() == Shape{1});
}
