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
