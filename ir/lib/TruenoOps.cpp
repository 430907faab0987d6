//===- TruenoOps.cpp - Verifiers and folders of the trueno ops ------------===//
//
// Verifiers check what the traits cannot express (broadcast compatibility).
// Folders do local algebra that is exact in IEEE arithmetic (x + 0 is not x for
// x = -0.0, so it folds only for integers) and fold constants through MLIR's
// common folders.
//
//===----------------------------------------------------------------------===//
#include "trueno/IR/TruenoOps.h"

#include "mlir/Dialect/CommonFolders.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;
using namespace mlir::trueno;

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

/// Whether `value` is a splat constant equal to `number` (as float or int).
static bool isSplatOf(Attribute attr, double number) {
  auto splat = dyn_cast_or_null<SplatElementsAttr>(attr);
  if (!splat)
    return false;
  Type element = splat.getElementType();
  if (isa<FloatType>(element))
    return splat.getSplatValue<APFloat>().convertToDouble() == number;
  // Every other trueno element type is an integer (bool is i1).
  auto intType = cast<IntegerType>(element);
  APInt v = splat.getSplatValue<APInt>();
  return intType.isUnsigned() || intType.getWidth() == 1
             ? v.getZExtValue() == static_cast<uint64_t>(number)
             : v.getSExtValue() == static_cast<int64_t>(number);
}

static bool isIntegerTensor(Type type) {
  return isa<IntegerType>(cast<ShapedType>(type).getElementType());
}

/// Folds a float unary op on a constant by evaluating `fn` in double and
/// rounding back to the element type.
template <typename Fn>
static OpFoldResult foldFloatUnary(Attribute operand, Fn fn) {
  return constFoldUnaryOp<FloatAttr, APFloat, void>(
      operand, [&](const APFloat &a) {
        bool losesInfo;
        APFloat result(fn(a.convertToDouble()));
        result.convert(a.getSemantics(), APFloat::rmNearestTiesToEven,
                       &losesInfo);
        return result;
      });
}

/// A splat constant stays a splat under any rearrangement.
static OpFoldResult foldSplat(Attribute input, Type resultType) {
  if (auto splat = dyn_cast_or_null<SplatElementsAttr>(input))
    return SplatElementsAttr::get(cast<ShapedType>(resultType),
                                  splat.getSplatValue<Attribute>());
  return {};
}

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  // -(-x) = x exactly, for floats and for wrapping integers alike.
  if (auto inner = getInput().getDefiningOp<NegOp>())
    return inner.getInput();
  if (isIntegerTensor(getType()))
    return constFoldUnaryOp<IntegerAttr, APInt, void>(
        adaptor.getInput(), [](const APInt &a) { return -a; });
  return foldFloatUnary(adaptor.getInput(), [](double x) { return -x; });
}

OpFoldResult AbsOp::fold(FoldAdaptor adaptor) {
  if (auto inner = getInput().getDefiningOp<AbsOp>())
    return inner.getResult();
  return {};
}

OpFoldResult ExpOp::fold(FoldAdaptor adaptor) {
  return foldFloatUnary(adaptor.getInput(),
                        [](double x) { return std::exp(x); });
}

OpFoldResult LogOp::fold(FoldAdaptor adaptor) {
  return foldFloatUnary(adaptor.getInput(),
                        [](double x) { return std::log(x); });
}

OpFoldResult ReluOp::fold(FoldAdaptor adaptor) {
  if (auto inner = getInput().getDefiningOp<ReluOp>())
    return inner.getResult();
  return {};
}

/// floor, ceil and round are the identity on their own results.
template <typename Op> static OpFoldResult foldIdempotent(Op op) {
  if (auto inner = op.getInput().template getDefiningOp<Op>())
    return inner.getResult();
  return {};
}
OpFoldResult FloorOp::fold(FoldAdaptor) { return foldIdempotent(*this); }
OpFoldResult CeilOp::fold(FoldAdaptor) { return foldIdempotent(*this); }
OpFoldResult RoundOp::fold(FoldAdaptor) { return foldIdempotent(*this); }

OpFoldResult LogicalNotOp::fold(FoldAdaptor) {
  // not(not(b)) = b for bool b; for other types it is b != 0, not b.
  if (auto inner = getInput().getDefiningOp<LogicalNotOp>())
    if (inner.getInput().getType() == getType())
      return inner.getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// Binary
//===----------------------------------------------------------------------===//

/// Constant folding shared by the arithmetic ops: `floatFn` on APFloat,
/// `intFn` on APInt (two's complement, wrapping as the dtypes do).
template <typename FloatFn, typename IntFn>
static OpFoldResult foldArithmetic(ArrayRef<Attribute> operands, Type type,
                                   FloatFn floatFn, IntFn intFn) {
  if (isIntegerTensor(type))
    return constFoldBinaryOp<IntegerAttr, APInt, void>(operands, intFn);
  return constFoldBinaryOp<FloatAttr, APFloat, void>(operands, floatFn);
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  // x + 0 = x only for integers: for floats, -0.0 + 0.0 is +0.0.
  if (isIntegerTensor(getType()) && isSplatOf(adaptor.getRhs(), 0))
    return getLhs();
  return foldArithmetic(
      adaptor.getOperands(), getType(),
      [](const APFloat &a, const APFloat &b) { return a + b; },
      [](const APInt &a, const APInt &b) { return a + b; });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  // x - 0 = x holds for floats too (-0.0 - 0.0 is -0.0).
  if (isSplatOf(adaptor.getRhs(), 0) &&
      (isIntegerTensor(getType()) || !cast<SplatElementsAttr>(adaptor.getRhs())
                                          .getSplatValue<APFloat>()
                                          .isNegative()))
    return getLhs();
  return foldArithmetic(
      adaptor.getOperands(), getType(),
      [](const APFloat &a, const APFloat &b) { return a - b; },
      [](const APInt &a, const APInt &b) { return a - b; });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (isSplatOf(adaptor.getRhs(), 1))
    return getLhs();
  return foldArithmetic(
      adaptor.getOperands(), getType(),
      [](const APFloat &a, const APFloat &b) { return a * b; },
      [](const APInt &a, const APInt &b) { return a * b; });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  if (isSplatOf(adaptor.getRhs(), 1))
    return getLhs();
  return constFoldBinaryOp<FloatAttr, APFloat, void>(
      adaptor.getOperands(),
      [](const APFloat &a, const APFloat &b) { return a / b; });
}

OpFoldResult MaximumOp::fold(FoldAdaptor adaptor) {
  if (getLhs() == getRhs())
    return getLhs();
  return {};
}

OpFoldResult MinimumOp::fold(FoldAdaptor adaptor) {
  if (getLhs() == getRhs())
    return getLhs();
  return {};
}

//===----------------------------------------------------------------------===//
// Ternary
//===----------------------------------------------------------------------===//

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  if (getLhs() == getRhs())
    return getLhs();
  if (isSplatOf(adaptor.getCondition(), 1))
    return getLhs();
  if (isSplatOf(adaptor.getCondition(), 0))
    return getRhs();
  return {};
}

//===----------------------------------------------------------------------===//
// Casts, broadcasts, constants
//===----------------------------------------------------------------------===//

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}

LogicalResult ExpandOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getType());
  if (in.getElementType() != out.getElementType())
    return emitOpError("changes the element type from ")
           << in.getElementType() << " to " << out.getElementType()
           << "; use trueno.cast";
  if (in.getRank() > out.getRank())
    return emitOpError("cannot broadcast rank ")
           << in.getRank() << " to the lower rank " << out.getRank();
  int64_t lead = out.getRank() - in.getRank();
  for (int64_t i = 0; i < in.getRank(); ++i) {
    int64_t from = in.getDimSize(i), to = out.getDimSize(lead + i);
    if (from != to && from != 1)
      return emitOpError("cannot broadcast dimension ")
             << i << " of size " << from << " to size " << to
             << " (sizes must match or be 1)";
  }
  return success();
}

/// The shape rules shared by every reduction.
static LogicalResult verifyReduction(Operation *op, ArrayRef<int64_t> dims) {
  auto in = cast<RankedTensorType>(op->getOperand(0).getType());
  auto out = cast<RankedTensorType>(op->getResult(0).getType());
  int64_t rank = in.getRank();
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (d < 0 || d >= rank)
      return op->emitOpError("reduces dimension ")
             << d << ", out of range for rank " << rank;
    if (i > 0 && d <= dims[i - 1])
      return op->emitOpError("dims must be strictly increasing");
  }
  bool keep = out.getRank() == rank;
  if (!keep && out.getRank() != rank - static_cast<int64_t>(dims.size()))
    return op->emitOpError("result rank ")
           << out.getRank() << " is neither " << rank << " (kept dims) nor "
           << rank - static_cast<int64_t>(dims.size()) << " (dropped dims)";
  int64_t o = 0;
  for (int64_t d = 0; d < rank; ++d) {
    bool reduced = llvm::is_contained(dims, d);
    if (reduced && !keep)
      continue;
    int64_t want = reduced ? 1 : in.getDimSize(d);
    if (out.getDimSize(o) != want)
      return op->emitOpError("result dimension ")
             << o << " has size " << out.getDimSize(o) << ", expected " << want;
    ++o;
  }
  return success();
}

LogicalResult ReduceSumOp::verify() {
  return verifyReduction(*this, getDims());
}
LogicalResult ReduceProdOp::verify() {
  return verifyReduction(*this, getDims());
}
LogicalResult ReduceMaxOp::verify() {
  return verifyReduction(*this, getDims());
}
LogicalResult ReduceMinOp::verify() {
  return verifyReduction(*this, getDims());
}

static LogicalResult verifyArgReduction(Operation *op, int64_t dim) {
  auto in = cast<RankedTensorType>(op->getOperand(0).getType());
  if (dim < 0 || dim >= in.getRank())
    return op->emitOpError("dimension ")
           << dim << " is out of range for rank " << in.getRank();
  if (in.getDimSize(dim) == 0)
    return op->emitOpError("reduces an empty dimension");
  return verifyReduction(op, {dim});
}

LogicalResult ArgMaxOp::verify() { return verifyArgReduction(*this, getDim()); }
LogicalResult ArgMinOp::verify() { return verifyArgReduction(*this, getDim()); }

LogicalResult GatherOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getType());
  int64_t rank = in.getRank(), dim = getDim();
  if (out.getRank() != rank)
    return emitOpError("needs an index of the input's rank ")
           << rank << ", got rank " << out.getRank();
  if (dim < 0 || dim >= rank)
    return emitOpError("gathers along dimension ")
           << dim << ", out of range for rank " << rank;
  for (int64_t d = 0; d < rank; ++d)
    if (d != dim && out.getDimSize(d) > in.getDimSize(d))
      return emitOpError("result dimension ")
             << d << " has size " << out.getDimSize(d)
             << ", more than the input's " << in.getDimSize(d);
  if (in.getDimSize(dim) == 0 && out.getNumElements() != 0)
    return emitOpError("gathers from an empty dimension ") << dim;
  return success();
}

LogicalResult MatmulOp::verify() {
  auto lhs = cast<RankedTensorType>(getLhs().getType());
  auto rhs = cast<RankedTensorType>(getRhs().getType());
  auto out = cast<RankedTensorType>(getType());
  int64_t rank = lhs.getRank();
  if (rank < 2 || rhs.getRank() != rank || out.getRank() != rank)
    return emitOpError("needs operands and result of one rank, at least 2; "
                       "got ")
           << lhs << ", " << rhs << " and " << out;
  for (int64_t d = 0; d + 2 < rank; ++d)
    if (lhs.getDimSize(d) != rhs.getDimSize(d) ||
        out.getDimSize(d) != lhs.getDimSize(d))
      return emitOpError("batch dimension ")
             << d << " differs: " << lhs.getDimSize(d) << ", "
             << rhs.getDimSize(d) << " and " << out.getDimSize(d);
  int64_t m = lhs.getDimSize(rank - 2), k = lhs.getDimSize(rank - 1);
  int64_t k2 = rhs.getDimSize(rank - 2), n = rhs.getDimSize(rank - 1);
  if (k != k2)
    return emitOpError("contracts ") << k << " columns with " << k2 << " rows";
  if (out.getDimSize(rank - 2) != m || out.getDimSize(rank - 1) != n)
    return emitOpError("result must end in ") << m << "x" << n;
  return success();
}

LogicalResult Conv2dOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto filter = cast<RankedTensorType>(getFilter().getType());
  auto out = cast<RankedTensorType>(getType());
  if (in.getRank() != 4 || filter.getRank() != 4 || out.getRank() != 4)
    return emitOpError("needs rank-4 input, filter and result (NCHW, FCHW)");
  ArrayRef<int64_t> stride = getStride(), padding = getPadding(),
                    dilation = getDilation();
  if (stride.size() != 2 || padding.size() != 2 || dilation.size() != 2)
    return emitOpError("needs two strides, paddings and dilations");
  int64_t groups = getGroups();
  for (int d = 0; d < 2; ++d)
    if (stride[d] < 1 || dilation[d] < 1 || padding[d] < 0)
      return emitOpError("needs strides and dilations >= 1 and paddings >= 0");
  if (groups < 1 || in.getDimSize(1) % groups || filter.getDimSize(0) % groups)
    return emitOpError("groups = ")
           << groups << " must divide the input's " << in.getDimSize(1)
           << " and the filter's " << filter.getDimSize(0) << " channels";
  if (filter.getDimSize(1) * groups != in.getDimSize(1))
    return emitOpError("filter has ")
           << filter.getDimSize(1) << " channels per group, the input "
           << in.getDimSize(1) / groups;
  SmallVector<int64_t> want = {in.getDimSize(0), filter.getDimSize(0)};
  for (int d = 0; d < 2; ++d)
    want.push_back((in.getDimSize(2 + d) + 2 * padding[d] -
                    dilation[d] * (filter.getDimSize(2 + d) - 1) - 1) /
                       stride[d] +
                   1);
  if (out.getShape() != ArrayRef<int64_t>(want))
    return emitOpError("result must have shape ")
           << want[0] << "x" << want[1] << "x" << want[2] << "x" << want[3];
  return success();
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // expand(expand(x)) = expand(x) to the outer shape.
  if (auto inner = getInput().getDefiningOp<ExpandOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  // A broadcast splat is a splat of the larger shape.
  return foldSplat(adaptor.getInput(), getType());
}

//===----------------------------------------------------------------------===//
// Movement
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getType());
  ArrayRef<int64_t> permutation = getPermutation();
  int64_t rank = in.getRank();
  if (static_cast<int64_t>(permutation.size()) != rank || out.getRank() != rank)
    return emitOpError("needs a permutation of ")
           << rank << " dimensions and a result of that rank";
  SmallVector<bool> seen(rank, false);
  for (int64_t p : permutation) {
    if (p < 0 || p >= rank || seen[p])
      return emitOpError("permutation is not a permutation of 0..") << rank - 1;
    seen[p] = true;
  }
  for (int64_t d = 0; d < rank; ++d)
    if (out.getDimSize(d) != in.getDimSize(permutation[d]))
      return emitOpError("result dimension ")
             << d << " has size " << out.getDimSize(d) << ", expected "
             << in.getDimSize(permutation[d]) << " (input dimension "
             << permutation[d] << ")";
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> permutation = getPermutation();
  if (llvm::all_of(llvm::enumerate(permutation),
                   [](auto p) { return p.value() == int64_t(p.index()); }))
    return getInput();
  // transpose(transpose(x, p), q) = transpose(x, p o q).
  if (auto inner = getInput().getDefiningOp<TransposeOp>()) {
    ArrayRef<int64_t> first = inner.getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t p : permutation)
      composed.push_back(first[p]);
    getInputMutable().assign(inner.getInput());
    setPermutation(composed);
    return getResult();
  }
  return foldSplat(adaptor.getInput(), getType());
}

LogicalResult ReshapeOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getType());
  if (in.getNumElements() != out.getNumElements())
    return emitOpError("cannot reshape ")
           << in.getNumElements() << " elements into " << out.getNumElements();
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // reshape(reshape(x)) = reshape(x): both keep row-major order.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput()))
    return dense.reshape(cast<ShapedType>(getType()));
  return {};
}

/// The rules shared by slice and insert_slice: `window` (the slice's result,
/// the insert's source) read from `whole` at offsets + i * steps.
static LogicalResult verifyWindow(Operation *op, RankedTensorType whole,
                                  RankedTensorType window,
                                  ArrayRef<int64_t> offsets,
                                  ArrayRef<int64_t> steps) {
  int64_t rank = whole.getRank();
  if (window.getRank() != rank ||
      static_cast<int64_t>(offsets.size()) != rank ||
      static_cast<int64_t>(steps.size()) != rank)
    return op->emitOpError("needs ")
           << rank << " offsets and steps and a window of rank " << rank;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t size = whole.getDimSize(d), n = window.getDimSize(d);
    if (steps[d] == 0)
      return op->emitOpError("step ") << d << " is zero";
    if (n == 0)
      continue;
    int64_t last = offsets[d] + (n - 1) * steps[d];
    if (offsets[d] < 0 || offsets[d] >= size || last < 0 || last >= size)
      return op->emitOpError("dimension ")
             << d << " reads positions " << offsets[d] << " to " << last
             << ", outside 0.." << size - 1;
  }
  return success();
}

static bool isWholeWindow(RankedTensorType whole, RankedTensorType window,
                          ArrayRef<int64_t> offsets, ArrayRef<int64_t> steps) {
  return whole.getShape() == window.getShape() &&
         llvm::all_of(offsets, [](int64_t o) { return o == 0; }) &&
         llvm::all_of(steps, [](int64_t s) { return s == 1; });
}

LogicalResult SliceOp::verify() {
  return verifyWindow(*this, cast<RankedTensorType>(getInput().getType()),
                      cast<RankedTensorType>(getType()), getOffsets(),
                      getSteps());
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getType());
  if (isWholeWindow(in, out, getOffsets(), getSteps()))
    return getInput();
  // A slice of a slice reads the inner input at o1 + (o2 + i s2) s1.
  if (auto inner = getInput().getDefiningOp<SliceOp>()) {
    SmallVector<int64_t> offsets, steps;
    for (auto [o1, s1, o2, s2] : llvm::zip(inner.getOffsets(), inner.getSteps(),
                                           getOffsets(), getSteps())) {
      offsets.push_back(o1 + o2 * s1);
      steps.push_back(s1 * s2);
    }
    getInputMutable().assign(inner.getInput());
    setOffsets(offsets);
    setSteps(steps);
    return getResult();
  }
  return foldSplat(adaptor.getInput(), getType());
}

LogicalResult InsertSliceOp::verify() {
  return verifyWindow(*this, cast<RankedTensorType>(getDest().getType()),
                      cast<RankedTensorType>(getSource().getType()),
                      getOffsets(), getSteps());
}

OpFoldResult InsertSliceOp::fold(FoldAdaptor) {
  // A window that is the whole destination replaces all of it.
  if (isWholeWindow(cast<RankedTensorType>(getDest().getType()),
                    cast<RankedTensorType>(getSource().getType()), getOffsets(),
                    getSteps()))
    return getSource();
  return {};
}

LogicalResult PadOp::verify() {
  auto in = cast<RankedTensorType>(getInput().getType());
  auto out = cast<RankedTensorType>(getType());
  if (cast<RankedTensorType>(getValue().getType()).getRank() != 0)
    return emitOpError("needs a rank-0 padding value");
  int64_t rank = in.getRank();
  ArrayRef<int64_t> low = getLow(), high = getHigh(), interior = getInterior();
  if (static_cast<int64_t>(low.size()) != rank ||
      static_cast<int64_t>(high.size()) != rank ||
      static_cast<int64_t>(interior.size()) != rank || out.getRank() != rank)
    return emitOpError("needs low, high and interior amounts for each of ")
           << rank << " dimensions";
  for (int64_t d = 0; d < rank; ++d) {
    if (low[d] < 0 || high[d] < 0 || interior[d] < 0)
      return emitOpError("pads dimension ")
             << d << " by a negative amount; crop with trueno.slice";
    int64_t n = in.getDimSize(d);
    int64_t want =
        low[d] + high[d] + n + std::max<int64_t>(n - 1, 0) * interior[d];
    if (out.getDimSize(d) != want)
      return emitOpError("result dimension ")
             << d << " has size " << out.getDimSize(d) << ", expected " << want;
  }
  return success();
}

OpFoldResult PadOp::fold(FoldAdaptor adaptor) {
  auto isZero = [](int64_t v) { return v == 0; };
  if (llvm::all_of(getLow(), isZero) && llvm::all_of(getHigh(), isZero) &&
      llvm::all_of(getInterior(), isZero))
    return getInput();
  // Padding a splat with its own value is a splat.
  auto splat = dyn_cast_or_null<SplatElementsAttr>(adaptor.getInput());
  auto value = dyn_cast_or_null<SplatElementsAttr>(adaptor.getValue());
  if (splat && value &&
      splat.getSplatValue<Attribute>() == value.getSplatValue<Attribute>())
    return foldSplat(splat, getType());
  return {};
}

LogicalResult ConcatOp::verify() {
  auto out = cast<RankedTensorType>(getType());
  int64_t rank = out.getRank(), dim = getDim();
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  if (dim < 0 || dim >= rank)
    return emitOpError("joins along dimension ")
           << dim << ", out of range for rank " << rank;
  int64_t total = 0;
  for (auto [i, input] : llvm::enumerate(getInputs())) {
    auto type = cast<RankedTensorType>(input.getType());
    if (type.getRank() != rank || type.getElementType() != out.getElementType())
      return emitOpError("input ")
             << i << " has type " << type << ", not a " << rank
             << "-d tensor of " << out.getElementType();
    for (int64_t d = 0; d < rank; ++d)
      if (d != dim && type.getDimSize(d) != out.getDimSize(d))
        return emitOpError("input ")
               << i << " has size " << type.getDimSize(d) << " in dimension "
               << d << ", the result " << out.getDimSize(d);
    total += type.getDimSize(dim);
  }
  if (total != out.getDimSize(dim))
    return emitOpError("inputs add up to ")
           << total << " along dimension " << dim << ", the result has "
           << out.getDimSize(dim);
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1)
    return getInputs().front();
  return {};
}

/// The shape rules of scatter and scatter_add.
static LogicalResult verifyScatter(Operation *op, Value input, Value indexValue,
                                   int64_t dim) {
  auto in = cast<RankedTensorType>(input.getType());
  auto index = cast<RankedTensorType>(indexValue.getType());
  int64_t rank = in.getRank();
  if (index.getRank() != rank)
    return op->emitOpError("needs an index and a source of the input's rank ")
           << rank;
  if (dim < 0 || dim >= rank)
    return op->emitOpError("scatters along dimension ")
           << dim << ", out of range for rank " << rank;
  for (int64_t d = 0; d < rank; ++d)
    if (d != dim && index.getDimSize(d) > in.getDimSize(d))
      return op->emitOpError("source dimension ")
             << d << " has size " << index.getDimSize(d)
             << ", more than the input's " << in.getDimSize(d);
  if (in.getDimSize(dim) == 0 && index.getNumElements() != 0)
    return op->emitOpError("scatters into an empty dimension ") << dim;
  return success();
}

LogicalResult RandomUniformOp::verify() {
  // Its lowering computes each element's position from static sizes.
  if (!getType().hasStaticShape())
    return emitOpError("needs a static shape, got ") << getType();
  return success();
}

LogicalResult ScatterOp::verify() {
  return verifyScatter(*this, getInput(), getIndex(), getDim());
}

LogicalResult ScatterAddOp::verify() {
  return verifyScatter(*this, getInput(), getIndex(), getDim());
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

#include "trueno/IR/TruenoInterfaces.cpp.inc"

#define GET_OP_CLASSES
#include "trueno/IR/TruenoOps.cpp.inc"

OpFoldResult DetachOp::fold(FoldAdaptor) { return getInput(); }
