//===- SerializeSmallLoops.cpp - Small parallel loops stay serial ---------===//
//
// An OpenMP fork-join costs a few microseconds; a 4096-element elementwise
// kernel takes about as long. Loop nests below a static iteration count
// become scf.for nests before convert-scf-to-openmp sees them. In the nests
// that stay parallel, the innermost dimension becomes an scf.for inside the
// parallel loop: OpenMP collapses all parallel dimensions into one loop whose
// indices are recovered by division, which LLVM cannot vectorize unless the
// layout happens to be contiguous (a broadcast operand made a (1000, 256)
// kernel 15x slower). Dimensions of one iteration are dropped first, so a
// [1, N] kernel is parallel over N.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Cpu/Passes.h"
#include "trueno/Codegen/Loops.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"

#include <limits>

namespace mlir::trueno {
#define GEN_PASS_DEF_SERIALIZESMALLLOOPS
#include "trueno/Codegen/Cpu/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// `bound`'s value when constant; for a tile's `affine.min` of a constant
/// and the rest of the range, that constant (the usual tile's size).
std::optional<int64_t> constantBound(Value bound) {
  if (std::optional<int64_t> c = getConstantIntValue(bound))
    return c;
  if (auto min = bound.getDefiningOp<affine::AffineMinOp>())
    for (AffineExpr e : min.getMap().getResults())
      if (auto c = dyn_cast<AffineConstantExpr>(e))
        return c.getValue();
  return std::nullopt;
}

/// a * b, or the largest int64_t where that overflows (a row-tiled
/// kernel's nested loops multiply to more than 2^63: a softmax over
/// [300, 5000] blocks; the only use is a comparison with a threshold).
int64_t saturatingProduct(int64_t a, int64_t b) {
  int64_t product;
  if (__builtin_mul_overflow(a, b, &product))
    return std::numeric_limits<int64_t>::max();
  return product;
}

/// The static iteration count of `loop`, or nothing if a bound is dynamic.
std::optional<int64_t> staticTripCount(scf::ParallelOp loop) {
  int64_t count = 1;
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    std::optional<int64_t> l = getConstantIntValue(lb),
                           u = getConstantIntValue(ub),
                           s = getConstantIntValue(step);
    if (!l || !u || !s || *s <= 0)
      return std::nullopt;
    count =
        saturatingProduct(count, std::max<int64_t>(0, (*u - *l + *s - 1) / *s));
  }
  // The serial loops inside (a reduction's) are work per iteration too.
  loop.getBody()->walk([&](scf::ForOp inner) {
    std::optional<int64_t> l = getConstantIntValue(inner.getLowerBound()),
                           u = constantBound(inner.getUpperBound()),
                           s = getConstantIntValue(inner.getStep());
    if (l && u && s && *s > 0)
      count = saturatingProduct(count,
                                std::max<int64_t>(1, (*u - *l + *s - 1) / *s));
  });
  return count;
}

/// Moves the innermost dimension of a multi-dimensional scf.parallel into an
/// scf.for in its body.
void serializeInnermost(scf::ParallelOp loop) {
  OpBuilder builder(loop);
  unsigned rank = loop.getNumLoops();
  auto lbs = loop.getLowerBound(), ubs = loop.getUpperBound(),
       steps = loop.getStep();
  auto outer = builder.create<scf::ParallelOp>(
      loop.getLoc(), lbs.drop_back(), ubs.drop_back(), steps.drop_back());
  builder.setInsertionPointToStart(outer.getBody());
  auto inner = builder.create<scf::ForOp>(loop.getLoc(), lbs.back(), ubs.back(),
                                          steps.back());
  IRMapping mapping;
  for (unsigned d = 0; d + 1 < rank; ++d)
    mapping.map(loop.getInductionVars()[d], outer.getInductionVars()[d]);
  mapping.map(loop.getInductionVars().back(), inner.getInductionVar());
  builder.setInsertionPointToStart(inner.getBody());
  for (Operation &op : loop.getBody()->without_terminator())
    builder.clone(op, mapping);
  loop.erase();
}

/// Drops the dimensions of one iteration from a multi-dimensional
/// scf.parallel (a [1, N] row is an N loop), so that the innermost-serial
/// rule below does not leave a one-iteration parallel loop.
scf::ParallelOp dropUnitDimensions(scf::ParallelOp loop) {
  SmallVector<unsigned> keep;
  for (auto [d, lb, ub, step] : llvm::enumerate(
           loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    std::optional<int64_t> l = getConstantIntValue(lb),
                           u = getConstantIntValue(ub),
                           s = getConstantIntValue(step);
    if (!l || !u || !s || *s <= 0 || *u - *l > *s)
      keep.push_back(d);
  }
  if (keep.size() == loop.getNumLoops() || keep.empty())
    return loop;
  OpBuilder builder(loop);
  SmallVector<Value> lbs, ubs, steps;
  for (unsigned d : keep) {
    lbs.push_back(loop.getLowerBound()[d]);
    ubs.push_back(loop.getUpperBound()[d]);
    steps.push_back(loop.getStep()[d]);
  }
  auto smaller =
      builder.create<scf::ParallelOp>(loop.getLoc(), lbs, ubs, steps);
  IRMapping mapping;
  for (unsigned d = 0, k = 0; d < loop.getNumLoops(); ++d)
    mapping.map(loop.getInductionVars()[d],
                k < keep.size() && keep[k] == d
                    ? smaller.getInductionVars()[k++]
                    : loop.getLowerBound()[d]);
  builder.setInsertionPointToStart(smaller.getBody());
  for (Operation &op : loop.getBody()->without_terminator())
    builder.clone(op, mapping);
  loop.erase();
  return smaller;
}

struct SerializeSmallLoopsPass
    : public mlir::trueno::impl::SerializeSmallLoopsBase<
          SerializeSmallLoopsPass> {
  using SerializeSmallLoopsBase::SerializeSmallLoopsBase;

  void runOnOperation() override {
    // A parallel loop inside another (a generic inside a tiled loop) runs on
    // the thread that runs its iteration of the outer one: OpenMP would only
    // fork a one-thread team for it.
    SmallVector<scf::ParallelOp> inner;
    getOperation()->walk([&](scf::ParallelOp loop) {
      if (loop->getParentOfType<scf::ParallelOp>() && !loop.getNumResults())
        inner.push_back(loop);
    });
    for (scf::ParallelOp loop : inner)
      mlir::trueno::serializeParallelLoop(loop);

    SmallVector<scf::ParallelOp> small, nested;
    getOperation()->walk([&](scf::ParallelOp loop) {
      if (loop->getParentOfType<scf::ParallelOp>() || loop.getNumResults())
        return;
      std::optional<int64_t> count = staticTripCount(loop);
      if (count && *count < minIterations)
        small.push_back(loop);
      else if (loop.getNumLoops() > 1)
        nested.push_back(loop);
    });
    for (scf::ParallelOp loop : small)
      mlir::trueno::serializeParallelLoop(loop);
    for (scf::ParallelOp loop : nested)
      if (scf::ParallelOp kept = dropUnitDimensions(loop);
          kept.getNumLoops() > 1)
        serializeInnermost(kept);
    scopesOutsideParallelLoopsAsStackSaves(getOperation());
  }

  /// An alloca_scope that no parallel loop encloses (trueno-free-tile-
  /// buffers' per-block buffers, once their loop runs on one thread) as an
  /// explicit save and restore of the stack pointer around its ops. Left a
  /// scope, convert-scf-to-cf would put it directly in the function, whose
  /// canonicalization inlines it (the function is an allocation scope
  /// already): every iteration's buffers then stayed on the stack until it
  /// overflowed (softmax over float16 [300, 5000]: 100 blocks of 270 KB).
  /// In a parallel loop the scope stays: convert-scf-to-openmp puts its
  /// own around the body, and the two fold into one.
  static void scopesOutsideParallelLoopsAsStackSaves(Operation *root) {
    SmallVector<memref::AllocaScopeOp> scopes;
    root->walk([&](memref::AllocaScopeOp scope) {
      if (!scope->getParentOfType<scf::ParallelOp>() &&
          scope.getNumResults() == 0 && scope.getBodyRegion().hasOneBlock())
        scopes.push_back(scope);
    });
    for (memref::AllocaScopeOp scope : scopes) {
      OpBuilder builder(scope);
      Value stack = builder.create<LLVM::StackSaveOp>(
          scope.getLoc(), LLVM::LLVMPointerType::get(scope.getContext()));
      Block &body = scope.getBodyRegion().front();
      for (Operation &op :
           llvm::make_early_inc_range(body.without_terminator()))
        op.moveBefore(scope);
      builder.create<LLVM::StackRestoreOp>(scope.getLoc(), stack);
      scope.erase();
    }
  }
};

} // namespace
