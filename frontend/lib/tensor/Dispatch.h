//===- Dispatch.h - Calling a template with the C++ type of a dtype -------===//
//
// `dispatchDType(dtype, [&]<typename T>(TypeTag<T>) {...})` instantiates the
// lambda for all ten element types and calls the one that matches.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_FRONTEND_DISPATCH_H
#define TRUENO_FRONTEND_DISPATCH_H

#include "trueno/DType.h"

#include <cstdint>
#include <cstdlib>

namespace trueno::detail {

template <typename T> struct TypeTag { using type = T; };

/// Storage type of bool tensors is `bool` (one byte, 0 or 1).
template <typename Fn> decltype(auto) dispatchDType(DType type, Fn &&fn) {
  switch (type) {
  case DType::Bool:
    return fn(TypeTag<bool>{});
  case DType::Int8:
    return fn(TypeTag<std::int8_t>{});
  case DType::Int16:
    return fn(TypeTag<std::int16_t>{});
  case DType::Int32:
    return fn(TypeTag<std::int32_t>{});
  case DType::Int64:
    return fn(TypeTag<std::int64_t>{});
  case DType::UInt8:
    return fn(TypeTag<std::uint8_t>{});
  case DType::Float16:
    return fn(TypeTag<Half>{});
  case DType::BFloat16:
    return fn(TypeTag<BFloat16>{});
  case DType::Float32:
    return fn(TypeTag<float>{});
  case DType::Float64:
    return fn(TypeTag<double>{});
  }
  std::abort(); // unreachable: every enumerator is handled above
}

} // namespace trueno::detail

#endif // TRUENO_FRONTEND_DISPATCH_H
