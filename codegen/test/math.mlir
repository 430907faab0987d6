// How math reaches machine code: float32 functions become polynomials
// (trueno-math-polynomial) so that loops vectorize; what is left (float64)
// goes to libm only where LLVM's own lowering would be imprecise or missing
// (trueno-math-to-libm); everything else stays for LLVM intrinsics.
// RUN: trueno-opt %s -trueno-math-polynomial -split-input-file | FileCheck %s --check-prefix=POLY
// RUN: trueno-opt %s -trueno-math-polynomial -trueno-math-to-libm -split-input-file | FileCheck %s --check-prefix=LIBM

// POLY-LABEL: func.func @f32
// POLY-NOT:     math.exp
// POLY-NOT:     math.tanh
// POLY-NOT:     math.erf
// POLY:         arith.mulf
// POLY:         return
// LIBM-LABEL: func.func @f32
// LIBM-NOT:     call @
// LIBM:         return
func.func @f32(%x: f32) -> (f32, f32, f32) {
  %e = math.exp %x : f32
  %t = math.tanh %x : f32
  %r = math.erf %x : f32
  return %e, %t, %r : f32, f32, f32
}

// -----

// float64 keeps the math ops through the polynomial pass; then expm1, log1p,
// erf, tan, tanh and atan2 become libm calls, while exp, sqrt and floor stay
// math ops (LLVM intrinsics, which vectorize or lower to one instruction).
// POLY-LABEL: func.func @f64
// POLY:         math.expm1
// POLY:         math.exp
// LIBM-LABEL: func.func @f64
// LIBM-DAG:     call @expm1(
// LIBM-DAG:     call @log1p(
// LIBM-DAG:     call @erf(
// LIBM-DAG:     call @tan(
// LIBM-DAG:     call @tanh(
// LIBM-DAG:     call @atan2(
// LIBM-DAG:     math.exp
// LIBM-DAG:     math.sqrt
// LIBM-DAG:     math.floor
// LIBM-NOT:     call @exp(
// LIBM-NOT:     call @floor(
func.func @f64(%x: f64, %y: f64) -> (f64, f64, f64, f64, f64, f64, f64, f64, f64) {
  %0 = math.expm1 %x : f64
  %1 = math.log1p %x : f64
  %2 = math.erf %x : f64
  %3 = math.tan %x : f64
  %4 = math.tanh %x : f64
  %5 = math.atan2 %x, %y : f64
  %6 = math.exp %x : f64
  %7 = math.sqrt %x : f64
  %8 = math.floor %x : f64
  return %0, %1, %2, %3, %4, %5, %6, %7, %8 : f64, f64, f64, f64, f64, f64, f64, f64, f64
}

// -----

// float32 sin and cos are computed in float64 (accurate range reduction for
// any argument) and so reach libm's double functions as LLVM intrinsics.
// RUN: trueno-opt %s -split-input-file -convert-trueno-to-linalg | FileCheck %s --check-prefix=SIN
// SIN-LABEL: func.func @sin_f32
// SIN:         arith.extf %{{.*}} : f32 to f64
// SIN-NEXT:    math.sin %{{.*}} : f64
// SIN-NEXT:    arith.truncf %{{.*}} : f64 to f32
func.func @sin_f32(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = trueno.sin %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// float32 log and log2 scale a subnormal argument by 2^24 into the normal
// range and subtract 24 ln 2 (or 24): the polynomial clamps its argument to
// the smallest normal float, which made every subnormal give log(FLT_MIN).
// POLY-LABEL: func.func @subnormal_log
// POLY-DAG:     %[[MIN:.*]] = arith.constant 1.17549435E-38 : f32
// POLY-DAG:     %[[SCALE:.*]] = arith.constant 0x4B800000 : f32
// POLY-DAG:     %[[LN:.*]] = arith.constant -16.6355324 : f32
// POLY-DAG:     %[[TWO:.*]] = arith.constant -2.400000e+01 : f32
// POLY:         %[[SUB:.*]] = arith.cmpf olt, %arg0, %[[MIN]] : f32
// POLY:         %[[MUL:.*]] = arith.mulf %arg0, %[[SCALE]] : f32
// POLY:         arith.select %[[SUB]], %[[MUL]], %arg0 : f32
// POLY:         arith.select %[[SUB]], %[[LN]]
// POLY:         arith.select %{{.*}}, %[[TWO]]
// POLY-NOT:     math.log
// POLY:         return
func.func @subnormal_log(%x: f32) -> (f32, f32) {
  %0 = math.log %x : f32
  %1 = math.log2 %x : f32
  return %0, %1 : f32, f32
}

// -----

// Without SSE4.1, floor, ceil and roundeven (the program's and the
// polynomials') become arithmetic that vectorizes: +-2^23 rounds to even,
// then a step down or up.
// RUN: trueno-opt %s -split-input-file -trueno-math-polynomial=rounding-instructions=false | FileCheck %s --check-prefix=ROUND
// ROUND-LABEL: func.func @rounding
// ROUND-NOT:     math.floor
// ROUND-NOT:     math.ceil
// ROUND-NOT:     math.roundeven
// ROUND-DAG:     arith.constant 0x4B000000 : f32
// ROUND-DAG:     arith.constant dense<0x4330000000000000> : vector<4xf64>
// ROUND:         return
func.func @rounding(%x: f32, %y: vector<4xf64>) -> (f32, f32, f32, vector<4xf64>) {
  %0 = math.floor %x : f32
  %1 = math.ceil %x : f32
  %2 = math.roundeven %x : f32
  %3 = math.floor %y : vector<4xf64>
  return %0, %1, %2, %3 : f32, f32, f32, vector<4xf64>
}

// -----

// Without FMA instructions, the polynomials' fma become a multiply and an
// add (LLVM would call fmaf element by element).
// RUN: trueno-opt %s -split-input-file -trueno-math-polynomial=fma-instructions=false | FileCheck %s --check-prefix=NOFMA
// NOFMA-LABEL: func.func @exp_without_fma
// NOFMA-NOT:     math.fma
// NOFMA:         arith.mulf
// NOFMA:         arith.addf
// NOFMA:         return
// POLY-LABEL: func.func @exp_without_fma
// POLY:         math.fma
func.func @exp_without_fma(%x: vector<8xf32>) -> vector<8xf32> {
  %0 = math.exp %x : vector<8xf32>
  return %0 : vector<8xf32>
}

// -----

// ... and tanh saturates to +-1 explicitly past the clamp.
// NOFMA-LABEL: func.func @tanh_without_fma
// NOFMA-DAG:     %[[CLAMP:.*]] = arith.constant 7.99881172 : f32
// NOFMA-DAG:     %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// NOFMA:         %[[LARGE:.*]] = arith.cmpf oge, %{{.*}}, %[[CLAMP]] : f32
// NOFMA:         %[[SIGN:.*]] = math.copysign %[[ONE]], %arg0 : f32
// NOFMA:         arith.select %[[LARGE]], %[[SIGN]], %{{.*}} : f32
func.func @tanh_without_fma(%x: f32) -> f32 {
  %0 = math.tanh %x : f32
  return %0 : f32
}

// -----

// exp2 past the largest float32 (x >= 128) is +inf whatever the target's
// exp2 gives there (lavapipe's saturated to 3.4028235e38); float16 from 16.
// POLY-LABEL: func.func @exp2_overflow
// POLY:         %[[E:.*]] = math.exp2 %arg0 : f32
// POLY:         %[[PAST:.*]] = arith.cmpf oge, %arg0, %{{.*}} : f32
// POLY:         %[[R:.*]] = arith.select %[[PAST]], %{{.*}}, %[[E]] : f32
// POLY:         %[[H:.*]] = math.exp2 %arg1 : f16
// POLY:         arith.cmpf oge, %arg1, %{{.*}} : f16
// POLY:         return %[[R]]
func.func @exp2_overflow(%x: f32, %h: f16) -> (f32, f16) {
  %e = math.exp2 %x : f32
  %f = math.exp2 %h : f16
  return %e, %f : f32, f16
}
