// Matrix products: linalg.matmul / batch_matmul on tensors, the epilogue
// written in place into the product, then float products as calls to the
// runtime's GEMM with strided descriptors (beta = 0 replacing the zero fill).
// RUN: trueno-opt %s -convert-trueno-to-linalg -split-input-file | FileCheck %s
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=fused -split-input-file | FileCheck %s --check-prefix=FUSED
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=loops -split-input-file | FileCheck %s --check-prefix=LOOPS

// CHECK-LABEL: func.func @linear_relu
// CHECK:         %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[INIT:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<4x3xf32>)
// CHECK:         linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x3xf32>) outs(%[[INIT]] : tensor<4x3xf32>)
// The epilogue reads the product through its output argument.
// FUSED-LABEL: func.func @linear_relu
// FUSED:         %[[P:.*]] = linalg.matmul
// FUSED:         linalg.generic
// FUSED-SAME:      ins(%{{.*}} : tensor<3xf32>) outs(%[[P]] : tensor<4x3xf32>)
// FUSED-NEXT:    ^bb0(%[[BIAS:.*]]: f32, %[[OUT:.*]]: f32):
// FUSED-NEXT:      arith.addf %[[OUT]], %[[BIAS]]
// LOOPS-LABEL: func.func private @trueno_gemm_f32(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, f64, i64, i64) attributes {llvm.emit_c_interface}
// LOOPS-LABEL: func.func @linear_relu
// LOOPS-SAME:    %[[X:.*]]: memref<4x8xf32> {llvm.noalias}, %[[W:.*]]: memref<8x3xf32, strided<[1, 8]>> {llvm.noalias}
// LOOPS-SAME:    %{{.*}}: memref<3xf32> {llvm.noalias}, %[[Y:arg[0-9]+]]: memref<4x3xf32> {llvm.noalias})
// LOOPS-NOT:     memref.alloc
// LOOPS-DAG:     %[[ZERO:.*]] = arith.constant 0 : i64
// LOOPS-DAG:     %[[ONE:.*]] = arith.constant 1 : i64
// LOOPS-DAG:     %[[FLOPS:.*]] = arith.constant 192 : i64
// LOOPS-DAG:     %[[BETA:.*]] = arith.constant 0.000000e+00 : f64
// LOOPS-DAG:     %[[XC:.*]] = memref.cast %[[X]]
// LOOPS-DAG:     %[[WC:.*]] = memref.cast %[[W]]
// LOOPS-DAG:     %[[YC:.*]] = memref.cast %[[Y]]
// One part (a plain call) or one call per part in an OpenMP loop.
// LOOPS:         %[[PARTS:.*]] = call @trueno_parallel_parts(%[[FLOPS]])
// LOOPS:         call @trueno_gemm_f32(%[[XC]], %[[WC]], %[[YC]], %[[BETA]], %[[ZERO]], %[[ONE]])
// LOOPS:         omp.wsloop
// LOOPS:           %[[PART:.*]] = arith.index_cast
// LOOPS:           func.call @trueno_gemm_f32(%[[XC]], %[[WC]], %[[YC]], %[[BETA]], %[[PART]], %[[PARTS]])
// LOOPS:         cf.cond_br
// LOOPS:           arith.maximumf
func.func @linear_relu(%x: tensor<4x8xf32>, %w: tensor<8x3xf32> {trueno.strides = array<i64: 1, 8>}, %b: tensor<3xf32>) -> tensor<4x3xf32> {
  %p = trueno.matmul %x, %w : tensor<4x8xf32>, tensor<8x3xf32> -> tensor<4x3xf32>
  %bb = trueno.expand %b : tensor<3xf32> to tensor<4x3xf32>
  %s = trueno.add %p, %bb : tensor<4x3xf32>
  %r = trueno.relu %s : tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

// -----

// A batch is linalg.batch_matmul; more batch dimensions (which the frontend
// folds into one) are a contraction generic that becomes loops.
// CHECK-LABEL: func.func @batched
// CHECK:         linalg.batch_matmul ins(%{{.*}}, %{{.*}} : tensor<6x4x8xf64>, tensor<6x8x5xf64>) outs(%{{.*}} : tensor<6x4x5xf64>)
// LOOPS-LABEL: func.func @batched
// LOOPS:         call @trueno_batch_gemm_f64
func.func @batched(%a: tensor<6x4x8xf64>, %b: tensor<6x8x5xf64>) -> tensor<6x4x5xf64> {
  %p = trueno.matmul %a, %b : tensor<6x4x8xf64>, tensor<6x8x5xf64> -> tensor<6x4x5xf64>
  return %p : tensor<6x4x5xf64>
}

// -----

// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d4, d3)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @batched4
// CHECK:         linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
// CHECK:           arith.mulf
// CHECK:           arith.addf
// LOOPS-LABEL: func.func @batched4
// LOOPS-NOT:     call
func.func @batched4(%a: tensor<2x3x4x8xf64>, %b: tensor<2x3x8x5xf64>) -> tensor<2x3x4x5xf64> {
  %p = trueno.matmul %a, %b : tensor<2x3x4x8xf64>, tensor<2x3x8x5xf64> -> tensor<2x3x4x5xf64>
  return %p : tensor<2x3x4x5xf64>
}

// -----

// Integer products stay linalg and become loops: no call.
// LOOPS-LABEL: func.func @integers
// LOOPS-NOT:     call
// LOOPS:         arith.muli
// LOOPS:         arith.addi
func.func @integers(%a: tensor<4x8xi32>, %b: tensor<8x3xi32>) -> tensor<4x3xi32> {
  %p = trueno.matmul %a, %b : tensor<4x8xi32>, tensor<8x3xi32> -> tensor<4x3xi32>
  return %p : tensor<4x3xi32>
}
