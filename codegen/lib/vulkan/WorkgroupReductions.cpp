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
// Where the device's subgroups shuffle (`subgroup-size`), the tree is a
// butterfly of shuffles within each subgroup, then one barrier, after which
// every thread combines the subgroups' totals (reduceRow).
//
// T <= R, so every thread has an element and no identity value is needed.
// The row loop's bounds depend on the workgroup only, so every barrier is
// reached by all of its threads. Thread 0 reads partials[0] after the last
// barrier and the next row's stores write partials[tid] (thread 0 its own
// slot only after reading it), so rows need no barrier between them.
//
// A chain (a softmax, a norm: row reductions over the same rows, each of
// which may read the earlier ones' results, then an elementwise generic
// over the row) is one launch: every thread reads each total from
// partials[0], a barrier frees the slot, and the later members take the
// total from a register:
//
//       m = reduce(max, x[row, :]);  s = reduce(+, exp(x[row, :] - m))
//       for j = tid; j < R; j += T: y[row, j] = exp(x[row, j] - m) / s
//
// Only the first pass over the row reads memory; the others hit the
// workgroup's cache (16 KiB for a row of 4096 float32). A total only the
// chain reads (scratch, filled just before) starts from the fill's value
// and is never stored.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Loops.h"
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

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

/// The most elements of a row per thread that a chain keeps in registers
/// between its passes over the row (32 x 256 threads: rows of 8192).
constexpr int64_t kRegisterElements = 32;

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

/// The loop indices' images under `map` (an indexing map of a generic
/// whose loop indices are `ivs`).
SmallVector<Value> indicesAt(OpBuilder &b, Location loc, AffineMap map,
                             ValueRange ivs) {
  SmallVector<Value> indices;
  for (AffineExpr e : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(e))
      indices.push_back(ivs[dim.getPosition()]);
    else if (auto c = dyn_cast<AffineConstantExpr>(e))
      indices.push_back(b.create<arith::ConstantIndexOp>(loc, c.getValue()));
    else
      indices.push_back(b.create<affine::AffineApplyOp>(
          loc, AffineMap::get(map.getNumDims(), 0, e), ivs));
  }
  return indices;
}

/// A run of generics over the same rows that one workgroup per row runs
/// together: row reductions, each of which may read the earlier ones'
/// results for its row, then, optionally, an elementwise generic over the
/// rows' elements that may read them too (a softmax: the row maximum, the
/// sum of exp(x - max), then exp(x - max) / sum). The row is read from
/// memory once; the later passes over it hit the workgroup's cache.
struct Chain {
  SmallVector<Match> reductions;
  linalg::GenericOp consumer;
  /// Per reduction: its output's initial value where the output is scratch
  /// that only the chain reads, filled before it (the fill goes, and the
  /// result stays in registers), else null.
  SmallVector<Value> initial;
  /// The buffers (roots) the chain reads, and whether every read of each
  /// is of the row's own element (the identity map).
  llvm::SmallDenseMap<Value, bool> inputs;
  llvm::SmallDenseSet<Value> outputs; ///< the reductions' output roots
};

bool isIdentity(linalg::GenericOp generic, OpOperand *operand) {
  return generic.getMatchingIndexingMap(operand).isIdentity();
}

/// Whether `generic` may join `chain` as its next member: it reads the
/// chain's results only through their own output map, the row's element,
/// and writes nothing the chain has read (an elementwise consumer may
/// write over the row it reads, element by element) or written. Records
/// its buffers in the chain when it may.
bool mayJoin(Chain &chain, linalg::GenericOp generic, bool consumer) {
  llvm::SmallDenseMap<Value, bool> inputs;
  for (OpOperand *input : generic.getDpsInputOperands()) {
    Value root = mlir::trueno::rootBuffer(input->get());
    if (!root || !mlir::trueno::isDistinctBuffer(root))
      return false;
    if (chain.outputs.contains(root)) {
      auto producer = llvm::find_if(chain.reductions, [&](Match &m) {
        return m.generic.getDpsInitOperand(0)->get() == input->get();
      });
      if (producer == chain.reductions.end() ||
          producer->generic.getMatchingIndexingMap(
              producer->generic.getDpsInitOperand(0)) !=
              generic.getMatchingIndexingMap(input))
        return false;
      continue;
    }
    bool identity = isIdentity(generic, input);
    auto [it, inserted] = inputs.try_emplace(root, identity);
    if (!inserted)
      it->second = it->second && identity;
  }
  for (OpOperand &init : generic.getDpsInitsMutable()) {
    Value root = mlir::trueno::rootBuffer(init.get());
    if (!root || !mlir::trueno::isDistinctBuffer(root) ||
        chain.outputs.contains(root))
      return false;
    auto read = chain.inputs.find(root);
    auto readHere = inputs.find(root);
    bool rowLocal = consumer && isIdentity(generic, &init) &&
                    (read == chain.inputs.end() || read->second) &&
                    (readHere == inputs.end() || readHere->second);
    if ((read != chain.inputs.end() || readHere != inputs.end()) && !rowLocal)
      return false;
  }
  for (auto [root, identity] : inputs) {
    auto [it, inserted] = chain.inputs.try_emplace(root, identity);
    if (!inserted)
      it->second = it->second && identity;
  }
  if (!consumer)
    chain.outputs.insert(
        mlir::trueno::rootBuffer(generic.getDpsInitOperand(0)->get()));
  return true;
}

/// Whether `generic` is an elementwise generic over `first`'s rows and
/// their elements, writing each element in place (identity maps).
bool isRowConsumer(linalg::GenericOp generic, Match first) {
  if (!generic.hasPureBufferSemantics() || generic.getNumDpsInits() == 0 ||
      generic.getNumReductionLoops() != 0)
    return false;
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  if (ranges.size() != first.rows.size() + 1 ||
      !llvm::equal(ArrayRef(ranges).drop_back(), first.rows) ||
      ranges.back() != first.length)
    return false;
  for (OpOperand &init : generic.getDpsInitsMutable()) {
    auto type = dyn_cast<MemRefType>(init.get().getType());
    if (!type || !isIdentity(generic, &init) || !lastDimContiguous(type))
      return false;
  }
  return true;
}

/// Whether `op` may run before the chain members that precede it: a fill
/// of a buffer they do not touch, an allocation, or side-effect-free
/// scalar math.
bool mayHoistAbove(const Chain &chain, Operation *op) {
  if (auto fill = dyn_cast<linalg::FillOp>(op)) {
    Value root = fill.hasPureBufferSemantics()
                     ? mlir::trueno::rootBuffer(fill.getOutputs()[0])
                     : Value();
    return root && mlir::trueno::isDistinctBuffer(root) &&
           !chain.inputs.contains(root) && !chain.outputs.contains(root);
  }
  if (isa<memref::AllocOp>(op))
    return true;
  return op->getNumRegions() == 0 && isMemoryEffectFree(op);
}

/// The longest chain starting at the row reduction `first`.
Chain growChain(Match first, int64_t minElements) {
  Chain chain;
  chain.reductions.push_back(first);
  // A lone reduction needs no knowledge of its buffers; a longer chain
  // does.
  bool extensible = mayJoin(chain, first.generic, /*consumer=*/false);
  for (Operation *op = first.generic->getNextNode(); op && extensible;
       op = op->getNextNode()) {
    auto generic = dyn_cast<linalg::GenericOp>(op);
    if (!generic) {
      if (mayHoistAbove(chain, op))
        continue;
      break;
    }
    if (std::optional<Match> next = matchRowReduction(generic, minElements);
        next && next->rows == first.rows && next->length == first.length) {
      if (!mayJoin(chain, generic, /*consumer=*/false))
        break;
      chain.reductions.push_back(*next);
      continue;
    }
    if (isRowConsumer(generic, first) &&
        mayJoin(chain, generic, /*consumer=*/true))
      chain.consumer = generic;
    break;
  }
  // A reduction's output that is scratch only the chain uses, filled
  // before it: its initial value is the fill's, and it is never stored.
  // (Not for a lone reduction: its result is what it is there for.)
  chain.initial.assign(chain.reductions.size(), Value());
  if (chain.reductions.size() == 1 && !chain.consumer)
    return chain;
  llvm::SmallPtrSet<Operation *, 8> members;
  for (Match &m : chain.reductions)
    members.insert(m.generic);
  if (chain.consumer)
    members.insert(chain.consumer);
  for (auto [i, m] : llvm::enumerate(chain.reductions)) {
    Value out = m.generic.getDpsInitOperand(0)->get();
    if (!out.getDefiningOp<memref::AllocOp>())
      continue;
    linalg::FillOp fill;
    bool scratch = true;
    for (Operation *user : out.getUsers()) {
      if (auto f = dyn_cast<linalg::FillOp>(user);
          f && !fill && f->getBlock() == m.generic->getBlock() &&
          f->isBeforeInBlock(m.generic))
        fill = f;
      else if (!members.contains(user) && !isa<memref::DeallocOp>(user))
        scratch = false;
    }
    if (scratch && fill)
      chain.initial[i] = fill.getInputs()[0];
  }
  return chain;
}

struct WorkgroupReductionsPass
    : public mlir::trueno::impl::WorkgroupReductionsBase<
          WorkgroupReductionsPass> {
  using WorkgroupReductionsBase::WorkgroupReductionsBase;

  void runOnOperation() override {
    std::vector<Chain> chains;
    llvm::SmallPtrSet<Operation *, 16> taken;
    getOperation().walk([&](linalg::GenericOp generic) {
      if (generic->getParentOfType<gpu::LaunchOp>() || taken.contains(generic))
        return;
      std::optional<Match> m = matchRowReduction(generic, minElements);
      if (!m)
        return;
      Chain chain = growChain(*m, minElements);
      for (Match &r : chain.reductions)
        taken.insert(r.generic);
      if (chain.consumer)
        taken.insert(chain.consumer);
      chains.push_back(std::move(chain));
    });
    for (Chain &chain : chains)
      rewrite(chain);
  }

  void rewrite(Chain &chain) {
    Match &first = chain.reductions.front();
    Operation *last = chain.consumer
                          ? chain.consumer.getOperation()
                          : chain.reductions.back().generic.getOperation();
    Location loc = last->getLoc();
    // Every thread needs the chain's row results, not thread 0 alone.
    bool broadcast = chain.reductions.size() > 1 || chain.consumer;
    int64_t threads = 1;
    while (threads * 2 <= std::min(workgroupSize.getValue(), first.length))
      threads *= 2;
    int64_t rows = 1;
    for (int64_t r : first.rows)
      rows *= r;
    int64_t groups = std::min<int64_t>(rows, maxWorkgroupCount);

    OpBuilder b(last);
    auto index = [&](int64_t v) -> Value {
      return b.create<arith::ConstantIndexOp>(loc, v);
    };
    gpu::LaunchOp launch = mlir::trueno::createLaunch(b, loc, groups, threads);
    b.setInsertionPoint(launch.getBody().front().getTerminator());
    Value tid = launch.getThreadIds().x;
    Attribute workgroup =
        b.getI64IntegerAttr(mlir::trueno::kWorkgroupMemorySpace);
    // With subgroup shuffles, the partials are one per subgroup, in two
    // halves that alternate between a workgroup's rows (reduceRow says
    // why); a workgroup of one subgroup needs none. Else one per thread.
    // (Vulkan shuffles 64-bit integers only with shaderSubgroupExtendedTypes;
    // 32 and 64-bit floats and 32-bit integers always.)
    bool shuffles = subgroupSize >= 2 && threads >= subgroupSize;
    for (Match &m : chain.reductions)
      if (cast<MemRefType>(m.generic.getDpsInitOperand(0)->get().getType())
              .getElementType()
              .isInteger(64) &&
          !subgroupExtendedTypes)
        shuffles = false;
    const int64_t subgroups = shuffles ? threads / subgroupSize : 0;
    SmallVector<Value> partials;
    for (Match &m : chain.reductions) {
      Type element =
          cast<MemRefType>(m.generic.getDpsInitOperand(0)->get().getType())
              .getElementType();
      int64_t slots = subgroups == 0 ? threads : 2 * subgroups;
      partials.push_back(
          subgroups == 1 ? Value()
                         : b.create<memref::AllocOp>(
                               loc, MemRefType::get({slots}, element,
                                                    MemRefLayoutAttrInterface(),
                                                    workgroup)));
    }
    auto rowLoop = b.create<scf::ForOp>(loc, launch.getBlockIds().x,
                                        index(rows), index(groups));
    b.setInsertionPoint(rowLoop.getBody()->getTerminator());
    // The half of the subgroups' partials this row uses: the parity of
    // the workgroup's row count (the row loop's index over `groups`).
    Value half;
    if (subgroups >= 2)
      half = rows <= groups
                 ? index(0)
                 : b.create<arith::MulIOp>(
                       loc,
                       b.create<arith::AndIOp>(
                           loc,
                           b.create<arith::DivUIOp>(
                               loc, rowLoop.getInductionVar(), index(groups)),
                           index(1)),
                       index(subgroups));
    // The row's parallel indices, row-major.
    SmallVector<Value> rowIndices(first.rows.size());
    Value rest = rowLoop.getInductionVar();
    for (int d = static_cast<int>(first.rows.size()) - 1; d >= 0; --d) {
      if (d == 0) {
        rowIndices[d] = rest;
        break;
      }
      Value n = index(first.rows[d]);
      rowIndices[d] = b.create<arith::RemUIOp>(loc, rest, n);
      rest = b.create<arith::DivUIOp>(loc, rest, n);
    }
    auto ivsAt = [&](Value j) {
      SmallVector<Value> ivs(rowIndices);
      ivs.push_back(j);
      return ivs;
    };

    // The chain's row results so far, by output buffer.
    DenseMap<Value, Value> rowResults;
    // A chain whose rows give each thread at most kRegisterElements
    // elements runs every pass over them straight (no loop), and keeps
    // what the first pass loaded in registers for the later ones: each
    // thread's element k (index k * T + tid) of an input read through a
    // given map is loaded once. The row is then read from memory once and
    // never again from the cache, and all of a thread's loads are in
    // flight together.
    int64_t perThread = first.length / threads;
    bool straight =
        broadcast && perThread >= 1 && perThread <= kRegisterElements;
    DenseMap<std::tuple<Value, AffineMap, int64_t>, Value> loaded;
    // `generic`'s body at element j of the row, up to `stop` (a
    // reduction's combiner; or its yield): its operands loaded (or taken
    // from `loaded` when j is the thread's element `slot`), or taken from
    // rowResults (a reduction's output is the combiner's alone).
    auto cloneBody = [&](OpBuilder &at, linalg::GenericOp generic, Value j,
                         int64_t slot, Operation *stop) -> IRMapping {
      SmallVector<Value> ivs = ivsAt(j);
      Block &body = generic.getRegion().front();
      IRMapping mapping;
      for (OpOperand &operand : generic->getOpOperands()) {
        BlockArgument arg = body.getArgument(operand.getOperandNumber());
        if (arg.use_empty() || (stop && generic.isDpsInit(&operand)))
          continue;
        if (Value known = rowResults.lookup(operand.get())) {
          mapping.map(arg, known);
          continue;
        }
        AffineMap map = generic.getMatchingIndexingMap(&operand);
        std::tuple<Value, AffineMap, int64_t> key{operand.get(), map, slot};
        if (Value known = slot >= 0 ? loaded.lookup(key) : Value()) {
          mapping.map(arg, known);
          continue;
        }
        Value value = at.create<memref::LoadOp>(loc, operand.get(),
                                                indicesAt(at, loc, map, ivs));
        if (slot >= 0)
          loaded[key] = value;
        mapping.map(arg, value);
      }
      for (Operation &op : body.without_terminator()) {
        if (&op == stop)
          break;
        if (auto idx = dyn_cast<linalg::IndexOp>(op)) {
          mapping.map(idx.getResult(), ivs[idx.getDim()]);
          continue;
        }
        at.clone(op, mapping);
      }
      return mapping;
    };

    // Ops at the builder's point that thread 0 alone runs.
    auto threadZero = [&]() {
      Value leader =
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, tid, index(0));
      auto only = b.create<scf::IfOp>(loc, leader, /*withElse=*/false);
      b.setInsertionPointToStart(only.thenBlock());
    };
    for (auto [m, shared, initial] :
         llvm::zip(chain.reductions, partials, chain.initial)) {
      Value total =
          reduceRow(b, loc, m, tid, threads, shared, half, subgroups, straight,
                    [&](OpBuilder &at, Value j, int64_t slot) {
                      Block &body = m.generic.getRegion().front();
                      BlockArgument out =
                          body.getArgument(body.getNumArguments() - 1);
                      Value operand = m.combiner->getOperand(0) == out
                                          ? m.combiner->getOperand(1)
                                          : m.combiner->getOperand(0);
                      return cloneBody(at, m.generic, j, slot, m.combiner)
                          .lookupOrDefault(operand);
                    });
      OpOperand *init = m.generic.getDpsInitOperand(0);
      SmallVector<Value> outIndices = indicesAt(
          b, loc, m.generic.getMatchingIndexingMap(init), ivsAt(index(0)));
      if (!broadcast) {
        // Thread 0 alone: it holds the total (reduceRow's guard).
        OpBuilder::InsertionGuard guard(b);
        threadZero();
        Value sum =
            total ? total : b.create<memref::LoadOp>(loc, shared, index(0));
        Value start = b.create<memref::LoadOp>(loc, init->get(), outIndices);
        b.create<memref::StoreOp>(
            loc, mlir::trueno::combineLike(b, loc, m.combiner, sum, start),
            init->get(), outIndices);
        continue;
      }
      // Every thread reads the total, then a barrier: the shared slot is
      // free for the next row. (Every thread holds the subgroups' total
      // already.)
      Value sum =
          total ? total : b.create<memref::LoadOp>(loc, shared, index(0));
      Value start =
          initial ? initial
                  : b.create<memref::LoadOp>(loc, init->get(), outIndices);
      Value result = mlir::trueno::combineLike(b, loc, m.combiner, sum, start);
      if (!total)
        b.create<gpu::BarrierOp>(loc);
      if (!initial) {
        OpBuilder::InsertionGuard guard(b);
        threadZero();
        b.create<memref::StoreOp>(loc, result, init->get(), outIndices);
      }
      rowResults[init->get()] = result;
    }

    if (linalg::GenericOp consumer = chain.consumer) {
      // The row's elements, every T-th to a thread, neighbours writing
      // neighbours.
      auto element = [&](OpBuilder &at, Value j, int64_t slot) {
        IRMapping mapping = cloneBody(at, consumer, j, slot, nullptr);
        auto yield =
            cast<linalg::YieldOp>(consumer.getRegion().front().getTerminator());
        for (auto [value, init] :
             llvm::zip(yield.getValues(), consumer.getDpsInitsMutable()))
          at.create<memref::StoreOp>(loc, mapping.lookupOrDefault(value),
                                     init.get(), ivsAt(j));
      };
      int64_t full = perThread;
      if (straight) {
        for (int64_t k = 0; k < full; ++k)
          element(b,
                  k == 0 ? tid
                         : b.create<arith::AddIOp>(loc, tid, index(k * threads))
                               .getResult(),
                  k);
      } else {
        b.create<scf::ForOp>(
            loc, index(0), index(full), index(1), ValueRange{},
            [&](OpBuilder &at, Location l, Value k, ValueRange) {
              element(
                  at,
                  at.create<arith::AddIOp>(
                      l, at.create<arith::MulIOp>(l, k, index(threads)), tid),
                  -1);
              at.create<scf::YieldOp>(l);
            });
      }
      if (int64_t more = first.length % threads) {
        Value active = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                               tid, index(more));
        auto tail = b.create<scf::IfOp>(loc, active, /*withElse=*/false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(tail.thenBlock());
        element(b, b.create<arith::AddIOp>(loc, tid, index(full * threads)),
                -1);
      }
    }

    // The members go; so do the fills of scratch outputs kept in
    // registers.
    for (auto [m, initial] : llvm::zip(chain.reductions, chain.initial))
      if (initial)
        for (Operation *user : llvm::make_early_inc_range(
                 m.generic.getDpsInitOperand(0)->get().getUsers()))
          if (isa<linalg::FillOp>(user))
            user->erase();
    if (chain.consumer)
      chain.consumer.erase();
    for (Match &m : llvm::reverse(chain.reductions))
      m.generic.erase();
  }

  /// One row's reduction by the workgroup, into `shared[0]` after the last
  /// barrier: each thread's partial result over every T-th element (the
  /// first R / T of them in a loop with constant bounds, so that its
  /// result is a loop-carried value (MLIR 19's scf.for-to-SPIR-V
  /// conversion leaves the results of a loop that runs no iteration
  /// undefined, and this one runs at least once) and
  /// trueno-unroll-reduction-loops can overlap its loads; then, when T
  /// does not divide R, one more element for the first R % T threads),
  /// then a tree over the partial results in `shared`, a barrier after
  /// each level. `straight`: the R / T elements one after another, each
  /// with its slot k, instead of the loop. valueAt(builder, j, slot) is
  /// g(row, j), slot -1 where j is not a fixed element of the thread.
  ///
  /// With `subgroups` (T / the subgroup size, at least 1) the partial
  /// results are combined within each subgroup by a butterfly of shuffles
  /// (every lane then holds its subgroup's total: the combiners are
  /// commutative), one elected lane of each stores it to its slot of
  /// `shared`'s `half`, and after one barrier every thread combines the
  /// slots in order: one barrier a row instead of log2(T) + 1, and the
  /// total returned in every thread. The halves alternate between rows:
  /// a subgroup that runs ahead to the next row writes the other half,
  /// and reaches this half again only past the next row's barrier, which
  /// waits for every thread to have read this row's. Lanes are elected
  /// (spirv.GroupNonUniformElect: MLIR 19 converts no gpu.lane_id to
  /// SPIR-V) rather than taken as tid % the subgroup size: SPIR-V does not
  /// promise which threads form a subgroup. Returns null for the tree
  /// (the total is shared[0], in thread 0 after the last barrier).
  Value reduceRow(OpBuilder &b, Location loc, Match &m, Value tid,
                  int64_t threads, Value shared, Value half, int64_t subgroups,
                  bool straight,
                  function_ref<Value(OpBuilder &, Value, int64_t)> valueAt) {
    auto index = [&](int64_t v) -> Value {
      return b.create<arith::ConstantIndexOp>(loc, v);
    };
    int64_t full = m.length / threads;
    Value mine = valueAt(b, tid, straight ? 0 : -1);
    if (straight) {
      for (int64_t k = 1; k < full; ++k)
        mine = mlir::trueno::combineLike(
            b, loc, m.combiner,
            valueAt(b, b.create<arith::AddIOp>(loc, tid, index(k * threads)),
                    k),
            mine);
    } else if (full >= 2) {
      auto loop = b.create<scf::ForOp>(
          loc, index(1), index(full), index(1), ValueRange{mine},
          [&](OpBuilder &at, Location l, Value k, ValueRange sofar) {
            Value j = at.create<arith::AddIOp>(
                l, at.create<arith::MulIOp>(l, k, index(threads)), tid);
            at.create<scf::YieldOp>(
                l, mlir::trueno::combineLike(at, l, m.combiner,
                                             valueAt(at, j, -1), sofar[0]));
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
                l, mlir::trueno::combineLike(at, l, m.combiner,
                                             valueAt(at, j, -1), mine));
          },
          [&](OpBuilder &at, Location l) { at.create<scf::YieldOp>(l, mine); });
      mine = tail.getResult(0);
    }
    if (subgroups >= 1) {
      auto i32 = [&](int64_t v) -> Value {
        return b.create<arith::ConstantIntOp>(loc, v, 32);
      };
      for (int64_t offset = subgroupSize / 2; offset >= 1; offset /= 2) {
        auto shuffle = b.create<gpu::ShuffleOp>(
            loc, mine, i32(offset), i32(subgroupSize), gpu::ShuffleMode::XOR);
        mine = mlir::trueno::combineLike(b, loc, m.combiner, mine,
                                         shuffle.getShuffleResult());
      }
      if (subgroups == 1)
        return mine;
      Value slot = b.create<arith::AddIOp>(
          loc, half, b.create<gpu::SubgroupIdOp>(loc, /*upper_bound=*/nullptr));
      Value elected =
          b.create<spirv::GroupNonUniformElectOp>(loc, spirv::Scope::Subgroup);
      auto store = b.create<scf::IfOp>(loc, elected, /*withElse=*/false);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(store.thenBlock());
        b.create<memref::StoreOp>(loc, mine, shared, slot);
      }
      b.create<gpu::BarrierOp>(loc);
      Value total = b.create<memref::LoadOp>(loc, shared, half);
      for (int64_t s = 1; s < subgroups; ++s)
        total = mlir::trueno::combineLike(
            b, loc, m.combiner, total,
            b.create<memref::LoadOp>(
                loc, shared,
                ValueRange{b.create<arith::AddIOp>(loc, half, index(s))}));
      return total;
    }
    b.create<memref::StoreOp>(loc, mine, shared, tid);
    b.create<gpu::BarrierOp>(loc);
    // The tree over the partial results.
    for (int64_t s = threads / 2; s >= 1; s /= 2) {
      Value active = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult,
                                             tid, index(s));
      auto branch = b.create<scf::IfOp>(loc, active, /*withElse=*/false);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(branch.thenBlock());
        Value mine = b.create<memref::LoadOp>(loc, shared, tid);
        Value other = b.create<memref::LoadOp>(
            loc, shared,
            ValueRange{b.create<arith::AddIOp>(loc, tid, index(s))});
        b.create<memref::StoreOp>(
            loc, mlir::trueno::combineLike(b, loc, m.combiner, mine, other),
            shared, tid);
      }
      b.create<gpu::BarrierOp>(loc);
    }
    return Value();
  }
};

} // namespace

Value mlir::trueno::combineLike(OpBuilder &builder, Location loc,
                                Operation *combiner, Value a, Value b) {
  OperationState state(loc, combiner->getName());
  state.addOperands({a, b});
  state.addTypes(combiner->getResultTypes());
  state.addAttributes(combiner->getAttrs());
  return builder.create(state)->getResult(0);
}
