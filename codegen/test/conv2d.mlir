// Convolutions: zero padding as tensor.pad, one group as
// linalg.conv_2d_nchw_fchw (float ones become the runtime's im2col + GEMM
// call, with the bias epilogue in place, chunk by chunk for large ones),
// several groups as linalg.conv_2d_ngchw_gfchw over grouped views (float
// ones: the runtime's im2col + GEMM per group, or its depthwise kernel).
// RUN: trueno-opt %s -convert-trueno-to-linalg -split-input-file | FileCheck %s
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=bufferized -split-input-file | FileCheck %s --check-prefix=BUF
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=loops -split-input-file | FileCheck %s --check-prefix=LOOPS

// CHECK-LABEL: func.func @padded
// CHECK:         %[[PAD:.*]] = tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK:         tensor<2x3x8x8xf32> to tensor<2x3x10x10xf32>
// CHECK:         linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[PAD]], %{{.*}} : tensor<2x3x10x10xf32>, tensor<4x3x3x3xf32>)
// LOOPS-LABEL: func.func private @trueno_conv2d_f32(memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, memref<?x?x?x?xf32, strided<[?, ?, ?, ?], offset: ?>>, f64, i64, i64, i64, i64, i64, i64)
// LOOPS-LABEL: func.func @padded
// LOOPS:         call @trueno_conv2d_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c2_i64, %c2_i64, %c1_i64, %c1_i64, %c0_i64, %c1_i64)
// LOOPS:         arith.addf
func.func @padded(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4x4x4xf32>) -> tensor<2x4x4x4xf32> {
  %y = trueno.conv2d %x, %w stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 1 : tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<2x4x4x4xf32>
  %bb = trueno.expand %b : tensor<4x4x4xf32> to tensor<2x4x4x4xf32>
  %r = trueno.add %y, %bb : tensor<2x4x4x4xf32>
  return %r : tensor<2x4x4x4xf32>
}

// -----

// Groups: the operands split into NGCHW / GFCHW views, linalg's grouped
// convolution, and the result collapsed back; float ones call the runtime's
// grouped im2col + GEMM (one product per group).
// CHECK-LABEL: func.func @grouped
// CHECK:         %[[X:.*]] = tensor.expand_shape %arg0 {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 2, 2, 8, 8]
// CHECK:         %[[W:.*]] = tensor.expand_shape %arg1 {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 2, 2, 2, 3]
// CHECK:         %[[Y:.*]] = linalg.conv_2d_ngchw_gfchw {dilations = dense<[2, 1]> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins(%[[X]], %[[W]] : tensor<1x2x2x8x8xf64>, tensor<2x2x2x2x3xf64>)
// CHECK:         tensor.collapse_shape %[[Y]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x2x2x6x6xf64> into tensor<1x4x6x6xf64>
// The NGFHW result is collapsed to NCHW, which eliminate-empty-tensors does
// not see through; trueno-write-outputs-in-place has the convolution write a
// view of the output buffer rather than copy a fresh one into it.
// BUF-LABEL: func.func @grouped(
// BUF-SAME:    %[[OUT:arg[0-9]+]]: memref<1x4x6x6xf64> {llvm.noalias})
// BUF:         %[[V:.*]] = memref.expand_shape %[[OUT]] {{\[}}[0], [1, 2], [3], [4]]
// BUF:         linalg.conv_2d_ngchw_gfchw {{.*}} outs(%[[V]] : memref<1x2x2x6x6xf64>)
// BUF-NOT:     memref.copy
// BUF:         return
// LOOPS-LABEL: func.func @grouped
// LOOPS:         call @trueno_conv2d_grouped_f64(
func.func @grouped(%x: tensor<1x4x8x8xf64>, %w: tensor<4x2x2x3xf64>) -> tensor<1x4x6x6xf64> {
  %y = trueno.conv2d %x, %w stride = [1, 1] padding = [0, 0] dilation = [2, 1] groups = 2 : tensor<1x4x8x8xf64>, tensor<4x2x2x3xf64> -> tensor<1x4x6x6xf64>
  return %y : tensor<1x4x6x6xf64>
}

// -----

// A convolution of more than a million multiply-adds with an elementwise
// epilogue (here a bias) runs chunk by chunk: each iteration of one parallel
// loop convolves a share of the images (about 256 KiB of output, here 8
// images in at least 3 chunks) and applies the epilogue to their output
// while it is in cache, its contiguous dimensions merged into one loop.
// One thread: the whole convolution, then the epilogue.
// LOOPS-LABEL: func.func @chunked
// LOOPS:         %[[PARTS:.*]] = call @trueno_parallel_parts(%c3115008_i64)
// LOOPS:         call @trueno_conv2d_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %c0_i64, %c1_i64)
// LOOPS:         memref.collapse_shape %arg2 {{\[}}[0, 1, 2]] : memref<32x26x26xf32> into memref<21632xf32>
// LOOPS:         arith.addf
// LOOPS:         %[[MORE:.*]] = arith.maxsi %[[PARTS]], %c3_i64 : i64
// LOOPS:         %[[CHUNKS:.*]] = arith.minsi %[[MORE]], %c8_i64 : i64
// LOOPS:         omp.loop_nest (%[[I:.*]]) : index = (%c0) to (%{{.*}}) step (%c1)
// LOOPS:           %[[CHUNK:.*]] = arith.index_cast %[[I]] : index to i64
// LOOPS:           memref.alloca_scope
// LOOPS-NEXT:        func.call @trueno_conv2d_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %[[CHUNK]], %[[CHUNKS]])
// LOOPS:           %[[FIRST:.*]] = arith.divsi %{{.*}}, %[[CHUNKS]] : i64
// LOOPS:           memref.subview %arg3[%{{.*}}, 0, 0, 0] [%{{.*}}, 32, 26, 26] [1, 1, 1, 1]
// LOOPS:           memref.collapse_shape %{{.*}} {{\[}}[0], [1, 2, 3]]
// LOOPS:           arith.addf
func.func @chunked(%x: tensor<8x1x28x28xf32>, %w: tensor<32x1x3x3xf32>, %b: tensor<32x26x26xf32>) -> tensor<8x32x26x26xf32> {
  %y = trueno.conv2d %x, %w stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1 : tensor<8x1x28x28xf32>, tensor<32x1x3x3xf32> -> tensor<8x32x26x26xf32>
  %bb = trueno.expand %b : tensor<32x26x26xf32> to tensor<8x32x26x26xf32>
  %r = trueno.add %y, %bb : tensor<8x32x26x26xf32>
  return %r : tensor<8x32x26x26xf32>
}

// -----

// A large depthwise convolution with its bias (broadcast through a view, as
// the frontend passes it) runs chunk by chunk too: the bias's NGFHW view,
// which sits between the convolution and its epilogue, moves before the
// chunk loop.
// LOOPS-LABEL: func.func @depthwise_chunked
// LOOPS:         omp.loop_nest (%[[I:.*]]) : index = (%c0) to (%{{.*}}) step (%c1)
// LOOPS:           %[[CHUNK:.*]] = arith.index_cast %[[I]] : index to i64
// LOOPS:           memref.alloca_scope
// LOOPS-NEXT:        func.call @trueno_conv2d_grouped_f32(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c1_i64, %c1_i64, %c1_i64, %c1_i64, %[[CHUNK]], %{{.*}})
// LOOPS:           memref.subview %{{.*}}[%{{.*}}, 0, 0, 0, 0] [%{{.*}}, 32, 1, 28, 28] [1, 1, 1, 1, 1]
// LOOPS:           arith.addf
// LOOPS-NOT:     memref.copy
func.func @depthwise_chunked(%x: tensor<16x32x28x28xf32>, %w: tensor<32x1x3x3xf32>,
                             %b: tensor<16x32x28x28xf32> {trueno.strides = array<i64: 0, 1, 0, 0>}) -> tensor<16x32x28x28xf32> {
  %y = trueno.conv2d %x, %w stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 32 : tensor<16x32x28x28xf32>, tensor<32x1x3x3xf32> -> tensor<16x32x28x28xf32>
  %r = trueno.add %y, %b : tensor<16x32x28x28xf32>
  return %r : tensor<16x32x28x28xf32>
}

// -----

// A bias read backwards (a negative stride) over the groups and their
// filters: those two dimensions nest, but MLIR 19's collapse_shape rejects
// the type it infers for negative strides, so they stay separate in the
// epilogue's loops.
// LOOPS-LABEL: func.func @grouped_reversed_bias
// LOOPS:           func.call @trueno_conv2d_grouped_f32(
// LOOPS:           memref.collapse_shape %{{.*}} {{\[}}[0], [1], [2], [3, 4]] : memref<?x32x2x28x28xf32, strided<[0, -4, -2, 0, 0]>>
// LOOPS:           arith.addf
func.func @grouped_reversed_bias(%x: tensor<16x32x28x28xf32>, %w: tensor<64x1x3x3xf32>,
                                 %b: tensor<16x64x28x28xf32> {trueno.strides = array<i64: 0, -2, 0, 0>}) -> tensor<16x64x28x28xf32> {
  %y = trueno.conv2d %x, %w stride = [1, 1] padding = [1, 1] dilation = [1, 1] groups = 32 : tensor<16x32x28x28xf32>, tensor<64x1x3x3xf32> -> tensor<16x64x28x28xf32>
  %r = trueno.add %y, %b : tensor<16x64x28x28xf32>
  return %r : tensor<16x64x28x28xf32>
}
