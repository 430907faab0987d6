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
#include "trueno/IR/TruenoDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/OptUtils.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <chrono>
#include <mutex>

namespace trueno::runtime {

/// TRUENO_DEBUG: 3 prints the IR after each compile stage, 4 also the
/// optimized LLVM IR's machine code. (Levels 1 and 2 describe realizes and
/// fused groups, which come with the frontend's lazy graph.)
static int debugLevel() {
  const char *level = std::getenv("TRUENO_DEBUG");
  return level ? std::atoi(level) : 0;
}

/// Prints the assembly `machine` generates for (a copy of) `module`.
static llvm::Error printAssembly(const llvm::Module &module,
                                 llvm::TargetMachine &machine) {
  std::unique_ptr<llvm::Module> copy = llvm::CloneModule(module);
  llvm::SmallString<0> text;
  llvm::raw_svector_ostream os(text);
  llvm::legacy::PassManager pm;
  if (machine.addPassesToEmitFile(pm, os, nullptr,
                                  llvm::CodeGenFileType::AssemblyFile))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the target cannot emit assembly");
  pm.run(*copy);
  llvm::errs() << "// ---- trueno: assembly ----\n" << text << "\n";
  return llvm::Error::success();
}

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
    auto *context = new mlir::MLIRContext(registry);
    // Program builds graphs in these directly; passes load the rest.
    context
        ->loadDialect<mlir::func::FuncDialect, mlir::trueno::TruenoDialect>();
    return context;
  }();
  return *context;
}

llvm::Expected<std::unique_ptr<mlir::ExecutionEngine>>
jitForCpu(mlir::ModuleOp module) {
  initializeNativeTarget();
  int debug = debugLevel();
  auto printIR = [](llvm::StringRef title, mlir::ModuleOp m) {
    llvm::errs() << "// ---- trueno: " << title << " ----\n";
    m.print(llvm::errs());
    llvm::errs() << "\n";
  };
  std::function<void(mlir::trueno::Stage, mlir::ModuleOp)> afterStage;
  if (debug >= 3) {
    printIR("input IR", module);
    afterStage = [&](mlir::trueno::Stage stage, mlir::ModuleOp m) {
      printIR(("IR after stage " + mlir::trueno::stageName(stage)).str(), m);
    };
  }
  if (mlir::failed(mlir::trueno::lowerForCpu(module, mlir::trueno::kLastStage,
                                             afterStage)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "lowering for the CPU failed");
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto machine = builder->createTargetMachine();
  if (!machine)
    return machine.takeError();

  // ExecutionEngineOptions::transformer is a function_ref: the transformer
  // itself must outlive create(), or O3 silently never runs.
  std::function<llvm::Error(llvm::Module *)> optimizeO3 =
      mlir::makeOptimizingTransformer(/*optLevel=*/3, /*sizeLevel=*/0,
                                      machine->get());
  llvm::TargetMachine &target = **machine;
  std::function<llvm::Error(llvm::Module *)> optimize =
      [&](llvm::Module *m) -> llvm::Error {
    if (llvm::Error error = optimizeO3(m))
      return error;
    return debug >= 4 ? printAssembly(*m, target) : llvm::Error::success();
  };
  mlir::ExecutionEngineOptions options;
  options.transformer = optimize;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  // Kernels are not debugged or profiled as JIT code; registering each
  // object with gdb and perf costs compile time.
  options.enableGDBNotificationListener = false;
  options.enablePerfNotificationListener = false;
  // Parallel loops run on LLVM's OpenMP runtime (one thread per core).
  llvm::StringRef openmp = TRUENO_OPENMP_LIBRARY;
  options.sharedLibPaths = llvm::ArrayRef<llvm::StringRef>(openmp);
  return mlir::ExecutionEngine::create(module, options);
}

llvm::Expected<std::unique_ptr<CpuKernel>>
CpuKernel::compile(mlir::ModuleOp module, llvm::StringRef name) {
  auto start = std::chrono::steady_clock::now();
  if (!module.lookupSymbol<mlir::func::FuncOp>(name))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "no function @%s in the module",
                                   name.str().c_str());
  auto engine = jitForCpu(module);
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
