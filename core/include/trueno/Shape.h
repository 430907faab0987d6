//===- Shape.h - Shapes, strides and broadcasting -------------------------===//
//
// Shapes and strides are plain vectors of int64 (strides count elements, not
// bytes, and may be zero for broadcast dimensions or negative for reversed
// views). Broadcasting follows NumPy: shapes are aligned at the right, and
// two sizes match when they are equal or one of them is 1.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_SHAPE_H
#define TRUENO_SHAPE_H

#include <cstdint>
#include <initializer_list>
#include <source_location>
#include <span>
#include <string>
#include <vector>

namespace trueno {

using Shape = std::vector<std::int64_t>;
using Strides = std::vector<std::int64_t>;

/// The most dimensions a tensor may have. Generous on purpose: NumPy allows
/// 32 (ArrayFire and ggml stop at 4).
inline constexpr int kMaxRank = 16;

/// Product of the sizes; 1 for rank 0.
std::int64_t numelOf(std::span<const std::int64_t> shape);
/// Row-major (C order) strides for `shape`.
Strides contiguousStrides(std::span<const std::int64_t> shape);
/// "(3, 4)", "(5,)" or "()", as Python prints a tuple.
std::string formatShape(std::span<const std::int64_t> shape);

/// The shape that all of `shapes` broadcast to; throws ShapeError naming the
/// first pair of dimensions that disagree.
Shape broadcastShapes(
    std::span<const Shape> shapes,
    std::source_location where = std::source_location::current());
Shape broadcastShapes(
    std::initializer_list<Shape> shapes,
    std::source_location where = std::source_location::current());

} // namespace trueno

#endif // TRUENO_SHAPE_H
