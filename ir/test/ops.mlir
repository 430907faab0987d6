// Every trueno op parses, verifies and prints back to the same text.
// RUN: trueno-opt %s | FileCheck %s
// RUN: trueno-opt %s | trueno-opt | FileCheck %s
// RUN: trueno-opt %s -mlir-print-op-generic | trueno-opt | FileCheck %s

// CHECK-LABEL: func @unary
func.func @unary(%x: tensor<2x3xf32>, %i: tensor<2x3xi32>) {
  // CHECK: = trueno.exp %{{.*}} : tensor<2x3xf32>
  %0 = trueno.exp %x : tensor<2x3xf32>
  // CHECK: = trueno.exp2 %{{.*}} : tensor<2x3xf32>
  %1 = trueno.exp2 %x : tensor<2x3xf32>
  // CHECK: = trueno.expm1 %{{.*}} : tensor<2x3xf32>
  %2 = trueno.expm1 %x : tensor<2x3xf32>
  // CHECK: = trueno.log %{{.*}} : tensor<2x3xf32>
  %3 = trueno.log %x : tensor<2x3xf32>
  // CHECK: = trueno.log2 %{{.*}} : tensor<2x3xf32>
  %4 = trueno.log2 %x : tensor<2x3xf32>
  // CHECK: = trueno.log1p %{{.*}} : tensor<2x3xf32>
  %5 = trueno.log1p %x : tensor<2x3xf32>
  // CHECK: = trueno.sqrt %{{.*}} : tensor<2x3xf32>
  %6 = trueno.sqrt %x : tensor<2x3xf32>
  // CHECK: = trueno.rsqrt %{{.*}} : tensor<2x3xf32>
  %7 = trueno.rsqrt %x : tensor<2x3xf32>
  // CHECK: = trueno.sin %{{.*}} : tensor<2x3xf32>
  %8 = trueno.sin %x : tensor<2x3xf32>
  // CHECK: = trueno.cos %{{.*}} : tensor<2x3xf32>
  %9 = trueno.cos %x : tensor<2x3xf32>
  // CHECK: = trueno.tan %{{.*}} : tensor<2x3xf32>
  %10 = trueno.tan %x : tensor<2x3xf32>
  // CHECK: = trueno.tanh %{{.*}} : tensor<2x3xf32>
  %11 = trueno.tanh %x : tensor<2x3xf32>
  // CHECK: = trueno.sigmoid %{{.*}} : tensor<2x3xf32>
  %12 = trueno.sigmoid %x : tensor<2x3xf32>
  // CHECK: = trueno.silu %{{.*}} : tensor<2x3xf32>
  %13 = trueno.silu %x : tensor<2x3xf32>
  // CHECK: = trueno.softplus %{{.*}} : tensor<2x3xf32>
  %14 = trueno.softplus %x : tensor<2x3xf32>
  // CHECK: = trueno.floor %{{.*}} : tensor<2x3xf32>
  %15 = trueno.floor %x : tensor<2x3xf32>
  // CHECK: = trueno.ceil %{{.*}} : tensor<2x3xf32>
  %16 = trueno.ceil %x : tensor<2x3xf32>
  // CHECK: = trueno.round %{{.*}} : tensor<2x3xf32>
  %17 = trueno.round %x : tensor<2x3xf32>
  // CHECK: = trueno.erf %{{.*}} : tensor<2x3xf32>
  %18 = trueno.erf %x : tensor<2x3xf32>
  // CHECK: = trueno.neg %{{.*}} : tensor<2x3xi32>
  %n0 = trueno.neg %i : tensor<2x3xi32>
  // CHECK: = trueno.abs %{{.*}} : tensor<2x3xi32>
  %n1 = trueno.abs %i : tensor<2x3xi32>
  // CHECK: = trueno.sign %{{.*}} : tensor<2x3xi32>
  %n2 = trueno.sign %i : tensor<2x3xi32>
  // CHECK: = trueno.relu %{{.*}} : tensor<2x3xi32>
  %n3 = trueno.relu %i : tensor<2x3xi32>
  // CHECK: = trueno.neg %{{.*}} : tensor<2x3xf32>
  %u0 = trueno.neg %x : tensor<2x3xf32>
  // CHECK: = trueno.abs %{{.*}} : tensor<2x3xf32>
  %u1 = trueno.abs %x : tensor<2x3xf32>
  // CHECK: = trueno.sign %{{.*}} : tensor<2x3xf32>
  %u2 = trueno.sign %x : tensor<2x3xf32>
  // CHECK: = trueno.relu %{{.*}} : tensor<2x3xf32>
  %u3 = trueno.relu %x : tensor<2x3xf32>
  return
}

// CHECK-LABEL: func @gelu_and_predicates
func.func @gelu_and_predicates(%x: tensor<4xbf16>) {
  // CHECK: trueno.gelu %{{.*}} : tensor<4xbf16>
  %g = trueno.gelu %x : tensor<4xbf16>
  // CHECK: trueno.gelu %{{.*}} tanh : tensor<4xbf16>
  %t = trueno.gelu %x tanh : tensor<4xbf16>
  // CHECK: trueno.isnan %{{.*}} : tensor<4xbf16> -> tensor<4xi1>
  %n = trueno.isnan %x : tensor<4xbf16> -> tensor<4xi1>
  // CHECK: trueno.isinf %{{.*}} : tensor<4xbf16> -> tensor<4xi1>
  %f = trueno.isinf %x : tensor<4xbf16> -> tensor<4xi1>
  // CHECK: trueno.logical_not %{{.*}} : tensor<4xbf16> -> tensor<4xi1>
  %l = trueno.logical_not %x : tensor<4xbf16> -> tensor<4xi1>
  return
}

// CHECK-LABEL: func @binary
func.func @binary(%a: tensor<4xf64>, %b: tensor<4xf64>, %p: tensor<4xui8>, %q: tensor<4xui8>, %m: tensor<4xi1>) {
  // CHECK: trueno.add %{{.*}}, %{{.*}} : tensor<4xf64>
  %0 = trueno.add %a, %b : tensor<4xf64>
  // CHECK: trueno.sub %{{.*}}, %{{.*}} : tensor<4xf64>
  %1 = trueno.sub %a, %b : tensor<4xf64>
  // CHECK: trueno.mul %{{.*}}, %{{.*}} : tensor<4xf64>
  %2 = trueno.mul %a, %b : tensor<4xf64>
  // CHECK: trueno.floordiv %{{.*}}, %{{.*}} : tensor<4xf64>
  %3 = trueno.floordiv %a, %b : tensor<4xf64>
  // CHECK: trueno.remainder %{{.*}}, %{{.*}} : tensor<4xf64>
  %4 = trueno.remainder %a, %b : tensor<4xf64>
  // CHECK: trueno.pow %{{.*}}, %{{.*}} : tensor<4xf64>
  %5 = trueno.pow %a, %b : tensor<4xf64>
  // CHECK: trueno.maximum %{{.*}}, %{{.*}} : tensor<4xf64>
  %6 = trueno.maximum %a, %b : tensor<4xf64>
  // CHECK: trueno.minimum %{{.*}}, %{{.*}} : tensor<4xf64>
  %7 = trueno.minimum %a, %b : tensor<4xf64>
  // CHECK: trueno.div %{{.*}}, %{{.*}} : tensor<4xf64>
  %8 = trueno.div %a, %b : tensor<4xf64>
  // CHECK: trueno.atan2 %{{.*}}, %{{.*}} : tensor<4xf64>
  %9 = trueno.atan2 %a, %b : tensor<4xf64>
  // CHECK: trueno.bitwise_and %{{.*}}, %{{.*}} : tensor<4xui8>
  %i0 = trueno.bitwise_and %p, %q : tensor<4xui8>
  // CHECK: trueno.bitwise_or %{{.*}}, %{{.*}} : tensor<4xui8>
  %i1 = trueno.bitwise_or %p, %q : tensor<4xui8>
  // CHECK: trueno.bitwise_xor %{{.*}}, %{{.*}} : tensor<4xui8>
  %i2 = trueno.bitwise_xor %p, %q : tensor<4xui8>
  // CHECK: trueno.add %{{.*}}, %{{.*}} : tensor<4xui8>
  %i3 = trueno.add %p, %q : tensor<4xui8>
  // CHECK: trueno.floordiv %{{.*}}, %{{.*}} : tensor<4xui8>
  %i4 = trueno.floordiv %p, %q : tensor<4xui8>
  // CHECK: trueno.logical_and %{{.*}}, %{{.*}} : tensor<4xi1>
  %b0 = trueno.logical_and %m, %m : tensor<4xi1>
  // CHECK: trueno.logical_or %{{.*}}, %{{.*}} : tensor<4xi1>
  %b1 = trueno.logical_or %m, %m : tensor<4xi1>
  // CHECK: trueno.logical_xor %{{.*}}, %{{.*}} : tensor<4xi1>
  %b2 = trueno.logical_xor %m, %m : tensor<4xi1>
  // CHECK: trueno.bitwise_and %{{.*}}, %{{.*}} : tensor<4xi1>
  %b3 = trueno.bitwise_and %m, %m : tensor<4xi1>
  // CHECK: trueno.bitwise_or %{{.*}}, %{{.*}} : tensor<4xi1>
  %b4 = trueno.bitwise_or %m, %m : tensor<4xi1>
  // CHECK: trueno.bitwise_xor %{{.*}}, %{{.*}} : tensor<4xi1>
  %b5 = trueno.bitwise_xor %m, %m : tensor<4xi1>
  // CHECK: trueno.eq %{{.*}}, %{{.*}} : tensor<4xf64> -> tensor<4xi1>
  %c0 = trueno.eq %a, %b : tensor<4xf64> -> tensor<4xi1>
  // CHECK: trueno.ne %{{.*}}, %{{.*}} : tensor<4xf64> -> tensor<4xi1>
  %c1 = trueno.ne %a, %b : tensor<4xf64> -> tensor<4xi1>
  // CHECK: trueno.lt %{{.*}}, %{{.*}} : tensor<4xf64> -> tensor<4xi1>
  %c2 = trueno.lt %a, %b : tensor<4xf64> -> tensor<4xi1>
  // CHECK: trueno.le %{{.*}}, %{{.*}} : tensor<4xf64> -> tensor<4xi1>
  %c3 = trueno.le %a, %b : tensor<4xf64> -> tensor<4xi1>
  // CHECK: trueno.gt %{{.*}}, %{{.*}} : tensor<4xf64> -> tensor<4xi1>
  %c4 = trueno.gt %a, %b : tensor<4xf64> -> tensor<4xi1>
  // CHECK: trueno.ge %{{.*}}, %{{.*}} : tensor<4xf64> -> tensor<4xi1>
  %c5 = trueno.ge %a, %b : tensor<4xf64> -> tensor<4xi1>
  return
}

// CHECK-LABEL: func @ternary_cast_expand_constant
func.func @ternary_cast_expand_constant(%m: tensor<2x2xi1>, %a: tensor<2x2xi16>, %b: tensor<2x2xi16>) {
  // CHECK: trueno.where %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x2xi1>, tensor<2x2xi16>
  %w = trueno.where %m, %a, %b : tensor<2x2xi1>, tensor<2x2xi16>
  // CHECK: trueno.clamp %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x2xi16>
  %c = trueno.clamp %a, %a, %b : tensor<2x2xi16>
  // CHECK: trueno.cast %{{.*}} : tensor<2x2xi16> to tensor<2x2xf16>
  %k = trueno.cast %a : tensor<2x2xi16> to tensor<2x2xf16>
  // CHECK: trueno.expand %{{.*}} : tensor<2x2xi16> to tensor<3x2x2xi16>
  %e = trueno.expand %a : tensor<2x2xi16> to tensor<3x2x2xi16>
  // CHECK: trueno.constant dense<5> : tensor<i8>
  %s = trueno.constant dense<5> : tensor<i8>
  // CHECK: trueno.constant dense<[1.500000e+00, 2.500000e+00]> : tensor<2xf32>
  %v = trueno.constant dense<[1.5, 2.5]> : tensor<2xf32>
  return
}

// CHECK-LABEL: func @reductions
func.func @reductions(%x: tensor<4x8xf32>, %b: tensor<4x8xi1>, %u: tensor<4x8xui8>) {
  // CHECK: trueno.reduce_sum %{{.*}} dims = [1] : tensor<4x8xf32> -> tensor<4xf32>
  %0 = trueno.reduce_sum %x dims = [1] : tensor<4x8xf32> -> tensor<4xf32>
  // CHECK: trueno.reduce_prod %{{.*}} dims = [0] : tensor<4x8xf32> -> tensor<1x8xf32>
  %1 = trueno.reduce_prod %x dims = [0] : tensor<4x8xf32> -> tensor<1x8xf32>
  // CHECK: trueno.reduce_max %{{.*}} dims = [0, 1] : tensor<4x8xi1> -> tensor<i1>
  %2 = trueno.reduce_max %b dims = [0, 1] : tensor<4x8xi1> -> tensor<i1>
  // CHECK: trueno.reduce_min %{{.*}} dims = [] : tensor<4x8xui8> -> tensor<4x8xui8>
  %3 = trueno.reduce_min %u dims = [] : tensor<4x8xui8> -> tensor<4x8xui8>
  return
}

// CHECK-LABEL: func @products
func.func @products(%a: tensor<4x8xf32>, %b: tensor<8x3xf32>, %x: tensor<2x5x4x8xi32>, %y: tensor<2x5x8x1xi32>) {
  // CHECK: trueno.matmul %{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x3xf32> -> tensor<4x3xf32>
  %0 = trueno.matmul %a, %b : tensor<4x8xf32>, tensor<8x3xf32> -> tensor<4x3xf32>
  // CHECK: trueno.matmul %{{.*}}, %{{.*}} : tensor<2x5x4x8xi32>, tensor<2x5x8x1xi32> -> tensor<2x5x4x1xi32>
  %1 = trueno.matmul %x, %y : tensor<2x5x4x8xi32>, tensor<2x5x8x1xi32> -> tensor<2x5x4x1xi32>
  return
}

// CHECK-LABEL: func @convolution
func.func @convolution(%x: tensor<8x4x32x32xf32>, %w: tensor<16x2x3x3xf32>) {
  // CHECK: trueno.conv2d %{{.*}}, %{{.*}} stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 2 : tensor<8x4x32x32xf32>, tensor<16x2x3x3xf32> -> tensor<8x16x16x16xf32>
  %0 = trueno.conv2d %x, %w stride = [2, 2] padding = [1, 1] dilation = [1, 1] groups = 2 : tensor<8x4x32x32xf32>, tensor<16x2x3x3xf32> -> tensor<8x16x16x16xf32>
  return
}

// CHECK-LABEL: func @arg_reductions
func.func @arg_reductions(%x: tensor<4x8xf32>, %u: tensor<4x8xui8>) {
  // CHECK: trueno.argmax %{{.*}} dim = 1 : tensor<4x8xf32> -> tensor<4xi64>
  %0 = trueno.argmax %x dim = 1 : tensor<4x8xf32> -> tensor<4xi64>
  // CHECK: trueno.argmin %{{.*}} dim = 0 : tensor<4x8xui8> -> tensor<1x8xi64>
  %1 = trueno.argmin %u dim = 0 : tensor<4x8xui8> -> tensor<1x8xi64>
  return
}

// CHECK-LABEL: func @gather
func.func @gather(%table: tensor<10x4xf32>, %ids: tensor<3x4xi64>, %b: tensor<5xi1>, %i: tensor<2xi64>) {
  // CHECK: trueno.gather %{{.*}}, %{{.*}} dim = 0 : tensor<10x4xf32>, tensor<3x4xi64> -> tensor<3x4xf32>
  %0 = trueno.gather %table, %ids dim = 0 : tensor<10x4xf32>, tensor<3x4xi64> -> tensor<3x4xf32>
  // CHECK: trueno.gather %{{.*}}, %{{.*}} dim = 0 : tensor<5xi1>, tensor<2xi64> -> tensor<2xi1>
  %1 = trueno.gather %b, %i dim = 0 : tensor<5xi1>, tensor<2xi64> -> tensor<2xi1>
  return
}

// CHECK-LABEL: func @random_uniform
func.func @random_uniform(%k0: tensor<i32>, %k1: tensor<i32>, %c0: tensor<i32>, %c1: tensor<i32>) {
  // CHECK: trueno.random_uniform %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<64x128xf32>
  %0 = trueno.random_uniform %k0, %k1, %c0, %c1 : tensor<64x128xf32>
  // CHECK: trueno.random_uniform %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<bf16>
  %1 = trueno.random_uniform %k0, %k1, %c0, %c1 : tensor<bf16>
  return
}

// CHECK-LABEL: func @movement
func.func @movement(%x: tensor<3x4xf32>, %v: tensor<12xf32>, %zero: tensor<f32>,
                    %ids: tensor<2x4xi64>, %y: tensor<2x4xf32>) {
  // CHECK: = trueno.transpose %{{.*}} permutation = [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  %0 = trueno.transpose %x permutation = [1, 0] : tensor<3x4xf32> -> tensor<4x3xf32>
  // CHECK: = trueno.reshape %{{.*}} : tensor<3x4xf32> -> tensor<2x6xf32>
  %1 = trueno.reshape %x : tensor<3x4xf32> -> tensor<2x6xf32>
  // CHECK: = trueno.slice %{{.*}} offsets = [2, 3] steps = [-1, -2] : tensor<3x4xf32> -> tensor<3x2xf32>
  %2 = trueno.slice %x offsets = [2, 3] steps = [-1, -2] : tensor<3x4xf32> -> tensor<3x2xf32>
  // CHECK: = trueno.insert_slice %{{.*}} into %{{.*}} offsets = [0, 1] steps = [1, 2] : tensor<3x2xf32> into tensor<3x4xf32>
  %3 = trueno.insert_slice %2 into %x offsets = [0, 1] steps = [1, 2] : tensor<3x2xf32> into tensor<3x4xf32>
  // CHECK: = trueno.pad %{{.*}}, %{{.*}} low = [1, 0] high = [0, 2] interior = [1, 0] : tensor<3x4xf32>, tensor<f32> -> tensor<6x6xf32>
  %4 = trueno.pad %x, %zero low = [1, 0] high = [0, 2] interior = [1, 0] : tensor<3x4xf32>, tensor<f32> -> tensor<6x6xf32>
  // CHECK: = trueno.concat %{{.*}}, %{{.*}} dim = 1 : tensor<3x4xf32>, tensor<3x4xf32> -> tensor<3x8xf32>
  %5 = trueno.concat %x, %x dim = 1 : tensor<3x4xf32>, tensor<3x4xf32> -> tensor<3x8xf32>
  // CHECK: = trueno.scatter_add %{{.*}}, %{{.*}}, %{{.*}} dim = 0 : tensor<3x4xf32>, tensor<2x4xi64>, tensor<2x4xf32>
  %6 = trueno.scatter_add %x, %ids, %y dim = 0 : tensor<3x4xf32>, tensor<2x4xi64>, tensor<2x4xf32>
  return
}

// CHECK-LABEL: func @scatter
func.func @scatter(%x: tensor<3x4xi1>, %ids: tensor<2x4xi64>, %y: tensor<2x4xi1>) {
  // CHECK: = trueno.scatter %{{.*}}, %{{.*}}, %{{.*}} dim = 0 : tensor<3x4xi1>, tensor<2x4xi64>, tensor<2x4xi1>
  %0 = trueno.scatter %x, %ids, %y dim = 0 : tensor<3x4xi1>, tensor<2x4xi64>, tensor<2x4xi1>
  return
}
