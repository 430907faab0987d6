//===- DType.h - Element types, scalars and type promotion ----------------===//
//
// The ten element types Trueno stores, the 16-bit float types that C++ lacks,
// a tagged `Scalar` for values whose type is decided at run time, and the
// promotion rules (`resultType`) that decide the dtype of a binary operation.
// Promotion follows PyTorch; conversion follows NumPy (see docs/DTYPES.md).
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_DTYPE_H
#define TRUENO_DTYPE_H

#include <cstdint>
#include <source_location>
#include <string_view>
#include <type_traits>

namespace trueno {

/// Element types. The order is part of the on-disk cache key later on: append
/// new types at the end.
enum class DType : std::uint8_t {
  Bool,
  Int8,
  Int16,
  Int32,
  Int64,
  UInt8,
  Float16,
  BFloat16,
  Float32,
  Float64,
};
inline constexpr int kNumDTypes = 10;

inline constexpr DType kBool = DType::Bool;
inline constexpr DType kInt8 = DType::Int8;
inline constexpr DType kInt16 = DType::Int16;
inline constexpr DType kInt32 = DType::Int32;
inline constexpr DType kInt64 = DType::Int64;
inline constexpr DType kUInt8 = DType::UInt8;
inline constexpr DType kFloat16 = DType::Float16;
inline constexpr DType kBFloat16 = DType::BFloat16;
inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;

/// The dtype of floating-point creation functions when none is given.
inline constexpr DType kDefaultFloat = DType::Float32;
/// The dtype of integer creation functions when none is given.
inline constexpr DType kDefaultInt = DType::Int64;

/// NumPy's name: "float32", "int64", "bool", "bfloat16"...
std::string_view dtypeName(DType type);
/// Bytes per element.
int itemSize(DType type);
bool isFloating(DType type);
/// Integer types, bool excluded.
bool isIntegral(DType type);
/// Signed integer and floating types.
bool isSigned(DType type);

/// IEEE 754 binary16. Arithmetic goes through float.
struct Half {
  std::uint16_t bits = 0;
  Half() = default;
  Half(float value);
  operator float() const;
  static Half fromBits(std::uint16_t b) {
    Half h;
    h.bits = b;
    return h;
  }
};

/// bfloat16: the upper half of a float32. Arithmetic goes through float.
struct BFloat16 {
  std::uint16_t bits = 0;
  BFloat16() = default;
  BFloat16(float value);
  operator float() const;
  static BFloat16 fromBits(std::uint16_t b) {
    BFloat16 h;
    h.bits = b;
    return h;
  }
};

/// Rounds to nearest, ties to even, as hardware and NumPy do.
std::uint16_t floatToHalfBits(float value);
/// Direct rounding (no double rounding through float), as NumPy does.
std::uint16_t doubleToHalfBits(double value);
float halfBitsToFloat(std::uint16_t bits);
/// Rounds to nearest, ties to even; NaN stays NaN (as PyTorch does).
std::uint16_t floatToBFloat16Bits(float value);
float bfloat16BitsToFloat(std::uint16_t bits);

/// The C++ type stored for each dtype, and back.
template <typename T> struct DTypeOf;
template <> struct DTypeOf<bool> {
  static constexpr DType value = DType::Bool;
};
template <> struct DTypeOf<std::int8_t> {
  static constexpr DType value = DType::Int8;
};
template <> struct DTypeOf<std::int16_t> {
  static constexpr DType value = DType::Int16;
};
template <> struct DTypeOf<std::int32_t> {
  static constexpr DType value = DType::Int32;
};
template <> struct DTypeOf<std::int64_t> {
  static constexpr DType value = DType::Int64;
};
template <> struct DTypeOf<std::uint8_t> {
  static constexpr DType value = DType::UInt8;
};
template <> struct DTypeOf<Half> {
  static constexpr DType value = DType::Float16;
};
template <> struct DTypeOf<BFloat16> {
  static constexpr DType value = DType::BFloat16;
};
template <> struct DTypeOf<float> {
  static constexpr DType value = DType::Float32;
};
template <> struct DTypeOf<double> {
  static constexpr DType value = DType::Float64;
};
template <typename T> inline constexpr DType dtypeOf = DTypeOf<T>::value;

/// A number whose type is known at run time: bool, integer or floating.
/// Like a Python number: when it meets a tensor, only its category matters
/// for promotion (an int scalar does not widen an int8 tensor).
class Scalar {
public:
  enum class Kind : std::uint8_t { Bool, Int, Float };

  Scalar() : kind_(Kind::Int), int_(0) {}
  Scalar(bool v) : kind_(Kind::Bool), int_(v) {}
  Scalar(double v) : kind_(Kind::Float), float_(v) {}
  Scalar(float v) : kind_(Kind::Float), float_(v) {}
  Scalar(Half v) : kind_(Kind::Float), float_(float(v)) {}
  Scalar(BFloat16 v) : kind_(Kind::Float), float_(float(v)) {}
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) Scalar(T v)
      : kind_(Kind::Int), int_(static_cast<std::int64_t>(v)) {}

  Kind kind() const { return kind_; }
  bool isBool() const { return kind_ == Kind::Bool; }
  bool isInt() const { return kind_ == Kind::Int; }
  bool isFloat() const { return kind_ == Kind::Float; }
  /// bool, int64 or float64: the dtype a tensor holding it exactly would have.
  DType dtype() const;

  /// The value converted with the same rules as `Tensor::to`.
  template <typename T> T to() const;
  double toDouble() const {
    return kind_ == Kind::Float ? float_ : static_cast<double>(int_);
  }

private:
  Kind kind_;
  union {
    std::int64_t int_;
    double float_;
  };
};

/// PyTorch's promotion of two tensor dtypes: bool < integers < floating;
/// within a category the wider type wins; uint8 with int8 gives int16;
/// float16 with bfloat16 gives float32.
DType resultType(DType a, DType b);
/// Promotion of a tensor dtype with a scalar: the scalar only matters when
/// its category is higher (int32 tensor + 2.5 -> float32; int8 tensor + 300
/// -> int8; bool tensor + 1 -> int64).
DType resultType(DType tensorType, const Scalar &scalar);
/// Promotion of two tensors of these dtypes and ranks: a dimensioned tensor
/// outranks a zero-dimensional one unless the latter is of a higher
/// category (PyTorch's rule; `resultType(Tensor, Tensor)` in Tensor.h).
DType resultType(DType a, std::int64_t rankA, DType b, std::int64_t rankB);

namespace detail {
/// Conversion of one value with NumPy's rules; defined in Cast.h.
template <typename To, typename From> To castValue(From value);
} // namespace detail

} // namespace trueno

#endif // TRUENO_DTYPE_H
