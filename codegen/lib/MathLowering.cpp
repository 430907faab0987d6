//===- MathLowering.cpp - How math ops reach machine code
//------------------===//
//
// trueno-math-polynomial: MLIR 19 has the approximation patterns but no
// public pass; this is that pass. trueno-math-to-libm: libm calls for only
// the ops that LLVM intrinsics would get wrong or cannot express.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Passes.h"

#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_MATHPOLYNOMIAL
#define GEN_PASS_DEF_MATHTOLIBM
#include "trueno/Codegen/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {
struct MathPolynomialPass
    : public mlir::trueno::impl::MathPolynomialBase<MathPolynomialPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

struct MathToLibmPass
    : public mlir::trueno::impl::MathToLibmBase<MathToLibmPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    populateMathToLibmConversionPatterns(patterns);
    ConversionTarget target(*context);
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    target.addIllegalOp<math::ExpM1Op, math::Log1pOp, math::ErfOp, math::TanOp,
                        math::TanhOp, math::AtanOp, math::Atan2Op>();
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
