//===- GradientRules.cpp - The gradient rule of every trueno op -----------===//
//
// One table of rules, in the manner of tinygrad's gradient.py: for an op
// `y = f(x...)` and the gradient `g` flowing into `y`, each rule emits the
// gradients flowing into the operands, as trueno ops, with PyTorch's
// conventions where a derivative is not unique (relu at 0, ties of
// maximum/minimum and of amax/amin, clamp at its bounds, prod with zeros).
// A rule returns a null Value for an operand without a gradient (integer
// and bool operands, indices, conditions).
//
// A rule builds at most one op per call argument list: the order in which a
// call's arguments are evaluated is unspecified (GCC and Clang differ), and
// the emitted IR, which lit tests pin, must be the same from every compiler.
//
// The rules are attached to the ops as external models of
// GradientOpInterface (ir/include/trueno/IR/TruenoInterfaces.td), so that
// the dialect itself does not depend on autograd/. Ops not listed here
// (comparisons, bitwise and logical ops, argmax/argmin, floor division's
// integer forms) have no gradient: the reverse-mode pass reports them when
// one is on a differentiated path.
//
//===----------------------------------------------------------------------===//
#include "trueno/Autograd/Autograd.h"
#include "trueno/IR/TruenoOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <numbers>

using namespace mlir;
using namespace mlir::trueno;

namespace {

using Grads = SmallVector<Value>;

//===----------------------------------------------------------------------===//
// Emit: short names for the trueno ops the rules build
//===----------------------------------------------------------------------===//

class Emit {
public:
  Emit(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  static RankedTensorType typeOf(Value v) {
    return llvm::cast<RankedTensorType>(v.getType());
  }
  static bool isFloat(Value v) {
    return isa<FloatType>(typeOf(v).getElementType());
  }

  /// `v` (a number) as a tensor of `like`'s type: a rank-0 constant,
  /// expanded.
  Value scalar(double v, Value like) {
    RankedTensorType type = typeOf(like);
    Value c = constant(v, type.getElementType());
    return type.getRank() == 0 ? c : expand(c, type);
  }
  Value zerosLike(Value like) { return scalar(0.0, like); }
  /// A rank-0 constant of `elementType`.
  Value constant(double v, Type elementType) {
    auto type = RankedTensorType::get({}, elementType);
    return b.create<ConstantOp>(
        loc, type,
        DenseElementsAttr::get(
            type, ArrayRef<Attribute>{b.getFloatAttr(elementType, v)}));
  }

  template <typename OpT> Value same(Value a) {
    return b.create<OpT>(loc, a.getType(), a);
  }
  template <typename OpT> Value same(Value a, Value c) {
    return b.create<OpT>(loc, a.getType(), a, c);
  }
  Value add(Value a, Value c) { return same<AddOp>(a, c); }
  Value sub(Value a, Value c) { return same<SubOp>(a, c); }
  Value mul(Value a, Value c) { return same<MulOp>(a, c); }
  Value div(Value a, Value c) { return same<DivOp>(a, c); }
  Value neg(Value a) { return same<NegOp>(a); }
  Value mul(Value a, double c) { return mul(a, scalar(c, a)); }
  Value add(Value a, double c) { return add(a, scalar(c, a)); }
  Value square(Value a) { return mul(a, a); }

  /// A comparison or logical op: a bool tensor of `a`'s shape.
  template <typename OpT> Value test(Value a, Value c) {
    auto type = RankedTensorType::get(typeOf(a).getShape(), b.getI1Type());
    return b.create<OpT>(loc, type, a, c);
  }
  template <typename OpT> Value test(Value a, double c) {
    return test<OpT>(a, scalar(c, a));
  }
  Value where(Value condition, Value a, Value c) {
    return b.create<WhereOp>(loc, a.getType(), condition, a, c);
  }
  /// `g` where `condition` holds, else 0.
  Value gate(Value condition, Value g) {
    return where(condition, g, zerosLike(g));
  }
  Value cast(Value v, Type elementType) {
    auto type = RankedTensorType::get(typeOf(v).getShape(), elementType);
    return type == v.getType() ? v : b.create<CastOp>(loc, type, v);
  }
  Value expand(Value v, RankedTensorType type) {
    return v.getType() == type ? v : b.create<ExpandOp>(loc, type, v);
  }
  Value reshape(Value v, ArrayRef<int64_t> shape) {
    auto type = RankedTensorType::get(shape, typeOf(v).getElementType());
    return v.getType() == type ? v : b.create<ReshapeOp>(loc, type, v);
  }
  Value transpose(Value v, ArrayRef<int64_t> permutation) {
    RankedTensorType type = typeOf(v);
    SmallVector<int64_t> shape;
    for (int64_t p : permutation)
      shape.push_back(type.getDimSize(p));
    return b.create<TransposeOp>(
        loc, RankedTensorType::get(shape, type.getElementType()), v,
        b.getDenseI64ArrayAttr(permutation));
  }
  /// The sum over `dims` (increasing), the reduced dimensions removed.
  Value sum(Value v, ArrayRef<int64_t> dims) {
    if (dims.empty())
      return v;
    RankedTensorType type = typeOf(v);
    SmallVector<int64_t> shape;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (!llvm::is_contained(dims, d))
        shape.push_back(type.getDimSize(d));
    return b.create<ReduceSumOp>(
        loc, RankedTensorType::get(shape, type.getElementType()), v,
        b.getDenseI64ArrayAttr(dims));
  }
  Value sumAll(Value v) {
    auto dims = llvm::to_vector(llvm::seq<int64_t>(0, typeOf(v).getRank()));
    return sum(v, dims);
  }
  /// Undoes a broadcast: `v` summed down to `type` (NumPy's rules: leading
  /// dimensions and size-1 dimensions that were repeated).
  Value sumTo(Value v, RankedTensorType type) {
    RankedTensorType from = typeOf(v);
    int64_t lead = from.getRank() - type.getRank();
    SmallVector<int64_t> dims;
    for (int64_t d = 0; d < from.getRank(); ++d)
      if (d < lead ||
          (type.getDimSize(d - lead) == 1 && from.getDimSize(d) != 1))
        dims.push_back(d);
    return reshape(sum(v, dims), type.getShape());
  }
  /// A reduction's result gradient `g` (dims removed or kept as 1) as a
  /// tensor of the input's type: reshaped to keep the dims, then expanded.
  Value unreduce(Value g, ArrayRef<int64_t> dims, RankedTensorType input) {
    SmallVector<int64_t> kept(input.getShape());
    for (int64_t d : dims)
      kept[d] = 1;
    return expand(reshape(g, kept), input);
  }
  Value slice(Value v, ArrayRef<int64_t> offsets, ArrayRef<int64_t> steps,
              RankedTensorType type) {
    return b.create<SliceOp>(loc, type, v, b.getDenseI64ArrayAttr(offsets),
                             b.getDenseI64ArrayAttr(steps));
  }
  Value insertSlice(Value source, Value dest, ArrayRef<int64_t> offsets,
                    ArrayRef<int64_t> steps) {
    return b.create<InsertSliceOp>(loc, dest.getType(), source, dest,
                                   b.getDenseI64ArrayAttr(offsets),
                                   b.getDenseI64ArrayAttr(steps));
  }
  Value pad(Value v, ArrayRef<int64_t> low, ArrayRef<int64_t> high,
            ArrayRef<int64_t> interior) {
    RankedTensorType type = typeOf(v);
    SmallVector<int64_t> shape;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      int64_t n = type.getDimSize(d);
      shape.push_back(low[d] + high[d] + n +
                      std::max<int64_t>(n - 1, 0) * interior[d]);
    }
    Value zero = constant(0.0, type.getElementType());
    return b.create<PadOp>(
        loc, RankedTensorType::get(shape, type.getElementType()), v, zero,
        b.getDenseI64ArrayAttr(low), b.getDenseI64ArrayAttr(high),
        b.getDenseI64ArrayAttr(interior));
  }
  Value matmul(Value a, Value c) {
    RankedTensorType ta = typeOf(a), tc = typeOf(c);
    SmallVector<int64_t> shape(ta.getShape());
    shape.back() = tc.getShape().back();
    return b.create<MatmulOp>(
        loc, RankedTensorType::get(shape, ta.getElementType()), a, c);
  }
  /// The last two dimensions swapped.
  Value mT(Value v) {
    auto perm = llvm::to_vector(llvm::seq<int64_t>(0, typeOf(v).getRank()));
    std::swap(perm[perm.size() - 2], perm.back());
    return transpose(v, perm);
  }
  Value conv2d(Value input, Value filter, ArrayRef<int64_t> stride,
               ArrayRef<int64_t> padding, ArrayRef<int64_t> dilation,
               int64_t groups) {
    RankedTensorType ti = typeOf(input), tf = typeOf(filter);
    SmallVector<int64_t> shape{ti.getDimSize(0), tf.getDimSize(0)};
    for (int d = 0; d < 2; ++d)
      shape.push_back((ti.getDimSize(2 + d) + 2 * padding[d] -
                       dilation[d] * (tf.getDimSize(2 + d) - 1) - 1) /
                          stride[d] +
                      1);
    return b.create<Conv2dOp>(
        loc, RankedTensorType::get(shape, ti.getElementType()), input, filter,
        b.getDenseI64ArrayAttr(stride), b.getDenseI64ArrayAttr(padding),
        b.getDenseI64ArrayAttr(dilation), b.getI64IntegerAttr(groups));
  }
  Value gather(Value input, Value index, int64_t dim) {
    auto type = RankedTensorType::get(typeOf(index).getShape(),
                                      typeOf(input).getElementType());
    return b.create<GatherOp>(loc, type, input, index,
                              b.getI64IntegerAttr(dim));
  }
  Value scatterAdd(Value input, Value index, Value source, int64_t dim) {
    return b.create<ScatterAddOp>(loc, input.getType(), input, index, source,
                                  b.getI64IntegerAttr(dim));
  }
  Value scatter(Value input, Value index, Value source, int64_t dim) {
    return b.create<ScatterOp>(loc, input.getType(), input, index, source,
                               b.getI64IntegerAttr(dim));
  }

  OpBuilder &b;
  Location loc;
};

//===----------------------------------------------------------------------===//
// The rules
//===----------------------------------------------------------------------===//

constexpr double kLn2 = std::numbers::ln2;
constexpr double kTwoOverSqrtPi = std::numbers::inv_sqrtpi * 2;

// Unary math: x the input, y the result, g the result's gradient.
Grads rule(NegOp, Emit &e, Value, Value, Value g) { return {e.neg(g)}; }
Grads rule(AbsOp, Emit &e, Value x, Value, Value g) {
  return {e.mul(g, e.same<SignOp>(x))}; // 0 at 0, as PyTorch's sgn
}
Grads rule(SignOp, Emit &e, Value, Value, Value g) { return {e.zerosLike(g)}; }
Grads rule(FloorOp, Emit &e, Value, Value, Value g) { return {e.zerosLike(g)}; }
Grads rule(CeilOp, Emit &e, Value, Value, Value g) { return {e.zerosLike(g)}; }
Grads rule(RoundOp, Emit &e, Value, Value, Value g) { return {e.zerosLike(g)}; }
Grads rule(ExpOp, Emit &e, Value, Value y, Value g) { return {e.mul(g, y)}; }
Grads rule(Exp2Op, Emit &e, Value, Value y, Value g) {
  return {e.mul(e.mul(g, y), kLn2)};
}
Grads rule(Expm1Op, Emit &e, Value, Value y, Value g) {
  return {e.mul(g, e.add(y, 1.0))};
}
Grads rule(LogOp, Emit &e, Value x, Value, Value g) { return {e.div(g, x)}; }
Grads rule(Log2Op, Emit &e, Value x, Value, Value g) {
  return {e.div(g, e.mul(x, kLn2))};
}
Grads rule(Log1pOp, Emit &e, Value x, Value, Value g) {
  return {e.div(g, e.add(x, 1.0))};
}
Grads rule(SqrtOp, Emit &e, Value, Value y, Value g) {
  return {e.div(g, e.mul(y, 2.0))};
}
Grads rule(RsqrtOp, Emit &e, Value, Value y, Value g) {
  return {e.mul(e.mul(g, e.mul(e.square(y), y)), -0.5)};
}
Grads rule(SinOp, Emit &e, Value x, Value, Value g) {
  return {e.mul(g, e.same<CosOp>(x))};
}
Grads rule(CosOp, Emit &e, Value x, Value, Value g) {
  return {e.neg(e.mul(g, e.same<SinOp>(x)))};
}
Grads rule(TanOp, Emit &e, Value, Value y, Value g) {
  return {e.mul(g, e.add(e.square(y), 1.0))};
}
Grads rule(TanhOp, Emit &e, Value, Value y, Value g) {
  Value one = e.scalar(1.0, y);
  return {e.mul(g, e.sub(one, e.square(y)))};
}
Grads rule(SigmoidOp, Emit &e, Value, Value y, Value g) {
  return {e.mul(g, e.mul(y, e.sub(e.scalar(1.0, y), y)))};
}
Grads rule(ReluOp, Emit &e, Value, Value y, Value g) {
  return {e.gate(e.test<GtOp>(y, 0.0), g)}; // 0 at 0, as PyTorch
}
Grads rule(SiluOp, Emit &e, Value x, Value, Value g) {
  Value s = e.same<SigmoidOp>(x);
  Value one = e.scalar(1.0, x);
  return {e.mul(g, e.mul(s, e.add(one, e.mul(x, e.sub(one, s)))))};
}
Grads rule(SoftplusOp, Emit &e, Value x, Value, Value g) {
  // Above PyTorch's threshold of 20, softplus(x) is x.
  Value linear = e.test<GtOp>(x, 20.0);
  return {e.where(linear, g, e.mul(g, e.same<SigmoidOp>(x)))};
}
Grads rule(ErfOp, Emit &e, Value x, Value, Value g) {
  Value bell = e.same<ExpOp>(e.neg(e.square(x)));
  return {e.mul(e.mul(g, bell), kTwoOverSqrtPi)};
}
Grads rule(GeluOp op, Emit &e, Value x, Value, Value g) {
  if (op.getTanh()) {
    // PyTorch's GeluBackward with approximate="tanh".
    constexpr double kBeta = std::numbers::sqrt2 * kTwoOverSqrtPi * 0.5;
    constexpr double kKappa = 0.044715;
    Value x2 = e.square(x);
    Value inner = e.mul(e.add(x, e.mul(e.mul(x2, x), kKappa)), kBeta);
    Value t = e.same<TanhOp>(inner);
    Value one = e.scalar(1.0, x);
    Value left = e.mul(x, 0.5);
    Value leftDerivative = e.mul(e.add(t, 1.0), 0.5);
    Value innerDerivative = e.mul(e.add(e.mul(x2, 3 * kKappa), 1.0), kBeta);
    Value rightDerivative =
        e.mul(e.mul(left, e.sub(one, e.square(t))), innerDerivative);
    return {e.mul(g, e.add(leftDerivative, rightDerivative))};
  }
  // d/dx x Phi(x) = Phi(x) + x phi(x).
  Value cdf =
      e.mul(e.add(e.same<ErfOp>(e.mul(x, std::numbers::sqrt2 / 2)), 1.0), 0.5);
  Value pdf = e.mul(e.same<ExpOp>(e.mul(e.square(x), -0.5)),
                    std::numbers::inv_sqrtpi / std::numbers::sqrt2);
  return {e.mul(g, e.add(cdf, e.mul(x, pdf)))};
}

// Binary math: a and c the operands.
Grads rule(AddOp, Emit &, Value, Value, Value, Value g) { return {g, g}; }
Grads rule(SubOp, Emit &e, Value, Value, Value, Value g) {
  return {g, e.neg(g)};
}
Grads rule(MulOp, Emit &e, Value a, Value c, Value, Value g) {
  return {e.mul(g, c), e.mul(g, a)};
}
Grads rule(DivOp, Emit &e, Value, Value c, Value y, Value g) {
  // -(g * y) / c, as PyTorch's -grad * (a / c) / c, not -(g * a) / c^2:
  // c^2 underflows to 0 for |c| < 1e-19 in float32, and g = 0 (a branch
  // of the gradient that is zero) then gave 0 / 0 = NaN.
  Value da = e.div(g, c);
  return {da, e.neg(e.div(e.mul(g, y), c))};
}
Grads rule(PowOp, Emit &e, Value a, Value c, Value y, Value g) {
  // PyTorch's pow_backward_self and pow_backward_exponent: 0 where the
  // exponent is 0, and 0 for the exponent where a == 0 and c >= 0.
  Value gc = e.mul(g, c);
  Value one = e.scalar(1.0, c);
  Value da = e.mul(gc, e.same<PowOp>(a, e.sub(c, one)));
  Value zeroExponent = e.test<EqOp>(c, 0.0);
  da = e.where(zeroExponent, e.zerosLike(g), da);
  Value zeroBase = e.test<EqOp>(a, 0.0);
  Value nonnegativeExponent = e.test<GeOp>(c, 0.0);
  Value atZero = e.b.create<LogicalAndOp>(e.loc, zeroBase.getType(), zeroBase,
                                          nonnegativeExponent);
  Value zero = e.zerosLike(g);
  Value dc = e.where(atZero, zero, e.mul(g, e.mul(y, e.same<LogOp>(a))));
  return {da, dc};
}
/// maximum (`Loses` = LtOp) and minimum (`Loses` = GtOp): the gradient goes
/// to the operand that won; ties split it in halves, as PyTorch.
template <typename Loses, typename Wins>
Grads extremumRule(Emit &e, Value a, Value c, Value g) {
  Value tie = e.test<EqOp>(a, c);
  Value split = e.where(tie, e.mul(g, 0.5), g);
  Value aLoses = e.test<Loses>(a, c);
  Value da = e.where(aLoses, e.zerosLike(g), split);
  Value cLoses = e.test<Wins>(a, c);
  return {da, e.where(cLoses, e.zerosLike(g), split)};
}
Grads rule(MaximumOp, Emit &e, Value a, Value c, Value, Value g) {
  return extremumRule<LtOp, GtOp>(e, a, c, g);
}
Grads rule(MinimumOp, Emit &e, Value a, Value c, Value, Value g) {
  return extremumRule<GtOp, LtOp>(e, a, c, g);
}
Grads rule(Atan2Op, Emit &e, Value a, Value c, Value, Value g) {
  Value a2 = e.square(a);
  Value r2 = e.add(a2, e.square(c));
  Value da = e.div(e.mul(g, c), r2);
  return {da, e.neg(e.div(e.mul(g, a), r2))};
}
Grads rule(RemainderOp, Emit &e, Value a, Value c, Value, Value g) {
  // a - floor(a / c) * c, as PyTorch.
  return {g, e.neg(e.mul(g, e.same<FloorOp>(e.div(a, c))))};
}
Grads rule(FloorDivOp, Emit &e, Value, Value, Value, Value g) {
  return {e.zerosLike(g), e.zerosLike(g)};
}

template <typename OpT> FailureOr<Grads> unaryRule(OpT op, Emit &e, Value g) {
  return rule(op, e, op.getInput(), op.getResult(), g);
}
template <typename OpT> FailureOr<Grads> binaryRule(OpT op, Emit &e, Value g) {
  return rule(op, e, op.getLhs(), op.getRhs(), op.getResult(), g);
}

FailureOr<Grads> gradients(WhereOp op, Emit &e, Value g) {
  Value zero = e.zerosLike(g);
  return Grads{Value(), e.where(op.getCondition(), g, zero),
               e.where(op.getCondition(), zero, g)};
}

FailureOr<Grads> gradients(ClampOp op, Emit &e, Value g) {
  // PyTorch's clamp_backward_min_max: where low > high the result is high,
  // whose gradient it is.
  Value x = op.getInput(), low = op.getLow(), high = op.getHigh();
  auto both = [&](Value p, Value q) {
    return e.b.create<LogicalAndOp>(e.loc, p.getType(), p, q).getResult();
  };
  auto either = [&](Value p, Value q) {
    return e.b.create<LogicalOrOp>(e.loc, p.getType(), p, q).getResult();
  };
  // Each comparison is its own statement: the order of a call's arguments
  // is unspecified, and the emitted IR must not depend on the compiler.
  Value aboveLow = e.test<GeOp>(x, low);
  Value inside = both(aboveLow, e.test<LeOp>(x, high));
  Value dx = e.gate(inside, g);
  Value belowLow = e.test<LtOp>(x, low);
  Value toLow = both(belowLow, e.test<LtOp>(low, high));
  Value dLow = e.gate(toLow, g);
  Value aboveHigh = e.test<GtOp>(x, high);
  Value toHigh = either(aboveHigh, e.test<LtOp>(high, low));
  return Grads{dx, dLow, e.gate(toHigh, g)};
}

FailureOr<Grads> gradients(CastOp op, Emit &e, Value g) {
  if (!Emit::isFloat(op.getInput()))
    return Grads{Value()};
  return Grads{e.cast(g, Emit::typeOf(op.getInput()).getElementType())};
}

FailureOr<Grads> gradients(ExpandOp op, Emit &e, Value g) {
  return Grads{e.sumTo(g, Emit::typeOf(op.getInput()))};
}

// Reductions.
FailureOr<Grads> gradients(ReduceSumOp op, Emit &e, Value g) {
  return Grads{e.unreduce(g, op.getDims(), Emit::typeOf(op.getInput()))};
}

FailureOr<Grads> gradients(ReduceProdOp op, Emit &e, Value g) {
  // d prod / d x_i is the product of the others. With no zero in a row that
  // is y / x_i; with one zero, the zero's is the product of the nonzero
  // elements and the others' 0; with two or more, all 0 (PyTorch's
  // prod_backward, without its division by zero).
  Value x = op.getInput();
  RankedTensorType type = Emit::typeOf(x);
  ArrayRef<int64_t> dims = op.getDims();
  Value isZero = e.test<EqOp>(x, 0.0);
  Value zeros = e.unreduce(e.sum(e.cast(isZero, type.getElementType()), dims),
                           dims, type);
  Value nonzeroProduct =
      e.unreduce(e.b.create<ReduceProdOp>(e.loc, op.getResult().getType(),
                                          e.where(isZero, e.scalar(1.0, x), x),
                                          op.getDimsAttr()),
                 dims, type);
  Value y = e.unreduce(op.getResult(), dims, type);
  Value gx = e.unreduce(g, dims, type);
  Value none = e.div(y, x);
  Value one = e.where(isZero, nonzeroProduct, e.zerosLike(x));
  Value oneZero = e.test<EqOp>(zeros, 1.0);
  Value others = e.where(oneZero, one, e.zerosLike(x));
  return Grads{e.mul(gx, e.where(e.test<EqOp>(zeros, 0.0), none, others))};
}

/// amax/amin: the gradient split evenly among the elements equal to the
/// result, as PyTorch's amax/amin backward (NaN where the row has a NaN).
template <typename OpT>
FailureOr<Grads> extremumGradients(OpT op, Emit &e, Value g) {
  Value x = op.getInput();
  RankedTensorType type = Emit::typeOf(x);
  ArrayRef<int64_t> dims = op.getDims();
  Value hit = e.cast(e.test<EqOp>(x, e.unreduce(op.getResult(), dims, type)),
                     type.getElementType());
  Value count = e.sum(hit, dims);
  Value share = e.div(g, e.reshape(count, Emit::typeOf(g).getShape()));
  return Grads{e.mul(hit, e.unreduce(share, dims, type))};
}
FailureOr<Grads> gradients(ReduceMaxOp op, Emit &e, Value g) {
  return extremumGradients(op, e, g);
}
FailureOr<Grads> gradients(ReduceMinOp op, Emit &e, Value g) {
  return extremumGradients(op, e, g);
}

// Products.
FailureOr<Grads> gradients(MatmulOp op, Emit &e, Value g) {
  return Grads{e.matmul(g, e.mT(op.getRhs())), e.matmul(e.mT(op.getLhs()), g)};
}

FailureOr<Grads> gradients(Conv2dOp op, Emit &e, Value g) {
  Value x = op.getInput(), w = op.getFilter();
  RankedTensorType tx = Emit::typeOf(x), tw = Emit::typeOf(w);
  ArrayRef<int64_t> stride = op.getStride(), padding = op.getPadding(),
                    dilation = op.getDilation();
  int64_t groups = static_cast<int64_t>(op.getGroups());
  int64_t n = tx.getDimSize(0), c = tx.getDimSize(1), f = tw.getDimSize(0);
  int64_t cg = c / groups, fg = f / groups;
  int64_t kh = tw.getDimSize(2), kw = tw.getDimSize(3);

  // The input's gradient: g dilated by the stride, padded by
  // dilation * (k - 1) - padding (plus the rows the forward pass did not
  // reach), convolved with the filter flipped and its channels swapped per
  // group.
  SmallVector<int64_t> low{0, 0}, high{0, 0}, crop{0, 0};
  for (int d = 0; d < 2; ++d) {
    int64_t k = tw.getDimSize(2 + d), size = tx.getDimSize(2 + d);
    int64_t span = dilation[d] * (k - 1);
    int64_t unused = (size + 2 * padding[d] - span - 1) % stride[d];
    low[d] = span - padding[d];
    high[d] = span - padding[d] + unused;
  }
  Value dilated = e.pad(
      g, {0, 0, std::max<int64_t>(low[0], 0), std::max<int64_t>(low[1], 0)},
      {0, 0, std::max<int64_t>(high[0], 0), std::max<int64_t>(high[1], 0)},
      {0, 0, stride[0] - 1, stride[1] - 1});
  // Padding past the filter's reach crops instead (high >= low: the unused
  // rows are never negative).
  if (low[0] < 0 || low[1] < 0) {
    RankedTensorType td = Emit::typeOf(dilated);
    SmallVector<int64_t> shape(td.getShape());
    SmallVector<int64_t> offsets{0, 0, 0, 0};
    for (int d = 0; d < 2; ++d) {
      offsets[2 + d] = std::max<int64_t>(-low[d], 0);
      shape[2 + d] -= offsets[2 + d] + std::max<int64_t>(-high[d], 0);
    }
    dilated = e.slice(dilated, offsets, {1, 1, 1, 1},
                      RankedTensorType::get(shape, td.getElementType()));
  }
  RankedTensorType twFlipped = tw;
  Value flipped = e.slice(w, {0, 0, kh - 1, kw - 1}, {1, 1, -1, -1}, twFlipped);
  // [F, C/G, KH, KW] -> [G, F/G, C/G, KH, KW] -> [G, C/G, F/G, ...] -> [C, F/G,
  // ...]
  Value swapped =
      e.reshape(e.transpose(e.reshape(flipped, {groups, fg, cg, kh, kw}),
                            {0, 2, 1, 3, 4}),
                {c, fg, kh, kw});
  Value gx = e.conv2d(dilated, swapped, {1, 1}, {0, 0}, dilation, groups);

  // The filter's gradient: the input's channels (per group) as the batch,
  // its batch as channels, g as the filter, the stride as the dilation;
  // the rows past the filter's size (the forward pass's unused rows) cut
  // off.
  Value xs =
      e.reshape(e.transpose(e.reshape(x, {n, groups, cg, tx.getDimSize(2),
                                          tx.getDimSize(3)}),
                            {2, 1, 0, 3, 4}),
                {cg, groups * n, tx.getDimSize(2), tx.getDimSize(3)});
  Value gs = e.transpose(g, {1, 0, 2, 3});
  Value full = e.conv2d(xs, gs, dilation, padding, stride, groups);
  RankedTensorType tf = Emit::typeOf(full);
  if (tf.getDimSize(2) != kh || tf.getDimSize(3) != kw)
    full = e.slice(full, {0, 0, 0, 0}, {1, 1, 1, 1},
                   RankedTensorType::get({cg, f, kh, kw}, tf.getElementType()));
  Value gw = e.transpose(full, {1, 0, 2, 3});
  return Grads{gx, gw};
}

// Indexing.
FailureOr<Grads> gradients(GatherOp op, Emit &e, Value g) {
  int64_t dim = static_cast<int64_t>(op.getDim());
  return Grads{e.scatterAdd(e.zerosLike(op.getInput()), op.getIndex(), g, dim),
               Value()};
}
FailureOr<Grads> gradients(ScatterOp op, Emit &e, Value g) {
  // The written positions take the source's values: their gradient goes to
  // the source (to every duplicate index, as PyTorch), none to the input.
  // (The source has the index's shape.)
  int64_t dim = static_cast<int64_t>(op.getDim());
  Value zeros = e.zerosLike(op.getSource());
  Value gSource = e.gather(g, op.getIndex(), dim);
  return Grads{e.scatter(g, op.getIndex(), zeros, dim), Value(), gSource};
}
FailureOr<Grads> gradients(ScatterAddOp op, Emit &e, Value g) {
  // (The source has the index's shape.)
  int64_t dim = static_cast<int64_t>(op.getDim());
  return Grads{g, Value(), e.gather(g, op.getIndex(), dim)};
}

// Movement.
FailureOr<Grads> gradients(TransposeOp op, Emit &e, Value g) {
  ArrayRef<int64_t> perm = op.getPermutation();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = static_cast<int64_t>(i);
  return Grads{e.transpose(g, inverse)};
}
FailureOr<Grads> gradients(ReshapeOp op, Emit &e, Value g) {
  return Grads{e.reshape(g, Emit::typeOf(op.getInput()).getShape())};
}
FailureOr<Grads> gradients(SliceOp op, Emit &e, Value g) {
  return Grads{e.insertSlice(g, e.zerosLike(op.getInput()), op.getOffsets(),
                             op.getSteps())};
}
FailureOr<Grads> gradients(InsertSliceOp op, Emit &e, Value g) {
  Value source = op.getSource();
  return Grads{
      e.slice(g, op.getOffsets(), op.getSteps(), Emit::typeOf(source)),
      e.insertSlice(e.zerosLike(source), g, op.getOffsets(), op.getSteps())};
}
FailureOr<Grads> gradients(PadOp op, Emit &e, Value g) {
  // The input's elements sit at low + i * (interior + 1); everything else
  // is the pad value.
  RankedTensorType input = Emit::typeOf(op.getInput());
  SmallVector<int64_t> steps;
  for (int64_t i : op.getInterior())
    steps.push_back(i + 1);
  Value gInput = e.slice(g, op.getLow(), steps, input);
  Value total = e.sumAll(g);
  Value gValue = e.sub(total, e.sumAll(gInput));
  return Grads{gInput, gValue};
}
FailureOr<Grads> gradients(ConcatOp op, Emit &e, Value g) {
  int64_t dim = static_cast<int64_t>(op.getDim());
  Grads grads;
  int64_t offset = 0;
  for (Value input : op.getInputs()) {
    RankedTensorType type = Emit::typeOf(input);
    SmallVector<int64_t> offsets(type.getRank(), 0), steps(type.getRank(), 1);
    offsets[dim] = offset;
    grads.push_back(e.slice(g, offsets, steps, type));
    offset += type.getDimSize(dim);
  }
  return grads;
}
FailureOr<Grads> gradients(ConstantOp, Emit &, Value) { return Grads{}; }
FailureOr<Grads> gradients(DetachOp, Emit &, Value) { return Grads{Value()}; }
// A stored value's gradient flows to its definition, none to the buffer.
FailureOr<Grads> gradients(StoredOp, Emit &, Value g) {
  return Grads{g, Value()};
}

// Every elementwise op of one or two operands goes through `rule`.
#define UNARY(Op)                                                              \
  FailureOr<Grads> gradients(Op op, Emit &e, Value g) {                        \
    return unaryRule(op, e, g);                                                \
  }
#define BINARY(Op)                                                             \
  FailureOr<Grads> gradients(Op op, Emit &e, Value g) {                        \
    return binaryRule(op, e, g);                                               \
  }
UNARY(NegOp)
UNARY(AbsOp)
UNARY(SignOp)
UNARY(FloorOp)
UNARY(CeilOp)
UNARY(RoundOp)
UNARY(ExpOp)
UNARY(Exp2Op)
UNARY(Expm1Op)
UNARY(LogOp)
UNARY(Log2Op)
UNARY(Log1pOp)
UNARY(SqrtOp)
UNARY(RsqrtOp)
UNARY(SinOp)
UNARY(CosOp)
UNARY(TanOp)
UNARY(TanhOp)
UNARY(SigmoidOp)
UNARY(ReluOp)
UNARY(SiluOp)
UNARY(SoftplusOp)
UNARY(ErfOp)
UNARY(GeluOp)
BINARY(AddOp)
BINARY(SubOp)
BINARY(MulOp)
BINARY(DivOp)
BINARY(PowOp)
BINARY(MaximumOp)
BINARY(MinimumOp)
BINARY(Atan2Op)
BINARY(RemainderOp)
BINARY(FloorDivOp)
#undef UNARY
#undef BINARY

//===----------------------------------------------------------------------===//
// Attaching the rules
//===----------------------------------------------------------------------===//

template <typename OpT>
struct GradientModel
    : public GradientOpInterface::ExternalModel<GradientModel<OpT>, OpT> {
  FailureOr<SmallVector<Value>> buildGradients(Operation *op, OpBuilder &b,
                                               Value resultGradient) const {
    Emit e(b, op->getLoc());
    return gradients(llvm::cast<OpT>(op), e, resultGradient);
  }
};

template <typename... Ops> void attach(MLIRContext *context) {
  (Ops::template attachInterface<GradientModel<Ops>>(*context), ...);
}

} // namespace

void mlir::trueno::registerGradientRules(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, TruenoDialect *) {
    attach<NegOp, AbsOp, SignOp, FloorOp, CeilOp, RoundOp, ExpOp, Exp2Op,
           Expm1Op, LogOp, Log2Op, Log1pOp, SqrtOp, RsqrtOp, SinOp, CosOp,
           TanOp, TanhOp, SigmoidOp, ReluOp, SiluOp, SoftplusOp, ErfOp, GeluOp>(
        context);
    attach<AddOp, SubOp, MulOp, DivOp, PowOp, MaximumOp, MinimumOp, Atan2Op,
           RemainderOp, FloorDivOp, WhereOp, ClampOp, CastOp, ExpandOp>(
        context);
    attach<ReduceSumOp, ReduceProdOp, ReduceMaxOp, ReduceMinOp, MatmulOp,
           Conv2dOp, GatherOp, ScatterOp, ScatterAddOp, TransposeOp, ReshapeOp,
           SliceOp, InsertSliceOp, PadOp, ConcatOp, ConstantOp, DetachOp,
           StoredOp>(context);
  });
}
