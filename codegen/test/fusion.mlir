// The CPU pipeline's fusion stage: a chain of elementwise ops over broadcast
// operands becomes a single loop nest (one linalg.generic) that reads the
// broadcast operands through their indexing maps, never materializing them.
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=fused -split-input-file | FileCheck %s

// Ten elementwise ops over a [4, 8] input, a row [8] and a column [4, 1].
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func @ten_op_chain
// CHECK-COUNT-1: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @ten_op_chain(%x: tensor<4x8xf32>, %row: tensor<8xf32>, %col: tensor<4x1xf32>) -> tensor<4x8xf32> {
  %r = trueno.expand %row : tensor<8xf32> to tensor<4x8xf32>
  %c = trueno.expand %col : tensor<4x1xf32> to tensor<4x8xf32>
  %0 = trueno.mul %x, %r : tensor<4x8xf32>
  %1 = trueno.add %0, %c : tensor<4x8xf32>
  %2 = trueno.exp %1 : tensor<4x8xf32>
  %3 = trueno.neg %2 : tensor<4x8xf32>
  %4 = trueno.tanh %3 : tensor<4x8xf32>
  %5 = trueno.sub %4, %r : tensor<4x8xf32>
  %6 = trueno.abs %5 : tensor<4x8xf32>
  %7 = trueno.sqrt %6 : tensor<4x8xf32>
  %8 = trueno.maximum %7, %c : tensor<4x8xf32>
  %9 = trueno.sigmoid %8 : tensor<4x8xf32>
  return %9 : tensor<4x8xf32>
}

// -----

// Casts and comparisons fuse too: the whole chain is one kernel.
// CHECK-LABEL: func @mixed_dtypes
// CHECK-COUNT-1: linalg.generic
// CHECK-NOT: linalg.generic
func.func @mixed_dtypes(%x: tensor<16xf16>, %y: tensor<16xi32>) -> tensor<16xf32> {
  %0 = trueno.cast %x : tensor<16xf16> to tensor<16xf32>
  %1 = trueno.cast %y : tensor<16xi32> to tensor<16xf32>
  %2 = trueno.gt %0, %1 : tensor<16xf32> -> tensor<16xi1>
  %3 = trueno.where %2, %0, %1 : tensor<16xi1>, tensor<16xf32>
  return %3 : tensor<16xf32>
}
