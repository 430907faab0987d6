//===- Error.h - Trueno's typed exceptions --------------------------------===//
//
// Every public entry point reports bad input by throwing one of these. The
// message names the operation, the shapes or values involved, what is wrong,
// a hint where one helps, and the user's call site, so that an error raised
// deep inside a lazy graph still points at the line that caused it.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_ERROR_H
#define TRUENO_ERROR_H

#include <source_location>
#include <stdexcept>
#include <string>

namespace trueno {

/// Base of all Trueno errors. `what()` holds the full formatted message:
///
///   reshape: cannot reshape a tensor of shape (3, 4) (12 elements) into
///   shape (5, 2) (10 elements)
///     hint: the new shape must have 12 elements; -1 infers one dimension
///     at demo.cpp:12 in int main()
class Error : public std::runtime_error {
public:
  Error(std::string op, std::string problem, std::string hint,
        std::source_location where);

  /// The operation that failed, e.g. "reshape".
  const std::string &op() const { return op_; }
  /// What is wrong, without the hint or the location.
  const std::string &problem() const { return problem_; }
  /// How to fix it; may be empty.
  const std::string &hint() const { return hint_; }
  /// The user's call site.
  const std::source_location &where() const { return where_; }

private:
  std::string op_, problem_, hint_;
  std::source_location where_;
};

/// Shapes that do not fit the operation (reshape, broadcast, matmul...).
class ShapeError : public Error {
public:
  using Error::Error;
};
/// A dtype the operation does not accept, or a mismatch between dtypes.
class DTypeError : public Error {
public:
  using Error::Error;
};
/// An index or axis out of range.
class IndexError : public Error {
public:
  using Error::Error;
};
/// A value out of its domain (negative size, zero step, ragged list...).
class ValueError : public Error {
public:
  using Error::Error;
};
/// A linear-algebra failure that depends on the values: a singular matrix,
/// one that is not positive-definite, an iteration that did not converge.
class LinAlgError : public Error {
public:
  using Error::Error;
};
/// A device that is missing or that does not match another operand's.
class DeviceError : public Error {
public:
  using Error::Error;
};
/// Memory for a tensor that cannot be allocated.
class MemoryError : public Error {
public:
  using Error::Error;
};
/// A file that cannot be read or written, or whose contents are corrupt.
class IOError : public Error {
public:
  using Error::Error;
};
/// The compiler could not build a kernel for a recorded graph: a bug in
/// Trueno, never in the caller's code (the message says how to report it).
class CompileError : public Error {
public:
  using Error::Error;
};

} // namespace trueno

#endif // TRUENO_ERROR_H
