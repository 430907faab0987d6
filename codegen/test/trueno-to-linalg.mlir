// Lowering of trueno ops to linalg.generic on tensors.
// RUN: trueno-opt %s -convert-trueno-to-linalg -split-input-file | FileCheck %s

// A unary float op: one generic with identity maps and the math op inside.
// CHECK: #[[ID:.*]] = affine_map<(d0) -> (d0)>
// CHECK-LABEL: func @unary
// CHECK: %[[INIT:.*]] = tensor.empty() : tensor<4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ID]]], iterator_types = ["parallel"]} ins(%arg0 : tensor<4xf32>) outs(%[[INIT]] : tensor<4xf32>)
// CHECK: math.exp
// CHECK-NOT: trueno.
func.func @unary(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = trueno.exp %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// expand reads size-1 and missing dimensions at a constant index.
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2) -> (d1, 0)>
// CHECK-DAG: #[[O:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func @expand
// CHECK: linalg.generic {indexing_maps = [#[[B]], #[[O]]], iterator_types = ["parallel", "parallel", "parallel"]}
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]]
func.func @expand(%x: tensor<3x1xf32>) -> tensor<2x3x4xf32> {
  %0 = trueno.expand %x : tensor<3x1xf32> to tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// uint8 becomes i8 in signatures, with unsigned arithmetic and comparisons.
// CHECK-LABEL: func @uint8(%arg0: tensor<4xi8>, %arg1: tensor<4xi8>) -> (tensor<4xi8>, tensor<4xi1>, tensor<4xi16>)
// CHECK: arith.maxui
// CHECK: arith.cmpi ult
// CHECK: arith.extui %{{.*}} : i8 to i16
func.func @uint8(%a: tensor<4xui8>, %b: tensor<4xui8>) -> (tensor<4xui8>, tensor<4xi1>, tensor<4xi16>) {
  %0 = trueno.maximum %a, %b : tensor<4xui8>
  %1 = trueno.lt %a, %b : tensor<4xui8> -> tensor<4xi1>
  %2 = trueno.cast %a : tensor<4xui8> to tensor<4xi16>
  return %0, %1, %2 : tensor<4xui8>, tensor<4xi1>, tensor<4xi16>
}

// -----

// Signed integers use signed ops and sign extension.
// CHECK-LABEL: func @int8
// CHECK: arith.maxsi
// CHECK: arith.cmpi slt
// CHECK: arith.extsi %{{.*}} : i8 to i16
func.func @int8(%a: tensor<4xi8>, %b: tensor<4xi8>) -> (tensor<4xi8>, tensor<4xi1>, tensor<4xi16>) {
  %0 = trueno.maximum %a, %b : tensor<4xi8>
  %1 = trueno.lt %a, %b : tensor<4xi8> -> tensor<4xi1>
  %2 = trueno.cast %a : tensor<4xi8> to tensor<4xi16>
  return %0, %1, %2 : tensor<4xi8>, tensor<4xi1>, tensor<4xi16>
}

// -----

// float16 and bfloat16 compute in float32 and round back.
// CHECK-LABEL: func @half
// CHECK: ^bb0(%[[A:.*]]: bf16, %[[B:.*]]: bf16, %{{.*}}: bf16):
// CHECK-NEXT: %[[EA:.*]] = arith.extf %[[A]] : bf16 to f32
// CHECK-NEXT: %[[EB:.*]] = arith.extf %[[B]] : bf16 to f32
// CHECK-NEXT: %[[S:.*]] = arith.addf %[[EA]], %[[EB]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.truncf %[[S]] : f32 to bf16
// CHECK-NEXT: linalg.yield %[[R]]
func.func @half(%a: tensor<4xbf16>, %b: tensor<4xbf16>) -> tensor<4xbf16> {
  %0 = trueno.add %a, %b : tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

// Float to int8 follows x86-64 NumPy: through int32, out of range or NaN
// gives INT32_MIN, then wraps; fptosi's poison is never selected.
// CHECK-LABEL: func @float_to_int8
// CHECK: %[[W:.*]] = arith.extf %{{.*}} : f32 to f64
// CHECK-DAG: %[[HI:.*]] = arith.cmpf olt, %[[W]], %{{.*}} : f64
// CHECK-DAG: %[[LO:.*]] = arith.cmpf oge, %[[W]], %{{.*}} : f64
// CHECK: %[[OK:.*]] = arith.andi
// CHECK: %[[C:.*]] = arith.fptosi %[[W]] : f64 to i32
// CHECK: %[[MIN:.*]] = arith.constant -2147483648 : i32
// CHECK: %[[V:.*]] = arith.select %[[OK]], %[[C]], %[[MIN]] : i32
// CHECK: arith.trunci %[[V]] : i32 to i8
func.func @float_to_int8(%x: tensor<4xf32>) -> tensor<4xi8> {
  %0 = trueno.cast %x : tensor<4xf32> to tensor<4xi8>
  return %0 : tensor<4xi8>
}

// -----

// Anything to bool is x != 0, true on NaN (unordered-or-not-equal).
// CHECK-LABEL: func @to_bool
// CHECK: arith.cmpf une
// CHECK: arith.cmpi ne
func.func @to_bool(%x: tensor<4xf64>, %i: tensor<4xi32>) -> (tensor<4xi1>, tensor<4xi1>) {
  %0 = trueno.cast %x : tensor<4xf64> to tensor<4xi1>
  %1 = trueno.cast %i : tensor<4xi32> to tensor<4xi1>
  return %0, %1 : tensor<4xi1>, tensor<4xi1>
}

// -----

// Integer floor division guards division by zero and MIN // -1.
// CHECK-LABEL: func @int_floordiv
// CHECK: %[[BYZERO:.*]] = arith.cmpi eq, %{{.*}}, %c0_i32
// CHECK: %[[OVF:.*]] = arith.andi
// CHECK: %[[SPECIAL:.*]] = arith.ori %[[BYZERO]], %[[OVF]]
// CHECK: %[[SAFE:.*]] = arith.select %[[SPECIAL]], %c1_i32, %{{.*}}
// CHECK: arith.divsi %{{.*}}, %[[SAFE]]
func.func @int_floordiv(%a: tensor<4xi32>, %b: tensor<4xi32>) -> tensor<4xi32> {
  %0 = trueno.floordiv %a, %b : tensor<4xi32>
  return %0 : tensor<4xi32>
}

// -----

// Comparisons: ordered predicates, except ne (true on NaN).
// CHECK-LABEL: func @compare
// CHECK: arith.cmpf oeq
// CHECK: arith.cmpf une
// CHECK: arith.cmpf olt
// CHECK: arith.cmpf ole
// CHECK: arith.cmpf ogt
// CHECK: arith.cmpf oge
func.func @compare(%a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  %0 = trueno.eq %a, %b : tensor<4xf32> -> tensor<4xi1>
  %1 = trueno.ne %a, %b : tensor<4xf32> -> tensor<4xi1>
  %2 = trueno.lt %a, %b : tensor<4xf32> -> tensor<4xi1>
  %3 = trueno.le %a, %b : tensor<4xf32> -> tensor<4xi1>
  %4 = trueno.gt %a, %b : tensor<4xf32> -> tensor<4xi1>
  %5 = trueno.ge %a, %b : tensor<4xf32> -> tensor<4xi1>
  return %0, %1, %2, %3, %4, %5 : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// -----

// where is a select; clamp is min(max(x, low), high) with NaN propagation.
// CHECK-LABEL: func @where_clamp
// CHECK: arith.select
// CHECK: %[[MAX:.*]] = arith.maximumf
// CHECK: arith.minimumf %[[MAX]]
func.func @where_clamp(%m: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = trueno.where %m, %a, %b : tensor<4xi1>, tensor<4xf32>
  %1 = trueno.clamp %a, %a, %b : tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Constants become arith.constant; uint8 data is reinterpreted as i8.
// CHECK-LABEL: func @constants
// CHECK: arith.constant dense<[1, -1]> : tensor<2xi8>
// CHECK: arith.constant dense<2.500000e+00> : tensor<f32>
func.func @constants() -> (tensor<2xui8>, tensor<f32>) {
  %0 = trueno.constant dense<[1, 255]> : tensor<2xui8>
  %1 = trueno.constant dense<2.5> : tensor<f32>
  return %0, %1 : tensor<2xui8>, tensor<f32>
}

// -----

// GELU, erf form and tanh form.
// CHECK-LABEL: func @gelu
// CHECK: math.erf
// CHECK: math.tanh
func.func @gelu(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = trueno.gelu %x : tensor<4xf32>
  %1 = trueno.gelu %x tanh : tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// random_uniform: one generic over the result reading the four rank-0
// operands at every element. The body finds the element's block from its
// row-major position (the counter plus position >> 2, with a carry into the
// high half), runs Philox's rounds on 32-bit products, picks the word at
// position & 3 and scales its top 24 bits.
// CHECK-DAG: #[[S:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-DAG: #[[O:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func @random_uniform
// CHECK: linalg.generic {indexing_maps = [#[[S]], #[[S]], #[[S]], #[[S]], #[[O]]], iterator_types = ["parallel", "parallel"]} ins(%arg0, %arg1, %arg2, %arg3 : tensor<i32>, tensor<i32>, tensor<i32>, tensor<i32>) outs(%{{.*}} : tensor<3x5xf32>)
// CHECK-NEXT: ^bb0(%[[K0:.*]]: i32, %[[K1:.*]]: i32, %[[C0:.*]]: i32, %[[C1:.*]]: i32, %{{.*}}: f32):
// CHECK-DAG: %[[I:.*]] = linalg.index 0
// CHECK-DAG: %[[J:.*]] = linalg.index 1
// CHECK: %[[ROW:.*]] = arith.muli %[[I]], %{{.*}} : index
// CHECK: %[[POS:.*]] = arith.addi %[[ROW]], %[[J]] : index
// CHECK: %[[BLOCK:.*]] = arith.shrui %[[POS]], %{{.*}} : index
// CHECK: %[[PLACE:.*]] = arith.andi %[[POS]], %{{.*}} : index
// CHECK: %[[B32:.*]] = arith.index_cast %[[BLOCK]] : index to i32
// CHECK: %[[LOW:.*]] = arith.addi %[[C0]], %[[B32]] : i32
// CHECK: arith.cmpi ult, %[[LOW]], %[[B32]] : i32
// CHECK-COUNT-20: arith.mului_extended
// CHECK-NOT: arith.mului_extended
// CHECK: arith.select
// CHECK: arith.shrui %{{.*}}, %{{.*}} : i32
// CHECK: arith.uitofp %{{.*}} : i32 to f32
// CHECK: arith.mulf
// CHECK-NEXT: linalg.yield
func.func @random_uniform(%k0: tensor<i32>, %k1: tensor<i32>, %c0: tensor<i32>, %c1: tensor<i32>) -> tensor<3x5xf32> {
  %0 = trueno.random_uniform %k0, %k1, %c0, %c1 : tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

// float64 takes two words (positions 2i and 2i + 1) and adds them as
// doubles, w0 * 2^-32 + (w1 >> 11) * 2^-53, without 64-bit integers;
// float16 rounds float32's exact value once.
// CHECK-LABEL: func @random_wide_and_narrow
// CHECK: linalg.generic
// CHECK: arith.muli %{{.*}}, %c2 : index
// CHECK: arith.uitofp %{{.*}} : i32 to f64
// CHECK: arith.uitofp %{{.*}} : i32 to f64
// CHECK: arith.addf %{{.*}}, %{{.*}} : f64
// CHECK: linalg.generic
// CHECK: arith.uitofp %{{.*}} : i32 to f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK-NOT: i64
func.func @random_wide_and_narrow(%k0: tensor<i32>, %k1: tensor<i32>, %c0: tensor<i32>, %c1: tensor<i32>) -> (tensor<7xf64>, tensor<7xf16>) {
  %0 = trueno.random_uniform %k0, %k1, %c0, %c1 : tensor<7xf64>
  %1 = trueno.random_uniform %k0, %k1, %c0, %c1 : tensor<7xf16>
  return %0, %1 : tensor<7xf64>, tensor<7xf16>
}
