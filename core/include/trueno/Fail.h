//===- Fail.h - Throwing a typed error with a formatted message ----------===//
//
// `detail::fail<ShapeError>(where, "reshape", hint, "cannot {}", x)` formats
// the problem and throws: the one way every library of Trueno (and the
// training libraries on top of its public API) raises its typed errors.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_FAIL_H
#define TRUENO_FAIL_H

#include "trueno/Error.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <source_location>
#include <string>
#include <string_view>
#include <utility>

namespace trueno::detail {

template <typename E, typename... Args>
[[noreturn]] void fail(std::source_location where, std::string_view op,
                       std::string hint, fmt::format_string<Args...> problem,
                       Args &&...args) {
  throw E(std::string(op), fmt::format(problem, std::forward<Args>(args)...),
          std::move(hint), where);
}

} // namespace trueno::detail

#endif // TRUENO_FAIL_H
