//===- FormKernels.cpp - Partition a graph into fused kernels -------------===//
//
// The recorded graph arrives as one function of trueno ops. This pass decides
// which ops share a loop nest (a fusion group) and outlines each group into
// a kernel function, leaving the graph function as a sequence of calls that
// the runtime executes. Codegen then turns each kernel into a single
// linalg.generic (linalg-fuse-elementwise-ops does the loop-level fusion
// inside a kernel); this pass decides the kernel boundaries.
//
//===----------------------------------------------------------------------===//
#include "trueno/IR/TruenoOps.h"
#include "trueno/Passes/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_FORMKERNELS
#include "trueno/Passes/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;
using namespace mlir::trueno;

namespace {

bool isReduction(Operation *op) {
  return isa<ReduceSumOp, ReduceProdOp, ReduceMaxOp, ReduceMinOp, ArgMaxOp,
             ArgMinOp>(op);
}

/// Matrix products and convolutions: each output element reads a whole
/// row, column or window of its operands.
bool isContraction(Operation *op) { return isa<MatmulOp, Conv2dOp>(op); }

/// Ops that move data between shapes: their operands and result differ in
/// shape, so a producer joins them at the operand's shape and a consumer at
/// the result's (codegen reads through them with indexing maps, reshapes
/// and windows of one buffer).
bool isMovement(Operation *op) {
  return isa<TransposeOp, ReshapeOp, SliceOp, InsertSliceOp, PadOp, ConcatOp,
             ScatterOp, ScatterAddOp>(op);
}

/// Ops whose recomputation per broadcast element costs more than reading a
/// materialized result would: reductions, products, transcendental
/// functions, division, power and random numbers (twenty 32-bit products
/// an element).
bool isExpensive(Operation *op) {
  if (isReduction(op) || isContraction(op) || isa<RandomUniformOp>(op))
    return true;
  // The elementwise ops' costs, as trueno/OpTable.def marks them. A table
  // rather than one `if` per op: those would be branches on constants.
  constexpr bool Expensive = true, Cheap = false;
  struct Cost {
    TypeID op;
    bool expensive;
  };
  static const Cost costs[] = {
#define TRUENO_UNARY(Code, mnemonic, function, rule, cost)                     \
  {TypeID::get<Code##Op>(), cost},
#define TRUENO_BINARY(Code, mnemonic, function, cost)                          \
  {TypeID::get<Code##Op>(), cost},
#define TRUENO_ELEMENTWISE(Code, mnemonic, attributes, cost)                   \
  {TypeID::get<Code##Op>(), cost},
#include "trueno/OpTable.def"
  };
  TypeID id = op->getName().getTypeID();
  for (const Cost &cost : costs)
    if (cost.op == id)
      return cost.expensive;
  return false; // expand, movement and indexing ops
}

ArrayRef<int64_t> shapeOf(Operation *op) {
  return cast<RankedTensorType>(op->getResult(0).getType()).getShape();
}

/// The shape an op iterates over: its result's, or for a reduction its
/// input's (so producers of that shape fuse into it, consumers of the
/// reduced result do not).
ArrayRef<int64_t> domainOf(Operation *op) {
  if (isReduction(op))
    return cast<RankedTensorType>(op->getOperand(0).getType()).getShape();
  return shapeOf(op);
}

/// The shape at which `op` reads `operand`: a movement op reads each
/// operand at its own shape, every other op at its domain.
ArrayRef<int64_t> readDomain(Operation *op, Value operand) {
  if (isMovement(op))
    return cast<RankedTensorType>(operand.getType()).getShape();
  return domainOf(op);
}

/// The bytes of one row of `reduction`: the elements that reduce to one.
int64_t rowBytes(Operation *reduction) {
  auto input = cast<RankedTensorType>(reduction->getOperand(0).getType());
  auto result = cast<RankedTensorType>(reduction->getResult(0).getType());
  if (!input.hasStaticShape() || result.getNumElements() == 0)
    return std::numeric_limits<int64_t>::max();
  return input.getNumElements() / result.getNumElements() *
         std::max<int64_t>(1, input.getElementTypeBitWidth() / 8);
}

/// Ops a kernel may recompute rather than read: elementwise ops, casts and
/// broadcasts (constants are cloned into every kernel anyway).
bool isRecomputable(Operation *op) {
  return op && isa<TruenoDialect>(op->getDialect()) && !isReduction(op) &&
         !isContraction(op) && !isa<ConstantOp, ScatterOp, ScatterAddOp>(op);
}

/// The ops of `v`'s elementwise cone (what computes it from inputs,
/// reductions and products), in no particular order, or nothing if it has
/// more than `limit` ops.
SmallVector<Operation *> coneOf(Value v, int limit) {
  llvm::SetVector<Operation *> cone;
  SmallVector<Value> work = {v};
  while (!work.empty()) {
    Operation *def = work.pop_back_val().getDefiningOp();
    if (!isRecomputable(def) || !cone.insert(def))
      continue;
    if (static_cast<int>(cone.size()) > limit)
      return {};
    llvm::append_range(work, def->getOperands());
  }
  return cone.takeVector();
}

/// Whether `op` reads `target`'s result, directly or through other ops (all
/// of one block: the pass accepts only trueno ops, which have no regions).
bool dependsOn(Operation *op, Operation *target) {
  SmallVector<Operation *> work = {op};
  llvm::DenseSet<Operation *> seen;
  while (!work.empty()) {
    Operation *o = work.pop_back_val();
    if (o == target)
      return true;
    if (!o || !seen.insert(o).second || o->isBeforeInBlock(target))
      continue;
    for (Value operand : o->getOperands())
      work.push_back(operand.getDefiningOp());
  }
  return false;
}

/// softmax's `e = exp(x - m)` feeds both `sum(e)` and `e / sum(e)`. The
/// division needs the sum, so it cannot share the reduction's kernel unless
/// row fusion puts them together, and `e` would be written by one kernel and
/// read back by the next: 8 bytes of traffic per element. Instead each such
/// consumer gets its own copy of the (small, elementwise) cone that computes
/// `e`, fused into its kernel, and the reduction's kernel no longer outputs
/// `e`. Where row fusion does put the consumer in the reduction's kernel
/// (`keepShared` says so), `e` stays one value: stored in the cache-resident
/// block, it is cheaper than computing exp twice (softmax over [1000, 1000]:
/// 0.23-0.24 ms instead of 0.26-0.27 ms, same session).
void recomputeAcrossReductions(
    Block &body,
    llvm::function_ref<bool(Operation *, ArrayRef<Operation *>)> keepShared) {
  constexpr int kMaxCone = 16;
  SmallVector<Operation *> reductions;
  for (Operation &op : body.without_terminator())
    if (isReduction(&op))
      reductions.push_back(&op);
  for (Operation *reduction : reductions) {
    Value v = reduction->getOperand(0);
    if (!isRecomputable(v.getDefiningOp()))
      continue;
    SmallVector<Operation *> later;
    for (Operation *user : v.getUsers())
      if (user != reduction && isRecomputable(user) &&
          dependsOn(user, reduction))
        later.push_back(user);
    if (later.empty() || keepShared(reduction, later))
      continue;
    SmallVector<Operation *> cone = coneOf(v, kMaxCone);
    if (cone.empty())
      continue;
    llvm::sort(
        cone, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
    for (Operation *user : later) {
      OpBuilder builder(user);
      IRMapping mapping;
      for (Operation *op : cone) // in block order: operands first
        builder.clone(*op, mapping);
      user->replaceUsesOfWith(v, mapping.lookup(v));
    }
  }
}

/// Fusion groups over the trueno ops of one block, as a union-find over the
/// ops' positions. Each group iterates over one shape (its domain).
class Partition {
public:
  /// `rowFusionBytes`: a reduction's result broadcast back over the
  /// reduction's own input (softmax's `x - max(x)`, a variance's `x -
  /// mean(x)`) joins the reduction's kernel when one reduced row is at most
  /// this many bytes (the pass option row-fusion-bytes, from the target's
  /// cache size): codegen (trueno-tile-rows) then runs the kernel a block
  /// of rows at a time, and the sweeps after the first read rows still in
  /// the cache. Larger rows would not stay there, and keep one kernel per
  /// sweep.
  Partition(Block &body, int64_t rowFusionBytes, int64_t maxBuffers = 0,
            bool widenIntoProducts = false)
      : rowFusionBytes_(rowFusionBytes), maxBuffers_(maxBuffers),
        widenIntoProducts_(widenIntoProducts) {
    for (Operation &op : body.without_terminator()) {
      if (isa<ConstantOp>(op))
        continue; // cloned into each kernel that uses it
      position_[&op] = ops_.size();
      ops_.push_back(&op);
      parent_.push_back(parent_.size());
      members_.push_back({static_cast<int>(members_.size())});
      domain_.push_back(domainOf(&op));
    }
    for (auto [i, op] : llvm::enumerate(ops_))
      for (Value operand : op->getOperands())
        tryFuse(operand, i);
    for (auto [i, op] : llvm::enumerate(ops_))
      for (Value operand : op->getOperands())
        tryFuseRowBack(operand, i);
  }

  /// Whether `a` and `b` (ops of the block, not constants) ended up in one
  /// fusion group.
  bool sameGroup(Operation *a, Operation *b) {
    return find(position_.at(a)) == find(position_.at(b));
  }

  /// The groups in an order where every group comes after those it reads.
  SmallVector<SmallVector<Operation *>> groupsInDependencyOrder() {
    SmallVector<int> roots;
    for (int i = 0, e = ops_.size(); i < e; ++i)
      if (find(i) == i)
        roots.push_back(i); // ascending first member: a stable order
    SmallVector<SmallVector<Operation *>> ordered;
    llvm::DenseSet<int> placed;
    while (ordered.size() < roots.size()) {
      // The first group not yet placed whose inputs all are; there is one,
      // as fusion never merges groups into a cycle.
      const int *next = llvm::find_if(roots, [&](int root) {
        return !placed.contains(root) &&
               llvm::all_of(predecessors(root),
                            [&](int p) { return placed.contains(p); });
      });
      assert(next != roots.end() && "fusion groups form a cycle");
      placed.insert(*next);
      SmallVector<int> sorted = members_[*next];
      llvm::sort(sorted);
      ordered.emplace_back();
      for (int m : sorted)
        ordered.back().push_back(ops_[m]);
    }
    return ordered;
  }

private:
  int find(int i) {
    while (parent_[i] != i)
      i = parent_[i] = parent_[parent_[i]];
    return i;
  }

  std::optional<int> groupOf(Value v) {
    Operation *def = v.getDefiningOp();
    auto it = def ? position_.find(def) : position_.end();
    if (it == position_.end())
      return std::nullopt;
    return find(it->second);
  }

  /// The other groups whose values `root`'s members read.
  SmallVector<int> predecessors(int root) {
    llvm::SetVector<int> preds;
    for (int m : members_[root])
      for (Value operand : ops_[m]->getOperands())
        if (std::optional<int> g = groupOf(operand); g && *g != root)
          preds.insert(*g);
    return preds.takeVector();
  }

  /// Whether `from` reads, directly or through other groups, any of `roots`.
  bool reaches(int from, ArrayRef<int> roots, llvm::DenseSet<int> &seen) {
    if (!seen.insert(from).second)
      return false;
    for (int p : predecessors(from))
      if (llvm::is_contained(roots, p) || reaches(p, roots, seen))
        return true;
    return false;
  }

  /// Merging `a` and `b` would make a cycle if a third group sits on a path
  /// between them. With only elementwise ops and expands this cannot happen
  /// (a group can only feed larger shapes); reductions make it possible.
  bool mergeMakesCycle(int a, int b) {
    int pair[] = {a, b};
    llvm::DenseSet<int> seen;
    for (int root : pair)
      for (int p : predecessors(root))
        if (!llvm::is_contained(pair, p) && reaches(p, pair, seen))
          return true;
    return false;
  }

  /// Whether groups `a` and `b` together would bind more than maxBuffers_
  /// buffers: the values their members read from outside them (constants
  /// are cloned in, not bound) and those they compute for outside readers.
  bool tooManyBuffers(int a, int b) {
    if (maxBuffers_ <= 0)
      return false;
    auto inUnion = [&](Operation *op) {
      auto it = op ? position_.find(op) : position_.end();
      if (it == position_.end())
        return false;
      int root = find(it->second);
      return root == a || root == b;
    };
    llvm::SmallPtrSet<void *, 32> buffers;
    for (int root : {a, b})
      for (int m : members_[root]) {
        for (Value operand : ops_[m]->getOperands())
          if (!operand.getDefiningOp<ConstantOp>() &&
              !inUnion(operand.getDefiningOp()))
            buffers.insert(operand.getAsOpaquePointer());
        for (Value result : ops_[m]->getResults())
          if (llvm::any_of(result.getUsers(),
                           [&](Operation *user) { return !inUnion(user); }))
            buffers.insert(result.getAsOpaquePointer());
      }
    return static_cast<int64_t>(buffers.size()) > maxBuffers_;
  }

  /// Whether the group is one exact widening of float16 or bfloat16 to
  /// float32 (what trueno-fold-widening-into-matmuls lets a product read
  /// directly: bfloat16 where it runs on bfloat16 cooperative matrices).
  bool isWideningOnly(int root) {
    if (members_[root].size() != 1)
      return false;
    auto cast = dyn_cast<CastOp>(ops_[members_[root].front()]);
    if (!cast)
      return false;
    Type from = getElementTypeOrSelf(cast->getOperand(0).getType()),
         to = getElementTypeOrSelf(cast->getResult(0).getType());
    return (from.isF16() || from.isBF16()) && to.isF32();
  }

  bool isCheap(int root) {
    return llvm::none_of(members_[root],
                         [&](int m) { return isExpensive(ops_[m]); });
  }

  /// Whether every use of the group's values is inside it or is `consumer`.
  bool onlyFeeds(int root, Operation *consumer) {
    for (int m : members_[root])
      for (Operation *user : ops_[m]->getUsers()) {
        if (user == consumer)
          continue;
        auto it = position_.find(user);
        if (it == position_.end() || find(it->second) != root)
          return false;
      }
    return true;
  }

  void tryFuse(Value operand, int consumerIndex) {
    std::optional<int> producer = groupOf(operand);
    int consumer = find(consumerIndex);
    if (!producer || *producer == consumer)
      return;
    Operation *consumerOp = ops_[consumerIndex];
    if (isContraction(consumerOp)) {
      // A product reads whole rows and columns of its operands, not one
      // element per iteration: they must be materialized first. Its
      // elementwise consumers (bias, activation) do fuse after it. With
      // widen-into-products, a widening of halves it alone reads joins it
      // (codegen then reads the halves: trueno-fold-widening-into-matmuls).
      if (!(widenIntoProducts_ && isa<MatmulOp>(consumerOp) &&
            isWideningOnly(*producer) && onlyFeeds(*producer, consumerOp)))
        return;
    } else if (isa<ExpandOp>(consumerOp)) {
      // Pulling the producer through the broadcast recomputes it once per
      // output element: worth it only for cheap ops nobody else needs.
      if (!isCheap(*producer) || !onlyFeeds(*producer, consumerOp))
        return;
    } else if (domainOf(operand.getDefiningOp()) !=
               readDomain(consumerOp, operand)) {
      // Fused ops share one loop nest: the producer must compute exactly
      // what the consumer reads, element for element (a reduction's result
      // is not its domain; a movement op adapts the shapes).
      return;
    } else if (auto gather = dyn_cast<GatherOp>(consumerOp);
               gather && operand == gather.getInput()) {
      // A gather reads its input at data-dependent positions: the input is
      // materialized first; the index is read one element per iteration
      // and its producers do fuse.
      return;
    }
    if (mergeMakesCycle(*producer, consumer) ||
        tooManyBuffers(*producer, consumer))
      return;
    merge(*producer, consumer);
  }

  /// A reduction whose result a group iterating over the reduction's own
  /// domain reads (through a broadcast, maybe after cheap ops on the reduced
  /// value such as a mean's scaling) joins that group, when one row is at
  /// most rowFusionBytes_. So does a group of elementwise ops on the
  /// reduced values between them, which the broadcast would not take in
  /// (layerNorm's 1 / sqrt(var + eps): recomputing its rsqrt per element
  /// would cost more than reading it), with the reduction it reads: in one
  /// kernel it runs once per row. Its values must have no other readers.
  void tryFuseRowBack(Value operand, int consumerIndex) {
    Operation *def = operand.getDefiningOp();
    auto at = def ? position_.find(def) : position_.end();
    if (at == position_.end())
      return;
    int consumer = find(consumerIndex);
    if (isRowReduction(def)) {
      int producer = find(at->second);
      if (producer != consumer && rowFusable(def, producer, consumer) &&
          !mergeMakesCycle(producer, consumer) &&
          !tooManyBuffers(producer, consumer))
        merge(producer, consumer);
      return;
    }
    int middle = find(at->second);
    if (middle == consumer)
      return;
    Operation *reduction = nullptr;
    for (int m : members_[middle]) {
      Operation *op = ops_[m];
      if (!isRecomputable(op) || isMovement(op) || isa<ExpandOp>(op) ||
          shapeOf(op) != shapeOf(def))
        return;
      for (Operation *user : op->getUsers()) {
        auto in = position_.find(user); // not the function's return
        if (in == position_.end() ||
            (find(in->second) != middle && find(in->second) != consumer))
          return;
      }
      for (Value v : op->getOperands())
        if (Operation *read = v.getDefiningOp();
            read && isRowReduction(read) &&
            find(position_.at(read)) != middle) {
          if (reduction &&
              find(position_.at(reduction)) != find(position_.at(read)))
            return; // reductions of two groups
          reduction = read;
        }
    }
    if (!reduction || shapeOf(reduction) != shapeOf(def))
      return;
    int producer = find(position_.at(reduction));
    if (producer != consumer && !rowFusable(reduction, producer, consumer))
      return;
    // Tentatively: undone if a merge would make a cycle or bind too many
    // buffers.
    SmallVector<int> parents = parent_;
    SmallVector<SmallVector<int>> members = members_;
    auto tryMerge = [&](int a, int b) {
      a = find(a), b = find(b);
      if (a == b)
        return true;
      if (mergeMakesCycle(a, b) || tooManyBuffers(a, b))
        return false;
      merge(a, b);
      return true;
    };
    if (!tryMerge(middle, producer) || !tryMerge(producer, consumer)) {
      parent_ = std::move(parents);
      members_ = std::move(members);
    }
  }

  static bool isRowReduction(Operation *op) {
    return isa<ReduceSumOp, ReduceProdOp, ReduceMaxOp, ReduceMinOp>(op);
  }

  /// Whether `reduction`, in group `producer`, may join group `consumer`:
  /// both iterate over its input's shape, and a row fits rowFusionBytes_.
  bool rowFusable(Operation *reduction, int producer, int consumer) {
    return domain_[producer] == domain_[consumer] &&
           rowBytes(reduction) <= rowFusionBytes_;
  }

  /// Group `from` joins group `into` (both roots).
  void merge(int from, int into) {
    parent_[from] = into;
    members_[into].append(members_[from]);
    members_[from].clear();
  }

  SmallVector<Operation *> ops_;
  llvm::DenseMap<Operation *, int> position_;
  SmallVector<int> parent_;
  SmallVector<SmallVector<int>> members_;
  SmallVector<ArrayRef<int64_t>> domain_;
  int64_t rowFusionBytes_;
  int64_t maxBuffers_;
  bool widenIntoProducts_;
};

struct FormKernelsPass
    : public mlir::trueno::impl::FormKernelsBase<FormKernelsPass> {
  using FormKernelsBase::FormKernelsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> graphs;
    for (func::FuncOp func : module.getOps<func::FuncOp>())
      if (!func.isExternal() && !func->hasAttr(kKernelAttrName))
        graphs.push_back(func);
    for (func::FuncOp func : graphs)
      if (failed(partition(func, symbols)))
        return signalPassFailure();
  }

  LogicalResult partition(func::FuncOp func, SymbolTable &symbols) {
    lastKernel_ = nullptr;
    if (!func.getBody().hasOneBlock())
      return func.emitError("trueno-form-kernels expects one block");
    Block &body = func.front();
    for (Operation &op : body.without_terminator())
      if (!isa<TruenoDialect>(op.getDialect()))
        return op.emitError("trueno-form-kernels expects only trueno ops "
                            "in a graph function, found ")
               << op.getName();

    // Values nothing returns are not computed (all trueno ops are pure).
    SmallVector<Operation *> ops = llvm::map_to_vector(
        body.without_terminator(), [](Operation &op) { return &op; });
    for (Operation *op : llvm::reverse(ops))
      if (op->use_empty())
        op->erase();

    {
      // Where row fusion already puts a reduction and the later readers of
      // its input in one kernel, that input is stored in the block once.
      Partition rowFused(body, rowFusionBytes, maxBuffers, widenIntoProducts);
      recomputeAcrossReductions(
          body, [&](Operation *reduction, ArrayRef<Operation *> later) {
            return rowBytes(reduction) <= rowFusionBytes &&
                   llvm::all_of(later, [&](Operation *user) {
                     return rowFused.sameGroup(user, reduction);
                   });
          });
    }
    SmallVector<SmallVector<Operation *>> groups =
        Partition(body, rowFusionBytes, maxBuffers, widenIntoProducts)
            .groupsInDependencyOrder();
    // A constant returned as it is still needs a kernel to write it.
    for (Value result : body.getTerminator()->getOperands())
      if (auto constant = result.getDefiningOp<ConstantOp>())
        groups.push_back({constant});

    OpBuilder builder(body.getTerminator());
    for (auto [index, members] : llvm::enumerate(groups))
      outline(func, members, index, builder, symbols);
    // An argument returned as it is (a copy of a view: x.T().clone()) gets
    // a kernel that copies it, so that the copy is generated code (strided
    // reads, vectorized, on all cores) like everything else.
    llvm::SmallDenseMap<Value, Value> copies;
    Operation *terminator = body.getTerminator();
    for (OpOperand &result : terminator->getOpOperands()) {
      auto argument = dyn_cast<BlockArgument>(result.get());
      if (!argument)
        continue;
      auto [it, inserted] = copies.try_emplace(argument, Value());
      if (inserted)
        it->second =
            outlineCopy(func, argument, groups.size() + copies.size() - 1,
                        builder, symbols);
      result.set(it->second);
    }
    // The calls now compute every value the graph used: its ops go, users
    // first, and with them the constants (cloned into the kernels).
    for (auto &members : llvm::reverse(groups))
      for (Operation *op : llvm::reverse(members))
        op->erase();
    for (Operation &op : llvm::make_early_inc_range(body.without_terminator()))
      if (isa<ConstantOp>(op))
        op.erase();
    return success();
  }

  /// A kernel that returns its one argument, called on `argument`.
  Value outlineCopy(func::FuncOp func, BlockArgument argument, size_t index,
                    OpBuilder &builder, SymbolTable &symbols) {
    Location loc = func.getLoc();
    OpBuilder moduleBuilder(func->getContext());
    moduleBuilder.setInsertionPointAfter(lastKernel_ ? lastKernel_ : func);
    Type type = argument.getType();
    auto kernel = moduleBuilder.create<func::FuncOp>(
        loc, (func.getSymName() + "_kernel" + Twine(index)).str(),
        FunctionType::get(func.getContext(), type, type));
    kernel.setPrivate();
    kernel->setAttr(kKernelAttrName, moduleBuilder.getUnitAttr());
    symbols.insert(kernel, moduleBuilder.getInsertionPoint());
    lastKernel_ = kernel;
    if (Attribute strides =
            func.getArgAttr(argument.getArgNumber(), kStridesAttrName))
      kernel.setArgAttr(0, kStridesAttrName, strides);
    Block *entry = kernel.addEntryBlock();
    OpBuilder::atBlockEnd(entry).create<func::ReturnOp>(loc,
                                                        entry->getArgument(0));
    return builder.create<func::CallOp>(loc, kernel, ValueRange{argument})
        .getResult(0);
  }

  /// Moves `members` into a new kernel function and calls it from `func`.
  void outline(func::FuncOp func, ArrayRef<Operation *> members, size_t index,
               OpBuilder &builder, SymbolTable &symbols) {
    llvm::DenseSet<Operation *> inGroup(members.begin(), members.end());
    llvm::SetVector<Value> inputs;
    SmallVector<Value> outputs;
    for (Operation *op : members) {
      for (Value operand : op->getOperands()) {
        Operation *def = operand.getDefiningOp();
        if (!inGroup.contains(def) && !isa_and_nonnull<ConstantOp>(def))
          inputs.insert(operand);
      }
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              return !inGroup.contains(user);
            }))
          outputs.push_back(result);
    }

    Location loc = members.front()->getLoc();
    // Kernels follow the graph function, in the order they run.
    OpBuilder moduleBuilder(func->getContext());
    moduleBuilder.setInsertionPointAfter(lastKernel_ ? lastKernel_ : func);
    auto type = FunctionType::get(
        func.getContext(),
        llvm::to_vector(ValueRange(inputs.getArrayRef()).getTypes()),
        llvm::to_vector(ValueRange(outputs).getTypes()));
    auto kernel = moduleBuilder.create<func::FuncOp>(
        loc, (func.getSymName() + "_kernel" + Twine(index)).str(), type);
    kernel.setPrivate();
    kernel->setAttr(kKernelAttrName, moduleBuilder.getUnitAttr());
    symbols.insert(kernel, moduleBuilder.getInsertionPoint());
    lastKernel_ = kernel;
    for (auto [i, input] : llvm::enumerate(inputs))
      if (auto arg = dyn_cast<BlockArgument>(input))
        if (Attribute strides =
                func.getArgAttr(arg.getArgNumber(), kStridesAttrName))
          kernel.setArgAttr(i, kStridesAttrName, strides);

    Block *entry = kernel.addEntryBlock();
    OpBuilder kernelBuilder = OpBuilder::atBlockEnd(entry);
    IRMapping mapping;
    for (auto [input, arg] : llvm::zip(inputs, entry->getArguments()))
      mapping.map(input, arg);
    for (Operation *op : members) {
      for (Value operand : op->getOperands())
        // (A constant is a member only of the kernel that returns it.)
        if (auto constant = operand.getDefiningOp<ConstantOp>();
            constant && !mapping.contains(operand))
          kernelBuilder.clone(*constant, mapping);
      kernelBuilder.clone(*op, mapping);
    }
    kernelBuilder.create<func::ReturnOp>(
        loc, llvm::map_to_vector(outputs,
                                 [&](Value v) { return mapping.lookup(v); }));

    auto call = builder.create<func::CallOp>(loc, kernel, inputs.getArrayRef());
    for (auto [output, replacement] : llvm::zip(outputs, call.getResults()))
      output.replaceUsesWithIf(replacement, [&](OpOperand &use) {
        return !inGroup.contains(use.getOwner());
      });
  }

  Operation *lastKernel_ = nullptr;
};

} // namespace
