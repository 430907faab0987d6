//===- Graph.h - The recorded graph handed to the compiler ------*- C++ -*-===//
//
// A `Graph` is what a realize hands to the runtime: the pending nodes in
// dependency order, with dtypes and shapes, the inputs' strides, and which
// nodes are wanted. It holds no data, so it is also the key of the compiled
// program cache: two realizes with equal graphs run the same program.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_GRAPH_H
#define TRUENO_RUNTIME_GRAPH_H

#include "trueno/Core/OpCode.h"
#include "trueno/DType.h"
#include "trueno/Device.h"
#include "trueno/Shape.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace trueno::runtime {

struct GraphNode {
  OpCode op;
  DType dtype;
  /// Indices of earlier nodes.
  std::vector<std::int32_t> operands;
  Shape shape;
  /// Inputs only: the view's strides in elements; empty when contiguous.
  Strides strides;
  /// The op's attributes, one integer array per entry of its schema in
  /// trueno/OpTable.def (e.g. Conv2d: stride, padding, dilation, groups).
  std::vector<std::vector<std::int64_t>> attributes;
  /// Nonzero: the op is in gradient-checkpointing region n (numbered from 1
  /// in order of appearance); gradients recompute it instead of reading it
  /// (the `trueno.recompute` attribute).
  std::int32_t recomputeRegion = 0;

  bool operator==(const GraphNode &) const = default;
};

struct Graph {
  /// Where it runs: the same nodes on two devices are two programs.
  Device device;
  std::vector<GraphNode> nodes;
  /// Nodes whose values the caller wants, in the order of its buffers.
  std::vector<std::int32_t> outputs;

  bool operator==(const Graph &) const = default;
  /// A hash of the whole structure (device, ops, dtypes, shapes, strides,
  /// outputs).
  std::size_t hash() const;
};

struct GraphHash {
  std::size_t operator()(const Graph &g) const { return g.hash(); }
};

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_GRAPH_H
