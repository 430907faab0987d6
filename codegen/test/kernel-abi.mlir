// The kernel calling convention: tensor arguments become memrefs (strided
// ones for views), results become trailing output buffers.
// RUN: trueno-opt %s -trueno-kernel-abi -split-input-file -verify-diagnostics | FileCheck %s
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=bufferized -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=BUF

// CHECK-LABEL: func.func @views(
// CHECK-SAME:    %[[T:[a-z0-9]*]]: memref<3x2xf32, strided<[1, 3]>> {llvm.noalias}
// CHECK-SAME:    %[[B:[a-z0-9]*]]: memref<3x2xf32, strided<[0, 1]>> {llvm.noalias}
// CHECK-SAME:    %[[N:[a-z0-9]*]]: memref<4xf32, strided<[-2]>> {llvm.noalias}
// CHECK-SAME:    %[[OUT:[a-z0-9]*]]: memref<3x2xf32> {llvm.noalias})
// CHECK-SAME:    attributes {llvm.emit_c_interface}
// CHECK:         bufferization.to_tensor %[[T]] restrict
// CHECK:         bufferization.materialize_in_destination {{.*}} in restrict writable %[[OUT]]
// CHECK-NEXT:    return
// BUF-LABEL: func.func @views(
// BUF:         linalg.generic {{.*}} ins(%arg0, %arg1 : memref<3x2xf32, strided<[1, 3]>>, memref<3x2xf32, strided<[0, 1]>>) outs(%arg3 : memref<3x2xf32>)
func.func @views(%t: tensor<3x2xf32> {trueno.strides = array<i64: 1, 3>},
                 %b: tensor<3x2xf32> {trueno.strides = array<i64: 0, 1>},
                 %n: tensor<4xf32> {trueno.strides = array<i64: -2>}) -> tensor<3x2xf32> {
  %0 = trueno.add %t, %b : tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// Two results that CSE gave one tensor.empty get one each: MLIR 19's
// eliminate-empty-tensors would otherwise let both write one buffer.
// BUF-LABEL: func.func @two_results(
// BUF-SAME:    %{{[a-z0-9]*}}: memref<8xf32> {llvm.noalias}, %[[OUT0:[a-z0-9]*]]: memref<8xf32> {llvm.noalias}, %[[OUT1:[a-z0-9]*]]: memref<8xf32> {llvm.noalias})
// BUF-DAG:     outs(%[[OUT0]] : memref<8xf32>)
// BUF-DAG:     outs(%[[OUT1]] : memref<8xf32>)
func.func @two_results(%x: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %0 = trueno.exp %x : tensor<8xf32>
  %1 = trueno.neg %x : tensor<8xf32>
  return %0, %1 : tensor<8xf32>, tensor<8xf32>
}

// -----

// Two reductions that CSE gave one zero-filled init get a fill each, and
// each accumulates straight into its own output: sharing one would let both
// results end up as the first one's value.
// BUF-LABEL: func.func @two_sums(
// BUF-SAME:    %[[OUT0:[a-z0-9]*]]: memref<f32> {llvm.noalias}, %[[OUT1:[a-z0-9]*]]: memref<f32> {llvm.noalias})
// BUF-DAG:     linalg.fill ins(%{{.*}} : f32) outs(%[[OUT0]] : memref<f32>)
// BUF-DAG:     linalg.fill ins(%{{.*}} : f32) outs(%[[OUT1]] : memref<f32>)
// BUF-NOT:     memref.copy
// BUF:         return
func.func @two_sums(%a: tensor<3xf32>, %w: tensor<3xf32>) -> (tensor<f32>, tensor<f32>) {
  %0 = trueno.mul %a, %w : tensor<3xf32>
  %1 = trueno.neg %0 : tensor<3xf32>
  %2 = trueno.reduce_sum %1 dims = [0] : tensor<3xf32> -> tensor<f32>
  %3 = trueno.reduce_sum %w dims = [0] : tensor<3xf32> -> tensor<f32>
  return %2, %3 : tensor<f32>, tensor<f32>
}

// -----

// expected-error @+1 {{argument 0 has 1 strides for a tensor of rank 2}}
func.func @wrong_rank(%t: tensor<3x2xf32> {trueno.strides = array<i64: 1>}) -> tensor<3x2xf32> {
  return %t : tensor<3x2xf32>
}

// -----

// A kernel whose output is an input read through a view: the copy becomes a
// loop nest, never a call to the C runner's memrefCopy.
// BUF-LABEL: func.func @identity_view(
// BUF:         memref.copy
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=loops -split-input-file -verify-diagnostics | FileCheck %s --check-prefix=LOOPS
// LOOPS-LABEL: func.func @identity_view(
// LOOPS-NOT:     memref.copy
// LOOPS:         memref.load {{.*}} : memref<2x3xi8, strided<[3, -1]>>
// LOOPS-NOT:     memref.copy
func.func @identity_view(%x: tensor<2x3xui8> {trueno.strides = array<i64: 3, -1>}) -> tensor<2x3xui8> {
  %0 = trueno.abs %x : tensor<2x3xui8>
  return %0 : tensor<2x3xui8>
}
