//===- RegisterAccumulators.cpp - Loop accumulators out of memory ---------===//
//
// trueno-register-accumulators: see Passes.td. A loop
//
//   scf.for %k { %a = memref.load %out[%p]; %s = f(%a, ...);
//                memref.store %s, %out[%p] }
//
// becomes
//
//   %init = memref.load %out[%p]
//   %r = scf.for %k iter_args(%a = %init) { %s = f(%a, ...); scf.yield %s }
//   memref.store %r, %out[%p]
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_REGISTERACCUMULATORS
#include "trueno/Codegen/Vulkan/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// One accumulator of a loop: an element loaded at the top of its body and
/// stored back later in it.
struct Accumulator {
  memref::LoadOp load;
  memref::StoreOp store;
  Value root;
};

/// Whether `loop` touches memory only through `accumulators`: every other
/// memory effect in it is a read of a memref whose root is distinct and no
/// accumulator's.
bool onlyAccumulatorsChange(scf::ForOp loop,
                            ArrayRef<Accumulator> accumulators) {
  llvm::SmallPtrSet<Operation *, 8> own;
  llvm::SmallPtrSet<Value, 8> roots;
  for (const Accumulator &a : accumulators) {
    own.insert(a.load);
    own.insert(a.store);
    roots.insert(a.root);
  }
  WalkResult result = loop.getBody()->walk([&](Operation *op) {
    if (own.contains(op))
      return WalkResult::advance();
    auto effects = dyn_cast<MemoryEffectOpInterface>(op);
    if (!effects) {
      if (op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
        return WalkResult::advance(); // its nested ops are walked
      return WalkResult::interrupt();
    }
    SmallVector<MemoryEffects::EffectInstance> list;
    effects.getEffects(list);
    for (const MemoryEffects::EffectInstance &effect : list) {
      if (!isa<MemoryEffects::Read>(effect.getEffect()))
        return WalkResult::interrupt();
      Value read = effect.getValue();
      Value readRoot = read ? mlir::trueno::rootBuffer(read) : Value();
      if (!readRoot || roots.contains(readRoot) ||
          !mlir::trueno::isDistinctBuffer(readRoot))
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return !result.wasInterrupted();
}

/// Carries every accumulator of `loop` as an iter_args value (the loop is
/// replaced), unless it has none, or memory effects that forbid it.
void promoteAccumulators(scf::ForOp loop, RewriterBase &rewriter) {
  // MLIR 19's scf.for to SPIR-V conversion leaves a loop's results
  // undefined when it runs no iteration: only loops known to run one or
  // more may carry a value.
  std::optional<int64_t> trips = constantTripCount(
      loop.getLowerBound(), loop.getUpperBound(), loop.getStep());
  if (!trips || *trips < 1)
    return;
  Block *body = loop.getBody();
  auto invariant = [&](Value v) { return loop.isDefinedOutsideOfLoop(v); };
  SmallVector<Accumulator> accumulators;
  llvm::SmallPtrSet<Value, 8> roots;
  for (auto store : body->getOps<memref::StoreOp>()) {
    Value memref = store.getMemRef();
    // SPIR-V has no bfloat16: trueno-flatten-kernel-buffers and
    // trueno-expand-bf16 rewrite its loads, stores and arithmetic, not a
    // value carried by a loop.
    if (store.getValueToStore().getType().isBF16())
      return;
    Value root = mlir::trueno::rootBuffer(memref);
    if (!root || !mlir::trueno::isDistinctBuffer(root) || !invariant(memref) ||
        !llvm::all_of(store.getIndices(), invariant))
      return;
    memref::LoadOp load;
    for (auto candidate : body->getOps<memref::LoadOp>())
      if (candidate.getMemRef() == memref &&
          candidate.getIndices() == store.getIndices() &&
          candidate->isBeforeInBlock(store)) {
        load = candidate;
        break;
      }
    // A second store to the same buffer is no accumulator of its own.
    if (!load || !roots.insert(root).second)
      return;
    accumulators.push_back({load, store, root});
  }
  if (accumulators.empty() || !onlyAccumulatorsChange(loop, accumulators))
    return;

  rewriter.setInsertionPoint(loop);
  SmallVector<Value> inits, stored;
  for (Accumulator &a : accumulators) {
    inits.push_back(rewriter.create<memref::LoadOp>(
        a.load.getLoc(), a.store.getMemRef(), a.store.getIndices()));
    stored.push_back(a.store.getValueToStore());
  }
  FailureOr<LoopLikeOpInterface> grown = loop.replaceWithAdditionalYields(
      rewriter, inits, /*replaceInitOperandUsesInLoop=*/false,
      [&](OpBuilder &, Location, ArrayRef<BlockArgument>) { return stored; });
  if (failed(grown))
    return;
  auto newLoop = cast<scf::ForOp>(grown->getOperation());
  unsigned first = newLoop.getNumRegionIterArgs() - accumulators.size();
  rewriter.setInsertionPointAfter(newLoop);
  for (auto [i, a] : llvm::enumerate(accumulators)) {
    rewriter.replaceAllUsesWith(a.load.getResult(),
                                newLoop.getRegionIterArgs()[first + i]);
    rewriter.eraseOp(a.load);
    rewriter.create<memref::StoreOp>(a.store.getLoc(),
                                     newLoop.getResults()[first + i],
                                     a.store.getMemRef(), a.store.getIndices());
    rewriter.eraseOp(a.store);
  }
}

struct RegisterAccumulatorsPass
    : public mlir::trueno::impl::RegisterAccumulatorsBase<
          RegisterAccumulatorsPass> {
  void runOnOperation() override {
    // Post-order: inner loops before the loops around them.
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](scf::ForOp loop) { loops.push_back(loop); });
    IRRewriter rewriter(&getContext());
    for (scf::ForOp loop : loops)
      promoteAccumulators(loop, rewriter);
  }
};

} // namespace

Value mlir::trueno::rootBuffer(Value memref) {
  while (true) {
    if (isa<BlockArgument>(memref))
      return memref;
    Operation *def = memref.getDefiningOp();
    if (!def)
      return {};
    if (isa<memref::AllocOp, memref::AllocaOp>(def))
      return memref;
    // subview, reinterpret_cast, expand_shape, collapse_shape, ...
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      return {};
    memref = view.getViewSource();
  }
}

bool mlir::trueno::isDistinctBuffer(Value root) {
  if (root.getDefiningOp())
    return true;
  auto arg = cast<BlockArgument>(root);
  auto function = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
  return function && arg.getOwner()->isEntryBlock() &&
         function.getArgAttr(arg.getArgNumber(), "llvm.noalias");
}
