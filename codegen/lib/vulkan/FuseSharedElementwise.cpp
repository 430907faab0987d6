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
      return producer.getNumResults() == 1 &&
             producer.getNumReductionLoops() == 0 &&
             static_cast<int64_t>(producer.getBody()->getOperations().size()) <=
                 limit &&
             readByGenericsOnly(producer->getResult(0));
    });
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
