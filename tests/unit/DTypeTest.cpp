//===- DTypeTest.cpp - dtypes, 16-bit floats, conversion and promotion ----===//
#include "TestUtil.h"

#include <cmath>
#include <limits>

using namespace trueno;
using namespace trueno::testing;

static const DType kAll[] = {kBool,  kInt8,    kInt16,    kInt32,   kInt64,
                             kUInt8, kFloat16, kBFloat16, kFloat32, kFloat64};

TEST_CASE("names and sizes") {
  const char *names[] = {"bool",  "int8",    "int16",    "int32",   "int64",
                         "uint8", "float16", "bfloat16", "float32", "float64"};
  const int sizes[] = {1, 1, 2, 4, 8, 1, 2, 2, 4, 8};
  for (int i = 0; i < kNumDTypes; ++i) {
    CHECK(dtypeName(kAll[i]) == names[i]);
    CHECK(itemSize(kAll[i]) == sizes[i]);
  }
  CHECK(isFloating(kBFloat16));
  CHECK_FALSE(isFloating(kInt64));
  CHECK(isIntegral(kUInt8));
  CHECK_FALSE(isIntegral(kBool));
  CHECK_FALSE(isSigned(kUInt8));
  CHECK(isSigned(kFloat16));
  CHECK(fmt::format("{}", kFloat16) == "float16");
}

TEST_CASE("tensor-tensor promotion matches torch.promote_types") {
  // Generated with PyTorch 1.13: torch.promote_types(row, column).
  const DType table[10][10] = {
      {kBool, kInt8, kInt16, kInt32, kInt64, kUInt8, kFloat16, kBFloat16,
       kFloat32, kFloat64},
      {kInt8, kInt8, kInt16, kInt32, kInt64, kInt16, kFloat16, kBFloat16,
       kFloat32, kFloat64},
      {kInt16, kInt16, kInt16, kInt32, kInt64, kInt16, kFloat16, kBFloat16,
       kFloat32, kFloat64},
      {kInt32, kInt32, kInt32, kInt32, kInt64, kInt32, kFloat16, kBFloat16,
       kFloat32, kFloat64},
      {kInt64, kInt64, kInt64, kInt64, kInt64, kInt64, kFloat16, kBFloat16,
       kFloat32, kFloat64},
      {kUInt8, kInt16, kInt16, kInt32, kInt64, kUInt8, kFloat16, kBFloat16,
       kFloat32, kFloat64},
      {kFloat16, kFloat16, kFloat16, kFloat16, kFloat16, kFloat16, kFloat16,
       kFloat32, kFloat32, kFloat64},
      {kBFloat16, kBFloat16, kBFloat16, kBFloat16, kBFloat16, kBFloat16,
       kFloat32, kBFloat16, kFloat32, kFloat64},
      {kFloat32, kFloat32, kFloat32, kFloat32, kFloat32, kFloat32, kFloat32,
       kFloat32, kFloat32, kFloat64},
      {kFloat64, kFloat64, kFloat64, kFloat64, kFloat64, kFloat64, kFloat64,
       kFloat64, kFloat64, kFloat64},
  };
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < 10; ++j) {
      CAPTURE(dtypeName(kAll[i]));
      CAPTURE(dtypeName(kAll[j]));
      CHECK(resultType(kAll[i], kAll[j]) == table[i][j]);
    }
}

TEST_CASE("tensor-scalar and zero-dim promotion match PyTorch") {
  // torch.zeros(2, dtype=t) + 2.5 / + 300 / + True
  CHECK(resultType(kInt8, Scalar(2.5)) == kFloat32);
  CHECK(resultType(kInt8, Scalar(300)) == kInt8);
  CHECK(resultType(kInt8, Scalar(true)) == kInt8);
  CHECK(resultType(kUInt8, Scalar(300)) == kUInt8);
  CHECK(resultType(kBool, Scalar(2.5)) == kFloat32);
  CHECK(resultType(kBool, Scalar(300)) == kInt64);
  CHECK(resultType(kBool, Scalar(true)) == kBool);
  CHECK(resultType(kFloat16, Scalar(2.5)) == kFloat16);
  CHECK(resultType(kFloat16, Scalar(300)) == kFloat16);
  // A dimensioned tensor outranks a zero-dim one of the same category...
  Tensor i8 = zeros({2}, kInt8);
  CHECK(resultType(i8, tensor(5)) == kInt8);
  CHECK(resultType(zeros({2}, kBool), tensor(5)) == kInt64);
  // ...unless the zero-dim one is of a higher category.
  CHECK(resultType(i8, tensor(2.5, kFloat64)) == kFloat64);
  CHECK(resultType(zeros({2}, kFloat16), tensor(2.5, kFloat64)) == kFloat16);
  // Two zero-dim tensors promote normally.
  CHECK(resultType(tensor(1, kInt8), tensor(1.0, kFloat64)) == kFloat64);
  CHECK(resultType(tensor(1, kInt32), tensor(1, kInt64)) == kInt64);
  CHECK(resultType(zeros({2}, kInt32), Scalar(1.5)) == kFloat32);
}

TEST_CASE("float16 conversions round to nearest even") {
  CHECK(float(Half(1.0f)) == 1.0f);
  CHECK(Half(65504.0f).bits == 0x7bff);
  CHECK(Half(65519.0f).bits == 0x7bff);
  CHECK(Half(65520.0f).bits == 0x7c00); // rounds up to inf
  CHECK(Half(-1e10f).bits == 0xfc00);
  CHECK(Half(5.960464477539063e-08f).bits == 0x0001); // smallest subnormal
  CHECK(Half(2.9e-8f).bits == 0x0000);                // below half of it
  CHECK(Half(3.0e-8f).bits == 0x0001);                // above half of it
  CHECK(Half(2049.0f).bits == Half(2048.0f).bits);    // tie to even
  CHECK(Half(2051.0f).bits == Half(2052.0f).bits);    // tie to even
  CHECK(std::isnan(float(Half(NAN))));
  CHECK(std::signbit(float(Half(-0.0f))));
  // float and double rounding agree except where float rounding happens twice.
  for (float f : {0.1f, 1.0f / 3.0f, 1000.7f, -3.14159f, 6.1e-5f, 1e-6f})
    CHECK(doubleToHalfBits(f) == floatToHalfBits(f));
  // 1 + 2^-11 + 2^-30 is above the tie in double, but float rounds it to
  // the tie 1 + 2^-11 first, which then rounds to even (1.0).
  double justAbove = 1.0 + 0x1p-11 + 0x1p-30;
  CHECK(doubleToHalfBits(justAbove) == 0x3c01);
  CHECK(floatToHalfBits(static_cast<float>(justAbove)) == 0x3c00);
  // Every half survives a round trip through float.
  for (int bits = 0; bits < 0x10000; ++bits) {
    float f = halfBitsToFloat(static_cast<std::uint16_t>(bits));
    if (!std::isnan(f))
      CHECK(floatToHalfBits(f) == bits);
  }
}

TEST_CASE("bfloat16 conversions round to nearest even") {
  CHECK(BFloat16(1.0f).bits == 0x3f80);
  CHECK(float(BFloat16(3.0f)) == 3.0f);
  CHECK(BFloat16(1.00390625f).bits == 0x3f80); // tie: 1 + 2^-8 -> even
  CHECK(BFloat16(1.01171875f).bits == 0x3f82); // tie: 1 + 3*2^-8 -> even
  CHECK(BFloat16(NAN).bits == 0x7fc0);
  CHECK(std::isinf(float(BFloat16(3.4e38f))));
}

TEST_CASE("conversion follows NumPy on x86-64") {
  // np.array([...], float32).astype(int8 / uint8 / int32 / int64)
  Tensor f = tensor({300.0, -1.0, -129.5, 1e10, -1e10, 2.7, -2.7, 70000.0});
  CHECK(f.to(kInt8).toVector<std::int8_t>() ==
        std::vector<std::int8_t>{44, -1, 127, 0, 0, 2, -2, 112});
  CHECK(f.to(kUInt8).toVector<std::uint8_t>() ==
        std::vector<std::uint8_t>{44, 255, 127, 0, 0, 2, 254, 112});
  CHECK(f.to(kInt16).toVector<std::int16_t>() ==
        std::vector<std::int16_t>{300, -1, -129, 0, 0, 2, -2, 4464});
  const std::int32_t kMin32 = std::numeric_limits<std::int32_t>::min();
  CHECK(f.to(kInt32).toVector<std::int32_t>() ==
        std::vector<std::int32_t>{300, -1, -129, kMin32, kMin32, 2, -2, 70000});
  CHECK(f.to(kInt64).toVector<std::int64_t>()[3] == 10000000000LL);
  Tensor special = tensor({double(NAN), double(INFINITY), 0.0, -0.0});
  CHECK(special.to(kInt64).toVector<std::int64_t>()[0] ==
        std::numeric_limits<std::int64_t>::min());
  CHECK(special.to(kBool).toVector<bool>() ==
        std::vector<bool>{true, true, false, false});
  // Integers wrap.
  CHECK(tensor({255, 256, -1}).to(kUInt8).toVector<int>() ==
        std::vector<int>{255, 0, 255});
  CHECK(tensor({128}).to(kInt8).item<int>() == -128);
  // Bool from and to numbers.
  CHECK(tensor({true, false}).to(kFloat32).toVector<float>() ==
        std::vector<float>{1.0f, 0.0f});
  CHECK(tensor({2, 0}).to(kBool).toVector<bool>() ==
        std::vector<bool>{true, false});
  // to() of the same dtype is the same tensor.
  Tensor same = f.to(kFloat32);
  CHECK(same.sharesStorageWith(f));
}

TEST_CASE("Scalar holds bool, int or float and converts like to()") {
  CHECK(Scalar(true).dtype() == kBool);
  CHECK(Scalar(3).dtype() == kInt64);
  CHECK(Scalar(std::int8_t(3)).isInt());
  CHECK(Scalar(2.5f).dtype() == kFloat64);
  CHECK(Scalar(2.7).to<int>() == 2);
  CHECK(Scalar(300).to<std::int8_t>() == 44);
  CHECK(Scalar(-1).to<std::uint8_t>() == 255);
  CHECK(Scalar(0.5).to<bool>());
  CHECK(Scalar(9007199254740993LL).to<std::int64_t>() == 9007199254740993LL);
  CHECK(float(Scalar(1.0).to<Half>()) == 1.0f);
}

TEST_CASE("bool operands: logical meaning where PyTorch gives one, else "
          "refused") {
  // Values from torch 1.13.
  Tensor b = tensor({true, false, true}), c = tensor({true, true, false});
  auto bools = [](const Tensor &t) {
    CHECK(t.dtype() == kBool);
    return t.toVector<bool>();
  };
  CHECK(bools(minimum(b, c)) == std::vector<bool>{true, false, false});
  CHECK(bools(maximum(b, c)) == std::vector<bool>{true, true, true});
  CHECK(bools(sign(b)) == std::vector<bool>{true, false, true});
  CHECK_THROWS_AS(pow(b, c), DTypeError);
  CHECK_THROWS_AS(remainder(b, c), DTypeError);
  CHECK_THROWS_AS(b - c, DTypeError);
  CHECK_THROWS_AS(abs(b), DTypeError);
  CHECK_THROWS_AS(clamp(b, Scalar(false), Scalar(true)), DTypeError);
  CHECK_THROWS_AS(clamp(b, c, c), DTypeError);
  // An in-place update cannot widen bool to a number.
  Tensor mask = tensor({true, false});
  CHECK_THROWS_AS(mask.add_(tensor({1, 2})), DTypeError);
}

TEST_CASE("uint8 pow wraps, exponents read as unsigned, as PyTorch") {
  // Values from torch 1.13: the int32 -1 becomes uint8's 255, and
  // 161^255 wraps to 97 (odd bases get their inverse modulo 256).
  Tensor base = tensor({161, 6, 3, 0, 1}, kUInt8);
  CHECK(pow(base, tensor(-1, kInt32)).toVector<std::uint8_t>() ==
        std::vector<std::uint8_t>{97, 0, 171, 0, 1});
  CHECK(pow(tensor({2, 3}, kUInt8), tensor({200, 7}, kUInt8))
            .toVector<std::uint8_t>() == std::vector<std::uint8_t>{0, 139});
}

TEST_CASE("vector products and zero-dimensional reductions, as PyTorch") {
  Tensor v = tensor({1.0f, 2.0f, 3.0f});
  Tensor vv = matmul(v, v); // torch.matmul of two vectors is their dot
  CHECK(vv.dim() == 0);
  CHECK(vv.item<float>() == 14.0f);
  CHECK(argmax(tensor(5.0f), 0).item<std::int64_t>() == 0);
  CHECK(argmin(tensor(5.0f), -1, true).item<std::int64_t>() == 0);
  CHECK_THROWS_AS(argmax(tensor(5.0f), 1), IndexError);
}
