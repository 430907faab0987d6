//===- Autograd.cpp - requiresGrad_, backward, grad and the grad modes ----===//
//
// The frontend half of gradients; the other half is the compiler's
// reverse-mode pass (autograd/). Here:
// - which tensors are tracked: a leaf (a storage the user marked), or a value
//   whose node requires grad (Lazy.cpp propagates the flag as ops are
//   recorded and keeps the definitions of realized values);
// - backward() and grad(): walk the graph from the outputs to find the leaves
//   (and the inputs asked for), record one `trueno.gradient` node per
//   (output, input) in the lazy graph, and sum or accumulate the results.
//   Nothing is computed here: the gradients are pending tensors, computed
//   with whatever reads them first, in the same program as the forward ops
//   when those are still pending.
//
//===----------------------------------------------------------------------===//
#include "trueno/Autograd.h"

#include "lazy/Lazy.h"
#include "tensor/TensorImpl.h"
#include "trueno/Core/Check.h"
#include "trueno/Ops.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_set>

namespace trueno {

using detail::fail;
using detail::implOf;

namespace {

thread_local bool gradEnabled = true;
/// The checkpoint call being recorded (0: none), and the last one numbered.
thread_local std::int64_t checkpointRegion = 0;
std::atomic<std::int64_t> lastCheckpointRegion{0};

/// Sets this thread's grad mode for its lifetime (NoGradGuard and
/// EnableGradGuard are the public faces of the two settings).
class GradMode {
public:
  explicit GradMode(bool enabled) : previous_(gradEnabled) {
    gradEnabled = enabled;
  }
  ~GradMode() { gradEnabled = previous_; }
  GradMode(const GradMode &) = delete;
  GradMode &operator=(const GradMode &) = delete;

private:
  bool previous_;
};

/// Whether autograd tracks `t`'s value (see the file comment).
bool tracks(const TensorImpl &t) {
  if (t.detached)
    return false;
  if (Storage::GradState *g = t.storage->gradStateIfAny()) {
    if (g->leaf)
      return true;
    if (g->node && !t.storage->isPending())
      return true;
  }
  return t.storage->isPending() && t.storage->pendingNode()->requiresGrad;
}

/// Whether `t` is the leaf tensor itself (not a view of it).
bool isLeafTensor(const TensorImpl &t) {
  Storage::GradState *g = t.storage->gradStateIfAny();
  return g && g->leaf && !t.detached && t.offset == 0 &&
         t.shape == g->leafShape && t.dtype == g->leafDType &&
         t.strides == contiguousStrides(t.shape);
}

/// Whether `t` is its storage's whole value, not a view of part of it or of
/// another layout (leaves and hooked values must be).
bool wholeStorage(const TensorImpl &t) {
  return !t.detached && t.offset == 0 &&
         t.strides == contiguousStrides(t.shape) &&
         numelOf(t.shape) * trueno::itemSize(t.dtype) == t.storage->nbytes();
}

/// Storages whose non-leaf values keep their gradient (retainGrad()).
std::vector<std::weak_ptr<Storage>> &retainedStorages() {
  static auto *retained = new std::vector<std::weak_ptr<Storage>>();
  return *retained;
}

/// Storages of computed values with hooks (registerHook on a non-leaf).
std::vector<std::weak_ptr<Storage>> &hookedStorages() {
  static auto *hooked = new std::vector<std::weak_ptr<Storage>>();
  return *hooked;
}

/// The node a storage's current value is read through by gradients.
std::shared_ptr<LazyNode> currentNode(Storage &storage) {
  if (storage.isPending())
    return storage.pendingNode();
  Storage::GradState *g = storage.gradStateIfAny();
  return g ? g->node : nullptr;
}

/// The nodes that require grad below `outputs` (through realized values'
/// definitions), in the order a depth-first walk finds them. A node a
/// backward without retainGraph went through is an error naming `op`.
struct GraphBelow {
  std::vector<std::shared_ptr<LazyNode>> nodes;
  std::unordered_set<LazyNode *> contains;
};
GraphBelow graphBelow(const std::vector<std::shared_ptr<LazyNode>> &outputs,
                      std::string_view op, SourceLoc where) {
  GraphBelow graph;
  std::vector<std::shared_ptr<LazyNode>> work;
  auto visit = [&](const std::shared_ptr<LazyNode> &node) {
    if (node->requiresGrad && graph.contains.insert(node.get()).second) {
      graph.nodes.push_back(node);
      work.push_back(node);
    }
  };
  for (const auto &o : outputs)
    visit(o);
  while (!work.empty()) {
    std::shared_ptr<LazyNode> node = std::move(work.back());
    work.pop_back();
    if (node->freed)
      fail<ValueError>(
          where, op,
          "pass retainGraph = true to the first backward() (or grad()) "
          "that goes through it",
          "trying to compute gradients through the graph a second time: "
          "a backward() without retainGraph already went through the {} "
          "recorded at {}:{}",
          opName(node->definition ? node->definition->op : node->op),
          node->where.file_name(), node->where.line());
    const LazyNode &definition = node->definition ? *node->definition : *node;
    for (const auto &operand : definition.operands)
      visit(operand);
  }
  return graph;
}

/// Marks the computed nodes of `graph` freed (leaves stay usable).
void freeGraph(const GraphBelow &graph) {
  for (const auto &node : graph.nodes)
    if (!node->gradLeaf)
      node->freed = true;
}

/// `g` through `storage`'s hooks (registerHook), in order. They run under
/// the lazy graph's lock, which is recursive: a hook may record ops and
/// read values from this thread.
Tensor applyHooks(const std::shared_ptr<Storage> &storage, Tensor g) {
  std::vector<std::function<Tensor(const Tensor &)>> hooks;
  {
    std::lock_guard lock(detail::lazyMutex());
    if (Storage::GradState *state = storage->gradStateIfAny())
      for (const auto &[handle, hook] : state->hooks)
        hooks.push_back(hook);
  }
  for (const auto &hook : hooks)
    if (Tensor replaced = hook(g); replaced.defined())
      g = std::move(replaced);
  return g;
}

/// Checks `outputs` and `seeds` (one per output, or none), returns the
/// outputs' nodes and the seeds to use.
void prepareOutputs(const std::vector<Tensor> &outputs,
                    const std::vector<Tensor> &gradOutputs,
                    std::vector<std::shared_ptr<LazyNode>> &nodes,
                    std::vector<Tensor> &seeds, std::string_view op,
                    SourceLoc where) {
  if (outputs.empty())
    fail<ValueError>(where, op, "pass the tensors to differentiate",
                     "no outputs");
  if (!gradOutputs.empty() && gradOutputs.size() != outputs.size())
    fail<ValueError>(where, op, "pass one gradient per output, or none",
                     "{} outputs but {} output gradients", outputs.size(),
                     gradOutputs.size());
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const TensorImpl &out = implOf(outputs[i], op, where);
    if (!tracks(out))
      fail<ValueError>(where, op,
                       "call requiresGrad_() on the tensors it is computed "
                       "from, with grad mode on (outside NoGradGuard)",
                       "output {} of shape {} does not require grad", i,
                       formatShape(out.shape));
    Tensor seed = gradOutputs.empty() ? Tensor() : gradOutputs[i];
    if (!seed.defined()) {
      if (numelOf(out.shape) != 1)
        fail<ValueError>(where, op,
                         "pass the gradient of the output (ones for a sum)",
                         "a gradient can be implied only for an output of "
                         "one element; output {} has shape {}",
                         i, formatShape(out.shape));
      seed = ones(out.shape,
                  TensorOptions(out.dtype).withDevice(out.storage->device()));
    } else {
      const TensorImpl &s = implOf(seed, op, where);
      if (s.shape != out.shape)
        fail<ShapeError>(where, op, "give the gradient the output's shape",
                         "the gradient of shape {} does not match output {} "
                         "of shape {}",
                         formatShape(s.shape), i, formatShape(out.shape));
      if (!isFloating(s.dtype))
        fail<DTypeError>(where, op, "pass a floating-point gradient",
                         "the gradient has dtype {}", dtypeName(s.dtype));
      seed = seed.to(out.dtype, where);
    }
    nodes.push_back(detail::nodeOf(out));
    seeds.push_back(std::move(seed));
  }
}

/// The gradient of sum_i (outputs_i * seeds_i) with respect to `wrt` (a node
/// of the graph), one trueno.gradient per output, summed.
Tensor gradientOf(const std::vector<std::shared_ptr<LazyNode>> &outputs,
                  const std::vector<Tensor> &seeds,
                  const std::shared_ptr<LazyNode> &wrt, Device device,
                  SourceLoc where) {
  Tensor total;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    std::shared_ptr<LazyNode> seed = detail::nodeOf(*seeds[i].impl());
    Tensor g =
        detail::record(OpCode::Gradient, wrt->dtype, wrt->shape,
                       {outputs[i], std::move(seed), wrt}, device, {}, where);
    total = total.defined() ? trueno::add(total, g, where) : g;
  }
  return total;
}

/// The nodes that require grad below `node` (itself included).
std::unordered_set<LazyNode *>
reachableFrom(const std::shared_ptr<LazyNode> &node) {
  std::unordered_set<LazyNode *> seen;
  std::vector<LazyNode *> work = {node.get()};
  seen.insert(node.get());
  while (!work.empty()) {
    LazyNode *n = work.back();
    work.pop_back();
    const LazyNode &definition = n->definition ? *n->definition : *n;
    for (const auto &operand : definition.operands)
      if (operand->requiresGrad && seen.insert(operand.get()).second)
        work.push_back(operand.get());
  }
  return seen;
}

/// Hooks on computed values (registerHook on a non-leaf h). A hook replaces
/// h's gradient g by g', which changes the gradient of everything below h
/// by the gradient of h seeded with g' - g: the chain rule is linear in the
/// adjoint at h. So the gradients are the plain ones plus, for each hooked
/// h above them, gradientOf(h, g' - g). Hooked values are handled from the
/// output down, so that a hook sees the changes made by hooks above it.
struct HookPlan {
  struct Hooked {
    std::shared_ptr<LazyNode> node;
    std::unordered_set<LazyNode *> below;
    Tensor delta;    // g' - g; undefined when the hooks kept g
    Tensor replaced; // g', what the hooks returned
  };
  std::vector<Hooked> hooked;

  /// The hooked gradient of `node` if it is hooked (its hooks already ran).
  const Tensor *hookedGradient(const LazyNode *node) const {
    for (const Hooked &h : hooked)
      if (h.node.get() == node)
        return &h.replaced;
    return nullptr;
  }
  /// The gradient of the outputs with respect to `wrt`, hooks above
  /// it applied.
  Tensor gradient(const std::vector<std::shared_ptr<LazyNode>> &outputs,
                  const std::vector<Tensor> &seeds,
                  const std::shared_ptr<LazyNode> &wrt, Device device,
                  SourceLoc where) const {
    Tensor g = gradientOf(outputs, seeds, wrt, device, where);
    for (const Hooked &h : hooked)
      if (h.delta.defined() && h.node != wrt && h.below.count(wrt.get()))
        g = trueno::add(g, gradientOf({h.node}, {h.delta}, wrt, device, where),
                        where);
    return g;
  }
};

HookPlan planHooks(const std::vector<std::shared_ptr<LazyNode>> &outputs,
                   const std::vector<Tensor> &seeds, const GraphBelow &graph,
                   SourceLoc where) {
  HookPlan plan;
  std::vector<std::shared_ptr<Storage>> storages;
  auto &registry = hookedStorages();
  std::erase_if(registry, [](const auto &w) { return w.expired(); });
  for (const std::weak_ptr<Storage> &weak : registry)
    if (std::shared_ptr<Storage> storage = weak.lock())
      if (std::shared_ptr<LazyNode> node = currentNode(*storage);
          node && graph.contains.count(node.get()) &&
          storage->gradStateIfAny() &&
          !storage->gradStateIfAny()->hooks.empty()) {
        plan.hooked.push_back({node, reachableFrom(node), Tensor(), Tensor()});
        storages.push_back(std::move(storage));
      }
  // Downstream first: each step takes a hooked value no remaining one is
  // above (reachability is a partial order, not a sort key).
  HookPlan sorted;
  std::vector<std::shared_ptr<Storage>> sortedStorages;
  std::vector<bool> taken(plan.hooked.size(), false);
  for (std::size_t round = 0; round < plan.hooked.size(); ++round) {
    for (std::size_t i = 0; i < plan.hooked.size(); ++i) {
      if (taken[i])
        continue;
      bool above = false;
      for (std::size_t j = 0; j < plan.hooked.size() && !above; ++j)
        above = j != i && !taken[j] &&
                plan.hooked[j].below.count(plan.hooked[i].node.get());
      if (above)
        continue;
      taken[i] = true;
      sorted.hooked.push_back(std::move(plan.hooked[i]));
      sortedStorages.push_back(std::move(storages[i]));
      break;
    }
  }
  for (std::size_t i = 0; i < sorted.hooked.size(); ++i) {
    HookPlan::Hooked &h = sorted.hooked[i];
    Device device = sortedStorages[i]->device();
    Tensor g = sorted.gradient(outputs, seeds, h.node, device, where);
    h.replaced = applyHooks(sortedStorages[i], g);
    if (h.replaced.impl() != g.impl())
      h.delta = trueno::sub(h.replaced, g, where);
  }
  return sorted;
}

} // namespace

bool detail::tracksGrad(const TensorImpl &t) {
  std::lock_guard lock(detail::lazyMutex());
  return tracks(t);
}

bool detail::differentiating(std::initializer_list<const Tensor *> inputs) {
  if (!gradEnabled)
    return false;
  for (const Tensor *t : inputs)
    if (t->defined() && t->numel() > 0 && tracksGrad(*t->impl()))
      return true;
  return false;
}

Tensor detail::changeOf(const Tensor &t, SourceLoc where) {
  return sub(t, t.detach(where), where);
}

Tensor detail::valuePlusChange(const Tensor &value, const Tensor &change,
                               SourceLoc where) {
  return add(value.detach(where), change, where);
}

namespace {
thread_local bool insideHatchFactors = false;
} // namespace

detail::HatchFactors::HatchFactors() : outermost_(!insideHatchFactors) {
  insideHatchFactors = true;
}

detail::HatchFactors::~HatchFactors() {
  if (outermost_)
    insideHatchFactors = false;
}

Tensor detail::HatchFactors::input(const Tensor &t, SourceLoc where) const {
  if (!outermost_)
    return t.detach(where);
  // Half the derivative: the change T(c(A), dA) is the op's derivative f'(A)
  // dA, and differentiating it once more counts f'' twice (through c and
  // through dA), so c carries half of A's derivative.
  return add(t.detach(where), mul(changeOf(t, where), Scalar(0.5), where),
             where);
}

bool isGradEnabled() { return gradEnabled; }

std::int64_t detail::currentCheckpointRegion() { return checkpointRegion; }

Tensor checkpoint(const std::function<Tensor(const std::vector<Tensor> &)> &fn,
                  const std::vector<Tensor> &inputs, SourceLoc where) {
  if (!fn)
    fail<ValueError>(where, "checkpoint", "pass a callable",
                     "the function is empty");
  // Each call is its own region (realize renumbers them by appearance, so
  // the program's cache key does not depend on the count).
  struct Region {
    std::int64_t previous = checkpointRegion;
    Region() { checkpointRegion = ++lastCheckpointRegion; }
    ~Region() { checkpointRegion = previous; }
  } region;
  Tensor out = fn(inputs);
  if (!out.defined())
    fail<ValueError>(where, "checkpoint", "return the region's result",
                     "the function returned an undefined tensor");
  return out;
}

Tensor checkpoint(const std::function<Tensor(const Tensor &)> &fn,
                  const Tensor &input, SourceLoc where) {
  if (!fn)
    fail<ValueError>(where, "checkpoint", "pass a callable",
                     "the function is empty");
  return checkpoint([&](const std::vector<Tensor> &in) { return fn(in[0]); },
                    std::vector<Tensor>{input}, where);
}

NoGradGuard::NoGradGuard() : previous_(gradEnabled) { gradEnabled = false; }
NoGradGuard::~NoGradGuard() { gradEnabled = previous_; }
EnableGradGuard::EnableGradGuard() : previous_(gradEnabled) {
  gradEnabled = true;
}
EnableGradGuard::~EnableGradGuard() { gradEnabled = previous_; }

Tensor &Tensor::requiresGrad_(bool on, SourceLoc where) {
  TensorImpl &self = implOf(*this, "requiresGrad_", where);
  std::lock_guard lock(detail::lazyMutex());
  Storage::GradState *g = self.storage->gradStateIfAny();
  bool leaf = isLeafTensor(self);
  if (!leaf && tracks(self)) {
    if (on)
      return *this; // already requires grad, as the op that made it says
    fail<ValueError>(where, "requiresGrad_",
                     "use detach() for a value without gradient tracking",
                     "only a leaf's flag can be changed; this tensor of "
                     "shape {} is computed from tensors that require grad",
                     formatShape(self.shape));
  }
  if (!on) {
    if (g && g->leaf) {
      g->leaf = false;
      g->node.reset();
    }
    return *this;
  }
  if (!isFloating(self.dtype))
    fail<DTypeError>(where, "requiresGrad_", "convert with to(kFloat32) first",
                     "only floating-point tensors can require gradients, "
                     "not {}",
                     dtypeName(self.dtype));
  if (!wholeStorage(self))
    fail<ValueError>(where, "requiresGrad_",
                     "call clone() first: a leaf owns its storage",
                     "this tensor of shape {} is a view of a larger or "
                     "differently laid out storage",
                     formatShape(self.shape));
  Storage::GradState &state = self.storage->gradState();
  state.leaf = true;
  state.leafShape = self.shape;
  state.leafDType = self.dtype;
  state.node.reset();
  return *this;
}

bool Tensor::requiresGrad(SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "requiresGrad", where);
  std::lock_guard lock(detail::lazyMutex());
  return tracks(self);
}

bool Tensor::isLeaf(SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "isLeaf", where);
  std::lock_guard lock(detail::lazyMutex());
  return !tracks(self) || isLeafTensor(self);
}

Tensor Tensor::grad(SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "grad", where);
  std::lock_guard lock(detail::lazyMutex());
  Storage::GradState *g = self.storage->gradStateIfAny();
  if (!g)
    return Tensor();
  // A computed value keeps its gradient only when retainGrad() asked; a
  // tensor without grad keeps what setGrad() gave it, as PyTorch's `.grad`.
  bool keeps = tracks(self) ? isLeafTensor(self) || g->retainsGrad
                            : wholeStorage(self) && !g->leaf;
  return keeps ? g->grad : Tensor();
}

void Tensor::setGrad(const Tensor &gradient, SourceLoc where) {
  const TensorImpl &self = implOf(*this, "setGrad", where);
  if (gradient.defined()) {
    const TensorImpl &gi = implOf(gradient, "setGrad", where);
    if (gi.shape != self.shape || gi.dtype != self.dtype)
      fail<ShapeError>(where, "setGrad",
                       "give the gradient the tensor's shape and dtype",
                       "a gradient of shape {} and dtype {} for a tensor of "
                       "shape {} and dtype {}",
                       formatShape(gi.shape), dtypeName(gi.dtype),
                       formatShape(self.shape), dtypeName(self.dtype));
  }
  std::lock_guard lock(detail::lazyMutex());
  if (!gradient.defined() && !self.storage->gradStateIfAny())
    return;
  self.storage->gradState().grad = gradient;
}

void Tensor::retainGrad(SourceLoc where) {
  const TensorImpl &self = implOf(*this, "retainGrad", where);
  std::lock_guard lock(detail::lazyMutex());
  if (!tracks(self))
    fail<ValueError>(where, "retainGrad", "call requiresGrad_() instead",
                     "this tensor does not require grad");
  if (isLeafTensor(self))
    return; // leaves keep theirs anyway
  Storage::GradState &g = self.storage->gradState();
  if (!g.retainsGrad) {
    g.retainsGrad = true;
    auto &retained = retainedStorages();
    std::erase_if(retained, [](const auto &w) { return w.expired(); });
    retained.push_back(self.storage);
  }
}

std::int64_t Tensor::registerHook(std::function<Tensor(const Tensor &)> hook,
                                  SourceLoc where) {
  const TensorImpl &self = implOf(*this, "registerHook", where);
  if (!hook)
    fail<ValueError>(where, "registerHook", "pass a callable",
                     "the hook is empty");
  std::lock_guard lock(detail::lazyMutex());
  bool leaf = isLeafTensor(self);
  if (!leaf && !tracks(self))
    fail<ValueError>(where, "registerHook", "call requiresGrad_() first",
                     "this tensor does not require grad");
  if (!leaf && !wholeStorage(self))
    fail<ValueError>(where, "registerHook",
                     "register it on the whole value, or on a clone() of "
                     "the view",
                     "a hook on a view of a computed value is not supported");
  static std::int64_t next = 0;
  std::int64_t handle = ++next;
  Storage::GradState &state = self.storage->gradState();
  state.hooks.emplace_back(handle, std::move(hook));
  if (!leaf && state.hooks.size() == 1)
    hookedStorages().push_back(self.storage);
  return handle;
}

bool Tensor::removeHook(std::int64_t handle, SourceLoc where) {
  const TensorImpl &self = implOf(*this, "removeHook", where);
  std::lock_guard lock(detail::lazyMutex());
  Storage::GradState *g = self.storage->gradStateIfAny();
  if (!g)
    return false;
  return std::erase_if(g->hooks,
                       [&](const auto &h) { return h.first == handle; }) > 0;
}

Tensor Tensor::detach(SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "detach", where);
  auto view =
      std::make_shared<TensorImpl>(self.dtype, self.shape, self.strides,
                                   self.offset, self.storage, "detach", where);
  view->detached = true;
  return Tensor(std::move(view));
}

void Tensor::backward(const Tensor &gradient, std::optional<bool> retainGraph,
                      bool createGraph, SourceLoc where) const {
  implOf(*this, "backward", where);
  std::vector<std::shared_ptr<LazyNode>> outputs;
  std::vector<Tensor> seeds;
  prepareOutputs({*this}, {gradient}, outputs, seeds, "backward", where);
  std::lock_guard lock(detail::lazyMutex());
  GraphBelow graph = graphBelow(outputs, "backward", where);

  // The leaves the output depends on (every version of one that the graph
  // read: a leaf written between two uses gets both gradients), and the
  // values whose gradient retainGrad() asked for, in the order the walk
  // found them (so that the recorded program, hence its cache key, is the
  // same every step).
  struct Target {
    std::shared_ptr<Storage> storage;
    std::shared_ptr<LazyNode> node;
  };
  std::vector<Target> targets;
  for (const std::shared_ptr<LazyNode> &node : graph.nodes)
    if (node->gradLeaf)
      if (std::shared_ptr<Storage> storage = node->leafOf.lock();
          storage && storage->gradStateIfAny() &&
          storage->gradStateIfAny()->leaf)
        targets.push_back({std::move(storage), node});
  for (const std::weak_ptr<Storage> &weak : retainedStorages())
    if (std::shared_ptr<Storage> storage = weak.lock())
      if (std::shared_ptr<LazyNode> node = currentNode(*storage);
          node && graph.contains.count(node.get()))
        targets.push_back({std::move(storage), std::move(node)});

  bool retain = retainGraph.value_or(createGraph);
  {
    // Gradient nodes require grad themselves only with createGraph.
    GradMode mode(createGraph);
    HookPlan hooks = planHooks(outputs, seeds, graph, where);
    for (const Target &t : targets) {
      Tensor g;
      if (const Tensor *hooked = hooks.hookedGradient(t.node.get()))
        g = *hooked; // a retained value whose hooks ran in planHooks
      else
        g = applyHooks(t.storage, hooks.gradient(outputs, seeds, t.node,
                                                 t.storage->device(), where));
      Storage::GradState &state = t.storage->gradState();
      state.grad = state.grad.defined() ? trueno::add(state.grad, g, where) : g;
    }
  }
  if (!retain)
    freeGraph(graph);
}

std::vector<Tensor> grad(const std::vector<Tensor> &outputs,
                         const std::vector<Tensor> &inputs,
                         const std::vector<Tensor> &gradOutputs,
                         std::optional<bool> retainGraph, bool createGraph,
                         bool allowUnused, SourceLoc where) {
  std::vector<std::shared_ptr<LazyNode>> outputNodes;
  std::vector<Tensor> seeds;
  prepareOutputs(outputs, gradOutputs, outputNodes, seeds, "grad", where);
  std::lock_guard lock(detail::lazyMutex());
  GraphBelow graph = graphBelow(outputNodes, "grad", where);
  std::vector<Tensor> result;
  GradMode mode(createGraph);
  HookPlan hooks = planHooks(outputNodes, seeds, graph, where);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const TensorImpl &in = implOf(inputs[i], "grad", where);
    if (!tracks(in))
      fail<ValueError>(where, "grad", "call requiresGrad_() on it first",
                       "input {} of shape {} does not require grad", i,
                       formatShape(in.shape));
    std::shared_ptr<LazyNode> node = detail::nodeOf(in);
    if (!graph.contains.count(node.get())) {
      if (!allowUnused)
        fail<ValueError>(where, "grad",
                         "pass allowUnused = true to get an undefined "
                         "tensor for it",
                         "input {} of shape {} was not used to compute the "
                         "outputs",
                         i, formatShape(in.shape));
      result.emplace_back();
      continue;
    }
    if (const Tensor *hooked = hooks.hookedGradient(node.get())) {
      result.push_back(*hooked);
      continue;
    }
    Tensor g =
        hooks.gradient(outputNodes, seeds, node, in.storage->device(), where);
    result.push_back(applyHooks(in.storage, std::move(g)));
  }
  if (!retainGraph.value_or(createGraph))
    freeGraph(graph);
  return result;
}

} // namespace trueno
