//===- Pipeline.h - The ordered compile stages for the host CPU -*- C++ -*-===//
//
// One ordered enum of the stages a kernel goes through, the pass pipeline of
// each, and a driver that runs them (optionally stopping early and showing
// the IR after each stage, as TRUENO_DEBUG=3 and trueno-opt do).
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_CODEGEN_PIPELINE_H
#define TRUENO_CODEGEN_PIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/LogicalResult.h"

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace mlir::trueno {

/// The compile stages, in the order they run. Each names the IR after it.
enum class Stage {
  Linalg,     ///< trueno ops as linalg.generic on tensors
  Fused,      ///< elementwise generics fused, broadcasts folded into reads
  Bufferized, ///< kernel calling convention, memrefs, no tensors left
  Loops,      ///< scf/cf loops, float32 math as polynomials
  LLVM,       ///< the LLVM dialect, ready for translation and the JIT
};
inline constexpr Stage kLastStage = Stage::LLVM;

llvm::StringRef stageName(Stage stage);
std::optional<Stage> parseStage(llvm::StringRef name);

/// What the target tells the pipeline: its capabilities and the sizes its
/// caches make worthwhile (the runtime fills it from its CompileTarget; the
/// defaults suit a core with 1 MiB of L2).
struct CpuPipelineOptions {
  /// The target computes float64 (the scalar recipes' ScalarTarget).
  bool float64 = true;
  /// The target rounds vectors to integers in one instruction (SSE4.1's
  /// roundps); otherwise trueno-math-polynomial rounds with arithmetic.
  bool roundingInstructions = true;
  /// The target has fused multiply-add (FMA3); otherwise
  /// trueno-math-polynomial writes the polynomials' fma as mul and add.
  bool fmaInstructions = true;
  /// The target converts float32 to bfloat16 in one instruction
  /// (AVX512-BF16); otherwise trueno-expand-bf16 does it with integer ops.
  bool bfloat16Instructions = false;
  /// Blocks of rows trueno-tile-rows computes at a time (a sixteenth of L2).
  std::int64_t tileRowsBytes = 64 << 10;
  /// Operands trueno-tile-transposes tiles for (a quarter of L2).
  std::int64_t transposeMinBytes = 256 << 10;
};

/// The textual pass pipeline of one stage.
std::string stagePipeline(Stage stage, const CpuPipelineOptions &options = {});

/// Dialects, external models and translations the pipeline needs.
void registerCpuCodegen(DialectRegistry &registry);
/// Registers the passes the pipeline names, and the `trueno-cpu-pipeline`
/// pass pipeline (option `stop-after=<stage>`) for trueno-opt.
void registerCpuPipeline();

/// Runs the stages up to and including `last` on `module`, calling
/// `afterStage` after each one. Emits diagnostics and fails on error.
LogicalResult
lowerForCpu(ModuleOp module, const CpuPipelineOptions &options = {},
            Stage last = kLastStage,
            const std::function<void(Stage, ModuleOp)> &afterStage = {});

} // namespace mlir::trueno

#endif // TRUENO_CODEGEN_PIPELINE_H
