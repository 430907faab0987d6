//===- WorkgroupReductions.cpp - Rows reduced by a workgroup's threads ----===//
//
// trueno-workgroup-reductions: see Passes.td. For a generic reducing rows
// of R elements into `out` with combiner C and per-element value g:
//
//   gpu.launch blocks(G) threads(T) {
//     %partials = memref.alloc() : memref<T x type, workgroup>
//     scf.for %row = %block to %rows step %G {
//       p = g(row, tid); for k = 1 to R / T: p = C(g(row, k * T + tid), p)
//       if tid < R % T: p = C(g(row, R / T * T + tid), p)
//       %partials[tid] = %p ; gpu.barrier
//       for s = T/2 .. 1 (unrolled): if tid < s: partials[tid] =
//           C(partials[tid], partials[tid + s]) ; gpu.barrier
//       if tid == 0: out[row] = C(partials[0], out[row])
//     }
//   }
//
// T <= R, so every thread has an element and no identity value is needed.
// The row loop's bounds depend on the workgroup only, so every barrier is
// reached by all of its threads. Thread 0 reads partials[0] after the last
// barrier and the next row's stores write partials[tid] (thread 0 its own
// slot only after reading it), so rows need no barrier between them.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

#include <limits>

namespace mlir::trueno {
#define GEN_PASS_DEF_WORKGROUPREDUCTIONS
#include "trueno/Codegen/Vulkan/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// Whether neighbouring elements of `type`'s last dimension are
/// neighbours in memory, or one element (a broadcast).
bool lastDimContiguous(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(type, strides, offset)))
    return false;
  return !strides.empty() && (strides.back() == 1 || strides.back() == 0);
}

/// Rows longer than this are always reduced by a workgroup, whatever their
/// layout: one thread's loop over them is slow everywhere and wrong on
/// lavapipe, which stops any shader loop after 65535 iterations.
constexpr int64_t kLongestThreadRow = 65535;

struct Match {
  linalg::GenericOp generic;
  /// The body's combining op: C(value, outArgument) or C(outArgument, value).
  Operation *combiner = nullptr;
  SmallVector<int64_t> rows; ///< the parallel loops' extents
  int64_t length = 0;        ///< the reduction's extent
};

/// The generic as a row reduction, or nothing.
std::optional<Match> matchRowReduction(linalg::GenericOp generic,
                                       int64_t minElements) {
  if (!generic.hasPureBufferSemantics() || generic.getNumDpsInits() != 1)
    return std::nullopt;
  auto iterators = generic.getIteratorTypesArray();
  unsigned loops = iterators.size();
  if (loops == 0 || iterators.back() != utils::IteratorType::reduction ||
      llvm::count(iterators, utils::IteratorType::reduction) != 1)
    return std::nullopt;
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return std::nullopt;
  Match m;
  m.generic = generic;
  m.rows.assign(ranges.begin(), ranges.end() - 1);
  m.length = ranges.back();
  if (m.length < minElements)
    return std::nullopt;
  int64_t rows = 1;
  for (int64_t r : m.rows) {
    if (r != 0 && rows > std::numeric_limits<int32_t>::max() / r)
      return std::nullopt;
    rows *= r;
  }
  if (rows == 0 || m.length > std::numeric_limits<int32_t>::max() / 2 - 1024)
    return std::nullopt;
  // The output: the parallel loops in order (one element per row).
  // (A kept dimension of size 1 is a constant 0 among them.)
  OpOperand *init = generic.getDpsInitOperand(0);
  AffineMap outMap = generic.getMatchingIndexingMap(init);
  unsigned nextDim = 0;
  for (AffineExpr e : outMap.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(e)) {
      if (dim.getPosition() != nextDim++)
        return std::nullopt;
    } else if (auto c = dyn_cast<AffineConstantExpr>(e)) {
      if (c.getValue() != 0)
        return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  if (nextDim != loops - 1)
    return std::nullopt;
  auto outType = dyn_cast<MemRefType>(init->get().getType());
  Type element = outType ? outType.getElementType() : Type();
  if (!element || !(element.isF32() || element.isF64() ||
                    element.isInteger(32) || element.isInteger(64)))
    return std::nullopt;
  // Every input that reads along the reduction reads along its contiguous
  // dimension: a workgroup's threads then read neighbouring elements.
  AffineExpr reduction = getAffineDimExpr(loops - 1, generic.getContext());
  for (OpOperand *input : generic.getDpsInputOperands()) {
    AffineMap map = generic.getMatchingIndexingMap(input);
    if (!map.isFunctionOfDim(loops - 1))
      continue;
    auto type = dyn_cast<MemRefType>(input->get().getType());
    if (!type || map.getNumResults() == 0)
      return std::nullopt;
    if (m.length <= kLongestThreadRow &&
        (map.getResults().back() != reduction || !lastDimContiguous(type)))
      return std::nullopt;
    for (AffineExpr e : map.getResults().drop_back())
      if (m.length <= kLongestThreadRow && e.isFunctionOfDim(loops - 1))
        return std::nullopt;
  }
  // The body: yield C(value, out) with `out` used by C alone.
  Operation *combiner =
      mlir::trueno::reductionCombiner(generic.getRegion().front());
  if (!combiner)
    return std::nullopt;
  m.combiner = combiner;
  return m;
}

struct WorkgroupReductionsPass
    : public mlir::trueno::impl::WorkgroupReductionsBase<
          WorkgroupReductionsPass> {
  using WorkgroupReductionsBase::WorkgroupReductionsBase;

  void runOnOperation() override {
    SmallVector<Match> matches;
    getOperation().walk([&](linalg::GenericOp generic) {
      if (generic->getParentOfType<gpu::LaunchOp>())
        return;
      if (std::optional<Match> m = matchRowReduction(generic, minElements))
        matches.push_back(*m);
    });
    for (Match &m : matches)
      rewrite(m);
  }

  void rewrite(Match &m) {
    linalg::GenericOp generic = m.generic;
    Location loc = generic.getLoc();
    int64_t threads = 1;
    while (threads * 2 <= std::min(workgroupSize.getValue(), m.length))
      threads *= 2;
    int64_t rows = 1;
    for (int64_t r : m.rows)
      rows *= r;
    int64_t groups = std::min<int64_t>(rows, maxWorkgroupCount);

    OpBuilder b(generic);
    auto index = [&](int64_t v) -> Value {
      return b.create<arith::ConstantIndexOp>(loc, v);
    };
    gpu::LaunchOp launch = mlir::trueno::createLaunch(b, loc, groups, threads);
    b.setInsertionPoint(launch.getBody().front().getTerminator());
    Value tid = launch.getThreadIds().x;
    Value outBuffer = generic.getDpsInitOperand(0)->get();
    Type element = cast<MemRefType>(outBuffer.getType()).getElementType();
    Attribute workgroup =
        b.getI64IntegerAttr(mlir::trueno::kWorkgroupMemorySpace);
    auto partialsType = MemRefType::get({threads}, element,
                                        MemRefLayoutAttrInterface(), workgroup);
    Value partials = b.create<memref::AllocOp>(loc, partialsType);
    auto rowLoop = b.create<scf::ForOp>(loc, launch.getBlockIds().x,
                                        index(rows), index(groups));
    b.setInsertionPoint(rowLoop.getBody()->getTerminator());
    // The row's parallel indices, row-major.
    SmallVector<Value> rowIndices(m.rows.size());
    Value rest = rowLoop.getInductionVar();
    for (int d = static_cast<int>(m.rows.size()) - 1; d >= 0; --d) {
      if (d == 0) {
        rowIndices[d] = rest;
        break;
      }
      Value n = index(m.rows[d]);
      rowIndices[d] = b.create<arith::RemUIOp>(loc, rest, n);
      rest = b.create<arith::DivUIOp>(loc, rest, n);
    }

    // g(row, j): the body up to the combiner, on the inputs' elements.
    Block &body = generic.getRegion().front();
    auto valueAt = [&](OpBuilder &at, Value j) -> Value {
      SmallVector<Value> ivs(rowIndices);
      ivs.push_back(j);
      IRMapping mapping;
      for (OpOperand *input : generic.getDpsInputOperands()) {
        AffineMap map = generic.getMatchingIndexingMap(input);
        SmallVector<Value> indices;
        for (AffineExpr e : map.getResults()) {
          if (auto dim = dyn_cast<AffineDimExpr>(e))
            indices.push_back(ivs[dim.getPosition()]);
          else
            indices.push_back(at.create<affine::AffineApplyOp>(
                loc, AffineMap::get(map.getNumDims(), 0, e), ivs));
        }
        Value loaded = at.create<memref::LoadOp>(loc, input->get(), indices);
        mapping.map(body.getArgument(input->getOperandNumber()), loaded);
      }
      for (Operation &op : body.without_terminator()) {
        if (&op == m.combiner)
          break;
        if (auto idx = dyn_cast<linalg::IndexOp>(op)) {
          mapping.map(idx.getResult(), ivs[idx.getDim()]);
          continue;
        }
        at.clone(op, mapping);
      }
      BlockArgument out = body.getArgument(body.getNumArguments() - 1);
      Value operand = m.combiner->getOperand(0) == out
                          ? m.combiner->getOperand(1)
                          : m.combiner->getOperand(0);
      return mapping.lookupOrDefault(operand);
    };

    // Each thread's partial result over every T-th element: the first
    // R / T of them in a loop with constant bounds, so that its result is
    // a loop-carried value (MLIR 19's scf.for-to-SPIR-V conversion leaves
    // the results of a loop that runs no iteration undefined, and this one
    // runs at least once) and trueno-unroll-reduction-loops can overlap
    // its loads; then, when T does not divide R, one more element for the
    // first R % T threads.
    int64_t full = m.length / threads;
    Value mine = valueAt(b, tid);
    if (full >= 2) {
      auto loop = b.create<scf::ForOp>(
          loc, index(1), index(full), index(1), ValueRange{mine},
          [&](OpBuilder &at, Location l, Value k, ValueRange sofar) {
            Value j = at.create<arith::AddIOp>(
                l, at.create<arith::MulIOp>(l, k, index(threads)), tid);
            at.create<scf::YieldOp>(
                l, mlir::trueno::combineLike(at, l, m.combiner, valueAt(at, j),
                                             sofar[0]));
          });
      mine = loop.getResult(0);
    }
    if (int64_t rest = m.length % threads) {
      Value more = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, tid,
                                           index(rest));
      auto tail = b.create<scf::IfOp>(
          loc, more,
          [&](OpBuilder &at, Location l) {
            Value j = at.create<arith::AddIOp>(l, tid, index(full * threads));
            at.create<scf::YieldOp>(
                l, mlir::trueno::combineLike(at, l, m.combiner, valueAt(at, j),
                                             mine));
          },
          [&](OpBuilder &at, Location l) { at.create<scf::YieldOp>(l, mine); });
      mine = tail.getResult(0);
    }
    b.create<memref::StoreOp>(loc, mine, partials, tid);
    b.create<gpu::BarrierOp>(loc);
    // The tree over the partial results.
    for (int64_t s = threads / 2; s >= 1; s /= 2) {
      Value active = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                             tid, index(s));
      auto branch = b.create<scf::IfOp>(loc, active, /*withElse=*/false);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(branch.thenBlock());
        Value mine = b.create<memref::LoadOp>(loc, partials, tid);
        Value other = b.create<memref::LoadOp>(
            loc, partials,
            ValueRange{b.create<arith::AddIOp>(loc, tid, index(s))});
        b.create<memref::StoreOp>(
            loc, mlir::trueno::combineLike(b, loc, m.combiner, mine, other),
            partials, tid);
      }
      b.create<gpu::BarrierOp>(loc);
    }
    Value leader =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, tid, index(0));
    auto last = b.create<scf::IfOp>(loc, leader, /*withElse=*/false);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(last.thenBlock());
      SmallVector<Value> outIndices;
      for (AffineExpr e :
           generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
               .getResults())
        outIndices.push_back(
            isa<AffineDimExpr>(e)
                ? rowIndices[cast<AffineDimExpr>(e).getPosition()]
                : index(0));
      Value total = b.create<memref::LoadOp>(loc, partials, index(0));
      Value initial = b.create<memref::LoadOp>(loc, outBuffer, outIndices);
      b.create<memref::StoreOp>(
          loc, mlir::trueno::combineLike(b, loc, m.combiner, total, initial),
          outBuffer, outIndices);
    }
    generic.erase();
  }
};

} // namespace

Operation *mlir::trueno::reductionCombiner(Block &body) {
  BlockArgument out = body.getArgument(body.getNumArguments() - 1);
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  if (!yield || yield.getNumOperands() != 1)
    return nullptr;
  Operation *combiner = yield.getOperand(0).getDefiningOp();
  if (!combiner || combiner->getBlock() != &body || !out.hasOneUse() ||
      out.getUses().begin()->getOwner() != combiner ||
      !isa<arith::AddFOp, arith::MulFOp, arith::MaximumFOp, arith::MinimumFOp,
           arith::MaxNumFOp, arith::MinNumFOp, arith::AddIOp, arith::MulIOp,
           arith::MaxSIOp, arith::MinSIOp, arith::MaxUIOp, arith::MinUIOp,
           arith::AndIOp, arith::OrIOp, arith::XOrIOp>(combiner))
    return nullptr;
  return combiner;
}

Value mlir::trueno::combineLike(OpBuilder &builder, Location loc,
                                Operation *combiner, Value a, Value b) {
  OperationState state(loc, combiner->getName());
  state.addOperands({a, b});
  state.addTypes(combiner->getResultTypes());
  state.addAttributes(combiner->getAttrs());
  return builder.create(state)->getResult(0);
}
