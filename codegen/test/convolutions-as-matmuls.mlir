// trueno-convolutions-as-matmuls: a float32 convolution becomes a copy of
// the input's windows into a scratch buffer and a batched product of the
// weight (batch stride 0) by the columns, into the output's pixels.
// RUN: trueno-opt %s -split-input-file -trueno-convolutions-as-matmuls | FileCheck %s
// RUN: trueno-opt %s -split-input-file '-trueno-convolutions-as-matmuls=implicit-gemm=false' | FileCheck %s --check-prefix=COPIED

// Stride 2 and dilation (1, 2): the window's rows at 2 oh + kh, its columns
// at 2 ow + 2 kw.
// CHECK-DAG: #[[WINDOW:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 * 2 + d2, d5 * 2 + d3 * 2)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
// CHECK-LABEL: func.func @conv
// CHECK: %[[COL:.*]] = memref.alloc() : memref<2x3x3x3x4x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[WINDOW]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%arg0 : memref<2x3x10x10xf32>) outs(%[[COL]] : memref<2x3x3x3x4x3xf32>)
// CHECK: %[[COLUMNS:.*]] = memref.collapse_shape %[[COL]] {{\[}}[0], [1, 2, 3], [4, 5]] : memref<2x3x3x3x4x3xf32> into memref<2x27x12xf32>
// CHECK: %[[W:.*]] = memref.reinterpret_cast %arg1 to offset: [0], sizes: [2, 4, 27], strides: [0, 27, 1] : memref<4x3x3x3xf32> to memref<2x4x27xf32, strided<[0, 27, 1]>>
// CHECK: %[[OUT:.*]] = memref.collapse_shape %arg2 {{\[}}[0], [1], [2, 3]] : memref<2x4x4x3xf32> into memref<2x4x12xf32>
// CHECK: linalg.batch_matmul ins(%[[W]], %[[COLUMNS]] : memref<2x4x27xf32, strided<[0, 27, 1]>>, memref<2x27x12xf32>) outs(%[[OUT]] : memref<2x4x12xf32>)
// CHECK-NOT: linalg.conv_2d
func.func @conv(%x: memref<2x3x10x10xf32>, %w: memref<4x3x3x3xf32>, %y: memref<2x4x4x3xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<[1, 2]> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%x, %w : memref<2x3x10x10xf32>, memref<4x3x3x3xf32>) outs(%y : memref<2x4x4x3xf32>)
  return
}

// -----

// A transposed weight (a gradient's) is copied to a contiguous buffer
// first; float64 keeps its loop nest.
// CHECK-LABEL: func.func @strided_weight
// CHECK: %[[WC:.*]] = memref.alloc() : memref<4x3x3x3xf32>
// CHECK: linalg.copy ins(%arg1 : memref<4x3x3x3xf32, strided<[9, 36, 3, 1]>>) outs(%[[WC]] : memref<4x3x3x3xf32>)
// CHECK: memref.reinterpret_cast %[[WC]]
// CHECK: linalg.batch_matmul
// CHECK-LABEL: func.func @double
// CHECK: linalg.conv_2d_nchw_fchw
func.func @strided_weight(%x: memref<1x3x5x5xf32>, %w: memref<4x3x3x3xf32, strided<[9, 36, 3, 1]>>, %y: memref<1x4x3x3xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : memref<1x3x5x5xf32>, memref<4x3x3x3xf32, strided<[9, 36, 3, 1]>>) outs(%y : memref<1x4x3x3xf32>)
  return
}
func.func @double(%x: memref<1x3x5x5xf64>, %w: memref<4x3x3x3xf64>, %y: memref<1x4x3x3xf64>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : memref<1x3x5x5xf64>, memref<4x3x3x3xf64>) outs(%y : memref<1x4x3x3xf64>)
  return
}

// -----

// A convolution whose scratch would be 2^28 elements or more (1 GiB): with
// implicit-gemm a tiled product (64 filters, 64 x 64 pixels) reads the
// windows from the input, the scratch is never allocated, and it is
// rewritten; without, it keeps its loop nest. So does a product that is
// not tiled (8 filters).
// CHECK-LABEL: func.func @large
// CHECK: linalg.batch_matmul
// CHECK-LABEL: func.func @large_untiled
// CHECK: linalg.conv_2d_nchw_fchw
// COPIED-LABEL: func.func @large
// COPIED: linalg.conv_2d_nchw_fchw
func.func @large(%x: memref<128x64x66x66xf32>, %w: memref<64x64x3x3xf32>, %y: memref<128x64x64x64xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : memref<128x64x66x66xf32>, memref<64x64x3x3xf32>) outs(%y : memref<128x64x64x64xf32>)
  return
}
func.func @large_untiled(%x: memref<128x64x66x66xf32>, %w: memref<8x64x3x3xf32>, %y: memref<128x8x64x64xf32>) {
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%x, %w : memref<128x64x66x66xf32>, memref<8x64x3x3xf32>) outs(%y : memref<128x8x64x64xf32>)
  return
}
