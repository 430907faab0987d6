//===- TruenoToLinalg.cpp - Lowering trueno ops to linalg.generic ---------===//
//
// Each elementwise trueno op becomes one `linalg.generic` over tensors whose
// body is the op's scalar semantics in arith/math. The scalar recipes are the
// contract with the frontend: they reproduce NumPy/PyTorch results, including
// NaN handling, integer wrapping, Python's floor division and modulo, and
// NumPy's x86-64 float-to-integer conversion (docs/DTYPES.md).
//
// Expects: verified trueno IR with static shapes. Produces: linalg, tensor,
// arith and math on signless types; fails if any trueno op is left.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Passes.h"
#include "trueno/IR/TruenoOps.h"

#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>
#include <numbers>

namespace mlir::trueno {
#define GEN_PASS_DEF_CONVERTTRUENOTOLINALG
#include "trueno/Codegen/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;
using namespace mlir::trueno;

namespace {

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

/// ui8 becomes i8 (arith works on signless integers); the unsigned meaning
/// is kept by choosing unsigned arith ops from the original type.
class SignlessTypeConverter : public TypeConverter {
public:
  SignlessTypeConverter() {
    addConversion([](Type type) { return type; });
    addConversion([](IntegerType type) -> Type {
      return IntegerType::get(type.getContext(), type.getWidth());
    });
    addConversion([this](RankedTensorType type) -> Type {
      return RankedTensorType::get(type.getShape(),
                                   convertType(type.getElementType()));
    });
  }
};

bool isLowFloat(Type t) { return t.isF16() || t.isBF16(); }
bool isUnsignedInt(Type t) {
  // bool (i1) compares and extends as unsigned, like uint8.
  auto i = dyn_cast<IntegerType>(t);
  return i && (i.isUnsigned() || i.getWidth() == 1);
}

//===----------------------------------------------------------------------===//
// Scalar bodies
//===----------------------------------------------------------------------===//

/// Builds the scalar body of one generic. Knows the original element types
/// of the operands and the result (before ui8 became i8), and widens f16 and
/// bf16 to f32 for arithmetic.
class ScalarBuilder {
public:
  ScalarBuilder(OpBuilder &b, Location loc, ValueRange args,
                SmallVector<Type> operandTypes, Type resultType)
      : b(b), loc(loc), args(args), operandTypes(std::move(operandTypes)),
        resultType(resultType) {
    // Widen every operand up front, in operand order, so that the body's
    // text does not depend on C++'s unspecified argument evaluation order.
    for (unsigned i = 0; i < args.size(); ++i)
      widened.push_back(isLowFloat(type(i)) ? b.create<arith::ExtFOp>(
                                                  loc, b.getF32Type(), args[i])
                                            : args[i]);
  }

  OpBuilder &b;
  Location loc;

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
  if (!x.getType().isF32())
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
  return s.make<math::IPowIOp>(s.raw(0), s.raw(1));
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

//===----------------------------------------------------------------------===//
// Patterns
//===----------------------------------------------------------------------===//

/// Builds a linalg.generic writing a fresh tensor of `resultType`.
linalg::GenericOp
buildGeneric(ConversionPatternRewriter &rewriter, Location loc,
             RankedTensorType resultType, ValueRange inputs,
             ArrayRef<AffineMap> inputMaps,
             function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  int64_t rank = resultType.getRank();
  Value init = rewriter.create<tensor::EmptyOp>(loc, resultType.getShape(),
                                                resultType.getElementType());
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(rewriter.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return rewriter.create<linalg::GenericOp>(
      loc, resultType, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &b, Location l, ValueRange args) {
        b.create<linalg::YieldOp>(l, body(b, l, args.drop_back()));
      });
}

template <typename OpTy>
struct ElementwiseLowering : public OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = dyn_cast_or_null<RankedTensorType>(
        this->getTypeConverter()->convertType(op.getType()));
    if (!resultType || !resultType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "needs a static ranked result");
    SmallVector<Type> operandTypes;
    for (Value v : op->getOperands())
      operandTypes.push_back(getElementTypeOrSelf(v.getType()));
    Type resultElement = getElementTypeOrSelf(op.getType());
    SmallVector<AffineMap> maps(
        op->getNumOperands(),
        rewriter.getMultiDimIdentityMap(resultType.getRank()));
    auto generic = buildGeneric(
        rewriter, op.getLoc(), resultType, adaptor.getOperands(), maps,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          ScalarBuilder s(b, loc, args, operandTypes, resultElement);
          return lowerScalar(op, s);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// expand: the input map drops leading dimensions and reads size-1
/// dimensions at index 0, which is a zero stride once bufferized.
struct ExpandLowering : public OpConversionPattern<ExpandOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ExpandOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    int64_t lead = resultType.getRank() - inputType.getRank();
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < inputType.getRank(); ++i)
      exprs.push_back(inputType.getDimSize(i) == 1 &&
                              resultType.getDimSize(lead + i) != 1
                          ? rewriter.getAffineConstantExpr(0)
                          : rewriter.getAffineDimExpr(lead + i));
    AffineMap map =
        AffineMap::get(resultType.getRank(), 0, exprs, rewriter.getContext());
    auto generic = buildGeneric(
        rewriter, op.getLoc(), resultType, adaptor.getInput(), map,
        [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// What each reduction starts from and how it combines two values.
enum class ReduceKind { Sum, Prod, Max, Min };

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

/// Whether no element of `v` can be NaN: integers and bools converted to
/// floats, constants without NaN, broadcasts of those, and
/// `where(isnan(b), a, b)` (NaN replaced) or `where(c, a, b)` with a and b
/// such values.
bool cannotBeNaN(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def)
    return false;
  if (!isa<FloatType>(getElementTypeOrSelf(v.getType())))
    return true;
  if (auto cast = dyn_cast<CastOp>(def))
    return !isa<FloatType>(getElementTypeOrSelf(cast.getInput().getType()));
  if (auto expand = dyn_cast<ExpandOp>(def))
    return cannotBeNaN(expand.getInput());
  if (auto constant = dyn_cast<ConstantOp>(def)) {
    auto values = dyn_cast<DenseFPElementsAttr>(constant.getValue());
    return values && llvm::none_of(values.getValues<APFloat>(),
                                   [](const APFloat &f) { return f.isNaN(); });
  }
  if (auto select = dyn_cast<WhereOp>(def)) {
    auto isnan = select.getCondition().getDefiningOp<IsNanOp>();
    if (isnan && isnan.getInput() == select.getRhs())
      return cannotBeNaN(select.getLhs());
    return cannotBeNaN(select.getLhs()) && cannotBeNaN(select.getRhs());
  }
  return false;
}

/// `acc` combined with `x` for a reduction of `kind`. `noNaN`: x is never
/// NaN (cannotBeNaN), so a maximum or minimum need not propagate NaN.
Value reductionCombine(OpBuilder &b, Location loc, ReduceKind kind,
                       Type original, Value x, Value acc, bool noNaN = false) {
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

/// The iterator types of a reduction over `dims` of a rank-`rank` input, and
/// the map of its output: the reduced dimensions dropped, or read at 0 when
/// the result keeps them.
std::pair<SmallVector<utils::IteratorType>, AffineMap>
reductionLoops(int64_t rank, ArrayRef<int64_t> dims, bool keep,
               MLIRContext *context) {
  SmallVector<AffineExpr> out;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t d = 0; d < rank; ++d) {
    bool reduced = llvm::is_contained(dims, d);
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
    if (!reduced)
      out.push_back(getAffineDimExpr(d, context));
    else if (keep)
      out.push_back(getAffineConstantExpr(0, context));
  }
  return {iterators, AffineMap::get(rank, 0, out, context)};
}

/// A reduction: a generic whose reduced dimensions are `reduction`
/// iterators and whose output map drops them (or reads them at 0 when the
/// result keeps them), accumulating into an output filled with the identity.
template <typename OpTy, ReduceKind Kind>
struct ReduceLowering : public OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(
        this->getTypeConverter()->convertType(op.getType()));
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    Type original = inputType.getElementType();
    int64_t rank = inputType.getRank();
    bool keep = resultType.getRank() == rank;
    auto [iterators, outMap] =
        reductionLoops(rank, op.getDims(), keep, rewriter.getContext());
    SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(rank),
                                   outMap};
    Value empty = rewriter.create<tensor::EmptyOp>(loc, resultType.getShape(),
                                                   resultType.getElementType());
    Value identity = reductionIdentity(rewriter, loc, Kind, original,
                                       resultType.getElementType());
    Value init =
        rewriter.create<linalg::FillOp>(loc, identity, empty).getResult(0);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, resultType, adaptor.getInput(), init, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(
              l, reductionCombine(b, l, Kind, original, args[0], args[1],
                                  cannotBeNaN(op.getInput())));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// A matrix product: `linalg.matmul` (rank 2), `linalg.batch_matmul`
/// (rank 3) or a contraction generic (more batch dimensions), accumulating
/// into a zero-filled output. Floats later become BLAS calls
/// (trueno-linalg-to-blas); integers become loops.
struct MatmulLowering : public OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    Type element = resultType.getElementType();
    int64_t rank = resultType.getRank();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    auto zeroFilled = [&](ArrayRef<int64_t> shape) {
      Value empty = rewriter.create<tensor::EmptyOp>(loc, shape, element);
      Value zero = rewriter.create<arith::ConstantOp>(
          loc, rewriter.getZeroAttr(element));
      return rewriter.create<linalg::FillOp>(loc, zero, empty).getResult(0);
    };
    if (rank <= 3) {
      Value init = zeroFilled(resultType.getShape());
      ValueRange inputs = {lhs, rhs};
      Operation *product =
          rank == 2
              ? rewriter.create<linalg::MatmulOp>(loc, resultType, inputs, init)
              : rewriter.create<linalg::BatchMatmulOp>(loc, resultType, inputs,
                                                       init);
      rewriter.replaceOp(op, product->getResults());
      return success();
    }
    // More batch dimensions: a contraction generic (loops). The frontend
    // folds batches into one so that products reach BLAS; collapsing them
    // here instead would not survive linalg-fuse-elementwise-ops, whose
    // reshape propagation turns the batch_matmul back into a generic.
    MLIRContext *context = rewriter.getContext();
    SmallVector<AffineExpr> batch;
    for (int64_t d = 0; d < rank - 2; ++d)
      batch.push_back(rewriter.getAffineDimExpr(d));
    AffineExpr i = rewriter.getAffineDimExpr(rank - 2),
               j = rewriter.getAffineDimExpr(rank - 1),
               k = rewriter.getAffineDimExpr(rank);
    auto map = [&](AffineExpr row, AffineExpr col) {
      SmallVector<AffineExpr> exprs = batch;
      exprs.append({row, col});
      return AffineMap::get(rank + 1, 0, exprs, context);
    };
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    bool isFloat = isa<FloatType>(element);
    Value product =
        rewriter
            .create<linalg::GenericOp>(
                loc, resultType, ValueRange{lhs, rhs},
                zeroFilled(resultType.getShape()),
                ArrayRef<AffineMap>{map(i, k), map(k, j), map(i, j)}, iterators,
                [&](OpBuilder &b, Location l, ValueRange args) {
                  Value mul = isFloat
                                  ? b.create<arith::MulFOp>(l, args[0], args[1])
                                        .getResult()
                                  : b.create<arith::MulIOp>(l, args[0], args[1])
                                        .getResult();
                  Value sum =
                      isFloat
                          ? b.create<arith::AddFOp>(l, args[2], mul).getResult()
                          : b.create<arith::AddIOp>(l, args[2], mul)
                                .getResult();
                  b.create<linalg::YieldOp>(l, sum);
                })
            .getResult(0);
    rewriter.replaceOp(op, product);
    return success();
  }
};

/// A 2-D convolution: the input zero-padded with tensor.pad, then
/// `linalg.conv_2d_nchw_fchw` (one group; trueno-linalg-to-blas turns float
/// ones into im2col + GEMM calls) or, with groups, a contraction generic
/// whose input channel is `f floordiv (F/G) * (C/G) + c` (loops).
struct Conv2dLowering : public OpConversionPattern<Conv2dOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(Conv2dOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type element = resultType.getElementType();
    Value input = adaptor.getInput();
    ArrayRef<int64_t> stride = op.getStride(), padding = op.getPadding(),
                      dilation = op.getDilation();
    Value zero =
        rewriter.create<arith::ConstantOp>(loc, rewriter.getZeroAttr(element));
    if (padding[0] || padding[1]) {
      auto inType = cast<RankedTensorType>(input.getType());
      SmallVector<int64_t> shape = llvm::to_vector(inType.getShape());
      shape[2] += 2 * padding[0];
      shape[3] += 2 * padding[1];
      SmallVector<OpFoldResult> low = {
          rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
          rewriter.getIndexAttr(padding[0]), rewriter.getIndexAttr(padding[1])};
      input = rewriter.create<tensor::PadOp>(
          loc, RankedTensorType::get(shape, element), input, low, low, zero);
    }
    Value empty =
        rewriter.create<tensor::EmptyOp>(loc, resultType.getShape(), element);
    Value init = rewriter.create<linalg::FillOp>(loc, zero, empty).getResult(0);
    if (op.getGroups() == 1) {
      auto attr = [&](ArrayRef<int64_t> v) {
        return DenseIntElementsAttr::get(
            RankedTensorType::get({2}, rewriter.getI64Type()), v);
      };
      rewriter.replaceOpWithNewOp<linalg::Conv2DNchwFchwOp>(
          op, resultType, ValueRange{input, adaptor.getFilter()}, init,
          attr(stride), attr(dilation));
      return success();
    }
    // Groups: NCHW -> NGCHW, FCHW -> GFCHW (output channels are group-major),
    // linalg's grouped convolution into NGFHW, and back to NCHW. Float ones
    // become one im2col + GEMM per group (trueno-linalg-to-blas).
    int64_t groups = op.getGroups();
    auto inType = cast<RankedTensorType>(input.getType());
    auto filterType = cast<RankedTensorType>(adaptor.getFilter().getType());
    auto split = [&](RankedTensorType type, int64_t at) {
      SmallVector<int64_t> shape = llvm::to_vector(type.getShape());
      shape[at] /= groups;
      shape.insert(shape.begin() + at, groups);
      return RankedTensorType::get(shape, element);
    };
    SmallVector<ReassociationIndices> atOne = {{0}, {1, 2}, {3}, {4}};
    SmallVector<ReassociationIndices> atZero = {{0, 1}, {2}, {3}, {4}};
    Value groupedInput = rewriter.create<tensor::ExpandShapeOp>(
        loc, split(inType, 1), input, atOne);
    Value groupedFilter = rewriter.create<tensor::ExpandShapeOp>(
        loc, split(filterType, 0), adaptor.getFilter(), atZero);
    RankedTensorType groupedType = split(resultType, 1);
    Value groupedInit =
        rewriter.create<tensor::ExpandShapeOp>(loc, groupedType, init, atOne);
    auto attr = [&](ArrayRef<int64_t> v) {
      return DenseIntElementsAttr::get(
          RankedTensorType::get({2}, rewriter.getI64Type()), v);
    };
    Value grouped =
        rewriter
            .create<linalg::Conv2DNgchwGfchwOp>(
                loc, groupedType, ValueRange{groupedInput, groupedFilter},
                groupedInit, attr(stride), attr(dilation))
            .getResult(0);
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, resultType,
                                                         grouped, atOne);
    return success();
  }
};

/// argmax / argmin: a generic over the input with two outputs reduced along
/// `dim`, the best value so far and its index (linalg.index). A later
/// element replaces them only if strictly better, so ties keep the first;
/// a NaN replaces a number and is never replaced (the first NaN wins), as
/// PyTorch.
template <typename OpTy, bool IsMax>
struct ArgReduceLowering : public OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    Type original = inputType.getElementType();
    Type element = this->getTypeConverter()->convertType(original);
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = inputType.getRank(), dim = op.getDim();
    bool keep = resultType.getRank() == rank;
    auto [iterators, outMap] =
        reductionLoops(rank, {dim}, keep, rewriter.getContext());
    SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(rank),
                                   outMap, outMap};
    auto filled = [&](Type type, Value value) {
      Value empty =
          rewriter.create<tensor::EmptyOp>(loc, resultType.getShape(), type);
      return rewriter.create<linalg::FillOp>(loc, value, empty).getResult(0);
    };
    Value start = reductionIdentity(rewriter, loc,
                                    IsMax ? ReduceKind::Max : ReduceKind::Min,
                                    original, element);
    Value zero =
        rewriter.create<arith::ConstantOp>(loc, rewriter.getI64IntegerAttr(0));
    Value values = filled(element, start);
    Value indices = filled(rewriter.getI64Type(), zero);
    bool isUnsigned = isUnsignedInt(original) || original.isInteger(1);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{values.getType(), indices.getType()}, adaptor.getInput(),
        ValueRange{values, indices}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = args[0], best = args[1], index = args[2];
          Value take;
          if (isa<FloatType>(x.getType())) {
            Value better = b.create<arith::CmpFOp>(
                l,
                IsMax ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT,
                x, best);
            Value xNaN =
                b.create<arith::CmpFOp>(l, arith::CmpFPredicate::UNO, x, x);
            Value bestNumber = b.create<arith::CmpFOp>(
                l, arith::CmpFPredicate::ORD, best, best);
            take = b.create<arith::OrIOp>(
                l, better, b.create<arith::AndIOp>(l, xNaN, bestNumber));
          } else {
            auto predicate = IsMax ? (isUnsigned ? arith::CmpIPredicate::ugt
                                                 : arith::CmpIPredicate::sgt)
                                   : (isUnsigned ? arith::CmpIPredicate::ult
                                                 : arith::CmpIPredicate::slt);
            take = b.create<arith::CmpIOp>(l, predicate, x, best);
          }
          Value position = b.create<arith::IndexCastOp>(
              l, b.getI64Type(), b.create<linalg::IndexOp>(l, dim));
          b.create<linalg::YieldOp>(
              l,
              ValueRange{b.create<arith::SelectOp>(l, take, x, best),
                         b.create<arith::SelectOp>(l, take, position, index)});
        });
    rewriter.replaceOp(op, generic.getResult(1));
    return success();
  }
};

/// `trueno.gather` is a parallel generic over the index: each iteration
/// reads its own index element and extracts the input element at the
/// iteration's coordinates with coordinate `dim` replaced by it. The input
/// is captured, not an operand, so elementwise producers of the index and
/// consumers of the result still fuse with it.
struct GatherLowering : public OpConversionPattern<GatherOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    int64_t rank = resultType.getRank(), dim = op.getDim();
    Value input = adaptor.getInput();
    Value empty = rewriter.create<tensor::EmptyOp>(loc, resultType.getShape(),
                                                   resultType.getElementType());
    SmallVector<AffineMap> maps(2, rewriter.getMultiDimIdentityMap(rank));
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{resultType}, adaptor.getIndex(), ValueRange{empty}, maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> coordinates;
          for (int64_t d = 0; d < rank; ++d)
            coordinates.push_back(
                d == dim
                    ? b.create<arith::IndexCastOp>(l, b.getIndexType(), args[0])
                          .getResult()
                    : b.create<linalg::IndexOp>(l, d).getResult());
          b.create<linalg::YieldOp>(
              l,
              b.create<tensor::ExtractOp>(l, input, coordinates).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct ConstantLowering : public OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto dense = dyn_cast<DenseElementsAttr>(op.getValue());
    if (!dense)
      return rewriter.notifyMatchFailure(op, "needs a dense constant");
    auto type =
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    if (type != dense.getType()) // ui8 data reinterpreted as i8
      dense = dense.bitcast(type.getElementType());
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, type, dense);
    return success();
  }
};


struct ConvertTruenoToLinalgPass
    : public mlir::trueno::impl::ConvertTruenoToLinalgBase<
          ConvertTruenoToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    SignlessTypeConverter converter;
    RewritePatternSet patterns(context);
    // Every elementwise op of trueno/OpTable.def, through its scalar recipe.
#define TRUENO_UNARY(Code, mnemonic, function, rule, cost)                   \
  patterns.add<ElementwiseLowering<Code##Op>>(converter, context);
#define TRUENO_BINARY(Code, mnemonic, function, cost)                         \
  patterns.add<ElementwiseLowering<Code##Op>>(converter, context);
#define TRUENO_ELEMENTWISE(Code, mnemonic, attributes, cost)                   \
  patterns.add<ElementwiseLowering<Code##Op>>(converter, context);
#include "trueno/OpTable.def"
    patterns.add<ExpandLowering, ConstantLowering, MatmulLowering,
                 Conv2dLowering, GatherLowering>(converter, context);
    patterns.add<ArgReduceLowering<ArgMaxOp, true>,
                 ArgReduceLowering<ArgMinOp, false>>(converter, context);
    patterns.add<ReduceLowering<ReduceSumOp, ReduceKind::Sum>,
                 ReduceLowering<ReduceProdOp, ReduceKind::Prod>,
                 ReduceLowering<ReduceMaxOp, ReduceKind::Max>,
                 ReduceLowering<ReduceMinOp, ReduceKind::Min>>(converter,
                                                               context);
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateReturnOpTypeConversionPattern(patterns, converter);

    ConversionTarget target(*context);
    target.addIllegalDialect<TruenoDialect>();
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect>();
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp op) {
      return converter.isSignatureLegal(op.getFunctionType());
    });
    target.addDynamicallyLegalOp<func::ReturnOp>(
        [&](func::ReturnOp op) { return converter.isLegal(op); });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
