//===- Scan.cpp - cumsum and cumprod --------------------------------------===//
//
// Running sums and products along one dimension, at the call on the realized
// input: the dimension is moved last and made contiguous, and each row is one
// sequential loop (a scan has no parallel linalg form in MLIR 19; see
// docs/OPS.md). The accumulator is int64 for bool and integers, as in
// PyTorch, and float64 for floats (PyTorch's CPU accumulator type for float32
// too), rounded to the result's dtype at each step's store.
//
//===----------------------------------------------------------------------===//
#include "tensor/Dispatch.h"
#include "tensor/Parallel.h"
#include "tensor/TensorImpl.h"
#include "trueno/Autograd.h"
#include "trueno/Core/Cast.h"
#include "trueno/Core/Check.h"
#include "trueno/Indexing.h"

#include "trueno/Ops.h"

namespace trueno {

using detail::fail;
using detail::implOf;
using detail::wrapDim;

namespace {

Tensor scan(const Tensor &x, std::int64_t dim, bool product,
            std::string_view op, SourceLoc where) {
  const TensorImpl &self = implOf(x, op, where);
  if (self.shape.empty()) {
    wrapDim(dim, 1, self.shape, op, where);
    return scan(x.reshape({1}), 0, product, op, where).reshape({});
  }
  auto rank = static_cast<std::int64_t>(self.shape.size());
  std::int64_t d = wrapDim(dim, rank, self.shape, op, where);
  DType dtype = isFloating(self.dtype) ? self.dtype : DType::Int64;
  Tensor moved = x.to(dtype, where).transpose(d, rank - 1, where).contiguous();
  Tensor result =
      detail::makeContiguous(dtype, moved.shape(), self.storage->device());
  std::int64_t n = self.shape[d];
  std::int64_t rows = n == 0 ? 0 : moved.numel() / n;
  detail::dispatchDType(dtype, [&]<typename T>(detail::TypeTag<T>) {
    const T *in = reinterpret_cast<const T *>(moved.impl()->firstElement());
    T *out = reinterpret_cast<T *>(result.impl()->mutableFirstElement());
    detail::parallelFor(
        rows, rows * n, [&](std::int64_t first, std::int64_t end) {
          for (std::int64_t r = first; r < end; ++r) {
            if constexpr (std::is_same_v<T, std::int64_t>) {
              std::uint64_t acc = product ? 1 : 0; // wraps like int64 math
              for (std::int64_t i = 0; i < n; ++i) {
                auto v = static_cast<std::uint64_t>(in[r * n + i]);
                acc = product ? acc * v : acc + v;
                out[r * n + i] = static_cast<std::int64_t>(acc);
              }
            } else if constexpr (!std::is_same_v<T, bool> &&
                                 !std::is_integral_v<T>) {
              double acc = product ? 1.0 : 0.0;
              for (std::int64_t i = 0; i < n; ++i) {
                double v = detail::castValue<double>(in[r * n + i]);
                acc = product ? acc * v : acc + v;
                out[r * n + i] = detail::castValue<T>(acc);
              }
            }
          }
        });
  });
  return d == rank - 1 ? result
                       : result.transpose(d, rank - 1, where).contiguous();
}

/// The running sum along `dim` in the IR: a product with the upper
/// triangle of ones (n^2 work per row: it carries the gradient, the value
/// comes from the eager scan).
Tensor cumsumInIR(const Tensor &x, std::int64_t dim, SourceLoc where) {
  if (x.dim() == 0)
    return x;
  std::int64_t d = dim < 0 ? dim + x.dim() : dim;
  std::int64_t n = x.size(d);
  Tensor upper = triu(
      ones({n, n}, TensorOptions(x.dtype()).withDevice(x.device())), 0, where);
  Tensor moved = x.transpose(d, -1, where);
  return matmul(moved, upper, where).transpose(d, -1, where);
}

/// A scan whose input requires grad, through the escape hatch of
/// tensor/TensorImpl.h: the eager value plus a tangent whose derivative is
/// the scan's. For cumsum the tangent is the sum itself in the IR. For
/// cumprod, d y_j / d x_i is the product of x_k over k <= j but k != i:
///  - before a row's first zero, at z, that is y_j / x_i, so the tangent
///    there is y * cumsum(x / x0), y and x0 (the values) held constant;
///  - from z up to the row's second zero, only i = z survives: q_j x_z,
///    where q_j is the product up to j without x_z;
///  - from the second zero on, every term has a zero factor: 0.
/// (x0 has its zeros replaced by ones, so that the first term is finite
/// where y is 0.)
Tensor differentiableScan(const Tensor &x, std::int64_t dim, bool product,
                          std::string_view op, SourceLoc where) {
  Tensor plain = x.detach(where);
  Tensor value = scan(plain, dim, product, op, where);
  if (!product)
    return detail::withGradientOf(value, cumsumInIR(x, dim, where), where);
  Tensor isZero = eq(plain, 0.0, where);
  Tensor safe = trueno::where(isZero, 1.0, plain, where);
  Tensor tangent =
      mul(value, cumsumInIR(div(x, safe, where), dim, where), where);
  if (any(isZero, {}, false, where).item<bool>()) {
    Tensor zerosSoFar = scan(isZero, dim, false, op, where);
    Tensor firstZero = bitwiseAnd(isZero, eq(zerosSoFar, 1, where), where);
    Tensor withoutFirst = trueno::where(firstZero, 1.0, plain, where);
    Tensor q =
        trueno::where(eq(zerosSoFar, 1, where),
                      scan(withoutFirst, dim, true, op, where), 0.0, where);
    Tensor atFirstZero = mul(x, firstZero, where);
    if (x.dim() > 0)
      atFirstZero = sum(atFirstZero, {dim}, true, where);
    tangent = add(tangent, mul(q, atFirstZero, where), where);
  }
  return detail::withGradientOf(value, tangent, where);
}

} // namespace

Tensor cumsum(const Tensor &x, std::int64_t dim, SourceLoc where) {
  if (detail::differentiating({&x}))
    return differentiableScan(x, dim, false, "cumsum", where);
  return scan(x, dim, false, "cumsum", where);
}

Tensor cumprod(const Tensor &x, std::int64_t dim, SourceLoc where) {
  if (detail::differentiating({&x}))
    return differentiableScan(x, dim, true, "cumprod", where);
  return scan(x, dim, true, "cumprod", where);
}

} // namespace trueno
