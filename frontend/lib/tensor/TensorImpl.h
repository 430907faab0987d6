//===- TensorImpl.h - What a Tensor handle points at ----------------------===//
//
// `Storage` owns bytes on a device; `TensorImpl` is one view of a storage
// (dtype, shape, strides and offset, in elements). Many views share one
// storage. The storage is the unit that the lazy graph makes pending: all
// element reads and writes go through `Storage::bytes()`, which is where a
// pending storage will be realized (docs/ARCHITECTURE.md).
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_FRONTEND_TENSORIMPL_H
#define TRUENO_FRONTEND_TENSORIMPL_H

#include "trueno/Tensor.h"

#include "trueno/Core/Check.h"
#include "trueno/Runtime/Backend.h"

#include <atomic>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <memory>
#include <new>
#include <stdexcept>
#include <vector>

namespace trueno {

struct LazyNode;
class Storage;

namespace detail {
/// Computes a pending storage (Lazy.cpp).
void realize(Storage &storage);
/// The backend of `device`; a DeviceError naming `op` when it could not
/// start (a TRUENO_CPU this host cannot run, for the CPU).
runtime::Backend &backendOf(Device device, std::string_view op);
} // namespace detail

/// Bytes on a device, or the promise of them: a pending storage holds the
/// graph node that computes it and gets its buffer when first read.
class Storage {
public:
  /// Fresh, uninitialized, 64-byte aligned storage of `nbytes` bytes on
  /// `device`; MemoryError when the device has no room, DeviceError for a
  /// device without a backend.
  /// `op` and `where` name the caller in the MemoryError.
  static std::shared_ptr<Storage> allocate(std::int64_t nbytes, Device device,
                                           std::string_view op = "allocate",
                                           SourceLoc where = {});
  /// Storage that `node` will compute; no memory until then.
  static std::shared_ptr<Storage> pending(std::int64_t nbytes, Device device,
                                          std::shared_ptr<LazyNode> node);
  Storage(const Storage &) = delete;
  Storage &operator=(const Storage &) = delete;

  /// The bytes, for reading on the host: computes a pending storage first.
  /// DeviceError for memory the host cannot address.
  /// Memory the host cannot address (a GPU's) is downloaded into a host
  /// copy, kept until the storage gets a new value.
  std::byte *bytes() {
    if (isPending()) [[unlikely]]
      detail::realize(*this);
    if (!host_) [[unlikely]]
      return downloadToHost();
    return host_;
  }
  /// The bytes, for writing on the host: computes a pending storage, and
  /// when pending computations still read the current buffer, moves this
  /// storage to a copy of it first (they keep reading the old one). On a
  /// GPU, the host copy is written and uploaded when a kernel next reads
  /// the storage (buffer()).
  std::byte *mutableBytes() {
    std::byte *host = bytes();
    if (hostCopy_) [[unlikely]] {
      hostCopyNewer_ = true;
      return host;
    }
    if (buffer_.buffer.use_count() > 1) [[unlikely]]
      return copyOnWrite();
    return host;
  }
  /// The device buffer (computing a pending storage first): what kernels
  /// and transfers take.
  const runtime::BufferRef &buffer() {
    if (isPending()) [[unlikely]]
      detail::realize(*this);
    if (hostCopyNewer_) [[unlikely]]
      uploadHostCopy();
    fresh_ = false; // whoever takes the buffer may write it
    return buffer_;
  }
  std::int64_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  /// Safe to ask from any thread: another thread's realize may be computing
  /// this storage (its buffer is visible once this reads false).
  bool isPending() const {
    return pendingFlag_.load(std::memory_order_acquire);
  }
  /// The node that will compute this storage; null once computed. Read and
  /// written under the lazy graph's lock (Lazy.cpp).
  const std::shared_ptr<LazyNode> &pendingNode() const { return pending_; }
  /// Called by the realize that computed this storage into `buffer`.
  void setComputed(runtime::BufferRef buffer);
  /// Makes `node` this storage's pending contents (a write recorded by
  /// detail::assignView); the storage lets go of its current buffer, which
  /// whoever reads it keeps.
  void setPending(std::shared_ptr<LazyNode> node);

  /// What autograd knows of the value this storage holds (frontend/lib/
  /// autograd/Autograd.cpp); read and written under the lazy graph's lock.
  struct GradState {
    /// A leaf: a tensor the user marked with requiresGrad_(), owning this
    /// whole storage in row-major order, of `leafShape` and `leafDType`.
    bool leaf = false;
    Shape leafShape;
    DType leafDType = DType::Float32;
    /// The gradient backward() accumulated (leaves, and values that
    /// retainGrad() kept).
    Tensor grad;
    bool retainsGrad = false;
    /// registerHook(): handle and function, in registration order.
    std::vector<std::pair<std::int64_t, std::function<Tensor(const Tensor &)>>>
        hooks;
    /// The node later ops read this value through: a leaf's (rebuilt when
    /// the storage gets a new version), or the Input, with its definition,
    /// that a realized value requiring grad became.
    std::shared_ptr<LazyNode> node;
    /// The version `node` was built for, for a leaf: its pending node or
    /// buffer.
    const void *version = nullptr;
  };
  GradState *gradStateIfAny() { return grad_.get(); }
  /// Whether the lazy graph's list of pending writes holds this storage
  /// (Lazy.cpp; read and written under its lock): a storage written every
  /// step is listed once, not once a write.
  bool listedAsWrite = false;
  GradState &gradState() {
    if (!grad_)
      grad_ = std::make_unique<GradState>();
    return *grad_;
  }

private:
  Storage(runtime::BufferRef buffer, std::int64_t nbytes, Device device);
  std::byte *downloadToHost();
  void uploadHostCopy();
  std::byte *copyOnWrite();

  runtime::BufferRef buffer_;
  std::byte *host_ = nullptr; ///< the buffer's host address, when it has one
  /// Device memory: its host copy (host_ points into it), whether the host
  /// wrote it since, and whether the buffer holds nothing yet (a fresh
  /// allocation: no download needed).
  runtime::BufferRef hostCopy_;
  bool hostCopyNewer_ = false;
  bool fresh_ = false;
  std::int64_t nbytes_;
  Device device_;
  std::shared_ptr<LazyNode> pending_;
  std::unique_ptr<GradState> grad_;
  /// Whether `pending_` is set: stored (release) after the buffer when a
  /// realize computes the storage, so a reader without the lock that sees
  /// false also sees the buffer. A reader that sees true takes the lock in
  /// detail::realize, which looks again.
  std::atomic<bool> pendingFlag_ = false;
};

class TensorImpl {
public:
  /// The one constructor every tensor (an op's result, a view, a fresh
  /// allocation) goes through: a shape with more than kMaxRank dimensions,
  /// a negative size, or more elements than 2^63 bytes hold is a ValueError
  /// naming `op` and `where` here, before anything multiplies its sizes
  /// (numel, strides, byte counts). Public ops check their result's shape
  /// first, under their own name; this is the backstop that makes an
  /// overflowing shape impossible to build.
  TensorImpl(DType dtype, Shape shape, Strides strides, std::int64_t offset,
             std::shared_ptr<Storage> storage, std::string_view op = "tensor",
             SourceLoc where = {})
      : dtype(dtype), shape(std::move(shape)), strides(std::move(strides)),
        offset(offset), storage(std::move(storage)) {
    detail::checkShape(this->shape, op, where, itemSize(dtype));
  }

  DType dtype;
  Shape shape;
  Strides strides;
  std::int64_t offset;
  std::shared_ptr<Storage> storage;
  /// A detach()ed view: read without gradient tracking (its views too).
  bool detached = false;

  std::int64_t numel() const { return numelOf(shape); }
  /// Address of element (0, ..., 0), for reading (realizes a pending
  /// storage).
  std::byte *firstElement() const {
    return storage->bytes() + offset * itemSize(dtype);
  }
  /// Address of element (0, ..., 0), for writing on the host (pending
  /// computations that read the storage keep its old contents).
  std::byte *mutableFirstElement() const {
    return storage->mutableBytes() + offset * itemSize(dtype);
  }
};

namespace detail {
/// The impl of a defined tensor; ValueError naming `op` for an undefined one.
TensorImpl &implOf(const Tensor &t, std::string_view op, SourceLoc where);
/// A new contiguous tensor with fresh storage; a MemoryError names `op` and
/// `where` when the device has no room.
Tensor makeContiguous(DType dtype, Shape shape, Device device,
                      std::string_view op = "allocate", SourceLoc where = {});
/// A new view of `base`'s storage; a shape too big to address is a
/// ValueError naming `op` and `where`.
Tensor makeView(const TensorImpl &base, Shape shape, Strides strides,
                std::int64_t offset, std::string_view op = "view",
                SourceLoc where = {});
/// ValueError naming `op` if `self` has a broadcast (stride 0) dimension of
/// size > 1: several elements would share one location.
void checkWritable(const TensorImpl &self, std::string_view op,
                   SourceLoc where);
/// Copies `src` into `dst` element by element, converting dtypes. Shapes
/// must be equal (broadcast first); the two may not overlap in memory.
/// Realizes `src`, and pending readers of `dst`.
void copyElements(const TensorImpl &dst, const TensorImpl &src);

/// Whether autograd tracks `t` (a leaf that requires grad, or a value
/// computed from one with grad mode on).
bool tracksGrad(const TensorImpl &t);

// The escape hatch for ops computed outside the IR (LAPACK, scans): the
// result is the eager value, detached, plus a tangent recorded in the IR:
// the op's forward-mode derivative applied to `changeOf(input)`, which is
// zero but has the input's derivative. The tangent adds nothing to the
// value, and the compiler differentiates it like any other ops, so its
// derivative is the op's. The factors the tangent multiplies by (an
// inverse, eigenvectors...) come from the op itself, called on
// `HatchFactors::input`: at the outermost hatch that is the input, so the
// factors are themselves differentiable (through a nested hatch) and the
// gradient's own gradient, a second derivative, is exact; inside a hatch it
// is the detached input, so a nested hatch's factors are constants (third
// derivatives hold them constant). The outermost input carries half the
// input's derivative: the change f'(c(A)) dA, differentiated once more,
// meets f'' twice, through the factors c and through dA.

/// Whether such an op must record a gradient: grad mode is on and one of
/// the non-empty inputs requires grad (an empty one has nothing to
/// differentiate).
bool differentiating(std::initializer_list<const Tensor *> inputs);
/// `t - detach(t)`: zero, with t's derivative.
Tensor changeOf(const Tensor &t, SourceLoc where);
/// The hatch's result: `value` detached plus `change` (zero in value), so
/// the value of `value` with the derivative of `change`.
Tensor valuePlusChange(const Tensor &value, const Tensor &change,
                       SourceLoc where);
/// Marks the computation of a hatch's factors for as long as it lives.
class HatchFactors {
public:
  HatchFactors();
  ~HatchFactors();
  HatchFactors(const HatchFactors &) = delete;
  HatchFactors &operator=(const HatchFactors &) = delete;
  /// What the factors are computed from: `t` with half its derivative at
  /// the outermost hatch, a detached `t` inside one.
  Tensor input(const Tensor &t, SourceLoc where) const;

private:
  bool outermost_;
};

/// MemoryError naming `op` and the caller's line: `count` host elements of
/// `itemBytes` bytes could not be allocated.
[[noreturn]] void hostMemoryExhausted(std::int64_t count, std::size_t itemBytes,
                                      std::string_view op, SourceLoc where);
/// `count` copies of `fill` on the host, for an op's bookkeeping (index
/// lists, averaging matrices): a size too large for the host is a
/// MemoryError, not std::bad_alloc or std::length_error.
/// Whether `count` elements of `itemBytes` bytes fit in the host's
/// physical memory (where overcommit would let the allocation succeed and
/// the process be killed while filling it).
bool fitsInHostMemory(std::int64_t count, std::size_t itemBytes);
template <typename T>
std::vector<T> hostVector(std::int64_t count, T fill, std::string_view op,
                          SourceLoc where) {
  if (!fitsInHostMemory(count, sizeof(T)))
    hostMemoryExhausted(count, sizeof(T), op, where);
  try {
    return std::vector<T>(static_cast<std::size_t>(count), fill);
  } catch (const std::bad_alloc &) {
  } catch (const std::length_error &) {
  }
  hostMemoryExhausted(count, sizeof(T), op, where);
}
} // namespace detail

} // namespace trueno

#endif // TRUENO_FRONTEND_TENSORIMPL_H
