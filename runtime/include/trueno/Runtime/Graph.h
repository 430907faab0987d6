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

#include "trueno/DType.h"
#include "trueno/Shape.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace trueno::runtime {

/// One per trueno dialect op the frontend records, plus `Input`.
enum class OpCode : std::uint8_t {
  Input, ///< a buffer the caller passes (a realized tensor or view)
  // Unary, same dtype in and out.
  Neg,
  Abs,
  Sign,
  Exp,
  Exp2,
  Expm1,
  Log,
  Log2,
  Log1p,
  Sqrt,
  Rsqrt,
  Sin,
  Cos,
  Tan,
  Tanh,
  Sigmoid,
  Relu,
  Gelu,
  GeluTanh,
  Silu,
  Softplus,
  Floor,
  Ceil,
  Round,
  Erf,
  // Unary predicates (bool result).
  IsNan,
  IsInf,
  LogicalNot,
  // Binary, same dtype in and out.
  Add,
  Sub,
  Mul,
  Div,
  FloorDiv,
  Remainder,
  Pow,
  Maximum,
  Minimum,
  Atan2,
  BitwiseAnd,
  BitwiseOr,
  BitwiseXor,
  LogicalAnd,
  LogicalOr,
  LogicalXor,
  // Comparisons (bool result).
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  // Others.
  Where,  ///< condition, then, else
  Clamp,  ///< input, low, high
  Cast,   ///< to the node's dtype
  Expand, ///< to the node's shape
  // Reductions over the node's `dims` (kept as size 1 when the node's rank
  // equals the operand's).
  ReduceSum,
  ReduceProd,
  ReduceMax,
  ReduceMin,
  // Contractions.
  Matmul, ///< [..., m, k] x [..., k, n], equal batch dimensions
  Conv2d, ///< input NCHW, filter FCHW; dims: stride, padding, dilation
          ///< (two each), groups
  ArgMax, ///< int64 index along `dims[0]` (kept as size 1 when the ranks
  ArgMin, ///< match)
  Gather  ///< input, int64 index of the node's shape; along `dims[0]`
};

/// The trueno dialect's name for the op ("add", "gelu"...).
std::string_view opName(OpCode op);

struct GraphNode {
  OpCode op;
  DType dtype;
  /// Indices of earlier nodes; -1 where unused.
  std::array<std::int32_t, 3> operands = {-1, -1, -1};
  Shape shape;
  /// Inputs only: the view's strides in elements; empty when contiguous.
  Strides strides;
  /// The op's integer attributes: the reduced dimensions, increasing
  /// (reductions), the reduced dimension (ArgMax, ArgMin, Gather), or stride,
  /// padding and dilation (height, width) and groups (Conv2d).
  std::vector<std::int64_t> dims;

  bool operator==(const GraphNode &) const = default;
};

struct Graph {
  std::vector<GraphNode> nodes;
  /// Nodes whose values the caller wants, in the order of its buffers.
  std::vector<std::int32_t> outputs;

  bool operator==(const Graph &) const = default;
  /// A hash of the whole structure (ops, dtypes, shapes, strides, outputs).
  std::size_t hash() const;
};

struct GraphHash {
  std::size_t operator()(const Graph &g) const { return g.hash(); }
};

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_GRAPH_H
