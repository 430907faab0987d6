// trueno-fuse-shared-elementwise: an elementwise generic read by several
// generics is recomputed in each and disappears, where
// linalg-fuse-elementwise-ops leaves it (and its buffer) in place.
// RUN: trueno-opt %s -split-input-file -trueno-fuse-shared-elementwise | FileCheck %s
// RUN: trueno-opt %s -split-input-file -trueno-fuse-shared-elementwise='max-ops=1' | FileCheck %s --check-prefix=SMALL

#rows = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// A softmax's tail: e = exp(x - m) feeds the row sum and the division.
// CHECK-LABEL: func.func @softmax_tail
// CHECK:     linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK:       arith.subf
// CHECK:       math.exp
// CHECK:       arith.addf
// CHECK:     linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK:       arith.subf
// CHECK:       math.exp
// CHECK:       arith.divf
// CHECK-NOT: linalg.generic
// SMALL-LABEL: func.func @softmax_tail
// SMALL-COUNT-3: linalg.generic
func.func @softmax_tail(%x: tensor<8x100xf32>, %m: tensor<8xf32>) -> tensor<8x100xf32> {
  %empty = tensor.empty() : tensor<8x100xf32>
  %e = linalg.generic {indexing_maps = [#rows, #row, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%x, %m : tensor<8x100xf32>, tensor<8xf32>) outs(%empty : tensor<8x100xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %d = arith.subf %a, %b : f32
    %v = math.exp %d : f32
    linalg.yield %v : f32
  } -> tensor<8x100xf32>
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<8xf32>
  %filled = linalg.fill ins(%zero : f32) outs(%init : tensor<8xf32>) -> tensor<8xf32>
  %s = linalg.generic {indexing_maps = [#rows, #row], iterator_types = ["parallel", "reduction"]}
      ins(%e : tensor<8x100xf32>) outs(%filled : tensor<8xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %t = arith.addf %a, %acc : f32
    linalg.yield %t : f32
  } -> tensor<8xf32>
  %out = linalg.generic {indexing_maps = [#rows, #row, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%e, %s : tensor<8x100xf32>, tensor<8xf32>) outs(%empty : tensor<8x100xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %q = arith.divf %a, %b : f32
    linalg.yield %q : f32
  } -> tensor<8x100xf32>
  return %out : tensor<8x100xf32>
}

// -----

#map = affine_map<(d0) -> (d0)>

// Kept: a shared result the function also returns (it is written anyway).
// CHECK-LABEL: func.func @returned
// CHECK-COUNT-3: linalg.generic
func.func @returned(%x: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) {
  %empty = tensor.empty() : tensor<16xf32>
  %e = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%x : tensor<16xf32>) outs(%empty : tensor<16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = math.exp %a : f32
    linalg.yield %v : f32
  } -> tensor<16xf32>
  %p = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%e : tensor<16xf32>) outs(%empty : tensor<16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = arith.negf %a : f32
    linalg.yield %v : f32
  } -> tensor<16xf32>
  %q = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel"]}
      ins(%e : tensor<16xf32>) outs(%empty : tensor<16xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = math.sqrt %a : f32
    linalg.yield %v : f32
  } -> tensor<16xf32>
  return %e, %p, %q : tensor<16xf32>, tensor<16xf32>, tensor<16xf32>
}

// -----

#id = affine_map<(d0) -> (d0)>
#first = affine_map<(d0) -> (0)>

// Read through two operands by its only reader: fused through each, gone.
// CHECK-LABEL: func.func @only_reader_twice
// CHECK:       linalg.generic
// CHECK:         math.exp
// CHECK:         math.exp
// CHECK:         arith.addf
// CHECK-NOT:   linalg.generic
func.func @only_reader_twice(%x: tensor<4xf32>) -> tensor<4xf32> {
  %empty = tensor.empty() : tensor<4xf32>
  %e = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<4xf32>) outs(%empty : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = math.exp %a : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %sum = linalg.generic {indexing_maps = [#id, #first, #id], iterator_types = ["parallel"]}
      ins(%e, %e : tensor<4xf32>, tensor<4xf32>) outs(%empty : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %v = arith.addf %a, %b : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  return %sum : tensor<4xf32>
}

// -----

#id = affine_map<(d0) -> (d0)>
#first = affine_map<(d0) -> (0)>

// Kept: two generics each read the shared value through two operands (at
// two offsets, as max pools' windows do). Fused through one operand of one
// reader, the value would still be read through the others; the rewrite
// did not converge on the 9 slices of a 3x3 window.
// CHECK-LABEL: func.func @two_readers_twice
// CHECK:       linalg.generic
// CHECK:         math.exp
// CHECK:       linalg.generic
// CHECK-NOT:     math.exp
// CHECK:         arith.addf
// CHECK:       linalg.generic
// CHECK-NOT:     math.exp
// CHECK:         arith.mulf
func.func @two_readers_twice(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %empty = tensor.empty() : tensor<4xf32>
  %e = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<4xf32>) outs(%empty : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %v = math.exp %a : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %sum = linalg.generic {indexing_maps = [#id, #first, #id], iterator_types = ["parallel"]}
      ins(%e, %e : tensor<4xf32>, tensor<4xf32>) outs(%empty : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %v = arith.addf %a, %b : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  %product = linalg.generic {indexing_maps = [#id, #first, #id], iterator_types = ["parallel"]}
      ins(%e, %e : tensor<4xf32>, tensor<4xf32>) outs(%empty : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %v = arith.mulf %a, %b : f32
    linalg.yield %v : f32
  } -> tensor<4xf32>
  return %sum, %product : tensor<4xf32>, tensor<4xf32>
}
