//===- IndexingTest.cpp - Indexing, movement and sorting: semantics, errors
//===//
//
// Values on small known inputs (the randomized comparison against NumPy and
// PyTorch is tests/e2e/test_ops_vs_torch.py), which ops are views and which
// copy, that gathers fuse with their consumers, and every error message.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace trueno;
using trueno::testing::errorOf;

namespace {

Tensor grid(std::int64_t rows, std::int64_t cols) {
  return arange(0, rows * cols, 1, kFloat32).reshape({rows, cols});
}

} // namespace

TEST_CASE("basic indexing is a view; writes go through") {
  Tensor x = grid(3, 4);
  Tensor row = x.index({1});
  CHECK(row.shape() == Shape{4});
  CHECK(row.sharesStorageWith(x));
  Tensor corner = x.index({Slice(1, {}), Slice({}, {}, -2)});
  CHECK(corner.shape() == Shape{2, 2});
  CHECK(corner.toVector<float>() == std::vector<float>{7, 5, 11, 9});
  Tensor lifted = x.index({ellipsis, newaxis, -1});
  CHECK(lifted.shape() == Shape{3, 1});
  row.fill_(0.0);
  CHECK(x.at<float>({1, 2}) == 0.0f);
}

TEST_CASE("integer arrays follow NumPy's placement rules") {
  Tensor x = arange(0, 24, 1, kInt64).reshape({2, 3, 4});
  Tensor i = tensor({0, 2});
  // Adjacent arrays: their shape stays where they stand.
  Tensor a = x.index({Slice(), i, tensor({1, 3})});
  CHECK(a.shape() == Shape{2, 2});
  CHECK(a.toVector<std::int64_t>() == std::vector<std::int64_t>{1, 11, 13, 23});
  // Separated by a slice: their shape goes first. An integer counts as an
  // advanced index here, as in NumPy (PyTorch would give (3, 2)).
  Tensor b = x.index({0, Slice(), tensor({0, 1})});
  CHECK(b.shape() == Shape{2, 3});
  CHECK(b.toVector<std::int64_t>() ==
        std::vector<std::int64_t>{0, 4, 8, 1, 5, 9});
  // Negative indices count from the end; a mask selects its true positions.
  CHECK(x.index({-1, -1, tensor({-1})}).item<std::int64_t>() == 23);
  Tensor big = x.index({x > 20});
  CHECK(big.toVector<std::int64_t>() == std::vector<std::int64_t>{21, 22, 23});
  CHECK_FALSE(big.sharesStorageWith(x));
}

TEST_CASE("a gather fuses with its consumers and reads checked indices") {
  Tensor table = grid(10, 4);
  Tensor ids = tensor({7, 0, 3});
  RuntimeStats before = runtimeStats();
  Tensor y = (indexSelect(table, 0, ids) * 2.0).exp();
  std::vector<float> values = y.toVector<float>();
  CHECK(runtimeStats().kernelsLaunched - before.kernelsLaunched == 1);
  CHECK(values[0] == doctest::Approx(std::exp(56.0f)).epsilon(1e-6));
  CHECK(y.shape() == Shape{3, 4});
  Tensor g = gather(table, 1, tensor({{3}, {0}}));
  CHECK(g.toVector<float>() == std::vector<float>{3, 4});
}

TEST_CASE("index errors name the index, the dimension and its size") {
  Tensor x = grid(3, 4);
  CHECK_CONTAINS(errorOf<IndexError>([&] { (void)x.index({3}); }),
                 "index 3 is out of range for dimension 0 with size 3");
  CHECK_CONTAINS(
      errorOf<IndexError>([&] {
        (void)x.index({Slice(), tensor({1, 4})});
      }),
      "index 4 (element 1 of the index) is out of range for dimension 1 with "
      "size 4");
  CHECK_CONTAINS(errorOf<IndexError>([&] {
                   (void)x.index({0, 0, 0});
                 }),
                 "too many indices for a tensor of rank 2");
  CHECK_CONTAINS(errorOf<IndexError>([&] {
                   (void)x.index({ellipsis, ellipsis});
                 }),
                 "a single ellipsis");
  CHECK_CONTAINS(errorOf<DTypeError>([&] { (void)x.index({tensor({0.5f})}); }),
                 "the index tensor has dtype float32");
  CHECK_CONTAINS(errorOf<IndexError>([&] {
                   (void)x.index({tensor({true, false})});
                 }),
                 "a mask of shape (2,) cannot index dimensions 0 to 0");
  CHECK_CONTAINS(errorOf<IndexError>([&] {
                   (void)x.index({tensor({0, 1}), tensor({0, 1, 2})});
                 }),
                 "do not broadcast together");
  CHECK_CONTAINS(
      errorOf<IndexError>([&] { (void)indexSelect(x, 1, tensor({-1})); }),
      "index -1 (element 0 of the index) is out of range for dimension 1");
  CHECK_CONTAINS(
      errorOf<ShapeError>([&] { (void)indexSelect(x, 0, tensor({{0}})); }),
      "it must be a vector or a scalar");
  CHECK_CONTAINS(errorOf<ShapeError>([&] { (void)gather(x, 0, tensor({0})); }),
                 "the index of shape (1,) has rank 1, but the input of shape "
                 "(3, 4) has rank 2");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)gather(x, 0, zeros({1, 5}, kInt64));
                 }),
                 "larger than the input of shape (3, 4) in dimension 1");
  CHECK_CONTAINS(errorOf<IndexError>([&] {
                   (void)gather(x, 0, full({1, 1}, 9, kInt64));
                 }),
                 "index 9");
}

TEST_CASE("indexPut_ writes through views, accumulates repeats") {
  Tensor x = zeros({3, 4});
  Tensor view = x.index({Slice(1, {})});
  view.indexPut_({tensor({0, 0, 1}), tensor({1, 1, 3})},
                 tensor({1.f, 2.f, 4.f}), true);
  CHECK(x.at<float>({1, 1}) == 3.0f);
  CHECK(x.at<float>({2, 3}) == 4.0f);
  x.indexPut_({x > 2.5f}, -1.0);
  CHECK(x.at<float>({1, 1}) == -1.0f);
  CHECK(x.at<float>({2, 3}) == -1.0f);
  // A pending computation that read x sees the values before the write.
  Tensor doubled = x * 2.0;
  x.indexPut_({0}, tensor({5.f, 5.f, 5.f, 5.f}));
  CHECK(doubled.at<float>({0, 0}) == 0.0f);
  CHECK(x.at<float>({0, 0}) == 5.0f);
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   x.indexPut_({tensor({0, 1})}, ones({3}));
                 }),
                 "cannot assign values of shape (3,) to the 8 elements "
                 "indexed (shape (2, 4))");
  Tensor broadcast = zeros({4}).expand({3, 4});
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { broadcast.indexPut_({tensor({0})}, 1.0); }),
      "broadcast dimension");
  // setAt too: one element of a broadcast row is every row's.
  CHECK_CONTAINS(
      errorOf<ValueError>([&] {
        broadcast.setAt({1, 2}, 5.0);
      }),
      "setAt: the destination of shape (3, 4) has a broadcast dimension 0");
  CHECK(broadcast.sum().item<float>() == 0.0f);
}

TEST_CASE("scatter, scatterAdd, maskedFill, maskedSelect, nonzero") {
  Tensor x = zeros({2, 3});
  Tensor idx = tensor({{2, 0}, {1, 1}});
  Tensor src = tensor({{1.f, 2.f}, {3.f, 4.f}});
  CHECK(scatterAdd(x, 1, idx, src).toVector<float>() ==
        std::vector<float>{2, 0, 1, 0, 7, 0});
  CHECK(
      scatter(x, 1, tensor({{2, 0}}), tensor({{1.f, 2.f}})).toVector<float>() ==
      std::vector<float>{2, 0, 1, 0, 0, 0});
  CHECK_CONTAINS(
      errorOf<DTypeError>([&] { (void)scatter(x, 1, idx, src.to(kFloat64)); }),
      "the source has dtype float64 but x has dtype float32");
  CHECK_CONTAINS(
      errorOf<IndexError>([&] { (void)scatter(x, 0, tensor({{2}}), src); }),
      "index 2 (element 0 of the index) is out of range for "
      "dimension 0 with size 2");
  // Two values land on element 0: the mean with and without x's own 0.
  Tensor into = zeros({2});
  CHECK(scatterReduce(into, 0, tensor({0, 0}), tensor({2.f, 4.f}),
                      ScatterReduce::Mean)
            .at<float>({0}) == 2.0f);
  CHECK(scatterReduce(into, 0, tensor({0, 0}), tensor({2.f, 4.f}),
                      ScatterReduce::Mean, false)
            .at<float>({0}) == 3.0f);
  // Integer means floor exactly, also where a double would round (2^60 + 1)
  // and below zero. An int8 target may combine more values than int8 can
  // count: the (wrapped) sum -56 is divided by the true count 200. (PyTorch
  // counts in int8 too and divides -56 by -56.)
  std::int64_t big = (std::int64_t{1} << 60) + 1;
  CHECK(scatterReduce(zeros({1}, kInt64), 0, tensor({0, 0}),
                      tensor({big, big + 2}), ScatterReduce::Mean, false)
            .at<std::int64_t>({0}) == big + 1);
  CHECK(scatterReduce(zeros({1}, kInt64), 0, tensor({0, 0}),
                      tensor({std::int64_t{-3}, std::int64_t{0}}),
                      ScatterReduce::Mean, false)
            .at<std::int64_t>({0}) == -2);
  CHECK(scatterReduce(zeros({1}, kInt8), 0, zeros({200}, kInt64),
                      ones({200}, kInt8), ScatterReduce::Mean, false)
            .at<std::int8_t>({0}) == -1);
  CHECK(scatterReduce(into, 0, tensor({1}), tensor({-5.f}), ScatterReduce::Amax,
                      false)
            .at<float>({1}) == -5.0f);
  // bools: amax is an or, amin and prod an and; without the target's own
  // value the start is the identity (PyTorch: [false, true, true]).
  Tensor flags = tensor({true, true, false});
  CHECK(scatterReduce(flags, 0, tensor({0, 2}), tensor({false, true}),
                      ScatterReduce::Amax, false)
            .toVector<bool>() == std::vector<bool>{false, true, true});
  CHECK(scatterReduce(flags, 0, tensor({0, 0, 2}), tensor({true, true, true}),
                      ScatterReduce::Amin, false)
            .toVector<bool>() == std::vector<bool>{true, true, true});
  CHECK(scatterReduce(flags, 0, tensor({0, 2}), tensor({false, true}),
                      ScatterReduce::Prod)
            .toVector<bool>() == std::vector<bool>{false, true, false});
  CHECK(scatterReduce(flags, 0, tensor({2}), tensor({true}),
                      ScatterReduce::Prod, false)
            .toVector<bool>() == std::vector<bool>{true, true, true});
  CHECK_CONTAINS(errorOf<DTypeError>([&] {
                   (void)scatterReduce(zeros({2}, kBool), 0, tensor({0}),
                                       tensor({true}), ScatterReduce::Mean);
                 }),
                 "not defined for bool tensors");
  Tensor a = arange(0, 6, 1, kInt32).reshape({2, 3});
  Tensor filled = maskedFill(a, tensor({true, false, true}), 2.75);
  CHECK(filled.dtype() == kInt32);
  CHECK(filled.toVector<int>() == std::vector<int>{2, 1, 2, 2, 4, 2});
  CHECK_CONTAINS(errorOf<DTypeError>([&] { (void)maskedFill(a, a, 1); }),
                 "the mask has dtype int32; it must be bool");
  CHECK(maskedSelect(a, a > 3).toVector<int>() == std::vector<int>{4, 5});
  Tensor nz = nonzero(tensor({{0, 1}, {2, 0}}));
  CHECK(nz.shape() == Shape{2, 2});
  CHECK(nz.toVector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 1, 0});
  CHECK(nonzero(zeros({3})).shape() == Shape{0, 1});
}

TEST_CASE("gather and scatter read a 0-d tensor as a vector of one, as "
          "PyTorch does") {
  // Expected values: torch 1.13 on the same calls.
  Tensor x = tensor(3.0f);
  Tensor g = gather(x, 0, tensor({0}));
  CHECK(g.shape() == Shape{1});
  CHECK(g.item<float>() == 3.0f);
  CHECK(gather(x, -1, tensor({0, 0})).toVector<float>() ==
        std::vector<float>{3.0f, 3.0f});
  CHECK(gather(x, 0, tensor(std::int64_t(0))).shape() == Shape{});
  Tensor v = tensor({1.0f, 2.0f});
  Tensor g1 = gather(v, 0, tensor(std::int64_t(1)));
  CHECK(g1.shape() == Shape{});
  CHECK(g1.item<float>() == 2.0f);
  CHECK_THROWS_AS((void)gather(x, 0, tensor({1})), IndexError);
  CHECK_THROWS_AS((void)gather(x, 1, tensor({0})), IndexError);
  CHECK_THROWS_AS((void)gather(x, 0, tensor({{0, 0}})), ShapeError);
  // indexSelect keeps a 0-d input 0-d.
  CHECK(indexSelect(x, 0, tensor({0})).shape() == Shape{});
  CHECK(indexSelect(x, 0, tensor({0, 0})).item<float>() == 3.0f);
  CHECK_THROWS_AS((void)indexSelect(x, 0, tensor({0, 1})), IndexError);
  CHECK_THROWS_AS((void)indexSelect(x, 0, zeros({0}, kInt64)), IndexError);
  // Scatters into a 0-d target, or from a 0-d index and source.
  Tensor s = scatter(x, 0, tensor({0}), tensor({5.0f}));
  CHECK(s.shape() == Shape{});
  CHECK(s.item<float>() == 5.0f);
  CHECK(scatterAdd(x, 0, tensor(std::int64_t(0)), tensor(5.0f)).item<float>() ==
        8.0f);
  CHECK(
      scatter(v, 0, tensor(std::int64_t(1)), tensor(5.0f)).toVector<float>() ==
      std::vector<float>{1.0f, 5.0f});
  CHECK_THROWS_AS((void)scatter(x, 0, tensor({{0}}), tensor({{5.0f}})),
                  ShapeError);
}

TEST_CASE("joining and splitting") {
  Tensor a = grid(2, 2), b = grid(2, 3);
  Tensor c = cat({a, b.to(kFloat64)}, 1);
  CHECK(c.shape() == Shape{2, 5});
  CHECK(c.dtype() == kFloat64);
  CHECK(stack({a, a}, -1).shape() == Shape{2, 2, 2});
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)cat({a, b}, 0);
                 }),
                 "tensor 1 has shape (2, 3) but tensor 0 has shape (2, 2): "
                 "they differ in dimension 1");
  CHECK_CONTAINS(errorOf<ValueError>([&] { (void)cat({}, 0); }), "empty list");
  // PyTorch's legacy rule: (0,)-shaped tensors are skipped, whatever the
  // others' shapes, but their dtype counts; messages keep the positions.
  Tensor joined = cat({zeros({0}, kFloat64), ones({2, 2}), zeros({0})}, 0);
  CHECK(joined.shape() == Shape{2, 2});
  CHECK(joined.dtype() == kFloat64);
  CHECK(cat({zeros({0}), zeros({0})}, 0).shape() == Shape{0});
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)cat({zeros({0}), a, b}, 0);
                 }),
                 "tensor 2 has shape (2, 3) but tensor 1 has shape (2, 2)");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)stack({a, b});
                 }),
                 "tensor 1 has shape (2, 3) but tensor 0 has shape (2, 2)");
  std::vector<Tensor> parts = split(grid(5, 2), 2);
  CHECK(parts.size() == 3);
  CHECK(parts[2].shape() == Shape{1, 2});
  CHECK(parts[0].sharesStorageWith(parts[1]));
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)split(grid(5, 2), std::vector<std::int64_t>{2, 2});
                 }),
                 "split sizes (2, 2) add up to 4, but dimension 0");
  CHECK(chunk(grid(5, 2), 3).size() == 3);
  CHECK(chunk(grid(4, 2), 3).size() == 2); // pieces of ceil(4 / 3) = 2
  CHECK_CONTAINS(errorOf<ValueError>([&] { (void)chunk(a, 0); }),
                 "cannot split into 0 chunks");
}

TEST_CASE("reordering, repeating, padding, triangles and diagonals") {
  Tensor x = grid(2, 3);
  Tensor flipped = flip(x, {0, 1});
  CHECK(flipped.toVector<float>() == std::vector<float>{5, 4, 3, 2, 1, 0});
  CHECK_FALSE(flipped.sharesStorageWith(x));
  CHECK(roll(x, {1}, {1}).toVector<float>() ==
        std::vector<float>{2, 0, 1, 5, 3, 4});
  CHECK(roll(x, {-1}).toVector<float>() ==
        std::vector<float>{1, 2, 3, 4, 5, 0});
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)roll(x, {1, 2}, {0});
                 }),
                 "2 shifts given for 1 dimensions");
  CHECK(tile(tensor({1, 2}), {2, 2}).shape() == Shape{2, 4});
  CHECK(repeatInterleave(tensor({1, 2}), tensor({0, 3}))
            .toVector<std::int64_t>() == std::vector<std::int64_t>{2, 2, 2});
  CHECK(pad(tensor({1, 2, 3}), {2, 1}, PadMode::Reflect)
            .toVector<std::int64_t>() ==
        std::vector<std::int64_t>{3, 2, 1, 2, 3, 2});
  CHECK(pad(tensor({1, 2, 3}), {-1, 1}, PadMode::Constant, 9)
            .toVector<std::int64_t>() == std::vector<std::int64_t>{2, 3, 9});
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)pad(tensor({1, 2, 3}), {3, 0}, PadMode::Reflect);
                 }),
                 "reflect padding (3, 0) of dimension 0 with size 3");
  CHECK(tril(ones({3, 3}), -1).sum().item<float>() == 3.0f);
  CHECK(triu(ones({2, 3}, kBool)).dtype() == kBool);
  CHECK_CONTAINS(errorOf<ShapeError>([&] { (void)tril(ones({3})); }),
                 "has no last two dimensions");
  Tensor d = diagonal(grid(3, 3), 1);
  CHECK(d.toVector<float>() == std::vector<float>{1, 5});
  CHECK(diag(tensor({1, 2}), -1).shape() == Shape{3, 3});
}

TEST_CASE("sorting and searching") {
  Tensor x = tensor({3.f, NAN, 1.f, 3.f});
  ValuesIndices s = sort(x);
  CHECK(s.indices.toVector<std::int64_t>() ==
        std::vector<std::int64_t>{2, 0, 3, 1});
  CHECK(argsort(x, -1, true).toVector<std::int64_t>() ==
        std::vector<std::int64_t>{1, 0, 3, 2});
  ValuesIndices top = topk(tensor({{1, 5, 3}}), 2);
  CHECK(top.values.toVector<std::int64_t>() == std::vector<std::int64_t>{5, 3});
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)topk(tensor({1, 2}), 3);
                 }),
                 "cannot take the top 3 of dimension 0 with size 2");
  UniqueResult u = unique(tensor({{2, 1}, {2, 3}}));
  CHECK(u.values.toVector<std::int64_t>() ==
        std::vector<std::int64_t>{1, 2, 3});
  CHECK(u.inverse.shape() == Shape{2, 2});
  CHECK(u.counts.toVector<std::int64_t>() ==
        std::vector<std::int64_t>{1, 2, 1});
  // Along a dimension: rows sorted lexicographically; a row holding NaN
  // equals no other row, and sorts after the rows whose element there is a
  // number.
  float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor grid =
      tensor({{1.f, 2.f}, {0.f, 5.f}, {1.f, 2.f}, {1.f, nan}, {1.f, nan}});
  UniqueResult rowsOf = unique(grid, 0);
  CHECK(rowsOf.values.shape() == Shape{4, 2});
  std::vector<float> v = rowsOf.values.toVector<float>();
  CHECK(v[0] == 0.f);
  CHECK(v[1] == 5.f);
  CHECK(v[2] == 1.f);
  CHECK(v[3] == 2.f);
  CHECK(std::isnan(v[5]));
  CHECK(std::isnan(v[7]));
  CHECK(rowsOf.inverse.toVector<std::int64_t>() ==
        std::vector<std::int64_t>{1, 0, 1, 2, 3});
  CHECK(rowsOf.counts.toVector<std::int64_t>() ==
        std::vector<std::int64_t>{1, 2, 1, 1});
  // Columns (dim -1) of a view; an empty dimension gives empty results.
  UniqueResult columns = unique(tensor({{3, 1, 3}, {4, 2, 4}}), -1);
  CHECK(columns.values.toVector<std::int64_t>() ==
        std::vector<std::int64_t>{1, 3, 2, 4});
  CHECK(columns.inverse.toVector<std::int64_t>() ==
        std::vector<std::int64_t>{1, 0, 1});
  UniqueResult none = unique(zeros({0, 3}), 0);
  CHECK(none.values.shape() == Shape{0, 3});
  CHECK(none.counts.numel() == 0);
  CHECK_CONTAINS(errorOf<IndexError>([&] { (void)unique(grid, 2); }),
                 "dimension 2");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)unique(zeros({3, 0}), 0);
                 }),
                 "the tensor has shape (3, 0): its slices along dimension 0 "
                 "are empty");
  CHECK_CONTAINS(errorOf<ValueError>([&] { (void)unique(tensor(2.f), 0); }),
                 "a zero-dimensional tensor has no dimension 0");
  Tensor seq = tensor({1, 3, 5});
  CHECK(searchsorted(seq, tensor({3, 6})).toVector<std::int64_t>() ==
        std::vector<std::int64_t>{1, 3});
  CHECK(searchsorted(seq, tensor({3}), true).item<std::int64_t>() == 2);
  // Through a sorter (numpy.searchsorted([5, 1, 3], [0, 2, 3, 6],
  // sorter=[1, 2, 0]) gives [0, 1, 1, 3]; side="right" [0, 1, 2, 3]).
  Tensor unsorted = tensor({5, 1, 3});
  Tensor sorter = argsort(unsorted);
  CHECK(sorter.toVector<std::int64_t>() == std::vector<std::int64_t>{1, 2, 0});
  CHECK(searchsorted(unsorted, tensor({0, 2, 3, 6}), false, sorter)
            .toVector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 1, 3});
  CHECK(searchsorted(unsorted, tensor({0, 2, 3, 6}), true, sorter)
            .toVector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3});
  // Rows sorted each by their own sorter.
  Tensor rows = tensor({{3.f, 1.f}, {0.f, 2.f}});
  CHECK(searchsorted(rows, tensor({{2.f}, {1.f}}), false, argsort(rows))
            .toVector<std::int64_t>() == std::vector<std::int64_t>{1, 1});
  CHECK_CONTAINS(errorOf<DTypeError>([&] {
                   (void)searchsorted(unsorted, tensor({1}), false,
                                      sorter.to(kInt32));
                 }),
                 "the sorter must be int64, not int32");
  CHECK_CONTAINS(
      errorOf<ShapeError>([&] {
        (void)searchsorted(unsorted, tensor({1}), false, tensor({0, 1}));
      }),
      "the sorter has shape (2,) but the sequence has shape (3,)");
  CHECK_CONTAINS(
      errorOf<IndexError>([&] {
        (void)searchsorted(unsorted, tensor({1}), false, tensor({0, 1, 3}));
      }),
      "searchsorted: the sorter holds 3 at flat position 2, out of range for "
      "rows of 3 elements");
  CHECK_CONTAINS(
      errorOf<IndexError>([&] {
        (void)searchsorted(unsorted, tensor({1}), false, tensor({-1, 1, 2}));
      }),
      "the sorter holds -1 at flat position 0");
  // sorted = false allows any order; the values are the top k either way.
  ValuesIndices anyOrder = topk(tensor({4, 9, 1, 7}), 2, -1, true, false);
  std::vector<std::int64_t> picked = anyOrder.values.toVector<std::int64_t>();
  std::sort(picked.begin(), picked.end());
  CHECK(picked == std::vector<std::int64_t>{7, 9});
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)searchsorted(ones({2, 3}), ones({3, 1}));
                 }),
                 "the sequence has shape (2, 3) but the values have shape "
                 "(3, 1)");
}

TEST_CASE("sorts and scans split across threads agree with one row at a time") {
  // 512 rows of 700: enough work for the rows to be split across cores.
  Generator gen(9);
  Tensor x = randn({512, 700}, gen);
  ValuesIndices s = sort(x, 1, true);
  Tensor c = cumsum(x, 1);
  for (std::int64_t r : {0, 255, 256, 511}) {
    ValuesIndices one = sort(x.index({r}), 0, true);
    CHECK(eq(one.indices, s.indices.index({r})).all().item<bool>());
    CHECK(eq(cumsum(x.index({r}), 0), c.index({r})).all().item<bool>());
  }
}
