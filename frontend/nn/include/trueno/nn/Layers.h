//===- Layers.h - The layers of torch.nn, over trueno's functional ops ----===//
//
// Each layer is a Module whose forward calls the functional op of the same
// name (trueno/Ops.h), with parameters registered and initialized as
// PyTorch's: Linear and the convolutions draw their weight from
// kaiming_uniform(a = sqrt(5)) and their bias from U(-1/sqrt(fan_in),
// 1/sqrt(fan_in)); norms start at weight 1, bias 0; Embedding at N(0, 1).
// Parameters are public members (`fc.weight`), as in PyTorch.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_NN_LAYERS_H
#define TRUENO_NN_LAYERS_H

#include "trueno/Ops.h"
#include "trueno/nn/Module.h"

#include <array>
#include <optional>

namespace trueno::nn {

using Pair = std::array<std::int64_t, 2>;

/// y = x W^T + b over the last dimension: weight (out, in), bias (out).
class Linear : public Module {
public:
  Linear(std::int64_t in, std::int64_t out, bool bias = true,
         TensorOptions options = {});
  Tensor forward(const Tensor &x, SourceLoc where) override;
  std::string extraRepr() const override;
  Tensor weight, bias;

private:
  std::int64_t in_, out_;
};

struct ConvOptions {
  Pair stride{1, 1};
  Pair padding{0, 0};
  Pair dilation{1, 1};
  std::int64_t groups = 1;
  bool bias = true;
  /// ConvTranspose2d only: extra rows and columns on the output's far side.
  Pair outputPadding{0, 0};
  TensorOptions tensor{};
};

/// 2-D convolution: weight (out, in / groups, kh, kw), bias (out).
class Conv2d : public Module {
public:
  Conv2d(std::int64_t in, std::int64_t out, Pair kernel, ConvOptions o = {});
  Conv2d(std::int64_t in, std::int64_t out, std::int64_t kernel,
         ConvOptions o = {})
      : Conv2d(in, out, Pair{kernel, kernel}, o) {}
  Tensor forward(const Tensor &x, SourceLoc where) override;
  std::string extraRepr() const override;
  Tensor weight, bias;

private:
  std::int64_t in_, out_;
  Pair kernel_;
  ConvOptions o_;
};

/// 1-D convolution: weight (out, in / groups, k). Options use their first
/// entries (stride {2, 2} or {2, 1} both mean 2).
class Conv1d : public Module {
public:
  Conv1d(std::int64_t in, std::int64_t out, std::int64_t kernel,
         ConvOptions o = {});
  Tensor forward(const Tensor &x, SourceLoc where) override;
  std::string extraRepr() const override;
  Tensor weight, bias;

private:
  std::int64_t in_, out_, kernel_;
  ConvOptions o_;
};

/// Transposed 2-D convolution: weight (in, out / groups, kh, kw).
class ConvTranspose2d : public Module {
public:
  ConvTranspose2d(std::int64_t in, std::int64_t out, Pair kernel,
                  ConvOptions o = {});
  ConvTranspose2d(std::int64_t in, std::int64_t out, std::int64_t kernel,
                  ConvOptions o = {})
      : ConvTranspose2d(in, out, Pair{kernel, kernel}, o) {}
  Tensor forward(const Tensor &x, SourceLoc where) override;
  std::string extraRepr() const override;
  Tensor weight, bias;

private:
  std::int64_t in_, out_;
  Pair kernel_;
  ConvOptions o_;
};

struct PoolOptions {
  /// Defaults to the kernel.
  std::optional<Pair> stride{};
  Pair padding{0, 0};
  Pair dilation{1, 1}; // MaxPool2d only
  bool ceilMode = false;
  bool countIncludePad = true; // AvgPool2d only
};

class MaxPool2d : public Module {
public:
  explicit MaxPool2d(Pair kernel, PoolOptions o = {});
  explicit MaxPool2d(std::int64_t kernel, PoolOptions o = {})
      : MaxPool2d(Pair{kernel, kernel}, o) {}
  Tensor forward(const Tensor &x, SourceLoc where) override;
  std::string extraRepr() const override;

private:
  Pair kernel_;
  PoolOptions o_;
};

class AvgPool2d : public Module {
public:
  explicit AvgPool2d(Pair kernel, PoolOptions o = {});
  explicit AvgPool2d(std::int64_t kernel, PoolOptions o = {})
      : AvgPool2d(Pair{kernel, kernel}, o) {}
  Tensor forward(const Tensor &x, SourceLoc where) override;
  std::string extraRepr() const override;

private:
  Pair kernel_;
  PoolOptions o_;
};

class AdaptiveAvgPool2d : public Module {
public:
  explicit AdaptiveAvgPool2d(Pair outputSize);
  explicit AdaptiveAvgPool2d(std::int64_t size)
      : AdaptiveAvgPool2d(Pair{size, size}) {}
  Tensor forward(const Tensor &x, SourceLoc where) override;
  std::string extraRepr() const override;

private:
  Pair size_;
};

struct NormOptions {
  double eps = 1e-5;
  /// BatchNorm: the running statistics' update rate.
  double momentum = 0.1;
  /// A learned weight and bias.
  bool affine = true;
  /// BatchNorm: keep running statistics (buffers running_mean,
  /// running_var, num_batches_tracked) and use them in eval mode.
  bool trackRunningStats = true;
  TensorOptions tensor{};
};

/// Batch normalization over channel dimension 1: BatchNorm1d takes (N, C)
/// or (N, C, L), BatchNorm2d (N, C, H, W). Training normalizes with the
/// batch's statistics and moves the running ones; eval uses the running.
class BatchNorm : public Module {
public:
  BatchNorm(std::int64_t features, int spatialDims, NormOptions o = {});
  Tensor forward(const Tensor &x, SourceLoc where) override;
  std::string extraRepr() const override;
  Tensor weight, bias, runningMean, runningVar, numBatchesTracked;

private:
  std::int64_t features_;
  int spatialDims_;
  NormOptions o_;
};
class BatchNorm1d : public BatchNorm {
public:
  explicit BatchNorm1d(std::int64_t features, NormOptions o = {})
      : BatchNorm(features, 1, o) {}
};
class BatchNorm2d : public BatchNorm {
public:
  explicit BatchNorm2d(std::int64_t features, NormOptions o = {})
      : BatchNorm(features, 2, o) {}
};

/// Normalizes over the last dimensions `normalizedShape`.
class LayerNorm : public Module {
public:
  explicit LayerNorm(Shape normalizedShape, NormOptions o = {});
  Tensor forward(const Tensor &x, SourceLoc where) override;
  std::string extraRepr() const override;
  Tensor weight, bias;

private:
  Shape shape_;
  NormOptions o_;
};

/// Normalizes each of `groups` groups of channels of (N, C, ...) over the
/// group's channels and positions; a per-channel weight and bias.
class GroupNorm : public Module {
public:
  GroupNorm(std::int64_t groups, std::int64_t channels, NormOptions o = {});
  Tensor forward(const Tensor &x, SourceLoc where) override;
  std::string extraRepr() const override;
  Tensor weight, bias;

private:
  std::int64_t groups_, channels_;
  NormOptions o_;
};

/// Zeroes elements with probability p in training mode (scaling the rest
/// by 1 / (1 - p)); the identity in eval mode. Draws from `generator` (the
/// default generator when none).
class Dropout : public Module {
public:
  explicit Dropout(double p = 0.5, Generator *generator = nullptr);
  Tensor forward(const Tensor &x, SourceLoc where) override;
  std::string extraRepr() const override;

private:
  double p_;
  Generator *generator_;
};

/// Rows of `weight` (num, dim) picked by integer indices of any shape: the
/// result has the indices' shape plus (dim,). A row at `paddingIdx` starts
/// at zero and gets no gradient.
class Embedding : public Module {
public:
  Embedding(std::int64_t num, std::int64_t dim,
            std::optional<std::int64_t> paddingIdx = std::nullopt,
            TensorOptions options = {});
  Tensor forward(const Tensor &indices, SourceLoc where) override;
  std::string extraRepr() const override;
  Tensor weight;

private:
  std::int64_t num_, dim_;
  std::optional<std::int64_t> paddingIdx_;
};

/// Merges dimensions startDim..endDim (1..-1 by default: keeps the batch).
class Flatten : public Module {
public:
  explicit Flatten(std::int64_t startDim = 1, std::int64_t endDim = -1);
  Tensor forward(const Tensor &x, SourceLoc where) override;
  std::string extraRepr() const override;

private:
  std::int64_t start_, end_;
};

class Identity : public Module {
public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor &x, SourceLoc) override { return x; }
};

/// An activation (any function of one tensor) as a module:
/// `Activation("ReLU", [](const Tensor &x, SourceLoc w) { return relu(x, w);
/// })`. The classes below are the ones PyTorch has.
class Activation : public Module {
public:
  using Function = std::function<Tensor(const Tensor &, SourceLoc)>;
  Activation(std::string name, Function fn, std::string repr = "")
      : Module(std::move(name)), fn_(std::move(fn)), repr_(std::move(repr)) {}
  Tensor forward(const Tensor &x, SourceLoc where) override {
    return fn_(x, where);
  }
  std::string extraRepr() const override { return repr_; }

private:
  Function fn_;
  std::string repr_;
};

struct ReLU : Activation {
  ReLU();
};
struct Sigmoid : Activation {
  Sigmoid();
};
struct Tanh : Activation {
  Tanh();
};
struct SiLU : Activation {
  SiLU();
};
struct Softplus : Activation {
  Softplus();
};
struct SELU : Activation {
  SELU();
};
struct Mish : Activation {
  Mish();
};
struct Hardsigmoid : Activation {
  Hardsigmoid();
};
struct Hardswish : Activation {
  Hardswish();
};
struct Softsign : Activation {
  Softsign();
};
struct GELU : Activation {
  explicit GELU(bool tanhApproximation = false);
};
struct LeakyReLU : Activation {
  explicit LeakyReLU(double slope = 0.01);
};
struct ELU : Activation {
  explicit ELU(double alpha = 1.0);
};
struct Hardtanh : Activation {
  explicit Hardtanh(double low = -1.0, double high = 1.0);
};
struct Softmax : Activation {
  explicit Softmax(std::int64_t dim);
};
struct LogSoftmax : Activation {
  explicit LogSoftmax(std::int64_t dim);
};

} // namespace trueno::nn

#endif // TRUENO_NN_LAYERS_H
