//===- Lazy.cpp - Recording, realizing and the program cache --------------===//
//
// record() appends a node; realize() turns the nodes a pending storage needs
// into a runtime::Graph (which is also the cache key: device, ops, dtypes,
// shapes, input strides, no data), finds or compiles its executable in the
// runtime's program cache, allocates
// the outputs and runs it. See Lazy.h for the data structure and
// docs/ARCHITECTURE.md for the design.
//
//===----------------------------------------------------------------------===//
#include "lazy/Lazy.h"
#include "tensor/Dispatch.h"
#include "trueno/Autograd.h"
#include "trueno/Core/Cast.h"
#include "trueno/Core/Check.h"

#include "trueno/Execution.h"
#include "trueno/Runtime/Counters.h"
#include "trueno/Runtime/Cpu/CpuBackend.h"
#include "trueno/Runtime/Cpu/CpuKernel.h"
#include "trueno/Runtime/ProgramCache.h"
#include "trueno/Runtime/Vulkan/VulkanBackend.h"

#include <fmt/format.h>
#include <llvm/ADT/ScopeExit.h>
#include <llvm/ADT/SmallVector.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <numeric>
#include <optional>
#include <unordered_map>

namespace trueno {

namespace {

/// A pending graph past this many computed nodes is realized as soon as it
/// is recorded: kernels stay a reasonable size to compile, and long loops
/// that never read their values do not grow memory without bound.
constexpr std::int64_t kRealizeWeight = 256;

struct LazyState {
  std::recursive_mutex mutex;
  /// Pending storages, for sync(); expired entries are pruned as it grows.
  std::vector<std::weak_ptr<Storage>> pending;
  /// Storages with a pending write (assignView): every realize computes
  /// them too, so that a loop of updates runs as one program.
  std::vector<std::weak_ptr<Storage>> writes;
  std::size_t pruneAt = 64;
  std::uint64_t epoch = 0;
  std::int64_t realizes = 0, hits = 0, misses = 0;
  /// The last realize's graph, rebuilt in place by the next one (its
  /// nodes' shapes and operand lists keep their memory: a training step's
  /// graph of 400 nodes was some 2000 allocations and frees a step), and
  /// nodes beyond its end kept for a larger graph.
  runtime::Graph graph;
  std::vector<runtime::GraphNode> spareNodes;
  bool graphInUse = false;
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

std::shared_ptr<LazyNode> inputNode(runtime::BufferRef buffer, DType dtype,
                                    Shape shape, Strides strides,
                                    std::int64_t offset) {
  auto node = std::make_shared<LazyNode>();
  node->op = OpCode::Input;
  node->dtype = dtype;
  node->shape = std::move(shape);
  node->becomeInput(std::move(buffer), std::move(strides), offset);
  return node;
}

std::shared_ptr<LazyNode>
computedNode(OpCode op, DType dtype, Shape shape,
             std::vector<std::shared_ptr<LazyNode>> operands) {
  // Operands' weights change when another thread's realize makes them
  // Inputs.
  std::lock_guard lock(state().mutex);
  auto node = std::make_shared<LazyNode>();
  node->op = op;
  node->dtype = dtype;
  node->shape = std::move(shape);
  node->weight = 1;
  // A gradient is expanded by the compiler, in its reader's program: it
  // counts as one node here, so that the early-realize heuristic does not
  // cut a training step into pieces.
  if (op != OpCode::Gradient)
    for (const auto &operand : operands)
      node->weight = std::min<std::int64_t>(node->weight + operand->weight,
                                            std::int64_t(1) << 40);
  // A float result of an operand that requires grad requires grad, while
  // grad mode is on; a detach never does.
  if (op != OpCode::Detach && isFloating(dtype) && isGradEnabled())
    for (const auto &operand : operands)
      node->requiresGrad |= operand->requiresGrad;
  for (const auto &operand : operands)
    node->readsGrad |= operand->readsGrad || operand->requiresGrad;
  node->operands = std::move(operands);
  node->checkpointRegion = detail::currentCheckpointRegion();
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
  return a.buffer.buffer == b.buffer.buffer &&
         a.buffer.offset == b.buffer.offset && a.offset == b.offset &&
         a.dtype == b.dtype && a.shape == b.shape && a.strides == b.strides;
}

/// An operand as a graph reads it. In a graph that computes gradients, a
/// realized value that requires grad is its definition, so that the
/// gradient reaches through it to the tensors it was computed from; the
/// graph reads the stored value through a `trueno.stored` node (see
/// realize), so the definition is differentiated, not recomputed.
LazyNode *resolved(LazyNode *node, bool definitions) {
  return definitions && node->definition ? node->definition.get() : node;
}

/// Appends the computed nodes `root` needs that are not in `order` yet,
/// operands before users (with `definitions`, through realized values'
/// definitions).
void topologicalOrder(LazyNode *root, std::uint64_t epoch,
                      std::vector<LazyNode *> &order, bool definitions) {
  if (root->visitedIn == epoch)
    return;
  std::vector<std::pair<LazyNode *, int>> stack = {{root, 0}};
  root->visitedIn = epoch;
  while (!stack.empty()) {
    auto &[node, next] = stack.back();
    if (next < static_cast<int>(node->operands.size())) {
      LazyNode *operand = resolved(node->operands[next++].get(), definitions);
      if (!operand->isInput() && operand->visitedIn != epoch) {
        operand->visitedIn = epoch;
        stack.push_back({operand, 0});
      }
      continue;
    }
    order.push_back(node);
    stack.pop_back();
  }
}

} // namespace

void LazyNode::becomeInput(runtime::BufferRef source, Strides viewStrides,
                           std::int64_t viewOffset) {
  if (requiresGrad && op != OpCode::Input && !definition) {
    definition = std::make_shared<LazyNode>();
    definition->op = op;
    definition->dtype = dtype;
    definition->shape = shape;
    definition->operands = operands;
    definition->attributes = attributes;
    definition->where = where;
    definition->requiresGrad = true;
    definition->weight = weight;
    definition->storedIn = this;
    definition->checkpointRegion = checkpointRegion;
  }
  op = OpCode::Input;
  operands = {};
  target.reset();
  weight = 0;
  buffer = std::move(source);
  strides = std::move(viewStrides);
  offset = viewOffset;
}

namespace detail {

std::recursive_mutex &lazyMutex() { return state().mutex; }

namespace {

/// The node reading the view `t` of `base`, the whole value of `t`'s
/// storage in row-major order: `base` itself, a broadcast of it, or movement
/// ops over it; null when no chain of them expresses the view.
std::shared_ptr<LazyNode> viewOfValue(const TensorImpl &t,
                                      const std::shared_ptr<LazyNode> &base) {
  if (t.dtype != base->dtype)
    return nullptr;
  if (t.offset == 0) {
    if (t.shape == base->shape &&
        sameLayout(t.shape, t.strides, contiguousStrides(t.shape)))
      return base;
    if (isBroadcastOf(t, base->shape))
      return expandNode(base, t.shape);
  }
  return viewNode(base, t.shape, t.strides, t.offset);
}

/// A leaf's node for the storage's current version (rebuilt after a
/// write): an Input reading its buffer, or, while a write to it is
/// pending, an identity of the pending value (a node of its own, so that
/// gradients are with respect to it alone).
std::shared_ptr<LazyNode> leafNode(const std::shared_ptr<Storage> &storage,
                                   Storage::GradState &g) {
  const void *version =
      storage->isPending()
          ? static_cast<const void *>(storage->pendingNode().get())
          : static_cast<const void *>(storage->buffer().buffer.get());
  if (g.node && g.version == version)
    return g.node;
  std::shared_ptr<LazyNode> node;
  if (storage->isPending())
    node = computedNode(OpCode::Reshape, g.leafDType, g.leafShape,
                        {reshapeNode(storage->pendingNode(), g.leafShape)});
  else
    node = inputNode(storage->buffer(), g.leafDType, g.leafShape,
                     contiguousStrides(g.leafShape), 0);
  node->requiresGrad = true;
  node->gradLeaf = true;
  node->leafOf = storage;
  g.node = node;
  g.version = version;
  return node;
}

/// The node of a tensor whose value autograd tracks (a leaf, or a realized
/// value that requires grad), null otherwise.
std::shared_ptr<LazyNode> trackedNodeOf(const TensorImpl &t) {
  Storage::GradState *g = t.storage->gradStateIfAny();
  if (!g || numelOf(t.shape) == 0) // an empty view reads nothing
    return nullptr;
  if (g->leaf)
    return viewOfValue(t, leafNode(t.storage, *g));
  if (g->node && !t.storage->isPending())
    return viewOfValue(t, g->node);
  return nullptr;
}

std::shared_ptr<LazyNode> untrackedNodeOf(const TensorImpl &t) {
  if (t.storage->isPending() && numelOf(t.shape) == 0) // nothing to read
    return inputNode(Storage::allocate(0, t.storage->device())->buffer(),
                     t.dtype, t.shape, contiguousStrides(t.shape), 0);
  if (t.storage->isPending()) {
    // Any view (a transpose, a slice, a reshape) of a pending value reads
    // it through movement ops, which fusion folds into the kernel.
    if (std::shared_ptr<LazyNode> view =
            viewOfValue(t, t.storage->pendingNode()))
      return view;
    if (debugLevel() >= 1)
      fmt::print(stderr,
                 "trueno: realizing a pending value to read the view of "
                 "shape {} with strides {}: no movement ops express it\n",
                 formatShape(t.shape), formatShape(t.strides));
    realize(*t.storage);
  }
  return inputNode(t.storage->buffer(), t.dtype, t.shape, t.strides, t.offset);
}

} // namespace

std::shared_ptr<LazyNode> nodeOf(const TensorImpl &t) {
  std::lock_guard lock(state().mutex);
  std::shared_ptr<LazyNode> node = trackedNodeOf(t);
  if (!node)
    node = untrackedNodeOf(t);
  // detach(): the same value, through an op that gradients stop at.
  if (t.detached && node->requiresGrad) {
    DType dtype = node->dtype;
    Shape shape = node->shape;
    node = computedNode(OpCode::Detach, dtype, std::move(shape), {node});
  }
  return node;
}

std::shared_ptr<LazyNode> reshapeNode(std::shared_ptr<LazyNode> node,
                                      const Shape &shape) {
  if (node->shape == shape)
    return node;
  // reshape(reshape(x)) is reshape(x), unless the inner one is a value
  // someone holds (it is then an output of its own).
  if (node->op == OpCode::Reshape && node->target.expired() && !node->gradLeaf)
    return reshapeNode(node->operands[0], shape);
  DType dtype = node->dtype;
  return computedNode(OpCode::Reshape, dtype, shape, {std::move(node)});
}

std::shared_ptr<LazyNode> transposeNode(std::shared_ptr<LazyNode> node,
                                        const std::vector<std::int64_t> &perm) {
  bool identity = true;
  Shape shape;
  for (std::size_t d = 0; d < perm.size(); ++d) {
    identity = identity && perm[d] == static_cast<std::int64_t>(d);
    shape.push_back(node->shape[perm[d]]);
  }
  if (identity)
    return node;
  DType dtype = node->dtype;
  auto result = computedNode(OpCode::Transpose, dtype, std::move(shape),
                             {std::move(node)});
  result->attributes = {perm};
  return result;
}

std::shared_ptr<LazyNode> sliceNode(std::shared_ptr<LazyNode> node,
                                    const std::vector<std::int64_t> &offsets,
                                    const std::vector<std::int64_t> &steps,
                                    const Shape &sizes) {
  bool identity = sizes == node->shape;
  for (std::size_t d = 0; identity && d < sizes.size(); ++d)
    identity = offsets[d] == 0 && steps[d] == 1;
  if (identity)
    return node;
  DType dtype = node->dtype;
  auto result = computedNode(OpCode::Slice, dtype, sizes, {std::move(node)});
  result->attributes = {offsets, steps};
  return result;
}

namespace {

/// A view of a row-major value as a window of a reshape of it: the reshape
/// splits each dimension of the value into factors, the window picks one
/// position of every factor except one per view dimension, which it walks
/// with a step (negative when the view runs backwards).
struct ViewWindow {
  Shape split; ///< the value's shape with each dimension split into factors
  std::vector<std::int64_t> offsets, steps;
  Shape sizes;
  /// The factor of `split` that each kept view dimension walks.
  std::vector<std::size_t> factorOf;
};

struct KeptDim {
  std::int64_t size, stride; ///< stride > 0, in elements of the value
  std::size_t dim;           ///< in the view
  bool reversed;
};

/// The window of `shape` (row-major) whose kept dimensions `kept` (largest
/// stride first) start at element `first`; nothing when a view dimension
/// does not fall inside one dimension of `shape` or wraps around it.
std::optional<ViewWindow> windowOf(const Shape &shape,
                                   const std::vector<KeptDim> &kept,
                                   std::int64_t first) {
  Strides strides = contiguousStrides(shape);
  std::vector<std::int64_t> position(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    position[d] = first % shape[d];
    first /= shape[d];
  }
  if (first != 0)
    return std::nullopt;
  // The view dimensions inside each dimension of `shape`.
  std::vector<std::vector<std::size_t>> inside(shape.size());
  for (std::size_t j = 0; j < kept.size(); ++j) {
    std::int64_t w = kept[j].stride;
    std::size_t d = 0;
    while (d < shape.size() &&
           !(shape[d] > 1 && w >= strides[d] && w < strides[d] * shape[d]))
      ++d;
    if (d == shape.size() || w % strides[d] != 0)
      return std::nullopt;
    inside[d].push_back(j);
  }
  ViewWindow window;
  window.factorOf.resize(kept.size());
  for (std::size_t d = 0; d < shape.size(); ++d) {
    // Within dimension d, strides count in its own elements: each view
    // dimension takes a block of b_j = gcd(stride, b_{j-1}) elements
    // (b_0 = the dimension's size) and steps over blocks.
    std::int64_t block = shape[d], rest = position[d];
    std::vector<std::int64_t> factors, starts;
    std::vector<std::int64_t> blocks;
    for (std::size_t j : inside[d]) {
      std::int64_t w = kept[j].stride / strides[d];
      std::int64_t next = std::gcd(w, block);
      factors.push_back(block / next);
      blocks.push_back(next);
      block = next;
    }
    if (block > 1 || inside[d].empty())
      factors.push_back(block); // the position within the last block
    // The start position in those factors' mixed radix.
    starts.resize(factors.size());
    for (std::size_t f = factors.size(); f-- > 0;) {
      starts[f] = rest % factors[f];
      rest /= factors[f];
    }
    for (std::size_t f = 0; f < factors.size(); ++f) {
      window.split.push_back(factors[f]);
      if (f < inside[d].size()) {
        const KeptDim &k = kept[inside[d][f]];
        std::int64_t step = k.stride / strides[d] / blocks[f];
        std::int64_t last = starts[f] + (k.size - 1) * step;
        if (last >= factors[f]) // wraps into the next block: overlaps
          return std::nullopt;
        window.factorOf[inside[d][f]] = window.split.size() - 1;
        window.offsets.push_back(k.reversed ? last : starts[f]);
        window.steps.push_back(k.reversed ? -step : step);
        window.sizes.push_back(k.size);
      } else {
        window.offsets.push_back(starts[f]);
        window.steps.push_back(1);
        window.sizes.push_back(1);
      }
    }
  }
  return window;
}

} // namespace

std::shared_ptr<LazyNode> viewNode(std::shared_ptr<LazyNode> base,
                                   const Shape &shape, const Strides &strides,
                                   std::int64_t offset) {
  // The view reads element `offset + sum(i_d * strides[d])` of `base` in
  // row-major order. Dimensions of size 1 and broadcast ones (stride 0) are
  // set aside; the others become factors of a split of base's dimensions,
  // which a slice walks. A transpose then restores the view's order, and a
  // reshape and an expand add the set-aside dimensions back. Splitting
  // base's own dimensions keeps every reshape a split or a merge, which
  // fusion reads through; a view that crosses base's dimensions (a
  // reshaped flat view) is taken from base flattened instead.
  std::vector<KeptDim> kept;
  std::int64_t first = offset; // the smallest position the view reads
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1 || strides[d] == 0)
      continue;
    std::int64_t w = strides[d];
    if (w < 0)
      first += (shape[d] - 1) * w;
    kept.push_back({shape[d], w < 0 ? -w : w, d, w < 0});
  }
  if (first < 0)
    return nullptr;
  std::stable_sort(
      kept.begin(), kept.end(),
      [](const KeptDim &a, const KeptDim &b) { return a.stride > b.stride; });
  for (std::size_t j = 1; j < kept.size(); ++j)
    if (kept[j].stride == kept[j - 1].stride)
      return nullptr; // two dimensions over the same elements
  std::optional<ViewWindow> window = windowOf(base->shape, kept, first);
  if (!window)
    window = windowOf({numelOf(base->shape)}, kept, first);
  if (!window)
    return nullptr;
  std::shared_ptr<LazyNode> node = reshapeNode(std::move(base), window->split);
  node =
      sliceNode(std::move(node), window->offsets, window->steps, window->sizes);
  // The kept dimensions, largest stride first (the order of the factors
  // they walk), then back to the view's order.
  Shape sorted;
  for (const KeptDim &k : kept)
    sorted.push_back(k.size);
  node = reshapeNode(std::move(node), sorted);
  std::vector<std::int64_t> order(kept.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return kept[a].dim < kept[b].dim;
  });
  node = transposeNode(std::move(node), order);
  Shape unit = shape; // broadcast dimensions as size 1
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (strides[d] == 0)
      unit[d] = 1;
  node = reshapeNode(std::move(node), unit);
  return expandNode(std::move(node), shape);
}

std::shared_ptr<LazyNode> expandNode(std::shared_ptr<LazyNode> node,
                                     const Shape &shape) {
  if (node->shape == shape)
    return node;
  // Another thread's realize may be turning `node` into an Input (its op,
  // buffer and strides; shape and dtype never change): read them under the
  // lock.
  std::lock_guard lock(state().mutex);
  // A broadcast of a realized view is a view: zero strides, no op; but a
  // tensor that requires grad stays one node, so that its gradient sums
  // every read.
  if (node->isInput() && !node->requiresGrad) {
    std::size_t lead = shape.size() - node->shape.size();
    Strides strides(shape.size(), 0);
    for (std::size_t d = 0; d < node->shape.size(); ++d)
      strides[lead + d] =
          node->shape[d] == shape[lead + d] ? node->strides[d] : 0;
    return inputNode(node->buffer, node->dtype, shape, std::move(strides),
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
  return inputNode(storage->buffer(), dtype, shape, Strides(shape.size(), 0),
                   0);
}

/// Books `storage`, now pending on `node`, for sync() and the early
/// realize of long graphs.
void trackPending(const std::shared_ptr<Storage> &storage,
                  const std::shared_ptr<LazyNode> &node) {
  LazyState &s = state();
  node->target = storage;
  s.pending.push_back(storage);
  if (s.pending.size() >= s.pruneAt) {
    std::erase_if(s.pending, [](const std::weak_ptr<Storage> &w) {
      auto p = w.lock();
      return !p || !p->isPending();
    });
    s.pruneAt = 2 * s.pending.size() + 64;
  }
  // Not a graph that gradients will go through: realizing it early would
  // not free it (realized values keep their definitions) and would make
  // the gradient's program recompute it.
  if (node->weight > kRealizeWeight && !node->requiresGrad &&
      !node->readsGrad) {
    if (debugLevel() >= 1)
      fmt::print(stderr,
                 "trueno: realizing early: the pending graph reached {} "
                 "nodes (limit {})\n",
                 node->weight, kRealizeWeight);
    realize(*storage);
  }
}

Tensor record(OpCode op, DType dtype, Shape shape,
              std::vector<std::shared_ptr<LazyNode>> operands, Device device,
              Attributes attributes, SourceLoc where) {
  detail::checkShape(shape, opName(op), where, itemSize(dtype));
  if (numelOf(shape) == 0) // nothing to do
    return makeContiguous(dtype, std::move(shape), device, opName(op), where);
  LazyState &s = state();
  std::lock_guard lock(s.mutex);
  std::shared_ptr<LazyNode> node =
      computedNode(op, dtype, shape, std::move(operands));
  node->attributes = std::move(attributes);
  node->where = where;
  auto storage =
      Storage::pending(numelOf(shape) * itemSize(dtype), device, node);
  Strides strides = contiguousStrides(shape);
  Tensor result(std::make_shared<TensorImpl>(dtype, std::move(shape),
                                             std::move(strides), 0, storage));
  trackPending(storage, node);
  return result;
}

bool writableNow(const TensorImpl &t) {
  return !t.storage->isPending() && t.storage->buffer().buffer.use_count() == 1;
}

namespace {

/// The whole current contents of `storage`, as elements of `dtype` in
/// row-major order: its pending node, or its buffer read as a vector.
std::shared_ptr<LazyNode> contentsOf(Storage &storage, DType dtype) {
  if (storage.isPending())
    return storage.pendingNode();
  std::int64_t count = storage.nbytes() / itemSize(dtype);
  // A realized value that requires grad: its node, so that the write's
  // result requires grad too.
  if (Storage::GradState *g = storage.gradStateIfAny();
      g && !g->leaf && g->node && g->node->dtype == dtype)
    return reshapeNode(g->node, {count});
  return inputNode(storage.buffer(), dtype, {count}, {1}, 0);
}

/// Makes `next` (a new node nothing else is pending on) the new contents of
/// `storage`.
void commitWrite(const std::shared_ptr<Storage> &storage,
                 std::shared_ptr<LazyNode> next) {
  LazyState &s = state();
  if (storage->isPending())
    storage->pendingNode()->target.reset(); // no longer this storage's value
  storage->setPending(next);
  // Once: every realize reads the list, and a training loop writes the
  // same parameters and optimizer states every step (the list grew by
  // their count each step, a realize's time with it, while they stayed
  // pending from one realize to the next).
  if (!storage->listedAsWrite) {
    storage->listedAsWrite = true;
    s.writes.push_back(storage);
  }
  trackPending(storage, next);
}

/// `value` as a node of its own (an identity reshape when it is some
/// tensor's node already), so that a storage can be pending on it alone.
std::shared_ptr<LazyNode> ownNode(std::shared_ptr<LazyNode> value,
                                  const Shape &shape) {
  std::shared_ptr<LazyNode> node = reshapeNode(value, shape);
  if (node->target.expired() && !node->isInput())
    return node;
  DType dtype = node->dtype;
  return computedNode(OpCode::Reshape, dtype, shape, {std::move(node)});
}

} // namespace

void assignView(const TensorImpl &dst, std::shared_ptr<LazyNode> value) {
  LazyState &s = state();
  std::lock_guard lock(s.mutex);
  Storage &storage = *dst.storage;
  std::shared_ptr<LazyNode> base = contentsOf(storage, dst.dtype);
  std::int64_t count = numelOf(base->shape);
  std::shared_ptr<LazyNode> next;
  if (dst.offset == 0 && numelOf(dst.shape) == count &&
      sameLayout(dst.shape, dst.strides, contiguousStrides(dst.shape))) {
    // The whole storage, in order: the value is the new contents.
    next = ownNode(std::move(value), base->shape);
  } else {
    // A window: the inverse of viewNode's chain, ending in an insert into
    // the old contents split the same way.
    std::vector<KeptDim> kept;
    std::int64_t first = dst.offset;
    for (std::size_t d = 0; d < dst.shape.size(); ++d) {
      if (dst.shape[d] == 1)
        continue;
      std::int64_t w = dst.strides[d];
      if (w < 0)
        first += (dst.shape[d] - 1) * w;
      kept.push_back({dst.shape[d], w < 0 ? -w : w, d, w < 0});
    }
    std::stable_sort(
        kept.begin(), kept.end(),
        [](const KeptDim &a, const KeptDim &b) { return a.stride > b.stride; });
    std::optional<ViewWindow> window = windowOf(base->shape, kept, first);
    if (!window) {
      base = reshapeNode(std::move(base), {count});
      window = windowOf({count}, kept, first);
    }
    if (!window) { // overlapping strides (a write through as_strided)
      // Computed now and written in place; readers keep their version.
      Tensor values(std::make_shared<TensorImpl>(
          value->dtype, value->shape, contiguousStrides(value->shape), 0,
          Storage::allocate(numelOf(value->shape) * itemSize(value->dtype),
                            storage.device())));
      assignView(*values.impl(), std::move(value));
      copyElements(dst, *values.impl());
      return;
    }
    // The value's dimensions (size-1 ones aside) in the view's order, then
    // in the window's (largest stride first), then the window's shape.
    Shape inViewOrder;
    std::vector<std::size_t> byDim(kept.size());
    std::iota(byDim.begin(), byDim.end(), 0);
    std::sort(byDim.begin(), byDim.end(), [&](std::size_t a, std::size_t b) {
      return kept[a].dim < kept[b].dim;
    });
    for (std::size_t s : byDim)
      inViewOrder.push_back(kept[s].size);
    std::vector<std::int64_t> toWindow(kept.size());
    for (std::size_t r = 0; r < byDim.size(); ++r)
      toWindow[byDim[r]] = static_cast<std::int64_t>(r);
    std::shared_ptr<LazyNode> v = reshapeNode(std::move(value), inViewOrder);
    v = transposeNode(std::move(v), toWindow);
    v = reshapeNode(std::move(v), window->sizes);
    std::shared_ptr<LazyNode> split = reshapeNode(base, window->split);
    DType dtype = split->dtype;
    Shape splitShape = split->shape;
    auto inserted = computedNode(OpCode::InsertSlice, dtype, splitShape,
                                 {std::move(v), std::move(split)});
    inserted->attributes = {window->offsets, window->steps};
    next = ownNode(std::move(inserted), base->shape);
  }
  commitWrite(dst.storage, std::move(next));
}

void scatterIntoStorage(const std::shared_ptr<Storage> &storage, DType dtype,
                        std::shared_ptr<LazyNode> positions,
                        std::shared_ptr<LazyNode> values, bool accumulate) {
  if (numelOf(positions->shape) == 0)
    return; // nothing is written
  LazyState &s = state();
  std::lock_guard lock(s.mutex);
  std::shared_ptr<LazyNode> base = contentsOf(*storage, dtype);
  Shape shape = base->shape;
  std::int64_t count = numelOf(shape);
  std::shared_ptr<LazyNode> flat = reshapeNode(std::move(base), {count});
  auto scattered = computedNode(
      accumulate ? OpCode::ScatterAdd : OpCode::Scatter, dtype, {count},
      {std::move(flat), std::move(positions), std::move(values)});
  scattered->attributes = {{0}};
  commitWrite(storage, ownNode(std::move(scattered), shape));
}

Tensor recordCopy(const TensorImpl &t) {
  std::shared_ptr<LazyNode> node = nodeOf(t);
  // An identity reshape: a node of its own for the new storage to be
  // pending on; the graph's folders remove it, and the value is written
  // to the new storage by the kernel that computes it.
  return record(OpCode::Reshape, t.dtype, t.shape, {std::move(node)},
                t.storage->device());
}

void realize(Storage &root) {
  LazyState &s = state();
  std::lock_guard lock(s.mutex);
  if (!root.isPending())
    return;
  auto began = std::chrono::steady_clock::now();
  std::shared_ptr<LazyNode> rootNode = root.pendingNode();
  // Pending writes run with whatever is read first: a loop of parameter
  // updates becomes one program (those on the same device).
  std::vector<std::shared_ptr<LazyNode>> writes;
  for (const std::weak_ptr<Storage> &weak : s.writes)
    if (auto storage = weak.lock();
        storage && storage->isPending() && storage->device() == root.device())
      writes.push_back(storage->pendingNode());
  std::uint64_t epoch = 0;
  std::vector<LazyNode *> order;
  auto orderAll = [&](bool definitions) {
    epoch = ++s.epoch;
    order.clear();
    topologicalOrder(rootNode.get(), epoch, order, definitions);
    for (const std::shared_ptr<LazyNode> &write : writes)
      topologicalOrder(write.get(), epoch, order, definitions);
  };
  orderAll(false);
  bool definitions = llvm::any_of(
      order, [](LazyNode *n) { return n->op == OpCode::Gradient; });
  if (definitions)
    orderAll(true);
  std::erase_if(s.writes, [](const std::weak_ptr<Storage> &w) {
    auto p = w.lock();
    const bool done = !p || !p->isPending();
    if (p && done)
      p->listedAsWrite = false;
    return done;
  });

  // The state's graph, unless a realize below this one has it.
  runtime::Graph ownGraph;
  const bool reuse = !s.graphInUse;
  runtime::Graph &graph = reuse ? s.graph : ownGraph;
  s.graphInUse = s.graphInUse || reuse;
  auto release = llvm::make_scope_exit([&] {
    if (reuse)
      s.graphInUse = false;
  });
  std::size_t used = 0;
  graph.outputs.clear();
  // The next node, its fields overwritten (vectors keep their memory).
  auto appendNode = [&](OpCode op, DType dtype,
                        const Shape &shape) -> runtime::GraphNode & {
    if (used == graph.nodes.size()) {
      if (s.spareNodes.empty() || !reuse) {
        graph.nodes.emplace_back();
      } else {
        graph.nodes.push_back(std::move(s.spareNodes.back()));
        s.spareNodes.pop_back();
      }
    }
    runtime::GraphNode &g = graph.nodes[used++];
    g.op = op;
    g.dtype = dtype;
    g.operands.clear();
    g.shape.assign(shape.begin(), shape.end());
    g.strides.clear();
    g.recomputeRegion = 0;
    return g;
  };
  std::vector<runtime::BufferRef> inputs;
  std::vector<LazyNode *> inputNodes;
  auto indexOf = [&](LazyNode *operand) -> std::int32_t {
    if (!operand->isInput())
      return operand->graphIndex;
    if (operand->visitedIn == epoch)
      return operand->graphIndex;
    operand->visitedIn = epoch;
    // Reads of one view share an argument, but a tensor that requires grad
    // stays apart: a gradient is with respect to it alone.
    if (!operand->requiresGrad)
      for (LazyNode *seen : inputNodes)
        if (!seen->requiresGrad && sameView(*seen, *operand))
          return operand->graphIndex = seen->graphIndex;
    operand->graphIndex = static_cast<std::int32_t>(used);
    inputNodes.push_back(operand);
    runtime::GraphNode &g =
        appendNode(OpCode::Input, operand->dtype, operand->shape);
    g.strides = canonicalStrides(*operand);
    g.attributes.clear();
    inputs.push_back(operand->buffer.at(
        static_cast<std::size_t>(operand->offset * itemSize(operand->dtype))));
    return operand->graphIndex;
  };

  // Every computed node whose storage is still held is written too, so
  // that reading it later costs nothing.
  std::vector<std::shared_ptr<LazyNode>> outputNodes;
  std::vector<std::shared_ptr<Storage>> outputStorages;
  // Checkpoint regions numbered by first appearance: the same step records
  // the same graph, whatever the running count of checkpoint calls.
  std::vector<std::int64_t> regions;
  auto regionOf = [&](std::int64_t region) -> std::int32_t {
    if (region == 0 || !definitions)
      return 0;
    auto it = std::find(regions.begin(), regions.end(), region);
    if (it == regions.end())
      it = regions.insert(regions.end(), region);
    return static_cast<std::int32_t>(it - regions.begin() + 1);
  };
  for (LazyNode *node : order) {
    // The operands first: an input's node is appended as it is first read.
    llvm::SmallVector<std::int32_t, 8> indices;
    for (const std::shared_ptr<LazyNode> &operand : node->operands)
      indices.push_back(indexOf(resolved(operand.get(), definitions)));
    runtime::GraphNode &g = appendNode(node->op, node->dtype, node->shape);
    g.attributes = node->attributes;
    g.recomputeRegion = regionOf(node->checkpointRegion);
    g.operands.assign(indices.begin(), indices.end());
    node->graphIndex = static_cast<std::int32_t>(used - 1);
    if (definitions && node->storedIn) {
      // The realized value's buffer, behind the definition that computed
      // it: the reverse-mode pass differentiates the definition and then
      // reads the buffer wherever the definition's result was used, so a
      // value computed before backward() is not computed again. Every
      // reader of the value reads this node.
      std::int32_t definition = node->graphIndex;
      std::int32_t stored = indexOf(node->storedIn);
      runtime::GraphNode &read =
          appendNode(OpCode::Stored, node->dtype, node->shape);
      read.operands = {definition, stored};
      read.attributes.clear();
      node->graphIndex = static_cast<std::int32_t>(used - 1);
    }
    std::shared_ptr<Storage> target = node->target.lock();
    if (target && target->pendingNode().get() == node) {
      outputNodes.push_back(target->pendingNode());
      outputStorages.push_back(std::move(target));
      graph.outputs.push_back(node->graphIndex);
    }
  }

  // The nodes past this graph's end wait for a larger one.
  if (reuse)
    while (graph.nodes.size() > used) {
      s.spareNodes.push_back(std::move(graph.nodes.back()));
      graph.nodes.pop_back();
    }
  else
    graph.nodes.resize(used);
  ++s.realizes;
  int debug = debugLevel();
  graph.device = root.device();
  // A CPU program cannot read another device's memory (a GPU reads the
  // host's: a graph's scalars live there).
  if (graph.device.kind == DeviceKind::CPU)
    for (const runtime::BufferRef &input : inputs)
      if (input.buffer->device() != graph.device)
        fail<DeviceError>(rootNode->where, opName(rootNode->op),
                          "move the operands to one device with to(device)",
                          "the {} recorded here reads a tensor on {} from a "
                          "computation on the CPU",
                          opName(rootNode->op), input.buffer->device().name());
  runtime::Backend &backend = backendOf(graph.device, "realize");
  auto found =
      runtime::ProgramCache::instance().get(graph, backend, debug >= 2);
  // Errors from here on happen long after the call that recorded the op
  // being read: they point at that call's line (a write has none).
  SourceLoc recordedAt = rootNode->where;
  std::string_view rootOp = opName(rootNode->op);
  if (!found)
    fail<CompileError>(recordedAt, "realize",
                       "please report it with the output of TRUENO_DEBUG=3",
                       "compiling a graph of {} nodes for the {} recorded "
                       "here failed: {}",
                       graph.nodes.size(), rootOp,
                       llvm::toString(found.takeError()));
  bool hit = found->hit;
  ++(hit ? s.hits : s.misses);
  const runtime::Executable &program = *found->executable;
  auto foundAt = std::chrono::steady_clock::now();

  std::vector<runtime::BufferRef> outputs;
  for (const auto &storage : outputStorages) {
    auto buffer = backend.allocate(static_cast<std::size_t>(storage->nbytes()));
    if (!buffer) {
      llvm::consumeError(buffer.takeError());
      fail<MemoryError>(recordedAt, "realize",
                        "free some tensors, or realize smaller pieces",
                        "cannot allocate {} bytes on {} for the {} recorded "
                        "here",
                        storage->nbytes(), graph.device.name(), rootOp);
    }
    outputs.push_back({std::move(*buffer), 0});
  }
  auto ran = std::chrono::steady_clock::now();
  // The program compiled: what fails now is the device (lost, out of
  // memory), or, on a GPU, an earlier program whose failure this
  // submission was the first to see.
  if (llvm::Error error = backend.run(program, inputs, outputs))
    fail<DeviceError>(recordedAt, "realize",
                      "the device may be lost or out of memory: check its "
                      "driver; TRUENO_DEBUG=3 prints the program",
                      "running a program of {} kernels for the {} recorded "
                      "here failed: {}",
                      program.kernelCount(), rootOp,
                      llvm::toString(std::move(error)));
  auto done = std::chrono::steady_clock::now();

  for (std::size_t i = 0; i < outputNodes.size(); ++i) {
    outputNodes[i]->becomeInput(outputs[i],
                                contiguousStrides(outputNodes[i]->shape), 0);
    outputStorages[i]->setComputed(std::move(outputs[i]));
    // A value that requires grad is read through this node (an Input that
    // keeps its definition) by later ops and gradients.
    if (outputNodes[i]->requiresGrad)
      outputStorages[i]->gradState().node = outputNodes[i];
  }
  if (debug >= 1) {
    auto ms = [](auto a, auto b) {
      return std::chrono::duration<double, std::milli>(b - a).count();
    };
    fmt::print(
        stderr,
        "trueno: realize: {} ops, {} inputs, {} outputs -> {} "
        "kernel{}, {}; host: graph and lookup {:.3f} ms, run {:.3f} ms, "
        "results {:.3f} ms\n",
        order.size(), inputNodes.size(), outputNodes.size(),
        program.kernelCount(), program.kernelCount() == 1 ? "" : "s",
        hit ? std::string("cache hit")
            : fmt::format("cache miss, {} in {:.1f} ms",
                          program.fromDisk() ? "loaded from disk" : "compiled",
                          program.compileMs()),
        ms(began, foundAt), ms(ran, done),
        ms(done, std::chrono::steady_clock::now()));
  }
}

void syncAll() {
  {
    LazyState &s = state();
    std::lock_guard lock(s.mutex);
    std::vector<std::weak_ptr<Storage>> pending;
    pending.swap(s.pending);
    for (const auto &weak : pending)
      if (auto storage = weak.lock())
        realize(*storage);
  }
  // A GPU's programs run after their realize returns: sync() returns when
  // they have finished (outside the lock, so other threads record on).
  if (llvm::Error error = runtime::waitForVulkanDevices())
    fail<DeviceError>({}, "sync", "the device may be lost: check its driver",
                      "waiting for the programs submitted to the GPU "
                      "failed: {}",
                      llvm::toString(std::move(error)));
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
  runtime::ProgramCache &programs = runtime::ProgramCache::instance();
  stats.cachedPrograms = programs.size();
  stats.cachedProgramBytes = static_cast<std::int64_t>(programs.codeBytes());
  stats.evictedPrograms = programs.evicted();
  // Counters never throw: a backend that could not start holds nothing.
  if (auto backend = runtime::backendFor(Device::cpu())) {
    stats.cachedHostBytes =
        static_cast<std::int64_t>(backend->cachedMemoryBytes());
    stats.liveHostBytes = static_cast<std::int64_t>(backend->liveMemoryBytes());
    stats.peakHostBytes = static_cast<std::int64_t>(backend->peakMemoryBytes());
  } else {
    llvm::consumeError(backend.takeError());
  }
  stats.diskCacheHits = c.diskHits.load();
  stats.diskCacheMisses = c.diskMisses.load();
  stats.diskLoadMs = static_cast<double>(c.diskLoadMicros.load()) / 1e3;
  stats.deviceMs = static_cast<double>(runtime::vulkanBusyNanos()) / 1e6;
  stats.deviceWaits = c.deviceWaits.load();
  stats.deviceSubmissions = c.deviceSubmissions.load();
  stats.pendingWrites = static_cast<std::int64_t>(s.writes.size());
  return stats;
}

void resetPeakMemoryStats() {
  if (auto backend = runtime::backendFor(Device::cpu()))
    backend->resetPeakMemory();
  else
    llvm::consumeError(backend.takeError());
}

void clearProgramCache() {
  LazyState &s = state();
  std::lock_guard lock(s.mutex);
  runtime::ProgramCache::instance().clear();
}

void setProgramCacheLimits(std::int64_t programs, std::int64_t codeBytes,
                           SourceLoc where) {
  if (programs < 1 || codeBytes < 1)
    detail::fail<ValueError>(
        where, "setProgramCacheLimits", "keep room for at least one program",
        "got {} programs and {} bytes", programs, codeBytes);
  runtime::ProgramCache::instance().setLimits(
      {programs, static_cast<std::uint64_t>(codeBytes)});
}

bool setFlushDenormal(bool on) { return runtime::setFlushDenormals(on); }

void emptyCache() {
  for (Device device : {Device::cpu()})
    detail::backendOf(device, "emptyCache").releaseCachedMemory();
}

} // namespace trueno
