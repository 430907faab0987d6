//===- DType.cpp - Element types, 16-bit floats and promotion -------------===//
#include "trueno/Core/Cast.h"

#include "trueno/DType.h"

#include <bit>
#include <cmath>
#include <optional>

namespace trueno {

std::string_view dtypeName(DType type) {
  switch (type) {
  case DType::Bool:
    return "bool";
  case DType::Int8:
    return "int8";
  case DType::Int16:
    return "int16";
  case DType::Int32:
    return "int32";
  case DType::Int64:
    return "int64";
  case DType::UInt8:
    return "uint8";
  case DType::Float16:
    return "float16";
  case DType::BFloat16:
    return "bfloat16";
  case DType::Float32:
    return "float32";
  case DType::Float64:
    return "float64";
  }
  return "unknown";
}

int itemSize(DType type) {
  switch (type) {
  case DType::Bool:
  case DType::Int8:
  case DType::UInt8:
    return 1;
  case DType::Int16:
  case DType::Float16:
  case DType::BFloat16:
    return 2;
  case DType::Int32:
  case DType::Float32:
    return 4;
  case DType::Int64:
  case DType::Float64:
    return 8;
  }
  return 0;
}

bool isFloating(DType type) {
  return type == DType::Float16 || type == DType::BFloat16 ||
         type == DType::Float32 || type == DType::Float64;
}

bool isIntegral(DType type) {
  return type == DType::Int8 || type == DType::Int16 || type == DType::Int32 ||
         type == DType::Int64 || type == DType::UInt8;
}

bool isSigned(DType type) {
  return isFloating(type) || (isIntegral(type) && type != DType::UInt8);
}

//===----------------------------------------------------------------------===//
// 16-bit floats
//===----------------------------------------------------------------------===//

std::uint16_t floatToHalfBits(float value) {
  // After F. Giesen's float_to_half_fast3_rtne: exact round-to-nearest-even.
  std::uint32_t x = std::bit_cast<std::uint32_t>(value);
  std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
  std::uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) // inf, or NaN (kept quiet, payload truncated)
    return sign | 0x7c00u |
           (absx > 0x7f800000u ? 0x200u | ((absx >> 13) & 0x3ffu) : 0u);
  if (absx >= 0x477ff000u) // >= 65520 rounds to inf
    return sign | 0x7c00u;
  if (absx < 0x38800000u) { // below 2^-14: subnormal half or zero
    // Adding 0.5 aligns the result's ulp with the half subnormal ulp 2^-24,
    // so the FPU's own rounding (to nearest even) does the work.
    float f = std::bit_cast<float>(absx) + 0.5f;
    return sign | static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(f) -
                                             0x3f000000u);
  }
  std::uint32_t mantissaOdd = (absx >> 13) & 1u;
  absx += 0xc8000fffu + mantissaOdd; // rebias exponent, round half to even
  return sign | static_cast<std::uint16_t>(absx >> 13);
}

std::uint16_t doubleToHalfBits(double value) {
  std::uint64_t x = std::bit_cast<std::uint64_t>(value);
  std::uint16_t sign = static_cast<std::uint16_t>((x >> 48) & 0x8000u);
  if (std::isnan(value))
    return sign | 0x7e00u | static_cast<std::uint16_t>((x >> 42) & 0x1ffu);
  double a = std::fabs(value);
  if (a >= 65520.0)
    return sign | 0x7c00u;
  if (a < 0x1p-14) // subnormal: count units of 2^-24, rounded to even
    return sign | static_cast<std::uint16_t>(std::nearbyint(a * 0x1p24));
  int exponent;
  double mantissa = std::frexp(a, &exponent); // a = mantissa * 2^exponent
  // 11 significant bits including the implicit one; a carry out of the
  // mantissa (q == 2048) correctly bumps the exponent field.
  auto q = static_cast<std::uint32_t>(std::nearbyint(std::ldexp(mantissa, 11)));
  return sign |
         static_cast<std::uint16_t>(
             (static_cast<std::uint32_t>(exponent + 14) << 10) + (q - 1024u));
}

float halfBitsToFloat(std::uint16_t bits) {
  std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
  std::uint32_t exponent = (bits >> 10) & 0x1fu;
  std::uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {
    float f = static_cast<float>(mantissa) * 0x1p-24f;
    return sign ? -f : f;
  }
  if (exponent == 31)
    return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) |
                              (mantissa << 13));
}

std::uint16_t floatToBFloat16Bits(float value) {
  if (std::isnan(value))
    return 0x7fc0u;
  std::uint32_t x = std::bit_cast<std::uint32_t>(value);
  std::uint32_t roundingBias = ((x >> 16) & 1u) + 0x7fffu;
  return static_cast<std::uint16_t>((x + roundingBias) >> 16);
}

float bfloat16BitsToFloat(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

Half::Half(float value) : bits(floatToHalfBits(value)) {}
Half::operator float() const { return halfBitsToFloat(bits); }
BFloat16::BFloat16(float value) : bits(floatToBFloat16Bits(value)) {}
BFloat16::operator float() const { return bfloat16BitsToFloat(bits); }

//===----------------------------------------------------------------------===//
// Scalar
//===----------------------------------------------------------------------===//

DType Scalar::dtype() const {
  switch (kind_) {
  case Kind::Bool:
    return DType::Bool;
  case Kind::Int:
    return DType::Int64;
  case Kind::Float:
    return DType::Float64;
  }
  return DType::Float64;
}

template <typename T> T Scalar::to() const {
  switch (kind_) {
  case Kind::Bool:
    return detail::castValue<T, bool>(int_ != 0);
  case Kind::Int:
    return detail::castValue<T, std::int64_t>(int_);
  case Kind::Float:
    return detail::castValue<T, double>(float_);
  }
  return T();
}

template bool Scalar::to<bool>() const;
template std::int8_t Scalar::to<std::int8_t>() const;
template std::int16_t Scalar::to<std::int16_t>() const;
template std::int32_t Scalar::to<std::int32_t>() const;
template std::int64_t Scalar::to<std::int64_t>() const;
template std::uint8_t Scalar::to<std::uint8_t>() const;
template Half Scalar::to<Half>() const;
template BFloat16 Scalar::to<BFloat16>() const;
template float Scalar::to<float>() const;
template double Scalar::to<double>() const;

//===----------------------------------------------------------------------===//
// Promotion
//===----------------------------------------------------------------------===//

DType resultType(DType a, DType b) {
  if (a == b)
    return a;
  if (a == DType::Bool)
    return b;
  if (b == DType::Bool)
    return a;
  bool floatA = isFloating(a), floatB = isFloating(b);
  if (floatA && floatB) {
    if (itemSize(a) == 2 && itemSize(b) == 2) // float16 with bfloat16
      return DType::Float32;
    return itemSize(a) >= itemSize(b) ? a : b;
  }
  if (floatA)
    return a;
  if (floatB)
    return b;
  // Two different integer types.
  if (a == DType::UInt8 || b == DType::UInt8) {
    DType other = a == DType::UInt8 ? b : a;
    return other == DType::Int8 ? DType::Int16 : other;
  }
  return itemSize(a) >= itemSize(b) ? a : b;
}

/// PyTorch's combine_categories: the higher-priority result wins unless the
/// lower-priority one is of a higher category.
static std::optional<DType> combineCategories(std::optional<DType> higher,
                                              std::optional<DType> lowerOpt) {
  if (!higher)
    return lowerOpt;
  if (!lowerOpt)
    return higher;
  DType lower = *lowerOpt;
  if (isFloating(*higher))
    return *higher;
  if (*higher == DType::Bool || isFloating(lower))
    return resultType(*higher, lower);
  return *higher;
}

DType resultType(DType tensorType, const Scalar &scalar) {
  // A wrapped Python float counts as the default float dtype.
  DType scalarType = scalar.isFloat() ? kDefaultFloat : scalar.dtype();
  return *combineCategories(tensorType, scalarType);
}

DType resultType(DType a, std::int64_t rankA, DType b, std::int64_t rankB) {
  // Dimensioned tensors outrank zero-dimensional ones.
  std::optional<DType> dimensioned, zeroDim;
  for (auto [type, rank] : {std::pair{a, rankA}, std::pair{b, rankB}}) {
    std::optional<DType> &slot = rank == 0 ? zeroDim : dimensioned;
    slot = slot ? resultType(*slot, type) : type;
  }
  return *combineCategories(dimensioned, zeroDim);
}

} // namespace trueno
