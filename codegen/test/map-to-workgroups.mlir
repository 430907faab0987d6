// trueno-map-to-workgroups: every top-level loop nest becomes a launch of
// workgroup-size threads and at most max-workgroup-count workgroups whose
// threads walk the iterations in row-major order (a grid-stride loop, so
// neighbouring threads take neighbouring elements); other work runs on one
// thread; allocations and views stay on the host.
// RUN: trueno-opt %s '-trueno-map-to-workgroups=workgroup-size=64 max-workgroup-count=4' | FileCheck %s

// 1000 iterations want 16 workgroups; 4 are allowed, so each thread takes
// every 256th iteration.
// CHECK-LABEL: func.func @grid
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c4, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c64,
// CHECK: %[[BASE:.*]] = arith.muli %[[BX]], %{{.*}} : index
// CHECK: %[[START:.*]] = arith.addi %[[BASE]], %[[TX]] : index
// CHECK: scf.for %[[L:.*]] = %[[START]] to %c1000 step %c256
// CHECK: %[[J:.*]] = arith.remui %[[L]], %c100{{.*}}
// CHECK: %[[I:.*]] = arith.divui %[[L]], %c100{{.*}}
// CHECK: memref.load %{{.*}}[%[[I]], %[[J]]]
// CHECK: gpu.terminator
func.func @grid(%a: memref<10x100xf32>, %b: memref<10x100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c10 = arith.constant 10 : index
  %c100 = arith.constant 100 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c10, %c100) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<10x100xf32>
    memref.store %x, %b[%i, %j] : memref<10x100xf32>
    scf.reduce
  }
  return
}

// A 0-d result: its loads, arithmetic and store run on one thread; the
// allocation stays on the host, the nested parallel loop becomes a for.
// CHECK-LABEL: func.func @scalar
// CHECK: memref.alloc
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK: arith.addf
// CHECK: gpu.terminator
// CHECK: return
func.func @scalar(%a: memref<8xf32>, %out: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %tmp = memref.alloc() : memref<f32>
  %zero = arith.constant 0.0 : f32
  memref.store %zero, %tmp[] : memref<f32>
  scf.for %i = %c0 to %c8 step %c1 {
    %x = memref.load %a[%i] : memref<8xf32>
    %s = memref.load %tmp[] : memref<f32>
    %y = arith.addf %x, %s : f32
    memref.store %y, %tmp[] : memref<f32>
  }
  %r = memref.load %tmp[] : memref<f32>
  %d = arith.addf %r, %r : f32
  memref.store %d, %out[] : memref<f32>
  memref.dealloc %tmp : memref<f32>
  return
}

// A load canonicalization hoisted out of the loop nest that uses it goes
// back in: the kernel reads it itself.
// CHECK-LABEL: func.func @hoisted
// CHECK-NOT: memref.load
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK: %[[S:.*]] = memref.load %{{.*}}[] : memref<f32>
// CHECK: arith.mulf %{{.*}}, %[[S]]
func.func @hoisted(%a: memref<100xf32>, %s: memref<f32>, %b: memref<100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c100 = arith.constant 100 : index
  %scale = memref.load %s[] : memref<f32>
  scf.parallel (%i) = (%c0) to (%c100) step (%c1) {
    %x = memref.load %a[%i] : memref<100xf32>
    %y = arith.mulf %x, %scale : f32
    memref.store %y, %b[%i] : memref<100xf32>
    scf.reduce
  }
  return
}

// A value computed before a loop nest and needed after it (a scatter of
// one element: index and value loaded, the output copied, then the
// store): one thread runs all of it, the copy as a sequential loop; an
// allocation amid it goes before it.
// CHECK-LABEL: func.func @scatter_one
// CHECK: memref.alloc
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c1
// CHECK: arith.index_cast
// CHECK: arith.addf
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %arg3[%{{.*}}]
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
func.func @scatter_one(%x: memref<8xf32>, %i: memref<1xi64>, %v: memref<1xf32>, %out: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %raw = memref.load %i[%c0] : memref<1xi64>
  %at = arith.index_cast %raw : i64 to index
  %new = memref.load %v[%c0] : memref<1xf32>
  %old = memref.load %x[%at] : memref<8xf32>
  %sum = arith.addf %new, %old : f32
  %scratch = memref.alloc() : memref<8xf32>
  scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
    %e = memref.load %x[%j] : memref<8xf32>
    memref.store %e, %out[%j] : memref<8xf32>
    scf.reduce
  }
  memref.store %sum, %out[%at] : memref<8xf32>
  memref.dealloc %scratch : memref<8xf32>
  return
}
