//===- Indexing.cpp - NumPy indexing, gathers, scatters and masks ---------===//
//
// Tensor::index splits an index list in two: the basic part (integers,
// slices, newaxis, ellipsis) becomes a view, and the integer tensors and
// masks left over (the "advanced" part) become one `trueno.gather` on that
// view: several index tensors are first combined into one linear index over
// the dimensions they index. indexSelect and gather record the same op.
// Every index tensor is read when the op is called, so that a bad index is
// an IndexError at the caller's line rather than a wild read in a kernel.
//
// Writes through indices (indexPut_, scatter_, scatterAdd_ and their
// out-of-place forms) check their indices at the call and are recorded as
// trueno.scatter / scatter_add, unless the target is a realized storage no
// pending computation reads (written at once) or the write is a bool
// accumulation. scatterReduce's other reductions and the ops whose result
// size depends on the data (nonzero, maskedSelect) run at the call on
// realized tensors, as PyTorch's CPU kernels do.
//
//===----------------------------------------------------------------------===//
#include "lazy/Lazy.h"
#include "tensor/Dispatch.h"
#include "tensor/Strided.h"
#include "trueno/Core/Cast.h"
#include "trueno/Core/Check.h"

#include "trueno/Indexing.h"
#include "trueno/Ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

namespace trueno {

using detail::fail;
using detail::implOf;
using detail::wrapDim;

namespace {

/// The values of an integer index tensor, read now; DTypeError otherwise.
std::vector<std::int64_t> indexValues(const Tensor &index, std::string_view op,
                                      SourceLoc where) {
  const TensorImpl &t = implOf(index, op, where);
  if (!isIntegral(t.dtype))
    fail<DTypeError>(where, op,
                     t.dtype == DType::Bool
                         ? "a bool mask selects through index() or "
                           "maskedSelect(); convert it to integers otherwise"
                         : "pass indices as an integer tensor",
                     "the index tensor has dtype {}", dtypeName(t.dtype));
  return index.toVector<std::int64_t>();
}

/// IndexError unless every value is a valid index into `size` elements of
/// dimension `dim`; negative values count from the end where allowed (and
/// are wrapped in place).
void checkIndices(std::vector<std::int64_t> &values, std::int64_t size,
                  std::int64_t dim, const Shape &shape, bool allowNegative,
                  std::string_view op, SourceLoc where) {
  std::int64_t low = allowNegative ? -size : 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::int64_t v = values[i];
    if (v < low || v >= size)
      fail<IndexError>(
          where, op,
          size == 0 ? std::string("the dimension is empty")
                    : fmt::format("valid indices are {} to {}", low, size - 1),
          "index {} (element {} of the index) is out of range for "
          "dimension {} with size {} (shape {})",
          v, i, dim, size, formatShape(shape));
    if (v < 0)
      values[i] = v + size;
  }
}

/// A tensor's rank for gather and scatter, where PyTorch reads a 0-d tensor
/// as a vector of one element.
std::size_t rankAtLeast1(const TensorImpl &t) {
  return std::max<std::size_t>(t.shape.size(), 1);
}

/// `x` gathered along `dim` by `index` (int64, already checked, of the
/// result's shape): the one place that records a trueno.gather.
Tensor recordGather(const TensorImpl &x, std::int64_t dim,
                    const Tensor &index) {
  return detail::record(OpCode::Gather, x.dtype, index.shape(),
                        {detail::nodeOf(x), detail::nodeOf(*index.impl())},
                        x.storage->device(), {{dim}});
}

/// `x` gathered along `dim` at `positions` (checked): that dimension's size
/// becomes the number of positions.
Tensor gatherPositions(const TensorImpl &x, std::int64_t dim,
                       const std::vector<std::int64_t> &positions) {
  auto n = static_cast<std::int64_t>(positions.size());
  Shape column(x.shape.size(), 1), shape = x.shape;
  column[dim] = n;
  shape[dim] = n;
  Tensor index =
      fromVector(positions, column,
                 TensorOptions(DType::Int64).withDevice(x.storage->device()));
  return recordGather(x, dim, index.expand(shape));
}

/// Values of an index of `shape`, in row-major order, broadcast to `to`.
std::vector<std::int64_t> broadcastValues(const std::vector<std::int64_t> &v,
                                          const Shape &shape, const Shape &to) {
  Strides strides(to.size(), 0);
  Strides own = contiguousStrides(shape);
  std::size_t lead = to.size() - shape.size();
  for (std::size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != 1)
      strides[lead + d] = own[d];
  std::vector<std::int64_t> out;
  out.reserve(numelOf(to));
  detail::walkRows<1>(to, {&strides},
                      [&](const std::array<std::int64_t, 1> &offset,
                          std::int64_t n,
                          const std::array<std::int64_t, 1> &step) {
                        for (std::int64_t i = 0; i < n; ++i)
                          out.push_back(v[offset[0] + i * step[0]]);
                      });
  return out;
}

/// An index list resolved against a tensor: the view its basic part
/// selects, and the integer arrays of its advanced part.
struct IndexPlan {
  Tensor view;
  /// Dimensions of `view` indexed by arrays, increasing.
  std::vector<std::int64_t> positions;
  /// One per position: the indices (checked and wrapped), broadcast to
  /// `arrayShape`, row-major.
  std::vector<std::vector<std::int64_t>> arrays;
  Shape arrayShape;

  /// Where the arrays' shape goes in the result. NumPy's rule: when the
  /// advanced indices (the arrays, and the integers once there is an
  /// array) are next to each other in the index list, where they stand;
  /// when anything separates them (a slice, newaxis or ellipsis), first.
  /// PyTorch applies the integers first and differs from NumPy there.
  std::int64_t insertAt = 0;

  bool advanced() const { return !positions.empty(); }
  /// The dimensions of `view` that no array indexes.
  std::vector<std::int64_t> rest() const {
    std::vector<std::int64_t> out;
    for (std::int64_t d = 0; d < view.dim(); ++d)
      if (std::find(positions.begin(), positions.end(), d) == positions.end())
        out.push_back(d);
    return out;
  }
  /// The shape of the indexing result.
  Shape resultShape() const {
    if (!advanced())
      return view.shape();
    Shape restShape;
    for (std::int64_t d : rest())
      restShape.push_back(view.shape()[d]);
    restShape.insert(restShape.begin() + insertAt, arrayShape.begin(),
                     arrayShape.end());
    return restShape;
  }
};

IndexPlan planIndex(const Tensor &x, const std::vector<TensorIndex> &indices,
                    std::string_view op, SourceLoc where) {
  const TensorImpl &self = implOf(x, op, where);
  auto rank = static_cast<std::int64_t>(self.shape.size());
  std::int64_t consumed = 0;
  bool sawEllipsis = false;
  for (const TensorIndex &index : indices) {
    const auto &v = index.value();
    if (std::holds_alternative<Ellipsis>(v)) {
      if (sawEllipsis)
        fail<IndexError>(where, op, "use one ellipsis at most",
                         "an index can only have a single ellipsis");
      sawEllipsis = true;
    } else if (const Tensor *t = std::get_if<Tensor>(&v)) {
      const TensorImpl &ti = implOf(*t, op, where);
      consumed += ti.dtype == DType::Bool ? ti.shape.size() : 1;
    } else if (!std::holds_alternative<NewAxis>(v)) {
      ++consumed;
    }
  }
  if (consumed > rank)
    fail<IndexError>(where, op, "give at most one index per dimension",
                     "too many indices for a tensor of rank {} (shape {}): {} "
                     "dimensions indexed",
                     rank, formatShape(self.shape), consumed);

  IndexPlan plan;
  plan.view = x;
  std::int64_t d = 0;      // position in plan.view
  std::int64_t source = 0; // dimension of x
  std::vector<Shape> shapes;
  // The list positions of the integers and arrays, and where in the view
  // the first of them stood.
  std::vector<std::size_t> advancedItems;
  std::optional<std::int64_t> firstAdvanced;
  for (std::size_t item = 0; item < indices.size(); ++item) {
    const auto &v = indices[item].value();
    if (std::holds_alternative<std::int64_t>(v) ||
        std::holds_alternative<Tensor>(v)) {
      advancedItems.push_back(item);
      if (!firstAdvanced)
        firstAdvanced = d;
    }
    if (const std::int64_t *i = std::get_if<std::int64_t>(&v)) {
      std::int64_t size = plan.view.shape()[d];
      if (*i < -size || *i >= size)
        fail<IndexError>(
            where, op,
            size == 0
                ? std::string("the dimension is empty")
                : fmt::format("valid indices are {} to {}", -size, size - 1),
            "index {} is out of range for dimension {} with size {} (shape "
            "{})",
            *i, source, size, formatShape(self.shape));
      plan.view = plan.view.select(d, *i, where);
      ++source;
    } else if (const Slice *s = std::get_if<Slice>(&v)) {
      plan.view = plan.view.slice(d, s->start, s->stop, s->step, where);
      ++d, ++source;
    } else if (std::holds_alternative<NewAxis>(v)) {
      plan.view = plan.view.unsqueeze(d, where);
      ++d;
    } else if (std::holds_alternative<Ellipsis>(v)) {
      d += rank - consumed;
      source += rank - consumed;
    } else {
      const Tensor &t = std::get<Tensor>(v);
      const TensorImpl &ti = *t.impl();
      if (ti.dtype == DType::Bool) {
        auto k = static_cast<std::int64_t>(ti.shape.size());
        if (k == 0)
          fail<IndexError>(where, op,
                           "use a mask with as many dimensions as it selects",
                           "a zero-dimensional bool index is not supported");
        Shape covered(plan.view.shape().begin() + d,
                      plan.view.shape().begin() + d + k);
        if (covered != ti.shape)
          fail<IndexError>(where, op,
                           "the mask must have the shape of the dimensions "
                           "it selects",
                           "a mask of shape {} cannot index dimensions {} to "
                           "{} of shape {}, which are {}",
                           formatShape(ti.shape), source, source + k - 1,
                           formatShape(self.shape), formatShape(covered));
        std::vector<std::int64_t> hits =
            nonzero(t, where).toVector<std::int64_t>();
        auto n = static_cast<std::int64_t>(hits.size()) / k;
        for (std::int64_t j = 0; j < k; ++j) {
          std::vector<std::int64_t> column(n);
          for (std::int64_t r = 0; r < n; ++r)
            column[r] = hits[r * k + j];
          plan.positions.push_back(d + j);
          plan.arrays.push_back(std::move(column));
          shapes.push_back({n});
        }
        d += k;
        source += k;
        continue;
      }
      std::vector<std::int64_t> values = indexValues(t, op, where);
      checkIndices(values, plan.view.shape()[d], source, self.shape, true, op,
                   where);
      plan.positions.push_back(d);
      plan.arrays.push_back(std::move(values));
      shapes.push_back(ti.shape);
      ++d, ++source;
    }
  }
  if (plan.advanced()) {
    try {
      plan.arrayShape = broadcastShapes(std::span<const Shape>(shapes), where);
    } catch (const ShapeError &e) {
      throw IndexError(std::string(op),
                       "the index tensors do not broadcast together: " +
                           e.problem(),
                       "give index tensors shapes that broadcast", where);
    }
    for (std::size_t j = 0; j < plan.arrays.size(); ++j)
      if (shapes[j] != plan.arrayShape)
        plan.arrays[j] =
            broadcastValues(plan.arrays[j], shapes[j], plan.arrayShape);
    bool adjacent = advancedItems.back() - advancedItems.front() + 1 ==
                    advancedItems.size();
    plan.insertAt = adjacent ? *firstAdvanced : 0;
  }
  return plan;
}

/// For a write, the order that puts the array dimensions of a result of
/// `plan.resultShape()` first (the order the arrays' values are in).
std::vector<std::int64_t> arraysFirst(const IndexPlan &plan) {
  auto total = static_cast<std::int64_t>(plan.resultShape().size());
  auto arrayRank = static_cast<std::int64_t>(plan.arrayShape.size());
  std::int64_t at = plan.insertAt;
  std::vector<std::int64_t> order;
  for (std::int64_t i = 0; i < arrayRank; ++i)
    order.push_back(at + i);
  for (std::int64_t i = 0; i < total; ++i)
    if (i < at || i >= at + arrayRank)
      order.push_back(i);
  return order;
}

/// `a + b` as the in-place accumulations compute it: integers wrap, bool
/// is logical or, halves add in float32.
template <typename T> T accumulate(T a, T b) {
  if constexpr (std::is_same_v<T, bool>)
    return a || b;
  else if constexpr (std::is_integral_v<T>)
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) +
                          static_cast<std::make_unsigned_t<T>>(b));
  else if constexpr (std::is_floating_point_v<T>)
    return a + b;
  else
    return T(float(a) + float(b));
}

/// The element offsets (from `view`'s first element) of the dimensions
/// `dims` of `view`, in row-major order over those dimensions.
std::vector<std::int64_t> offsetsOf(const Tensor &view,
                                    const std::vector<std::int64_t> &dims) {
  Shape shape;
  Strides strides;
  for (std::int64_t d : dims) {
    shape.push_back(view.shape()[d]);
    strides.push_back(view.strides()[d]);
  }
  std::vector<std::int64_t> out;
  out.reserve(numelOf(shape));
  detail::walkRows<1>(shape, {&strides},
                      [&](const std::array<std::int64_t, 1> &offset,
                          std::int64_t n,
                          const std::array<std::int64_t, 1> &step) {
                        for (std::int64_t i = 0; i < n; ++i)
                          out.push_back(offset[0] + i * step[0]);
                      });
  return out;
}

} // namespace

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

Tensor Tensor::index(const std::vector<TensorIndex> &indices,
                     SourceLoc where) const {
  IndexPlan plan = planIndex(*this, indices, "index", where);
  if (!plan.advanced())
    return plan.view;
  Shape result = plan.resultShape();
  const TensorImpl &view = *plan.view.impl();
  if (plan.positions.size() == 1 && plan.insertAt == plan.positions[0]) {
    // One array whose shape stays where it stands: a gather along its
    // dimension, whose size becomes the array's element count, then split
    // into the array's shape.
    return gatherPositions(view, plan.positions[0], plan.arrays[0])
        .view(result, where);
  }
  // Otherwise: move the arrays' dimensions first and merge them, then
  // gather along the merged dimension with one linear index.
  std::vector<std::int64_t> order = plan.positions, rest = plan.rest();
  order.insert(order.end(), rest.begin(), rest.end());
  Shape merged = {1};
  for (std::int64_t p : plan.positions)
    merged[0] *= view.shape[p];
  for (std::int64_t d : rest)
    merged.push_back(view.shape[d]);
  Tensor source = plan.view.permute(order, where).reshape(merged, where);
  std::vector<std::int64_t> linear(numelOf(plan.arrayShape), 0);
  for (std::size_t j = 0; j < plan.positions.size(); ++j) {
    std::int64_t size = view.shape[plan.positions[j]];
    for (std::size_t b = 0; b < linear.size(); ++b)
      linear[b] = linear[b] * size + plan.arrays[j][b];
  }
  Shape arraysThenRest = plan.arrayShape;
  for (std::int64_t d : rest)
    arraysThenRest.push_back(view.shape[d]);
  Tensor gathered =
      gatherPositions(*source.impl(), 0, linear).view(arraysThenRest, where);
  if (plan.insertAt == 0)
    return gathered;
  // Adjacent advanced indices after other dimensions: the arrays' block
  // moves to where they stood.
  std::vector<std::int64_t> inverse(result.size());
  std::vector<std::int64_t> forward = arraysFirst(plan);
  for (std::size_t i = 0; i < forward.size(); ++i)
    inverse[forward[i]] = static_cast<std::int64_t>(i);
  return gathered.permute(inverse, where);
}

Tensor indexSelect(const Tensor &x, std::int64_t dim, const Tensor &index,
                   SourceLoc where) {
  const TensorImpl &self = implOf(x, "indexSelect", where);
  const TensorImpl &idx = implOf(index, "indexSelect", where);
  if (idx.shape.size() > 1)
    fail<ShapeError>(where, "indexSelect",
                     "pass a vector of indices (flatten() it first)",
                     "the index has shape {}; it must be a vector or a scalar",
                     formatShape(idx.shape));
  if (self.shape.empty()) {
    // PyTorch keeps a 0-d input 0-d: its one element, once every index is
    // checked to be 0 or -1 (an empty index would leave it undefined).
    wrapDim(dim, 1, self.shape, "indexSelect", where);
    if (idx.numel() == 0)
      fail<IndexError>(where, "indexSelect",
                       "pass at least one index (0 or -1)",
                       "x is 0-d, which keeps its shape (), and the index is "
                       "empty: no element to select");
    indexSelect(x.reshape({1}), 0, index, where);
    return x.clone();
  }
  std::int64_t d = wrapDim(dim, x.dim(), self.shape, "indexSelect", where);
  std::vector<std::int64_t> values = indexValues(index, "indexSelect", where);
  checkIndices(values, self.shape[d], d, self.shape, false, "indexSelect",
               where);
  return gatherPositions(self, d, values);
}

Tensor gather(const Tensor &x, std::int64_t dim, const Tensor &index,
              SourceLoc where) {
  const TensorImpl &self = implOf(x, "gather", where);
  const TensorImpl &idx = implOf(index, "gather", where);
  if (rankAtLeast1(idx) != rankAtLeast1(self))
    fail<ShapeError>(where, "gather", "give the index the input's rank",
                     "the index of shape {} has rank {}, but the input of "
                     "shape {} has rank {}",
                     formatShape(idx.shape), idx.shape.size(),
                     formatShape(self.shape), self.shape.size());
  if (self.shape.empty() || idx.shape.empty()) {
    // As in PyTorch, a 0-d input or index is read as a vector of one.
    wrapDim(dim, 1, self.shape, "gather", where);
    Tensor r = gather(x.reshape({-1}), 0, index.reshape({-1}), where);
    return idx.shape.empty() ? r.reshape({}) : r;
  }
  std::int64_t d = wrapDim(dim, x.dim(), self.shape, "gather", where);
  for (std::size_t k = 0; k < self.shape.size(); ++k)
    if (static_cast<std::int64_t>(k) != d && idx.shape[k] > self.shape[k])
      fail<ShapeError>(where, "gather",
                       fmt::format("the index may be at most the input's "
                                   "size in every dimension but {}",
                                   d),
                       "the index of shape {} is larger than the input of "
                       "shape {} in dimension {}",
                       formatShape(idx.shape), formatShape(self.shape), k);
  std::vector<std::int64_t> values = indexValues(index, "gather", where);
  checkIndices(values, self.shape[d], d, self.shape, false, "gather", where);
  Tensor checked = fromVector(
      values, idx.shape,
      TensorOptions(DType::Int64).withDevice(self.storage->device()));
  return recordGather(self, d, checked);
}

Tensor maskedFill(const Tensor &x, const Tensor &mask, Scalar value,
                  SourceLoc where) {
  const TensorImpl &self = implOf(x, "maskedFill", where);
  const TensorImpl &m = implOf(mask, "maskedFill", where);
  if (m.dtype != DType::Bool)
    fail<DTypeError>(where, "maskedFill", "compare first, e.g. x < 0",
                     "the mask has dtype {}; it must be bool",
                     dtypeName(m.dtype));
  if (!detail::broadcastsTo(m.shape, self.shape))
    fail<ShapeError>(where, "maskedFill",
                     "the mask must broadcast to the tensor's shape",
                     "a mask of shape {} cannot fill a tensor of shape {}",
                     formatShape(m.shape), formatShape(self.shape));
  Tensor fill =
      full({}, value,
           TensorOptions(self.dtype).withDevice(self.storage->device()), where);
  return trueno::where(mask, fill, x, where);
}

Tensor &Tensor::maskedFill_(const Tensor &mask, Scalar value, SourceLoc where) {
  Tensor filled = maskedFill(*this, mask, value, where);
  return copy_(filled, where);
}

Tensor nonzero(const Tensor &x, SourceLoc where) {
  const TensorImpl &self = implOf(x, "nonzero", where);
  Tensor truth = self.dtype == DType::Bool ? x : ne(x, Scalar(0), where);
  std::vector<bool> set = truth.toVector<bool>();
  auto rank = static_cast<std::int64_t>(self.shape.size());
  std::vector<std::int64_t> out, counter(rank, 0);
  for (bool hit : set) {
    if (hit)
      out.insert(out.end(), counter.begin(), counter.end());
    for (std::int64_t d = rank - 1; d >= 0; --d) {
      if (++counter[d] < self.shape[d])
        break;
      counter[d] = 0;
    }
  }
  std::int64_t n = rank == 0 ? static_cast<std::int64_t>(set.at(0))
                             : static_cast<std::int64_t>(out.size()) / rank;
  return fromVector(
      out, {n, rank},
      TensorOptions(DType::Int64).withDevice(self.storage->device()));
}

Tensor argwhere(const Tensor &x, SourceLoc where) { return nonzero(x, where); }

Tensor maskedSelect(const Tensor &x, const Tensor &mask, SourceLoc where) {
  const TensorImpl &self = implOf(x, "maskedSelect", where);
  const TensorImpl &m = implOf(mask, "maskedSelect", where);
  if (m.dtype != DType::Bool)
    fail<DTypeError>(where, "maskedSelect", "compare first, e.g. x > 0",
                     "the mask has dtype {}; it must be bool",
                     dtypeName(m.dtype));
  Shape shape;
  try {
    shape = broadcastShapes({self.shape, m.shape}, where);
  } catch (const ShapeError &e) {
    throw ShapeError("maskedSelect", e.problem(),
                     "the mask and the tensor must broadcast together", where);
  }
  std::vector<bool> set = mask.expand(shape, where).toVector<bool>();
  std::vector<std::int64_t> positions;
  for (std::size_t i = 0; i < set.size(); ++i)
    if (set[i])
      positions.push_back(static_cast<std::int64_t>(i));
  Tensor flat = x.expand(shape, where).reshape({numelOf(shape)}, where);
  return gatherPositions(*flat.impl(), 0, positions);
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

Tensor &Tensor::indexPut_(const std::vector<TensorIndex> &indices,
                          const Tensor &values, bool accumulate,
                          SourceLoc where) {
  const TensorImpl &self = implOf(*this, "indexPut_", where);
  implOf(values, "indexPut_", where);
  // x[mask] = v with a mask of x's shape and one value: where(mask, v, x),
  // recorded, the mask never read at the call.
  if (indices.size() == 1 && !accumulate && values.numel() == 1)
    if (const Tensor *mask = std::get_if<Tensor>(&indices[0].value());
        mask && mask->defined() && mask->dtype() == DType::Bool &&
        mask->shape() == self.shape) {
      detail::checkWritable(self, "indexPut_", where);
      return copy_(trueno::where(*mask,
                                 values.to(self.dtype, where).reshape({}),
                                 *this, where),
                   where);
    }
  IndexPlan plan = planIndex(*this, indices, "indexPut_", where);
  Shape shape = plan.resultShape();
  if (!detail::broadcastsTo(values.shape(), shape))
    fail<ShapeError>(
        where, "indexPut_", "the values must broadcast to the indexed shape",
        "cannot assign values of shape {} to the {} elements "
        "indexed (shape {})",
        formatShape(values.shape()), numelOf(shape), formatShape(shape));
  if (!plan.advanced()) {
    if (accumulate)
      plan.view.copy_(trueno::add(plan.view, values, where).to(dtype(), where),
                      where);
    else
      plan.view.copy_(values, where);
    return *this;
  }
  const TensorImpl &view = *plan.view.impl();
  detail::checkWritable(view, "indexPut_", where);
  std::vector<std::int64_t> restOffsets = offsetsOf(plan.view, plan.rest());
  auto arrayCount = static_cast<std::int64_t>(numelOf(plan.arrayShape));
  auto restCount = static_cast<std::int64_t>(restOffsets.size());
  // The values in the order of the loop below: array positions, then the
  // other dimensions, converted to this dtype.
  Tensor ordered = values.to(view.dtype, where)
                       .expand(shape, where)
                       .permute(arraysFirst(plan), where);
  if ((!detail::writableNow(view) || values.impl()->storage->isPending()) &&
      !(accumulate && view.dtype == DType::Bool)) {
    // Recorded: one scatter (or scatter_add) of the values into the
    // storage's elements at the positions the indices name; pending
    // readers keep the old contents.
    std::vector<std::int64_t> positions;
    positions.reserve(static_cast<std::size_t>(arrayCount * restCount));
    for (std::int64_t b = 0; b < arrayCount; ++b) {
      std::int64_t offset = view.offset;
      for (std::size_t j = 0; j < plan.positions.size(); ++j)
        offset += plan.arrays[j][b] * view.strides[plan.positions[j]];
      for (std::int64_t r = 0; r < restCount; ++r)
        positions.push_back(offset + restOffsets[r]);
    }
    auto count = static_cast<std::int64_t>(positions.size());
    Tensor at = fromVector(positions, {count});
    detail::scatterIntoStorage(
        view.storage, view.dtype, detail::nodeOf(*at.impl()),
        detail::reshapeNode(detail::nodeOf(*ordered.impl()), {count}),
        accumulate);
    return *this;
  }
  // Written now, in place (values read before any write).
  Tensor source = ordered.clone();
  const std::byte *from = source.impl()->firstElement();
  std::byte *base = view.mutableFirstElement();
  detail::dispatchDType(view.dtype, [&]<typename T>(detail::TypeTag<T>) {
    auto *out = reinterpret_cast<T *>(base);
    const auto *in = reinterpret_cast<const T *>(from);
    for (std::int64_t b = 0; b < arrayCount; ++b) {
      std::int64_t offset = 0;
      for (std::size_t j = 0; j < plan.positions.size(); ++j)
        offset += plan.arrays[j][b] * view.strides[plan.positions[j]];
      for (std::int64_t r = 0; r < restCount; ++r) {
        T &slot = out[offset + restOffsets[r]];
        T v = in[b * restCount + r];
        slot = accumulate ? trueno::accumulate(slot, v) : v;
      }
    }
  });
  return *this;
}

Tensor &Tensor::indexPut_(const std::vector<TensorIndex> &indices, Scalar value,
                          SourceLoc where) {
  const TensorImpl &self = implOf(*this, "indexPut_", where);
  return indexPut_(
      indices,
      full({}, value,
           TensorOptions(self.dtype).withDevice(self.storage->device()), where),
      false, where);
}

namespace {

/// How scatterInto combines a source element with its target.
enum class Combine { Assign, Sum, Prod, Mean, Amax, Amin };

/// The value a target starts from when it does not include itself.
template <typename T> T identityOf(Combine mode) {
  if constexpr (std::is_same_v<T, bool>) // or (sum, amax) and and (prod, amin)
    return mode == Combine::Prod || mode == Combine::Amin;
  double v = mode == Combine::Prod   ? 1.0
             : mode == Combine::Amax ? -std::numeric_limits<double>::infinity()
             : mode == Combine::Amin ? std::numeric_limits<double>::infinity()
                                     : 0.0;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (mode == Combine::Amax)
      return std::numeric_limits<T>::lowest();
    if (mode == Combine::Amin)
      return std::numeric_limits<T>::max();
  }
  return detail::castValue<T>(v);
}

/// a (op) b: integers wrap, halves compute in float, NaN wins the extremes.
template <typename T> T combine(Combine mode, T a, T b) {
  switch (mode) {
  case Combine::Assign:
    return b;
  case Combine::Sum:
  case Combine::Mean:
    return accumulate(a, b);
  case Combine::Prod:
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
      return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) *
                            static_cast<std::make_unsigned_t<T>>(b));
    else
      return detail::castValue<T>(detail::castValue<double>(a) *
                                  detail::castValue<double>(b));
  case Combine::Amax:
  case Combine::Amin: {
    double x = detail::castValue<double>(a), y = detail::castValue<double>(b);
    if (std::isnan(x) || std::isnan(y))
      return std::isnan(x) ? a : b;
    bool takeB = mode == Combine::Amax ? y > x : y < x;
    return takeB ? b : a;
  }
  }
  return b;
}

/// The checks every scatter makes: ranks, dtypes, sizes. Returns the
/// scattered dimension, wrapped (0 for rank-0 tensors).
std::int64_t checkScatter(const TensorImpl &self, const TensorImpl &idx,
                          const TensorImpl &s, std::int64_t dim, Combine mode,
                          std::string_view op, SourceLoc where) {
  if (rankAtLeast1(idx) != rankAtLeast1(self) ||
      rankAtLeast1(s) != rankAtLeast1(self))
    fail<ShapeError>(where, op, "give the index and the source x's rank",
                     "the index of shape {} and the source of shape {} must "
                     "both have the rank of x, of shape {}",
                     formatShape(idx.shape), formatShape(s.shape),
                     formatShape(self.shape));
  if (s.dtype != self.dtype)
    fail<DTypeError>(where, op, "convert the source with to() first",
                     "the source has dtype {} but x has dtype {}",
                     dtypeName(s.dtype), dtypeName(self.dtype));
  // prod of bools is a logical and, as in PyTorch; a mean has no bool.
  if (self.dtype == DType::Bool && mode == Combine::Mean)
    fail<DTypeError>(where, op, "convert to an integer dtype first",
                     "this reduction is not defined for bool tensors");
  if (self.shape.empty() || idx.shape.empty() || s.shape.empty())
    return (wrapDim(dim, 1, self.shape, op, where), 0); // read as vectors
  std::int64_t d = wrapDim(dim, self.shape.size(), self.shape, op, where);
  for (std::size_t k = 0; k < self.shape.size(); ++k) {
    if (idx.shape[k] > s.shape[k] ||
        (static_cast<std::int64_t>(k) != d && idx.shape[k] > self.shape[k]))
      fail<ShapeError>(where, op,
                       "the index may be at most the source's size, and "
                       "x's outside the scattered dimension",
                       "the index of shape {} is too large in dimension {} "
                       "for the source of shape {} and x of shape {}",
                       formatShape(idx.shape), k, formatShape(s.shape),
                       formatShape(self.shape));
  }
  return d;
}

/// scatter_ / scatterReduce: `self[..., index[i], ...] (op)=
/// src[i]` along `dim`, at the call. Without `includeSelf`, a target that
/// receives anything starts from the reduction's identity; Mean divides
/// each target by the number of values it combined.
void scatterInto(const Tensor &selfTensor, std::int64_t dim,
                 const Tensor &index, const Tensor &src, Combine mode,
                 bool includeSelf, std::string_view op, SourceLoc where) {
  const TensorImpl &self = implOf(selfTensor, op, where);
  const TensorImpl &idx = implOf(index, op, where);
  const TensorImpl &s = implOf(src, op, where);
  std::int64_t d = checkScatter(self, idx, s, dim, mode, op, where);
  if (self.shape.empty() || idx.shape.empty() || s.shape.empty()) {
    scatterInto(selfTensor.view({-1}), 0, index.reshape({-1}),
                src.reshape({-1}), mode, includeSelf, op, where);
    return;
  }
  detail::checkWritable(self, op, where);
  std::vector<std::int64_t> values = indexValues(index, op, where);
  checkIndices(values, self.shape[d], d, self.shape, false, op, where);
  bool recorded =
      mode == Combine::Assign ||
      (mode == Combine::Sum && includeSelf && self.dtype != DType::Bool);
  if (recorded && (!detail::writableNow(self) || s.storage->isPending())) {
    // One scatter (scatter_add) of the source window the index covers into
    // the storage's elements, recorded; pending readers keep the old
    // contents.
    Strides indexStrides = contiguousStrides(idx.shape);
    Strides selfStrides = self.strides;
    std::int64_t dimStride = selfStrides[d];
    selfStrides[d] = 0; // the index supplies that coordinate
    std::vector<std::int64_t> positions;
    detail::walkRows<2>(
        idx.shape, {&indexStrides, &selfStrides},
        [&](const std::array<std::int64_t, 2> &offset, std::int64_t n,
            const std::array<std::int64_t, 2> &step) {
          for (std::int64_t e = 0; e < n; ++e)
            positions.push_back(self.offset + offset[1] + e * step[1] +
                                values[offset[0] + e * step[0]] * dimStride);
        });
    Tensor window = src;
    for (std::size_t k = 0; k < idx.shape.size(); ++k)
      window =
          window.narrow(static_cast<std::int64_t>(k), 0, idx.shape[k], where);
    auto count = static_cast<std::int64_t>(positions.size());
    Tensor at = fromVector(positions, {count});
    detail::scatterIntoStorage(
        self.storage, self.dtype, detail::nodeOf(*at.impl()),
        detail::reshapeNode(detail::nodeOf(*window.impl()), {count}),
        mode == Combine::Sum);
    return;
  }
  Tensor source = src.sharesStorageWith(selfTensor) ? src.clone() : src;
  const TensorImpl &from = *source.impl();
  // The (target, source) element offsets, in the index's order.
  Strides indexStrides = contiguousStrides(idx.shape);
  Strides selfStrides = self.strides;
  std::int64_t dimStride = selfStrides[d];
  selfStrides[d] = 0; // the index supplies that coordinate
  std::vector<std::int64_t> targets, sources;
  detail::walkRows<3>(
      idx.shape, {&indexStrides, &selfStrides, &from.strides},
      [&](const std::array<std::int64_t, 3> &offset, std::int64_t n,
          const std::array<std::int64_t, 3> &step) {
        for (std::int64_t e = 0; e < n; ++e) {
          targets.push_back(offset[1] + e * step[1] +
                            values[offset[0] + e * step[0]] * dimStride);
          sources.push_back(offset[2] + e * step[2]);
        }
      });
  const std::byte *in = from.firstElement();
  std::byte *out = self.mutableFirstElement();
  detail::dispatchDType(self.dtype, [&]<typename T>(detail::TypeTag<T>) {
    auto *o = reinterpret_cast<T *>(out);
    const auto *i = reinterpret_cast<const T *>(in);
    std::unordered_map<std::int64_t, std::int64_t> counts;
    if (mode != Combine::Assign) {
      for (std::int64_t t : targets)
        ++counts[t];
      if (!includeSelf)
        for (const auto &[t, count] : counts)
          o[t] = identityOf<T>(mode);
    }
    for (std::size_t k = 0; k < targets.size(); ++k)
      o[targets[k]] = combine(mode, o[targets[k]], i[sources[k]]);
    if (mode == Combine::Mean)
      for (const auto &[t, count] : counts) {
        std::int64_t n = count + (includeSelf ? 1 : 0);
        if constexpr (std::is_integral_v<T>) {
          // Floor division, as PyTorch, in integers: through double, sums
          // beyond 2^53 would round.
          auto sum = static_cast<std::int64_t>(o[t]);
          std::int64_t quotient = sum / n;
          if (sum % n != 0 && sum < 0)
            --quotient;
          o[t] = static_cast<T>(quotient);
        } else
          o[t] = detail::castValue<T>(detail::castValue<double>(o[t]) /
                                      static_cast<double>(n));
      }
  });
}

} // namespace

Tensor &Tensor::scatter_(std::int64_t dim, const Tensor &index,
                         const Tensor &src, SourceLoc where) {
  scatterInto(*this, dim, index, src, Combine::Assign, true, "scatter_", where);
  return *this;
}

Tensor &Tensor::scatter_(std::int64_t dim, const Tensor &index, Scalar value,
                         SourceLoc where) {
  const TensorImpl &self = implOf(*this, "scatter_", where);
  const TensorImpl &idx = implOf(index, "scatter_", where);
  Tensor src =
      full(idx.shape, value,
           TensorOptions(self.dtype).withDevice(self.storage->device()), where);
  scatterInto(*this, dim, index, src, Combine::Assign, true, "scatter_", where);
  return *this;
}

Tensor &Tensor::scatterAdd_(std::int64_t dim, const Tensor &index,
                            const Tensor &src, SourceLoc where) {
  scatterInto(*this, dim, index, src, Combine::Sum, true, "scatterAdd_", where);
  return *this;
}

Tensor scatter(const Tensor &x, std::int64_t dim, const Tensor &index,
               const Tensor &src, SourceLoc where) {
  implOf(x, "scatter", where);
  Tensor result = x.clone();
  scatterInto(result, dim, index, src, Combine::Assign, true, "scatter", where);
  return result;
}

Tensor scatter(const Tensor &x, std::int64_t dim, const Tensor &index,
               Scalar value, SourceLoc where) {
  implOf(x, "scatter", where);
  Tensor result = x.clone();
  result.scatter_(dim, index, value, where);
  return result;
}

Tensor scatterAdd(const Tensor &x, std::int64_t dim, const Tensor &index,
                  const Tensor &src, SourceLoc where) {
  const TensorImpl &self = implOf(x, "scatterAdd", where);
  const TensorImpl &idx = implOf(index, "scatterAdd", where);
  const TensorImpl &s = implOf(src, "scatterAdd", where);
  std::int64_t d =
      checkScatter(self, idx, s, dim, Combine::Sum, "scatterAdd", where);
  if (self.shape.empty() || idx.shape.empty() || s.shape.empty())
    return scatterAdd(x.reshape({-1}), 0, index.reshape({-1}),
                      src.reshape({-1}), where)
        .reshape(self.shape);
  // Indices are checked now, so the kernel needs no bounds check.
  std::vector<std::int64_t> values = indexValues(index, "scatterAdd", where);
  checkIndices(values, self.shape[d], d, self.shape, false, "scatterAdd",
               where);
  if (idx.numel() == 0)
    return x.clone();
  // One trueno.scatter_add (a sequential loop in the kernel, in the
  // index's row-major order). Halves add in float32 and round once per
  // target, as PyTorch's GPU kernels do (its CPU ones round every add);
  // bool adds as int64 and becomes `sum != 0`.
  DType compute = self.dtype == DType::Bool ? DType::Int64
                                            : detail::computeType(self.dtype);
  Tensor window = src;
  for (std::size_t k = 0; k < idx.shape.size(); ++k)
    window =
        window.narrow(static_cast<std::int64_t>(k), 0, idx.shape[k], where);
  Tensor sum = detail::record(
      OpCode::ScatterAdd, compute, self.shape,
      {detail::castNode(detail::nodeOf(self), compute),
       detail::castNode(detail::nodeOf(idx), DType::Int64),
       detail::castNode(detail::nodeOf(*window.impl()), compute)},
      self.storage->device(), {{d}}, where);
  return sum.to(self.dtype, where);
}

Tensor scatterReduce(const Tensor &x, std::int64_t dim, const Tensor &index,
                     const Tensor &src, ScatterReduce reduce, bool includeSelf,
                     SourceLoc where) {
  implOf(x, "scatterReduce", where);
  Combine mode = reduce == ScatterReduce::Sum    ? Combine::Sum
                 : reduce == ScatterReduce::Prod ? Combine::Prod
                 : reduce == ScatterReduce::Mean ? Combine::Mean
                 : reduce == ScatterReduce::Amax ? Combine::Amax
                                                 : Combine::Amin;
  Tensor result = x.clone();
  scatterInto(result, dim, index, src, mode, includeSelf, "scatterReduce",
              where);
  return result;
}

} // namespace trueno
