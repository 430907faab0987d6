// trueno-expand-bf16: bfloat16 conversions as integer arithmetic on the
// bits (no libgcc call on the CPU; SPIR-V has no bfloat16 type). A
// widening to float64 goes through float32, both steps exact.
// RUN: trueno-opt %s -trueno-expand-bf16 | FileCheck %s

// CHECK-LABEL: func.func @widen
// CHECK-NOT: arith.extf %{{.*}} : bf16
// CHECK: %[[BITS:.*]] = arith.bitcast %{{.*}} : bf16 to i16
// CHECK: arith.extui %[[BITS]] : i16 to i32
// CHECK: arith.shli
// CHECK: %[[F:.*]] = arith.bitcast %{{.*}} : i32 to f32
// CHECK: arith.extf %[[F]] : f32 to f64
func.func @widen(%x: bf16) -> f64 {
  %y = arith.extf %x : bf16 to f64
  return %y : f64
}

// CHECK-LABEL: func.func @narrow
// CHECK-NOT: arith.truncf
// CHECK: arith.bitcast %{{.*}} : f32 to i32
// CHECK: arith.bitcast %{{.*}} : i16 to bf16
func.func @narrow(%x: f32) -> bf16 {
  %y = arith.truncf %x : f32 to bf16
  return %y : bf16
}
