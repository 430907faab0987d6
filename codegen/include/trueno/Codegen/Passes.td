//===- Passes.td - Target-independent codegen passes -------*- tablegen -*-===//
//
// Lowerings every backend shares; the CPU's own passes are in Cpu/Passes.td.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_CODEGEN_PASSES_TD
#define TRUENO_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTruenoToLinalg : Pass<"convert-trueno-to-linalg", "::mlir::ModuleOp"> {
  let summary = "Lower trueno ops to linalg.generic on tensors";
  let description = [{
    Every elementwise trueno op becomes a `linalg.generic` with identity maps
    whose body is arith/math on scalars; `trueno.expand` becomes a generic
    whose input map drops broadcast dimensions, so that
    `linalg-fuse-elementwise-ops` folds it into its consumers and the expanded
    operand is read through a zero stride, never materialized.

    Contract: every trueno op in the module is converted, or the pass fails.
    Element types map to signless ones (`ui8` becomes `i8`, with unsigned
    arithmetic chosen from the original type); `f16` and `bf16` compute in
    `f32` and round back when stored. Conversions follow docs/DTYPES.md
    (float to integer follows x86-64 NumPy rather than LLVM's poison).
  }];
  let options = [
    Option<"float64", "float64", "bool", /*default=*/"true",
           "The target computes float64 (float32 sin and cos then go "
           "through float64; ScalarRecipes.h)">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::func::FuncDialect"];
}

#endif // TRUENO_CODEGEN_PASSES_TD
