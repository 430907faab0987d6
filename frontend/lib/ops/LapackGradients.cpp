//===- LapackGradients.cpp - Gradients of the ops LAPACK computes ---------===//
//
// Each op's tangent below is its forward-mode derivative with the input's
// change dA replaced by the input A itself (the expression is linear in A,
// so its derivative is the op's); "P", "F" and the factors are eager
// results held constant. The formulas are the standard ones PyTorch's
// FunctionsManual.cpp implements (Giles 2008; Murray 2016 for cholesky;
// Townsend 2016 for the SVD; Golub and Pereyra 1973 for pinv). Their
// gradients match torch.autograd's in tests/e2e/test_grads_vs_torch.py.
//
//===----------------------------------------------------------------------===//
#include "LapackGradients.h"

#include "tensor/TensorImpl.h"
#include "trueno/Autograd.h"
#include "trueno/Core/Check.h"
#include "trueno/Indexing.h"
#include "trueno/Ops.h"

namespace trueno {

namespace linalg {

using detail::fail;
using detail::withGradientOf;

namespace {

/// (A + A^T) / 2: the eigh and cholesky gradients are those of the
/// symmetric part, as PyTorch's, although LAPACK reads one triangle.
Tensor symmetricPart(const Tensor &a, SourceLoc where) {
  return mul(add(a, a.mT(where), where), Scalar(0.5), where);
}

/// F[i][j] = 1 / (d_j - d_i) off the diagonal and 0 on it, for a (..., n)
/// vector d: how much the change of value i's vector turns towards vector j.
/// Equal values give infinities (their vectors are not unique; PyTorch's
/// gradient is not finite there either).
Tensor inverseGaps(const Tensor &d, SourceLoc where) {
  Tensor gaps = sub(d.unsqueeze(-2, where), d.unsqueeze(-1, where), where);
  Tensor identity = eye(d.size(-1), std::nullopt, d.dtype());
  return div(sub(1.0, identity, where), add(gaps, identity, where), where);
}

Tensor diagonalOf(const Tensor &m, SourceLoc where) {
  return diagonal(m, 0, -2, -1, where);
}

/// The tangent of pinv at `a` (its pseudo-inverse `p` and `constant`, a's
/// value, held constant), for a change of constant rank:
///   -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P.
Tensor pinvTangent(const Tensor &a, const Tensor &constant, const Tensor &p,
                   SourceLoc where) {
  std::int64_t m = constant.size(-2), n = constant.size(-1);
  Tensor rowsLeft = sub(eye(m, std::nullopt, p.dtype()),
                        matmul(constant, p, where), where); // I - A P
  Tensor columnsLeft = sub(eye(n, std::nullopt, p.dtype()),
                           matmul(p, constant, where), where); // I - P A
  Tensor aT = a.mT(where);
  Tensor first = neg(matmul(matmul(p, a, where), p, where), where);
  Tensor second =
      matmul(matmul(matmul(p, p.mT(where), where), aT, where), rowsLeft, where);
  Tensor third = matmul(matmul(columnsLeft, aT, where),
                        matmul(p.mT(where), p, where), where);
  return add(add(first, second, where), third, where);
}

/// The singular values' tangent diag(U^T dA V), from the reduced SVD of a's
/// value.
Tensor singularValuesTangent(const Tensor &a, const SVD &r, SourceLoc where) {
  return diagonalOf(
      matmul(matmul(r.u.mT(where), a, where), r.vh.mT(where), where), where);
}

/// A complex matrix as its real and imaginary parts (Trueno has no complex
/// dtype: eig returns the two parts).
struct Complex {
  Tensor re, im;
};

Complex product(const Complex &x, const Complex &y, SourceLoc where) {
  return {sub(matmul(x.re, y.re, where), matmul(x.im, y.im, where), where),
          add(matmul(x.re, y.im, where), matmul(x.im, y.re, where), where)};
}

Complex elementwiseProduct(const Complex &x, const Complex &y,
                           SourceLoc where) {
  return {sub(mul(x.re, y.re, where), mul(x.im, y.im, where), where),
          add(mul(x.re, y.im, where), mul(x.im, y.re, where), where)};
}

/// V^-1 for V = re + i im, through the real block matrix
/// [[re, -im], [im, re]], whose inverse is [[W.re, -W.im], [W.im, W.re]].
Complex inverse(const Complex &v, SourceLoc where) {
  std::int64_t n = v.re.size(-1);
  Tensor block = cat(
      {cat({v.re, neg(v.im, where)}, -1, where), cat({v.im, v.re}, -1, where)},
      -2, where);
  Tensor w = inv(block, where);
  return {w.narrow(-2, 0, n, where).narrow(-1, 0, n, where),
          w.narrow(-2, n, n, where).narrow(-1, 0, n, where)};
}

} // namespace

Tensor solveWithGradient(const Tensor &a, const Tensor &b, bool vector,
                         SourceLoc where) {
  // dX = A^-1 (dB - dA X).
  Tensor x = solve(a.detach(where), b.detach(where), where);
  Tensor y = inv(a.detach(where), where);
  auto column = [&](const Tensor &t) {
    return vector ? t.unsqueeze(-1, where) : t;
  };
  Tensor tangent =
      matmul(y, sub(column(b), matmul(a, column(x), where), where), where);
  return withGradientOf(x, vector ? tangent.squeeze(-1, where) : tangent,
                        where);
}

Tensor invWithGradient(const Tensor &a, SourceLoc where) {
  // d(A^-1) = -A^-1 dA A^-1.
  Tensor y = inv(a.detach(where), where);
  return withGradientOf(y, neg(matmul(matmul(y, a, where), y, where), where),
                        where);
}

SignLogAbsDet slogdetWithGradient(const Tensor &a, SourceLoc where) {
  // d log|det A| = tr(A^-1 dA); the sign has no gradient.
  SignLogAbsDet r = slogdet(a.detach(where), where);
  Tensor y = inv(a.detach(where), where);
  Tensor tangent = sum(mul(y.mT(where), a, where), {-2, -1}, false, where);
  return {r.sign, withGradientOf(r.logabsdet, tangent, where)};
}

Tensor detWithGradient(const Tensor &a, SourceLoc where) {
  // d det A = det A tr(A^-1 dA) (a singular A: inv's LinAlgError).
  Tensor d = det(a.detach(where), where);
  Tensor y = inv(a.detach(where), where);
  Tensor tangent =
      mul(d, sum(mul(y.mT(where), a, where), {-2, -1}, false, where), where);
  return withGradientOf(d, tangent, where);
}

Tensor choleskyWithGradient(const Tensor &a, bool upper, SourceLoc where) {
  // dL = L phi(L^-1 sym(dA) L^-T), phi(X) = tril(X, -1) + diag(X) / 2.
  Tensor l = cholesky(a.detach(where), false, where);
  Tensor lInverse = inv(l, where);
  Tensor x = matmul(matmul(lInverse, symmetricPart(a, where), where),
                    lInverse.mT(where), where);
  std::int64_t n = a.size(-1);
  Tensor halfDiagonal =
      mul(eye(n, std::nullopt, x.dtype()), Scalar(0.5), where);
  Tensor phi = add(tril(x, -1, where), mul(x, halfDiagonal, where), where);
  Tensor tangent = matmul(l, phi, where);
  return upper ? withGradientOf(l.mT(where), tangent.mT(where), where)
               : withGradientOf(l, tangent, where);
}

QR qrWithGradient(const Tensor &a, QrMode mode, SourceLoc where) {
  std::int64_t m = a.size(-2), n = a.size(-1);
  if (mode == QrMode::Complete && m > n)
    fail<ValueError>(where, "linalg.qr",
                     "use QrMode::Reduced, or compute it on detach()ed inputs",
                     "the complete Q of a matrix of shape {} with more rows "
                     "than columns has no gradient: its last {} columns are "
                     "any orthonormal completion",
                     formatShape(a.shape()), m - n);
  // For rows <= columns, the reduced and complete factors are the same.
  QR r = qr(a.detach(where), QrMode::Reduced, where);
  // With A = [X Y], X square (or all of a tall A) and R = [R1 R2]:
  //   B = Q^T dX R1^-1, Omega = L - L^T for L = tril(B, -1),
  //   dQ = Q Omega + (I - Q Q^T) dX R1^-1, dR1 = (B - Omega) R1,
  //   dR2 = dQ^T Y + Q^T dY.
  std::int64_t k = std::min(m, n);
  Tensor x = m >= n ? a : a.narrow(-1, 0, m, where);
  Tensor r1 = m >= n ? r.r : r.r.narrow(-1, 0, m, where);
  // A singular R1 (a rank-deficient input): inv's LinAlgError.
  Tensor r1Inverse = inv(r1, where);
  Tensor b = matmul(matmul(r.q.mT(where), x, where), r1Inverse, where);
  Tensor lower = tril(b, -1, where);
  Tensor omega = sub(lower, lower.mT(where), where);
  Tensor qTangent = matmul(r.q, omega, where);
  if (m > k)
    qTangent =
        add(qTangent,
            matmul(sub(x, matmul(r.q, matmul(r.q.mT(where), x, where), where),
                       where),
                   r1Inverse, where),
            where);
  Tensor rTangent = matmul(sub(b, omega, where), r1, where);
  if (n > k) {
    Tensor rest = a.narrow(-1, m, n - m, where);
    Tensor r2Tangent =
        add(matmul(qTangent.mT(where), rest.detach(where), where),
            matmul(r.q.mT(where), rest, where), where);
    rTangent = cat({rTangent, r2Tangent}, -1, where);
  }
  Tensor rOut = withGradientOf(r.r, rTangent, where);
  if (mode == QrMode::R)
    return {Tensor(zeros({0}, TensorOptions(a.dtype()))), rOut};
  return {withGradientOf(r.q, qTangent, where), rOut};
}

Eigh eighWithGradient(const Tensor &a, bool upper, SourceLoc where) {
  // P = V^T sym(dA) V: dL = diag(P), dV = V (F o P) for F of the
  // eigenvalues.
  Eigh r = eigh(a.detach(where), upper, where);
  const Tensor &v = r.eigenvectors;
  Tensor p =
      matmul(matmul(v.mT(where), symmetricPart(a, where), where), v, where);
  Tensor vectors =
      matmul(v, mul(inverseGaps(r.eigenvalues, where), p, where), where);
  return {withGradientOf(r.eigenvalues, diagonalOf(p, where), where),
          withGradientOf(v, vectors, where)};
}

Eig eigWithGradient(const Tensor &a, SourceLoc where) {
  // With W = V^-1 and P = W dA V (complex): dL = diag(P) and
  // dV = V (F o P) + V diag(c), F of the eigenvalues, where c (real) keeps
  // each vector at unit length, LAPACK's normalization:
  // c_j = -Re(v_j^H (V (F o P))_j). The vectors' phase is free, so a
  // function of them has a gradient only where it does not depend on it
  // (|v|, as PyTorch requires).
  Eig r = eig(a.detach(where), where);
  Complex v{r.vectorsReal, r.vectorsImag};
  Complex w = inverse(v, where);
  Complex p =
      product({matmul(w.re, a, where), matmul(w.im, a, where)}, v, where);
  // 1 / (l_j - l_i) = conj(gap) / |gap|^2, 0 on the diagonal.
  Tensor gapRe = sub(r.valuesReal.unsqueeze(-2, where),
                     r.valuesReal.unsqueeze(-1, where), where);
  Tensor gapIm = sub(r.valuesImag.unsqueeze(-2, where),
                     r.valuesImag.unsqueeze(-1, where), where);
  Tensor identity = eye(a.size(-1), std::nullopt, a.dtype());
  Tensor norm =
      add(add(mul(gapRe, gapRe, where), mul(gapIm, gapIm, where), where),
          identity, where);
  Complex f{div(gapRe, norm, where), neg(div(gapIm, norm, where), where)};
  Complex turn = product(v, elementwiseProduct(f, p, where), where);
  Tensor stretch =
      neg(sum(add(mul(v.re, turn.re, where), mul(v.im, turn.im, where), where),
              {-2}, true, where),
          where);
  return {withGradientOf(r.valuesReal, diagonalOf(p.re, where), where),
          withGradientOf(r.valuesImag, diagonalOf(p.im, where), where),
          withGradientOf(r.vectorsReal,
                         add(turn.re, mul(v.re, stretch, where), where), where),
          withGradientOf(r.vectorsImag,
                         add(turn.im, mul(v.im, stretch, where), where),
                         where)};
}

SVD svdWithGradient(const Tensor &a, bool fullMatrices, SourceLoc where) {
  std::int64_t m = a.size(-2), n = a.size(-1), k = std::min(m, n);
  if (fullMatrices && m != n)
    fail<ValueError>(where, "linalg.svd",
                     "pass fullMatrices=false, or compute it on detach()ed "
                     "inputs",
                     "the full u and vh of a matrix of shape {} have no "
                     "gradient: their last {} columns are any orthonormal "
                     "completion",
                     formatShape(a.shape()), std::max(m, n) - k);
  // P = U^T dA V (k x k), F of the squared singular values:
  //   dS = diag(P),
  //   dU = U (F o (P S + S P^T)) + (I - U U^T) dA V S^-1,
  //   dV = V (F o (S P + P^T S)) + (I - V V^T) dA^T U S^-1.
  SVD r = svd(a.detach(where), false, where);
  Tensor u = r.u, v = r.vh.mT(where);
  Tensor p = matmul(matmul(u.mT(where), a, where), v, where);
  Tensor f = inverseGaps(mul(r.s, r.s, where), where);
  Tensor row = r.s.unsqueeze(-2, where), column = r.s.unsqueeze(-1, where);
  Tensor pT = p.mT(where);
  Tensor uTangent = matmul(
      u, mul(f, add(mul(p, row, where), mul(column, pT, where), where), where),
      where);
  if (m > k)
    uTangent = add(
        uTangent,
        div(sub(matmul(a, v, where), matmul(u, p, where), where), row, where),
        where);
  Tensor vTangent = matmul(
      v, mul(f, add(mul(column, p, where), mul(pT, row, where), where), where),
      where);
  if (n > k)
    vTangent =
        add(vTangent,
            div(sub(matmul(a.mT(where), u, where), matmul(v, pT, where), where),
                row, where),
            where);
  return {withGradientOf(u, uTangent, where),
          withGradientOf(r.s, diagonalOf(p, where), where),
          withGradientOf(r.vh, vTangent.mT(where), where)};
}

Tensor svdvalsWithGradient(const Tensor &a, SourceLoc where) {
  SVD r = svd(a.detach(where), false, where);
  return withGradientOf(r.s, singularValuesTangent(a, r, where), where);
}

Lstsq lstsqWithGradient(const Tensor &a, const Tensor &b,
                        std::optional<double> rcond, bool vector,
                        SourceLoc where) {
  // The solution is pinv(A) B (gelsd's minimum-norm solution, with the same
  // cutoff): dX = dpinv(A) B + pinv(A) dB. The squared residuals
  // |A X - B|^2 change by 2 <A X - B, dA X - dB> (A^T (A X - B) = 0).
  Tensor constant = a.detach(where);
  Lstsq r = lstsq(constant, b.detach(where), rcond, where);
  auto column = [&](const Tensor &t) {
    return vector ? t.unsqueeze(-1, where) : t;
  };
  auto unColumn = [&](const Tensor &t) {
    return vector ? t.squeeze(-1, where) : t;
  };
  Tensor p = pinv(constant, rcond, where);
  Tensor bConstant = column(b.detach(where)), x = column(r.solution);
  Tensor solution =
      add(matmul(pinvTangent(a, constant, p, where), bConstant, where),
          matmul(p, column(b), where), where);
  Tensor residuals = r.residuals;
  if (residuals.numel() > 0) {
    Tensor misfit = sub(matmul(constant, x, where), bConstant, where);
    Tensor change = sub(matmul(a, x, where), column(b), where);
    residuals = withGradientOf(
        residuals,
        unColumn(mul(sum(mul(misfit, change, where), {-2}, false, where),
                     Scalar(2.0), where)),
        where);
  }
  Tensor singular = withGradientOf(
      r.singularValues,
      singularValuesTangent(a, svd(constant, false, where), where), where);
  return {withGradientOf(r.solution, unColumn(solution), where), residuals,
          r.rank, singular};
}

Tensor pinvWithGradient(const Tensor &a, std::optional<double> rtol,
                        SourceLoc where) {
  Tensor constant = a.detach(where);
  Tensor p = pinv(constant, rtol, where);
  return withGradientOf(p, pinvTangent(a, constant, p, where), where);
}

} // namespace linalg
} // namespace trueno
