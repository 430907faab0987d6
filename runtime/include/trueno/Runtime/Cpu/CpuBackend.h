//===- CpuBackend.h - The host CPU behind the backend seam ------*- C++ -*-===//
//
// Memory from the caching host allocator (the host addresses it directly),
// transfers as memcpy, graphs compiled by the CPU pipeline (codegen/lib/cpu)
// and LLVM for the CPU that TRUENO_CPU names (CpuKernel.h), with their
// object code in the disk kernel cache, and run on the calling thread (and
// OpenMP's workers) with one memref descriptor per kernel argument.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_CPU_CPUBACKEND_H
#define TRUENO_RUNTIME_CPU_CPUBACKEND_H

#include "trueno/Runtime/Backend.h"
#include "trueno/Runtime/KernelCache.h"

namespace trueno::runtime {

class CpuBackend final : public Backend {
public:
  explicit CpuBackend(CompileTarget target) : target_(std::move(target)) {}

  Device device() const override { return Device::cpu(); }
  const CompileTarget &target() const override { return target_; }

  llvm::Expected<std::shared_ptr<Buffer>> allocate(std::size_t bytes) override;
  llvm::Error upload(const BufferRef &to, const void *from,
                     std::size_t bytes) override;
  llvm::Error download(void *to, const BufferRef &from,
                       std::size_t bytes) override;
  llvm::Expected<std::unique_ptr<Executable>> compile(const Graph &graph,
                                                      bool debug) override;
  llvm::Error run(const Executable &executable,
                  std::span<const BufferRef> inputs,
                  std::span<const BufferRef> outputs) override;
  /// Everything ran when run() returned.
  llvm::Error wait() override { return llvm::Error::success(); }
  void releaseCachedMemory() override;
  std::uint64_t cachedMemoryBytes() const override;
  std::uint64_t liveMemoryBytes() const override;
  std::uint64_t peakMemoryBytes() const override;
  void resetPeakMemory() override;

  CacheKeyParts keyParts(std::string ir) const override;

private:
  CompileTarget target_;
};

/// Whether CPU programs run with subnormal floats flushed to zero: x86's
/// MXCSR flags FTZ (subnormal results become zero) and DAZ (subnormal
/// inputs read as zero), set on the calling thread for a run, which
/// OpenMP's workers copy at each parallel region (libomp's default,
/// KMP_INHERIT_FP_CONTROL). Off unless TRUENO_FLUSH_DENORMAL=1 or
/// setFlushDenormals(true).
bool flushDenormals();
/// Sets it; false, changing nothing, where the host has no such flags.
bool setFlushDenormals(bool on);

/// The process's CPU backend, for the CPU that TRUENO_CPU names; an error if
/// that CPU has features the host lacks, or the JIT cannot start.
llvm::Expected<CpuBackend &> cpuBackend();

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_CPU_CPUBACKEND_H
