//===- Loops.cpp - Loops and reductions the CPU and Vulkan pipelines share ===//
#include "trueno/Codegen/Loops.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::trueno {

Operation *reductionCombiner(Block &body) {
  BlockArgument out = body.getArgument(body.getNumArguments() - 1);
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  if (!yield || yield.getNumOperands() != 1)
    return nullptr;
  Operation *combiner = yield.getOperand(0).getDefiningOp();
  if (!combiner || combiner->getBlock() != &body || !out.hasOneUse() ||
      out.getUses().begin()->getOwner() != combiner ||
      !isa<arith::AddFOp, arith::MulFOp, arith::MaximumFOp, arith::MinimumFOp,
           arith::MaxNumFOp, arith::MinNumFOp, arith::AddIOp, arith::MulIOp,
           arith::MaxSIOp, arith::MinSIOp, arith::MaxUIOp, arith::MinUIOp,
           arith::AndIOp, arith::OrIOp, arith::XOrIOp>(combiner))
    return nullptr;
  return combiner;
}

std::optional<TypedAttr> partialReductionStart(Operation *combiner) {
  if (isa<arith::MaxNumFOp, arith::MinNumFOp>(combiner)) {
    auto type = cast<FloatType>(combiner->getResult(0).getType());
    return TypedAttr(FloatAttr::get(
        type, APFloat::getInf(type.getFloatSemantics(),
                              /*Negative=*/isa<arith::MaxNumFOp>(combiner))));
  }
  return arith::getNeutralElement(combiner);
}

void serializeParallelLoop(scf::ParallelOp loop) {
  OpBuilder builder(loop);
  IRMapping mapping;
  for (auto [iv, lb, ub, step] :
       llvm::zip(loop.getInductionVars(), loop.getLowerBound(),
                 loop.getUpperBound(), loop.getStep())) {
    auto inner = builder.create<scf::ForOp>(loop.getLoc(), lb, ub, step);
    mapping.map(iv, inner.getInductionVar());
    builder.setInsertionPointToStart(inner.getBody());
  }
  for (Operation &op : loop.getBody()->without_terminator())
    builder.clone(op, mapping);
  loop.erase();
}

} // namespace mlir::trueno
