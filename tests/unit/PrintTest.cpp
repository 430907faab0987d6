//===- PrintTest.cpp - Printing matches PyTorch's repr --------------------===//
//
// Every expected string below is what PyTorch 1.13 prints for the same
// tensor (with "torch." dropped from dtype names).
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <cmath>
#include <sstream>

using namespace trueno;

TEST_CASE("integers, bools and integer-valued floats") {
  CHECK(tensor({{1, 2, 3}, {4, 5, 6}}).toString() ==
        "tensor([[1, 2, 3],\n        [4, 5, 6]])");
  CHECK(tensor({1., 2., -3.}).toString() == "tensor([ 1.,  2., -3.])");
  CHECK(zeros({3}).toString() == "tensor([0., 0., 0.])");
  CHECK(tensor({true, false}).toString() == "tensor([ True, False])");
  CHECK(tensor({1, -20}, kInt32).toString() ==
        "tensor([  1, -20], dtype=int32)");
  CHECK(tensor({1, 200}, kUInt8).toString() ==
        "tensor([  1, 200], dtype=uint8)");
  CHECK(arange(8).reshape({2, 2, 2}).toString() ==
        "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, "
        "7]]])");
  CHECK(tensor({9007199254740993LL}).toString() ==
        "tensor([9007199254740993])"); // int64 printed exactly
}

TEST_CASE("fixed and scientific notation") {
  CHECK(tensor({1.5, -2.25, 3.}).toString() ==
        "tensor([ 1.5000, -2.2500,  3.0000])");
  CHECK(tensor({1e-5, 1.0, 3.0}).toString() ==
        "tensor([1.0000e-05, 1.0000e+00, 3.0000e+00])");
  CHECK(tensor({1.0, 2000.0}).toString() == "tensor([1.0000e+00, 2.0000e+03])");
  CHECK(tensor({1e9, 2.0}).toString() == "tensor([1.0000e+09, 2.0000e+00])");
  CHECK(tensor({double(NAN), double(INFINITY), double(-INFINITY), 1.5})
            .toString() == "tensor([   nan,    inf,   -inf, 1.5000])");
  CHECK(tensor({1.0, 2.5}, kFloat64).toString() ==
        "tensor([1.0000, 2.5000], dtype=float64)");
  CHECK(tensor({0.1, 1.0}, kFloat16).toString() ==
        "tensor([0.1000, 1.0000], dtype=float16)");
}

TEST_CASE("rank 0 and empty tensors") {
  CHECK(tensor(3.5).toString() == "tensor(3.5000)");
  CHECK(tensor(3.).toString() == "tensor(3.)");
  CHECK(tensor(7).toString() == "tensor(7)");
  CHECK(zeros({0}).toString() == "tensor([])");
  CHECK(zeros({0, 3}).toString() == "tensor([], size=(0, 3))");
  // PyTorch names every dtype but the default float when nothing is shown.
  CHECK(zeros({0}, kInt64).toString() == "tensor([], dtype=int64)");
  CHECK(zeros({0, 2}, kBool).toString() ==
        "tensor([], size=(0, 2), dtype=bool)");
}

TEST_CASE("long rows wrap at 80 columns") {
  std::vector<float> v(30);
  for (int i = 0; i < 30; ++i)
    v[i] = 1.5f * i;
  CHECK(
      fromVector(v, {30}).toString() ==
      "tensor([ 0.0000,  1.5000,  3.0000,  4.5000,  6.0000,  7.5000,  9.0000, "
      "10.5000,\n        12.0000, 13.5000, 15.0000, 16.5000, 18.0000, 19.5000, "
      "21.0000, 22.5000,\n        24.0000, 25.5000, 27.0000, 28.5000, 30.0000, "
      "31.5000, 33.0000, 34.5000,\n        36.0000, 37.5000, 39.0000, 40.5000, "
      "42.0000, 43.5000])");
}

TEST_CASE("large tensors are summarized") {
  CHECK(arange(2000).toString() ==
        "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])");
  Tensor m = arange(2000).to(kFloat32).reshape({40, 50});
  CHECK(
      m.toString() ==
      "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, "
      "4.8000e+01,\n         4.9000e+01],\n        [5.0000e+01, 5.1000e+01, "
      "5.2000e+01,  ..., 9.7000e+01, 9.8000e+01,\n         9.9000e+01],\n     "
      "   [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.4700e+02, 1.4800e+02,"
      "\n         1.4900e+02],\n        ...,\n        [1.8500e+03, 1.8510e+03, "
      "1.8520e+03,  ..., 1.8970e+03, 1.8980e+03,\n         1.8990e+03],\n     "
      "   [1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9470e+03, 1.9480e+03,"
      "\n         1.9490e+03],\n        [1.9500e+03, 1.9510e+03, 1.9520e+03, "
      " ..., 1.9970e+03, 1.9980e+03,\n         1.9990e+03]])");
}

TEST_CASE("operator<< and fmt print the same text, views too") {
  Tensor t = arange(6).reshape({2, 3}).T();
  std::ostringstream os;
  os << t;
  CHECK(os.str() == t.toString());
  CHECK(fmt::format("{}", t) ==
        "tensor([[0, 3],\n        [1, 4],\n        [2, 5]])");
  CHECK(arange(5).slice(0, {}, {}, -2).toString() == "tensor([4, 2, 0])");
}
