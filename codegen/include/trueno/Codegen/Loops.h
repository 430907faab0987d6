//===- Loops.h - Loop rewrites the CPU and Vulkan pipelines share -*- C++
//-*-===//
#ifndef TRUENO_CODEGEN_LOOPS_H
#define TRUENO_CODEGEN_LOOPS_H

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::trueno {

/// Replaces a reduction-free scf.parallel by the equivalent scf.for nest
/// (one loop per dimension, outermost first), and erases it.
void serializeParallelLoop(scf::ParallelOp loop);

} // namespace mlir::trueno

#endif // TRUENO_CODEGEN_LOOPS_H
