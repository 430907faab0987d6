// trueno-tile-rows: a kernel whose reductions feed its other generics runs
// them a block of rows at a time, each producer computed inside the loop.
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=fused -split-input-file | FileCheck %s
// RUN: trueno-opt %s -trueno-cpu-pipeline=stop-after=bufferized -split-input-file | FileCheck %s --check-prefix=BUF

// softmax over rows of 1000 float32 (4000 bytes): blocks of 10 rows (40 KB;
// 16 rows would fill 64 KiB, and 10 is the largest divisor of 1000 at least
// half that, so every block has the same static shape). The keepdim
// results became [10] slices (unit dimensions dropped);
// max, sum and the division all run inside one scf.forall, and only the
// division writes the result.
// CHECK-LABEL: func.func @softmax
// CHECK:         %[[Y:.*]] = scf.forall (%[[I:.*]]) = (0) to (1000) step (10) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<1000x1000xf32>)
// CHECK:           %[[X:.*]] = tensor.extract_slice %arg0[%[[I]], 0] [10, 1000] [1, 1]
// CHECK:           %[[M:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<10x1000xf32>) outs(%{{.*}} : tensor<10xf32>)
// CHECK:             arith.maximumf
// CHECK:           %[[S:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[X]], %[[M]] : tensor<10x1000xf32>, tensor<10xf32>)
// CHECK:             math.exp
// CHECK:             arith.addf
// CHECK:           %[[R:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[M]], %[[S]] : {{.*}})
// CHECK:             math.exp
// CHECK:             arith.divf
// CHECK:           scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %[[R]] into %[[OUT]]
// CHECK:         return %[[Y]]
// The block's maxima and sums are buffers on the iteration's stack, in an
// alloca_scope that frees them at its end (trueno-free-tile-buffers); no
// malloc per block. The result is written in place.
// BUF-LABEL: func.func @softmax
// BUF:         scf.forall
// BUF-NEXT:      memref.alloca_scope
// BUF:             memref.alloca() {{.*}} : memref<10xf32>
// BUF:             memref.alloca() {{.*}} : memref<10xf32>
// BUF-NOT:         memref.alloc(
// BUF-NOT:         memref.copy
// BUF-NOT:         memref.dealloc
// BUF:           return
func.func @softmax(%x: tensor<1000x1000xf32>) -> tensor<1000x1000xf32> attributes {trueno.kernel} {
  %m = trueno.reduce_max %x dims = [1] : tensor<1000x1000xf32> -> tensor<1000x1xf32>
  %mb = trueno.expand %m : tensor<1000x1xf32> to tensor<1000x1000xf32>
  %d = trueno.sub %x, %mb : tensor<1000x1000xf32>
  %e = trueno.exp %d : tensor<1000x1000xf32>
  %s = trueno.reduce_sum %e dims = [1] : tensor<1000x1000xf32> -> tensor<1000x1xf32>
  %sb = trueno.expand %s : tensor<1000x1xf32> to tensor<1000x1000xf32>
  %mb2 = trueno.expand %m : tensor<1000x1xf32> to tensor<1000x1000xf32>
  %d2 = trueno.sub %x, %mb2 : tensor<1000x1000xf32>
  %e2 = trueno.exp %d2 : tensor<1000x1000xf32>
  %y = trueno.div %e2, %sb : tensor<1000x1000xf32>
  return %y : tensor<1000x1000xf32>
}

// -----

// A reduction the kernel also returns (a chunk's maximum, next to its sum)
// is yielded from the loop rather than computed twice.
// CHECK-LABEL: func.func @two_outputs
// CHECK:         %[[R:.*]]:2 = scf.forall (%{{.*}}) in (64)
// CHECK-COUNT-2:   linalg.generic
// CHECK-NOT:       linalg.generic
// CHECK:         }
// CHECK-NOT:     linalg.generic
// CHECK:         return
func.func @two_outputs(%x: tensor<1x64x16384xf32>) -> (tensor<1x64x1xf32>, tensor<1x64x1xf32>) attributes {trueno.kernel} {
  %m = trueno.reduce_max %x dims = [2] : tensor<1x64x16384xf32> -> tensor<1x64x1xf32>
  %mb = trueno.expand %m : tensor<1x64x1xf32> to tensor<1x64x16384xf32>
  %d = trueno.sub %x, %mb : tensor<1x64x16384xf32>
  %e = trueno.exp %d : tensor<1x64x16384xf32>
  %s = trueno.reduce_sum %e dims = [2] : tensor<1x64x16384xf32> -> tensor<1x64x1xf32>
  return %m, %s : tensor<1x64x1xf32>, tensor<1x64x1xf32>
}

// -----

// A single reduction with no consumer in the kernel, and a kernel that
// would be one block, are left alone.
// CHECK-LABEL: func.func @plain_sum
// CHECK-NOT:     scf.forall
// CHECK-LABEL: func.func @one_block
// CHECK-NOT:     scf.forall
func.func @plain_sum(%x: tensor<1000x1000xf32>) -> tensor<1000x1xf32> attributes {trueno.kernel} {
  %s = trueno.reduce_sum %x dims = [1] : tensor<1000x1000xf32> -> tensor<1000x1xf32>
  return %s : tensor<1000x1xf32>
}
func.func @one_block(%x: tensor<4x8xf32>) -> tensor<4x8xf32> attributes {trueno.kernel} {
  %m = trueno.reduce_max %x dims = [1] : tensor<4x8xf32> -> tensor<4x1xf32>
  %mb = trueno.expand %m : tensor<4x1xf32> to tensor<4x8xf32>
  %d = trueno.sub %x, %mb : tensor<4x8xf32>
  return %d : tensor<4x8xf32>
}

// -----

// log_softmax of a product whose result the kernel also returns: the
// product stays one BLAS call over all rows, before the loop; only the
// row statistics run block by block.
// CHECK-LABEL: func.func @after_matmul
// CHECK:         %[[P:.*]] = linalg.matmul
// CHECK:         scf.forall (%{{.*}}) = (0) to (4096) step (64)
// CHECK-NOT:       linalg.matmul
// CHECK:           tensor.extract_slice %[[P]]
// CHECK:         return %[[P]]
func.func @after_matmul(%a: tensor<4096x784xf32>, %b: tensor<784x256xf32>) -> (tensor<4096x256xf32>, tensor<4096x1xf32>, tensor<4096x1xf32>) attributes {trueno.kernel} {
  %p = trueno.matmul %a, %b : tensor<4096x784xf32>, tensor<784x256xf32> -> tensor<4096x256xf32>
  %m = trueno.reduce_max %p dims = [1] : tensor<4096x256xf32> -> tensor<4096x1xf32>
  %mb = trueno.expand %m : tensor<4096x1xf32> to tensor<4096x256xf32>
  %d = trueno.sub %p, %mb : tensor<4096x256xf32>
  %e = trueno.exp %d : tensor<4096x256xf32>
  %s = trueno.reduce_sum %e dims = [1] : tensor<4096x256xf32> -> tensor<4096x1xf32>
  return %p, %m, %s : tensor<4096x256xf32>, tensor<4096x1xf32>, tensor<4096x1xf32>
}
