// The gradient ops (trueno.gradient, trueno.detach, trueno.stored) parse,
// verify and print back. They never reach codegen: trueno-reverse-mode
// expands or removes them, so they are apart from ops.mlir, which
// codegen's every-op test lowers.
// RUN: trueno-opt %s | FileCheck %s
// RUN: trueno-opt %s | trueno-opt | FileCheck %s
// RUN: trueno-opt %s -mlir-print-op-generic | trueno-opt | FileCheck %s

// CHECK-LABEL: func @gradients
func.func @gradients(%x: tensor<3xf32>, %saved: tensor<3xf32>, %one: tensor<f32>) {
  %e = trueno.exp %x : tensor<3xf32>
  // CHECK: = trueno.stored %{{.*}}, %{{.*}} : tensor<3xf32>
  %s = trueno.stored %e, %saved : tensor<3xf32>
  // CHECK: = trueno.detach %{{.*}} : tensor<3xf32>
  %d = trueno.detach %s : tensor<3xf32>
  %r = trueno.reduce_sum %d dims = [0] : tensor<3xf32> -> tensor<f32>
  // CHECK: = trueno.gradient %{{.*}}, %{{.*}} wrt %{{.*}} : tensor<f32>, tensor<3xf32>
  %g = trueno.gradient %r, %one wrt %x : tensor<f32>, tensor<3xf32>
  return
}
