// trueno-fold-widening-into-matmuls: a float32 product of exactly widened
// float16 or bfloat16 tensors reads the halves; the widening generics go.
// RUN: trueno-opt %s -split-input-file -trueno-fold-widening-into-matmuls | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>

// Both inputs widened float16: one linalg.matmul of the halves.
// CHECK-LABEL: func.func @halves
// CHECK-NOT:   arith.extf
// CHECK:       linalg.matmul ins(%arg0, %arg1 : tensor<64x32xf16>, tensor<32x48xf16>) outs(%{{.*}} : tensor<64x48xf32>)
// CHECK-NOT:   linalg.generic
func.func @halves(%a: tensor<64x32xf16>, %b: tensor<32x48xf16>) -> tensor<64x48xf32> {
  %e0 = tensor.empty() : tensor<64x32xf32>
  %wa = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%a : tensor<64x32xf16>) outs(%e0 : tensor<64x32xf32>) {
  ^bb0(%x: f16, %o: f32):
    %w = arith.extf %x : f16 to f32
    linalg.yield %w : f32
  } -> tensor<64x32xf32>
  %e1 = tensor.empty() : tensor<32x48xf32>
  %wb = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%b : tensor<32x48xf16>) outs(%e1 : tensor<32x48xf32>) {
  ^bb0(%x: f16, %o: f32):
    %w = arith.extf %x : f16 to f32
    linalg.yield %w : f32
  } -> tensor<32x48xf32>
  %zero = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<64x48xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e2 : tensor<64x48xf32>) -> tensor<64x48xf32>
  %p = linalg.matmul ins(%wa, %wb : tensor<64x32xf32>, tensor<32x48xf32>) outs(%c : tensor<64x48xf32>) -> tensor<64x48xf32>
  return %p : tensor<64x48xf32>
}

// -----

// A batched float16 input folds; the widening also returned stays; a
// transposing widening and a float32 input are left alone.
// CHECK-LABEL: func.func @batched_and_kept
// CHECK:       %[[KEPT:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<2x8x4xf16>)
// CHECK:       linalg.batch_matmul ins(%arg0, %arg2 : tensor<2x8x4xf16>, tensor<2x4x8xf32>)
// CHECK:       %[[T:.*]] = linalg.generic {{.*}} ins(%arg1 : tensor<4x8xf16>)
// CHECK:       linalg.matmul ins(%[[T]], %{{.*}} : tensor<8x4xf32>, tensor<4x8xf32>)
// CHECK:       return %{{.*}}, %{{.*}}, %[[KEPT]]
#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @batched_and_kept(%a: tensor<2x8x4xf16>, %t: tensor<4x8xf16>, %b: tensor<2x4x8xf32>) -> (tensor<2x8x8xf32>, tensor<8x8xf32>, tensor<2x8x4xf32>) {
  %e0 = tensor.empty() : tensor<2x8x4xf32>
  %wa = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%a : tensor<2x8x4xf16>) outs(%e0 : tensor<2x8x4xf32>) {
  ^bb0(%x: f16, %o: f32):
    %w = arith.extf %x : f16 to f32
    linalg.yield %w : f32
  } -> tensor<2x8x4xf32>
  %zero = arith.constant 0.0 : f32
  %e2 = tensor.empty() : tensor<2x8x8xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %p = linalg.batch_matmul ins(%wa, %b : tensor<2x8x4xf32>, tensor<2x4x8xf32>) outs(%c : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %e3 = tensor.empty() : tensor<8x4xf32>
  %wt = linalg.generic {indexing_maps = [#t, #id], iterator_types = ["parallel", "parallel"]} ins(%t : tensor<4x8xf16>) outs(%e3 : tensor<8x4xf32>) {
  ^bb0(%x: f16, %o: f32):
    %w = arith.extf %x : f16 to f32
    linalg.yield %w : f32
  } -> tensor<8x4xf32>
  %e4 = tensor.empty() : tensor<8x8xf32>
  %c2 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<8x8xf32>) -> tensor<8x8xf32>
  %b0 = tensor.extract_slice %b[0, 0, 0] [1, 4, 8] [1, 1, 1] : tensor<2x4x8xf32> to tensor<4x8xf32>
  %q = linalg.matmul ins(%wt, %b0 : tensor<8x4xf32>, tensor<4x8xf32>) outs(%c2 : tensor<8x8xf32>) -> tensor<8x8xf32>
  return %p, %q, %wa : tensor<2x8x8xf32>, tensor<8x8xf32>, tensor<2x8x4xf32>
}

// -----

// bfloat16 is left widened: its tiles are copied element by element (it is
// stored as i16), and an H100 took 7.7 ms for a 4096 product reading it
// against 4.8 reading the widened float32 with 4-element loads.
// CHECK-LABEL: func.func @bfloat16_kept
// CHECK:       %[[W:.*]] = linalg.generic {{.*}} ins(%arg0 : tensor<16x8xbf16>)
// CHECK:       linalg.matmul ins(%[[W]], %arg1 : tensor<16x8xf32>, tensor<8x4xf32>)
#idb = affine_map<(d0, d1) -> (d0, d1)>
func.func @bfloat16_kept(%a: tensor<16x8xbf16>, %b: tensor<8x4xf32>) -> tensor<16x4xf32> {
  %e0 = tensor.empty() : tensor<16x8xf32>
  %wa = linalg.generic {indexing_maps = [#idb, #idb], iterator_types = ["parallel", "parallel"]} ins(%a : tensor<16x8xbf16>) outs(%e0 : tensor<16x8xf32>) {
  ^bb0(%x: bf16, %o: f32):
    %w = arith.extf %x : bf16 to f32
    linalg.yield %w : f32
  } -> tensor<16x8xf32>
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<16x4xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e1 : tensor<16x4xf32>) -> tensor<16x4xf32>
  %p = linalg.matmul ins(%wa, %b : tensor<16x8xf32>, tensor<8x4xf32>) outs(%c : tensor<16x4xf32>) -> tensor<16x4xf32>
  return %p : tensor<16x4xf32>
}
