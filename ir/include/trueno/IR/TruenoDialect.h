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
/// On an op (i32 n): it is in gradient-checkpointing region n. After the
/// gradients are expanded, trueno-reverse-mode recomputes the region for
/// the backward ops that read its values, so its forward values need not
/// be kept until the backward pass runs.
inline constexpr llvm::StringLiteral kRecomputeAttrName = "trueno.recompute";
/// On a recomputed copy of a checkpointed op (i32 n): keeps CSE from
/// merging it back into the forward op it copies.
inline constexpr llvm::StringLiteral kRecomputedAttrName = "trueno.recomputed";
} // namespace mlir::trueno

#endif // TRUENO_IR_TRUENODIALECT_H
