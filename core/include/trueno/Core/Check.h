//===- Check.h - Argument checks that throw typed errors ------------------===//
//
// Internal helpers shared by core and the frontend: `computeType` widens
// halves, `wrapDim` turns a possibly negative axis into an index and rejects
// out-of-range ones with the rank and shape in the message. (`fail<E>` is
// public: trueno/Fail.h.)
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_CORE_CHECK_H
#define TRUENO_CORE_CHECK_H

#include "trueno/DType.h"
#include "trueno/Error.h"
#include "trueno/Fail.h"
#include "trueno/Shape.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <source_location>
#include <string>
#include <string_view>

namespace trueno::detail {

/// The dtype an op computes in: float32 for float16 and bfloat16 (rounded
/// once at the end, as PyTorch's CPU kernels), the dtype itself otherwise.
inline DType computeType(DType dtype) {
  return dtype == DType::Float16 || dtype == DType::BFloat16 ? DType::Float32
                                                             : dtype;
}

/// `dim` in [-rank, rank) mapped to [0, rank); IndexError otherwise.
std::int64_t wrapDim(std::int64_t dim, std::int64_t rank,
                     std::span<const std::int64_t> shape, std::string_view op,
                     std::source_location where);

/// For ops that, as PyTorch's, let dims 0 and -1 name a rank-0 tensor's
/// single "axis": IndexError naming `op` for any other dim.
void checkScalarDim(std::int64_t dim, std::string_view op,
                    std::source_location where);

/// The dimensions a reduction over `dims` of a tensor of `shape` reduces,
/// wrapped, sorted and checked (IndexError naming `op` for one out of
/// range or listed twice); every dimension when `dims` is empty. A rank-0
/// tensor may be reduced over 0 or -1, as in PyTorch (the result is empty).
std::vector<std::int64_t> reductionDims(std::span<const std::int64_t> shape,
                                        std::span<const std::int64_t> dims,
                                        std::string_view op,
                                        std::source_location where);

/// Throws ValueError if the rank exceeds kMaxRank, a size is negative, or
/// the elements would need more than INT64_MAX bytes of `itemBytes` each.
/// Like NumPy, sizes of zero do not excuse the others: (0, 2^62, 2^62) is
/// too big too, so strides never overflow either.
void checkShape(std::span<const std::int64_t> shape, std::string_view op,
                std::source_location where, int itemBytes = 1);

/// Whether `from` broadcasts to exactly `to` (NumPy's rules, one way).
bool broadcastsTo(std::span<const std::int64_t> from,
                  std::span<const std::int64_t> to);

} // namespace trueno::detail

#endif // TRUENO_CORE_CHECK_H
