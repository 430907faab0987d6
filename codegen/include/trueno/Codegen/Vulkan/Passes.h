//===- Passes.h - Codegen passes for Vulkan (SPIR-V) ------------*- C++ -*-===//
#ifndef TRUENO_CODEGEN_VULKAN_PASSES_H
#define TRUENO_CODEGEN_VULKAN_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::trueno {

#define GEN_PASS_DECL
#include "trueno/Codegen/Vulkan/Passes.h.inc"

/// The memory spaces convert-gpu-to-spirv's Vulkan mapping makes Workgroup
/// and Function storage (it does not map #gpu.address_space<workgroup>).
inline constexpr int64_t kWorkgroupMemorySpace = 3;
inline constexpr int64_t kFunctionMemorySpace = 6;

/// On the cooperative kernel's gpu.subgroup_mma_compute ops where its
/// float16 matrices carry bfloat16 bits (trueno-tile-matmuls'
/// cooperative-bf16): serializeProgram retypes that kernel's A and B
/// matrices to bfloat16 (retypeBFloat16Matrices, Pipeline.h).
inline constexpr llvm::StringLiteral kBFloat16MatricesAttr = "trueno.bfloat16";

/// On the workgroup-matrix kernel's one gpu.subgroup_mma_compute
/// (trueno-tile-matmuls' cooperative-workgroup-scope): [rows, columns,
/// depth] of the workgroup's product a step. Its 16x16 matrices stand for
/// the workgroup's whole tiles, and serializeProgram retypes them to
/// workgroup scope and those sizes (retypeWorkgroupMatrices, Pipeline.h;
/// VK_NV_cooperative_matrix2).
inline constexpr llvm::StringLiteral kWorkgroupMatricesAttr =
    "trueno.workgroup_matrices";

/// On the workgroup-matrix kernel's gpu.subgroup_mma_compute where its
/// matrices are loaded from the inputs (trueno-tile-matmuls'
/// cooperative-tensor-loads): serializeProgram makes those loads tensor
/// loads (loadMatricesThroughTensorLayouts, Pipeline.h).
inline constexpr llvm::StringLiteral kTensorLoadsAttr = "trueno.tensor_loads";

/// A gpu.launch of `groups` x `threads` threads (one-dimensional) at the
/// builder's insertion point, with its terminator; the builder stays where
/// it was. The passes that emit kernels (trueno-map-to-workgroups,
/// -workgroup-reductions, -tile-matmuls) all start from it.
gpu::LaunchOp createLaunch(OpBuilder &b, Location loc, int64_t groups,
                           int64_t threads);

/// `combiner`'s operation (a reduction body's) applied to `a` and `b`,
/// with its attributes (fastmath flags), at the builder's insertion point.
Value combineLike(OpBuilder &builder, Location loc, Operation *combiner,
                  Value a, Value b);

/// The function argument or allocation `memref` is a view of (through
/// subviews, reinterpret casts, reshapes), or null when it comes from
/// anything else.
Value rootBuffer(Value memref);

/// Whether `root` (a function argument or allocation) is known to share no
/// memory with any other root: an allocation, or an argument the kernel ABI
/// marks `llvm.noalias`. Both are defined in RegisterAccumulators.cpp.
bool isDistinctBuffer(Value root);

#define GEN_PASS_REGISTRATION
#include "trueno/Codegen/Vulkan/Passes.h.inc"

} // namespace mlir::trueno

#endif // TRUENO_CODEGEN_VULKAN_PASSES_H
