// trueno-parallel-loops-outermost: a generic that reduces before its
// parallel loop (a column sum) is interchanged so that the parallel loop
// comes first and convert-linalg-to-parallel-loops gives each thread one
// output element.
// RUN: trueno-opt %s -trueno-parallel-loops-outermost | FileCheck %s

// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @column_sum
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "reduction"]}
#in = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d1)>
func.func @column_sum(%x: memref<16x4xf32>, %y: memref<4xf32>) {
  linalg.generic {indexing_maps = [#in, #out],
                  iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<16x4xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// Already parallel first: unchanged.
// CHECK-LABEL: func.func @row_sum
// CHECK: iterator_types = ["parallel", "reduction"]
#rows = affine_map<(d0, d1) -> (d0)>
func.func @row_sum(%x: memref<16x4xf32>, %y: memref<16xf32>) {
  linalg.generic {indexing_maps = [#in, #rows],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<16x4xf32>) outs(%y : memref<16xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %s = arith.addf %a, %acc : f32
    linalg.yield %s : f32
  }
  return
}
