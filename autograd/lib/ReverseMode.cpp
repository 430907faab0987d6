//===- ReverseMode.cpp - Expands trueno.gradient into backward ops --------===//
//
// Reverse-mode differentiation of a function's trueno ops, driven by its
// `trueno.gradient` ops (the pass's description in Passes.td states the
// algorithm). Works on one block: the recorded graph is a single-block
// function of trueno ops.
//
//===----------------------------------------------------------------------===//
#include "trueno/Autograd/Autograd.h"
#include "trueno/IR/TruenoOps.h"

#include "trueno/IR/TruenoDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_REVERSEMODE
#include "trueno/Autograd/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;
using namespace mlir::trueno;

namespace {

/// A rank-0 zero of `like`'s element type, expanded to its shape.
Value zerosLike(OpBuilder &b, Location loc, Value like) {
  auto type = cast<RankedTensorType>(like.getType());
  auto scalarType = RankedTensorType::get({}, type.getElementType());
  Value zero = b.create<ConstantOp>(
      loc, scalarType,
      DenseElementsAttr::get(scalarType, ArrayRef<Attribute>{b.getFloatAttr(
                                             type.getElementType(), 0.0)}));
  return type.getRank() == 0 ? zero : b.create<ExpandOp>(loc, type, zero);
}

/// One reverse sweep from `output` (seeded with `seed`) for the gradient
/// ops of `group`, inserted before `group.front()`.
LogicalResult expandGroup(ArrayRef<GradientOp> group) {
  GradientOp first = group.front();
  Value output = first.getOutput();
  OpBuilder b(first);
  Location loc = first.getLoc();

  // 1. Values that depend on a requested input: forward reachability.
  llvm::DenseSet<Value> relevant;
  SmallVector<Value> work;
  for (GradientOp g : group)
    if (relevant.insert(g.getWrt()).second)
      work.push_back(g.getWrt());
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (isa<GradientOp>(user) || user->getBlock() != first->getBlock() ||
          !user->isBeforeInBlock(first))
        continue;
      for (Value r : user->getResults())
        if (relevant.insert(r).second)
          work.push_back(r);
    }
  }

  // 2. Adjoints, from the output back to the start of the block.
  llvm::DenseMap<Value, Value> adjoint;
  if (relevant.contains(output))
    adjoint[output] = first.getSeed();
  Operation *start = output.getDefiningOp();
  if (start && start->getBlock() == first->getBlock() &&
      relevant.contains(output)) {
    for (Operation *op = start; op; op = op->getPrevNode()) {
      // (Every rule is of a one-result op: an op of several results whose
      // results have a gradient is reported below, for it has no rule.)
      if (llvm::none_of(op->getResults(),
                        [&](Value r) { return adjoint.contains(r); }))
        continue;
      bool readsRelevant = llvm::any_of(
          op->getOperands(), [&](Value v) { return relevant.contains(v); });
      if (!readsRelevant)
        continue;
      auto rule = dyn_cast<GradientOpInterface>(op);
      if (!rule)
        return op->emitOpError("has no gradient rule, but ")
               << first->getName() << " differentiates through it";
      FailureOr<SmallVector<Value>> grads =
          rule.buildGradients(b, adjoint.lookup(op->getResult(0)));
      if (failed(grads))
        return failure();
      assert(grads->size() == op->getNumOperands() &&
             "a gradient rule gives one gradient per operand");
      for (auto [operand, grad] : llvm::zip(op->getOperands(), *grads)) {
        // Rules give integer and bool operands no gradient (a null Value),
        // and float operands one of their own type.
        if (!grad || !relevant.contains(operand))
          continue;
        auto [it, inserted] = adjoint.try_emplace(operand, grad);
        if (!inserted)
          it->second = b.create<AddOp>(loc, grad.getType(), it->second, grad);
      }
    }
  }

  // 3. Each gradient op is its input's adjoint (zeros when the output does
  // not depend on it).
  for (GradientOp g : group) {
    Value result = adjoint.lookup(g.getWrt());
    if (!result) {
      OpBuilder at(g);
      result = zerosLike(at, g.getLoc(), g.getWrt());
    }
    g.getResult().replaceAllUsesWith(result);
    g.erase();
  }
  return success();
}

/// Gradient checkpointing: each region's forward ops (`trueno.recompute`)
/// are copied, in order, just before the first backward op that reads one
/// of their values, and the backward ops read the copies. The forward
/// values of the region then die with their forward readers, and the
/// copies (marked `trueno.recomputed`, so CSE keeps them apart) are
/// computed again when the backward pass needs them.
void recomputeCheckpoints(Operation *root,
                          const llvm::DenseSet<Operation *> &forward) {
  llvm::MapVector<std::int64_t, SmallVector<Operation *>> regions;
  // (Only forward ops carry the attribute: the rules build new ops.)
  root->walk([&](Operation *op) {
    if (auto id = op->getAttrOfType<IntegerAttr>(kRecomputeAttrName))
      regions[id.getInt()].push_back(op);
  });
  for (auto &[id, ops] : regions) {
    auto backward = [&](Operation *user) {
      return !forward.contains(user) && !user->hasAttr(kRecomputedAttrName);
    };
    // The first backward reader of the region's values.
    Operation *first = nullptr;
    for (Operation *op : ops)
      for (Operation *user : op->getUsers())
        if (backward(user) && user->getBlock() == op->getBlock() &&
            (!first || user->isBeforeInBlock(first)))
          first = user;
    if (!first)
      continue; // no gradient reads the region
    OpBuilder b(first);
    IRMapping copies;
    for (Operation *op : ops) {
      Operation *copy = b.clone(*op, copies);
      copy->removeAttr(kRecomputeAttrName);
      copy->setAttr(kRecomputedAttrName, b.getI32IntegerAttr(id));
    }
    for (Operation *op : ops)
      for (Value result : op->getResults())
        result.replaceUsesWithIf(copies.lookup(result), [&](OpOperand &use) {
          return backward(use.getOwner());
        });
  }
}

struct ReverseModePass
    : public mlir::trueno::impl::ReverseModeBase<ReverseModePass> {
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<TruenoDialect>();
    registerGradientRules(registry);
  }

  void runOnOperation() override {
    // The ops before any expansion: every op created from here on is a
    // backward op. (Gradient ops are left out: they are erased, and a new
    // op may reuse the address.)
    llvm::DenseSet<Operation *> forward;
    getOperation().walk([&](Operation *op) {
      if (!isa<GradientOp>(op))
        forward.insert(op);
    });
    // In order, so that a gradient of expanded gradients (a second
    // derivative) sees only ordinary ops.
    while (true) {
      GradientOp first;
      getOperation().walk([&](GradientOp g) {
        first = g;
        return WalkResult::interrupt();
      });
      if (!first)
        break;
      SmallVector<GradientOp> group;
      for (Operation &op : *first->getBlock())
        if (auto g = dyn_cast<GradientOp>(op);
            g && g.getOutput() == first.getOutput() &&
            g.getSeed() == first.getSeed())
          group.push_back(g);
      if (failed(expandGroup(group)))
        return signalPassFailure();
    }
    // Values realized earlier: every use of the definition (the forward
    // ops and the rules that read its result) reads the stored value, so
    // the definition is dead unless a gradient rule needs its operands.
    // (Dead definitions go with the canonicalization that follows.)
    SmallVector<StoredOp> stored;
    getOperation().walk([&](StoredOp op) { stored.push_back(op); });
    for (StoredOp op : stored) {
      Value definition = op.getDefinition(), value = op.getValue();
      definition.replaceAllUsesExcept(value, op);
      op.getResult().replaceAllUsesWith(value);
      forward.erase(op);
      op.erase();
    }
    recomputeCheckpoints(getOperation(), forward);
  }
};

} // namespace
