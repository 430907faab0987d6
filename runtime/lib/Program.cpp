//===- Program.cpp - From a recorded graph to called kernels --------------===//
//
// compile(): Graph -> one `func.func @graph` of trueno ops (inputs read
// through their strides) -> the graph pipeline (passes/: canonicalize, CSE,
// fuse into kernels) -> the kernels moved into their own module and JIT-ed
// together (codegen/ + CpuKernel.cpp) -> a list of steps read off the calls
// left in @graph. run(): patches buffer addresses into prebuilt memref
// descriptors and calls the kernels in order.
//
//===----------------------------------------------------------------------===//
#include "trueno/Runtime/Program.h"
#include "trueno/IR/TruenoDialect.h"
#include "trueno/Passes/Passes.h"
#include "trueno/Runtime/CpuKernel.h"
#include "trueno/Runtime/HostAllocator.h"
#include "trueno/Runtime/KernelCache.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstring>

namespace trueno::runtime {

RuntimeCounters &counters() {
  static RuntimeCounters instance;
  return instance;
}

std::size_t Graph::hash() const {
  // FNV-1a over the fields; shapes dominate, so mix them word by word.
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  for (const GraphNode &n : nodes) {
    mix(static_cast<std::uint64_t>(n.op) << 8 |
        static_cast<std::uint64_t>(n.dtype));
    mix(n.operands.size());
    for (std::int32_t o : n.operands)
      mix(static_cast<std::uint64_t>(o));
    mix(n.shape.size());
    for (std::int64_t s : n.shape)
      mix(static_cast<std::uint64_t>(s));
    mix(n.strides.size());
    for (std::int64_t s : n.strides)
      mix(static_cast<std::uint64_t>(s));
    mix(n.attributes.size());
    for (const std::vector<std::int64_t> &attribute : n.attributes) {
      mix(attribute.size());
      for (std::int64_t v : attribute)
        mix(static_cast<std::uint64_t>(v));
    }
  }
  for (std::int32_t o : outputs)
    mix(static_cast<std::uint64_t>(o));
  return static_cast<std::size_t>(h);
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

/// Copies a strided view of `shape` into a contiguous buffer, element by
/// element of `itemSize` bytes.
void copyToContiguous(std::byte *dst, const std::byte *src, const Shape &shape,
                      const Strides &strides, int itemSize) {
  std::int64_t n = numelOf(shape);
  if (n == 0)
    return;
  std::vector<std::int64_t> index(shape.size(), 0);
  std::int64_t offset = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    std::memcpy(dst + i * itemSize, src + offset * itemSize, itemSize);
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
      offset += strides[d];
      if (++index[d] < shape[d])
        break;
      offset -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

std::string jsonString(llvm::StringRef text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buffer[8];
        std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
        out += buffer;
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

} // namespace

/// The kernels' machine code: from the disk cache when an earlier process
/// (or this one) compiled the same kernels for this target, else compiled
/// now and stored.
static llvm::Expected<std::unique_ptr<JitModule>>
compileOrLoad(mlir::ModuleOp kernels, const std::vector<std::string> &names,
              bool &fromDisk, bool debug) {
  KernelCache &cache = KernelCache::instance();
  if (!cache.enabled()) {
    counters().kernelsCompiled += names.size();
    return jitForCpu(kernels);
  }
  std::string ir;
  {
    llvm::raw_string_ostream os(ir);
    kernels.print(os);
  }
  CacheKeyParts parts = currentKeyParts(ir);
  CacheKey key = cacheKey(parts);
  if (debug) // what `trueno-cache explain` reads back
    llvm::errs() << "// ---- trueno: kernel cache key " << key.hex()
                 << " ----\n"
                 << ir << "// ---- trueno: end of kernels ----\n";
  auto start = std::chrono::steady_clock::now();
  if (std::optional<CacheEntry> entry = cache.load(key)) {
    auto code = loadObject(std::move(entry->object));
    if (code) {
      fromDisk = true;
      counters().diskHits++;
      counters().diskLoadMicros += static_cast<std::int64_t>(
          std::chrono::duration<double, std::micro>(
              std::chrono::steady_clock::now() - start)
              .count());
      return code;
    }
    llvm::consumeError(code.takeError()); // unloadable: compile instead
  }
  counters().diskMisses++;
  counters().kernelsCompiled += names.size();
  auto object = compileObject(kernels);
  if (!object)
    return object.takeError();
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();
  std::string metadata = "{\"kernels\": [";
  for (std::size_t i = 0; i < names.size(); ++i)
    metadata += (i ? ", " : "") + jsonString(names[i]);
  metadata +=
      "], \"target\": " + jsonString(parts.target) +
      ", \"trueno\": " + jsonString(parts.trueno) +
      ", \"llvm\": " + jsonString(parts.llvm) +
      ", \"options\": " + jsonString(parts.options) +
      ", \"compile_ms\": " + std::to_string(ms) + ", \"created\": " +
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count()) +
      ", \"ir\": " + jsonString(ir) + "}";
  cache.store(key, {*object, metadata});
  return loadObject(std::move(*object));
}

Program::~Program() = default;

llvm::Expected<std::unique_ptr<Program>> Program::compile(const Graph &graph,
                                                          bool debugGroups) {
  auto start = std::chrono::steady_clock::now();
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
  if (mlir::failed(mlir::parsePassPipeline(mlir::trueno::kGraphPipeline, pm)) ||
      mlir::failed(pm.run(*module)))
    return failure("the graph pipeline failed");
  if (debugGroups) {
    llvm::errs() << "// ---- trueno: fused kernels ----\n";
    module->print(llvm::errs());
    llvm::errs() << "\n";
  }

  std::unique_ptr<Program> program(new Program());
  auto graphFunc = module->lookupSymbol<mlir::func::FuncOp>("graph");
  llvm::DenseMap<mlir::Value, int> slotOf;
  // Inputs, in node order (= argument order).
  int input = 0;
  for (const GraphNode &node : graph.nodes) {
    if (node.op != OpCode::Input)
      continue;
    Strides strides =
        node.strides.empty() ? contiguousStrides(node.shape) : node.strides;
    slotOf[graphFunc.getArgument(input)] = program->slots_.size();
    program->slots_.push_back({Slot::Input, input, node.shape, strides, 0});
    ++input;
  }
  // Each returned value is written by its kernel straight into the first
  // output that returns it.
  auto ret = llvm::cast<mlir::func::ReturnOp>(graphFunc.front().back());
  llvm::DenseMap<mlir::Value, int> firstOutput;
  for (auto [j, value] : llvm::enumerate(ret.getOperands()))
    firstOutput.try_emplace(value, static_cast<int>(j));

  mlir::OwningOpRef<mlir::ModuleOp> kernels =
      mlir::ModuleOp::create(module->getLoc());
  std::vector<std::string> entries;
  for (mlir::Operation &op : graphFunc.front().without_terminator()) {
    auto call = llvm::cast<mlir::func::CallOp>(op);
    auto kernel = module->lookupSymbol<mlir::func::FuncOp>(call.getCallee());
    Step step{nullptr, {}};
    for (mlir::Value operand : call.getOperands())
      step.slots.push_back(slotOf.at(operand));
    for (mlir::Value result : call.getResults()) {
      auto type = llvm::cast<mlir::RankedTensorType>(result.getType());
      Shape shape(type.getShape().begin(), type.getShape().end());
      int slot = program->slots_.size();
      auto out = firstOutput.find(result);
      if (out != firstOutput.end()) {
        program->slots_.push_back(
            {Slot::Output, out->second, shape, contiguousStrides(shape), 0});
      } else {
        int bits = type.getElementType().getIntOrFloatBitWidth();
        std::int64_t bytes = numelOf(shape) * std::max(1, bits / 8);
        program->slots_.push_back({Slot::Temporary, program->temporaries_++,
                                   shape, contiguousStrides(shape), bytes});
      }
      slotOf[result] = slot;
      step.slots.push_back(slot);
    }
    program->steps_.push_back(std::move(step));
    entries.push_back(kernel.getSymName().str());
    mlir::Operation *copy = kernel->clone();
    llvm::cast<mlir::func::FuncOp>(copy).setPublic();
    kernels->push_back(copy);
  }
  for (auto [j, value] : llvm::enumerate(ret.getOperands())) {
    int slot = slotOf.at(value);
    const Slot &s = program->slots_[slot];
    if (s.kind == Slot::Output && s.index == static_cast<int>(j))
      continue;
    program->copies_.push_back({slot, static_cast<int>(j),
                                itemSize(graph.nodes[graph.outputs[j]].dtype)});
  }

  if (!program->steps_.empty()) {
    auto code =
        compileOrLoad(*kernels, entries, program->fromDisk_, debugGroups);
    if (!code)
      return code.takeError();
    program->code_ = std::move(*code);
    for (auto [step, entry] : llvm::zip(program->steps_, entries)) {
      auto function = program->code_->lookupPacked(entry);
      if (!function)
        return function.takeError();
      step.entry = *function;
    }
  }
  program->compileMs_ = std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - start)
                            .count();
  counters().programsCompiled++;
  counters().compileMicros +=
      static_cast<std::int64_t>(program->compileMs_ * 1e3);
  return program;
}

void Program::run(std::span<void *const> inputs,
                  std::span<void *const> outputs) const {
  // One memref descriptor per slot, as the kernels' C interface expects.
  std::vector<void *> addresses(slots_.size());
  std::vector<void *> temporaries(temporaries_, nullptr);
  HostAllocator &allocator = HostAllocator::instance();
  std::size_t words = 0;
  for (const Slot &s : slots_)
    words += descriptorWords(s.shape.size());
  std::vector<std::int64_t> descriptors(words);
  std::vector<std::int64_t *> descriptorOf(slots_.size());
  std::size_t at = 0;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const Slot &s = slots_[i];
    void *data = nullptr;
    switch (s.kind) {
    case Slot::Input:
      data = inputs[s.index];
      break;
    case Slot::Output:
      data = outputs[s.index];
      break;
    case Slot::Temporary:
      data = temporaries[s.index] =
          allocator.allocate(static_cast<std::size_t>(s.bytes));
      break;
    }
    addresses[i] = data;
    descriptorOf[i] = descriptors.data() + at;
    writeDescriptor(descriptorOf[i], data, s.shape, s.strides);
    at += descriptorWords(s.shape.size());
  }
  llvm::SmallVector<std::int64_t *, 8> arguments;
  for (const Step &step : steps_) {
    arguments.clear();
    for (int slot : step.slots)
      arguments.push_back(descriptorOf[slot]);
    callPacked(step.entry, arguments);
  }
  counters().kernelsLaunched += steps_.size();
  for (const Copy &c : copies_) {
    const Slot &from = slots_[c.from];
    copyToContiguous(static_cast<std::byte *>(outputs[c.output]),
                     static_cast<const std::byte *>(addresses[c.from]),
                     from.shape, from.strides, c.itemSize);
  }
  for (std::size_t i = 0; i < slots_.size(); ++i)
    if (slots_[i].kind == Slot::Temporary)
      allocator.deallocate(temporaries[slots_[i].index],
                           static_cast<std::size_t>(slots_[i].bytes));
}

} // namespace trueno::runtime
