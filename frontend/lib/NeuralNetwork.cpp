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

using detail::computeType;
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

} // namespace

namespace {

/// softmax (or log-softmax) of `x` along `dim`; see the file comment.
Tensor softmaxAlong(const Tensor &x, std::int64_t dim,
                    std::optional<DType> dtype, bool logarithm,
                    std::string_view name, SourceLoc where) {
  Tensor input = softmaxInput(x, dtype, name, where);
  std::int64_t d = detail::wrapDim(dim, std::max<std::int64_t>(input.dim(), 1),
                                   input.shape(), name, where);
  if (input.numel() == 0)
    return input.clone();
  if (input.dim() == 0) // a single element: exp(x - x) / itself
    d = 0, input = input.reshape({1}, where);
  Tensor v = input.to(computeType(input.dtype()), where);
  Tensor m = amax(v, {d}, true, where);
  Tensor e = exp(sub(v, m, where), where);
  Tensor total = sum(e, {d}, true, where);
  Tensor y = logarithm ? sub(v, add(m, log(total, where), where), where)
                       : div(e, total, where);
  y = y.to(input.dtype(), where);
  return x.dim() == 0 ? y.reshape({}, where) : y;
}

} // namespace

Tensor softmax(const Tensor &x, std::int64_t dim, std::optional<DType> dtype,
               SourceLoc where) {
  return softmaxAlong(x, dim, dtype, false, "softmax", where);
}

Tensor logSoftmax(const Tensor &x, std::int64_t dim, std::optional<DType> dtype,
                  SourceLoc where) {
  return softmaxAlong(x, dim, dtype, true, "logSoftmax", where);
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

//===----------------------------------------------------------------------===//
// Activations: compositions of elementwise ops, computed in float32 for
// halves and rounded once (one fused kernel either way).
//===----------------------------------------------------------------------===//

namespace {

/// `x` widened for an activation, after checking it is floating.
Tensor activationInput(const Tensor &x, std::string_view op, SourceLoc where) {
  detail::implOf(x, op, where);
  if (!isFloating(x.dtype()))
    fail<DTypeError>(where, op, "convert it first, e.g. with to(kFloat32)",
                     "{} is defined for floating tensors, not {}", op,
                     dtypeName(x.dtype()));
  return x.to(computeType(x.dtype()), where);
}

} // namespace

Tensor leakyRelu(const Tensor &x, double negativeSlope, SourceLoc where) {
  Tensor v = activationInput(x, "leakyRelu", where);
  return trueno::where(gt(v, 0.0, where), v, mul(v, negativeSlope, where),
                       where)
      .to(x.dtype(), where);
}

Tensor elu(const Tensor &x, double alpha, SourceLoc where) {
  Tensor v = activationInput(x, "elu", where);
  return trueno::where(gt(v, 0.0, where), v, mul(expm1(v, where), alpha, where),
                       where)
      .to(x.dtype(), where);
}

Tensor selu(const Tensor &x, SourceLoc where) {
  constexpr double alpha = 1.6732632423543772848170429916717;
  constexpr double scale = 1.0507009873554804934193349852946;
  Tensor v = activationInput(x, "selu", where);
  return mul(trueno::where(gt(v, 0.0, where), v,
                           mul(expm1(v, where), alpha, where), where),
             scale, where)
      .to(x.dtype(), where);
}

Tensor mish(const Tensor &x, SourceLoc where) {
  Tensor v = activationInput(x, "mish", where);
  return mul(v, tanh(softplus(v, where), where), where).to(x.dtype(), where);
}

Tensor hardsigmoid(const Tensor &x, SourceLoc where) {
  Tensor v = activationInput(x, "hardsigmoid", where);
  return div(clamp(add(v, 3.0, where), 0.0, 6.0, where), 6.0, where)
      .to(x.dtype(), where);
}

Tensor hardswish(const Tensor &x, SourceLoc where) {
  Tensor v = activationInput(x, "hardswish", where);
  return div(mul(v, clamp(add(v, 3.0, where), 0.0, 6.0, where), where), 6.0,
             where)
      .to(x.dtype(), where);
}

Tensor hardtanh(const Tensor &x, double low, double high, SourceLoc where) {
  Tensor v = activationInput(x, "hardtanh", where);
  if (low > high)
    fail<ValueError>(where, "hardtanh", "pass low <= high",
                     "low = {} is above high = {}", low, high);
  return clamp(v, low, high, where).to(x.dtype(), where);
}

Tensor softsign(const Tensor &x, SourceLoc where) {
  Tensor v = activationInput(x, "softsign", where);
  return div(v, add(abs(v, where), 1.0, where), where).to(x.dtype(), where);
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

namespace {

Tensor reduceLoss(const Tensor &loss, LossReduction reduction,
                  SourceLoc where) {
  switch (reduction) {
  case LossReduction::None:
    return loss;
  case LossReduction::Sum:
    return sum(loss, {}, false, where);
  case LossReduction::Mean:
    break;
  }
  return mean(loss, {}, false, where);
}

/// input and target of one shape and a floating dtype, widened for halves.
std::pair<Tensor, Tensor> lossOperands(const Tensor &input,
                                       const Tensor &target,
                                       std::string_view op, SourceLoc where) {
  detail::implOf(input, op, where);
  detail::implOf(target, op, where);
  if (input.shape() != target.shape())
    fail<ShapeError>(where, op, "pass a target of the input's shape",
                     "input of shape {} and target of shape {} differ",
                     formatShape(input.shape()), formatShape(target.shape()));
  DType dtype = resultType(input, target);
  if (!isFloating(dtype))
    fail<DTypeError>(where, op, "convert them first, e.g. with to(kFloat32)",
                     "{} is defined for floating tensors, not {}", op,
                     dtypeName(dtype));
  DType compute = computeType(dtype);
  return {input.to(dtype, where).to(compute, where),
          target.to(dtype, where).to(compute, where)};
}

} // namespace

Tensor mseLoss(const Tensor &input, const Tensor &target,
               LossReduction reduction, SourceLoc where) {
  auto [x, t] = lossOperands(input, target, "mseLoss", where);
  Tensor d = sub(x, t, where);
  return reduceLoss(mul(d, d, where), reduction, where)
      .to(resultType(input, target), where);
}

Tensor binaryCrossEntropy(const Tensor &input, const Tensor &target,
                          LossReduction reduction, SourceLoc where) {
  auto [x, t] = lossOperands(input, target, "binaryCrossEntropy", where);
  // As PyTorch, each log is clamped at -100 so that 0 and 1 give finite
  // losses.
  Tensor logX = clamp(log(x, where), -100.0, std::nullopt, where);
  Tensor log1mX =
      clamp(log1p(neg(x, where), where), -100.0, std::nullopt, where);
  Tensor loss = neg(
      add(mul(t, logX, where), mul(sub(1.0, t, where), log1mX, where), where),
      where);
  return reduceLoss(loss, reduction, where)
      .to(resultType(input, target), where);
}

Tensor binaryCrossEntropyWithLogits(const Tensor &logits, const Tensor &target,
                                    LossReduction reduction, SourceLoc where) {
  auto [x, t] =
      lossOperands(logits, target, "binaryCrossEntropyWithLogits", where);
  // max(x, 0) - x * t + log(1 + exp(-|x|)): no overflow for any x.
  Tensor loss = add(sub(relu(x, where), mul(x, t, where), where),
                    log1p(exp(neg(abs(x, where), where), where), where), where);
  return reduceLoss(loss, reduction, where)
      .to(resultType(logits, target), where);
}

Tensor nllLoss(const Tensor &logProbs, const Tensor &target,
               LossReduction reduction, SourceLoc where) {
  detail::implOf(logProbs, "nllLoss", where);
  detail::implOf(target, "nllLoss", where);
  if (logProbs.dim() != 2 || target.dim() != 1 ||
      target.shape()[0] != logProbs.shape()[0])
    fail<ShapeError>(where, "nllLoss",
                     "the input is (N, C) log-probabilities and the target "
                     "(N,) class indices",
                     "input of shape {} and target of shape {} do not match",
                     formatShape(logProbs.shape()),
                     formatShape(target.shape()));
  if (!isFloating(logProbs.dtype()))
    fail<DTypeError>(
        where, "nllLoss", "convert it first, e.g. with to(kFloat32)",
        "the input must be floating, not {}", dtypeName(logProbs.dtype()));
  if (isFloating(target.dtype()) || target.dtype() == DType::Bool)
    fail<DTypeError>(where, "nllLoss", "class indices are integers, e.g. int64",
                     "the target must be an integer tensor, not {}",
                     dtypeName(target.dtype()));
  // The class indices are data: each is checked here, so an out-of-range one
  // is an IndexError rather than a silently zero loss.
  std::int64_t classes = logProbs.shape()[1];
  std::vector<std::int64_t> indices = target.toVector<std::int64_t>();
  for (std::size_t i = 0; i < indices.size(); ++i)
    if (indices[i] < 0 || indices[i] >= classes)
      fail<IndexError>(where, "nllLoss", "class indices are in [0, C)",
                       "target {} at position {} is out of range for {} "
                       "classes",
                       indices[i], i, classes);
  DType dtype = logProbs.dtype();
  Tensor v = logProbs.to(computeType(dtype), where);
  Tensor chosen = eq(arange(classes).unsqueeze(0, where),
                     target.to(DType::Int64, where).unsqueeze(1, where), where);
  Tensor picked =
      neg(sum(trueno::where(chosen, v, 0.0, where), {1}, false, where), where);
  return reduceLoss(picked, reduction, where).to(dtype, where);
}

Tensor crossEntropy(const Tensor &logits, const Tensor &target,
                    LossReduction reduction, SourceLoc where) {
  return nllLoss(logSoftmax(logits, 1, std::nullopt, where), target, reduction,
                 where);
}

Tensor Tensor::softmax(std::int64_t dim, SourceLoc where) const {
  return trueno::softmax(*this, dim, std::nullopt, where);
}
Tensor Tensor::logSoftmax(std::int64_t dim, SourceLoc where) const {
  return trueno::logSoftmax(*this, dim, std::nullopt, where);
}

} // namespace trueno
