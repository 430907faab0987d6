//===- trueno-opt.cpp - mlir-opt for the trueno dialect -------------------===//
//
// Parses, verifies, transforms and prints IR in the trueno dialect, with the
// upstream dialects and passes that Trueno's pipelines use, the graph passes
// (`trueno-graph-pipeline`: canonicalize, CSE, fusion into kernels) and the
// staged `trueno-cpu-pipeline{stop-after=linalg|fused|bufferized|loops|llvm}`
// and `trueno-vulkan-pipeline{stop-after=linalg|fused|bufferized|gpu|spirv}`.
// Registers only those dialects (not registerAllDialects) to keep the build
// light.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Cpu/Pipeline.h"
#include "trueno/Codegen/Passes.h"
#include "trueno/Codegen/Vulkan/Pipeline.h"
#include "trueno/IR/TruenoDialect.h"
#include "trueno/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::trueno::registerCpuPipeline();
  mlir::trueno::registerVulkanPipeline();
  mlir::trueno::registerGraphPasses();
  mlir::DialectRegistry registry;
  mlir::trueno::registerVulkanCodegen(registry); // the CPU's dialects too
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Trueno optimizer driver\n", registry));
}
