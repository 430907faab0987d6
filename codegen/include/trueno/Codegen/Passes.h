//===- Passes.h - Codegen passes of Trueno ----------------------*- C++ -*-===//
#ifndef TRUENO_CODEGEN_PASSES_H
#define TRUENO_CODEGEN_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/X86Vector/X86VectorDialect.h"
#include "mlir/Pass/Pass.h"

namespace mlir::trueno {

#define GEN_PASS_DECL
#include "trueno/Codegen/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "trueno/Codegen/Passes.h.inc"

} // namespace mlir::trueno

#endif // TRUENO_CODEGEN_PASSES_H
