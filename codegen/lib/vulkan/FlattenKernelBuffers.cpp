//===- FlattenKernelBuffers.cpp - Kernels' buffers as 1-D arrays ----------===//
//
// trueno-flatten-kernel-buffers: see Passes.td.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_FLATTENKERNELBUFFERS
#include "trueno/Codegen/Vulkan/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// A kernel argument's layout: element strides and offset, and the 1-D
/// type of the elements it reaches.
struct Flattened {
  SmallVector<int64_t> strides;
  /// Added to the linearized position: the layout's offset, plus how far
  /// negative strides reach below it (the runtime binds the buffer at the
  /// lowest element a view reaches: runtime/vulkan/VulkanBackend.cpp).
  int64_t offset = 0;
  MemRefType type;
  bool bfloat16 = false; ///< stored as i16 (SPIR-V has no bfloat16)
};

std::optional<Flattened> flatten(MemRefType type) {
  Flattened f;
  int64_t offset = 0;
  if (!type.hasStaticShape() ||
      failed(getStridesAndOffset(type, f.strides, offset)) ||
      ShapedType::isDynamic(offset) || llvm::any_of(f.strides, [](int64_t s) {
        return ShapedType::isDynamic(s);
      }))
    return std::nullopt;
  int64_t lowest = offset, highest = offset;
  for (auto [size, stride] : llvm::zip(type.getShape(), f.strides))
    if (size > 0)
      (stride < 0 ? lowest : highest) += (size - 1) * stride;
  int64_t shift = lowest < 0 ? -lowest : 0;
  f.offset = offset + shift;
  Type element = type.getElementType();
  if (element.isBF16()) {
    f.bfloat16 = true;
    element = IntegerType::get(type.getContext(), 16);
  }
  f.type = MemRefType::get({highest + shift + 1}, element,
                           MemRefLayoutAttrInterface(), type.getMemorySpace());
  return f;
}

/// offset + sum(index_d * stride_d), folding zero and unit strides.
Value linearize(OpBuilder &b, Location loc, ValueRange indices,
                const Flattened &f) {
  Value sum;
  for (auto [index, stride] : llvm::zip(indices, f.strides)) {
    if (stride == 0)
      continue;
    Value term =
        stride == 1
            ? index
            : b.create<arith::MulIOp>(
                  loc, index, b.create<arith::ConstantIndexOp>(loc, stride));
    sum = sum ? b.create<arith::AddIOp>(loc, sum, term).getResult() : term;
  }
  if (f.offset != 0 || !sum) {
    Value offset = b.create<arith::ConstantIndexOp>(loc, f.offset);
    sum = sum ? b.create<arith::AddIOp>(loc, sum, offset).getResult() : offset;
  }
  return sum;
}

struct FlattenKernelBuffersPass
    : public mlir::trueno::impl::FlattenKernelBuffersBase<
          FlattenKernelBuffersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // What SPIR-V lacks, said or rewritten first: GLSL.std.450's
    // transcendental functions take 16/32-bit floats only, and its integer
    // min and max no booleans (on i1 they are `and` and `or`).
    {
      // Math that MLIR 19's math-to-spirv has no instruction for, in terms
      // of what it has (tan as sin / cos, erf, atan2, asin, ... as
      // polynomials in float32).
      RewritePatternSet patterns(&getContext());
      populateExpandTanPattern(patterns);
      populateExpandSinhPattern(patterns);
      populateExpandCoshPattern(patterns);
      populateExpandAsinhPattern(patterns);
      populateExpandAcoshPattern(patterns);
      populateExpandAtanhPattern(patterns);
      populateExpandFPowIPattern(patterns);
      populateExpandExp2FPattern(patterns);
      populateMathPolynomialApproximationPatterns(patterns, {});
      if (failed(applyPatternsAndFoldGreedily(module, std::move(patterns))))
        return signalPassFailure();
    }
    WalkResult unsupported = module.walk([&](Operation *op) {
      if (isa<arith::MinUIOp, arith::MaxUIOp>(op) &&
          op->getResult(0).getType().isInteger(1)) {
        OpBuilder b(op);
        Value lhs = op->getOperand(0), rhs = op->getOperand(1);
        Value r =
            isa<arith::MinUIOp>(op)
                ? b.create<arith::AndIOp>(op->getLoc(), lhs, rhs).getResult()
                : b.create<arith::OrIOp>(op->getLoc(), lhs, rhs).getResult();
        op->replaceAllUsesWith(ValueRange{r});
        op->erase();
        return WalkResult::skip();
      }
      if (op->getDialect() && op->getDialect()->getNamespace() == "math" &&
          !isa<math::FmaOp, math::SqrtOp, math::RsqrtOp, math::AbsFOp,
               math::FloorOp, math::CeilOp, math::RoundOp, math::RoundEvenOp,
               math::TruncOp, math::CopySignOp, math::AbsIOp>(op) &&
          llvm::any_of(op->getOperandTypes(),
                       [](Type t) { return t.isF64(); })) {
        op->emitOpError("on float64 has no SPIR-V instruction (GLSL.std.450 "
                        "computes it in 16 or 32 bits): compute in float32 "
                        "on this device, or move the tensor to the CPU");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (unsupported.wasInterrupted())
      return signalPassFailure();
    // The new argument types of each kernel, by kernel symbol.
    llvm::DenseMap<Operation *, SmallVector<std::optional<Flattened>>> changed;
    WalkResult result = module.walk([&](gpu::GPUFuncOp func) {
      if (!func.isKernel())
        return WalkResult::advance();
      SmallVector<std::optional<Flattened>> layouts;
      SmallVector<Type> inputs;
      for (BlockArgument argument : func.getArguments()) {
        auto type = dyn_cast<MemRefType>(argument.getType());
        std::optional<Flattened> f;
        if (type && !(type.getRank() == 1 && type.getLayout().isIdentity() &&
                      !type.getElementType().isBF16())) {
          f = flatten(type);
          if (!f) {
            func.emitOpError("has an argument of a dynamic layout: ") << type;
            return WalkResult::interrupt();
          }
          if (failed(rewriteUses(argument, *f)))
            return WalkResult::interrupt();
          argument.setType(f->type);
        }
        inputs.push_back(argument.getType());
        layouts.push_back(f);
      }
      func.setType(FunctionType::get(&getContext(), inputs, {}));
      changed[func] = std::move(layouts);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto func = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
          launch, launch.getKernel());
      auto found = changed.find(func);
      if (!func || found == changed.end())
        return;
      OpBuilder b(launch);
      for (auto [i, f] : llvm::enumerate(found->second)) {
        if (!f)
          continue;
        Value operand = launch.getKernelOperands()[i];
        auto type = cast<MemRefType>(operand.getType());
        auto flatType =
            MemRefType::get(f->type.getShape(), type.getElementType(),
                            MemRefLayoutAttrInterface(), type.getMemorySpace());
        Value flat = b.create<memref::ReinterpretCastOp>(
            launch.getLoc(), flatType, operand, /*offset=*/0,
            /*sizes=*/ArrayRef<int64_t>{f->type.getDimSize(0)},
            /*strides=*/ArrayRef<int64_t>{1});
        if (flatType != f->type) // bfloat16 bits as i16
          flat = b.create<UnrealizedConversionCastOp>(launch.getLoc(), f->type,
                                                      flat)
                     .getResult(0);
        launch.getKernelOperandsMutable()[i].set(flat);
      }
    });
  }

  static LogicalResult rewriteUses(BlockArgument argument, const Flattened &f) {
    for (Operation *user : llvm::make_early_inc_range(argument.getUsers())) {
      OpBuilder b(user);
      if (auto load = dyn_cast<memref::LoadOp>(user)) {
        Value index = linearize(b, load.getLoc(), load.getIndices(), f);
        Value flat =
            b.create<memref::LoadOp>(load.getLoc(), f.type.getElementType(),
                                     argument, ValueRange{index});
        if (f.bfloat16)
          flat =
              b.create<arith::BitcastOp>(load.getLoc(), load.getType(), flat);
        load.replaceAllUsesWith(flat);
        load.erase();
      } else if (auto store = dyn_cast<memref::StoreOp>(user)) {
        Value index = linearize(b, store.getLoc(), store.getIndices(), f);
        Value value = store.getValue();
        if (f.bfloat16)
          value = b.create<arith::BitcastOp>(store.getLoc(),
                                             f.type.getElementType(), value);
        b.create<memref::StoreOp>(store.getLoc(), value, argument,
                                  ValueRange{index});
        store.erase();
      } else {
        return user->emitOpError("uses a kernel buffer other than by a load "
                                 "or a store");
      }
    }
    return success();
  }
};

} // namespace
