//===- Lazy.cpp - Recording, realizing and the program cache --------------===//
//
// record() appends a node; realize() turns the nodes a pending storage needs
// into a runtime::Graph (which is also the cache key: ops, dtypes, shapes,
// input strides, no data), finds or compiles its runtime::Program, allocates
// the outputs and runs it. See Lazy.h for the data structure and
// docs/ARCHITECTURE.md for the design.
//
//===----------------------------------------------------------------------===//
#include "lazy/Lazy.h"
#include "trueno/Core/Cast.h"
#include "trueno/Core/Check.h"
#include "tensor/Dispatch.h"

#include "trueno/Execution.h"
#include "trueno/Runtime/CpuKernel.h"
#include "trueno/Runtime/HostAllocator.h"
#include "trueno/Runtime/Program.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace trueno {

namespace {

/// A pending graph past this many computed nodes is realized as soon as it
/// is recorded: kernels stay a reasonable size to compile, and long loops
/// that never read their values do not grow memory without bound.
constexpr std::int64_t kRealizeWeight = 256;

struct LazyState {
  std::recursive_mutex mutex;
  std::unordered_map<runtime::Graph, std::shared_ptr<runtime::Program>,
                     runtime::GraphHash>
      programs;
  /// Pending storages, for sync(); expired entries are pruned as it grows.
  std::vector<std::weak_ptr<Storage>> pending;
  std::size_t pruneAt = 64;
  std::uint64_t epoch = 0;
  std::int64_t realizes = 0, hits = 0, misses = 0;
};

LazyState &state() {
  static LazyState *instance = new LazyState(); // outlives static tensors
  return *instance;
}

using runtime::debugLevel;

bool sameLayout(const Shape &shape, const Strides &a, const Strides &b) {
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != 1 && a[d] != b[d])
      return false;
  return true;
}

/// Whether the view `t` of a pending result of shape `base` is a broadcast
/// of it (NumPy's broadcast_to): trailing dimensions equal with the result's
/// own strides, or size 1 in the result and stride 0 in the view.
bool isBroadcastOf(const TensorImpl &t, const Shape &base) {
  std::size_t rank = t.shape.size(), baseRank = base.size();
  if (rank < baseRank)
    return false;
  Strides own = contiguousStrides(base);
  std::size_t lead = rank - baseRank;
  for (std::size_t d = 0; d < lead; ++d)
    if (t.shape[d] != 1 && t.strides[d] != 0)
      return false;
  for (std::size_t d = 0; d < baseRank; ++d) {
    std::int64_t size = t.shape[lead + d], stride = t.strides[lead + d];
    if (size == base[d]) {
      if (size != 1 && stride != own[d])
        return false;
    } else if (base[d] != 1 || stride != 0) {
      return false;
    }
  }
  return true;
}

std::shared_ptr<LazyNode> inputNode(std::shared_ptr<Storage> storage,
                                    DType dtype, Shape shape, Strides strides,
                                    std::int64_t offset) {
  auto node = std::make_shared<LazyNode>();
  node->op = OpCode::Input;
  node->dtype = dtype;
  node->shape = std::move(shape);
  node->becomeInput(std::move(storage), std::move(strides), offset);
  return node;
}

std::shared_ptr<LazyNode>
computedNode(OpCode op, DType dtype, Shape shape,
             std::vector<std::shared_ptr<LazyNode>> operands) {
  auto node = std::make_shared<LazyNode>();
  node->op = op;
  node->dtype = dtype;
  node->shape = std::move(shape);
  node->weight = 1;
  for (const auto &operand : operands)
    node->weight = std::min<std::int64_t>(node->weight + operand->weight,
                                          std::int64_t(1) << 40);
  node->operands = std::move(operands);
  return node;
}

/// The strides a graph input is keyed and compiled with: those of size-1
/// dimensions do not matter and are made canonical, and a contiguous view
/// has none at all (the kernel gets an identity layout).
Strides canonicalStrides(const LazyNode &input) {
  Strides own = contiguousStrides(input.shape);
  if (sameLayout(input.shape, input.strides, own))
    return {};
  Strides strides = input.strides;
  for (std::size_t d = 0; d < strides.size(); ++d)
    if (input.shape[d] == 1)
      strides[d] = own[d];
  return strides;
}

bool sameView(const LazyNode &a, const LazyNode &b) {
  return a.storage == b.storage && a.offset == b.offset && a.dtype == b.dtype &&
         a.shape == b.shape && a.strides == b.strides;
}

/// The computed nodes `root` needs, operands before users.
std::vector<LazyNode *> topologicalOrder(LazyNode *root, std::uint64_t epoch) {
  std::vector<LazyNode *> order;
  std::vector<std::pair<LazyNode *, int>> stack = {{root, 0}};
  root->visitedIn = epoch;
  while (!stack.empty()) {
    auto &[node, next] = stack.back();
    if (next < static_cast<int>(node->operands.size())) {
      LazyNode *operand = node->operands[next++].get();
      if (!operand->isInput() && operand->visitedIn != epoch) {
        operand->visitedIn = epoch;
        stack.push_back({operand, 0});
      }
      continue;
    }
    order.push_back(node);
    stack.pop_back();
  }
  return order;
}

} // namespace

void LazyNode::becomeInput(std::shared_ptr<Storage> source, Strides viewStrides,
                           std::int64_t viewOffset) {
  op = OpCode::Input;
  operands = {};
  target.reset();
  weight = 0;
  source->pendingReaders.fetch_add(1, std::memory_order_relaxed);
  storage = std::move(source);
  strides = std::move(viewStrides);
  offset = viewOffset;
}

namespace detail {

std::shared_ptr<LazyNode> nodeOf(const TensorImpl &t) {
  std::lock_guard lock(state().mutex);
  if (t.storage->isPending()) {
    std::shared_ptr<LazyNode> pending = t.storage->pendingNode();
    if (t.dtype == pending->dtype && t.offset == 0) {
      if (t.shape == pending->shape &&
          sameLayout(t.shape, t.strides, contiguousStrides(t.shape)))
        return pending;
      if (isBroadcastOf(t, pending->shape))
        return expandNode(pending, t.shape);
    }
    // Any other view (a transpose, a slice) of a pending value reads the
    // computed result through its strides: a kernel boundary.
    realize(*t.storage);
  }
  return inputNode(t.storage, t.dtype, t.shape, t.strides, t.offset);
}

std::shared_ptr<LazyNode> expandNode(std::shared_ptr<LazyNode> node,
                                     const Shape &shape) {
  if (node->shape == shape)
    return node;
  if (node->isInput()) {
    // A broadcast of a realized view is a view: zero strides, no op.
    std::size_t lead = shape.size() - node->shape.size();
    Strides strides(shape.size(), 0);
    for (std::size_t d = 0; d < node->shape.size(); ++d)
      strides[lead + d] =
          node->shape[d] == shape[lead + d] ? node->strides[d] : 0;
    return inputNode(node->storage, node->dtype, shape, std::move(strides),
                     node->offset);
  }
  DType dtype = node->dtype;
  return computedNode(OpCode::Expand, dtype, shape, {std::move(node)});
}

std::shared_ptr<LazyNode> castNode(std::shared_ptr<LazyNode> node,
                                   DType dtype) {
  if (node->dtype == dtype)
    return node;
  Shape shape = node->shape;
  return computedNode(OpCode::Cast, dtype, std::move(shape), {std::move(node)});
}

std::shared_ptr<LazyNode> scalarNode(const Scalar &value, DType dtype,
                                     const Shape &shape) {
  auto storage = Storage::allocate(itemSize(dtype), Device::cpu());
  dispatchDType(dtype, [&]<typename T>(TypeTag<T>) {
    T v = value.to<T>();
    std::memcpy(storage->bytes(), &v, sizeof(T));
  });
  return inputNode(std::move(storage), dtype, shape, Strides(shape.size(), 0),
                   0);
}

Tensor record(OpCode op, DType dtype, Shape shape,
              std::vector<std::shared_ptr<LazyNode>> operands, Device device,
              Attributes attributes) {
  if (numelOf(shape) == 0)
    return makeContiguous(dtype, std::move(shape), device); // nothing to do
  LazyState &s = state();
  std::lock_guard lock(s.mutex);
  std::shared_ptr<LazyNode> node =
      computedNode(op, dtype, shape, std::move(operands));
  node->attributes = std::move(attributes);
  auto storage =
      Storage::pending(numelOf(shape) * itemSize(dtype), device, node);
  node->target = storage;
  s.pending.push_back(storage);
  if (s.pending.size() >= s.pruneAt) {
    std::erase_if(s.pending, [](const std::weak_ptr<Storage> &w) {
      auto p = w.lock();
      return !p || !p->isPending();
    });
    s.pruneAt = 2 * s.pending.size() + 64;
  }
  Strides strides = contiguousStrides(shape);
  Tensor result(std::make_shared<TensorImpl>(dtype, std::move(shape),
                                             std::move(strides), 0, storage));
  if (node->weight > kRealizeWeight) {
    if (debugLevel() >= 1)
      fmt::print(stderr,
                 "trueno: realizing early: the pending graph reached {} "
                 "nodes (limit {})\n",
                 node->weight, kRealizeWeight);
    realize(*storage);
  }
  return result;
}

void realize(Storage &root) {
  LazyState &s = state();
  std::lock_guard lock(s.mutex);
  if (!root.isPending())
    return;
  std::shared_ptr<LazyNode> rootNode = root.pendingNode();
  std::uint64_t epoch = ++s.epoch;
  std::vector<LazyNode *> order = topologicalOrder(rootNode.get(), epoch);

  runtime::Graph graph;
  std::vector<void *> inputs;
  std::vector<LazyNode *> inputNodes;
  auto indexOf = [&](LazyNode *operand) -> std::int32_t {
    if (!operand->isInput())
      return operand->graphIndex;
    if (operand->visitedIn == epoch)
      return operand->graphIndex;
    operand->visitedIn = epoch;
    for (LazyNode *seen : inputNodes)
      if (sameView(*seen, *operand))
        return operand->graphIndex = seen->graphIndex;
    operand->graphIndex = static_cast<std::int32_t>(graph.nodes.size());
    inputNodes.push_back(operand);
    graph.nodes.push_back({OpCode::Input,
                           operand->dtype,
                           {},
                           operand->shape,
                           canonicalStrides(*operand),
                           {}});
    inputs.push_back(operand->storage->bytes() +
                     operand->offset * itemSize(operand->dtype));
    return operand->graphIndex;
  };

  // Every computed node whose storage is still held is written too, so
  // that reading it later costs nothing.
  std::vector<std::shared_ptr<LazyNode>> outputNodes;
  std::vector<std::shared_ptr<Storage>> outputStorages;
  for (LazyNode *node : order) {
    runtime::GraphNode g{node->op,    node->dtype, {},
                         node->shape, {},          node->attributes};
    for (const std::shared_ptr<LazyNode> &operand : node->operands)
      g.operands.push_back(indexOf(operand.get()));
    node->graphIndex = static_cast<std::int32_t>(graph.nodes.size());
    graph.nodes.push_back(std::move(g));
    std::shared_ptr<Storage> target = node->target.lock();
    if (target && target->isPending()) {
      outputNodes.push_back(target->pendingNode());
      outputStorages.push_back(std::move(target));
      graph.outputs.push_back(node->graphIndex);
    }
  }

  ++s.realizes;
  std::shared_ptr<runtime::Program> program;
  auto found = s.programs.find(graph);
  bool hit = found != s.programs.end();
  int debug = debugLevel();
  if (hit) {
    ++s.hits;
    program = found->second;
  } else {
    ++s.misses;
    auto compiled = runtime::Program::compile(graph, debug >= 2);
    if (!compiled)
      fail<CompileError>(
          {}, "realize", "please report it with the output of TRUENO_DEBUG=3",
          "compiling a graph of {} nodes failed: {}", graph.nodes.size(),
          llvm::toString(compiled.takeError()));
    program = std::move(*compiled);
    s.programs.emplace(std::move(graph), program);
  }

  runtime::HostAllocator &allocator = runtime::HostAllocator::instance();
  std::vector<void *> outputs;
  for (const auto &storage : outputStorages) {
    void *bytes =
        allocator.allocate(static_cast<std::size_t>(storage->nbytes()));
    if (!bytes) {
      for (std::size_t i = 0; i < outputs.size(); ++i)
        allocator.deallocate(
            outputs[i], static_cast<std::size_t>(outputStorages[i]->nbytes()));
      fail<MemoryError>({}, "realize",
                        "free some tensors, or realize smaller pieces",
                        "cannot allocate {} bytes", storage->nbytes());
    }
    outputs.push_back(bytes);
  }
  auto ran = std::chrono::steady_clock::now();
  program->run(inputs, outputs);
  auto done = std::chrono::steady_clock::now();

  for (std::size_t i = 0; i < outputNodes.size(); ++i) {
    outputNodes[i]->becomeInput(outputStorages[i],
                                contiguousStrides(outputNodes[i]->shape), 0);
    outputStorages[i]->setComputed(static_cast<std::byte *>(outputs[i]));
  }
  if (debug >= 1) {
    auto ms = [](auto a, auto b) {
      return std::chrono::duration<double, std::milli>(b - a).count();
    };
    fmt::print(
        stderr,
        "trueno: realize: {} ops, {} inputs, {} outputs -> {} "
        "kernel{}, {}, ran in {:.3f} ms\n",
        order.size(), inputNodes.size(), outputNodes.size(),
        program->kernelCount(), program->kernelCount() == 1 ? "" : "s",
        hit ? std::string("cache hit")
            : fmt::format("cache miss, {} in {:.1f} ms",
                          program->fromDisk() ? "loaded from disk" : "compiled",
                          program->compileMs()),
        ms(ran, done));
  }
}

void syncAll() {
  LazyState &s = state();
  std::lock_guard lock(s.mutex);
  std::vector<std::weak_ptr<Storage>> pending;
  pending.swap(s.pending);
  for (const auto &weak : pending)
    if (auto storage = weak.lock())
      realize(*storage);
}

} // namespace detail

void sync() { detail::syncAll(); }

RuntimeStats runtimeStats() {
  LazyState &s = state();
  std::lock_guard lock(s.mutex);
  runtime::RuntimeCounters &c = runtime::counters();
  RuntimeStats stats;
  stats.realizes = s.realizes;
  stats.cacheHits = s.hits;
  stats.cacheMisses = s.misses;
  stats.kernelsLaunched = c.kernelsLaunched.load();
  stats.kernelsCompiled = c.kernelsCompiled.load();
  stats.compileMs = static_cast<double>(c.compileMicros.load()) / 1e3;
  stats.cachedPrograms = static_cast<std::int64_t>(s.programs.size());
  stats.diskCacheHits = c.diskHits.load();
  stats.diskCacheMisses = c.diskMisses.load();
  stats.diskLoadMs = static_cast<double>(c.diskLoadMicros.load()) / 1e3;
  return stats;
}

void clearProgramCache() {
  LazyState &s = state();
  std::lock_guard lock(s.mutex);
  s.programs.clear();
}

} // namespace trueno
