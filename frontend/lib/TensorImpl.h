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

#include <cstddef>
#include <memory>

namespace trueno {

class Storage {
public:
  /// Fresh, uninitialized, 64-byte aligned storage of `nbytes` bytes.
  static std::shared_ptr<Storage> allocate(std::int64_t nbytes, Device device);
  ~Storage();
  Storage(const Storage &) = delete;
  Storage &operator=(const Storage &) = delete;

  std::byte *bytes() { return bytes_; }
  std::int64_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

private:
  Storage(std::byte *bytes, std::int64_t nbytes, Device device)
      : bytes_(bytes), nbytes_(nbytes), device_(device) {}
  std::byte *bytes_;
  std::int64_t nbytes_;
  Device device_;
};

class TensorImpl {
public:
  TensorImpl(DType dtype, Shape shape, Strides strides, std::int64_t offset,
             std::shared_ptr<Storage> storage)
      : dtype(dtype), shape(std::move(shape)), strides(std::move(strides)),
        offset(offset), storage(std::move(storage)) {}

  DType dtype;
  Shape shape;
  Strides strides;
  std::int64_t offset;
  std::shared_ptr<Storage> storage;

  std::int64_t numel() const { return numelOf(shape); }
  /// Address of element (0, ..., 0).
  std::byte *firstElement() const {
    return storage->bytes() + offset * itemSize(dtype);
  }
};

namespace detail {
/// The impl of a defined tensor; ValueError naming `op` for an undefined one.
TensorImpl &implOf(const Tensor &t, std::string_view op, SourceLoc where);
/// A new contiguous tensor with fresh storage.
Tensor makeContiguous(DType dtype, Shape shape, Device device);
/// A new view of `base`'s storage.
Tensor makeView(const TensorImpl &base, Shape shape, Strides strides,
                std::int64_t offset);
/// Copies `src` into `dst` element by element, converting dtypes. Shapes
/// must be equal (broadcast first); the two may not overlap in memory.
void copyElements(const TensorImpl &dst, const TensorImpl &src);
} // namespace detail

} // namespace trueno

#endif // TRUENO_FRONTEND_TENSORIMPL_H
