//===- TruenoOps.td - The trueno dialect's operations ------*- tablegen -*-===//
//
// One op per elementwise function, so that each carries its own folder and,
// with autograd/, its own gradient rule. Classes below give every
// family one operand/result contract and one textual form.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_OPS_TD
#define TRUENO_OPS_TD

include "trueno/IR/TruenoDialect.td"
include "trueno/IR/TruenoInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Trueno_Op<string mnemonic, list<Trait> traits = []>
    : Op<Trueno_Dialect, mnemonic, !listconcat([Pure], traits)>;

//===----------------------------------------------------------------------===//
// Elementwise families
//===----------------------------------------------------------------------===//

/// y = f(x), same type in and out.
class Trueno_UnaryOp<string mnemonic, TypeConstraint tensor, string math,
                     list<Trait> traits = []>
    : Trueno_Op<mnemonic,
                !listconcat([SameOperandsAndResultType, Elementwise], traits)> {
  let summary = "elementwise " # math;
  let description = "Computes `" # math # "` for every element of the "
    # "input.\n\nExample:\n\n```mlir\n%y = trueno." # mnemonic
    # " %x : tensor<2x3xf32>\n```";
  let arguments = (ins tensor:$input);
  let results = (outs tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

/// y = f(a, b), one type for both operands and the result.
class Trueno_BinaryOp<string mnemonic, TypeConstraint tensor, string math,
                      list<Trait> traits = []>
    : Trueno_Op<mnemonic,
                !listconcat([SameOperandsAndResultType, Elementwise], traits)> {
  let summary = "elementwise " # math;
  let description = "Computes `" # math # "` for every pair of elements. "
    # "Both operands have the result's type: broadcast with `trueno.expand` "
    # "and promote with `trueno.cast` first.\n\nExample:\n\n```mlir\n"
    # "%c = trueno." # mnemonic # " %a, %b : tensor<4xf32>\n```";
  let arguments = (ins tensor:$lhs, tensor:$rhs);
  let results = (outs tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

/// A predicate of one operand, giving a bool tensor of the same shape.
class Trueno_UnaryPredicateOp<string mnemonic, TypeConstraint tensor,
                              string math>
    : Trueno_Op<mnemonic, [Elementwise,
                           AllShapesMatch<["input", "result"]>]> {
  let summary = "elementwise " # math;
  let description = "True where `" # math # "` holds.\n\nExample:\n\n"
    # "```mlir\n%m = trueno." # mnemonic
    # " %x : tensor<4xf32> -> tensor<4xi1>\n```";
  let arguments = (ins tensor:$input);
  let results = (outs Trueno_BoolTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

/// A comparison of two operands of one type, giving a bool tensor.
class Trueno_CompareOp<string mnemonic, string math>
    : Trueno_Op<mnemonic, [Elementwise, AllTypesMatch<["lhs", "rhs"]>,
                           AllShapesMatch<["lhs", "result"]>]> {
  let summary = "elementwise comparison " # math;
  let description = "True where `" # math # "`. NaN compares unequal to "
    # "everything, itself included, as in IEEE 754.\n\nExample:\n\n"
    # "```mlir\n%m = trueno." # mnemonic
    # " %a, %b : tensor<4xf32> -> tensor<4xi1>\n```";
  let arguments = (ins Trueno_AnyTensor:$lhs, Trueno_AnyTensor:$rhs);
  let results = (outs Trueno_BoolTensor:$result);
  let assemblyFormat =
    "$lhs `,` $rhs attr-dict `:` type($lhs) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Unary math
//===----------------------------------------------------------------------===//

def Trueno_NegOp : Trueno_UnaryOp<"neg", Trueno_NumericTensor, "-x"> {
  let hasFolder = 1;
}
def Trueno_AbsOp : Trueno_UnaryOp<"abs", Trueno_NumericTensor, "|x|"> {
  let hasFolder = 1;
}
def Trueno_SignOp : Trueno_UnaryOp<"sign", Trueno_NumericTensor,
                                   "sign(x) (-1, 0 or 1; NaN stays NaN as in NumPy, where PyTorch 1.13 gives 0)">;
def Trueno_ExpOp : Trueno_UnaryOp<"exp", Trueno_FloatTensor, "e^x"> {
  let hasFolder = 1;
}
def Trueno_Exp2Op : Trueno_UnaryOp<"exp2", Trueno_FloatTensor, "2^x">;
def Trueno_Expm1Op : Trueno_UnaryOp<"expm1", Trueno_FloatTensor, "e^x - 1">;
def Trueno_LogOp : Trueno_UnaryOp<"log", Trueno_FloatTensor, "ln(x)"> {
  let hasFolder = 1;
}
def Trueno_Log2Op : Trueno_UnaryOp<"log2", Trueno_FloatTensor, "log2(x)">;
def Trueno_Log1pOp : Trueno_UnaryOp<"log1p", Trueno_FloatTensor, "ln(1 + x)">;
def Trueno_SqrtOp : Trueno_UnaryOp<"sqrt", Trueno_FloatTensor, "sqrt(x)">;
def Trueno_RsqrtOp : Trueno_UnaryOp<"rsqrt", Trueno_FloatTensor,
                                    "1 / sqrt(x)">;
def Trueno_SinOp : Trueno_UnaryOp<"sin", Trueno_FloatTensor, "sin(x)">;
def Trueno_CosOp : Trueno_UnaryOp<"cos", Trueno_FloatTensor, "cos(x)">;
def Trueno_TanOp : Trueno_UnaryOp<"tan", Trueno_FloatTensor, "tan(x)">;
def Trueno_TanhOp : Trueno_UnaryOp<"tanh", Trueno_FloatTensor, "tanh(x)">;
def Trueno_SigmoidOp : Trueno_UnaryOp<"sigmoid", Trueno_FloatTensor,
                                      "1 / (1 + e^-x)">;
def Trueno_ReluOp : Trueno_UnaryOp<"relu", Trueno_NumericTensor,
                                   "max(x, 0)"> {
  let hasFolder = 1;
}
def Trueno_SiluOp : Trueno_UnaryOp<"silu", Trueno_FloatTensor,
                                   "x * sigmoid(x)">;
def Trueno_SoftplusOp : Trueno_UnaryOp<"softplus", Trueno_FloatTensor,
                                       "ln(1 + e^x)">;
def Trueno_FloorOp : Trueno_UnaryOp<"floor", Trueno_FloatTensor, "floor(x)"> {
  let hasFolder = 1;
}
def Trueno_CeilOp : Trueno_UnaryOp<"ceil", Trueno_FloatTensor, "ceil(x)"> {
  let hasFolder = 1;
}
def Trueno_RoundOp : Trueno_UnaryOp<"round", Trueno_FloatTensor,
                                    "x rounded half to even (as NumPy)"> {
  let hasFolder = 1;
}
def Trueno_ErfOp : Trueno_UnaryOp<"erf", Trueno_FloatTensor, "erf(x)">;

def Trueno_GeluOp : Trueno_Op<"gelu", [SameOperandsAndResultType,
                                       Elementwise]> {
  let summary = "elementwise GELU";
  let description = [{
    `x * Phi(x)` with `Phi` the standard normal CDF, computed with `erf`; with
    the `tanh` flag, PyTorch's `approximate="tanh"` form
    `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.

    Example:

    ```mlir
    %y = trueno.gelu %x : tensor<4xf32>
    %z = trueno.gelu %x tanh : tensor<4xf32>
    ```
  }];
  let arguments = (ins Trueno_FloatTensor:$input, UnitAttr:$tanh);
  let results = (outs Trueno_FloatTensor:$result);
  let assemblyFormat = "$input (`tanh` $tanh^)? attr-dict `:` type($result)";
}

def Trueno_IsNanOp : Trueno_UnaryPredicateOp<"isnan", Trueno_FloatTensor,
                                             "x is NaN">;
def Trueno_IsInfOp : Trueno_UnaryPredicateOp<"isinf", Trueno_FloatTensor,
                                             "x is +inf or -inf">;
def Trueno_LogicalNotOp : Trueno_UnaryPredicateOp<"logical_not",
                                                  Trueno_AnyTensor,
                                                  "x == 0"> {
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Binary math
//===----------------------------------------------------------------------===//

def Trueno_AddOp : Trueno_BinaryOp<"add", Trueno_NumericTensor, "a + b",
                                   [Commutative]> {
  let hasFolder = 1;
}
def Trueno_SubOp : Trueno_BinaryOp<"sub", Trueno_NumericTensor, "a - b"> {
  let hasFolder = 1;
}
def Trueno_MulOp : Trueno_BinaryOp<"mul", Trueno_NumericTensor, "a * b",
                                   [Commutative]> {
  let hasFolder = 1;
}
def Trueno_DivOp : Trueno_BinaryOp<"div", Trueno_FloatTensor,
                                   "a / b (true division)"> {
  let hasFolder = 1;
}
def Trueno_FloorDivOp : Trueno_BinaryOp<"floordiv", Trueno_NumericTensor,
    "floor(a / b) (Python's //; integer division by zero gives 0)">;
def Trueno_RemainderOp : Trueno_BinaryOp<"remainder", Trueno_NumericTensor,
    "a - floor(a / b) * b (Python's %: the sign of b)">;
def Trueno_PowOp : Trueno_BinaryOp<"pow", Trueno_NumericTensor, "a ^ b">;
def Trueno_MaximumOp : Trueno_BinaryOp<"maximum", Trueno_NumericTensor,
    "max(a, b) (NaN if either is NaN)", [Commutative]> {
  let hasFolder = 1;
}
def Trueno_MinimumOp : Trueno_BinaryOp<"minimum", Trueno_NumericTensor,
    "min(a, b) (NaN if either is NaN)", [Commutative]> {
  let hasFolder = 1;
}
def Trueno_Atan2Op : Trueno_BinaryOp<"atan2", Trueno_FloatTensor,
                                     "atan2(a, b)">;
def Trueno_BitwiseAndOp : Trueno_BinaryOp<"bitwise_and", Trueno_IntegerTensor,
                                          "a & b", [Commutative]>;
def Trueno_BitwiseOrOp : Trueno_BinaryOp<"bitwise_or", Trueno_IntegerTensor,
                                         "a | b", [Commutative]>;
def Trueno_BitwiseXorOp : Trueno_BinaryOp<"bitwise_xor", Trueno_IntegerTensor,
                                          "a ^ b", [Commutative]>;
def Trueno_LogicalAndOp : Trueno_BinaryOp<"logical_and", Trueno_BoolTensor,
                                          "a && b", [Commutative]>;
def Trueno_LogicalOrOp : Trueno_BinaryOp<"logical_or", Trueno_BoolTensor,
                                         "a || b", [Commutative]>;
def Trueno_LogicalXorOp : Trueno_BinaryOp<"logical_xor", Trueno_BoolTensor,
                                          "a != b", [Commutative]>;

def Trueno_EqOp : Trueno_CompareOp<"eq", "a == b">;
def Trueno_NeOp : Trueno_CompareOp<"ne", "a != b">;
def Trueno_LtOp : Trueno_CompareOp<"lt", "a < b">;
def Trueno_LeOp : Trueno_CompareOp<"le", "a <= b">;
def Trueno_GtOp : Trueno_CompareOp<"gt", "a > b">;
def Trueno_GeOp : Trueno_CompareOp<"ge", "a >= b">;

//===----------------------------------------------------------------------===//
// Ternary
//===----------------------------------------------------------------------===//

def Trueno_WhereOp : Trueno_Op<"where", [Elementwise,
    AllTypesMatch<["lhs", "rhs", "result"]>,
    AllShapesMatch<["condition", "lhs"]>]> {
  let summary = "elementwise select";
  let description = [{
    `condition ? lhs : rhs` for every element (NumPy's `where`).

    Example:

    ```mlir
    %r = trueno.where %mask, %a, %b : tensor<4xi1>, tensor<4xf32>
    ```
  }];
  let arguments = (ins Trueno_BoolTensor:$condition, Trueno_AnyTensor:$lhs,
                   Trueno_AnyTensor:$rhs);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "$condition `,` $lhs `,` $rhs attr-dict `:` "
                       "type($condition) `,` type($result)";
  let hasFolder = 1;
}

def Trueno_ClampOp : Trueno_Op<"clamp", [SameOperandsAndResultType,
                                         Elementwise]> {
  let summary = "elementwise clamp";
  let description = [{
    `min(max(x, low), high)` for every element, as `torch.clamp`: where
    `low > high` the result is `high`. Scalar bounds are rank-0 constants
    expanded to the input's shape.

    Example:

    ```mlir
    %y = trueno.clamp %x, %low, %high : tensor<4xf32>
    ```
  }];
  let arguments = (ins Trueno_NumericTensor:$input,
                   Trueno_NumericTensor:$low, Trueno_NumericTensor:$high);
  let results = (outs Trueno_NumericTensor:$result);
  let assemblyFormat = "$input `,` $low `,` $high attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// Reduces `input` over `dims` (strictly increasing). The result keeps the
/// reduced dimensions as size 1 (keepdim) or drops them; its rank says which.
class Trueno_ReduceOp<string mnemonic, TypeConstraint tensor, string math,
                      string identity>
    : Trueno_Op<mnemonic, [AllElementTypesMatch<["input", "result"]>]> {
  let summary = "reduction: " # math # " over dimensions";
  let description = "The " # math # " of the elements along `dims`; an "
    # "empty reduction gives " # identity # ". The result has the input's "
    # "shape with the reduced dimensions either kept as size 1 or removed."
    # "\n\nExample:\n\n```mlir\n%s = trueno." # mnemonic
    # " %x dims = [1] : tensor<4x8xf32> -> tensor<4xf32>\n```";
  let arguments = (ins tensor:$input, DenseI64ArrayAttr:$dims);
  let results = (outs tensor:$result);
  let assemblyFormat =
    "$input `dims` `=` $dims attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Trueno_ReduceSumOp : Trueno_ReduceOp<"reduce_sum", Trueno_NumericTensor,
                                         "sum", "0">;
def Trueno_ReduceProdOp : Trueno_ReduceOp<"reduce_prod", Trueno_NumericTensor,
                                          "product", "1">;
def Trueno_ReduceMaxOp : Trueno_ReduceOp<"reduce_max", Trueno_AnyTensor,
    "maximum (NaN propagates; on bool, any)", "the type's lowest value">;
def Trueno_ReduceMinOp : Trueno_ReduceOp<"reduce_min", Trueno_AnyTensor,
    "minimum (NaN propagates; on bool, all)", "the type's highest value">;

/// The position of the largest (smallest) element along one dimension.
class Trueno_ArgReduceOp<string mnemonic, string which>
    : Trueno_Op<mnemonic> {
  let summary = "index of the " # which # " element along a dimension";
  let description = "The index along `dim` of the " # which # " element; the "
    # "first one on ties, and the first NaN if there is one (as torch.arg"
    # !if(!eq(which, "largest"), "max", "min") # "). The result is i64, with "
    # "`dim` kept as size 1 or removed (its rank says which)."
    # "\n\nExample:\n\n```mlir\n%i = trueno." # mnemonic
    # " %x dim = 1 : tensor<4x8xf32> -> tensor<4xi64>\n```";
  let arguments = (ins Trueno_AnyTensor:$input, I64Attr:$dim);
  let results = (outs I64Tensor:$result);
  let assemblyFormat =
    "$input `dim` `=` $dim attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Trueno_ArgMaxOp : Trueno_ArgReduceOp<"argmax", "largest">;
def Trueno_ArgMinOp : Trueno_ArgReduceOp<"argmin", "smallest">;

//===----------------------------------------------------------------------===//
// Indexing
//===----------------------------------------------------------------------===//

def Trueno_GatherOp : Trueno_Op<"gather", [
    AllElementTypesMatch<["input", "result"]>,
    AllShapesMatch<["index", "result"]>]> {
  let summary = "elements picked along one dimension by an index tensor";
  let description = [{
    `result[i_0, ..., i_n] = input[i_0, ..., index[i_0, ..., i_n], ..., i_n]`
    with the index taking the place of coordinate `dim`, as torch.gather.
    `index` has the result's shape and the input's rank; every other
    dimension of the result is at most the input's. Indices must lie in
    `[0, input.shape[dim])`: the frontend checks them (and wraps negative
    ones) when the op is recorded, so the kernel reads without a check.
    index_select, take_along_dim and NumPy's integer-array indexing all
    become this op, and elementwise consumers fuse into its kernel.

    Example:

    ```mlir
    %rows = trueno.gather %table, %ids dim = 0
              : tensor<1000x64xf32>, tensor<32x64xi64> -> tensor<32x64xf32>
    ```
  }];
  let arguments = (ins Trueno_AnyTensor:$input, I64Tensor:$index,
                       I64Attr:$dim);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "$input `,` $index `dim` `=` $dim attr-dict `:` "
                       "type($input) `,` type($index) `->` type($result)";
  let hasVerifier = 1;
}

/// A rank-0 i32 tensor, written without its type in the ops' syntax.
def Trueno_I32Scalar : 0DTensorOf<[I32]>, BuildableType<
    "::mlir::RankedTensorType::get({}, $_builder.getIntegerType(32))">;

def Trueno_RandomUniformOp : Trueno_Op<"random_uniform"> {
  let summary = "uniform random values in [0, 1) from a Philox4x32-10 stream";
  let description = [{
    Element `i` of the result (row-major order) is the uniform value in
    `[0, 1)` that the frontend's `rand` computes on the host from 32-bit
    words `i * w` to `i * w + w - 1` of the Philox4x32-10 stream with key
    `(key0, key1)` that starts at block `counter0 + 2^32 * counter1` (each
    block is four words); `w` is 2 for f64 and 1 otherwise. The recipe is
    docs/RANDOM.md's: `(w >> 8) * 2^-24` for f32, `(w >> 21) * 2^-11` for
    f16, `(w >> 24) * 2^-8` for bf16, 53 bits of two words for f64, each
    exact in its type, so the kernel gives the host's bits on every
    backend. The operands are 32-bit halves (unsigned meaning, signless
    type) so that a device without 64-bit integers runs it too; the op is
    a pure function of them, and dropout's mask is computed in its kernel
    instead of being drawn on the host and copied in.

    Example:

    ```mlir
    %u = trueno.random_uniform %k0, %k1, %c0, %c1 : tensor<64x128xf32>
    ```
  }];
  let arguments = (ins Trueno_I32Scalar:$key0, Trueno_I32Scalar:$key1,
                       Trueno_I32Scalar:$counter0, Trueno_I32Scalar:$counter1);
  let results = (outs Trueno_FloatTensor:$result);
  let assemblyFormat = "$key0 `,` $key1 `,` $counter0 `,` $counter1 "
                       "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

def Trueno_MatmulOp : Trueno_Op<"matmul", [
    AllElementTypesMatch<["lhs", "rhs", "result"]>]> {
  let summary = "matrix product, batched over leading dimensions";
  let description = [{
    `result[..., i, j] = sum_k lhs[..., i, k] * rhs[..., k, j]`. Both
    operands have the same rank (at least 2) and the same leading (batch)
    dimensions; the frontend broadcasts batches with `trueno.expand` and
    turns vectors into matrices. Floats accumulate in their own type, as
    BLAS does; integers wrap.

    Example:

    ```mlir
    %c = trueno.matmul %a, %b : tensor<8x4x16xf32>, tensor<8x16x32xf32>
           -> tensor<8x4x32xf32>
    ```
  }];
  let arguments = (ins Trueno_NumericTensor:$lhs, Trueno_NumericTensor:$rhs);
  let results = (outs Trueno_NumericTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) "
                       "`->` type($result)";
  let hasVerifier = 1;
}

def Trueno_Conv2dOp : Trueno_Op<"conv2d", [
    AllElementTypesMatch<["input", "filter", "result"]>]> {
  let summary = "2-D convolution (cross-correlation), NCHW";
  let description = [{
    `result[n, f, y, x] = sum_{c, i, j} input[n, g * C/G + c,
    y * stride[0] - padding[0] + i * dilation[0],
    x * stride[1] - padding[1] + j * dilation[1]] * filter[f, c, i, j]`
    with `g = f / (F/G)` for `groups = G`, reading zeros outside the input,
    as torch.nn.functional.conv2d without bias. Input `[N, C, H, W]`, filter
    `[F, C/G, KH, KW]`, result `[N, F, OH, OW]` with
    `OH = (H + 2 * padding[0] - dilation[0] * (KH - 1) - 1) / stride[0] + 1`.

    Example:

    ```mlir
    %y = trueno.conv2d %x, %w stride = [1, 1] padding = [1, 1]
           dilation = [1, 1] groups = 1
           : tensor<8x3x32x32xf32>, tensor<16x3x3x3xf32> -> tensor<8x16x32x32xf32>
    ```
  }];
  let arguments = (ins Trueno_FloatTensor:$input, Trueno_FloatTensor:$filter,
                   DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$padding,
                   DenseI64ArrayAttr:$dilation, I64Attr:$groups);
  let results = (outs Trueno_FloatTensor:$result);
  let assemblyFormat = "$input `,` $filter `stride` `=` $stride `padding` `=` "
    "$padding `dilation` `=` $dilation `groups` `=` $groups attr-dict `:` "
    "type($input) `,` type($filter) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Movement: data rearranged, never computed
//===----------------------------------------------------------------------===//

def Trueno_TransposeOp : Trueno_Op<"transpose", [
    AllElementTypesMatch<["input", "result"]>]> {
  let summary = "dimensions reordered (NumPy's transpose with axes)";
  let description = [{
    `result[i_0, ..., i_n] = input[j]` with `j[permutation[d]] = i_d`: result
    dimension `d` is input dimension `permutation[d]`, as `numpy.transpose(x,
    axes=permutation)` and `torch.permute`. Fusion reads the input through a
    permuted indexing map; nothing is copied.

    Example:

    ```mlir
    %t = trueno.transpose %x permutation = [1, 0]
           : tensor<3x4xf32> -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Trueno_AnyTensor:$input,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "$input `permutation` `=` $permutation attr-dict `:` "
                       "type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Trueno_ReshapeOp : Trueno_Op<"reshape", [
    AllElementTypesMatch<["input", "result"]>]> {
  let summary = "the same elements in row-major order, in another shape";
  let description = [{
    The elements of `input` in row-major (C) order, laid out in the result's
    shape, as `numpy.reshape` of a contiguous array. The element counts must
    be equal. A reshape that splits or merges dimensions lowers to
    `tensor.expand_shape` / `tensor.collapse_shape`, which fusion propagates
    through elementwise ops; any other goes through one dimension.

    Example:

    ```mlir
    %r = trueno.reshape %x : tensor<3x4xf32> -> tensor<2x6xf32>
    ```
  }];
  let arguments = (ins Trueno_AnyTensor:$input);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Trueno_SliceOp : Trueno_Op<"slice", [
    AllElementTypesMatch<["input", "result"]>]> {
  let summary = "a strided window (NumPy's basic slicing)";
  let description = [{
    `result[i_0, ..., i_n] = input[offsets[0] + i_0 * steps[0], ...,
    offsets[n] + i_n * steps[n]]`; the sizes are the result's shape. Steps
    are nonzero and may be negative (`x[::-1]` is offset `size - 1`, step
    `-1`); every position read lies inside the input. Fusion reads the input
    through an affine indexing map: only the elements the slice keeps are
    computed.

    Example:

    ```mlir
    %s = trueno.slice %x offsets = [1, 3] steps = [2, -1]
           : tensor<10x4xf32> -> tensor<4x4xf32>
    ```
  }];
  let arguments = (ins Trueno_AnyTensor:$input, DenseI64ArrayAttr:$offsets,
                       DenseI64ArrayAttr:$steps);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "$input `offsets` `=` $offsets `steps` `=` $steps "
                       "attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Trueno_InsertSliceOp : Trueno_Op<"insert_slice", [
    AllTypesMatch<["dest", "result"]>,
    AllElementTypesMatch<["source", "dest"]>]> {
  let summary = "a tensor with a strided window replaced";
  let description = [{
    `dest` with the positions a `trueno.slice` of the same offsets and steps
    would read (the source's shape) replaced by `source`; the inverse of
    `trueno.slice`. A write through a view of a tensor (`x[1:3] = y`,
    `x.T().copy_(y)`) is recorded as one, and the slice's gradient is one
    into zeros. Lowers to `tensor.insert_slice`, in place on `dest` when
    bufferization can.

    Example:

    ```mlir
    %r = trueno.insert_slice %y into %x offsets = [0, 1] steps = [1, 2]
           : tensor<4x2xf32> into tensor<4x5xf32>
    ```
  }];
  let arguments = (ins Trueno_AnyTensor:$source, Trueno_AnyTensor:$dest,
                       DenseI64ArrayAttr:$offsets, DenseI64ArrayAttr:$steps);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "$source `into` $dest `offsets` `=` $offsets `steps` "
                       "`=` $steps attr-dict `:` type($source) `into` "
                       "type($dest)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Trueno_PadOp : Trueno_Op<"pad", [
    AllElementTypesMatch<["input", "value", "result"]>]> {
  let summary = "edge and interior padding with a value";
  let description = [{
    Along each dimension, `low[d]` copies of `value` before the input,
    `interior[d]` between neighbouring input elements and `high[d]` after,
    as XLA's `pad`: the result has size `low + high + n + (n - 1) *
    interior` (`low + high` when `n` is 0). All amounts are `>= 0` (a
    negative pad is a `trueno.slice` first). `value` is a rank-0 tensor, so
    that the pad value is data, not part of the program. Interior padding
    is what the input gradient of a strided convolution and a transposed
    convolution need (the input dilated by the stride).

    Example:

    ```mlir
    %p = trueno.pad %x, %zero low = [1] high = [2] interior = [1]
           : tensor<3xf32>, tensor<f32> -> tensor<8xf32>
    ```
  }];
  let arguments = (ins Trueno_AnyTensor:$input, Trueno_AnyTensor:$value,
                       DenseI64ArrayAttr:$low, DenseI64ArrayAttr:$high,
                       DenseI64ArrayAttr:$interior);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "$input `,` $value `low` `=` $low `high` `=` $high "
                       "`interior` `=` $interior attr-dict `:` type($input) "
                       "`,` type($value) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Trueno_ConcatOp : Trueno_Op<"concat"> {
  let summary = "tensors joined along one dimension";
  let description = [{
    The inputs one after another along `dim`, as `torch.cat`: all have the
    result's rank and element type and the same sizes in every other
    dimension. Each input is written into its window of the result (its
    producers fused and writing there directly when bufferization can).

    Example:

    ```mlir
    %c = trueno.concat %a, %b dim = 0
           : tensor<2x3xf32>, tensor<4x3xf32> -> tensor<6x3xf32>
    ```
  }];
  let arguments = (ins Variadic<Trueno_AnyTensor>:$inputs, I64Attr:$dim);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "$inputs `dim` `=` $dim attr-dict `:` type($inputs) "
                       "`->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Trueno_ScatterOp : Trueno_Op<"scatter", [
    AllTypesMatch<["input", "result"]>,
    AllElementTypesMatch<["input", "source"]>,
    AllShapesMatch<["index", "source"]>]> {
  let summary = "values written into a tensor at positions along a dimension";
  let description = [{
    `input` with, for every position `i` of `source`, `source[i]` written
    at `i` with coordinate `dim` replaced by `index[i]`, as `torch.scatter`
    (and NumPy's `x[idx] = v`): where positions repeat, the last source
    element in row-major order wins. The same contract as
    `trueno.scatter_add` otherwise. Writes through integer-array indices
    (`indexPut_`, `scatter_`) are recorded as one into the written
    storage's value.

    Example:

    ```mlir
    %r = trueno.scatter %x, %ids, %y dim = 0
           : tensor<5x3xf32>, tensor<4x3xi64>, tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Trueno_AnyTensor:$input, I64Tensor:$index,
                       Trueno_AnyTensor:$source, I64Attr:$dim);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "$input `,` $index `,` $source `dim` `=` $dim "
                       "attr-dict `:` type($input) `,` type($index) `,` "
                       "type($source)";
  let hasVerifier = 1;
}

def Trueno_ScatterAddOp : Trueno_Op<"scatter_add", [
    AllTypesMatch<["input", "result"]>,
    AllElementTypesMatch<["input", "source"]>,
    AllShapesMatch<["index", "source"]>]> {
  let summary = "values added into a tensor at positions along a dimension";
  let description = [{
    `input` with, for every position `i` of `source`, `source[i]` added at
    `i` with coordinate `dim` replaced by `index[i]`, as
    `torch.scatter_add`: repeated positions add up, in row-major order of
    `source` (so float results are deterministic). `index` is i64 with the
    source's shape; in every other dimension the source is no larger than
    the input. Indices must lie in `[0, input.shape[dim])`: the frontend
    checks them when the op is recorded. The gradient of `trueno.gather`.

    Example:

    ```mlir
    %r = trueno.scatter_add %x, %ids, %y dim = 0
           : tensor<5x3xf32>, tensor<4x3xi64>, tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Trueno_NumericTensor:$input, I64Tensor:$index,
                       Trueno_NumericTensor:$source, I64Attr:$dim);
  let results = (outs Trueno_NumericTensor:$result);
  let assemblyFormat = "$input `,` $index `,` $source `dim` `=` $dim "
                       "attr-dict `:` type($input) `,` type($index) `,` "
                       "type($source)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Casts, broadcasts and constants
//===----------------------------------------------------------------------===//

def Trueno_CastOp : Trueno_Op<"cast", [Elementwise]> {
  let summary = "elementwise dtype conversion";
  let description = [{
    Converts every element with NumPy's rules (docs/DTYPES.md): integers wrap,
    floats truncate toward zero into integers, anything becomes bool as
    `x != 0`, narrower floats round to nearest even. Shapes must match (the
    `Elementwise` trait checks it).

    Example:

    ```mlir
    %y = trueno.cast %x : tensor<4xf32> to tensor<4xi8>
    ```
  }];
  let arguments = (ins Trueno_AnyTensor:$input);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasFolder = 1;
}

def Trueno_ExpandOp : Trueno_Op<"expand"> {
  let summary = "NumPy broadcast to a larger shape";
  let description = [{
    Repeats size-1 dimensions and prepends new leading ones, as
    `numpy.broadcast_to`. The input's dimensions are aligned with the
    result's trailing ones and each must be 1 or equal. Fusion reads an
    expanded operand through a zero stride: it is never materialized.

    Example:

    ```mlir
    %y = trueno.expand %x : tensor<3x1xf32> to tensor<2x3x4xf32>
    ```
  }];
  let arguments = (ins Trueno_AnyTensor:$input);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Trueno_ConstantOp : Trueno_Op<"constant", [ConstantLike,
    AllTypesMatch<["value", "result"]>]> {
  let summary = "a constant tensor";
  let description = [{
    A tensor known when the graph is recorded: small literals and scalars
    (as rank-0 tensors, broadcast with `trueno.expand`). Large data enters
    kernels as arguments, not constants.

    Example:

    ```mlir
    %c = trueno.constant dense<[1.0, 2.0]> : tensor<2xf32>
    %s = trueno.constant dense<0.5> : tensor<f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Differentiation
//===----------------------------------------------------------------------===//

def Trueno_GradientOp : Trueno_Op<"gradient", [
    AllTypesMatch<["output", "seed"]>, AllTypesMatch<["wrt", "result"]>]> {
  let summary = "the gradient of a value with respect to an earlier value";
  let description = [{
    The gradient of `sum(output * seed)` with respect to `wrt`, a value that
    `output` is computed from in the same function (or any value: the
    gradient is then zero). `seed` is the gradient flowing into `output`
    (ones for a scalar loss). The result has `wrt`'s type.

    This op is how a gradient request enters the IR: the frontend records
    one per tensor it wants the gradient of, and autograd/'s
    `trueno-reverse-mode` pass replaces every `trueno.gradient` of a
    function by trueno ops, one reverse sweep per (output, seed) pair,
    using each op's `GradientOpInterface` rule. The forward and backward
    ops then fuse like any others. A gradient of a function holding
    `trueno.gradient` ops (a second derivative) differentiates their
    expansion: the pass expands them in order.

    Example:

    ```mlir
    %gw = trueno.gradient %loss, %one wrt %w
            : tensor<f32>, tensor<3x4xf32>
    ```
  }];
  let arguments = (ins Trueno_FloatTensor:$output, Trueno_FloatTensor:$seed,
                       Trueno_FloatTensor:$wrt);
  let results = (outs Trueno_FloatTensor:$result);
  let assemblyFormat = "$output `,` $seed `wrt` $wrt attr-dict `:` "
                       "type($output) `,` type($wrt)";
}

def Trueno_StoredOp : Trueno_Op<"stored", [SameOperandsAndResultType]> {
  let summary = "a value computed earlier, with the definition to differentiate";
  let description = [{
    A value realized before a gradient asked for it: `$value` holds it (a
    program input), `$definition` is the op that computed it, recorded again
    so that `trueno-reverse-mode` can apply its gradient rule. The result is
    `$value`. After the gradients are expanded, the pass replaces the op
    and every use of `$definition` (the rules read it too) by `$value`, so
    the definition is not recomputed unless something else still needs it.

    Example:

    ```mlir
    %y = trueno.exp %x : tensor<4xf32>
    %s = trueno.stored %y, %saved : tensor<4xf32>
    ```
  }];
  let arguments = (ins Trueno_AnyTensor:$definition, Trueno_AnyTensor:$value);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "$definition `,` $value attr-dict `:` type($result)";
}

def Trueno_DetachOp : Trueno_Op<"detach", [SameOperandsAndResultType]> {
  let summary = "the same value, with no gradient flowing through";
  let description = [{
    `detach()` in the IR: the input's value, behind which
    `trueno-reverse-mode` propagates no gradient. It folds away to its
    input once the gradients are expanded (canonicalization runs after
    reverse mode in the graph pipeline).

    Example:

    ```mlir
    %d = trueno.detach %x : tensor<4xf32>
    ```
  }];
  let arguments = (ins Trueno_AnyTensor:$input);
  let results = (outs Trueno_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasFolder = 1;
}

#endif // TRUENO_OPS_TD
