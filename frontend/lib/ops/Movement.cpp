//===- Movement.cpp - Joining, splitting, reordering, repeating, padding --===//
//
// cat/stack/split/chunk, flip/roll/tile/repeatInterleave, pad, tril/triu and
// diag/diagonal (trueno/Indexing.h). Each is written with the smallest
// machinery that does it: splits and diagonals are views; joins are one
// trueno.concat (roll is a join of two windows) and constant pads one
// trueno.pad; other pads and counted repeats are gathers, and triangles a
// `where` over an index comparison. All of those are recorded and fuse with
// their neighbours. flip and tile are a view copied: recorded when the
// input is pending, a strided copy at the call when it is realized.
//
//===----------------------------------------------------------------------===//
#include "lazy/Lazy.h"
#include "tensor/TensorImpl.h"
#include "trueno/Core/Check.h"

#include "trueno/Indexing.h"
#include "trueno/Ops.h"

#include <algorithm>
#include <numeric>

namespace trueno {

using detail::fail;
using detail::implOf;
using detail::wrapDim;

namespace {

/// A zero of `dtype`'s category, so that where(mask, x, zero) keeps x's
/// dtype.
Scalar zeroOf(DType dtype) {
  if (dtype == DType::Bool)
    return Scalar(false);
  if (isFloating(dtype))
    return Scalar(0.0);
  return Scalar(std::int64_t(0));
}

/// An int64 vector tensor holding `values`.
Tensor indexVector(const std::vector<std::int64_t> &values, Device device) {
  return fromVector(values, {static_cast<std::int64_t>(values.size())},
                    TensorOptions(DType::Int64).withDevice(device));
}

} // namespace

//===----------------------------------------------------------------------===//
// Joining and splitting
//===----------------------------------------------------------------------===//

Tensor cat(const std::vector<Tensor> &given, std::int64_t dim,
           SourceLoc where) {
  if (given.empty())
    fail<ValueError>(where, "cat", "pass at least one tensor",
                     "cannot concatenate an empty list of tensors");
  // PyTorch's legacy rule: tensors of shape (0,) are left out whatever the
  // others' shapes (they still count for the result's dtype).
  std::vector<Tensor> tensors;
  std::vector<std::size_t> positions; // in `given`, for messages
  DType skippedType = DType::Bool;
  bool skipped = false;
  for (const Tensor &t : given)
    if (implOf(t, "cat", where).shape == Shape{0}) {
      skippedType = skipped ? resultType(skippedType, t.dtype()) : t.dtype();
      skipped = true;
    } else {
      tensors.push_back(t);
      positions.push_back(&t - given.data());
    }
  if (tensors.empty()) {
    tensors = given;
    positions.clear();
    for (std::size_t i = 0; i < given.size(); ++i)
      positions.push_back(i);
    skipped = false;
  }
  const TensorImpl &first = implOf(tensors[0], "cat", where);
  auto rank = static_cast<std::int64_t>(first.shape.size());
  if (rank == 0)
    fail<ShapeError>(where, "cat", "use stack() to join scalars into a vector",
                     "tensor {} is zero-dimensional and cannot be "
                     "concatenated",
                     positions[0]);
  std::int64_t d = wrapDim(dim, rank, first.shape, "cat", where);
  Shape shape = first.shape;
  shape[d] = 0;
  DType dtype = first.dtype;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorImpl &t = implOf(tensors[i], "cat", where);
    if (t.shape.size() != first.shape.size())
      fail<ShapeError>(where, "cat", "give every tensor the same rank",
                       "tensor {} has shape {} of rank {}, but tensor {} has "
                       "shape {} of rank {}",
                       positions[i], formatShape(t.shape), t.shape.size(),
                       positions[0], formatShape(first.shape), rank);
    for (std::int64_t k = 0; k < rank; ++k)
      if (k != d && t.shape[k] != first.shape[k])
        fail<ShapeError>(
            where, "cat",
            fmt::format("all sizes but dimension {} must match", d),
            "tensor {} has shape {} but tensor {} has shape {}: "
            "they differ in dimension {}",
            positions[i], formatShape(t.shape), positions[0],
            formatShape(first.shape), k);
    if (t.storage->device() != first.storage->device())
      fail<ValueError>(where, "cat", "move the tensors to one device first",
                       "tensor {} is on {} but tensor {} is on {}",
                       positions[i], t.storage->device().name(), positions[0],
                       first.storage->device().name());
    shape[d] += t.shape[d];
    dtype = resultType(dtype, t.dtype);
  }
  if (skipped)
    dtype = resultType(dtype, skippedType);
  detail::checkShape(shape, "cat", where, itemSize(dtype));
  // One trueno.concat: each input's producers fuse into the kernel and
  // write their window of the result.
  std::vector<std::shared_ptr<LazyNode>> operands;
  for (const Tensor &t : tensors)
    if (t.shape()[d] > 0)
      operands.push_back(detail::castNode(detail::nodeOf(*t.impl()), dtype));
  if (operands.empty())
    return detail::makeContiguous(dtype, shape, first.storage->device());
  return detail::record(OpCode::Concat, dtype, shape, std::move(operands),
                        first.storage->device(), {{d}}, where);
}

Tensor concatenate(const std::vector<Tensor> &tensors, std::int64_t dim,
                   SourceLoc where) {
  return cat(tensors, dim, where);
}

Tensor stack(const std::vector<Tensor> &tensors, std::int64_t dim,
             SourceLoc where) {
  if (tensors.empty())
    fail<ValueError>(where, "stack", "pass at least one tensor",
                     "cannot stack an empty list of tensors");
  const TensorImpl &first = implOf(tensors[0], "stack", where);
  auto rank = static_cast<std::int64_t>(first.shape.size());
  std::int64_t d = wrapDim(dim, rank + 1, first.shape, "stack", where);
  std::vector<Tensor> pieces;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorImpl &t = implOf(tensors[i], "stack", where);
    if (t.shape != first.shape)
      fail<ShapeError>(where, "stack", "stack tensors of one shape",
                       "tensor {} has shape {} but tensor 0 has shape {}", i,
                       formatShape(t.shape), formatShape(first.shape));
    pieces.push_back(tensors[i].unsqueeze(d, where));
  }
  return cat(pieces, d, where);
}

std::vector<Tensor> split(const Tensor &x, std::int64_t splitSize,
                          std::int64_t dim, SourceLoc where) {
  const TensorImpl &self = implOf(x, "split", where);
  std::int64_t d = wrapDim(dim, x.dim(), self.shape, "split", where);
  std::int64_t size = self.shape[d];
  if (splitSize < 0 || (splitSize == 0 && size != 0))
    fail<ValueError>(where, "split", "give a positive piece size",
                     "cannot split dimension {} of size {} into pieces of "
                     "size {}",
                     d, size, splitSize);
  std::vector<Tensor> pieces;
  if (size == 0)
    return {x};
  for (std::int64_t start = 0; start < size; start += splitSize)
    pieces.push_back(
        x.narrow(d, start, std::min(splitSize, size - start), where));
  return pieces;
}

std::vector<Tensor> split(const Tensor &x,
                          const std::vector<std::int64_t> &sizes,
                          std::int64_t dim, SourceLoc where) {
  const TensorImpl &self = implOf(x, "split", where);
  std::int64_t d = wrapDim(dim, x.dim(), self.shape, "split", where);
  std::int64_t total = 0;
  for (std::int64_t s : sizes) {
    if (s < 0)
      fail<ValueError>(where, "split", "sizes must be >= 0",
                       "split sizes {} include a negative size",
                       formatShape(sizes));
    total += s;
  }
  if (total != self.shape[d])
    fail<ShapeError>(where, "split",
                     fmt::format("the sizes must add up to {}", self.shape[d]),
                     "split sizes {} add up to {}, but dimension {} of shape "
                     "{} has size {}",
                     formatShape(sizes), total, d, formatShape(self.shape),
                     self.shape[d]);
  std::vector<Tensor> pieces;
  std::int64_t start = 0;
  for (std::int64_t s : sizes) {
    pieces.push_back(x.narrow(d, start, s, where));
    start += s;
  }
  return pieces;
}

std::vector<Tensor> chunk(const Tensor &x, std::int64_t chunks,
                          std::int64_t dim, SourceLoc where) {
  const TensorImpl &self = implOf(x, "chunk", where);
  if (chunks <= 0)
    fail<ValueError>(where, "chunk", "ask for at least one chunk",
                     "cannot split into {} chunks", chunks);
  std::int64_t d = wrapDim(dim, x.dim(), self.shape, "chunk", where);
  std::int64_t size = self.shape[d];
  // torch.chunk: pieces of ceil(size / chunks), so there may be fewer.
  std::int64_t piece = (size + chunks - 1) / chunks;
  if (piece == 0) { // an empty dimension: `chunks` empty views
    std::vector<Tensor> pieces(chunks, x);
    return pieces;
  }
  return split(x, piece, d, where);
}

//===----------------------------------------------------------------------===//
// Reordering and repeating
//===----------------------------------------------------------------------===//

/// Wraps each of `dims` and rejects repeats.
static std::vector<std::int64_t> wrapDims(const std::vector<std::int64_t> &dims,
                                          const TensorImpl &self,
                                          std::string_view op,
                                          SourceLoc where) {
  auto rank = static_cast<std::int64_t>(self.shape.size());
  std::vector<std::int64_t> out;
  for (std::int64_t dim : dims) {
    std::int64_t d = rank == 0 ? (wrapDim(dim, 1, self.shape, op, where), 0)
                               : wrapDim(dim, rank, self.shape, op, where);
    if (std::find(out.begin(), out.end(), d) != out.end())
      fail<ValueError>(where, op, "name each dimension once",
                       "dimension {} appears more than once in {}", d,
                       formatShape(dims));
    out.push_back(d);
  }
  return out;
}

Tensor flip(const Tensor &x, const std::vector<std::int64_t> &dims,
            SourceLoc where) {
  const TensorImpl &self = implOf(x, "flip", where);
  Tensor view = x;
  for (std::int64_t d : wrapDims(dims, self, "flip", where))
    if (x.dim() > 0)
      view = view.slice(d, std::nullopt, std::nullopt, -1, where);
  return view.clone();
}

Tensor roll(const Tensor &x, const std::vector<std::int64_t> &shifts,
            const std::vector<std::int64_t> &dims, SourceLoc where) {
  const TensorImpl &self = implOf(x, "roll", where);
  if (dims.empty()) {
    if (shifts.size() != 1)
      fail<ValueError>(where, "roll", "give one shift per dimension",
                       "{} shifts given without dims (the flattened tensor "
                       "takes one)",
                       shifts.size());
    return roll(x.flatten(), shifts, {0}, where).reshape(self.shape, where);
  }
  if (shifts.size() != dims.size())
    fail<ValueError>(where, "roll", "give one shift per dimension",
                     "{} shifts given for {} dimensions", shifts.size(),
                     dims.size());
  std::vector<std::int64_t> wrapped;
  for (std::int64_t dim : dims)
    wrapped.push_back(x.dim() == 0
                          ? (wrapDim(dim, 1, self.shape, "roll", where), 0)
                          : wrapDim(dim, x.dim(), self.shape, "roll", where));
  Tensor result = x;
  for (std::size_t i = 0; i < wrapped.size(); ++i) {
    if (x.dim() == 0)
      continue;
    std::int64_t d = wrapped[i], n = self.shape[d];
    if (n == 0)
      continue;
    std::int64_t s = ((shifts[i] % n) + n) % n;
    if (s == 0)
      continue;
    result = cat(
        {result.narrow(d, n - s, s, where), result.narrow(d, 0, n - s, where)},
        d, where);
  }
  return result.sharesStorageWith(x) ? x.clone() : result;
}

Tensor tile(const Tensor &x, const std::vector<std::int64_t> &reps,
            SourceLoc where) {
  const TensorImpl &self = implOf(x, "tile", where);
  for (std::int64_t r : reps)
    if (r < 0)
      fail<ValueError>(where, "tile", "repetitions must be >= 0",
                       "reps {} include a negative count", formatShape(reps));
  std::size_t rank = std::max(reps.size(), self.shape.size());
  Shape shape(rank - self.shape.size(), 1);
  shape.insert(shape.end(), self.shape.begin(), self.shape.end());
  std::vector<std::int64_t> counts(rank - reps.size(), 1);
  counts.insert(counts.end(), reps.begin(), reps.end());
  // [r0, s0, r1, s1, ...] by broadcasting [1, s0, 1, s1, ...], then merged.
  Shape interleaved, expanded, result;
  for (std::size_t i = 0; i < rank; ++i) {
    interleaved.insert(interleaved.end(), {1, shape[i]});
    expanded.insert(expanded.end(), {counts[i], shape[i]});
    std::int64_t size;
    if (__builtin_mul_overflow(counts[i], shape[i], &size))
      fail<ValueError>(where, "tile", "use fewer repetitions",
                       "reps {} of shape {} give more than 2^63 elements",
                       formatShape(reps), formatShape(self.shape));
    result.push_back(size);
  }
  detail::checkShape(result, "tile", where, itemSize(self.dtype));
  return x.reshape(interleaved, where)
      .expand(expanded, where)
      .contiguous()
      .view(result, where);
}

Tensor repeatInterleave(const Tensor &x, std::int64_t repeats,
                        std::optional<std::int64_t> dim, SourceLoc where) {
  const TensorImpl &self = implOf(x, "repeatInterleave", where);
  if (repeats < 0)
    fail<ValueError>(where, "repeatInterleave", "repeats must be >= 0",
                     "cannot repeat each element {} times", repeats);
  if (!dim)
    return repeatInterleave(x.flatten(), repeats, 0, where);
  if (x.dim() == 0)
    return repeatInterleave(x.reshape({1}), repeats, dim, where);
  std::int64_t d =
      wrapDim(*dim, x.dim(), self.shape, "repeatInterleave", where);
  Shape expanded = self.shape;
  expanded.insert(expanded.begin() + d + 1, repeats);
  Shape result = self.shape;
  result[d] *= repeats;
  detail::checkShape(result, "repeatInterleave", where, itemSize(self.dtype));
  return x.unsqueeze(d + 1, where)
      .expand(expanded, where)
      .contiguous()
      .view(result, where);
}

Tensor repeatInterleave(const Tensor &x, const Tensor &repeats,
                        std::optional<std::int64_t> dim, SourceLoc where) {
  const TensorImpl &self = implOf(x, "repeatInterleave", where);
  const TensorImpl &counts = implOf(repeats, "repeatInterleave", where);
  if (!isIntegral(counts.dtype))
    fail<DTypeError>(where, "repeatInterleave",
                     "pass the counts as an integer tensor",
                     "repeats has dtype {}", dtypeName(counts.dtype));
  if (!dim)
    return repeatInterleave(x.flatten(), repeats, 0, where);
  if (x.dim() == 0)
    return repeatInterleave(x.reshape({1}), repeats, dim, where);
  std::int64_t d =
      wrapDim(*dim, x.dim(), self.shape, "repeatInterleave", where);
  std::vector<std::int64_t> n = repeats.toVector<std::int64_t>();
  if (repeats.dim() > 1 ||
      (n.size() != 1 && static_cast<std::int64_t>(n.size()) != self.shape[d]))
    fail<ShapeError>(where, "repeatInterleave",
                     "give one count per element, or a single count",
                     "repeats of shape {} for dimension {} of size {}",
                     formatShape(counts.shape), d, self.shape[d]);
  if (n.size() == 1)
    return repeatInterleave(x, n[0], d, where);
  // The result's size, checked before any index list is built.
  std::int64_t total = 0;
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (n[i] < 0)
      fail<ValueError>(where, "repeatInterleave", "counts must be >= 0",
                       "count {} at position {} is negative", n[i], i);
    if (__builtin_add_overflow(total, n[i], &total))
      fail<ValueError>(where, "repeatInterleave", "use smaller counts",
                       "the counts add up to more than 2^63");
  }
  Shape shape = self.shape;
  shape[d] = total;
  detail::checkShape(shape, "repeatInterleave", where, itemSize(self.dtype));
  std::vector<std::int64_t> positions =
      detail::hostVector<std::int64_t>(total, 0, "repeatInterleave", where);
  for (std::size_t i = 0, at = 0; i < n.size(); ++i)
    for (std::int64_t k = 0; k < n[i]; ++k)
      positions[at++] = static_cast<std::int64_t>(i);
  return indexSelect(x, d, indexVector(positions, self.storage->device()),
                     where);
}

//===----------------------------------------------------------------------===//
// Padding
//===----------------------------------------------------------------------===//

Tensor pad(const Tensor &x, const std::vector<std::int64_t> &padding,
           PadMode mode, Scalar value, SourceLoc where) {
  const TensorImpl &self = implOf(x, "pad", where);
  auto rank = static_cast<std::int64_t>(self.shape.size());
  auto padded = static_cast<std::int64_t>(padding.size() / 2);
  if (padding.size() % 2 != 0 || padded > rank)
    fail<ValueError>(where, "pad",
                     "give (before, after) pairs, last dimension first, for "
                     "at most every dimension",
                     "padding {} for a tensor of shape {}",
                     formatShape(padding), formatShape(self.shape));
  Shape shape = self.shape;
  for (std::int64_t i = 0; i < padded; ++i) {
    std::int64_t d = rank - 1 - i;
    std::int64_t before = padding[2 * i], after = padding[2 * i + 1];
    std::int64_t size = self.shape[d];
    if (__builtin_add_overflow(size, before, &shape[d]) ||
        __builtin_add_overflow(shape[d], after, &shape[d]))
      fail<ValueError>(where, "pad", "use smaller paddings",
                       "padding ({}, {}) of dimension {} with size {} gives "
                       "more than 2^63 elements",
                       before, after, d, size);
    if (shape[d] < 0)
      fail<ValueError>(where, "pad", "crop at most the whole dimension",
                       "padding ({}, {}) of dimension {} with size {} leaves "
                       "a negative size",
                       before, after, d, size);
    if (mode == PadMode::Constant)
      continue;
    const char *modeName = mode == PadMode::Reflect     ? "reflect"
                           : mode == PadMode::Replicate ? "replicate"
                                                        : "circular";
    if (before < 0 || after < 0)
      fail<ValueError>(where, "pad", "only constant padding may be negative",
                       "{} padding ({}, {}) of dimension {} is negative",
                       modeName, before, after, d);
    std::int64_t limit = mode == PadMode::Reflect    ? size - 1
                         : mode == PadMode::Circular ? size
                                                     : INT64_MAX;
    if ((before > 0 || after > 0) &&
        (size == 0 || before > limit || after > limit))
      fail<ValueError>(where, "pad",
                       mode == PadMode::Reflect
                           ? "reflect padding must be less than the size"
                           : "padding must not exceed the size",
                       "{} padding ({}, {}) of dimension {} with size {}",
                       modeName, before, after, d, size);
  }
  detail::checkShape(shape, "pad", where, itemSize(self.dtype));
  if (mode == PadMode::Constant) {
    // A negative pad crops the source (a view); the rest is one trueno.pad,
    // which fuses with the source's producers.
    Tensor source = x;
    std::vector<std::int64_t> low(rank, 0), high(rank, 0), interior(rank, 0);
    for (std::int64_t i = 0; i < padded; ++i) {
      std::int64_t d = rank - 1 - i;
      std::int64_t before = padding[2 * i], after = padding[2 * i + 1];
      std::int64_t cropBefore = std::max<std::int64_t>(0, -before);
      std::int64_t cropAfter = std::max<std::int64_t>(0, -after);
      std::int64_t kept = self.shape[d] - cropBefore - cropAfter;
      source = source.narrow(d, std::min(cropBefore, self.shape[d]),
                             std::max<std::int64_t>(kept, 0), where);
      low[d] = std::max<std::int64_t>(0, before);
      high[d] = std::max<std::int64_t>(0, after);
      if (kept <= 0) // nothing left of the source: all padding
        return full(
            shape, value,
            TensorOptions(self.dtype).withDevice(self.storage->device()),
            where);
    }
    return detail::record(OpCode::Pad, self.dtype, shape,
                          {detail::nodeOf(*source.impl()),
                           detail::scalarNode(value, self.dtype, {})},
                          self.storage->device(), {low, high, interior}, where);
  }
  // reflect / replicate / circular: one gather per padded dimension.
  Tensor result = x;
  for (std::int64_t i = 0; i < padded; ++i) {
    std::int64_t d = rank - 1 - i;
    std::int64_t before = padding[2 * i], after = padding[2 * i + 1];
    std::int64_t size = self.shape[d];
    if (before == 0 && after == 0)
      continue;
    std::vector<std::int64_t> positions =
        detail::hostVector<std::int64_t>(shape[d], 0, "pad", where);
    for (std::int64_t j = -before, at = 0; j < size + after; ++j) {
      std::int64_t p = j;
      if (mode == PadMode::Reflect)
        p = j < 0 ? -j : j >= size ? 2 * (size - 1) - j : j;
      else if (mode == PadMode::Replicate)
        p = std::clamp<std::int64_t>(j, 0, size - 1);
      else
        p = ((j % size) + size) % size;
      positions[at++] = p;
    }
    result = indexSelect(result, d,
                         indexVector(positions, self.storage->device()), where);
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Triangles and diagonals
//===----------------------------------------------------------------------===//

/// x where `keep(col - row)` over the last two dimensions, zero elsewhere.
static Tensor triangle(const Tensor &x, std::int64_t diagonal, bool lower,
                       std::string_view op, SourceLoc where) {
  const TensorImpl &self = implOf(x, op, where);
  if (self.shape.size() < 2)
    fail<ShapeError>(where, op, "pass a matrix or a batch of matrices",
                     "a tensor of shape {} has no last two dimensions",
                     formatShape(self.shape));
  std::int64_t rows = self.shape[self.shape.size() - 2];
  std::int64_t cols = self.shape.back();
  TensorOptions options =
      TensorOptions(DType::Int64).withDevice(self.storage->device());
  Tensor offset = arange(0, cols, 1, options, where).reshape({1, cols}) -
                  arange(0, rows, 1, options, where).reshape({rows, 1});
  Tensor keep = lower ? le(offset, Scalar(diagonal), where)
                      : ge(offset, Scalar(diagonal), where);
  return trueno::where(keep, x, zeroOf(self.dtype), where);
}

Tensor tril(const Tensor &x, std::int64_t diagonal, SourceLoc where) {
  return triangle(x, diagonal, true, "tril", where);
}
Tensor triu(const Tensor &x, std::int64_t diagonal, SourceLoc where) {
  return triangle(x, diagonal, false, "triu", where);
}

Tensor diagonal(const Tensor &x, std::int64_t offset, std::int64_t dim1,
                std::int64_t dim2, SourceLoc where) {
  const TensorImpl &self = implOf(x, "diagonal", where);
  auto rank = static_cast<std::int64_t>(self.shape.size());
  if (rank < 2)
    fail<ShapeError>(where, "diagonal", "pass at least a matrix",
                     "a tensor of shape {} has no two dimensions to take a "
                     "diagonal of",
                     formatShape(self.shape));
  std::int64_t a = wrapDim(dim1, rank, self.shape, "diagonal", where);
  std::int64_t b = wrapDim(dim2, rank, self.shape, "diagonal", where);
  if (a == b)
    fail<ValueError>(where, "diagonal", "name two different dimensions",
                     "dim1 and dim2 are both {}", a);
  std::int64_t start = self.offset, length = 0;
  if (offset >= 0) {
    length = std::max<std::int64_t>(
        0, std::min(self.shape[a], self.shape[b] - offset));
    if (length > 0)
      start += offset * self.strides[b];
  } else {
    length = std::max<std::int64_t>(
        0, std::min(self.shape[a] + offset, self.shape[b]));
    if (length > 0)
      start -= offset * self.strides[a];
  }
  Shape shape;
  Strides strides;
  for (std::int64_t d = 0; d < rank; ++d)
    if (d != a && d != b) {
      shape.push_back(self.shape[d]);
      strides.push_back(self.strides[d]);
    }
  shape.push_back(length);
  strides.push_back(self.strides[a] + self.strides[b]);
  return detail::makeView(self, std::move(shape), std::move(strides), start);
}

Tensor diag(const Tensor &x, std::int64_t diagonal, SourceLoc where) {
  const TensorImpl &self = implOf(x, "diag", where);
  if (self.shape.size() == 2)
    return trueno::diagonal(x, diagonal, 0, 1, where).clone();
  if (self.shape.size() != 1)
    fail<ShapeError>(where, "diag", "pass a vector or a matrix",
                     "a tensor of shape {} is neither",
                     formatShape(self.shape));
  std::int64_t n;
  if (diagonal == INT64_MIN ||
      __builtin_add_overflow(self.shape[0], std::abs(diagonal), &n))
    fail<ValueError>(where, "diag", "use a smaller offset",
                     "offset {} of a vector of {} elements gives a matrix "
                     "of more than 2^63 rows",
                     diagonal, self.shape[0]);
  Tensor result = zeros(
      {n, n}, TensorOptions(self.dtype).withDevice(self.storage->device()),
      where);
  trueno::diagonal(result, diagonal, 0, 1, where).copy_(x, where);
  return result;
}

} // namespace trueno
