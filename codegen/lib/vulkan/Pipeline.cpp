//===- Pipeline.cpp - The compile stages for Vulkan (SPIR-V) --------------===//
//
// The first three stages are the CPU pipeline's without its CPU passes
// (tiling for caches, BLAS calls): the same lowering to linalg, the same
// scalar recipes (float64 only where the device has it), the same fusion
// and kernel calling convention. Then MLIR's route to SPIR-V: loop nests to
// scf.parallel, tiled so that one tile is one workgroup, mapped to blocks
// and threads, outlined as gpu.func kernels, and converted with the device's
// capabilities as the target environment.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Pipeline.h"
#include "trueno/Codegen/Cpu/Pipeline.h"
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVDialect.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"
#include "mlir/Dialect/SPIRV/Transforms/Passes.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/SPIRV/Serialization.h"
#include "mlir/Transforms/Passes.h"

#include <mutex>

namespace mlir::trueno {

namespace {
constexpr VulkanStage kVulkanStages[] = {
    VulkanStage::Linalg, VulkanStage::Fused, VulkanStage::Bufferized,
    VulkanStage::Gpu, VulkanStage::Spirv};

const char *flag(bool b) { return b ? "true" : "false"; }
} // namespace

llvm::StringRef vulkanStageName(VulkanStage stage) {
  switch (stage) {
  case VulkanStage::Linalg:
    return "linalg";
  case VulkanStage::Fused:
    return "fused";
  case VulkanStage::Bufferized:
    return "bufferized";
  case VulkanStage::Gpu:
    return "gpu";
  case VulkanStage::Spirv:
    return "spirv";
  }
  return "unknown";
}

std::optional<VulkanStage> parseVulkanStage(llvm::StringRef name) {
  for (VulkanStage s : kVulkanStages)
    if (vulkanStageName(s) == name)
      return s;
  return std::nullopt;
}

std::string vulkanStagePipeline(VulkanStage stage,
                                const VulkanPipelineOptions &options) {
  switch (stage) {
  case VulkanStage::Linalg: {
    // The same lowering and scalar recipes as the CPU's.
    CpuPipelineOptions cpu;
    cpu.float64 = options.float64;
    return stagePipeline(Stage::Linalg, cpu);
  }
  case VulkanStage::Fused:
    return "linalg-fuse-elementwise-ops,canonicalize,cse";
  case VulkanStage::Bufferized:
    return "trueno-kernel-abi,eliminate-empty-tensors,"
           "one-shot-bufferize{bufferize-function-boundaries "
           "function-boundary-type-conversion=identity-layout-map},"
           "canonicalize,buffer-deallocation-pipeline,"
           "trueno-write-outputs-in-place";
  case VulkanStage::Gpu:
    // Tiles of a fixed size with a bounds check inside (no-min-max-bounds):
    // a workgroup's size must be a constant. The outlined kernels get the
    // launch's constants, not arguments (canonicalize, then sinking).
    // float32 math as the CPU's polynomials first: the same results as
    // there, not the driver's (GLSL.std.450's exp, for one, may be 3 ulp
    // off plus 2 per unit of the argument's magnitude).
    return "func.func(trueno-math-polynomial,convert-linalg-to-parallel-loops,"
           "scf-parallel-loop-tiling{parallel-loop-tile-sizes=" +
           std::to_string(options.workgroupSize) +
           " no-min-max-bounds=true},gpu-map-parallel-loops,"
           "convert-parallel-loops-to-gpu,canonicalize),"
           "gpu-launch-sink-index-computations,gpu-kernel-outlining,"
           "lower-affine,canonicalize,cse";
  case VulkanStage::Spirv:
    return std::string("trueno-spirv-entry-points{float64=") +
           flag(options.float64) + " int64=" + flag(options.int64) +
           " int16=" + flag(options.int16) +
           " float16=" + flag(options.float16) + " int8=" + flag(options.int8) +
           " storage16=" + flag(options.storage16) +
           " storage8=" + flag(options.storage8) +
           " max-workgroup-count=" + std::to_string(options.maxWorkgroupCount) +
           "},convert-math-to-spirv,convert-gpu-to-spirv{use-64bit-index=false}"
           ","
           "spirv.module(spirv-lower-abi-attrs,spirv-update-vce)";
  }
  return "";
}

void registerVulkanCodegen(DialectRegistry &registry) {
  // The first stages are the CPU pipeline's: its dialects and models.
  registerCpuCodegen(registry);
  registry.insert<gpu::GPUDialect, spirv::SPIRVDialect>();
}

namespace {
struct VulkanPipelineCliOptions
    : public PassPipelineOptions<VulkanPipelineCliOptions> {
  Option<std::string> stopAfter{
      *this, "stop-after",
      llvm::cl::desc("Last stage to run: linalg, fused, bufferized, gpu or "
                     "spirv"),
      llvm::cl::init("spirv")};
  Option<bool> float64{*this, "float64", llvm::cl::init(false)};
  Option<bool> int64{*this, "int64", llvm::cl::init(false)};
  Option<std::int64_t> workgroupSize{*this, "workgroup-size",
                                     llvm::cl::init(64)};
  Option<std::int64_t> maxWorkgroupCount{*this, "max-workgroup-count",
                                         llvm::cl::init(65535)};
};
} // namespace

void registerVulkanPipeline() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerCpuPipeline(); // the shared stages' passes
    registerGPUPasses();
    spirv::registerSPIRVPasses();
    registerTruenoVulkanCodegenPasses();
    PassPipelineRegistration<VulkanPipelineCliOptions>(
        "trueno-vulkan-pipeline",
        "Lower trueno IR to SPIR-V for Vulkan, up to a stage",
        [](OpPassManager &pm, const VulkanPipelineCliOptions &cli) {
          VulkanPipelineOptions options;
          options.float64 = cli.float64;
          options.int64 = cli.int64;
          options.workgroupSize = cli.workgroupSize;
          options.maxWorkgroupCount = cli.maxWorkgroupCount;
          std::optional<VulkanStage> last = parseVulkanStage(cli.stopAfter);
          for (VulkanStage s : kVulkanStages) {
            if (last && s > *last)
              break;
            if (failed(parsePassPipeline(vulkanStagePipeline(s, options), pm)))
              llvm::report_fatal_error("invalid built-in pipeline");
          }
        });
  });
}

LogicalResult lowerForVulkan(ModuleOp module,
                             const VulkanPipelineOptions &options,
                             VulkanStage last) {
  registerVulkanPipeline();
  for (VulkanStage s : kVulkanStages) {
    if (s > last)
      break;
    PassManager pm(module.getContext());
    if (failed(parsePassPipeline(vulkanStagePipeline(s, options), pm)) ||
        failed(pm.run(module)))
      return failure();
  }
  return success();
}

FailureOr<std::vector<SpirvKernel>> serializeKernels(ModuleOp module) {
  // The launches, in order: each names its kernel and its (constant,
  // trueno-spirv-entry-points checked) workgroup counts.
  llvm::StringMap<std::array<std::int64_t, 3>> counts;
  SmallVector<std::string> order;
  module.walk([&](gpu::LaunchFuncOp launch) {
    gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
    std::array<std::int64_t, 3> count{1, 1, 1};
    Value sizes[] = {grid.x, grid.y, grid.z};
    for (auto [d, size] : llvm::enumerate(sizes))
      if (std::optional<int64_t> c = getConstantIntValue(size))
        count[d] = *c;
    std::string name = launch.getKernelName().str();
    counts[name] = count;
    order.push_back(name);
  });
  std::vector<SpirvKernel> kernels;
  WalkResult result = module.walk([&](spirv::ModuleOp spirvModule) {
    SpirvKernel kernel;
    for (auto entry : spirvModule.getOps<spirv::EntryPointOp>())
      kernel.entryPoint = entry.getFn().str();
    for (auto mode : spirvModule.getOps<spirv::ExecutionModeOp>())
      if (mode.getExecutionMode() == spirv::ExecutionMode::LocalSize)
        for (auto [i, v] : llvm::enumerate(mode.getValues()))
          if (i < 3)
            kernel.workgroupSize[i] = cast<IntegerAttr>(v).getInt();
    for (auto global : spirvModule.getOps<spirv::GlobalVariableOp>())
      if (global.getBinding())
        ++kernel.bindings;
    SmallVector<std::uint32_t> words;
    if (kernel.entryPoint.empty() ||
        failed(spirv::serialize(spirvModule, words))) {
      spirvModule.emitOpError("cannot be serialized");
      return WalkResult::interrupt();
    }
    kernel.words.assign(words.begin(), words.end());
    if (auto found = counts.find(kernel.entryPoint); found != counts.end())
      kernel.workgroupCount = found->second;
    kernels.push_back(std::move(kernel));
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();
  llvm::stable_sort(kernels, [&](const SpirvKernel &a, const SpirvKernel &b) {
    return llvm::find(order, a.entryPoint) < llvm::find(order, b.entryPoint);
  });
  return kernels;
}

} // namespace mlir::trueno
