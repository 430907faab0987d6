//===- Tensor.cpp - Metadata, copies, element access and writes -----------===//
//
// The eager (host) implementation of everything on `Tensor` that is not a
// view: storage allocation, strided copies with dtype conversion, element
// reads and in-place writes. Views live in Views.cpp, creation functions in
// Creation.cpp.
//
//===----------------------------------------------------------------------===//
#include "lazy/Lazy.h"
#include "tensor/Dispatch.h"
#include "tensor/Strided.h"
#include "tensor/TensorImpl.h"
#include "trueno/Autograd.h"
#include "trueno/Core/Cast.h"
#include "trueno/Core/Check.h"
#include "trueno/Runtime/Vulkan/VulkanBackend.h"

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <optional>
#include <ostream>
#include <unistd.h>

namespace trueno {

//===----------------------------------------------------------------------===//
// Storage
//===----------------------------------------------------------------------===//

Storage::Storage(runtime::BufferRef buffer, std::int64_t nbytes, Device device)
    : nbytes_(nbytes), device_(device) {
  if (buffer)
    setComputed(std::move(buffer));
}

void Storage::setComputed(runtime::BufferRef buffer) {
  // The pending value a leaf's node was built for, now computed, is the
  // same version: the leaf keeps its node, so that gradients recorded
  // against it before (createGraph's first-order ones) still find it.
  if (grad_ && grad_->leaf && grad_->node && pending_ &&
      grad_->version == pending_.get())
    grad_->version = buffer.buffer.get();
  buffer_ = std::move(buffer);
  hostCopy_ = {};
  hostCopyNewer_ = false;
  fresh_ = false;
  host_ = nullptr;
  auto host = runtime::hostBytes(buffer_);
  if (host)
    host_ = *host;
  else
    llvm::consumeError(host.takeError()); // device memory: no host address
  pending_.reset();
  pendingFlag_.store(false, std::memory_order_release);
}

void Storage::setPending(std::shared_ptr<LazyNode> node) {
  // A new version: the node a realized value was read through no longer
  // is its value (a leaf's is rebuilt for the new version when read).
  if (grad_ && !grad_->leaf)
    grad_->node.reset();
  pendingFlag_.store(true, std::memory_order_release);
  buffer_ = {};
  host_ = nullptr;
  hostCopy_ = {};
  hostCopyNewer_ = false;
  fresh_ = false;
  pending_ = std::move(node);
}

/// `nbytes` of `device` memory for `op`; DeviceError when the device's
/// backend cannot start, MemoryError when it has no room.
runtime::Backend &detail::backendOf(Device device, std::string_view op) {
  auto backend = runtime::backendFor(device);
  if (!backend)
    detail::fail<DeviceError>(
        {}, op,
        device.kind == DeviceKind::CPU
            ? "the device's backend could not start: check TRUENO_CPU "
              "(README.md, Settings)"
            : "check the Vulkan driver (vulkaninfo --summary), "
              "TRUENO_VULKAN_DEVICE and TRUENO_DEVICE, or use the CPU",
        "{}", llvm::toString(backend.takeError()));
  return *backend;
}

bool detail::fitsInHostMemory(std::int64_t count, std::size_t itemBytes) {
  static const std::uint64_t physical =
      static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
      static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  return count >= 0 && static_cast<std::uint64_t>(count) <=
                           physical / std::max<std::size_t>(itemBytes, 1);
}

void detail::hostMemoryExhausted(std::int64_t count, std::size_t itemBytes,
                                 std::string_view op, SourceLoc where) {
  detail::fail<MemoryError>(where, op, "use smaller sizes",
                            "{} elements of {} bytes each do not fit in host "
                            "memory",
                            count, itemBytes);
}

static runtime::BufferRef allocateOn(Device device, std::int64_t nbytes,
                                     std::string_view op, std::string hint,
                                     SourceLoc where = {}) {
  auto buffer =
      detail::backendOf(device, op).allocate(static_cast<std::size_t>(nbytes));
  if (!buffer) {
    llvm::consumeError(buffer.takeError());
    detail::fail<MemoryError>(where, op, std::move(hint),
                              "cannot allocate {} bytes on {}", nbytes,
                              device.name());
  }
  return {std::move(*buffer), 0};
}

std::byte *Storage::copyOnWrite() {
  runtime::BufferRef copy =
      allocateOn(device_, nbytes_, "write",
                 "free some tensors, or realize the pending computations "
                 "that read this tensor first (they keep its old contents)");
  std::memcpy(copy.buffer->hostAddress() + copy.offset, host_,
              static_cast<std::size_t>(nbytes_));
  setComputed(std::move(copy));
  return host_;
}

std::byte *Storage::downloadToHost() {
  hostCopy_ = allocateOn(Device::cpu(), nbytes_, "read",
                         "free some tensors: reading a tensor of " +
                             device_.name() + " needs a host copy of it");
  host_ = hostCopy_.buffer->hostAddress();
  if (!fresh_ && nbytes_ > 0)
    if (llvm::Error error =
            detail::backendOf(device_, "read")
                .download(host_, buffer_, static_cast<std::size_t>(nbytes_))) {
      hostCopy_ = {};
      host_ = nullptr;
      detail::fail<DeviceError>(
          {}, "read", "the device may be lost: check its driver",
          "copying {} bytes from {} failed: {}", nbytes_, device_.name(),
          llvm::toString(std::move(error)));
    }
  fresh_ = false;
  return host_;
}

void Storage::uploadHostCopy() {
  // Pending computations that read the old contents keep them: the host's
  // writes go to a new buffer.
  if (buffer_.buffer.use_count() > 1)
    buffer_ = allocateOn(device_, nbytes_, "write",
                         "free some tensors, or realize the pending "
                         "computations that read this tensor first");
  if (nbytes_ > 0)
    if (llvm::Error error =
            detail::backendOf(device_, "write")
                .upload(buffer_, host_, static_cast<std::size_t>(nbytes_)))
      detail::fail<DeviceError>(
          {}, "write", "the device may be lost: check its driver",
          "copying {} bytes to {} failed: {}", nbytes_, device_.name(),
          llvm::toString(std::move(error)));
  hostCopyNewer_ = false;
}

std::shared_ptr<Storage> Storage::allocate(std::int64_t nbytes, Device device,
                                           std::string_view op,
                                           SourceLoc where) {
  std::shared_ptr<Storage> storage(new Storage(
      allocateOn(device, nbytes, op,
                 "free some tensors, or use a smaller shape", where),
      nbytes, device));
  storage->fresh_ = true; // whoever allocated it writes it first
  return storage;
}

std::shared_ptr<Storage> Storage::pending(std::int64_t nbytes, Device device,
                                          std::shared_ptr<LazyNode> node) {
  std::shared_ptr<Storage> storage(new Storage({}, nbytes, device));
  storage->pending_ = std::move(node);
  storage->pendingFlag_.store(true, std::memory_order_relaxed);
  return storage;
}

namespace {
/// The default device, packed (kind in the high half, index in the low
/// one; -1 until TRUENO_DEVICE is read): every TensorOptions reads it, so
/// the read is one atomic load.
std::atomic<std::int64_t> defaultDevicePacked{-1};
std::mutex defaultDeviceMutex; // reading TRUENO_DEVICE, once

std::int64_t pack(Device d) {
  return (static_cast<std::int64_t>(d.kind) << 32) |
         static_cast<std::uint32_t>(d.index);
}
Device unpack(std::int64_t packed) {
  return Device{static_cast<DeviceKind>(packed >> 32),
                static_cast<int>(packed & 0xffffffff)};
}

/// TRUENO_DEVICE, read once.
Device deviceFromEnvironment() {
  const char *setting = std::getenv("TRUENO_DEVICE");
  std::string_view text = setting ? setting : "";
  if (text.empty() || text == "cpu")
    return Device::cpu();
  if (text == "vulkan") {
    auto index = runtime::defaultVulkanDevice();
    if (!index)
      detail::fail<DeviceError>(
          {}, "TRUENO_DEVICE",
          "check the Vulkan driver (vulkaninfo --summary), or unset "
          "TRUENO_DEVICE to use the CPU",
          "TRUENO_DEVICE=vulkan, but no Vulkan device is usable: {}",
          llvm::toString(index.takeError()));
    return Device::vulkan(*index);
  }
  if (text.starts_with("vulkan:")) {
    std::string_view digits = text.substr(7);
    int index = 0;
    auto [end, error] =
        std::from_chars(digits.data(), digits.data() + digits.size(), index);
    if (error == std::errc() && end == digits.data() + digits.size() &&
        !digits.empty() && index >= 0)
      return Device::vulkan(index);
  }
  detail::fail<DeviceError>({}, "TRUENO_DEVICE", "use cpu, vulkan or vulkan:N",
                            "TRUENO_DEVICE={} names no device", text);
}
} // namespace

Device defaultDevice() {
  std::int64_t packed = defaultDevicePacked.load(std::memory_order_acquire);
  if (packed >= 0) [[likely]]
    return unpack(packed);
  std::lock_guard lock(defaultDeviceMutex);
  packed = defaultDevicePacked.load(std::memory_order_acquire);
  if (packed < 0) {
    packed = pack(deviceFromEnvironment());
    defaultDevicePacked.store(packed, std::memory_order_release);
  }
  return unpack(packed);
}

void setDefaultDevice(Device device) {
  std::lock_guard lock(defaultDeviceMutex);
  defaultDevicePacked.store(pack(device), std::memory_order_release);
}

namespace detail {

TensorImpl &implOf(const Tensor &t, std::string_view op, SourceLoc where) {
  if (!t.defined())
    fail<ValueError>(where, op,
                     "create it first, e.g. with zeros() or tensor({...})",
                     "the tensor is undefined (default-constructed)");
  return *t.impl();
}

Tensor makeContiguous(DType dtype, Shape shape, Device device,
                      std::string_view op, SourceLoc where) {
  detail::checkShape(shape, op, where, itemSize(dtype));
  std::int64_t n = numelOf(shape);
  auto storage = Storage::allocate(n * itemSize(dtype), device, op, where);
  Strides strides = contiguousStrides(shape);
  return Tensor(std::make_shared<TensorImpl>(dtype, std::move(shape),
                                             std::move(strides), 0,
                                             std::move(storage), op, where));
}

Tensor makeView(const TensorImpl &base, Shape shape, Strides strides,
                std::int64_t offset, std::string_view op, SourceLoc where) {
  auto view = std::make_shared<TensorImpl>(base.dtype, std::move(shape),
                                           std::move(strides), offset,
                                           base.storage, op, where);
  view->detached = base.detached;
  return Tensor(std::move(view));
}

/// The one strided conversion loop: every copy, cast and gather of the
/// eager frontend ends here.
static void copyStrided(std::byte *dst, DType dstType,
                        const Strides &dstStrides, const std::byte *src,
                        DType srcType, const Strides &srcStrides,
                        std::span<const std::int64_t> shape) {
  dispatchDType(dstType, [&]<typename D>(TypeTag<D>) {
    dispatchDType(srcType, [&]<typename S>(TypeTag<S>) {
      auto *d = reinterpret_cast<D *>(dst);
      const auto *s = reinterpret_cast<const S *>(src);
      walkRows<2>(shape, {&dstStrides, &srcStrides},
                  [&](const std::array<std::int64_t, 2> &off, std::int64_t n,
                      const std::array<std::int64_t, 2> &step) {
                    D *pd = d + off[0];
                    const S *ps = s + off[1];
                    if constexpr (std::is_same_v<D, S>) {
                      if (step[0] == 1 && step[1] == 1) {
                        std::memcpy(pd, ps, n * sizeof(D));
                        return;
                      }
                    }
                    for (std::int64_t i = 0; i < n; ++i)
                      pd[i * step[0]] = castValue<D, S>(ps[i * step[1]]);
                  });
    });
  });
}

void copyElements(const TensorImpl &dst, const TensorImpl &src) {
  const std::byte *from = src.firstElement();
  copyStrided(dst.mutableFirstElement(), dst.dtype, dst.strides, from,
              src.dtype, src.strides, dst.shape);
}

Tensor fromBuffer(const void *data, DType sourceType, std::int64_t count,
                  Shape shape, const TensorOptions &options, SourceLoc where) {
  checkShape(shape, "tensor", where,
             itemSize(options.dtype.value_or(sourceType)));
  if (count != numelOf(shape))
    fail<ShapeError>(where, "tensor",
                     "the number of values must equal the product of the "
                     "shape's sizes",
                     "{} values cannot fill shape {} ({} elements)", count,
                     formatShape(shape), numelOf(shape));
  DType dtype = options.dtype.value_or(sourceType);
  Tensor result = makeContiguous(dtype, shape, options.device);
  Strides sourceStrides = contiguousStrides(shape);
  copyStrided(result.impl()->mutableFirstElement(), dtype, result.strides(),
              static_cast<const std::byte *>(data), sourceType, sourceStrides,
              shape);
  return result;
}

} // namespace detail

using detail::fail;
using detail::implOf;

//===----------------------------------------------------------------------===//
// Metadata
//===----------------------------------------------------------------------===//

DType Tensor::dtype(SourceLoc where) const {
  return implOf(*this, "dtype", where).dtype;
}
const Shape &Tensor::shape(SourceLoc where) const {
  return implOf(*this, "shape", where).shape;
}
const Strides &Tensor::strides(SourceLoc where) const {
  return implOf(*this, "strides", where).strides;
}
std::int64_t Tensor::offset(SourceLoc where) const {
  return implOf(*this, "offset", where).offset;
}
std::int64_t Tensor::dim(SourceLoc where) const {
  return static_cast<std::int64_t>(implOf(*this, "dim", where).shape.size());
}
std::int64_t Tensor::numel(SourceLoc where) const {
  return implOf(*this, "numel", where).numel();
}
Device Tensor::device(SourceLoc where) const {
  return implOf(*this, "device", where).storage->device();
}

std::int64_t Tensor::size(std::int64_t d, SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "size", where);
  return self.shape[detail::wrapDim(d, dim(), self.shape, "size", where)];
}

std::int64_t Tensor::stride(std::int64_t d, SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "stride", where);
  return self.strides[detail::wrapDim(d, dim(), self.shape, "stride", where)];
}

bool Tensor::isContiguous(SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "isContiguous", where);
  if (self.numel() == 0)
    return true;
  std::int64_t expected = 1;
  for (std::size_t d = self.shape.size(); d-- > 0;) {
    if (self.shape[d] == 1)
      continue;
    if (self.strides[d] != expected)
      return false;
    expected *= self.shape[d];
  }
  return true;
}

bool Tensor::sharesStorageWith(const Tensor &other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}

//===----------------------------------------------------------------------===//
// Copies
//===----------------------------------------------------------------------===//

Tensor Tensor::contiguous(SourceLoc where) const {
  implOf(*this, "contiguous", where);
  return isContiguous(where) ? *this : clone(where);
}

/// A fresh contiguous copy of `self` converted to `dtype`.
static Tensor copyAs(const TensorImpl &self, DType dtype) {
  Tensor result =
      detail::makeContiguous(dtype, self.shape, self.storage->device());
  detail::copyElements(*result.impl(), self);
  return result;
}

Tensor Tensor::clone(SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "clone", where);
  // A copy of a value still being computed stays in its graph (and fuses
  // with it); a realized one is copied now.
  if (self.storage->isPending() ||
      (isGradEnabled() && detail::tracksGrad(self)))
    return detail::recordCopy(self);
  return copyAs(self, self.dtype);
}

//===----------------------------------------------------------------------===//
// Element access
//===----------------------------------------------------------------------===//

/// Reads the element at `offset` (in elements, from the storage start).
static Scalar readScalar(const TensorImpl &self, std::int64_t offset) {
  const std::byte *p = self.storage->bytes() + offset * itemSize(self.dtype);
  return detail::dispatchDType(self.dtype, [&]<typename T>(detail::TypeTag<T>) {
    T value;
    std::memcpy(&value, p, sizeof(T));
    return Scalar(value);
  });
}

Scalar Tensor::item(SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "item", where);
  if (self.numel() != 1)
    fail<ValueError>(where, "item",
                     "use at({...}) to read one element, or toVector() for all",
                     "a tensor with {} elements (shape {}) cannot be "
                     "converted to a single value",
                     self.numel(), formatShape(self.shape));
  return readScalar(self, self.offset);
}

/// The storage offset of the element at `indices`, checking each index.
static std::int64_t elementOffset(const TensorImpl &self,
                                  std::span<const std::int64_t> indices,
                                  std::string_view op, SourceLoc where) {
  if (indices.size() != self.shape.size())
    fail<IndexError>(where, op, "give one index per dimension",
                     "{} indices given for a tensor of rank {} (shape {})",
                     indices.size(), self.shape.size(),
                     formatShape(self.shape));
  std::int64_t offset = self.offset;
  for (std::size_t d = 0; d < indices.size(); ++d) {
    std::int64_t size = self.shape[d], i = indices[d];
    if (i < -size || i >= size)
      fail<IndexError>(where, op,
                       size == 0 ? std::string("the dimension is empty")
                                 : fmt::format("valid indices are {} to {}",
                                               -size, size - 1),
                       "index {} is out of range for dimension {} with size "
                       "{} (shape {})",
                       i, d, size, formatShape(self.shape));
    offset += (i < 0 ? i + size : i) * self.strides[d];
  }
  return offset;
}

Scalar Tensor::at(std::span<const std::int64_t> indices,
                  SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "at", where);
  return readScalar(self, elementOffset(self, indices, "at", where));
}

void Tensor::copyTo(void *out, DType type) const {
  const TensorImpl &self = implOf(*this, "copyTo", {});
  Strides outStrides = contiguousStrides(self.shape);
  detail::copyStrided(static_cast<std::byte *>(out), type, outStrides,
                      self.firstElement(), self.dtype, self.strides,
                      self.shape);
}

void *Tensor::rawData(DType expected, SourceLoc where) const {
  const TensorImpl &self = implOf(*this, "data", where);
  if (self.dtype != expected)
    fail<DTypeError>(where, "data",
                     fmt::format("convert first with to({}), or ask for the "
                                 "tensor's own type",
                                 dtypeName(expected)),
                     "the tensor has dtype {} but the pointer asked for is "
                     "{}",
                     dtypeName(self.dtype), dtypeName(expected));
  if (!isContiguous())
    fail<ValueError>(where, "data",
                     "call contiguous() first (it copies only when needed)",
                     "the tensor of shape {} with strides {} is not "
                     "contiguous, so its elements are not one dense array",
                     formatShape(self.shape), formatShape(self.strides));
  // The caller may write through the pointer.
  return self.mutableFirstElement();
}

//===----------------------------------------------------------------------===//
// Writes
//===----------------------------------------------------------------------===//

/// Rejects writes into views where several elements share one location
/// (an expanded dimension), as PyTorch does: the result would depend on the
/// order of the writes.
void detail::checkWritable(const TensorImpl &self, std::string_view op,
                           SourceLoc where) {
  for (std::size_t d = 0; d < self.shape.size(); ++d)
    if (self.strides[d] == 0 && self.shape[d] > 1)
      fail<ValueError>(where, op, "write into a contiguous() copy instead",
                       "the destination of shape {} has a broadcast "
                       "dimension {} (stride 0), so several of its elements "
                       "share one memory location",
                       formatShape(self.shape), d);
  // As PyTorch: a leaf that requires grad is written (an optimizer's
  // update) with gradient recording off; a write recorded as an op on it
  // would make it a computed value.
  if (isGradEnabled() && !self.detached)
    if (Storage::GradState *g = self.storage->gradStateIfAny(); g && g->leaf)
      fail<ValueError>(where, op,
                       "write it inside a NoGradGuard, or write a clone()",
                       "this tensor of shape {} is (a view of) a leaf that "
                       "requires grad",
                       formatShape(self.shape));
}

Tensor &Tensor::fill_(Scalar value, SourceLoc where) {
  const TensorImpl &self = implOf(*this, "fill_", where);
  detail::checkWritable(self, "fill_", where);
  if (self.numel() == 0)
    return *this;
  if (self.storage->device().kind != DeviceKind::CPU ||
      !detail::writableNow(self)) {
    // On a GPU (the host would write a copy and upload it), pending, or read
    // by something pending: a new version of the storage, written with the
    // next realize (a constant that its readers fuse).
    detail::assignView(self, detail::scalarNode(value, self.dtype, self.shape));
    return *this;
  }
  detail::dispatchDType(self.dtype, [&]<typename T>(detail::TypeTag<T>) {
    T v = value.to<T>();
    auto *base = reinterpret_cast<T *>(self.mutableFirstElement());
    detail::walkRows<1>(self.shape, {&self.strides},
                        [&](const std::array<std::int64_t, 1> &off,
                            std::int64_t n,
                            const std::array<std::int64_t, 1> &step) {
                          for (std::int64_t i = 0; i < n; ++i)
                            base[off[0] + i * step[0]] = v;
                        });
  });
  return *this;
}

Tensor &Tensor::copy_(const Tensor &src, SourceLoc where) {
  const TensorImpl &self = implOf(*this, "copy_", where);
  implOf(src, "copy_", where);
  detail::checkWritable(self, "copy_", where);
  Tensor source = src;
  if (source.shape() != self.shape) {
    if (!detail::broadcastsTo(src.shape(), self.shape))
      fail<ShapeError>(where, "copy_",
                       "the source must broadcast to the destination's shape",
                       "cannot copy a tensor of shape {} into one of shape {}",
                       formatShape(src.shape()), formatShape(self.shape));
    source = src.expand(self.shape, where);
  }
  if (self.numel() == 0)
    return *this;
  const TensorImpl &from = *source.impl();
  if (!detail::writableNow(self) || from.storage->isPending()) {
    // A new version of the destination's storage, recorded: the copy fuses
    // with whatever computes the source, and whatever reads the old
    // contents keeps reading them (overlap included).
    detail::assignView(self,
                       detail::castNode(detail::nodeOf(from), self.dtype));
    return *this;
  }
  // Overlapping source and destination: read everything before writing.
  if (source.sharesStorageWith(*this))
    source = source.clone();
  detail::copyElements(self, *source.impl());
  return *this;
}

void Tensor::setAt(std::initializer_list<std::int64_t> indices, Scalar value,
                   SourceLoc where) {
  const TensorImpl &self = implOf(*this, "setAt", where);
  detail::checkWritable(self, "setAt", where);
  std::int64_t offset = elementOffset(
      self, std::span<const std::int64_t>(indices.begin(), indices.size()),
      "setAt", where);
  std::byte *p =
      self.storage->mutableBytes() + offset * trueno::itemSize(self.dtype);
  detail::dispatchDType(self.dtype, [&]<typename T>(detail::TypeTag<T>) {
    T v = value.to<T>();
    std::memcpy(p, &v, sizeof(T));
  });
}

std::ostream &operator<<(std::ostream &os, const Tensor &t) {
  return os << t.toString();
}

} // namespace trueno
