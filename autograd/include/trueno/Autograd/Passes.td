//===- Passes.td - IR-level reverse-mode differentiation ---*- tablegen -*-===//
#ifndef TRUENO_AUTOGRAD_PASSES_TD
#define TRUENO_AUTOGRAD_PASSES_TD

include "mlir/Pass/PassBase.td"

def ReverseMode : Pass<"trueno-reverse-mode", "::mlir::func::FuncOp"> {
  let summary = "Replace trueno.gradient ops by the backward trueno ops";
  let description = [{
    Expands every `trueno.gradient %output, %seed wrt %x` of a function into
    trueno ops, in the order they appear (so a gradient of a function that
    already holds gradients, a second derivative, differentiates their
    expansion). Gradients that share `%output` and `%seed` share one
    reverse sweep:

    1. The values that depend on any requested `%x` are marked (forward
       reachability); only ops that read a marked value are differentiated.
    2. Walking the function backwards from `%output`'s definition, each such
       op whose result has an adjoint emits its operands' gradients through
       its `GradientOpInterface` rule (autograd/lib/GradientRules.cpp);
       gradients of a value used several times are summed.
    3. Each `trueno.gradient` becomes the adjoint of its `%x`, or zeros when
       `%output` does not depend on it.

    The backward ops are inserted before the first gradient op of the
    group and read the forward values directly: whether a forward value is
    kept in memory or recomputed in a backward kernel is fusion's choice
    (trueno-form-kernels recomputes cheap elementwise chains and keeps
    products and reductions). An op on a differentiated path without a rule
    is an error naming it.
  }];
  let dependentDialects = ["::mlir::trueno::TruenoDialect"];
}

#endif // TRUENO_AUTOGRAD_PASSES_TD
