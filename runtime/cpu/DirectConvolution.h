//===- DirectConvolution.h - float32 convolution without im2col -*- C++ -*-===//
//
// The direct convolution kernel behind trueno_conv2d_f32 (Blas.cpp) on CPUs
// with AVX-512: see DirectConvolution.cpp for when it is used and why.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_DIRECTCONVOLUTION_H
#define TRUENO_RUNTIME_DIRECTCONVOLUTION_H

#include <cstdint>

namespace trueno::runtime {

/// One convolution's operands, as strided views (element strides, NCHW
/// input and output, FCHW filter), the input already zero-padded.
/// `input` and `output` point at the first image (and `output` and
/// `filter` at the first output channel) this call computes.
struct ConvolutionViews {
  const float *input;
  std::int64_t inStrides[4];
  const float *filter;
  std::int64_t filterStrides[4];
  float *output;
  std::int64_t outStrides[4];
  std::int64_t images, inChannels, outChannels;
  std::int64_t kernelH, kernelW, outH, outW;
  std::int64_t strideY, strideX, dilationY, dilationX;
};

/// Whether convolveDirect should compute this convolution: the CPU has
/// AVX-512 and the reduction (C * KH * KW) is long enough for the register
/// tile to pay for itself.
bool preferDirectConvolution(const ConvolutionViews &views);

/// output = conv2d(input, filter) + beta * output.
void convolveDirect(const ConvolutionViews &views, float beta);

/// A depthwise convolution (one input channel per group): output channel
/// (g, f) of image n is input channel g convolved with filter (g, f).
/// Element strides; the input already zero-padded.
struct DepthwiseViews {
  const float *input;
  std::int64_t inStrides[4]; // n, g, y, x
  const float *filter;
  std::int64_t filterStrides[4]; // g, f, i, j
  float *output;
  std::int64_t outStrides[5]; // n, g, f, y, x
  std::int64_t images, groups, multiplier;
  std::int64_t kernelH, kernelW, outH, outW;
  std::int64_t strideY, strideX, dilationY, dilationX;
};

/// Whether convolveDepthwise should compute this convolution: the CPU has
/// AVX-512 and output rows are read from input rows with a unit step.
bool preferDepthwiseConvolution(const DepthwiseViews &views);

/// output = depthwise conv2d(input, filter) + beta * output.
void convolveDepthwise(const DepthwiseViews &views, float beta);

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_DIRECTCONVOLUTION_H
