// A generic whose innermost loop reads an input across cache lines (a
// transpose) is tiled 16 x 16 into a parallel loop over tiles; contiguous,
// broadcast and small inputs are left alone.
// RUN: trueno-opt %s -trueno-tile-transposes -split-input-file | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>

// A fused transpose: the input [512, 256] read as [256, 512].
// CHECK-LABEL: func.func @transposed
// CHECK:         scf.parallel (%[[I:.*]], %[[J:.*]]) = (%{{.*}}, %{{.*}}) to (%c256, %c512) step (%c16{{.*}}, %c16{{.*}})
// CHECK:           %[[IN:.*]] = memref.subview %arg0[%[[J]], %[[I]]] [16, 16] [1, 1]
// CHECK:           %[[OUT:.*]] = memref.subview %arg1[%[[I]], %[[J]]] [16, 16] [1, 1]
// CHECK:           linalg.generic {{.*}} ins(%[[IN]] : {{.*}}) outs(%[[OUT]] : {{.*}})
func.func @transposed(%x: memref<512x256xf32>, %out: memref<256x512xf32>) {
  linalg.generic {indexing_maps = [#t, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<512x256xf32>) outs(%out : memref<256x512xf32>) {
  ^bb0(%in: f32, %o: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// A realized transposed view: an identity map over a layout whose
// innermost stride is 512.
// CHECK-LABEL: func.func @strided_view
// CHECK:         scf.parallel
// CHECK:           linalg.generic
func.func @strided_view(%x: memref<256x512xf32, strided<[1, 256]>>, %out: memref<256x512xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<256x512xf32, strided<[1, 256]>>) outs(%out : memref<256x512xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>

// Contiguous, broadcast (stride 0 along the inner loop) and small
// transposed inputs: nothing to gain.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT:     scf.parallel
// CHECK:         linalg.generic
// CHECK-NOT:     scf.parallel
// CHECK:         linalg.generic
// CHECK-NOT:     scf.parallel
func.func @left_alone(%x: memref<256x512xf32>, %col: memref<256xf32>, %small: memref<64x32xf32>,
                      %out: memref<256x512xf32>, %out2: memref<32x64xf32>) {
  linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> (d0)>, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %col : memref<256x512xf32>, memref<256xf32>) outs(%out : memref<256x512xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#t, #id], iterator_types = ["parallel", "parallel"]}
      ins(%small : memref<64x32xf32>) outs(%out2 : memref<32x64xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  return
}

// -----

// A transposed read that is also reversed (99 - d1) or cropped (d1 mod n):
// tiling would take the wrong windows, so the generic stays whole.
// CHECK-LABEL: func.func @reversed_and_cropped
// CHECK-NOT:     scf.parallel
func.func @reversed_and_cropped(%x: memref<512x256xf32>, %out: memref<256x512xf32>, %out2: memref<256x500xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (511 - d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<512x256xf32>) outs(%out : memref<256x512xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1 mod 512, d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<512x256xf32>) outs(%out2 : memref<256x500xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  return
}
