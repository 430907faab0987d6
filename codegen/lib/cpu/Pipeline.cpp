//===- Pipeline.cpp - The CPU compile stages ------------------------------===//
//
// The pass list is what works with MLIR 19 (docs/ARCHITECTURE.md): lower to
// linalg, fuse elementwise generics (canonicalize first, or fusion
// silently does nothing), bufferize into the caller's buffers, lower to
// loops with polynomial float32 math (so LLVM's loop vectorizer sees no
// calls), then to the LLVM dialect. float64 math and what has no polynomial
// become libm calls.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Cpu/Pipeline.h"
#include "trueno/Codegen/Cpu/Passes.h"
#include "trueno/IR/TruenoDialect.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Linalg/Transforms/TilingInterfaceImpl.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

#include <mutex>

namespace mlir::trueno {

namespace {
constexpr Stage kStages[] = {Stage::Linalg, Stage::Fused, Stage::Bufferized,
                             Stage::Loops, Stage::LLVM};
} // namespace

llvm::StringRef stageName(Stage stage) {
  switch (stage) {
  case Stage::Linalg:
    return "linalg";
  case Stage::Fused:
    return "fused";
  case Stage::Bufferized:
    return "bufferized";
  case Stage::Loops:
    return "loops";
  case Stage::LLVM:
    return "llvm";
  }
  return "unknown";
}

std::optional<Stage> parseStage(llvm::StringRef name) {
  for (Stage s : kStages)
    if (stageName(s) == name)
      return s;
  return std::nullopt;
}

std::string stagePipeline(Stage stage, const CpuPipelineOptions &options) {
  auto option = [](std::int64_t v) { return std::to_string(v); };
  switch (stage) {
  case Stage::Linalg:
    return std::string("convert-trueno-to-linalg{float64=") +
           (options.float64 ? "true" : "false") + "},canonicalize";
  case Stage::Fused:
    return "linalg-fuse-elementwise-ops,canonicalize,cse,"
           "trueno-matmul-epilogue-in-place,trueno-split-reductions,"
           "trueno-tile-rows{tile-bytes=" +
           option(options.tileRowsBytes) + "},canonicalize,cse";
  case Stage::Bufferized:
    return "trueno-kernel-abi,eliminate-empty-tensors,"
           "one-shot-bufferize{bufferize-function-boundaries "
           "function-boundary-type-conversion=identity-layout-map},"
           "canonicalize,buffer-deallocation-pipeline,"
           "trueno-write-outputs-in-place,trueno-free-tile-buffers";
  case Stage::Loops:
    return "scf-forall-to-parallel,trueno-copy-to-linalg,trueno-linalg-to-blas,"
           "trueno-tile-transposes{min-bytes=" +
           option(options.transposeMinBytes) +
           "},func.func(convert-linalg-to-parallel-loops),"
           "trueno-math-polynomial{rounding-instructions=" +
           (options.roundingInstructions ? "true" : "false") +
           " fma-instructions=" + (options.fmaInstructions ? "true" : "false") +
           "},convert-math-to-funcs,"
           "trueno-serialize-small-loops,convert-scf-to-openmp,canonicalize,"
           "lower-affine,convert-scf-to-cf,canonicalize";
  case Stage::LLVM:
    return std::string(options.bfloat16Instructions ? ""
                                                    : "trueno-expand-bf16,") +
           "trueno-math-to-libm,expand-strided-metadata,lower-affine,"
           // Kernels' scratch buffers through the runtime's caching
           // allocator (_mlir_memref_to_llvm_alloc and friends, defined
           // by runtime/cpu): reused run after run, not faulted in anew.
           "finalize-memref-to-llvm{use-generic-functions=true},"
           "convert-math-to-llvm,convert-arith-to-llvm,"
           "convert-cf-to-llvm,convert-openmp-to-llvm,convert-func-to-llvm,"
           "reconcile-unrealized-casts";
  }
  return "";
}

void registerCpuCodegen(DialectRegistry &registry) {
  registry.insert<TruenoDialect, affine::AffineDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect, cf::ControlFlowDialect,
                  func::FuncDialect, linalg::LinalgDialect, LLVM::LLVMDialect,
                  math::MathDialect, memref::MemRefDialect, omp::OpenMPDialect,
                  scf::SCFDialect, tensor::TensorDialect, vector::VectorDialect,
                  x86vector::X86VectorDialect>();
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerTilingInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(
      registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerOpenMPDialectTranslation(registry);
}

namespace {
struct PipelineOptions : public PassPipelineOptions<PipelineOptions> {
  Option<std::string> stopAfter{
      *this, "stop-after",
      llvm::cl::desc("Last stage to run: linalg, fused, bufferized, loops "
                     "or llvm"),
      llvm::cl::init("llvm")};
};
} // namespace

void registerCpuPipeline() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerConversionPasses();
    registerTransformsPasses();
    registerLinalgPasses();
    registerSCFPasses();
    bufferization::registerBufferizationPasses();
    bufferization::registerBufferizationPipelines();
    memref::registerMemRefPasses();
    registerTruenoCodegenPasses();
    registerTruenoCpuCodegenPasses();
    PassPipelineRegistration<PipelineOptions>(
        "trueno-cpu-pipeline",
        "Lower trueno IR for the host CPU, up to a stage",
        [](OpPassManager &pm, const PipelineOptions &options) {
          std::optional<Stage> last = parseStage(options.stopAfter);
          for (Stage s : kStages) {
            if (last && s > *last)
              break;
            if (failed(parsePassPipeline(stagePipeline(s), pm)))
              llvm::report_fatal_error("invalid built-in pipeline");
          }
        });
  });
}

LogicalResult
lowerForCpu(ModuleOp module, const CpuPipelineOptions &options, Stage last,
            const std::function<void(Stage, ModuleOp)> &afterStage) {
  registerCpuPipeline();
  for (Stage s : kStages) {
    if (s > last)
      break;
    PassManager pm(module.getContext());
    if (failed(parsePassPipeline(stagePipeline(s, options), pm)) ||
        failed(pm.run(module)))
      return failure();
    if (afterStage)
      afterStage(s, module);
  }
  return success();
}

} // namespace mlir::trueno
