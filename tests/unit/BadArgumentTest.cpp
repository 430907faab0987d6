//===- BadArgumentTest.cpp - Every public op rejects bad arguments --------===//
//
// One table: a call with a wrong rank, shape, dim, dtype, index or size
// for each public op, the error type it must throw, and the public name it
// must report. Each row also checks that the error points at this file, at
// the row's own line (a call that captured a location inside the library,
// or none, fails), so that a user's message always names their line.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>

using namespace trueno;
using namespace trueno::testing;
namespace la = trueno::linalg;

namespace {

struct Row {
  const char *type;            ///< the expected error type's name
  std::string op;              ///< the public name the message must report
  int line;                    ///< where the row (and its call) is written
  std::function<void()> call;  ///< the bad call
  std::function<bool(const Error &)> isType;
};

template <typename E> bool is(const Error &e) {
  return dynamic_cast<const E *>(&e) != nullptr;
}

#define BAD(Type, opName, ...)                                                 \
  Row { #Type, opName, __LINE__, [&] { __VA_ARGS__; }, &is<Type> }

} // namespace

TEST_CASE("every public op rejects bad arguments with a typed error naming "
          "itself and the caller's line") {
  Tensor m = ones({2, 3}), v = ones({3}), i = tensor({0, 1}), big = ones({4, 4});
  Tensor image = ones({1, 1, 5, 5}), filter = ones({2, 1, 3, 3});
  Tensor undefined;
  constexpr std::int64_t k62 = std::int64_t(1) << 62;
  constexpr std::int64_t k40 = std::int64_t(1) << 40, k32 = std::int64_t(1) << 32;
  // Views that fit alone but whose result's element count does not.
  Tensor tall = ones({1, 1}).expand({k40, 1}), wide = ones({1, 1}).expand({1, k40});
  std::vector<Row> rows = {
      // Creation.
      BAD(ValueError, "zeros", (void)zeros({2, -1})),
      BAD(ValueError, "ones", (void)ones({k62, k62})),
      BAD(MemoryError, "empty", (void)empty({k62}, kInt8)),
      BAD(ValueError, "arange", (void)arange(0, 10, 0)),
      BAD(ValueError, "arange", (void)arange(INT64_MIN, INT64_MAX)),
      BAD(ValueError, "full", (void)full({-3}, 1.0f)),
      // Metadata and views.
      BAD(ValueError, "dim", (void)undefined.dim()),
      BAD(ShapeError, "reshape", (void)m.reshape({4})),
      BAD(ShapeError, "view", (void)m.T().view({6})),
      BAD(IndexError, "transpose", (void)m.transpose(0, 2)),
      BAD(ShapeError, "permute", (void)m.permute({0})),
      BAD(IndexError, "select", (void)m.select(0, 2)),
      BAD(IndexError, "narrow", (void)m.narrow(1, 2, 2)),
      BAD(IndexError, "squeeze", (void)m.squeeze(3)),
      BAD(IndexError, "unsqueeze", (void)m.unsqueeze(4)),
      BAD(ShapeError, "expand", (void)m.expand({3, 3})),
      BAD(ValueError, "flatten", (void)m.flatten(1, 0)),
      BAD(ShapeError, "mT", (void)v.mT()),
      BAD(ValueError, "add", (void)(tall + wide)),
      BAD(ValueError, "where", (void)where(tall > 0, tall, wide)),
      BAD(ValueError, "outer", (void)outer(tall.flatten(), wide.flatten())),
      BAD(ValueError, "matmul", (void)matmul(tall.narrow(0, 0, k32), wide.narrow(1, 0, k32))),
      BAD(ValueError, "contiguous", (void)undefined.contiguous()),
      // Element access and writes.
      BAD(IndexError, "at", (void)m.at<float>({2, 0})),
      BAD(ValueError, "item", (void)m.item<float>()),
      BAD(DTypeError, "data", (void)m.data<int>()),
      BAD(ValueError, "setAt", m.expand({2, 2, 3}).setAt({0, 0, 0}, 1.0)),
      BAD(ShapeError, "copy_", m.copy_(ones({3, 2}))),
      BAD(ValueError, "fill_", m.expand({2, 2, 3}).fill_(1.0f)),
      BAD(DTypeError, "add_", i.add_(0.5)),
      BAD(ShapeError, "mul_", v.mul_(m)),
      // Elementwise and reductions.
      BAD(ShapeError, "add", (void)(m + ones({2}))),
      BAD(DTypeError, "where", (void)where(m, m, m)),
      BAD(DTypeError, "bitwiseNot", (void)bitwiseNot(m)),
      BAD(IndexError, "sum", (void)sum(m, {2})),
      BAD(IndexError, "softmax", (void)softmax(m, 2)),
      BAD(IndexError, "logsumexp", (void)logsumexp(m, {-3})),
      BAD(IndexError, "argmax", (void)argmax(m, 5)),
      BAD(DTypeError, "elu", (void)elu(i)),
      BAD(IndexError, "cumsum", (void)cumsum(m, 2)),
      // Products and convolutions.
      BAD(ShapeError, "matmul", (void)matmul(m, m)),
      BAD(ShapeError, "dot", (void)dot(v, ones({4}))),
      BAD(ShapeError, "outer", (void)outer(m, v)),
      BAD(ShapeError, "addmm", (void)addmm(ones({5}), m, m.mT())),
      BAD(ShapeError, "linear", (void)linear(m, ones({3, 2}))),
      BAD(ShapeError, "conv2d", (void)conv2d(m, filter)),
      BAD(ValueError, "conv2d", (void)conv2d(image, filter, std::nullopt, {0, 1})),
      BAD(ValueError, "conv2d", (void)conv2d(image, filter, std::nullopt, {1, 1}, {0, 0}, {k62, 1})),
      BAD(ShapeError, "convTranspose2d", (void)convTranspose2d(m, filter)),
      BAD(ShapeError, "maxPool2d", (void)maxPool2d(v, {2, 2})),
      BAD(ShapeError, "avgPool2d", (void)avgPool2d(v, {2, 2})),
      BAD(ValueError, "adaptiveAvgPool2d", (void)adaptiveAvgPool2d(image, {k62, k62})),
      // Normalization and losses.
      BAD(ShapeError, "layerNorm", (void)layerNorm(m, {2})),
      BAD(ShapeError, "batchNorm", (void)batchNorm(v, ones({3}), ones({3}))),
      BAD(ValueError, "dropout", (void)dropout(m, 1.5)),
      BAD(ShapeError, "mseLoss", (void)mseLoss(m, v.expand({3, 3}))),
      BAD(IndexError, "nllLoss", (void)nllLoss(m, tensor({0, 7}))),
      BAD(ShapeError, "crossEntropy", (void)crossEntropy(m, tensor({0, 1, 2}))),
      // Indexing and data movement.
      BAD(IndexError, "index", (void)m.index({tensor({5})})),
      BAD(IndexError, "indexSelect", (void)indexSelect(m, 1, tensor({3}))),
      BAD(IndexError, "gather", (void)gather(m, 1, tensor({{0, 9}, {0, 0}}))),
      BAD(IndexError, "scatter_", m.scatter_(1, tensor({{5}}), ones({1, 1}))),
      BAD(DTypeError, "maskedFill", (void)maskedFill(m, m, 1.0)),
      BAD(ShapeError, "cat", (void)cat({m, v})),
      BAD(ShapeError, "stack", (void)stack({m, m.T()})),
      BAD(IndexError, "flip", (void)flip(m, {2})),
      BAD(ValueError, "tile", (void)tile(v, {k62})),
      BAD(ValueError, "pad", (void)pad(v, {INT64_MAX, INT64_MAX})),
      BAD(MemoryError, "repeatInterleave", (void)repeatInterleave(ones({2}), tensor({std::int64_t(1) << 40, std::int64_t(1)}))),
      BAD(ValueError, "diag", (void)diag(v, INT64_MIN)),
      BAD(ValueError, "diagonal", (void)diagonal(m, 0, 1, 1)),
      BAD(IndexError, "searchsorted", (void)searchsorted(v, v, false, tensor({0, 1, 5}))),
      BAD(ValueError, "topk", (void)topk(v, 4)),
      BAD(IndexError, "sort", (void)sort(m, 3)),
      BAD(ValueError, "split", (void)split(m, 0)),
      BAD(ValueError, "chunk", (void)chunk(m, 0)),
      BAD(ShapeError, "maskedSelect", (void)maskedSelect(m, tensor({true, false}))),
      BAD(ShapeError, "vdot", (void)vdot(m, v)),
      BAD(ShapeError, "conv1d", (void)conv1d(v, filter)),
      BAD(IndexError, "var", (void)var(m, {4})),
      BAD(ShapeError, "linalg.eigh", (void)la::eigh(m)),
      // Linear algebra.
      BAD(ShapeError, "linalg.inv", (void)la::inv(m)),
      BAD(DTypeError, "linalg.det", (void)la::det(big.to(kInt32))),
      BAD(LinAlgError, "linalg.cholesky", (void)la::cholesky(-big)),
      BAD(ShapeError, "linalg.solve", (void)la::solve(big, ones({3}))),
      BAD(ShapeError, "linalg.svd", (void)la::svd(v)),
      // Rarely taken checks of the ops above, each its own rule.
      BAD(ShapeError, "cat", (void)cat({ones({}), ones({})})),
      BAD(ValueError, "stack", (void)stack({})),
      BAD(ValueError, "split", (void)split(m, std::vector<std::int64_t>{3, -1}, 1)),
      BAD(ValueError, "flip", (void)flip(m, {0, -2})),
      BAD(ValueError, "roll", (void)roll(m, {1, 2})),
      BAD(ValueError, "tile", (void)tile(v, {-1})),
      BAD(ValueError, "repeatInterleave", (void)repeatInterleave(v, -1)),
      BAD(DTypeError, "repeatInterleave", (void)repeatInterleave(v, ones({3}))),
      BAD(ShapeError, "repeatInterleave", (void)repeatInterleave(m, tensor({1, 2, 3}), 0)),
      BAD(ValueError, "repeatInterleave", (void)repeatInterleave(v, tensor({1, -1, 2}))),
      BAD(IndexError, "index", (void)m.index({ones({}, kBool)})),
      BAD(ShapeError, "maskedFill", (void)maskedFill(m, tensor({true, false}), 1.0)),
      BAD(DTypeError, "maskedSelect", (void)maskedSelect(m, ones({2, 3}))),
      BAD(ShapeError, "scatter", (void)scatter(m, 0, tensor({{0, 1, 0, 1}}), ones({1, 4}))),
      BAD(DTypeError, "mseLoss", (void)mseLoss(i, i)),
      BAD(DTypeError, "nllLoss", (void)nllLoss(ones({2, 3}, kInt32), i)),
      BAD(ValueError, "crossEntropy", (void)crossEntropy(m, i, ClassLossOptions{.labelSmoothing = 1.5})),
      BAD(ShapeError, "crossEntropy", (void)crossEntropy(ones({}), ones({}, kInt64))),
      BAD(ValueError, "crossEntropy", (void)crossEntropy(m, ones({2, 3}), ClassLossOptions{.ignoreIndex = 0})),
      BAD(ShapeError, "crossEntropy", (void)crossEntropy(m, i, ClassLossOptions{.weight = ones({2})})),
      BAD(DTypeError, "layerNorm", (void)layerNorm(ones({2, 3}, kInt32), {3})),
      BAD(DTypeError, "batchNorm", (void)batchNorm(ones({2, 3}, kInt32), std::nullopt, std::nullopt)),
      BAD(ValueError, "maxPool2d", (void)maxPool2d(image, {0, 2})),
      BAD(DTypeError, "maxPool2d", (void)maxPool2d(image.to(kBool), {2, 2})),
      BAD(ValueError, "avgPool2d", (void)avgPool2d(image, {2, 2}, std::nullopt, {0, 0}, false, true, 0)),
      BAD(ShapeError, "adaptiveAvgPool2d", (void)adaptiveAvgPool2d(m, {1, 1})),
      BAD(DTypeError, "adaptiveAvgPool2d", (void)adaptiveAvgPool2d(image.to(kInt32), {1, 1})),
      BAD(ShapeError, "adaptiveAvgPool2d", (void)adaptiveAvgPool2d(image, {0, 1})),
      BAD(ValueError, "convTranspose2d", (void)convTranspose2d(image, ones({1, 2, 3, 3}), std::nullopt, {0, 1})),
      BAD(ShapeError, "convTranspose1d", (void)convTranspose1d(m, filter)),
      BAD(ShapeError, "addmm", (void)addmm(v, v, v)),
      BAD(ShapeError, "conv2d", (void)conv2d(image, ones({2, 1, 3}))),
      BAD(ValueError, "conv2d", (void)conv2d(image, filter, std::nullopt, {1, 1}, {0, 0}, {0, 1})),
      BAD(ValueError, "conv2d", (void)conv2d(image, filter, std::nullopt, {1, 1}, {-1, 0})),
      BAD(ValueError, "conv2d", (void)conv2d(ones({1, 2, 5, 5}), ones({3, 1, 3, 3}), std::nullopt, {1, 1}, {0, 0}, {1, 1}, 2)),
      BAD(ShapeError, "conv2d", (void)conv2d(image, filter, ones({1, 2}))),
      BAD(ValueError, "conv2d", (void)conv2d(image, filter, std::nullopt, {1, 1}, {k62 - 1, 0})),
      BAD(ShapeError, "conv1d", (void)conv1d(ones({1, 1, 5}), ones({2, 1}))),
      BAD(ShapeError, "nllLoss", (void)nllLoss(ones({}), ones({}, kInt64))),
      BAD(DTypeError, "nllLoss", (void)nllLoss(m, tensor({true, false}))),
      BAD(IndexError, "nllLoss", (void)nllLoss(m, tensor({-1, 0}))),
      BAD(ShapeError, "layerNorm", (void)layerNorm(m, Shape{})),
      BAD(ShapeError, "layerNorm", (void)layerNorm(v, {1, 3})),
      BAD(ShapeError, "layerNorm", (void)layerNorm(m, {3}, std::nullopt, ones({2}))),
      BAD(ValueError, "maxPool2d", (void)maxPool2d(image, {2, 2}, std::array<std::int64_t, 2>{0, 1})),
      BAD(ValueError, "maxPool2d", (void)maxPool2d(image, {2, 2}, std::nullopt, {0, 0}, {0, 1})),
      BAD(ValueError, "maxPool2d", (void)maxPool2d(image, {2, 2}, std::nullopt, {-1, 0})),
      BAD(ShapeError, "adaptiveAvgPool2d", (void)adaptiveAvgPool2d(ones({1, 1, 0, 5}), {1, 1})),
      BAD(ShapeError, "adaptiveAvgPool2d", (void)adaptiveAvgPool2d(image, {1, 0})),
      BAD(ShapeError, "convTranspose2d", (void)convTranspose2d(image, ones({1, 2, 3}))),
      BAD(ShapeError, "convTranspose2d", (void)convTranspose2d(ones({1, 2, 5, 5}), ones({2, 1, 3, 3}), std::nullopt, {1, 1}, {0, 0}, {0, 0}, 3)),
      BAD(ShapeError, "convTranspose2d", (void)convTranspose2d(image, ones({2, 1, 3, 3}))),
      BAD(ValueError, "convTranspose2d", (void)convTranspose2d(image, ones({1, 2, 3, 3}), std::nullopt, {1, 1}, {0, 0}, {0, 0}, 1, {0, 1})),
      BAD(ValueError, "convTranspose2d", (void)convTranspose2d(image, ones({1, 2, 3, 3}), std::nullopt, {1, 1}, {-1, 0})),
      BAD(ValueError, "convTranspose2d", (void)convTranspose2d(image, ones({1, 2, 3, 3}), std::nullopt, {1, 1}, {0, 0}, {-1, 0})),
      BAD(ValueError, "convTranspose2d", (void)convTranspose2d(image, ones({1, 2, 3, 3}), std::nullopt, {1, 1}, {0, 0}, {1, 0})),
      BAD(ShapeError, "convTranspose1d", (void)convTranspose1d(image, ones({1, 2, 3}))),
      BAD(ShapeError, "convTranspose1d", (void)convTranspose1d(ones({1, 1, 5}), ones({1, 2}))),
      BAD(ShapeError, "matmul", (void)matmul(m, ones({2}))),
      BAD(ShapeError, "dot", (void)dot(m, m)),
      BAD(ShapeError, "dot", (void)dot(v, m)),
      BAD(ShapeError, "outer", (void)outer(v, m)),
      BAD(ShapeError, "addmm", (void)addmm(m, m, v)),
      BAD(ShapeError, "linear", (void)linear(m, v)),
      BAD(ShapeError, "linear", (void)linear(ones({}), ones({2, 3}))),
      BAD(ShapeError, "linear", (void)linear(m, ones({2, 3}), ones({1, 2}))),
      BAD(ValueError, "arange", (void)arange(0.0, 1.0, std::nan(""))),
      BAD(DTypeError, "neg", (void)neg(tensor({true}))),
      // Files and settings.
      BAD(IOError, "loadNpy", (void)loadNpy("/dev/zero")),
      BAD(IOError, "saveNpy", saveNpy("/nonexistent/dir/x.npy", m)),
      BAD(ValueError, "setProgramCacheLimits", setProgramCacheLimits(0, 1)),
  };
  for (const Row &row : rows) {
    CAPTURE(row.line);
    CAPTURE(row.op);
    bool threw = false;
    try {
      row.call();
    } catch (const Error &e) {
      threw = true;
      CHECK_MESSAGE(row.isType(e), "expected " << row.type << ", got: "
                                                << e.what());
      CHECK(e.op() == row.op);
      std::string file = e.where().file_name();
      CHECK_MESSAGE(file.ends_with("BadArgumentTest.cpp"),
                    "the error points at " << file << ":" << e.where().line());
      CHECK(static_cast<int>(e.where().line()) == row.line);
    } catch (const std::exception &e) {
      threw = true;
      FAIL_CHECK("not a trueno::Error: " << e.what());
    }
    CHECK_MESSAGE(threw, "did not throw");
  }
  CHECK(rows.size() >= 150);
}
