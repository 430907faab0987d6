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

// CHECK-LABEL: func @idempotent_rounding
// CHECK-NEXT: %[[C:.*]] = trueno.ceil %arg0
// CHECK-NEXT: %[[R:.*]] = trueno.round %[[C]]
// CHECK-NEXT: return %[[R]]
func.func @idempotent_rounding(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = trueno.ceil %x : tensor<4xf32>
  %1 = trueno.ceil %0 : tensor<4xf32>
  %2 = trueno.round %1 : tensor<4xf32>
  %3 = trueno.round %2 : tensor<4xf32>
  return %3 : tensor<4xf32>
}

// -----

// maximum(x, x) and minimum(x, x) are x.
// CHECK-LABEL: func @extremum_of_itself
// CHECK-NEXT: return %arg0, %arg0
func.func @extremum_of_itself(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = trueno.maximum %x, %x : tensor<4xf32>
  %1 = trueno.minimum %x, %x : tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
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

// The integer identities hold for signed and unsigned (ui8) dtypes alike.
// CHECK-LABEL: func @integer_identities
// CHECK-NEXT: return %arg0, %arg1, %arg1
func.func @integer_identities(%i: tensor<4xi32>, %u: tensor<4xui8>) -> (tensor<4xi32>, tensor<4xui8>, tensor<4xui8>) {
  %zi = trueno.constant dense<0> : tensor<4xi32>
  %0 = trueno.sub %i, %zi : tensor<4xi32>
  %one = trueno.constant dense<1> : tensor<4xui8>
  %1 = trueno.mul %u, %one : tensor<4xui8>
  %zu = trueno.constant dense<0> : tensor<4xui8>
  %2 = trueno.add %u, %zu : tensor<4xui8>
  return %0, %1, %2 : tensor<4xi32>, tensor<4xui8>, tensor<4xui8>
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

// Negation folds for floats and integers; -(-128) wraps to -128 in i8.
// CHECK-LABEL: func @negation_folding
// CHECK-DAG: %[[F:.*]] = trueno.constant dense<[-1.500000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[I:.*]] = trueno.constant dense<[-128, -5]> : tensor<2xi8>
// CHECK-NOT: trueno.neg
// CHECK: return %[[F]], %[[I]]
func.func @negation_folding() -> (tensor<2xf32>, tensor<2xi8>) {
  %f = trueno.constant dense<[1.5, -2.0]> : tensor<2xf32>
  %0 = trueno.neg %f : tensor<2xf32>
  %i = trueno.constant dense<[-128, 5]> : tensor<2xi8>
  %1 = trueno.neg %i : tensor<2xi8>
  return %0, %1 : tensor<2xf32>, tensor<2xi8>
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

// -----

// Identity movements fold away; chains of one kind compose into one.
// CHECK-LABEL: func @movement_identities
// CHECK-NEXT: return %arg0, %arg0, %arg0, %arg0, %arg0
func.func @movement_identities(%x: tensor<3x4xf32>, %v: tensor<f32>) -> (tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) {
  %0 = trueno.transpose %x permutation = [0, 1] : tensor<3x4xf32> -> tensor<3x4xf32>
  %1 = trueno.reshape %x : tensor<3x4xf32> -> tensor<3x4xf32>
  %2 = trueno.slice %x offsets = [0, 0] steps = [1, 1] : tensor<3x4xf32> -> tensor<3x4xf32>
  %3 = trueno.pad %x, %v low = [0, 0] high = [0, 0] interior = [0, 0] : tensor<3x4xf32>, tensor<f32> -> tensor<3x4xf32>
  %4 = trueno.concat %x dim = 0 : tensor<3x4xf32> -> tensor<3x4xf32>
  return %0, %1, %2, %3, %4 : tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>
}

// -----

// transpose(transpose(x)) back to the original order is x; reshape chains
// keep only the last shape; a slice of a slice reads the input once.
// CHECK-LABEL: func @movement_chains
// CHECK-NEXT: %[[R:.*]] = trueno.reshape %arg0 : tensor<2x3x4xf32> -> tensor<4x6xf32>
// CHECK-NEXT: %[[T:.*]] = trueno.transpose %arg0 permutation = [2, 0, 1]
// CHECK-NEXT: %[[S:.*]] = trueno.slice %arg1 offsets = [9] steps = [-4] : tensor<12xf32> -> tensor<3xf32>
// CHECK-NEXT: return %arg0, %[[R]], %[[T]], %[[S]]
func.func @movement_chains(%x: tensor<2x3x4xf32>, %v: tensor<12xf32>) -> (tensor<2x3x4xf32>, tensor<4x6xf32>, tensor<4x2x3xf32>, tensor<3xf32>) {
  %0 = trueno.transpose %x permutation = [1, 2, 0] : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %1 = trueno.transpose %0 permutation = [2, 0, 1] : tensor<3x4x2xf32> -> tensor<2x3x4xf32>
  %2 = trueno.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %3 = trueno.reshape %2 : tensor<6x4xf32> -> tensor<4x6xf32>
  %4 = trueno.transpose %0 permutation = [1, 2, 0] : tensor<3x4x2xf32> -> tensor<4x2x3xf32>
  // v[1::2] is positions 1, 3, ..., 11; then [4::-2] of those: 9, 5, 1.
  %5 = trueno.slice %v offsets = [1] steps = [2] : tensor<12xf32> -> tensor<6xf32>
  %6 = trueno.slice %5 offsets = [4] steps = [-2] : tensor<6xf32> -> tensor<3xf32>
  return %1, %3, %4, %6 : tensor<2x3x4xf32>, tensor<4x6xf32>, tensor<4x2x3xf32>, tensor<3xf32>
}

// -----

// Constants move at compile time: a reshaped constant is a constant, a
// splat stays a splat through any rearrangement.
// CHECK-LABEL: func @movement_constants
// CHECK-DAG: %[[R:.*]] = trueno.constant dense<{{\[}}[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
// CHECK-DAG: %[[S:.*]] = trueno.constant dense<2.500000e+00> : tensor<4x3xf32>
// CHECK: return %[[R]], %[[S]]
func.func @movement_constants() -> (tensor<2x3xi64>, tensor<4x3xf32>) {
  %c = trueno.constant dense<[1, 2, 3, 4, 5, 6]> : tensor<6xi64>
  %0 = trueno.reshape %c : tensor<6xi64> -> tensor<2x3xi64>
  %s = trueno.constant dense<2.5> : tensor<3x4xf32>
  %1 = trueno.transpose %s permutation = [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  return %0, %1 : tensor<2x3xi64>, tensor<4x3xf32>
}

// -----

// A splat padded with its own value is a larger splat; with another value,
// or one not known, the pad stays.
// CHECK-LABEL: func @pad_constants
// CHECK-DAG: %[[S:.*]] = trueno.constant dense<1.000000e+00> : tensor<5xf32>
// CHECK-DAG: %[[ONES:.*]] = trueno.constant dense<1.000000e+00> : tensor<3xf32>
// CHECK-DAG: %[[ZERO:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-DAG: %[[P:.*]] = trueno.pad %[[ONES]], %[[ZERO]] low = [1] high = [1]
// CHECK-DAG: %[[Q:.*]] = trueno.pad %[[ONES]], %arg0 low = [1] high = [1]
// CHECK: return %[[S]], %[[P]], %[[Q]]
func.func @pad_constants(%v: tensor<f32>) -> (tensor<5xf32>, tensor<5xf32>, tensor<5xf32>) {
  %ones = trueno.constant dense<1.0> : tensor<3xf32>
  %one = trueno.constant dense<1.0> : tensor<f32>
  %zero = trueno.constant dense<0.0> : tensor<f32>
  %0 = trueno.pad %ones, %one low = [1] high = [1] interior = [0] : tensor<3xf32>, tensor<f32> -> tensor<5xf32>
  %1 = trueno.pad %ones, %zero low = [1] high = [1] interior = [0] : tensor<3xf32>, tensor<f32> -> tensor<5xf32>
  %2 = trueno.pad %ones, %v low = [1] high = [1] interior = [0] : tensor<3xf32>, tensor<f32> -> tensor<5xf32>
  return %0, %1, %2 : tensor<5xf32>, tensor<5xf32>, tensor<5xf32>
}

// -----

// An insert that covers the whole destination is its source.
// CHECK-LABEL: func @insert_whole
// CHECK-NEXT: return %arg1
func.func @insert_whole(%x: tensor<3xf32>, %y: tensor<3xf32>) -> tensor<3xf32> {
  %0 = trueno.insert_slice %y into %x offsets = [0] steps = [1] : tensor<3xf32> into tensor<3xf32>
  return %0 : tensor<3xf32>
}
