//===- Sorting.cpp - sort, argsort, topk, unique, searchsorted ------------===//
//
// Comparison sorts run at the call on realized tensors (as PyTorch's CPU
// kernels do): the sorted dimension is moved last and made contiguous, each
// row is sorted by index with the standard library, and the values follow
// the indices. One order serves them all: numbers ascending, NaN after
// every number, ties by position, which makes every sort stable.
//
//===----------------------------------------------------------------------===//
#include "tensor/Dispatch.h"
#include "tensor/Parallel.h"
#include "tensor/TensorImpl.h"
#include "trueno/Autograd.h"
#include "trueno/Core/Check.h"

#include "trueno/Indexing.h"
#include "trueno/Ops.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

namespace trueno {

using detail::fail;
using detail::implOf;
using detail::wrapDim;

namespace {

/// The value compared: halves as float, bool as int.
template <typename T> auto key(T v) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>)
    return float(v);
  else if constexpr (std::is_same_v<T, bool>)
    return int(v);
  else
    return v;
}

template <typename K> bool isNaN(K v) {
  if constexpr (std::is_floating_point_v<K>)
    return std::isnan(v);
  else
    return false;
}

/// Ascending with NaN last.
template <typename K> bool before(K a, K b) {
  return (!isNaN(a) && isNaN(b)) || a < b;
}

/// Sorts each row of the last dimension of `moved` (contiguous) and keeps
/// the first `k` of each: values into `values`, positions into `indices`.
/// Rows are split across the cores; each sorts (key, position) pairs, which
/// keeps the comparisons in cache.
template <typename T>
void sortRows(const T *in, std::int64_t rows, std::int64_t n, std::int64_t k,
              bool descending, T *values, std::int64_t *indices) {
  using Key = decltype(key(T{}));
  auto work =
      rows * n * std::max<std::int64_t>(1, std::bit_width(std::uint64_t(n)));
  detail::parallelFor(rows, work, [&](std::int64_t first, std::int64_t end) {
    std::vector<std::pair<Key, std::int64_t>> order(n);
    auto better = [&](const std::pair<Key, std::int64_t> &a,
                      const std::pair<Key, std::int64_t> &b) {
      bool first =
          descending ? before(b.first, a.first) : before(a.first, b.first);
      bool second =
          descending ? before(a.first, b.first) : before(b.first, a.first);
      return first || (!second && a.second < b.second); // ties by position
    };
    for (std::int64_t r = first; r < end; ++r) {
      const T *row = in + r * n;
      for (std::int64_t j = 0; j < n; ++j)
        order[j] = {key(row[j]), j};
      if (k == n)
        std::sort(order.begin(), order.end(), better);
      else
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          better);
      for (std::int64_t j = 0; j < k; ++j) {
        values[r * k + j] = row[order[j].second];
        indices[r * k + j] = order[j].second;
      }
    }
  });
}

/// sort and topk: the best `k` of dimension `dim`, in order.
ValuesIndices sortAlong(const Tensor &x, std::int64_t dim,
                        std::optional<std::int64_t> k, bool descending,
                        std::string_view op, SourceLoc where) {
  const TensorImpl &self = implOf(x, op, where);
  if (self.shape.empty()) {
    wrapDim(dim, 1, self.shape, op, where);
    ValuesIndices one = sortAlong(x.reshape({1}), 0, k, descending, op, where);
    return {one.values.reshape({}), one.indices.reshape({})};
  }
  auto rank = static_cast<std::int64_t>(self.shape.size());
  std::int64_t d = wrapDim(dim, rank, self.shape, op, where);
  std::int64_t n = self.shape[d];
  std::int64_t keep = k.value_or(n);
  if (keep < 0 || keep > n)
    fail<ValueError>(where, op, fmt::format("k must be in 0 to {}", n),
                     "cannot take the top {} of dimension {} with size {} "
                     "(shape {})",
                     keep, d, n, formatShape(self.shape));
  // A gradient's escape hatch: the order is found eagerly, on the values
  // without tracking, and the values are gathered by it in the IR, whose
  // gradient scatters back (as PyTorch's sort/topk backward).
  if (isGradEnabled() && detail::tracksGrad(self)) {
    ValuesIndices order = sortAlong(x.detach(), dim, k, descending, op, where);
    return {gather(x, d, order.indices, where), order.indices};
  }
  Tensor moved = x.transpose(d, rank - 1, where).contiguous();
  Shape shape = moved.shape();
  shape.back() = keep;
  Device device = self.storage->device();
  Tensor values = detail::makeContiguous(self.dtype, shape, device);
  Tensor indices = detail::makeContiguous(DType::Int64, shape, device);
  std::int64_t rows = n == 0 ? 0 : moved.numel() / n;
  if (rows > 0 && keep > 0)
    detail::dispatchDType(self.dtype, [&]<typename T>(detail::TypeTag<T>) {
      sortRows(reinterpret_cast<const T *>(moved.impl()->firstElement()), rows,
               n, keep, descending,
               reinterpret_cast<T *>(values.impl()->mutableFirstElement()),
               reinterpret_cast<std::int64_t *>(
                   indices.impl()->mutableFirstElement()));
    });
  if (d == rank - 1)
    return {values, indices};
  return {values.transpose(d, rank - 1).contiguous(),
          indices.transpose(d, rank - 1).contiguous()};
}

} // namespace

ValuesIndices sort(const Tensor &x, std::int64_t dim, bool descending,
                   SourceLoc where) {
  return sortAlong(x, dim, std::nullopt, descending, "sort", where);
}

Tensor argsort(const Tensor &x, std::int64_t dim, bool descending,
               SourceLoc where) {
  return sortAlong(x, dim, std::nullopt, descending, "argsort", where).indices;
}

ValuesIndices topk(const Tensor &x, std::int64_t k, std::int64_t dim,
                   bool largest, bool /*sorted: any order is allowed*/,
                   SourceLoc where) {
  return sortAlong(x, dim, k, largest, "topk", where);
}

UniqueResult unique(const Tensor &x, SourceLoc where) {
  implOf(x, "unique", where);
  // The distinct elements are the distinct one-element slices of the
  // flattened tensor; the inverse takes x's shape.
  UniqueResult r = unique(x.reshape({x.numel()}, where), 0, where);
  r.inverse = r.inverse.reshape(x.shape(), where);
  return r;
}

UniqueResult unique(const Tensor &x, std::int64_t dim, SourceLoc where) {
  const TensorImpl &self = implOf(x, "unique", where);
  if (self.shape.empty())
    fail<ValueError>(where, "unique",
                     "call unique(x) without a dimension, or reshape x to "
                     "[1] first",
                     "a zero-dimensional tensor has no dimension {}", dim);
  std::int64_t rank = static_cast<std::int64_t>(self.shape.size());
  dim = wrapDim(dim, rank, self.shape, "unique", where);
  const std::int64_t n = self.shape[dim];
  if (n > 0 && x.numel() == 0)
    fail<ValueError>(where, "unique",
                     "only the chosen dimension may have size 0",
                     "the tensor has shape {}: its slices along dimension {} "
                     "are empty",
                     formatShape(self.shape), dim);
  // [n, slice] rows, contiguous.
  std::vector<std::int64_t> toFront(static_cast<std::size_t>(rank));
  std::iota(toFront.begin(), toFront.end(), 0);
  std::rotate(toFront.begin(), toFront.begin() + dim,
              toFront.begin() + dim + 1);
  Tensor rows = x.permute(toFront, where).contiguous();
  const std::int64_t length = n == 0 ? 0 : x.numel() / n;
  Device device = self.storage->device();
  Tensor inverse = detail::makeContiguous(DType::Int64, {n}, device);
  auto *inv =
      reinterpret_cast<std::int64_t *>(inverse.impl()->mutableFirstElement());
  std::vector<std::int64_t> firsts, counts;
  detail::dispatchDType(self.dtype, [&]<typename T>(detail::TypeTag<T>) {
    const T *in = reinterpret_cast<const T *>(rows.impl()->firstElement());
    auto row = [&](std::int64_t r) { return in + r * length; };
    auto lexicallyBefore = [&](std::int64_t a, std::int64_t b) {
      const T *x = row(a), *y = row(b);
      for (std::int64_t i = 0; i < length; ++i) {
        if (before(key(x[i]), key(y[i])))
          return true;
        if (before(key(y[i]), key(x[i])))
          return false;
      }
      return false;
    };
    // Equal slices: every element equal, so a slice holding NaN equals none.
    auto same = [&](std::int64_t a, std::int64_t b) {
      const T *x = row(a), *y = row(b);
      for (std::int64_t i = 0; i < length; ++i)
        if (!(key(x[i]) == key(y[i])))
          return false;
      return true;
    };
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), lexicallyBefore);
    for (std::int64_t i = 0; i < n; ++i) {
      if (i == 0 || !same(order[i], order[i - 1])) {
        firsts.push_back(order[i]);
        counts.push_back(0);
      }
      ++counts.back();
      inv[order[i]] = static_cast<std::int64_t>(firsts.size()) - 1;
    }
  });
  Tensor picked = fromVector(firsts, {static_cast<std::int64_t>(firsts.size())},
                             TensorOptions(DType::Int64).withDevice(device));
  Tensor values = indexSelect(x, dim, picked, where).contiguous();
  Tensor countTensor =
      fromVector(counts, {static_cast<std::int64_t>(counts.size())},
                 TensorOptions(DType::Int64).withDevice(device));
  return {values, inverse, countTensor};
}

Tensor searchsorted(const Tensor &sortedSequence, const Tensor &values,
                    bool right, SourceLoc where) {
  const TensorImpl &seq = implOf(sortedSequence, "searchsorted", where);
  const TensorImpl &v = implOf(values, "searchsorted", where);
  if (seq.shape.empty())
    fail<ShapeError>(where, "searchsorted", "pass a sorted vector",
                     "the sorted sequence is zero-dimensional");
  bool oneRow = seq.shape.size() == 1;
  if (!oneRow &&
      (v.shape.size() != seq.shape.size() ||
       !std::equal(seq.shape.begin(), seq.shape.end() - 1, v.shape.begin())))
    fail<ShapeError>(where, "searchsorted",
                     "a sequence of rank > 1 needs values with the same "
                     "leading dimensions",
                     "the sequence has shape {} but the values have shape {}",
                     formatShape(seq.shape), formatShape(v.shape));
  DType common = resultType(seq.dtype, v.dtype);
  Tensor s = sortedSequence.to(common, where).contiguous();
  Tensor q = values.to(common, where).contiguous();
  std::int64_t n = seq.shape.back();
  std::int64_t perRow = oneRow ? q.numel() : (v.shape.back());
  Device device = seq.storage->device();
  Tensor result = detail::makeContiguous(DType::Int64, v.shape, device);
  auto *out =
      reinterpret_cast<std::int64_t *>(result.impl()->mutableFirstElement());
  detail::dispatchDType(common, [&]<typename T>(detail::TypeTag<T>) {
    const T *row0 = reinterpret_cast<const T *>(s.impl()->firstElement());
    const T *query = reinterpret_cast<const T *>(q.impl()->firstElement());
    for (std::int64_t i = 0; i < q.numel(); ++i) {
      const T *row = oneRow ? row0 : row0 + (i / perRow) * n;
      auto x = key(query[i]);
      const T *at =
          right ? std::upper_bound(
                      row, row + n, x,
                      [](auto a, const T &b) { return before(a, key(b)); })
                : std::lower_bound(row, row + n, x, [](const T &a, auto b) {
                    return before(key(a), b);
                  });
      out[i] = at - row;
    }
  });
  return result;
}

Tensor searchsorted(const Tensor &sequence, const Tensor &values, bool right,
                    const Tensor &sorter, SourceLoc where) {
  const TensorImpl &seq = implOf(sequence, "searchsorted", where);
  const TensorImpl &order = implOf(sorter, "searchsorted", where);
  if (order.dtype != DType::Int64)
    fail<DTypeError>(
        where, "searchsorted", "pass the int64 indices argsort gives",
        "the sorter must be int64, not {}", dtypeName(order.dtype));
  if (order.shape != seq.shape)
    fail<ShapeError>(where, "searchsorted",
                     "pass one index per element of the sequence",
                     "the sorter has shape {} but the sequence has shape {}",
                     formatShape(order.shape), formatShape(seq.shape));
  if (seq.shape.empty())
    return searchsorted(sequence, values, right, where); // its error
  // Checked here rather than by the gather below, whose message would name
  // gather.
  std::int64_t length = seq.shape.back();
  Tensor outside =
      logicalOr(lt(sorter, 0, where), ge(sorter, length, where), where)
          .flatten(0, -1, where);
  if (outside.numel() > 0 && outside.any({}, false, where).item<bool>()) {
    std::int64_t at =
        argmax(outside.to(DType::Int8, where), std::nullopt, false, where)
            .item<std::int64_t>();
    fail<IndexError>(where, "searchsorted", "pass the indices argsort gives",
                     "the sorter holds {} at flat position {}, out of range "
                     "for rows of {} elements",
                     sorter.flatten(0, -1, where).at<std::int64_t>({at}), at,
                     length);
  }
  return searchsorted(gather(sequence, -1, sorter, where), values, right,
                      where);
}

} // namespace trueno
