// trueno-unroll-reduction-loops: a thread's reduction loop (constant bounds,
// a loop-carried value, no writes) unrolled so that its loads are issued
// together; the combining order is unchanged.
// RUN: trueno-opt %s -split-input-file -trueno-unroll-reduction-loops='factor=4' | FileCheck %s
// RUN: trueno-opt %s -split-input-file -trueno-unroll-reduction-loops='factor=1' | FileCheck %s --check-prefix=OFF

// 1024 iterations: 256 of four loads each.
// CHECK-LABEL: func.func @partial_sum
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C1024:.*]] = arith.constant 1024 : index
// CHECK:     scf.for %{{.*}} = %{{.*}} to %[[C1024]] step %[[C4]] iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32) {
// CHECK:       %[[X0:.*]] = memref.load %arg0
// CHECK:       %[[S0:.*]] = arith.addf %[[X0]], %[[ACC]]
// CHECK:       %[[X1:.*]] = memref.load %arg0
// CHECK:       %[[S1:.*]] = arith.addf %[[X1]], %[[S0]]
// CHECK:       %[[X2:.*]] = memref.load %arg0
// CHECK:       %[[S2:.*]] = arith.addf %[[X2]], %[[S1]]
// CHECK:       %[[X3:.*]] = memref.load %arg0
// CHECK:       %[[S3:.*]] = arith.addf %[[X3]], %[[S2]]
// CHECK:       scf.yield %[[S3]]
// CHECK-NOT: scf.for
// OFF-LABEL: func.func @partial_sum
// OFF: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1 iter_args
func.func @partial_sum(%x: memref<1024xf32>, %out: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c1024 = arith.constant 1024 : index
  %init = memref.load %out[] : memref<f32>
  %r = scf.for %k = %c0 to %c1024 step %c1 iter_args(%acc = %init) -> (f32) {
    %a = memref.load %x[%k] : memref<1024xf32>
    %s = arith.addf %a, %acc : f32
    scf.yield %s : f32
  }
  memref.store %r, %out[] : memref<f32>
  return
}

// -----

// 6 iterations at factor 4: one unrolled iteration (inlined), then a loop
// of the remaining two. 3 iterations: the factor is cut to 3, so the
// unrolled loop still runs (one iteration, inlined).
// CHECK-LABEL: func.func @remainders
// CHECK-COUNT-4: arith.maximumf
// CHECK:     %[[REST:.*]] = scf.for %{{.*}} = %c4 to %c6 step %c1 iter_args
// CHECK:       arith.maximumf
// CHECK:       scf.yield
// CHECK-COUNT-3: arith.maximumf
// CHECK-NOT: arith.maximumf
// CHECK-NOT: scf.for
// CHECK:     return %[[REST]]
func.func @remainders(%x: memref<6xf32>, %init: f32) -> (f32, f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c6 = arith.constant 6 : index
  %r = scf.for %k = %c0 to %c6 step %c1 iter_args(%acc = %init) -> (f32) {
    %a = memref.load %x[%k] : memref<6xf32>
    %m = arith.maximumf %a, %acc : f32
    scf.yield %m : f32
  }
  %t = scf.for %k = %c0 to %c3 step %c1 iter_args(%acc = %init) -> (f32) {
    %a = memref.load %x[%k] : memref<6xf32>
    %m = arith.maximumf %a, %acc : f32
    scf.yield %m : f32
  }
  return %r, %t : f32, f32
}

// -----

// Left alone: a loop that writes memory, one with a dynamic bound, one
// with a barrier-holding branch, one of a single iteration, one that
// carries nothing.
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-5: step %c1
func.func @left_alone(%x: memref<64xf32>, %n: index, %flag: i1, %init: f32) -> (f32, f32, f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %w = scf.for %k = %c0 to %c64 step %c1 iter_args(%acc = %init) -> (f32) {
    %a = memref.load %x[%k] : memref<64xf32>
    %s = arith.addf %a, %acc : f32
    memref.store %s, %x[%k] : memref<64xf32>
    scf.yield %s : f32
  }
  %d = scf.for %k = %c0 to %n step %c1 iter_args(%acc = %init) -> (f32) {
    %a = memref.load %x[%k] : memref<64xf32>
    %s = arith.addf %a, %acc : f32
    scf.yield %s : f32
  }
  %b = scf.for %k = %c0 to %c64 step %c1 iter_args(%acc = %init) -> (f32) {
    scf.if %flag {
      gpu.barrier
    }
    scf.yield %acc : f32
  }
  %one = scf.for %k = %c0 to %c1 step %c1 iter_args(%acc = %init) -> (f32) {
    %a = memref.load %x[%k] : memref<64xf32>
    %s = arith.addf %a, %acc : f32
    scf.yield %s : f32
  }
  scf.for %k = %c0 to %c64 step %c1 {
    %a = memref.load %x[%k] : memref<64xf32>
  }
  return %w, %d, %b : f32, f32, f32
}
