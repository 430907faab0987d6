//===- Autograd.h - IR-level reverse-mode differentiation -------*- C++ -*-===//
//
// The gradient rule of every differentiable trueno op (GradientRules.cpp),
// attached to the ops as external models of GradientOpInterface, and the
// `trueno-reverse-mode` pass that expands `trueno.gradient` ops with them
// (ReverseMode.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_AUTOGRAD_AUTOGRAD_H
#define TRUENO_AUTOGRAD_AUTOGRAD_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/Pass.h"
#include "trueno/IR/TruenoDialect.h"

namespace mlir::trueno {

#define GEN_PASS_DECL
#include "trueno/Autograd/Passes.h.inc"
#define GEN_PASS_REGISTRATION
#include "trueno/Autograd/Passes.h.inc"

/// Attaches each differentiable trueno op's gradient rule
/// (GradientOpInterface) when the trueno dialect is loaded.
void registerGradientRules(DialectRegistry &registry);

} // namespace mlir::trueno

#endif // TRUENO_AUTOGRAD_AUTOGRAD_H
