//===- LapackGradients.h - Gradients of the ops LAPACK computes -*- C++ -*-===//
//
// LAPACK's results are computed outside the IR, so the reverse-mode pass
// cannot see how they depend on the inputs. Each op here goes through the
// escape hatch of tensor/TensorImpl.h: its eager value plus its
// forward-mode derivative applied to changeOf(input), recorded in the IR
// as ordinary ops, which the compiler differentiates (and fuses with the
// rest of the backward pass) like any others.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_FRONTEND_OPS_LAPACKGRADIENTS_H
#define TRUENO_FRONTEND_OPS_LAPACKGRADIENTS_H

#include "trueno/Linalg.h"

namespace trueno::linalg {

// Internal, not in trueno/Linalg.h: the ops' results with their gradients,
// for inputs that require grad. Lapack.cpp checks the shapes and dtypes
// first.
Tensor solveWithGradient(const Tensor &a, const Tensor &b, bool vector,
                         SourceLoc where);
Tensor invWithGradient(const Tensor &a, SourceLoc where);
SignLogAbsDet slogdetWithGradient(const Tensor &a, SourceLoc where);
Tensor detWithGradient(const Tensor &a, SourceLoc where);
Tensor choleskyWithGradient(const Tensor &a, bool upper, SourceLoc where);
QR qrWithGradient(const Tensor &a, QrMode mode, SourceLoc where);
Eigh eighWithGradient(const Tensor &a, bool upper, SourceLoc where);
Eig eigWithGradient(const Tensor &a, SourceLoc where);
SVD svdWithGradient(const Tensor &a, bool fullMatrices, SourceLoc where);
Tensor svdvalsWithGradient(const Tensor &a, SourceLoc where);
Lstsq lstsqWithGradient(const Tensor &a, const Tensor &b,
                        std::optional<double> rcond, bool vector,
                        SourceLoc where);
Tensor pinvWithGradient(const Tensor &a, std::optional<double> rtol,
                        SourceLoc where);

} // namespace trueno::linalg

#endif // TRUENO_FRONTEND_OPS_LAPACKGRADIENTS_H
