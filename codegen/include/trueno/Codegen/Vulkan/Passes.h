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
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::trueno {

#define GEN_PASS_DECL
#include "trueno/Codegen/Vulkan/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "trueno/Codegen/Vulkan/Passes.h.inc"

} // namespace mlir::trueno

#endif // TRUENO_CODEGEN_VULKAN_PASSES_H
