// trueno-reverse-mode reports an op on a differentiated path that has no
// gradient rule (here ops of another dialect).
// RUN: trueno-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(trueno-reverse-mode))' -verify-diagnostics

func.func @no_rule(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'arith.addf' op has no gradient rule, but trueno.gradient differentiates through it}}
  %y = arith.addf %x, %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// An op of several results has no rule either, whichever result the
// gradient flows into.
func.func private @halves(tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)

func.func @several_results(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{'func.call' op has no gradient rule, but trueno.gradient differentiates through it}}
  %h:2 = func.call @halves(%x) : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>)
  %y = trueno.exp %h#1 : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}
