//===- Pooling.cpp - Pooling, conv1d and transposed convolutions ----------===//
//
// Written with the ops that already compile well:
// - max/avg pooling: one strided view of the (padded) input per window
//   offset, combined elementwise (KH * KW views feed one fused kernel); the
//   window-dependent parts (which offsets are inside the input, the divisor,
//   the argmax's flat index) are small constant tensors computed here.
// - adaptive average pooling: two matrix products with averaging matrices
//   (windows of varying size have no strided-view form).
// - conv1d: conv2d over a height of 1.
// - transposed convolutions: conv2d over the input spread out with zeros
//   and padded, with the weight flipped and its channel dimensions swapped
//   per group (the gradient of conv2d, which is what a transposed
//   convolution is).
//
//===----------------------------------------------------------------------===//
#include "lazy/Lazy.h"
#include "tensor/TensorImpl.h"
#include "trueno/Core/Check.h"

#include "trueno/Indexing.h"
#include "trueno/Ops.h"

#include <cmath>
#include <limits>

namespace trueno {

using detail::computeType;
using detail::fail;

namespace {

using Pair = std::array<std::int64_t, 2>;

/// Pooled size of one dimension, as PyTorch's pooling_output_shape.
std::int64_t pooledSize(std::int64_t size, std::int64_t kernel,
                        std::int64_t stride, std::int64_t pad,
                        std::int64_t dilation, bool ceilMode) {
  std::int64_t span = size + 2 * pad - dilation * (kernel - 1) - 1 +
                      (ceilMode ? stride - 1 : 0);
  std::int64_t out =
      (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
  // The last window must start inside the input or the left padding.
  if (ceilMode && (out - 1) * stride >= size + pad)
    --out;
  return out;
}

/// The checked geometry of a 2-D pooling over the last two dimensions.
struct PoolGeometry {
  Tensor input; ///< (N, C, H, W): an unbatched input gets N = 1
  bool batched;
  Pair kernel, stride, padding, dilation;
  Pair in, out;

  /// Input coordinate of window offset `k` at output position `o`.
  std::int64_t coordinate(int axis, std::int64_t o, std::int64_t k) const {
    return o * stride[axis] - padding[axis] + k * dilation[axis];
  }
  Shape outShape() const {
    Shape s = input.shape();
    s[2] = out[0];
    s[3] = out[1];
    if (!batched)
      s.erase(s.begin());
    return s;
  }
};

PoolGeometry poolGeometry(const Tensor &x, Pair kernel,
                          std::optional<Pair> stride, Pair padding,
                          Pair dilation, bool ceilMode, std::string_view op,
                          SourceLoc where) {
  detail::implOf(x, op, where);
  if (x.dim() != 3 && x.dim() != 4)
    fail<ShapeError>(where, op, "pass (N, C, H, W) or (C, H, W)",
                     "an input of shape {} has rank {}", formatShape(x.shape()),
                     x.dim());
  PoolGeometry g;
  g.batched = x.dim() == 4;
  g.input = g.batched ? x : x.unsqueeze(0, where);
  g.kernel = kernel;
  g.stride = stride.value_or(kernel);
  g.padding = padding;
  g.dilation = dilation;
  for (int a = 0; a < 2; ++a) {
    if (kernel[a] <= 0 || g.stride[a] <= 0 || dilation[a] <= 0 ||
        padding[a] < 0)
      fail<ValueError>(where, op,
                       "kernel, stride and dilation are >= 1, padding >= 0",
                       "kernel ({}, {}), stride ({}, {}), padding ({}, {}), "
                       "dilation ({}, {})",
                       kernel[0], kernel[1], g.stride[0], g.stride[1],
                       padding[0], padding[1], dilation[0], dilation[1]);
    if (padding[a] > kernel[a] / 2) // PyTorch's limit, dilated or not
      fail<ValueError>(
          where, op, "padding must be at most half the kernel size",
          "padding {} for a kernel of size {}", padding[a], kernel[a]);
    g.in[a] = g.input.shape()[2 + a];
    g.out[a] = pooledSize(g.in[a], kernel[a], g.stride[a], padding[a],
                          dilation[a], ceilMode);
    if (g.out[a] <= 0)
      fail<ShapeError>(where, op, "use a smaller kernel or more padding",
                       "the pooled output of an input of shape {} would be "
                       "empty",
                       formatShape(x.shape()));
  }
  return g;
}

/// The input padded so that every window view below is in range: `padding`
/// on the left and top, and enough on the right and bottom for the last
/// window (ceil mode may need more than `padding`).
Tensor paddedInput(const PoolGeometry &g, const Tensor &x, Scalar value,
                   SourceLoc where) {
  Pair after{};
  bool any = false;
  for (int a = 0; a < 2; ++a) {
    std::int64_t needed = g.coordinate(a, g.out[a] - 1, g.kernel[a] - 1) + 1;
    after[a] = std::max<std::int64_t>(0, needed - g.in[a]);
    any = any || after[a] > 0 || g.padding[a] > 0;
  }
  if (!any)
    return x;
  return pad(x, {g.padding[1], after[1], g.padding[0], after[0]},
             PadMode::Constant, value, where);
}

/// The view of `padded` that window offset (i, j) reads at every output
/// position.
Tensor windowView(const PoolGeometry &g, const Tensor &padded, std::int64_t i,
                  std::int64_t j, SourceLoc where) {
  std::int64_t y0 = i * g.dilation[0], x0 = j * g.dilation[1];
  return padded
      .slice(2, y0, y0 + (g.out[0] - 1) * g.stride[0] + 1, g.stride[0], where)
      .slice(3, x0, x0 + (g.out[1] - 1) * g.stride[1] + 1, g.stride[1], where);
}

/// A constant (OH, OW) tensor from f(oy, ox).
template <typename T, typename F>
Tensor planeOf(const PoolGeometry &g, DType dtype, Device device, F &&f) {
  std::vector<T> values;
  values.reserve(g.out[0] * g.out[1]);
  for (std::int64_t oy = 0; oy < g.out[0]; ++oy)
    for (std::int64_t ox = 0; ox < g.out[1]; ++ox)
      values.push_back(static_cast<T>(f(oy, ox)));
  return fromVector(values, {g.out[0], g.out[1]},
                    TensorOptions(dtype).withDevice(device));
}

ValuesIndices maxPool(const Tensor &x, Pair kernel, std::optional<Pair> stride,
                      Pair padding, Pair dilation, bool ceilMode,
                      bool wantIndices, std::string_view op, SourceLoc where) {
  PoolGeometry g =
      poolGeometry(x, kernel, stride, padding, dilation, ceilMode, op, where);
  DType dtype = x.dtype();
  if (dtype == DType::Bool)
    fail<DTypeError>(where, op, "convert it first, e.g. with to(kUInt8)",
                     "{} is not defined for bool tensors", op);
  DType compute = computeType(dtype);
  Device device = x.device();
  Tensor v = g.input.to(compute, where);
  Tensor padded = paddedInput(g, v, Scalar(0), where);
  // As PyTorch's kernel: start from -inf (the lowest integer) at the first
  // valid position, and take an element that is larger or NaN.
  Scalar lowest = Scalar(-std::numeric_limits<double>::infinity());
  if (!isFloating(compute))
    lowest =
        Scalar(std::int64_t(-(std::int64_t(1) << (8 * itemSize(compute) - 1))));
  if (compute == DType::UInt8)
    lowest = Scalar(std::int64_t(0));
  Tensor best;
  auto valid = [&](int axis, std::int64_t o, std::int64_t k) {
    std::int64_t c = g.coordinate(axis, o, k);
    return c >= 0 && c < g.in[axis];
  };
  // The first valid position of each window: built only where indices are
  // wanted (a training step's pooling records it every step otherwise).
  Tensor index;
  if (wantIndices)
    index = planeOf<std::int64_t>(
        g, DType::Int64, device, [&](std::int64_t oy, std::int64_t ox) {
          std::int64_t i = 0, j = 0;
          while (!valid(0, oy, i))
            ++i;
          while (!valid(1, ox, j))
            ++j;
          return g.coordinate(0, oy, i) * g.in[1] + g.coordinate(1, ox, j);
        });
  for (std::int64_t i = 0; i < g.kernel[0]; ++i)
    for (std::int64_t j = 0; j < g.kernel[1]; ++j) {
      Tensor window = windowView(g, padded, i, j, where);
      bool allValid = true;
      for (std::int64_t oy = 0; oy < g.out[0]; ++oy)
        allValid = allValid && valid(0, oy, i);
      for (std::int64_t ox = 0; ox < g.out[1]; ++ox)
        allValid = allValid && valid(1, ox, j);
      // A first window valid everywhere is taken whole (the comparisons
      // with -inf would take it); a window of one element is the input's
      // view, so it is compared as the others.
      if (!best.defined() && allValid && g.kernel[0] * g.kernel[1] > 1) {
        best = window;
        continue;
      }
      if (!best.defined())
        best = full({}, lowest, TensorOptions(compute).withDevice(device));
      Tensor take = gt(window, best, where);
      if (isFloating(compute))
        take = logicalOr(take, isnan(window, where), where);
      if (!allValid)
        take = logicalAnd(
            take,
            planeOf<std::uint8_t>(g, DType::Bool, device,
                                  [&](std::int64_t oy, std::int64_t ox) {
                                    return valid(0, oy, i) && valid(1, ox, j);
                                  }),
            where);
      best = trueno::where(take, window, best, where);
      if (wantIndices)
        index = trueno::where(
            take,
            planeOf<std::int64_t>(g, DType::Int64, device,
                                  [&](std::int64_t oy, std::int64_t ox) {
                                    return g.coordinate(0, oy, i) * g.in[1] +
                                           g.coordinate(1, ox, j);
                                  }),
            index, where);
    }
  Shape shape = g.outShape();
  Tensor values = best.to(dtype, where).reshape(shape, where);
  if (!wantIndices)
    return {values, Tensor()};
  Shape full4 = {g.input.size(0), g.input.size(1), g.out[0], g.out[1]};
  return {values,
          index.expand(full4, where).contiguous().reshape(shape, where)};
}

} // namespace

Tensor maxPool2d(const Tensor &x, std::array<std::int64_t, 2> kernel,
                 std::optional<std::array<std::int64_t, 2>> stride,
                 std::array<std::int64_t, 2> padding,
                 std::array<std::int64_t, 2> dilation, bool ceilMode,
                 SourceLoc where) {
  return maxPool(x, kernel, stride, padding, dilation, ceilMode, false,
                 "maxPool2d", where)
      .values;
}

ValuesIndices
maxPool2dWithIndices(const Tensor &x, std::array<std::int64_t, 2> kernel,
                     std::optional<std::array<std::int64_t, 2>> stride,
                     std::array<std::int64_t, 2> padding,
                     std::array<std::int64_t, 2> dilation, bool ceilMode,
                     SourceLoc where) {
  return maxPool(x, kernel, stride, padding, dilation, ceilMode, true,
                 "maxPool2dWithIndices", where);
}

Tensor avgPool2d(const Tensor &x, std::array<std::int64_t, 2> kernel,
                 std::optional<std::array<std::int64_t, 2>> stride,
                 std::array<std::int64_t, 2> padding, bool ceilMode,
                 bool countIncludePad, std::optional<std::int64_t> divisor,
                 SourceLoc where) {
  PoolGeometry g = poolGeometry(x, kernel, stride, padding, {1, 1}, ceilMode,
                                "avgPool2d", where);
  DType dtype = x.dtype();
  if (!isFloating(dtype))
    fail<DTypeError>(
        where, "avgPool2d", "convert it first, e.g. with to(kFloat32)",
        "avgPool2d is defined for floating tensors, not {}", dtypeName(dtype));
  if (divisor && *divisor == 0)
    fail<ValueError>(where, "avgPool2d", "use a nonzero divisor",
                     "divisorOverride is 0");
  DType compute = computeType(dtype);
  Tensor padded =
      paddedInput(g, g.input.to(compute, where), Scalar(0.0), where);
  Tensor total;
  for (std::int64_t i = 0; i < g.kernel[0]; ++i)
    for (std::int64_t j = 0; j < g.kernel[1]; ++j) {
      Tensor window = windowView(g, padded, i, j, where);
      total = total.defined() ? add(total, window, where) : window;
    }
  // PyTorch's divisor: the window clipped to the padded input (with
  // count_include_pad) or to the input itself.
  Tensor divisors = planeOf<double>(
      g, compute, x.device(), [&](std::int64_t oy, std::int64_t ox) {
        if (divisor)
          return static_cast<double>(*divisor);
        std::int64_t size = 1;
        for (int a = 0; a < 2; ++a) {
          std::int64_t o = a == 0 ? oy : ox;
          std::int64_t start = o * g.stride[a] - g.padding[a];
          std::int64_t end =
              std::min(start + g.kernel[a], g.in[a] + g.padding[a]);
          if (!countIncludePad) {
            start = std::max<std::int64_t>(start, 0);
            end = std::min(end, g.in[a]);
          }
          size *= end - start;
        }
        return static_cast<double>(size);
      });
  return div(total, divisors, where)
      .to(dtype, where)
      .reshape(g.outShape(), where);
}

Tensor adaptiveAvgPool2d(const Tensor &x,
                         std::array<std::int64_t, 2> outputSize,
                         SourceLoc where) {
  detail::implOf(x, "adaptiveAvgPool2d", where);
  if (x.dim() != 3 && x.dim() != 4)
    fail<ShapeError>(
        where, "adaptiveAvgPool2d", "pass (N, C, H, W) or (C, H, W)",
        "an input of shape {} has rank {}", formatShape(x.shape()), x.dim());
  if (!isFloating(x.dtype()))
    fail<DTypeError>(where, "adaptiveAvgPool2d",
                     "convert it first, e.g. with to(kFloat32)",
                     "adaptiveAvgPool2d is defined for floating tensors, not "
                     "{}",
                     dtypeName(x.dtype()));
  std::int64_t h = x.size(-2), w = x.size(-1);
  if (outputSize[0] <= 0 || outputSize[1] <= 0 || h == 0 || w == 0)
    fail<ShapeError>(where, "adaptiveAvgPool2d",
                     "ask for a positive output size of a non-empty input",
                     "output size ({}, {}) for an input of shape {}",
                     outputSize[0], outputSize[1], formatShape(x.shape()));
  DType dtype = x.dtype(), compute = computeType(dtype);
  // The output's shape first: a (2^40, 2^40) request must fail here, not
  // after building a 2^40-row averaging matrix.
  Shape out = x.shape();
  out.end()[-2] = outputSize[0];
  out.end()[-1] = outputSize[1];
  detail::checkShape(out, "adaptiveAvgPool2d", where, itemSize(dtype));
  Tensor v = x.to(compute, where);
  if (outputSize[0] == 1 && outputSize[1] == 1)
    return mean(v, {-2, -1}, true, where).to(dtype, where);
  if (h % outputSize[0] == 0 && w % outputSize[1] == 0) {
    Pair k{h / outputSize[0], w / outputSize[1]};
    return avgPool2d(v, k, k, {0, 0}, false, true, std::nullopt, where)
        .to(dtype, where);
  }
  // Window o covers [floor(o * n / m), ceil((o + 1) * n / m)): averaging
  // matrices (m, n), one product per dimension.
  auto averaging = [&](std::int64_t m, std::int64_t n) {
    detail::checkShape(Shape{m, n}, "adaptiveAvgPool2d", where, sizeof(double));
    std::vector<double> a =
        detail::hostVector(m * n, 0.0, "adaptiveAvgPool2d", where);
    for (std::int64_t o = 0; o < m; ++o) {
      std::int64_t start = o * n / m, end = ((o + 1) * n + m - 1) / m;
      for (std::int64_t i = start; i < end; ++i)
        a[o * n + i] = 1.0 / static_cast<double>(end - start);
    }
    return fromVector(a, {m, n}, TensorOptions(compute).withDevice(x.device()));
  };
  Tensor rows = averaging(outputSize[0], h);
  Tensor cols = averaging(outputSize[1], w).mT(where);
  return matmul(rows, matmul(v, cols, where), where).to(dtype, where);
}

Tensor conv1d(const Tensor &input, const Tensor &weight,
              const std::optional<Tensor> &bias, std::int64_t stride,
              std::int64_t padding, std::int64_t dilation, std::int64_t groups,
              SourceLoc where) {
  detail::implOf(input, "conv1d", where);
  detail::implOf(weight, "conv1d", where);
  if ((input.dim() != 2 && input.dim() != 3) || weight.dim() != 3)
    fail<ShapeError>(where, "conv1d",
                     "the input is (N, C, L) or (C, L) and the weight "
                     "(out_channels, C / groups, K)",
                     "input of shape {} and weight of shape {}",
                     formatShape(input.shape()), formatShape(weight.shape()));
  std::int64_t at = input.dim() - 1; // the new height goes before the length
  Tensor y =
      conv2d(input.unsqueeze(at, where), weight.unsqueeze(2, where), bias,
             {1, stride}, {0, padding}, {1, dilation}, groups, where);
  return y.squeeze(y.dim() - 2, where);
}

Tensor convTranspose2d(const Tensor &input, const Tensor &weight,
                       const std::optional<Tensor> &bias,
                       std::array<std::int64_t, 2> stride,
                       std::array<std::int64_t, 2> padding,
                       std::array<std::int64_t, 2> outputPadding,
                       std::int64_t groups,
                       std::array<std::int64_t, 2> dilation, SourceLoc where) {
  detail::implOf(input, "convTranspose2d", where);
  detail::implOf(weight, "convTranspose2d", where);
  if ((input.dim() != 3 && input.dim() != 4) || weight.dim() != 4)
    fail<ShapeError>(where, "convTranspose2d",
                     "the input is (N, C, H, W) or (C, H, W) and the weight "
                     "(C, out_channels / groups, KH, KW)",
                     "input of shape {} and weight of shape {}",
                     formatShape(input.shape()), formatShape(weight.shape()));
  bool batched = input.dim() == 4;
  Tensor x = batched ? input : input.unsqueeze(0, where);
  std::int64_t channels = x.size(1);
  if (groups <= 0 || channels % groups != 0 || weight.size(0) != channels)
    fail<ShapeError>(where, "convTranspose2d",
                     "the weight's first dimension is the input's channels, "
                     "a multiple of groups",
                     "input of shape {}, weight of shape {}, groups {}",
                     formatShape(input.shape()), formatShape(weight.shape()),
                     groups);
  for (int a = 0; a < 2; ++a)
    if (stride[a] <= 0 || dilation[a] <= 0 || padding[a] < 0 ||
        outputPadding[a] < 0 ||
        outputPadding[a] >= std::max(stride[a], dilation[a]))
      fail<ValueError>(where, "convTranspose2d",
                       "stride and dilation are >= 1, padding >= 0, and "
                       "output padding below the stride or the dilation",
                       "stride ({}, {}), padding ({}, {}), output padding "
                       "({}, {}), dilation ({}, {})",
                       stride[0], stride[1], padding[0], padding[1],
                       outputPadding[0], outputPadding[1], dilation[0],
                       dilation[1]);
  std::int64_t kh = weight.size(2), kw = weight.size(3);
  std::int64_t outPerGroup = weight.size(1);
  for (int a = 0; a < 2; ++a) {
    std::int64_t in = x.size(2 + a), k = a == 0 ? kh : kw;
    // In 128 bits: the output, the padding around the spread input and the
    // spread input itself must each fit in int64 (stride or dilation 2^62
    // wrapped to a negative size before).
    using Wide = __int128;
    Wide reach = Wide(dilation[a]) * (k - 1);
    Wide wide = Wide(in - 1) * stride[a] - 2 * Wide(padding[a]) + reach +
                outputPadding[a] + 1;
    Wide spread = Wide(in) +
                  Wide(std::max<std::int64_t>(in - 1, 0)) * (stride[a] - 1) +
                  2 * (reach > padding[a] ? reach - padding[a] : Wide(0)) +
                  outputPadding[a];
    if (wide > INT64_MAX || spread > INT64_MAX || reach > INT64_MAX)
      fail<ValueError>(where, "convTranspose2d",
                       "use smaller strides, dilations or paddings",
                       "stride {}, dilation {} and padding {} along "
                       "dimension {} give sizes beyond 2^63",
                       stride[a], dilation[a], padding[a], 2 + a);
    std::int64_t out =
        static_cast<std::int64_t>(std::max<Wide>(wide, INT64_MIN));
    if (out <= 0)
      fail<ShapeError>(where, "convTranspose2d", "use less padding",
                       "an input of shape {} with a kernel of size {} and "
                       "padding {} gives an output of size {}",
                       formatShape(input.shape()), k, padding[a], out);
  }
  // One trueno.pad spreads the input (stride - 1 zeros between neighbours:
  // interior padding) and pads it fully, d * (k - 1) - p on each side plus
  // the output padding at the end; a negative amount is a crop after it.
  // It fuses with whatever computes x, and the convolution reads it.
  std::int64_t h = x.size(2), w = x.size(3);
  std::int64_t padH = dilation[0] * (kh - 1) - padding[0];
  std::int64_t padW = dilation[1] * (kw - 1) - padding[1];
  std::array<std::int64_t, 2> before = {padH, padW},
                              after = {padH + outputPadding[0],
                                       padW + outputPadding[1]};
  std::vector<std::int64_t> low(4, 0), high(4, 0), interior(4, 0);
  Shape spreadShape = {x.size(0), channels, 0, 0};
  for (int a = 0; a < 2; ++a) {
    std::int64_t n = a == 0 ? h : w;
    interior[2 + a] = stride[a] - 1;
    low[2 + a] = std::max<std::int64_t>(0, before[a]);
    high[2 + a] = std::max<std::int64_t>(0, after[a]);
    spreadShape[2 + a] =
        low[2 + a] + high[2 + a] + n + (n - 1) * interior[2 + a];
  }
  Tensor padded = detail::record(
      OpCode::Pad, x.dtype(), spreadShape,
      {detail::nodeOf(*x.impl()), detail::scalarNode(0, x.dtype(), {})},
      x.device(), {low, high, interior}, where);
  for (int a = 0; a < 2; ++a)
    if (before[a] < 0 || after[a] < 0) {
      std::int64_t cropBefore = std::max<std::int64_t>(0, -before[a]);
      std::int64_t cropAfter = std::max<std::int64_t>(0, -after[a]);
      padded =
          padded.narrow(2 + a, cropBefore,
                        padded.size(2 + a) - cropBefore - cropAfter, where);
    }
  // (C, F/G, KH, KW) -> (F, C/G, KH, KW), per group, flipped in space.
  Tensor flipped = flip(
      weight.reshape({groups, channels / groups, outPerGroup, kh, kw}, where)
          .transpose(1, 2, where)
          .reshape({groups * outPerGroup, channels / groups, kh, kw}, where),
      {2, 3}, where);
  Tensor y =
      conv2d(padded, flipped, bias, {1, 1}, {0, 0}, dilation, groups, where);
  return batched ? y : y.squeeze(0, where);
}

Tensor convTranspose1d(const Tensor &input, const Tensor &weight,
                       const std::optional<Tensor> &bias, std::int64_t stride,
                       std::int64_t padding, std::int64_t outputPadding,
                       std::int64_t groups, std::int64_t dilation,
                       SourceLoc where) {
  detail::implOf(input, "convTranspose1d", where);
  detail::implOf(weight, "convTranspose1d", where);
  if ((input.dim() != 2 && input.dim() != 3) || weight.dim() != 3)
    fail<ShapeError>(where, "convTranspose1d",
                     "the input is (N, C, L) or (C, L) and the weight "
                     "(C, out_channels / groups, K)",
                     "input of shape {} and weight of shape {}",
                     formatShape(input.shape()), formatShape(weight.shape()));
  std::int64_t at = input.dim() - 1;
  Tensor y = convTranspose2d(
      input.unsqueeze(at, where), weight.unsqueeze(2, where), bias, {1, stride},
      {0, padding}, {0, outputPadding}, groups, {1, dilation}, where);
  return y.squeeze(y.dim() - 2, where);
}

} // namespace trueno
