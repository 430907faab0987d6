// trueno-register-accumulators: a reduction loop's output element is
// carried through the loop as a value (one load before, one store after)
// instead of being loaded and stored on every iteration.
// RUN: trueno-opt %s -split-input-file -trueno-register-accumulators | FileCheck %s

// A column of partial sums: each thread's loop over k.
// CHECK-LABEL: func.func @partial_sums
// CHECK: scf.parallel (%[[P:.*]]) =
// CHECK:   %[[INIT:.*]] = memref.load %arg1[%[[P]]]
// CHECK:   %[[SUM:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (f32) {
// CHECK:     %[[X:.*]] = memref.load %arg0
// CHECK:     %[[S:.*]] = arith.addf %[[X]], %[[ACC]]
// CHECK:     scf.yield %[[S]]
// CHECK:   memref.store %[[SUM]], %arg1[%[[P]]]
func.func @partial_sums(%x: memref<1024x64xf32> {llvm.noalias},
                        %out: memref<64xf32> {llvm.noalias}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c1024 = arith.constant 1024 : index
  scf.parallel (%p) = (%c0) to (%c64) step (%c1) {
    scf.for %k = %c0 to %c1024 step %c1 {
      %a = memref.load %x[%k, %p] : memref<1024x64xf32>
      %acc = memref.load %out[%p] : memref<64xf32>
      %s = arith.addf %a, %acc : f32
      memref.store %s, %out[%p] : memref<64xf32>
    }
    scf.reduce
  }
  return
}

// -----

// A nest of reduction loops (a sum over two dimensions): the value goes
// through both; a view of the input is traced to its argument.
// CHECK-LABEL: func.func @nest
// CHECK:      %[[INIT:.*]] = memref.load %arg1[]
// CHECK-NEXT: %[[OUTER:.*]] = scf.for {{.*}} iter_args(%[[A:.*]] = %[[INIT]]) -> (f32) {
// CHECK-NEXT:   %[[INNER:.*]] = scf.for {{.*}} iter_args(%[[B:.*]] = %[[A]]) -> (f32) {
// CHECK:          arith.maximumf %{{.*}}, %[[B]]
// CHECK:        scf.yield %[[INNER]]
// CHECK:      memref.store %[[OUTER]], %arg1[]
// CHECK-NOT:  memref.store
func.func @nest(%x: memref<8x16xf32> {llvm.noalias},
                %out: memref<f32> {llvm.noalias}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %view = memref.subview %x[0, 0] [8, 16] [1, 1] : memref<8x16xf32> to memref<8x16xf32, strided<[16, 1]>>
  scf.for %i = %c0 to %c8 step %c1 {
    scf.for %j = %c0 to %c16 step %c1 {
      %a = memref.load %view[%i, %j] : memref<8x16xf32, strided<[16, 1]>>
      %acc = memref.load %out[] : memref<f32>
      %m = arith.maximumf %a, %acc : f32
      memref.store %m, %out[] : memref<f32>
    }
  }
  return
}

// -----

// Two accumulators of one loop (a maximum and its position) are both
// carried.
// CHECK-LABEL: func.func @two_accumulators
// CHECK: %[[R:.*]]:2 = scf.for {{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f32, i64)
// CHECK-NOT: memref.store
// CHECK: scf.yield
// CHECK-NEXT: }
// CHECK-NEXT: memref.store %[[R]]#0, %arg1[]
// CHECK-NEXT: memref.store %[[R]]#1, %arg2[]
func.func @two_accumulators(%x: memref<64xf32> {llvm.noalias},
                            %value: memref<f32> {llvm.noalias},
                            %index: memref<i64> {llvm.noalias}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %k = %c0 to %c64 step %c1 {
    %a = memref.load %x[%k] : memref<64xf32>
    %v = memref.load %value[] : memref<f32>
    %i = memref.load %index[] : memref<i64>
    %gt = arith.cmpf ogt, %a, %v : f32
    %k64 = arith.index_cast %k : index to i64
    %nv = arith.select %gt, %a, %v : f32
    %ni = arith.select %gt, %k64, %i : i64
    memref.store %nv, %value[] : memref<f32>
    memref.store %ni, %index[] : memref<i64>
  }
  return
}

// -----

// Left in memory: the loop reads another view of the output's own
// argument, which its stores change.
// CHECK-LABEL: func.func @reads_own_buffer
// CHECK: scf.for
// CHECK-NOT: iter_args
// CHECK: memref.store
func.func @reads_own_buffer(%buf: memref<65xf32> {llvm.noalias}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %in = memref.subview %buf[1] [64] [1] : memref<65xf32> to memref<64xf32, strided<[1], offset: 1>>
  %out = memref.subview %buf[0] [1] [1] : memref<65xf32> to memref<1xf32, strided<[1]>>
  scf.for %k = %c0 to %c64 step %c1 {
    %a = memref.load %in[%k] : memref<64xf32, strided<[1], offset: 1>>
    %acc = memref.load %out[%c0] : memref<1xf32, strided<[1]>>
    %s = arith.addf %a, %acc : f32
    memref.store %s, %out[%c0] : memref<1xf32, strided<[1]>>
  }
  return
}

// -----

// Left in memory: arguments not marked noalias may be the same buffer.
// CHECK-LABEL: func.func @may_alias
// CHECK-NOT: iter_args
func.func @may_alias(%x: memref<64xf32>, %out: memref<f32> {llvm.noalias}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %k = %c0 to %c64 step %c1 {
    %a = memref.load %x[%k] : memref<64xf32>
    %acc = memref.load %out[] : memref<f32>
    %s = arith.addf %a, %acc : f32
    memref.store %s, %out[] : memref<f32>
  }
  return
}

// -----

// Left in memory: another store in the loop, and a loop whose trip count
// is not known to be one or more (MLIR 19's SPIR-V conversion leaves the
// results of a loop that runs no iteration undefined).
// CHECK-LABEL: func.func @not_promoted
// CHECK-NOT: iter_args
func.func @not_promoted(%x: memref<64xf32> {llvm.noalias},
                        %out: memref<f32> {llvm.noalias},
                        %copy: memref<64xf32> {llvm.noalias}, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %k = %c0 to %c64 step %c1 {
    %a = memref.load %x[%k] : memref<64xf32>
    memref.store %a, %copy[%k] : memref<64xf32>
    %acc = memref.load %out[] : memref<f32>
    %s = arith.addf %a, %acc : f32
    memref.store %s, %out[] : memref<f32>
  }
  scf.for %k = %c0 to %n step %c1 {
    %a = memref.load %x[%k] : memref<64xf32>
    %acc = memref.load %out[] : memref<f32>
    %s = arith.addf %a, %acc : f32
    memref.store %s, %out[] : memref<f32>
  }
  return
}

// -----

// Left in memory: a bfloat16 accumulator (SPIR-V has no bfloat16; its
// emulation rewrites loads and stores, not loop-carried values).
// CHECK-LABEL: func.func @bfloat16
// CHECK-NOT: iter_args
func.func @bfloat16(%x: memref<64xbf16> {llvm.noalias},
                    %out: memref<bf16> {llvm.noalias}) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  scf.for %k = %c0 to %c64 step %c1 {
    %a = memref.load %x[%k] : memref<64xbf16>
    %acc = memref.load %out[] : memref<bf16>
    %m = arith.minimumf %a, %acc : bf16
    memref.store %m, %out[] : memref<bf16>
  }
  return
}
