//===- ScalarRecipes.h - What one element of each op computes ---*- C++ -*-===//
//
// The scalar semantics of the trueno dialect, in arith and math: the body
// of each elementwise op, and each reduction's identity and combiner. They
// are the contract with the frontend (NumPy's and PyTorch's results,
// docs/DTYPES.md) and do not depend on how loops are formed, so every
// lowering uses them: convert-trueno-to-linalg today, the SPIR-V path for
// Vulkan with its own `ScalarTarget`.
//
// Values are signless: ui8 arrives as i8, and the original element types
// (read from the op) choose unsigned arithmetic. float16 and bfloat16
// compute in float32 and round once.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_CODEGEN_SCALARRECIPES_H
#define TRUENO_CODEGEN_SCALARRECIPES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"
#include "mlir/Support/LogicalResult.h"

namespace mlir::trueno {

/// What the target computes natively, where a recipe depends on it.
struct ScalarTarget {
  /// float64 arithmetic and libm: float32 sin and cos then go through
  /// float64 (exact range reduction for any argument). Without it they use
  /// the float32 polynomial, 1e-5 off at |x| = 100.
  bool float64 = true;
};

/// float16 or bfloat16 (computed in float32).
bool isLowFloat(Type type);
/// ui8 or bool (i1): compared, divided and extended as unsigned.
bool isUnsignedInt(Type type);

/// The value of elementwise op `op` for one element whose operands are
/// `args` (signless, in operand order); fails when `op` is not an
/// elementwise trueno op of trueno/OpTable.def.
FailureOr<Value> buildScalarRecipe(OpBuilder &b, Location loc, Operation *op,
                                   ValueRange args,
                                   const ScalarTarget &target = {});

/// The reductions' combiners.
enum class ReduceKind { Sum, Prod, Max, Min };

/// The identity of `kind` for element type `original` (before ui8 became
/// i8), as a constant of the signless type `type`.
Value reductionIdentity(OpBuilder &b, Location loc, ReduceKind kind,
                        Type original, Type type);

/// `acc` combined with `x` for a reduction of `kind`. `noNaN`: x is never
/// NaN, so a maximum or minimum need not propagate NaN.
Value reductionCombine(OpBuilder &b, Location loc, ReduceKind kind,
                       Type original, Value x, Value acc, bool noNaN = false);

} // namespace mlir::trueno

#endif // TRUENO_CODEGEN_SCALARRECIPES_H
