//===- TileRows.cpp - Reductions and their consumers, block by block ------===//
//
// FormKernels puts a reduction and the consumers of its broadcast result
// in one kernel when a row is small (softmax: max, then sum(exp(x - max)),
// then exp(x - max) / sum). Lowered as is, each of those generics sweeps the
// whole input, and each sweep reads it from memory again. Tiled here over
// blocks of rows, with every producer's slice computed in the same loop,
// the later sweeps read a block the first one left in the cache.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Cpu/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/SetVector.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_TILEROWS
#define GEN_PASS_DEF_FREETILEBUFFERS
#include "trueno/Codegen/Cpu/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

bool hasReductionLoop(linalg::GenericOp op) {
  return op.getNumReductionLoops() > 0;
}

/// Whether some reduction generic of `func` feeds another generic (through
/// reshapes): the chains this pass is for.
bool hasReductionChain(func::FuncOp func) {
  bool found = false;
  func.walk([&](linalg::GenericOp op) {
    if (!hasReductionLoop(op))
      return;
    SmallVector<Operation *> work(op->getUsers().begin(), op->getUsers().end());
    while (!work.empty() && !found) {
      Operation *user = work.pop_back_val();
      if (isa<linalg::GenericOp>(user))
        found = true;
      else if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(user))
        llvm::append_range(work, user->getUsers());
    }
  });
  return found;
}

/// Rewrites keepdim results (`(d0, d1) -> (d0, 0)` into a tensor<Nx1xf32>)
/// and one-iteration loops away, as linalg-fold-unit-extent-dims does: the
/// tiling can only follow results that are projections of the loops.
LogicalResult dropUnitDimensions(func::FuncOp func) {
  RewritePatternSet patterns(func.getContext());
  linalg::ControlDropUnitDims options;
  linalg::populateFoldUnitExtentDimsPatterns(patterns, options);
  return applyPatternsAndFoldGreedily(func, std::move(patterns));
}

/// Whether `op` only copies its input to its output through its maps: a
/// broadcast.
bool isBroadcast(linalg::GenericOp op) {
  Block *body = op.getBody();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  return op.getNumDpsInputs() == 1 && op.getNumReductionLoops() == 0 &&
         body->getOperations().size() == 1 &&
         yield.getOperand(0) == body->getArgument(0);
}

/// Fuses broadcasts into every consumer, even when they have several
/// (linalg-fuse-elementwise-ops only fuses single-use producers): a
/// broadcast shared by two generics would otherwise be materialized, a
/// whole block of stores and loads, to save one index computation.
LogicalResult fuseBroadcasts(func::FuncOp func) {
  RewritePatternSet patterns(func.getContext());
  linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *use) {
    auto producer = use->get().getDefiningOp<linalg::GenericOp>();
    return producer && isBroadcast(producer);
  });
  return applyPatternsAndFoldGreedily(func, std::move(patterns));
}

/// Whether the tiling computes `op`'s slices inside the loop: generics and
/// the fills of their inits. A matrix product or convolution stays whole
/// (one BLAS call over all rows, not one per block, each packing the same
/// operand again), and so does what it reads.
bool fusesIntoBlocks(Operation *op) {
  return isa<linalg::GenericOp, linalg::FillOp, tensor::EmptyOp,
             tensor::CollapseShapeOp, tensor::ExpandShapeOp>(op);
}

/// The generics `consumer` reads, directly or through other ops of the
/// function, and itself.
llvm::SetVector<linalg::GenericOp> genericCone(linalg::GenericOp consumer) {
  llvm::SetVector<linalg::GenericOp> cone;
  llvm::SetVector<Operation *> seen;
  SmallVector<Operation *> work = {consumer};
  while (!work.empty()) {
    Operation *op = work.pop_back_val();
    if (!op || !seen.insert(op))
      continue;
    if (auto generic = dyn_cast<linalg::GenericOp>(op))
      cone.insert(generic);
    else if (!fusesIntoBlocks(op) && op != consumer.getOperation())
      continue; // computed whole before the loop, which reads its result
    for (Value operand : op->getOperands())
      work.push_back(operand.getDefiningOp());
  }
  return cone;
}

/// Tile sizes (0: not tiled) for `consumer`'s loops: the loops that every
/// generic of its cone runs in parallel, innermost first, until a tile
/// covers about `tileBytes` of the widest operand. Nothing if the generics
/// do not share one static iteration space, or if it would be one tile.
std::optional<SmallVector<int64_t>> chooseTileSizes(linalg::GenericOp consumer,
                                                    int64_t tileBytes) {
  SmallVector<int64_t> ranges = consumer.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return std::nullopt;
  unsigned rank = ranges.size();
  SmallVector<bool> parallel(rank, true);
  int64_t elementBytes = 1;
  bool reductions = false;
  for (linalg::GenericOp op : genericCone(consumer)) {
    if (op.getStaticLoopRanges() != ranges)
      return std::nullopt;
    // MLIR 19's tile-and-fuse computes wrong slices through a map that is
    // not a projection (a reversed slice, 4 - d1, gave whole-block slices
    // and wrong sums), so such a cone stays untiled.
    if (!llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
          return map.isProjectedPermutation(/*allowZeroInResults=*/true);
        }))
      return std::nullopt;
    for (auto [d, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
      if (iterator != utils::IteratorType::parallel)
        parallel[d] = false;
    reductions |= hasReductionLoop(op);
    for (Value operand : op->getOperands())
      if (auto type = dyn_cast<ShapedType>(operand.getType());
          type && type.getElementType().isIntOrFloat())
        elementBytes =
            std::max<int64_t>(elementBytes, type.getElementTypeBitWidth() / 8);
  }
  if (!reductions)
    return std::nullopt;
  int64_t blockBytes = elementBytes;
  for (unsigned d = 0; d < rank; ++d)
    if (!parallel[d])
      blockBytes *= ranges[d];
  SmallVector<int64_t> sizes(rank, 0);
  int64_t tiles = 1;
  for (unsigned d = rank; d-- > 0;) {
    if (!parallel[d])
      continue;
    int64_t size = std::clamp<int64_t>(tileBytes / blockBytes, 1, ranges[d]);
    // A size that divides the range, if one is at least half as large,
    // keeps the blocks' shapes static (no partial last block).
    for (int64_t divisor = size; divisor * 2 >= size; --divisor)
      if (ranges[d] % divisor == 0) {
        size = divisor;
        break;
      }
    sizes[d] = size;
    blockBytes *= size;
    tiles *= (ranges[d] + size - 1) / size;
  }
  if (tiles < 2)
    return std::nullopt;
  return sizes;
}

/// The last generic of `func`, which (through its cone) computes what the
/// kernel returns after the reductions.
linalg::GenericOp lastGeneric(func::FuncOp func) {
  linalg::GenericOp last;
  func.walk([&](linalg::GenericOp op) { last = op; });
  return last;
}

LogicalResult tileFunction(func::FuncOp func, int64_t tileBytes) {
  if (!hasReductionChain(func))
    return success();
  if (failed(dropUnitDimensions(func)))
    return func.emitError("trueno-tile-rows: dropping unit dimensions did "
                          "not converge");
  if (failed(fuseBroadcasts(func)))
    return func.emitError("trueno-tile-rows: fusing broadcasts did not "
                          "converge");
  linalg::GenericOp consumer = lastGeneric(func);
  if (!consumer)
    return success();
  std::optional<SmallVector<int64_t>> sizes =
      chooseTileSizes(consumer, tileBytes);
  if (!sizes)
    return success();

  // What the kernel returns, seen through the reshapes that dropping unit
  // dimensions added. Those reshapes move down to the return, since a
  // yielded producer's uses are replaced by the loop's results, which come
  // after the loop.
  llvm::SmallPtrSet<Value, 4> returned;
  func.walk([&](func::ReturnOp ret) {
    for (Value v : ret.getOperands()) {
      Operation *before = ret;
      while (isa_and_nonnull<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(
          v.getDefiningOp())) {
        Operation *reshape = v.getDefiningOp();
        if (reshape->hasOneUse())
          reshape->moveBefore(before);
        before = reshape;
        v = reshape->getOperand(0);
      }
      returned.insert(v);
    }
  });
  IRRewriter rewriter(func.getContext());
  rewriter.setInsertionPoint(consumer);
  scf::SCFTilingOptions tiling;
  tiling.setTileSizes(getAsIndexOpFoldResult(func.getContext(), *sizes));
  tiling.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  scf::SCFTileAndFuseOptions options;
  options.setTilingOptions(tiling);
  // A producer whose result the kernel also returns yields its tiles, so
  // that it is not computed twice; the row blocks never overlap, which the
  // yield requires.
  options.setFusionControlFn(
      [&](tensor::ExtractSliceOp, OpResult producer, bool) {
        if (!isa<linalg::GenericOp, linalg::FillOp>(producer.getOwner()))
          return std::make_tuple(false, false);
        return std::make_tuple(true, returned.contains(producer));
      });
  FailureOr<scf::SCFTileAndFuseResult> tiled =
      scf::tileConsumerAndFuseProducersUsingSCF(
          rewriter, cast<TilingInterface>(consumer.getOperation()), options);
  if (failed(tiled))
    return success(); // left as it was: still correct, only slower
  // Uses the loop dominates read its results. One before it keeps the
  // original, computed whole: a returned view of a yielded producer (a
  // reversed slice of x * 1 whose reversal elementwise fusion had copied
  // into the consumers, so that it was not in their cone) would otherwise
  // read a value defined after it.
  DominanceInfo dominance(func);
  for (auto [original, replacement] : tiled->replacements)
    rewriter.replaceUsesWithIf(original, replacement, [&](OpOperand &use) {
      return dominance.properlyDominates(replacement, use.getOwner());
    });
  // The slices fusion went through are left behind, unused; a yielded
  // producer's slice now reads the loop's own result.
  for (LoopLikeOpInterface loop : tiled->loops)
    loop->walk([&](tensor::ExtractSliceOp slice) {
      if (slice->use_empty())
        rewriter.eraseOp(slice);
    });
  // The untiled consumer and producers may still read a yielded producer's
  // new value, defined after them; they are dead once those slices are,
  // and so are the reshapes between them (a layer norm's keepdim mean, read by
  // the centring generic through an expand_shape, stayed alive through it).
  for (bool erased = true; erased;) {
    erased = false;
    for (Operation &op :
         llvm::make_early_inc_range(llvm::reverse(func.getBody().front())))
      if (isOpTriviallyDead(&op)) {
        rewriter.eraseOp(&op);
        erased = true;
      }
  }
  return success();
}

struct TileRowsPass : public mlir::trueno::impl::TileRowsBase<TileRowsPass> {
  using TileRowsBase::TileRowsBase;

  void runOnOperation() override {
    SmallVector<func::FuncOp> funcs;
    getOperation()->walk([&](func::FuncOp func) {
      if (!func.isExternal())
        funcs.push_back(func);
    });
    for (func::FuncOp func : funcs)
      if (failed(tileFunction(func, tileBytes)))
        return signalPassFailure();
  }
};

/// The bytes of `alloc`'s buffer, if its shape is static.
std::optional<int64_t> staticBytes(memref::AllocOp alloc) {
  MemRefType type = alloc.getType();
  if (!type.hasStaticShape() || !type.getElementType().isIntOrFloat())
    return std::nullopt;
  return type.getNumElements() *
         std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
}

struct FreeTileBuffersPass
    : public mlir::trueno::impl::FreeTileBuffersBase<FreeTileBuffersPass> {
  /// Per-iteration buffers up to this many bytes in all live on the
  /// iteration's stack (an OpenMP worker has 4 MiB): a malloc and free per
  /// block made glibc grow and trim its heap on every block once earlier
  /// large frees had lowered its trim threshold, and softmax over
  /// [1000, 1000] took 1.5-2.6 ms, with 0.5 s outliers, instead of 0.29 ms.
  static constexpr int64_t kStackBytes = 512 * 1024;

  void runOnOperation() override {
    getOperation()->walk([](scf::ForallOp loop) {
      Block *body = loop.getBody();
      SmallVector<memref::AllocOp> local;
      for (auto alloc : body->getOps<memref::AllocOp>())
        if (llvm::all_of(alloc->getUsers(), [&](Operation *user) {
              return !isa<memref::DeallocOp>(user) &&
                     loop->isProperAncestor(user);
            }))
          local.push_back(alloc);
      if (local.empty())
        return;
      int64_t total = 0;
      bool onStack = true;
      for (memref::AllocOp alloc : local) {
        std::optional<int64_t> bytes = staticBytes(alloc);
        onStack &= bytes.has_value();
        total += bytes.value_or(0);
      }
      if (!onStack || total > kStackBytes) {
        OpBuilder builder(body->getTerminator());
        for (memref::AllocOp alloc : local)
          builder.create<memref::DeallocOp>(alloc.getLoc(), alloc);
        return;
      }
      // Stack buffers inside an alloca_scope, which restores the stack
      // pointer at the end of every iteration (trueno-serialize-small-loops
      // makes it an explicit save and restore where the loop runs on one
      // thread).
      OpBuilder builder(body, body->begin());
      auto scope =
          builder.create<memref::AllocaScopeOp>(loop.getLoc(), TypeRange{});
      Block *inner = builder.createBlock(&scope.getBodyRegion());
      for (Operation &op : llvm::make_early_inc_range(
               llvm::make_range(std::next(Block::iterator(scope)),
                                Block::iterator(body->getTerminator()))))
        op.moveBefore(inner, inner->end());
      builder.setInsertionPointToEnd(inner);
      builder.create<memref::AllocaScopeReturnOp>(loop.getLoc());
      for (memref::AllocOp alloc : local) {
        builder.setInsertionPoint(alloc);
        auto alloca = builder.create<memref::AllocaOp>(
            alloc.getLoc(), alloc.getType(), alloc.getDynamicSizes(),
            alloc.getSymbolOperands(), alloc.getAlignmentAttr());
        alloc.replaceAllUsesWith(alloca.getResult());
        alloc.erase();
      }
    });
  }
};

} // namespace
