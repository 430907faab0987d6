//===- Linalg.h - Dense linear algebra through LAPACK ---------------------===//
//
// torch.linalg / numpy.linalg for float32 and float64 matrices, batched
// over leading dimensions (broadcast where two operands meet). Each call
// runs at once on the realized inputs through LAPACK (Debian's liblapacke
// over OpenBLAS; docs/ARCHITECTURE.md says why), one matrix at a time:
//
//   Tensor x = trueno::linalg::solve(a, b);        // a (..., n, n)
//   auto [u, s, vh] = trueno::linalg::svd(a, false);
//
// Wrong shapes are ShapeErrors, other dtypes DTypeErrors (convert with
// `to(kFloat64)` first); a singular matrix where an inverse is needed, or one
// that is not positive-definite for cholesky, is a LinAlgError naming the
// batch element.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_LINALG_H
#define TRUENO_LINALG_H

#include "trueno/Tensor.h"

#include <optional>

namespace trueno::linalg {

/// x with a @ x = b: a (..., n, n); b (..., n, k), or (..., n) for one right
/// side (b of rank 1, or of a's shape without its last dimension).
Tensor solve(const Tensor &a, const Tensor &b, TRUENO_HERE);
/// The inverse of each square matrix.
Tensor inv(const Tensor &a, TRUENO_HERE);
/// The determinant (0 for a singular matrix, no error).
Tensor det(const Tensor &a, TRUENO_HERE);

struct SignLogAbsDet {
  Tensor sign;      ///< -1, 0 or 1
  Tensor logabsdet; ///< log |det|, -inf when singular
};
/// det = sign * exp(logabsdet), without overflow.
SignLogAbsDet slogdet(const Tensor &a, TRUENO_HERE);

/// The lower (or upper) Cholesky factor of a symmetric positive-definite
/// matrix: a = l @ l.mT(). Reads the lower (upper) triangle only.
Tensor cholesky(const Tensor &a, bool upper = false, TRUENO_HERE);

enum class QrMode { Reduced, Complete, R };
struct QR {
  Tensor q; ///< (..., m, k) orthonormal columns (k = min(m, n)); (m, m)
            ///< when complete; empty with QrMode::R
  Tensor r; ///< (..., k, n) upper triangular; (m, n) when complete
};
QR qr(const Tensor &a, QrMode mode = QrMode::Reduced, TRUENO_HERE);

struct Eigh {
  Tensor eigenvalues;  ///< (..., n), ascending
  Tensor eigenvectors; ///< (..., n, n), orthonormal columns
};
/// Eigen-decomposition of symmetric matrices (the lower triangle is read,
/// or the upper one with `upper`).
Eigh eigh(const Tensor &a, bool upper = false, TRUENO_HERE);
Tensor eigvalsh(const Tensor &a, bool upper = false, TRUENO_HERE);

/// Eigenvalues and eigenvectors of a general square matrix, which may be
/// complex: Trueno has no complex dtype, so each comes as real and imaginary
/// parts (as torch.linalg.eig's, from LAPACK's geev: unit-norm vectors in
/// the columns, complex pairs conjugate and adjacent).
struct Eig {
  Tensor valuesReal, valuesImag;   ///< (..., n)
  Tensor vectorsReal, vectorsImag; ///< (..., n, n)
};
Eig eig(const Tensor &a, TRUENO_HERE);

struct SVD {
  Tensor u;  ///< (..., m, m), or (..., m, k) without fullMatrices
  Tensor s;  ///< (..., k) singular values, descending
  Tensor vh; ///< (..., n, n), or (..., k, n)
};
/// a = u @ diag(s) @ vh.
SVD svd(const Tensor &a, bool fullMatrices = true, TRUENO_HERE);
Tensor svdvals(const Tensor &a, TRUENO_HERE);

struct Lstsq {
  Tensor solution;       ///< (..., n, k), or (..., n) for a vector b
  Tensor residuals;      ///< (..., k) squared residual norms when m > n and
                         ///< a has full rank; empty otherwise (as PyTorch)
  Tensor rank;           ///< (...) int64
  Tensor singularValues; ///< (..., min(m, n))
};
/// The x minimizing ||a @ x - b|| (the minimum-norm one when a is rank
/// deficient), through LAPACK's gelsd. Singular values below rcond * the
/// largest count as zero (default: the dtype's epsilon * max(m, n)).
Lstsq lstsq(const Tensor &a, const Tensor &b,
            std::optional<double> rcond = std::nullopt, TRUENO_HERE);
/// The Moore-Penrose pseudo-inverse (..., n, m), through the SVD; singular
/// values below rtol * the largest are dropped (default: epsilon *
/// max(m, n)).
Tensor pinv(const Tensor &a, std::optional<double> rtol = std::nullopt,
            TRUENO_HERE);
/// The number of singular values above tol (default: the largest times
/// epsilon * max(m, n)), int64.
Tensor matrixRank(const Tensor &a, std::optional<double> tol = std::nullopt,
                  TRUENO_HERE);

} // namespace trueno::linalg

#endif // TRUENO_LINALG_H
