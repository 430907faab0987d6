//===- Strided.h - Walking strided views ----------------------------------===//
//
// The eager element loops of the frontend (copies, casts, fills, printing)
// visit a view row by row: `walkRows` calls back once per innermost row with
// each operand's element offset and inner stride, so the inner loop is a
// plain strided loop the compiler can optimize.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_FRONTEND_STRIDED_H
#define TRUENO_FRONTEND_STRIDED_H

#include "trueno/Shape.h"

#include <array>
#include <cstdint>

namespace trueno::detail {

/// Calls `row(offsets, length, innerStrides)` for every innermost row of
/// `shape`, where offsets[k] is the element offset of the row's first element
/// in operand k (whose strides are strides[k]).
template <std::size_t N, typename Row>
void walkRows(std::span<const std::int64_t> shape,
              const std::array<const Strides *, N> &strides, Row &&row) {
  if (numelOf(shape) == 0)
    return;
  std::size_t rank = shape.size();
  std::array<std::int64_t, N> offsets{};
  std::array<std::int64_t, N> inner{};
  if (rank == 0) {
    row(offsets, std::int64_t(1), inner);
    return;
  }
  for (std::size_t k = 0; k < N; ++k)
    inner[k] = (*strides[k])[rank - 1];
  std::int64_t length = shape[rank - 1];
  std::array<std::int64_t, kMaxRank> index{};
  while (true) {
    row(offsets, length, inner);
    std::size_t d = rank - 1;
    while (d-- > 0) {
      ++index[d];
      for (std::size_t k = 0; k < N; ++k)
        offsets[k] += (*strides[k])[d];
      if (index[d] < shape[d])
        break;
      for (std::size_t k = 0; k < N; ++k)
        offsets[k] -= (*strides[k])[d] * shape[d];
      index[d] = 0;
    }
    if (d == static_cast<std::size_t>(-1))
      return;
  }
}

} // namespace trueno::detail

#endif // TRUENO_FRONTEND_STRIDED_H
