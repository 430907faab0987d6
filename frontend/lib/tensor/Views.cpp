//===- Views.cpp - Views over a tensor's storage, without copies ----------===//
//
// Each view computes a new (shape, strides, offset) over the same storage.
// Only `reshape` (and `flatten`, which is a reshape) may copy, and only when
// the layout cannot be expressed with strides, exactly as in PyTorch.
//
//===----------------------------------------------------------------------===//
#include "tensor/TensorImpl.h"
#include "trueno/Core/Check.h"

#include <algorithm>
#include <numeric>
#include <optional>

namespace trueno {

using detail::fail;
using detail::implOf;
using detail::wrapDim;

/// Resolves a single -1 in `requested` from the element count; ShapeError if
/// the sizes cannot hold exactly `numel` elements.
static Shape inferShape(const TensorImpl &self, Shape requested,
                        std::string_view op, SourceLoc where) {
  std::int64_t numel = self.numel();
  std::optional<std::size_t> inferred;
  std::int64_t known = 1;
  for (std::size_t i = 0; i < requested.size(); ++i) {
    if (requested[i] == -1) {
      if (inferred)
        fail<ShapeError>(where, op, "give every size but one",
                         "shape {} has more than one -1",
                         formatShape(requested));
      inferred = i;
    } else if (requested[i] < 0) {
      fail<ShapeError>(where, op, "sizes must be >= 0, or -1 to infer one",
                       "shape {} has an invalid size {}",
                       formatShape(requested), requested[i]);
    } else if (__builtin_mul_overflow(known, requested[i], &known)) {
      fail<ShapeError>(where, op, "", "shape {} is too big",
                       formatShape(requested));
    }
  }
  if (inferred) {
    if (known == 0 || numel % known != 0)
      fail<ShapeError>(where, op,
                       fmt::format("the other sizes must divide {}", numel),
                       "cannot reshape a tensor of shape {} ({} elements) "
                       "into shape {}: the -1 cannot be inferred",
                       formatShape(self.shape), numel, formatShape(requested));
    requested[*inferred] = numel / known;
  } else if (known != numel) {
    fail<ShapeError>(where, op,
                     fmt::format("the new shape must have {} elements; -1 "
                                 "infers one size",
                                 numel),
                     "cannot reshape a tensor of shape {} ({} elements) into "
                     "shape {} ({} elements)",
                     formatShape(self.shape), numel, formatShape(requested),
                     known);
  }
  detail::checkShape(requested, op, where, itemSize(self.dtype));
  return requested;
}

/// Strides that view `self`'s elements as `shape` without moving them, or
/// nothing if no such strides exist. PyTorch's `computeStride`: dimensions
/// are matched in chunks that are contiguous among themselves.
static std::optional<Strides> viewStrides(const TensorImpl &self,
                                          const Shape &shape) {
  const Shape &oldShape = self.shape;
  const Strides &oldStrides = self.strides;
  Strides strides(shape.size(), 1);
  if (oldShape.empty())
    return strides;
  if (self.numel() == 0) {
    if (oldShape == shape)
      return oldStrides;
    return contiguousStrides(shape);
  }
  std::int64_t viewD = static_cast<std::int64_t>(shape.size()) - 1;
  std::int64_t chunkBaseStride = oldStrides.back();
  std::int64_t tensorNumel = 1, viewNumel = 1;
  for (std::int64_t d = static_cast<std::int64_t>(oldShape.size()) - 1; d >= 0;
       --d) {
    tensorNumel *= oldShape[d];
    bool chunkEnds =
        d == 0 || (oldShape[d - 1] != 1 &&
                   oldStrides[d - 1] != tensorNumel * chunkBaseStride);
    if (!chunkEnds)
      continue;
    while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] == 1)) {
      strides[viewD] = viewNumel * chunkBaseStride;
      viewNumel *= shape[viewD];
      --viewD;
    }
    if (viewNumel != tensorNumel)
      return std::nullopt;
    if (d > 0) {
      chunkBaseStride = oldStrides[d - 1];
      tensorNumel = viewNumel = 1;
    }
  }
  if (viewD != -1)
    return std::nullopt;
  return strides;
}

Tensor Tensor::reshape(Shape shape, SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "reshape", where);
  shape = inferShape(self, std::move(shape), "reshape", where);
  if (auto strides = viewStrides(self, shape))
    return detail::makeView(self, std::move(shape), std::move(*strides),
                            self.offset);
  Tensor copy = clone();
  return detail::makeView(*copy.impl(), shape, contiguousStrides(shape), 0);
}

Tensor Tensor::view(Shape shape, SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "view", where);
  shape = inferShape(self, std::move(shape), "view", where);
  auto strides = viewStrides(self, shape);
  if (!strides)
    fail<ShapeError>(where, "view",
                     "use reshape(), which copies when needed, or call "
                     "contiguous() first",
                     "a tensor of shape {} with strides {} cannot be viewed "
                     "as shape {} without copying",
                     formatShape(self.shape), formatShape(self.strides),
                     formatShape(shape));
  return detail::makeView(self, std::move(shape), std::move(*strides),
                          self.offset);
}

Tensor Tensor::transpose(std::int64_t dim0, std::int64_t dim1,
                         SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "transpose", where);
  std::int64_t rank = dim();
  if (rank == 0) { // as PyTorch: dims 0 and -1 name a scalar's one "axis"
    detail::checkScalarDim(dim0, "transpose", where);
    detail::checkScalarDim(dim1, "transpose", where);
    return *this;
  }
  std::size_t a = wrapDim(dim0, rank, self.shape, "transpose", where);
  std::size_t b = wrapDim(dim1, rank, self.shape, "transpose", where);
  Shape shape = self.shape;
  Strides strides = self.strides;
  std::swap(shape[a], shape[b]);
  std::swap(strides[a], strides[b]);
  return detail::makeView(self, std::move(shape), std::move(strides),
                          self.offset);
}

Tensor Tensor::permute(std::vector<std::int64_t> dims, SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "permute", where);
  std::int64_t rank = dim();
  if (static_cast<std::int64_t>(dims.size()) != rank)
    fail<ShapeError>(where, "permute", "give each dimension exactly once",
                     "{} dimensions given for a tensor of rank {} (shape {})",
                     dims.size(), rank, formatShape(self.shape));
  std::vector<bool> seen(rank, false);
  Shape shape(rank);
  Strides strides(rank);
  for (std::int64_t i = 0; i < rank; ++i) {
    std::size_t d = wrapDim(dims[i], rank, self.shape, "permute", where);
    if (seen[d])
      fail<ValueError>(where, "permute", "give each dimension exactly once",
                       "dimension {} appears more than once in {}", d,
                       formatShape(dims));
    seen[d] = true;
    shape[i] = self.shape[d];
    strides[i] = self.strides[d];
  }
  return detail::makeView(self, std::move(shape), std::move(strides),
                          self.offset);
}

Tensor Tensor::slice(std::int64_t dim, std::optional<std::int64_t> start,
                     std::optional<std::int64_t> stop, std::int64_t step,
                     SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "slice", where);
  std::size_t d = wrapDim(dim, this->dim(), self.shape, "slice", where);
  if (step == 0)
    fail<ValueError>(where, "slice",
                     "use a positive step, or a negative one "
                     "to walk backwards",
                     "slice step cannot be zero");
  // Python's slice.indices(): clamp into range, defaults depend on the sign.
  std::int64_t size = self.shape[d];
  std::int64_t lower = step > 0 ? 0 : -1;
  std::int64_t upper = step > 0 ? size : size - 1;
  auto clampBound = [&](std::optional<std::int64_t> bound,
                        std::int64_t fallback) {
    if (!bound)
      return fallback;
    std::int64_t b = *bound;
    if (b < 0)
      return std::max(b + size, lower);
    return std::min(b, upper);
  };
  std::int64_t first = clampBound(start, step > 0 ? lower : upper);
  std::int64_t last = clampBound(stop, step > 0 ? upper : lower);
  // In 128 bits: -step overflows for INT64_MIN.
  std::int64_t length = 0;
  if (step > 0 && last > first)
    length = (last - first - 1) / step + 1;
  else if (step < 0 && first > last)
    length =
        static_cast<std::int64_t>((static_cast<__int128>(first) - last - 1) /
                                      -static_cast<__int128>(step) +
                                  1);
  Shape shape = self.shape;
  Strides strides = self.strides;
  shape[d] = length;
  std::int64_t offset = self.offset;
  if (length > 0)
    offset += first * strides[d];
  if (length > 1) // stride * step cannot overflow: |step| < size here
    strides[d] *= step;
  return detail::makeView(self, std::move(shape), std::move(strides), offset);
}

Tensor Tensor::select(std::int64_t dim, std::int64_t index,
                      SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "select", where);
  std::size_t d = wrapDim(dim, this->dim(), self.shape, "select", where);
  std::int64_t size = self.shape[d];
  if (index < -size || index >= size)
    fail<IndexError>(
        where, "select",
        size == 0 ? std::string("the dimension is empty")
                  : fmt::format("valid indices are {} to {}", -size, size - 1),
        "index {} is out of range for dimension {} with size {} "
        "(shape {})",
        index, d, size, formatShape(self.shape));
  if (index < 0)
    index += size;
  Shape shape = self.shape;
  Strides strides = self.strides;
  std::int64_t offset = self.offset + index * strides[d];
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return detail::makeView(self, std::move(shape), std::move(strides), offset);
}

Tensor Tensor::narrow(std::int64_t dim, std::int64_t start, std::int64_t length,
                      SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "narrow", where);
  std::size_t d = wrapDim(dim, this->dim(), self.shape, "narrow", where);
  std::int64_t size = self.shape[d];
  if (start < -size || start > size)
    fail<IndexError>(where, "narrow",
                     fmt::format("start must be in {} to {}", -size, size),
                     "start {} is out of range for dimension {} with size {} "
                     "(shape {})",
                     start, d, size, formatShape(self.shape));
  if (start < 0)
    start += size;
  if (length < 0 || length > size - start)
    fail<IndexError>(where, "narrow",
                     fmt::format("length must be in 0 to {}", size - start),
                     "start {} plus length {} exceeds dimension {} with size "
                     "{} (shape {})",
                     start, length, d, size, formatShape(self.shape));
  return slice(static_cast<std::int64_t>(d), start, start + length, 1, where);
}

Tensor Tensor::squeeze(SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "squeeze", where);
  Shape shape;
  Strides strides;
  for (std::size_t d = 0; d < self.shape.size(); ++d) {
    if (self.shape[d] == 1)
      continue;
    shape.push_back(self.shape[d]);
    strides.push_back(self.strides[d]);
  }
  return detail::makeView(self, std::move(shape), std::move(strides),
                          self.offset);
}

Tensor Tensor::squeeze(std::int64_t dim, SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "squeeze", where);
  if (self.shape.empty()) { // as PyTorch: squeeze(0) of a scalar is itself
    detail::checkScalarDim(dim, "squeeze", where);
    return *this;
  }
  std::size_t d = wrapDim(dim, this->dim(), self.shape, "squeeze", where);
  if (self.shape[d] != 1)
    return *this;
  Shape shape = self.shape;
  Strides strides = self.strides;
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return detail::makeView(self, std::move(shape), std::move(strides),
                          self.offset);
}

Tensor Tensor::unsqueeze(std::int64_t dim, SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "unsqueeze", where);
  std::int64_t rank = this->dim();
  std::size_t d = wrapDim(dim, rank + 1, self.shape, "unsqueeze", where);
  Shape shape = self.shape;
  Strides strides = self.strides;
  std::int64_t stride =
      d < shape.size() ? shape[d] * strides[d] : std::int64_t(1);
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  detail::checkShape(shape, "unsqueeze", where, trueno::itemSize(self.dtype));
  return detail::makeView(self, std::move(shape), std::move(strides),
                          self.offset);
}

/// expand and broadcastTo: `allowKeep` lets -1 keep an existing size.
static Tensor expandTo(const TensorImpl &self, Shape shape, bool allowKeep,
                       std::string_view op, SourceLoc where) {
  std::size_t rank = self.shape.size();
  if (shape.size() < rank)
    fail<ShapeError>(where, op,
                     "the target needs at least as many dimensions; use "
                     "reshape() or squeeze() to drop some",
                     "cannot expand shape {} to {}, which has fewer "
                     "dimensions",
                     formatShape(self.shape), formatShape(shape));
  std::size_t lead = shape.size() - rank;
  Strides strides(shape.size(), 0);
  for (std::size_t i = 0; i < shape.size(); ++i) {
    bool existing = i >= lead;
    std::int64_t oldSize = existing ? self.shape[i - lead] : 1;
    if (shape[i] == -1 && allowKeep && existing)
      shape[i] = oldSize;
    if (shape[i] < 0)
      fail<ShapeError>(where, op,
                       allowKeep ? "-1 keeps a size, and only for existing "
                                   "dimensions"
                                 : "sizes must be >= 0",
                       "invalid size {} at dimension {} in target shape {}",
                       shape[i], i, formatShape(shape));
    if (!existing)
      continue;
    if (oldSize == shape[i]) {
      strides[i] = self.strides[i - lead];
    } else if (oldSize != 1) {
      fail<ShapeError>(
          where, op,
          "only dimensions of size 1 can be expanded; the others "
          "must keep their size",
          "cannot expand shape {} to {}: dimension {} has size {}, "
          "which is neither 1 nor {}",
          formatShape(self.shape), formatShape(shape), i - lead, oldSize,
          shape[i]);
    }
  }
  detail::checkShape(shape, op, where, itemSize(self.dtype));
  return detail::makeView(self, std::move(shape), std::move(strides),
                          self.offset);
}

Tensor Tensor::expand(Shape shape, SourceLoc where) const {
  return expandTo(implOf(*this, "expand", where), std::move(shape),
                  /*allowKeep=*/true, "expand", where);
}

Tensor Tensor::broadcastTo(Shape shape, SourceLoc where) const {
  return expandTo(implOf(*this, "broadcastTo", where), std::move(shape),
                  /*allowKeep=*/false, "broadcastTo", where);
}

Tensor Tensor::flatten(std::int64_t startDim, std::int64_t endDim,
                       SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "flatten", where);
  std::int64_t rank = dim();
  if (rank == 0) { // a scalar flattens to (1,); dims -1 and 0 name it
    for (std::int64_t d : {startDim, endDim})
      detail::checkScalarDim(d, "flatten", where);
    return reshape({1}, where);
  }
  std::size_t first = wrapDim(startDim, rank, self.shape, "flatten", where);
  std::size_t last = wrapDim(endDim, rank, self.shape, "flatten", where);
  if (first > last)
    fail<ValueError>(where, "flatten", "startDim must not come after endDim",
                     "startDim {} comes after endDim {} (shape {})", startDim,
                     endDim, formatShape(self.shape));
  Shape shape(self.shape.begin(), self.shape.begin() + first);
  shape.push_back(std::accumulate(self.shape.begin() + first,
                                  self.shape.begin() + last + 1,
                                  std::int64_t(1), std::multiplies<>()));
  shape.insert(shape.end(), self.shape.begin() + last + 1, self.shape.end());
  return reshape(std::move(shape), where);
}

Tensor Tensor::T(SourceLoc where) const {
  std::vector<std::int64_t> dims(implOf(*this, "T", where).shape.size());
  std::iota(dims.rbegin(), dims.rend(), 0);
  return permute(std::move(dims), where);
}

Tensor Tensor::mT(SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "mT", where);
  if (dim() < 2)
    fail<ShapeError>(where, "mT", "use T() or unsqueeze() for lower ranks",
                     "needs a tensor of rank >= 2, got shape {}",
                     formatShape(self.shape));
  return transpose(-2, -1, where);
}

} // namespace trueno
