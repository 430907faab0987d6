//===- NeuralNetwork.cpp - softmax and the other network math -------------===//
//
// Composite ops written with the primitive ones, so that they are recorded,
// fused and cached like everything else. softmax over a dimension is
//   m = amax(x, dim);  s = sum(exp(x - m), dim);  y = exp(x - m) / s
// (log_softmax: y = x - (m + log(s))), the algorithm PyTorch's CPU kernel
// uses row by row. FormKernels makes it one kernel when a row is at
// most 256 KiB, and trueno-tile-rows runs that kernel a block of rows at a
// time, so x is read from memory once. Longer rows are split into chunks
// (chunkedSoftmax): two reads of x.
//
//===----------------------------------------------------------------------===//
#include "tensor/TensorImpl.h"
#include "trueno/Core/Check.h"

#include "lazy/Lazy.h"

#include "trueno/Indexing.h"
#include "trueno/Ops.h"
#include "trueno/Random.h"

#include <algorithm>

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

/// The smallest chunk worth a kernel iteration of its own.
constexpr std::int64_t kMinChunkBytes = 4 * 1024;

/// The chunk length to split the rows of `v` (softmax along `d`) into, or 0
/// to keep them whole. Rows longer than the target's row-fusion limit (the
/// graph pipeline's: they would not stay in the cache between softmax's
/// sweeps) are split, when they are contiguous last-dimension rows, by a
/// divisor that makes chunks of kMinChunkBytes to a quarter of that limit.
std::int64_t longRowChunk(const Tensor &v, std::int64_t d) {
  if (d != v.dim() - 1)
    return 0;
  std::int64_t longRowBytes =
      detail::backendOf(v.device(), "softmax").target().rowFusionBytes();
  std::int64_t length = v.shape()[d];
  std::int64_t bytes = itemSize(v.dtype());
  if (length * bytes <= longRowBytes)
    return 0;
  for (std::int64_t chunk = longRowBytes / 4 / bytes;
       chunk >= kMinChunkBytes / bytes; --chunk)
    if (length % chunk == 0)
      return chunk;
  return 0;
}

/// x with NaN replaced by 1, for the maximum that softmax subtracts. Only
/// rows without NaN need that maximum: in a row with NaN, exp(NaN - m) makes
/// the sum, and so the whole row, NaN whatever m is. A maximum over values
/// convert-trueno-to-linalg can prove are not NaN (NaN replaced by a bool
/// converted to float; a scalar -inf would be a kernel argument, unknown
/// when compiling) lowers to one vmaxps per vector instead of the
/// NaN-propagating llvm.maximum's six: softmax [1000, 1000] 0.20 ms against
/// 0.25 ms, alternating the two builds in one session.
Tensor withoutNaN(const Tensor &x, SourceLoc where) {
  Tensor nan = isnan(x, where);
  return trueno::where(nan, nan.to(x.dtype(), where), x, where);
}

/// softmax (or log-softmax) along the last dimension of `v`, whose rows
/// are split into chunks of `chunk` elements. Each chunk's maximum mc and
/// sum sc = sum(exp(x - mc)) come from one kernel that reads the chunk once
/// (FormKernels and trueno-tile-rows keep it in the cache between the
/// two sweeps); the row's M = max(mc) and S = sum(sc * exp(mc - M)) are
/// tiny; then y = exp(x - M) / S is a second pass. Two reads of x in all,
/// where whole rows would take three. A chunk of -inf (masked) has mc =
/// -inf; it is shifted by 0 instead, so that its sc is 0, not NaN, and its
/// term sc * exp(mc - M) is 0. Rows that are all -inf, or hold +inf or NaN,
/// give NaN, as in PyTorch.
Tensor chunkedSoftmax(const Tensor &v, std::int64_t chunk, bool logarithm,
                      SourceLoc where) {
  Shape rows = v.shape();
  Shape chunks = rows;
  chunks.back() = v.shape().back() / chunk;
  chunks.push_back(chunk);
  Tensor x = v.reshape(chunks, where);
  Tensor m = amax(withoutNaN(x, where), {-1}, true, where);
  Tensor shift = trueno::where(isinf(m, where), 0.0, m, where);
  Tensor s = sum(exp(sub(x, shift, where), where), {-1}, true, where);
  Tensor top = amax(m, {-2}, true, where);
  Tensor total =
      sum(mul(s, exp(sub(m, top, where), where), where), {-2}, true, where);
  Tensor y = logarithm ? sub(x, add(top, log(total, where), where), where)
                       : div(exp(sub(x, top, where), where), total, where);
  return y.reshape(rows, where);
}

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
  std::int64_t chunk = longRowChunk(v, d);
  if (chunk > 0) {
    Tensor y = chunkedSoftmax(v, chunk, logarithm, where);
    return y.to(input.dtype(), where);
  }
  Tensor m = amax(withoutNaN(v, where), {d}, true, where);
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
    for (std::int64_t d : dims) // a scalar has dimensions 0 and -1
      (void)detail::wrapDim(d, 1, v.shape(), "logsumexp", where);
    return v.to(result, where).clone();
  }
  detail::reductionDims(v.shape(), dims, "logsumexp", where);
  if (v.numel() == 0) // log(0)
    return log(sum(exp(v, where), dims, keepdim, where), where)
        .to(result, where);
  // The largest element is subtracted first so exp never overflows; where
  // it is infinite it is not (inf - inf would be NaN), as PyTorch does. NaN
  // is left out of that maximum as in softmax: exp(NaN - m) still makes the
  // sum NaN.
  Tensor m = amax(withoutNaN(v, where), dims, true, where);
  Tensor shift = trueno::where(isinf(m, where), 0.0, m, where);
  Tensor total = sum(exp(sub(v, shift, where), where), dims, true, where);
  Tensor y = add(log(total, where), shift, where);
  y = y.to(result, where);
  if (keepdim)
    return y;
  std::vector<bool> reduced(v.dim(), dims.empty());
  for (std::int64_t d : dims) // checked above
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
  // A floating bias does not make an integer convolution floating: PyTorch
  // refuses the mix rather than promote.
  if (!isFloating(dtype))
    fail<DTypeError>(
        where, "conv2d",
        "convert the input and weight first, e.g. with "
        "to(kFloat32)",
        "conv2d is defined for floating tensors, not {}{}", dtypeName(dtype),
        bias && isFloating(bias->dtype())
            ? fmt::format(" (with a {} bias)", dtypeName(bias->dtype()))
            : "");
  if (bias)
    dtype = resultType(dtype, bias->dtype());
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
    std::int64_t span, padded;
    if (__builtin_mul_overflow(dilation[d], w[2 + d] - 1, &span) ||
        __builtin_add_overflow(span, 1, &span) ||
        __builtin_mul_overflow(padding[d], 2, &padded) ||
        __builtin_add_overflow(padded, in[2 + d], &padded))
      fail<ValueError>(where, "conv2d", "use smaller dilations and paddings",
                       "dilation {} and padding {} along dimension {} give "
                       "sizes beyond 2^63",
                       dilation[d], padding[d], 2 + d);
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
      detail::record(OpCode::Conv2d, compute, shape, {node(x), node(weight)},
                     input.impl()->storage->device(),
                     {{stride[0], stride[1]},
                      {padding[0], padding[1]},
                      {dilation[0], dilation[1]},
                      {groups}},
                     where);
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
  // low > high is no error: like PyTorch (and clamp), every element is
  // then `high`.
  Tensor v = activationInput(x, "hardtanh", where);
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

namespace {

/// nllLoss and crossEntropy on log-probabilities `logProbs` of shape
/// (N, C, d...) or (C,), with integer class targets of shape (N, d...) or
/// (), following torch.nn.functional.nll_loss / cross_entropy: class
/// weights, ignore_index and label smoothing (cross_entropy only).
Tensor classLoss(const Tensor &logProbs, const Tensor &target,
                 const ClassLossOptions &options, std::string_view op,
                 SourceLoc where) {
  detail::implOf(logProbs, op, where);
  detail::implOf(target, op, where);
  const Shape &in = logProbs.shape();
  Shape expected = in;
  if (!in.empty())
    expected.erase(expected.begin() + (in.size() == 1 ? 0 : 1));
  if (in.empty() || target.shape() != expected)
    fail<ShapeError>(where, op,
                     "the input is (N, C) or (N, C, d...) scores and the "
                     "target (N,) or (N, d...) class indices",
                     "input of shape {} and target of shape {} do not match",
                     formatShape(in), formatShape(target.shape()));
  if (!isFloating(logProbs.dtype()))
    fail<DTypeError>(where, op, "convert it first, e.g. with to(kFloat32)",
                     "the input must be floating, not {}",
                     dtypeName(logProbs.dtype()));
  if (isFloating(target.dtype()) || target.dtype() == DType::Bool)
    fail<DTypeError>(where, op, "class indices are integers, e.g. int64",
                     "the target must be an integer tensor, not {}",
                     dtypeName(target.dtype()));
  std::int64_t classDim = in.size() == 1 ? 0 : 1;
  std::int64_t classes = in[classDim];
  if (options.labelSmoothing < 0 || options.labelSmoothing > 1)
    fail<ValueError>(where, op, "label smoothing is in [0, 1]",
                     "label smoothing {} is out of range",
                     options.labelSmoothing);
  DType dtype = logProbs.dtype(), compute = computeType(dtype);
  Device device = logProbs.device();
  std::optional<Tensor> weight;
  if (options.weight) {
    detail::implOf(*options.weight, op, where);
    if (options.weight->shape() != Shape{classes})
      fail<ShapeError>(where, op, "give one weight per class",
                       "weight of shape {} for {} classes",
                       formatShape(options.weight->shape()), classes);
    weight = options.weight->to(compute, where);
  }
  // The class indices are data: each is checked here, so an out-of-range one
  // is an IndexError rather than a silently zero loss.
  std::vector<std::int64_t> indices = target.toVector<std::int64_t>();
  std::vector<std::uint8_t> kept(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) {
    kept[i] = indices[i] != options.ignoreIndex;
    if (!kept[i]) {
      indices[i] = 0; // any valid class; its loss is masked out
    } else if (indices[i] < 0 || indices[i] >= classes) {
      fail<IndexError>(where, op, "class indices are in [0, C)",
                       "target {} at position {} is out of range for {} "
                       "classes",
                       indices[i], i, classes);
    }
  }
  // Where no target is ignored (a training batch, as a rule), the target
  // itself is read and nothing is masked: no tensors made from host values,
  // which on a GPU were two uploads a step. The sums and quotients are the
  // same (a mask of ones multiplies exactly and sums to the count).
  const bool allKept =
      std::all_of(kept.begin(), kept.end(), [](std::uint8_t k) { return k; });
  std::optional<Tensor> keep;
  Tensor safe = target;
  if (!allKept || target.dtype() != DType::Int64)
    safe = fromVector(indices, expected,
                      TensorOptions(DType::Int64).withDevice(device));
  if (!allKept)
    keep = fromVector(kept, expected,
                      TensorOptions(DType::Bool).withDevice(device));
  Tensor v = logProbs.to(compute, where);
  Tensor picked = gather(v, classDim, safe.unsqueeze(classDim, where), where)
                      .squeeze(classDim, where);
  // Per-element weight: the class weight, 0 where ignored; none (ones)
  // where every target is kept and the classes are not weighted.
  std::optional<Tensor> w;
  if (keep)
    w = keep->to(compute, where);
  if (weight) {
    Tensor classWeights =
        indexSelect(*weight, 0, safe.flatten(), where).reshape(expected, where);
    w = w ? mul(*w, classWeights, where) : classWeights;
  }
  Tensor nll = neg(w ? mul(picked, *w, where) : picked, where);
  auto total = [&](const Tensor &t) { return sum(t, {}, false, where); };
  // The mean's divisor: the kept targets' summed class weights, or their
  // count.
  auto divisor = [&](const Tensor &numerator) {
    return w ? div(numerator, total(*w), where)
             : div(numerator, static_cast<double>(indices.size()), where);
  };
  Tensor result;
  switch (options.reduction) {
  case LossReduction::None:
    result = nll;
    break;
  case LossReduction::Sum:
    result = total(nll);
    break;
  case LossReduction::Mean:
    result = divisor(total(nll)); // 0/0 = NaN if all ignored
    break;
  }
  double eps = options.labelSmoothing;
  if (eps > 0) {
    Tensor scaled = v;
    if (weight) {
      Shape column(in.size(), 1);
      column[classDim] = classes;
      scaled = mul(v, weight->reshape(column, where), where);
    }
    Tensor smooth = neg(sum(scaled, {classDim}, false, where), where);
    if (keep)
      smooth = trueno::where(*keep, smooth, 0.0, where);
    Tensor reduced;
    switch (options.reduction) {
    case LossReduction::None:
      reduced = smooth;
      break;
    case LossReduction::Sum:
      reduced = total(smooth);
      break;
    case LossReduction::Mean:
      // As PyTorch: divided like the nll term, by the kept targets' summed
      // class weights (their count without weights).
      reduced = divisor(total(smooth));
      break;
    }
    result =
        add(mul(result, 1.0 - eps, where),
            mul(reduced, eps / static_cast<double>(classes), where), where);
  }
  return result.to(dtype, where);
}

} // namespace

Tensor nllLoss(const Tensor &logProbs, const Tensor &target,
               LossReduction reduction, SourceLoc where) {
  ClassLossOptions options;
  options.reduction = reduction;
  return nllLoss(logProbs, target, options, where);
}

Tensor nllLoss(const Tensor &logProbs, const Tensor &target,
               const ClassLossOptions &options, SourceLoc where) {
  if (options.labelSmoothing != 0)
    fail<ValueError>(where, "nllLoss", "use crossEntropy for label smoothing",
                     "nllLoss has no label smoothing");
  return classLoss(logProbs, target, options, "nllLoss", where);
}

Tensor crossEntropy(const Tensor &logits, const Tensor &target,
                    LossReduction reduction, SourceLoc where) {
  ClassLossOptions options;
  options.reduction = reduction;
  return crossEntropy(logits, target, options, where);
}

Tensor crossEntropy(const Tensor &logits, const Tensor &target,
                    const ClassLossOptions &options, SourceLoc where) {
  detail::implOf(logits, "crossEntropy", where);
  detail::implOf(target, "crossEntropy", where);
  std::int64_t classDim = logits.dim() == 1 ? 0 : 1;
  if (logits.dim() == 0)
    fail<ShapeError>(where, "crossEntropy",
                     "the input is (N, C) or (N, C, d...) scores",
                     "the input is zero-dimensional");
  Tensor logProbs = logSoftmax(logits, classDim, std::nullopt, where);
  if (!isFloating(target.dtype()))
    return classLoss(logProbs, target, options, "crossEntropy", where);
  // Class probabilities as the target (same shape as the input).
  if (target.shape() != logits.shape())
    fail<ShapeError>(where, "crossEntropy",
                     "probability targets have the input's shape",
                     "input of shape {} and probability target of shape {} "
                     "differ",
                     formatShape(logits.shape()), formatShape(target.shape()));
  if (options.ignoreIndex != -100)
    fail<ValueError>(where, "crossEntropy",
                     "ignoreIndex needs class-index targets",
                     "ignoreIndex is set with probability targets");
  DType dtype = resultType(logits, target), compute = computeType(dtype);
  std::int64_t classes = logits.shape()[classDim];
  Tensor p = target.to(compute, where);
  double eps = options.labelSmoothing;
  if (eps > 0)
    p = add(mul(p, 1.0 - eps, where), eps / static_cast<double>(classes),
            where);
  Tensor terms = mul(logProbs.to(compute, where), p, where);
  if (options.weight) {
    if (options.weight->shape() != Shape{classes})
      fail<ShapeError>(where, "crossEntropy", "give one weight per class",
                       "weight of shape {} for {} classes",
                       formatShape(options.weight->shape()), classes);
    Shape column(logits.dim(), 1);
    column[classDim] = classes;
    terms =
        mul(terms, options.weight->to(compute, where).reshape(column), where);
  }
  Tensor loss = neg(sum(terms, {classDim}, false, where), where);
  Tensor result;
  switch (options.reduction) {
  case LossReduction::None:
    result = loss;
    break;
  case LossReduction::Sum:
    result = sum(loss, {}, false, where);
    break;
  case LossReduction::Mean:
    result = mean(loss, {}, false, where);
    break;
  }
  return result.to(dtype, where);
}

//===----------------------------------------------------------------------===//
// Normalization and dropout
//===----------------------------------------------------------------------===//

Tensor layerNorm(const Tensor &x, const Shape &normalizedShape,
                 const std::optional<Tensor> &weight,
                 const std::optional<Tensor> &bias, double eps,
                 SourceLoc where) {
  detail::implOf(x, "layerNorm", where);
  auto k = static_cast<std::int64_t>(normalizedShape.size());
  const Shape &shape = x.shape();
  if (k == 0 || k > x.dim() ||
      !std::equal(normalizedShape.begin(), normalizedShape.end(),
                  shape.end() - k))
    fail<ShapeError>(where, "layerNorm",
                     "normalizedShape is the input's last dimensions",
                     "normalizedShape {} does not end the input's shape {}",
                     formatShape(normalizedShape), formatShape(shape));
  if (!isFloating(x.dtype()))
    fail<DTypeError>(where, "layerNorm",
                     "convert it first, e.g. with to(kFloat32)",
                     "layerNorm is defined for floating tensors, not {}",
                     dtypeName(x.dtype()));
  for (const std::optional<Tensor> *p : {&weight, &bias})
    if (*p && (*p)->shape() != normalizedShape)
      fail<ShapeError>(
          where, "layerNorm", "the weight and bias have the normalized shape",
          "{} of shape {} for normalizedShape {}",
          p == &weight ? "weight" : "bias", formatShape((*p)->shape()),
          formatShape(normalizedShape));
  DType dtype = x.dtype(), compute = computeType(dtype);
  std::vector<std::int64_t> dims;
  for (std::int64_t d = x.dim() - k; d < x.dim(); ++d)
    dims.push_back(d);
  Tensor v = x.to(compute, where);
  Tensor centered = detail::centered(v, dims, where).centered;
  Tensor variance = mean(mul(centered, centered, where), dims, true, where);
  Tensor y = mul(centered, rsqrt(add(variance, eps, where), where), where);
  if (weight)
    y = mul(y, weight->to(compute, where), where);
  if (bias)
    y = add(y, bias->to(compute, where), where);
  return y.to(dtype, where);
}

Tensor batchNorm(const Tensor &x, const std::optional<Tensor> &runningMean,
                 const std::optional<Tensor> &runningVar,
                 const std::optional<Tensor> &weight,
                 const std::optional<Tensor> &bias, bool training,
                 double momentum, double eps, SourceLoc where) {
  detail::implOf(x, "batchNorm", where);
  if (!isFloating(x.dtype()))
    fail<DTypeError>(where, "batchNorm",
                     "convert it first, e.g. with to(kFloat32)",
                     "batchNorm is defined for floating tensors, not {}",
                     dtypeName(x.dtype()));
  // Nothing to normalize, as PyTorch: an empty copy, running statistics
  // untouched, whatever the shape.
  if (x.numel() == 0)
    return x.clone(where);
  if (x.dim() < 2)
    fail<ShapeError>(where, "batchNorm", "the input is (N, C) or (N, C, d...)",
                     "an input of shape {} has no channel dimension",
                     formatShape(x.shape()));
  std::int64_t channels = x.shape()[1];
  const char *names[] = {"runningMean", "runningVar", "weight", "bias"};
  const std::optional<Tensor> *params[] = {&runningMean, &runningVar, &weight,
                                           &bias};
  for (int i = 0; i < 4; ++i)
    if (*params[i] && (*params[i])->shape() != Shape{channels})
      fail<ShapeError>(where, "batchNorm", "give one value per channel",
                       "{} of shape {} for {} channels (input shape {})",
                       names[i], formatShape((*params[i])->shape()), channels,
                       formatShape(x.shape()));
  if (!training && (!runningMean || !runningVar))
    fail<ValueError>(where, "batchNorm",
                     "pass the running statistics, or training = true",
                     "inference needs runningMean and runningVar");
  DType dtype = x.dtype(), compute = computeType(dtype);
  Shape column(x.dim(), 1);
  column[1] = channels;
  auto perChannel = [&](const Tensor &t) {
    return t.to(compute, where).reshape(column, where);
  };
  Tensor v = x.to(compute, where);
  Tensor centerBy, varianceBy;
  if (training) {
    std::vector<std::int64_t> dims = {0};
    for (std::int64_t d = 2; d < x.dim(); ++d)
      dims.push_back(d);
    std::int64_t count = x.numel() / std::max<std::int64_t>(channels, 1);
    if (count <= 1)
      fail<ValueError>(where, "batchNorm",
                       "train with more than one value per channel",
                       "an input of shape {} has {} value per channel",
                       formatShape(x.shape()), count);
    auto [batchMean, centered] = detail::centered(v, dims, where);
    centerBy = batchMean;
    varianceBy = mean(mul(centered, centered, where), dims, true, where);
    // The running statistics move towards the batch's (the variance with
    // Bessel's correction, as PyTorch), in place.
    double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
    if (runningMean) {
      Tensor target = *runningMean;
      target.copy_(add(mul(target, 1.0 - momentum, where),
                       mul(centerBy.reshape({channels}), momentum, where),
                       where),
                   where);
    }
    if (runningVar) {
      Tensor target = *runningVar;
      target.copy_(
          add(mul(target, 1.0 - momentum, where),
              mul(varianceBy.reshape({channels}), momentum * unbias, where),
              where),
          where);
    }
  } else {
    centerBy = perChannel(*runningMean);
    varianceBy = perChannel(*runningVar);
  }
  Tensor y = mul(sub(v, centerBy, where),
                 rsqrt(add(varianceBy, eps, where), where), where);
  if (weight)
    y = mul(y, perChannel(*weight), where);
  if (bias)
    y = add(y, perChannel(*bias), where);
  return y.to(dtype, where);
}

Tensor dropout(const Tensor &x, double p, bool training, Generator &gen,
               SourceLoc where) {
  detail::implOf(x, "dropout", where);
  if (!(p >= 0 && p <= 1))
    fail<ValueError>(where, "dropout", "p is a probability in [0, 1]",
                     "dropout probability {} is out of range", p);
  if (!isFloating(x.dtype()))
    fail<DTypeError>(where, "dropout",
                     "convert it first, e.g. with to(kFloat32)",
                     "dropout is defined for floating tensors, not {}",
                     dtypeName(x.dtype()));
  if (!training || p == 0)
    return x;
  if (p == 1)
    return mul(x, 0.0, where);
  // Each element survives with probability 1 - p and is scaled by
  // 1 / (1 - p), so the expected value is unchanged. The uniforms are
  // rand's, computed in the kernel that applies the mask (and recomputed
  // by the gradient's), not drawn on the host and copied to the device.
  Tensor keep = ge(detail::recordUniform(x.shape(), DType::Float32, gen,
                                         x.device(), "dropout", where),
                   p, where);
  return trueno::where(keep, mul(x, 1.0 / (1.0 - p), where), 0.0, where)
      .to(x.dtype(), where);
}

Tensor dropout(const Tensor &x, double p, bool training, SourceLoc where) {
  return dropout(x, p, training, defaultGenerator(), where);
}

Tensor Tensor::softmax(std::int64_t dim, SourceLoc where) const {
  return trueno::softmax(*this, dim, std::nullopt, where);
}
Tensor Tensor::logSoftmax(std::int64_t dim, SourceLoc where) const {
  return trueno::logSoftmax(*this, dim, std::nullopt, where);
}

} // namespace trueno
