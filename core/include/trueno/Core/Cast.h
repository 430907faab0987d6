//===- Cast.h - Converting one value between dtypes -----------------------===//
//
// The one definition of Trueno's conversion rules, used by `Tensor::to`,
// `Scalar::to`, creation from C++ values and .npy loading. They are NumPy's
// on x86-64 (docs/DTYPES.md):
//   - integer to integer wraps modulo 2^bits;
//   - float to integer truncates toward zero; a value outside int64 (or NaN)
//     gives INT64_MIN for int64, and narrower integers go through int32 the
//     same way and then wrap (300.0 -> int8 is 44, 1e10 -> int8 is 0);
//   - to bool is `value != 0` (NaN is true);
//   - to float16/bfloat16 rounds to nearest even and overflows to inf;
//     double -> float16 rounds once, directly; double -> bfloat16 goes
//     through float, as PyTorch does.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_CORE_CAST_H
#define TRUENO_CORE_CAST_H

#include "trueno/DType.h"

#include <cstdint>
#include <limits>
#include <type_traits>

namespace trueno::detail {

template <typename T>
inline constexpr bool isLowFloat =
    std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>;

template <typename To, typename From> To castValue(From value) {
  if constexpr (std::is_same_v<To, From>) {
    return value;
  } else if constexpr (isLowFloat<From>) {
    return castValue<To, float>(static_cast<float>(value));
  } else if constexpr (std::is_same_v<To, bool>) {
    return value != From(0);
  } else if constexpr (std::is_same_v<From, bool>) {
    return castValue<To, std::int32_t>(value ? 1 : 0);
  } else if constexpr (std::is_same_v<To, Half>) {
    if constexpr (std::is_same_v<From, double>)
      return Half::fromBits(doubleToHalfBits(value));
    else
      return Half::fromBits(floatToHalfBits(static_cast<float>(value)));
  } else if constexpr (std::is_same_v<To, BFloat16>) {
    return BFloat16::fromBits(floatToBFloat16Bits(static_cast<float>(value)));
  } else if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(value);
  } else if constexpr (std::is_floating_point_v<From>) {
    // x86's cvttsd2si: out of range or NaN gives the "integer indefinite"
    // value, the most negative integer of the conversion's width.
    double d = value;
    if constexpr (std::is_same_v<To, std::int64_t>) {
      if (!(d >= -0x1p63 && d < 0x1p63))
        return std::numeric_limits<std::int64_t>::min();
      return static_cast<std::int64_t>(d);
    } else {
      std::int32_t wide = std::numeric_limits<std::int32_t>::min();
      if (d >= -0x1p31 && d < 0x1p31)
        wide = static_cast<std::int32_t>(d);
      return static_cast<To>(wide); // modular since C++20
    }
  } else {
    return static_cast<To>(value); // integer to integer: modular
  }
}

} // namespace trueno::detail

#endif // TRUENO_CORE_CAST_H
