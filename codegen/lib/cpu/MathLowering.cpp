//===- MathLowering.cpp - How math ops reach machine code -----------------===//
//
// trueno-math-polynomial: MLIR 19 has the approximation patterns but no
// public pass; this is that pass. trueno-math-to-libm: libm calls for only
// the ops that LLVM intrinsics would get wrong or cannot express.
// trueno-expand-bf16: bfloat16 conversions without a libgcc call.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Cpu/Passes.h"

#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>
#include <numbers>

namespace mlir::trueno {
#define GEN_PASS_DEF_MATHPOLYNOMIAL
#define GEN_PASS_DEF_MATHTOLIBM
#define GEN_PASS_DEF_EXPANDBFLOAT16
#include "trueno/Codegen/Cpu/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// A constant `v` of the float type, or float vector type, `type`.
Value floatConstant(OpBuilder &b, Location loc, Type type, double v) {
  Attribute attr = b.getFloatAttr(getElementTypeOrSelf(type), v);
  if (auto vector = dyn_cast<VectorType>(type))
    attr = DenseElementsAttr::get(vector, attr);
  return b.create<arith::ConstantOp>(loc, type, cast<TypedAttr>(attr));
}

/// MLIR's float32 log and log2 polynomials take the exponent from the bits
/// after clamping x to the smallest normal float, so every subnormal input
/// gave log(FLT_MIN) (log(1e-40f) was -87.34 instead of -92.10). A
/// subnormal x is scaled by 2^24 into the normal range first, and 24 ln 2
/// (or 24) subtracted from the result: one multiply, two selects and an
/// add per element, which vectorize.
void scaleSubnormalLogArguments(Operation *root) {
  SmallVector<Operation *> logs;
  root->walk([&](Operation *op) {
    if (isa<math::LogOp, math::Log2Op>(op) &&
        getElementTypeOrSelf(op->getResult(0).getType()).isF32())
      logs.push_back(op);
  });
  for (Operation *op : logs) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    Value x = op->getOperand(0);
    Type type = x.getType();
    auto splat = [&](double v) { return floatConstant(b, loc, type, v); };
    bool natural = isa<math::LogOp>(op);
    Value subnormal =
        b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x,
                                splat(std::numeric_limits<float>::min()));
    Value scaled = b.create<arith::SelectOp>(
        loc, subnormal, b.create<arith::MulFOp>(loc, x, splat(0x1p24f)), x);
    Value log = natural ? b.create<math::LogOp>(loc, scaled).getResult()
                        : b.create<math::Log2Op>(loc, scaled).getResult();
    Value correction = b.create<arith::SelectOp>(
        loc, subnormal,
        splat(natural ? static_cast<float>(-24.0 * std::numbers::ln2) : -24.0f),
        splat(0.0f));
    op->getResult(0).replaceAllUsesWith(
        b.create<arith::AddFOp>(loc, log, correction));
    op->erase();
  }
}

/// floor, ceil and roundeven of f32/f64 (scalars or vectors) as additions
/// and comparisons: see the pass description.
void roundWithArithmetic(Operation *root) {
  SmallVector<Operation *> ops;
  root->walk([&](Operation *op) {
    if (isa<math::FloorOp, math::CeilOp, math::RoundEvenOp>(op) &&
        isa<Float32Type, Float64Type>(
            getElementTypeOrSelf(op->getResult(0).getType())))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    Value x = op->getOperand(0);
    Type type = x.getType();
    bool f32 = getElementTypeOrSelf(type).isF32();
    auto splat = [&](double v) { return floatConstant(b, loc, type, v); };
    // |x| < 2^23 (2^52): (|x| + 2^23) - 2^23 rounds |x| to the nearest
    // integer, ties to even; larger magnitudes are integers already.
    Value magic = splat(f32 ? 0x1p23 : 0x1p52);
    Value magnitude = b.create<math::AbsFOp>(loc, x);
    Value rounded = b.create<arith::SubFOp>(
        loc, b.create<arith::AddFOp>(loc, magnitude, magic), magic);
    Value small = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT,
                                          magnitude, magic);
    Value r = b.create<arith::SelectOp>(
        loc, small, b.create<math::CopySignOp>(loc, rounded, x), x);
    if (isa<math::FloorOp>(op)) {
      Value over =
          b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, r, x);
      r = b.create<arith::SelectOp>(
          loc, over, b.create<arith::SubFOp>(loc, r, splat(1.0)), r);
    } else if (isa<math::CeilOp>(op)) {
      Value under =
          b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, r, x);
      r = b.create<arith::SelectOp>(
          loc, under, b.create<arith::AddFOp>(loc, r, splat(1.0)), r);
    }
    op->getResult(0).replaceAllUsesWith(r);
    op->erase();
  }
}

/// Each unary `OpT` of `root` whose element type `wanted` accepts, its
/// result replaced where a condition on its operand holds: `pick` builds,
/// after the op, that condition and the value to take there.
template <typename OpT>
void selectAfter(
    Operation *root, function_ref<bool(Type element)> wanted,
    function_ref<std::pair<Value, Value>(OpBuilder &, Location, Value x)>
        pick) {
  SmallVector<OpT> ops;
  root->walk([&](OpT op) {
    if (wanted(getElementTypeOrSelf(op.getType())))
      ops.push_back(op);
  });
  for (OpT op : ops) {
    OpBuilder b(op);
    b.setInsertionPointAfter(op);
    auto [condition, value] = pick(b, op.getLoc(), op.getOperand());
    auto select = b.create<arith::SelectOp>(op.getLoc(), condition, value,
                                            op.getResult());
    op.getResult().replaceAllUsesExcept(select, select);
  }
}

/// float32 tanh of |x| >= 7.99881172 as +-1 (NaN passes). MLIR's rational
/// approximation clamps its argument there and, evaluated with fma, gives
/// exactly +-1; with a separate multiply and add it gives 1 - 2e-7, which
/// gelu's 1 + tanh turns into a visible error for large negative x (and
/// NaN into -inf at x = -inf).
void saturateTanh(Operation *root) {
  selectAfter<math::TanhOp>(
      root, [](Type element) { return element.isF32(); },
      [](OpBuilder &b, Location loc, Value x) -> std::pair<Value, Value> {
        Type type = x.getType();
        Value large = b.create<arith::CmpFOp>(
            loc, arith::CmpFPredicate::OGE, b.create<math::AbsFOp>(loc, x),
            floatConstant(b, loc, type, 7.99881172180175781f));
        Value one = b.create<math::CopySignOp>(
            loc, floatConstant(b, loc, type, 1.0f), x);
        return {large, one};
      });
}

/// 2^x of float32 x >= 128 (float16 x >= 16) as +inf, NaN passing: the
/// first power of two past the type's largest value. lavapipe's exp2
/// (GLSL.std.450 Exp2, which the Vulkan path uses) saturates to the
/// largest finite value there (exp2(128) gave 3.4028235e38); LLVM's own
/// already gives inf, so the select costs the CPU one compare.
void saturateExp2(Operation *root) {
  selectAfter<math::Exp2Op>(
      root, [](Type element) { return element.isF32() || element.isF16(); },
      [](OpBuilder &b, Location loc, Value x) -> std::pair<Value, Value> {
        Type type = x.getType();
        bool half = getElementTypeOrSelf(type).isF16();
        Value past = b.create<arith::CmpFOp>(
            loc, arith::CmpFPredicate::OGE, x,
            floatConstant(b, loc, type, half ? 16.0 : 128.0));
        return {past, floatConstant(b, loc, type,
                                    std::numeric_limits<double>::infinity())};
      });
}

/// Every math.fma as a multiply and an add, for targets without FMA
/// instructions (see the pass description).
void splitFusedMultiplyAdds(Operation *root) {
  SmallVector<math::FmaOp> fmas;
  root->walk([&](math::FmaOp op) { fmas.push_back(op); });
  for (math::FmaOp op : fmas) {
    OpBuilder b(op);
    Value product = b.create<arith::MulFOp>(op.getLoc(), op.getA(), op.getB(),
                                            op.getFastmath());
    op.replaceAllUsesWith(b.create<arith::AddFOp>(op.getLoc(), product,
                                                  op.getC(), op.getFastmath())
                              .getResult());
    op.erase();
  }
}

struct MathPolynomialPass
    : public mlir::trueno::impl::MathPolynomialBase<MathPolynomialPass> {
  using MathPolynomialBase::MathPolynomialBase;

  void runOnOperation() override {
    scaleSubnormalLogArguments(getOperation());
    saturateExp2(getOperation());
    if (!fmaInstructions)
      saturateTanh(getOperation());
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    if (!roundingInstructions)
      roundWithArithmetic(getOperation());
    if (!fmaInstructions)
      splitFusedMultiplyAdds(getOperation());
  }
};

struct ExpandBFloat16Pass
    : public mlir::trueno::impl::ExpandBFloat16Base<ExpandBFloat16Pass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    // Arithmetic left on bf16 (a maximum, a comparison: exact in float32)
    // first goes through float32, so that only conversions remain...
    TypeConverter converter;
    arith::populateEmulateUnsupportedFloatsConversions(
        converter, {BFloat16Type::get(context)}, Float32Type::get(context));
    RewritePatternSet emulation(context);
    arith::populateEmulateUnsupportedFloatsPatterns(emulation, converter);
    ConversionTarget target(*context);
    arith::populateEmulateUnsupportedFloatsLegality(target, converter);
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(emulation))))
      return signalPassFailure();
    // A widening to float64 goes through float32 (exact both ways): the
    // expansion below widens bfloat16 to float32 only, and SPIR-V has no
    // bfloat16 type to convert from.
    getOperation()->walk([](arith::ExtFOp ext) {
      if (!getElementTypeOrSelf(ext.getIn().getType()).isBF16() ||
          getElementTypeOrSelf(ext.getType()).getIntOrFloatBitWidth() <= 32)
        return;
      OpBuilder b(ext);
      Type f32 = b.getF32Type();
      if (auto shaped = dyn_cast<ShapedType>(ext.getIn().getType()))
        f32 = shaped.clone(f32);
      Value wide = b.create<arith::ExtFOp>(ext.getLoc(), f32, ext.getIn());
      ext.getInMutable().assign(wide);
    });
    // ... and those become integer arithmetic on the bits.
    RewritePatternSet patterns(context);
    arith::populateExpandBFloat16Patterns(patterns);
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
