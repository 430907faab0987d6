//===- Format.h - fmt support for Trueno types ----------------------------===//
//
// `fmt::format("{}", tensor)` prints like `operator<<`; dtypes print by name.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_FORMAT_H
#define TRUENO_FORMAT_H

#include "trueno/Tensor.h"

#include <fmt/format.h>

template <>
struct fmt::formatter<trueno::Tensor> : fmt::formatter<std::string_view> {
  template <typename Context>
  auto format(const trueno::Tensor &t, Context &ctx) const {
    return fmt::formatter<std::string_view>::format(t.toString(), ctx);
  }
};

template <>
struct fmt::formatter<trueno::DType> : fmt::formatter<std::string_view> {
  template <typename Context> auto format(trueno::DType d, Context &ctx) const {
    return fmt::formatter<std::string_view>::format(trueno::dtypeName(d), ctx);
  }
};

#endif // TRUENO_FORMAT_H
