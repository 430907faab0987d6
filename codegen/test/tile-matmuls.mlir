// trueno-tile-matmuls: a float32 matrix product becomes a launch of 256
// threads per workgroup computing 64x64 tiles of the output, through
// 64x16 and 16x64 tiles of its inputs in workgroup memory.
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 max-workgroup-count=65535' | FileCheck %s
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=128' | FileCheck %s --check-prefix=SMALL
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 large-tiles=true' | FileCheck %s --check-prefix=LARGE
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 cooperative-matrix=true cooperative-wide-loads=false' | FileCheck %s --check-prefix=COOP
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 prefetch=true' | FileCheck %s --check-prefix=PREFETCH
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 tile-group-rows=4' | FileCheck %s --check-prefix=GROUP
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 cooperative-matrix=true cooperative-wide-loads=false cooperative-buffers=2' | FileCheck %s --check-prefix=COOP2
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 cooperative-matrix=true cooperative-wide-loads=false cooperative-columns=256 cooperative-step=64 cooperative-buffers=2 workgroup-memory=49152' | FileCheck %s --check-prefix=COOP256
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 cooperative-matrix=true cooperative-wide-loads=false cooperative-step=64' | FileCheck %s --check-prefix=COOP64
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 cooperative-matrix=true cooperative-direct=false' | FileCheck %s --check-prefix=STAGED
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 cooperative-matrix=true' | FileCheck %s --check-prefix=WIDE
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 cooperative-matrix=true cooperative-subgroups=4' | FileCheck %s --check-prefix=FOUR
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 cooperative-matrix=true cooperative-subgroups=4 cooperative-workgroup-scope=true' | FileCheck %s --check-prefix=WG
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 cooperative-matrix=true cooperative-subgroups=4 cooperative-workgroup-scope=true cooperative-workgroup-global=true' | FileCheck %s --check-prefix=WGG
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 cooperative-matrix=true cooperative-subgroups=4 cooperative-workgroup-scope=true cooperative-workgroup-global=true cooperative-tensor-loads=true' | FileCheck %s --check-prefix=WGT
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 cooperative-matrix=true cooperative-subgroups=4 cooperative-workgroup-scope=true cooperative-workgroup-global=true cooperative-tensor-loads=true cooperative-tensor-wide-tiles=true' | FileCheck %s --check-prefix=WGTW
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 cooperative-matrix=true cooperative-bf16=true cooperative-subgroups=4 cooperative-workgroup-scope=true cooperative-workgroup-global=true cooperative-tensor-loads=true cooperative-tensor-wide-tiles=true cooperative-tensor-wide-bf16=true' | FileCheck %s --check-prefix=WGTB
// RUN: trueno-opt %s '-trueno-tile-matmuls=workgroup-size=256 cooperative-matrix=true cooperative-bf16=true cooperative-subgroups=4 cooperative-workgroup-scope=true cooperative-workgroup-global=true cooperative-tensor-loads=true cooperative-tensor-wide-tiles=true' | FileCheck %s --check-prefix=WGTN

// 100 x 129 outputs: 2 x 3 tiles, one workgroup each; the contraction of
// 33 in steps of 16 (3 steps, the last one partly zeros); the tiles'
// elements guarded against the edges; each thread's 16 sums in registers,
// 16 x 16 multiply-adds per step; the block added to C where it is inside.
// CHECK-LABEL: func.func @matmul
// CHECK: gpu.launch blocks(%[[B:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c6, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c256,
// CHECK-DAG: %[[AT:.*]] = memref.alloc() : memref<64x16xf32, 3>
// CHECK-DAG: %[[BT:.*]] = memref.alloc() : memref<16x64xf32, 3>
// CHECK: scf.for %{{.*}} = %[[B]] to %c6{{.*}} step %c6
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c33 step %c16{{.*}} iter_args(
// CHECK: scf.if
// CHECK: memref.load %arg0
// CHECK: memref.load %arg1
// CHECK: memref.store %{{.*}}, %[[AT]]
// CHECK: memref.store %{{.*}}, %[[BT]]
// CHECK: gpu.barrier
// CHECK-COUNT-256: math.fma
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK-COUNT-16: memref.store %{{.*}}, %arg2
// CHECK-NOT: linalg.matmul
// SMALL-LABEL: func.func @matmul
// SMALL: linalg.matmul
func.func @matmul(%a: memref<100x33xf32>, %b: memref<33x129xf32>, %c: memref<100x129xf32>) {
  linalg.matmul ins(%a, %b : memref<100x33xf32>, memref<33x129xf32>) outs(%c : memref<100x129xf32>)
  return
}

// A batch of 3 times 1 x 2 tiles (the batch is the tile index's outermost
// part), B a transposed view read through its strides.
// CHECK-LABEL: func.func @batched
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c6,
// CHECK: memref.load %arg1[%{{.*}}, %{{.*}}, %{{.*}}] : memref<3x70x128xf32, strided<[8960, 1, 70]>>
// CHECK-NOT: linalg.batch_matmul
func.func @batched(%a: memref<3x64x70xf32>, %b: memref<3x70x128xf32, strided<[8960, 1, 70]>>, %c: memref<3x64x128xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<3x64x70xf32>, memref<3x70x128xf32, strided<[8960, 1, 70]>>) outs(%c : memref<3x64x128xf32>)
  return
}

// 2000 x 2050 has 16 x 17 = 272 tiles of 128 (at least 256): with
// large-tiles, 128x128 tiles, 8x8 outputs a thread (64 fused multiply-adds
// per step of the 16, 64 guarded stores); without, 32 x 33 tiles of 64.
// CHECK-LABEL: func.func @large
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1056,
// CHECK-DAG: memref.alloc() : memref<64x16xf32, 3>
// With tile-group-rows=4, the 32 x 33 tiles are taken 4 rows at a time,
// column by column: tile t of the 4 x 33 = 132 of its group is at row
// 4 (t / 132) + t % 4 and column (t % 132) / 4 (rows: the group's, at most
// 4, fewer in a last group).
// GROUP-LABEL: func.func @large
// GROUP: scf.for %[[T:.*]] = %{{.*}} to %c1056
// GROUP: %[[IN:.*]] = arith.remui %[[T]], %c1056
// GROUP: arith.divui %[[T]], %c1056
// GROUP: %[[G:.*]] = arith.divui %[[IN]], %c132
// GROUP: %[[W:.*]] = arith.remui %[[IN]], %c132
// GROUP: %[[F:.*]] = arith.muli %[[G]], %c4
// GROUP: %[[LEFT:.*]] = arith.subi %c32{{.*}}, %[[F]]
// GROUP: %[[R:.*]] = arith.minui %[[LEFT]], %c4
// GROUP: %[[IR:.*]] = arith.remui %[[W]], %[[R]]
// GROUP: %[[ROW:.*]] = arith.addi %[[F]], %[[IR]]
// GROUP: %[[COL:.*]] = arith.divui %[[W]], %[[R]]
// GROUP: arith.muli %[[ROW]], %c64
// GROUP: arith.muli %[[COL]], %c64
// LARGE-LABEL: func.func @large
// LARGE: gpu.launch blocks({{.*}}) in (%{{.*}} = %c272,
// LARGE-DAG: memref.alloc() : memref<128x16xf32, 3>
// LARGE-DAG: memref.alloc() : memref<16x128xf32, 3>
// LARGE: gpu.barrier
// LARGE-COUNT-1024: math.fma
// LARGE: gpu.barrier
// LARGE-COUNT-64: memref.store %{{.*}}, %arg2
// LARGE-NOT: linalg.matmul
// LARGE-LABEL: func.func @split_k
func.func @large(%a: memref<2000x20xf32>, %b: memref<20x2050xf32>, %c: memref<2000x2050xf32>) {
  linalg.matmul ins(%a, %b : memref<2000x20xf32>, memref<20x2050xf32>) outs(%c : memref<2000x2050xf32>)
  return
}

// Split-K: [64, 3136] x [3136, 128] is 2 tiles; 22 chunks of 144
// contraction elements (about 512 / 2 wanted, at least 128 each, a
// multiple of 16) make 44 workgroups, each writing its slice of a scratch
// buffer; then C += the sum over the chunks.
// CHECK-LABEL: func.func @split_k
// CHECK: %[[PARTIAL:.*]] = memref.alloc() : memref<22x64x128xf32>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c44,
// CHECK:   arith.divui %{{.*}}, %c2
// CHECK:   arith.minui
// CHECK:   scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c16{{.*}} iter_args(
// Rows of 3136 and 128 floats: both tiles copied 4 elements a load.
// CHECK:   vector.load %arg0[%{{.*}}, %{{.*}}] : memref<64x3136xf32>, vector<4xf32>
// CHECK:   vector.load %arg1[%{{.*}}, %{{.*}}] : memref<3136x128xf32>, vector<4xf32>
// CHECK-COUNT-16: memref.store %{{.*}}, %[[PARTIAL]]
// CHECK: linalg.generic {indexing_maps = [#[[BYCHUNK:.*]], #[[OUT:.*]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[PARTIAL]] : memref<22x64x128xf32>) outs(%arg2 : memref<64x128xf32>)
// CHECK:   arith.addf
// CHECK-NOT: linalg.matmul
func.func @split_k(%a: memref<64x3136xf32>, %b: memref<3136x128xf32>, %c: memref<64x128xf32>) {
  linalg.matmul ins(%a, %b : memref<64x3136xf32>, memref<3136x128xf32>) outs(%c : memref<64x128xf32>)
  return
}

// Left alone: a product of fewer than 32 rows, and one of integers
// widened into a wider sum.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: gpu.launch
// CHECK: linalg.matmul
// CHECK: linalg.matmul
func.func @left_alone(%a: memref<16x64xf32>, %b: memref<64x64xf32>, %c: memref<16x64xf32>,
                      %d: memref<64x64xi8>, %e: memref<64x64xi32>) {
  linalg.matmul ins(%a, %b : memref<16x64xf32>, memref<64x64xf32>) outs(%c : memref<16x64xf32>)
  linalg.matmul ins(%d, %d : memref<64x64xi8>, memref<64x64xi8>) outs(%e : memref<64x64xi32>)
  return
}

// Integers of 32 or 64 bits throughout: the same kernel in that type,
// multiplies and adds (wrapping, as the CPU's), 64-bit elements copied one
// at a time; a zero fill of C just before folded in (the sums stored).
// CHECK-LABEL: func.func @integers
// CHECK-NOT: linalg.fill
// CHECK-DAG: memref.alloc() : memref<64x16xi64, 3>
// CHECK-DAG: memref.alloc() : memref<16x64xi64, 3>
// CHECK-NOT: vector.load
// CHECK: arith.muli {{.*}} : i64
// CHECK-NEXT: arith.addi {{.*}} : i64
// CHECK-NOT: math.fma
// CHECK: memref.store %{{.*}}, %arg2
// CHECK-NOT: linalg.matmul
func.func @integers(%a: memref<100x40xi64>, %b: memref<40x129xi64>, %c: memref<100x129xi64>) {
  %zero = arith.constant 0 : i64
  linalg.fill ins(%zero : i64) outs(%c : memref<100x129xi64>)
  linalg.matmul ins(%a, %b : memref<100x40xi64>, memref<40x129xi64>) outs(%c : memref<100x129xi64>)
  return
}

// float64 (NumPy's default type): the float32 kernel in float64, its
// tiles in workgroup memory and its multiply-adds; each element copied
// alone (a group of 4 would be a 32-byte load).
// CHECK-LABEL: func.func @doubles
// CHECK-DAG: memref.alloc() : memref<64x16xf64, 3>
// CHECK-DAG: memref.alloc() : memref<16x64xf64, 3>
// CHECK-NOT: vector.load
// CHECK: math.fma {{.*}} : f64
func.func @doubles(%a: memref<100x40xf64>, %b: memref<40x129xf64>, %c: memref<100x129xf64>) {
  linalg.matmul ins(%a, %b : memref<100x40xf64>, memref<40x129xf64>) outs(%c : memref<100x129xf64>)
  return
}

// Halves: float16 inputs are read as float16, 4 a load, and widened into
// the float32 tiles; with cooperative-matrix they stay float16 in 128x40
// and 32x136 tiles (padded rows) of groups of 4 halves: 128x10 and 32x34
// vector<4xf16>, one copy of each. Each thread copies 4 halves a load
// (both inputs' rows are multiples of 4) and stores them as one group;
// each of the 8 subgroups multiplies 4 x 2 fragments twice a step of 32
// (16 mma computes), loading them with the strides in groups, its float32
// accumulators carried by the loop. A tile inside C (C's rows of 300
// floats start 16-byte aligned) adds each fragment to C by a matrix load,
// an addition and a matrix store, without barriers; an edge tile stages
// each through its subgroup's 16 rows of a 128x16 buffer into C: 8 rounds
// of 8 guarded additions a thread. bfloat16 keeps the float32 tiles.
// CHECK-LABEL: func.func @halves
// CHECK: memref.alloc() : memref<64x16xf32, 3>
// CHECK: vector.load %arg0{{.*}} : memref<200x96xf16>, vector<4xf16>
// CHECK: vector.extract
// CHECK-NEXT: arith.extf
// CHECK-NOT: gpu.subgroup_mma
// CHECK-LABEL: func.func @bf16
// COOP-LABEL: func.func @halves
// COOP: gpu.launch blocks({{.*}}) in (%{{.*}} = %c6,
// COOP-DAG: %[[AT:.*]] = memref.alloc() : memref<1x128x10xvector<4xf16>, 3>
// COOP-DAG: %[[BT:.*]] = memref.alloc() : memref<1x32x34xvector<4xf16>, 3>
// COOP-DAG: %[[CS:.*]] = memref.alloc() : memref<128x16xf32, 3>
// COOP-DAG: %[[S:.*]] = gpu.subgroup_id : index
// COOP: %[[ZERO:.*]] = gpu.subgroup_mma_constant_matrix %{{.*}} : !gpu.mma_matrix<16x16xf32, "COp">
// The first step's tile elements before the loop, carried by it (the
// cooperative kernel always prefetches); each step stores them, then loads
// the next step's before its arithmetic.
// COOP-NOT: arith.extf
// COOP-COUNT-4: vector.load %arg0[%{{.*}}, %{{.*}}] : memref<200x96xf16>, vector<4xf16>
// COOP-COUNT-4: vector.load %arg1[%{{.*}}, %{{.*}}] : memref<96x300xf16>, vector<4xf16>
// COOP: scf.for %{{.*}} = %c0{{.*}} to %c96 step %c32{{.*}} iter_args(%{{.*}} = %[[ZERO]],{{.*}} -> ({{.*}}vector<4xf16>, vector<4xf16>, vector<4xf16>, vector<4xf16>, vector<4xf16>, vector<4xf16>, vector<4xf16>, vector<4xf16>)
// COOP-COUNT-4: memref.store %{{.*}}, %[[AT]][%c0{{.*}}, %{{.*}}, %{{.*}}] : memref<1x128x10xvector<4xf16>, 3>
// COOP-COUNT-4: memref.store %{{.*}}, %[[BT]][%c0{{.*}}, %{{.*}}, %{{.*}}] : memref<1x32x34xvector<4xf16>, 3>
// COOP-NOT: memref.store
// COOP: gpu.barrier
// COOP-COUNT-4: vector.load %arg0[%{{.*}}, %{{.*}}] : memref<200x96xf16>, vector<4xf16>
// COOP-COUNT-4: vector.load %arg1[%{{.*}}, %{{.*}}] : memref<96x300xf16>, vector<4xf16>
// COOP: gpu.subgroup_mma_load_matrix %[[AT]][%c0{{.*}}, %{{.*}}, %{{.*}}] {leadDimension = 10 : index} : memref<1x128x10xvector<4xf16>, 3> -> !gpu.mma_matrix<16x16xf16, "AOp">
// COOP: gpu.subgroup_mma_load_matrix %[[BT]][%c0{{.*}}, %{{.*}}, %{{.*}}] {leadDimension = 34 : index} : memref<1x32x34xvector<4xf16>, 3> -> !gpu.mma_matrix<16x16xf16, "BOp">
// COOP-COUNT-16: gpu.subgroup_mma_compute
// COOP: gpu.barrier
// COOP: scf.yield
// COOP: scf.if %{{.*}} {
// COOP-NOT: gpu.barrier
// COOP: %[[OLD:.*]] = gpu.subgroup_mma_load_matrix %arg2[%{{.*}}, %{{.*}}] {leadDimension = 300 : index} : memref<200x300xf32> -> !gpu.mma_matrix<16x16xf32, "COp">
// COOP-NEXT: %[[SUM:.*]] = gpu.subgroup_mma_elementwise  addf %[[OLD]], %{{.*}}#0
// COOP-NEXT: gpu.subgroup_mma_store_matrix %[[SUM]], %arg2[%{{.*}}, %{{.*}}] {leadDimension = 300 : index}
// COOP-COUNT-7: gpu.subgroup_mma_store_matrix %{{.*}}, %arg2
// COOP-NOT: gpu.barrier
// COOP: } else {
// COOP: gpu.subgroup_mma_store_matrix %{{.*}}, %[[CS]][%{{.*}}, %c0{{.*}}] {leadDimension = 16 : index}
// COOP-NEXT: gpu.barrier
// COOP-COUNT-8: memref.store %{{.*}}, %arg2
// COOP: gpu.barrier
// COOP-COUNT-7: gpu.subgroup_mma_store_matrix
// COOP-NOT: gpu.subgroup_mma_store_matrix
// With cooperative-direct=false every tile is staged.
// STAGED-LABEL: func.func @halves
// STAGED-NOT: gpu.subgroup_mma_load_matrix %arg2
// STAGED: gpu.subgroup_mma_store_matrix %{{.*}}, %alloc
// STAGED-NOT: gpu.subgroup_mma_store_matrix %{{.*}}, %arg2
// STAGED-LABEL: func.func @halves_odd_rows
// With steps of 64: tiles of 128x64 and 64x128 (padded), each step 4
// k-fragments of every accumulator.
// COOP64-LABEL: func.func @halves
// COOP64-DAG: %[[AT:.*]] = memref.alloc() : memref<1x128x18xvector<4xf16>, 3>
// COOP64-DAG: %[[BT:.*]] = memref.alloc() : memref<1x64x34xvector<4xf16>, 3>
// COOP64-COUNT-8: vector.load %arg0[%{{.*}}, %{{.*}}] : memref<200x96xf16>, vector<4xf16>
// COOP64-COUNT-8: vector.load %arg1[%{{.*}}, %{{.*}}] : memref<96x300xf16>, vector<4xf16>
// COOP64: scf.for %{{.*}} = %c0{{.*}} to %c96 step %c64
// COOP64: gpu.subgroup_mma_load_matrix %[[AT]][%c0{{.*}}, %{{.*}}, %{{.*}}] {leadDimension = 18 : index}
// COOP64-COUNT-32: gpu.subgroup_mma_compute
// COOP64: scf.yield
// Two copies of the tiles: the first step's stored into copy 0 before the
// loop, then the second step's loaded; each iteration takes two steps
// (K = 96, 3 steps of 32, rounded up to 4, the last of zeros), the copies'
// indices constants: store the carried elements into copy 1, load the
// next step's, compute from copy 0, barrier; store into copy 0, load,
// compute from copy 1, barrier. No index is carried.
// COOP2-LABEL: func.func @halves
// COOP2-DAG: %[[AT:.*]] = memref.alloc() : memref<2x128x10xvector<4xf16>, 3>
// COOP2-DAG: %[[BT:.*]] = memref.alloc() : memref<2x32x34xvector<4xf16>, 3>
// COOP2-COUNT-4: memref.store %{{.*}}, %[[AT]][%c0{{.*}}, %{{.*}}, %{{.*}}]
// COOP2-COUNT-4: memref.store %{{.*}}, %[[BT]][%c0{{.*}}, %{{.*}}, %{{.*}}]
// COOP2-NEXT: gpu.barrier
// COOP2-COUNT-8: vector.load
// COOP2: arith.divui %{{.*}}, %c64
// COOP2: scf.for %{{.*}} = %c0{{.*}} to %{{.*}} step %c64{{.*}} iter_args({{.*}}) -> ({{.*}}vector<4xf16>) {
// COOP2-COUNT-4: memref.store %{{.*}}, %[[AT]][%c1{{(_[0-9]+)?}}, %{{.*}}, %{{.*}}]
// COOP2-COUNT-4: memref.store %{{.*}}, %[[BT]][%c1{{(_[0-9]+)?}}, %{{.*}}, %{{.*}}]
// COOP2-NOT: gpu.barrier
// COOP2-COUNT-8: vector.load
// COOP2-NOT: gpu.barrier
// COOP2: gpu.subgroup_mma_load_matrix %[[AT]][%c0{{(_[0-9]+)?}}, %{{.*}}, %{{.*}}]
// COOP2-NOT: gpu.barrier
// COOP2-COUNT-16: gpu.subgroup_mma_compute
// COOP2-NEXT: gpu.barrier
// COOP2-COUNT-4: memref.store %{{.*}}, %[[AT]][%c0{{(_[0-9]+)?}}, %{{.*}}, %{{.*}}]
// COOP2-COUNT-4: memref.store %{{.*}}, %[[BT]][%c0{{(_[0-9]+)?}}, %{{.*}}, %{{.*}}]
// COOP2-NOT: gpu.barrier
// COOP2-COUNT-8: vector.load
// COOP2-NOT: gpu.barrier
// COOP2: gpu.subgroup_mma_load_matrix %[[AT]][%c1{{(_[0-9]+)?}}, %{{.*}}, %{{.*}}]
// COOP2-NOT: gpu.barrier
// COOP2-COUNT-16: gpu.subgroup_mma_compute
// COOP2-NEXT: gpu.barrier
// COOP2-NEXT: scf.yield
// With 256 columns, each subgroup computes 4 x 4 fragments: 128x40 and
// 32x264 tiles, 16 fragments stored to C directly (inside C) or staged
// (at its edges). Asked for steps of 64 and two
// copies in 48 KiB of workgroup memory, the kernel takes steps of 32 and
// one copy (35 KiB; 59 KiB with steps of 64).
// COOP256-LABEL: func.func @halves
// COOP256: gpu.launch blocks({{.*}}) in (%{{.*}} = %c4,
// COOP256-DAG: %[[AT:.*]] = memref.alloc() : memref<1x128x10xvector<4xf16>, 3>
// COOP256-DAG: %[[BT:.*]] = memref.alloc() : memref<1x32x66xvector<4xf16>, 3>
// COOP256: scf.for %{{.*}} = %c0{{.*}} to %c96 step %c32
// COOP256-COUNT-32: gpu.subgroup_mma_compute
// COOP256: scf.yield
// COOP256-COUNT-16: gpu.subgroup_mma_store_matrix %{{.*}}, %arg2
// COOP256: } else {
// COOP256-COUNT-16: gpu.subgroup_mma_store_matrix %{{.*}}, %alloc
// COOP256-NOT: gpu.subgroup_mma_store_matrix
// COOP256-LABEL: func.func @halves_odd_rows
// A's rows of 90 halves are not groups of 4 in the buffer: the cooperative
// kernel loads A's groups one half at a time, each guarded on its own
// column, and still stores each group with one store.
// COOP-LABEL: func.func @halves_odd_rows
// COOP: scf.if
// COOP-NEXT: memref.load %arg0[%{{.*}}, %{{.*}}] : memref<200x90xf16>
// COOP-COUNT-3: memref.load %arg0[%{{.*}}, %{{.*}}] : memref<200x90xf16>
// COOP-COUNT-4: vector.insert %{{.*}}, %{{.*}} [{{[0-3]}}] : f16 into vector<4xf16>
// COOP: vector.load %arg1[%{{.*}}, %{{.*}}] : memref<90x300xf16>, vector<4xf16>
// COOP-LABEL: func.func @bf16
// COOP-NOT: gpu.subgroup_mma
// COOP: memref.alloc() : memref<64x16xf32, 3>
func.func @halves(%a: memref<200x96xf16>, %b: memref<96x300xf16>, %c: memref<200x300xf32>) {
  linalg.matmul ins(%a, %b : memref<200x96xf16>, memref<96x300xf16>) outs(%c : memref<200x300xf32>)
  return
}
// Wide groups (the default): an input whose rows are groups of 8 halves
// in memory (offsets, strides and the row length multiples of 8) is
// copied 8 halves a load (vector<8xf16>, bitcast to the tile's
// vector<4xi32>) and a store; its tile holds vector<4xi32> (rows of 40
// halves: 5, of 264: 33), and the fragments' strides are in those. B's
// rows of 300 halves are not groups of 8: its tile keeps groups of 4.
// WIDE-LABEL: func.func @halves
// WIDE-DAG: %[[AT:.*]] = memref.alloc() : memref<1x128x5xvector<4xi32>, 3>
// WIDE-DAG: %[[BT:.*]] = memref.alloc() : memref<1x32x34xvector<4xf16>, 3>
// WIDE-COUNT-2: vector.load %arg0[%{{.*}}, %{{.*}}] : memref<200x96xf16>, vector<8xf16>
// WIDE-COUNT-4: vector.load %arg1[%{{.*}}, %{{.*}}] : memref<96x300xf16>, vector<4xf16>
// WIDE: scf.for {{.*}} -> ({{.*}}vector<4xi32>, vector<4xi32>, vector<4xf16>, vector<4xf16>, vector<4xf16>, vector<4xf16>)
// WIDE-COUNT-2: memref.store %{{.*}}, %[[AT]]
// WIDE-COUNT-4: memref.store %{{.*}}, %[[BT]]
// WIDE: gpu.subgroup_mma_load_matrix %[[AT]][%c0{{.*}}, %{{.*}}, %{{.*}}] {leadDimension = 5 : index} : memref<1x128x5xvector<4xi32>, 3> -> !gpu.mma_matrix<16x16xf16, "AOp">
// WIDE: gpu.subgroup_mma_load_matrix %[[BT]][%c0{{.*}}, %{{.*}}, %{{.*}}] {leadDimension = 34 : index}
// WIDE-LABEL: func.func @halves_odd_rows
// WIDE-NOT: vector<8xf16>
// WIDE-LABEL: func.func @halves_wide
// WIDE: memref.alloc() : memref<1x32x17xvector<4xi32>, 3>
// WIDE: scf.if
// WIDE-NEXT: vector.load %arg0{{.*}} : memref<256x64xf16>, vector<8xf16>
// WIDE-NEXT: vector.bitcast %{{.*}} : vector<8xf16> to vector<4xi32>
// WIDE-COUNT-2: vector.load %arg1[%{{.*}}, %{{.*}}] : memref<64x512xf16, strided<[520, 1], offset: 8>>, vector<8xf16>
// WIDE: gpu.subgroup_mma_load_matrix {{.*}} {leadDimension = 17 : index} : memref<1x32x17xvector<4xi32>, 3>
func.func @halves_odd_rows(%a: memref<200x90xf16>, %b: memref<90x300xf16>, %c: memref<200x300xf32>) {
  linalg.matmul ins(%a, %b : memref<200x90xf16>, memref<90x300xf16>) outs(%c : memref<200x300xf32>)
  return
}
func.func @bf16(%a: memref<200x96xbf16>, %b: memref<96x300xbf16>, %c: memref<200x300xf32>) {
  linalg.matmul ins(%a, %b : memref<200x96xbf16>, memref<96x300xbf16>) outs(%c : memref<200x300xf32>)
  return
}
// Four subgroups: 128 threads, 128x128 tiles (2 x 4 of them here), each
// subgroup 4 x 4 fragments, twice a step of 32.
// FOUR-LABEL: func.func @halves_wide
// FOUR: gpu.launch blocks({{.*}}) in (%{{.*}} = %c8, {{.*}} threads({{.*}}) in (%{{.*}} = %c128,
// FOUR-DAG: memref.alloc() : memref<1x128x5xvector<4xi32>, 3>
// FOUR-DAG: memref.alloc() : memref<1x32x17xvector<4xi32>, 3>
// FOUR-DAG: memref.alloc() : memref<64x16xf32, 3>
// FOUR-COUNT-32: gpu.subgroup_mma_compute
// FOUR-NOT: gpu.subgroup_mma_compute
// FOUR: return
// Workgroup-scope matrices where every tile lies inside C: one
// multiply-add a step of 16x16 stand-ins marked with the workgroup's
// sizes, from the tiles' first elements, and one load, add and store of
// C; no staging memory. @halves (200 rows) keeps the subgroups'
// fragments.
// WG-LABEL: func.func @halves(
// WG-NOT: trueno.workgroup_matrices
// WG-LABEL: func.func @halves_wide
// WG: threads({{.*}}) in (%{{.*}} = %c128,
// WG-NOT: memref<64x16xf32, 3>
// WG: %[[ZERO:.*]] = gpu.subgroup_mma_constant_matrix
// WG: scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO]],
// WG: gpu.barrier
// WG: gpu.subgroup_mma_load_matrix %{{.*}}[%{{.*}}, %c0{{.*}}, %c0{{.*}}] {leadDimension = 5 : index} : memref<1x128x5xvector<4xi32>, 3>
// WG: gpu.subgroup_mma_load_matrix %{{.*}}[%{{.*}}, %c0{{.*}}, %c0{{.*}}] {leadDimension = 17 : index} : memref<1x32x17xvector<4xi32>, 3>
// WG: gpu.subgroup_mma_compute {{.*}} {trueno.workgroup_matrices = [128, 128, 32]}
// WG-NOT: gpu.subgroup_mma_compute
// WG: gpu.subgroup_mma_load_matrix %arg2{{.*}} {leadDimension = 512 : index}
// WG: gpu.subgroup_mma_elementwise addf
// WG: gpu.subgroup_mma_store_matrix %{{.*}}, %arg2{{.*}} {leadDimension = 512 : index}
// Loading from the inputs: no tiles, no barrier; A's rows of 64, B's of
// 520 (a view).
// WGG-LABEL: func.func @halves_wide
// WGG-NOT: memref.alloc
// WGG: scf.for %[[K:.*]] = %c0{{.*}} to %c64{{.*}} step %c32
// WGG-NOT: gpu.barrier
// WGG: gpu.subgroup_mma_load_matrix %arg0[%{{.*}}, %[[K]]] {leadDimension = 64 : index}
// WGG: gpu.subgroup_mma_load_matrix %arg1[%[[K]], %{{.*}}] {leadDimension = 520 : index}
// WGG: gpu.subgroup_mma_compute {{.*}} {trueno.workgroup_matrices = [128, 128, 32]}
// WGG-NOT: gpu.barrier
// WGG: gpu.subgroup_mma_store_matrix
// Marked for tensor loads (serialization makes them).
// WGT-LABEL: func.func @halves_wide
// WGT: gpu.subgroup_mma_load_matrix %arg0
// WGT: gpu.subgroup_mma_load_matrix %arg1
// WGT: gpu.subgroup_mma_compute {{.*}} {trueno.tensor_loads, trueno.workgroup_matrices = [128, 128, 32]}
// WGT-LABEL: func.func @
func.func @halves_wide(%a: memref<256x64xf16>, %b: memref<64x512xf16, strided<[520, 1], offset: 8>>, %c: memref<256x512xf32>) {
  linalg.matmul ins(%a, %b : memref<256x64xf16>, memref<64x512xf16, strided<[520, 1], offset: 8>>) outs(%c : memref<256x512xf32>)
  return
}
// With wide tiles for tensor loads: 128x256 tiles of 8 subgroups (256
// threads, 2 x 2 tiles) where N is a multiple of 256; @halves_narrow
// (N = 384) keeps the asked 128x128 tiles of 4 subgroups, tensor loads
// too; @halves (200 rows) keeps the subgroups' fragments.
// WGTW-LABEL: func.func @halves(
// WGTW: threads({{.*}}) in (%{{.*}} = %c128,
// WGTW-NOT: trueno.workgroup_matrices
// WGTW-LABEL: func.func @halves_wide
// WGTW: gpu.launch blocks({{.*}}) in (%{{.*}} = %c4, {{.*}} threads({{.*}}) in (%{{.*}} = %c256,
// WGTW-NOT: memref.alloc
// WGTW: gpu.subgroup_mma_load_matrix %arg0
// WGTW: gpu.subgroup_mma_load_matrix %arg1
// WGTW: gpu.subgroup_mma_compute {{.*}} {trueno.tensor_loads, trueno.workgroup_matrices = [128, 256, 32]}
// WGTW-LABEL: func.func @halves_narrow
// WGTW: gpu.launch blocks({{.*}}) in (%{{.*}} = %c6, {{.*}} threads({{.*}}) in (%{{.*}} = %c128,
// WGTW: gpu.subgroup_mma_compute {{.*}} {trueno.tensor_loads, trueno.workgroup_matrices = [128, 128, 32]}
// bfloat16 inputs load their matrices through float16 views of the
// buffers (MLIR's matrix load takes no bfloat16 memref; the stand-ins carry
// bfloat16 bits, and the multiply-add is marked for retyping), at the wide
// tiles too.
// WGTB-LABEL: func.func @bf16_wide
// WGTB: gpu.launch blocks({{.*}}) in (%{{.*}} = %c4, {{.*}} threads({{.*}}) in (%{{.*}} = %c256,
// WGTB-NOT: memref.alloc
// WGTB-DAG: %[[A:.*]] = builtin.unrealized_conversion_cast %arg0 : memref<256x64xbf16> to memref<256x64xf16>
// WGTB-DAG: %[[B:.*]] = builtin.unrealized_conversion_cast %arg1 : memref<64x512xbf16> to memref<64x512xf16>
// WGTB: gpu.subgroup_mma_load_matrix %[[A]]
// WGTB: gpu.subgroup_mma_load_matrix %[[B]]
// WGTB: gpu.subgroup_mma_compute {{.*}} {trueno.bfloat16, trueno.tensor_loads, trueno.workgroup_matrices = [128, 256, 32]}
// Without cooperative-tensor-wide-bf16 (a device that lists the wide shape
// for float16 only), bfloat16 products keep 128x128 tiles of 4 subgroups,
// by tensor loads still.
// WGTN-LABEL: func.func @bf16_wide
// WGTN: gpu.launch blocks({{.*}}) in (%{{.*}} = %c8, {{.*}} threads({{.*}}) in (%{{.*}} = %c128,
// WGTN: gpu.subgroup_mma_compute {{.*}} {trueno.bfloat16, trueno.tensor_loads, trueno.workgroup_matrices = [128, 128, 32]}
func.func @bf16_wide(%a: memref<256x64xbf16>, %b: memref<64x512xbf16>, %c: memref<256x512xf32>) {
  linalg.matmul ins(%a, %b : memref<256x64xbf16>, memref<64x512xbf16>) outs(%c : memref<256x512xf32>)
  return
}
func.func @halves_narrow(%a: memref<256x64xf16>, %b: memref<64x384xf16>, %c: memref<256x384xf32>) {
  linalg.matmul ins(%a, %b : memref<256x64xf16>, memref<64x384xf16>) outs(%c : memref<256x384xf32>)
  return
}

// With prefetch, the first step's elements are loaded before the
// contraction loop, which carries the next step's: stored to the tiles,
// a barrier, the next step's loads (at k0 + 16), then the arithmetic.
// PREFETCH-LABEL: func.func @split_k
// PREFETCH: vector.load %arg0
// PREFETCH: vector.load %arg1
// PREFETCH: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %c16{{.*}} iter_args({{.*}}) -> ({{.*}}f32, vector<4xf32>, vector<4xf32>)
// PREFETCH-COUNT-4: memref.store
// PREFETCH: gpu.barrier
// PREFETCH: arith.addi %[[K]], %c16
// PREFETCH: vector.load %arg0[%{{.*}}, %{{.*}}]
// PREFETCH: vector.load %arg1
// PREFETCH: math.fma
// PREFETCH: gpu.barrier
// PREFETCH: scf.yield

// C zero-filled just before the product: the fill goes and the kernel
// stores its sums (no load of C). With split-K the fill stays (the chunks
// add into C).
// CHECK-LABEL: func.func @zero_filled
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch
// CHECK-NOT: memref.load %arg2
// CHECK: memref.store %{{.*}}, %arg2
// CHECK-NOT: memref.load %arg2
// CHECK: return
// COOP-LABEL: func.func @zero_filled
// COOP-NOT: linalg.fill
// COOP-NOT: gpu.subgroup_mma_load_matrix %arg2
// COOP: gpu.subgroup_mma_store_matrix %{{.*}}, %arg2
// COOP-NOT: gpu.subgroup_mma_load_matrix %arg2
// COOP: return
func.func @zero_filled(%a: memref<200x96xf16>, %b: memref<96x300xf16>, %c: memref<200x300xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<200x300xf32>)
  linalg.matmul ins(%a, %b : memref<200x96xf16>, memref<96x300xf16>) outs(%c : memref<200x300xf32>)
  return
}
// CHECK-LABEL: func.func @zero_filled_split_k
// CHECK: linalg.fill
// CHECK: gpu.launch
// CHECK-LABEL: func.func @one_filled
// CHECK: linalg.fill
// CHECK: gpu.launch
// CHECK: memref.load %arg2
// CHECK: arith.addf
func.func @zero_filled_split_k(%a: memref<64x3136xf32>, %b: memref<3136x128xf32>, %c: memref<64x128xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<64x128xf32>)
  linalg.matmul ins(%a, %b : memref<64x3136xf32>, memref<3136x128xf32>) outs(%c : memref<64x128xf32>)
  return
}
func.func @one_filled(%a: memref<200x96xf32>, %b: memref<96x300xf32>, %c: memref<200x300xf32>) {
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%c : memref<200x300xf32>)
  linalg.matmul ins(%a, %b : memref<200x96xf32>, memref<96x300xf32>) outs(%c : memref<200x300xf32>)
  return
}

// A convolution as trueno-convolutions-as-matmuls leaves it (x [2, 16, 16,
// 16] padded, y [2, 64, 14, 14], zero-filled before; the weight there is a
// view with a batch stride of 0, which the parser does not take): the
// product's B tiles read x itself, element (k, p) of batch n at
// x[n][k / 9][p / 14 + k / 3 % 3][p % 14 + k % 3] (an implicit GEMM); the
// im2col copy and its scratch go, and the zero fill of y folds in (no
// split-K: a contraction of 144).
// CHECK-LABEL: func.func @implicit_gemm
// CHECK-NOT: linalg.fill
// CHECK-NOT: memref.alloc() : memref<2x16x3x3x14x14xf32>
// CHECK: gpu.launch
// CHECK: %[[KW:.*]] = arith.remui %[[K:.*]], %c3
// CHECK: %[[K1:.*]] = arith.divui %[[K]], %c3
// CHECK: %[[KH:.*]] = arith.remui %[[K1]], %c3
// CHECK: %[[C:.*]] = arith.divui %[[K1]], %c3
// CHECK: %[[OW:.*]] = arith.remui %[[P:.*]], %c14
// CHECK: %[[OH:.*]] = arith.divui %[[P]], %c14
// CHECK: %[[I0:.*]] = affine.apply #{{.*}}(%[[N:.*]], %[[C]], %[[KH]], %[[KW]], %[[OH]], %[[OW]])
// CHECK: %[[I1:.*]] = affine.apply
// CHECK: %[[I2:.*]] = affine.apply
// CHECK: %[[I3:.*]] = affine.apply
// CHECK: memref.load %arg0[%[[I0]], %[[I1]], %[[I2]], %[[I3]]] : memref<2x16x16x16xf32>
// CHECK-NOT: memref.load %{{.*}} : memref<2x144x196xf32>
// CHECK-NOT: arith.addf
// CHECK: memref.store %{{.*}}, %{{.*}} : memref<2x64x196xf32>
// CHECK-NOT: linalg.generic
// CHECK-NOT: linalg.batch_matmul
#window = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 + d2, d5 + d3)>
#same = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
func.func @implicit_gemm(%x: memref<2x16x16x16xf32> {llvm.noalias}, %weights: memref<2x64x144xf32> {llvm.noalias}, %y: memref<2x64x14x14xf32> {llvm.noalias}) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<2x64x14x14xf32>)
  %col = memref.alloc() : memref<2x16x3x3x14x14xf32>
  linalg.generic {indexing_maps = [#window, #same], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%x : memref<2x16x16x16xf32>) outs(%col : memref<2x16x3x3x14x14xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %columns = memref.collapse_shape %col [[0], [1, 2, 3], [4, 5]] : memref<2x16x3x3x14x14xf32> into memref<2x144x196xf32>
  %out = memref.collapse_shape %y [[0], [1], [2, 3]] : memref<2x64x14x14xf32> into memref<2x64x196xf32>
  linalg.batch_matmul ins(%weights, %columns : memref<2x64x144xf32>, memref<2x144x196xf32>) outs(%out : memref<2x64x196xf32>)
  return
}

// The copy's source written between the copy and the product: the product
// reads the copy. (So it does where the source may alias another buffer:
// arguments without llvm.noalias.)
// CHECK-LABEL: func.func @source_written_between
// CHECK: memref.alloc() : memref<1x4x3x3x6x6xf32>
// CHECK: linalg.generic
// CHECK: linalg.fill
// CHECK: gpu.launch
func.func @source_written_between(%x: memref<1x4x8x8xf32> {llvm.noalias}, %weights: memref<1x32x36xf32> {llvm.noalias}, %y: memref<1x32x6x6xf32> {llvm.noalias}) {
  %col = memref.alloc() : memref<1x4x3x3x6x6xf32>
  linalg.generic {indexing_maps = [#window, #same], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%x : memref<1x4x8x8xf32>) outs(%col : memref<1x4x3x3x6x6xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %one = arith.constant 1.0 : f32
  linalg.fill ins(%one : f32) outs(%x : memref<1x4x8x8xf32>)
  %columns = memref.collapse_shape %col [[0], [1, 2, 3], [4, 5]] : memref<1x4x3x3x6x6xf32> into memref<1x36x36xf32>
  %out = memref.collapse_shape %y [[0], [1], [2, 3]] : memref<1x32x6x6xf32> into memref<1x32x36xf32>
  linalg.batch_matmul ins(%weights, %columns : memref<1x32x36xf32>, memref<1x36x36xf32>) outs(%out : memref<1x32x36xf32>)
  return
}

// A padded input (zero-filled, then its interior copied from %x, as a
// convolution's padding): the tiles read %x itself, zeros where the
// padded buffer's indices are outside the interior [1, 15) x [1, 15);
// the fill, the copy and the padded buffer go too.
// CHECK-LABEL: func.func @padded
// CHECK-NOT: memref.alloc() : memref<2x16x16x16xf32>
// CHECK-NOT: linalg.fill
// CHECK-NOT: linalg.copy
// CHECK: gpu.launch
// CHECK: affine.apply
// CHECK: affine.apply
// CHECK: %[[I2:.*]] = affine.apply
// CHECK: %[[I3:.*]] = affine.apply
// CHECK: arith.cmpi uge, %[[I2]], %c1{{.*}}
// CHECK: arith.cmpi ult, %[[I2]], %c15{{.*}}
// CHECK: %[[R:.*]] = arith.subi %[[I2]], %c1{{.*}}
// CHECK: arith.cmpi uge, %[[I3]], %c1{{.*}}
// CHECK: arith.cmpi ult, %[[I3]], %c15{{.*}}
// CHECK: %[[C:.*]] = arith.subi %[[I3]], %c1{{.*}}
// CHECK: scf.if
// CHECK: memref.load %arg0[%{{.*}}, %{{.*}}, %[[R]], %[[C]]] : memref<2x16x14x14xf32>
// CHECK-NOT: linalg.generic
func.func @padded(%x: memref<2x16x14x14xf32> {llvm.noalias}, %weights: memref<2x64x144xf32> {llvm.noalias}, %y: memref<2x64x14x14xf32> {llvm.noalias}) {
  %zero = arith.constant 0.0 : f32
  %pad = memref.alloc() : memref<2x16x16x16xf32>
  linalg.fill ins(%zero : f32) outs(%pad : memref<2x16x16x16xf32>)
  %interior = memref.subview %pad[0, 0, 1, 1] [2, 16, 14, 14] [1, 1, 1, 1] : memref<2x16x16x16xf32> to memref<2x16x14x14xf32, strided<[4096, 256, 16, 1], offset: 17>>
  linalg.copy ins(%x : memref<2x16x14x14xf32>) outs(%interior : memref<2x16x14x14xf32, strided<[4096, 256, 16, 1], offset: 17>>)
  linalg.fill ins(%zero : f32) outs(%y : memref<2x64x14x14xf32>)
  %col = memref.alloc() : memref<2x16x3x3x14x14xf32>
  linalg.generic {indexing_maps = [#window, #same], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%pad : memref<2x16x16x16xf32>) outs(%col : memref<2x16x3x3x14x14xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  %columns = memref.collapse_shape %col [[0], [1, 2, 3], [4, 5]] : memref<2x16x3x3x14x14xf32> into memref<2x144x196xf32>
  %out = memref.collapse_shape %y [[0], [1], [2, 3]] : memref<2x64x14x14xf32> into memref<2x64x196xf32>
  linalg.batch_matmul ins(%weights, %columns : memref<2x64x144xf32>, memref<2x144x196xf32>) outs(%out : memref<2x64x196xf32>)
  memref.dealloc %pad : memref<2x16x16x16xf32>
  return
}
