//===- SplitReductions.cpp - Whole-tensor reductions across the cores -----===//
//
// A reduction with no parallel dimension (a whole-tensor sum, a [1, N] row)
// would run on one core. Splitting its reduction dimension N into P x N/P
// partial reductions gives a parallel outer loop (P chunks, one per OpenMP work
// item) and a tiny final reduction of the P partial results. Uses MLIR's
// linalg::splitReduction; only sizes that P divides are split.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Cpu/Passes.h"
#include "trueno/Codegen/Loops.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_SPLITREDUCTIONS
#include "trueno/Codegen/Cpu/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// The static loop ranges of `op`, read off an input with the identity map
/// (getStaticLoopRanges asserts on keepdim's constant output maps).
SmallVector<int64_t> loopRanges(linalg::LinalgOp op) {
  for (OpOperand *input : op.getDpsInputOperands()) {
    auto type = dyn_cast<ShapedType>(input->get().getType());
    AffineMap map = op.getMatchingIndexingMap(input);
    if (type && map.isIdentity() && map.getNumDims() == op.getNumLoops())
      return llvm::to_vector(type.getShape());
  }
  return {};
}

/// The size of the one reduction loop of `op` if every other loop has one
/// iteration (a whole-tensor reduction, or a [1, N] row); else nothing.
std::optional<int64_t> soleReductionSize(linalg::LinalgOp op) {
  SmallVector<int64_t> ranges = loopRanges(op);
  if (op.getNumReductionLoops() != 1 || ranges.empty())
    return std::nullopt;
  int64_t n = ShapedType::kDynamic;
  for (auto [range, iterator] : llvm::zip(ranges, op.getIteratorTypesArray())) {
    if (iterator == utils::IteratorType::reduction)
      n = range;
    else if (range != 1)
      return std::nullopt;
  }
  if (ShapedType::isDynamic(n))
    return std::nullopt;
  return n;
}

/// `value` read through `map` with its constant-0 (size-1) dimensions
/// dropped: the collapsed value and the map without those results, or
/// nothing if some result is neither a dimension nor a size-1 constant.
std::optional<std::pair<Value, AffineMap>>
withoutUnitConstants(Value value, AffineMap map, OpBuilder &b) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<AffineExpr> kept;
  SmallVector<int64_t> shape;
  for (auto [expr, size] : llvm::zip(map.getResults(), type.getShape())) {
    if (isa<AffineDimExpr>(expr)) {
      kept.push_back(expr);
      shape.push_back(size);
    } else if (size != 1) {
      return std::nullopt;
    }
  }
  AffineMap dropped =
      AffineMap::get(map.getNumDims(), 0, kept, map.getContext());
  if (shape.size() == static_cast<size_t>(type.getRank()))
    return std::make_pair(value, dropped);
  auto droppedType = RankedTensorType::get(shape, type.getElementType());
  auto reassociation = getReassociationIndicesForReshape(type, droppedType);
  if (!reassociation)
    return std::nullopt;
  Value collapsed = b.create<tensor::CollapseShapeOp>(
      value.getLoc(), droppedType, value, *reassociation);
  return std::make_pair(collapsed, dropped);
}

/// A keepdim reduction reads its kept dimensions at constant 0, and so do
/// the broadcast operands fused into it (softmax's `x - max`);
/// linalg::splitReduction cannot handle such maps. Rewrite the generic over
/// collapsed operands without those dimensions, and expand_shape its result
/// back (both free reshapes).
void dropUnitConstants(linalg::GenericOp op, RewriterBase &rewriter) {
  if (op.getNumDpsInits() != 1 ||
      llvm::all_of(op.getIndexingMapsArray(),
                   [](AffineMap m) { return m.isProjectedPermutation(); }))
    return;
  rewriter.setInsertionPoint(op);
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  for (OpOperand &operand : op->getOpOperands()) {
    auto dropped = withoutUnitConstants(
        operand.get(), op.getMatchingIndexingMap(&operand), rewriter);
    if (!dropped)
      return; // the collapses made so far are dead and get folded away
    inputs.push_back(dropped->first);
    maps.push_back(dropped->second);
  }
  Value init = inputs.pop_back_val();
  auto generic = rewriter.create<linalg::GenericOp>(op.getLoc(), init.getType(),
                                                    inputs, init, maps,
                                                    op.getIteratorTypesArray());
  rewriter.inlineRegionBefore(op.getRegion(), generic.getRegion(),
                              generic.getRegion().end());
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  if (init.getType() == type) {
    rewriter.replaceOp(op, generic.getResults());
    return;
  }
  auto reassociation = getReassociationIndicesForReshape(
      cast<RankedTensorType>(init.getType()), type);
  rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
      op, type, generic.getResult(0), *reassociation);
}

/// linalg::splitReduction, whose partial results then start from
/// partialReductionStart (it fills them with the combiner's neutral
/// element, NaN for maxnumf).
struct SplitReduction : OpInterfaceRewritePattern<linalg::LinalgOp> {
  SplitReduction(MLIRContext *context, linalg::ControlSplitReductionFn control)
      : OpInterfaceRewritePattern(context), control(std::move(control)) {}

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<linalg::SplitReductionResult> split =
        linalg::splitReduction(rewriter, op, control);
    if (failed(split))
      return failure();
    Operation *combiner =
        mlir::trueno::reductionCombiner(*split->splitLinalgOp.getBlock());
    std::optional<TypedAttr> start =
        combiner ? mlir::trueno::partialReductionStart(combiner) : std::nullopt;
    linalg::FillOp fill = split->fillOp;
    if (start && fill && fill.getInputs().size() == 1) {
      rewriter.setInsertionPoint(fill);
      Value value = rewriter.create<arith::ConstantOp>(fill.getLoc(), *start);
      rewriter.modifyOpInPlace(fill,
                               [&] { fill.getInputsMutable()[0].set(value); });
    }
    return success();
  }

  linalg::ControlSplitReductionFn control;
};

struct SplitReductionsPass
    : public mlir::trueno::impl::SplitReductionsBase<SplitReductionsPass> {
  using SplitReductionsBase::SplitReductionsBase;

  void runOnOperation() override {
    int64_t minimum = minElements;
    SmallVector<linalg::GenericOp> candidates;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (std::optional<int64_t> n = soleReductionSize(op); n && *n >= minimum)
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : candidates)
      dropUnitConstants(op, rewriter);

    int64_t partElements = this->partElements;
    int64_t fewestParts = minParts;
    bool inner = innerParallel;
    linalg::ControlSplitReductionFn control =
        [minimum, partElements, fewestParts,
         inner](linalg::LinalgOp op) -> linalg::SplitReductionOptions {
      std::optional<int64_t> n = soleReductionSize(op);
      // An argmax reads its position (linalg.index), which splitting would
      // make a position within a part.
      bool readsIndex = false;
      op->walk([&](linalg::IndexOp) { readsIndex = true; });
      if (!n || *n < minimum || readsIndex ||
          !llvm::all_of(op.getIndexingMapsArray(),
                        [](AffineMap m) { return m.isProjectedPermutation(); }))
        return {};
      if (partElements > 0) { // a GPU: one partial result per thread
        // Parts short enough for `fewestParts` threads, but of 16 at
        // least: the second stage of a 256M-element sum, 262144 partial
        // results in 256 parts of 1024, ran on one workgroup and took
        // 131 us on an H100 (its threads' 1024 loads one after another).
        int64_t limit = partElements;
        if (fewestParts > 0)
          limit = std::min(limit, std::max<int64_t>(16, *n / fewestParts));
        int64_t k = 1;
        while (2 * k <= limit && *n % (2 * k) == 0)
          k *= 2;
        if (k < 2 || *n / k < 2)
          return {};
        return {*n / k, 0, inner};
      }
      for (int64_t chunks : {64, 48, 32, 16, 8})
        if (*n % chunks == 0)
          return {chunks, 0, /*innerParallel=*/false};
      return {};
    };
    RewritePatternSet patterns(&getContext());
    patterns.add<SplitReduction>(&getContext(), control);
    if (failed(
            applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
