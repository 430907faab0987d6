// trueno-half-conversions-through-float32: integer to float16 conversions
// as integer to float32 (exact for every finite float16 integer), then one
// rounding to float16; other conversions unchanged.
// RUN: trueno-opt %s -trueno-half-conversions-through-float32 | FileCheck %s

// CHECK-LABEL: func.func @to_half
// CHECK:     %[[S:.*]] = arith.sitofp %arg0 : i16 to f32
// CHECK:     %[[SH:.*]] = arith.truncf %[[S]] : f32 to f16
// CHECK:     %[[U:.*]] = arith.uitofp %arg1 : i64 to f32
// CHECK:     %[[UH:.*]] = arith.truncf %[[U]] : f32 to f16
// CHECK:     %[[F:.*]] = arith.sitofp %arg0 : i16 to f32
// CHECK-NOT: arith.truncf
// CHECK:     return %[[SH]], %[[UH]], %[[F]]
func.func @to_half(%a: i16, %b: i64) -> (f16, f16, f32) {
  %0 = arith.sitofp %a : i16 to f16
  %1 = arith.uitofp %b : i64 to f16
  %2 = arith.sitofp %a : i16 to f32
  return %0, %1, %2 : f16, f16, f32
}
