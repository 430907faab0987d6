//===- LapackGradients.cpp - Gradients of the ops LAPACK computes ---------===//
//
// Each op's result is its eager value plus its forward-mode derivative
// applied to dA = changeOf(A), zero with A's derivative (the escape hatch of
// tensor/TensorImpl.h). The factors the derivative multiplies by come from
// the op itself on HatchFactors::input(A), so that second derivatives are
// exact. The formulas are the standard ones PyTorch's FunctionsManual.cpp
// implements (Giles 2008; Murray 2016 for cholesky; Townsend 2016 for the
// SVD; Golub and Pereyra 1973 for pinv). Their first and second derivatives
// match torch.autograd's in tests/e2e/test_grads_vs_torch.py.
//
//===----------------------------------------------------------------------===//
#include "LapackGradients.h"

#include "tensor/TensorImpl.h"
#include "trueno/Autograd.h"
#include "trueno/Core/Check.h"
#include "trueno/Indexing.h"
#include "trueno/Ops.h"

#include <cmath>
#include <limits>

namespace trueno {

namespace linalg {

using detail::changeOf;
using detail::fail;
using detail::HatchFactors;
using detail::valuePlusChange;

namespace {

/// (A + A^T) / 2: the eigh and cholesky gradients are those of the
/// symmetric part, as PyTorch's, although LAPACK reads one triangle.
Tensor symmetricPart(const Tensor &a, SourceLoc where) {
  return mul(add(a, a.mT(where), where), Scalar(0.5), where);
}

/// 1 / x, and 0 where |x| is below the square root of the dtype's smallest
/// normal number (0 included): a pair of equal eigen- or singular values,
/// or a zero singular value, leaves its term out. The vectors are not
/// unique there and the gradient is not defined (PyTorch's is infinite or
/// NaN); leaving the term out keeps the result's value finite (the change,
/// zero, is added to it), and 1 / x below 1e19 in float32 keeps the
/// derivative's 1 / x^2 finite too.
Tensor reciprocalOrZero(const Tensor &x, SourceLoc where) {
  double tiny = x.dtype() == DType::Float32
                    ? std::sqrt(std::numeric_limits<float>::min())
                    : std::sqrt(std::numeric_limits<double>::min());
  Tensor zero = le(abs(x, where), tiny, where);
  return trueno::where(
      zero, 0.0, div(1.0, trueno::where(zero, 1.0, x, where), where), where);
}

/// F[i][j] = 1 / (d_j - d_i) off the diagonal, 0 on it, for a (..., n)
/// vector d: how much the change of value i's vector turns towards vector j.
Tensor inverseGaps(const Tensor &d, SourceLoc where) {
  return reciprocalOrZero(
      sub(d.unsqueeze(-2, where), d.unsqueeze(-1, where), where), where);
}

Tensor diagonalOf(const Tensor &m, SourceLoc where) {
  return diagonal(m, 0, -2, -1, where);
}

/// Column vectors for a vector right side (solve, lstsq).
Tensor asColumn(const Tensor &t, bool vector, SourceLoc where) {
  return vector ? t.unsqueeze(-1, where) : t;
}
Tensor fromColumn(const Tensor &t, bool vector, SourceLoc where) {
  return vector ? t.squeeze(-1, where) : t;
}

/// The change of pinv(A) = P for a change dA of constant rank:
///   -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P.
Tensor pinvChange(const Tensor &da, const Tensor &a, const Tensor &p,
                  SourceLoc where) {
  std::int64_t m = a.size(-2), n = a.size(-1);
  Tensor rowsLeft = sub(eye(m, std::nullopt, p.dtype()), matmul(a, p, where),
                        where); // I - A P
  Tensor columnsLeft = sub(eye(n, std::nullopt, p.dtype()), matmul(p, a, where),
                           where); // I - P A
  Tensor daT = da.mT(where);
  Tensor first = neg(matmul(matmul(p, da, where), p, where), where);
  Tensor second = matmul(matmul(matmul(p, p.mT(where), where), daT, where),
                         rowsLeft, where);
  Tensor third = matmul(matmul(columnsLeft, daT, where),
                        matmul(p.mT(where), p, where), where);
  return add(add(first, second, where), third, where);
}

/// The singular values' change diag(U^T dA V), for a's reduced SVD.
Tensor singularValuesChange(const Tensor &da, const SVD &r, SourceLoc where) {
  return diagonalOf(
      matmul(matmul(r.u.mT(where), da, where), r.vh.mT(where), where), where);
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
  HatchFactors factors;
  Tensor fa = factors.input(a, where);
  Tensor x = solve(fa, factors.input(b, where), where);
  Tensor y = inv(fa, where);
  Tensor change = matmul(
      y,
      sub(asColumn(changeOf(b, where), vector, where),
          matmul(changeOf(a, where), asColumn(x, vector, where), where), where),
      where);
  return valuePlusChange(x, fromColumn(change, vector, where), where);
}

Tensor invWithGradient(const Tensor &a, SourceLoc where) {
  // d(A^-1) = -A^-1 dA A^-1.
  HatchFactors factors;
  Tensor y = inv(factors.input(a, where), where);
  return valuePlusChange(
      y, neg(matmul(matmul(y, changeOf(a, where), where), y, where), where),
      where);
}

SignLogAbsDet slogdetWithGradient(const Tensor &a, SourceLoc where) {
  // d log|det A| = tr(A^-1 dA); the sign has no gradient.
  HatchFactors factors;
  Tensor fa = factors.input(a, where);
  SignLogAbsDet r = slogdet(fa, where);
  Tensor y = inv(fa, where);
  Tensor change =
      sum(mul(y.mT(where), changeOf(a, where), where), {-2, -1}, false, where);
  return {r.sign.detach(where), valuePlusChange(r.logabsdet, change, where)};
}

Tensor detWithGradient(const Tensor &a, SourceLoc where) {
  // d det A = det A tr(A^-1 dA) (a singular A: inv's LinAlgError).
  HatchFactors factors;
  Tensor fa = factors.input(a, where);
  Tensor d = det(fa, where);
  Tensor y = inv(fa, where);
  Tensor change = mul(
      d,
      sum(mul(y.mT(where), changeOf(a, where), where), {-2, -1}, false, where),
      where);
  return valuePlusChange(d, change, where);
}

Tensor choleskyWithGradient(const Tensor &a, bool upper, SourceLoc where) {
  // dL = L phi(L^-1 sym(dA) L^-T), phi(X) = tril(X, -1) + diag(X) / 2.
  HatchFactors factors;
  Tensor l = cholesky(factors.input(a, where), false, where);
  Tensor lInverse = inv(l, where);
  Tensor x =
      matmul(matmul(lInverse, symmetricPart(changeOf(a, where), where), where),
             lInverse.mT(where), where);
  std::int64_t n = a.size(-1);
  Tensor halfDiagonal =
      mul(eye(n, std::nullopt, x.dtype()), Scalar(0.5), where);
  Tensor phi = add(tril(x, -1, where), mul(x, halfDiagonal, where), where);
  Tensor change = matmul(l, phi, where);
  return upper ? valuePlusChange(l.mT(where), change.mT(where), where)
               : valuePlusChange(l, change, where);
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
  HatchFactors factors;
  Tensor fa = factors.input(a, where);
  QR r = qr(fa, QrMode::Reduced, where);
  // With A = [X Y], X square (or all of a tall A) and R = [R1 R2]:
  //   B = Q^T dX R1^-1, Omega = L - L^T for L = tril(B, -1),
  //   dQ = Q Omega + (I - Q Q^T) dX R1^-1, dR1 = (B - Omega) R1,
  //   dR2 = dQ^T Y + Q^T dY.
  // pinv with no cutoff but exact zeros stands for R1^-1, so that a
  // rank-deficient A (a singular R1) still has its factors (its gradient is
  // not defined) while an ill-conditioned one keeps every direction.
  std::int64_t k = std::min(m, n);
  Tensor da = changeOf(a, where);
  Tensor dx = m >= n ? da : da.narrow(-1, 0, m, where);
  Tensor r1 = m >= n ? r.r : r.r.narrow(-1, 0, m, where);
  Tensor r1Inverse = pinv(r1, 0.0, where);
  Tensor b = matmul(matmul(r.q.mT(where), dx, where), r1Inverse, where);
  Tensor lower = tril(b, -1, where);
  Tensor omega = sub(lower, lower.mT(where), where);
  Tensor dq = matmul(r.q, omega, where);
  if (m > k)
    dq =
        add(dq,
            matmul(sub(dx, matmul(r.q, matmul(r.q.mT(where), dx, where), where),
                       where),
                   r1Inverse, where),
            where);
  Tensor dr = matmul(sub(b, omega, where), r1, where);
  if (n > k) {
    Tensor dr2 = add(
        matmul(dq.mT(where), fa.narrow(-1, m, n - m, where), where),
        matmul(r.q.mT(where), da.narrow(-1, m, n - m, where), where), where);
    dr = cat({dr, dr2}, -1, where);
  }
  Tensor rOut = valuePlusChange(r.r, dr, where);
  if (mode == QrMode::R)
    return {Tensor(zeros({0}, TensorOptions(a.dtype()))), rOut};
  return {valuePlusChange(r.q, dq, where), rOut};
}

Eigh eighWithGradient(const Tensor &a, bool upper, SourceLoc where) {
  // P = V^T sym(dA) V: dL = diag(P), dV = V (F o P) for F of the
  // eigenvalues.
  HatchFactors factors;
  Eigh r = eigh(factors.input(a, where), upper, where);
  const Tensor &v = r.eigenvectors;
  Tensor p = matmul(
      matmul(v.mT(where), symmetricPart(changeOf(a, where), where), where), v,
      where);
  Tensor dv =
      matmul(v, mul(inverseGaps(r.eigenvalues, where), p, where), where);
  return {valuePlusChange(r.eigenvalues, diagonalOf(p, where), where),
          valuePlusChange(v, dv, where)};
}

Eig eigWithGradient(const Tensor &a, SourceLoc where) {
  // With W = V^-1 and P = W dA V (complex): dL = diag(P) and
  // dV = V (F o P) + V diag(c), F of the eigenvalues, where c (real) keeps
  // each vector at unit length, LAPACK's normalization:
  // c_j = -Re(v_j^H (V (F o P))_j). The vectors' phase is free, so a
  // function of them has a gradient only where it does not depend on it
  // (|v|, as PyTorch requires).
  HatchFactors factors;
  Eig r = eig(factors.input(a, where), where);
  Complex v{r.vectorsReal, r.vectorsImag};
  Complex w = inverse(v, where);
  Tensor da = changeOf(a, where);
  Complex p =
      product({matmul(w.re, da, where), matmul(w.im, da, where)}, v, where);
  // 1 / (l_j - l_i) = conj(gap) / |gap|^2, 0 for equal values.
  Tensor gapRe = sub(r.valuesReal.unsqueeze(-2, where),
                     r.valuesReal.unsqueeze(-1, where), where);
  Tensor gapIm = sub(r.valuesImag.unsqueeze(-2, where),
                     r.valuesImag.unsqueeze(-1, where), where);
  Tensor inverseNorm = reciprocalOrZero(
      add(mul(gapRe, gapRe, where), mul(gapIm, gapIm, where), where), where);
  Complex f{mul(gapRe, inverseNorm, where),
            neg(mul(gapIm, inverseNorm, where), where)};
  Complex turn = product(v, elementwiseProduct(f, p, where), where);
  Tensor stretch =
      neg(sum(add(mul(v.re, turn.re, where), mul(v.im, turn.im, where), where),
              {-2}, true, where),
          where);
  return {
      valuePlusChange(r.valuesReal, diagonalOf(p.re, where), where),
      valuePlusChange(r.valuesImag, diagonalOf(p.im, where), where),
      valuePlusChange(r.vectorsReal,
                      add(turn.re, mul(v.re, stretch, where), where), where),
      valuePlusChange(r.vectorsImag,
                      add(turn.im, mul(v.im, stretch, where), where), where)};
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
  HatchFactors factors;
  SVD r = svd(factors.input(a, where), false, where);
  Tensor da = changeOf(a, where);
  Tensor u = r.u, v = r.vh.mT(where);
  Tensor p = matmul(matmul(u.mT(where), da, where), v, where);
  Tensor f = inverseGaps(mul(r.s, r.s, where), where);
  Tensor row = r.s.unsqueeze(-2, where), column = r.s.unsqueeze(-1, where);
  Tensor inverseRow = reciprocalOrZero(row, where);
  Tensor pT = p.mT(where);
  Tensor du = matmul(
      u, mul(f, add(mul(p, row, where), mul(column, pT, where), where), where),
      where);
  if (m > k)
    du = add(du,
             mul(sub(matmul(da, v, where), matmul(u, p, where), where),
                 inverseRow, where),
             where);
  Tensor dv = matmul(
      v, mul(f, add(mul(column, p, where), mul(pT, row, where), where), where),
      where);
  if (n > k)
    dv = add(
        dv,
        mul(sub(matmul(da.mT(where), u, where), matmul(v, pT, where), where),
            inverseRow, where),
        where);
  return {valuePlusChange(u, du, where),
          valuePlusChange(r.s, diagonalOf(p, where), where),
          valuePlusChange(r.vh, dv.mT(where), where)};
}

Tensor svdvalsWithGradient(const Tensor &a, SourceLoc where) {
  HatchFactors factors;
  SVD r = svd(factors.input(a, where), false, where);
  return valuePlusChange(
      r.s, singularValuesChange(changeOf(a, where), r, where), where);
}

Lstsq lstsqWithGradient(const Tensor &a, const Tensor &b,
                        std::optional<double> rcond, bool vector,
                        SourceLoc where) {
  // The solution is pinv(A) B (gelsd's minimum-norm solution, with the same
  // cutoff): dX = dpinv(A) B + pinv(A) dB. The squared residuals
  // |A X - B|^2 change by 2 <A X - B, dA X - dB> (A^T (A X - B) = 0).
  HatchFactors factors;
  Tensor fa = factors.input(a, where), fbInput = factors.input(b, where);
  Tensor fb = asColumn(fbInput, vector, where);
  Lstsq r = lstsq(fa, fbInput, rcond, where);
  // pinv with gelsd's cutoff: rcond, machine epsilon for a negative one,
  // else epsilon * max(m, n), in the result's dtype.
  double eps = r.solution.dtype() == DType::Float32
                   ? std::numeric_limits<float>::epsilon()
                   : std::numeric_limits<double>::epsilon();
  double cutoff =
      rcond ? (*rcond < 0 ? eps : *rcond)
            : eps * static_cast<double>(std::max(a.size(-2), a.size(-1)));
  Tensor p = pinv(fa, cutoff, where);
  Tensor da = changeOf(a, where);
  Tensor db = asColumn(changeOf(b, where), vector, where);
  Tensor x = asColumn(r.solution, vector, where);
  Tensor dx = add(matmul(pinvChange(da, fa, p, where), fb, where),
                  matmul(p, db, where), where);
  Tensor residuals = r.residuals;
  if (residuals.numel() > 0) {
    Tensor misfit = sub(matmul(fa, x, where), fb, where);
    Tensor change = sub(matmul(da, x, where), db, where);
    Tensor dr = mul(sum(mul(misfit, change, where), {-2}, false, where),
                    Scalar(2.0), where);
    residuals =
        valuePlusChange(residuals, fromColumn(dr, vector, where), where);
  }
  Tensor singular = valuePlusChange(
      r.singularValues, singularValuesChange(da, svd(fa, false, where), where),
      where);
  return {valuePlusChange(r.solution, fromColumn(dx, vector, where), where),
          residuals, r.rank, singular};
}

Tensor pinvWithGradient(const Tensor &a, std::optional<double> rtol,
                        SourceLoc where) {
  HatchFactors factors;
  Tensor fa = factors.input(a, where);
  Tensor p = pinv(fa, rtol, where);
  return valuePlusChange(p, pinvChange(changeOf(a, where), fa, p, where),
                         where);
}

} // namespace linalg
} // namespace trueno
