//===- UnrollReductionLoops.cpp - More loads in flight per thread ---------===//
//
// trueno-unroll-reduction-loops: see Passes.td. Little's law is the reason:
// a GPU hides memory latency with bytes in flight, and a thread whose next
// load waits for its previous iteration has one load in flight. An H100
// needs about 2 MB in flight (3.3 TB/s times some 600 ns); its 270,000
// resident threads give 1 MB with one float32 each.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_UNROLLREDUCTIONLOOPS
#include "trueno/Codegen/Vulkan/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// Whether `op` only computes or reads memory: no write, no barrier, no
/// region.
bool readsOrComputes(Operation &op) {
  if (op.getNumRegions() != 0)
    return false;
  if (isPure(&op))
    return true;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  return effects && effects.onlyHasEffect<MemoryEffects::Read>();
}

/// The loop's constant trip count when it is one the pass unrolls.
std::optional<int64_t> unrollableTripCount(scf::ForOp loop) {
  if (loop.getNumRegionIterArgs() == 0)
    return std::nullopt;
  if (!llvm::all_of(loop.getBody()->without_terminator(), readsOrComputes))
    return std::nullopt;
  std::optional<int64_t> lower = getConstantIntValue(loop.getLowerBound());
  std::optional<int64_t> upper = getConstantIntValue(loop.getUpperBound());
  std::optional<int64_t> step = getConstantIntValue(loop.getStep());
  if (!lower || !upper || !step || *step <= 0 || *upper <= *lower)
    return std::nullopt;
  int64_t trips = (*upper - *lower + *step - 1) / *step;
  if (trips < 2)
    return std::nullopt;
  return trips;
}

struct UnrollReductionLoopsPass
    : public mlir::trueno::impl::UnrollReductionLoopsBase<
          UnrollReductionLoopsPass> {
  using UnrollReductionLoopsBase::UnrollReductionLoopsBase;

  void runOnOperation() override {
    if (factor < 1) {
      getOperation().emitError("trueno-unroll-reduction-loops: factor ")
          << static_cast<int64_t>(factor) << " is not positive";
      return signalPassFailure();
    }
    if (factor == 1)
      return;
    SmallVector<std::pair<scf::ForOp, int64_t>> loops;
    getOperation().walk([&](scf::ForOp loop) {
      if (std::optional<int64_t> trips = unrollableTripCount(loop))
        loops.push_back({loop, *trips});
    });
    for (auto [loop, trips] : loops)
      if (failed(loopUnrollByFactor(
              loop, static_cast<uint64_t>(std::min<int64_t>(factor, trips))))) {
        loop.emitOpError("could not be unrolled");
        return signalPassFailure();
      }
  }
};

} // namespace
