//===- SmallGemm.h - float32 products without packing -----------*- C++ -*-===//
//
// The small-product kernels behind trueno_gemm_f32 (Blas.cpp) on CPUs with
// AVX-512: see SmallGemm.cpp for when they are used and why.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_SMALLGEMM_H
#define TRUENO_RUNTIME_SMALLGEMM_H

#include <cstdint>

namespace trueno::runtime {

/// c[i][j] = sum over p of a[i][p] * bt[j][p] (+ beta * c[i][j]): an m x k
/// matrix times the transpose of an n x k one, every row contiguous, rows
/// `lda`, `ldbt` and `ldc` elements apart. This is linear's x @ w^T.
struct DotProductOperands {
  const float *a;
  std::int64_t lda;
  const float *bt;
  std::int64_t ldbt;
  float *c;
  std::int64_t ldc;
  std::int64_t m, n, k;
};

/// Whether multiplyByDotProducts should compute this product: the CPU has
/// AVX-512 and the product is small enough that OpenBLAS's packing costs
/// more than it saves, with rows long enough for the dot products to pay.
bool preferDotProductGemm(const DotProductOperands &operands);

/// c = a @ bt^T + beta * c.
void multiplyByDotProducts(const DotProductOperands &operands, float beta);

/// c[i][j] = sum over p of a[i * aRowStride + p * aColStride] * b[p][j]
/// (+ beta * c[i][j]): any view of a (x, or the transpose of a gradient)
/// times a matrix whose rows are contiguous, as are c's. This is x @ w and,
/// in a linear layer's backward pass, g @ w and g^T @ x.
struct BroadcastOperands {
  const float *a;
  std::int64_t aRowStride, aColStride;
  const float *b;
  std::int64_t ldb;
  float *c;
  std::int64_t ldc;
  std::int64_t m, n, k;
};

/// Whether multiplyByBroadcasts should compute this product: the CPU has
/// AVX-512 and the product is small enough that OpenBLAS's packing costs
/// more than it saves.
bool preferBroadcastGemm(const BroadcastOperands &operands);

/// c = a @ b + beta * c.
void multiplyByBroadcasts(const BroadcastOperands &operands, float beta);

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_SMALLGEMM_H
