// The graph pipeline: CSE merges a value the user computed twice before
// fusion, so the kernel computes it once and returns it for both results.
// RUN: trueno-opt %s -trueno-graph-pipeline | FileCheck %s

// CHECK-LABEL: func.func @recomputed(
// CHECK-NEXT:    %[[R:.*]]:2 = call @recomputed_kernel0(%arg0, %arg1)
// CHECK-NEXT:    return %[[R]]#0, %[[R]]#1
// CHECK:       func.func private @recomputed_kernel0
// CHECK-COUNT-1: trueno.mul
// CHECK-NOT:     trueno.mul
// CHECK:         return
func.func @recomputed(%a: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %0 = trueno.mul %a, %b : tensor<8xf32>
  %1 = trueno.mul %a, %b : tensor<8xf32>
  %2 = trueno.exp %1 : tensor<8xf32>
  return %0, %2 : tensor<8xf32>, tensor<8xf32>
}

// Folding removes a double negation; what is left is a copy of the
// argument, by a kernel of its own.
// CHECK-LABEL: func.func @folded(
// CHECK-NEXT:    %[[C:.*]] = call @folded_kernel0(%arg0)
// CHECK-NEXT:    return %[[C]]
// CHECK:       func.func private @folded_kernel0(%[[A:.*]]: tensor<8xf32>)
// CHECK-NEXT:    return %[[A]]
func.func @folded(%a: tensor<8xf32>) -> tensor<8xf32> {
  %0 = trueno.neg %a : tensor<8xf32>
  %1 = trueno.neg %0 : tensor<8xf32>
  return %1 : tensor<8xf32>
}
