// Every op of the dialect lowers: the round-trip file of ir/test, which uses
// each op, converts with no trueno op left.
// RUN: trueno-opt %S/../../ir/test/ops.mlir -convert-trueno-to-linalg | FileCheck %s --implicit-check-not=trueno.
// CHECK: func.func @unary
// CHECK: func.func @gelu_and_predicates
// CHECK: func.func @binary
// CHECK: func.func @ternary_cast_expand_constant
