//===- Passes.h - Graph-level passes on the trueno dialect ------*- C++ -*-===//
#ifndef TRUENO_PASSES_PASSES_H
#define TRUENO_PASSES_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "trueno/IR/TruenoDialect.h"

#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::trueno {

#define GEN_PASS_DECL
#include "trueno/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "trueno/Passes/Passes.h.inc"

/// The graph pipeline that runs before codegen: expand the recorded graph's
/// trueno.gradient ops (autograd/'s trueno-reverse-mode, first, so that no
/// folding merges values a gradient tells apart), canonicalize and CSE it,
/// then partition it into kernels, row fusion taking rows
/// of at most `rowFusionBytes` (the target's; trueno-opt's
/// `trueno-graph-pipeline` uses the pass's default).
std::string graphPipeline(int64_t rowFusionBytes, int64_t maxBuffers = 0,
                          bool widenIntoProducts = false);

/// Registers the passes above and the `trueno-graph-pipeline` pipeline.
void registerGraphPasses();

} // namespace mlir::trueno

#endif // TRUENO_PASSES_PASSES_H
