//===- KernelABI.cpp - Tensor functions to destination-passing kernels ----===//
//
// The JIT calls a kernel with one buffer per input and per output. This pass
// turns `func.func @k(tensor...) -> (tensor...)` into
// `func.func @k(memref... inputs, memref... outputs)` so that bufferization
// writes the results directly into the output buffers.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Cpu/Passes.h"
#include "trueno/IR/TruenoDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_KERNELABI
#define GEN_PASS_DEF_WRITEOUTPUTSINPLACE
#include "trueno/Codegen/Cpu/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// The buffer type of a kernel argument: identity layout, or the static
/// strides of the view it is read through (the offset is always 0: the
/// caller passes the address of the view's first element).
MemRefType bufferTypeOf(Type tensor, DenseI64ArrayAttr strides = {}) {
  auto t = cast<RankedTensorType>(tensor);
  if (!strides)
    return MemRefType::get(t.getShape(), t.getElementType());
  auto layout = StridedLayoutAttr::get(t.getContext(), 0, strides.asArrayRef());
  return MemRefType::get(t.getShape(), t.getElementType(), layout);
}

struct KernelABIPass : public mlir::trueno::impl::KernelABIBase<KernelABIPass> {
  void runOnOperation() override {
    for (func::FuncOp func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (failed(convert(func)))
        return signalPassFailure();
    }
  }

  /// Gives every use of a tensor.empty its own op. CSE merges identical
  /// tensor.empty ops, and MLIR 19's eliminate-empty-tensors then lets two
  /// generics write one output buffer, which miscompiles (fixed upstream
  /// after 19). A test in codegen/test/kernel-abi.mlir covers it.
  static void splitSharedEmptyTensors(func::FuncOp func) {
    func.walk([](tensor::EmptyOp empty) {
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : empty->getUses())
        uses.push_back(&use);
      for (OpOperand *use : llvm::drop_begin(uses)) {
        OpBuilder b(empty);
        use->set(b.clone(*empty)->getResult(0));
      }
    });
  }

  /// The same for a reshape of a tensor.empty (trueno-tile-rows' dropped
  /// unit dimensions): each use gets its own reshape of its own empty.
  static void splitSharedReshapesOfEmpty(func::FuncOp func) {
    func.walk([](Operation *reshape) {
      if (!isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(reshape) ||
          !reshape->getOperand(0).getDefiningOp<tensor::EmptyOp>())
        return;
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : reshape->getResult(0).getUses())
        uses.push_back(&use);
      for (OpOperand *use : llvm::drop_begin(uses)) {
        OpBuilder b(reshape);
        IRMapping mapping;
        b.clone(*reshape->getOperand(0).getDefiningOp(), mapping);
        use->set(b.clone(*reshape, mapping)->getResult(0));
      }
    });
  }

  /// The same for a linalg.fill that initializes several reductions (CSE
  /// merges the fills of identical inits too): each use gets its own fill,
  /// so that no two results start from one buffer.
  static void splitSharedFills(func::FuncOp func) {
    func.walk([](linalg::FillOp fill) {
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : fill->getResult(0).getUses())
        uses.push_back(&use);
      for (OpOperand *use : llvm::drop_begin(uses)) {
        OpBuilder b(fill);
        use->set(b.clone(*fill)->getResult(0));
      }
    });
  }

  LogicalResult convert(func::FuncOp func) {
    FunctionType type = func.getFunctionType();
    for (Type t : llvm::concat<const Type>(type.getInputs(), type.getResults()))
      if (!isa<RankedTensorType>(t))
        return func.emitError("kernel arguments and results must be ranked "
                              "tensors, got ")
               << t;
    Block &entry = func.front();
    OpBuilder builder(&entry, entry.begin());
    SmallVector<Type> arguments;
    for (BlockArgument arg : entry.getArguments()) {
      Type tensor = arg.getType();
      auto strides = func.getArgAttrOfType<DenseI64ArrayAttr>(
          arg.getArgNumber(), mlir::trueno::kStridesAttrName);
      if (strides && static_cast<int64_t>(strides.size()) !=
                         cast<RankedTensorType>(tensor).getRank())
        return func.emitError("argument ")
               << arg.getArgNumber() << " has " << strides.size()
               << " strides for a tensor of rank "
               << cast<RankedTensorType>(tensor).getRank();
      arg.setType(bufferTypeOf(tensor, strides));
      auto read = builder.create<bufferization::ToTensorOp>(
          func.getLoc(), tensor, arg, /*restrict=*/true, /*writable=*/false);
      arg.replaceAllUsesExcept(read, read);
      arguments.push_back(arg.getType());
    }
    SmallVector<Value> outputs;
    for (Type result : type.getResults()) {
      outputs.push_back(entry.addArgument(bufferTypeOf(result), func.getLoc()));
      arguments.push_back(outputs.back().getType());
    }
    func.walk([&](func::ReturnOp ret) {
      OpBuilder b(ret);
      for (auto [value, out] : llvm::zip(ret.getOperands(), outputs)) {
        auto write = b.create<bufferization::MaterializeInDestinationOp>(
            ret.getLoc(), value, out);
        write.setRestrict(true);
        write.setWritable(true);
      }
      b.create<func::ReturnOp>(ret.getLoc());
      ret.erase();
    });
    func.removeArgAttrsAttr(); // the strides now live in the memref types
    func.setFunctionType(FunctionType::get(func.getContext(), arguments, {}));
    splitSharedFills(func);
    splitSharedReshapesOfEmpty(func);
    splitSharedEmptyTensors(func);
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(func.getContext()));
    // Outputs are fresh buffers that no input overlaps, and inputs are only
    // read, so no argument aliases one that is written: `noalias` lets LLVM
    // keep a reduction's accumulator in registers and vectorize it.
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      func.setArgAttr(i, "llvm.noalias", UnitAttr::get(func.getContext()));
    return success();
  }
};

/// Every use of `buffer` and of the views taken of it, through
/// view-like ops.
void collectUses(Value buffer, SmallVectorImpl<OpOperand *> &uses) {
  for (OpOperand &use : buffer.getUses()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(use.getOwner());
        view && view.getViewSource() == buffer) {
      collectUses(view->getResult(0), uses);
      continue;
    }
    uses.push_back(&use);
  }
}

struct WriteOutputsInPlacePass
    : public mlir::trueno::impl::WriteOutputsInPlaceBase<
          WriteOutputsInPlacePass> {
  void runOnOperation() override {
    getOperation()->walk([](func::FuncOp func) {
      if (func.isExternal())
        return;
      Block &body = func.front();
      for (memref::CopyOp copy :
           llvm::make_early_inc_range(body.getOps<memref::CopyOp>()))
        writeInPlace(copy, body);
    });
  }

  static void writeInPlace(memref::CopyOp copy, Block &body) {
    auto out = dyn_cast<BlockArgument>(copy.getTarget());
    if (!out || out.getOwner() != &body || !out.hasOneUse())
      return;
    // The copied buffer may be a reshape (collapse or expand) of the
    // allocation, as when a result reaches its output through a
    // trueno.reshape: the allocation is then replaced by the inverse
    // reshape of the output, which is a view since outputs are contiguous.
    SmallVector<Operation *> reshapes;
    Value source = copy.getSource();
    while (Operation *def = source.getDefiningOp()) {
      if (!isa<memref::CollapseShapeOp, memref::ExpandShapeOp>(def))
        break;
      reshapes.push_back(def);
      source = def->getOperand(0);
    }
    auto alloc = source.getDefiningOp<memref::AllocOp>();
    auto outType = cast<MemRefType>(out.getType());
    if (!alloc || alloc->getBlock() != &body ||
        !outType.getLayout().isIdentity())
      return;
    if (reshapes.empty() && alloc.getType() != outType)
      return;
    SmallVector<OpOperand *> uses;
    collectUses(alloc, uses);
    SmallVector<Operation *> deallocs;
    for (OpOperand *use : uses) {
      Operation *user = use->getOwner();
      if (user == copy)
        continue;
      if (isa<memref::DeallocOp>(user)) {
        deallocs.push_back(user);
        continue;
      }
      // Anything else must be done with the buffer before the copy.
      Operation *top = body.findAncestorOpInBlock(*user);
      if (!top || !top->isBeforeInBlock(copy))
        return;
    }
    OpBuilder b(alloc);
    Value replacement = out;
    for (Operation *reshape : reshapes) { // outermost first: undo in order
      Location loc = reshape->getLoc();
      auto inputType = cast<MemRefType>(reshape->getOperand(0).getType());
      if (!inputType.getLayout().isIdentity())
        return;
      auto identity =
          MemRefType::get(inputType.getShape(), inputType.getElementType());
      if (auto collapse = dyn_cast<memref::CollapseShapeOp>(reshape))
        replacement = b.create<memref::ExpandShapeOp>(
            loc, identity, replacement, collapse.getReassociationIndices());
      else
        replacement = b.create<memref::CollapseShapeOp>(
            loc, identity, replacement,
            cast<memref::ExpandShapeOp>(reshape).getReassociationIndices());
    }
    if (replacement.getType() != alloc.getType())
      return; // (dead views are removed by the next canonicalization)
    for (Operation *dealloc : deallocs)
      dealloc->erase();
    copy->erase();
    alloc.replaceAllUsesWith(replacement);
    alloc->erase();
  }
};

} // namespace
