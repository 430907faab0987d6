//===- SplitReductions.cpp - Whole-tensor reductions across the cores -----===//
//
// A reduction with no parallel dimension (a whole-tensor sum) would run on
// one core. Splitting its reduction dimension N into P x N/P partial
// reductions gives a parallel outer loop (P chunks, one per OpenMP work
// item) and a tiny final reduction of the P partial results. Uses MLIR's
// linalg::splitReduction; only sizes that P divides are split.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_SPLITREDUCTIONS
#include "trueno/Codegen/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {
struct SplitReductionsPass
    : public mlir::trueno::impl::SplitReductionsBase<SplitReductionsPass> {
  using SplitReductionsBase::SplitReductionsBase;

  void runOnOperation() override {
    int64_t minimum = minElements;
    linalg::ControlSplitReductionFn control =
        [minimum](linalg::LinalgOp op) -> linalg::SplitReductionOptions {
      if (op.getNumParallelLoops() != 0 || op.getNumReductionLoops() != 1)
        return {};
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      int64_t n = ranges.front();
      if (ShapedType::isDynamic(n) || n < minimum)
        return {};
      for (int64_t chunks : {64, 48, 32, 16, 8})
        if (n % chunks == 0)
          return {chunks, 0, /*innerParallel=*/false};
      return {};
    };
    RewritePatternSet patterns(&getContext());
    linalg::populateSplitReductionPattern(patterns, control);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
