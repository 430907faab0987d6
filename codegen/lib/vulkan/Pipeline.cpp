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
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVDialect.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"
#include "mlir/Dialect/SPIRV/Transforms/Passes.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
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

/// trueno-spirv-float-controls with the widths the device keeps, or
/// nothing when it keeps none.
std::string floatControls(const VulkanPipelineOptions &options) {
  auto widths = [](llvm::StringRef name, const std::vector<unsigned> &list) {
    std::string text;
    for (unsigned width : list)
      text +=
          (text.empty() ? " " + name.str() + "=" : ",") + std::to_string(width);
    return text;
  };
  std::string text =
      widths("signed-zero-inf-nan-preserve", options.preserveNanInfWidths) +
      widths("denorm-preserve", options.preserveDenormWidths);
  return text.empty() ? "" : "trueno-spirv-float-controls{" + text + "},";
}
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
    // No recipe may lean on float64 math functions: SPIR-V has none
    // (GLSL.std.450's are 16 and 32-bit), even where float64 arithmetic
    // runs.
    cpu.float64 = false;
    return stagePipeline(Stage::Linalg, cpu);
  }
  case VulkanStage::Fused:
    // Elementwise results read by several generics recomputed in each
    // (trueno-fuse-shared-elementwise). Whole-tensor reductions as partial
    // ones, one per thread, each over at most 1024 elements, interleaved so
    // that neighbouring threads read neighbouring elements; the final
    // reduction is split again while it has 4096 elements or more, into
    // parts short enough for 16384 threads (16 elements at least). A
    // reduction with few outputs gets a thread per part of its outer
    // reduction loops (trueno-split-narrow-reductions).
    // (bfloat16 products read their inputs directly where they run on
    // bfloat16 cooperative matrices.)
    return std::string("linalg-fuse-elementwise-ops,func.func(trueno-fuse-"
                       "shared-elementwise,trueno-fold-widening-into-matmuls{"
                       "bfloat16=") +
           flag(options.cooperativeMatrix && options.cooperativeBf16 &&
                options.cooperativeWideLoads) +
           "}),canonicalize,cse,"
           "trueno-split-reductions{min-elements=4096 part-elements=1024 "
           "min-parts=16384 inner-parallel=true},"
           "func.func(trueno-split-narrow-reductions),"
           "canonicalize,cse";
  case VulkanStage::Bufferized:
    return "trueno-kernel-abi,eliminate-empty-tensors,"
           "one-shot-bufferize{bufferize-function-boundaries "
           "function-boundary-type-conversion=identity-layout-map},"
           "canonicalize,buffer-deallocation-pipeline,"
           "trueno-write-outputs-in-place";
  case VulkanStage::Gpu:
    // Rows of reductions reduced by a workgroup each
    // (trueno-workgroup-reductions), float32 convolutions as im2col and a
    // batched product (trueno-convolutions-as-matmuls), matrix products in
    // tiles through workgroup memory (trueno-tile-matmuls); every other loop
    // nest a grid-stride launch (trueno-map-to-workgroups), a thread's
    // reduction loop carrying its sum in a register, not in the output
    // buffer (trueno-register-accumulators) and unrolled so that its
    // loads overlap (trueno-unroll-reduction-loops); the
    // outlined kernels get the launch's constants, not arguments
    // (canonicalize, then sinking). float32 math as the CPU's polynomials
    // first: the same results as there, not the driver's (GLSL.std.450's
    // exp, for one, may be 3 ulp off plus 2 per unit of the argument's
    // magnitude); float32 division and square root through float64 where
    // the device has it, so that they round as IEEE 754 requires
    // (trueno-correctly-rounded-div-sqrt); integers to float16 through
    // float32 (trueno-half-conversions-through-float32).
    return std::string("func.func(trueno-copy-to-linalg,"
                       "trueno-math-polynomial,"
                       "trueno-half-conversions-through-float32,") +
           (options.float64 ? "trueno-correctly-rounded-div-sqrt," : "") +
           "trueno-parallel-loops-outermost,"
           "trueno-workgroup-reductions{workgroup-size=" +
           std::to_string(options.workgroupSize) +
           " max-workgroup-count=" + std::to_string(options.maxWorkgroupCount) +
           " subgroup-size=" + std::to_string(options.subgroupSize) +
           " subgroup-extended-types=" + flag(options.subgroupExtendedTypes) +
           "},trueno-convolutions-as-matmuls{implicit-gemm=" +
           flag(options.implicitGemm) +
           "},"
           "trueno-tile-matmuls{workgroup-size=" +
           std::to_string(options.workgroupSize) +
           " large-tiles=" + flag(options.largeMatmulTiles) +
           " cooperative-matrix=" + flag(options.cooperativeMatrix) +
           " cooperative-step=" + std::to_string(options.cooperativeStep) +
           " cooperative-columns=" +
           std::to_string(options.cooperativeColumns) +
           " cooperative-buffers=" +
           std::to_string(options.cooperativeBuffers) +
           " cooperative-subgroups=" +
           std::to_string(options.cooperativeSubgroups) +
           " cooperative-workgroup-scope=" +
           flag(options.cooperativeWorkgroupScope) +
           " cooperative-workgroup-global=" +
           flag(options.cooperativeWorkgroupGlobal) +
           " cooperative-tensor-loads=" + flag(options.cooperativeTensorLoads) +
           " cooperative-tensor-wide-tiles=" +
           flag(options.cooperativeTensorWideTiles) +
           " cooperative-tensor-wide-bf16=" +
           flag(options.cooperativeTensorWideBf16) +
           " cooperative-direct=" + flag(options.cooperativeDirect) +
           " cooperative-wide-loads=" + flag(options.cooperativeWideLoads) +
           " cooperative-bf16=" + flag(options.cooperativeBf16) +
           " workgroup-memory=" + std::to_string(options.maxWorkgroupMemory) +
           " prefetch=" + flag(options.matmulPrefetch) +
           " implicit-gemm=" + flag(options.implicitGemm) +
           " max-workgroup-count=" + std::to_string(options.maxWorkgroupCount) +
           " tile-group-rows=" + std::to_string(options.tileGroupRows) +
           "},"
           "convert-linalg-to-parallel-loops,canonicalize,"
           "loop-invariant-code-motion,trueno-register-accumulators,"
           "trueno-unroll-reduction-loops{factor=" +
           std::to_string(options.unrollFactor) +
           "},"
           "trueno-map-to-workgroups{workgroup-size=" +
           std::to_string(options.workgroupSize) +
           " max-workgroup-count=" + std::to_string(options.maxWorkgroupCount) +
           "},canonicalize),"
           "gpu-launch-sink-index-computations,gpu-kernel-outlining,"
           "lower-affine,canonicalize,cse";
  case VulkanStage::Spirv:
    return std::string("trueno-flatten-kernel-buffers{float64=") +
           flag(options.float64) + " int64=" + flag(options.int64) +
           "},trueno-expand-bf16,canonicalize,"
           "trueno-spirv-entry-points{float64=" +
           flag(options.float64) + " int64=" + flag(options.int64) +
           " int16=" + flag(options.int16) +
           " float16=" + flag(options.float16) + " int8=" + flag(options.int8) +
           " storage16=" + flag(options.storage16) +
           " storage8=" + flag(options.storage8) +
           " cooperative-matrix=" + flag(options.cooperativeMatrix) +
           " max-workgroup-count=" + std::to_string(options.maxWorkgroupCount) +
           " subgroup-size=" + std::to_string(options.subgroupSize) +
           "},convert-math-to-spirv,convert-gpu-to-spirv{use-64bit-index=false}"
           ",spirv.module(spirv-lower-abi-attrs)," +
           floatControls(options) +
           "spirv.module(spirv-update-vce,"
           "trueno-spirv-entry-point-interface)";
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
  Option<std::int64_t> unrollFactor{*this, "unroll-factor", llvm::cl::init(8)};
  Option<bool> float16{*this, "float16", llvm::cl::init(false)};
  Option<bool> storage16{*this, "storage16", llvm::cl::init(false)};
  Option<bool> cooperativeMatrix{*this, "cooperative-matrix",
                                 llvm::cl::init(false)};
  Option<std::int64_t> subgroupSize{*this, "subgroup-size", llvm::cl::init(0)};
  Option<bool> cooperativeBf16{*this, "cooperative-bf16",
                               llvm::cl::init(false)};
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
          options.unrollFactor = cli.unrollFactor;
          options.float16 = cli.float16;
          options.storage16 = cli.storage16;
          options.cooperativeMatrix = cli.cooperativeMatrix;
          options.subgroupSize = cli.subgroupSize;
          options.cooperativeBf16 = cli.cooperativeBf16;
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

namespace {
/// Per binding of `spirvModule`'s buffers, whether a store, a cooperative
/// matrix store or an atomic may write it: the pointer it writes through,
/// back through access chains to the variable. A pointer traced to
/// anything else counts as writing every binding.
std::vector<std::uint8_t> writtenBindings(spirv::ModuleOp spirvModule,
                                          int bindings) {
  std::vector<std::uint8_t> writes(static_cast<std::size_t>(bindings), 0);
  llvm::StringMap<int> bindingOf;
  for (auto global : spirvModule.getOps<spirv::GlobalVariableOp>())
    if (std::optional<std::uint32_t> b = global.getBinding();
        b && *b < writes.size())
      bindingOf[global.getSymName()] = static_cast<int>(*b);
  auto writesThrough = [&](Value pointer) {
    while (Operation *def = pointer.getDefiningOp()) {
      if (auto chain = dyn_cast<spirv::AccessChainOp>(def)) {
        pointer = chain.getBasePtr();
        continue;
      }
      if (auto address = dyn_cast<spirv::AddressOfOp>(def)) {
        auto found = bindingOf.find(address.getVariable());
        if (found != bindingOf.end())
          writes[static_cast<std::size_t>(found->second)] = 1;
        else if (auto global = SymbolTable::lookupNearestSymbolFrom<
                     spirv::GlobalVariableOp>(address,
                                              address.getVariableAttr());
                 !global || global.getBinding())
          std::fill(writes.begin(), writes.end(), 1);
        return; // workgroup memory, or a binding
      }
      if (isa<spirv::VariableOp>(def))
        return; // the function's own variable
      break;
    }
    std::fill(writes.begin(), writes.end(), 1);
  };
  spirvModule.walk([&](Operation *op) {
    if (auto store = dyn_cast<spirv::StoreOp>(op))
      writesThrough(store.getPtr());
    else if (auto store = dyn_cast<spirv::KHRCooperativeMatrixStoreOp>(op))
      writesThrough(store.getPointer());
    else if (op->getName().getStringRef().contains("Atomic") ||
             isa<spirv::CopyMemoryOp>(op))
      std::fill(writes.begin(), writes.end(), 1);
  });
  return writes;
}

/// The spirv.module's SPIR-V words and interface.
FailureOr<SpirvKernel> serializeKernel(spirv::ModuleOp spirvModule) {
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
  kernel.writes = writtenBindings(spirvModule, kernel.bindings);
  SmallVector<std::uint32_t> words;
  if (kernel.entryPoint.empty() || failed(spirv::serialize(spirvModule, words)))
    return spirvModule.emitOpError("cannot be serialized");
  kernel.words.assign(words.begin(), words.end());
  return kernel;
}

/// The bytes of `global`'s initial value, as the kernels read them (each
/// element in its type's width rounded up to bytes, booleans one byte).
std::optional<std::vector<std::uint8_t>>
constantBytes(memref::GlobalOp global) {
  auto value =
      dyn_cast_or_null<DenseElementsAttr>(global.getInitialValueAttr());
  if (!value)
    return std::nullopt;
  Type element = value.getElementType();
  unsigned bits = element.getIntOrFloatBitWidth();
  unsigned bytes = (bits + 7) / 8;
  std::vector<std::uint8_t> out;
  out.reserve(value.getNumElements() * bytes);
  auto append = [&](const APInt &v) {
    APInt wide = v.zextOrTrunc(bytes * 8);
    for (unsigned b = 0; b < bytes; ++b)
      out.push_back(
          static_cast<std::uint8_t>(wide.extractBitsAsZExtValue(8, 8 * b)));
  };
  if (isa<FloatType>(element)) {
    for (APFloat v : value.getValues<APFloat>())
      append(v.bitcastToAPInt());
  } else {
    for (APInt v : value.getValues<APInt>())
      append(v);
  }
  return out;
}

/// The buffer `value` views: through view ops and the casts
/// trueno-flatten-kernel-buffers adds, back to what owns the memory.
Value viewedBuffer(Value value) {
  for (;;) {
    if (auto view = value.getDefiningOp<ViewLikeOpInterface>())
      value = view.getViewSource();
    else if (auto cast = value.getDefiningOp<UnrealizedConversionCastOp>())
      value = cast.getOperand(0);
    else
      return value;
  }
}

/// The number of bytes of a scratch buffer of `type`.
std::optional<std::int64_t> bytesOf(MemRefType type) {
  if (!type.hasStaticShape() || !type.getLayout().isIdentity())
    return std::nullopt;
  unsigned bits = type.getElementTypeBitWidth();
  return type.getNumElements() * static_cast<std::int64_t>((bits + 7) / 8);
}
} // namespace

namespace {
// SPIR-V's binary form: a 5-word header (the id bound in word 3), then
// instructions, each (word count << 16 | opcode) and its operands.
constexpr std::uint32_t kSpirvMagic = 0x07230203;
enum : std::uint32_t {
  OpExtension = 10,
  OpCapability = 17,
  OpTypeFloat = 22,
  OpConstant = 43,
  OpTypeInt = 21,
  OpTypeVector = 23,
  OpTypePointer = 32,
  OpUndef = 1,
  OpMemoryModel = 14,
  OpFunction = 54,
  OpFunctionParameter = 55,
  OpFunctionCall = 57,
  OpVariable = 59,
  OpLoad = 61,
  OpStore = 62,
  OpCopyMemory = 63,
  OpCopyMemorySized = 64,
  OpAccessChain = 65,
  OpInBoundsAccessChain = 66,
  OpPtrAccessChain = 67,
  OpDecorate = 71,
  OpMemberDecorate = 72,
  OpCopyObject = 83,
  OpConvertUToPtr = 120,
  OpBitcast = 124,
  OpSelect = 169,
  OpControlBarrier = 224,
  OpMemoryBarrier = 225,
  OpAtomicLoad = 227,
  OpAtomicStore = 228,
  OpAtomicXor = 242,
  OpPhi = 245,
  OpAtomicFlagTestAndSet = 318,
  OpAtomicFlagClear = 319,
  OpTypeCooperativeMatrixKHR = 4456,
  OpCooperativeMatrixLoadKHR = 4457,
  OpCooperativeMatrixStoreKHR = 4458,
  OpCooperativeMatrixLoadTensorNV = 5367,
  OpCooperativeMatrixStoreTensorNV = 5368,
  OpAtomicFMinEXT = 5614,
  OpAtomicFMaxEXT = 5615,
  OpAtomicFAddEXT = 6035,
  OpTypeTensorLayoutNV = 5370,
  OpCreateTensorLayoutNV = 5372,
  OpTensorLayoutSetDimensionNV = 5373,
  OpTensorLayoutSetStrideNV = 5374,
  OpTensorLayoutSliceNV = 5375,
  MatrixAKHR = 0,
  MatrixBKHR = 1,
  MatrixAccumulatorKHR = 2,
};

/// The offsets of the instructions of the module `words`; none where the
/// words are not a module whose instructions end where it does.
std::optional<std::vector<std::size_t>>
instructionOffsets(const std::vector<std::uint32_t> &words) {
  if (words.size() < 5 || words[0] != kSpirvMagic)
    return std::nullopt;
  std::vector<std::size_t> at;
  for (std::size_t i = 5; i < words.size();) {
    std::uint32_t count = words[i] >> 16;
    if (count == 0 || i + count > words.size())
      return std::nullopt;
    at.push_back(i);
    i += count;
  }
  return at;
}

/// Where a module's sections end: just past its last OpCapability (where
/// capabilities, then extensions, are added) and at its first OpFunction
/// (where declarations are added); 0 where it has none.
struct ModuleSections {
  std::size_t afterCapabilities = 0, firstFunction = 0;
};
ModuleSections moduleSections(const std::vector<std::uint32_t> &words,
                              ArrayRef<std::size_t> at) {
  ModuleSections sections;
  for (std::size_t i : at) {
    std::uint32_t opcode = words[i] & 0xffff;
    if (opcode == OpCapability)
      sections.afterCapabilities = i + (words[i] >> 16);
    else if (opcode == OpFunction && sections.firstFunction == 0)
      sections.firstFunction = i;
  }
  return sections;
}

/// 32-bit constants by id: their value and type's id.
using WordConstants =
    llvm::DenseMap<std::uint32_t, std::pair<std::uint32_t, std::uint32_t>>;

/// The module's 32-bit constants (a cooperative matrix type's scope, rows,
/// columns and use are ids of such constants).
WordConstants wordConstants(const std::vector<std::uint32_t> &words,
                            ArrayRef<std::size_t> at) {
  WordConstants constants;
  for (std::size_t i : at)
    if ((words[i] & 0xffff) == OpConstant && (words[i] >> 16) == 4)
      constants[words[i + 2]] = {words[i + 3], words[i + 1]};
  return constants;
}

/// The id of the constant `value` of the integer type `type`: one of
/// `constants`, or a new id (the module's id bound, words[3], grows) whose
/// OpConstant is appended to `declared`, for the caller to place among
/// the module's declarations.
std::uint32_t constantId(std::vector<std::uint32_t> &words,
                         WordConstants &constants, std::uint32_t type,
                         std::uint32_t value,
                         std::vector<std::uint32_t> &declared) {
  for (auto &[id, known] : constants)
    if (known.first == value && known.second == type)
      return id;
  std::uint32_t id = words[3]++;
  constants[id] = {value, type};
  llvm::append_range(declared, std::initializer_list<std::uint32_t>{
                                   4u << 16 | OpConstant, type, id, value});
  return id;
}

constexpr std::uint32_t kCapabilityCooperativeMatrixKHR = 6022;

/// Whether the module `words` declares the capability `capability`.
bool declaresCapability(const std::vector<std::uint32_t> &words,
                        std::uint32_t capability) {
  std::optional<std::vector<std::size_t>> at = instructionOffsets(words);
  return at && llvm::any_of(*at, [&](std::size_t i) {
           return words[i] == (2u << 16 | OpCapability) &&
                  words[i + 1] == capability;
         });
}

/// The words of OpExtension `name` (a nul-terminated string of words).
std::vector<std::uint32_t> extensionWords(StringRef name) {
  std::vector<std::uint32_t> extension = {0};
  for (std::size_t c = 0; c <= name.size(); c += 4) {
    std::uint32_t word = 0;
    for (std::size_t k = 0; k < 4 && c + k < name.size(); ++k)
      word |= static_cast<std::uint32_t>(name[c + k]) << (8 * k);
    extension.push_back(word);
  }
  extension[0] =
      static_cast<std::uint32_t>(extension.size()) << 16 | OpExtension;
  return extension;
}

/// The offsets of the module's cooperative matrix types.
std::vector<std::size_t> matrixTypes(const std::vector<std::uint32_t> &words,
                                     ArrayRef<std::size_t> at) {
  std::vector<std::size_t> matrices;
  for (std::size_t i : at)
    if ((words[i] & 0xffff) == OpTypeCooperativeMatrixKHR &&
        (words[i] >> 16) == 7)
      matrices.push_back(i);
  return matrices;
}
} // namespace

LogicalResult retypeBFloat16Matrices(std::vector<std::uint32_t> &words) {
  enum : std::uint32_t {
    CapabilityBFloat16TypeKHR = 5116,
    CapabilityBFloat16CooperativeMatrixKHR = 5118,
    FPEncodingBFloat16KHR = 0,
  };
  std::optional<std::vector<std::size_t>> at = instructionOffsets(words);
  if (!at)
    return failure();
  // The float16 type and where the capabilities end.
  std::optional<std::uint32_t> half;
  std::size_t halfAt = 0;
  for (std::size_t i : *at) {
    std::uint32_t count = words[i] >> 16, opcode = words[i] & 0xffff;
    if (opcode == OpTypeFloat && count == 3 && words[i + 2] == 16)
      half = words[i + 1], halfAt = i + count;
  }
  const std::size_t lastCapability =
      moduleSections(words, *at).afterCapabilities;
  if (!half || lastCapability == 0)
    return failure();
  auto constants = wordConstants(words, *at);
  std::vector<std::size_t> matrices;
  for (std::size_t i : matrixTypes(words, *at))
    if (words[i + 2] == *half) {
      auto use = constants.find(words[i + 6]);
      if (use != constants.end() &&
          (use->second.first == MatrixAKHR || use->second.first == MatrixBKHR))
        matrices.push_back(i);
    }
  if (matrices.empty())
    return failure(); // (the words unchanged)
  const std::uint32_t bfloat16 = words[3]++;
  for (std::size_t i : matrices)
    words[i + 2] = bfloat16;
  // The new type just after float16's (before any matrix naming it), the
  // capabilities after the module's, the extension after those.
  std::vector<std::uint32_t> declarations = {
      2u << 16 | OpCapability, CapabilityBFloat16TypeKHR,
      2u << 16 | OpCapability, CapabilityBFloat16CooperativeMatrixKHR};
  llvm::append_range(declarations, extensionWords("SPV_KHR_bfloat16"));
  const std::uint32_t type[] = {4u << 16 | OpTypeFloat, bfloat16, 16,
                                FPEncodingBFloat16KHR};
  words.insert(words.begin() + static_cast<std::ptrdiff_t>(halfAt),
               std::begin(type), std::end(type));
  words.insert(words.begin() + static_cast<std::ptrdiff_t>(lastCapability),
               declarations.begin(), declarations.end());
  return success();
}

LogicalResult retypeWorkgroupMatrices(std::vector<std::uint32_t> &words,
                                      std::int64_t rows, std::int64_t columns,
                                      std::int64_t depth) {
  constexpr std::uint32_t kScopeWorkgroup = 2;
  std::optional<std::vector<std::size_t>> at = instructionOffsets(words);
  if (!at)
    return failure();
  auto constants = wordConstants(words, *at);
  std::vector<std::size_t> matrices = matrixTypes(words, *at);
  if (matrices.empty())
    return failure();
  auto scope = constants.find(words[matrices.front() + 3]);
  if (scope == constants.end())
    return failure();
  const std::uint32_t intType = scope->second.second;
  // Each matrix's rows and columns by its use, all found before any word
  // changes.
  const auto r = static_cast<std::uint32_t>(rows),
             c = static_cast<std::uint32_t>(columns),
             k = static_cast<std::uint32_t>(depth);
  std::vector<std::pair<std::uint32_t, std::uint32_t>> sizes;
  for (std::size_t i : matrices) {
    auto use = constants.find(words[i + 6]);
    if (use == constants.end())
      return failure();
    switch (use->second.first) {
    case MatrixAKHR:
      sizes.push_back({r, k});
      break;
    case MatrixBKHR:
      sizes.push_back({k, c});
      break;
    case MatrixAccumulatorKHR:
      sizes.push_back({r, c});
      break;
    default:
      return failure();
    }
  }
  // An id of the constant `value` of the scope's type: an existing one, or
  // a new one, declared before the first matrix type.
  std::vector<std::uint32_t> added;
  auto constant = [&](std::uint32_t value) {
    return constantId(words, constants, intType, value, added);
  };
  for (auto [i, size] : llvm::zip(matrices, sizes)) {
    words[i + 3] = constant(kScopeWorkgroup);
    words[i + 4] = constant(size.first);
    words[i + 5] = constant(size.second);
  }
  words.insert(words.begin() + static_cast<std::ptrdiff_t>(matrices.front()),
               added.begin(), added.end());
  return success();
}

LogicalResult
loadMatricesThroughTensorLayouts(std::vector<std::uint32_t> &words) {
  enum : std::uint32_t {
    CapabilityCooperativeMatrixTensorAddressingNV = 5433,
    CapabilityTensorAddressingNV = 5439,
    TensorClampModeUndefined = 0,
  };
  std::optional<std::vector<std::size_t>> at = instructionOffsets(words);
  if (!at)
    return failure();
  auto constants = wordConstants(words, *at);
  // The A and B matrix types: their rows and columns, and the integer type
  // of those constants.
  struct Matrix {
    std::uint32_t rows, columns;
  };
  llvm::DenseMap<std::uint32_t, Matrix> loaded;
  std::optional<std::uint32_t> intType;
  for (std::size_t i : matrixTypes(words, *at)) {
    auto use = constants.find(words[i + 6]);
    auto rows = constants.find(words[i + 4]);
    auto columns = constants.find(words[i + 5]);
    if (use == constants.end() || rows == constants.end() ||
        columns == constants.end())
      return failure();
    if (use->second.first == MatrixAKHR || use->second.first == MatrixBKHR) {
      loaded[words[i + 1]] = {rows->second.first, columns->second.first};
      intType = rows->second.second;
    }
  }
  if (loaded.empty())
    return failure();
  // Each instruction's result id's definition, for a pointer's pointee.
  llvm::DenseMap<std::uint32_t, std::size_t> definition;
  const auto [lastCapability, firstFunction] = moduleSections(words, *at);
  for (std::size_t i : *at) {
    std::uint32_t count = words[i] >> 16, opcode = words[i] & 0xffff;
    if (count >= 2 && (opcode == OpTypeInt || opcode == OpTypeFloat ||
                       opcode == OpTypeVector || opcode == OpTypePointer))
      definition[words[i + 1]] = i;
    else if (count >= 3 && opcode == OpAccessChain)
      definition[words[i + 2]] = i;
  }
  // The bytes of the element a pointer points at (a scalar, or a vector of
  // them: the kernel loads 16-bit matrices through pointers to groups of 8
  // halves as well as to halves).
  auto bytesOfType = [&](std::uint32_t type) -> std::optional<std::uint32_t> {
    auto d = definition.find(type);
    if (d == definition.end())
      return std::nullopt;
    std::size_t i = d->second;
    std::uint32_t opcode = words[i] & 0xffff;
    if (opcode == OpTypeInt || opcode == OpTypeFloat)
      return words[i + 2] / 8;
    if (opcode == OpTypeVector) {
      auto e = definition.find(words[i + 2]);
      if (e == definition.end() || ((words[e->second] & 0xffff) != OpTypeInt &&
                                    (words[e->second] & 0xffff) != OpTypeFloat))
        return std::nullopt;
      return words[e->second + 2] / 8 * words[i + 3];
    }
    return std::nullopt;
  };
  auto pointeeBytes =
      [&](std::uint32_t pointer) -> std::optional<std::uint32_t> {
    auto chain = definition.find(pointer);
    if (chain == definition.end() ||
        (words[chain->second] & 0xffff) != OpAccessChain)
      return std::nullopt;
    auto type = definition.find(words[chain->second + 1]);
    if (type == definition.end() ||
        (words[type->second] & 0xffff) != OpTypePointer)
      return std::nullopt;
    return bytesOfType(words[type->second + 3]);
  };
  // The loads to replace, each checked before any word changes: a row-major
  // load (layout 0) with a constant stride, through an access chain to
  // whole 16-bit elements or groups of them.
  struct Load {
    std::size_t at;
    Matrix matrix;
    std::uint32_t stride; // in the matrix's 16-bit elements
  };
  std::vector<Load> loads;
  for (std::size_t i : *at) {
    std::uint32_t count = words[i] >> 16;
    if ((words[i] & 0xffff) != OpCooperativeMatrixLoadKHR)
      continue;
    auto matrix = loaded.find(words[i + 1]);
    if (matrix == loaded.end())
      continue;
    if (count < 6)
      return failure();
    auto layout = constants.find(words[i + 4]);
    auto stride = constants.find(words[i + 5]);
    std::optional<std::uint32_t> bytes = pointeeBytes(words[i + 3]);
    if (layout == constants.end() || layout->second.first != 0 ||
        stride == constants.end() || !bytes || *bytes % 2 != 0)
      return failure();
    loads.push_back({i, matrix->second, stride->second.first * (*bytes / 2)});
  }
  if (loads.empty() || lastCapability == 0 || firstFunction == 0)
    return failure();
  // The module's declarations, before its first function: constants
  // (existing or new), the layout type, an undefined matrix of each type
  // (the loads' clipped elements' values; the loads clip none).
  std::vector<std::uint32_t> declared;
  auto constant = [&](std::uint32_t value) {
    return constantId(words, constants, *intType, value, declared);
  };
  const std::uint32_t zero = constant(0), one = constant(1), two = constant(2),
                      clamp = constant(TensorClampModeUndefined);
  struct LoadConstants {
    std::uint32_t rows, columns, stride;
  };
  std::vector<LoadConstants> ids;
  for (const Load &load : loads)
    ids.push_back({constant(load.matrix.rows), constant(load.matrix.columns),
                   constant(load.stride)});
  const std::uint32_t layoutType = words[3]++;
  llvm::append_range(
      declared, std::initializer_list<std::uint32_t>{
                    4u << 16 | OpTypeTensorLayoutNV, layoutType, two, clamp});
  llvm::DenseMap<std::uint32_t, std::uint32_t> undefined;
  for (auto &[type, matrix] : loaded) {
    undefined[type] = words[3]++;
    llvm::append_range(
        declared, std::initializer_list<std::uint32_t>{3u << 16 | OpUndef, type,
                                                       undefined[type]});
  }
  // The words again, each load replaced by a layout of its matrix's rows
  // and columns at its stride, sliced whole, and a tensor load through it
  // (its memory operands kept; no tensor addressing operands).
  std::vector<std::uint32_t> out(words.begin(), words.begin() + 5);
  std::vector<std::uint32_t> capabilities = {
      2u << 16 | OpCapability, CapabilityTensorAddressingNV,
      2u << 16 | OpCapability, CapabilityCooperativeMatrixTensorAddressingNV};
  llvm::append_range(capabilities,
                     extensionWords("SPV_NV_cooperative_matrix2"));
  llvm::append_range(capabilities, extensionWords("SPV_NV_tensor_addressing"));
  std::size_t next = 0;
  for (std::size_t i : *at) {
    std::uint32_t count = words[i] >> 16;
    if (i == lastCapability)
      llvm::append_range(out, capabilities);
    if (i == firstFunction)
      llvm::append_range(out, declared);
    if (next < loads.size() && loads[next].at == i) {
      const auto [rows, columns, stride] = ids[next++];
      std::uint32_t created = words[3]++, sized = words[3]++,
                    strided = words[3]++, sliced = words[3]++;
      // clang-format off
      const std::uint32_t layout[] = {
          3u << 16 | OpCreateTensorLayoutNV, layoutType, created,
          6u << 16 | OpTensorLayoutSetDimensionNV, layoutType, sized, created,
          rows, columns,
          6u << 16 | OpTensorLayoutSetStrideNV, layoutType, strided, sized,
          stride, one,
          8u << 16 | OpTensorLayoutSliceNV, layoutType, sliced, strided, zero,
          rows, zero, columns};
      llvm::append_range(out, layout);
      std::vector<std::uint32_t> tensorLoad = {
          0, words[i + 1], words[i + 2], words[i + 3], undefined[words[i + 1]],
          sliced};
      // clang-format on
      if (count > 6)
        tensorLoad.insert(tensorLoad.end(), words.begin() + i + 6,
                          words.begin() + i + count);
      else
        tensorLoad.push_back(0); // MemoryAccess None
      tensorLoad.push_back(0);   // TensorAddressingOperands None
      tensorLoad[0] = static_cast<std::uint32_t>(tensorLoad.size()) << 16 |
                      OpCooperativeMatrixLoadTensorNV;
      llvm::append_range(out, tensorLoad);
      continue;
    }
    out.insert(out.end(), words.begin() + i, words.begin() + i + count);
  }
  out[3] = words[3];
  words = std::move(out);
  return success();
}

LogicalResult useVulkanMemoryModel(std::vector<std::uint32_t> &module) {
  // (On a copy: new constants grow the id bound before every check is made.)
  std::vector<std::uint32_t> words = module;
  enum : std::uint32_t {
    CapabilityVulkanMemoryModel = 5345,
    MemoryModelVulkan = 3,
    DecorationVolatile = 21,
    DecorationCoherent = 23,
    StorageClassUniform = 2,
    StorageClassWorkgroup = 4,
    StorageClassStorageBuffer = 12,
    ScopeDevice = 1,
    SemanticsAcquire = 0x2,
    SemanticsRelease = 0x4,
    SemanticsAcquireRelease = 0x8,
    SemanticsSequentiallyConsistent = 0x10,
    SemanticsUniformMemory = 0x40,
    SemanticsStorageClasses = 0x40 | 0x80 | 0x100 | 0x200 | 0x800 | 0x1000,
    SemanticsMakeAvailable = 0x2000,
    SemanticsMakeVisible = 0x4000,
    MemoryAccessNonPrivatePointer = 0x20,
  };
  std::optional<std::vector<std::size_t>> at = instructionOffsets(words);
  if (!at)
    return failure();
  if (declaresCapability(words, CapabilityVulkanMemoryModel))
    return failure(); // already in the Vulkan memory model
  auto constants = wordConstants(words, *at);
  const auto [lastCapability, firstFunction] = moduleSections(words, *at);
  std::size_t memoryModel = 0;
  bool buffersShared = false;
  // Pointer types by storage class, then the pointers into workgroup
  // memory and into buffers (variables, access chains and the copies,
  // selections and phis of pointers).
  llvm::DenseMap<std::uint32_t, std::uint32_t> pointerClass;
  llvm::DenseSet<std::uint32_t> workgroup, buffer;
  for (std::size_t i : *at) {
    std::uint32_t count = words[i] >> 16, opcode = words[i] & 0xffff;
    if (opcode == OpMemoryModel && count == 3) {
      memoryModel = i;
    } else if ((opcode == OpDecorate && count >= 3 &&
                (words[i + 2] == DecorationCoherent ||
                 words[i + 2] == DecorationVolatile)) ||
               (opcode == OpMemberDecorate && count >= 4 &&
                (words[i + 3] == DecorationCoherent ||
                 words[i + 3] == DecorationVolatile))) {
      return failure(); // the Vulkan memory model has neither
    } else if (opcode == OpTypePointer && count == 4) {
      pointerClass[words[i + 1]] = words[i + 2];
    } else if (opcode == OpControlBarrier || opcode == OpMemoryBarrier) {
      // The memory scope and semantics: constants' ids.
      auto scope =
          constants.find(words[i + (opcode == OpControlBarrier ? 2 : 1)]);
      auto semantics = constants.find(words[i + count - 1]);
      if (scope == constants.end() || semantics == constants.end())
        return failure();
      // (Device scope would need vulkanMemoryModelDeviceScope; no kernel
      // on cooperative matrices has it.)
      if (scope->second.first == ScopeDevice)
        return failure();
      buffersShared |= (semantics->second.first & SemanticsUniformMemory) != 0;
    }
    const bool makesPointer =
        opcode == OpVariable || opcode == OpAccessChain ||
        opcode == OpInBoundsAccessChain || opcode == OpPtrAccessChain ||
        opcode == OpCopyObject || opcode == OpSelect || opcode == OpPhi;
    // Pointers into workgroup memory made otherwise (passed to or from a
    // function, converted) are not followed: refused.
    const bool madeOtherwise = opcode == OpFunctionParameter ||
                               opcode == OpFunctionCall ||
                               opcode == OpBitcast || opcode == OpConvertUToPtr;
    if (madeOtherwise && count >= 3) {
      auto type = pointerClass.find(words[i + 1]);
      if (type != pointerClass.end() && type->second == StorageClassWorkgroup)
        return failure();
    }
    if (makesPointer && count >= 3) {
      auto type = pointerClass.find(words[i + 1]);
      if (type != pointerClass.end()) {
        if (type->second == StorageClassWorkgroup)
          workgroup.insert(words[i + 2]);
        else if (type->second == StorageClassStorageBuffer ||
                 type->second == StorageClassUniform)
          buffer.insert(words[i + 2]);
      }
    }
  }
  if (memoryModel == 0 || lastCapability == 0 || firstFunction == 0)
    return failure();
  // Memory other invocations read or write: workgroup memory always,
  // buffers where a barrier orders them between invocations.
  auto shared = [&](std::uint32_t pointer) {
    return workgroup.contains(pointer) ||
           (buffersShared && buffer.contains(pointer));
  };
  // Each barrier's release makes the writes before it available and its
  // acquire makes them visible after (the Vulkan memory model's
  // availability and visibility, which GLSL450's barriers imply);
  // SequentiallyConsistent, which the Vulkan memory model lacks, becomes
  // the AcquireRelease Vulkan takes it for. New semantics constants are
  // declared before the first function.
  std::vector<std::uint32_t> declared;
  llvm::DenseMap<std::uint32_t, std::uint32_t> barrierSemantics;
  for (std::size_t i : *at) {
    std::uint32_t count = words[i] >> 16, opcode = words[i] & 0xffff;
    if (opcode != OpControlBarrier && opcode != OpMemoryBarrier)
      continue;
    std::uint32_t id = words[i + count - 1];
    auto [value, type] = constants.find(id)->second;
    std::uint32_t wanted = value;
    if (wanted & SemanticsSequentiallyConsistent)
      wanted =
          (wanted & ~SemanticsSequentiallyConsistent) | SemanticsAcquireRelease;
    if (wanted & SemanticsStorageClasses) {
      if (wanted & (SemanticsRelease | SemanticsAcquireRelease))
        wanted |= SemanticsMakeAvailable;
      if (wanted & (SemanticsAcquire | SemanticsAcquireRelease))
        wanted |= SemanticsMakeVisible;
    }
    if (wanted != value && !barrierSemantics.count(id))
      barrierSemantics[id] =
          constantId(words, constants, type, wanted, declared);
  }
  // Each access to shared memory made non-private (its memory operands'
  // mask, NonPrivatePointer adding no operand of its own; a mask appended
  // where there is none), so that the barriers order it between
  // invocations.
  std::vector<std::uint32_t> out(words.begin(), words.begin() + 5);
  for (std::size_t i : *at) {
    std::uint32_t count = words[i] >> 16, opcode = words[i] & 0xffff;
    std::vector<std::uint32_t> instruction(words.begin() + i,
                                           words.begin() + i + count);
    // Where the memory operands' mask is (or would be), and whether the
    // instruction reaches shared memory.
    std::optional<std::size_t> mask;
    bool access = false;
    switch (opcode) {
    case OpLoad:
      access = count >= 4 && shared(words[i + 3]);
      mask = 4;
      break;
    case OpStore:
      access = count >= 3 && shared(words[i + 1]);
      mask = 3;
      break;
    case OpCooperativeMatrixLoadKHR:
    case OpCooperativeMatrixLoadTensorNV:
      access = count >= 4 && shared(words[i + 3]);
      if (access && opcode == OpCooperativeMatrixLoadKHR && count < 6)
        return failure(); // no stride: a mask could not follow
      mask = 6;           // (a tensor load's object and layout where a load's
                          // layout and stride are)
      break;
    case OpCooperativeMatrixStoreKHR:
      access = count >= 2 && shared(words[i + 1]);
      if (access && count < 5)
        return failure();
      mask = 5;
      break;
    case OpCopyMemory:
    case OpCopyMemorySized:
      if (count >= 3 && (shared(words[i + 1]) || shared(words[i + 2])))
        return failure(); // not emitted by the pipeline: not handled
      break;
    case OpCooperativeMatrixStoreTensorNV:
      if (count >= 2 && shared(words[i + 1]))
        return failure(); // not emitted by the pipeline: not handled
      break;
    default: {
      // Atomics carry their own semantics: not handled.
      const bool atomic =
          (opcode >= OpAtomicLoad && opcode <= OpAtomicXor) ||
          opcode == OpAtomicFlagTestAndSet || opcode == OpAtomicFlagClear ||
          opcode == OpAtomicFMinEXT || opcode == OpAtomicFMaxEXT ||
          opcode == OpAtomicFAddEXT;
      const bool pointerFirst =
          opcode == OpAtomicStore || opcode == OpAtomicFlagClear;
      if (atomic && count >= (pointerFirst ? 2u : 4u) &&
          shared(words[i + (pointerFirst ? 1 : 3)]))
        return failure();
      break;
    }
    }
    if (access) {
      if (instruction.size() > *mask)
        instruction[*mask] |= MemoryAccessNonPrivatePointer;
      else if (instruction.size() == *mask)
        instruction.push_back(MemoryAccessNonPrivatePointer);
      else
        return failure(); // (a tensor load always has its mask)
    }
    if (opcode == OpControlBarrier || opcode == OpMemoryBarrier)
      if (auto to = barrierSemantics.find(instruction.back());
          to != barrierSemantics.end())
        instruction.back() = to->second;
    if (opcode == OpMemoryModel)
      instruction[2] = MemoryModelVulkan;
    if (i == lastCapability) {
      llvm::append_range(
          out, std::initializer_list<std::uint32_t>{
                   2u << 16 | OpCapability, CapabilityVulkanMemoryModel});
      // (Core from SPIR-V 1.5; an extension before.)
      if (words[1] < 0x00010500u)
        llvm::append_range(out, extensionWords("SPV_KHR_vulkan_memory_model"));
    }
    if (i == firstFunction)
      out.insert(out.end(), declared.begin(), declared.end());
    instruction[0] =
        static_cast<std::uint32_t>(instruction.size()) << 16 | opcode;
    out.insert(out.end(), instruction.begin(), instruction.end());
  }
  out[3] = words[3];
  module = std::move(out);
  return success();
}

FailureOr<SpirvProgram> serializeProgram(ModuleOp module) {
  SpirvProgram program;
  // Kernels by the name of the gpu.module they were outlined into (the
  // kernel functions themselves may share names across modules).
  llvm::StringMap<int> kernelOf;
  for (auto spirvModule : module.getOps<spirv::ModuleOp>()) {
    FailureOr<SpirvKernel> kernel = serializeKernel(spirvModule);
    if (failed(kernel))
      return failure();
    StringRef name = spirvModule.getName().value_or("");
    name.consume_front("__spv__");
    // The cooperative kernel of a bfloat16 product: its float16 matrices
    // carry bfloat16 bits (the gpu.module it came from says so, which
    // convert-gpu-to-spirv leaves in place).
    // The workgroup-matrix kernel: its stand-in matrices retyped to the
    // workgroup's tiles first (the bfloat16 retyping finds A and B by
    // their use either way).
    if (auto gpuModule = module.lookupSymbol<gpu::GPUModuleOp>(name)) {
      bool bfloat16 = false, tensorLoads = false;
      ArrayAttr workgroupSizes;
      gpuModule.walk([&](gpu::SubgroupMmaComputeOp compute) {
        bfloat16 |= compute->hasAttr(kBFloat16MatricesAttr);
        tensorLoads |= compute->hasAttr(kTensorLoadsAttr);
        if (auto sizes =
                compute->getAttrOfType<ArrayAttr>(kWorkgroupMatricesAttr))
          workgroupSizes = sizes;
      });
      if (workgroupSizes) {
        auto size = [&](unsigned i) {
          return cast<IntegerAttr>(workgroupSizes[i]).getInt();
        };
        if (workgroupSizes.size() != 3 ||
            failed(retypeWorkgroupMatrices(kernel->words, size(0), size(1),
                                           size(2))))
          return spirvModule.emitOpError(
              "has no stand-in matrices to retype to workgroup scope");
      }
      if (tensorLoads &&
          failed(loadMatricesThroughTensorLayouts(kernel->words)))
        return spirvModule.emitOpError(
            "has no matrix loads to make tensor loads");
      if (bfloat16 && failed(retypeBFloat16Matrices(kernel->words)))
        return spirvModule.emitOpError(
            "has no float16 matrices to retype to bfloat16");
    }
    // Cooperative matrices need the Vulkan memory model (SPIR-V's
    // validation rules for Vulkan; MLIR 19 emits GLSL450).
    if (declaresCapability(kernel->words, kCapabilityCooperativeMatrixKHR) &&
        failed(useVulkanMemoryModel(kernel->words)))
      return spirvModule.emitOpError(
          "could not take the Vulkan memory model its cooperative matrices "
          "need");
    kernelOf[name] = static_cast<int>(program.kernels.size());
    program.kernels.push_back(std::move(*kernel));
  }
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    SpirvFunction function;
    function.name = func.getName().str();
    llvm::DenseMap<Value, int> scratch, constants;
    // A buffer, through the views taken of it, back to an argument or a
    // scratch allocation.
    auto bufferOf = [&](Value value) -> std::optional<SpirvFunction::Buffer> {
      value = viewedBuffer(value);
      if (auto argument = dyn_cast<BlockArgument>(value))
        return SpirvFunction::Buffer{SpirvFunction::Buffer::Argument,
                                     static_cast<int>(argument.getArgNumber())};
      if (auto found = scratch.find(value); found != scratch.end())
        return SpirvFunction::Buffer{SpirvFunction::Buffer::Scratch,
                                     found->second};
      if (auto found = constants.find(value); found != constants.end())
        return SpirvFunction::Buffer{SpirvFunction::Buffer::Constant,
                                     found->second};
      return std::nullopt;
    };
    for (Operation &op : func.getBody().front()) {
      if (isa<memref::AllocOp, memref::AllocaOp>(op)) {
        std::optional<std::int64_t> bytes =
            bytesOf(cast<MemRefType>(op.getResult(0).getType()));
        if (!bytes)
          return op.emitOpError("allocates a buffer of a dynamic size");
        scratch[op.getResult(0)] =
            static_cast<int>(function.scratchBytes.size());
        function.scratchBytes.push_back(*bytes);
        continue;
      }
      if (auto get = dyn_cast<memref::GetGlobalOp>(op)) {
        auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
            get, get.getNameAttr());
        std::optional<std::vector<std::uint8_t>> bytes;
        if (global)
          bytes = constantBytes(global);
        if (!bytes)
          return get.emitOpError("reads a global without a constant value");
        constants[get.getResult()] =
            static_cast<int>(function.constants.size());
        function.constants.push_back(std::move(*bytes));
        continue;
      }
      if (auto launch = dyn_cast<gpu::LaunchFuncOp>(op)) {
        auto found = kernelOf.find(launch.getKernelModuleName().getValue());
        if (found == kernelOf.end())
          return launch.emitOpError("launches a kernel with no SPIR-V");
        SpirvFunction::Launch run{found->second, {}};
        for (Value operand : launch.getKernelOperands()) {
          std::optional<SpirvFunction::Buffer> buffer = bufferOf(operand);
          if (!buffer) {
            Operation *def = viewedBuffer(operand).getDefiningOp();
            return launch.emitOpError(
                       "passes a kernel something other than a buffer: ")
                   << (def ? def->getName().getStringRef() : "an argument");
          }
          run.buffers.push_back(*buffer);
        }
        SpirvKernel &kernel = program.kernels[found->second];
        if (static_cast<int>(run.buffers.size()) != kernel.bindings)
          return launch.emitOpError("binds ")
                 << run.buffers.size() << " buffers to a kernel of "
                 << kernel.bindings;
        gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
        Value sizes[] = {grid.x, grid.y, grid.z};
        for (auto [d, size] : llvm::enumerate(sizes)) {
          std::optional<int64_t> c = getConstantIntValue(size);
          if (!c)
            return launch.emitOpError("has a workgroup count that is not a "
                                      "constant");
          kernel.workgroupCount[d] = *c;
        }
        function.launches.push_back(std::move(run));
        continue;
      }
      if (isa<memref::DeallocOp, func::ReturnOp, ViewLikeOpInterface>(op) ||
          (op.getNumRegions() == 0 && isMemoryEffectFree(&op)))
        continue;
      return op.emitOpError("is left on the host by the Vulkan pipeline");
    }
    program.functions.push_back(std::move(function));
  }
  return program;
}

FailureOr<std::vector<SpirvKernel>> serializeKernels(ModuleOp module) {
  FailureOr<SpirvProgram> program = serializeProgram(module);
  if (failed(program))
    return failure();
  std::vector<SpirvKernel> kernels;
  for (const SpirvFunction &function : program->functions)
    for (const SpirvFunction::Launch &launch : function.launches)
      kernels.push_back(program->kernels[launch.kernel]);
  return kernels;
}

} // namespace mlir::trueno
