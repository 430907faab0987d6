// The gradient rules rules.mlir does not show, one function each: what
// trueno-reverse-mode emits for the gradient of each elementwise op (both
// operands of binary ones), clamp with tensor bounds, reduce_min and
// transpose. The CHECK lines were generated from the pass's output (as
// MLIR's generate-test-checks.py does) and reviewed; the values these ops
// compute are checked against torch.autograd by
// tests/e2e/test_grads_vs_torch.py.
// RUN: trueno-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(trueno-reverse-mode))' | FileCheck %s

// CHECK-LABEL: func.func @neg(
// CHECK:         %[[NEG0:.*]] = trueno.neg %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[NEG1:.*]] = trueno.neg %arg1 : tensor<4xf32>
// CHECK-NEXT:    return %[[NEG1]] : tensor<4xf32>
func.func @neg(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.neg %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @abs(
// CHECK:         %[[ABS0:.*]] = trueno.abs %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[ABS1:.*]] = trueno.sign %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[ABS2:.*]] = trueno.mul %arg1, %[[ABS1]] : tensor<4xf32>
// CHECK-NEXT:    return %[[ABS2]] : tensor<4xf32>
func.func @abs(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.abs %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @sign(
// CHECK:         %[[SIGN0:.*]] = trueno.sign %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[SIGN1:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[SIGN2:.*]] = trueno.expand %[[SIGN1]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    return %[[SIGN2]] : tensor<4xf32>
func.func @sign(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.sign %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @floor(
// CHECK:         %[[FLOOR0:.*]] = trueno.floor %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[FLOOR1:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[FLOOR2:.*]] = trueno.expand %[[FLOOR1]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    return %[[FLOOR2]] : tensor<4xf32>
func.func @floor(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.floor %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @ceil(
// CHECK:         %[[CEIL0:.*]] = trueno.ceil %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[CEIL1:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[CEIL2:.*]] = trueno.expand %[[CEIL1]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    return %[[CEIL2]] : tensor<4xf32>
func.func @ceil(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.ceil %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @round(
// CHECK:         %[[ROUND0:.*]] = trueno.round %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[ROUND1:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[ROUND2:.*]] = trueno.expand %[[ROUND1]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    return %[[ROUND2]] : tensor<4xf32>
func.func @round(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.round %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @exp2(
// CHECK:         %[[EXP20:.*]] = trueno.exp2 %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[EXP21:.*]] = trueno.mul %arg1, %[[EXP20]] : tensor<4xf32>
// CHECK-NEXT:    %[[EXP22:.*]] = trueno.constant dense<0.693147182> : tensor<f32>
// CHECK-NEXT:    %[[EXP23:.*]] = trueno.expand %[[EXP22]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[EXP24:.*]] = trueno.mul %[[EXP21]], %[[EXP23]] : tensor<4xf32>
// CHECK-NEXT:    return %[[EXP24]] : tensor<4xf32>
func.func @exp2(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.exp2 %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @expm1(
// CHECK:         %[[EXPM10:.*]] = trueno.expm1 %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[EXPM11:.*]] = trueno.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[EXPM12:.*]] = trueno.expand %[[EXPM11]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[EXPM13:.*]] = trueno.add %[[EXPM10]], %[[EXPM12]] : tensor<4xf32>
// CHECK-NEXT:    %[[EXPM14:.*]] = trueno.mul %arg1, %[[EXPM13]] : tensor<4xf32>
// CHECK-NEXT:    return %[[EXPM14]] : tensor<4xf32>
func.func @expm1(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.expm1 %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @log2(
// CHECK:         %[[LOG20:.*]] = trueno.log2 %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[LOG21:.*]] = trueno.constant dense<0.693147182> : tensor<f32>
// CHECK-NEXT:    %[[LOG22:.*]] = trueno.expand %[[LOG21]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[LOG23:.*]] = trueno.mul %arg0, %[[LOG22]] : tensor<4xf32>
// CHECK-NEXT:    %[[LOG24:.*]] = trueno.div %arg1, %[[LOG23]] : tensor<4xf32>
// CHECK-NEXT:    return %[[LOG24]] : tensor<4xf32>
func.func @log2(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.log2 %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @log1p(
// CHECK:         %[[LOG1P0:.*]] = trueno.log1p %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[LOG1P1:.*]] = trueno.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[LOG1P2:.*]] = trueno.expand %[[LOG1P1]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[LOG1P3:.*]] = trueno.add %arg0, %[[LOG1P2]] : tensor<4xf32>
// CHECK-NEXT:    %[[LOG1P4:.*]] = trueno.div %arg1, %[[LOG1P3]] : tensor<4xf32>
// CHECK-NEXT:    return %[[LOG1P4]] : tensor<4xf32>
func.func @log1p(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.log1p %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @sqrt(
// CHECK:         %[[SQRT0:.*]] = trueno.sqrt %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[SQRT1:.*]] = trueno.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[SQRT2:.*]] = trueno.expand %[[SQRT1]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[SQRT3:.*]] = trueno.mul %[[SQRT0]], %[[SQRT2]] : tensor<4xf32>
// CHECK-NEXT:    %[[SQRT4:.*]] = trueno.div %arg1, %[[SQRT3]] : tensor<4xf32>
// CHECK-NEXT:    return %[[SQRT4]] : tensor<4xf32>
func.func @sqrt(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.sqrt %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @rsqrt(
// CHECK:         %[[RSQRT0:.*]] = trueno.rsqrt %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[RSQRT1:.*]] = trueno.mul %[[RSQRT0]], %[[RSQRT0]] : tensor<4xf32>
// CHECK-NEXT:    %[[RSQRT2:.*]] = trueno.mul %[[RSQRT1]], %[[RSQRT0]] : tensor<4xf32>
// CHECK-NEXT:    %[[RSQRT3:.*]] = trueno.mul %arg1, %[[RSQRT2]] : tensor<4xf32>
// CHECK-NEXT:    %[[RSQRT4:.*]] = trueno.constant dense<-5.000000e-01> : tensor<f32>
// CHECK-NEXT:    %[[RSQRT5:.*]] = trueno.expand %[[RSQRT4]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[RSQRT6:.*]] = trueno.mul %[[RSQRT3]], %[[RSQRT5]] : tensor<4xf32>
// CHECK-NEXT:    return %[[RSQRT6]] : tensor<4xf32>
func.func @rsqrt(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.rsqrt %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @sin(
// CHECK:         %[[SIN0:.*]] = trueno.sin %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[SIN1:.*]] = trueno.cos %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[SIN2:.*]] = trueno.mul %arg1, %[[SIN1]] : tensor<4xf32>
// CHECK-NEXT:    return %[[SIN2]] : tensor<4xf32>
func.func @sin(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.sin %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @cos(
// CHECK:         %[[COS0:.*]] = trueno.cos %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[COS1:.*]] = trueno.sin %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[COS2:.*]] = trueno.mul %arg1, %[[COS1]] : tensor<4xf32>
// CHECK-NEXT:    %[[COS3:.*]] = trueno.neg %[[COS2]] : tensor<4xf32>
// CHECK-NEXT:    return %[[COS3]] : tensor<4xf32>
func.func @cos(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.cos %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @tan(
// CHECK:         %[[TAN0:.*]] = trueno.tan %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[TAN1:.*]] = trueno.mul %[[TAN0]], %[[TAN0]] : tensor<4xf32>
// CHECK-NEXT:    %[[TAN2:.*]] = trueno.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[TAN3:.*]] = trueno.expand %[[TAN2]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[TAN4:.*]] = trueno.add %[[TAN1]], %[[TAN3]] : tensor<4xf32>
// CHECK-NEXT:    %[[TAN5:.*]] = trueno.mul %arg1, %[[TAN4]] : tensor<4xf32>
// CHECK-NEXT:    return %[[TAN5]] : tensor<4xf32>
func.func @tan(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.tan %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @sigmoid(
// CHECK:         %[[SIGMOID0:.*]] = trueno.sigmoid %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[SIGMOID1:.*]] = trueno.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[SIGMOID2:.*]] = trueno.expand %[[SIGMOID1]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[SIGMOID3:.*]] = trueno.sub %[[SIGMOID2]], %[[SIGMOID0]] : tensor<4xf32>
// CHECK-NEXT:    %[[SIGMOID4:.*]] = trueno.mul %[[SIGMOID0]], %[[SIGMOID3]] : tensor<4xf32>
// CHECK-NEXT:    %[[SIGMOID5:.*]] = trueno.mul %arg1, %[[SIGMOID4]] : tensor<4xf32>
// CHECK-NEXT:    return %[[SIGMOID5]] : tensor<4xf32>
func.func @sigmoid(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.sigmoid %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @silu(
// CHECK:         %[[SILU0:.*]] = trueno.silu %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[SILU1:.*]] = trueno.sigmoid %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[SILU2:.*]] = trueno.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[SILU3:.*]] = trueno.expand %[[SILU2]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[SILU4:.*]] = trueno.sub %[[SILU3]], %[[SILU1]] : tensor<4xf32>
// CHECK-NEXT:    %[[SILU5:.*]] = trueno.mul %arg0, %[[SILU4]] : tensor<4xf32>
// CHECK-NEXT:    %[[SILU6:.*]] = trueno.add %[[SILU3]], %[[SILU5]] : tensor<4xf32>
// CHECK-NEXT:    %[[SILU7:.*]] = trueno.mul %[[SILU1]], %[[SILU6]] : tensor<4xf32>
// CHECK-NEXT:    %[[SILU8:.*]] = trueno.mul %arg1, %[[SILU7]] : tensor<4xf32>
// CHECK-NEXT:    return %[[SILU8]] : tensor<4xf32>
func.func @silu(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.silu %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @softplus(
// CHECK:         %[[SOFTPLUS0:.*]] = trueno.softplus %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[SOFTPLUS1:.*]] = trueno.constant dense<2.000000e+01> : tensor<f32>
// CHECK-NEXT:    %[[SOFTPLUS2:.*]] = trueno.expand %[[SOFTPLUS1]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[SOFTPLUS3:.*]] = trueno.gt %arg0, %[[SOFTPLUS2]] : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[SOFTPLUS4:.*]] = trueno.sigmoid %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[SOFTPLUS5:.*]] = trueno.mul %arg1, %[[SOFTPLUS4]] : tensor<4xf32>
// CHECK-NEXT:    %[[SOFTPLUS6:.*]] = trueno.where %[[SOFTPLUS3]], %arg1, %[[SOFTPLUS5]] : tensor<4xi1>, tensor<4xf32>
// CHECK-NEXT:    return %[[SOFTPLUS6]] : tensor<4xf32>
func.func @softplus(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.softplus %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @erf(
// CHECK:         %[[ERF0:.*]] = trueno.erf %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[ERF1:.*]] = trueno.mul %arg0, %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[ERF2:.*]] = trueno.neg %[[ERF1]] : tensor<4xf32>
// CHECK-NEXT:    %[[ERF3:.*]] = trueno.exp %[[ERF2]] : tensor<4xf32>
// CHECK-NEXT:    %[[ERF4:.*]] = trueno.mul %arg1, %[[ERF3]] : tensor<4xf32>
// CHECK-NEXT:    %[[ERF5:.*]] = trueno.constant dense<1.12837923> : tensor<f32>
// CHECK-NEXT:    %[[ERF6:.*]] = trueno.expand %[[ERF5]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[ERF7:.*]] = trueno.mul %[[ERF4]], %[[ERF6]] : tensor<4xf32>
// CHECK-NEXT:    return %[[ERF7]] : tensor<4xf32>
func.func @erf(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.erf %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @gelu(
// CHECK:         %[[GELU0:.*]] = trueno.gelu %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[GELU1:.*]] = trueno.constant dense<0.707106769> : tensor<f32>
// CHECK-NEXT:    %[[GELU2:.*]] = trueno.expand %[[GELU1]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[GELU3:.*]] = trueno.mul %arg0, %[[GELU2]] : tensor<4xf32>
// CHECK-NEXT:    %[[GELU4:.*]] = trueno.erf %[[GELU3]] : tensor<4xf32>
// CHECK-NEXT:    %[[GELU5:.*]] = trueno.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[GELU6:.*]] = trueno.expand %[[GELU5]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[GELU7:.*]] = trueno.add %[[GELU4]], %[[GELU6]] : tensor<4xf32>
// CHECK-NEXT:    %[[GELU8:.*]] = trueno.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT:    %[[GELU9:.*]] = trueno.expand %[[GELU8]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[GELU10:.*]] = trueno.mul %[[GELU7]], %[[GELU9]] : tensor<4xf32>
// CHECK-NEXT:    %[[GELU11:.*]] = trueno.mul %arg0, %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[GELU12:.*]] = trueno.constant dense<-5.000000e-01> : tensor<f32>
// CHECK-NEXT:    %[[GELU13:.*]] = trueno.expand %[[GELU12]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[GELU14:.*]] = trueno.mul %[[GELU11]], %[[GELU13]] : tensor<4xf32>
// CHECK-NEXT:    %[[GELU15:.*]] = trueno.exp %[[GELU14]] : tensor<4xf32>
// CHECK-NEXT:    %[[GELU16:.*]] = trueno.constant dense<0.398942292> : tensor<f32>
// CHECK-NEXT:    %[[GELU17:.*]] = trueno.expand %[[GELU16]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[GELU18:.*]] = trueno.mul %[[GELU15]], %[[GELU17]] : tensor<4xf32>
// CHECK-NEXT:    %[[GELU19:.*]] = trueno.mul %arg0, %[[GELU18]] : tensor<4xf32>
// CHECK-NEXT:    %[[GELU20:.*]] = trueno.add %[[GELU10]], %[[GELU19]] : tensor<4xf32>
// CHECK-NEXT:    %[[GELU21:.*]] = trueno.mul %arg1, %[[GELU20]] : tensor<4xf32>
// CHECK-NEXT:    return %[[GELU21]] : tensor<4xf32>
func.func @gelu(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.gelu %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @add(
// CHECK:         %[[ADD0:.*]] = trueno.add %arg0, %arg1 : tensor<4xf32>
// CHECK-NEXT:    return %arg2, %arg2 : tensor<4xf32>, tensor<4xf32>
func.func @add(%a: tensor<4xf32>, %b: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %y = trueno.add %a, %b : tensor<4xf32>
  %da = trueno.gradient %y, %g wrt %a : tensor<4xf32>, tensor<4xf32>
  %db = trueno.gradient %y, %g wrt %b : tensor<4xf32>, tensor<4xf32>
  return %da, %db : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @sub(
// CHECK:         %[[SUB0:.*]] = trueno.sub %arg0, %arg1 : tensor<4xf32>
// CHECK-NEXT:    %[[SUB1:.*]] = trueno.neg %arg2 : tensor<4xf32>
// CHECK-NEXT:    return %arg2, %[[SUB1]] : tensor<4xf32>, tensor<4xf32>
func.func @sub(%a: tensor<4xf32>, %b: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %y = trueno.sub %a, %b : tensor<4xf32>
  %da = trueno.gradient %y, %g wrt %a : tensor<4xf32>, tensor<4xf32>
  %db = trueno.gradient %y, %g wrt %b : tensor<4xf32>, tensor<4xf32>
  return %da, %db : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @mul(
// CHECK:         %[[MUL0:.*]] = trueno.mul %arg0, %arg1 : tensor<4xf32>
// CHECK-NEXT:    %[[MUL1:.*]] = trueno.mul %arg2, %arg1 : tensor<4xf32>
// CHECK-NEXT:    %[[MUL2:.*]] = trueno.mul %arg2, %arg0 : tensor<4xf32>
// CHECK-NEXT:    return %[[MUL1]], %[[MUL2]] : tensor<4xf32>, tensor<4xf32>
func.func @mul(%a: tensor<4xf32>, %b: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %y = trueno.mul %a, %b : tensor<4xf32>
  %da = trueno.gradient %y, %g wrt %a : tensor<4xf32>, tensor<4xf32>
  %db = trueno.gradient %y, %g wrt %b : tensor<4xf32>, tensor<4xf32>
  return %da, %db : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @pow(
// CHECK:         %[[POW0:.*]] = trueno.pow %arg0, %arg1 : tensor<4xf32>
// CHECK-NEXT:    %[[POW1:.*]] = trueno.mul %arg2, %arg1 : tensor<4xf32>
// CHECK-NEXT:    %[[POW2:.*]] = trueno.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[POW3:.*]] = trueno.expand %[[POW2]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[POW4:.*]] = trueno.sub %arg1, %[[POW3]] : tensor<4xf32>
// CHECK-NEXT:    %[[POW5:.*]] = trueno.pow %arg0, %[[POW4]] : tensor<4xf32>
// CHECK-NEXT:    %[[POW6:.*]] = trueno.mul %[[POW1]], %[[POW5]] : tensor<4xf32>
// CHECK-NEXT:    %[[POW7:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[POW8:.*]] = trueno.expand %[[POW7]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[POW9:.*]] = trueno.eq %arg1, %[[POW8]] : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[POW10:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[POW11:.*]] = trueno.expand %[[POW10]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[POW12:.*]] = trueno.where %[[POW9]], %[[POW11]], %[[POW6]] : tensor<4xi1>, tensor<4xf32>
// CHECK-NEXT:    %[[POW13:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[POW14:.*]] = trueno.expand %[[POW13]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[POW15:.*]] = trueno.eq %arg0, %[[POW14]] : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[POW16:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[POW17:.*]] = trueno.expand %[[POW16]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[POW18:.*]] = trueno.ge %arg1, %[[POW17]] : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[POW19:.*]] = trueno.logical_and %[[POW15]], %[[POW18]] : tensor<4xi1>
// CHECK-NEXT:    %[[POW20:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[POW21:.*]] = trueno.expand %[[POW20]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[POW22:.*]] = trueno.log %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[POW23:.*]] = trueno.mul %[[POW0]], %[[POW22]] : tensor<4xf32>
// CHECK-NEXT:    %[[POW24:.*]] = trueno.mul %arg2, %[[POW23]] : tensor<4xf32>
// CHECK-NEXT:    %[[POW25:.*]] = trueno.where %[[POW19]], %[[POW21]], %[[POW24]] : tensor<4xi1>, tensor<4xf32>
// CHECK-NEXT:    return %[[POW12]], %[[POW25]] : tensor<4xf32>, tensor<4xf32>
func.func @pow(%a: tensor<4xf32>, %b: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %y = trueno.pow %a, %b : tensor<4xf32>
  %da = trueno.gradient %y, %g wrt %a : tensor<4xf32>, tensor<4xf32>
  %db = trueno.gradient %y, %g wrt %b : tensor<4xf32>, tensor<4xf32>
  return %da, %db : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @minimum(
// CHECK:         %[[MINIMUM0:.*]] = trueno.minimum %arg0, %arg1 : tensor<4xf32>
// CHECK-NEXT:    %[[MINIMUM1:.*]] = trueno.eq %arg0, %arg1 : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[MINIMUM2:.*]] = trueno.constant dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT:    %[[MINIMUM3:.*]] = trueno.expand %[[MINIMUM2]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[MINIMUM4:.*]] = trueno.mul %arg2, %[[MINIMUM3]] : tensor<4xf32>
// CHECK-NEXT:    %[[MINIMUM5:.*]] = trueno.where %[[MINIMUM1]], %[[MINIMUM4]], %arg2 : tensor<4xi1>, tensor<4xf32>
// CHECK-NEXT:    %[[MINIMUM6:.*]] = trueno.gt %arg0, %arg1 : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[MINIMUM7:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[MINIMUM8:.*]] = trueno.expand %[[MINIMUM7]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[MINIMUM9:.*]] = trueno.where %[[MINIMUM6]], %[[MINIMUM8]], %[[MINIMUM5]] : tensor<4xi1>, tensor<4xf32>
// CHECK-NEXT:    %[[MINIMUM10:.*]] = trueno.lt %arg0, %arg1 : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[MINIMUM11:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[MINIMUM12:.*]] = trueno.expand %[[MINIMUM11]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[MINIMUM13:.*]] = trueno.where %[[MINIMUM10]], %[[MINIMUM12]], %[[MINIMUM5]] : tensor<4xi1>, tensor<4xf32>
// CHECK-NEXT:    return %[[MINIMUM9]], %[[MINIMUM13]] : tensor<4xf32>, tensor<4xf32>
func.func @minimum(%a: tensor<4xf32>, %b: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %y = trueno.minimum %a, %b : tensor<4xf32>
  %da = trueno.gradient %y, %g wrt %a : tensor<4xf32>, tensor<4xf32>
  %db = trueno.gradient %y, %g wrt %b : tensor<4xf32>, tensor<4xf32>
  return %da, %db : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @atan2(
// CHECK:         %[[ATAN20:.*]] = trueno.atan2 %arg0, %arg1 : tensor<4xf32>
// CHECK-NEXT:    %[[ATAN21:.*]] = trueno.mul %arg0, %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[ATAN22:.*]] = trueno.mul %arg1, %arg1 : tensor<4xf32>
// CHECK-NEXT:    %[[ATAN23:.*]] = trueno.add %[[ATAN21]], %[[ATAN22]] : tensor<4xf32>
// CHECK-NEXT:    %[[ATAN24:.*]] = trueno.mul %arg2, %arg1 : tensor<4xf32>
// CHECK-NEXT:    %[[ATAN25:.*]] = trueno.div %[[ATAN24]], %[[ATAN23]] : tensor<4xf32>
// CHECK-NEXT:    %[[ATAN26:.*]] = trueno.mul %arg2, %arg0 : tensor<4xf32>
// CHECK-NEXT:    %[[ATAN27:.*]] = trueno.div %[[ATAN26]], %[[ATAN23]] : tensor<4xf32>
// CHECK-NEXT:    %[[ATAN28:.*]] = trueno.neg %[[ATAN27]] : tensor<4xf32>
// CHECK-NEXT:    return %[[ATAN25]], %[[ATAN28]] : tensor<4xf32>, tensor<4xf32>
func.func @atan2(%a: tensor<4xf32>, %b: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %y = trueno.atan2 %a, %b : tensor<4xf32>
  %da = trueno.gradient %y, %g wrt %a : tensor<4xf32>, tensor<4xf32>
  %db = trueno.gradient %y, %g wrt %b : tensor<4xf32>, tensor<4xf32>
  return %da, %db : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @remainder(
// CHECK:         %[[REMAINDER0:.*]] = trueno.remainder %arg0, %arg1 : tensor<4xf32>
// CHECK-NEXT:    %[[REMAINDER1:.*]] = trueno.div %arg0, %arg1 : tensor<4xf32>
// CHECK-NEXT:    %[[REMAINDER2:.*]] = trueno.floor %[[REMAINDER1]] : tensor<4xf32>
// CHECK-NEXT:    %[[REMAINDER3:.*]] = trueno.mul %arg2, %[[REMAINDER2]] : tensor<4xf32>
// CHECK-NEXT:    %[[REMAINDER4:.*]] = trueno.neg %[[REMAINDER3]] : tensor<4xf32>
// CHECK-NEXT:    return %arg2, %[[REMAINDER4]] : tensor<4xf32>, tensor<4xf32>
func.func @remainder(%a: tensor<4xf32>, %b: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %y = trueno.remainder %a, %b : tensor<4xf32>
  %da = trueno.gradient %y, %g wrt %a : tensor<4xf32>, tensor<4xf32>
  %db = trueno.gradient %y, %g wrt %b : tensor<4xf32>, tensor<4xf32>
  return %da, %db : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @floordiv(
// CHECK:         %[[FLOORDIV0:.*]] = trueno.floordiv %arg0, %arg1 : tensor<4xf32>
// CHECK-NEXT:    %[[FLOORDIV1:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[FLOORDIV2:.*]] = trueno.expand %[[FLOORDIV1]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[FLOORDIV3:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[FLOORDIV4:.*]] = trueno.expand %[[FLOORDIV3]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    return %[[FLOORDIV2]], %[[FLOORDIV4]] : tensor<4xf32>, tensor<4xf32>
func.func @floordiv(%a: tensor<4xf32>, %b: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %y = trueno.floordiv %a, %b : tensor<4xf32>
  %da = trueno.gradient %y, %g wrt %a : tensor<4xf32>, tensor<4xf32>
  %db = trueno.gradient %y, %g wrt %b : tensor<4xf32>, tensor<4xf32>
  return %da, %db : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @clamp(
// CHECK:         %[[CLAMP0:.*]] = trueno.clamp %arg0, %arg1, %arg2 : tensor<4xf32>
// CHECK-NEXT:    %[[CLAMP1:.*]] = trueno.ge %arg0, %arg1 : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[CLAMP2:.*]] = trueno.le %arg0, %arg2 : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[CLAMP3:.*]] = trueno.logical_and %[[CLAMP1]], %[[CLAMP2]] : tensor<4xi1>
// CHECK-NEXT:    %[[CLAMP4:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[CLAMP5:.*]] = trueno.expand %[[CLAMP4]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[CLAMP6:.*]] = trueno.where %[[CLAMP3]], %arg3, %[[CLAMP5]] : tensor<4xi1>, tensor<4xf32>
// CHECK-NEXT:    %[[CLAMP7:.*]] = trueno.lt %arg0, %arg1 : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[CLAMP8:.*]] = trueno.lt %arg1, %arg2 : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[CLAMP9:.*]] = trueno.logical_and %[[CLAMP7]], %[[CLAMP8]] : tensor<4xi1>
// CHECK-NEXT:    %[[CLAMP10:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[CLAMP11:.*]] = trueno.expand %[[CLAMP10]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[CLAMP12:.*]] = trueno.where %[[CLAMP9]], %arg3, %[[CLAMP11]] : tensor<4xi1>, tensor<4xf32>
// CHECK-NEXT:    %[[CLAMP13:.*]] = trueno.gt %arg0, %arg2 : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[CLAMP14:.*]] = trueno.lt %arg2, %arg1 : tensor<4xf32> -> tensor<4xi1>
// CHECK-NEXT:    %[[CLAMP15:.*]] = trueno.logical_or %[[CLAMP13]], %[[CLAMP14]] : tensor<4xi1>
// CHECK-NEXT:    %[[CLAMP16:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[CLAMP17:.*]] = trueno.expand %[[CLAMP16]] : tensor<f32> to tensor<4xf32>
// CHECK-NEXT:    %[[CLAMP18:.*]] = trueno.where %[[CLAMP15]], %arg3, %[[CLAMP17]] : tensor<4xi1>, tensor<4xf32>
// CHECK-NEXT:    return %[[CLAMP6]], %[[CLAMP12]], %[[CLAMP18]] : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
func.func @clamp(%x: tensor<4xf32>, %lo: tensor<4xf32>, %hi: tensor<4xf32>, %g: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %y = trueno.clamp %x, %lo, %hi : tensor<4xf32>
  %dx = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  %dl = trueno.gradient %y, %g wrt %lo : tensor<4xf32>, tensor<4xf32>
  %dh = trueno.gradient %y, %g wrt %hi : tensor<4xf32>, tensor<4xf32>
  return %dx, %dl, %dh : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @reduce_min(
// CHECK:         %[[REDUCEMIN0:.*]] = trueno.reduce_min %arg0 dims = [1] : tensor<2x3xf32> -> tensor<2xf32>
// CHECK-NEXT:    %[[REDUCEMIN1:.*]] = trueno.reshape %[[REDUCEMIN0]] : tensor<2xf32> -> tensor<2x1xf32>
// CHECK-NEXT:    %[[REDUCEMIN2:.*]] = trueno.expand %[[REDUCEMIN1]] : tensor<2x1xf32> to tensor<2x3xf32>
// CHECK-NEXT:    %[[REDUCEMIN3:.*]] = trueno.eq %arg0, %[[REDUCEMIN2]] : tensor<2x3xf32> -> tensor<2x3xi1>
// CHECK-NEXT:    %[[REDUCEMIN4:.*]] = trueno.cast %[[REDUCEMIN3]] : tensor<2x3xi1> to tensor<2x3xf32>
// CHECK-NEXT:    %[[REDUCEMIN5:.*]] = trueno.reduce_sum %[[REDUCEMIN4]] dims = [1] : tensor<2x3xf32> -> tensor<2xf32>
// CHECK-NEXT:    %[[REDUCEMIN6:.*]] = trueno.div %arg1, %[[REDUCEMIN5]] : tensor<2xf32>
// CHECK-NEXT:    %[[REDUCEMIN7:.*]] = trueno.reshape %[[REDUCEMIN6]] : tensor<2xf32> -> tensor<2x1xf32>
// CHECK-NEXT:    %[[REDUCEMIN8:.*]] = trueno.expand %[[REDUCEMIN7]] : tensor<2x1xf32> to tensor<2x3xf32>
// CHECK-NEXT:    %[[REDUCEMIN9:.*]] = trueno.mul %[[REDUCEMIN4]], %[[REDUCEMIN8]] : tensor<2x3xf32>
// CHECK-NEXT:    return %[[REDUCEMIN9]] : tensor<2x3xf32>
func.func @reduce_min(%x: tensor<2x3xf32>, %g: tensor<2xf32>) -> tensor<2x3xf32> {
  %y = trueno.reduce_min %x dims = [1] : tensor<2x3xf32> -> tensor<2xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<2xf32>, tensor<2x3xf32>
  return %d : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @transpose(
// CHECK:         %[[TRANSPOSE0:.*]] = trueno.transpose %arg0 permutation = [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
// CHECK-NEXT:    %[[TRANSPOSE1:.*]] = trueno.transpose %arg1 permutation = [1, 0] : tensor<4x3xf32> -> tensor<3x4xf32>
// CHECK-NEXT:    return %[[TRANSPOSE1]] : tensor<3x4xf32>
func.func @transpose(%x: tensor<3x4xf32>, %g: tensor<4x3xf32>) -> tensor<3x4xf32> {
  %y = trueno.transpose %x permutation = [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4x3xf32>, tensor<3x4xf32>
  return %d : tensor<3x4xf32>
}
