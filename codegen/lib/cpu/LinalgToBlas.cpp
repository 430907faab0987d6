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
#include "trueno/Codegen/Cpu/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <algorithm>

namespace mlir::trueno {
#define GEN_PASS_DEF_MATMULEPILOGUEINPLACE
#define GEN_PASS_DEF_LINALGTOBLAS
#include "trueno/Codegen/Cpu/Passes.h.inc"
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
    linalg::GenericOp epilogue = chunkableEpilogue(op);
    if (epilogue)
      return convertWithEpilogue(op, epilogue, callee, arguments, parts);
    // One part: a plain call. Several: a parallel loop of calls, one part
    // each, which becomes an OpenMP loop like every other kernel's.
    serialOrParallel(
        b, loc, parts,
        [&](OpBuilder &then, Value zero, Value one) {
          callPart(then, loc, callee, arguments, zero, one);
        },
        [&](OpBuilder &) { return parts; },
        [&](OpBuilder &inner, Location l, Value part, Value count) {
          callPart(inner, l, callee, arguments, part, count);
        });
    op->erase();
    return success();
  }

  /// `scf.if (parts == 1) { serial } else { scf.parallel }`: `serial` gets
  /// i64 constants 0 and 1; the parallel loop runs `count` iterations, each
  /// given its index and the count as i64.
  static void serialOrParallel(
      OpBuilder &b, Location loc, Value parts,
      function_ref<void(OpBuilder &, Value, Value)> serial,
      function_ref<Value(OpBuilder &)> count,
      function_ref<void(OpBuilder &, Location, Value, Value)> each) {
    Value one = b.create<arith::ConstantOp>(loc, b.getI64IntegerAttr(1));
    Value isSerial =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, parts, one);
    auto branch = b.create<scf::IfOp>(loc, isSerial, /*withElseRegion=*/true);
    OpBuilder then = branch.getThenBodyBuilder();
    serial(then, then.create<arith::ConstantOp>(loc, then.getI64IntegerAttr(0)),
           one);
    OpBuilder otherwise = branch.getElseBodyBuilder();
    Value iterations = count(otherwise);
    Value zero = otherwise.create<arith::ConstantIndexOp>(loc, 0);
    Value step = otherwise.create<arith::ConstantIndexOp>(loc, 1);
    Value upper = otherwise.create<arith::IndexCastOp>(
        loc, otherwise.getIndexType(), iterations);
    otherwise.create<scf::ParallelOp>(
        loc, ValueRange{zero}, ValueRange{upper}, ValueRange{step},
        [&](OpBuilder &inner, Location l, ValueRange ivs) {
          Value index =
              inner.create<arith::IndexCastOp>(l, inner.getI64Type(), ivs[0]);
          each(inner, l, index, iterations);
        });
  }

  /// A call of `callee` for `part` of `parts`.
  static void callPart(OpBuilder &b, Location loc, func::FuncOp callee,
                       ArrayRef<Value> arguments, Value part, Value parts) {
    SmallVector<Value> args(arguments);
    args.push_back(part);
    args.push_back(parts);
    b.create<func::CallOp>(loc, callee, args);
  }

  /// The elementwise generic right after the convolution `op` that updates
  /// its output in place (a bias, an activation: see
  /// trueno-matmul-epilogue-in-place), when it can run image by image: every
  /// loop parallel, the output read and written through the identity map,
  /// and the image dimension d0 reaching each operand, if at all, as one
  /// plain index.
  static linalg::GenericOp chunkableEpilogue(linalg::LinalgOp op) {
    if (!isa<linalg::Conv2DNchwFchwOp, linalg::Conv2DNgchwGfchwOp>(
            op.getOperation()))
      return nullptr;
    // Views of the epilogue's operands may sit between the two (a grouped
    // convolution's bias, expanded to NGFHW).
    SmallVector<Operation *> views;
    Operation *next = op->getNextNode();
    for (; next && isa<ViewLikeOpInterface>(next) && isMemoryEffectFree(next);
         next = next->getNextNode())
      views.push_back(next);
    auto generic = dyn_cast_or_null<linalg::GenericOp>(next);
    Value out = op.getDpsInits()[0];
    if (!generic || generic.getNumDpsInits() != 1 ||
        generic.getDpsInits()[0] != out ||
        generic.getNumParallelLoops() != generic.getNumLoops() ||
        !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
             .isIdentity())
      return nullptr;
    AffineExpr image = getAffineDimExpr(0, op->getContext());
    for (OpOperand &operand : generic->getOpOperands()) {
      if (operand.get() == out && generic.isDpsInput(&operand))
        return nullptr; // read through another map than the output's
      auto type = dyn_cast<MemRefType>(operand.get().getType());
      if (!type || !type.hasStaticShape())
        return nullptr;
      AffineMap map = generic.getMatchingIndexingMap(&operand);
      for (AffineExpr result : map.getResults())
        if (result != image && result.isFunctionOfDim(0))
          return nullptr;
    }
    // The chunk loop replaces the convolution: the views must come first.
    // (A product has no results on buffers, so none of them uses it.)
    for (Operation *view : views)
      view->moveBefore(op);
    return generic;
  }

  /// Replaces the convolution `op` and its `epilogue` by one loop over
  /// chunks of images: each iteration convolves its images and at once runs
  /// the epilogue over their output, which is still in L2, instead of a
  /// second pass over the whole output after the convolution (for a
  /// [64, 32, 26, 26] result, 5.5 MB, that pass took as long as the
  /// convolution itself). Chunks hold about 256 KiB of output, at least one
  /// per thread and at most one per image, so the runtime splits by images
  /// (`share` in runtime/cpu/Blas.cpp: images [N * c / chunks,
  /// N * (c + 1) / chunks)), the same ranges the epilogue's subviews take.
  LogicalResult convertWithEpilogue(linalg::LinalgOp op,
                                    linalg::GenericOp epilogue,
                                    func::FuncOp callee,
                                    ArrayRef<Value> arguments, Value parts) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto outType = cast<MemRefType>(op.getDpsInits()[0].getType());
    int64_t images = outType.getDimSize(0);
    int64_t bytes = outType.getNumElements() *
                    outType.getElementType().getIntOrFloatBitWidth() / 8;
    constexpr int64_t kChunkBytes = 256 * 1024;
    int64_t wanted =
        std::clamp<int64_t>((bytes + kChunkBytes - 1) / kChunkBytes, 1, images);
    auto constant = [&](OpBuilder &builder, int64_t v) -> Value {
      return builder.create<arith::ConstantOp>(loc,
                                               builder.getI64IntegerAttr(v));
    };
    serialOrParallel(
        b, loc, parts,
        [&](OpBuilder &then, Value zero, Value one) {
          // One thread: the whole convolution, then the epilogue.
          callPart(then, loc, callee, arguments, zero, one);
          collapseContiguousDims(
              cast<linalg::GenericOp>(then.clone(*epilogue)));
        },
        [&](OpBuilder &otherwise) -> Value {
          return otherwise.create<arith::MinSIOp>(
              loc,
              otherwise.create<arith::MaxSIOp>(loc, parts,
                                               constant(otherwise, wanted)),
              constant(otherwise, images));
        },
        [&](OpBuilder &inner, Location l, Value chunk, Value chunks) {
          // The call sits in an alloca_scope of its own. Canonicalization
          // keeps the alloca_scope that convert-scf-to-openmp puts around
          // the loop body whenever that body holds a call (it might
          // allocate on the stack), and such a scope must stay one block,
          // which the epilogue's loops are not once lowered to cf. A call
          // in a nested scope does not count.
          auto scope = inner.create<memref::AllocaScopeOp>(l, TypeRange{});
          {
            OpBuilder call = OpBuilder::atBlockBegin(
                inner.createBlock(&scope.getBodyRegion()));
            callPart(call, l, callee, arguments, chunk, chunks);
            call.create<memref::AllocaScopeReturnOp>(l);
          }
          inner.setInsertionPointAfter(scope);
          // Images [N * c / chunks, N * (c + 1) / chunks).
          Value n = constant(inner, images);
          auto bound = [&](Value c) {
            Value i64 = inner.create<arith::DivSIOp>(
                l, inner.create<arith::MulIOp>(l, n, c), chunks);
            return inner.create<arith::IndexCastOp>(l, inner.getIndexType(),
                                                    i64);
          };
          Value begin = bound(chunk);
          Value end =
              bound(inner.create<arith::AddIOp>(l, chunk, constant(inner, 1)));
          Value size = inner.create<arith::SubIOp>(l, end, begin);
          IRMapping mapping;
          AffineExpr image = getAffineDimExpr(0, inner.getContext());
          for (OpOperand &operand : epilogue->getOpOperands()) {
            AffineMap map = epilogue.getMatchingIndexingMap(&operand);
            std::optional<unsigned> position = map.getResultPosition(image);
            if (!position || mapping.contains(operand.get()))
              continue;
            auto type = cast<MemRefType>(operand.get().getType());
            SmallVector<OpFoldResult> offsets(type.getRank(),
                                              inner.getIndexAttr(0));
            SmallVector<OpFoldResult> sizes,
                strides(type.getRank(), inner.getIndexAttr(1));
            for (int64_t d = 0; d < type.getRank(); ++d)
              sizes.push_back(inner.getIndexAttr(type.getDimSize(d)));
            offsets[*position] = begin;
            sizes[*position] = size;
            mapping.map(operand.get(),
                        inner.create<memref::SubViewOp>(
                            l, operand.get(), offsets, sizes, strides));
          }
          collapseContiguousDims(
              cast<linalg::GenericOp>(inner.clone(*epilogue, mapping)));
        });
    epilogue->erase();
    op->erase();
    return success();
  }

  /// Merges the loops of the elementwise `generic` over dimensions every
  /// operand lays out contiguously, as one loop: an epilogue over
  /// [n, 32, 26, 26] becomes [n, 32, 676], whose inner loop LLVM vectorizes;
  /// over 26 elements it unrolled it into gathers.
  static void collapseContiguousDims(linalg::GenericOp generic) {
    // collapseOpIterationDims assumes every map result is a dimension; on a
    // constant (a broadcast map's 0) it loops forever in MLIR 19.
    if (!llvm::all_of(generic.getIndexingMapsArray(), [](AffineMap map) {
          return map.isProjectedPermutation();
        }))
      return;
    SmallVector<int64_t> sizes = generic.getStaticLoopRanges();
    /// Whether loops d - 1 and d can become one for `operand`: both absent
    /// from its map, or consecutive results whose strides nest.
    auto nests = [&](OpOperand &operand, int64_t d) {
      AffineMap map = generic.getMatchingIndexingMap(&operand);
      std::optional<unsigned> outer = map.getResultPosition(
                                  getAffineDimExpr(d - 1, map.getContext())),
                              inner = map.getResultPosition(
                                  getAffineDimExpr(d, map.getContext()));
      if (!outer && !inner)
        return true;
      if (!outer || !inner || *inner != *outer + 1)
        return false;
      SmallVector<int64_t> strides;
      int64_t offset;
      auto type = cast<MemRefType>(operand.get().getType());
      // Negative strides nest too, but MLIR 19's memref.collapse_shape
      // rejects the type it infers for them (a reversed bias over a grouped
      // convolution's G and F dimensions: "expected result type with
      // stride = -4 instead of -2").
      return succeeded(getStridesAndOffset(type, strides, offset)) &&
             !ShapedType::isDynamic(strides[*outer]) &&
             !ShapedType::isDynamic(strides[*inner]) && strides[*inner] >= 0 &&
             strides[*outer] == strides[*inner] * sizes[d];
    };
    // The chunked dimension 0 (dynamic) stays on its own.
    SmallVector<ReassociationIndices> groups = {{0}};
    for (int64_t d = 1; d < static_cast<int64_t>(sizes.size()); ++d) {
      if (d > 1 && llvm::all_of(generic->getOpOperands(),
                                [&](OpOperand &o) { return nests(o, d); }))
        groups.back().push_back(d);
      else
        groups.push_back({d});
    }
    if (groups.size() == sizes.size() ||
        !linalg::areDimSequencesPreserved(generic.getIndexingMapsArray(),
                                          groups))
      return;
    IRRewriter rewriter(generic.getContext());
    rewriter.setInsertionPoint(generic);
    if (succeeded(linalg::collapseOpIterationDims(
            cast<linalg::LinalgOp>(generic.getOperation()), groups, rewriter)))
      rewriter.eraseOp(generic);
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
