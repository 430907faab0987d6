//===- Backend.h - The seam between the runtime and a device ----*- C++ -*-===//
//
// Everything Trueno needs from a device, in the spirit of IREE's HAL but
// small: memory (`Buffer`, and `BufferRef`, a buffer and a byte offset),
// what code is compiled for (`CompileTarget`: the parts of its key and its
// capabilities), a compiled graph (`Executable`), and a `Backend` that
// allocates, moves bytes, compiles and runs. The frontend and the program
// cache talk to this interface only; the host CPU is the first backend
// (runtime/cpu/), the Vulkan one comes next beside it.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_BACKEND_H
#define TRUENO_RUNTIME_BACKEND_H

#include "trueno/Device.h"
#include "trueno/Runtime/Graph.h"
#include "trueno/Runtime/KernelCache.h"

#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace trueno::runtime {

/// One allocation of device memory. Shared: a storage, the pending reads of
/// one version of it and a running program may all hold it.
class Buffer {
public:
  Buffer(Device device, std::size_t size) : device_(device), size_(size) {}
  virtual ~Buffer() = default;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;

  Device device() const { return device_; }
  std::size_t size() const { return size_; }
  /// The first byte, when the device's memory is the host's (the CPU);
  /// nullptr for memory the host cannot address.
  virtual std::byte *hostAddress() = 0;

private:
  Device device_;
  std::size_t size_;
};

/// A place in device memory: what a storage holds, what a kernel argument
/// and a transfer name.
struct BufferRef {
  std::shared_ptr<Buffer> buffer;
  std::size_t offset = 0; ///< in bytes

  explicit operator bool() const { return buffer != nullptr; }
  BufferRef at(std::size_t bytes) const { return {buffer, offset + bytes}; }
};

/// The host address of `ref`'s bytes: the one function through which host
/// code reads or writes a buffer. Memory the host cannot address (a GPU's)
/// is an error here until its backend provides the download.
llvm::Expected<std::byte *> hostBytes(const BufferRef &ref);

/// What a backend's code is generated for: the parts of its identity that
/// enter every cache key, and the capabilities that shape the generated
/// code (the scalar recipes and the fusion and tiling thresholds are
/// derived from them, and so enter the key through the pipelines too).
struct CompileTarget {
  Device device;
  /// The code generator's names: LLVM's triple, CPU and feature string on
  /// the CPU; the device and driver on a GPU.
  std::string triple, cpu, features;
  bool float64 = true;  ///< float64 arithmetic (and libm) in kernels
  bool int64 = true;    ///< 64-bit integer arithmetic in kernels
  int vectorBits = 128; ///< the widest vector register
  int subgroupSize = 1; ///< lanes that run in lockstep (GPUs); 1 on a CPU
  std::int64_t l1Bytes = 32 << 10; ///< per core
  std::int64_t l2Bytes = 1 << 20;  ///< per core
  /// Buffers one kernel may bind (a GPU's storage-buffer bindings per
  /// shader, less room for codegen's scratch buffers); 0: no limit.
  std::int64_t maxKernelBuffers = 0;
  /// A widening of float16 or bfloat16 that only a matrix product reads
  /// joins the product's kernel (trueno-form-kernels' widen-into-products):
  /// the Vulkan code generator may read the halves there.
  bool widenIntoProducts = false;

  /// Every field, as text: part of each cache key.
  std::string key() const;
  /// A reduction whose rows are at most this many bytes joins the kernel
  /// that reads it back broadcast (row fusion): a quarter of L2, so that
  /// a block of rows survives between the kernel's sweeps.
  std::int64_t rowFusionBytes() const { return l2Bytes / 4; }
  /// The graph pipeline (passes/) with this target's thresholds.
  std::string graphPipeline() const;
};

/// A graph compiled for one backend.
class Executable {
public:
  virtual ~Executable() = default;
  virtual int kernelCount() const = 0;
  /// Milliseconds from the graph to runnable code (compiling or loading).
  double compileMs() const { return compileMs_; }
  /// Whether the code came from the disk kernel cache.
  bool fromDisk() const { return fromDisk_; }
  /// The bytes of machine code it holds (what the program cache's byte
  /// limit counts).
  std::uint64_t codeBytes() const { return codeBytes_; }

protected:
  double compileMs_ = 0;
  bool fromDisk_ = false;
  std::uint64_t codeBytes_ = 0;
};

/// One device: its memory, its transfers, its compiler and its queue.
class Backend {
public:
  virtual ~Backend() = default;

  virtual Device device() const = 0;
  virtual const CompileTarget &target() const = 0;

  /// `bytes` bytes of device memory, 64-byte aligned; an error when the
  /// device has no memory left.
  virtual llvm::Expected<std::shared_ptr<Buffer>>
  allocate(std::size_t bytes) = 0;
  /// Host memory to device memory and back. An upload may return before
  /// the copy has run, but `from` may be reused at once, and every program,
  /// transfer and download issued later sees the bytes. A download returns
  /// with the bytes, after every earlier program and upload.
  virtual llvm::Error upload(const BufferRef &to, const void *from,
                             std::size_t bytes) = 0;
  virtual llvm::Error download(void *to, const BufferRef &from,
                               std::size_t bytes) = 0;
  /// Gives the memory kept for reuse (freed buffers a caching allocator
  /// holds) back to the system; buffers in use are untouched.
  virtual void releaseCachedMemory() = 0;
  /// The bytes releaseCachedMemory() would give back.
  virtual std::uint64_t cachedMemoryBytes() const = 0;
  /// Bytes of device memory in use by buffers now, and the most at once
  /// since the last resetPeakMemory().
  virtual std::uint64_t liveMemoryBytes() const = 0;
  virtual std::uint64_t peakMemoryBytes() const = 0;
  virtual void resetPeakMemory() = 0;

  /// `graph` compiled for this device (or its code loaded from the disk
  /// kernel cache). `debug` prints the fused kernels and the cache key
  /// (TRUENO_DEBUG=2).
  virtual llvm::Expected<std::unique_ptr<Executable>>
  compile(const Graph &graph, bool debug) = 0;
  /// Runs `executable` on the graph's inputs (in input node order, each
  /// at its view's first element) and outputs (one contiguous buffer per
  /// graph output). A synchronous device (the CPU) has finished when it
  /// returns; others may return once it is submitted.
  virtual llvm::Error run(const Executable &executable,
                          std::span<const BufferRef> inputs,
                          std::span<const BufferRef> outputs) = 0;
  /// Returns when everything submitted so far has finished.
  virtual llvm::Error wait() = 0;

  /// The disk kernel cache key parts of kernels `ir` (canonical trueno IR
  /// text) compiled for this device: its target, the versions, and every
  /// pipeline and option that shapes the code.
  virtual CacheKeyParts keyParts(std::string ir) const = 0;
};

/// The backend of `device`; an error for a device this build has no
/// backend for.
llvm::Expected<Backend &> backendFor(Device device);

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_BACKEND_H
