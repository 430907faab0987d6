//===- Lapack.cpp - LAPACK behind trueno::linalg --------------------------===//
//
// Each op checks shapes and dtypes, realizes its inputs as contiguous
// row-major float32/float64 batches, and calls LAPACKE (row-major) once per
// matrix. The small overload set below maps one LAPACK routine to its s/d
// variants, so that each op is written once for both dtypes.
//
//===----------------------------------------------------------------------===//
#include "LapackGradients.h"
#include "tensor/TensorImpl.h"
#include "trueno/Autograd.h"
#include "trueno/Core/Check.h"

#include "trueno/Linalg.h"
#include "trueno/Ops.h"

#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace trueno::linalg {

using detail::fail;

namespace {

constexpr int kRowMajor = LAPACK_ROW_MAJOR;

/// A leading dimension LAPACKE accepts: at least 1, even for empty matrices.
lapack_int ld(std::int64_t columns) {
  return static_cast<lapack_int>(std::max<std::int64_t>(1, columns));
}

// --- s/d overloads ---------------------------------------------------------
lapack_int gesv(lapack_int n, lapack_int k, float *a, lapack_int *p, float *b) {
  return LAPACKE_sgesv(kRowMajor, n, k, a, ld(n), p, b, ld(k));
}
lapack_int gesv(lapack_int n, lapack_int k, double *a, lapack_int *p,
                double *b) {
  return LAPACKE_dgesv(kRowMajor, n, k, a, ld(n), p, b, ld(k));
}
lapack_int getrf(lapack_int m, lapack_int n, float *a, lapack_int *p) {
  return LAPACKE_sgetrf(kRowMajor, m, n, a, ld(n), p);
}
lapack_int getrf(lapack_int m, lapack_int n, double *a, lapack_int *p) {
  return LAPACKE_dgetrf(kRowMajor, m, n, a, ld(n), p);
}
lapack_int getri(lapack_int n, float *a, const lapack_int *p) {
  return LAPACKE_sgetri(kRowMajor, n, a, ld(n), p);
}
lapack_int getri(lapack_int n, double *a, const lapack_int *p) {
  return LAPACKE_dgetri(kRowMajor, n, a, ld(n), p);
}
lapack_int potrf(char uplo, lapack_int n, float *a) {
  return LAPACKE_spotrf(kRowMajor, uplo, n, a, ld(n));
}
lapack_int potrf(char uplo, lapack_int n, double *a) {
  return LAPACKE_dpotrf(kRowMajor, uplo, n, a, ld(n));
}
lapack_int geqrf(lapack_int m, lapack_int n, float *a, lapack_int lda,
                 float *tau) {
  return LAPACKE_sgeqrf(kRowMajor, m, n, a, lda, tau);
}
lapack_int geqrf(lapack_int m, lapack_int n, double *a, lapack_int lda,
                 double *tau) {
  return LAPACKE_dgeqrf(kRowMajor, m, n, a, lda, tau);
}
lapack_int orgqr(lapack_int m, lapack_int n, lapack_int k, float *a,
                 lapack_int lda, const float *tau) {
  return LAPACKE_sorgqr(kRowMajor, m, n, k, a, lda, tau);
}
lapack_int orgqr(lapack_int m, lapack_int n, lapack_int k, double *a,
                 lapack_int lda, const double *tau) {
  return LAPACKE_dorgqr(kRowMajor, m, n, k, a, lda, tau);
}
lapack_int syevd(char jobz, char uplo, lapack_int n, float *a, float *w) {
  return LAPACKE_ssyevd(kRowMajor, jobz, uplo, n, a, ld(n), w);
}
lapack_int syevd(char jobz, char uplo, lapack_int n, double *a, double *w) {
  return LAPACKE_dsyevd(kRowMajor, jobz, uplo, n, a, ld(n), w);
}
lapack_int geev(lapack_int n, float *a, float *wr, float *wi, float *vr) {
  return LAPACKE_sgeev(kRowMajor, 'N', 'V', n, a, ld(n), wr, wi, nullptr, 1, vr,
                       ld(n));
}
lapack_int geev(lapack_int n, double *a, double *wr, double *wi, double *vr) {
  return LAPACKE_dgeev(kRowMajor, 'N', 'V', n, a, ld(n), wr, wi, nullptr, 1, vr,
                       ld(n));
}
lapack_int gesdd(char jobz, lapack_int m, lapack_int n, float *a, float *s,
                 float *u, lapack_int ldu, float *vt, lapack_int ldvt) {
  return LAPACKE_sgesdd(kRowMajor, jobz, m, n, a, ld(n), s, u, ldu, vt, ldvt);
}
lapack_int gesdd(char jobz, lapack_int m, lapack_int n, double *a, double *s,
                 double *u, lapack_int ldu, double *vt, lapack_int ldvt) {
  return LAPACKE_dgesdd(kRowMajor, jobz, m, n, a, ld(n), s, u, ldu, vt, ldvt);
}
lapack_int gelsd(lapack_int m, lapack_int n, lapack_int k, float *a, float *b,
                 float *s, float rcond, lapack_int *rank) {
  return LAPACKE_sgelsd(kRowMajor, m, n, k, a, ld(n), b, ld(k), s, rcond, rank);
}
lapack_int gelsd(lapack_int m, lapack_int n, lapack_int k, double *a, double *b,
                 double *s, double rcond, lapack_int *rank) {
  return LAPACKE_dgelsd(kRowMajor, m, n, k, a, ld(n), b, ld(k), s, rcond, rank);
}

// --- Batches -----------------------------------------------------------------

/// float32 or float64; DTypeError otherwise.
DType checkFloat(DType dtype, std::string_view op, SourceLoc where) {
  if (dtype != DType::Float32 && dtype != DType::Float64)
    fail<DTypeError>(where, op, "convert it first with to(kFloat64)",
                     "linear algebra takes float32 or float64, not {}",
                     dtypeName(dtype));
  return dtype;
}

/// A stack of matrices: the batch shape, the matrix size, and the elements
/// (row-major, converted to T), ready for LAPACK to overwrite.
template <typename T> struct Stack {
  Shape batch;
  std::int64_t count = 0, m = 0, n = 0;
  std::vector<T> data;
  T *matrix(std::int64_t i) { return data.data() + i * m * n; }
};

template <typename T> Stack<T> stackOf(const Tensor &a, const Shape &batch) {
  Stack<T> s;
  s.batch = batch;
  s.m = a.size(-2);
  s.n = a.size(-1);
  s.count = numelOf(batch);
  Shape full = batch;
  full.insert(full.end(), {s.m, s.n});
  s.data.resize(numelOf(full));
  a.expand(full).copyTo(s.data.data(), dtypeOf<T>);
  return s;
}

Shape batchOf(const Tensor &a) {
  return Shape(a.shape().begin(), a.shape().end() - 2);
}

Shape withMatrix(Shape batch, std::initializer_list<std::int64_t> tail) {
  batch.insert(batch.end(), tail);
  return batch;
}

template <typename T>
Tensor tensorOf(const std::vector<T> &values, const Shape &shape,
                Device device) {
  return fromVector(values, shape,
                    TensorOptions(dtypeOf<T>).withDevice(device));
}

/// ShapeError unless `a` is a (batch of) matrix; with `square`, square ones.
void checkMatrix(const Tensor &a, bool square, std::string_view op,
                 SourceLoc where) {
  detail::implOf(a, op, where);
  if (a.dim() < 2)
    fail<ShapeError>(where, op, "pass a matrix or a batch of matrices",
                     "a tensor of shape {} is not a matrix",
                     formatShape(a.shape()));
  if (square && a.size(-1) != a.size(-2))
    fail<ShapeError>(where, op, "pass square matrices (..., n, n)",
                     "matrices of shape {} are not square",
                     formatShape(a.shape()));
}

/// Runs `f` with T = float or double, as `dtype` says.
template <typename F> decltype(auto) withFloat(DType dtype, F &&f) {
  if (dtype == DType::Float32)
    return f(float{});
  return f(double{});
}

/// The right side of a system with matrices `a` (..., rows, n): b as
/// (..., rows, k), a vector b given a last dimension of 1, and the batch
/// shape both broadcast to.
struct RightSide {
  Tensor rhs;
  Shape batch;
};
RightSide rightSide(const Tensor &a, const Tensor &b, std::int64_t rows,
                    bool vector, std::string_view op, SourceLoc where) {
  Tensor rhs = vector ? b.unsqueeze(-1, where) : b;
  if (rhs.dim() < 2 || rhs.size(-2) != rows)
    fail<ShapeError>(where, op,
                     "b is (..., m) or (..., m, k) for a of (..., m, n)",
                     "a of shape {} and b of shape {} do not match",
                     formatShape(a.shape()), formatShape(b.shape()));
  try {
    return {rhs, broadcastShapes({batchOf(a), batchOf(rhs)}, where)};
  } catch (const ShapeError &e) {
    throw ShapeError(std::string(op), e.problem(),
                     "the batch dimensions must broadcast", where);
  }
}

[[noreturn]] void singular(std::string_view op, lapack_int info,
                           std::int64_t element, SourceLoc where) {
  fail<LinAlgError>(where, op,
                    "use pinv or lstsq for singular or ill-posed systems",
                    "the matrix (batch element {}) is singular: U[{}][{}] of "
                    "its LU factorization is zero",
                    element, info - 1, info - 1);
}

} // namespace

Tensor solve(const Tensor &a, const Tensor &b, SourceLoc where) {
  checkMatrix(a, true, "linalg.solve", where);
  detail::implOf(b, "linalg.solve", where);
  DType dtype = checkFloat(resultType(a, b), "linalg.solve", where);
  std::int64_t n = a.size(-1);
  // A vector b: rank 1, or a's shape without its last dimension (PyTorch).
  bool vector = b.dim() == 1 || (b.dim() == a.dim() - 1 &&
                                 std::equal(b.shape().begin(), b.shape().end(),
                                            a.shape().begin()));
  if (detail::differentiating({&a, &b}))
    return solveWithGradient(a, b, vector, where);
  RightSide side = rightSide(a, b, n, vector, "linalg.solve", where);
  const Tensor &rhs = side.rhs;
  const Shape &batch = side.batch;
  return withFloat(dtype, [&]<typename T>(T) {
    Stack<T> lhs = stackOf<T>(a, batch);
    Stack<T> right = stackOf<T>(rhs, batch);
    std::vector<lapack_int> pivots(n);
    for (std::int64_t i = 0; i < lhs.count; ++i)
      if (lapack_int info =
              gesv(n, right.n, lhs.matrix(i), pivots.data(), right.matrix(i));
          info > 0)
        singular("linalg.solve", info, i, where);
    Tensor x =
        tensorOf(right.data, withMatrix(batch, {n, right.n}), a.device());
    return vector ? x.squeeze(-1, where) : x;
  });
}

Tensor inv(const Tensor &a, SourceLoc where) {
  checkMatrix(a, true, "linalg.inv", where);
  DType dtype = checkFloat(a.dtype(), "linalg.inv", where);
  if (detail::differentiating({&a}))
    return invWithGradient(a, where);
  return withFloat(dtype, [&]<typename T>(T) {
    Stack<T> s = stackOf<T>(a, batchOf(a));
    std::vector<lapack_int> pivots(s.n);
    // A 0x0 matrix is its own inverse; LAPACK's getri would refuse its
    // empty workspace and print so.
    for (std::int64_t i = 0; i < s.count && s.n > 0; ++i) {
      if (lapack_int info = getrf(s.n, s.n, s.matrix(i), pivots.data());
          info > 0)
        singular("linalg.inv", info, i, where);
      getri(s.n, s.matrix(i), pivots.data());
    }
    return tensorOf(s.data, a.shape(), a.device());
  });
}

SignLogAbsDet slogdet(const Tensor &a, SourceLoc where) {
  checkMatrix(a, true, "linalg.slogdet", where);
  DType dtype = checkFloat(a.dtype(), "linalg.slogdet", where);
  if (detail::differentiating({&a}))
    return slogdetWithGradient(a, where);
  return withFloat(dtype, [&]<typename T>(T) {
    Stack<T> s = stackOf<T>(a, batchOf(a));
    std::vector<lapack_int> pivots(s.n);
    std::vector<T> signs(s.count), logs(s.count);
    for (std::int64_t i = 0; i < s.count; ++i) {
      T *lu = s.matrix(i);
      getrf(s.n, s.n, lu, pivots.data());
      double sign = 1, log = 0;
      for (std::int64_t d = 0; d < s.n; ++d) {
        double u = lu[d * s.n + d];
        if (pivots[d] != d + 1)
          sign = -sign;
        if (u < 0)
          sign = -sign;
        // A zero (or NaN) pivot: det 0 (or NaN), with log |det| = -inf.
        if (!(u != 0)) {
          sign = std::isnan(u) ? u : 0.0;
          log = std::isnan(u) ? u : -std::numeric_limits<double>::infinity();
          break;
        }
        log += std::log(std::abs(u));
      }
      signs[i] = static_cast<T>(sign);
      logs[i] = static_cast<T>(log);
    }
    return SignLogAbsDet{tensorOf(signs, s.batch, a.device()),
                         tensorOf(logs, s.batch, a.device())};
  });
}

Tensor det(const Tensor &a, SourceLoc where) {
  checkMatrix(a, true, "linalg.det", where);
  DType dtype = checkFloat(a.dtype(), "linalg.det", where);
  if (detail::differentiating({&a}))
    return detWithGradient(a, where);
  return withFloat(dtype, [&]<typename T>(T) {
    Stack<T> s = stackOf<T>(a, batchOf(a));
    std::vector<lapack_int> pivots(s.n);
    std::vector<T> dets(s.count);
    for (std::int64_t i = 0; i < s.count; ++i) {
      T *lu = s.matrix(i);
      getrf(s.n, s.n, lu, pivots.data());
      T product = 1;
      for (std::int64_t d = 0; d < s.n; ++d)
        product *= pivots[d] != d + 1 ? -lu[d * s.n + d] : lu[d * s.n + d];
      dets[i] = product;
    }
    return tensorOf(dets, s.batch, a.device());
  });
}

Tensor cholesky(const Tensor &a, bool upper, SourceLoc where) {
  checkMatrix(a, true, "linalg.cholesky", where);
  DType dtype = checkFloat(a.dtype(), "linalg.cholesky", where);
  if (detail::differentiating({&a}))
    return choleskyWithGradient(a, upper, where);
  return withFloat(dtype, [&]<typename T>(T) {
    Stack<T> s = stackOf<T>(a, batchOf(a));
    for (std::int64_t i = 0; i < s.count; ++i) {
      T *m = s.matrix(i);
      if (lapack_int info = potrf(upper ? 'U' : 'L', s.n, m); info > 0)
        fail<LinAlgError>(where, "linalg.cholesky",
                          "the matrix must be symmetric positive-definite",
                          "the matrix (batch element {}) is not "
                          "positive-definite: its leading minor of order {} "
                          "is not positive",
                          i, info);
      // LAPACK leaves the other triangle as it was: zero it.
      for (std::int64_t r = 0; r < s.n; ++r)
        for (std::int64_t c = 0; c < s.n; ++c)
          if (upper ? c < r : c > r)
            m[r * s.n + c] = 0;
    }
    return tensorOf(s.data, a.shape(), a.device());
  });
}

QR qr(const Tensor &a, QrMode mode, SourceLoc where) {
  checkMatrix(a, false, "linalg.qr", where);
  DType dtype = checkFloat(a.dtype(), "linalg.qr", where);
  if (detail::differentiating({&a}))
    return qrWithGradient(a, mode, where);
  return withFloat(dtype, [&]<typename T>(T) {
    Stack<T> s = stackOf<T>(a, batchOf(a));
    std::int64_t m = s.m, n = s.n, k = std::min(m, n);
    bool complete = mode == QrMode::Complete;
    std::int64_t qCols = complete ? m : k, rRows = complete ? m : k;
    std::vector<T> qs(s.count * m * qCols), rs(s.count * rRows * n, T(0));
    std::vector<T> tau(std::max<std::int64_t>(1, k));
    // geqrf works in a buffer wide enough for the complete Q's columns.
    std::int64_t width = std::max(n, qCols);
    std::vector<T> work(m * width);
    for (std::int64_t i = 0; i < s.count; ++i) {
      const T *source = s.matrix(i);
      for (std::int64_t r = 0; r < m; ++r)
        for (std::int64_t c = 0; c < width; ++c)
          work[r * width + c] = c < n ? source[r * n + c] : T(0);
      geqrf(m, n, work.data(), ld(width), tau.data());
      T *rOut = rs.data() + i * rRows * n;
      for (std::int64_t r = 0; r < std::min(rRows, m); ++r)
        for (std::int64_t c = r; c < n; ++c)
          rOut[r * n + c] = work[r * width + c];
      if (mode == QrMode::R)
        continue;
      orgqr(m, qCols, k, work.data(), ld(width), tau.data());
      T *qOut = qs.data() + i * m * qCols;
      for (std::int64_t r = 0; r < m; ++r)
        for (std::int64_t c = 0; c < qCols; ++c)
          qOut[r * qCols + c] = work[r * width + c];
    }
    Tensor r = tensorOf(rs, withMatrix(s.batch, {rRows, n}), a.device());
    if (mode == QrMode::R)
      return QR{Tensor(zeros({0}, TensorOptions(dtype))), r};
    return QR{tensorOf(qs, withMatrix(s.batch, {m, qCols}), a.device()), r};
  });
}

Eigh eigh(const Tensor &a, bool upper, SourceLoc where) {
  checkMatrix(a, true, "linalg.eigh", where);
  DType dtype = checkFloat(a.dtype(), "linalg.eigh", where);
  if (detail::differentiating({&a}))
    return eighWithGradient(a, upper, where);
  return withFloat(dtype, [&]<typename T>(T) {
    Stack<T> s = stackOf<T>(a, batchOf(a));
    std::vector<T> values(s.count * s.n);
    for (std::int64_t i = 0; i < s.count; ++i)
      if (lapack_int info = syevd('V', upper ? 'U' : 'L', s.n, s.matrix(i),
                                  values.data() + i * s.n);
          info > 0)
        fail<LinAlgError>(where, "linalg.eigh",
                          "check the matrix for NaN or infinite values",
                          "the eigenvalue iteration did not converge (batch "
                          "element {})",
                          i);
    return Eigh{tensorOf(values, withMatrix(s.batch, {s.n}), a.device()),
                tensorOf(s.data, a.shape(), a.device())};
  });
}

Tensor eigvalsh(const Tensor &a, bool upper, SourceLoc where) {
  return eigh(a, upper, where).eigenvalues;
}

Eig eig(const Tensor &a, SourceLoc where) {
  checkMatrix(a, true, "linalg.eig", where);
  DType dtype = checkFloat(a.dtype(), "linalg.eig", where);
  if (detail::differentiating({&a}))
    return eigWithGradient(a, where);
  return withFloat(dtype, [&]<typename T>(T) {
    Stack<T> s = stackOf<T>(a, batchOf(a));
    std::int64_t n = s.n;
    std::vector<T> wr(s.count * n), wi(s.count * n);
    std::vector<T> vre(s.count * n * n), vim(s.count * n * n), vr(n * n);
    for (std::int64_t i = 0; i < s.count; ++i) {
      T *re = wr.data() + i * n, *im = wi.data() + i * n;
      if (lapack_int info = geev(n, s.matrix(i), re, im, vr.data()); info > 0)
        fail<LinAlgError>(where, "linalg.eig",
                          "check the matrix for NaN or infinite values",
                          "the QR algorithm did not converge (batch element "
                          "{})",
                          i);
      // geev stores a complex pair's vector v = x + iy as columns j (x) and
      // j + 1 (y); its conjugate belongs to eigenvalue j + 1.
      T *outRe = vre.data() + i * n * n, *outIm = vim.data() + i * n * n;
      for (std::int64_t j = 0; j < n; ++j) {
        bool pairStart = im[j] != 0 && j + 1 < n && im[j + 1] == -im[j];
        for (std::int64_t r = 0; r < n; ++r) {
          if (pairStart) {
            outRe[r * n + j] = outRe[r * n + j + 1] = vr[r * n + j];
            outIm[r * n + j] = vr[r * n + j + 1];
            outIm[r * n + j + 1] = -vr[r * n + j + 1];
          } else {
            outRe[r * n + j] = vr[r * n + j];
            outIm[r * n + j] = 0;
          }
        }
        if (pairStart)
          ++j;
      }
    }
    Shape values = withMatrix(s.batch, {n});
    return Eig{tensorOf(wr, values, a.device()),
               tensorOf(wi, values, a.device()),
               tensorOf(vre, a.shape(), a.device()),
               tensorOf(vim, a.shape(), a.device())};
  });
}

SVD svd(const Tensor &a, bool fullMatrices, SourceLoc where) {
  checkMatrix(a, false, "linalg.svd", where);
  DType dtype = checkFloat(a.dtype(), "linalg.svd", where);
  if (detail::differentiating({&a}))
    return svdWithGradient(a, fullMatrices, where);
  return withFloat(dtype, [&]<typename T>(T) {
    Stack<T> s = stackOf<T>(a, batchOf(a));
    std::int64_t m = s.m, n = s.n, k = std::min(m, n);
    std::int64_t uCols = fullMatrices ? m : k, vRows = fullMatrices ? n : k;
    std::vector<T> us(s.count * m * uCols), ss(s.count * k),
        vs(s.count * vRows * n);
    for (std::int64_t i = 0; i < s.count; ++i) {
      if (k == 0) {
        // An empty matrix: LAPACK returns at once, and LAPACKE's row-major
        // copy back would hand out uninitialized memory. The full bases
        // are identities, as PyTorch gives.
        for (std::int64_t d = 0; d < std::min(m, uCols); ++d)
          us[i * m * uCols + d * uCols + d] = T(1);
        for (std::int64_t d = 0; d < std::min(vRows, n); ++d)
          vs[i * vRows * n + d * n + d] = T(1);
        continue;
      }
      if (lapack_int info = gesdd(fullMatrices ? 'A' : 'S', m, n, s.matrix(i),
                                  ss.data() + i * k, us.data() + i * m * uCols,
                                  ld(uCols), vs.data() + i * vRows * n, ld(n));
          info > 0)
        fail<LinAlgError>(where, "linalg.svd",
                          "check the matrix for NaN or infinite values",
                          "the SVD did not converge (batch element {})", i);
    }
    return SVD{tensorOf(us, withMatrix(s.batch, {m, uCols}), a.device()),
               tensorOf(ss, withMatrix(s.batch, {k}), a.device()),
               tensorOf(vs, withMatrix(s.batch, {vRows, n}), a.device())};
  });
}

Tensor svdvals(const Tensor &a, SourceLoc where) {
  checkMatrix(a, false, "linalg.svdvals", where);
  DType dtype = checkFloat(a.dtype(), "linalg.svdvals", where);
  if (detail::differentiating({&a}))
    return svdvalsWithGradient(a, where);
  return withFloat(dtype, [&]<typename T>(T) {
    Stack<T> s = stackOf<T>(a, batchOf(a));
    std::int64_t k = std::min(s.m, s.n);
    std::vector<T> ss(s.count * k);
    T unused = 0;
    for (std::int64_t i = 0; i < s.count; ++i)
      // No vectors: u and vt are not referenced, but LAPACKE still checks
      // their leading dimensions.
      if (lapack_int info = gesdd('N', s.m, s.n, s.matrix(i), ss.data() + i * k,
                                  &unused, ld(s.m), &unused, ld(s.n));
          info > 0)
        fail<LinAlgError>(where, "linalg.svdvals",
                          "check the matrix for NaN or infinite values",
                          "the SVD did not converge (batch element {})", i);
    return tensorOf(ss, withMatrix(s.batch, {k}), a.device());
  });
}

Lstsq lstsq(const Tensor &a, const Tensor &b, std::optional<double> rcond,
            SourceLoc where) {
  checkMatrix(a, false, "linalg.lstsq", where);
  detail::implOf(b, "linalg.lstsq", where);
  DType dtype = checkFloat(resultType(a, b), "linalg.lstsq", where);
  std::int64_t m = a.size(-2), n = a.size(-1);
  bool vector = b.dim() == a.dim() - 1;
  RightSide side = rightSide(a, b, m, vector, "linalg.lstsq", where);
  if (detail::differentiating({&a, &b}))
    return lstsqWithGradient(a, b, rcond, vector, where);
  const Tensor &rhs = side.rhs;
  const Shape &batch = side.batch;
  return withFloat(dtype, [&]<typename T>(T) {
    Stack<T> lhs = stackOf<T>(a, batch);
    Stack<T> right = stackOf<T>(rhs, batch);
    std::int64_t k = right.n, rows = std::max(m, n), q = std::min(m, n);
    T cutoff = rcond ? static_cast<T>(*rcond)
                     : std::numeric_limits<T>::epsilon() *
                           static_cast<T>(std::max(m, n));
    std::vector<T> work(rows * k), solution(lhs.count * n * k),
        singular(lhs.count * q), residuals;
    std::vector<std::int64_t> ranks(lhs.count);
    bool full = true;
    std::vector<T> sums(lhs.count * k, T(0));
    for (std::int64_t i = 0; i < lhs.count; ++i) {
      std::fill(work.begin(), work.end(), T(0));
      std::copy_n(right.matrix(i), m * k, work.begin());
      lapack_int rank = 0;
      if (lapack_int info = gelsd(m, n, k, lhs.matrix(i), work.data(),
                                  singular.data() + i * q, cutoff, &rank);
          info > 0)
        fail<LinAlgError>(where, "linalg.lstsq",
                          "check the matrix for NaN or infinite values",
                          "the SVD did not converge (batch element {})", i);
      ranks[i] = rank;
      full = full && rank == n;
      std::copy_n(work.begin(), n * k, solution.begin() + i * n * k);
      for (std::int64_t r = n; r < m; ++r) // rows n..m hold the residuals
        for (std::int64_t c = 0; c < k; ++c)
          sums[i * k + c] += work[r * k + c] * work[r * k + c];
    }
    Device device = a.device();
    Tensor x = tensorOf(solution, withMatrix(batch, {n, k}), device);
    Tensor res = m > n && full
                     ? tensorOf(sums, withMatrix(batch, {k}), device)
                     : zeros({0}, TensorOptions(dtype).withDevice(device));
    if (vector) {
      x = x.squeeze(-1, where);
      if (res.numel() > 0)
        res = res.squeeze(-1, where);
    }
    return Lstsq{x, res,
                 fromVector(ranks, batch,
                            TensorOptions(DType::Int64).withDevice(device)),
                 tensorOf(singular, withMatrix(batch, {q}), device)};
  });
}

Tensor pinv(const Tensor &a, std::optional<double> rtol, SourceLoc where) {
  checkMatrix(a, false, "linalg.pinv", where);
  DType dtype = checkFloat(a.dtype(), "linalg.pinv", where);
  if (detail::differentiating({&a}))
    return pinvWithGradient(a, rtol, where);
  if (a.size(-1) == 0 || a.size(-2) == 0) {
    Shape shape = withMatrix(batchOf(a), {a.size(-1), a.size(-2)});
    return zeros(shape, TensorOptions(dtype).withDevice(a.device()), where);
  }
  SVD d = svd(a, false, where);
  double eps = a.dtype() == DType::Float32
                   ? std::numeric_limits<float>::epsilon()
                   : std::numeric_limits<double>::epsilon();
  double relative = rtol.value_or(
      eps * static_cast<double>(std::max(a.size(-2), a.size(-1))));
  // 1 / s where s > rtol * max(s), else 0, per matrix.
  Tensor largest = amax(d.s, {-1}, true, where);
  Tensor keep = gt(d.s, mul(largest, relative, where), where);
  Tensor inverse = trueno::where(
      keep, div(1.0, trueno::where(keep, d.s, 1.0, where), where), 0.0, where);
  // pinv = V diag(1/s) U^T
  return matmul(mul(d.vh.mT(where), inverse.unsqueeze(-2, where), where),
                d.u.mT(where), where);
}

Tensor matrixRank(const Tensor &a, std::optional<double> tol, SourceLoc where) {
  checkMatrix(a, false, "linalg.matrixRank", where);
  checkFloat(a.dtype(), "linalg.matrixRank", where);
  if (a.size(-1) == 0 || a.size(-2) == 0)
    return zeros(batchOf(a), TensorOptions(DType::Int64).withDevice(a.device()),
                 where);
  Tensor s = svdvals(a, where);
  Tensor cutoff;
  if (tol) {
    cutoff = full({}, *tol, TensorOptions(a.dtype()));
  } else {
    double eps = a.dtype() == DType::Float32
                     ? std::numeric_limits<float>::epsilon()
                     : std::numeric_limits<double>::epsilon();
    cutoff =
        mul(amax(s, {-1}, true, where),
            eps * static_cast<double>(std::max(a.size(-2), a.size(-1))), where);
  }
  return sum(gt(s, cutoff, where), {-1}, false, where);
}

} // namespace trueno::linalg
