// trueno-workgroup-reductions: a generic reducing rows along their
// contiguous dimension becomes a launch of one workgroup per row, its
// threads combining every T-th element, then a tree in workgroup memory;
// other reductions are left to trueno-map-to-workgroups.
// RUN: trueno-opt %s '-trueno-workgroup-reductions=workgroup-size=256 max-workgroup-count=65535 min-elements=64' | FileCheck %s
// RUN: trueno-opt %s '-trueno-workgroup-reductions=workgroup-size=256 max-workgroup-count=2 min-elements=64 subgroup-size=32' | FileCheck %s --check-prefix=SUBGROUP
// RUN: trueno-opt %s '-trueno-workgroup-reductions=workgroup-size=256 max-workgroup-count=2 min-elements=64 subgroup-size=32 subgroup-extended-types=true' | FileCheck %s --check-prefix=EXTENDED

#rows = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#columns = affine_map<(d0, d1) -> (d1, d0)>

// A row sum: 4 rows, one workgroup each, 256 threads (a power of two, no
// more than the row's 1000 elements); each thread starts from its first
// element, adds its next two in a loop of constant bounds carrying the sum
// (1000 / 256 = 3 elements each), and the first 232 threads (1000 % 256)
// one more; the tree halves 256 partials in 8 steps, and thread 0 adds the
// total to the output's initial value.
// CHECK-LABEL: func.func @row_sum
// CHECK: gpu.launch blocks(%[[B:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c4, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256,
// CHECK: %[[SHARED:.*]] = memref.alloc() : memref<256xf32, 3>
// CHECK: scf.for %[[ROW:.*]] = %[[B]] to %c4{{.*}} step %c4
// CHECK: %[[FIRST:.*]] = memref.load %arg0[%[[ROW]], %[[T]]]
// CHECK: %[[LOOP:.*]] = scf.for %[[K:.*]] = %c1{{.*}} to %c3 step %c1{{.*}} iter_args(%[[ACC:.*]] = %[[FIRST]]) -> (f32) {
// CHECK:   %[[KT:.*]] = arith.muli %[[K]], %c256
// CHECK:   %[[J:.*]] = arith.addi %[[KT]], %[[T]]
// CHECK:   %[[X:.*]] = memref.load %arg0[%[[ROW]], %[[J]]]
// CHECK:   arith.addf %[[X]], %[[ACC]] fastmath<reassoc>
// CHECK: arith.cmpi ult, %[[T]], %c232
// CHECK: %[[TAIL:.*]] = scf.if
// CHECK:   arith.addi %[[T]], %c768
// CHECK:   arith.addf %{{.*}}, %[[LOOP]] fastmath<reassoc>
// CHECK: } else {
// CHECK:   scf.yield %[[LOOP]]
// CHECK: memref.store %[[TAIL]], %[[SHARED]][%[[T]]]
// CHECK-COUNT-9: gpu.barrier
// CHECK: arith.cmpi eq, %[[T]], %c0
// CHECK: memref.load %[[SHARED]][%c0
// CHECK: memref.load %arg1[%[[ROW]]]
// CHECK: arith.addf
// CHECK: memref.store %{{.*}}, %arg1[%[[ROW]]]
// CHECK-NOT: linalg.generic
//
// With subgroups of 32 (and 2 workgroups for the 4 rows): a butterfly of
// 5 shuffles gives every lane its subgroup's sum, an elected lane stores
// it to its subgroup's slot in the row's half of 2 x 8 slots (the half:
// the parity of the workgroup's row count), one barrier, and every
// thread adds the 8 slots in order.
// SUBGROUP-LABEL: func.func @row_sum
// SUBGROUP: %[[SHARED:.*]] = memref.alloc() : memref<16xf32, 3>
// SUBGROUP: scf.for %[[ROW:.*]] = %{{.*}} to %c4{{.*}} step %c2
// SUBGROUP: %[[COUNT:.*]] = arith.divui %[[ROW]], %c2
// SUBGROUP: %[[PARITY:.*]] = arith.andi %[[COUNT]], %c1
// SUBGROUP: %[[HALF:.*]] = arith.muli %[[PARITY]], %c8
// SUBGROUP: %[[PARTIAL:.*]] = scf.if
// SUBGROUP: %[[S16:.*]], %{{.*}} = gpu.shuffle xor %[[PARTIAL]], %c16_i32, %c32_i32
// SUBGROUP: %[[A16:.*]] = arith.addf %[[PARTIAL]], %[[S16]]
// SUBGROUP-COUNT-4: gpu.shuffle xor
// SUBGROUP: %[[MINE:.*]] = arith.addf
// SUBGROUP: %[[SUBGROUP:.*]] = gpu.subgroup_id
// SUBGROUP: %[[SLOT:.*]] = arith.addi %[[HALF]], %[[SUBGROUP]]
// SUBGROUP: %[[ELECTED:.*]] = spirv.GroupNonUniformElect <Subgroup>
// SUBGROUP: scf.if %[[ELECTED]] {
// SUBGROUP:   memref.store %[[MINE]], %[[SHARED]][%[[SLOT]]]
// SUBGROUP: }
// SUBGROUP: gpu.barrier
// SUBGROUP-NOT: gpu.barrier
// SUBGROUP: memref.load %[[SHARED]][%[[HALF]]]
// SUBGROUP-COUNT-7: memref.load %[[SHARED]]
// SUBGROUP: arith.cmpi eq, %{{.*}}, %c0
// SUBGROUP: memref.load %arg1[%[[ROW]]]
// SUBGROUP: memref.store %{{.*}}, %arg1[%[[ROW]]]
// SUBGROUP-NOT: gpu.barrier
// SUBGROUP: gpu.terminator
func.func @row_sum(%a: memref<4x1000xf32>, %out: memref<4xf32>) {
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<4x1000xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc fastmath<reassoc> : f32
    linalg.yield %s : f32
  }
  return
}

// A softmax's sum: the value combined, exp(x - max[row]), is computed per
// element from the row and a broadcast input; 100 elements give 64
// threads.
// CHECK-LABEL: func.func @exp_sum
// CHECK: gpu.launch {{.*}} threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c64,
// CHECK: memref.alloc() : memref<64xf32, 3>
// CHECK: %[[X:.*]] = memref.load %arg0[%[[ROW:.*]], %[[T]]]
// CHECK: %[[M:.*]] = memref.load %arg1[%[[ROW]]]
// CHECK: %[[D:.*]] = arith.subf %[[X]], %[[M]]
// CHECK: math.exp %[[D]]
// CHECK-COUNT-7: gpu.barrier
func.func @exp_sum(%a: memref<8x100xf32>, %max: memref<8xf32>, %out: memref<8xf32>) {
  linalg.generic {indexing_maps = [#rows, #row, #row], iterator_types = ["parallel", "reduction"]}
      ins(%a, %max : memref<8x100xf32>, memref<8xf32>) outs(%out : memref<8xf32>) {
  ^bb0(%x: f32, %m: f32, %acc: f32):
    %d = arith.subf %x, %m : f32
    %e = math.exp %d : f32
    %s = arith.addf %e, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// A kept dimension: the output is 8x1, its index (row, 0).
// CHECK-LABEL: func.func @keepdim
// CHECK: gpu.launch
// CHECK: memref.load %arg1[%[[ROW:.*]], %c0{{.*}}] : memref<8x1xf32>
// CHECK: memref.store %{{.*}}, %arg1[%[[ROW]], %c0{{.*}}] : memref<8x1xf32>
func.func @keepdim(%a: memref<8x100000xf32>, %out: memref<8x1xf32>) {
  linalg.generic {indexing_maps = [#rows, affine_map<(d0, d1) -> (d0, 0)>], iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<8x100000xf32>) outs(%out : memref<8x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// A column longer than 65535 elements (one thread's loop that long is
// wrong on lavapipe) goes to a workgroup too. (A broadcast row, stride 0,
// counts as contiguous: the parser takes no zero strides, so the op suite
// tests it.)
// CHECK-LABEL: func.func @long_column
// CHECK: gpu.launch
// CHECK-NOT: linalg.generic
func.func @long_column(%t: memref<70000x4xf32>, %cols: memref<4xf32>) {
  linalg.generic {indexing_maps = [#columns, #row], iterator_types = ["parallel", "reduction"]}
      ins(%t : memref<70000x4xf32>) outs(%cols : memref<4xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// A row maximum over three dimensions of rows: the row index is
// delinearized (2 x 3 rows).
// CHECK-LABEL: func.func @row_max
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c6,
// CHECK: arith.remui %{{.*}}, %c3
// CHECK: arith.divui %{{.*}}, %c3
// CHECK: arith.maxnumf
func.func @row_max(%a: memref<2x3x128xf32>, %out: memref<2x3xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a : memref<2x3x128xf32>) outs(%out : memref<2x3xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %m = arith.maxnumf %x, %acc : f32
    linalg.yield %m : f32
  }
  return
}

// Left alone: rows shorter than min-elements; a reduction along a
// dimension that is not the input's contiguous one (a column sum, or the
// interleaved partial sums of trueno-split-reductions); a row read with a
// stride; a body that is not one combining op on the output.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: gpu.launch
// CHECK-COUNT-5: linalg.generic
func.func @left_alone(%short: memref<16x32xf32>, %t: memref<1000x16xf32>,
                      %strided: memref<16x1000xf32, strided<[2000, 2]>>,
                      %long: memref<16x1000xf32>, %out: memref<16xf32>) {
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%short : memref<16x32xf32>) outs(%out : memref<16xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#columns, #row], iterator_types = ["parallel", "reduction"]}
      ins(%t : memref<1000x16xf32>) outs(%out : memref<16xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%strided : memref<16x1000xf32, strided<[2000, 2]>>) outs(%out : memref<16xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  }
  // The output used twice: not one combining op.
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%long : memref<16x1000xf32>) outs(%out : memref<16xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %p = arith.mulf %x, %acc : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  }
  // A subtraction does not combine partial results.
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%long : memref<16x1000xf32>) outs(%out : memref<16xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.subf %acc, %x : f32
    linalg.yield %s : f32
  }
  return
}

// A softmax as bufferized: the row maximum and the sum of exp(x - max)
// into scratch buffers, each filled just before, then the division. One
// launch does all three, a workgroup per row: every thread reads each
// total from workgroup memory (a barrier after, so the slot is free) and
// keeps it in a register. A row of 1000 gives each of the 256 threads 3
// elements (k * 256 + tid) and the first 232 a fourth: the three are
// loaded once, by the maximum's pass, and the later passes take them from
// registers (only the guarded fourth is loaded again). The scratch totals
// are neither filled nor stored.
// CHECK-LABEL: func.func @softmax_chain
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c8{{.*}}) threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256,
// CHECK: %[[MAXES:.*]] = memref.alloc() : memref<256xf32, 3>
// CHECK: %[[SUMS:.*]] = memref.alloc() : memref<256xf32, 3>
// CHECK: scf.for %[[ROW:.*]] =
// CHECK: %[[X0:.*]] = memref.load %arg0[%[[ROW]], %[[T]]]
// CHECK: %[[X1:.*]] = memref.load %arg0[%[[ROW]], %{{.*}}]
// CHECK: arith.maximumf %[[X1]], %[[X0]]
// CHECK: %[[X2:.*]] = memref.load %arg0[%[[ROW]], %{{.*}}]
// CHECK: arith.maximumf %[[X2]],
// CHECK: scf.if
// CHECK:   memref.load %arg0
// CHECK-COUNT-9: gpu.barrier
// CHECK: %[[M0:.*]] = memref.load %[[MAXES]][%c0
// CHECK: %[[M:.*]] = arith.maximumf %[[M0]], %[[NEGINF:.*]] :
// CHECK: gpu.barrier
// CHECK-NOT: memref.load %arg0
// CHECK: arith.subf %[[X0]], %[[M]]
// CHECK: math.exp
// CHECK: arith.subf %[[X1]], %[[M]]
// CHECK: arith.subf %[[X2]], %[[M]]
// CHECK: scf.if
// CHECK:   memref.load %arg0
// CHECK-COUNT-9: gpu.barrier
// CHECK: %[[S0:.*]] = memref.load %[[SUMS]][%c0
// CHECK: %[[S:.*]] = arith.addf %[[S0]], %[[ZERO:.*]] :
// CHECK: gpu.barrier
// CHECK-NOT: memref.load %arg0
// CHECK: arith.subf %[[X0]], %[[M]]
// CHECK: %[[E:.*]] = math.exp
// CHECK: %[[Q:.*]] = arith.divf %[[E]], %[[S]]
// CHECK: memref.store %[[Q]], %arg1[%[[ROW]], %[[T]]]
// CHECK: arith.subf %[[X1]], %[[M]]
// CHECK: memref.store
// CHECK: arith.subf %[[X2]], %[[M]]
// CHECK: memref.store
// CHECK: arith.cmpi ult, %[[T]], %c232
// CHECK: scf.if
// CHECK:   memref.load %arg0
// CHECK:   memref.store %{{.*}}, %arg1[%[[ROW]], %{{.*}}]
// CHECK-NOT: memref.store {{.*}} : memref<8xf32>
// CHECK-NOT: linalg.generic
//
// With subgroups: every thread holds each total after its one barrier, and
// needs no barrier after reading it (the next row writes the other half).
// SUBGROUP-LABEL: func.func @softmax_chain
// SUBGROUP: %[[MAXES:.*]] = memref.alloc() : memref<16xf32, 3>
// SUBGROUP: %[[SUMS:.*]] = memref.alloc() : memref<16xf32, 3>
// SUBGROUP: scf.for
// SUBGROUP-COUNT-5: gpu.shuffle xor
// SUBGROUP: memref.store %{{.*}}, %[[MAXES]]
// SUBGROUP: gpu.barrier
// SUBGROUP-COUNT-8: memref.load %[[MAXES]]
// SUBGROUP-NOT: gpu.barrier
// SUBGROUP: math.exp
// SUBGROUP-COUNT-5: gpu.shuffle xor
// SUBGROUP: memref.store %{{.*}}, %[[SUMS]]
// SUBGROUP: gpu.barrier
// SUBGROUP-COUNT-8: memref.load %[[SUMS]]
// SUBGROUP-NOT: gpu.barrier
// SUBGROUP: arith.divf
// SUBGROUP-NOT: gpu.barrier
// SUBGROUP: gpu.terminator
func.func @softmax_chain(%x: memref<8x1000xf32> {llvm.noalias}, %y: memref<8x1000xf32> {llvm.noalias}) {
  %neginf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %m = memref.alloc() : memref<8xf32>
  %s = memref.alloc() : memref<8xf32>
  linalg.fill ins(%neginf : f32) outs(%m : memref<8xf32>)
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<8x1000xf32>) outs(%m : memref<8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %a, %acc : f32
    linalg.yield %r : f32
  }
  linalg.fill ins(%zero : f32) outs(%s : memref<8xf32>)
  linalg.generic {indexing_maps = [#rows, #row, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x, %m : memref<8x1000xf32>, memref<8xf32>) outs(%s : memref<8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %d = arith.subf %a, %b : f32
    %e = math.exp %d : f32
    %r = arith.addf %e, %acc : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#rows, #row, #row, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%x, %m, %s : memref<8x1000xf32>, memref<8xf32>, memref<8xf32>) outs(%y : memref<8x1000xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %e = math.exp %d : f32
    %q = arith.divf %e, %c : f32
    linalg.yield %q : f32
  }
  memref.dealloc %m : memref<8xf32>
  memref.dealloc %s : memref<8xf32>
  return
}

// A row sum the kernel returns, then a consumer written over its own
// input (trueno-write-outputs-in-place): one launch; thread 0 still
// stores the sum (its initial value loaded, no fill to fold), and each
// element is written after every read of the row (the barriers between),
// from the value the sum's pass loaded.
// CHECK-LABEL: func.func @returned_total_in_place
// CHECK: gpu.launch
// CHECK: %[[S0:.*]] = memref.load %{{.*}}[%c0
// CHECK: %[[INIT:.*]] = memref.load %arg1[%[[ROW:.*]]] : memref<4xf32>
// CHECK: %[[S:.*]] = arith.addf %[[S0]], %[[INIT]]
// CHECK: gpu.barrier
// CHECK: arith.cmpi eq
// CHECK: scf.if
// CHECK:   memref.store %[[S]], %arg1[%[[ROW]]]
// CHECK: arith.divf %{{.*}}, %[[S]]
// CHECK: memref.store %{{.*}}, %arg0[%[[ROW]],
// CHECK: arith.divf %{{.*}}, %[[S]]
// CHECK: memref.store %{{.*}}, %arg0[%[[ROW]],
// CHECK-NOT: gpu.launch
// CHECK-NOT: linalg.generic
func.func @returned_total_in_place(%x: memref<4x512xf32> {llvm.noalias}, %total: memref<4xf32> {llvm.noalias}) {
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x512xf32>) outs(%total : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#rows, #row, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%x, %total : memref<4x512xf32>, memref<4xf32>) outs(%x : memref<4x512xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %q = arith.divf %a, %b : f32
    linalg.yield %q : f32
  }
  return
}

// Not chained: a consumer that reads the row sums across rows (a column
// of them) needs every row's total first; one writing the rows of a
// buffer whose first row the reduction read for every row would overwrite
// what other rows still read; an argument not known to be distinct (no
// llvm.noalias) may be any other. Each reduction is its own launch and
// each consumer stays a generic.
// CHECK-LABEL: func.func @not_chained
// CHECK: gpu.launch
// CHECK: linalg.generic
// CHECK: gpu.launch
// CHECK: linalg.generic
// CHECK: gpu.launch
// CHECK: linalg.generic
// CHECK-NOT: gpu.launch
func.func @not_chained(%x: memref<64x64xf32> {llvm.noalias}, %sums: memref<64xf32> {llvm.noalias},
                       %y: memref<64x64xf32> {llvm.noalias}, %b: memref<64xf32> {llvm.noalias},
                       %z: memref<64x64xf32>) {
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<64x64xf32>) outs(%sums : memref<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#rows, affine_map<(d0, d1) -> (d1)>, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%x, %sums : memref<64x64xf32>, memref<64xf32>) outs(%y : memref<64x64xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %q = arith.divf %a, %s : f32
    linalg.yield %q : f32
  }
  linalg.generic {indexing_maps = [#rows, affine_map<(d0, d1) -> (0, d1)>, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x, %y : memref<64x64xf32>, memref<64x64xf32>) outs(%sums : memref<64xf32>) {
  ^bb0(%a: f32, %c: f32, %acc: f32):
    %p = arith.mulf %a, %c : f32
    %r = arith.addf %p, %acc : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#rows, #row, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%x, %sums : memref<64x64xf32>, memref<64xf32>) outs(%y : memref<64x64xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %q = arith.mulf %a, %s : f32
    linalg.yield %q : f32
  }
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%z : memref<64x64xf32>) outs(%b : memref<64xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#rows, #row, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%z, %b : memref<64x64xf32>, memref<64xf32>) outs(%z : memref<64x64xf32>) {
  ^bb0(%a: f32, %s: f32, %o: f32):
    %q = arith.mulf %a, %s : f32
    linalg.yield %q : f32
  }
  return
}

// An int64 row sum: Vulkan shuffles 64-bit integers only with
// shaderSubgroupExtendedTypes, so it takes the tree unless the device has
// it (subgroup-extended-types); a float64 one shuffles either way.
// CHECK-LABEL: func.func @integer_rows
// CHECK-NOT: gpu.shuffle
// CHECK-LABEL: func.func @double_rows
// CHECK-NOT: gpu.shuffle
// SUBGROUP-LABEL: func.func @integer_rows
// SUBGROUP-NOT: gpu.shuffle
// SUBGROUP-COUNT-9: gpu.barrier
// SUBGROUP-LABEL: func.func @double_rows
// SUBGROUP-COUNT-5: gpu.shuffle xor {{.*}} : f64
// SUBGROUP: gpu.barrier
// SUBGROUP-NOT: gpu.barrier
// SUBGROUP: return
// EXTENDED-LABEL: func.func @integer_rows
// EXTENDED-COUNT-5: gpu.shuffle xor {{.*}} : i64
// EXTENDED: gpu.barrier
// EXTENDED-NOT: gpu.barrier
// EXTENDED: return
func.func @integer_rows(%a: memref<4x1000xi64>, %out: memref<4xi64>) {
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<4x1000xi64>) outs(%out : memref<4xi64>) {
  ^bb0(%x: i64, %acc: i64):
    %s = arith.addi %x, %acc : i64
    linalg.yield %s : i64
  }
  return
}
func.func @double_rows(%a: memref<4x1000xf64>, %out: memref<4xf64>) {
  linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%a : memref<4x1000xf64>) outs(%out : memref<4xf64>) {
  ^bb0(%x: f64, %acc: f64):
    %s = arith.addf %x, %acc : f64
    linalg.yield %s : f64
  }
  return
}
