//===- DirectConvolution.cpp - float32 convolution without im2col ---------===//
//
// im2col + GEMM (Blas.cpp) copies every receptive field into a column
// matrix, OpenBLAS copies that matrix again into its packed panels, and with
// small images (an 11x11 output is a 121-column product) the GEMM runs well
// below its peak. This kernel reads the input where it lies instead:
//
//   out[f, p] = sum over k = (c, i, j) of w[f, k] * in[c, y*sy + i*dy, x*sx +
//   j*dx]
//
// A register tile holds up to 64 output channels (four 16-lane vectors) of
// RP output pixels. Each step k loads the channels' weights as vectors (the
// filter is packed once per call as [k][channels]) and broadcasts the RP
// pixels' input values, which lie at a fixed offset (c, i, j) from each
// pixel's own start: RP + FV loads for RP * FV fused multiply-adds, no
// copies, any stride, dilation or input view. The tiles of 48 pixels go to a
// buffer in L1, which is transposed into the NCHW output 16 x 16 at a time
// in registers.
//
// Used on CPUs with AVX-512 (the kernels are compiled for it with a target
// attribute and chosen at run time) when the reduction C * KH * KW is at
// least kMinReduction: with fewer terms the tile spends more time storing
// and transposing than multiplying. Measured with both paths in one session
// (conv2d + bias, 3x3 filters): [64,1,28,28] x 32 (K = 9) 0.54 ms direct
// against 0.22 ms im2col + GEMM; [64,3,28,28] x 32 (K = 27) 0.74 / 0.45;
// [64,8,28,28] x 32 (K = 72) 1.26 / 1.30; [64,32,13,13] x 64 (K = 288)
// 1.25 / 2.05; [16,64,28,28] x 128 (K = 576) 5.9 / 6.5.
//
//===----------------------------------------------------------------------===//
#include "DirectConvolution.h"

#include "trueno/Runtime/Cpu/CpuTarget.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

namespace trueno::runtime {
namespace {

constexpr int kLanes = 16;
/// Output channels per register tile: four vectors.
constexpr std::int64_t kTileChannels = 64;
/// Output pixels transposed into the output at a time: a multiple of every
/// tile's pixel count (6, 8, 12), so only the image's last chunk is partial.
constexpr std::int64_t kChunkPixels = 48;
/// The most pixels a register tile covers (tileFor).
constexpr int kMaxTilePixels = 12;
/// Shortest reduction the direct kernel takes (see the file comment).
constexpr std::int64_t kMinReduction = 64;

/// tile[r][v * 16 + l] = sum over k of weights[k][v * 16 + l] *
/// pixels[r][offsets[k]], for RP pixels and FV vectors of channels.
template <int FV, int RP>
__attribute__((target("avx512f"))) void
registerTile(const float *const *pixels, const std::int64_t *offsets,
             std::int64_t steps, const float *weights, float *tile) {
  __m512 acc[RP][FV];
#pragma GCC unroll 16
  for (int r = 0; r < RP; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < FV; ++v)
      acc[r][v] = _mm512_setzero_ps();
  for (std::int64_t k = 0; k < steps; ++k, weights += FV * kLanes) {
    __m512 w[FV];
#pragma GCC unroll 4
    for (int v = 0; v < FV; ++v)
      w[v] = _mm512_loadu_ps(weights + v * kLanes);
    const std::int64_t offset = offsets[k];
#pragma GCC unroll 16
    for (int r = 0; r < RP; ++r) {
      __m512 x = _mm512_set1_ps(pixels[r][offset]);
#pragma GCC unroll 4
      for (int v = 0; v < FV; ++v)
        acc[r][v] = _mm512_fmadd_ps(x, w[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < RP; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < FV; ++v)
      _mm512_storeu_ps(tile + (r * FV + v) * kLanes, acc[r][v]);
}

/// The low or high 64-bit pairs of `a` and `b`, interleaved.
__attribute__((target("avx512f"))) inline __m512 pairs(__m512 a, __m512 b,
                                                       bool high) {
  __m512d x = _mm512_castps_pd(a), y = _mm512_castps_pd(b);
  return _mm512_castpd_ps(high ? _mm512_unpackhi_pd(x, y)
                               : _mm512_unpacklo_pd(x, y));
}

/// out[c * outStride + r] = in[r * inStride + c] for a 16 x 16 block, in
/// registers: pairs of rows interleaved, then pairs of pairs, then 128-bit
/// lanes twice.
__attribute__((target("avx512f"))) void transpose16(const float *in,
                                                    std::int64_t inStride,
                                                    float *out,
                                                    std::int64_t outStride) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i)
    r[i] = _mm512_loadu_ps(in + i * inStride);
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = pairs(t[i], t[i + 2], false);
    r[i + 1] = pairs(t[i], t[i + 2], true);
    r[i + 2] = pairs(t[i + 1], t[i + 3], false);
    r[i + 3] = pairs(t[i + 1], t[i + 3], true);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
    t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xdd);
    t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
    t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xdd);
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
  for (int i = 0; i < 16; ++i)
    _mm512_storeu_ps(out + i * outStride, r[i]);
}

/// out[c * outStride + r] = in[r * inStride + c] for columns [0, columns)
/// (a multiple of 16) of the first rows / 16 * 16 rows, 16 x 16 at a time.
__attribute__((target("avx512f"))) void
transposeBlocks(const float *in, std::int64_t inStride, std::int64_t columns,
                float *out, std::int64_t outStride, std::int64_t rows) {
  for (std::int64_t r = 0; r + kLanes <= rows; r += kLanes)
    for (std::int64_t c = 0; c < columns; c += kLanes)
      transpose16(in + r * inStride + c, inStride, out + c * outStride + r,
                  outStride);
}

using TileFunction = void (*)(const float *const *, const std::int64_t *,
                              std::int64_t, const float *, float *);

/// The tile for `vectors` channel vectors and the pixels it covers: 24
/// accumulators where the channels allow (AVX-512 has 32 registers), and no
/// more than 12 pixel pointers (the general registers).
std::pair<TileFunction, int> tileFor(std::int64_t vectors) {
  switch (vectors) {
  case 1:
    return {&registerTile<1, 12>, 12};
  case 2:
    return {&registerTile<2, 12>, 12};
  case 3:
    return {&registerTile<3, 8>, 8};
  default:
    return {&registerTile<4, 6>, 6};
  }
}

/// One output plane of a depthwise convolution, 16 pixels of a row at a
/// time: each tap is one unaligned load of the input row (unit x step) and
/// one FMA with the tap's weight. KH x KW > 0 fixes the filter size at
/// compile time, so that its weights stay in registers; 0 x 0 reads them
/// from `weights` (contiguous taps).
template <int KH, int KW>
__attribute__((target("avx512f"))) void
depthwisePlane(const DepthwiseViews &v, const float *input,
               const float *weights, float *output, float beta) {
  const std::int64_t kh = KH ? KH : v.kernelH, kw = KW ? KW : v.kernelW;
  const std::int64_t rowStride = v.inStrides[2], outRow = v.outStrides[3],
                     outColumn = v.outStrides[4];
  constexpr int kFixedTaps = KH * KW > 0 ? KH * KW : 1;
  __m512 fixed[kFixedTaps];
  if constexpr (KH * KW > 0)
#pragma GCC unroll 25
    for (int t = 0; t < KH * KW; ++t)
      fixed[t] = _mm512_set1_ps(weights[t]);
  alignas(64) float staged[kLanes];
  for (std::int64_t y = 0; y < v.outH; ++y) {
    const float *top = input + y * v.strideY * rowStride;
    float *out = output + y * outRow;
    for (std::int64_t x = 0; x < v.outW; x += kLanes) {
      const std::int64_t count = std::min<std::int64_t>(kLanes, v.outW - x);
      const auto mask =
          static_cast<__mmask16>(count == kLanes ? 0xffff : (1u << count) - 1);
      __m512 acc = _mm512_setzero_ps();
#pragma GCC unroll 5
      for (std::int64_t i = 0; i < kh; ++i) {
        const float *row = top + i * v.dilationY * rowStride + x;
#pragma GCC unroll 5
        for (std::int64_t j = 0; j < kw; ++j) {
          __m512 w = KH * KW > 0 ? fixed[KH * KW > 0 ? i * kw + j : 0]
                                 : _mm512_set1_ps(weights[i * kw + j]);
          acc = _mm512_fmadd_ps(
              w, _mm512_maskz_loadu_ps(mask, row + j * v.dilationX), acc);
        }
      }
      if (outColumn == 1) {
        if (beta != 0.0f)
          acc = _mm512_fmadd_ps(_mm512_set1_ps(beta),
                                _mm512_maskz_loadu_ps(mask, out + x), acc);
        _mm512_mask_storeu_ps(out + x, mask, acc);
        continue;
      }
      _mm512_store_ps(staged, acc);
      for (std::int64_t p = 0; p < count; ++p) {
        float &dst = out[(x + p) * outColumn];
        dst = beta == 0.0f ? staged[p] : beta * dst + staged[p];
      }
    }
  }
}

} // namespace

bool preferDirectConvolution(const ConvolutionViews &v) {
  static const bool avx512 = cpuTargetHas("avx512f"); // TRUENO_CPU's
  return avx512 && v.inChannels * v.kernelH * v.kernelW >= kMinReduction;
}

void convolveDirect(const ConvolutionViews &v, float beta) {
  const std::int64_t taps = v.kernelH * v.kernelW, steps = v.inChannels * taps,
                     pixels = v.outH * v.outW;
  const std::int64_t *is = v.inStrides, *fs = v.filterStrides,
                     *os = v.outStrides;
  if (pixels == 0 || v.images == 0 || v.outChannels == 0)
    return;
  // Where step k = (c, i, j) reads, relative to an output pixel's first
  // input element; where pixel p = (y, x) starts in the input and lands in
  // the output.
  // And where step k lies in a filter, relative to its channel's start.
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(steps)),
      filterOffsets(static_cast<std::size_t>(steps));
  for (std::int64_t c = 0; c < v.inChannels; ++c)
    for (std::int64_t i = 0; i < v.kernelH; ++i)
      for (std::int64_t j = 0; j < v.kernelW; ++j) {
        std::int64_t k = (c * v.kernelH + i) * v.kernelW + j;
        offsets[k] =
            c * is[1] + i * v.dilationY * is[2] + j * v.dilationX * is[3];
        filterOffsets[k] = c * fs[1] + i * fs[2] + j * fs[3];
      }
  std::vector<std::int64_t> starts(static_cast<std::size_t>(pixels)),
      targets(static_cast<std::size_t>(pixels));
  for (std::int64_t y = 0; y < v.outH; ++y)
    for (std::int64_t x = 0; x < v.outW; ++x) {
      starts[y * v.outW + x] = y * v.strideY * is[2] + x * v.strideX * is[3];
      targets[y * v.outW + x] = y * os[2] + x * os[3];
    }
  const bool denseRows = os[3] == 1 && os[2] == v.outW;
  const bool denseFilter =
      fs[3] == 1 && fs[2] == v.kernelW && fs[1] == v.kernelH * v.kernelW;
  std::vector<float> weights, tile(kChunkPixels * kTileChannels);
  for (std::int64_t first = 0; first < v.outChannels; first += kTileChannels) {
    const std::int64_t count = std::min(kTileChannels, v.outChannels - first);
    const std::int64_t vectors = (count + kLanes - 1) / kLanes,
                       width = vectors * kLanes;
    // [k][width], channels past `count` zero. A dense filter is a
    // [F][K] matrix: whole 16 x 16 blocks are transposed in registers (a
    // scalar copy took ~10% of a [64,32,13,13] x 64 convolution, which
    // packs once per chunk of images).
    weights.assign(static_cast<std::size_t>(steps * width), 0.0f);
    std::int64_t packed = 0; // channels packed by blocks, steps [0, blockSteps)
    const std::int64_t blockSteps = steps / kLanes * kLanes;
    if (denseFilter) {
      packed = count / kLanes * kLanes;
      transposeBlocks(v.filter + first * fs[0], fs[0], blockSteps,
                      weights.data(), width, packed);
    }
    for (std::int64_t f = 0; f < count; ++f)
      for (std::int64_t k = f < packed ? blockSteps : 0; k < steps; ++k)
        weights[k * width + f] =
            v.filter[(first + f) * fs[0] + filterOffsets[k]];
    auto [run, tilePixels] = tileFor(vectors);
    for (std::int64_t n = 0; n < v.images; ++n) {
      const float *image = v.input + n * is[0];
      float *planes = v.output + n * os[0] + first * os[1];
      for (std::int64_t chunk = 0; chunk < pixels; chunk += kChunkPixels) {
        const std::int64_t end = std::min(pixels, chunk + kChunkPixels);
        for (std::int64_t p = chunk; p < end; p += tilePixels) {
          // A partial tile repeats the chunk's last pixel.
          const float *rows[kMaxTilePixels];
          for (int r = 0; r < tilePixels; ++r)
            rows[r] = image + starts[std::min(p + r, end - 1)];
          run(rows, offsets.data(), steps, weights.data(),
              tile.data() + (p - chunk) * width);
        }
        std::int64_t done = 0; // channels written by whole 16x16 blocks
        if (beta == 0.0f && denseRows) { // the usual case
          done = count / kLanes * kLanes;
          transposeBlocks(tile.data(), width, done, planes + chunk, os[1],
                          end - chunk);
        }
        for (std::int64_t f = 0; f < count; ++f) {
          float *plane = planes + f * os[1];
          const float *column = tile.data() + f;
          std::int64_t from =
              f < done ? chunk + (end - chunk) / kLanes * kLanes : chunk;
          if (beta == 0.0f)
            for (std::int64_t p = from; p < end; ++p)
              plane[targets[p]] = column[(p - chunk) * width];
          else
            for (std::int64_t p = from; p < end; ++p)
              plane[targets[p]] =
                  beta * plane[targets[p]] + column[(p - chunk) * width];
        }
      }
    }
  }
}

} // namespace trueno::runtime

namespace trueno::runtime {

bool preferDepthwiseConvolution(const DepthwiseViews &v) {
  static const bool avx512 = cpuTargetHas("avx512f"); // TRUENO_CPU's
  return avx512 && v.strideX == 1 && v.inStrides[3] == 1;
}

void convolveDepthwise(const DepthwiseViews &v, float beta) {
  const std::int64_t taps = v.kernelH * v.kernelW;
  const std::int64_t *fs = v.filterStrides, *os = v.outStrides;
  auto plane = v.kernelH == 3 && v.kernelW == 3   ? &depthwisePlane<3, 3>
               : v.kernelH == 5 && v.kernelW == 5 ? &depthwisePlane<5, 5>
                                                  : &depthwisePlane<0, 0>;
  // Every filter packed once ([g][f][tap]); then images in memory order,
  // so that the input and output planes stream through the prefetcher.
  const std::int64_t filters = v.groups * v.multiplier;
  std::vector<float> weights(static_cast<std::size_t>(filters * taps));
  for (std::int64_t g = 0; g < v.groups; ++g)
    for (std::int64_t f = 0; f < v.multiplier; ++f)
      for (std::int64_t i = 0; i < v.kernelH; ++i)
        for (std::int64_t j = 0; j < v.kernelW; ++j)
          weights[((g * v.multiplier + f) * v.kernelH + i) * v.kernelW + j] =
              v.filter[g * fs[0] + f * fs[1] + i * fs[2] + j * fs[3]];
  for (std::int64_t n = 0; n < v.images; ++n)
    for (std::int64_t g = 0; g < v.groups; ++g)
      for (std::int64_t f = 0; f < v.multiplier; ++f)
        plane(v, v.input + n * v.inStrides[0] + g * v.inStrides[1],
              weights.data() + (g * v.multiplier + f) * taps,
              v.output + n * os[0] + g * os[1] + f * os[2], beta);
}

} // namespace trueno::runtime
