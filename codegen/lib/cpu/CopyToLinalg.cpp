//===- CopyToLinalg.cpp - memref.copy as a loop nest ----------------------===//
//
// trueno-copy-to-linalg: see Passes.td. Every copy in a kernel becomes a
// linalg.copy, so no copy ever needs a runtime library.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Cpu/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_COPYTOLINALG
#include "trueno/Codegen/Cpu/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {
struct CopyAsLinalg : public OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::CopyOp copy,
                                PatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, copy.getSource(),
                                                copy.getTarget());
    return success();
  }
};

struct CopyToLinalgPass
    : public mlir::trueno::impl::CopyToLinalgBase<CopyToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<CopyAsLinalg>(&getContext());
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
