// Parallel loop nests below the threshold become scf.for nests; larger ones
// stay parallel (and become OpenMP regions later in the pipeline), except
// their innermost dimension.
// RUN: trueno-opt %s -trueno-serialize-small-loops=min-iterations=1000 | FileCheck %s

// CHECK-LABEL: func @small
// CHECK-NOT: scf.parallel
// CHECK: scf.for %[[I:.*]] = %c0 to %c10 step %c1
// CHECK-NEXT: scf.for %[[J:.*]] = %c0 to %c20 step %c1
// CHECK-NEXT: memref.load %arg0[%[[I]], %[[J]]]
func.func @small(%a: memref<10x20xf32>, %b: memref<10x20xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %c20 = arith.constant 20 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c10, %c20) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<10x20xf32>
    memref.store %v, %b[%i, %j] : memref<10x20xf32>
    scf.reduce
  }
  return
}

// Large nests stay parallel over the outer dimensions; the innermost one
// becomes a serial loop inside, which LLVM vectorizes.
// CHECK-LABEL: func @large
// CHECK: scf.parallel (%[[I:.*]]) = (%c0) to (%c100) step (%c1) {
// CHECK-NEXT: scf.for %[[J:.*]] = %c0 to %c20 step %c1 {
// CHECK-NEXT: memref.load %arg0[%[[I]], %[[J]]]
func.func @large(%a: memref<100x20xf32>, %b: memref<100x20xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c100 = arith.constant 100 : index
  %c20 = arith.constant 20 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c100, %c20) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<100x20xf32>
    memref.store %v, %b[%i, %j] : memref<100x20xf32>
    scf.reduce
  }
  return
}

// A few parallel iterations with a long serial loop inside (a reduction over
// rows) are enough work to fork for.
// CHECK-LABEL: func @reduction_rows
// CHECK: scf.parallel
func.func @reduction_rows(%a: memref<100x2000xf32>, %b: memref<100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c100 = arith.constant 100 : index
  %c2000 = arith.constant 2000 : index
  scf.parallel (%i) = (%c0) to (%c100) step (%c1) {
    scf.for %j = %c0 to %c2000 step %c1 {
      %v = memref.load %a[%i, %j] : memref<100x2000xf32>
      %s = memref.load %b[%i] : memref<100xf32>
      %t = arith.addf %v, %s : f32
      memref.store %t, %b[%i] : memref<100xf32>
    }
    scf.reduce
  }
  return
}

// A dimension of one iteration is dropped, so a [1, N] nest is parallel
// over N rather than a one-iteration parallel loop around a serial one.
// CHECK-LABEL: func @row
// CHECK: scf.parallel (%[[J:.*]]) = (%c0) to (%c5000) step (%c1) {
// CHECK-NEXT: memref.load %arg0[%c0, %[[J]]]
func.func @row(%a: memref<1x5000xf32>, %b: memref<1x5000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c5000 = arith.constant 5000 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c1, %c5000) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<1x5000xf32>
    memref.store %v, %b[%i, %j] : memref<1x5000xf32>
    scf.reduce
  }
  return
}

// A parallel loop inside another (a generic inside a trueno-tile-rows
// block) becomes serial: its iterations run on the outer iteration's
// thread. The outer loop stays parallel.
// CHECK-LABEL: func @nested
// CHECK: scf.parallel (%[[B:.*]]) = (%c0) to (%c64) step (%c1) {
// CHECK-NEXT: scf.for %[[J:.*]] = %c0 to %c4096 step %c1 {
// CHECK-NEXT: memref.load %arg0[%[[B]], %[[J]]]
// CHECK-NOT: scf.parallel
func.func @nested(%a: memref<64x4096xf32>, %b: memref<64x4096xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c4096 = arith.constant 4096 : index
  scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
    scf.parallel (%j) = (%c0) to (%c4096) step (%c1) {
      %v = memref.load %a[%i, %j] : memref<64x4096xf32>
      memref.store %v, %b[%i, %j] : memref<64x4096xf32>
      scf.reduce
    }
    scf.reduce
  }
  return
}

// A small tiled loop whose iterations keep their buffers on the stack
// (trueno-free-tile-buffers' alloca_scope): serialized, the scope becomes an
// explicit save and restore of the stack pointer around each iteration.
// Left a scope, it would be inlined into the function once the loop is
// lowered to branches, and the iterations' buffers would pile up on the
// stack. A scope in a loop that stays parallel stays a scope.
// CHECK-LABEL: func @stack_buffers
// CHECK: scf.for %[[I:.*]] = %c0 to %c10 step %c1
// CHECK-NEXT: %[[SP:.*]] = llvm.intr.stacksave : !llvm.ptr
// CHECK-NEXT: %[[T:.*]] = memref.alloca() : memref<64xf32>
// CHECK: memref.store %{{.*}}, %[[T]]
// CHECK-NEXT: llvm.intr.stackrestore %[[SP]] : !llvm.ptr
// CHECK-NEXT: }
// CHECK-NOT: memref.alloca_scope
// CHECK: scf.parallel
// CHECK: memref.alloca_scope
func.func @stack_buffers(%a: memref<10xf32>, %b: memref<4000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %c4000 = arith.constant 4000 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%c10) step (%c1) {
    memref.alloca_scope {
      %t = memref.alloca() : memref<64xf32>
      memref.store %zero, %t[%c0] : memref<64xf32>
    }
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c4000) step (%c1) {
    memref.alloca_scope {
      %t = memref.alloca() : memref<64xf32>
      memref.store %zero, %t[%c0] : memref<64xf32>
    }
    scf.reduce
  }
  return
}
