//===- Passes.h - Graph-level passes on the trueno dialect ------*- C++ -*-===//
#ifndef TRUENO_PASSES_PASSES_H
#define TRUENO_PASSES_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "trueno/IR/TruenoDialect.h"

#include "llvm/ADT/StringRef.h"

namespace mlir::trueno {

#define GEN_PASS_DECL
#include "trueno/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "trueno/Passes/Passes.h.inc"

/// The graph pipeline that runs before codegen: canonicalize and CSE the
/// recorded graph, then partition it into kernels.
inline constexpr llvm::StringLiteral kGraphPipeline =
    "canonicalize,cse,trueno-form-kernels";

/// Registers the passes above and the `trueno-graph-pipeline` pipeline.
void registerGraphPasses();

} // namespace mlir::trueno

#endif // TRUENO_PASSES_PASSES_H
