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

#include "Lazy.h"

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

Tensor conv2d(const Tensor &input, const Tensor &weight,
              const std::optional<Tensor> &bias,
              std::array<std::int64_t, 2> stride,
              std::array<std::int64_t, 2> padding,
              std::array<std::int64_t, 2> dilation, std::int64_t groups,
              SourceLoc where) {
  detail::implOf(input, "conv2d", where);
  detail::implOf(weight, "conv2d", where);
  if (bias)
    detail::implOf(*bias, "conv2d", where);
  if ((input.dim() != 3 && input.dim() != 4) || weight.dim() != 4)
    fail<ShapeError>(where, "conv2d",
                     "the input is (N, C, H, W) or (C, H, W) and the weight "
                     "(out_channels, in_channels / groups, KH, KW)",
                     "got an input of shape {} and a weight of shape {}",
                     formatShape(input.shape()), formatShape(weight.shape()));
  DType dtype = resultType(input, weight);
  if (bias)
    dtype = resultType(resultType(input, weight), bias->dtype());
  if (!isFloating(dtype))
    fail<DTypeError>(where, "conv2d",
                     "convert the input first, e.g. with "
                     "to(kFloat32)",
                     "conv2d is defined for floating tensors, not {}",
                     dtypeName(dtype));
  for (int d = 0; d < 2; ++d)
    if (stride[d] < 1 || dilation[d] < 1 || padding[d] < 0)
      fail<ValueError>(where, "conv2d",
                       "strides and dilations are >= 1, paddings >= 0",
                       "got stride ({}, {}), padding ({}, {}) and dilation "
                       "({}, {})",
                       stride[0], stride[1], padding[0], padding[1],
                       dilation[0], dilation[1]);
  Tensor x = input.dim() == 3 ? input.unsqueeze(0, where) : input;
  const Shape &in = x.shape(), &w = weight.shape();
  if (groups < 1 || in[1] % groups || w[0] % groups)
    fail<ValueError>(where, "conv2d",
                     "groups must divide both the input and output channels",
                     "groups = {} does not divide {} input and {} output "
                     "channels",
                     groups, in[1], w[0]);
  if (w[1] * groups != in[1])
    fail<ShapeError>(where, "conv2d",
                     "the weight's second dimension is in_channels / groups",
                     "a weight of shape {} with groups = {} expects {} input "
                     "channels, but the input of shape {} has {}",
                     formatShape(w), groups, w[1] * groups,
                     formatShape(input.shape()), in[1]);
  if (bias && (bias->dim() != 1 || bias->numel() != w[0]))
    fail<ShapeError>(where, "conv2d", "the bias has out_channels elements",
                     "a bias of shape {} does not match a weight of shape {}",
                     formatShape(bias->shape()), formatShape(w));
  Shape shape = {in[0], w[0], 0, 0};
  for (int d = 0; d < 2; ++d) {
    std::int64_t span = dilation[d] * (w[2 + d] - 1) + 1,
                 padded = in[2 + d] + 2 * padding[d];
    if (span > padded)
      fail<ShapeError>(where, "conv2d",
                       "pad the input or use a smaller kernel or dilation",
                       "the kernel spans {} (size {}, dilation {}) along "
                       "dimension {}, more than the padded input's {}",
                       span, w[2 + d], dilation[d], 2 + d, padded);
    shape[2 + d] = (padded - span) / stride[d] + 1;
  }
  DType compute = computeType(dtype);
  auto node = [&](const Tensor &t) {
    return detail::castNode(detail::castNode(detail::nodeOf(*t.impl()), dtype),
                            compute);
  };
  Tensor y =
      detail::record(runtime::OpCode::Conv2d, compute, shape,
                     {node(x), node(weight)}, input.impl()->storage->device(),
                     {stride[0], stride[1], padding[0], padding[1], dilation[0],
                      dilation[1], groups});
  if (bias) // fused into the convolution's kernel, in place
    y = add(
        y,
        bias->to(dtype, where).to(compute, where).reshape({w[0], 1, 1}, where),
        where);
  y = y.to(dtype, where);
  return input.dim() == 3 ? y.squeeze(0, where) : y;
}

Tensor Tensor::softmax(std::int64_t dim, SourceLoc where) const {
  return trueno::softmax(*this, dim, std::nullopt, where);
}
Tensor Tensor::logSoftmax(std::int64_t dim, SourceLoc where) const {
  return trueno::logSoftmax(*this, dim, std::nullopt, where);
}

} // namespace trueno
