//===- Lazy.h - The pending graph behind eager tensor ops -----------------===//
//
// An eager op checks its arguments, then records a `LazyNode` and returns a
// tensor whose storage is pending on it. Nodes point at their operands, so
// the pending values form a DAG whose leaves are `Input` nodes: realized
// tensors (views included, read through their strides), each of one version
// of its storage. A view of a pending value is a chain of movement nodes,
// and a write is a node that computes the storage's next version. Reading a
// pending storage realizes it (Lazy.cpp): the nodes it needs, and every
// pending write, are turned into a runtime::Graph, which the program cache
// (runtime/) finds or compiles into the device's executable of fused
// kernels. Every computed node whose storage someone still holds is written
// by the same run and becomes an Input itself.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_FRONTEND_LAZY_H
#define TRUENO_FRONTEND_LAZY_H

#include "tensor/TensorImpl.h"

#include "trueno/Runtime/Graph.h"

#include <memory>
#include <mutex>
#include <vector>

namespace trueno {

class Generator;

/// A node's attributes: one integer array per entry of its op's schema.
using Attributes = std::vector<std::vector<std::int64_t>>;

struct LazyNode {
  OpCode op;
  DType dtype;
  Shape shape;
  /// Computed nodes: the operands.
  std::vector<std::shared_ptr<LazyNode>> operands;
  /// The op's attributes, one array per entry of its schema in
  /// trueno/OpTable.def (a reduction's dimensions, a convolution's strides).
  Attributes attributes;
  /// Computed nodes: the storage this node computes, while someone holds it
  /// and it is still that storage's pending value.
  std::weak_ptr<Storage> target;
  /// Input nodes: the view that is read, of one version of a storage: the
  /// buffer it held when the node was recorded (a later write gives the
  /// storage another buffer; this node still reads the old one).
  runtime::BufferRef buffer;
  Strides strides;
  std::int64_t offset = 0;
  /// Computed nodes: the user's line that recorded the op, named by errors
  /// raised when the value is computed later (a failed compile or run).
  SourceLoc where;
  /// Autograd (docs/ARCHITECTURE.md, "Gradients"): whether the value
  /// depends on a tensor that requires grad, recorded while grad mode is on.
  bool requiresGrad = false;
  /// Whether the graph below reaches a node that requires grad (a bool mask
  /// computed from one does not require grad, but computing it early would
  /// split the training step).
  bool readsGrad = false;
  /// A leaf's node: the value of a tensor the user marked with
  /// requiresGrad_(), whose gradient backward() accumulates.
  std::weak_ptr<Storage> leafOf;
  bool gradLeaf = false;
  /// Set by backward() without retainGraph: a later gradient through this
  /// node is an error, as PyTorch's second backward through a freed graph.
  bool freed = false;
  /// A computed node that requires grad keeps, when it becomes an Input,
  /// its definition (a computed node with the op and operands it had), so
  /// that a later gradient can differentiate through it.
  std::shared_ptr<LazyNode> definition;
  /// On a definition: the realized node whose value it computed (which
  /// owns it), whose buffer a gradient program reads instead of
  /// recomputing it.
  LazyNode *storedIn = nullptr;
  /// Nonzero: recorded inside trueno::checkpoint call n, whose values
  /// gradients recompute (the graph node's recomputeRegion).
  std::int64_t checkpointRegion = 0;
  /// Computed nodes in the graph below (an upper bound: shared nodes count
  /// once per path), for the realize-early heuristic.
  std::int64_t weight = 0;

  /// Scratch for a realize: the node's index in the graph being built.
  std::int32_t graphIndex = -1;
  std::uint64_t visitedIn = 0;

  LazyNode() = default;
  LazyNode(const LazyNode &) = delete;
  LazyNode &operator=(const LazyNode &) = delete;
  bool isInput() const { return op == OpCode::Input; }
  /// Turns this node into an Input reading a view of `source`.
  void becomeInput(runtime::BufferRef source, Strides viewStrides,
                   std::int64_t viewOffset);
};

namespace detail {

/// The lock of the lazy graph (recursive): nodes, pending storages and
/// autograd's state are read and written under it.
std::recursive_mutex &lazyMutex();

/// The node that reads `t`: its pending node when `t` is the whole pending
/// result, movement nodes over it when `t` is another view of it (viewNode;
/// the storage is realized first only when no chain expresses the view), or
/// an Input reading `t` when its storage is computed.
std::shared_ptr<LazyNode> nodeOf(const TensorImpl &t);

/// A new contiguous tensor holding the elements of the view `t` of a pending
/// value, recorded (the view's movement ops fuse into whatever computes
/// it).
Tensor recordCopy(const TensorImpl &t);

/// Writes `value` (a node of `dst`'s shape and dtype) through the view `dst`
/// into its storage, as a new version of the storage: the storage becomes
/// pending on a node that computes its whole new contents (the value
/// itself, or the old contents with the view's window replaced), computed
/// with the next realize. Pending computations that read the old contents
/// keep reading them. The value may read `dst`'s storage itself.
void assignView(const TensorImpl &dst, std::shared_ptr<LazyNode> value);
/// Writes `values` (a vector node) at the element positions `positions`
/// (int64 offsets from the start of `storage`'s elements of `dtype`) of the
/// storage, adding when `accumulate`, as a new version of the storage (one
/// trueno.scatter or scatter_add over its elements). For writes through
/// integer-array indices: indexPut_, scatter_.
void scatterIntoStorage(const std::shared_ptr<Storage> &storage, DType dtype,
                        std::shared_ptr<LazyNode> positions,
                        std::shared_ptr<LazyNode> values, bool accumulate);
/// Whether `t`'s storage can be written now, in place: it is computed and
/// no pending computation reads its current contents.
bool writableNow(const TensorImpl &t);

/// Records `op` on `operands` (nodes of `shape`, already cast and expanded as
/// the op needs) and returns its pending result. A `shape` too big to
/// address is a ValueError naming the op and `where` (the backstop of the
/// public ops' own checks).
Tensor record(OpCode op, DType dtype, Shape shape,
              std::vector<std::shared_ptr<LazyNode>> operands, Device device,
              Attributes attributes = {}, SourceLoc where = {});

/// Movement nodes reading the view (shape, strides, offset in elements) of
/// `base`'s value taken in row-major order: a reshape, a slice, a transpose
/// and a broadcast, each left out when it would do nothing. Null when the
/// view's elements overlap or wrap in a way no such chain expresses.
std::shared_ptr<LazyNode> viewNode(std::shared_ptr<LazyNode> base,
                                   const Shape &shape, const Strides &strides,
                                   std::int64_t offset);
/// `node` in another shape of as many elements (row-major order).
std::shared_ptr<LazyNode> reshapeNode(std::shared_ptr<LazyNode> node,
                                      const Shape &shape);
/// `node` with dimensions reordered: result dimension d is `perm[d]`.
std::shared_ptr<LazyNode> transposeNode(std::shared_ptr<LazyNode> node,
                                        const std::vector<std::int64_t> &perm);
/// The window offsets + i * steps of `node`, of `sizes`.
std::shared_ptr<LazyNode> sliceNode(std::shared_ptr<LazyNode> node,
                                    const std::vector<std::int64_t> &offsets,
                                    const std::vector<std::int64_t> &steps,
                                    const Shape &sizes);
/// A node for `node` broadcast to `shape` (itself when already that shape).
std::shared_ptr<LazyNode> expandNode(std::shared_ptr<LazyNode> node,
                                     const Shape &shape);
/// A node for `node` converted to `dtype` (itself when already that dtype).
std::shared_ptr<LazyNode> castNode(std::shared_ptr<LazyNode> node, DType dtype);
/// The trueno::checkpoint call being recorded on this thread (0: none).
std::int64_t currentCheckpointRegion();

/// A pending tensor of `shape` holding uniform values in [0, 1) of the
/// floating `dtype`, computed on `device` by a kernel
/// (trueno.random_uniform) from `gen`'s next blocks: the same values
/// `rand` draws on the host (Random.cpp).
Tensor recordUniform(Shape shape, DType dtype, Generator &gen, Device device,
                     std::string_view op, SourceLoc where);

/// An Input node holding `value` as a rank-0 tensor of `dtype`, read as
/// `shape` through zero strides.
std::shared_ptr<LazyNode> scalarNode(const Scalar &value, DType dtype,
                                     const Shape &shape);

} // namespace detail
} // namespace trueno

#endif // TRUENO_FRONTEND_LAZY_H
