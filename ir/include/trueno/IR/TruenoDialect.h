//===- TruenoDialect.h - The trueno dialect ---------------------*- C++ -*-===//
#ifndef TRUENO_IR_TRUENODIALECT_H
#define TRUENO_IR_TRUENODIALECT_H

#include "mlir/IR/Dialect.h"

#include "trueno/IR/TruenoOpsDialect.h.inc"

#include "llvm/ADT/StringRef.h"

namespace mlir::trueno {
/// Marks a function outlined by trueno-form-kernels: one kernel.
inline constexpr llvm::StringLiteral kKernelAttrName = "trueno.kernel";
/// On a function argument (`array<i64: ...>`): the strides, in elements, of
/// the view the kernel reads that input through (a transpose, a slice with
/// steps, a broadcast with zero strides). Absent for contiguous inputs.
inline constexpr llvm::StringLiteral kStridesAttrName = "trueno.strides";
} // namespace mlir::trueno

#endif // TRUENO_IR_TRUENODIALECT_H
