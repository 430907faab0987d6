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

/// The sum along `dim` of `x` where `mask` holds, keeping the dimension.
Tensor sumWhere(const Tensor &x, const Tensor &mask, std::int64_t dim,
                SourceLoc where) {
  Tensor masked = mul(x, mask, where);
  return x.dim() == 0 ? masked : sum(masked, {dim}, true, where);
}

/// A scan whose input requires grad, through the escape hatch of
/// tensor/TensorImpl.h: the eager value plus the scan's change for
/// dx = changeOf(x). For cumsum that is the sum of dx in the IR. For
/// cumprod, d y_j / d x_i = C_ij, the product of x_k over k <= j but
/// k != i. With a row's zeros at z1 < z2 < ..., the change is written so
/// that it and its derivative (the second derivative) are exact:
///  - y_j * cumsum(dx / x) over the nonzero x_i: C_ij = y_j / x_i before
///    z1, and y_j's derivative carries C_ij's through x_z1 after it;
///  - q_j dx_z1 for z1 <= j < z2, q_j the product up to j without x_z1;
///  - r_j (x_z2 dx_z1 + x_z1 dx_z2) for z2 <= j < z3, r_j the product
///    without both: zero, but with the derivative of C_z1,j and C_z2,j;
///  - past z3 every C_ij and its derivative have a zero factor.
/// The divisor has its zeros replaced by ones, so that each term is finite.
/// y, x, q and r are the factors: differentiable at the outermost hatch.
Tensor differentiableScan(const Tensor &x, std::int64_t dim, bool product,
                          std::string_view op, SourceLoc where) {
  Tensor dx = detail::changeOf(x, where);
  if (!product)
    return detail::valuePlusChange(scan(x.detach(where), dim, false, op, where),
                                   cumsumInIR(dx, dim, where), where);
  detail::HatchFactors factors;
  Tensor fx = factors.input(x, where);
  Tensor value = cumprod(fx, dim, where);
  Tensor isZero = eq(x.detach(where), 0.0, where);
  Tensor safe = trueno::where(isZero, 1.0, fx, where);
  Tensor change =
      mul(value,
          cumsumInIR(div(trueno::where(isZero, 0.0, dx, where), safe, where),
                     dim, where),
          where);
  if (any(isZero, {}, false, where).item<bool>()) {
    Tensor zerosSoFar = scan(isZero, dim, false, op, where);
    Tensor first = bitwiseAnd(isZero, eq(zerosSoFar, 1, where), where);
    Tensor second = bitwiseAnd(isZero, eq(zerosSoFar, 2, where), where);
    Tensor q = trueno::where(
        eq(zerosSoFar, 1, where),
        cumprod(trueno::where(first, 1.0, fx, where), dim, where), 0.0, where);
    Tensor r = trueno::where(
        eq(zerosSoFar, 2, where),
        cumprod(trueno::where(bitwiseOr(first, second, where), 1.0, fx, where),
                dim, where),
        0.0, where);
    Tensor dxFirst = sumWhere(dx, first, dim, where);
    Tensor dxSecond = sumWhere(dx, second, dim, where);
    Tensor pair =
        add(mul(sumWhere(fx, second, dim, where), dxFirst, where),
            mul(sumWhere(fx, first, dim, where), dxSecond, where), where);
    change = add(add(change, mul(q, dxFirst, where), where),
                 mul(r, pair, where), where);
  }
  return detail::valuePlusChange(value, change, where);
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
