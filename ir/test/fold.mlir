// Folders and constant folding of the trueno ops, through -canonicalize.
// RUN: trueno-opt %s -canonicalize -split-input-file | FileCheck %s

// CHECK-LABEL: func @double_negation
// CHECK-NEXT: return %arg0
func.func @double_negation(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = trueno.neg %x : tensor<4xf32>
  %1 = trueno.neg %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func @idempotent
// CHECK-NEXT: %[[A:.*]] = trueno.abs %arg0
// CHECK-NEXT: %[[F:.*]] = trueno.floor %[[A]]
// CHECK-NEXT: %[[R:.*]] = trueno.relu %[[F]]
// CHECK-NEXT: return %[[R]]
func.func @idempotent(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = trueno.abs %x : tensor<4xf32>
  %1 = trueno.abs %0 : tensor<4xf32>
  %2 = trueno.floor %1 : tensor<4xf32>
  %3 = trueno.floor %2 : tensor<4xf32>
  %4 = trueno.relu %3 : tensor<4xf32>
  %5 = trueno.relu %4 : tensor<4xf32>
  return %5 : tensor<4xf32>
}

// -----

// x + 0 folds for integers only: for floats, -0.0 + 0.0 is +0.0.
// CHECK-LABEL: func @add_zero
// CHECK-NEXT: %[[Z:.*]] = trueno.constant dense<0.000000e+00>
// CHECK-NEXT: %[[S:.*]] = trueno.add %arg1, %[[Z]]
// CHECK-NEXT: return %arg0, %[[S]]
func.func @add_zero(%i: tensor<4xi32>, %f: tensor<4xf32>) -> (tensor<4xi32>, tensor<4xf32>) {
  %zi = trueno.constant dense<0> : tensor<4xi32>
  %zf = trueno.constant dense<0.0> : tensor<4xf32>
  %0 = trueno.add %i, %zi : tensor<4xi32>
  %1 = trueno.add %f, %zf : tensor<4xf32>
  return %0, %1 : tensor<4xi32>, tensor<4xf32>
}

// -----

// x - 0.0 is x even for -0.0; x - (-0.0) is not (-0.0 - -0.0 = +0.0).
// CHECK-LABEL: func @sub_zero
// CHECK: %[[N:.*]] = trueno.constant dense<-0.000000e+00>
// CHECK-NEXT: %[[S:.*]] = trueno.sub %arg0, %[[N]]
// CHECK-NEXT: return %arg0, %[[S]]
func.func @sub_zero(%f: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %z = trueno.constant dense<0.0> : tensor<4xf32>
  %n = trueno.constant dense<-0.0> : tensor<4xf32>
  %0 = trueno.sub %f, %z : tensor<4xf32>
  %1 = trueno.sub %f, %n : tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func @mul_div_one
// CHECK-NEXT: return %arg0, %arg0
func.func @mul_div_one(%f: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %one = trueno.constant dense<1.0> : tensor<4xf32>
  %0 = trueno.mul %one, %f : tensor<4xf32>
  %1 = trueno.div %f, %one : tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// Constants fold; integers wrap like the dtype.
// CHECK-LABEL: func @constant_folding
// CHECK-DAG: trueno.constant dense<[4.000000e+00, 6.000000e+00]> : tensor<2xf32>
// CHECK-DAG: trueno.constant dense<-128> : tensor<2xi8>
// CHECK-DAG: trueno.constant dense<2.71828{{[0-9]*}}> : tensor<2xf64>
// CHECK-NOT: trueno.add
// CHECK-NOT: trueno.exp
func.func @constant_folding() -> (tensor<2xf32>, tensor<2xi8>, tensor<2xf64>) {
  %a = trueno.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = trueno.constant dense<[3.0, 4.0]> : tensor<2xf32>
  %0 = trueno.add %a, %b : tensor<2xf32>
  %c = trueno.constant dense<127> : tensor<2xi8>
  %one = trueno.constant dense<1> : tensor<2xi8>
  %1 = trueno.add %c, %one : tensor<2xi8>
  %z = trueno.constant dense<1.0> : tensor<2xf64>
  %2 = trueno.exp %z : tensor<2xf64>
  return %0, %1, %2 : tensor<2xf32>, tensor<2xi8>, tensor<2xf64>
}

// -----

// CHECK-LABEL: func @where_folds
// CHECK-NEXT: return %arg1, %arg2, %arg1
func.func @where_folds(%m: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xf32>)
    -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %t = trueno.constant dense<true> : tensor<4xi1>
  %f = trueno.constant dense<false> : tensor<4xi1>
  %0 = trueno.where %t, %a, %b : tensor<4xi1>, tensor<4xf32>
  %1 = trueno.where %f, %a, %b : tensor<4xi1>, tensor<4xf32>
  %2 = trueno.where %m, %a, %a : tensor<4xi1>, tensor<4xf32>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func @expand_and_cast
// CHECK-DAG: %[[E:.*]] = trueno.expand %arg0 : tensor<3x1xf32> to tensor<2x3x4xf32>
// CHECK-DAG: %[[S:.*]] = trueno.constant dense<5.000000e-01> : tensor<3x4xf32>
// CHECK: return %[[E]], %arg0, %[[S]]
func.func @expand_and_cast(%x: tensor<3x1xf32>)
    -> (tensor<2x3x4xf32>, tensor<3x1xf32>, tensor<3x4xf32>) {
  %0 = trueno.expand %x : tensor<3x1xf32> to tensor<3x4xf32>
  %1 = trueno.expand %0 : tensor<3x4xf32> to tensor<2x3x4xf32>
  %2 = trueno.expand %x : tensor<3x1xf32> to tensor<3x1xf32>
  %3 = trueno.cast %2 : tensor<3x1xf32> to tensor<3x1xf32>
  %h = trueno.constant dense<0.5> : tensor<f32>
  %4 = trueno.expand %h : tensor<f32> to tensor<3x4xf32>
  return %1, %3, %4 : tensor<2x3x4xf32>, tensor<3x1xf32>, tensor<3x4xf32>
}

// -----

// not(not(b)) is b for bools only.
// CHECK-LABEL: func @logical_not
// CHECK-NEXT: %[[N:.*]] = trueno.logical_not %arg1
// CHECK-NEXT: %[[NN:.*]] = trueno.logical_not %[[N]]
// CHECK-NEXT: return %arg0, %[[NN]]
func.func @logical_not(%b: tensor<4xi1>, %f: tensor<4xf32>) -> (tensor<4xi1>, tensor<4xi1>) {
  %0 = trueno.logical_not %b : tensor<4xi1> -> tensor<4xi1>
  %1 = trueno.logical_not %0 : tensor<4xi1> -> tensor<4xi1>
  %2 = trueno.logical_not %f : tensor<4xf32> -> tensor<4xi1>
  %3 = trueno.logical_not %2 : tensor<4xi1> -> tensor<4xi1>
  return %1, %3 : tensor<4xi1>, tensor<4xi1>
}
