//===- Pipeline.h - The compile stages for Vulkan (SPIR-V) ------*- C++ -*-===//
//
// Kernels as SPIR-V compute shaders through MLIR's gpu and spirv dialects:
// the same trueno IR and scalar recipes as the CPU pipeline
// (codegen/lib/TruenoToLinalg.cpp), fused and bufferized as there; then
// each kernel's loop nest tiled into workgroups (the innermost loops to
// threads), outlined as a gpu.func, and converted to a spirv.module that
// serialize() turns into the words vkCreateShaderModule takes.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_CODEGEN_VULKAN_PIPELINE_H
#define TRUENO_CODEGEN_VULKAN_PIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::trueno {

/// The Vulkan compile stages, in order; each names the IR after it.
enum class VulkanStage {
  Linalg,     ///< trueno ops as linalg.generic on tensors
  Fused,      ///< elementwise generics fused
  Bufferized, ///< the kernel calling convention, memrefs
  Gpu,        ///< loop nests as workgroups of threads, outlined kernels
  Spirv,      ///< one spirv.module per kernel
};

llvm::StringRef vulkanStageName(VulkanStage stage);
std::optional<VulkanStage> parseVulkanStage(llvm::StringRef name);

/// What the device offers (runtime/vulkan reads it from the device).
struct VulkanPipelineOptions {
  bool float64 = false, int64 = false, int16 = false;
  bool float16 = false, int8 = false;
  bool storage16 = false, storage8 = false;
  /// Float widths (16, 32, 64) whose NaNs, infinities and signed zeros,
  /// and whose denormals, the device keeps when asked
  /// (trueno-spirv-float-controls).
  std::vector<unsigned> preserveNanInfWidths, preserveDenormWidths;
  /// The device's subgroup size where its subgroups shuffle in compute
  /// shaders (a power of two; 0: they do not, or TRUENO_VULKAN_SUBGROUPS=0):
  /// a workgroup's row reduction then combines within subgroups by
  /// shuffles, with one barrier a row, instead of a tree in workgroup
  /// memory with a barrier a level (trueno-workgroup-reductions).
  std::int64_t subgroupSize = 0;
  /// Whether subgroup operations take 64-bit integers (the device's
  /// shaderSubgroupExtendedTypes): int64 row reductions shuffle only then.
  bool subgroupExtendedTypes = false;
  /// Threads per workgroup along the innermost loop.
  std::int64_t workgroupSize = 64;
  std::int64_t maxWorkgroupCount = 65535;
  /// Iterations of a thread's reduction loop per unrolled iteration
  /// (trueno-unroll-reduction-loops; 1: not unrolled).
  std::int64_t unrollFactor = 8;
  /// 128x128 matmul tiles for large products (trueno-tile-matmuls'
  /// large-tiles; TRUENO_VULKAN_MATMUL_TILE=128).
  bool largeMatmulTiles = false;
  /// float16 products on 16x16x16 cooperative matrices accumulating in
  /// float32, by subgroups of 32 (VK_KHR_cooperative_matrix; the Vulkan
  /// runtime sets it where the device has that shape and subgroup size).
  bool cooperativeMatrix = false;
  /// The cooperative kernel's shape (trueno-tile-matmuls' cooperative-step,
  /// -columns, -buffers and -subgroups; TRUENO_VULKAN_COOPERATIVE_STEP,
  /// _COLUMNS, _BUFFERS and _SUBGROUPS): contraction elements a step (16,
  /// 32 or 64), columns of its tiles (64, 128 or 256; 128 rows), copies of
  /// the tiles in workgroup memory (1 or 2) and subgroups a workgroup (4 or
  /// 8). By default 128x128 tiles, 4 subgroups of 4 x 4 fragments, steps of
  /// 32, one copy: on an H100, float16 4096 products 216-226 TFLOP/s
  /// against 216-218 for 128x256 tiles of 8 subgroups (the default before),
  /// 8192 252-259 against 247-255, in three calls (docs/PERFORMANCE.md,
  /// twelfth pass). Steps of 64, two copies (one barrier a step), 64 or 128
  /// columns with 8 subgroups and steps of 16 were all slower.
  std::int64_t cooperativeStep = 32;
  std::int64_t cooperativeColumns = 128;
  std::int64_t cooperativeBuffers = 1;
  std::int64_t cooperativeSubgroups = 4;
  /// Products whose tiles all lie inside C run on workgroup-scope matrices
  /// of the whole tiles (VK_NV_cooperative_matrix2's workgroup scope and
  /// flexible dimensions; trueno-tile-matmuls' cooperative-workgroup-scope;
  /// the Vulkan runtime sets it where the device lists the kernel's shape
  /// for its workgroup size).
  bool cooperativeWorkgroupScope = false;
  /// The workgroup-matrix kernel loads its matrices from the inputs, not
  /// through tiles in workgroup memory (trueno-tile-matmuls'
  /// cooperative-workgroup-global; TRUENO_VULKAN_COOPERATIVE_WORKGROUP_GLOBAL).
  bool cooperativeWorkgroupGlobal = false;
  /// Those loads from the inputs are tensor loads (VK_NV_cooperative_matrix2's
  /// tensor addressing; trueno-tile-matmuls' cooperative-tensor-loads;
  /// TRUENO_VULKAN_COOPERATIVE_WORKGROUP_GLOBAL=tensor).
  bool cooperativeTensorLoads = false;
  /// Products on tensor loads take 128x256 tiles of 8 subgroups, the other
  /// cooperative products keeping the shape above (trueno-tile-matmuls'
  /// cooperative-tensor-wide-tiles; TRUENO_VULKAN_COOPERATIVE_TENSOR_TILES=
  /// 128 keeps the shape above for them too). On an H100, float16 4096
  /// products 252-254 TFLOP/s against 239-245 with 128x128 tiles of 4
  /// subgroups, 8192 293-297 against 278-281 (docs/PERFORMANCE.md,
  /// fourteenth pass).
  bool cooperativeTensorWideTiles = false;
  /// bfloat16 products take those tiles too (where the device lists the
  /// shape for bfloat16 as well; trueno-tile-matmuls'
  /// cooperative-tensor-wide-bf16).
  bool cooperativeTensorWideBf16 = false;
  /// Tiles inside C add the accumulators to C by matrix loads and stores
  /// of their own, without workgroup memory or barriers
  /// (trueno-tile-matmuls' cooperative-direct;
  /// TRUENO_VULKAN_COOPERATIVE_DIRECT=0 stages every tile).
  bool cooperativeDirect = true;
  /// The cooperative kernel copies its tiles 8 halves (16 bytes) a load
  /// and a store where an input's rows allow it (trueno-tile-matmuls'
  /// cooperative-wide-loads; TRUENO_VULKAN_COOPERATIVE_WIDE_LOADS=0 keeps
  /// groups of 4).
  bool cooperativeWideLoads = true;
  /// bfloat16 products on bfloat16 cooperative matrices (the device's
  /// VK_KHR_shader_bfloat16; trueno-tile-matmuls' cooperative-bf16): MLIR
  /// 19's SPIR-V has no bfloat16, so the kernel is built on float16
  /// matrices that carry the bits, and serialization retypes them
  /// (retypeBFloat16Matrices).
  bool cooperativeBf16 = false;
  /// Workgroup memory a workgroup may have, in bytes
  /// (maxComputeSharedMemorySize): the cooperative kernel's shape is the
  /// one asked for or the nearest that fits.
  std::int64_t maxWorkgroupMemory = 49152;
  /// Workgroups take a product's tiles in groups of this many tile rows,
  /// column by column within a group (trueno-tile-matmuls'
  /// tile-group-rows; TRUENO_VULKAN_MATMUL_TILE_GROUP): 1 takes them row
  /// by row, each wave of workgroups reading a few rows of A against all
  /// of B.
  std::int64_t tileGroupRows = 1;
  /// Matrix products on float32 tiles load the next step's tile elements
  /// into registers before the current step's arithmetic (trueno-tile-
  /// matmuls' prefetch; TRUENO_VULKAN_MATMUL_PREFETCH=1). The cooperative
  /// kernel always does.
  bool matmulPrefetch = false;
  /// Convolutions' products read the input's windows directly, padding
  /// included, instead of an im2col copy (trueno-tile-matmuls'
  /// implicit-gemm; TRUENO_VULKAN_IMPLICIT_GEMM=0 keeps the copies).
  bool implicitGemm = true;
};

/// The cooperative kernel's tiles for `options`' shape (or, with
/// `tensorWide`, the shape cooperativeTensorWideTiles gives products on
/// tensor loads), fitted to its workgroup memory as trueno-tile-matmuls
/// fits them: rows, columns, contraction elements a step and threads a
/// workgroup. None where no shape fits.
struct CooperativeTiles {
  std::int64_t rows = 0, columns = 0, step = 0, threads = 0;
};
std::optional<CooperativeTiles>
cooperativeTiles(const VulkanPipelineOptions &options, bool tensorWide = false);

/// The textual pass pipeline of one stage.
std::string vulkanStagePipeline(VulkanStage stage,
                                const VulkanPipelineOptions &options);

void registerVulkanCodegen(DialectRegistry &registry);
/// Registers the passes and the `trueno-vulkan-pipeline` pass pipeline
/// (options `stop-after=<stage>`, `float64`, `int64`, ...) for trueno-opt.
void registerVulkanPipeline();

/// Runs the stages up to and including `last` on `module`. Emits
/// diagnostics and fails on error.
LogicalResult lowerForVulkan(ModuleOp module,
                             const VulkanPipelineOptions &options = {},
                             VulkanStage last = VulkanStage::Spirv);

/// One compiled kernel: its entry point, its SPIR-V words, its workgroup
/// size, the workgroups its launch runs, and the number of storage buffers
/// it binds (set 0, bindings 0..n-1 in the order of the kernel function's
/// arguments: inputs, then outputs).
struct SpirvKernel {
  std::string entryPoint;
  std::vector<std::uint32_t> words;
  std::array<std::int64_t, 3> workgroupSize{1, 1, 1};
  std::array<std::int64_t, 3> workgroupCount{1, 1, 1};
  int bindings = 0;
  /// Per binding, whether the kernel may write it (1) or only reads it
  /// (0): the runtime puts no barrier between commands that only read what
  /// the other writes nothing of.
  std::vector<std::uint8_t> writes;
};

/// The spirv.modules of a module lowered by lowerForVulkan, serialized, in
/// the order their launches run.
FailureOr<std::vector<SpirvKernel>> serializeKernels(ModuleOp module);

/// What the runtime does for one host function of a lowered module (one
/// kernel of a program's schedule): the scratch buffers its launches share
/// (allocations left in the host function: the values a fused kernel passes
/// from one loop nest to the next) and its launches in order, each binding
/// the function's arguments (inputs, then outputs) or scratch buffers.
struct SpirvFunction {
  struct Buffer {
    /// A function argument, a scratch buffer, or a constant (a
    /// memref.global's bytes, uploaded once with the program).
    enum Kind { Argument, Scratch, Constant } kind = Argument;
    int index = 0;
  };
  struct Launch {
    int kernel = 0; ///< into SpirvProgram::kernels
    std::vector<Buffer> buffers;
  };
  std::string name;
  std::vector<std::int64_t> scratchBytes;
  std::vector<std::vector<std::uint8_t>> constants;
  std::vector<Launch> launches;
};

/// A lowered module, serialized: its kernels and how each host function
/// launches them.
struct SpirvProgram {
  std::vector<SpirvKernel> kernels;
  std::vector<SpirvFunction> functions;
};

/// Fails (with a diagnostic) for a host function doing anything but
/// allocating scratch buffers, taking views of buffers and launching
/// kernels with constant workgroup counts.
FailureOr<SpirvProgram> serializeProgram(ModuleOp module);

/// Retypes the A and B cooperative matrices of a kernel's SPIR-V `words`
/// (OpTypeCooperativeMatrixKHR of float16, use MatrixA or MatrixB) to
/// bfloat16 (SPV_KHR_bfloat16: OpTypeFloat 16 BFloat16KHR, with its
/// capabilities and extension): the cooperative kernel of a bfloat16
/// product, which MLIR 19 can only build on float16 matrices carrying the
/// bits (trueno-tile-matmuls' cooperative-bf16). Fails where the words
/// have no such matrix or are not a SPIR-V module.
LogicalResult retypeBFloat16Matrices(std::vector<std::uint32_t> &words);

/// Retypes the workgroup-matrix kernel's cooperative matrices (SPIR-V
/// words; trueno-tile-matmuls' cooperative-workgroup-scope), 16x16 stand-ins
/// of subgroup scope, to workgroup scope and the workgroup's tiles: A
/// `rows` x `depth`, B `depth` x `columns`, the accumulators `rows` x
/// `columns`. Fails (the words unchanged) where the module has none.
LogicalResult retypeWorkgroupMatrices(std::vector<std::uint32_t> &words,
                                      std::int64_t rows, std::int64_t columns,
                                      std::int64_t depth);

/// Makes the A and B matrix loads of a kernel's SPIR-V `words`
/// (OpCooperativeMatrixLoadKHR, row-major, of a constant stride) tensor
/// loads (OpCooperativeMatrixLoadTensorNV through a two-dimensional tensor
/// layout of the matrix's rows and columns at that stride;
/// SPV_NV_tensor_addressing and SPV_NV_cooperative_matrix2, with their
/// capabilities): the workgroup-matrix kernel's loads from its inputs
/// (trueno-tile-matmuls' cooperative-tensor-loads), which the driver then
/// stages knowing the tile's shape. Fails (the words unchanged) where the
/// module has no such load, or one of another form.
LogicalResult
loadMatricesThroughTensorLayouts(std::vector<std::uint32_t> &words);

/// Moves a kernel's SPIR-V `words` from GLSL450's memory model to Vulkan's,
/// which SPIR-V's validation rules require of modules with cooperative
/// matrices: OpMemoryModel Vulkan and its capability (an extension before
/// SPIR-V 1.5), every access to workgroup memory (and to buffers, where a
/// barrier orders buffer memory) non-private, every barrier's release
/// making the writes before it available and its acquire making them
/// visible (what GLSL450's barriers imply), SequentiallyConsistent
/// semantics as AcquireRelease. Fails (the words unchanged) where the
/// words are not a module, already use the Vulkan memory model, or have
/// what it does not handle (Coherent or Volatile decorations, atomics,
/// memory copies or tensor stores of shared memory, pointers into
/// workgroup memory passed between functions or converted, a barrier of
/// Device scope). The device must enable vulkanMemoryModel.
LogicalResult useVulkanMemoryModel(std::vector<std::uint32_t> &words);

/// The version of encodeSpirvProgram's format; part of every Vulkan cache
/// key.
inline constexpr std::uint32_t kSpirvProgramFormatVersion = 2;
/// A program as bytes (what the disk kernel cache keeps of a Vulkan
/// program), and back. Decoding checks every count, size and index against
/// the bytes and the program's own tables and says what is wrong; it never
/// reads past the bytes or allocates more than they could describe.
std::string encodeSpirvProgram(const SpirvProgram &program);
llvm::Expected<SpirvProgram> decodeSpirvProgram(llvm::StringRef bytes);

} // namespace mlir::trueno

#endif // TRUENO_CODEGEN_VULKAN_PIPELINE_H
