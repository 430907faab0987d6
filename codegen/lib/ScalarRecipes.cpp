//===- ScalarRecipes.cpp - What one element of each op computes -----------===//
//
// One recipe per elementwise op (`lowerScalar`), chosen through the op
// table, and the reductions' identities and combiners. See
// ScalarRecipes.h for the contract.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/ScalarRecipes.h"
#include "trueno/IR/TruenoOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>
#include <numbers>

namespace mlir::trueno {

bool isLowFloat(Type t) { return t.isF16() || t.isBF16(); }

bool isUnsignedInt(Type t) {
  // bool (i1) compares and extends as unsigned, like uint8.
  auto i = dyn_cast<IntegerType>(t);
  return i && (i.isUnsigned() || i.getWidth() == 1);
}

namespace {

//===----------------------------------------------------------------------===//
// Scalar bodies
//===----------------------------------------------------------------------===//

/// Builds the scalar body of one generic. Knows the original element types
/// of the operands and the result (before ui8 became i8), and widens f16 and
/// bf16 to f32 for arithmetic.
class ScalarBuilder {
public:
  ScalarBuilder(OpBuilder &b, Location loc, ValueRange args,
                SmallVector<Type> operandTypes, Type resultType,
                const ScalarTarget &target)
      : b(b), loc(loc), target(target), args(args),
        operandTypes(std::move(operandTypes)), resultType(resultType) {
    // Widen every operand up front, in operand order, so that the body's
    // text does not depend on C++'s unspecified argument evaluation order.
    for (unsigned i = 0; i < args.size(); ++i)
      widened.push_back(isLowFloat(type(i)) ? b.create<arith::ExtFOp>(
                                                  loc, b.getF32Type(), args[i])
                                            : args[i]);
  }

  OpBuilder &b;
  Location loc;
  const ScalarTarget &target;

  Type type(unsigned i) const { return operandTypes[i]; }
  bool isFloat(unsigned i) const { return isa<FloatType>(type(i)); }
  bool isUnsigned(unsigned i) const { return isUnsignedInt(type(i)); }
  Value raw(unsigned i) const { return args[i]; }

  /// Operand i in its compute type (f16/bf16 widened to f32).
  Value arg(unsigned i) const { return widened[i]; }
  /// A float result in compute type, rounded to the result's element type.
  Value result(Value v) {
    if (isLowFloat(resultType))
      return b.create<arith::TruncFOp>(loc, resultType, v);
    return v;
  }
  Value floatConst(Type t, double v) {
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(t, v));
  }
  Value intConst(Type t, int64_t v) {
    return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(t, v));
  }
  Value cmpf(arith::CmpFPredicate p, Value x, Value y) {
    return b.create<arith::CmpFOp>(loc, p, x, y);
  }
  Value cmpi(arith::CmpIPredicate p, Value x, Value y) {
    return b.create<arith::CmpIOp>(loc, p, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return b.create<arith::SelectOp>(loc, c, x, y);
  }
  template <typename OpTy, typename... Args> Value make(Args... args) {
    return b.create<OpTy>(loc, args...);
  }

private:
  ValueRange args;
  SmallVector<Type> operandTypes;
  Type resultType;
  SmallVector<Value> widened;
};

/// Float-only unary ops that map to one math op.
template <typename MathOp> Value floatUnary(ScalarBuilder &s) {
  return s.result(s.make<MathOp>(s.arg(0)));
}

/// sin and cos of float32 through float64 libm: the polynomial's single
/// precision range reduction loses accuracy with the argument's size (1e-5
/// off at |x| = 100, garbage past 1e6). Correct over the whole range, but not
/// vectorized: a vectorized Payne-Hanek reduction is the faster fix.
template <typename MathOp> Value periodicUnary(ScalarBuilder &s) {
  Value x = s.arg(0);
  if (!x.getType().isF32() || !s.target.float64)
    return s.result(s.make<MathOp>(x));
  Value wide = s.make<arith::ExtFOp>(s.b.getF64Type(), x);
  Value r = s.make<MathOp>(wide);
  return s.result(s.make<arith::TruncFOp>(s.b.getF32Type(), r));
}

Value sigmoidOf(ScalarBuilder &s, Value x) {
  Type t = x.getType();
  Value e = s.make<math::ExpOp>(s.make<arith::NegFOp>(x));
  return s.make<arith::DivFOp>(s.floatConst(t, 1.0),
                               s.make<arith::AddFOp>(s.floatConst(t, 1.0), e));
}

/// NumPy's npy_divmod for floats: returns {floor(a / b), a mod b} with the
/// corrections that keep the pair consistent (a == b * div + mod).
std::pair<Value, Value> floatDivmod(ScalarBuilder &s, Value a, Value b) {
  using P = arith::CmpFPredicate;
  Type t = a.getType();
  Value zero = s.floatConst(t, 0.0), one = s.floatConst(t, 1.0);
  Value mod = s.make<arith::RemFOp>(a, b); // fmod
  Value div = s.make<arith::DivFOp>(s.make<arith::SubFOp>(a, mod), b);
  Value modNonzero = s.cmpf(P::UNE, mod, zero);
  Value signsDiffer =
      s.make<arith::XOrIOp>(s.cmpf(P::OLT, b, zero), s.cmpf(P::OLT, mod, zero));
  Value adjust = s.make<arith::AndIOp>(modNonzero, signsDiffer);
  mod = s.select(adjust, s.make<arith::AddFOp>(mod, b), mod);
  div = s.select(adjust, s.make<arith::SubFOp>(div, one), div);
  mod = s.select(modNonzero, mod, s.make<math::CopySignOp>(zero, b));
  Value floorDiv = s.make<math::FloorOp>(div);
  Value roundUp = s.cmpf(P::OGT, s.make<arith::SubFOp>(div, floorDiv),
                         s.floatConst(t, 0.5));
  floorDiv = s.select(roundUp, s.make<arith::AddFOp>(floorDiv, one), floorDiv);
  Value quotient = s.make<arith::DivFOp>(a, b);
  floorDiv = s.select(s.cmpf(P::UNE, div, zero), floorDiv,
                      s.make<math::CopySignOp>(zero, quotient));
  // Division by zero: a / b (inf or NaN) and fmod's NaN.
  Value byZero = s.cmpf(P::OEQ, b, zero);
  return {s.select(byZero, quotient, floorDiv),
          s.select(byZero, s.make<arith::RemFOp>(a, b), mod)};
}

/// NumPy's integer floor division and modulo: division by zero gives 0, and
/// MIN // -1 gives MIN (MIN % -1 gives 0), never undefined behaviour.
std::pair<Value, Value> intDivmod(ScalarBuilder &s, Value a, Value b,
                                  bool isUnsigned) {
  using P = arith::CmpIPredicate;
  Type t = a.getType();
  Value zero = s.intConst(t, 0), one = s.intConst(t, 1);
  Value byZero = s.cmpi(P::eq, b, zero);
  if (isUnsigned) {
    Value safe = s.select(byZero, one, b);
    return {s.select(byZero, zero, s.make<arith::DivUIOp>(a, safe)),
            s.select(byZero, zero, s.make<arith::RemUIOp>(a, safe))};
  }
  unsigned width = t.getIntOrFloatBitWidth();
  Value min = s.intConst(t, APInt::getSignedMinValue(width).getSExtValue());
  Value overflow = s.make<arith::AndIOp>(s.cmpi(P::eq, a, min),
                                         s.cmpi(P::eq, b, s.intConst(t, -1)));
  Value special = s.make<arith::OrIOp>(byZero, overflow);
  Value safe = s.select(special, one, b);
  Value q = s.make<arith::DivSIOp>(a, safe);
  Value r = s.make<arith::RemSIOp>(a, safe);
  Value adjust = s.make<arith::AndIOp>(
      s.cmpi(P::ne, r, zero),
      s.make<arith::XOrIOp>(s.cmpi(P::slt, r, zero), s.cmpi(P::slt, b, zero)));
  q = s.select(adjust, s.make<arith::SubIOp>(q, one), q);
  r = s.select(adjust, s.make<arith::AddIOp>(r, b), r);
  return {s.select(byZero, zero, s.select(overflow, min, q)),
          s.select(special, zero, r)};
}

/// Float (f32 or f64) to integer as x86-64 NumPy: int64 directly, narrower
/// types through int32; out of range or NaN gives the most negative value
/// of the conversion's width. fptosi's poison is never selected.
Value floatToInt(ScalarBuilder &s, Value x, IntegerType target) {
  using P = arith::CmpFPredicate;
  Value wide =
      x.getType().isF64() ? x : s.make<arith::ExtFOp>(s.b.getF64Type(), x);
  unsigned via = target.getWidth() == 64 ? 64 : 32;
  Type viaType = s.b.getIntegerType(via);
  double limit = std::ldexp(1.0, via - 1);
  Value inRange = s.make<arith::AndIOp>(
      s.cmpf(P::OGE, wide, s.floatConst(s.b.getF64Type(), -limit)),
      s.cmpf(P::OLT, wide, s.floatConst(s.b.getF64Type(), limit)));
  Value converted = s.make<arith::FPToSIOp>(viaType, wide);
  Value min = s.intConst(viaType, APInt::getSignedMinValue(via).getSExtValue());
  Value v = s.select(inRange, converted, min);
  if (target.getWidth() < via)
    v = s.make<arith::TruncIOp>(target, v);
  return v;
}

Value castScalar(ScalarBuilder &s, Type from, Type to) {
  using P = arith::CmpFPredicate;
  Value x = s.raw(0);
  Type toSignless = to;
  if (auto i = dyn_cast<IntegerType>(to))
    toSignless = s.b.getIntegerType(i.getWidth());
  if (to.isInteger(1)) // anything to bool: x != 0 (NaN is true)
    return isa<FloatType>(from)
               ? s.cmpf(P::UNE, s.arg(0), s.floatConst(s.arg(0).getType(), 0))
               : s.cmpi(arith::CmpIPredicate::ne, x,
                        s.intConst(x.getType(), 0));
  if (auto fromInt = dyn_cast<IntegerType>(from)) {
    if (auto toFloat = dyn_cast<FloatType>(to)) {
      // Narrow floats go through float32, as the frontend does.
      Type via = isLowFloat(to) ? s.b.getF32Type() : to;
      Value f = isUnsignedInt(from) ? s.make<arith::UIToFPOp>(via, x)
                                    : s.make<arith::SIToFPOp>(via, x);
      return via == to ? f : s.make<arith::TruncFOp>(to, f);
    }
    unsigned a = fromInt.getWidth(), b = toSignless.getIntOrFloatBitWidth();
    if (a == b)
      return x;
    if (a > b)
      return s.make<arith::TruncIOp>(toSignless, x);
    return isUnsignedInt(from) ? s.make<arith::ExtUIOp>(toSignless, x)
                               : s.make<arith::ExtSIOp>(toSignless, x);
  }
  // From a float.
  if (auto toInt = dyn_cast<IntegerType>(toSignless))
    return floatToInt(s, s.arg(0), toInt);
  unsigned a = from.getIntOrFloatBitWidth(), b = to.getIntOrFloatBitWidth();
  if (isLowFloat(from) && isLowFloat(to)) // f16 <-> bf16 via float32
    return s.make<arith::TruncFOp>(to, s.arg(0));
  if (to.isBF16() && from.isF64()) // double -> float -> bfloat16 (PyTorch)
    return s.make<arith::TruncFOp>(
        to, s.make<arith::TruncFOp>(s.b.getF32Type(), x));
  if (a < b)
    return s.make<arith::ExtFOp>(to, x);
  return s.make<arith::TruncFOp>(to, x);
}

//===----------------------------------------------------------------------===//
// One scalar recipe per op
//===----------------------------------------------------------------------===//

template <typename OpTy> Value lowerScalar(OpTy, ScalarBuilder &s);

#define TRUENO_FLOAT_UNARY(OP, MATH)                                           \
  template <> Value lowerScalar(OP, ScalarBuilder &s) {                        \
    return floatUnary<MATH>(s);                                                \
  }
TRUENO_FLOAT_UNARY(ExpOp, math::ExpOp)
TRUENO_FLOAT_UNARY(Exp2Op, math::Exp2Op)
TRUENO_FLOAT_UNARY(Expm1Op, math::ExpM1Op)
TRUENO_FLOAT_UNARY(LogOp, math::LogOp)
TRUENO_FLOAT_UNARY(Log2Op, math::Log2Op)
TRUENO_FLOAT_UNARY(Log1pOp, math::Log1pOp)
TRUENO_FLOAT_UNARY(SqrtOp, math::SqrtOp)
TRUENO_FLOAT_UNARY(RsqrtOp, math::RsqrtOp)
TRUENO_FLOAT_UNARY(TanOp, math::TanOp)
TRUENO_FLOAT_UNARY(TanhOp, math::TanhOp)
TRUENO_FLOAT_UNARY(ErfOp, math::ErfOp)
TRUENO_FLOAT_UNARY(FloorOp, math::FloorOp)
TRUENO_FLOAT_UNARY(CeilOp, math::CeilOp)
TRUENO_FLOAT_UNARY(RoundOp, math::RoundEvenOp)
#undef TRUENO_FLOAT_UNARY

template <> Value lowerScalar(SinOp, ScalarBuilder &s) {
  return periodicUnary<math::SinOp>(s);
}
template <> Value lowerScalar(CosOp, ScalarBuilder &s) {
  return periodicUnary<math::CosOp>(s);
}

template <> Value lowerScalar(NegOp, ScalarBuilder &s) {
  if (s.isFloat(0))
    return s.result(s.make<arith::NegFOp>(s.arg(0)));
  Value x = s.raw(0);
  return s.make<arith::SubIOp>(s.intConst(x.getType(), 0), x);
}

template <> Value lowerScalar(AbsOp, ScalarBuilder &s) {
  if (s.isFloat(0))
    return s.result(s.make<math::AbsFOp>(s.arg(0)));
  return s.isUnsigned(0) ? s.raw(0) : s.make<math::AbsIOp>(s.raw(0));
}

template <> Value lowerScalar(SignOp, ScalarBuilder &s) {
  if (s.isFloat(0)) { // -1, 0 or 1; zeros and NaN pass through
    using P = arith::CmpFPredicate;
    Value x = s.arg(0);
    Type t = x.getType();
    Value neg =
        s.select(s.cmpf(P::OLT, x, s.floatConst(t, 0)), s.floatConst(t, -1), x);
    return s.result(s.select(s.cmpf(P::OGT, x, s.floatConst(t, 0)),
                             s.floatConst(t, 1), neg));
  }
  using P = arith::CmpIPredicate;
  Value x = s.raw(0);
  Type t = x.getType();
  Value zero = s.intConst(t, 0), one = s.intConst(t, 1);
  if (s.isUnsigned(0))
    return s.select(s.cmpi(P::ne, x, zero), one, zero);
  return s.select(s.cmpi(P::sgt, x, zero), one,
                  s.select(s.cmpi(P::slt, x, zero), s.intConst(t, -1), zero));
}

template <> Value lowerScalar(ReluOp, ScalarBuilder &s) {
  if (s.isFloat(0)) { // NaN propagates, as in PyTorch
    Value x = s.arg(0);
    return s.result(s.make<arith::MaximumFOp>(x, s.floatConst(x.getType(), 0)));
  }
  if (s.isUnsigned(0))
    return s.raw(0);
  return s.make<arith::MaxSIOp>(s.raw(0), s.intConst(s.raw(0).getType(), 0));
}

template <> Value lowerScalar(SigmoidOp, ScalarBuilder &s) {
  return s.result(sigmoidOf(s, s.arg(0)));
}

template <> Value lowerScalar(SiluOp, ScalarBuilder &s) {
  Value x = s.arg(0);
  return s.result(s.make<arith::MulFOp>(x, sigmoidOf(s, x)));
}

template <> Value lowerScalar(SoftplusOp, ScalarBuilder &s) {
  // PyTorch's threshold: above 20, softplus(x) == x in float32.
  Value x = s.arg(0);
  Value soft = s.make<math::Log1pOp>(s.make<math::ExpOp>(x));
  Value large =
      s.cmpf(arith::CmpFPredicate::OGT, x, s.floatConst(x.getType(), 20.0));
  return s.result(s.select(large, x, soft));
}

template <> Value lowerScalar(GeluOp op, ScalarBuilder &s) {
  Value x = s.arg(0);
  Type t = x.getType();
  Value half = s.make<arith::MulFOp>(s.floatConst(t, 0.5), x);
  Value inner;
  if (op.getTanh()) {
    Value x3 = s.make<arith::MulFOp>(x, s.make<arith::MulFOp>(x, x));
    Value poly = s.make<arith::AddFOp>(
        x, s.make<arith::MulFOp>(s.floatConst(t, 0.044715), x3));
    inner = s.make<math::TanhOp>(s.make<arith::MulFOp>(
        s.floatConst(t, std::sqrt(2.0 / std::numbers::pi)), poly));
  } else {
    inner = s.make<math::ErfOp>(
        s.make<arith::MulFOp>(x, s.floatConst(t, 1.0 / std::numbers::sqrt2)));
  }
  return s.result(s.make<arith::MulFOp>(
      half, s.make<arith::AddFOp>(s.floatConst(t, 1.0), inner)));
}

template <> Value lowerScalar(IsNanOp, ScalarBuilder &s) {
  return s.cmpf(arith::CmpFPredicate::UNO, s.arg(0), s.arg(0));
}

template <> Value lowerScalar(IsInfOp, ScalarBuilder &s) {
  Value x = s.arg(0);
  return s.cmpf(arith::CmpFPredicate::OEQ, s.make<math::AbsFOp>(x),
                s.floatConst(x.getType(), INFINITY));
}

template <> Value lowerScalar(LogicalNotOp, ScalarBuilder &s) {
  if (s.isFloat(0))
    return s.cmpf(arith::CmpFPredicate::OEQ, s.arg(0),
                  s.floatConst(s.arg(0).getType(), 0));
  return s.cmpi(arith::CmpIPredicate::eq, s.raw(0),
                s.intConst(s.raw(0).getType(), 0));
}

/// Binary ops whose float, signed and unsigned forms are single arith ops.
template <typename FloatOp, typename SignedOp, typename UnsignedOp>
Value binary(ScalarBuilder &s) {
  if (s.isFloat(0))
    return s.result(s.make<FloatOp>(s.arg(0), s.arg(1)));
  if (s.isUnsigned(0))
    return s.make<UnsignedOp>(s.raw(0), s.raw(1));
  return s.make<SignedOp>(s.raw(0), s.raw(1));
}

template <> Value lowerScalar(AddOp, ScalarBuilder &s) {
  return binary<arith::AddFOp, arith::AddIOp, arith::AddIOp>(s);
}
template <> Value lowerScalar(SubOp, ScalarBuilder &s) {
  return binary<arith::SubFOp, arith::SubIOp, arith::SubIOp>(s);
}
template <> Value lowerScalar(MulOp, ScalarBuilder &s) {
  return binary<arith::MulFOp, arith::MulIOp, arith::MulIOp>(s);
}
template <> Value lowerScalar(DivOp, ScalarBuilder &s) {
  return s.result(s.make<arith::DivFOp>(s.arg(0), s.arg(1)));
}
template <> Value lowerScalar(MaximumOp, ScalarBuilder &s) {
  return binary<arith::MaximumFOp, arith::MaxSIOp, arith::MaxUIOp>(s);
}
template <> Value lowerScalar(MinimumOp, ScalarBuilder &s) {
  return binary<arith::MinimumFOp, arith::MinSIOp, arith::MinUIOp>(s);
}
template <> Value lowerScalar(Atan2Op, ScalarBuilder &s) {
  // The result has the sign of y, zeros included (atan2(-0, -1) is -pi);
  // the float32 polynomial loses it, so restore it.
  // Both infinite: the polynomial gives NaN where IEEE gives +-pi/4 or
  // +-3pi/4. Tested for every sign in tests/compiler/JitTest.cpp.
  Value y = s.arg(0), x = s.arg(1);
  Type t = y.getType();
  Value angle = s.make<math::Atan2Op>(y, x);
  Value inf = s.floatConst(t, INFINITY);
  Value bothInfinite = s.make<arith::AndIOp>(
      s.cmpf(arith::CmpFPredicate::OEQ, s.make<math::AbsFOp>(y), inf),
      s.cmpf(arith::CmpFPredicate::OEQ, s.make<math::AbsFOp>(x), inf));
  Value corner =
      s.select(s.cmpf(arith::CmpFPredicate::OGT, x, s.floatConst(t, 0)),
               s.floatConst(t, std::numbers::pi / 4),
               s.floatConst(t, 3 * std::numbers::pi / 4));
  angle = s.select(bothInfinite, corner, angle);
  // Both zero: the polynomial divides 0 by 0; IEEE gives 0, or pi when x is
  // -0 (or negative).
  Value zero = s.floatConst(t, 0);
  Value bothZero =
      s.make<arith::AndIOp>(s.cmpf(arith::CmpFPredicate::OEQ, y, zero),
                            s.cmpf(arith::CmpFPredicate::OEQ, x, zero));
  Value xNegative =
      s.cmpf(arith::CmpFPredicate::OLT,
             s.make<math::CopySignOp>(s.floatConst(t, 1), x), zero);
  angle = s.select(bothZero,
                   s.select(xNegative, s.floatConst(t, std::numbers::pi), zero),
                   angle);
  return s.result(s.make<math::CopySignOp>(angle, y));
}
template <> Value lowerScalar(PowOp, ScalarBuilder &s) {
  if (s.isFloat(0))
    return s.result(s.make<math::PowFOp>(s.arg(0), s.arg(1)));
  Value base = s.raw(0), exponent = s.raw(1);
  if (s.isUnsigned(0)) {
    // math.ipowi reads its exponent as signed: uint8's 255 would be -1.
    // Zero-extended to 32 bits both stay what they are, and the power
    // wrapped to 32 bits and truncated is the power wrapped to 8 (PyTorch's
    // 161^255 is 97).
    Type t = base.getType();
    Type wide = s.b.getIntegerType(32);
    Value power = s.make<math::IPowIOp>(s.make<arith::ExtUIOp>(wide, base),
                                        s.make<arith::ExtUIOp>(wide, exponent));
    return s.make<arith::TruncIOp>(t, power);
  }
  // A negative exponent gives trunc(1 / base^-exponent), as PyTorch: 1 for
  // base 1, +-1 for base -1, 0 otherwise. math.ipowi agrees except at base
  // 0, where it divides by zero (giving 1 here); that base is kept out of it.
  using P = arith::CmpIPredicate;
  Type t = base.getType();
  Value zero = s.intConst(t, 0);
  Value zeroToNegative = s.make<arith::AndIOp>(s.cmpi(P::eq, base, zero),
                                               s.cmpi(P::slt, exponent, zero));
  Value power = s.make<math::IPowIOp>(
      s.select(zeroToNegative, s.intConst(t, 1), base), exponent);
  return s.select(zeroToNegative, zero, power);
}
template <> Value lowerScalar(FloorDivOp, ScalarBuilder &s) {
  if (s.isFloat(0))
    return s.result(floatDivmod(s, s.arg(0), s.arg(1)).first);
  return intDivmod(s, s.raw(0), s.raw(1), s.isUnsigned(0)).first;
}
template <> Value lowerScalar(RemainderOp, ScalarBuilder &s) {
  if (s.isFloat(0))
    return s.result(floatDivmod(s, s.arg(0), s.arg(1)).second);
  return intDivmod(s, s.raw(0), s.raw(1), s.isUnsigned(0)).second;
}

#define TRUENO_BITWISE(OP, ARITH)                                              \
  template <> Value lowerScalar(OP, ScalarBuilder &s) {                        \
    return s.make<ARITH>(s.raw(0), s.raw(1));                                  \
  }
TRUENO_BITWISE(BitwiseAndOp, arith::AndIOp)
TRUENO_BITWISE(BitwiseOrOp, arith::OrIOp)
TRUENO_BITWISE(BitwiseXorOp, arith::XOrIOp)
TRUENO_BITWISE(LogicalAndOp, arith::AndIOp)
TRUENO_BITWISE(LogicalOrOp, arith::OrIOp)
TRUENO_BITWISE(LogicalXorOp, arith::XOrIOp)
#undef TRUENO_BITWISE

/// Comparisons: ordered float predicates (false on NaN) except `ne`, which
/// is true on NaN as in IEEE 754.
Value compare(ScalarBuilder &s, arith::CmpFPredicate f, arith::CmpIPredicate si,
              arith::CmpIPredicate ui) {
  if (s.isFloat(0))
    return s.cmpf(f, s.arg(0), s.arg(1));
  return s.cmpi(s.isUnsigned(0) ? ui : si, s.raw(0), s.raw(1));
}
#define TRUENO_COMPARE(OP, F, SI, UI)                                          \
  template <> Value lowerScalar(OP, ScalarBuilder &s) {                        \
    return compare(s, arith::CmpFPredicate::F, arith::CmpIPredicate::SI,       \
                   arith::CmpIPredicate::UI);                                  \
  }
TRUENO_COMPARE(EqOp, OEQ, eq, eq)
TRUENO_COMPARE(NeOp, UNE, ne, ne)
TRUENO_COMPARE(LtOp, OLT, slt, ult)
TRUENO_COMPARE(LeOp, OLE, sle, ule)
TRUENO_COMPARE(GtOp, OGT, sgt, ugt)
TRUENO_COMPARE(GeOp, OGE, sge, uge)
#undef TRUENO_COMPARE

template <> Value lowerScalar(WhereOp, ScalarBuilder &s) {
  return s.select(s.raw(0), s.raw(1), s.raw(2));
}

template <> Value lowerScalar(ClampOp, ScalarBuilder &s) {
  // min(max(x, low), high), as torch.clamp (so low > high gives high).
  if (s.isFloat(0))
    return s.result(s.make<arith::MinimumFOp>(
        s.make<arith::MaximumFOp>(s.arg(0), s.arg(1)), s.arg(2)));
  if (s.isUnsigned(0))
    return s.make<arith::MinUIOp>(s.make<arith::MaxUIOp>(s.raw(0), s.raw(1)),
                                  s.raw(2));
  return s.make<arith::MinSIOp>(s.make<arith::MaxSIOp>(s.raw(0), s.raw(1)),
                                s.raw(2));
}

template <> Value lowerScalar(CastOp op, ScalarBuilder &s) {
  return castScalar(s, getElementTypeOrSelf(op.getInput().getType()),
                    getElementTypeOrSelf(op.getType()));
}

} // namespace

FailureOr<Value> buildScalarRecipe(OpBuilder &b, Location loc, Operation *op,
                                   ValueRange args,
                                   const ScalarTarget &target) {
  SmallVector<Type> operandTypes;
  for (Value v : op->getOperands())
    operandTypes.push_back(getElementTypeOrSelf(v.getType()));
  ScalarBuilder s(b, loc, args, operandTypes,
                  getElementTypeOrSelf(op->getResult(0).getType()), target);
#define TRUENO_RECIPE(Code)                                                    \
  if (auto typed = dyn_cast<Code##Op>(op))                                     \
    return lowerScalar(typed, s);
#define TRUENO_UNARY(Code, mnemonic, function, rule, cost) TRUENO_RECIPE(Code)
#define TRUENO_BINARY(Code, mnemonic, function, cost) TRUENO_RECIPE(Code)
#define TRUENO_ELEMENTWISE(Code, mnemonic, attributes, cost) TRUENO_RECIPE(Code)
#include "trueno/OpTable.def"
#undef TRUENO_RECIPE
  return failure();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// The identity of `kind` for element type `original` (before ui8 became
/// i8), as a constant of the converted type `type`.
Value reductionIdentity(OpBuilder &b, Location loc, ReduceKind kind,
                        Type original, Type type) {
  if (auto f = dyn_cast<FloatType>(type)) {
    double v = kind == ReduceKind::Sum    ? 0.0
               : kind == ReduceKind::Prod ? 1.0
               : kind == ReduceKind::Max  ? -INFINITY
                                          : INFINITY;
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(f, v));
  }
  auto i = cast<IntegerType>(type);
  unsigned width = i.getWidth();
  bool isUnsigned = isUnsignedInt(original) || width == 1;
  APInt v = kind == ReduceKind::Sum    ? APInt(width, 0)
            : kind == ReduceKind::Prod ? APInt(width, 1)
            : kind == ReduceKind::Max
                ? (isUnsigned ? APInt::getMinValue(width)
                              : APInt::getSignedMinValue(width))
                : (isUnsigned ? APInt::getMaxValue(width)
                              : APInt::getSignedMaxValue(width));
  return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(i, v));
}

/// `acc` combined with `x` for a reduction of `kind`. `noNaN`: x is never
/// NaN (cannotBeNaN), so a maximum or minimum need not propagate NaN.
Value reductionCombine(OpBuilder &b, Location loc, ReduceKind kind,
                       Type original, Value x, Value acc, bool noNaN) {
  if (isa<FloatType>(x.getType()) && noNaN &&
      (kind == ReduceKind::Max || kind == ReduceKind::Min)) {
    // With neither operand NaN (the identity is -inf or inf), maxnum is the
    // maximum, and under `nnan` it is one vmaxps where the NaN-propagating
    // llvm.maximum takes six instructions (softmax's row maximum, which
    // the frontend takes over x with NaN replaced). `nsz` (which zero of
    // -0 and +0 comes out is free, as maxnum already allows) is what lets
    // LLVM 19 vectorize the reduction; without it the loop stays scalar.
    auto nnan = arith::FastMathFlagsAttr::get(
        b.getContext(), arith::FastMathFlags::nnan | arith::FastMathFlags::nsz);
    return kind == ReduceKind::Max
               ? Value(b.create<arith::MaxNumFOp>(loc, x, acc, nnan))
               : Value(b.create<arith::MinNumFOp>(loc, x, acc, nnan));
  }
  if (isa<FloatType>(x.getType())) {
    // Sums and products may be reassociated (as PyTorch and NumPy do, with
    // pairwise or vectorized partial sums), so the loop vectorizes.
    auto reassoc = arith::FastMathFlagsAttr::get(b.getContext(),
                                                 arith::FastMathFlags::reassoc);
    switch (kind) {
    case ReduceKind::Sum:
      return b.create<arith::AddFOp>(loc, x, acc, reassoc);
    case ReduceKind::Prod:
      return b.create<arith::MulFOp>(loc, x, acc, reassoc);
    case ReduceKind::Max: // NaN-propagating, as torch.amax
      return b.create<arith::MaximumFOp>(loc, x, acc);
    case ReduceKind::Min:
      return b.create<arith::MinimumFOp>(loc, x, acc);
    }
  }
  bool isUnsigned =
      isUnsignedInt(original) || x.getType().getIntOrFloatBitWidth() == 1;
  switch (kind) {
  case ReduceKind::Sum:
    return b.create<arith::AddIOp>(loc, x, acc);
  case ReduceKind::Prod:
    return b.create<arith::MulIOp>(loc, x, acc);
  case ReduceKind::Max:
    return isUnsigned ? Value(b.create<arith::MaxUIOp>(loc, x, acc))
                      : Value(b.create<arith::MaxSIOp>(loc, x, acc));
  case ReduceKind::Min:
    return isUnsigned ? Value(b.create<arith::MinUIOp>(loc, x, acc))
                      : Value(b.create<arith::MinSIOp>(loc, x, acc));
  }
  return {};
}

} // namespace mlir::trueno
