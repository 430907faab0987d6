//===- Loops.h - Loops and reductions the CPU and Vulkan pipelines share ===//
#ifndef TRUENO_CODEGEN_LOOPS_H
#define TRUENO_CODEGEN_LOOPS_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributeInterfaces.h"

#include <optional>

namespace mlir::trueno {

/// The op C of a reduction's body (a linalg op's, whose last argument is
/// the output element) that yields C(value, out) or C(out, value), `out`
/// used by C alone, if C combines partial results in any order (add,
/// multiply, maximum, minimum, bitwise and/or/xor); else null. What a
/// reduction split into partial ones may be (trueno-split-reductions,
/// trueno-workgroup-reductions, -split-narrow-reductions).
Operation *reductionCombiner(Block &body);

/// What a partial result of a reduction combined by `combiner` (its
/// reductionCombiner) starts from, when
/// the reduction is split into partial ones: the combiner's neutral
/// element, except for maxnumf and minnumf, whose neutral element is NaN:
/// over values proven not NaN (fastmath<nnan>, softmax's maximum) the CPU
/// lowers them to a vmaxps that keeps the NaN it started from, and a
/// [1, 65536] softmax was NaN throughout. They start from -inf and +inf.
std::optional<TypedAttr> partialReductionStart(Operation *combiner);

/// Replaces a reduction-free scf.parallel by the equivalent scf.for nest
/// (one loop per dimension, outermost first), and erases it.
void serializeParallelLoop(scf::ParallelOp loop);

} // namespace mlir::trueno

#endif // TRUENO_CODEGEN_LOOPS_H
