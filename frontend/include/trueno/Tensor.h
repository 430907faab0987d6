//===- Tensor.h - The n-dimensional tensor handle -------------------------===//
//
// `Tensor` is a cheap handle (one shared pointer) to a view: dtype, shape,
// strides, offset and a shared `Storage`. Views (reshape of compatible
// layouts, transpose, slice, expand...) create a new handle over the same
// storage and never copy, so writes through a view are visible in the base,
// as in NumPy.
//
// The storage, not the view, is the unit that the lazy graph will make
// pending: every read goes through `Storage`, so a view of a not-yet-computed
// tensor realizes its storage on first read (docs/ARCHITECTURE.md).
//
// Every call that can fail takes the caller's `std::source_location` as a
// defaulted last argument and throws a `trueno::Error` that names it.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_TENSOR_H
#define TRUENO_TENSOR_H

#include "trueno/DType.h"
#include "trueno/Device.h"
#include "trueno/Error.h"
#include "trueno/Shape.h"

#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <source_location>
#include <span>
#include <string>
#include <vector>

namespace trueno {

class TensorImpl;
class TensorIndex; // trueno/Indexing.h
using SourceLoc = std::source_location;
#define TRUENO_HERE SourceLoc where = SourceLoc::current()

/// The device creation functions use when given none: the CPU, or what
/// TRUENO_DEVICE says ("cpu", "vulkan" for the Vulkan device
/// TRUENO_VULKAN_DEVICE selects, "vulkan:N"), or what setDefaultDevice()
/// set last. A TRUENO_DEVICE that names no usable device is a DeviceError
/// at the first creation.
Device defaultDevice();
void setDefaultDevice(Device device);

/// Optional dtype and device for creation functions. Converts implicitly
/// from either, so `zeros({2, 3}, kFloat64)` reads naturally.
struct TensorOptions {
  std::optional<DType> dtype;
  Device device = defaultDevice();

  TensorOptions() = default;
  TensorOptions(DType d) : dtype(d) {}
  TensorOptions(Device dev) : device(dev) {}
  TensorOptions withDType(DType d) const {
    TensorOptions o = *this;
    o.dtype = d;
    return o;
  }
  TensorOptions withDevice(Device dev) const {
    TensorOptions o = *this;
    o.device = dev;
    return o;
  }
};

class Tensor {
public:
  /// An undefined tensor; every operation on it throws ValueError.
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }

  // --- Metadata --------------------------------------------------------
  DType dtype(TRUENO_HERE) const;
  const Shape &shape(TRUENO_HERE) const;
  const Strides &strides(TRUENO_HERE) const;
  /// Offset of element (0, ..., 0) in the storage, in elements.
  std::int64_t offset(TRUENO_HERE) const;
  std::int64_t dim(TRUENO_HERE) const;
  /// Size of dimension `d`; negative `d` counts from the end.
  std::int64_t size(std::int64_t d, TRUENO_HERE) const;
  std::int64_t stride(std::int64_t d, TRUENO_HERE) const;
  std::int64_t numel(TRUENO_HERE) const;
  int itemSize(TRUENO_HERE) const { return trueno::itemSize(dtype(where)); }
  Device device(TRUENO_HERE) const;
  /// Row-major and dense: a flat walk of the storage visits the elements in
  /// order. Dimensions of size 1 may have any stride (as in PyTorch).
  bool isContiguous(TRUENO_HERE) const;
  /// Whether two tensors view the same storage.
  bool sharesStorageWith(const Tensor &other) const;

  // --- Gradients (trueno/Autograd.h) ---------------------------------
  /// Marks this tensor as a leaf whose gradient backward() accumulates into
  /// grad() (or unmarks it). Floating-point tensors only, owning their whole
  /// storage in row-major order (clone() a view first); results of ops on
  /// tensors that require grad are not leaves and cannot be changed.
  Tensor &requiresGrad_(bool on = true, TRUENO_HERE);
  /// Whether gradients flow to this tensor: a marked leaf, or a result of
  /// ops on one recorded with grad mode on.
  bool requiresGrad(TRUENO_HERE) const;
  /// A leaf: not the result of an op that requires grad.
  bool isLeaf(TRUENO_HERE) const;
  /// The gradient accumulated by backward() (leaves, and non-leaves after
  /// retainGrad()), or what setGrad() gave a tensor without grad; undefined
  /// before either.
  Tensor grad(TRUENO_HERE) const;
  /// Replaces the accumulated gradient (an undefined tensor clears it, as
  /// setting `.grad = None`); its shape must be this tensor's.
  void setGrad(const Tensor &gradient, TRUENO_HERE);
  /// Keeps this non-leaf's gradient in grad() at the next backward().
  void retainGrad(TRUENO_HERE);
  /// Calls `hook` with this tensor's gradient each time one is computed for
  /// it (by backward(), before it is added to a leaf's grad(), or by
  /// trueno::grad()); a defined result replaces the gradient, and on a
  /// computed value the replaced gradient is what flows on to the values it
  /// was computed from. Hooks run in the order they were registered, at the
  /// call that records the gradient (the gradient is a pending tensor: the
  /// hook records ops on it, or reads it). Returns a handle for
  /// removeHook(). Not on a view of a computed value.
  std::int64_t registerHook(std::function<Tensor(const Tensor &)> hook,
                            TRUENO_HERE);
  /// Removes a hook registerHook() returned; false if there was none.
  bool removeHook(std::int64_t handle, TRUENO_HERE);
  /// Computes the gradient of this tensor (weighted by `gradient`, which a
  /// tensor of more than one element needs) with respect to every leaf it
  /// depends on, and adds it to their grad(). Lazy: the gradients are
  /// recorded and computed with whatever reads them first. With
  /// `createGraph` they require grad themselves (second derivatives).
  void backward(const Tensor &gradient = Tensor(),
                std::optional<bool> retainGraph = std::nullopt,
                bool createGraph = false, TRUENO_HERE) const;
  /// This tensor's value without gradient tracking: shares the storage,
  /// and no gradient flows back through it.
  Tensor detach(TRUENO_HERE) const;

  // --- Views (no copy) -------------------------------------------------
  /// A tensor with the same elements in `shape` (one entry may be -1). A view
  /// when the layout allows it, a copy otherwise, as in PyTorch.
  Tensor reshape(Shape shape, TRUENO_HERE) const;
  /// Like reshape, but throws ShapeError instead of copying.
  Tensor view(Shape shape, TRUENO_HERE) const;
  Tensor transpose(std::int64_t dim0, std::int64_t dim1, TRUENO_HERE) const;
  Tensor permute(std::vector<std::int64_t> dims, TRUENO_HERE) const;
  /// NumPy's `x[start:stop:step]` along `dim`: negative indices count from
  /// the end, out-of-range bounds are clamped, a negative step walks
  /// backwards, and an omitted bound ({}) means "from the edge".
  Tensor slice(std::int64_t dim, std::optional<std::int64_t> start,
               std::optional<std::int64_t> stop, std::int64_t step = 1,
               TRUENO_HERE) const;
  /// `x[..., index, ...]`: drops dimension `dim`.
  Tensor select(std::int64_t dim, std::int64_t index, TRUENO_HERE) const;
  /// `length` elements of `dim` from `start` (which must be in range).
  Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length,
                TRUENO_HERE) const;
  /// Drops every dimension of size 1.
  Tensor squeeze(TRUENO_HERE) const;
  /// Drops `dim` if its size is 1, otherwise returns the same view.
  Tensor squeeze(std::int64_t dim, TRUENO_HERE) const;
  /// Inserts a dimension of size 1 before position `dim` (-1 appends).
  Tensor unsqueeze(std::int64_t dim, TRUENO_HERE) const;
  /// Repeats size-1 dimensions (and adds leading ones) with stride 0; -1
  /// keeps a size.
  Tensor expand(Shape shape, TRUENO_HERE) const;
  /// NumPy's broadcast_to: like expand, without -1.
  Tensor broadcastTo(Shape shape, TRUENO_HERE) const;
  /// Merges dimensions `startDim..endDim` into one (a view when possible).
  Tensor flatten(std::int64_t startDim = 0, std::int64_t endDim = -1,
                 TRUENO_HERE) const;
  /// All dimensions reversed (NumPy's `.T`).
  Tensor T(TRUENO_HERE) const;
  /// The last two dimensions swapped; needs rank >= 2.
  Tensor mT(TRUENO_HERE) const;

  // --- Indexing (trueno/Indexing.h) ------------------------------------
  /// NumPy's `x[...]`: integers, Slice, newaxis, ellipsis, integer tensors
  /// and bool masks. Without tensors the result is a view; with them, a
  /// gather (recorded and fused) into a new tensor. Out-of-range indices
  /// raise IndexError naming the index, the dimension and its size.
  Tensor index(const std::vector<TensorIndex> &indices, TRUENO_HERE) const;
  /// NumPy's `x[...] = values` (values broadcast to the indexed shape and
  /// convert to this dtype); with `accumulate`, `x[...] += values` where
  /// repeated indices add up (torch.index_put_). Visible through every
  /// view of the storage.
  Tensor &indexPut_(const std::vector<TensorIndex> &indices,
                    const Tensor &values, bool accumulate = false, TRUENO_HERE);
  Tensor &indexPut_(const std::vector<TensorIndex> &indices, Scalar value,
                    TRUENO_HERE);
  /// In-place trueno::scatter / scatterAdd / maskedFill.
  Tensor &scatter_(std::int64_t dim, const Tensor &index, const Tensor &src,
                   TRUENO_HERE);
  Tensor &scatter_(std::int64_t dim, const Tensor &index, Scalar value,
                   TRUENO_HERE);
  Tensor &scatterAdd_(std::int64_t dim, const Tensor &index, const Tensor &src,
                      TRUENO_HERE);
  Tensor &maskedFill_(const Tensor &mask, Scalar value, TRUENO_HERE);

  // --- Copies ----------------------------------------------------------
  /// This tensor if already contiguous, otherwise a contiguous copy.
  Tensor contiguous(TRUENO_HERE) const;
  /// A contiguous copy that shares nothing with this tensor.
  Tensor clone(TRUENO_HERE) const;
  /// Converted to `dtype` with NumPy's rules (docs/DTYPES.md); this tensor
  /// itself when the dtype already matches.
  Tensor to(DType dtype, TRUENO_HERE) const;
  /// A copy on `device` (this tensor itself when it is there already):
  /// contiguous, realized on its device first. Not differentiable yet: a
  /// tensor that requires grad is an error (create it on the device).
  Tensor to(Device device, TRUENO_HERE) const;
  /// to(Device::cpu()).
  Tensor cpu(TRUENO_HERE) const { return to(Device::cpu(), where); }
  /// Moves this tensor to `device` in place, as PyTorch's
  /// `p.data = p.data.to(device)`: every handle to it (a module's member,
  /// an optimizer's parameter list) sees the move; its views do not. A leaf
  /// that requires grad stays one, with no gradient. Module::to uses it.
  Tensor &moveTo_(Device device, TRUENO_HERE);

  // --- Element access --------------------------------------------------
  /// The single element of a tensor with one element.
  Scalar item(TRUENO_HERE) const;
  template <typename T> T item(TRUENO_HERE) const {
    return item(where).template to<T>();
  }
  /// The element at `indices` (one per dimension; negative counts from end).
  Scalar at(std::span<const std::int64_t> indices, TRUENO_HERE) const;
  Scalar at(std::initializer_list<std::int64_t> indices, TRUENO_HERE) const {
    return at(std::span<const std::int64_t>(indices.begin(), indices.size()),
              where);
  }
  template <typename T>
  T at(std::initializer_list<std::int64_t> indices, TRUENO_HERE) const {
    return at(indices, where).template to<T>();
  }
  /// All elements in row-major order, converted to T like `to()` does.
  template <typename T> std::vector<T> toVector() const;
  /// Writes all elements in row-major order to `out`, converted to `type`.
  void copyTo(void *out, DType type) const;
  /// Pointer to the first element. Needs a contiguous tensor of dtype T.
  template <typename T> T *data(TRUENO_HERE) const {
    return static_cast<T *>(rawData(dtypeOf<T>, where));
  }
  void *rawData(DType expected, TRUENO_HERE) const;

  // --- Writes (visible through every view of the same storage) ----------
  /// Sets every element to `value` (converted to this dtype).
  Tensor &fill_(Scalar value, TRUENO_HERE);
  /// Copies `src` into this tensor, broadcasting and converting it.
  Tensor &copy_(const Tensor &src, TRUENO_HERE);
  /// In place, as PyTorch's `add_`... : this tensor's elements (seen through
  /// every view of its storage) become the result, which must keep this
  /// shape and may not need a higher dtype category (int += 0.5 is a
  /// DTypeError). Pending computations that read the old values see them.
  Tensor &add_(const Tensor &other, TRUENO_HERE);
  Tensor &add_(Scalar other, TRUENO_HERE);
  Tensor &sub_(const Tensor &other, TRUENO_HERE);
  Tensor &sub_(Scalar other, TRUENO_HERE);
  Tensor &mul_(const Tensor &other, TRUENO_HERE);
  Tensor &mul_(Scalar other, TRUENO_HERE);
  Tensor &div_(const Tensor &other, TRUENO_HERE);
  Tensor &div_(Scalar other, TRUENO_HERE);
  Tensor &clamp_(std::optional<Scalar> low, std::optional<Scalar> high = {},
                 TRUENO_HERE);
  Tensor &relu_(TRUENO_HERE);
  /// Sets the element at `indices`.
  void setAt(std::initializer_list<std::int64_t> indices, Scalar value,
             TRUENO_HERE);

  // --- Elementwise math (recorded, computed when read; trueno/Ops.h) -----
#define TRUENO_UNARY(Code, mnemonic, function, rule, cost)                     \
  Tensor function(TRUENO_HERE) const;
#define TRUENO_UNARY_COMPOSITE(function) Tensor function(TRUENO_HERE) const;
#define TRUENO_BINARY(Code, mnemonic, function, cost)                          \
  Tensor function(const Tensor &other, TRUENO_HERE) const;                     \
  Tensor function(Scalar other, TRUENO_HERE) const;
#include "trueno/OpTable.def"
  /// GELU, exact (erf) or with PyTorch's tanh approximation.
  Tensor gelu(bool tanhApproximation = false, TRUENO_HERE) const;
  /// Elements limited to [low, high]; either bound may be omitted.
  Tensor clamp(std::optional<Scalar> low, std::optional<Scalar> high = {},
               TRUENO_HERE) const;
  Tensor clamp(const Tensor &low, const Tensor &high, TRUENO_HERE) const;
  /// Reductions over `dims` (all when empty); see trueno/Ops.h.
  Tensor sum(std::vector<std::int64_t> dims = {}, bool keepdim = false,
             TRUENO_HERE) const;
  Tensor prod(std::vector<std::int64_t> dims = {}, bool keepdim = false,
              TRUENO_HERE) const;
  Tensor mean(std::vector<std::int64_t> dims = {}, bool keepdim = false,
              TRUENO_HERE) const;
  Tensor amax(std::vector<std::int64_t> dims = {}, bool keepdim = false,
              TRUENO_HERE) const;
  Tensor amin(std::vector<std::int64_t> dims = {}, bool keepdim = false,
              TRUENO_HERE) const;
  Tensor all(std::vector<std::int64_t> dims = {}, bool keepdim = false,
             TRUENO_HERE) const;
  Tensor any(std::vector<std::int64_t> dims = {}, bool keepdim = false,
             TRUENO_HERE) const;

  /// softmax / log-softmax along `dim` (trueno::softmax).
  Tensor softmax(std::int64_t dim, TRUENO_HERE) const;
  Tensor logSoftmax(std::int64_t dim, TRUENO_HERE) const;
  /// Matrix product with `other` (trueno::matmul).
  Tensor matmul(const Tensor &other, TRUENO_HERE) const;

  /// The PyTorch-style text (`tensor([1., 2.])`), summarized when large.
  std::string toString() const;

  TensorImpl *impl() const { return impl_.get(); }

private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream &operator<<(std::ostream &os, const Tensor &t);

template <typename T> std::vector<T> Tensor::toVector() const {
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<std::uint8_t> bytes(numel());
    copyTo(bytes.data(), DType::Bool);
    return std::vector<bool>(bytes.begin(), bytes.end());
  } else {
    std::vector<T> out(numel());
    copyTo(out.data(), dtypeOf<T>);
    return out;
  }
}

/// The dtype of a binary operation on `a` and `b`, following PyTorch: a
/// dimensioned tensor outranks a zero-dimensional one, which outranks a
/// scalar, unless the lower-ranked operand is of a higher category.
DType resultType(const Tensor &a, const Tensor &b);
DType resultType(const Tensor &a, const Scalar &b);

// --- Creation ------------------------------------------------------------

namespace detail {
/// Copies `count` elements of `sourceType` into a new tensor of `shape`,
/// converting them to `options.dtype`. Throws ShapeError if `count` does not
/// match the shape.
Tensor fromBuffer(const void *data, DType sourceType, std::int64_t count,
                  Shape shape, const TensorOptions &options, SourceLoc where);

/// How a C++ value of type T is handed to `fromBuffer`: bools as bytes, any
/// integer as the fixed-width type of its size (unsigned wider than a byte
/// as int64), floats as themselves.
template <typename T> struct SourceOf { using type = T; };
template <> struct SourceOf<bool> { using type = std::uint8_t; };
template <typename T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) struct SourceOf<T> {
  using type = std::conditional_t<
      std::is_unsigned_v<T>,
      std::conditional_t<sizeof(T) == 1, std::uint8_t, std::int64_t>,
      std::conditional_t<
          sizeof(T) == 1, std::int8_t,
          std::conditional_t<
              sizeof(T) == 2, std::int16_t,
              std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>>>>;
};
template <typename T> using SourceType = typename SourceOf<T>::type;
template <typename T> constexpr DType sourceDType() {
  return std::is_same_v<T, bool> ? DType::Bool : dtypeOf<SourceType<T>>;
}
/// The dtype a tensor made from T values gets when none is asked for.
template <typename T> constexpr DType defaultDTypeFor() {
  if constexpr (std::is_same_v<T, bool>)
    return DType::Bool;
  else if constexpr (std::is_same_v<T, std::uint8_t>)
    return DType::UInt8;
  else if constexpr (std::is_integral_v<T>)
    return kDefaultInt; // as torch.tensor([1]) is int64
  else if constexpr (std::is_same_v<T, double>)
    return kDefaultFloat; // as torch.tensor([1.0]) is float32
  else
    return dtypeOf<T>;
}
/// Records that nesting level `depth` has `size` entries; throws ValueError
/// if another list at that level had a different size (a ragged list).
void recordNestedSize(Shape &shape, std::size_t depth, std::int64_t size,
                      SourceLoc where);
} // namespace detail

/// A copy of `values` with the given shape; `values.size()` must equal the
/// number of elements. The dtype defaults to T's own (std::vector<double>
/// gives float64, std::vector<std::int16_t> int16; unsigned types wider than
/// a byte become int64).
template <typename T>
Tensor fromSpan(std::span<const T> values, Shape shape,
                TensorOptions options = {}, TRUENO_HERE) {
  if (!options.dtype)
    options.dtype = detail::sourceDType<T>();
  if constexpr (std::is_same_v<detail::SourceType<T>, T>) {
    return detail::fromBuffer(values.data(), detail::sourceDType<T>(),
                              static_cast<std::int64_t>(values.size()),
                              std::move(shape), options, where);
  } else {
    std::vector<detail::SourceType<T>> converted(values.begin(), values.end());
    return detail::fromBuffer(converted.data(), detail::sourceDType<T>(),
                              static_cast<std::int64_t>(converted.size()),
                              std::move(shape), options, where);
  }
}
template <typename T>
Tensor fromVector(const std::vector<T> &values, Shape shape,
                  TensorOptions options = {}, TRUENO_HERE) {
  if constexpr (std::is_same_v<T, bool>) {
    std::vector<std::uint8_t> bytes(values.begin(), values.end());
    if (!options.dtype)
      options.dtype = DType::Bool;
    return detail::fromBuffer(bytes.data(), DType::Bool,
                              static_cast<std::int64_t>(bytes.size()),
                              std::move(shape), options, where);
  } else {
    return fromSpan(std::span<const T>(values), std::move(shape), options,
                    where);
  }
}

/// A rank-0 tensor holding `value`.
template <typename T>
requires std::is_arithmetic_v<T>
    Tensor tensor(T value, TensorOptions options = {}, TRUENO_HERE) {
  detail::SourceType<T> v = value;
  if (!options.dtype)
    options.dtype = detail::defaultDTypeFor<T>();
  return detail::fromBuffer(&v, detail::sourceDType<T>(), 1, {}, options,
                            where);
}

/// A tensor from nested braces: `tensor({{1, 2}, {3, 4}})` is a (2, 2) int64
/// tensor, `tensor({1.5, 2.0})` a float32 one. Up to rank 6.
template <typename T>
Tensor tensor(std::initializer_list<T> v, TensorOptions o = {}, TRUENO_HERE);
template <typename T>
Tensor tensor(std::initializer_list<std::initializer_list<T>> v,
              TensorOptions o = {}, TRUENO_HERE);
template <typename T>
Tensor
tensor(std::initializer_list<std::initializer_list<std::initializer_list<T>>> v,
       TensorOptions o = {}, TRUENO_HERE);
template <typename T>
Tensor tensor(
    std::initializer_list<
        std::initializer_list<std::initializer_list<std::initializer_list<T>>>>
        v,
    TensorOptions o = {}, TRUENO_HERE);
template <typename T>
Tensor tensor(
    std::initializer_list<std::initializer_list<
        std::initializer_list<std::initializer_list<std::initializer_list<T>>>>>
        v,
    TensorOptions o = {}, TRUENO_HERE);
template <typename T>
Tensor
tensor(std::initializer_list<
           std::initializer_list<std::initializer_list<std::initializer_list<
               std::initializer_list<std::initializer_list<T>>>>>>
           v,
       TensorOptions o = {}, TRUENO_HERE);

/// Uninitialized storage (the caching allocator may hand back old data).
Tensor empty(Shape shape, TensorOptions options = {}, TRUENO_HERE);
Tensor zeros(Shape shape, TensorOptions options = {}, TRUENO_HERE);
Tensor ones(Shape shape, TensorOptions options = {}, TRUENO_HERE);
/// Filled with `value`; the dtype defaults to the value's (float -> float32,
/// int -> int64, bool -> bool).
Tensor full(Shape shape, Scalar value, TensorOptions options = {}, TRUENO_HERE);
/// Same shape as `like`, and its dtype unless `options` says otherwise.
Tensor emptyLike(const Tensor &like, TensorOptions options = {}, TRUENO_HERE);
Tensor zerosLike(const Tensor &like, TensorOptions options = {}, TRUENO_HERE);
Tensor onesLike(const Tensor &like, TensorOptions options = {}, TRUENO_HERE);
Tensor fullLike(const Tensor &like, Scalar value, TensorOptions options = {},
                TRUENO_HERE);
/// `[start, stop)` by `step`, with NumPy's length and values. The dtype is
/// int64 when all arguments are integers, float32 otherwise.
Tensor arange(Scalar stop, TensorOptions options = {}, TRUENO_HERE);
Tensor arange(Scalar start, Scalar stop, Scalar step = 1,
              TensorOptions options = {}, TRUENO_HERE);
/// `steps` evenly spaced values from `start` to `stop` inclusive, computed
/// in double as NumPy does, then converted (floored first for integer
/// dtypes, as NumPy does).
Tensor linspace(double start, double stop, std::int64_t steps,
                TensorOptions options = {}, TRUENO_HERE);
/// An n x m matrix with ones on the diagonal (m defaults to n).
Tensor eye(std::int64_t n, std::optional<std::int64_t> m = {},
           TensorOptions options = {}, TRUENO_HERE);

} // namespace trueno

#include "trueno/TensorCreation.inc"

#endif // TRUENO_TENSOR_H
