//===- ErrorTest.cpp - The layout of error messages -----------------------===//
#include "TestUtil.h"

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
