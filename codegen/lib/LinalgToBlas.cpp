//===- LinalgToBlas.cpp - Matrix products through the runtime's BLAS ------===//
//
// Two passes around bufferization make a fused matmul kernel
// (`relu(x @ w.t() + b)`) one GEMM plus one in-place pass over its result:
//
//  * trueno-matmul-epilogue-in-place (tensors): the elementwise consumer of a
//    product writes into the product rather than into a new tensor, so no
//    temporary of the result's size is allocated.
//  * trueno-linalg-to-blas (memrefs): float products become calls to the
//    runtime's GEMM (OpenBLAS), which reaches 80% of the FMA peak here where
//    generated loops reach a few percent; see docs/ARCHITECTURE.md.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_MATMULEPILOGUEINPLACE
#define GEN_PASS_DEF_LINALGTOBLAS
#include "trueno/Codegen/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// The product (matmul, batch_matmul or conv_2d_nchw_fchw, possibly seen
/// through an expand_shape) that defines `v`, if any.
Operation *productDefining(Value v) {
  if (auto expand = v.getDefiningOp<tensor::ExpandShapeOp>()) {
    if (!expand.getSrc().hasOneUse())
      return nullptr;
    v = expand.getSrc();
  } else if (auto collapse = v.getDefiningOp<tensor::CollapseShapeOp>()) {
    if (!collapse.getSrc().hasOneUse())
      return nullptr;
    v = collapse.getSrc();
  }
  Operation *def = v.getDefiningOp();
  return isa_and_nonnull<linalg::MatmulOp, linalg::BatchMatmulOp,
                         linalg::Conv2DNchwFchwOp, linalg::Conv2DNgchwGfchwOp>(
             def)
             ? def
             : nullptr;
}

/// Rewrites `generic(ins(..., %p, ...) outs(%empty))` into
/// `generic(ins(...) outs(%p))` reading %p through the output argument.
LogicalResult writeIntoProduct(linalg::GenericOp generic,
                               RewriterBase &rewriter) {
  if (generic.getNumDpsInits() != 1 || generic.getNumReductionLoops() != 0 ||
      !generic.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>())
    return failure();
  OpOperand *init = generic.getDpsInitOperand(0);
  if (!generic.getMatchingIndexingMap(init).isIdentity() ||
      !generic.getMatchingBlockArgument(init).use_empty())
    return failure();
  for (OpOperand *input : generic.getDpsInputOperands()) {
    Value product = input->get();
    if (!product.hasOneUse() || product.getType() != init->get().getType() ||
        !generic.getMatchingIndexingMap(input).isIdentity() ||
        !productDefining(product))
      continue;
    unsigned index = input->getOperandNumber();
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    for (OpOperand *other : generic.getDpsInputOperands())
      if (other != input) {
        inputs.push_back(other->get());
        maps.push_back(generic.getMatchingIndexingMap(other));
      }
    maps.push_back(generic.getMatchingIndexingMap(init));
    rewriter.setInsertionPoint(generic);
    auto inPlace = rewriter.create<linalg::GenericOp>(
        generic.getLoc(), generic.getResultTypes(), inputs, product, maps,
        generic.getIteratorTypesArray());
    rewriter.inlineRegionBefore(generic.getRegion(), inPlace.getRegion(),
                                inPlace.getRegion().end());
    Block &body = inPlace.getRegion().front();
    body.getArgument(index).replaceAllUsesWith(body.getArguments().back());
    body.eraseArgument(index);
    rewriter.replaceOp(generic, inPlace.getResults());
    return success();
  }
  return failure();
}

struct MatmulEpilogueInPlacePass
    : public mlir::trueno::impl::MatmulEpilogueInPlaceBase<
          MatmulEpilogueInPlacePass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> generics;
    getOperation()->walk(
        [&](linalg::GenericOp generic) { generics.push_back(generic); });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp generic : generics)
      (void)writeIntoProduct(generic, rewriter);
  }
};

/// `memref<?x...xT, strided<[?, ...], offset: ?>>` of `rank`: the one
/// argument type the runtime's entry points take for every shape and view.
MemRefType anyStridedMemRef(Type element, int64_t rank) {
  SmallVector<int64_t> dynamic(rank, ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(element.getContext(),
                                       ShapedType::kDynamic, dynamic);
  return MemRefType::get(dynamic, element, layout);
}

/// Whether `fill` writes zero.
bool fillsZero(linalg::FillOp fill) {
  Attribute value;
  if (!matchPattern(fill.getInputs()[0], m_Constant(&value)))
    return false;
  auto f = dyn_cast<FloatAttr>(value);
  return f && f.getValue().isZero();
}

struct LinalgToBlasPass
    : public mlir::trueno::impl::LinalgToBlasBase<LinalgToBlasPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::LinalgOp> products;
    module.walk([&](Operation *op) {
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp, linalg::Conv2DNchwFchwOp,
              linalg::Conv2DNgchwGfchwOp>(op))
        products.push_back(cast<linalg::LinalgOp>(op));
    });
    for (linalg::LinalgOp op : products)
      if (failed(convert(op)))
        return signalPassFailure();
  }

  /// The runtime entry point for `op`'s kind and `element`, declared on
  /// first use: (A, B, C, beta) for products, (input, filter, output, beta,
  /// stride y, stride x, dilation y, dilation x) for convolutions.
  func::FuncOp declaration(linalg::LinalgOp op, Type element) {
    ModuleOp module = getOperation();
    bool conv = isa<linalg::Conv2DNchwFchwOp, linalg::Conv2DNgchwGfchwOp>(op);
    int64_t rank = cast<MemRefType>(op.getDpsInits()[0].getType()).getRank();
    std::string name = std::string(isa<linalg::Conv2DNgchwGfchwOp>(op)
                                       ? "trueno_conv2d_grouped_"
                                   : conv      ? "trueno_conv2d_"
                                   : rank == 3 ? "trueno_batch_gemm_"
                                               : "trueno_gemm_") +
                       (element.isF32() ? "f32" : "f64");
    if (auto existing = module.lookupSymbol<func::FuncOp>(name))
      return existing;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    MemRefType memref = anyStridedMemRef(element, rank);
    SmallVector<Type> arguments = {memref, memref, memref, b.getF64Type()};
    if (conv)
      arguments.append(4, b.getI64Type());
    arguments.append(2, b.getI64Type()); // part, parts
    auto type = b.getFunctionType(arguments, {});
    auto func = b.create<func::FuncOp>(module.getLoc(), name, type);
    func.setPrivate();
    func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
    return func;
  }

  LogicalResult convert(linalg::LinalgOp op) {
    if (!op.hasPureBufferSemantics())
      return success(); // tensors: not bufferized yet, nothing to do
    auto outType = cast<MemRefType>(op.getDpsInits()[0].getType());
    Type element = outType.getElementType();
    if (!element.isF32() && !element.isF64())
      return success(); // integers: lowered to loops like any linalg op
    for (Value input : op.getDpsInputs())
      if (cast<MemRefType>(input.getType()).getElementType() != element)
        return success();
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value out = op.getDpsInits()[0];
    double beta = 1.0; // linalg products accumulate into their output
    if (auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode());
        fill && fill.getOutputs()[0] == out && fillsZero(fill)) {
      beta = 0.0;
      fill.erase();
    }
    int64_t rank = outType.getRank();
    func::FuncOp callee = declaration(op, element);
    SmallVector<Value> arguments;
    for (Value buffer : {op.getDpsInputs()[0], op.getDpsInputs()[1], out})
      arguments.push_back(b.create<memref::CastOp>(
          loc, anyStridedMemRef(element, rank), buffer));
    arguments.push_back(
        b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(beta)));
    auto convAttributes = [&](DenseIntElementsAttr strides,
                              DenseIntElementsAttr dilations) {
      for (DenseIntElementsAttr attr : {strides, dilations})
        for (const APInt &v : attr.getValues<APInt>())
          arguments.push_back(b.create<arith::ConstantOp>(
              loc, b.getI64IntegerAttr(v.getSExtValue())));
    };
    if (auto conv = dyn_cast<linalg::Conv2DNchwFchwOp>(op.getOperation()))
      convAttributes(conv.getStrides(), conv.getDilations());
    if (auto conv = dyn_cast<linalg::Conv2DNgchwGfchwOp>(op.getOperation()))
      convAttributes(conv.getStrides(), conv.getDilations());
    // The work: 2 * (output elements) * (reduction iterations).
    int64_t flops = 2;
    for (auto [range, iterator] :
         llvm::zip(op.getStaticLoopRanges(), op.getIteratorTypesArray()))
      flops *= range;
    Value parts = b.create<func::CallOp>(loc, partsDeclaration(),
                                         ValueRange{b.create<arith::ConstantOp>(
                                             loc, b.getI64IntegerAttr(flops))})
                      .getResult(0);
    // One part: a plain call. Several: a parallel loop of calls, one part
    // each, which becomes an OpenMP loop like every other kernel's.
    Value one = b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(1));
    Value serial =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, parts, one);
    auto branch = b.create<scf::IfOp>(loc, serial, /*withElseRegion=*/true);
    {
      OpBuilder then = branch.getThenBodyBuilder();
      SmallVector<Value> args = arguments;
      args.push_back(
          then.create<arith::ConstantOp>(loc, then.getI64IntegerAttr(0)));
      args.push_back(one);
      then.create<func::CallOp>(loc, callee, args);
    }
    {
      OpBuilder otherwise = branch.getElseBodyBuilder();
      Value zero = otherwise.create<arith::ConstantIndexOp>(loc, 0);
      Value step = otherwise.create<arith::ConstantIndexOp>(loc, 1);
      Value count = otherwise.create<arith::IndexCastOp>(
          loc, otherwise.getIndexType(), parts);
      otherwise.create<scf::ParallelOp>(
          loc, ValueRange{zero}, ValueRange{count}, ValueRange{step},
          [&](OpBuilder &inner, Location l, ValueRange ivs) {
            SmallVector<Value> args = arguments;
            args.push_back(inner.create<arith::IndexCastOp>(
                l, inner.getI64Type(), ivs[0]));
            args.push_back(parts);
            inner.create<func::CallOp>(l, callee, args);
          });
    }
    op->erase();
    return success();
  }

  /// `i64 trueno_parallel_parts(i64 flops)`: how many parts to split into.
  func::FuncOp partsDeclaration() {
    ModuleOp module = getOperation();
    if (auto existing =
            module.lookupSymbol<func::FuncOp>("trueno_parallel_parts"))
      return existing;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    auto func = b.create<func::FuncOp>(
        module.getLoc(), "trueno_parallel_parts",
        b.getFunctionType({b.getI64Type()}, {b.getI64Type()}));
    func.setPrivate();
    return func;
  }
};

} // namespace
