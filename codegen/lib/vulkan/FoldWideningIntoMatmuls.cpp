//===- FoldWideningIntoMatmuls.cpp - Products read their halves directly --===//
//
// trueno-fold-widening-into-matmuls: see Passes.td. linalg.matmul's body
// converts its inputs to the output's type itself, so a product of
// widened halves equals the product of the halves: the widening generics
// become dead, and the product reads half the bytes.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_FOLDWIDENINGINTOMATMULS
#include "trueno/Codegen/Vulkan/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// The float16 or bfloat16 tensor `value` widens exactly to float32: a
/// generic of one input, identity maps, parallel loops, whose body is one
/// arith.extf. Null when `value` is something else.
Value widenedHalf(Value value) {
  auto generic = value.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 || !generic.hasPureTensorSemantics() ||
      generic.getNumReductionLoops() != 0 ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }))
    return {};
  Block &body = generic.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto extend = yield.getValues()[0].getDefiningOp<arith::ExtFOp>();
  if (!extend || &body.front() != extend.getOperation() ||
      extend.getIn() != body.getArgument(0))
    return {};
  Value input = generic.getDpsInputOperand(0)->get();
  Type element = getElementTypeOrSelf(input.getType());
  if (!element.isF16() && !element.isBF16())
    return {};
  return input;
}

struct FoldWideningIntoMatmulsPass
    : public mlir::trueno::impl::FoldWideningIntoMatmulsBase<
          FoldWideningIntoMatmulsPass> {
  using FoldWideningIntoMatmulsBase::FoldWideningIntoMatmulsBase;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> products;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) &&
          op.hasPureTensorSemantics() &&
          getElementTypeOrSelf(op.getDpsInitOperand(0)->get().getType())
              .isF32())
        products.push_back(op);
    });
    for (linalg::LinalgOp op : products) {
      // bfloat16 stays widened: it is stored as i16 and its tiles would be
      // copied element by element (an H100 took 7.7 ms for a 4096 product
      // reading bfloat16 against 4.8 reading the widened float32 4
      // elements a load); with `bfloat16`, not where both inputs are
      // bfloat16 in rows of multiples of 8 (the cooperative kernel's).
      auto bfloat16Rows = [](Value half) {
        auto type =
            dyn_cast_or_null<RankedTensorType>(half ? half.getType() : Type());
        return type && type.getElementType().isBF16() &&
               !type.isDynamicDim(type.getRank() - 1) &&
               type.getShape().back() % 8 == 0;
      };
      SmallVector<Value> halves;
      for (OpOperand *input : op.getDpsInputOperands())
        halves.push_back(widenedHalf(input->get()));
      const bool foldBFloat16 = bfloat16 && llvm::all_of(halves, bfloat16Rows);
      SmallVector<Value> inputs;
      SmallVector<Operation *> widenings;
      for (auto [input, half] : llvm::zip(op.getDpsInputOperands(), halves)) {
        if (half && getElementTypeOrSelf(half.getType()).isBF16() &&
            !foldBFloat16)
          half = Value();
        inputs.push_back(half ? half : input->get());
        if (half)
          widenings.push_back(input->get().getDefiningOp());
      }
      if (widenings.empty())
        continue;
      // A new op: a named op's body is built for its operands' types.
      OpBuilder b(op);
      Value init = op.getDpsInitOperand(0)->get();
      Operation *product = isa<linalg::MatmulOp>(op)
                               ? b.create<linalg::MatmulOp>(
                                      op.getLoc(), init.getType(), inputs, init)
                                     .getOperation()
                               : b.create<linalg::BatchMatmulOp>(
                                      op.getLoc(), init.getType(), inputs, init)
                                     .getOperation();
      op->replaceAllUsesWith(product->getResults());
      op->erase();
      for (Operation *widening : widenings)
        if (widening->use_empty())
          widening->erase();
    }
  }
};

} // namespace
