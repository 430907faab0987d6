//===- CpuKernel.h - JIT-compiled kernels for the host CPU ------*- C++ -*-===//
//
// A `CpuKernel` is one trueno function compiled through the CPU pipeline
// (codegen/Pipeline.h) into native code for this machine. It is called with
// one buffer per input and then one per result, in order.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_CPUKERNEL_H
#define TRUENO_RUNTIME_CPUKERNEL_H

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace trueno::runtime {

/// A buffer handed to a kernel: the first element, and the sizes and strides
/// (in elements) that the kernel's memref type expects.
struct KernelBuffer {
  void *data;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;
};

/// The process-wide MLIRContext with every dialect, interface model and
/// translation the CPU pipeline needs. Creating one costs ~10 ms, so kernels
/// share it.
mlir::MLIRContext &compilerContext();

/// Lowers every function of `module` (trueno dialect; it is modified)
/// through the CPU pipeline and JIT-compiles them for the host CPU at O3,
/// vectorized for its features. Each function `f` is then callable through
/// `lookupPacked("_mlir_ciface_f")`.
llvm::Expected<std::unique_ptr<mlir::ExecutionEngine>>
jitForCpu(mlir::ModuleOp module);

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
  std::unique_ptr<mlir::ExecutionEngine> engine_;
  std::string entry_;
  double compileMs_ = 0;
};

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_CPUKERNEL_H
