//===- Shape.cpp - Shapes, strides, broadcasting and axis checks ----------===//
#include "trueno/Core/Check.h"

#include "trueno/Shape.h"

#include <algorithm>

namespace trueno {

std::int64_t numelOf(std::span<const std::int64_t> shape) {
  std::int64_t n = 1;
  for (std::int64_t s : shape)
    n *= s;
  return n;
}

Strides contiguousStrides(std::span<const std::int64_t> shape) {
  Strides strides(shape.size());
  std::int64_t step = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = step;
    step *= std::max<std::int64_t>(shape[i], 1);
  }
  return strides;
}

std::string formatShape(std::span<const std::int64_t> shape) {
  if (shape.size() == 1)
    return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

Shape broadcastShapes(std::span<const Shape> shapes,
                      std::source_location where) {
  std::size_t rank = 0;
  for (const Shape &s : shapes)
    rank = std::max(rank, s.size());
  Shape result(rank, 1);
  // Which input decided each output size, to name both sides of a conflict.
  std::vector<std::size_t> decidedBy(rank, 0);
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    const Shape &s = shapes[k];
    detail::checkShape(s, "broadcastShapes", where);
    for (std::size_t i = 0; i < s.size(); ++i) {
      std::size_t out = rank - s.size() + i;
      std::int64_t size = s[i];
      if (size == result[out] || size == 1)
        continue;
      if (result[out] == 1) {
        result[out] = size;
        decidedBy[out] = k;
        continue;
      }
      const Shape &other = shapes[decidedBy[out]];
      std::int64_t axis =
          static_cast<std::int64_t>(out) - static_cast<std::int64_t>(rank);
      detail::fail<ShapeError>(
          where, "broadcastShapes",
          "sizes must be equal or one of them 1; insert a size-1 axis with "
          "unsqueeze() or reshape() to broadcast along another dimension",
          "shapes {} and {} cannot be broadcast together: at axis {} (from "
          "the right) sizes {} and {} differ",
          formatShape(other), formatShape(s), axis, result[out], size);
    }
  }
  return result;
}

Shape broadcastShapes(std::initializer_list<Shape> shapes,
                      std::source_location where) {
  return broadcastShapes(std::span<const Shape>(shapes.begin(), shapes.size()),
                         where);
}

namespace detail {

std::int64_t wrapDim(std::int64_t dim, std::int64_t rank,
                     std::span<const std::int64_t> shape, std::string_view op,
                     std::source_location where) {
  if (rank == 0)
    fail<IndexError>(where, op, "a rank-0 tensor has no dimensions",
                     "dimension {} is out of range for a tensor of rank 0 "
                     "(shape ())",
                     dim);
  if (dim < -rank || dim >= rank)
    fail<IndexError>(
        where, op,
        fmt::format("valid dimensions are {} to {}", -rank, rank - 1),
        "dimension {} is out of range for a tensor of rank {} "
        "(shape {})",
        dim, rank, formatShape(shape));
  return dim < 0 ? dim + rank : dim;
}

void checkScalarDim(std::int64_t dim, std::string_view op,
                    std::source_location where) {
  if (dim != 0 && dim != -1)
    fail<IndexError>(where, op, "use 0 or -1",
                     "dimension {} is out of range for a tensor of rank 0",
                     dim);
}

std::vector<std::int64_t> reductionDims(std::span<const std::int64_t> shape,
                                        std::span<const std::int64_t> dims,
                                        std::string_view op,
                                        std::source_location where) {
  auto rank = static_cast<std::int64_t>(shape.size());
  std::vector<std::int64_t> reduced;
  if (rank == 0) {
    for (std::int64_t d : dims)
      checkScalarDim(d, op, where);
    return reduced;
  }
  for (std::int64_t d : dims) {
    std::int64_t w = wrapDim(d, rank, shape, op, where);
    if (std::find(reduced.begin(), reduced.end(), w) != reduced.end())
      fail<IndexError>(where, op, "list each dimension once",
                       "dimension {} appears more than once in {}", w,
                       formatShape(dims));
    reduced.push_back(w);
  }
  if (dims.empty())
    for (std::int64_t d = 0; d < rank; ++d)
      reduced.push_back(d);
  std::sort(reduced.begin(), reduced.end());
  return reduced;
}

bool broadcastsTo(std::span<const std::int64_t> from,
                  std::span<const std::int64_t> to) {
  if (from.size() > to.size())
    return false;
  std::size_t lead = to.size() - from.size();
  for (std::size_t i = 0; i < from.size(); ++i)
    if (from[i] != to[lead + i] && from[i] != 1)
      return false;
  return true;
}

void checkShape(std::span<const std::int64_t> shape, std::string_view op,
                std::source_location where, int itemBytes) {
  if (shape.size() > static_cast<std::size_t>(kMaxRank))
    fail<ValueError>(where, op, "",
                     "shape {} has {} dimensions; at most {} "
                     "are supported",
                     formatShape(shape), shape.size(), kMaxRank);
  for (std::int64_t s : shape)
    if (s < 0)
      fail<ValueError>(where, op, "sizes must be >= 0",
                       "shape {} has a negative size {}", formatShape(shape),
                       s);
  std::int64_t bytes = itemBytes;
  for (std::int64_t s : shape)
    if (s != 0 && __builtin_mul_overflow(bytes, s, &bytes))
      fail<ValueError>(where, op, "",
                       "shape {} is too big: its elements would need more "
                       "than 2^63 bytes",
                       formatShape(shape));
}

} // namespace detail
} // namespace trueno
