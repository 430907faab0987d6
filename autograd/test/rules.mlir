// The gradient rule of each differentiable op, as trueno-reverse-mode
// emits it for the gradient of the op's result (seeded with %g) with
// respect to its operand(s). The values the rules produce are checked
// against torch.autograd by tests/e2e/test_grads_vs_torch.py; these pin
// the ops each rule builds.
// RUN: trueno-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(trueno-reverse-mode))' | FileCheck %s

// CHECK-LABEL: func.func @exp
// CHECK:         %[[Y:.*]] = trueno.exp %arg0
// CHECK-NEXT:    %[[D:.*]] = trueno.mul %arg1, %[[Y]]
// CHECK-NEXT:    return %[[D]]
func.func @exp(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.exp %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// log: g / x.
// CHECK-LABEL: func.func @log
// CHECK:         %[[D:.*]] = trueno.div %arg1, %arg0
// CHECK-NEXT:    return %[[D]]
func.func @log(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.log %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// tanh: g * (1 - y^2), the 1 a rank-0 constant expanded.
// CHECK-LABEL: func.func @tanh
// CHECK:         %[[Y:.*]] = trueno.tanh %arg0
// CHECK-DAG:     %[[Y2:.*]] = trueno.mul %[[Y]], %[[Y]]
// CHECK-DAG:     %[[ONE:.*]] = trueno.constant dense<1.000000e+00> : tensor<f32>
// CHECK-DAG:     %[[ONES:.*]] = trueno.expand %[[ONE]] : tensor<f32> to tensor<4xf32>
// CHECK:         %[[S:.*]] = trueno.sub %[[ONES]], %[[Y2]]
// CHECK:         trueno.mul %arg1, %[[S]]
func.func @tanh(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.tanh %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// relu: the gradient where the result is > 0 (0 at 0, as PyTorch).
// CHECK-LABEL: func.func @relu
// CHECK:         %[[Y:.*]] = trueno.relu %arg0
// CHECK:         %[[P:.*]] = trueno.gt %[[Y]], %{{.*}} : tensor<4xf32> -> tensor<4xi1>
// CHECK:         trueno.where %[[P]], %arg1, %{{.*}} : tensor<4xi1>, tensor<4xf32>
func.func @relu(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.relu %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// mul: g * b for a, g * a for b; a value used twice sums its gradients.
// CHECK-LABEL: func.func @square
// CHECK:         %[[A:.*]] = trueno.mul %arg1, %arg0
// CHECK-NEXT:    %[[B:.*]] = trueno.mul %arg1, %arg0
// CHECK-NEXT:    %[[S:.*]] = trueno.add %[[A]], %[[B]]
// CHECK-NEXT:    return %[[S]]
func.func @square(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.mul %x, %x : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// div: g / b, and -(g * y) / b with y = a / b (not -(g * a) / b^2, whose
// b^2 underflows).
// CHECK-LABEL: func.func @div
// CHECK:         %[[Y:.*]] = trueno.div %arg0, %arg1
// CHECK:         %[[GY:.*]] = trueno.mul %arg2, %[[Y]]
// CHECK:         %[[Q:.*]] = trueno.div %[[GY]], %arg1
// CHECK:         %[[N:.*]] = trueno.neg %[[Q]]
// CHECK:         return %[[N]]
func.func @div(%a: tensor<4xf32>, %b: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.div %a, %b : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %b : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// maximum: ties split in halves; the smaller operand gets 0.
// CHECK-LABEL: func.func @maximum
// CHECK-DAG:     %[[HALF:.*]] = trueno.mul %arg2, %{{.*}}
// CHECK-DAG:     %[[EQ:.*]] = trueno.eq %arg0, %arg1
// CHECK:         %[[SPLIT:.*]] = trueno.where %[[EQ]], %[[HALF]], %arg2
// CHECK:         %[[LT:.*]] = trueno.lt %arg0, %arg1
// CHECK:         trueno.where %[[LT]], %{{.*}}, %[[SPLIT]]
func.func @maximum(%a: tensor<4xf32>, %b: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.maximum %a, %b : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %a : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// where: the gradient goes to the selected side; the condition has none.
// CHECK-LABEL: func.func @where
// CHECK:         %[[B:.*]] = trueno.where %arg0, %{{.*}}, %arg3 : tensor<4xi1>, tensor<4xf32>
// CHECK-NEXT:    return %[[B]]
func.func @where(%c: tensor<4xi1>, %a: tensor<4xf32>, %b: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %y = trueno.where %c, %a, %b : tensor<4xi1>, tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %b : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// expand: the broadcast gradient summed back to the operand's shape.
// CHECK-LABEL: func.func @expand
// CHECK:         %[[S:.*]] = trueno.reduce_sum %arg1 dims = [0, 2] : tensor<2x3x4xf32> -> tensor<3xf32>
// CHECK-NEXT:    %[[R:.*]] = trueno.reshape %[[S]] : tensor<3xf32> -> tensor<3x1xf32>
// CHECK-NEXT:    return %[[R]]
func.func @expand(%x: tensor<3x1xf32>, %g: tensor<2x3x4xf32>) -> tensor<3x1xf32> {
  %y = trueno.expand %x : tensor<3x1xf32> to tensor<2x3x4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<2x3x4xf32>, tensor<3x1xf32>
  return %d : tensor<3x1xf32>
}

// -----

// reduce_sum: the gradient reshaped to keep the dims, then expanded.
// CHECK-LABEL: func.func @reduce_sum
// CHECK:         %[[R:.*]] = trueno.reshape %arg1 : tensor<4xf32> -> tensor<4x1xf32>
// CHECK-NEXT:    %[[E:.*]] = trueno.expand %[[R]] : tensor<4x1xf32> to tensor<4x8xf32>
// CHECK-NEXT:    return %[[E]]
func.func @reduce_sum(%x: tensor<4x8xf32>, %g: tensor<4xf32>) -> tensor<4x8xf32> {
  %y = trueno.reduce_sum %x dims = [1] : tensor<4x8xf32> -> tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4x8xf32>
  return %d : tensor<4x8xf32>
}

// -----

// reduce_max: split evenly among the elements equal to the maximum.
// CHECK-LABEL: func.func @reduce_max
// CHECK:         %[[HIT:.*]] = trueno.eq %arg0, %{{.*}} : tensor<4x8xf32> -> tensor<4x8xi1>
// CHECK:         %[[HITF:.*]] = trueno.cast %[[HIT]] : tensor<4x8xi1> to tensor<4x8xf32>
// CHECK:         %[[COUNT:.*]] = trueno.reduce_sum %[[HITF]] dims = [1]
// CHECK:         %[[SHARE:.*]] = trueno.div %arg1, %{{.*}}
// CHECK:         trueno.mul %[[HITF]], %{{.*}}
func.func @reduce_max(%x: tensor<4x8xf32>, %g: tensor<4xf32>) -> tensor<4x8xf32> {
  %y = trueno.reduce_max %x dims = [1] : tensor<4x8xf32> -> tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4x8xf32>
  return %d : tensor<4x8xf32>
}

// -----

// reduce_prod: y / x without zeros, the product of the others with one.
// CHECK-LABEL: func.func @reduce_prod
// CHECK:         trueno.eq %arg0
// CHECK:         trueno.reduce_prod %{{.*}} dims = [1]
// CHECK:         trueno.div
// CHECK:         trueno.where
func.func @reduce_prod(%x: tensor<4x8xf32>, %g: tensor<4xf32>) -> tensor<4x8xf32> {
  %y = trueno.reduce_prod %x dims = [1] : tensor<4x8xf32> -> tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4x8xf32>
  return %d : tensor<4x8xf32>
}

// -----

// matmul: g @ b^T and a^T @ g.
// CHECK-LABEL: func.func @matmul
// CHECK:         %[[BT:.*]] = trueno.transpose %arg1 permutation = [1, 0] : tensor<3x5xf32> -> tensor<5x3xf32>
// CHECK:         trueno.matmul %arg2, %[[BT]] : tensor<2x5xf32>, tensor<5x3xf32> -> tensor<2x3xf32>
// CHECK:         %[[AT:.*]] = trueno.transpose %arg0 permutation = [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
// CHECK:         trueno.matmul %[[AT]], %arg2 : tensor<3x2xf32>, tensor<2x5xf32> -> tensor<3x5xf32>
func.func @matmul(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>, %g: tensor<2x5xf32>) -> (tensor<2x3xf32>, tensor<3x5xf32>) {
  %y = trueno.matmul %a, %b : tensor<2x3xf32>, tensor<3x5xf32> -> tensor<2x5xf32>
  %da = trueno.gradient %y, %g wrt %a : tensor<2x5xf32>, tensor<2x3xf32>
  %db = trueno.gradient %y, %g wrt %b : tensor<2x5xf32>, tensor<3x5xf32>
  return %da, %db : tensor<2x3xf32>, tensor<3x5xf32>
}

// -----

// conv2d: the input's gradient is g dilated by the stride and padded,
// convolved with the flipped filter; the filter's, a convolution of the
// input with g (stride as dilation).
// CHECK-LABEL: func.func @conv2d
// CHECK:         trueno.pad %arg2, %{{.*}} low = [0, 0, 2, 2] high = [0, 0, 3, 3] interior = [0, 0, 1, 1]
// CHECK:         trueno.slice %arg1 offsets = [0, 0, 2, 2] steps = [1, 1, -1, -1]
// CHECK:         trueno.conv2d %{{.*}} stride = [1, 1] padding = [0, 0] dilation = [1, 1] groups = 1 : tensor<1x4x10x10xf32>, tensor<3x4x3x3xf32> -> tensor<1x3x8x8xf32>
// CHECK:         trueno.conv2d %{{.*}} stride = [1, 1] padding = [0, 0] dilation = [2, 2] groups = 1
func.func @conv2d(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %g: tensor<1x4x3x3xf32>) -> (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) {
  %y = trueno.conv2d %x, %w stride = [2, 2] padding = [0, 0] dilation = [1, 1] groups = 1 : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x3x3xf32>
  %dx = trueno.gradient %y, %g wrt %x : tensor<1x4x3x3xf32>, tensor<1x3x8x8xf32>
  %dw = trueno.gradient %y, %g wrt %w : tensor<1x4x3x3xf32>, tensor<4x3x3x3xf32>
  return %dx, %dw : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>
}

// -----

// conv2d padded past the filter's reach (a filter 1 row high, padded by 1
// row): the gradient's rows are cropped rather than padded by a negative
// amount. The filter's gradient comes out the filter's size.
// CHECK-LABEL: func.func @conv2d_crop_rows
// CHECK:         %[[P:.*]] = trueno.pad %arg2, %{{.*}} low = [0, 0, 0, 2] high = [0, 0, 0, 2] interior = [0, 0, 0, 0] : tensor<1x1x6x2xf32>, tensor<f32> -> tensor<1x1x6x6xf32>
// CHECK-NEXT:    trueno.slice %[[P]] offsets = [0, 0, 1, 0] steps = [1, 1, 1, 1] : tensor<1x1x6x6xf32> -> tensor<1x1x4x6xf32>
// CHECK:         trueno.conv2d %{{.*}} -> tensor<1x1x4x4xf32>
// CHECK:         %[[F:.*]] = trueno.conv2d %{{.*}} stride = [1, 1] padding = [1, 0] dilation = [1, 1] groups = 1 : tensor<1x1x4x4xf32>, tensor<1x1x6x2xf32> -> tensor<1x1x1x3xf32>
// CHECK-NOT:     trueno.slice %[[F]]
func.func @conv2d_crop_rows(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x1x3xf32>, %g: tensor<1x1x6x2xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x1x3xf32>) {
  %y = trueno.conv2d %x, %w stride = [1, 1] padding = [1, 0] dilation = [1, 1] groups = 1 : tensor<1x1x4x4xf32>, tensor<1x1x1x3xf32> -> tensor<1x1x6x2xf32>
  %dx = trueno.gradient %y, %g wrt %x : tensor<1x1x6x2xf32>, tensor<1x1x4x4xf32>
  %dw = trueno.gradient %y, %g wrt %w : tensor<1x1x6x2xf32>, tensor<1x1x1x3xf32>
  return %dx, %dw : tensor<1x1x4x4xf32>, tensor<1x1x1x3xf32>
}

// -----

// The same in the columns only, with a stride of 2 there that leaves the
// last column unused: the filter's gradient comes out 2 wide and is cut to
// the filter's 1.
// CHECK-LABEL: func.func @conv2d_crop_columns
// CHECK:         %[[P:.*]] = trueno.pad %arg2, %{{.*}} low = [0, 0, 2, 0] high = [0, 0, 2, 0] interior = [0, 0, 0, 1] : tensor<1x1x2x3xf32>, tensor<f32> -> tensor<1x1x6x5xf32>
// CHECK-NEXT:    trueno.slice %[[P]] offsets = [0, 0, 0, 1] steps = [1, 1, 1, 1] : tensor<1x1x6x5xf32> -> tensor<1x1x6x4xf32>
// CHECK:         %[[F:.*]] = trueno.conv2d %{{.*}} stride = [1, 1] padding = [0, 1] dilation = [1, 2] groups = 1 : tensor<1x1x4x4xf32>, tensor<1x1x2x3xf32> -> tensor<1x1x3x2xf32>
// CHECK-NEXT:    trueno.slice %[[F]] offsets = [0, 0, 0, 0] steps = [1, 1, 1, 1] : tensor<1x1x3x2xf32> -> tensor<1x1x3x1xf32>
func.func @conv2d_crop_columns(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x3x1xf32>, %g: tensor<1x1x2x3xf32>) -> (tensor<1x1x4x4xf32>, tensor<1x1x3x1xf32>) {
  %y = trueno.conv2d %x, %w stride = [1, 2] padding = [0, 1] dilation = [1, 1] groups = 1 : tensor<1x1x4x4xf32>, tensor<1x1x3x1xf32> -> tensor<1x1x2x3xf32>
  %dx = trueno.gradient %y, %g wrt %x : tensor<1x1x2x3xf32>, tensor<1x1x4x4xf32>
  %dw = trueno.gradient %y, %g wrt %w : tensor<1x1x2x3xf32>, tensor<1x1x3x1xf32>
  return %dx, %dw : tensor<1x1x4x4xf32>, tensor<1x1x3x1xf32>
}

// -----

// gather: the gradient scattered back with scatter_add; indices get none.
// CHECK-LABEL: func.func @gather
// CHECK:         trueno.scatter_add %{{.*}}, %arg1, %arg2 dim = 0
func.func @gather(%x: tensor<5x3xf32>, %i: tensor<2x3xi64>, %g: tensor<2x3xf32>) -> tensor<5x3xf32> {
  %y = trueno.gather %x, %i dim = 0 : tensor<5x3xf32>, tensor<2x3xi64> -> tensor<2x3xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<2x3xf32>, tensor<5x3xf32>
  return %d : tensor<5x3xf32>
}

// -----

// scatter: the input's gradient is g with the written positions zeroed (a
// scatter of zeros), the source's is g gathered at them; indices get none.
// CHECK-LABEL: func.func @scatter
// CHECK:         %[[Z:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[ZS:.*]] = trueno.expand %[[Z]] : tensor<f32> to tensor<2x3xf32>
// CHECK-NEXT:    %[[GS:.*]] = trueno.gather %arg3, %arg1 dim = 0 : tensor<5x3xf32>, tensor<2x3xi64> -> tensor<2x3xf32>
// CHECK-NEXT:    %[[GX:.*]] = trueno.scatter %arg3, %arg1, %[[ZS]] dim = 0
// CHECK-NEXT:    return %[[GX]], %[[GS]]
func.func @scatter(%x: tensor<5x3xf32>, %i: tensor<2x3xi64>, %s: tensor<2x3xf32>, %g: tensor<5x3xf32>) -> (tensor<5x3xf32>, tensor<2x3xf32>) {
  %y = trueno.scatter %x, %i, %s dim = 0 : tensor<5x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>
  %dx = trueno.gradient %y, %g wrt %x : tensor<5x3xf32>, tensor<5x3xf32>
  %ds = trueno.gradient %y, %g wrt %s : tensor<5x3xf32>, tensor<2x3xf32>
  return %dx, %ds : tensor<5x3xf32>, tensor<2x3xf32>
}

// -----

// scatter_add: the input's gradient is g; the source's, g gathered at the
// positions it was added to.
// CHECK-LABEL: func.func @scatter_add
// CHECK-NEXT:    trueno.scatter_add
// CHECK-NEXT:    %[[GS:.*]] = trueno.gather %arg3, %arg1 dim = 1 : tensor<2x5xf32>, tensor<2x2xi64> -> tensor<2x2xf32>
// CHECK-NEXT:    return %arg3, %[[GS]]
func.func @scatter_add(%x: tensor<2x5xf32>, %i: tensor<2x2xi64>, %s: tensor<2x2xf32>, %g: tensor<2x5xf32>) -> (tensor<2x5xf32>, tensor<2x2xf32>) {
  %y = trueno.scatter_add %x, %i, %s dim = 1 : tensor<2x5xf32>, tensor<2x2xi64>, tensor<2x2xf32>
  %dx = trueno.gradient %y, %g wrt %x : tensor<2x5xf32>, tensor<2x5xf32>
  %ds = trueno.gradient %y, %g wrt %s : tensor<2x5xf32>, tensor<2x2xf32>
  return %dx, %ds : tensor<2x5xf32>, tensor<2x2xf32>
}

// -----

// Movement: a transpose's inverse, a slice's window inserted into zeros,
// a concat's pieces, a pad's interior.
// CHECK-LABEL: func.func @movement
// CHECK:         trueno.transpose %{{.*}} permutation = [2, 0, 1]
// CHECK:         trueno.insert_slice %{{.*}} into %{{.*}} offsets = [1, 0, 0] steps = [2, 1, 1]
func.func @movement(%x: tensor<4x2x3xf32>, %g: tensor<3x2x2xf32>) -> tensor<4x2x3xf32> {
  %s = trueno.slice %x offsets = [1, 0, 0] steps = [2, 1, 1] : tensor<4x2x3xf32> -> tensor<2x2x3xf32>
  %t = trueno.transpose %s permutation = [1, 2, 0] : tensor<2x2x3xf32> -> tensor<2x3x2xf32>
  %r = trueno.reshape %t : tensor<2x3x2xf32> -> tensor<3x2x2xf32>
  %d = trueno.gradient %r, %g wrt %x : tensor<3x2x2xf32>, tensor<4x2x3xf32>
  return %d : tensor<4x2x3xf32>
}

// -----

// CHECK-LABEL: func.func @concat
// CHECK:         trueno.slice %arg2 offsets = [0, 2] steps = [1, 1] : tensor<2x5xf32> -> tensor<2x3xf32>
func.func @concat(%a: tensor<2x2xf32>, %b: tensor<2x3xf32>, %g: tensor<2x5xf32>) -> tensor<2x3xf32> {
  %y = trueno.concat %a, %b dim = 1 : tensor<2x2xf32>, tensor<2x3xf32> -> tensor<2x5xf32>
  %d = trueno.gradient %y, %g wrt %b : tensor<2x5xf32>, tensor<2x3xf32>
  return %d : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @pad
// CHECK:         trueno.slice %arg2 offsets = [1] steps = [2] : tensor<8xf32> -> tensor<3xf32>
func.func @pad(%x: tensor<3xf32>, %v: tensor<f32>, %g: tensor<8xf32>) -> tensor<3xf32> {
  %y = trueno.pad %x, %v low = [1] high = [2] interior = [1] : tensor<3xf32>, tensor<f32> -> tensor<8xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<8xf32>, tensor<3xf32>
  return %d : tensor<3xf32>
}

// -----

// cast: back to the input's float type.
// CHECK-LABEL: func.func @cast
// CHECK:         trueno.cast %arg1 : tensor<4xf32> to tensor<4xf16>
func.func @cast(%x: tensor<4xf16>, %g: tensor<4xf32>) -> tensor<4xf16> {
  %y = trueno.cast %x : tensor<4xf16> to tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf16>
  return %d : tensor<4xf16>
}

// -----

// A cast or an expand to the type it already has passes the gradient on
// unchanged.
// CHECK-LABEL: func.func @identity_cast_expand
// CHECK-NEXT:    trueno.cast
// CHECK-NEXT:    trueno.expand
// CHECK-NEXT:    return %arg1
func.func @identity_cast_expand(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %c = trueno.cast %x : tensor<4xf32> to tensor<4xf32>
  %y = trueno.expand %c : tensor<4xf32> to tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// detach: no gradient flows through; the result is zeros.
// CHECK-LABEL: func.func @detach
// CHECK:         %[[Z:.*]] = trueno.constant dense<0.000000e+00> : tensor<f32>
// CHECK:         %[[E:.*]] = trueno.expand %[[Z]] : tensor<f32> to tensor<4xf32>
// CHECK:         return %[[E]]
func.func @detach(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %d0 = trueno.detach %x : tensor<4xf32>
  %y = trueno.exp %d0 : tensor<4xf32>
  %d = trueno.gradient %y, %g wrt %x : tensor<4xf32>, tensor<4xf32>
  return %d : tensor<4xf32>
}

// -----

// A second derivative: the inner gradient is expanded first, then
// differentiated like any ops. d2/dx2 x^3 = 6x.
// CHECK-LABEL: func.func @second
// CHECK-NOT:     trueno.gradient
func.func @second(%x: tensor<f32>, %one: tensor<f32>) -> tensor<f32> {
  %x2 = trueno.mul %x, %x : tensor<f32>
  %x3 = trueno.mul %x2, %x : tensor<f32>
  %d1 = trueno.gradient %x3, %one wrt %x : tensor<f32>, tensor<f32>
  %d2 = trueno.gradient %d1, %one wrt %x : tensor<f32>, tensor<f32>
  return %d2 : tensor<f32>
}
