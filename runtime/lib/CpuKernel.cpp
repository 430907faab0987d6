//===- CpuKernel.cpp - Lower, JIT and call a kernel -----------------------===//
//
// Uses MLIR's ExecutionEngine with LLVM's O3 pipeline and the host's
// TargetMachine: without the host machine the loop vectorizer does not know
// the vector width and leaves the loops scalar (TOOLCHAIN.md). The entry
// point is the `_mlir_ciface_` wrapper, which takes one pointer to a memref
// descriptor {allocated, aligned, offset, sizes[], strides[]} per argument.
//
//===----------------------------------------------------------------------===//
#include "trueno/Runtime/CpuKernel.h"
#include "trueno/Codegen/Pipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/OptUtils.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/TargetSelect.h"

#include <chrono>
#include <mutex>

namespace trueno::runtime {

static void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

mlir::MLIRContext &compilerContext() {
  static mlir::MLIRContext *context = [] {
    mlir::DialectRegistry registry;
    mlir::trueno::registerCpuCodegen(registry);
    return new mlir::MLIRContext(registry);
  }();
  return *context;
}

llvm::Expected<std::unique_ptr<CpuKernel>>
CpuKernel::compile(mlir::ModuleOp module, llvm::StringRef name) {
  auto start = std::chrono::steady_clock::now();
  initializeNativeTarget();
  if (!module.lookupSymbol<mlir::func::FuncOp>(name))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "no function @%s in the module",
                                   name.str().c_str());
  if (mlir::failed(mlir::trueno::lowerForCpu(module)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "lowering @%s for the CPU failed",
                                   name.str().c_str());
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto machine = builder->createTargetMachine();
  if (!machine)
    return machine.takeError();

  // ExecutionEngineOptions::transformer is a function_ref: the transformer
  // itself must outlive create(), or O3 silently never runs.
  std::function<llvm::Error(llvm::Module *)> optimize =
      mlir::makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0,
                                      machine->get());
  mlir::ExecutionEngineOptions options;
  options.transformer = optimize;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // Parallel loops run on LLVM's OpenMP runtime (one thread per core).
  llvm::StringRef openmp = TRUENO_OPENMP_LIBRARY;
  options.sharedLibPaths = llvm::ArrayRef<llvm::StringRef>(openmp);
  auto engine = mlir::ExecutionEngine::create(module, options);
  if (!engine)
    return engine.takeError();

  std::unique_ptr<CpuKernel> kernel(new CpuKernel());
  kernel->engine_ = std::move(*engine);
  kernel->entry_ = ("_mlir_ciface_" + name).str();
  kernel->compileMs_ = std::chrono::duration<double, std::milli>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  return kernel;
}

llvm::Error CpuKernel::run(llvm::ArrayRef<KernelBuffer> buffers) const {
  // One descriptor per buffer, laid out as the C interface expects.
  std::vector<std::vector<std::int64_t>> descriptors;
  descriptors.reserve(buffers.size());
  for (const KernelBuffer &b : buffers) {
    std::vector<std::int64_t> d = {reinterpret_cast<std::int64_t>(b.data),
                                   reinterpret_cast<std::int64_t>(b.data), 0};
    d.insert(d.end(), b.shape.begin(), b.shape.end());
    d.insert(d.end(), b.strides.begin(), b.strides.end());
    descriptors.push_back(std::move(d));
  }
  std::vector<void *> pointers(buffers.size());
  std::vector<void *> packed(buffers.size());
  for (std::size_t i = 0; i < buffers.size(); ++i) {
    pointers[i] = descriptors[i].data();
    packed[i] = &pointers[i];
  }
  return engine_->invokePacked(entry_, packed);
}

} // namespace trueno::runtime
