//===- Error.cpp - Formatting of Trueno's error messages ------------------===//
//
// One layout for every error: the operation and the problem on the first
// line, then the hint, then the user's call site.
//
//===----------------------------------------------------------------------===//
#include "trueno/Error.h"

#include <fmt/format.h>

namespace trueno {

static std::string formatMessage(const std::string &op,
                                 const std::string &problem,
                                 const std::string &hint,
                                 const std::source_location &where) {
  std::string message = fmt::format("{}: {}", op, problem);
  if (!hint.empty())
    message += fmt::format("\n  hint: {}", hint);
  if (where.line() != 0)
    message += fmt::format("\n  at {}:{} in {}", where.file_name(),
                           where.line(), where.function_name());
  return message;
}

Error::Error(std::string op, std::string problem, std::string hint,
             std::source_location where)
    : std::runtime_error(formatMessage(op, problem, hint, where)),
      op_(std::move(op)), problem_(std::move(problem)), hint_(std::move(hint)),
      where_(where) {}

} // namespace trueno
