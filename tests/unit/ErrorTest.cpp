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
