// trueno-reverse-mode: gradient requests become backward trueno ops.
// RUN: trueno-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(trueno-reverse-mode))' | FileCheck %s

// d/dx sum(exp(x) * w): the seed flows through the sum (reshape and
// expand back to x's shape), then exp's rule multiplies by its result.
// CHECK-LABEL: func.func @exp_mul_sum
// CHECK-NOT:     trueno.gradient
// CHECK:         %[[E:.*]] = trueno.exp %arg0
// CHECK:         %[[G:.*]] = trueno.expand %{{.*}} : tensor<1x1xf32> to tensor<2x3xf32>
// CHECK:         %[[GE:.*]] = trueno.mul %[[G]], %arg1
// CHECK:         %[[GX:.*]] = trueno.mul %[[GE]], %[[E]]
// CHECK:         return %[[GX]]
func.func @exp_mul_sum(%x: tensor<2x3xf32>, %w: tensor<2x3xf32>, %one: tensor<f32>) -> tensor<2x3xf32> {
  %e = trueno.exp %x : tensor<2x3xf32>
  %m = trueno.mul %e, %w : tensor<2x3xf32>
  %s = trueno.reduce_sum %m dims = [0, 1] : tensor<2x3xf32> -> tensor<f32>
  %g = trueno.gradient %s, %one wrt %x : tensor<f32>, tensor<2x3xf32>
  return %g : tensor<2x3xf32>
}

// -----

// A value realized before the gradient was asked for: exp's rule and the
// forward's reader (the mul) read the stored value %saved, and the stored
// op is gone; the exp itself is dead (canonicalization removes it).
// CHECK-LABEL: func.func @stored_value
// CHECK-NOT:     trueno.stored
// CHECK:         trueno.mul %arg3, %arg1
// CHECK:         %[[GE:.*]] = trueno.mul %{{.*}}, %arg1
// CHECK:         %[[GX:.*]] = trueno.mul %[[GE]], %arg3
// CHECK:         return %[[GX]]
func.func @stored_value(%x: tensor<2x3xf32>, %w: tensor<2x3xf32>, %one: tensor<f32>, %saved: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %e = trueno.exp %x : tensor<2x3xf32>
  %s = trueno.stored %e, %saved : tensor<2x3xf32>
  %m = trueno.mul %s, %w : tensor<2x3xf32>
  %r = trueno.reduce_sum %m dims = [0, 1] : tensor<2x3xf32> -> tensor<f32>
  %g = trueno.gradient %r, %one wrt %x : tensor<f32>, tensor<2x3xf32>
  return %g : tensor<2x3xf32>
}

// -----

// Gradient checkpointing: the region's ops (trueno.recompute) are copied
// before the first backward op that reads them, marked trueno.recomputed
// so CSE keeps them apart, and the backward ops read the copies.
// CHECK-LABEL: func.func @checkpointed
// CHECK:         %[[E:.*]] = trueno.exp %arg0 {trueno.recompute = 1 : i32}
// CHECK:         %[[T:.*]] = trueno.tanh %[[E]] {trueno.recompute = 1 : i32}
// CHECK:         trueno.reduce_sum %[[T]]
// CHECK:         %[[E2:.*]] = trueno.exp %arg0 {trueno.recomputed = 1 : i32}
// CHECK:         %[[T2:.*]] = trueno.tanh %[[E2]] {trueno.recomputed = 1 : i32}
// CHECK:         trueno.mul %[[T2]], %[[T2]] :
// CHECK:         %[[G:.*]] = trueno.mul %{{.*}}, %[[E2]] :
// CHECK:         return %[[G]]
func.func @checkpointed(%x: tensor<4xf32>, %one: tensor<f32>) -> tensor<4xf32> {
  %e = trueno.exp %x {trueno.recompute = 1 : i32} : tensor<4xf32>
  %t = trueno.tanh %e {trueno.recompute = 1 : i32} : tensor<4xf32>
  %s = trueno.reduce_sum %t dims = [0] : tensor<4xf32> -> tensor<f32>
  %g = trueno.gradient %s, %one wrt %x : tensor<f32>, tensor<4xf32>
  return %g : tensor<4xf32>
}

// -----

// Two requests of one gradient (same output, seed and input) share one
// sweep and get the same value.
// CHECK-LABEL: func.func @same_request_twice
// CHECK-NOT:     trueno.gradient
// CHECK:         %[[Y:.*]] = trueno.exp %arg0
// CHECK-NEXT:    %[[D:.*]] = trueno.mul %arg1, %[[Y]]
// CHECK-NEXT:    return %[[D]], %[[D]]
func.func @same_request_twice(%x: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %y = trueno.exp %x : tensor<4xf32>
  %d1 = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  %d2 = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d1, %d2 : tensor<4xf32>, tensor<4xf32>
}

// -----

// The gradient of an argument with respect to itself is the seed; with
// respect to another argument, zeros.
// CHECK-LABEL: func.func @of_an_argument
// CHECK-NEXT:    %[[Z:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[E:.*]] = trueno.expand %[[Z]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    return %arg2, %[[E]]
func.func @of_an_argument(%x: tensor<4xf32>, %w: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %dx = trueno.gradient %x, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  %dw = trueno.gradient %x, %g wrt %w : tensor<4xf32>, tensor<4xf32>
  return %dx, %dw : tensor<4xf32>, tensor<4xf32>
}
