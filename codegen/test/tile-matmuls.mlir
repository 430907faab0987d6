// trueno-tile-matmuls: a float32 matrix product becomes a launch of 256
// threads per workgroup computing 64x64 tiles of the output, through
// 64x16 and 16x64 tiles of its inputs in workgroup memory.
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 max-workgroup-count=65535' | FileCheck %s
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=128' | FileCheck %s --check-prefix=SMALL
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 large-tiles=true' | FileCheck %s --check-prefix=LARGE

// 100 x 129 outputs: 2 x 3 tiles, one workgroup each; the contraction of
// 33 in steps of 16 (3 steps, the last one partly zeros); the tiles'
// elements guarded against the edges; each thread's 16 sums in registers,
// 16 x 16 multiply-adds per step; the block added to C where it is inside.
// CHECK-LABEL: func.func @matmul
// CHECK: gpu.launch blocks(%[[B:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c6, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256,
// CHECK-DAG: %[[AT:.*]] = memref.alloc() : memref<64x16xf32, 3>
// CHECK-DAG: %[[BT:.*]] = memref.alloc() : memref<16x64xf32, 3>
// CHECK: scf.for %{{.*}} = %[[B]] to %c6{{.*}} step %c6
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c33 step %c16{{.*}} iter_args(
// CHECK: scf.if
// CHECK: memref.load %arg0
// CHECK: memref.store %{{.*}}, %[[AT]]
// CHECK: memref.load %arg1
// CHECK: memref.store %{{.*}}, %[[BT]]
// CHECK: gpu.barrier
// CHECK-COUNT-256: math.fma
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK-COUNT-16: memref.store %{{.*}}, %arg2
// CHECK-NOT: linalg.matmul
// SMALL-LABEL: func.func @matmul
// SMALL: linalg.matmul
func.func @matmul(%a: memref<100x33xf32>, %b: memref<33x129xf32>, %c: memref<100x129xf32>) {
  linalg.matmul ins(%a, %b : memref<100x33xf32>, memref<33x129xf32>) outs(%c : memref<100x129xf32>)
  return
}

// A batch of 3 times 1 x 2 tiles (the batch is the tile index's outermost
// part), B a transposed view read through its strides.
// CHECK-LABEL: func.func @batched
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c6,
// CHECK: memref.load %arg1[%{{.*}}, %{{.*}}, %{{.*}}] : memref<3x70x128xf32, strided<[8960, 1, 70]>>
// CHECK-NOT: linalg.batch_matmul
func.func @batched(%a: memref<3x64x70xf32>, %b: memref<3x70x128xf32, strided<[8960, 1, 70]>>, %c: memref<3x64x128xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<3x64x70xf32>, memref<3x70x128xf32, strided<[8960, 1, 70]>>) outs(%c : memref<3x64x128xf32>)
  return
}

// 2000 x 2050 has 16 x 17 = 272 tiles of 128 (at least 256): with
// large-tiles, 128x128 tiles, 8x8 outputs a thread (64 fused multiply-adds
// per step of the 16, 64 guarded stores); without, 32 x 33 tiles of 64.
// CHECK-LABEL: func.func @large
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1056,
// CHECK-DAG: memref.alloc() : memref<64x16xf32, 3>
// LARGE-LABEL: func.func @large
// LARGE: gpu.launch blocks({{.*}}) in (%{{.*}} = %c272,
// LARGE-DAG: memref.alloc() : memref<128x16xf32, 3>
// LARGE-DAG: memref.alloc() : memref<16x128xf32, 3>
// LARGE: gpu.barrier
// LARGE-COUNT-1024: math.fma
// LARGE: gpu.barrier
// LARGE-COUNT-64: memref.store %{{.*}}, %arg2
// LARGE-NOT: linalg.matmul
// LARGE-LABEL: func.func @split_k
func.func @large(%a: memref<2000x20xf32>, %b: memref<20x2050xf32>, %c: memref<2000x2050xf32>) {
  linalg.matmul ins(%a, %b : memref<2000x20xf32>, memref<20x2050xf32>) outs(%c : memref<2000x2050xf32>)
  return
}

// Split-K: [64, 3136] x [3136, 128] is 2 tiles; 22 chunks of 144
// contraction elements (about 512 / 2 wanted, at least 128 each, a
// multiple of 16) make 44 workgroups, each writing its slice of a scratch
// buffer; then C += the sum over the chunks.
// CHECK-LABEL: func.func @split_k
// CHECK: %[[PARTIAL:.*]] = memref.alloc() : memref<22x64x128xf32>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c44,
// CHECK:   arith.divui %{{.*}}, %c2
// CHECK:   arith.minui
// CHECK:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c16{{.*}} iter_args(
// CHECK-COUNT-16: memref.store %{{.*}}, %[[PARTIAL]]
// CHECK: linalg.generic {indexing_maps = [#[[BYCHUNK:.*]], #[[OUT:.*]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[PARTIAL]] : memref<22x64x128xf32>) outs(%arg2 : memref<64x128xf32>)
// CHECK:   arith.addf
// CHECK-NOT: linalg.matmul
func.func @split_k(%a: memref<64x3136xf32>, %b: memref<3136x128xf32>, %c: memref<64x128xf32>) {
  linalg.matmul ins(%a, %b : memref<64x3136xf32>, memref<3136x128xf32>) outs(%c : memref<64x128xf32>)
  return
}

// Left alone: a product of fewer than 32 rows, and one of float64.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: gpu.launch
// CHECK: linalg.matmul
// CHECK: linalg.matmul
func.func @left_alone(%a: memref<16x64xf32>, %b: memref<64x64xf32>, %c: memref<16x64xf32>,
                      %d: memref<64x64xf64>, %e: memref<64x64xf64>) {
  linalg.matmul ins(%a, %b : memref<16x64xf32>, memref<64x64xf32>) outs(%c : memref<16x64xf32>)
  linalg.matmul ins(%d, %d : memref<64x64xf64>, memref<64x64xf64>) outs(%e : memref<64x64xf64>)
  return
}
