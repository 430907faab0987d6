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
#include "trueno/Codegen/ScalarRecipes.h"
#include "trueno/Core/Philox.h"
#include "trueno/IR/TruenoOps.h"

#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

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

/// An elementwise op: one generic over the result's shape whose body is
/// the op's scalar recipe (ScalarRecipes.cpp).
template <typename OpTy>
struct ElementwiseLowering : public OpConversionPattern<OpTy> {
  ElementwiseLowering(const TypeConverter &converter, MLIRContext *context,
                      const ScalarTarget &target)
      : OpConversionPattern<OpTy>(converter, context), target(target) {}

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = dyn_cast_or_null<RankedTensorType>(
        this->getTypeConverter()->convertType(op.getType()));
    if (!resultType || !resultType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "needs a static ranked result");
    SmallVector<AffineMap> maps(
        op->getNumOperands(),
        rewriter.getMultiDimIdentityMap(resultType.getRank()));
    auto generic = buildGeneric(
        rewriter, op.getLoc(), resultType, adaptor.getOperands(), maps,
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          // Registered for the op table's elementwise ops, each of which
          // has a recipe.
          return *buildScalarRecipe(b, loc, op.getOperation(), args, target);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }

  ScalarTarget target;
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

namespace philox = ::trueno::philox;

/// The row-major position of a linalg.generic's iteration over `shape`.
Value rowMajorPosition(OpBuilder &b, Location l, ArrayRef<int64_t> shape) {
  if (shape.empty())
    return b.create<arith::ConstantIndexOp>(l, 0);
  SmallVector<Value> coordinates;
  for (int64_t d = 0, rank = shape.size(); d < rank; ++d)
    coordinates.push_back(b.create<linalg::IndexOp>(l, d));
  Value position = coordinates[0];
  for (int64_t d = 1, rank = shape.size(); d < rank; ++d)
    position = b.create<arith::AddIOp>(
        l,
        b.create<arith::MulIOp>(l, position,
                                b.create<arith::ConstantIndexOp>(l, shape[d])),
        coordinates[d]);
  return position;
}

/// Philox4x32-10's block for the counter (low, high) under the key (key0,
/// key1), all i32, as `Generator::block` computes it on the host
/// (trueno/Core/Philox.h): ten rounds of two 32x32->64-bit products.
std::array<Value, 4> buildPhiloxBlock(OpBuilder &b, Location l, Value low,
                                      Value high, Value key0, Value key1) {
  auto c32 = [&](uint32_t v) -> Value {
    return b.create<arith::ConstantOp>(
        l, b.getI32IntegerAttr(static_cast<int32_t>(v)));
  };
  auto xor3 = [&](Value a, Value c, Value d) -> Value {
    return b.create<arith::XOrIOp>(l, b.create<arith::XOrIOp>(l, a, c), d);
  };
  std::array<Value, 4> x = {low, high, c32(0), c32(0)};
  for (int round = 0; round < philox::kRounds; ++round) {
    auto p0 =
        b.create<arith::MulUIExtendedOp>(l, c32(philox::kMultiplier0), x[0]);
    auto p1 =
        b.create<arith::MulUIExtendedOp>(l, c32(philox::kMultiplier1), x[2]);
    x = std::array<Value, 4>{xor3(p1.getHigh(), x[1], key0), p1.getLow(),
                             xor3(p0.getHigh(), x[3], key1), p0.getLow()};
    if (round + 1 < philox::kRounds) {
      key0 = b.create<arith::AddIOp>(l, key0, c32(philox::kWeyl0));
      key1 = b.create<arith::AddIOp>(l, key1, c32(philox::kWeyl1));
    }
  }
  return x;
}

/// `trueno.random_uniform`: a parallel generic over the result whose body
/// finds its element's Philox block from the element's position
/// (linalg.index) and the counter, and turns the element's words into a
/// uniform value by docs/RANDOM.md's recipe. The key and the first counter
/// are rank-0 operands read by every element.
struct RandomUniformLowering : public OpConversionPattern<RandomUniformOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(RandomUniformOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    Type element = resultType.getElementType();
    int64_t wordsPerValue = element.isF64() ? 2 : 1;
    // The words of the last element lie in the first 2^32 blocks after
    // the counter when there are fewer than 2^34 of them, so a block's
    // offset from the counter is a 32-bit number (always on a GPU, whose
    // tensors have fewer than 2^31 elements); only bigger tensors need
    // 64-bit integers.
    bool wideOffsets =
        resultType.getNumElements() * wordsPerValue >= (1ll << 34);
    SmallVector<AffineMap> maps(
        4, AffineMap::get(resultType.getRank(), 0, rewriter.getContext()));
    auto generic = buildGeneric(
        rewriter, op.getLoc(), resultType, adaptor.getOperands(), maps,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Type i32 = b.getI32Type();
          auto c32 = [&](uint32_t v) -> Value {
            return b.create<arith::ConstantOp>(
                l, b.getI32IntegerAttr(static_cast<int32_t>(v)));
          };
          auto cIndex = [&](int64_t v) -> Value {
            return b.create<arith::ConstantIndexOp>(l, v);
          };
          // The element's first word: its block (offset from the counter)
          // and its place in the block.
          Value word = rowMajorPosition(b, l, resultType.getShape());
          if (wordsPerValue == 2)
            word = b.create<arith::MulIOp>(l, word, cIndex(2));
          Value block = b.create<arith::ShRUIOp>(l, word, cIndex(2));
          Value place = b.create<arith::IndexCastOp>(
              l, i32, b.create<arith::AndIOp>(l, word, cIndex(3)));
          Value blockLow = b.create<arith::IndexCastOp>(l, i32, block);
          Value blockHigh = c32(0);
          if (wideOffsets) {
            Value wide = b.create<arith::IndexCastOp>(l, b.getI64Type(), block);
            blockHigh = b.create<arith::TruncIOp>(
                l, i32,
                b.create<arith::ShRUIOp>(
                    l, wide,
                    b.create<arith::ConstantOp>(l, b.getI64IntegerAttr(32))));
          }
          // counter + block, a 64-bit sum of 32-bit halves. The carry is
          // a comparison, not arith.addui_extended: LLVM's loop vectorizer
          // leaves loops calling uadd.with.overflow scalar.
          Value low = b.create<arith::AddIOp>(l, args[2], blockLow);
          Value carry = b.create<arith::ExtUIOp>(
              l, i32,
              b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ult, low,
                                      blockLow));
          Value high = b.create<arith::AddIOp>(
              l, b.create<arith::AddIOp>(l, args[3], blockHigh), carry);
          std::array<Value, 4> x =
              buildPhiloxBlock(b, l, low, high, args[0], args[1]);
          // The element's words: place 0..3 (one word), or 0 or 2 (two).
          auto isPlace = [&](uint32_t p) -> Value {
            return b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, place,
                                           c32(p));
          };
          auto select = [&](Value cond, Value a, Value c) -> Value {
            return b.create<arith::SelectOp>(l, cond, a, c);
          };
          auto scaledFloat = [&](Type type, Value bits, double scale) {
            Value v = b.create<arith::UIToFPOp>(l, type, bits);
            return b.create<arith::MulFOp>(
                l, v,
                b.create<arith::ConstantOp>(l, b.getFloatAttr(type, scale)));
          };
          if (wordsPerValue == 2) {
            // ((w0 << 32 | w1) >> 11) * 2^-53 = w0 * 2^-32 + (w1 >> 11) *
            // 2^-53: both terms and their sum are exact in a double, and
            // no 64-bit integer is needed.
            Value first = isPlace(0);
            Value w0 = select(first, x[0], x[2]);
            Value w1 = select(first, x[1], x[3]);
            Type f64 = b.getF64Type();
            return b.create<arith::AddFOp>(
                l, scaledFloat(f64, w0, 0x1p-32),
                scaledFloat(f64, b.create<arith::ShRUIOp>(l, w1, c32(11)),
                            0x1p-53));
          }
          Value w =
              select(isPlace(0), x[0],
                     select(isPlace(1), x[1], select(isPlace(2), x[2], x[3])));
          int bits = element.isF16() ? 11 : element.isBF16() ? 8 : 24;
          // Fewer than 25 bits: exact in float32, then in the narrow type.
          Value u = scaledFloat(b.getF32Type(),
                                b.create<arith::ShRUIOp>(l, w, c32(32 - bits)),
                                std::ldexp(1.0, -bits));
          if (!element.isF32())
            u = b.create<arith::TruncFOp>(l, element, u);
          return u;
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Movement
//===----------------------------------------------------------------------===//

/// A copy of `input` into a fresh tensor of `resultType` that reads it
/// through `map`: elementwise fusion then composes the map into the
/// producers' and consumers' loops, so nothing is copied in the end.
Value readThrough(ConversionPatternRewriter &rewriter, Location loc,
                  RankedTensorType resultType, Value input, AffineMap map) {
  return buildGeneric(
             rewriter, loc, resultType, input, map,
             [](OpBuilder &, Location, ValueRange args) { return args[0]; })
      .getResult(0);
}

/// transpose: result dimension d reads input dimension permutation[d].
struct TransposeLowering : public OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    ArrayRef<int64_t> permutation = op.getPermutation();
    SmallVector<AffineExpr> exprs(permutation.size());
    for (auto [d, p] : llvm::enumerate(permutation))
      exprs[p] = rewriter.getAffineDimExpr(d);
    AffineMap map =
        AffineMap::get(permutation.size(), 0, exprs, rewriter.getContext());
    rewriter.replaceOp(op, readThrough(rewriter, op.getLoc(), resultType,
                                       adaptor.getInput(), map));
    return success();
  }
};

/// slice: result position i reads input position offsets + i * steps, an
/// affine map (negative steps included).
struct SliceLowering : public OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    auto inputType = cast<RankedTensorType>(op.getInput().getType());
    SmallVector<AffineExpr> exprs;
    for (auto [d, offset, step] :
         llvm::enumerate(op.getOffsets(), op.getSteps())) {
      AffineExpr i = rewriter.getAffineDimExpr(d);
      int64_t size = inputType.getDimSize(d);
      if (offset == 0 && step == 1 && resultType.getDimSize(d) != size)
        // A crop (x[:n]): `i` alone would make linalg take the loop's
        // range from the input. `i mod size` is the same position (i <
        // n <= size), which linalg does not simplify and LLVM does, from
        // the loop's range.
        exprs.push_back(i % size);
      else
        exprs.push_back(rewriter.getAffineConstantExpr(offset) + i * step);
    }
    AffineMap map =
        AffineMap::get(resultType.getRank(), 0, exprs, rewriter.getContext());
    rewriter.replaceOp(op, readThrough(rewriter, op.getLoc(), resultType,
                                       adaptor.getInput(), map));
    return success();
  }
};

/// reshape: `tensor.collapse_shape` then `expand_shape` through a shape
/// both collapse to (linalg fusion propagates them through elementwise
/// generics, and bufferization turns them into views): the reshape itself
/// when it only splits or merges dimensions or moves size-1 ones, else one
/// dimension.
struct ReshapeLowering : public OpConversionPattern<ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    // Both shapes collapse to a common one: the input's dimensions without
    // its size-1 ones when the result's are the same (a reshape that only
    // adds or drops size-1 dimensions, or one that is a pure split or
    // merge), or else one dimension.
    auto squeezed = [](ArrayRef<int64_t> shape) {
      SmallVector<int64_t> kept;
      for (int64_t size : shape)
        if (size != 1)
          kept.push_back(size);
      return kept;
    };
    SmallVector<int64_t> middle = squeezed(inputType.getShape());
    if (middle != squeezed(resultType.getShape()))
      middle = {inputType.getNumElements()};
    if (auto groups = getReassociationIndicesForCollapse(inputType.getShape(),
                                                         resultType.getShape());
        groups && inputType.getRank() > resultType.getRank())
      middle = llvm::to_vector(resultType.getShape()); // a pure merge
    if (auto groups = getReassociationIndicesForCollapse(resultType.getShape(),
                                                         inputType.getShape());
        groups && resultType.getRank() > inputType.getRank())
      middle = llvm::to_vector(inputType.getShape()); // a pure split
    auto middleType = RankedTensorType::get(middle, inputType.getElementType());
    Value value = input;
    if (middleType != inputType) {
      auto groups =
          getReassociationIndicesForCollapse(inputType.getShape(), middle);
      if (!groups)
        return rewriter.notifyMatchFailure(op, "cannot collapse the input");
      value = rewriter.create<tensor::CollapseShapeOp>(loc, middleType, value,
                                                       *groups);
    }
    if (middleType != resultType) {
      auto groups =
          getReassociationIndicesForCollapse(resultType.getShape(), middle);
      if (!groups)
        return rewriter.notifyMatchFailure(op, "cannot expand to the result");
      value = rewriter.create<tensor::ExpandShapeOp>(loc, resultType, value,
                                                     *groups);
    }
    rewriter.replaceOp(op, value);
    return success();
  }
};

/// `source` written into `dest` at offsets + i * steps, as
/// `tensor.insert_slice` (in place on dest when bufferization can). A
/// negative step writes the source reversed along that dimension at
/// positive stride.
Value insertWindow(ConversionPatternRewriter &rewriter, Location loc,
                   Value source, Value dest, ArrayRef<int64_t> offsets,
                   ArrayRef<int64_t> steps) {
  auto sourceType = cast<RankedTensorType>(source.getType());
  int64_t rank = sourceType.getRank();
  SmallVector<int64_t> starts, strides;
  SmallVector<AffineExpr> reversed;
  bool anyNegative = false;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t n = sourceType.getDimSize(d), step = steps[d];
    AffineExpr i = rewriter.getAffineDimExpr(d);
    if (step < 0 && n > 0) {
      anyNegative = true;
      starts.push_back(offsets[d] + (n - 1) * step);
      strides.push_back(-step);
      reversed.push_back(rewriter.getAffineConstantExpr(n - 1) - i);
    } else {
      starts.push_back(n > 0 ? offsets[d] : 0);
      strides.push_back(std::abs(step));
      reversed.push_back(i);
    }
  }
  if (anyNegative)
    source =
        readThrough(rewriter, loc, sourceType, source,
                    AffineMap::get(rank, 0, reversed, rewriter.getContext()));
  return rewriter.create<tensor::InsertSliceOp>(
      loc, source, dest, ValueRange{}, ValueRange{}, ValueRange{}, starts,
      sourceType.getShape(), strides);
}

struct InsertSliceLowering : public OpConversionPattern<InsertSliceOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(InsertSliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, insertWindow(rewriter, op.getLoc(),
                                        adaptor.getSource(), adaptor.getDest(),
                                        op.getOffsets(), op.getSteps()));
    return success();
  }
};

/// pad: the result filled with the value, the input inserted at `low` with
/// stride `interior + 1`.
struct PadLowering : public OpConversionPattern<PadOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    // The filled result is built as early as the value allows, so that the
    // input's producer can write into its window (eliminate-empty-tensors
    // needs the window's tensor to dominate that producer).
    Value filled;
    {
      OpBuilder::InsertionGuard guard(rewriter);
      Value v = adaptor.getValue();
      if (Operation *def = v.getDefiningOp())
        rewriter.setInsertionPointAfter(def);
      else
        rewriter.setInsertionPointToStart(op->getBlock());
      Value value = rewriter.create<tensor::ExtractOp>(loc, v, ValueRange{});
      Value empty = rewriter.create<tensor::EmptyOp>(
          loc, resultType.getShape(), resultType.getElementType());
      filled = rewriter.create<linalg::FillOp>(loc, value, empty).getResult(0);
    }
    SmallVector<int64_t> strides;
    for (int64_t interior : op.getInterior())
      strides.push_back(interior + 1);
    rewriter.replaceOp(op, insertWindow(rewriter, loc, adaptor.getInput(),
                                        filled, op.getLow(), strides));
    return success();
  }
};

/// concat: each input inserted into its window of the result; bufferization
/// then lets each input's producer write there directly.
struct ConcatLowering : public OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    int64_t rank = resultType.getRank(), dim = op.getDim();
    // The result's init comes first in the block: eliminate-empty-tensors
    // lets an input's producer write into its window only if the window's
    // tensor dominates that producer.
    Value result;
    {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(op->getBlock());
      result = rewriter.create<tensor::EmptyOp>(loc, resultType.getShape(),
                                                resultType.getElementType());
    }
    // Each window is written right after its input is computed, in the
    // order the inputs are computed, so that every insert's destination
    // dominates the next input's producer (which then writes its window
    // directly).
    SmallVector<std::pair<Value, int64_t>> windows;
    int64_t at = 0;
    for (Value input : adaptor.getInputs()) {
      windows.push_back({input, at});
      at += cast<RankedTensorType>(input.getType()).getDimSize(dim);
    }
    Block *block = op->getBlock();
    auto position = [&](Value v) -> Operation * {
      Operation *def = v.getDefiningOp();
      return def ? block->findAncestorOpInBlock(*def) : nullptr;
    };
    llvm::stable_sort(windows, [&](auto &a, auto &b) {
      Operation *x = position(a.first), *y = position(b.first);
      return y && (!x || x->isBeforeInBlock(y));
    });
    OpBuilder::InsertionGuard guard(rewriter);
    Operation *last = result.getDefiningOp();
    for (auto [input, offset] : windows) {
      Operation *def = position(input);
      if (def && last->isBeforeInBlock(def))
        last = def;
      rewriter.setInsertionPointAfter(last);
      SmallVector<int64_t> offsets(rank, 0), steps(rank, 1);
      offsets[dim] = offset;
      result = insertWindow(rewriter, loc, input, result, offsets, steps);
      last = result.getDefiningOp();
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// scatter and scatter_add: a loop nest over the source in row-major order
/// (repeated positions: the last write wins, or the values add up in that
/// order, so float sums are deterministic) that updates a copy of the input
/// element by element.
template <typename OpTy, bool Add>
struct ScatterLowering : public OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto sourceType = cast<RankedTensorType>(adaptor.getSource().getType());
    Type original = getElementTypeOrSelf(op.getInput().getType());
    int64_t dim = op.getDim();
    SmallVector<Value> lower, upper, steps;
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    for (int64_t size : sourceType.getShape()) {
      lower.push_back(zero);
      upper.push_back(rewriter.create<arith::ConstantIndexOp>(loc, size));
      steps.push_back(one);
    }
    Value index = adaptor.getIndex(), source = adaptor.getSource();
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lower, upper, steps, ValueRange{adaptor.getInput()},
        [&](OpBuilder &b, Location l, ValueRange ivs,
            ValueRange acc) -> scf::ValueVector {
          Value at = b.create<tensor::ExtractOp>(l, index, ivs);
          SmallVector<Value> position(ivs.begin(), ivs.end());
          position[dim] = b.create<arith::IndexCastOp>(l, b.getIndexType(), at);
          Value x = b.create<tensor::ExtractOp>(l, source, ivs);
          if (Add) {
            Value old = b.create<tensor::ExtractOp>(l, acc[0], position);
            x = reductionCombine(b, l, ReduceKind::Sum, original, x, old);
          }
          return {b.create<tensor::InsertOp>(l, x, acc[0], position)};
        });
    rewriter.replaceOp(op, nest.results);
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
  using ConvertTruenoToLinalgBase::ConvertTruenoToLinalgBase;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    SignlessTypeConverter converter;
    RewritePatternSet patterns(context);
    // Every elementwise op of trueno/OpTable.def, through its scalar recipe.
    ScalarTarget scalars;
    scalars.float64 = float64;
#define TRUENO_UNARY(Code, mnemonic, function, rule, cost)                     \
  patterns.add<ElementwiseLowering<Code##Op>>(converter, context, scalars);
#define TRUENO_BINARY(Code, mnemonic, function, cost)                          \
  patterns.add<ElementwiseLowering<Code##Op>>(converter, context, scalars);
#define TRUENO_ELEMENTWISE(Code, mnemonic, attributes, cost)                   \
  patterns.add<ElementwiseLowering<Code##Op>>(converter, context, scalars);
#include "trueno/OpTable.def"
    patterns.add<ExpandLowering, ConstantLowering, MatmulLowering,
                 Conv2dLowering, GatherLowering, RandomUniformLowering>(
        converter, context);
    patterns.add<TransposeLowering, SliceLowering, ReshapeLowering,
                 InsertSliceLowering, PadLowering, ConcatLowering,
                 ScatterLowering<ScatterOp, false>,
                 ScatterLowering<ScatterAddOp, true>>(converter, context);
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
                           arith::ArithDialect, math::MathDialect,
                           scf::SCFDialect>();
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
