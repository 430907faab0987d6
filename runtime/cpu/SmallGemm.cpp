//===- SmallGemm.cpp - float32 products without packing -------------------===//
//
// OpenBLAS copies both operands of every product into packed panels before
// its kernel runs. For a large product the copies pay for themselves; for
// a linear layer's small ones they do not: a 64 x 784 batch times a 784 x 64
// half of a layer's weights spends about as long packing as multiplying,
// and reaches ~150 GFLOP/s of a ~210 GFLOP/s core. Two register tiles read
// the operands where they lie instead, one for each way b can be laid out.
//
// x @ w^T (both operands contiguous along the reduction): each output is a
// dot product of two rows. A register tile holds MR rows of x against NR
// rows of w as MR * NR 16-lane partial sums (24 of AVX-512's 32 registers):
// each step loads MR + NR vectors for MR * NR fused multiply-adds. At the
// end, each group of four partial-sum vectors is folded into four outputs
// with four shuffles and three adds (foldFour), and stored with one 128-bit
// store. The tile's x rows stay in L1 while w's rows stream from L2, so w
// must fit there. Measured against cblas_sgemm on one thread, same session
// (us): 64x64x784 31 / 41; 32x64x784 16 / 27; 64x128x128 11 / 13; 64x64x100
// 4.7 / 5.3. It loses where the rows are short (256x256x64: 49 / 43) and
// on large products, where OpenBLAS's cache blocking wins (512^3: 1420 /
// 1300), and with few rows of x, which re-stream w for each tile
// (8x128x784: 11 / 9): preferDotProductGemm keeps those on OpenBLAS.
//
// a @ b with b's rows contiguous (x @ w, and a linear layer's backward
// products g @ w and g^T @ x): a register tile holds MR rows of c by four
// 16-lane vectors of columns. Each step p loads b's row p as four vectors
// and broadcasts a[i][p] for each of the MR rows, which may lie at any
// strides (a transposed a costs nothing): 4 loads and 6 broadcasts for 24
// FMAs, no fold at the end. Panels of 64 columns of b stay in L2 while the
// tiles walk down a. Against cblas_sgemm on one thread, same session (us):
// 64x384x128 29 / 37; (transposed a) 128x384x64 29 / 35; 32x384x128 15 /
// 24; 64x64x784 29 / 42; 64x512x512 160 / 205; 256^3 155 / 173.
//
//===----------------------------------------------------------------------===//
#include "SmallGemm.h"

#include <algorithm>

#include "trueno/Runtime/Cpu/CpuTarget.h"

#include <immintrin.h>

namespace trueno::runtime {
namespace {

constexpr int kLanes = 16;
/// Shortest rows worth dot products: the fold at the end costs about as
/// much as 4 steps of the tile.
constexpr std::int64_t kMinReduction = 96;
/// Fewest rows of x: each tile of x rows re-reads all of w.
constexpr std::int64_t kMinRows = 16;
/// Most elements of w (half of a 1 MiB L2), and multiply-adds in all.
constexpr std::int64_t kMaxWeights = 1 << 17;
constexpr std::int64_t kMaxMultiplyAdds = 1 << 25;

/// [sum(a), sum(b), sum(c), sum(d)]: pairs interleaved and added twice,
/// then the four 128-bit lanes added.
__attribute__((target("avx512f"))) inline __m128 foldFour(__m512 a, __m512 b,
                                                          __m512 c, __m512 d) {
  __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
  __m512d abd = _mm512_castps_pd(ab), cdd = _mm512_castps_pd(cd);
  __m512 abcd = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(abd, cdd)),
                              _mm512_castpd_ps(_mm512_unpackhi_pd(abd, cdd)));
  abcd = _mm512_add_ps(abcd, _mm512_shuffle_f32x4(abcd, abcd, 0x4e));
  abcd = _mm512_add_ps(abcd, _mm512_shuffle_f32x4(abcd, abcd, 0xb1));
  return _mm512_castps512_ps128(abcd);
}

/// c[i][j] (+)= dot(a row i, bt row j) for MR rows and NR (<= 8) columns.
template <int MR, int NR>
__attribute__((target("avx512f,avx512vl"))) void
dotProductTile(const float *a, std::int64_t lda, const float *bt,
               std::int64_t ldbt, float *c, std::int64_t ldc, std::int64_t k,
               float beta) {
  // Columns in whole groups of four for foldFour; the padding stays zero.
  constexpr int NP = (NR + 3) / 4 * 4;
  __m512 acc[MR][NP];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NP; ++j)
      acc[i][j] = _mm512_setzero_ps();
  auto step = [&](std::int64_t p, __mmask16 mask)
      __attribute__((always_inline, target("avx512f"))) {
    __m512 w[NR];
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j)
      w[j] = _mm512_maskz_loadu_ps(mask, bt + j * ldbt + p);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      __m512 x = _mm512_maskz_loadu_ps(mask, a + i * lda + p);
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j)
        acc[i][j] = _mm512_fmadd_ps(x, w[j], acc[i][j]);
    }
  };
  std::int64_t p = 0;
  for (; p + kLanes <= k; p += kLanes)
    step(p, 0xffff);
  if (p < k)
    step(p, static_cast<__mmask16>((1u << (k - p)) - 1));
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int g = 0; g < NP; g += 4) {
      __m128 sums =
          foldFour(acc[i][g], acc[i][g + 1], acc[i][g + 2], acc[i][g + 3]);
      float *out = c + i * ldc + g;
      auto columns =
          static_cast<__mmask8>(g + 4 <= NR ? 0xf : (1u << (NR - g)) - 1);
      if (beta != 0)
        sums = _mm_add_ps(sums, _mm_mul_ps(_mm_set1_ps(beta),
                                           _mm_maskz_loadu_ps(columns, out)));
      _mm_mask_storeu_ps(out, columns, sums);
    }
}

/// The tile for MR rows of x against `columns` (< NR) rows of w.
template <int MR, int NR>
__attribute__((target("avx512f,avx512vl"))) void
lastColumns(std::int64_t columns, const float *a, std::int64_t lda,
            const float *bt, std::int64_t ldbt, float *c, std::int64_t ldc,
            std::int64_t k, float beta) {
  if constexpr (NR > 1) {
    if (columns == NR - 1)
      return dotProductTile<MR, NR - 1>(a, lda, bt, ldbt, c, ldc, k, beta);
    lastColumns<MR, NR - 1>(columns, a, lda, bt, ldbt, c, ldc, k, beta);
  }
}

/// Rows [0, MR) of c: w's rows NR at a time, against x's MR rows in L1.
/// Tiles of fewer rows take more columns, so that each keeps ~24
/// accumulators.
template <int MR>
__attribute__((target("avx512f,avx512vl"))) void
rowBlock(const DotProductOperands &o, const float *a, float *c, float beta) {
  constexpr int NR = MR <= 3 ? 8 : 4;
  std::int64_t j = 0;
  for (; j + NR <= o.n; j += NR)
    dotProductTile<MR, NR>(a, o.lda, o.bt + j * o.ldbt, o.ldbt, c + j, o.ldc,
                           o.k, beta);
  if (j < o.n)
    lastColumns<MR, NR>(o.n - j, a, o.lda, o.bt + j * o.ldbt, o.ldbt, c + j,
                        o.ldc, o.k, beta);
}

template <int MR>
__attribute__((target("avx512f,avx512vl"))) void
lastRows(std::int64_t rows, const DotProductOperands &o, const float *a,
         float *c, float beta) {
  if constexpr (MR > 1) {
    if (rows == MR - 1)
      return rowBlock<MR - 1>(o, a, c, beta);
    lastRows<MR - 1>(rows, o, a, c, beta);
  }
}

/// Fewest rows, columns and reduction terms of a product for the broadcast
/// tile, and the longest reduction (a 64-column panel of b in L2).
constexpr std::int64_t kBroadcastMinRows = 16, kBroadcastMinColumns = 64,
                       kBroadcastMinReduction = 32,
                       kBroadcastMaxReduction = 2048;
constexpr int kPanelVectors = 4;

/// c[i][v * 16 + l] (+)= sum over p of a[i][p] * b[p][v * 16 + l] for MR
/// rows and NV vectors of columns, the last of them `lastColumns` wide.
template <int MR, int NV>
__attribute__((target("avx512f"))) void
broadcastTile(const BroadcastOperands &o, const float *a, const float *b,
              float *c, __mmask16 lastColumns, float beta) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[i][v] = _mm512_setzero_ps();
  const std::int64_t rowStride = o.aRowStride, colStride = o.aColStride;
  for (std::int64_t p = 0; p < o.k; ++p) {
    const float *row = b + p * o.ldb;
    __m512 w[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      w[v] = _mm512_maskz_loadu_ps(v + 1 < NV ? 0xffff : lastColumns,
                                   row + v * kLanes);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      __m512 x = _mm512_set1_ps(a[i * rowStride + p * colStride]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v)
        acc[i][v] = _mm512_fmadd_ps(x, w[v], acc[i][v]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      __mmask16 mask = v + 1 < NV ? 0xffff : lastColumns;
      float *out = c + i * o.ldc + v * kLanes;
      __m512 sum = acc[i][v];
      if (beta != 0.0f)
        sum = _mm512_fmadd_ps(_mm512_set1_ps(beta),
                              _mm512_maskz_loadu_ps(mask, out), sum);
      _mm512_mask_storeu_ps(out, mask, sum);
    }
}

/// MR rows of c in the 64-column panel at b, of `vectors` vectors.
template <int MR>
__attribute__((target("avx512f"))) void
broadcastRows(const BroadcastOperands &o, const float *a, const float *b,
              float *c, int vectors, __mmask16 lastColumns, float beta) {
  switch (vectors) {
  case 4:
    return broadcastTile<MR, 4>(o, a, b, c, lastColumns, beta);
  case 3:
    return broadcastTile<MR, 3>(o, a, b, c, lastColumns, beta);
  case 2:
    return broadcastTile<MR, 2>(o, a, b, c, lastColumns, beta);
  default:
    return broadcastTile<MR, 1>(o, a, b, c, lastColumns, beta);
  }
}

/// The last `rows` (< MR) rows of a panel.
template <int MR>
__attribute__((target("avx512f"))) void
broadcastLastRows(std::int64_t rows, const BroadcastOperands &o, const float *a,
                  const float *b, float *c, int vectors, __mmask16 lastColumns,
                  float beta) {
  if constexpr (MR > 1) {
    if (rows == MR - 1)
      return broadcastRows<MR - 1>(o, a, b, c, vectors, lastColumns, beta);
    broadcastLastRows<MR - 1>(rows, o, a, b, c, vectors, lastColumns, beta);
  }
}

} // namespace

bool preferDotProductGemm(const DotProductOperands &o) {
  // The target CPU (TRUENO_CPU), not the host: with x86-64-v3 code, the
  // products stay on OpenBLAS.
  static const bool avx512 =
      cpuTargetHas("avx512f") && cpuTargetHas("avx512vl");
  return avx512 && o.k >= kMinReduction && o.m >= kMinRows &&
         o.n * o.k <= kMaxWeights && o.m * o.n * o.k <= kMaxMultiplyAdds;
}

void multiplyByDotProducts(const DotProductOperands &o, float beta) {
  constexpr int kRows = 6;
  std::int64_t i = 0;
  for (; i + kRows <= o.m; i += kRows)
    rowBlock<kRows>(o, o.a + i * o.lda, o.c + i * o.ldc, beta);
  if (i < o.m)
    lastRows<kRows>(o.m - i, o, o.a + i * o.lda, o.c + i * o.ldc, beta);
}

bool preferBroadcastGemm(const BroadcastOperands &o) {
  static const bool avx512 = cpuTargetHas("avx512f"); // TRUENO_CPU's
  return avx512 && o.m >= kBroadcastMinRows && o.n >= kBroadcastMinColumns &&
         o.k >= kBroadcastMinReduction && o.k <= kBroadcastMaxReduction &&
         o.m * o.n * o.k <= kMaxMultiplyAdds;
}

void multiplyByBroadcasts(const BroadcastOperands &o, float beta) {
  constexpr int kRows = 6;
  constexpr std::int64_t kPanel = kPanelVectors * kLanes;
  for (std::int64_t j = 0; j < o.n; j += kPanel) {
    const std::int64_t columns = std::min(kPanel, o.n - j);
    const int vectors = static_cast<int>((columns + kLanes - 1) / kLanes);
    const auto lastColumns = static_cast<__mmask16>(
        columns % kLanes == 0 ? 0xffff : (1u << (columns % kLanes)) - 1);
    std::int64_t i = 0;
    for (; i + kRows <= o.m; i += kRows)
      broadcastRows<kRows>(o, o.a + i * o.aRowStride, o.b + j,
                           o.c + i * o.ldc + j, vectors, lastColumns, beta);
    if (i < o.m)
      broadcastLastRows<kRows>(o.m - i, o, o.a + i * o.aRowStride, o.b + j,
                               o.c + i * o.ldc + j, vectors, lastColumns, beta);
  }
}

} // namespace trueno::runtime
