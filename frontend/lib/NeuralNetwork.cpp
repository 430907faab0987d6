//===- NeuralNetwork.cpp - softmax and the other network math -------------===//
//
// Composite ops written with the primitive ones, so that they are recorded,
// fused and cached like everything else. softmax over a dimension is three
// kernels, the algorithm PyTorch's CPU kernel uses row by row:
//   1. m = amax(x, dim)                       (reads x)
//   2. e = exp(x - m), s = sum(e, dim)        (reads x, writes e; one kernel
//                                              with two outputs)
//   3. y = e / s                              (reads e, writes y)
// Producers of x fuse into kernels 1 and 2, consumers of y into kernel 3.
// log_softmax never stores e: y = x - (m + log(sum(exp(x - m)))).
//
//===----------------------------------------------------------------------===//
#include "Check.h"
#include "TensorImpl.h"

#include "trueno/Ops.h"

namespace trueno {

using detail::fail;

namespace {

/// x converted to the dtype softmax computes in: float32 for halves (one
/// rounding at the end, as PyTorch's CPU kernels), or `dtype` if given.
Tensor softmaxInput(const Tensor &x, std::optional<DType> dtype,
                    std::string_view op, SourceLoc where) {
  detail::implOf(x, op, where);
  DType target = dtype.value_or(x.dtype());
  if (!isFloating(target))
    fail<DTypeError>(where, op,
                     "convert it first, e.g. with to(kFloat32), or pass a "
                     "floating dtype",
                     "{} is defined for floating tensors, not {}", op,
                     dtypeName(target));
  return x.to(target, where);
}

DType computeType(DType t) {
  return t == DType::Float16 || t == DType::BFloat16 ? DType::Float32 : t;
}

} // namespace

Tensor softmax(const Tensor &x, std::int64_t dim, std::optional<DType> dtype,
               SourceLoc where) {
  Tensor input = softmaxInput(x, dtype, "softmax", where);
  std::int64_t d = detail::wrapDim(dim, std::max<std::int64_t>(input.dim(), 1),
                                   input.shape(), "softmax", where);
  if (input.numel() == 0)
    return input.clone();
  if (input.dim() == 0) // a single element: exp(x - x) / itself
    d = 0, input = input.reshape({1}, where);
  Tensor v = input.to(computeType(input.dtype()), where);
  Tensor m = amax(v, {d}, true, where);
  Tensor e = exp(sub(v, m, where), where);
  Tensor y = div(e, sum(e, {d}, true, where), where).to(input.dtype(), where);
  return x.dim() == 0 ? y.reshape({}, where) : y;
}

Tensor logSoftmax(const Tensor &x, std::int64_t dim, std::optional<DType> dtype,
                  SourceLoc where) {
  Tensor input = softmaxInput(x, dtype, "logSoftmax", where);
  std::int64_t d = detail::wrapDim(dim, std::max<std::int64_t>(input.dim(), 1),
                                   input.shape(), "logSoftmax", where);
  if (input.numel() == 0)
    return input.clone();
  if (input.dim() == 0)
    d = 0, input = input.reshape({1}, where);
  Tensor v = input.to(computeType(input.dtype()), where);
  Tensor m = amax(v, {d}, true, where);
  Tensor total = sum(exp(sub(v, m, where), where), {d}, true, where);
  Tensor y =
      sub(v, add(m, log(total, where), where), where).to(input.dtype(), where);
  return x.dim() == 0 ? y.reshape({}, where) : y;
}

Tensor logsumexp(const Tensor &x, std::vector<std::int64_t> dims, bool keepdim,
                 SourceLoc where) {
  detail::implOf(x, "logsumexp", where);
  Tensor v = isFloating(x.dtype())
                 ? x.to(computeType(x.dtype()), where)
                 : x.to(DType::Float32, where); // as torch.logsumexp
  DType result = isFloating(x.dtype()) ? x.dtype() : DType::Float32;
  if (v.dim() == 0) { // one element: itself (also when infinite or NaN)
    (void)amax(v, dims, keepdim, where); // rejects dims other than 0 and -1
    return v.to(result, where).clone();
  }
  if (v.numel() == 0) // log(0)
    return log(sum(exp(v, where), dims, keepdim, where), where)
        .to(result, where);
  // The largest element is subtracted first so exp never overflows; where
  // it is infinite it is not (inf - inf would be NaN), as PyTorch does.
  Tensor m = amax(v, dims, true, where);
  Tensor shift = trueno::where(isinf(m, where), 0.0, m, where);
  Tensor total = sum(exp(sub(v, shift, where), where), dims, true, where);
  Tensor y = add(log(total, where), shift, where);
  y = y.to(result, where);
  if (keepdim)
    return y;
  std::vector<bool> reduced(v.dim(), dims.empty());
  for (std::int64_t d : dims) // already checked by amax
    reduced[detail::wrapDim(d, v.dim(), v.shape(), "logsumexp", where)] = true;
  Shape shape;
  for (std::int64_t i = 0; i < v.dim(); ++i)
    if (!reduced[i])
      shape.push_back(v.shape()[i]);
  return y.reshape(shape, where);
}

Tensor Tensor::softmax(std::int64_t dim, SourceLoc where) const {
  return trueno::softmax(*this, dim, std::nullopt, where);
}
Tensor Tensor::logSoftmax(std::int64_t dim, SourceLoc where) const {
  return trueno::logSoftmax(*this, dim, std::nullopt, where);
}

} // namespace trueno
