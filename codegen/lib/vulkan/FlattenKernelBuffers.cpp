//===- FlattenKernelBuffers.cpp - Kernels' buffers as 1-D arrays ----------===//
//
// trueno-flatten-kernel-buffers: see Passes.td.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include <cmath>
#include <limits>

namespace mlir::trueno {
#define GEN_PASS_DEF_FLATTENKERNELBUFFERS
#include "trueno/Codegen/Vulkan/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

/// A kernel argument's layout: element strides and offset, and the 1-D
/// type of the elements it reaches.
struct Flattened {
  SmallVector<int64_t> strides;
  /// Added to the linearized position: the layout's offset, plus how far
  /// negative strides reach below it (the runtime binds the buffer at the
  /// lowest element a view reaches: runtime/vulkan/VulkanBackend.cpp).
  int64_t offset = 0;
  MemRefType type;
  bool bfloat16 = false; ///< stored as i16 (SPIR-V has no bfloat16)
  /// Elements per array element: 4 where the kernel reads the buffer only
  /// by 4-element vector.loads at aligned positions (an array of vectors,
  /// so that each is one load), 8 where only by 8-element loads of 16-bit
  /// elements (an array of vector<4xi32>: 16 bytes a load; SPIR-V's
  /// vectors have at most 4 components), else 1.
  int64_t vectorWidth = 1;
};

constexpr int64_t kVectorWidth = 4;
constexpr int64_t kWideHalves = 8;

/// The width every use of `argument` loads with: 4 where each is a
/// vector.load of 4 elements, 8 where each is one of 8 16-bit elements,
/// else 0.
int64_t vectorLoadWidth(BlockArgument argument) {
  int64_t width = 0;
  for (Operation *user : argument.getUsers()) {
    auto load = dyn_cast<vector::LoadOp>(user);
    if (!load || load.getVectorType().getRank() != 1)
      return 0;
    VectorType type = load.getVectorType();
    int64_t w = type.getNumElements();
    if (w != kVectorWidth &&
        !(w == kWideHalves && type.getElementTypeBitWidth() == 16))
      return 0;
    if (width != 0 && w != width)
      return 0;
    width = w;
  }
  return width;
}

/// Whether `user` casts the bfloat16 buffer `argument` to a float16 memref
/// of its shape and layout: its bits as float16 stand-ins.
bool isHalfView(BlockArgument argument, Operation *user) {
  auto type = dyn_cast<MemRefType>(argument.getType());
  auto cast = dyn_cast<UnrealizedConversionCastOp>(user);
  return type && type.getElementType().isBF16() && cast &&
         cast->getNumOperands() == 1 && cast->getNumResults() == 1 &&
         cast->getResult(0).getType() ==
             type.clone(Float16Type::get(type.getContext()));
}

/// The buffer's layout flattened; an array of `vectorWidth`-element groups
/// where `vectorWidth` > 1 and the layout allows it.
std::optional<Flattened> flatten(MemRefType type, int64_t vectorWidth) {
  Flattened f;
  int64_t offset = 0;
  if (!type.hasStaticShape() ||
      failed(getStridesAndOffset(type, f.strides, offset)) ||
      ShapedType::isDynamic(offset) || llvm::any_of(f.strides, [](int64_t s) {
        return ShapedType::isDynamic(s);
      }))
    return std::nullopt;
  int64_t lowest = offset, highest = offset;
  for (auto [size, stride] : llvm::zip(type.getShape(), f.strides))
    if (size > 0)
      (stride < 0 ? lowest : highest) += (size - 1) * stride;
  int64_t shift = lowest < 0 ? -lowest : 0;
  f.offset = offset + shift;
  Type element = type.getElementType();
  if (element.isBF16()) {
    f.bfloat16 = true;
    element = IntegerType::get(type.getContext(), 16);
  }
  int64_t elements = highest + shift + 1;
  // An array of vectors where each load's position is a multiple of the
  // width: the offset and every stride but a unit one are, and the loads'
  // innermost index is (trueno-tile-matmuls emits only such).
  const int64_t w = vectorWidth;
  // (bfloat16 only in wide groups, whose bits the cooperative kernel moves
  // without arithmetic.)
  if (w > 1 && (!f.bfloat16 || w == kWideHalves) && f.offset % w == 0 &&
      elements % w == 0 && llvm::all_of(f.strides, [&](int64_t s) {
        return s == 1 || s % w == 0;
      })) {
    f.vectorWidth = w;
    Type group =
        w == kWideHalves
            ? VectorType::get({4}, IntegerType::get(type.getContext(), 32))
            : VectorType::get({w}, element);
    f.type = MemRefType::get({elements / w}, group, MemRefLayoutAttrInterface(),
                             type.getMemorySpace());
    return f;
  }
  f.type = MemRefType::get({elements}, element, MemRefLayoutAttrInterface(),
                           type.getMemorySpace());
  return f;
}

/// offset + sum(index_d * stride_d), folding zero and unit strides.
Value linearize(OpBuilder &b, Location loc, ValueRange indices,
                const Flattened &f) {
  Value sum;
  for (auto [index, stride] : llvm::zip(indices, f.strides)) {
    if (stride == 0)
      continue;
    Value term =
        stride == 1
            ? index
            : b.create<arith::MulIOp>(
                  loc, index, b.create<arith::ConstantIndexOp>(loc, stride));
    sum = sum ? b.create<arith::AddIOp>(loc, sum, term).getResult() : term;
  }
  if (f.offset != 0 || !sum) {
    Value offset = b.create<arith::ConstantIndexOp>(loc, f.offset);
    sum = sum ? b.create<arith::AddIOp>(loc, sum, offset).getResult() : offset;
  }
  return sum;
}

/// Points every use of `op`'s result at `guarded`, a value computed from it
/// by the ops inserted right after `op` (up to `guarded`'s definition),
/// which keep reading the original, in their nested regions too.
void useGuarded(Operation *op, Value guarded) {
  llvm::SmallPtrSet<Operation *, 32> guard;
  for (Operation *g = op->getNextNode();
       g != guarded.getDefiningOp()->getNextNode(); g = g->getNextNode())
    guard.insert(g);
  Block *block = op->getBlock();
  op->getResult(0).replaceUsesWithIf(guarded, [&](OpOperand &use) {
    Operation *top = block->findAncestorOpInBlock(*use.getOwner());
    return !top || !guard.contains(top);
  });
}

/// powf with IEEE pow's special cases around it: convert-math-to-spirv's
/// GLSL.std.450 Pow is undefined for a negative or zero base (MLIR flips
/// the sign for an odd exponent, truncating a fractional one), so a
/// negative base to a non-integer power gave a number instead of NaN.
void guardPowF(ModuleOp module) {
  module.walk([](math::PowFOp pow) {
    OpBuilder b(pow);
    b.setInsertionPointAfter(pow);
    Location loc = pow.getLoc();
    Value x = pow.getLhs(), y = pow.getRhs();
    Type type = x.getType();
    auto constant = [&](double v) -> Value {
      return b.create<arith::ConstantOp>(loc, b.getFloatAttr(type, v));
    };
    auto cmp = [&](arith::CmpFPredicate p, Value l, Value r) -> Value {
      return b.create<arith::CmpFOp>(loc, p, l, r);
    };
    auto both = [&](Value l, Value r) -> Value {
      return b.create<arith::AndIOp>(loc, l, r);
    };
    auto select = [&](Value c, Value t, Value f) -> Value {
      return b.create<arith::SelectOp>(loc, c, t, f);
    };
    using P = arith::CmpFPredicate;
    Value zero = constant(0), one = constant(1),
          inf = constant(std::numeric_limits<double>::infinity()),
          nan = constant(std::numeric_limits<double>::quiet_NaN());
    Value integer = cmp(P::OEQ, b.create<math::FloorOp>(loc, y), y);
    Value half = b.create<arith::MulFOp>(loc, y, constant(0.5));
    Value odd =
        both(integer, cmp(P::ONE, b.create<math::FloorOp>(loc, half), half));
    Value xZero = cmp(P::OEQ, x, zero);
    Value r = pow.getResult();
    // (+-0)^y: +-inf below 0, +-0 above (signed for an odd integer y).
    r = select(both(xZero, cmp(P::OLT, y, zero)),
               select(odd, b.create<math::CopySignOp>(loc, inf, x), inf), r);
    r = select(both(xZero, cmp(P::OGT, y, zero)), select(odd, x, zero), r);
    // A negative base to a finite non-integer power: NaN, but for -inf
    // (inf above 0, 0 below).
    Value finite = cmp(P::OLT, b.create<math::AbsFOp>(loc, y), inf);
    Value fractional = b.create<arith::XOrIOp>(
        loc, integer, b.create<arith::ConstantIntOp>(loc, 1, 1));
    Value negativeInf = b.create<arith::NegFOp>(loc, inf);
    r = select(both(both(cmp(P::OLT, x, zero), finite), fractional),
               select(cmp(P::OEQ, x, negativeInf),
                      select(cmp(P::OGT, y, zero), inf, zero), nan),
               r);
    // NaN in, NaN out ...
    r = select(cmp(P::UNO, x, y), nan, r);
    // ... but x^0 and 1^y are 1, even for NaN.
    r = select(
        b.create<arith::OrIOp>(loc, cmp(P::OEQ, y, zero), cmp(P::OEQ, x, one)),
        one, r);
    useGuarded(pow, r);
  });
}

/// tanh saturated where float32 rounds it to +-1 (|x| > 9.01): the
/// polynomial that replaces it below (MLIR's, which clamps its argument at
/// 7.99) stays 1.2e-7 short of it, which gelu(tanh) of -4000 turned into
/// -0.0005 instead of -0.
void saturateTanh(ModuleOp module) {
  module.walk([](math::TanhOp tanh) {
    Type type = tanh.getType();
    if (!getElementTypeOrSelf(type).isF32())
      return;
    OpBuilder b(tanh);
    b.setInsertionPointAfter(tanh);
    Location loc = tanh.getLoc();
    Value x = tanh.getOperand();
    Value far = b.create<arith::CmpFOp>(
        loc, arith::CmpFPredicate::OGT, b.create<math::AbsFOp>(loc, x),
        b.create<arith::ConstantOp>(loc, b.getFloatAttr(type, 9.1)));
    Value one = b.create<math::CopySignOp>(
        loc, b.create<arith::ConstantOp>(loc, b.getFloatAttr(type, 1.0)), x);
    Value r = b.create<arith::SelectOp>(loc, far, one, tanh.getResult());
    useGuarded(tanh, r);
  });
}

/// float64 copysign(a, s) by comparisons: SPIR-V's (a bit operation on
/// the 64-bit pattern) needs Int64, which a device with Float64 need not
/// have. s is negative where s < 0, or s is zero and 1 / s is -inf (-0);
/// a NaN s counts as positive (its sign bit is out of reach), where
/// Trueno's recipes only use the sign of a number or a zero.
void copySignWithoutInt64(ModuleOp module) {
  module.walk([](math::CopySignOp op) {
    if (!op.getType().isF64())
      return;
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value a = op.getLhs(), s = op.getRhs();
    auto constant = [&](double v) -> Value {
      return b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(v));
    };
    using P = arith::CmpFPredicate;
    Value zero = constant(0);
    Value below = b.create<arith::CmpFOp>(loc, P::OLT, s, zero);
    Value isZero = b.create<arith::CmpFOp>(loc, P::OEQ, s, zero);
    Value inverse = b.create<arith::DivFOp>(loc, constant(1), s);
    Value minusZero = b.create<arith::AndIOp>(
        loc, isZero, b.create<arith::CmpFOp>(loc, P::OLT, inverse, zero));
    Value negative = b.create<arith::OrIOp>(loc, below, minusZero);
    Value magnitude = b.create<math::AbsFOp>(loc, a);
    Value r = b.create<arith::SelectOp>(
        loc, negative, b.create<arith::NegFOp>(loc, magnitude), magnitude);
    op.getResult().replaceAllUsesWith(r);
    op.erase();
  });
}

/// fmod(x, y) of float32 or float64 x and y, x and y finite, y nonzero,
/// |x| > |y|, exactly, in integers (musl's fmodf and fmod): with p the
/// mantissa's bits (23, 52) and bias its exponent's (127, 1023),
/// x = mx 2^(ex - bias - p) and y = my 2^(ey - bias - p) (mantissas with
/// their implicit bit; a subnormal's exponent field counted as 1), the
/// remainder of mx 2^(ex - ey) by my is found one bit at a time,
/// subtracting my where the running remainder reaches it and shifting,
/// ex - ey times (at most 253 for float32, 2045 for float64): every step is
/// exact, and so is the result, r 2^(ey - bias - p) with r < my < 2^(p+1),
/// made by two multiplications by powers of two (r 2^-p first, which is
/// below 2 and exact; the remainder itself is representable, so the second
/// product is exact too). Carries the sign of x.
Value integerRem(OpBuilder &b, Location loc, Value x, Value y) {
  const bool wide = x.getType().isF64();
  const int64_t p = wide ? 52 : 23; // (bias: 1023 or 127, in the exponents)
  Type integer = wide ? b.getI64Type() : b.getI32Type();
  Type floating = x.getType();
  auto constant = [&](int64_t v) -> Value {
    return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(integer, v));
  };
  auto bitsOf = [&](Value v) -> Value {
    return b.create<arith::BitcastOp>(loc, integer,
                                      b.create<math::AbsFOp>(loc, v));
  };
  Value ux = bitsOf(x), uy = bitsOf(y);
  Value shift = constant(p), mantissaMask = constant((int64_t(1) << p) - 1);
  Value implicit = constant(int64_t(1) << p), zero = constant(0),
        one = constant(1);
  auto split = [&](Value bits) -> std::pair<Value, Value> {
    Value exponent = b.create<arith::ShRUIOp>(loc, bits, shift);
    Value mantissa = b.create<arith::AndIOp>(loc, bits, mantissaMask);
    Value normal =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, exponent, zero);
    mantissa = b.create<arith::SelectOp>(
        loc, normal, b.create<arith::OrIOp>(loc, mantissa, implicit), mantissa);
    exponent = b.create<arith::SelectOp>(loc, normal, exponent, one);
    return {exponent, mantissa};
  };
  auto [ex, mx] = split(ux);
  auto [ey, my] = split(uy);
  // r >= my ? r - my : r
  auto reduce = [&](OpBuilder &ob, Value r) -> Value {
    Value ge = ob.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge, r, my);
    return ob.create<arith::SelectOp>(loc, ge,
                                      ob.create<arith::SubIOp>(loc, r, my), r);
  };
  // A while loop: its results are those of its condition region, which
  // runs at least once (scf.for's results are undefined after no
  // iteration in MLIR 19's SPIR-V conversion).
  auto loop = b.create<scf::WhileOp>(
      loc, TypeRange{integer, integer}, ValueRange{mx, ex},
      [&](OpBuilder &ob, Location l, ValueRange args) {
        Value more =
            ob.create<arith::CmpIOp>(l, arith::CmpIPredicate::sgt, args[1], ey);
        ob.create<scf::ConditionOp>(l, more, args);
      },
      [&](OpBuilder &ob, Location l, ValueRange args) {
        Value r = ob.create<arith::ShLIOp>(l, reduce(ob, args[0]), one);
        Value e = ob.create<arith::SubIOp>(l, args[1], one);
        ob.create<scf::YieldOp>(l, ValueRange{r, e});
      });
  Value r = reduce(b, loop.getResult(0));
  // r 2^(ey - bias - p) = (r 2^-p) 2^(ey - bias), ey - bias a normal
  // exponent (ey in [1, 2 bias]).
  Value scale = b.create<arith::BitcastOp>(
      loc, floating, b.create<arith::ShLIOp>(loc, ey, shift));
  Value value = b.create<arith::MulFOp>(
      loc,
      b.create<arith::MulFOp>(
          loc, b.create<arith::UIToFPOp>(loc, floating, r),
          b.create<arith::ConstantOp>(
              loc, b.getFloatAttr(floating, std::ldexp(1.0, -int(p))))),
      scale);
  return b.create<math::CopySignOp>(loc, value, x);
}

/// arith.remf as C's fmod: SPIR-V's OpFRem is x - y * trunc(x / y) in
/// floating point, which is NaN for an infinite y (fmod gives x) and may be
/// an ulp off otherwise. An infinite y with a finite x gives x. On a device
/// with float64, a float32 remainder is computed there exactly: q =
/// trunc(x / y) is exact below 2^24, q * y has at most 48 significant bits,
/// and x - q * y is the representable remainder (q one too far, where the
/// quotient rounded up to an integer, gives the other sign: one |y| back).
/// Without float64, or with q at 2^24 or more, a float32 remainder with
/// |x| > |y| is computed in integers (integerRem), in a branch only the
/// elements that need it take; a float64 one with |x| > |y| likewise where
/// the device has int64 (else OpFRem's, within 2^-50 |x|).
void exactRemF(ModuleOp module, bool float64, bool int64) {
  SmallVector<arith::RemFOp> rems;
  module.walk([&](arith::RemFOp rem) {
    if (rem->getParentOfType<gpu::GPUFuncOp>())
      rems.push_back(rem);
  });
  for (arith::RemFOp rem : rems) {
    OpBuilder b(rem);
    b.setInsertionPointAfter(rem);
    Location loc = rem.getLoc();
    Value x = rem.getLhs(), y = rem.getRhs();
    Type type = x.getType();
    using P = arith::CmpFPredicate;
    auto constant = [&](Type t, double v) -> Value {
      return b.create<arith::ConstantOp>(loc, b.getFloatAttr(t, v));
    };
    auto cmp = [&](P p, Value l, Value r) -> Value {
      return b.create<arith::CmpFOp>(loc, p, l, r);
    };
    Value r = rem.getResult();
    // Whether the float64 shortcut below computed the remainder.
    Value shortcut = b.create<arith::ConstantOp>(loc, b.getBoolAttr(false));
    if (float64 && type.isF32()) {
      Type f64 = b.getF64Type();
      Value x64 = b.create<arith::ExtFOp>(loc, f64, x);
      Value y64 = b.create<arith::ExtFOp>(loc, f64, y);
      Value ratio = b.create<arith::DivFOp>(loc, x64, y64);
      Value zero = constant(f64, 0);
      // copysign(a, s) as a select: float64 copysign needs Int64 in
      // SPIR-V, which a device with Float64 need not have.
      auto withSignOf = [&](Value a, Value s) -> Value {
        return b.create<arith::SelectOp>(loc, cmp(P::OLT, s, zero),
                                         b.create<arith::NegFOp>(loc, a), a);
      };
      // trunc as floor(|v|) with v's sign: math-to-spirv has no trunc.
      Value q = withSignOf(
          b.create<math::FloorOp>(loc, b.create<math::AbsFOp>(loc, ratio)),
          ratio);
      Value exact = b.create<arith::SubFOp>(
          loc, x64, b.create<arith::MulFOp>(loc, q, y64));
      Value overshot = b.create<arith::AndIOp>(
          loc, cmp(P::ONE, exact, zero),
          b.create<arith::XOrIOp>(loc, cmp(P::OLT, exact, zero),
                                  cmp(P::OLT, x64, zero)));
      exact = b.create<arith::SelectOp>(
          loc, overshot,
          b.create<arith::AddFOp>(
              loc, exact, withSignOf(b.create<math::AbsFOp>(loc, y64), x64)),
          exact);
      Value inRange = b.create<arith::AndIOp>(
          loc,
          cmp(P::OLT, b.create<math::AbsFOp>(loc, q), constant(f64, 16777216)),
          cmp(P::ONE, y64, zero));
      r = b.create<arith::SelectOp>(
          loc, inRange, b.create<arith::TruncFOp>(loc, type, exact), r);
      shortcut = inRange;
    }
    Value inf = constant(type, std::numeric_limits<double>::infinity());
    Value negativeInf = b.create<arith::NegFOp>(loc, inf);
    Value yInfinite = b.create<arith::OrIOp>(loc, cmp(P::OEQ, y, inf),
                                             cmp(P::OEQ, y, negativeInf));
    Value xFinite = b.create<arith::AndIOp>(loc, cmp(P::ONE, x, inf),
                                            cmp(P::ONE, x, negativeInf));
    if (type.isF32() || (type.isF64() && int64)) {
      // |x| > |y|, both finite, y nonzero (ONE is false for NaN), and no
      // shortcut: the integer remainder. |x| <= |y| is OpFRem's x, or 0
      // for |x| = |y| (exact).
      Value ax = b.create<math::AbsFOp>(loc, x);
      Value ay = b.create<math::AbsFOp>(loc, y);
      Value needed = b.create<arith::AndIOp>(
          loc,
          b.create<arith::AndIOp>(
              loc, xFinite,
              b.create<arith::XOrIOp>(loc, yInfinite,
                                      cmp(P::ONE, y, constant(type, 0)))),
          b.create<arith::AndIOp>(
              loc, cmp(P::OGT, ax, ay),
              b.create<arith::XOrIOp>(
                  loc, shortcut,
                  b.create<arith::ConstantOp>(loc, b.getBoolAttr(true)))));
      auto branch = b.create<scf::IfOp>(
          loc, needed,
          [&](OpBuilder &ob, Location l) {
            ob.create<scf::YieldOp>(l, integerRem(ob, l, x, y));
          },
          [&](OpBuilder &ob, Location l) { ob.create<scf::YieldOp>(l, r); });
      r = branch.getResult(0);
    }
    r = b.create<arith::SelectOp>(
        loc, b.create<arith::AndIOp>(loc, yInfinite, xFinite), x, r);
    useGuarded(rem, r);
  }
}

/// arith.remsi as a - (a / b) * b: MLIR's conversion emulates OpSRem on
/// absolute values, and the absolute value of the type's minimum overflows
/// (int8's -128 % 125 gave 3, not -3). The scalar recipes keep b = 0 and
/// min / -1 out of both.
void remainderFromQuotient(ModuleOp module) {
  SmallVector<arith::RemSIOp> rems;
  module.walk([&](arith::RemSIOp rem) {
    if (rem->getParentOfType<gpu::GPUFuncOp>())
      rems.push_back(rem);
  });
  for (arith::RemSIOp rem : rems) {
    OpBuilder b(rem);
    Location loc = rem.getLoc();
    Value q = b.create<arith::DivSIOp>(loc, rem.getLhs(), rem.getRhs());
    Value r = b.create<arith::SubIOp>(
        loc, rem.getLhs(), b.create<arith::MulIOp>(loc, q, rem.getRhs()));
    rem.getResult().replaceAllUsesWith(r);
    rem.erase();
  }
}

/// math.ipowi (which math-to-spirv cannot convert) as exponentiation by
/// squaring over the exponent's bits, unrolled, with math.ipowi's meaning
/// of a negative exponent (trunc(1 / x^-e): 1 for base 1, +-1 for base -1,
/// 0 otherwise; the scalar recipe keeps base 0 out of it).
void expandIPowI(ModuleOp module) {
  SmallVector<math::IPowIOp> powers;
  module.walk([&](math::IPowIOp op) { powers.push_back(op); });
  for (math::IPowIOp op : powers) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value x = op.getLhs(), e = op.getRhs();
    Type type = x.getType();
    unsigned bits = getElementTypeOrSelf(type).getIntOrFloatBitWidth();
    auto constant = [&](int64_t v) -> Value {
      return b.create<arith::ConstantIntOp>(loc, v, type);
    };
    auto cmp = [&](arith::CmpIPredicate p, Value l, Value r) -> Value {
      return b.create<arith::CmpIOp>(loc, p, l, r);
    };
    using P = arith::CmpIPredicate;
    Value zero = constant(0), one = constant(1);
    Value result = one, square = x;
    for (unsigned bit = 0; bit + 1 < bits; ++bit) {
      Value set =
          cmp(P::ne,
              b.create<arith::AndIOp>(
                  loc, b.create<arith::ShRSIOp>(loc, e, constant(bit)), one),
              zero);
      result = b.create<arith::SelectOp>(
          loc, set, b.create<arith::MulIOp>(loc, result, square), result);
      if (bit + 2 < bits)
        square = b.create<arith::MulIOp>(loc, square, square);
    }
    Value odd = cmp(P::ne, b.create<arith::AndIOp>(loc, e, one), zero);
    Value negative = b.create<arith::SelectOp>(
        loc, cmp(P::eq, x, one), one,
        b.create<arith::SelectOp>(
            loc, cmp(P::eq, x, constant(-1)),
            b.create<arith::SelectOp>(loc, odd, constant(-1), one), zero));
    Value power =
        b.create<arith::SelectOp>(loc, cmp(P::slt, e, zero), negative, result);
    op.getResult().replaceAllUsesWith(power);
    op.erase();
  }
}

struct FlattenKernelBuffersPass
    : public mlir::trueno::impl::FlattenKernelBuffersBase<
          FlattenKernelBuffersPass> {
  using FlattenKernelBuffersBase::FlattenKernelBuffersBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // What SPIR-V lacks, said or rewritten first: GLSL.std.450's
    // transcendental functions take 16/32-bit floats only, and its integer
    // min and max no booleans (on i1 they are `and` and `or`).
    guardPowF(module);
    saturateTanh(module);
    exactRemF(module, float64, int64);
    remainderFromQuotient(module);
    expandIPowI(module);
    if (!int64)
      copySignWithoutInt64(module);
    {
      // Math that MLIR 19's math-to-spirv has no instruction for, in terms
      // of what it has (tan as sin / cos, erf, atan2, asin, ... as
      // polynomials in float32).
      RewritePatternSet patterns(&getContext());
      populateExpandTanPattern(patterns);
      populateExpandSinhPattern(patterns);
      populateExpandCoshPattern(patterns);
      populateExpandAsinhPattern(patterns);
      populateExpandAcoshPattern(patterns);
      populateExpandAtanhPattern(patterns);
      populateExpandFPowIPattern(patterns);
      populateExpandExp2FPattern(patterns);
      populateMathPolynomialApproximationPatterns(patterns, {});
      if (failed(applyPatternsAndFoldGreedily(module, std::move(patterns))))
        return signalPassFailure();
    }
    WalkResult unsupported = module.walk([&](Operation *op) {
      if (isa<arith::MinUIOp, arith::MaxUIOp>(op) &&
          op->getResult(0).getType().isInteger(1)) {
        OpBuilder b(op);
        Value lhs = op->getOperand(0), rhs = op->getOperand(1);
        Value r =
            isa<arith::MinUIOp>(op)
                ? b.create<arith::AndIOp>(op->getLoc(), lhs, rhs).getResult()
                : b.create<arith::OrIOp>(op->getLoc(), lhs, rhs).getResult();
        op->replaceAllUsesWith(ValueRange{r});
        op->erase();
        return WalkResult::skip();
      }
      if (op->getDialect() && op->getDialect()->getNamespace() == "math" &&
          !isa<math::FmaOp, math::SqrtOp, math::RsqrtOp, math::AbsFOp,
               math::FloorOp, math::CeilOp, math::RoundOp, math::RoundEvenOp,
               math::TruncOp, math::CopySignOp, math::AbsIOp>(op) &&
          llvm::any_of(op->getOperandTypes(),
                       [](Type t) { return t.isF64(); })) {
        op->emitOpError("on float64 has no SPIR-V instruction (GLSL.std.450 "
                        "computes it in 16 or 32 bits): compute in float32 "
                        "on this device, or move the tensor to the CPU");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (unsupported.wasInterrupted())
      return signalPassFailure();
    // The new argument types of each kernel, by kernel symbol.
    llvm::DenseMap<Operation *, SmallVector<std::optional<Flattened>>> changed;
    WalkResult result = module.walk([&](gpu::GPUFuncOp func) {
      if (!func.isKernel())
        return WalkResult::advance();
      SmallVector<std::optional<Flattened>> layouts;
      SmallVector<Type> inputs;
      for (BlockArgument argument : func.getArguments()) {
        // A bfloat16 buffer the kernel reads only through float16 views
        // (trueno-tile-matmuls' matrix loads) becomes a float16 one.
        auto halfView = [&](Operation *user) {
          return isHalfView(argument, user);
        };
        const bool viewedAsHalves = !argument.use_empty() &&
                                    llvm::all_of(argument.getUsers(), halfView);
        if (!viewedAsHalves && llvm::any_of(argument.getUsers(), halfView)) {
          func.emitOpError("reads a bfloat16 buffer both through float16 "
                           "views and otherwise: ")
              << argument.getType();
          return WalkResult::interrupt();
        }
        if (viewedAsHalves) {
          for (Operation *user :
               llvm::make_early_inc_range(argument.getUsers())) {
            user->getResult(0).replaceAllUsesWith(argument);
            user->erase();
          }
          argument.setType(cast<MemRefType>(argument.getType())
                               .clone(Float16Type::get(&getContext())));
        }
        auto type = dyn_cast<MemRefType>(argument.getType());
        std::optional<Flattened> f;
        int64_t width = vectorLoadWidth(argument);
        if (type && (width > 1 || viewedAsHalves ||
                     !(type.getRank() == 1 && type.getLayout().isIdentity() &&
                       !type.getElementType().isBF16()))) {
          f = flatten(type, width);
          if (!f) {
            func.emitOpError("has an argument of a dynamic layout: ") << type;
            return WalkResult::interrupt();
          }
          if (failed(rewriteUses(argument, *f)))
            return WalkResult::interrupt();
          argument.setType(f->type);
        }
        inputs.push_back(argument.getType());
        layouts.push_back(f);
      }
      func.setType(FunctionType::get(&getContext(), inputs, {}));
      changed[func] = std::move(layouts);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto func = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
          launch, launch.getKernel());
      auto found = changed.find(func);
      if (!func || found == changed.end())
        return;
      OpBuilder b(launch);
      for (auto [i, f] : llvm::enumerate(found->second)) {
        if (!f)
          continue;
        Value operand = launch.getKernelOperands()[i];
        auto type = cast<MemRefType>(operand.getType());
        int64_t elements = f->type.getDimSize(0) * f->vectorWidth;
        auto flatType =
            MemRefType::get({elements}, type.getElementType(),
                            MemRefLayoutAttrInterface(), type.getMemorySpace());
        Value flat = b.create<memref::ReinterpretCastOp>(
            launch.getLoc(), flatType, operand, /*offset=*/0,
            /*sizes=*/ArrayRef<int64_t>{elements},
            /*strides=*/ArrayRef<int64_t>{1});
        if (flatType != f->type) // bfloat16 bits as i16 or f16, or vectors
          flat = b.create<UnrealizedConversionCastOp>(launch.getLoc(), f->type,
                                                      flat)
                     .getResult(0);
        launch.getKernelOperandsMutable()[i].set(flat);
      }
    });
  }

  static LogicalResult rewriteUses(BlockArgument argument, const Flattened &f) {
    for (Operation *user : llvm::make_early_inc_range(argument.getUsers())) {
      OpBuilder b(user);
      if (auto load = dyn_cast<memref::LoadOp>(user)) {
        Value index = linearize(b, load.getLoc(), load.getIndices(), f);
        Value flat =
            b.create<memref::LoadOp>(load.getLoc(), f.type.getElementType(),
                                     argument, ValueRange{index});
        if (f.bfloat16)
          flat =
              b.create<arith::BitcastOp>(load.getLoc(), load.getType(), flat);
        load.replaceAllUsesWith(flat);
        load.erase();
      } else if (auto load = dyn_cast<vector::LoadOp>(user)) {
        Location loc = load.getLoc();
        Value index = linearize(b, loc, load.getIndices(), f);
        Value vector;
        if (f.vectorWidth > 1) {
          // One load of the group; a wide group of halves, loaded as
          // vector<4xi32>, bitcast back (trueno-tile-matmuls bitcasts it
          // to vector<4xi32> again for its tile: the two fold away).
          Value position = b.create<arith::DivUIOp>(
              loc, index, b.create<arith::ConstantIndexOp>(loc, f.vectorWidth));
          vector = b.create<memref::LoadOp>(loc, f.type.getElementType(),
                                            argument, ValueRange{position});
          if (vector.getType() != load.getVectorType()) {
            Value group = vector;
            vector =
                b.create<vector::BitCastOp>(loc, load.getVectorType(), group);
            // (At once where a use casts it back: a bfloat16 vector would
            // otherwise meet trueno-expand-bf16 first.)
            for (Operation *use : llvm::make_early_inc_range(load->getUsers()))
              if (auto back = dyn_cast<vector::BitCastOp>(use);
                  back && back.getType() == group.getType()) {
                back.replaceAllUsesWith(group);
                back.erase();
              }
          }
        } else {
          // Not an array of vectors: the elements one by one.
          SmallVector<Value> elements;
          for (int64_t i = 0; i < load.getVectorType().getNumElements(); ++i) {
            Value at = b.create<arith::AddIOp>(
                loc, index, b.create<arith::ConstantIndexOp>(loc, i));
            Value e = b.create<memref::LoadOp>(loc, f.type.getElementType(),
                                               argument, ValueRange{at});
            if (f.bfloat16)
              e = b.create<arith::BitcastOp>(
                  loc, load.getVectorType().getElementType(), e);
            elements.push_back(e);
          }
          vector = b.create<vector::FromElementsOp>(loc, load.getVectorType(),
                                                    elements);
        }
        load.replaceAllUsesWith(vector);
        load.erase();
      } else if (auto store = dyn_cast<memref::StoreOp>(user)) {
        Value index = linearize(b, store.getLoc(), store.getIndices(), f);
        Value value = store.getValue();
        if (f.bfloat16)
          value = b.create<arith::BitcastOp>(store.getLoc(),
                                             f.type.getElementType(), value);
        b.create<memref::StoreOp>(store.getLoc(), value, argument,
                                  ValueRange{index});
        store.erase();
      } else if (auto load = dyn_cast<gpu::SubgroupMmaLoadMatrixOp>(user);
                 load && f.vectorWidth == 1 && !f.bfloat16) {
        // A cooperative matrix's rows: the row stride (leadDimension, in
        // elements) is the same in the flat buffer.
        Value index = linearize(b, load.getLoc(), load.getIndices(), f);
        Value flat = b.create<gpu::SubgroupMmaLoadMatrixOp>(
            load.getLoc(), load.getRes().getType(), argument, ValueRange{index},
            load.getLeadDimensionAttr(), load.getTransposeAttr());
        load.replaceAllUsesWith(flat);
        load.erase();
      } else if (auto store = dyn_cast<gpu::SubgroupMmaStoreMatrixOp>(user);
                 store && f.vectorWidth == 1 && !f.bfloat16) {
        Value index = linearize(b, store.getLoc(), store.getIndices(), f);
        b.create<gpu::SubgroupMmaStoreMatrixOp>(
            store.getLoc(), store.getSrc(), argument, ValueRange{index},
            store.getLeadDimensionAttr(), store.getTransposeAttr());
        store.erase();
      } else {
        return user->emitOpError("uses a kernel buffer other than by a load "
                                 "or a store");
      }
    }
    return success();
  }
};

} // namespace
