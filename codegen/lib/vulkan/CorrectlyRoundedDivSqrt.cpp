//===- CorrectlyRoundedDivSqrt.cpp - IEEE float32 division and root -------===//
//
// trueno-correctly-rounded-div-sqrt: see Passes.td. Why float64 is enough:
// a float32 quotient or square root of float32 operands is never exactly
// halfway between two float32 values (it would need 25 significant bits,
// and a / b = m, a 25-bit odd m, would make a itself need 25), and its
// distance from such a midpoint is at least about 2^-50 of its magnitude;
// the driver's float64 division and square root are within a few float64
// ulps (2^-52), so rounding them to float32 rounds the exact result.
//
// A Newton step in float32 (the residual as a fused multiply-add) would
// avoid float64, but Vulkan lets a driver compute GLSL's Fma as a multiply
// and an add: lavapipe does, and the step then moved its correctly
// rounded square roots by an ulp.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Builders.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_CORRECTLYROUNDEDDIVSQRT
#include "trueno/Codegen/Vulkan/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

struct CorrectlyRoundedDivSqrtPass
    : public mlir::trueno::impl::CorrectlyRoundedDivSqrtBase<
          CorrectlyRoundedDivSqrtPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation()->walk([&](Operation *op) {
      if (isa<arith::DivFOp, math::SqrtOp>(op) &&
          op->getResult(0).getType().isF32())
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      OpBuilder b(op);
      Location loc = op->getLoc();
      Type f64 = b.getF64Type();
      SmallVector<Value> wide;
      for (Value operand : op->getOperands())
        wide.push_back(b.create<arith::ExtFOp>(loc, f64, operand));
      OperationState state(loc, op->getName());
      state.addOperands(wide);
      state.addTypes(f64);
      state.addAttributes(op->getAttrs());
      Value exact = b.create(state)->getResult(0);
      Value rounded =
          b.create<arith::TruncFOp>(loc, op->getResult(0).getType(), exact);
      op->getResult(0).replaceAllUsesWith(rounded);
      op->erase();
    }
  }
};

} // namespace
