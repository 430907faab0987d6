//===- Blas.cpp - The GEMM entry points compiled kernels call -------------===//
//
// trueno-linalg-to-blas turns float matrix products into calls to
// `trueno_gemm_<f32|f64>` (matrices) and `trueno_batch_gemm_<f32|f64>`
// (stacks of them) with MLIR's C interface: each buffer arrives as a
// pointer to a strided memref descriptor. A view BLAS can read (rows or
// columns contiguous) is passed as it is, with a transpose flag; any other
// view (a broadcast, a step) is first packed into a contiguous copy.
// The JIT resolves these symbols through registerBlasSymbols().
//
//===----------------------------------------------------------------------===//
#include "trueno/Runtime/Cpu/Blas.h"

#include "DirectConvolution.h"
#include "SmallGemm.h"

#include <cblas.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace trueno::runtime {
namespace {

template <typename T, int Rank> struct MemRef {
  T *allocated;
  T *aligned;
  std::int64_t offset;
  std::int64_t sizes[Rank];
  std::int64_t strides[Rank];
};

/// A rows x cols matrix at `data` with strides (rowStride, colStride).
template <typename T> struct Matrix {
  T *data;
  std::int64_t rows, cols, rowStride, colStride;
};

struct BlasLayout {
  CBLAS_TRANSPOSE transpose;
  std::int64_t leading;
};

/// How BLAS can read `m` in place: row-major as it is, or as the transpose
/// of a row-major matrix. Strides of size-1 dimensions do not matter.
template <typename T> std::optional<BlasLayout> layoutOf(const Matrix<T> &m) {
  std::int64_t rs = m.rowStride, cs = m.colStride;
  if (m.cols == 1)
    cs = 1;
  if (m.rows == 1)
    rs = std::max<std::int64_t>(m.cols, 1);
  if (cs == 1 && rs >= std::max<std::int64_t>(m.cols, 1))
    return BlasLayout{CblasNoTrans, rs};
  if (m.rows == 1 && m.colStride >= 1)
    return BlasLayout{CblasTrans, m.colStride};
  if (rs == 1 && cs >= std::max<std::int64_t>(m.rows, 1))
    return BlasLayout{CblasTrans, cs};
  return std::nullopt;
}

/// `m` copied into `storage` (row-major, contiguous).
template <typename T>
Matrix<T> packed(const Matrix<T> &m, std::vector<T> &storage) {
  storage.resize(static_cast<std::size_t>(m.rows * m.cols));
  for (std::int64_t i = 0; i < m.rows; ++i)
    for (std::int64_t j = 0; j < m.cols; ++j)
      storage[i * m.cols + j] = m.data[i * m.rowStride + j * m.colStride];
  return {storage.data(), m.rows, m.cols, m.cols, 1};
}

void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, std::int64_t m,
          std::int64_t n, std::int64_t k, const float *a, std::int64_t lda,
          const float *b, std::int64_t ldb, float beta, float *c,
          std::int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, lda, b, ldb, beta, c,
              ldc);
}
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, std::int64_t m,
          std::int64_t n, std::int64_t k, const double *a, std::int64_t lda,
          const double *b, std::int64_t ldb, double beta, double *c,
          std::int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1.0, a, lda, b, ldb, beta, c,
              ldc);
}

/// c = a @ b + beta * c.
template <typename T>
void multiply(Matrix<T> a, Matrix<T> b, Matrix<T> c, double beta) {
  std::int64_t m = c.rows, n = c.cols, k = a.cols;
  if (m == 0 || n == 0)
    return;
  std::optional<BlasLayout> out = layoutOf(c);
  if (k == 0 || !out || out->transpose != CblasNoTrans) {
    // Nothing to contract, or an output BLAS cannot write: plain loops.
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) {
        T acc = 0;
        for (std::int64_t p = 0; p < k; ++p)
          acc += a.data[i * a.rowStride + p * a.colStride] *
                 b.data[p * b.rowStride + j * b.colStride];
        T &dst = c.data[i * c.rowStride + j * c.colStride];
        dst = beta == 0 ? acc : static_cast<T>(beta) * dst + acc;
      }
    return;
  }
  std::vector<T> aStorage, bStorage;
  std::optional<BlasLayout> la = layoutOf(a), lb = layoutOf(b);
  if (!la) {
    a = packed(a, aStorage);
    la = layoutOf(a);
  }
  if (!lb) {
    b = packed(b, bStorage);
    lb = layoutOf(b);
  }
  if constexpr (std::is_same_v<T, float>) {
    // x @ w^T (rows of a and columns of b contiguous), small: no packing.
    DotProductOperands rows{a.data,      la->leading, b.data,
                            lb->leading, c.data,      out->leading,
                            m,           n,           k};
    if (la->transpose == CblasNoTrans && lb->transpose == CblasTrans &&
        preferDotProductGemm(rows)) {
      multiplyByDotProducts(rows, static_cast<float>(beta));
      return;
    }
    // a @ b with b's rows contiguous, a read through its own strides.
    BroadcastOperands broadcasts{
        a.data, a.rowStride,  a.colStride, b.data, lb->leading,
        c.data, out->leading, m,           n,      k};
    if (lb->transpose == CblasNoTrans && preferBroadcastGemm(broadcasts)) {
      multiplyByBroadcasts(broadcasts, static_cast<float>(beta));
      return;
    }
  }
  gemm(la->transpose, lb->transpose, m, n, k, a.data, la->leading, b.data,
       lb->leading, static_cast<T>(beta), c.data, out->leading);
}

template <typename T> Matrix<T> matrixOf(const MemRef<T, 2> &d) {
  return {d.aligned + d.offset, d.sizes[0], d.sizes[1], d.strides[0],
          d.strides[1]};
}

template <typename T>
Matrix<T> batchMatrixOf(const MemRef<T, 3> &d, std::int64_t batch) {
  return {d.aligned + d.offset + batch * d.strides[0], d.sizes[1], d.sizes[2],
          d.strides[1], d.strides[2]};
}

/// The items [begin, end) of `count` that `part` of `parts` takes.
std::pair<std::int64_t, std::int64_t>
share(std::int64_t count, std::int64_t part, std::int64_t parts) {
  return {count * part / parts, count * (part + 1) / parts};
}

/// The images [first, end) and channels (or groups) [first, end) that
/// `part` of `parts` of a convolution computes: a share of the images, or
/// with fewer images than parts, every image and a share of the channels.
/// trueno-linalg-to-blas's chunked epilogues take the same image ranges.
struct ConvolutionShare {
  std::int64_t firstImage, endImage, firstChannel, endChannel;
};
ConvolutionShare convolutionShare(std::int64_t images, std::int64_t channels,
                                  std::int64_t part, std::int64_t parts) {
  if (images >= parts) {
    auto [first, end] = share(images, part, parts);
    return {first, end, 0, channels};
  }
  auto [first, end] = share(channels, part, parts);
  return {0, images, first, end};
}

/// `part` of c = a @ b + beta * c: a share of the rows, or of the columns
/// when the product is wider than tall.
template <typename T>
void multiplyPart(Matrix<T> a, Matrix<T> b, Matrix<T> c, double beta,
                  std::int64_t part, std::int64_t parts) {
  if (c.rows >= c.cols) {
    auto [begin, end] = share(c.rows, part, parts);
    a.data += begin * a.rowStride;
    c.data += begin * c.rowStride;
    a.rows = c.rows = end - begin;
  } else {
    auto [begin, end] = share(c.cols, part, parts);
    b.data += begin * b.colStride;
    c.data += begin * c.colStride;
    b.cols = c.cols = end - begin;
  }
  multiply(a, b, c, beta);
}

/// `part` of a batch of products: a share of the batch, or of every product
/// when there are fewer products than parts.
template <typename T>
void batchMultiply(const MemRef<T, 3> &a, const MemRef<T, 3> &b,
                   const MemRef<T, 3> &c, double beta, std::int64_t part,
                   std::int64_t parts) {
  std::int64_t batches = c.sizes[0];
  if (batches >= parts) {
    auto [begin, end] = share(batches, part, parts);
    for (std::int64_t i = begin; i < end; ++i)
      multiply(batchMatrixOf(a, i), batchMatrixOf(b, i), batchMatrixOf(c, i),
               beta);
    return;
  }
  for (std::int64_t i = 0; i < batches; ++i)
    multiplyPart(batchMatrixOf(a, i), batchMatrixOf(b, i), batchMatrixOf(c, i),
                 beta, part, parts);
}

/// out = conv2d(in, filter) + beta * out for one group, NCHW / FCHW, the
/// input already zero-padded: the receptive fields are copied into the
/// columns of a [C*KH*KW, pixels] matrix (im2col) and a GEMM with the filter
/// as a [F, C*KH*KW] matrix gives the output planes.
template <typename T>
void convolve(const MemRef<T, 4> &in, const MemRef<T, 4> &filter,
              const MemRef<T, 4> &out, double beta, std::int64_t strideY,
              std::int64_t strideX, std::int64_t dilationY,
              std::int64_t dilationX, std::int64_t part, std::int64_t parts) {
  auto [firstImage, endImage, firstChannel, endChannel] =
      convolutionShare(out.sizes[0], out.sizes[1], part, parts);
  const std::int64_t n = endImage - firstImage, f = endChannel - firstChannel,
                     oh = out.sizes[2], ow = out.sizes[3];
  const std::int64_t c = filter.sizes[1], kh = filter.sizes[2],
                     kw = filter.sizes[3];
  const std::int64_t k = c * kh * kw, pixels = oh * ow;
  const T *input = in.aligned + in.offset + firstImage * in.strides[0];
  const std::int64_t *is = in.strides;
  T *output = out.aligned + out.offset + firstImage * out.strides[0] +
              firstChannel * out.strides[1];
  Matrix<T> weights{filter.aligned + filter.offset +
                        firstChannel * filter.strides[0],
                    f, k, filter.strides[0], filter.strides[3]};
  if constexpr (std::is_same_v<T, float>) {
    ConvolutionViews views{
        input,
        {is[0], is[1], is[2], is[3]},
        filter.aligned + filter.offset + firstChannel * filter.strides[0],
        {filter.strides[0], filter.strides[1], filter.strides[2],
         filter.strides[3]},
        output,
        {out.strides[0], out.strides[1], out.strides[2], out.strides[3]},
        n,
        c,
        f,
        kh,
        kw,
        oh,
        ow,
        strideY,
        strideX,
        dilationY,
        dilationX};
    if (preferDirectConvolution(views)) {
      convolveDirect(views, static_cast<float>(beta));
      return;
    }
  }
  std::vector<T> weightStorage;
  bool dense = filter.strides[3] == 1 && filter.strides[2] == kw &&
               filter.strides[1] == kh * kw;
  if (!dense) { // any other filter view: pack it first
    weightStorage.resize(static_cast<std::size_t>(f * k));
    for (std::int64_t a = 0; a < f; ++a)
      for (std::int64_t b = 0; b < c; ++b)
        for (std::int64_t i = 0; i < kh; ++i)
          for (std::int64_t j = 0; j < kw; ++j)
            weightStorage[((a * c + b) * kh + i) * kw + j] =
                filter.aligned[filter.offset +
                               (firstChannel + a) * filter.strides[0] +
                               b * filter.strides[1] + i * filter.strides[2] +
                               j * filter.strides[3]];
    weights = {weightStorage.data(), f, k, k, 1};
  }
  // Images are taken `batch` at a time, their columns side by side, so that
  // each GEMM is wide enough for OpenBLAS to run near its peak (one image of
  // 11x11 pixels is a 121-column product); the result is then copied into
  // each image's output planes.
  // About 1024 columns per product, and no more than ~1 MiB of im2col
  // columns, so that they stay in L2 between their copy and the GEMM.
  const std::int64_t columnsFit = std::max<std::int64_t>(
      1, (std::int64_t(1) << 20) /
             (std::max<std::int64_t>(k, 1) * std::int64_t(sizeof(T)) *
              std::max<std::int64_t>(pixels, 1)));
  const std::int64_t batch =
      pixels >= 512 ? 1
                    : std::clamp<std::int64_t>(
                          std::min((1024 + pixels - 1) /
                                       std::max<std::int64_t>(pixels, 1),
                                   columnsFit),
                          1, n);
  const std::int64_t width = batch * pixels;
  std::vector<T> columns(static_cast<std::size_t>(k * width));
  std::vector<T> product(batch > 1 ? static_cast<std::size_t>(f * width) : 0);
  for (std::int64_t first = 0; first < n; first += batch) {
    const std::int64_t count = std::min(batch, n - first);
    for (std::int64_t b = 0; b < count; ++b) {
      const T *src = input + (first + b) * is[0];
      for (std::int64_t ch = 0; ch < c; ++ch)
        for (std::int64_t i = 0; i < kh; ++i)
          for (std::int64_t j = 0; j < kw; ++j) {
            T *col =
                columns.data() + ((ch * kh + i) * kw + j) * width + b * pixels;
            for (std::int64_t y = 0; y < oh; ++y, col += ow) {
              const T *row = src + ch * is[1] +
                             (y * strideY + i * dilationY) * is[2] +
                             j * dilationX * is[3];
              if (strideX == 1 && is[3] == 1)
                std::copy(row, row + ow, col);
              else
                for (std::int64_t x = 0; x < ow; ++x)
                  col[x] = row[x * strideX * is[3]];
            }
          }
    }
    Matrix<T> cols{columns.data(), k, count * pixels, width, 1};
    bool direct = count == 1 && out.strides[3] == 1 && out.strides[2] == ow;
    if (direct) { // the GEMM writes the image's planes in place
      multiply(weights, cols,
               Matrix<T>{output + first * out.strides[0], f, pixels,
                         out.strides[1], 1},
               beta);
      continue;
    }
    if (product.empty())
      product.resize(static_cast<std::size_t>(f * width));
    multiply(weights, cols,
             Matrix<T>{product.data(), f, count * pixels, width, 1}, 0.0);
    bool densePlanes = out.strides[3] == 1 && out.strides[2] == ow;
    for (std::int64_t b = 0; b < count; ++b)
      for (std::int64_t a = 0; a < f; ++a) {
        const T *from = product.data() + a * width + b * pixels;
        T *plane = output + (first + b) * out.strides[0] + a * out.strides[1];
        if (densePlanes && beta == 0) { // the usual case: one row copy
          std::copy(from, from + pixels, plane);
          continue;
        }
        for (std::int64_t y = 0; y < oh; ++y)
          for (std::int64_t x = 0; x < ow; ++x) {
            T &dst = plane[y * out.strides[2] + x * out.strides[3]];
            T v = from[y * ow + x];
            dst = beta == 0 ? v : static_cast<T>(beta) * dst + v;
          }
      }
  }
}

/// Dimension `dim` of a rank-5 descriptor fixed at `index`: the rank-4 view
/// of one group.
template <typename T>
MemRef<T, 4> groupOf(const MemRef<T, 5> &d, int dim, std::int64_t index) {
  MemRef<T, 4> g{
      d.allocated, d.aligned, d.offset + index * d.strides[dim], {}, {}};
  for (int from = 0, to = 0; from < 5; ++from)
    if (from != dim) {
      g.sizes[to] = d.sizes[from];
      g.strides[to++] = d.strides[from];
    }
  return g;
}

/// Grouped convolution, NGCHW input, GFCHW filter, NGFHW output: each
/// group is a convolution of its own (the same part of its images).
template <typename T>
void convolveGroups(const MemRef<T, 5> &in, const MemRef<T, 5> &filter,
                    const MemRef<T, 5> &out, double beta, std::int64_t strideY,
                    std::int64_t strideX, std::int64_t dilationY,
                    std::int64_t dilationX, std::int64_t part,
                    std::int64_t parts) {
  if constexpr (std::is_same_v<T, float>) {
    // Depthwise (one input channel per group): each group's im2col GEMM
    // would be a single row.
    if (in.sizes[2] == 1) {
      auto [firstImage, endImage, firstGroup, endGroup] =
          convolutionShare(out.sizes[0], out.sizes[1], part, parts);
      const std::int64_t *is = in.strides, *fs = filter.strides,
                         *os = out.strides;
      DepthwiseViews views{
          in.aligned + in.offset + firstImage * is[0] + firstGroup * is[1],
          {is[0], is[1], is[3], is[4]},
          filter.aligned + filter.offset + firstGroup * fs[0],
          {fs[0], fs[1], fs[3], fs[4]},
          out.aligned + out.offset + firstImage * os[0] + firstGroup * os[1],
          {os[0], os[1], os[2], os[3], os[4]},
          endImage - firstImage,
          endGroup - firstGroup,
          out.sizes[2],
          filter.sizes[3],
          filter.sizes[4],
          out.sizes[3],
          out.sizes[4],
          strideY,
          strideX,
          dilationY,
          dilationX};
      if (preferDepthwiseConvolution(views)) {
        convolveDepthwise(views, static_cast<float>(beta));
        return;
      }
    }
  }
  for (std::int64_t g = 0; g < in.sizes[1]; ++g)
    convolve(groupOf(in, 1, g), groupOf(filter, 0, g), groupOf(out, 1, g), beta,
             strideY, strideX, dilationY, dilationX, part, parts);
}

} // namespace
} // namespace trueno::runtime

using trueno::runtime::MemRef;

extern "C" {
// Each entry point computes `part` of `parts` (see trueno-linalg-to-blas:
// the kernel calls them from a parallel loop, OpenBLAS itself runs on one
// thread per call). One set per element type.
#define TRUENO_BLAS_ENTRY_POINTS(suffix, T)                                    \
  void _mlir_ciface_trueno_gemm_##suffix(                                      \
      MemRef<T, 2> *a, MemRef<T, 2> *b, MemRef<T, 2> *c, double beta,          \
      std::int64_t part, std::int64_t parts) {                                 \
    trueno::runtime::multiplyPart(matrixOf(*a), matrixOf(*b), matrixOf(*c),    \
                                  beta, part, parts);                          \
  }                                                                            \
  void _mlir_ciface_trueno_batch_gemm_##suffix(                                \
      MemRef<T, 3> *a, MemRef<T, 3> *b, MemRef<T, 3> *c, double beta,          \
      std::int64_t part, std::int64_t parts) {                                 \
    trueno::runtime::batchMultiply(*a, *b, *c, beta, part, parts);             \
  }                                                                            \
  void _mlir_ciface_trueno_conv2d_##suffix(                                    \
      MemRef<T, 4> *in, MemRef<T, 4> *filter, MemRef<T, 4> *out, double beta,  \
      std::int64_t strideY, std::int64_t strideX, std::int64_t dilationY,      \
      std::int64_t dilationX, std::int64_t part, std::int64_t parts) {         \
    trueno::runtime::convolve(*in, *filter, *out, beta, strideY, strideX,      \
                              dilationY, dilationX, part, parts);              \
  }                                                                            \
  void _mlir_ciface_trueno_conv2d_grouped_##suffix(                            \
      MemRef<T, 5> *in, MemRef<T, 5> *filter, MemRef<T, 5> *out, double beta,  \
      std::int64_t strideY, std::int64_t strideX, std::int64_t dilationY,      \
      std::int64_t dilationX, std::int64_t part, std::int64_t parts) {         \
    trueno::runtime::convolveGroups(*in, *filter, *out, beta, strideY,         \
                                    strideX, dilationY, dilationX, part,       \
                                    parts);                                    \
  }
TRUENO_BLAS_ENTRY_POINTS(f32, float)
TRUENO_BLAS_ENTRY_POINTS(f64, double)
#undef TRUENO_BLAS_ENTRY_POINTS

/// How many parts a product of `flops` is split into: one per hardware
/// thread, or one when forking threads would cost more than it saves.
std::int64_t trueno_parallel_parts(std::int64_t flops) {
  static const std::int64_t threads =
      std::max(1u, std::thread::hardware_concurrency());
  return flops < (1 << 20) ? 1 : threads;
}
}

namespace trueno::runtime {

std::vector<std::pair<const char *, void *>> blasSymbols() {
  // Kernels split products across the cores themselves, in the same OpenMP
  // parallel loops as everything else; OpenBLAS's own thread pool would
  // spin beside OpenMP's and halve both (see docs/ARCHITECTURE.md).
  openblas_set_num_threads(1);
  return {
      {"_mlir_ciface_trueno_gemm_f32",
       reinterpret_cast<void *>(&_mlir_ciface_trueno_gemm_f32)},
      {"_mlir_ciface_trueno_gemm_f64",
       reinterpret_cast<void *>(&_mlir_ciface_trueno_gemm_f64)},
      {"_mlir_ciface_trueno_batch_gemm_f32",
       reinterpret_cast<void *>(&_mlir_ciface_trueno_batch_gemm_f32)},
      {"_mlir_ciface_trueno_batch_gemm_f64",
       reinterpret_cast<void *>(&_mlir_ciface_trueno_batch_gemm_f64)},
      {"_mlir_ciface_trueno_conv2d_f32",
       reinterpret_cast<void *>(&_mlir_ciface_trueno_conv2d_f32)},
      {"_mlir_ciface_trueno_conv2d_f64",
       reinterpret_cast<void *>(&_mlir_ciface_trueno_conv2d_f64)},
      {"_mlir_ciface_trueno_conv2d_grouped_f32",
       reinterpret_cast<void *>(&_mlir_ciface_trueno_conv2d_grouped_f32)},
      {"_mlir_ciface_trueno_conv2d_grouped_f64",
       reinterpret_cast<void *>(&_mlir_ciface_trueno_conv2d_grouped_f64)},
      {"trueno_parallel_parts",
       reinterpret_cast<void *>(&trueno_parallel_parts)},
  };
}

} // namespace trueno::runtime
