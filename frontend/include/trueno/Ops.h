//===- Ops.h - Elementwise math: functions and operators ------------------===//
//
// NumPy/PyTorch elementwise math on tensors and scalars, with NumPy
// broadcasting and PyTorch's type promotion (docs/OPS.md has the table of
// dtypes per op). Every call checks shapes and dtypes at once and throws at
// the caller's line; the arithmetic itself is recorded and runs, fused with
// its neighbours, when a result is read (trueno/Execution.h).
//
//   Tensor y = (a * b + c).exp();         // nothing computed yet
//   float first = y.at<float>({0, 0});    // one fused kernel runs here
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_OPS_H
#define TRUENO_OPS_H

#include "trueno/Indexing.h"
#include "trueno/Tensor.h"

#include <array>
#include <optional>

namespace trueno {

// The elementwise functions of trueno/OpTable.def (exp, add, eq...).
#define TRUENO_UNARY(Code, mnemonic, function, rule, cost)                     \
  Tensor function(const Tensor &x, TRUENO_HERE);
#define TRUENO_UNARY_COMPOSITE(function)                                       \
  Tensor function(const Tensor &x, TRUENO_HERE);
#define TRUENO_BINARY(Code, mnemonic, function, cost)                          \
  Tensor function(const Tensor &a, const Tensor &b, TRUENO_HERE);              \
  Tensor function(const Tensor &a, Scalar b, TRUENO_HERE);                     \
  Tensor function(Scalar a, const Tensor &b, TRUENO_HERE);
#include "trueno/OpTable.def"

/// GELU: x * Phi(x) exactly (erf), or PyTorch's tanh approximation.
Tensor gelu(const Tensor &x, bool tanhApproximation = false, TRUENO_HERE);
/// `condition ? a : b` elementwise; the condition must be bool. All three
/// broadcast together; the dtype is that of `a` and `b` promoted.
Tensor where(const Tensor &condition, const Tensor &a, const Tensor &b,
             TRUENO_HERE);
Tensor where(const Tensor &condition, const Tensor &a, Scalar b, TRUENO_HERE);
Tensor where(const Tensor &condition, Scalar a, const Tensor &b, TRUENO_HERE);
Tensor where(const Tensor &condition, Scalar a, Scalar b, TRUENO_HERE);
/// `min(max(x, low), high)` as torch.clamp (where low > high, high wins).
Tensor clamp(const Tensor &x, std::optional<Scalar> low,
             std::optional<Scalar> high = {}, TRUENO_HERE);
Tensor clamp(const Tensor &x, const Tensor &low, const Tensor &high,
             TRUENO_HERE);

// --- Reductions (over `dims`, all dimensions when empty; negative dims count
// from the end; `keepdim` keeps them as size 1) --------------------------
/// Sum; bool and integer tensors sum in int64, as in PyTorch.
Tensor sum(const Tensor &x, std::vector<std::int64_t> dims = {},
           bool keepdim = false, TRUENO_HERE);
/// Product; bool and integer tensors multiply in int64.
Tensor prod(const Tensor &x, std::vector<std::int64_t> dims = {},
            bool keepdim = false, TRUENO_HERE);
/// Mean of a floating tensor (integers are a DTypeError, as in PyTorch).
Tensor mean(const Tensor &x, std::vector<std::int64_t> dims = {},
            bool keepdim = false, TRUENO_HERE);
/// Largest and smallest element (torch.amax/amin; NaN propagates). Reducing
/// an empty dimension is a ValueError.
Tensor amax(const Tensor &x, std::vector<std::int64_t> dims = {},
            bool keepdim = false, TRUENO_HERE);
Tensor amin(const Tensor &x, std::vector<std::int64_t> dims = {},
            bool keepdim = false, TRUENO_HERE);
/// Whether all / any elements are nonzero (bool result).
Tensor all(const Tensor &x, std::vector<std::int64_t> dims = {},
           bool keepdim = false, TRUENO_HERE);
Tensor any(const Tensor &x, std::vector<std::int64_t> dims = {},
           bool keepdim = false, TRUENO_HERE);

/// An operand of an operator, with the caller's location: operators cannot
/// take a defaulted `source_location`, but the implicit conversion to this
/// type can, so `a + b` with mismatched shapes throws naming the user's line.
/// exp(x) / sum(exp(x)) along `dim`, as torch.softmax (the largest element
/// is subtracted first, so large inputs do not overflow). With `dtype` the
/// input is converted first; float16/bfloat16 compute in float32.
Tensor softmax(const Tensor &x, std::int64_t dim,
               std::optional<DType> dtype = std::nullopt, TRUENO_HERE);
/// log(softmax(x)) along `dim`, computed without forming softmax.
Tensor logSoftmax(const Tensor &x, std::int64_t dim,
                  std::optional<DType> dtype = std::nullopt, TRUENO_HERE);
/// log(sum(exp(x))) over `dims` (all when empty), without overflow; integer
/// inputs give float32, as torch.logsumexp.
Tensor logsumexp(const Tensor &x, std::vector<std::int64_t> dims = {},
                 bool keepdim = false, TRUENO_HERE);

/// Activations, as torch.nn.functional's (floating tensors; halves compute
/// in float32 and round once; each is one fused elementwise kernel).
Tensor leakyRelu(const Tensor &x, double negativeSlope = 0.01, TRUENO_HERE);
Tensor elu(const Tensor &x, double alpha = 1.0, TRUENO_HERE);
Tensor selu(const Tensor &x, TRUENO_HERE);
Tensor mish(const Tensor &x, TRUENO_HERE);
Tensor hardsigmoid(const Tensor &x, TRUENO_HERE);
Tensor hardswish(const Tensor &x, TRUENO_HERE);
Tensor hardtanh(const Tensor &x, double low = -1.0, double high = 1.0,
                TRUENO_HERE);
Tensor softsign(const Tensor &x, TRUENO_HERE);

/// How a loss reduces its per-element values (torch's `reduction=`).
enum class LossReduction { None, Mean, Sum };

/// Losses, as torch.nn.functional's. input and target share a shape.
Tensor mseLoss(const Tensor &input, const Tensor &target,
               LossReduction reduction = LossReduction::Mean, TRUENO_HERE);
/// input holds probabilities; each log is clamped at -100, as PyTorch.
Tensor binaryCrossEntropy(const Tensor &input, const Tensor &target,
                          LossReduction reduction = LossReduction::Mean,
                          TRUENO_HERE);
Tensor
binaryCrossEntropyWithLogits(const Tensor &logits, const Tensor &target,
                             LossReduction reduction = LossReduction::Mean,
                             TRUENO_HERE);
/// The options of nllLoss and crossEntropy, as torch's keyword arguments:
/// `crossEntropy(logits, target, {.weight = w, .labelSmoothing = 0.1})`.
struct ClassLossOptions {
  LossReduction reduction = LossReduction::Mean;
  /// One weight per class; with Mean, the loss is divided by the summed
  /// weights of the targets rather than their count.
  std::optional<Tensor> weight{};
  /// Targets equal to this contribute nothing and are not counted.
  std::int64_t ignoreIndex = -100;
  /// crossEntropy only: the target mixes (1 - s) of the class with s / C of
  /// every class.
  double labelSmoothing = 0.0;
};

/// logProbs (N, C) or (N, C, d...) (or (C,)), target (N,) or (N, d...)
/// integer class indices; an index outside [0, C) (other than ignoreIndex)
/// is an IndexError naming it and its position.
Tensor nllLoss(const Tensor &logProbs, const Tensor &target,
               LossReduction reduction = LossReduction::Mean, TRUENO_HERE);
Tensor nllLoss(const Tensor &logProbs, const Tensor &target,
               const ClassLossOptions &options, TRUENO_HERE);
/// nllLoss(logSoftmax(logits, 1), target). A floating target of the
/// logits' shape holds class probabilities instead (torch's soft labels).
Tensor crossEntropy(const Tensor &logits, const Tensor &target,
                    LossReduction reduction = LossReduction::Mean, TRUENO_HERE);
Tensor crossEntropy(const Tensor &logits, const Tensor &target,
                    const ClassLossOptions &options, TRUENO_HERE);

/// Normalizes over the last dimensions (`normalizedShape`), then scales and
/// shifts elementwise, as torch.nn.functional.layer_norm. Three fused
/// kernels: mean, variance, the normalization.
Tensor layerNorm(const Tensor &x, const Shape &normalizedShape,
                 const std::optional<Tensor> &weight = std::nullopt,
                 const std::optional<Tensor> &bias = std::nullopt,
                 double eps = 1e-5, TRUENO_HERE);
/// torch.nn.functional.batch_norm over channel dimension 1 of (N, C, d...).
/// Inference (training = false) uses the running statistics; training uses
/// the batch's and moves the running ones (if given) towards them in place:
/// `r = (1 - momentum) * r + momentum * batch` (the variance unbiased).
Tensor batchNorm(const Tensor &x, const std::optional<Tensor> &runningMean,
                 const std::optional<Tensor> &runningVar,
                 const std::optional<Tensor> &weight = std::nullopt,
                 const std::optional<Tensor> &bias = std::nullopt,
                 bool training = false, double momentum = 0.1,
                 double eps = 1e-5, TRUENO_HERE);
class Generator;
/// Zeroes each element with probability p and scales the others by
/// 1 / (1 - p) when training; x itself otherwise. Seeded by `gen` (or the
/// default generator): the same seed drops the same elements.
Tensor dropout(const Tensor &x, double p, bool training, Generator &gen,
               TRUENO_HERE);
Tensor dropout(const Tensor &x, double p = 0.5, bool training = true,
               TRUENO_HERE);

/// Running sum (product) along `dim`, as torch.cumsum / cumprod: bool and
/// integers accumulate in int64 (wrapping); floats accumulate in float64
/// and round each result to the input's dtype. Runs at the call.
Tensor cumsum(const Tensor &x, std::int64_t dim, TRUENO_HERE);
Tensor cumprod(const Tensor &x, std::int64_t dim, TRUENO_HERE);

/// 2-D convolution (cross-correlation) of an (N, C, H, W) or (C, H, W) input
/// with a (out_channels, C / groups, KH, KW) weight, as
/// torch.nn.functional.conv2d, zero padding. float16/bfloat16 compute in
/// float32. float32 runs direct AVX-512 kernels where the CPU has them
/// (reductions of 64 terms or more, and depthwise convolutions), otherwise
/// im2col + OpenBLAS GEMM per image; a bias and activations applied to the
/// result fuse into the same kernel.
Tensor conv2d(const Tensor &input, const Tensor &weight,
              const std::optional<Tensor> &bias = std::nullopt,
              std::array<std::int64_t, 2> stride = {1, 1},
              std::array<std::int64_t, 2> padding = {0, 0},
              std::array<std::int64_t, 2> dilation = {1, 1},
              std::int64_t groups = 1, TRUENO_HERE);

/// 1-D convolution of (N, C, L) or (C, L) with (out_channels, C / groups,
/// K), as torch.nn.functional.conv1d (a conv2d over a height of 1).
Tensor conv1d(const Tensor &input, const Tensor &weight,
              const std::optional<Tensor> &bias = std::nullopt,
              std::int64_t stride = 1, std::int64_t padding = 0,
              std::int64_t dilation = 1, std::int64_t groups = 1, TRUENO_HERE);
/// Transposed convolutions (the gradient of conv2d / conv1d with respect to
/// its input), as torch.nn.functional.conv_transpose2d / 1d: weight
/// (C, out_channels / groups, KH, KW); output size (H - 1) * stride -
/// 2 * padding + dilation * (K - 1) + outputPadding + 1. Runs as conv2d over
/// the input spread out with zeros.
Tensor convTranspose2d(const Tensor &input, const Tensor &weight,
                       const std::optional<Tensor> &bias = std::nullopt,
                       std::array<std::int64_t, 2> stride = {1, 1},
                       std::array<std::int64_t, 2> padding = {0, 0},
                       std::array<std::int64_t, 2> outputPadding = {0, 0},
                       std::int64_t groups = 1,
                       std::array<std::int64_t, 2> dilation = {1, 1},
                       TRUENO_HERE);
Tensor convTranspose1d(const Tensor &input, const Tensor &weight,
                       const std::optional<Tensor> &bias = std::nullopt,
                       std::int64_t stride = 1, std::int64_t padding = 0,
                       std::int64_t outputPadding = 0, std::int64_t groups = 1,
                       std::int64_t dilation = 1, TRUENO_HERE);

/// 2-D max pooling over the last two dimensions of (N, C, H, W) or
/// (C, H, W), as torch.nn.functional.max_pool2d: the stride defaults to the
/// kernel; padding is at most half the kernel; NaN wins. One
/// fused kernel over one strided view per window offset.
Tensor
maxPool2d(const Tensor &x, std::array<std::int64_t, 2> kernel,
          std::optional<std::array<std::int64_t, 2>> stride = std::nullopt,
          std::array<std::int64_t, 2> padding = {0, 0},
          std::array<std::int64_t, 2> dilation = {1, 1}, bool ceilMode = false,
          TRUENO_HERE);
/// The same, with the int64 flat index (into each H x W plane) of each
/// maximum (return_indices=True).
ValuesIndices maxPool2dWithIndices(
    const Tensor &x, std::array<std::int64_t, 2> kernel,
    std::optional<std::array<std::int64_t, 2>> stride = std::nullopt,
    std::array<std::int64_t, 2> padding = {0, 0},
    std::array<std::int64_t, 2> dilation = {1, 1}, bool ceilMode = false,
    TRUENO_HERE);
/// 2-D average pooling, as torch.nn.functional.avg_pool2d (zero padding,
/// PyTorch's divisor rules for countIncludePad and ceilMode).
Tensor
avgPool2d(const Tensor &x, std::array<std::int64_t, 2> kernel,
          std::optional<std::array<std::int64_t, 2>> stride = std::nullopt,
          std::array<std::int64_t, 2> padding = {0, 0}, bool ceilMode = false,
          bool countIncludePad = true,
          std::optional<std::int64_t> divisorOverride = std::nullopt,
          TRUENO_HERE);
/// Average pooling to a fixed output size, as
/// torch.nn.functional.adaptive_avg_pool2d.
Tensor adaptiveAvgPool2d(const Tensor &x,
                         std::array<std::int64_t, 2> outputSize, TRUENO_HERE);

/// Matrix product as numpy.matmul / torch.matmul: vectors become matrices
/// (and the added dimension is dropped again), leading batch dimensions
/// broadcast. float16/bfloat16 multiply in float32; integers wrap; bool is
/// rejected. Float products run on OpenBLAS, and elementwise ops on the
/// result (a bias, an activation) fuse into the product's kernel.
Tensor matmul(const Tensor &a, const Tensor &b, TRUENO_HERE);
/// Inner product of two vectors of one length.
Tensor dot(const Tensor &a, const Tensor &b, TRUENO_HERE);
/// dot of the flattened operands (any shapes with as many elements).
Tensor vdot(const Tensor &a, const Tensor &b, TRUENO_HERE);
/// `a[i] * b[j]` for vectors a and b.
Tensor outer(const Tensor &a, const Tensor &b, TRUENO_HERE);
/// `beta * input + alpha * (m1 @ m2)` for matrices; input broadcasts to the
/// product (a bias row). With beta = 0 input is ignored, NaN included.
Tensor addmm(const Tensor &input, const Tensor &m1, const Tensor &m2,
             Scalar beta = 1, Scalar alpha = 1, TRUENO_HERE);
/// `x @ weight.T + bias` with weight (out_features, in_features), as
/// torch.nn.functional.linear; `relu(linear(x, w, b))` is one GEMM and one
/// fused pass over its result.
Tensor linear(const Tensor &x, const Tensor &weight,
              const std::optional<Tensor> &bias = std::nullopt, TRUENO_HERE);

/// The int64 index of the largest (smallest) element along `dim`, the first
/// one on ties and the first NaN if any, as torch.argmax; without `dim`, of
/// the flattened tensor.
Tensor argmax(const Tensor &x, std::optional<std::int64_t> dim = std::nullopt,
              bool keepdim = false, TRUENO_HERE);
Tensor argmin(const Tensor &x, std::optional<std::int64_t> dim = std::nullopt,
              bool keepdim = false, TRUENO_HERE);

/// The number of nonzero elements over `dims` (all when empty), int64.
Tensor countNonzero(const Tensor &x, std::vector<std::int64_t> dims = {},
                    TRUENO_HERE);
/// The vector p-norm over `dims` (all when empty), as
/// torch.linalg.vector_norm: p = 2 (the default, Frobenius for matrices),
/// 1, +-infinity (largest / smallest |x|), 0 (count of nonzeros) or any
/// other p. Floating tensors; halves compute in float32.
Tensor norm(const Tensor &x, double p = 2, std::vector<std::int64_t> dims = {},
            bool keepdim = false, TRUENO_HERE);

/// Variance over `dims` (all when empty): the sum of squared deviations from
/// the mean divided by N - correction (1: Bessel's, torch.var's default; 0:
/// numpy.var's default). Floating tensors only; halves compute in float32.
Tensor var(const Tensor &x, std::vector<std::int64_t> dims = {},
           double correction = 1, bool keepdim = false, TRUENO_HERE);
/// sqrt(var(...)): torch.std (named stddev so that `using namespace trueno`
/// does not make `std` ambiguous).
Tensor stddev(const Tensor &x, std::vector<std::int64_t> dims = {},
              double correction = 1, bool keepdim = false, TRUENO_HERE);

struct Operand {
  const Tensor &tensor;
  SourceLoc where;
  Operand(const Tensor &t, SourceLoc loc = SourceLoc::current())
      : tensor(t), where(loc) {}
};

#define TRUENO_OPERATOR(symbol, function)                                      \
  inline Tensor operator symbol(Operand a, const Tensor &b) {                  \
    return function(a.tensor, b, a.where);                                     \
  }                                                                            \
  inline Tensor operator symbol(Operand a, Scalar b) {                         \
    return function(a.tensor, b, a.where);                                     \
  }                                                                            \
  inline Tensor operator symbol(Scalar a, Operand b) {                         \
    return function(a, b.tensor, b.where);                                     \
  }
TRUENO_OPERATOR(+, add)
TRUENO_OPERATOR(-, sub)
TRUENO_OPERATOR(*, mul)
/// True division: integers give float32, as in PyTorch.
TRUENO_OPERATOR(/, div)
/// Python's modulo: the result has the sign of the divisor.
TRUENO_OPERATOR(%, remainder)
TRUENO_OPERATOR(==, eq)
TRUENO_OPERATOR(!=, ne)
TRUENO_OPERATOR(<, lt)
TRUENO_OPERATOR(<=, le)
TRUENO_OPERATOR(>, gt)
TRUENO_OPERATOR(>=, ge)
/// Bitwise on integers, logical on bool (as in PyTorch).
TRUENO_OPERATOR(&, bitwiseAnd)
TRUENO_OPERATOR(|, bitwiseOr)
TRUENO_OPERATOR(^, bitwiseXor)
#undef TRUENO_OPERATOR

inline Tensor operator-(Operand x) { return neg(x.tensor, x.where); }
/// Bitwise not on integers, logical not on bool.
inline Tensor operator~(Operand x) { return bitwiseNot(x.tensor, x.where); }

namespace detail {
/// Writes `value` into `self`'s elements; DTypeError if `value`'s dtype is
/// of a higher category than `self`'s (float into int, int into bool), as
/// PyTorch refuses too.
Tensor &assignResult(Tensor &self, const Tensor &value, const char *op,
                     SourceLoc where);
/// `v`'s mean over `dims` (kept) and `v` less it, for var and the
/// normalizations: the mean of `v` shifted by its first element along
/// `dims`, plus that element, so that a constant slice centers to exact
/// zeros (PyTorch's Welford moments do; a float32 sum of 45 copies of
/// -4.12 divided by 45 was an ulp off, which layerNorm's 1/sqrt(eps)
/// made 0.002) and a slice far from zero keeps its digits.
struct Centered {
  Tensor mean, centered;
};
Centered centered(const Tensor &v, const std::vector<std::int64_t> &dims,
                  SourceLoc where);
} // namespace detail

/// The left side of `a op= b`, with the caller's location: an operator
/// has no defaulted argument to capture it, and with a number on the right
/// this is the only place that sees the caller.
struct AssignTarget {
  Tensor &tensor;
  SourceLoc where;
  AssignTarget(Tensor &t, SourceLoc loc = SourceLoc::current())
      : tensor(t), where(loc) {}
};

/// In place: `a op= b` writes `a op b` into a's elements (visible through
/// every view of a). The shape must stay a's.
#define TRUENO_COMPOUND(symbol, function)                                      \
  inline Tensor &operator symbol##=(AssignTarget a, const Tensor &b) {         \
    return detail::assignResult(a.tensor, function(a.tensor, b, a.where),      \
                                #symbol "=", a.where);                         \
  }                                                                            \
  inline Tensor &operator symbol##=(AssignTarget a, Scalar b) {                \
    return detail::assignResult(a.tensor, function(a.tensor, b, a.where),      \
                                #symbol "=", a.where);                         \
  }
TRUENO_COMPOUND(+, add)
TRUENO_COMPOUND(-, sub)
TRUENO_COMPOUND(*, mul)
TRUENO_COMPOUND(/, div)
#undef TRUENO_COMPOUND

} // namespace trueno

#endif // TRUENO_OPS_H
