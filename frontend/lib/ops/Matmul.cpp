//===- Matmul.cpp - Matrix products: checks, type rules, recording -------===//
//
// matmul follows numpy.matmul / torch.matmul: vectors are promoted to
// matrices (and the added dimension dropped from the result), batch
// dimensions broadcast, and the product is one `trueno.matmul` node whose
// elementwise consumers (bias, activation) fuse into its kernel. Float
// products run on OpenBLAS (codegen's trueno-linalg-to-blas); float16 and
// bfloat16 are multiplied in float32 and rounded once, as PyTorch does on
// the CPU; integers wrap.
//
//===----------------------------------------------------------------------===//
#include "lazy/Lazy.h"
#include "trueno/Core/Check.h"

#include "trueno/Ops.h"

namespace trueno {

using detail::computeType;
using detail::fail;

namespace {

/// The dtype `op` multiplies `a` and `b` in (NumPy promotion); bool is
/// rejected as PyTorch does.
DType productType(std::string_view op, const Tensor &a, const Tensor &b,
                  SourceLoc where) {
  detail::implOf(a, op, where);
  detail::implOf(b, op, where);
  DType dtype = resultType(a, b);
  if (dtype == DType::Bool)
    fail<DTypeError>(where, op,
                     "convert the operands first, e.g. with "
                     "to(kInt32) or to(kFloat32)",
                     "{} is not defined for bool tensors", op);
  return dtype;
}

Shape dropLast2(const Shape &s) { return Shape(s.begin(), s.end() - 2); }

/// `t` promoted to `dtype` (which may round), then widened to `compute`.
Tensor widened(const Tensor &t, DType dtype, DType compute, SourceLoc where) {
  return t.to(dtype, where).to(compute, where);
}

} // namespace

Tensor matmul(const Tensor &a, const Tensor &b, SourceLoc where) {
  DType dtype = productType("matmul", a, b, where);
  if (a.dim() == 0 || b.dim() == 0)
    fail<ShapeError>(where, "matmul",
                     "use mul() or * to scale by a rank-0 tensor",
                     "both operands need at least one dimension, got shapes "
                     "{} and {}",
                     formatShape(a.shape()), formatShape(b.shape()));
  if (a.dim() == 1 && b.dim() == 1)
    return dot(a, b, where);
  Tensor lhs = a.dim() == 1 ? a.unsqueeze(0, where) : a;
  Tensor rhs = b.dim() == 1 ? b.unsqueeze(-1, where) : b;
  std::int64_t m = lhs.shape().end()[-2], k = lhs.shape().back();
  std::int64_t k2 = rhs.shape().end()[-2], n = rhs.shape().back();
  if (k != k2)
    fail<ShapeError>(where, "matmul",
                     b.dim() == 1
                         ? "the matrix's last dimension must equal the "
                           "vector's length"
                         : "the first operand's last dimension must equal "
                           "the second's second-to-last; transpose one with "
                           "mT() or swap them",
                     "cannot multiply shapes {} and {} ({} != {})",
                     formatShape(a.shape()), formatShape(b.shape()), k, k2);
  Shape batch;
  try {
    batch = broadcastShapes({dropLast2(lhs.shape()), dropLast2(rhs.shape())},
                            where);
  } catch (const ShapeError &e) {
    throw ShapeError("matmul",
                     fmt::format("the batch dimensions of shapes {} and {} "
                                 "do not broadcast: {}",
                                 formatShape(a.shape()), formatShape(b.shape()),
                                 e.problem()),
                     e.hint(), where);
  }
  Shape lhsShape = batch, rhsShape = batch, shape = batch;
  lhsShape.insert(lhsShape.end(), {m, k});
  rhsShape.insert(rhsShape.end(), {k, n});
  shape.insert(shape.end(), {m, n});
  // (2^32, 1) @ (1, 2^32) must fail here, not wrap the element count.
  detail::checkShape(shape, "matmul", where, itemSize(computeType(dtype)));
  DType compute = computeType(dtype);
  // Several batch dimensions are folded into one, so that the product is
  // one batched GEMM (a view where the strides allow, else a copy).
  bool fold = batch.size() > 1;
  std::int64_t batches = 1;
  for (std::int64_t d : batch)
    batches *= d;
  auto operand = [&](const Tensor &t, const Shape &s) {
    // A broadcast view reaches the GEMM as a zero batch stride, not a copy.
    Tensor view = t.shape() == s ? t : t.expand(s, where);
    if (fold)
      view = view.reshape({batches, s.end()[-2], s.back()}, where);
    // Promote to the product's dtype first (int32 -> bfloat16 rounds),
    // then widen to the dtype it is computed in.
    return detail::castNode(
        detail::castNode(detail::nodeOf(*view.impl()), dtype), compute);
  };
  Shape recorded = fold ? Shape{batches, m, n} : shape;
  Tensor product =
      detail::record(OpCode::Matmul, compute, recorded,
                     {operand(lhs, lhsShape), operand(rhs, rhsShape)},
                     a.impl()->storage->device(), {}, where);
  product = product.to(dtype, where); // in the product's kernel
  if (fold)
    product = product.reshape(shape, where);
  if (a.dim() == 1)
    product = product.squeeze(-2, where);
  if (b.dim() == 1)
    product = product.squeeze(-1, where);
  return product;
}

Tensor dot(const Tensor &a, const Tensor &b, SourceLoc where) {
  DType dtype = productType("dot", a, b, where);
  if (a.dim() != 1 || b.dim() != 1 || a.numel() != b.numel())
    fail<ShapeError>(where, "dot",
                     "use matmul() for matrices, or vdot() to flatten",
                     "needs two vectors of one length, got shapes {} and {}",
                     formatShape(a.shape()), formatShape(b.shape()));
  // Halves multiply and add in float32 (as matmul); integer sums accumulate
  // in int64. Either way the result is rounded or wrapped once.
  DType compute = computeType(dtype);
  return sum(mul(widened(a, dtype, compute, where),
                 widened(b, dtype, compute, where), where),
             {}, false, where)
      .to(dtype, where);
}

Tensor vdot(const Tensor &a, const Tensor &b, SourceLoc where) {
  productType("vdot", a, b, where);
  if (a.numel() != b.numel())
    fail<ShapeError>(where, "vdot", "both operands need as many elements",
                     "shapes {} and {} have {} and {} elements",
                     formatShape(a.shape()), formatShape(b.shape()), a.numel(),
                     b.numel());
  return dot(a.reshape({a.numel()}, where), b.reshape({b.numel()}, where),
             where);
}

Tensor outer(const Tensor &a, const Tensor &b, SourceLoc where) {
  // Products of elements, not sums of products: bools are fine (an and),
  // as in torch.outer.
  detail::implOf(a, "outer", where);
  detail::implOf(b, "outer", where);
  if (a.dim() != 1 || b.dim() != 1)
    fail<ShapeError>(where, "outer", "flatten the operands first",
                     "needs two vectors, got shapes {} and {}",
                     formatShape(a.shape()), formatShape(b.shape()));
  detail::checkShape(Shape{a.numel(), b.numel()}, "outer", where);
  return mul(a.unsqueeze(1, where), b.unsqueeze(0, where), where);
}

Tensor addmm(const Tensor &input, const Tensor &m1, const Tensor &m2,
             Scalar beta, Scalar alpha, SourceLoc where) {
  DType dtype = resultType(productType("addmm", m1, m2, where), input.dtype());
  detail::implOf(input, "addmm", where);
  if (m1.dim() != 2 || m2.dim() != 2)
    fail<ShapeError>(where, "addmm", "use matmul() for vectors and batches",
                     "needs two matrices, got shapes {} and {}",
                     formatShape(m1.shape()), formatShape(m2.shape()));
  DType compute = computeType(dtype);
  Tensor product = matmul(widened(m1, dtype, compute, where),
                          widened(m2, dtype, compute, where), where);
  if (!detail::broadcastsTo(input.shape(), product.shape()))
    fail<ShapeError>(where, "addmm", "give a bias of shape (n,) or (m, n)",
                     "input of shape {} does not broadcast to the product's "
                     "shape {}",
                     formatShape(input.shape()), formatShape(product.shape()));
  // Integer results take beta and alpha as integers first, as PyTorch does
  // (beta 0.2 and alpha 0.6 are both 0), not the product in float
  // truncated afterwards.
  if (!isFloating(dtype) && dtype != DType::Bool) {
    beta = Scalar(beta.to<std::int64_t>());
    alpha = Scalar(alpha.to<std::int64_t>());
  }
  if (alpha.toDouble() != 1.0)
    product = mul(product, alpha, where);
  if (beta.toDouble() != 0.0) { // PyTorch ignores input (even NaN) then
    Tensor bias = widened(input, dtype, compute, where);
    product = add(
        product, beta.toDouble() == 1.0 ? bias : mul(bias, beta, where), where);
  }
  return product.to(dtype, where);
}

Tensor linear(const Tensor &x, const Tensor &weight,
              const std::optional<Tensor> &bias, SourceLoc where) {
  productType("linear", x, weight, where);
  if (weight.dim() != 2 || x.dim() == 0 ||
      x.shape().back() != weight.shape()[1])
    fail<ShapeError>(where, "linear",
                     "the weight is (out_features, in_features) and the "
                     "input's last dimension is in_features",
                     "input of shape {} does not match a weight of shape {}",
                     formatShape(x.shape()), formatShape(weight.shape()));
  if (bias && (bias->dim() != 1 || bias->numel() != weight.shape()[0]))
    fail<ShapeError>(where, "linear", "the bias has out_features elements",
                     "a bias of shape {} does not match a weight of shape {}",
                     formatShape(bias->shape()), formatShape(weight.shape()));
  // Rows of a higher-rank input are one matrix, as PyTorch folds them: one
  // GEMM with a shared weight instead of a batch of small ones. Halves are
  // multiplied and the bias added in float32, then rounded once.
  DType dtype = bias ? resultType(resultType(x, weight), bias->dtype())
                     : resultType(x, weight);
  DType compute = computeType(dtype);
  Tensor rows = x.dim() > 2 ? x.flatten(0, -2, where) : x;
  Tensor y = matmul(widened(rows, dtype, compute, where),
                    widened(weight, dtype, compute, where).mT(where), where);
  if (bias)
    y = add(y, widened(*bias, dtype, compute, where), where);
  y = y.to(dtype, where);
  if (x.dim() > 2) {
    Shape shape = x.shape();
    shape.back() = weight.shape()[0];
    y = y.reshape(shape, where);
  }
  return y;
}

Tensor Tensor::matmul(const Tensor &other, SourceLoc where) const {
  return trueno::matmul(*this, other, where);
}

} // namespace trueno
