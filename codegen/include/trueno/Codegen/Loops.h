//===- Loops.h - Loop rewrites the CPU and Vulkan pipelines share -*- C++
//-*-===//
#ifndef TRUENO_CODEGEN_LOOPS_H
#define TRUENO_CODEGEN_LOOPS_H

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinAttributeInterfaces.h"

#include <optional>

namespace mlir::trueno {

/// What a partial result of a reduction combined by `combiner` (the op of
/// its body that combines the element with the output) starts from, when
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
