//===- CpuKernel.h - JIT-compiled kernels for the host CPU ------*- C++ -*-===//
//
// A `CpuKernel` is one trueno function compiled through the CPU pipeline
// (codegen/Pipeline.h) into native code for this machine. It is called with
// one buffer per input and then one per result, in order.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_CPUKERNEL_H
#define TRUENO_RUNTIME_CPUKERNEL_H

#include "trueno/Codegen/Cpu/Pipeline.h"
#include "trueno/Runtime/Backend.h"
#include "trueno/Runtime/Counters.h"
#include "trueno/Runtime/Cpu/CpuTarget.h"

#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llvm::orc {
class JITDylib;
}

namespace trueno::runtime {

/// A buffer handed to a kernel: the first element, and the sizes and strides
/// (in elements) that the kernel's memref type expects.
struct KernelBuffer {
  void *data;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;
};

/// The int64 words of a memref descriptor of `rank` dimensions:
/// {allocated, aligned, offset, sizes[rank], strides[rank]}.
constexpr std::size_t descriptorWords(std::size_t rank) { return 3 + 2 * rank; }
/// Fills the descriptor at `d` for a buffer whose first element is `data`.
void writeDescriptor(std::int64_t *d, void *data,
                     llvm::ArrayRef<std::int64_t> shape,
                     llvm::ArrayRef<std::int64_t> strides);
/// Calls a packed kernel entry with one descriptor per argument.
void callPacked(void (*entry)(void **),
                llvm::ArrayRef<std::int64_t *> descriptors);

/// The CPU that kernels are compiled for, from TRUENO_CPU: `native` (the
/// default: the host's CPU and features), `x86-64` (SSE2), `x86-64-v2`,
/// `x86-64-v3` (AVX2, FMA), `x86-64-v4` (AVX-512), or any CPU name LLVM
/// knows (`haswell`, `skylake-avx512`...). An error if that CPU has a
/// feature the host lacks (its code would not run here). Read once.
llvm::Expected<CompileTarget> cpuCompileTarget();
/// The CPU pipeline's options for `target`.
mlir::trueno::CpuPipelineOptions
cpuPipelineOptions(const CompileTarget &target);

/// The machine code of one module, loaded into the process-wide JIT; it is
/// unloaded when this is destroyed.
class JitModule {
public:
  ~JitModule();
  JitModule(const JitModule &) = delete;
  JitModule &operator=(const JitModule &) = delete;

  /// The entry of function `name`: called with `args[i]` pointing at the
  /// i-th argument's memref descriptor pointer (inputs, then outputs).
  llvm::Expected<void (*)(void **)> lookupPacked(llvm::StringRef name) const;
  /// The relocatable object code that was loaded.
  llvm::StringRef object() const { return object_; }

private:
  friend llvm::Expected<std::unique_ptr<JitModule>> loadObject(std::string);
  JitModule() = default;
  std::string object_;
  llvm::orc::JITDylib *dylib_ = nullptr;
};

/// Lowers every function of `module` (trueno dialect; it is modified)
/// through the CPU pipeline, optimizes at O3 for the target CPU (vectorized
/// for its features) and returns the relocatable object code.
llvm::Expected<std::string>
compileObject(mlir::ModuleOp module,
              const mlir::trueno::CpuPipelineOptions &options = {});
/// Loads object code from compileObject (now or in an earlier process) into
/// the JIT, without compiling anything.
llvm::Expected<std::unique_ptr<JitModule>> loadObject(std::string object);
/// compileObject, then loadObject.
llvm::Expected<std::unique_ptr<JitModule>> jitForCpu(mlir::ModuleOp module);

class CpuKernel {
public:
  /// Lowers `module` (in the trueno dialect; it is modified) and JIT-compiles
  /// its function `name` for the host CPU, vectorized for its features.
  static llvm::Expected<std::unique_ptr<CpuKernel>>
  compile(mlir::ModuleOp module, llvm::StringRef name);

  /// Runs the kernel; `buffers` holds the inputs, then the outputs.
  llvm::Error run(llvm::ArrayRef<KernelBuffer> buffers) const;

  /// Milliseconds spent in MLIR passes and in LLVM (optimization + codegen).
  double compileMs() const { return compileMs_; }

private:
  CpuKernel() = default;
  std::unique_ptr<JitModule> code_;
  void (*entry_)(void **) = nullptr;
  double compileMs_ = 0;
};

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_CPUKERNEL_H
