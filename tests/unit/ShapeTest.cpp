//===- ShapeTest.cpp - Shapes, strides and broadcasting -------------------===//
#include "TestUtil.h"

using namespace trueno;
using namespace trueno::testing;

TEST_CASE("numel, contiguous strides and shape text") {
  CHECK(numelOf(Shape{}) == 1);
  CHECK(numelOf(Shape{3, 0, 2}) == 0);
  CHECK(numelOf(Shape{2, 3, 4}) == 24);
  CHECK(contiguousStrides(Shape{2, 3, 4}) == Strides{12, 4, 1});
  CHECK(contiguousStrides(Shape{}) == Strides{});
  CHECK(contiguousStrides(Shape{2, 0, 3}) == Strides{3, 3, 1});
  CHECK(formatShape(Shape{}) == "()");
  CHECK(formatShape(Shape{5}) == "(5,)");
  CHECK(formatShape(Shape{3, 4}) == "(3, 4)");
}

TEST_CASE("broadcastShapes follows NumPy") {
  CHECK(broadcastShapes({{3, 1}, {1, 4}}) == Shape{3, 4});
  CHECK(broadcastShapes({{8, 1, 6, 1}, {7, 1, 5}}) == Shape{8, 7, 6, 5});
  CHECK(broadcastShapes({{5, 4}, {1}}) == Shape{5, 4});
  CHECK(broadcastShapes({{}, {2, 3}}) == Shape{2, 3});
  CHECK(broadcastShapes({{0, 1}, {1, 3}}) == Shape{0, 3});
  CHECK(broadcastShapes({{2, 1, 1}, {1, 3, 1}, {1, 1, 4}}) == Shape{2, 3, 4});
  CHECK(broadcastShapes({{4}}) == Shape{4});
  CHECK(broadcastShapes(std::initializer_list<Shape>{}) == Shape{});
}

TEST_CASE("broadcastShapes names both shapes and the axis that disagree") {
  std::string msg = errorOf<ShapeError>([] { broadcastShapes({{3, 4}, {5}}); });
  CHECK_CONTAINS(msg, "broadcastShapes: shapes (3, 4) and (5,) cannot be "
                      "broadcast together: at axis -1 (from the right) sizes "
                      "4 and 5 differ");
  CHECK_CONTAINS(msg, "hint: sizes must be equal or one of them 1");
  msg = errorOf<ShapeError>([] { broadcastShapes({{2, 1}, {1, 3}, {4, 1}}); });
  CHECK_CONTAINS(msg, "shapes (2, 1) and (4, 1)");
  CHECK_CONTAINS(msg, "at axis -2");
}

TEST_CASE("shapes are validated") {
  std::string msg = errorOf<ValueError>([] { zeros({2, -1}); });
  CHECK_CONTAINS(msg, "zeros: shape (2, -1) has a negative size -1");
  Shape tooMany(kMaxRank + 1, 1);
  msg = errorOf<ValueError>([&] { zeros(tooMany); });
  CHECK_CONTAINS(msg, "has 17 dimensions; at most 16 are supported");
  // Rank 8 and beyond work (ArrayFire and ggml stop at 4).
  Tensor t = ones({1, 2, 1, 2, 1, 2, 1, 2});
  CHECK(t.dim() == 8);
  CHECK(t.numel() == 16);
  CHECK(ones(Shape(kMaxRank, 1)).dim() == kMaxRank);
}
