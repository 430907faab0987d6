// trueno-correctly-rounded-div-sqrt: float32 division and square root in
// float64, rounded once; other widths and operations unchanged.
// RUN: trueno-opt %s -trueno-correctly-rounded-div-sqrt | FileCheck %s

// CHECK-LABEL: func.func @f32
// CHECK-DAG: %[[A:.*]] = arith.extf %arg0 : f32 to f64
// CHECK-DAG: %[[B:.*]] = arith.extf %arg1 : f32 to f64
// CHECK:     %[[Q:.*]] = arith.divf %[[A]], %[[B]] fastmath<nnan> : f64
// CHECK:     %[[QF:.*]] = arith.truncf %[[Q]] : f64 to f32
// CHECK:     %[[W:.*]] = arith.extf %[[QF]] : f32 to f64
// CHECK:     %[[S:.*]] = math.sqrt %[[W]] : f64
// CHECK:     %[[SF:.*]] = arith.truncf %[[S]] : f64 to f32
// CHECK:     %[[M:.*]] = arith.mulf %[[SF]], %arg1 : f32
// CHECK:     return %[[M]]
func.func @f32(%a: f32, %b: f32) -> f32 {
  %q = arith.divf %a, %b fastmath<nnan> : f32
  %s = math.sqrt %q : f32
  %m = arith.mulf %s, %b : f32
  return %m : f32
}

// CHECK-LABEL: func.func @others
// CHECK-NOT: arith.extf
// CHECK:     arith.divf %arg0, %arg1 : f64
// CHECK:     math.sqrt %arg2 : f16
func.func @others(%a: f64, %b: f64, %h: f16) -> (f64, f16) {
  %q = arith.divf %a, %b : f64
  %s = math.sqrt %h : f16
  return %q, %s : f64, f16
}
