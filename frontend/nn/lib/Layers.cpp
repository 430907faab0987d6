//===- Layers.cpp - torch.nn's layers over trueno's functional ops --------===//

#include "trueno/nn/Layers.h"

#include "trueno/Autograd.h"
#include "trueno/Fail.h"
#include "trueno/Indexing.h"
#include "trueno/nn/Init.h"

#include <cmath>

namespace trueno::nn {

using detail::fail;

namespace {

std::string pair(const Pair &p) { return fmt::format("({}, {})", p[0], p[1]); }

/// A weight of `shape` and an optional bias of `biasSize`, initialized as
/// PyTorch's Linear and Conv layers: kaiming_uniform(a = sqrt(5)) and
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
void initWeightAndBias(Tensor &weight, Tensor &bias) {
  // An empty weight (Linear(0, n)) has nothing to draw; PyTorch's init
  // is a no-op there too, and its bias bound is 0.
  if (weight.numel() > 0)
    init::kaimingUniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    auto [fanIn, fanOut] = init::fans(weight);
    double bound = fanIn > 0 ? 1.0 / std::sqrt(static_cast<double>(fanIn)) : 0;
    init::uniform_(bias, -bound, bound);
  }
}

/// Each size must be at least `least` (1, or 0 where PyTorch allows an
/// empty layer).
void checkSizes(
    std::string_view layer,
    std::initializer_list<std::pair<const char *, std::int64_t>> sizes,
    std::int64_t least = 1) {
  for (auto [name, value] : sizes)
    if (value < least)
      fail<ValueError>(std::source_location::current(), layer, "",
                       "{} must be {}, got {}", name,
                       least == 1 ? "positive" : ">= 0", value);
}

TensorOptions floatOptions(TensorOptions o) {
  if (!o.dtype)
    o.dtype = kDefaultFloat;
  return o;
}

} // namespace

// --- Linear ------------------------------------------------------------------

Linear::Linear(std::int64_t in, std::int64_t out, bool withBias,
               TensorOptions options)
    : Module("Linear"), in_(in), out_(out) {
  checkSizes("nn.Linear", {{"in_features", in}, {"out_features", out}}, 0);
  options = floatOptions(options);
  weight = empty({out, in}, options);
  if (withBias)
    bias = empty({out}, options);
  initWeightAndBias(weight, bias);
  weight = registerParameter("weight", weight);
  bias = registerParameter("bias", bias);
}

Tensor Linear::forward(const Tensor &x, SourceLoc where) {
  return linear(x, weight, bias.defined() ? std::optional(bias) : std::nullopt,
                where);
}

std::string Linear::extraRepr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_, out_,
                     bias.defined());
}

// --- Convolutions ------------------------------------------------------------

static std::optional<Tensor> optional(const Tensor &t) {
  return t.defined() ? std::optional(t) : std::nullopt;
}

static void checkGroups(const char *layer, std::int64_t in, std::int64_t out,
                        std::int64_t groups) {
  checkSizes(layer,
             {{"in_channels", in}, {"out_channels", out}, {"groups", groups}});
  if (in % groups || out % groups)
    fail<ValueError>(std::source_location::current(), layer, "",
                     "in_channels ({}) and out_channels ({}) must be "
                     "divisible by groups ({})",
                     in, out, groups);
}

static std::string convRepr(std::int64_t in, std::int64_t out,
                            const std::string &kernel, const ConvOptions &o,
                            bool bias) {
  return fmt::format("{}, {}, kernel_size={}, stride={}, padding={}, "
                     "dilation={}, groups={}, bias={}",
                     in, out, kernel, pair(o.stride), pair(o.padding),
                     pair(o.dilation), o.groups, bias);
}

Conv2d::Conv2d(std::int64_t in, std::int64_t out, Pair kernel, ConvOptions o)
    : Module("Conv2d"), in_(in), out_(out), kernel_(kernel), o_(o) {
  checkGroups("nn.Conv2d", in, out, o.groups);
  checkSizes("nn.Conv2d",
             {{"kernel_size", kernel[0]}, {"kernel_size", kernel[1]}});
  TensorOptions options = floatOptions(o.tensor);
  weight = empty({out, in / o.groups, kernel[0], kernel[1]}, options);
  if (o.bias)
    bias = empty({out}, options);
  initWeightAndBias(weight, bias);
  weight = registerParameter("weight", weight);
  bias = registerParameter("bias", bias);
}

Tensor Conv2d::forward(const Tensor &x, SourceLoc where) {
  return conv2d(x, weight, optional(bias), o_.stride, o_.padding, o_.dilation,
                o_.groups, where);
}

std::string Conv2d::extraRepr() const {
  return convRepr(in_, out_, pair(kernel_), o_, bias.defined());
}

Conv1d::Conv1d(std::int64_t in, std::int64_t out, std::int64_t kernel,
               ConvOptions o)
    : Module("Conv1d"), in_(in), out_(out), kernel_(kernel), o_(o) {
  checkGroups("nn.Conv1d", in, out, o.groups);
  checkSizes("nn.Conv1d", {{"kernel_size", kernel}});
  TensorOptions options = floatOptions(o.tensor);
  weight = empty({out, in / o.groups, kernel}, options);
  if (o.bias)
    bias = empty({out}, options);
  initWeightAndBias(weight, bias);
  weight = registerParameter("weight", weight);
  bias = registerParameter("bias", bias);
}

Tensor Conv1d::forward(const Tensor &x, SourceLoc where) {
  return conv1d(x, weight, optional(bias), o_.stride[0], o_.padding[0],
                o_.dilation[0], o_.groups, where);
}

std::string Conv1d::extraRepr() const {
  return fmt::format("{}, {}, kernel_size=({},), stride=({},), padding=({},), "
                     "dilation=({},), groups={}, bias={}",
                     in_, out_, kernel_, o_.stride[0], o_.padding[0],
                     o_.dilation[0], o_.groups, bias.defined());
}

ConvTranspose2d::ConvTranspose2d(std::int64_t in, std::int64_t out, Pair kernel,
                                 ConvOptions o)
    : Module("ConvTranspose2d"), in_(in), out_(out), kernel_(kernel), o_(o) {
  checkGroups("nn.ConvTranspose2d", in, out, o.groups);
  checkSizes("nn.ConvTranspose2d",
             {{"kernel_size", kernel[0]}, {"kernel_size", kernel[1]}});
  TensorOptions options = floatOptions(o.tensor);
  weight = empty({in, out / o.groups, kernel[0], kernel[1]}, options);
  if (o.bias)
    bias = empty({out}, options);
  initWeightAndBias(weight, bias);
  weight = registerParameter("weight", weight);
  bias = registerParameter("bias", bias);
}

Tensor ConvTranspose2d::forward(const Tensor &x, SourceLoc where) {
  return convTranspose2d(x, weight, optional(bias), o_.stride, o_.padding,
                         o_.outputPadding, o_.groups, o_.dilation, where);
}

std::string ConvTranspose2d::extraRepr() const {
  return convRepr(in_, out_, pair(kernel_), o_, bias.defined()) +
         ", output_padding=" + pair(o_.outputPadding);
}

// --- Pooling -----------------------------------------------------------------

MaxPool2d::MaxPool2d(Pair kernel, PoolOptions o)
    : Module("MaxPool2d"), kernel_(kernel), o_(o) {}

Tensor MaxPool2d::forward(const Tensor &x, SourceLoc where) {
  return maxPool2d(x, kernel_, o_.stride, o_.padding, o_.dilation, o_.ceilMode,
                   where);
}

std::string MaxPool2d::extraRepr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}, dilation={}, "
                     "ceil_mode={}",
                     pair(kernel_), pair(o_.stride.value_or(kernel_)),
                     pair(o_.padding), pair(o_.dilation), o_.ceilMode);
}

AvgPool2d::AvgPool2d(Pair kernel, PoolOptions o)
    : Module("AvgPool2d"), kernel_(kernel), o_(o) {}

Tensor AvgPool2d::forward(const Tensor &x, SourceLoc where) {
  return avgPool2d(x, kernel_, o_.stride, o_.padding, o_.ceilMode,
                   o_.countIncludePad, std::nullopt, where);
}

std::string AvgPool2d::extraRepr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}", pair(kernel_),
                     pair(o_.stride.value_or(kernel_)), pair(o_.padding));
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Pair outputSize)
    : Module("AdaptiveAvgPool2d"), size_(outputSize) {}

Tensor AdaptiveAvgPool2d::forward(const Tensor &x, SourceLoc where) {
  return adaptiveAvgPool2d(x, size_, where);
}

std::string AdaptiveAvgPool2d::extraRepr() const {
  return "output_size=" + pair(size_);
}

// --- Normalization -----------------------------------------------------------

BatchNorm::BatchNorm(std::int64_t features, int spatialDims, NormOptions o)
    : Module(spatialDims == 2 ? "BatchNorm2d" : "BatchNorm1d"),
      features_(features), spatialDims_(spatialDims), o_(o) {
  checkSizes(typeName(), {{"num_features", features}});
  TensorOptions options = floatOptions(o.tensor);
  if (o.affine) {
    weight = registerParameter("weight", ones({features}, options));
    bias = registerParameter("bias", zeros({features}, options));
  }
  if (o.trackRunningStats) {
    runningMean = registerBuffer("running_mean", zeros({features}, options));
    runningVar = registerBuffer("running_var", ones({features}, options));
    numBatchesTracked =
        registerBuffer("num_batches_tracked", zeros({}, kInt64));
  }
}

Tensor BatchNorm::forward(const Tensor &x, SourceLoc where) {
  std::int64_t rank = x.dim(where);
  bool ok = spatialDims_ == 2 ? rank == 4 : rank == 2 || rank == 3;
  if (!ok)
    fail<ShapeError>(
        where, typeName(),
        spatialDims_ == 2 ? "pass (N, C, H, W)" : "pass (N, C) or (N, C, L)",
        "expected a {} input, got shape {}",
        spatialDims_ == 2 ? "4-D" : "2-D or 3-D", formatShape(x.shape()));
  bool useBatch = isTraining() || !o_.trackRunningStats;
  if (isTraining() && o_.trackRunningStats) {
    NoGradGuard noGrad;
    numBatchesTracked.add_(1, where);
  }
  return batchNorm(x, optional(runningMean), optional(runningVar),
                   optional(weight), optional(bias), useBatch, o_.momentum,
                   o_.eps, where);
}

std::string BatchNorm::extraRepr() const {
  return fmt::format("{}, eps={}, momentum={}, affine={}, "
                     "track_running_stats={}",
                     features_, o_.eps, o_.momentum, o_.affine,
                     o_.trackRunningStats);
}

LayerNorm::LayerNorm(Shape normalizedShape, NormOptions o)
    : Module("LayerNorm"), shape_(std::move(normalizedShape)), o_(o) {
  TensorOptions options = floatOptions(o.tensor);
  if (o.affine) {
    weight = registerParameter("weight", ones(shape_, options));
    bias = registerParameter("bias", zeros(shape_, options));
  }
}

Tensor LayerNorm::forward(const Tensor &x, SourceLoc where) {
  return layerNorm(x, shape_, optional(weight), optional(bias), o_.eps, where);
}

std::string LayerNorm::extraRepr() const {
  return fmt::format("{}, eps={}, elementwise_affine={}", formatShape(shape_),
                     o_.eps, o_.affine);
}

GroupNorm::GroupNorm(std::int64_t groups, std::int64_t channels, NormOptions o)
    : Module("GroupNorm"), groups_(groups), channels_(channels), o_(o) {
  checkSizes("nn.GroupNorm",
             {{"num_groups", groups}, {"num_channels", channels}});
  if (channels % groups)
    fail<ValueError>(std::source_location::current(), "nn.GroupNorm", "",
                     "num_channels ({}) must be divisible by num_groups ({})",
                     channels, groups);
  TensorOptions options = floatOptions(o.tensor);
  if (o.affine) {
    weight = registerParameter("weight", ones({channels}, options));
    bias = registerParameter("bias", zeros({channels}, options));
  }
}

Tensor GroupNorm::forward(const Tensor &x, SourceLoc where) {
  if (x.dim(where) < 2 || x.size(1) != channels_)
    fail<ShapeError>(where, "GroupNorm", "pass (N, C, ...)",
                     "expected {} channels in dimension 1, got shape {}",
                     channels_, formatShape(x.shape()));
  // Each group's channels and positions form one row of (N, G, rest).
  Tensor grouped = x.reshape({x.size(0), groups_, -1}, where);
  Tensor mu = mean(grouped, {2}, true, where);
  Tensor variance = var(grouped, {2}, 0, true, where);
  Tensor y = mul(sub(grouped, mu, where),
                 rsqrt(add(variance, o_.eps, where), where), where)
                 .reshape(x.shape(), where);
  if (!weight.defined())
    return y;
  // The weight and bias per channel, broadcast over the positions.
  Shape perChannel(x.dim(), 1);
  perChannel[1] = channels_;
  return add(mul(y, weight.reshape(perChannel, where), where),
             bias.reshape(perChannel, where), where);
}

std::string GroupNorm::extraRepr() const {
  return fmt::format("{}, {}, eps={}, affine={}", groups_, channels_, o_.eps,
                     o_.affine);
}

// --- Dropout, Embedding, Flatten ---------------------------------------------

Dropout::Dropout(double p, Generator *generator)
    : Module("Dropout"), p_(p), generator_(generator) {
  if (!(p >= 0 && p <= 1))
    fail<ValueError>(std::source_location::current(), "nn.Dropout", "",
                     "the probability must be in [0, 1], got {}", p);
}

Tensor Dropout::forward(const Tensor &x, SourceLoc where) {
  return dropout(x, p_, isTraining(),
                 generator_ ? *generator_ : defaultGenerator(), where);
}

std::string Dropout::extraRepr() const { return fmt::format("p={}", p_); }

Embedding::Embedding(std::int64_t num, std::int64_t dim,
                     std::optional<std::int64_t> paddingIdx,
                     TensorOptions options)
    : Module("Embedding"), num_(num), dim_(dim) {
  checkSizes("nn.Embedding", {{"num_embeddings", num}, {"embedding_dim", dim}});
  if (paddingIdx) {
    std::int64_t p = *paddingIdx < 0 ? *paddingIdx + num : *paddingIdx;
    if (p < 0 || p >= num)
      fail<IndexError>(std::source_location::current(), "nn.Embedding", "",
                       "padding_idx {} is out of range for {} embeddings",
                       *paddingIdx, num);
    paddingIdx_ = p;
  }
  weight = normal({num, dim}, 0, 1, defaultGenerator(), floatOptions(options));
  if (paddingIdx_)
    weight.select(0, *paddingIdx_).fill_(0);
  weight = registerParameter("weight", weight);
}

Tensor Embedding::forward(const Tensor &indices, SourceLoc where) {
  if (!isIntegral(indices.dtype(where)))
    fail<DTypeError>(where, "Embedding", "pass int64 (or int32) indices",
                     "indices must be integers, got {}",
                     dtypeName(indices.dtype()));
  Shape shape = indices.shape();
  shape.push_back(dim_);
  Tensor rows = indexSelect(weight, 0, indices.reshape({-1}, where), where)
                    .reshape(shape, where);
  if (!paddingIdx_)
    return rows;
  // The padding row's value, without a gradient (PyTorch skips it).
  Tensor keep = ne(indices, *paddingIdx_, where).unsqueeze(-1, where);
  return trueno::where(keep, rows, rows.detach(where), where);
}

std::string Embedding::extraRepr() const {
  return paddingIdx_
             ? fmt::format("{}, {}, padding_idx={}", num_, dim_, *paddingIdx_)
             : fmt::format("{}, {}", num_, dim_);
}

Flatten::Flatten(std::int64_t startDim, std::int64_t endDim)
    : Module("Flatten"), start_(startDim), end_(endDim) {}

Tensor Flatten::forward(const Tensor &x, SourceLoc where) {
  return x.flatten(start_, end_, where);
}

std::string Flatten::extraRepr() const {
  return fmt::format("start_dim={}, end_dim={}", start_, end_);
}

// --- Activations -------------------------------------------------------------

#define TRUENO_SIMPLE_ACTIVATION(Class, fn)                                    \
  Class::Class()                                                               \
      : Activation(#Class,                                                     \
                   [](const Tensor &x, SourceLoc w) { return fn(x, w); }) {}
TRUENO_SIMPLE_ACTIVATION(ReLU, relu)
TRUENO_SIMPLE_ACTIVATION(Sigmoid, sigmoid)
TRUENO_SIMPLE_ACTIVATION(Tanh, tanh)
TRUENO_SIMPLE_ACTIVATION(SiLU, silu)
TRUENO_SIMPLE_ACTIVATION(Softplus, softplus)
TRUENO_SIMPLE_ACTIVATION(SELU, selu)
TRUENO_SIMPLE_ACTIVATION(Mish, mish)
TRUENO_SIMPLE_ACTIVATION(Hardsigmoid, hardsigmoid)
TRUENO_SIMPLE_ACTIVATION(Hardswish, hardswish)
TRUENO_SIMPLE_ACTIVATION(Softsign, softsign)
#undef TRUENO_SIMPLE_ACTIVATION

GELU::GELU(bool tanhApproximation)
    : Activation(
          "GELU",
          [=](const Tensor &x, SourceLoc w) {
            return gelu(x, tanhApproximation, w);
          },
          tanhApproximation ? "approximate='tanh'" : "approximate='none'") {}
LeakyReLU::LeakyReLU(double slope)
    : Activation(
          "LeakyReLU",
          [=](const Tensor &x, SourceLoc w) { return leakyRelu(x, slope, w); },
          fmt::format("negative_slope={}", slope)) {}
ELU::ELU(double alpha)
    : Activation(
          "ELU", [=](const Tensor &x, SourceLoc w) { return elu(x, alpha, w); },
          fmt::format("alpha={}", alpha)) {}
Hardtanh::Hardtanh(double low, double high)
    : Activation(
          "Hardtanh",
          [=](const Tensor &x, SourceLoc w) {
            return hardtanh(x, low, high, w);
          },
          fmt::format("min_val={}, max_val={}", low, high)) {}
Softmax::Softmax(std::int64_t dim)
    : Activation(
          "Softmax",
          [=](const Tensor &x, SourceLoc w) {
            return softmax(x, dim, std::nullopt, w);
          },
          fmt::format("dim={}", dim)) {}
LogSoftmax::LogSoftmax(std::int64_t dim)
    : Activation(
          "LogSoftmax",
          [=](const Tensor &x, SourceLoc w) {
            return logSoftmax(x, dim, std::nullopt, w);
          },
          fmt::format("dim={}", dim)) {}

} // namespace trueno::nn
