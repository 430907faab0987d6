//===- Schedule.cpp - A graph as kernels and the order they run in --------===//
//
// scheduleGraph(): Graph -> one `func.func @graph` of trueno ops (inputs
// read through their strides) -> the graph pipeline (passes/: canonicalize,
// CSE, fuse into kernels) -> the kernels moved into their own module, and
// the calls left in @graph read off as steps over slots. Nothing here
// depends on the device.
//
//===----------------------------------------------------------------------===//
#include "trueno/Runtime/Schedule.h"
#include "trueno/Codegen/Cpu/Pipeline.h"
#include "trueno/Codegen/Vulkan/Pipeline.h"
#include "trueno/IR/TruenoDialect.h"
#include "trueno/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

#include <cassert>

namespace trueno::runtime {

mlir::MLIRContext &compilerContext() {
  static mlir::MLIRContext *context = [] {
    // Every dialect, interface model and translation a backend's pipeline
    // uses, registered once.
    mlir::DialectRegistry registry;
    mlir::trueno::registerVulkanCodegen(registry); // and the CPU's
    auto *context = new mlir::MLIRContext(registry);
    // Graphs are built in these directly; passes load the rest.
    context
        ->loadDialect<mlir::func::FuncDialect, mlir::trueno::TruenoDialect>();
    return context;
  }();
  return *context;
}

namespace {

mlir::Type elementType(mlir::MLIRContext &context, DType dtype) {
  switch (dtype) {
  case DType::Bool:
    return mlir::IntegerType::get(&context, 1);
  case DType::Int8:
    return mlir::IntegerType::get(&context, 8);
  case DType::Int16:
    return mlir::IntegerType::get(&context, 16);
  case DType::Int32:
    return mlir::IntegerType::get(&context, 32);
  case DType::Int64:
    return mlir::IntegerType::get(&context, 64);
  case DType::UInt8:
    return mlir::IntegerType::get(&context, 8, mlir::IntegerType::Unsigned);
  case DType::Float16:
    return mlir::Float16Type::get(&context);
  case DType::BFloat16:
    return mlir::BFloat16Type::get(&context);
  case DType::Float32:
    return mlir::Float32Type::get(&context);
  case DType::Float64:
    return mlir::Float64Type::get(&context);
  }
  return {};
}

mlir::RankedTensorType tensorType(mlir::MLIRContext &context,
                                  const GraphNode &node) {
  return mlir::RankedTensorType::get(node.shape,
                                     elementType(context, node.dtype));
}

/// Adds a node's attributes to `state` as its op table schema says
/// (trueno/OpTable.def: `name:array`, `name:int`, `name:unit`).
void addAttributes(mlir::OpBuilder &b, mlir::OperationState &state,
                   llvm::StringRef schema,
                   const std::vector<std::vector<std::int64_t>> &values) {
  llvm::SmallVector<llvm::StringRef> entries;
  schema.split(entries, ' ', -1, /*KeepEmpty=*/false);
  assert(entries.size() == values.size() &&
         "a graph node's attributes do not match its op's schema");
  for (auto [entry, value] : llvm::zip(entries, values)) {
    auto [name, kind] = entry.split(':');
    if (kind == "array")
      state.addAttribute(name, b.getDenseI64ArrayAttr(value));
    else if (kind == "int")
      state.addAttribute(name, b.getI64IntegerAttr(value.at(0)));
    else if (kind == "unit" && !value.empty() && value[0] != 0)
      state.addAttribute(name, b.getUnitAttr());
  }
}

/// `@graph`: one trueno op per node, the wanted nodes returned.
mlir::OwningOpRef<mlir::ModuleOp> buildGraphModule(mlir::MLIRContext &context,
                                                   const Graph &graph) {
  mlir::OpBuilder b(&context);
  mlir::Location loc = b.getUnknownLoc();
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(loc);
  llvm::SmallVector<mlir::Type> inputs, results;
  for (const GraphNode &node : graph.nodes)
    if (node.op == OpCode::Input)
      inputs.push_back(tensorType(context, node));
  for (std::int32_t o : graph.outputs)
    results.push_back(tensorType(context, graph.nodes[o]));
  b.setInsertionPointToEnd(module->getBody());
  auto func = b.create<mlir::func::FuncOp>(loc, "graph",
                                           b.getFunctionType(inputs, results));
  mlir::Block *entry = func.addEntryBlock();
  b.setInsertionPointToEnd(entry);

  std::vector<mlir::Value> values(graph.nodes.size());
  unsigned argument = 0;
  for (auto [i, node] : llvm::enumerate(graph.nodes)) {
    if (node.op == OpCode::Input) {
      if (!node.strides.empty())
        func.setArgAttr(argument, mlir::trueno::kStridesAttrName,
                        b.getDenseI64ArrayAttr(node.strides));
      values[i] = entry->getArgument(argument++);
      continue;
    }
    mlir::OperationState state(loc, ("trueno." + std::string(opName(node.op))));
    for (std::int32_t o : node.operands)
      state.addOperands(values[o]);
    state.addTypes(tensorType(context, node));
    addAttributes(b, state, opAttributes(node.op), node.attributes);
    if (node.recomputeRegion != 0)
      state.addAttribute(mlir::trueno::kRecomputeAttrName,
                         b.getI32IntegerAttr(node.recomputeRegion));
    values[i] = b.create(state)->getResult(0);
  }
  llvm::SmallVector<mlir::Value> returned;
  for (std::int32_t o : graph.outputs)
    returned.push_back(values[o]);
  b.create<mlir::func::ReturnOp>(loc, returned);
  return module;
}

llvm::Error failure(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

} // namespace

llvm::Expected<KernelSchedule> scheduleGraph(const Graph &graph,
                                             const std::string &graphPipeline,
                                             bool debug) {
  mlir::MLIRContext &context = compilerContext();
  mlir::trueno::registerGraphPasses();
  mlir::OwningOpRef<mlir::ModuleOp> module = buildGraphModule(context, graph);
  if (mlir::failed(mlir::verify(*module))) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os);
    return failure("the recorded graph is not valid trueno IR:\n" + text);
  }
  mlir::PassManager pm(&context);
  if (mlir::failed(mlir::parsePassPipeline(graphPipeline, pm)) ||
      mlir::failed(pm.run(*module)))
    return failure("the graph pipeline failed");
  if (debug) {
    llvm::errs() << "// ---- trueno: fused kernels ----\n";
    module->print(llvm::errs());
    llvm::errs() << "\n";
  }

  KernelSchedule schedule;
  using Slot = KernelSchedule::Slot;
  auto graphFunc = module->lookupSymbol<mlir::func::FuncOp>("graph");
  llvm::DenseMap<mlir::Value, int> slotOf;
  // Inputs, in node order (= argument order).
  int input = 0;
  for (const GraphNode &node : graph.nodes) {
    if (node.op != OpCode::Input)
      continue;
    Strides strides =
        node.strides.empty() ? contiguousStrides(node.shape) : node.strides;
    slotOf[graphFunc.getArgument(input)] = schedule.slots.size();
    schedule.slots.push_back(
        {Slot::Input, input, node.shape, strides, 0, itemSize(node.dtype)});
    ++input;
  }
  // Each returned value is written by its kernel straight into the first
  // output that returns it.
  auto ret = llvm::cast<mlir::func::ReturnOp>(graphFunc.front().back());
  llvm::DenseMap<mlir::Value, int> firstOutput;
  for (auto [j, value] : llvm::enumerate(ret.getOperands()))
    firstOutput.try_emplace(value, static_cast<int>(j));

  schedule.kernels = mlir::ModuleOp::create(module->getLoc());
  for (mlir::Operation &op : graphFunc.front().without_terminator()) {
    auto call = llvm::cast<mlir::func::CallOp>(op);
    auto kernel = module->lookupSymbol<mlir::func::FuncOp>(call.getCallee());
    KernelSchedule::Step step{kernel.getSymName().str(), {}};
    for (mlir::Value operand : call.getOperands())
      step.slots.push_back(slotOf.at(operand));
    for (mlir::Value result : call.getResults()) {
      auto type = llvm::cast<mlir::RankedTensorType>(result.getType());
      Shape shape(type.getShape().begin(), type.getShape().end());
      int slot = schedule.slots.size();
      auto out = firstOutput.find(result);
      int item = std::max(
          1,
          static_cast<int>(type.getElementType().getIntOrFloatBitWidth() / 8));
      if (out != firstOutput.end()) {
        schedule.slots.push_back({Slot::Output, out->second, shape,
                                  contiguousStrides(shape), 0, item});
      } else {
        std::int64_t bytes = numelOf(shape) * item;
        schedule.slots.push_back({Slot::Temporary, schedule.temporaries++,
                                  shape, contiguousStrides(shape), bytes,
                                  item});
      }
      slotOf[result] = slot;
      step.slots.push_back(slot);
    }
    schedule.steps.push_back(std::move(step));
    mlir::Operation *copy = kernel->clone();
    llvm::cast<mlir::func::FuncOp>(copy).setPublic();
    schedule.kernels->push_back(copy);
  }
  for (auto [j, value] : llvm::enumerate(ret.getOperands())) {
    int slot = slotOf.at(value);
    const Slot &s = schedule.slots[slot];
    if (s.kind == Slot::Output && s.index == static_cast<int>(j))
      continue;
    schedule.copies.push_back({slot, static_cast<int>(j),
                               itemSize(graph.nodes[graph.outputs[j]].dtype)});
  }
  return schedule;
}

} // namespace trueno::runtime
