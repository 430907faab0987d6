// trueno-split-narrow-reductions: a reduction with few outputs gets its
// outer reduction loops as parallel ones (a partial result per thread,
// from the combiner's neutral element), then a reduction of each output's
// partial results, collapsed into one contiguous row, into the output.
// RUN: trueno-opt %s -split-input-file -trueno-split-narrow-reductions | FileCheck %s

#x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d1)>

// A bias gradient: 16 sums over [32, 24, 24]. 16 x 32 x 24 = 12288 threads
// (a third loop would leave each thread fewer than 16 elements).
// CHECK-LABEL: func.func @bias_gradient
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[EMPTY:.*]] = tensor.empty() : tensor<16x32x24xf32>
// CHECK:     %[[FILL:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<16x32x24xf32>)
// CHECK:     %[[PART:.*]] = linalg.generic {indexing_maps = [#[[X:.*]], #[[P:.*]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%arg0 : tensor<32x16x24x24xf32>) outs(%[[FILL]] : tensor<16x32x24xf32>)
// CHECK:       arith.addf
// CHECK:     %[[ROWS:.*]] = tensor.collapse_shape %[[PART]] {{\[}}[0], [1, 2]] : tensor<16x32x24xf32> into tensor<16x768xf32>
// CHECK:     linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]} ins(%[[ROWS]] : tensor<16x768xf32>) outs(%arg1 : tensor<16xf32>)
// CHECK:       arith.addf
func.func @bias_gradient(%g: tensor<32x16x24x24xf32>, %out: tensor<16xf32>) -> tensor<16xf32> {
  %r = linalg.generic {indexing_maps = [#x, #c], iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%g : tensor<32x16x24x24xf32>) outs(%out : tensor<16xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<16xf32>
  return %r : tensor<16xf32>
}

// -----

// A maximum starts each partial result from -inf; integers from 0.
// CHECK-LABEL: func.func @maximum
// CHECK:     arith.constant 0xFF800000 : f32
// CHECK:     arith.maximumf
// CHECK:     tensor.collapse_shape
// CHECK:     arith.maximumf
#x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#c = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @maximum(%g: tensor<32x16x24x24xf32>, %out: tensor<16xf32>) -> tensor<16xf32> {
  %r = linalg.generic {indexing_maps = [#x, #c], iterator_types = ["reduction", "parallel", "reduction", "reduction"]}
      ins(%g : tensor<32x16x24x24xf32>) outs(%out : tensor<16xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.maximumf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<16xf32>
  return %r : tensor<16xf32>
}

// -----

// A convolution's weight gradient (a named convolution, generalized): its
// input map keeps `oh + kh`; the batch-as-channel loop and the next one
// become parallel (72 x 16 x 24 threads, 24 products each).
// CHECK-LABEL: func.func @weight_gradient
// CHECK:     linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME:  outs(%{{.*}} : tensor<1x8x3x3x16x24xf32>)
// CHECK:     tensor.collapse_shape {{.*}} into tensor<1x8x3x3x384xf32>
// CHECK:     linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK-NOT: linalg.conv_2d
func.func @weight_gradient(%image: tensor<1x16x26x26xf32>, %grad: tensor<8x16x24x24xf32>, %out: tensor<1x8x3x3xf32>) -> tensor<1x8x3x3xf32> {
  %r = linalg.conv_2d_nchw_fchw ins(%image, %grad : tensor<1x16x26x26xf32>, tensor<8x16x24x24xf32>) outs(%out : tensor<1x8x3x3xf32>) -> tensor<1x8x3x3xf32>
  return %r : tensor<1x8x3x3xf32>
}

// -----

// 2048 outputs (at least 1024): the partial results are columns,
// partial[S..., P...], and the split loop goes outermost, so that threads
// are numbered as before the split (neighbours differ in d2); then each
// output's column is one thread's sum.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, d0, d2, d3)>
// CHECK-DAG: #[[PART:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[COL:.*]] = affine_map<(d0, d1, d2) -> (d2, d0, d1)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @many_outputs
// CHECK:     %[[P:.*]] = linalg.generic {indexing_maps = [#[[IN]], #[[PART]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%arg0 : tensor<64x16x32x40xf32>) outs(%{{.*}} : tensor<16x64x32xf32>)
// CHECK:     linalg.generic {indexing_maps = [#[[COL]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}} : tensor<16x64x32xf32>) outs(%arg1 : tensor<64x32xf32>)
#x4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#o2 = affine_map<(d0, d1, d2, d3) -> (d0, d2)>
func.func @many_outputs(%x: tensor<64x16x32x40xf32>, %out: tensor<64x32xf32>) -> tensor<64x32xf32> {
  %r = linalg.generic {indexing_maps = [#x4, #o2], iterator_types = ["parallel", "reduction", "parallel", "reduction"]}
      ins(%x : tensor<64x16x32x40xf32>) outs(%out : tensor<64x32xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  } -> tensor<64x32xf32>
  return %r : tensor<64x32xf32>
}

// -----

// Left alone: many outputs already, a short reduction, a matrix product
// (tiled as such), a combiner that is not associative, and an empty
// reduction.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: tensor.collapse_shape
// CHECK:     linalg.matmul
#rows = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @left_alone(%wide: tensor<70000x64xf32>, %wout: tensor<70000xf32>,
                      %short: tensor<4x100xf32>, %sout: tensor<4xf32>,
                      %a: tensor<64x4096xf32>, %b: tensor<4096x64xf32>, %c: tensor<64x64xf32>,
                      %x: tensor<4x65536xf32>, %xout: tensor<4xf32>,
                      %e: tensor<0x65536xf32>, %eout: tensor<0xf32>)
    -> (tensor<70000xf32>, tensor<4xf32>, tensor<64x64xf32>, tensor<4xf32>, tensor<0xf32>) {
  %0 = linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%wide : tensor<70000x64xf32>) outs(%wout : tensor<70000xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %v, %acc : f32
    linalg.yield %s : f32
  } -> tensor<70000xf32>
  %1 = linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%short : tensor<4x100xf32>) outs(%sout : tensor<4xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %v, %acc : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %2 = linalg.matmul ins(%a, %b : tensor<64x4096xf32>, tensor<4096x64xf32>) outs(%c : tensor<64x64xf32>) -> tensor<64x64xf32>
  %3 = linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x65536xf32>) outs(%xout : tensor<4xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.subf %v, %acc : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %4 = linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%e : tensor<0x65536xf32>) outs(%eout : tensor<0xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %s = arith.addf %v, %acc : f32
    linalg.yield %s : f32
  } -> tensor<0xf32>
  return %0, %1, %2, %3, %4 : tensor<70000xf32>, tensor<4xf32>, tensor<64x64xf32>, tensor<4xf32>, tensor<0xf32>
}
