//===- Passes.h - Codegen passes for the host CPU ---------------*- C++ -*-===//
#ifndef TRUENO_CODEGEN_CPU_PASSES_H
#define TRUENO_CODEGEN_CPU_PASSES_H

#include "trueno/Codegen/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"

namespace mlir::trueno {

#define GEN_PASS_DECL
#include "trueno/Codegen/Cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "trueno/Codegen/Cpu/Passes.h.inc"

} // namespace mlir::trueno

#endif // TRUENO_CODEGEN_CPU_PASSES_H
