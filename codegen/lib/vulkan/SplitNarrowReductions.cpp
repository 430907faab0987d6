//===- SplitNarrowReductions.cpp - More threads for few long reductions ---===//
//
// trueno-split-narrow-reductions: see Passes.td. For a reduction R with
// parallel loops P (few outputs) and reduction loops r1, r2, ... (outermost
// first), where the outermost ones S = {r1, ...} are made parallel:
//
//   partial[P..., S...] = R's body over the remaining reduction loops,
//                         starting from the combiner's neutral element
//   out[P...] = C(out[P...], combined over S of partial[P..., S...])
//
// The second reduction reads `partial` with S collapsed into one
// contiguous dimension, so that trueno-workgroup-reductions gives each
// output a workgroup. The input maps are R's own: a convolution's
// `oh + kh` stays as it was.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Loops.h"
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_SPLITNARROWREDUCTIONS
#include "trueno/Codegen/Vulkan/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// From this many outputs on, each output's partial results are a column
/// (a thread sums it) rather than a row (a workgroup sums it).
constexpr int64_t kColumnOutputs = 1024;
/// At most this many partial results (the scratch buffer: 64 MiB of
/// float32): a loop that would make more stays a reduction loop.
constexpr int64_t kMaxPartials = int64_t(1) << 24;

/// What the pass needs of a reduction it splits.
struct Plan {
  SmallVector<unsigned> parallel; ///< R's parallel loops, in order
  SmallVector<unsigned> split;    ///< the reduction loops made parallel
  SmallVector<int64_t> ranges;    ///< R's loop ranges
  int64_t outputs = 1;            ///< R's output elements
  Operation *combiner = nullptr;  ///< the body's C(value, out)
  TypedAttr neutral;              ///< C's neutral element
};

std::optional<Plan> planFor(linalg::LinalgOp op, int64_t targetThreads,
                            int64_t minPerThread) {
  if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) || // tiled as such
      !op.hasPureTensorSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0 || op->getNumResults() != 1)
    return std::nullopt;
  Plan plan;
  plan.ranges = op.getStaticLoopRanges();
  // Static ranges, none empty (an empty reduction has nothing to split).
  if (llvm::any_of(plan.ranges,
                   [](int64_t r) { return ShapedType::isDynamic(r) || r < 1; }))
    return std::nullopt;
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!outMap.isProjectedPermutation(/*allowZeroInResults=*/false))
    return std::nullopt;
  auto iterators = op.getIteratorTypesArray();
  int64_t outputs = 1, reduced = 1;
  SmallVector<unsigned> reductions;
  for (auto [d, iterator] : llvm::enumerate(iterators)) {
    if (iterator == utils::IteratorType::parallel) {
      plan.parallel.push_back(d);
      outputs *= plan.ranges[d];
    } else {
      reductions.push_back(d);
      reduced *= plan.ranges[d];
    }
  }
  plan.outputs = outputs;
  // Enough outputs already, or too little to reduce to be worth it.
  if (outputs >= targetThreads || reduced < targetThreads / outputs)
    return std::nullopt;
  // Outermost reduction loops first, while there are too few threads and
  // each keeps at least minPerThread elements to combine.
  int64_t threads = outputs;
  for (unsigned d : reductions) {
    if (threads >= targetThreads || reduced / plan.ranges[d] < minPerThread ||
        threads * plan.ranges[d] > kMaxPartials)
      break;
    plan.split.push_back(d);
    threads *= plan.ranges[d];
    reduced /= plan.ranges[d];
  }
  if (plan.split.empty())
    return std::nullopt;
  // The body: yield C(value, out) with `out` used by C alone.
  Operation *combiner = mlir::trueno::reductionCombiner(*op.getBlock());
  if (!combiner)
    return std::nullopt;
  std::optional<TypedAttr> neutral =
      mlir::trueno::partialReductionStart(combiner);
  if (!neutral)
    return std::nullopt;
  plan.combiner = combiner;
  plan.neutral = *neutral;
  return plan;
}

void split(linalg::GenericOp op, const Plan &plan, RewriterBase &rewriter) {
  Location loc = op.getLoc();
  MLIRContext *context = op.getContext();
  rewriter.setInsertionPoint(op);
  unsigned loops = op.getNumLoops();
  OpOperand *init = op.getDpsInitOperand(0);
  Type element = getElementTypeOrSelf(init->get().getType());

  // partial[P..., S...] for few outputs (each output's partial results
  // are then a contiguous row, for a workgroup); partial[S..., P...] for
  // many (neighbouring threads write neighbouring elements, and each
  // output's sum of a column is a thread's, neighbours reading
  // neighbours).
  const bool columns = plan.outputs >= kColumnOutputs;
  SmallVector<unsigned> order =
      columns ? llvm::to_vector(
                    llvm::concat<const unsigned>(plan.split, plan.parallel))
              : llvm::to_vector(
                    llvm::concat<const unsigned>(plan.parallel, plan.split));
  SmallVector<int64_t> partialShape;
  SmallVector<AffineExpr> partialResults;
  for (unsigned d : order) {
    partialShape.push_back(plan.ranges[d]);
    partialResults.push_back(getAffineDimExpr(d, context));
  }
  Value empty = rewriter.create<tensor::EmptyOp>(loc, partialShape, element);
  Value neutral = rewriter.create<arith::ConstantOp>(loc, plan.neutral);
  Value filled =
      rewriter.create<linalg::FillOp>(loc, neutral, empty).getResult(0);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  maps.back() = AffineMap::get(loops, 0, partialResults, context);
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned d : plan.split)
    iterators[d] = utils::IteratorType::parallel;
  auto partial = rewriter.create<linalg::GenericOp>(
      loc, filled.getType(), op.getDpsInputs(), ValueRange{filled}, maps,
      iterators);
  rewriter.cloneRegionBefore(op.getRegion(), partial.getRegion(),
                             partial.getRegion().end());
  Value partialResult = partial.getResult(0);
  if (columns) {
    // Loops in the order (S..., P..., the rest): threads are numbered
    // row-major over the parallel loops, so neighbours differ in R's
    // innermost parallel loop, as before the split, and read neighbouring
    // elements where R did.
    SmallVector<unsigned> interchange(order);
    for (unsigned d = 0; d < loops; ++d)
      if (!llvm::is_contained(order, d))
        interchange.push_back(d);
    FailureOr<linalg::GenericOp> interchanged =
        linalg::interchangeGenericOp(rewriter, partial, interchange);
    if (succeeded(interchanged))
      partialResult = interchanged->getResult(0);
  }

  // S collapsed into one dimension: [P..., prod S] or [prod S, P...].
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices splitGroup;
  unsigned firstSplit = columns ? 0 : plan.parallel.size();
  for (unsigned i = 0; i < plan.split.size(); ++i)
    splitGroup.push_back(static_cast<int64_t>(firstSplit + i));
  unsigned firstParallel = columns ? plan.split.size() : 0;
  if (columns)
    groups.push_back(splitGroup);
  for (unsigned i = 0; i < plan.parallel.size(); ++i)
    groups.push_back({static_cast<int64_t>(firstParallel + i)});
  if (!columns)
    groups.push_back(splitGroup);
  Value rows =
      rewriter.create<tensor::CollapseShapeOp>(loc, partialResult, groups);

  // out[P...] = C(combined partial results, out[P...]): loops (P..., s),
  // parallel ones outermost.
  unsigned finalLoops = plan.parallel.size() + 1;
  SmallVector<AffineExpr> rowsIndex;
  AffineExpr s = getAffineDimExpr(plan.parallel.size(), context);
  if (columns)
    rowsIndex.push_back(s);
  for (unsigned i = 0; i < plan.parallel.size(); ++i)
    rowsIndex.push_back(getAffineDimExpr(i, context));
  if (!columns)
    rowsIndex.push_back(s);
  AffineMap rowsMap = AffineMap::get(finalLoops, 0, rowsIndex, context);
  // R's output map, its dimensions renumbered to their place among P.
  AffineMap outMap = op.getMatchingIndexingMap(init);
  SmallVector<AffineExpr> outResults;
  for (AffineExpr e : outMap.getResults()) {
    unsigned d = cast<AffineDimExpr>(e).getPosition();
    auto at = llvm::find(plan.parallel, d) - plan.parallel.begin();
    outResults.push_back(getAffineDimExpr(at, context));
  }
  AffineMap finalOutMap = AffineMap::get(finalLoops, 0, outResults, context);
  SmallVector<utils::IteratorType> finalIterators(
      plan.parallel.size(), utils::IteratorType::parallel);
  finalIterators.push_back(utils::IteratorType::reduction);
  Operation *combiner = plan.combiner;
  auto total = rewriter.create<linalg::GenericOp>(
      loc, init->get().getType(), ValueRange{rows}, ValueRange{init->get()},
      ArrayRef<AffineMap>{rowsMap, finalOutMap}, finalIterators,
      [&](OpBuilder &b, Location l, ValueRange args) {
        b.create<linalg::YieldOp>(
            l, mlir::trueno::combineLike(b, l, combiner, args[0], args[1]));
      });
  rewriter.replaceOp(op, total.getResults());
}

struct SplitNarrowReductionsPass
    : public mlir::trueno::impl::SplitNarrowReductionsBase<
          SplitNarrowReductionsPass> {
  using SplitNarrowReductionsBase::SplitNarrowReductionsBase;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> candidates;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (planFor(op, targetThreads, minPerThread))
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : candidates) {
      auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      if (!generic) {
        rewriter.setInsertionPoint(op);
        FailureOr<linalg::GenericOp> general =
            linalg::generalizeNamedOp(rewriter, op);
        if (failed(general))
          continue;
        generic = *general;
      }
      // The plan again: a generalized op's body is its own.
      if (std::optional<Plan> plan =
              planFor(generic, targetThreads, minPerThread))
        split(generic, *plan, rewriter);
    }
  }
};

} // namespace
