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

// -----

// A layer norm's first kernel over a pending input (p = x * w): the mean
// (a keepdim sum, read by the centring through a reshape once unit
// dimensions are dropped), the centred rows and the sum of their squares.
// The untiled mean stayed alive through that reshape and through the
// loop's unused slices of it, reading p's tiles after the loop that yields
// them ("operand #0 does not dominate this use"); it is gone, and one loop
// computes all three.
// CHECK-LABEL: func.func @centred_rows
// CHECK:         scf.forall (%{{.*}}) = (0) to (300) step (150)
// CHECK:           iterator_types = ["parallel", "reduction"]
// CHECK:             arith.addf
// CHECK:           arith.subf
// CHECK:           iterator_types = ["parallel", "reduction"]
// CHECK:             arith.mulf
// CHECK:             arith.addf
// CHECK:         scf.forall.in_parallel
// CHECK-NOT:     linalg.generic
// CHECK:         return
func.func @centred_rows(%x: tensor<300x64xf32>, %w: tensor<300x64xf32>, %inv: tensor<300x1xf32>) -> (tensor<300x64xf32>, tensor<300x64xf32>, tensor<300x1xf32>) attributes {trueno.kernel} {
  %p = trueno.mul %x, %w : tensor<300x64xf32>
  %s = trueno.reduce_sum %p dims = [1] : tensor<300x64xf32> -> tensor<300x1xf32>
  %m = trueno.mul %s, %inv : tensor<300x1xf32>
  %mb = trueno.expand %m : tensor<300x1xf32> to tensor<300x64xf32>
  %c = trueno.sub %p, %mb : tensor<300x64xf32>
  %q = trueno.mul %c, %c : tensor<300x64xf32>
  %v = trueno.reduce_sum %q dims = [1] : tensor<300x64xf32> -> tensor<300x1xf32>
  return %p, %c, %v : tensor<300x64xf32>, tensor<300x64xf32>, tensor<300x1xf32>
}

// -----

// A kernel returning both p = x * w and its transpose, which is outside
// the reductions' cone and stays before the loop: it keeps reading p
// computed whole (it had read the loop's yielded p, defined after it);
// what follows the loop reads the yielded tiles.
// CHECK-LABEL: func.func @transposed_view
// CHECK:         %[[P:.*]] = linalg.generic
// CHECK:           arith.mulf
// CHECK:         %[[T:.*]] = linalg.generic {{.*}} ins(%[[P]] :
// CHECK:         %[[L:.*]]:3 = scf.forall
// CHECK:         return %[[L]]#2, %[[T]],
func.func @transposed_view(%x: tensor<512x512xf32>, %w: tensor<512x512xf32>) -> (tensor<512x512xf32>, tensor<512x512xf32>, tensor<512x1xf32>, tensor<512x1xf32>) attributes {trueno.kernel} {
  %p = trueno.mul %x, %w : tensor<512x512xf32>
  %t = trueno.transpose %p permutation = [1, 0] : tensor<512x512xf32> -> tensor<512x512xf32>
  %m = trueno.reduce_max %p dims = [1] : tensor<512x512xf32> -> tensor<512x1xf32>
  %mb = trueno.expand %m : tensor<512x1xf32> to tensor<512x512xf32>
  %d = trueno.sub %p, %mb : tensor<512x512xf32>
  %e = trueno.exp %d : tensor<512x512xf32>
  %s = trueno.reduce_sum %e dims = [1] : tensor<512x512xf32> -> tensor<512x1xf32>
  return %p, %t, %m, %s : tensor<512x512xf32>, tensor<512x512xf32>, tensor<512x1xf32>, tensor<512x1xf32>
}

// -----

// Rows read through a reversed slice (4 - d1): MLIR 19's tile-and-fuse
// gave each block whole-tensor slices there, and the sums came out wrong,
// so the kernel stays untiled.
// CHECK-LABEL: func.func @reversed_rows
// CHECK-NOT:     scf.forall
// CHECK:         return
func.func @reversed_rows(%x: tensor<3x5x5000xf64>, %w: tensor<3x5x5000xf64>) -> (tensor<3x5x5000xf64>, tensor<3x5x5000xf64>, tensor<3x5x1xf64>, tensor<3x5x1xf64>) attributes {trueno.kernel} {
  %p = trueno.mul %x, %w : tensor<3x5x5000xf64>
  %r = trueno.slice %p offsets = [0, 4, 0] steps = [1, -1, 1] : tensor<3x5x5000xf64> -> tensor<3x5x5000xf64>
  %m = trueno.reduce_max %r dims = [2] : tensor<3x5x5000xf64> -> tensor<3x5x1xf64>
  %mb = trueno.expand %m : tensor<3x5x1xf64> to tensor<3x5x5000xf64>
  %d = trueno.sub %r, %mb : tensor<3x5x5000xf64>
  %e = trueno.exp %d : tensor<3x5x5000xf64>
  %s = trueno.reduce_sum %e dims = [2] : tensor<3x5x5000xf64> -> tensor<3x5x1xf64>
  return %p, %r, %m, %s : tensor<3x5x5000xf64>, tensor<3x5x5000xf64>, tensor<3x5x1xf64>, tensor<3x5x1xf64>
}
