// trueno-half-conversions-through-float32: integer to float16 conversions
// as integer to float32 (exact for every finite float16 integer), then one
// rounding to float16 (also where they are two steps already); other
// conversions unchanged.
// RUN: trueno-opt %s -trueno-half-conversions-through-float32 | FileCheck %s

// Past float16's range (65520 rounds to infinity) the float32 value is
// made the infinity first: a driver fused the two steps into a saturating
// conversion.
// CHECK-LABEL: func.func @to_half
// CHECK:     %[[S:.*]] = arith.sitofp %arg0 : i16 to f32
// CHECK:     %[[TOP:.*]] = arith.constant 6.552000e+04 : f32
// CHECK:     %[[ABOVE:.*]] = arith.cmpf oge, %[[S]], %[[TOP]] : f32
// CHECK:     %[[BOTTOM:.*]] = arith.constant -6.552000e+04 : f32
// CHECK:     %[[BELOW:.*]] = arith.cmpf ole, %[[S]], %[[BOTTOM]] : f32
// CHECK:     %[[NEG:.*]] = arith.constant 0xFF800000 : f32
// CHECK:     %[[LOW:.*]] = arith.select %[[BELOW]], %[[NEG]], %[[S]] : f32
// CHECK:     %[[INF:.*]] = arith.constant 0x7F800000 : f32
// CHECK:     %[[SAT:.*]] = arith.select %[[ABOVE]], %[[INF]], %[[LOW]] : f32
// CHECK:     %[[SH:.*]] = arith.truncf %[[SAT]] : f32 to f16
// CHECK:     %[[U:.*]] = arith.uitofp %arg1 : i64 to f32
// CHECK:     arith.select
// CHECK:     %[[UH:.*]] = arith.truncf %{{.*}} : f32 to f16
// CHECK:     %[[F:.*]] = arith.sitofp %arg0 : i16 to f32
// CHECK-NOT: arith.truncf
// CHECK:     return %[[SH]], %[[UH]], %[[F]]
func.func @to_half(%a: i16, %b: i64) -> (f16, f16, f32) {
  %0 = arith.sitofp %a : i16 to f16
  %1 = arith.uitofp %b : i64 to f16
  %2 = arith.sitofp %a : i16 to f32
  return %0, %1, %2 : f16, f16, f32
}

// Already in two steps (the scalar recipes' int64 to float16): the same
// infinities before the float16 step; a float32 that is not an integer's
// converts as it is.
// CHECK-LABEL: func.func @two_steps
// CHECK:     %[[W:.*]] = arith.sitofp %arg0 : i64 to f32
// CHECK:     arith.cmpf oge, %[[W]]
// CHECK:     arith.cmpf ole, %[[W]]
// CHECK:     %[[LOW:.*]] = arith.select %{{.*}}, %{{.*}}, %[[W]] : f32
// CHECK:     %[[SAT:.*]] = arith.select %{{.*}}, %{{.*}}, %[[LOW]] : f32
// CHECK:     %[[H:.*]] = arith.truncf %[[SAT]] : f32 to f16
// CHECK-NOT: arith.select
// CHECK:     %[[PLAIN:.*]] = arith.truncf %arg1 : f32 to f16
// CHECK:     return %[[H]], %[[PLAIN]]
func.func @two_steps(%a: i64, %x: f32) -> (f16, f16) {
  %w = arith.sitofp %a : i64 to f32
  %h = arith.truncf %w : f32 to f16
  %p = arith.truncf %x : f32 to f16
  return %h, %p : f16, f16
}
