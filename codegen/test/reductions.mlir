// Reductions lower to a generic with reduction iterators accumulating into
// an output filled with the identity; elementwise producers fuse into it.
// RUN: trueno-opt %s -convert-trueno-to-linalg -split-input-file | FileCheck %s
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=fused -split-input-file | FileCheck %s --check-prefix=FUSED

// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROWS:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @sum_rows
// CHECK:         %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32)
// CHECK:         linalg.generic {indexing_maps = [#[[ID]], #[[ROWS]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME:      outs(%[[INIT]] : tensor<4xf32>)
// CHECK:           arith.addf
// FUSED-LABEL: func.func @sum_rows
// FUSED-COUNT-1: linalg.generic
// FUSED-NOT:     linalg.generic
// FUSED:         math.exp
func.func @sum_rows(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %e = trueno.exp %x : tensor<4x8xf32>
  %s = trueno.reduce_sum %e dims = [1] : tensor<4x8xf32> -> tensor<4xf32>
  return %s : tensor<4xf32>
}

// -----

// A maximum over values that cannot be NaN (NaN replaced by a bool converted
// to float, as softmax's row maximum) needs no NaN propagation: maxnumf
// under nnan and nsz, one vmaxps. A where() without the isnan of its other
// operand proves nothing, and keeps maximumf.
// CHECK-LABEL: func.func @max_without_nan
// CHECK:         linalg.generic
// CHECK:           arith.maxnumf %{{.*}}, %{{.*}} fastmath<nnan,nsz> : f32
// CHECK:         linalg.generic
// CHECK:           arith.maximumf
func.func @max_without_nan(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %nan = trueno.isnan %x : tensor<4x8xf32> -> tensor<4x8xi1>
  %one = trueno.cast %nan : tensor<4x8xi1> to tensor<4x8xf32>
  %clean = trueno.where %nan, %one, %x : tensor<4x8xi1>, tensor<4x8xf32>
  %m = trueno.reduce_max %clean dims = [1] : tensor<4x8xf32> -> tensor<4xf32>
  %other = trueno.where %nan, %one, %y : tensor<4x8xi1>, tensor<4x8xf32>
  %n = trueno.reduce_max %other dims = [1] : tensor<4x8xf32> -> tensor<4xf32>
  return %m, %n : tensor<4xf32>, tensor<4xf32>
}

// -----

// keepdim reads the kept dimension at 0; max propagates NaN (maximumf) from
// -inf; unsigned and bool use unsigned comparisons from their lowest value.
// CHECK-DAG: #[[KEPT:.*]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-LABEL: func.func @max_kept
// CHECK:         arith.constant 0xFF800000 : f32
// CHECK:         linalg.generic {indexing_maps = [#{{.*}}, #[[KEPT]]], iterator_types = ["reduction", "parallel"]}
// CHECK:           arith.maximumf
// CHECK:         arith.constant 0 : i8
// CHECK:           arith.maxui
// CHECK:         arith.constant true
// CHECK:           arith.minui
func.func @max_kept(%x: tensor<4x8xf32>, %u: tensor<4x8xui8>, %b: tensor<4x8xi1>) -> (tensor<1x8xf32>, tensor<ui8>, tensor<i1>) {
  %m = trueno.reduce_max %x dims = [0] : tensor<4x8xf32> -> tensor<1x8xf32>
  %n = trueno.reduce_max %u dims = [0, 1] : tensor<4x8xui8> -> tensor<ui8>
  %a = trueno.reduce_min %b dims = [0, 1] : tensor<4x8xi1> -> tensor<i1>
  return %m, %n, %a : tensor<1x8xf32>, tensor<ui8>, tensor<i1>
}

// -----

// A whole-tensor reduction is split into 64 partial sums (a parallel loop)
// and a final sum of the partials; small or indivisible ones stay whole.
// RUN: trueno-opt %s -split-input-file -convert-trueno-to-linalg -trueno-split-reductions | FileCheck %s --check-prefix=SPLIT
// SPLIT-LABEL: func.func @whole_sum
// SPLIT:         tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [64, 1024] : tensor<65536xf32> into tensor<64x1024xf32>
// SPLIT:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// SPLIT:         linalg.generic {{.*}} iterator_types = ["reduction"]
// SPLIT-LABEL: func.func @small_sum
// SPLIT-NOT:     tensor.expand_shape
// SPLIT-LABEL: func.func @odd_sum
// SPLIT-NOT:     tensor.expand_shape
func.func @whole_sum(%x: tensor<65536xf32>) -> tensor<f32> {
  %s = trueno.reduce_sum %x dims = [0] : tensor<65536xf32> -> tensor<f32>
  return %s : tensor<f32>
}
func.func @small_sum(%x: tensor<1024xf32>) -> tensor<f32> {
  %s = trueno.reduce_sum %x dims = [0] : tensor<1024xf32> -> tensor<f32>
  return %s : tensor<f32>
}
func.func @odd_sum(%x: tensor<65537xf32>) -> tensor<f32> {
  %s = trueno.reduce_sum %x dims = [0] : tensor<65537xf32> -> tensor<f32>
  return %s : tensor<f32>
}
// A maximum over values proven not NaN (maxnumf, fastmath<nnan>, as
// softmax's): its partial maxima start from -inf, not from maxnumf's
// neutral element NaN, which the CPU's vmaxps would keep.
// SPLIT-LABEL: func.func @whole_maxnum
// SPLIT-DAG:     %[[LOW:.*]] = arith.constant 0xFF800000 : f32
// SPLIT:         linalg.fill ins(%[[LOW]] : f32) outs(%{{.*}} : tensor<64xf32>)
// SPLIT:         linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]
// SPLIT:           arith.maxnumf
// SPLIT:         linalg.generic {{.*}} iterator_types = ["reduction"]
func.func @whole_maxnum(%x: tensor<65536xf32>, %init: tensor<f32>) -> tensor<f32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>],
                       iterator_types = ["reduction"]}
      ins(%x : tensor<65536xf32>) outs(%init : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %m = arith.maxnumf %a, %acc fastmath<nnan,nsz> : f32
    linalg.yield %m : f32
  } -> tensor<f32>
  return %r : tensor<f32>
}

// -----

// A [1, N] row kept as [1, 1], with a [1, 1] operand broadcast along it (as
// in softmax's sum of exp(x - max)), is split too: the size-1 dimensions
// are collapsed away first and the result expanded back.
// RUN: trueno-opt %s -split-input-file -convert-trueno-to-linalg -linalg-fuse-elementwise-ops -trueno-split-reductions | FileCheck %s --check-prefix=ROW
// SPLIT-LABEL: func.func @row_sum
// ROW-LABEL: func.func @row_sum
// ROW-DAG:     tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<1x1xf32> into tensor<1xf32>
// ROW:         linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]
// ROW:         linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]
// ROW:         tensor.expand_shape %{{.*}} {{\[\[}}0, 1]] output_shape [1, 1] : tensor<1xf32> into tensor<1x1xf32>
func.func @row_sum(%x: tensor<1x65536xf32>, %m: tensor<1x1xf32>) -> tensor<1x1xf32> {
  %mb = trueno.expand %m : tensor<1x1xf32> to tensor<1x65536xf32>
  %d = trueno.sub %x, %mb : tensor<1x65536xf32>
  %s = trueno.reduce_sum %d dims = [1] : tensor<1x65536xf32> -> tensor<1x1xf32>
  return %s : tensor<1x1xf32>
}

// -----

// argmax keeps the best value and its index (linalg.index) as two outputs;
// only a strictly better element or a first NaN replaces them.
// CHECK-LABEL: func.func @argmax_rows
// CHECK:         %[[VALUES:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<4xf32>)
// CHECK:         %[[INDICES:.*]] = linalg.fill ins(%{{.*}} : i64) outs(%{{.*}} : tensor<4xi64>)
// CHECK:         %[[R:.*]]:2 = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%{{.*}} : tensor<4x8xf32>) outs(%[[VALUES]], %[[INDICES]] : tensor<4xf32>, tensor<4xi64>)
// CHECK:           arith.cmpf ogt
// CHECK:           arith.cmpf uno
// CHECK:           linalg.index 1
// CHECK:         return %[[R]]#1
func.func @argmax_rows(%x: tensor<4x8xf32>) -> tensor<4xi64> {
  %i = trueno.argmax %x dim = 1 : tensor<4x8xf32> -> tensor<4xi64>
  return %i : tensor<4xi64>
}

// -----

// For a GPU (part-elements, inner-parallel): a sum of 2^28 elements in
// parts of 1024 (262144 partial results, neighbours reading neighbours).
// Without min-parts the 262144 are summed in 256 parts of 1024, one
// workgroup of threads each loading 1024 values one after another; with
// min-parts=16384 in 16384 parts of 16, then 1024 parts of 16.
// RUN: trueno-opt %s -split-input-file -convert-trueno-to-linalg -trueno-split-reductions='min-elements=4096 part-elements=1024 inner-parallel=true' | FileCheck %s --check-prefix=GPU
// RUN: trueno-opt %s -split-input-file -convert-trueno-to-linalg -trueno-split-reductions='min-elements=4096 part-elements=1024 min-parts=16384 inner-parallel=true' | FileCheck %s --check-prefix=PARTS
// GPU-LABEL: func.func @huge_sum
// GPU:         output_shape [1024, 262144] : tensor<268435456xf32> into tensor<1024x262144xf32>
// GPU:         output_shape [1024, 256] : tensor<262144xf32> into tensor<1024x256xf32>
// GPU-NOT:     tensor.expand_shape
// PARTS-LABEL: func.func @huge_sum
// PARTS:       output_shape [1024, 262144] : tensor<268435456xf32> into tensor<1024x262144xf32>
// PARTS:       output_shape [16, 16384] : tensor<262144xf32> into tensor<16x16384xf32>
// PARTS:       output_shape [16, 1024] : tensor<16384xf32> into tensor<16x1024xf32>
// PARTS-NOT:   tensor.expand_shape
func.func @huge_sum(%x: tensor<268435456xf32>) -> tensor<f32> {
  %s = trueno.reduce_sum %x dims = [0] : tensor<268435456xf32> -> tensor<f32>
  return %s : tensor<f32>
}
