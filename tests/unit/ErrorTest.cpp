//===- ErrorTest.cpp - The layout of error messages -----------------------===//
#include "TestUtil.h"

#include <tuple>

using namespace trueno;
using namespace trueno::testing;

TEST_CASE("errors name the op, the problem, a hint and the call site") {
  Tensor x = arange(12).reshape({3, 4});
  int line = 0;
  try {
    line = __LINE__ + 1;
    x.reshape({5, 2});
    FAIL("reshape did not throw");
  } catch (const ShapeError &e) {
    CHECK(e.op() == "reshape");
    CHECK(e.problem() == "cannot reshape a tensor of shape (3, 4) (12 "
                         "elements) into shape (5, 2) (10 elements)");
    CHECK(e.hint() == "the new shape must have 12 elements; -1 infers one "
                      "size");
    CHECK(e.where().line() == static_cast<unsigned>(line));
    std::string msg = e.what();
    CHECK(msg.rfind("reshape: cannot reshape", 0) == 0);
    CHECK_CONTAINS(msg, "\n  hint: the new shape must have 12 elements");
    CHECK_CONTAINS(msg, "ErrorTest.cpp:" + std::to_string(line));
  }
}

TEST_CASE("every error type is a trueno::Error and a std::runtime_error") {
  auto throwsAs = [](auto fn) {
    try {
      fn();
    } catch (const Error &e) {
      const std::runtime_error &base = e;
      return std::string(base.what()).size() > 0;
    }
    return false;
  };
  CHECK(throwsAs([] { zeros({2}).reshape({3}); }));          // Shape
  CHECK(throwsAs([] { zeros({2}).at({5}); }));               // Index
  CHECK(throwsAs([] { zeros({2}).data<int>(); }));           // DType
  CHECK(throwsAs([] { arange(0, 1, 0); }));                  // Value
  CHECK(throwsAs([] { loadNpy("/nonexistent/file.npy"); })); // IO
}

TEST_CASE("an undefined tensor is rejected with a ValueError") {
  Tensor undefined;
  CHECK_FALSE(undefined.defined());
  std::string msg = errorOf<ValueError>([&] { undefined.reshape({1}); });
  CHECK_CONTAINS(msg, "reshape: the tensor is undefined");
  CHECK(undefined.toString() == "tensor(undefined)");
}

TEST_CASE("compound assignment reports the caller's line, with a tensor or a "
          "number on the right") {
  Tensor counts = arange(3);
  auto lineOf = [](auto body) -> unsigned {
    try {
      body();
    } catch (const DTypeError &e) {
      return e.where().line();
    }
    return 0;
  };
  unsigned line = __LINE__ + 1;
  CHECK(lineOf([&] { counts += 0.5; }) == line);
  line = __LINE__ + 1;
  CHECK(lineOf([&] { counts *= ones({3}); }) == line);
  counts += 2; // an int into an int tensor is fine
  CHECK(counts.toVector<std::int64_t>() == std::vector<std::int64_t>{2, 3, 4});
}

TEST_CASE("metadata, T(), contiguous() and in-place ops name themselves and "
          "the caller's line") {
  Tensor undefined;
  auto lineOf = [](auto body) -> std::pair<std::string, unsigned> {
    try {
      body();
    } catch (const Error &e) {
      return {e.op(), e.where().line()};
    }
    return {"", 0};
  };
  unsigned line = __LINE__ + 1;
  CHECK(lineOf([&] { (void)undefined.dim(); }) == std::pair{std::string("dim"), line});
  line = __LINE__ + 1;
  CHECK(lineOf([&] { (void)undefined.T(); }) == std::pair{std::string("T"), line});
  line = __LINE__ + 1;
  CHECK(lineOf([&] { (void)undefined.contiguous(); }) == std::pair{std::string("contiguous"), line});
  line = __LINE__ + 1;
  CHECK(lineOf([&] { (void)undefined.shape(); }) == std::pair{std::string("shape"), line});
  // A write into a broadcast view names the in-place op, not copy_.
  Tensor row = zeros({4}).expand({3, 4});
  CHECK(lineOf([&] { row.add_(1.0); }).first == "add_");
  CHECK(lineOf([&] { row += 1.0; }).first == "+=");
  // logsumexp of a scalar along a dimension it lacks names logsumexp.
  CHECK(lineOf([&] { (void)logsumexp(full({}, 1.0f), {1}); }).first ==
        "logsumexp");
}

TEST_CASE("results whose element count overflows are refused at the call") {
  constexpr std::int64_t kHuge = std::int64_t(1) << 40;
  Tensor tall = ones({1}).expand({kHuge, 1}), wide = ones({1}).expand({1, kHuge});
  std::string message = errorOf<ValueError>([&] { (void)(tall + wide); });
  CHECK_CONTAINS(message, "add: shape (1099511627776, 1099511627776) is too big");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)where(tall > 0, tall, wide);
                 }),
                 "where: shape (1099511627776, 1099511627776) is too big");
  Tensor column = ones({1}).expand({kHuge});
  CHECK_CONTAINS(errorOf<ValueError>([&] { (void)outer(column, column); }),
                 "outer: shape (1099511627776, 1099511627776) is too big");
  constexpr std::int64_t k32 = std::int64_t(1) << 32;
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)matmul(ones({1, 1}).expand({k32, 1}),
                                ones({1, 1}).expand({1, k32}));
                 }),
                 "matmul: shape (4294967296, 4294967296) is too big");
}

TEST_CASE("sizes the host cannot hold are typed errors naming the op and the "
          "caller's line") {
  auto failure = [](auto body) -> std::tuple<std::string, std::string, unsigned> {
    try {
      body();
    } catch (const MemoryError &e) {
      return {"MemoryError", e.op(), e.where().line()};
    } catch (const ValueError &e) {
      return {"ValueError", e.op(), e.where().line()};
    }
    return {"", "", 0};
  };
  constexpr std::int64_t k40 = std::int64_t(1) << 40;
  unsigned line = __LINE__ + 1;
  auto zerosFailure = failure([] { (void)zeros({std::int64_t(1) << 62}, kInt8); });
  CHECK(zerosFailure == std::tuple{std::string("MemoryError"), std::string("zeros"), line});
  // Index lists of 2^40 entries: MemoryError, not std::bad_alloc.
  line = __LINE__ + 1;
  auto repeatFailure = failure([] { (void)repeatInterleave(ones({2}), tensor({k40, std::int64_t(1)})); });
  CHECK(repeatFailure == std::tuple{std::string("MemoryError"), std::string("repeatInterleave"), line});
  line = __LINE__ + 1;
  auto padFailure = failure([] { (void)pad(ones({1, 3}, kInt8), {k40, 0}, PadMode::Replicate); });
  CHECK(padFailure == std::tuple{std::string("MemoryError"), std::string("pad"), line});
  // An impossible output is refused before any averaging matrix is built.
  CHECK(std::get<1>(failure([] {
          (void)adaptiveAvgPool2d(ones({1, 1, 3, 3}), {k40, k40});
        })) == "adaptiveAvgPool2d");
  // Paddings whose sum overflows are refused, not wrapped.
  CHECK_CONTAINS(errorOf<ValueError>([] {
                   (void)pad(ones({2}), {INT64_MAX, INT64_MAX});
                 }),
                 "pad: padding (9223372036854775807, 9223372036854775807) of "
                 "dimension 0 with size 2 gives more than 2^63 elements");
  CHECK_CONTAINS(errorOf<ValueError>([] {
                   (void)repeatInterleave(ones({2}), tensor({INT64_MAX, INT64_MAX}));
                 }),
                 "the counts add up to more than 2^63");
}

TEST_CASE("size arithmetic that would overflow is refused with the op's name") {
  constexpr std::int64_t k62 = std::int64_t(1) << 62;
  Tensor images = ones({1, 1, 6, 6}), filters = ones({4, 1, 3, 3});
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)conv2d(images, filters, std::nullopt, {1, 1}, {0, 0},
                                {k62, 1});
                 }),
                 "conv2d: dilation 4611686018427387904 and padding 0 along "
                 "dimension 2 give sizes beyond 2^63");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)conv2d(images, filters, std::nullopt, {1, 1},
                                {k62, 0});
                 }),
                 "conv2d: dilation 1 and padding 4611686018427387904");
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   (void)convTranspose2d(images, ones({1, 2, 3, 3}),
                                         std::nullopt, {k62, 1});
                 }),
                 "convTranspose2d: stride 4611686018427387904, dilation 1");
  CHECK_CONTAINS(errorOf<ValueError>([&] { (void)tile(ones({3}), {k62}); }),
                 "tile: reps (4611686018427387904,) of shape (3,) give more "
                 "than 2^63 elements");
  CHECK_CONTAINS(errorOf<ValueError>([] {
                   (void)arange(INT64_MIN, INT64_MAX);
                 }),
                 "arange: the range [-9223372036854775808, "
                 "9223372036854775807) by 1 has more than 2^63 elements");
  CHECK_CONTAINS(errorOf<ValueError>([] { (void)diag(ones({3}), INT64_MIN); }),
                 "diag: offset -9223372036854775808 of a vector of 3 elements");
}
