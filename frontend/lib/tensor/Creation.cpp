//===- Creation.cpp - zeros, ones, full, arange, linspace, eye ------------===//
//
// arange and linspace reproduce NumPy's arithmetic step by step (including
// its rounding), so that the differential tests compare them exactly.
//
//===----------------------------------------------------------------------===//
#include "tensor/Dispatch.h"
#include "tensor/TensorImpl.h"
#include "trueno/Core/Cast.h"
#include "trueno/Core/Check.h"

#include <cmath>

namespace trueno {

using detail::fail;

namespace detail {
void recordNestedSize(Shape &shape, std::size_t depth, std::int64_t size,
                      SourceLoc where) {
  if (depth == shape.size()) {
    shape.push_back(size);
    return;
  }
  if (shape[depth] != size)
    fail<ValueError>(where, "tensor",
                     "every list at one nesting level must "
                     "have the same length",
                     "ragged nested list: a list at depth {} has {} elements "
                     "where an earlier one had {}",
                     depth, size, shape[depth]);
}
} // namespace detail

/// empty() for `op`, which its errors name.
static Tensor emptyFor(std::string_view op, Shape shape, TensorOptions options,
                       SourceLoc where) {
  DType dtype = options.dtype.value_or(kDefaultFloat);
  detail::checkShape(shape, op, where, itemSize(dtype));
  return detail::makeContiguous(dtype, std::move(shape), options.device, op,
                                where);
}

/// full() for `op`, which its errors name.
static Tensor fullFor(std::string_view op, Shape shape, Scalar value,
                      TensorOptions options, SourceLoc where) {
  if (!options.dtype)
    options.dtype = value.isFloat() ? kDefaultFloat : value.dtype();
  Tensor result = emptyFor(op, std::move(shape), options, where);
  result.fill_(value, where);
  return result;
}

Tensor empty(Shape shape, TensorOptions options, SourceLoc where) {
  return emptyFor("empty", std::move(shape), options, where);
}

Tensor full(Shape shape, Scalar value, TensorOptions options, SourceLoc where) {
  return fullFor("full", std::move(shape), value, options, where);
}

Tensor zeros(Shape shape, TensorOptions options, SourceLoc where) {
  return fullFor("zeros", std::move(shape), 0,
                 options.withDType(options.dtype.value_or(kDefaultFloat)),
                 where);
}

Tensor ones(Shape shape, TensorOptions options, SourceLoc where) {
  return fullFor("ones", std::move(shape), 1,
                 options.withDType(options.dtype.value_or(kDefaultFloat)),
                 where);
}

/// `options` completed with `like`'s dtype and device where it says nothing.
static TensorOptions optionsLike(const Tensor &like, TensorOptions options,
                                 std::string_view op, SourceLoc where) {
  const TensorImpl &impl = detail::implOf(like, op, where);
  if (!options.dtype)
    options.dtype = impl.dtype;
  return options;
}

Tensor emptyLike(const Tensor &like, TensorOptions options, SourceLoc where) {
  return empty(like.shape(), optionsLike(like, options, "emptyLike", where),
               where);
}
Tensor zerosLike(const Tensor &like, TensorOptions options, SourceLoc where) {
  return zeros(like.shape(), optionsLike(like, options, "zerosLike", where),
               where);
}
Tensor onesLike(const Tensor &like, TensorOptions options, SourceLoc where) {
  return ones(like.shape(), optionsLike(like, options, "onesLike", where),
              where);
}
Tensor fullLike(const Tensor &like, Scalar value, TensorOptions options,
                SourceLoc where) {
  return full(like.shape(), value,
              optionsLike(like, options, "fullLike", where), where);
}

//===----------------------------------------------------------------------===//
// arange
//===----------------------------------------------------------------------===//

Tensor arange(Scalar stop, TensorOptions options, SourceLoc where) {
  return arange(0, stop, 1, options, where);
}

Tensor arange(Scalar start, Scalar stop, Scalar step, TensorOptions options,
              SourceLoc where) {
  bool allInts = !start.isFloat() && !stop.isFloat() && !step.isFloat();
  DType dtype = options.dtype.value_or(allInts ? kDefaultInt : kDefaultFloat);
  if (dtype == DType::Bool)
    fail<DTypeError>(where, "arange", "create an integer range and compare it",
                     "a range of bool values is not defined");
  double first = start.toDouble(), last = stop.toDouble(),
         delta = step.toDouble();
  if (!std::isfinite(first) || !std::isfinite(last) || !std::isfinite(delta))
    fail<ValueError>(where, "arange", "",
                     "bounds and step must be finite, got "
                     "start={}, stop={}, step={}",
                     first, last, delta);
  if (delta == 0)
    fail<ValueError>(where, "arange", "", "step must not be zero");

  std::int64_t length;
  if (allInts) {
    std::int64_t a = start.to<std::int64_t>(), b = stop.to<std::int64_t>(),
                 s = step.to<std::int64_t>();
    // In 128 bits: stop - start overflows for ranges across the int64 span.
    __int128 span = static_cast<__int128>(b) - a;
    __int128 count = (span > 0) == (s > 0) && span != 0
                         ? (span + s - (s > 0 ? 1 : -1)) / s
                         : 0;
    if (count > INT64_MAX)
      fail<ValueError>(where, "arange", "use a larger step",
                       "the range [{}, {}) by {} has more than 2^63 elements",
                       a, b, s);
    length = static_cast<std::int64_t>(count);
  } else {
    // NumPy: ceil((stop - start) / step) in double; a quotient that
    // underflows to zero still counts one element when its sign is right.
    double quotient = (last - first) / delta;
    if (!(quotient < 0x1p63))
      fail<ValueError>(where, "arange", "use a larger step",
                       "the range [{}, {}) by {} has too many elements", first,
                       last, delta);
    if (quotient == 0.0 && last != first)
      length = std::signbit(quotient) ? 0 : 1;
    else
      length =
          quotient > 0 ? static_cast<std::int64_t>(std::ceil(quotient)) : 0;
  }
  Tensor result = empty({length}, options.withDType(dtype), where);
  detail::dispatchDType(dtype, [&]<typename T>(detail::TypeTag<T>) {
    T *out = result.data<T>();
    if (allInts && !std::is_floating_point_v<T> && !detail::isLowFloat<T>) {
      std::int64_t a = start.to<std::int64_t>(), s = step.to<std::int64_t>();
      for (std::int64_t i = 0; i < length; ++i)
        out[i] = detail::castValue<T, std::int64_t>(a + i * s);
      return;
    }
    // NumPy's dtype `fill`: the first two values are converted from
    // double, then value i is first + i * (second - first) in the dtype's
    // own arithmetic (float for float16).
    if (length > 0)
      out[0] = detail::castValue<T, double>(first);
    if (length > 1)
      out[1] = detail::castValue<T, double>(first + delta);
    using Compute = std::conditional_t<detail::isLowFloat<T>, float, T>;
    Compute base = static_cast<Compute>(out[0]);
    Compute diff = static_cast<Compute>(static_cast<Compute>(out[1]) - base);
    for (std::int64_t i = 2; i < length; ++i)
      out[i] = static_cast<T>(
          static_cast<Compute>(base + static_cast<Compute>(i) * diff));
  });
  return result;
}

//===----------------------------------------------------------------------===//
// linspace, eye
//===----------------------------------------------------------------------===//

Tensor linspace(double start, double stop, std::int64_t steps,
                TensorOptions options, SourceLoc where) {
  if (steps < 0)
    fail<ValueError>(where, "linspace", "", "steps must be >= 0, got {}",
                     steps);
  DType dtype = options.dtype.value_or(kDefaultFloat);
  detail::checkShape({&steps, 1}, "linspace", where, sizeof(double));
  std::vector<double> values(steps);
  // NumPy's order of operations: i * step + start, or (i / div) * delta
  // when the step underflows to zero; the last value is stop exactly.
  if (steps > 0) {
    double div = static_cast<double>(steps - 1);
    double delta = stop - start;
    double step = steps > 1 ? delta / div : 0.0;
    for (std::int64_t i = 0; i < steps; ++i) {
      double x = static_cast<double>(i);
      // With one step NumPy computes 0 * delta + start: NaN for an
      // infinite or NaN delta.
      values[i] = (steps == 1  ? x * delta
                   : step == 0 ? x / div * delta
                               : x * step) +
                  start;
    }
    if (steps > 1)
      values[steps - 1] = stop;
    if (isIntegral(dtype)) // NumPy >= 1.20 floors before converting
      for (double &v : values)
        v = std::floor(v);
  }
  return fromVector(values, {steps}, options.withDType(dtype), where);
}

Tensor eye(std::int64_t n, std::optional<std::int64_t> m, TensorOptions options,
           SourceLoc where) {
  std::int64_t cols = m.value_or(n);
  if (n < 0 || cols < 0)
    fail<ValueError>(where, "eye", "", "sizes must be >= 0, got n={}, m={}", n,
                     cols);
  Tensor result = zeros({n, cols}, options, where);
  for (std::int64_t i = 0; i < std::min(n, cols); ++i)
    result.setAt({i, i}, 1, where);
  return result;
}

} // namespace trueno
