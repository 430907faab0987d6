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
#include "trueno/Runtime/Blas.h"

#include <cblas.h>

#include <algorithm>
#include <cstdint>
#include <optional>
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

template <typename T>
void batchMultiply(const MemRef<T, 3> &a, const MemRef<T, 3> &b,
                   const MemRef<T, 3> &c, double beta) {
  for (std::int64_t i = 0; i < c.sizes[0]; ++i)
    multiply(batchMatrixOf(a, i), batchMatrixOf(b, i), batchMatrixOf(c, i),
             beta);
}

} // namespace
} // namespace trueno::runtime

using trueno::runtime::MemRef;

extern "C" {
void _mlir_ciface_trueno_gemm_f32(MemRef<float, 2> *a, MemRef<float, 2> *b,
                                  MemRef<float, 2> *c, double beta) {
  trueno::runtime::multiply(matrixOf(*a), matrixOf(*b), matrixOf(*c), beta);
}
void _mlir_ciface_trueno_gemm_f64(MemRef<double, 2> *a, MemRef<double, 2> *b,
                                  MemRef<double, 2> *c, double beta) {
  trueno::runtime::multiply(matrixOf(*a), matrixOf(*b), matrixOf(*c), beta);
}
void _mlir_ciface_trueno_batch_gemm_f32(MemRef<float, 3> *a,
                                        MemRef<float, 3> *b,
                                        MemRef<float, 3> *c, double beta) {
  trueno::runtime::batchMultiply(*a, *b, *c, beta);
}
void _mlir_ciface_trueno_batch_gemm_f64(MemRef<double, 3> *a,
                                        MemRef<double, 3> *b,
                                        MemRef<double, 3> *c, double beta) {
  trueno::runtime::batchMultiply(*a, *b, *c, beta);
}
}

namespace trueno::runtime {

std::vector<std::pair<const char *, void *>> blasSymbols() {
  return {
      {"_mlir_ciface_trueno_gemm_f32",
       reinterpret_cast<void *>(&_mlir_ciface_trueno_gemm_f32)},
      {"_mlir_ciface_trueno_gemm_f64",
       reinterpret_cast<void *>(&_mlir_ciface_trueno_gemm_f64)},
      {"_mlir_ciface_trueno_batch_gemm_f32",
       reinterpret_cast<void *>(&_mlir_ciface_trueno_batch_gemm_f32)},
      {"_mlir_ciface_trueno_batch_gemm_f64",
       reinterpret_cast<void *>(&_mlir_ciface_trueno_batch_gemm_f64)},
  };
}

} // namespace trueno::runtime
