// Movement ops: how each lowers (LINALG), that fusion reads through them so
// a chain with a transpose, reshape or slice in the middle is one loop nest
// (FUSED), and that inputs' producers write straight into their windows of
// a concat or pad and a reshaped result straight into its output (BUF).
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=linalg -split-input-file | FileCheck %s --check-prefix=LINALG
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=fused -split-input-file | FileCheck %s --check-prefix=FUSED
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=bufferized -split-input-file | FileCheck %s --check-prefix=BUF

// A transpose is a copy through a permuted map, which fusion folds into
// its neighbours: (a * b).mT().exp() is one generic over [4, 3] reading a
// and b transposed.
// LINALG-DAG: #[[T:.*]] = affine_map<(d0, d1) -> (d1, d0)>
// LINALG-LABEL: func.func @transpose_chain
// LINALG: linalg.generic {indexing_maps = [#[[T]], #{{.*}}]
// LINALG-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// LINALG-NEXT: linalg.yield %[[IN]]
// FUSED-DAG: #[[T:.*]] = affine_map<(d0, d1) -> (d1, d0)>
// FUSED-LABEL: func.func @transpose_chain
// FUSED-COUNT-1: linalg.generic {indexing_maps = [#[[T]], #[[T]], #{{.*}}]
// FUSED: arith.mulf
// FUSED-NEXT: math.exp
// FUSED-NOT: linalg.generic
func.func @transpose_chain(%a: tensor<3x4xf32>, %b: tensor<3x4xf32>) -> tensor<4x3xf32> {
  %m = trueno.mul %a, %b : tensor<3x4xf32>
  %t = trueno.transpose %m permutation = [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  %e = trueno.exp %t : tensor<4x3xf32>
  return %e : tensor<4x3xf32>
}

// -----

// A reshape that splits dimensions is a tensor.expand_shape; fusion moves
// it to the input, and the two elementwise ops become one generic.
// LINALG-LABEL: func.func @reshape_split
// LINALG: tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [3, 4] : tensor<12xf32> into tensor<3x4xf32>
// FUSED-LABEL: func.func @reshape_split
// FUSED: tensor.expand_shape %arg0
// FUSED-COUNT-1: linalg.generic
// FUSED: arith.negf
// FUSED-NEXT: arith.maximumf
// FUSED-NOT: linalg.generic
func.func @reshape_split(%a: tensor<12xf32>) -> tensor<3x4xf32> {
  %m = trueno.neg %a : tensor<12xf32>
  %r = trueno.reshape %m : tensor<12xf32> -> tensor<3x4xf32>
  %e = trueno.relu %r : tensor<3x4xf32>
  return %e : tensor<3x4xf32>
}

// -----

// A reshape that merges dimensions is a collapse_shape of the fused
// result, which then reaches its output through a view of the output, not
// a copy.
// LINALG-LABEL: func.func @reshape_merge
// LINALG: tensor.collapse_shape %{{.*}} {{\[}}[0, 1]] : tensor<3x4xf32> into tensor<12xf32>
// FUSED-LABEL: func.func @reshape_merge
// FUSED-COUNT-1: linalg.generic
// FUSED-NOT: linalg.generic
// BUF-LABEL: func.func @reshape_merge
// BUF: %[[VIEW:.*]] = memref.expand_shape %arg1 {{\[}}[0, 1]] output_shape [3, 4] : memref<12xf32> into memref<3x4xf32>
// BUF: linalg.generic
// BUF-SAME: outs(%[[VIEW]] : memref<3x4xf32>)
// BUF-NOT: memref.copy
// BUF-NOT: memref.alloc
func.func @reshape_merge(%a: tensor<3x4xf32>) -> tensor<12xf32> {
  %m = trueno.neg %a : tensor<3x4xf32>
  %r = trueno.reshape %m : tensor<3x4xf32> -> tensor<12xf32>
  %e = trueno.relu %r : tensor<12xf32>
  return %e : tensor<12xf32>
}

// -----

// Any other reshape goes through one dimension.
// LINALG-LABEL: func.func @reshape_general
// BUF-LABEL: func.func @reshape_general
// LINALG: tensor.collapse_shape %arg0 {{\[}}[0, 1]] : tensor<3x4xf32> into tensor<12xf32>
// LINALG: tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [2, 6] : tensor<12xf32> into tensor<2x6xf32>
func.func @reshape_general(%a: tensor<3x4xf32>) -> tensor<2x6xf32> {
  %r = trueno.reshape %a : tensor<3x4xf32> -> tensor<2x6xf32>
  return %r : tensor<2x6xf32>
}

// -----

// A slice reads through an affine map (here x[9::-3]); exp is computed
// for the four elements kept only.
// LINALG-DAG: #[[S:.*]] = affine_map<(d0) -> (d0 * -3 + 9)>
// LINALG-LABEL: func.func @slice_of_pending
// FUSED-DAG: #[[S:.*]] = affine_map<(d0) -> (d0 * -3 + 9)>
// FUSED-LABEL: func.func @slice_of_pending
// BUF-LABEL: func.func @slice_of_pending
// FUSED-COUNT-1: linalg.generic {indexing_maps = [#[[S]], #{{.*}}]{{.*}} ins(%arg0 : tensor<10xf32>) outs(%{{.*}} : tensor<4xf32>)
// FUSED: math.exp
// FUSED-NEXT: arith.negf
// FUSED-NOT: linalg.generic
func.func @slice_of_pending(%a: tensor<10xf32>) -> tensor<4xf32> {
  %m = trueno.exp %a : tensor<10xf32>
  %s = trueno.slice %m offsets = [9] steps = [-3] : tensor<10xf32> -> tensor<4xf32>
  %e = trueno.neg %s : tensor<4xf32>
  return %e : tensor<4xf32>
}

// -----

// cat({a + 1, b * 2}): each input's generic writes its window of the
// output directly.
// LINALG-LABEL: func.func @concat_two
// LINALG: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<6x3xf32>
// LINALG: tensor.insert_slice %{{.*}} into %{{.*}}[2, 0] [4, 3] [1, 1] : tensor<4x3xf32> into tensor<6x3xf32>
// FUSED-LABEL: func.func @concat_two
// BUF-LABEL: func.func @concat_two
// BUF: %[[W0:.*]] = memref.subview %arg2[0, 0] [2, 3] [1, 1]
// BUF: linalg.generic {{.*}} outs(%[[W0]]
// BUF: %[[W1:.*]] = memref.subview %arg2[2, 0] [4, 3] [1, 1]
// BUF: linalg.generic {{.*}} outs(%[[W1]]
// BUF-NOT: memref.copy
// BUF-NOT: memref.alloc
func.func @concat_two(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) -> tensor<6x3xf32> {
  %one = trueno.constant dense<1.0> : tensor<2x3xf32>
  %two = trueno.constant dense<2.0> : tensor<4x3xf32>
  %x = trueno.add %a, %one : tensor<2x3xf32>
  %y = trueno.mul %b, %two : tensor<4x3xf32>
  %c = trueno.concat %x, %y dim = 0 : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<6x3xf32>
  return %c : tensor<6x3xf32>
}

// -----

// pad: the output filled with the value, the input's producer writing its
// strided window (interior padding 1 along the rows: stride 2).
// LINALG-LABEL: func.func @pad_producer
// LINALG: %[[V:.*]] = tensor.extract %arg1[] : tensor<f32>
// LINALG: %[[F:.*]] = linalg.fill ins(%[[V]] : f32)
// LINALG: tensor.insert_slice %{{.*}} into %[[F]][1, 0] [3, 4] [2, 1] : tensor<3x4xf32> into tensor<6x6xf32>
// BUF-LABEL: func.func @pad_producer
// BUF: linalg.fill ins(%{{.*}} : f32) outs(%arg2 : memref<6x6xf32>)
// BUF: %[[W:.*]] = memref.subview %arg2[1, 0] [3, 4] [2, 1]
// BUF: linalg.generic {{.*}} outs(%[[W]]
// BUF: math.exp
// BUF-NOT: memref.copy
func.func @pad_producer(%a: tensor<3x4xf32>, %v: tensor<f32>) -> tensor<6x6xf32> {
  %e = trueno.exp %a : tensor<3x4xf32>
  %p = trueno.pad %e, %v low = [1, 0] high = [0, 2] interior = [1, 0] : tensor<3x4xf32>, tensor<f32> -> tensor<6x6xf32>
  return %p : tensor<6x6xf32>
}

// -----

// insert_slice with a negative step writes the source reversed at a
// positive stride: positions 5, 3, 1 are positions 1, 3, 5 backwards.
// LINALG-DAG: #[[R:.*]] = affine_map<(d0) -> (-d0 + 2)>
// LINALG-LABEL: func.func @insert_backwards
// BUF-LABEL: func.func @insert_backwards
// LINALG: %[[REV:.*]] = linalg.generic {indexing_maps = [#[[R]], #{{.*}}]
// LINALG: tensor.insert_slice %[[REV]] into %arg0[1] [3] [2] : tensor<3xf32> into tensor<6xf32>
func.func @insert_backwards(%a: tensor<6xf32>, %b: tensor<3xf32>) -> tensor<6xf32> {
  %r = trueno.insert_slice %b into %a offsets = [5] steps = [-2] : tensor<3xf32> into tensor<6xf32>
  return %r : tensor<6xf32>
}

// -----

// scatter_add: a sequential loop nest over the source in row-major order
// (repeated positions add up in order), updating the result in place.
// LINALG-LABEL: func.func @scatter
// LINALG: scf.for %[[I:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %arg0)
// LINALG: %[[AT:.*]] = tensor.extract %arg1[%[[I]]] : tensor<3xi64>
// LINALG: %[[POS:.*]] = arith.index_cast %[[AT]] : i64 to index
// LINALG: %[[X:.*]] = tensor.extract %arg2[%[[I]]]
// LINALG: %[[OLD:.*]] = tensor.extract %[[ACC]][%[[POS]]]
// LINALG: %[[SUM:.*]] = arith.addf %[[X]], %[[OLD]]
// LINALG: tensor.insert %[[SUM]] into %[[ACC]][%[[POS]]]
// BUF-LABEL: func.func @scatter
// BUF: memref.copy %arg0, %arg3
// BUF: scf.for
// BUF: memref.store %{{.*}}, %arg3
func.func @scatter(%a: tensor<5xf32>, %i: tensor<3xi64>, %s: tensor<3xf32>) -> tensor<5xf32> {
  %r = trueno.scatter_add %a, %i, %s dim = 0 : tensor<5xf32>, tensor<3xi64>, tensor<3xf32>
  return %r : tensor<5xf32>
}

// -----

// scatter: the same loop, storing instead of adding (the last write in
// row-major order wins).
// LINALG-LABEL: func.func @scatter_assign
// LINALG: scf.for %[[I:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %arg0)
// LINALG: %[[X:.*]] = tensor.extract %arg2[%[[I]]]
// LINALG-NOT: arith.addf
// LINALG: tensor.insert %[[X]] into %[[ACC]]
func.func @scatter_assign(%a: tensor<5xf32>, %i: tensor<3xi64>, %s: tensor<3xf32>) -> tensor<5xf32> {
  %r = trueno.scatter %a, %i, %s dim = 0 : tensor<5xf32>, tensor<3xi64>, tensor<3xf32>
  return %r : tensor<5xf32>
}
