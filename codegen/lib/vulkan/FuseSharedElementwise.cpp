//===- FuseSharedElementwise.cpp - Recompute rather than store ------------===//
//
// trueno-fuse-shared-elementwise: see Passes.td. The patterns are MLIR's
// elementwise fusion; only the decision differs: a producer with several
// readers is fused into all of them, where linalg-fuse-elementwise-ops
// fuses a producer with one reader only. The body-size bound keeps
// recomputation from growing without limit through chains of shared
// producers.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_FUSESHAREDELEMENTWISE
#include "trueno/Codegen/Vulkan/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// Whether every use of `value` is an input (not the init) of a
/// linalg.generic: fused into all of them, its producer is then dead.
bool readByGenericsOnly(Value value) {
  return llvm::all_of(value.getUses(), [](OpOperand &use) {
    auto generic = dyn_cast<linalg::GenericOp>(use.getOwner());
    return generic && generic.isDpsInput(&use);
  });
}

struct FuseSharedElementwisePass
    : public mlir::trueno::impl::FuseSharedElementwiseBase<
          FuseSharedElementwisePass> {
  using FuseSharedElementwiseBase::FuseSharedElementwiseBase;

  void runOnOperation() override {
    int64_t limit = maxOps;
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, [limit](
                                                               OpOperand *use) {
      auto producer = use->get().getDefiningOp<linalg::GenericOp>();
      if (!producer)
        return false;
      if (producer->hasOneUse())
        return true;
      // A consumer that reads the producer through several operands (at
      // several offsets: a max pool's window) while others read it too
      // keeps it: the rewrite did not converge (the second derivative of a
      // 3x3 max pool, whose window is 9 slices of one value, never
      // compiled). Read by that consumer alone, it is fused through each
      // operand in turn and disappears.
      Operation *consumer = use->getOwner();
      bool severalOperands =
          llvm::count_if(consumer->getOperands(),
                         [&](Value v) { return v == use->get(); }) > 1;
      bool otherReaders =
          llvm::any_of(producer->getUsers(),
                       [&](Operation *user) { return user != consumer; });
      if (severalOperands && otherReaders)
        return false;
      return producer.getNumResults() == 1 &&
             producer.getNumReductionLoops() == 0 &&
             static_cast<int64_t>(producer.getBody()->getOperations().size()) <=
                 limit &&
             readByGenericsOnly(producer->getResult(0));
    });
    // A producer fused into a consumer that already read the producer's own
    // inputs leaves those values read through two operands; fused again,
    // four... Deduplicating the operands (GenericOp's canonicalization)
    // between fusions keeps that linear: without it, the second derivative
    // of a 3x3 max pool (a chain of 8 selects, each read by the next twice)
    // did not compile in minutes.
    linalg::GenericOp::getCanonicalizationPatterns(patterns, &getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
