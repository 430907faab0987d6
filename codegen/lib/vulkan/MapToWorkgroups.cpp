//===- MapToWorkgroups.cpp - Loop nests as grid-stride GPU launches -------===//
//
// trueno-map-to-workgroups: see Passes.td. MLIR's own route
// (scf-parallel-loop-tiling, gpu-map-parallel-loops, convert-parallel-loops-
// to-gpu) maps the outermost loop to workgroups: its threads then walk a
// column (uncoalesced reads), and a loop of more than 65535 tiles cannot be
// launched on devices such as lavapipe. Here the whole iteration space is
// linearized in row-major order and walked by a grid-stride loop, so that
// neighbouring threads read neighbouring elements and any size runs.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Loops.h"
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SetVector.h"

#include <limits>

namespace mlir::trueno {
#define GEN_PASS_DEF_MAPTOWORKGROUPS
#include "trueno/Codegen/Vulkan/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// Ops the host function always keeps: the runtime reads them to bind
/// buffers (allocations and views of them), and the terminator.
bool bufferBookkeeping(Operation *op) {
  return isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp,
             ViewLikeOpInterface>(op) ||
         op->hasTrait<OpTrait::IsTerminator>();
}

/// Side-effect-free scalar math (constants, index arithmetic): it stays on
/// the host between launches, and the outlining sinks what a kernel uses.
bool pureScalar(Operation *op) {
  return op->getNumRegions() == 0 && isMemoryEffectFree(op);
}

/// Rewrites the parallel loops nested in `root` as sequential scf.for
/// nests (they run inside one thread).
void sequentializeNestedParallelLoops(Operation *root) {
  SmallVector<scf::ParallelOp> loops;
  root->walk([&](scf::ParallelOp loop) { loops.push_back(loop); });
  for (scf::ParallelOp loop : loops) // innermost first (post-order)
    mlir::trueno::serializeParallelLoop(loop);
}

struct MapToWorkgroupsPass
    : public mlir::trueno::impl::MapToWorkgroupsBase<MapToWorkgroupsPass> {
  using MapToWorkgroupsBase::MapToWorkgroupsBase;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    sinkIntoLoops(func);
    // Top-level ops in order, split into loop nests and runs of other work.
    SmallVector<Operation *> ops;
    for (Operation &op : func.getBody().front())
      ops.push_back(&op);
    SmallVector<Operation *> run;
    auto flush = [&]() -> LogicalResult {
      if (run.empty())
        return success();
      LogicalResult done = runOnOneThread(run);
      run.clear();
      return done;
    };
    for (Operation *op : ops) {
      if (auto loop = dyn_cast<scf::ParallelOp>(op);
          loop && neededAfter(run, loop)) {
        // The run computes a value that work after this loop nest needs
        // (a scatter of one element: the index and value loaded, the
        // output copied, then the store): one thread runs all of it, the
        // loop nest included, since a value cannot pass between launches.
        run.push_back(op);
      } else if (loop) {
        if (failed(flush()) || failed(gridStride(loop)))
          return signalPassFailure();
      } else if (isa<gpu::LaunchOp>(op)) {
        // Already a launch (trueno-workgroup-reductions).
        if (failed(flush()))
          return signalPassFailure();
      } else if (bufferBookkeeping(op) && !run.empty() &&
                 !op->hasTrait<OpTrait::IsTerminator>() &&
                 neededAfter(run, op) &&
                 llvm::none_of(op->getOperands(), [&](Value v) {
                   return llvm::is_contained(run, v.getDefiningOp());
                 })) {
        // An allocation or view amid a run whose values are needed after
        // it goes before the run, which then continues.
        op->moveBefore(run.front());
      } else if (bufferBookkeeping(op) || (pureScalar(op) && run.empty())) {
        // Side-effect-free ops amid a run join it (they compute on what it
        // loads); runOnOneThread hoists those that do not.
        if (failed(flush()))
          return signalPassFailure();
      } else {
        run.push_back(op);
      }
    }
    if (failed(flush()))
      signalPassFailure();
  }

  /// Whether an op of `run` has a use after `loop` (both at the top level
  /// of one block).
  static bool neededAfter(ArrayRef<Operation *> run, Operation *loop) {
    for (Operation *op : run)
      for (Operation *user : op->getUsers()) {
        Operation *top = loop->getBlock()->findAncestorOpInBlock(*user);
        if (top && loop->isBeforeInBlock(top))
          return true;
      }
    return false;
  }

  /// Loads (and the math on them) that canonicalization hoisted out of
  /// the loop nests that use them go back in: a kernel reads them itself.
  static void sinkIntoLoops(func::FuncOp func) {
    SmallVector<Operation *> ops;
    for (Operation &op : func.getBody().front())
      ops.push_back(&op);
    for (Operation *op : llvm::reverse(ops)) {
      bool load = isa<memref::LoadOp>(op);
      if (!load && (!pureScalar(op) || op->getNumOperands() == 0 ||
                    bufferBookkeeping(op)))
        continue;
      if (op->use_empty())
        continue;
      // Every user must sit in a top-level parallel loop.
      llvm::SmallSetVector<scf::ParallelOp, 2> loops;
      bool sinkable = true;
      for (Operation *user : op->getUsers()) {
        Operation *top = user;
        while (top->getParentOp() != func.getOperation())
          top = top->getParentOp();
        auto loop = dyn_cast<scf::ParallelOp>(top);
        if (!loop || loop == user) {
          sinkable = false;
          break;
        }
        loops.insert(loop);
      }
      if (!sinkable)
        continue;
      for (scf::ParallelOp loop : loops) {
        OpBuilder b(loop.getBody(), loop.getBody()->begin());
        Operation *copy = b.clone(*op);
        op->replaceUsesWithIf(copy->getResults(), [&](OpOperand &use) {
          return loop->isProperAncestor(use.getOwner());
        });
      }
      if (op->use_empty())
        op->erase();
    }
  }

  /// `loop` as a launch whose threads take its iterations in row-major
  /// order, `workgroupSize * groups` apart.
  LogicalResult gridStride(scf::ParallelOp loop) {
    if (loop.getNumResults() != 0)
      return loop.emitOpError("with reductions is not supported on Vulkan");
    SmallVector<int64_t> lbs, steps, counts;
    int64_t total = 1;
    for (auto [lb, ub, step] : llvm::zip(
             loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
      std::optional<int64_t> l = getConstantIntValue(lb),
                             u = getConstantIntValue(ub),
                             s = getConstantIntValue(step);
      if (!l || !u || !s || *s <= 0)
        return loop.emitOpError("has a bound or step that is not a constant");
      int64_t n = *u > *l ? (*u - *l + *s - 1) / *s : 0;
      lbs.push_back(*l);
      steps.push_back(*s);
      counts.push_back(n);
      if (n != 0 && total > std::numeric_limits<int32_t>::max() / n)
        return loop.emitOpError("has more than 2^31 iterations");
      total *= n;
    }
    if (total == 0) {
      loop.erase();
      return success();
    }
    int64_t threads = workgroupSize;
    int64_t groups =
        std::min<int64_t>((total + threads - 1) / threads, maxWorkgroupCount);
    int64_t stride = groups * threads;
    // 32-bit indices on the device: the last step must not wrap.
    if (total > std::numeric_limits<int32_t>::max() - stride)
      return loop.emitOpError("has ")
             << total << " iterations: too many for 32-bit indices";
    Location loc = loop.getLoc();
    OpBuilder b(loop);
    gpu::LaunchOp launch = mlir::trueno::createLaunch(b, loc, groups, threads);
    b.setInsertionPoint(launch.getBody().front().getTerminator());
    Value start = b.create<arith::AddIOp>(
        loc,
        b.create<arith::MulIOp>(loc, launch.getBlockIds().x,
                                b.create<arith::ConstantIndexOp>(loc, threads)),
        launch.getThreadIds().x);
    auto forOp = b.create<scf::ForOp>(
        loc, start, b.create<arith::ConstantIndexOp>(loc, total),
        b.create<arith::ConstantIndexOp>(loc, stride));
    b.setInsertionPoint(forOp.getBody()->getTerminator());
    // Row-major delinearization: the last loop varies fastest.
    IRMapping mapping;
    Value rest = forOp.getInductionVar();
    auto ivs = loop.getInductionVars();
    for (int d = static_cast<int>(counts.size()) - 1; d >= 0; --d) {
      Value index = rest;
      if (d > 0) {
        Value n = b.create<arith::ConstantIndexOp>(loc, counts[d]);
        index = b.create<arith::RemUIOp>(loc, rest, n);
        rest = b.create<arith::DivUIOp>(loc, rest, n);
      }
      if (steps[d] != 1)
        index = b.create<arith::MulIOp>(
            loc, index, b.create<arith::ConstantIndexOp>(loc, steps[d]));
      if (lbs[d] != 0)
        index = b.create<arith::AddIOp>(
            loc, index, b.create<arith::ConstantIndexOp>(loc, lbs[d]));
      mapping.map(ivs[d], index);
    }
    for (Operation &op : loop.getBody()->without_terminator())
      b.clone(op, mapping);
    loop.erase();
    sequentializeNestedParallelLoops(launch);
    return success();
  }

  /// `ops` (consecutive) moved into a launch of one thread.
  LogicalResult runOnOneThread(ArrayRef<Operation *> ops) {
    // Side-effect-free ops of the run that read nothing the run computes
    // stay on the host, before the launch (scalar math the host may need).
    llvm::SmallPtrSet<Operation *, 8> inRun;
    SmallVector<Operation *> hoisted, moved;
    for (Operation *op : ops) {
      bool readsRun = llvm::any_of(op->getOperands(), [&](Value v) {
        return v.getDefiningOp() && inRun.contains(v.getDefiningOp());
      });
      if (pureScalar(op) && !readsRun) {
        hoisted.push_back(op);
      } else {
        inRun.insert(op);
        moved.push_back(op);
      }
    }
    if (moved.empty())
      return success();
    for (Operation *op : moved)
      for (Value result : op->getResults())
        for (Operation *user : result.getUsers()) {
          Operation *top = user;
          while (top->getParentOp() && !isa<func::FuncOp>(top->getParentOp()))
            top = top->getParentOp();
          if (!inRun.contains(top))
            return op->emitOpError(
                "computes a value the host function needs; it cannot run "
                "in a kernel");
        }
    OpBuilder b(moved.front());
    gpu::LaunchOp launch =
        mlir::trueno::createLaunch(b, moved.front()->getLoc(), 1, 1);
    for (Operation *op : hoisted)
      op->moveBefore(launch);
    Operation *terminator = launch.getBody().front().getTerminator();
    for (Operation *op : moved)
      op->moveBefore(terminator);
    sequentializeNestedParallelLoops(launch);
    return success();
  }
};

} // namespace

mlir::gpu::LaunchOp mlir::trueno::createLaunch(OpBuilder &b, Location loc,
                                               int64_t groups,
                                               int64_t threads) {
  Value one = b.create<arith::ConstantIndexOp>(loc, 1);
  Value g = b.create<arith::ConstantIndexOp>(loc, groups);
  Value t = b.create<arith::ConstantIndexOp>(loc, threads);
  auto launch = b.create<gpu::LaunchOp>(loc, g, one, one, t, one, one);
  Block &body = launch.getBody().front();
  if (body.empty() || !body.back().hasTrait<OpTrait::IsTerminator>()) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(&body);
    b.create<gpu::TerminatorOp>(loc);
  }
  return launch;
}
