//===- Ops.cpp - Elementwise ops: checks, type rules, recording -----------===//
//
// Each op decides, from its operands, the result's shape (NumPy
// broadcasting) and the dtype it computes in and returns (PyTorch's rules;
// docs/OPS.md), rejects what PyTorch rejects with a typed error at the
// caller's line, and records one trueno op on operands already cast and
// broadcast (Lazy.h). Nothing is computed here.
//
//===----------------------------------------------------------------------===//
#include "lazy/Lazy.h"
#include "trueno/Core/Check.h"

#include "trueno/Ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace trueno {

using detail::fail;
using NodePtr = std::shared_ptr<LazyNode>;

namespace {

/// A binary operand: a tensor, or a Python-like scalar.
struct Arg {
  const Tensor *tensor = nullptr;
  Scalar scalar;
  Arg(const Tensor &t) : tensor(&t) {}
  Arg(Scalar s) : scalar(s) {}
};

const TensorImpl &checked(const Tensor &t, std::string_view op,
                          SourceLoc where) {
  return detail::implOf(t, op, where);
}

/// The broadcast shape of the tensor operands, or ShapeError naming `op`.
Shape broadcastOperands(std::initializer_list<const Tensor *> tensors,
                        std::string_view op, SourceLoc where) {
  std::vector<Shape> shapes;
  for (const Tensor *t : tensors)
    if (t)
      shapes.push_back(t->shape());
  Shape shape;
  try {
    shape = broadcastShapes(std::span<const Shape>(shapes), where);
  } catch (const ShapeError &e) {
    throw ShapeError(std::string(op), e.problem(), e.hint(), where);
  }
  // Views broadcast to (2^40, 1) and (1, 2^40) fit alone, their result's
  // element count does not: refused at the call, not wrapped to 0.
  detail::checkShape(shape, op, where);
  return shape;
}

/// The PyTorch result dtype of two operands.
DType promote(const Arg &a, const Arg &b) {
  if (a.tensor && b.tensor)
    return resultType(*a.tensor, *b.tensor);
  if (a.tensor)
    return resultType(a.tensor->dtype(), b.scalar);
  if (b.tensor)
    return resultType(b.tensor->dtype(), a.scalar);
  // Two wrapped numbers: a float one gives the default float dtype, as
  // torch.where(c, -8.5, 2.5) is float32.
  DType both = resultType(a.scalar.dtype(), b.scalar.dtype());
  return isFloating(both) ? kDefaultFloat : both;
}

/// The node reading `arg` as `dtype`, broadcast to `shape`.
NodePtr operandNode(const Arg &arg, DType dtype, const Shape &shape) {
  if (!arg.tensor)
    return detail::scalarNode(arg.scalar, dtype, shape);
  NodePtr node = detail::nodeOf(*arg.tensor->impl());
  return detail::expandNode(detail::castNode(std::move(node), dtype), shape);
}

[[noreturn]] void rejectDType(std::string_view op, DType dtype,
                              std::string hint, SourceLoc where) {
  fail<DTypeError>(where, op, std::move(hint),
                   "{} is not defined for tensors of dtype {}", op,
                   dtypeName(dtype));
}

Tensor binary(OpCode op, std::string_view name, const Arg &a, const Arg &b,
              SourceLoc where) {
  if (a.tensor)
    checked(*a.tensor, name, where);
  if (b.tensor)
    checked(*b.tensor, name, where);
  Shape shape = broadcastOperands({a.tensor, b.tensor}, name, where);
  DType common = promote(a, b);
  DType compute = common, result = common;
  bool isBool = common == DType::Bool;
  switch (op) {
  case OpCode::Add: // bool + bool is logical or, * is logical and
    if (isBool)
      op = OpCode::LogicalOr;
    break;
  case OpCode::Mul:
    if (isBool)
      op = OpCode::LogicalAnd;
    break;
  case OpCode::Maximum:
    if (isBool)
      op = OpCode::LogicalOr;
    break;
  case OpCode::Minimum:
    if (isBool)
      op = OpCode::LogicalAnd;
    break;
  case OpCode::Sub:
    if (isBool)
      rejectDType(name, common,
                  "for bool tensors use logicalXor() or ^ instead", where);
    break;
  case OpCode::FloorDiv:
  case OpCode::Remainder:
  case OpCode::Pow:
    if (isBool)
      rejectDType(name, common, "convert the operands to an integer dtype",
                  where);
    break;
  case OpCode::Div:
  case OpCode::Atan2: // integers compute in the default float dtype
    if (!isFloating(common))
      compute = result = kDefaultFloat;
    break;
  case OpCode::BitwiseAnd:
  case OpCode::BitwiseOr:
  case OpCode::BitwiseXor:
    if (isFloating(common))
      rejectDType(name, common, "bitwise ops take integer or bool tensors only",
                  where);
    if (isBool) // the same thing, and the IR has bool versions
      op = op == OpCode::BitwiseAnd  ? OpCode::LogicalAnd
           : op == OpCode::BitwiseOr ? OpCode::LogicalOr
                                     : OpCode::LogicalXor;
    break;
  case OpCode::LogicalAnd:
  case OpCode::LogicalOr:
  case OpCode::LogicalXor: // anything is true where nonzero
    compute = result = DType::Bool;
    break;
  case OpCode::Eq:
  case OpCode::Ne:
  case OpCode::Lt:
  case OpCode::Le:
  case OpCode::Gt:
  case OpCode::Ge:
    result = DType::Bool;
    break;
  default:
    break;
  }
  Device device = a.tensor ? a.tensor->device() : b.tensor->device();
  if (a.tensor && b.tensor && a.tensor->device() != b.tensor->device()) {
    // As PyTorch: a 0-d CPU tensor is a scalar to any device.
    bool aScalar = a.tensor->device() == Device::cpu() && a.tensor->dim() == 0;
    bool bScalar = b.tensor->device() == Device::cpu() && b.tensor->dim() == 0;
    if (!aScalar && !bScalar)
      detail::fail<DeviceError>(
          where, opName(op), "move one of them with to(device)",
          "the operands are on different devices: {} and {}",
          a.tensor->device().name(), b.tensor->device().name());
    device = aScalar ? b.tensor->device() : a.tensor->device();
  }
  // x ** 2 is x * x, exactly (one rounding of the exact square either way),
  // and a multiply instead of a powf call, as PyTorch does. Scalars are
  // data to the compiler, so this is decided here.
  if (op == OpCode::Pow && a.tensor && !b.tensor && b.scalar.toDouble() == 2 &&
      !b.scalar.isBool()) {
    NodePtr x = operandNode(a, compute, shape);
    return detail::record(OpCode::Mul, result, shape, {x, x}, device, {},
                          where);
  }
  return detail::record(
      op, result, shape,
      {operandNode(a, compute, shape), operandNode(b, compute, shape)}, device,
      {}, where);
}

/// The frontend's dtype rule of a unary op (its column in OpTable.def).
enum class UnaryRule {
  Numeric,      ///< any number, same dtype; bool rejected
  BoolIdentity, ///< as Numeric, but bool returns itself (sign(true) is true)
  Float,        ///< integers and bool compute in float32
  Rounding,     ///< floats only; integers are returned unchanged
  Predicate,    ///< floats; integers give all false
  Logical,      ///< anything, read as bool (nonzero is true)
};

Tensor unary(OpCode op, std::string_view name, UnaryRule rule, const Tensor &x,
             SourceLoc where, Attributes attributes = {}) {
  const TensorImpl &self = checked(x, name, where);
  DType dtype = self.dtype;
  switch (rule) {
  case UnaryRule::BoolIdentity:
    if (dtype == DType::Bool)
      return x.clone();
    [[fallthrough]];
  case UnaryRule::Numeric:
    if (dtype == DType::Bool)
      rejectDType(name, dtype,
                  op == OpCode::Neg
                      ? "to invert a mask use logicalNot() or ~ instead"
                      : "convert it first, e.g. with to(kInt32)",
                  where);
    break;
  case UnaryRule::Float:
    if (!isFloating(dtype))
      dtype = kDefaultFloat;
    break;
  case UnaryRule::Rounding:
    if (!isFloating(dtype))
      return x.clone(); // already whole numbers
    break;
  case UnaryRule::Predicate:
    if (!isFloating(dtype)) // integers are never NaN or infinite
      return zeros(self.shape, TensorOptions(DType::Bool));
    return detail::record(op, DType::Bool, self.shape, {detail::nodeOf(self)},
                          self.storage->device(), {}, where);
  case UnaryRule::Logical:
    return detail::record(op, DType::Bool, self.shape,
                          {detail::castNode(detail::nodeOf(self), DType::Bool)},
                          self.storage->device(), {}, where);
  }
  return detail::record(op, dtype, self.shape,
                        {detail::castNode(detail::nodeOf(self), dtype)},
                        self.storage->device(), std::move(attributes), where);
}

Tensor whereImpl(const Tensor &condition, const Arg &a, const Arg &b,
                 SourceLoc where) {
  const TensorImpl &cond = checked(condition, "where", where);
  if (a.tensor)
    checked(*a.tensor, "where", where);
  if (b.tensor)
    checked(*b.tensor, "where", where);
  if (cond.dtype != DType::Bool)
    fail<DTypeError>(
        where, "where", "compare first (e.g. x > 0), or convert with to(kBool)",
        "the condition must be a bool tensor, not {}", dtypeName(cond.dtype));
  Shape shape =
      broadcastOperands({&condition, a.tensor, b.tensor}, "where", where);
  DType dtype = promote(a, b);
  return detail::record(OpCode::Where, dtype, shape,
                        {operandNode(Arg(condition), DType::Bool, shape),
                         operandNode(a, dtype, shape),
                         operandNode(b, dtype, shape)},
                        cond.storage->device(), {}, where);
}

} // namespace

//===----------------------------------------------------------------------===//
// Promotion of tensors (of dtypes: core/lib/DType.cpp)
//===----------------------------------------------------------------------===//

DType resultType(const Tensor &a, const Tensor &b) {
  return resultType(a.dtype(), a.dim(), b.dtype(), b.dim());
}

DType resultType(const Tensor &a, const Scalar &b) {
  return resultType(a.dtype(), b);
}

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

#define TRUENO_UNARY(Code, mnemonic, function, rule, cost)                     \
  Tensor function(const Tensor &x, SourceLoc where) {                          \
    return unary(OpCode::Code, #function, UnaryRule::rule, x, where);          \
  }                                                                            \
  Tensor Tensor::function(SourceLoc where) const {                             \
    return trueno::function(*this, where);                                     \
  }
#include "trueno/OpTable.def"

Tensor bitwiseNot(const Tensor &x, SourceLoc where) {
  const TensorImpl &self = checked(x, "bitwiseNot", where);
  if (isFloating(self.dtype))
    rejectDType("bitwiseNot", self.dtype,
                "bitwise ops take integer or bool tensors only", where);
  if (self.dtype == DType::Bool)
    return logicalNot(x, where);
  // x ^ -1 flips every bit (-1 wraps to 255 in uint8).
  return binary(OpCode::BitwiseXor, "bitwiseNot", Arg(x), Arg(Scalar(-1)),
                where);
}
Tensor Tensor::bitwiseNot(SourceLoc where) const {
  return trueno::bitwiseNot(*this, where);
}

Tensor gelu(const Tensor &x, bool tanhApproximation, SourceLoc where) {
  return unary(OpCode::Gelu, "gelu", UnaryRule::Float, x, where,
               {{tanhApproximation ? 1 : 0}});
}
Tensor Tensor::gelu(bool tanhApproximation, SourceLoc where) const {
  return trueno::gelu(*this, tanhApproximation, where);
}

//===----------------------------------------------------------------------===//
// Binary
//===----------------------------------------------------------------------===//

#define TRUENO_BINARY(Code, mnemonic, function, cost)                          \
  Tensor function(const Tensor &a, const Tensor &b, SourceLoc where) {         \
    return binary(OpCode::Code, #function, Arg(a), Arg(b), where);             \
  }                                                                            \
  Tensor function(const Tensor &a, Scalar b, SourceLoc where) {                \
    return binary(OpCode::Code, #function, Arg(a), Arg(b), where);             \
  }                                                                            \
  Tensor function(Scalar a, const Tensor &b, SourceLoc where) {                \
    return binary(OpCode::Code, #function, Arg(a), Arg(b), where);             \
  }                                                                            \
  Tensor Tensor::function(const Tensor &other, SourceLoc where) const {        \
    return trueno::function(*this, other, where);                              \
  }                                                                            \
  Tensor Tensor::function(Scalar other, SourceLoc where) const {               \
    return trueno::function(*this, other, where);                              \
  }
#include "trueno/OpTable.def"

//===----------------------------------------------------------------------===//
// Ternary
//===----------------------------------------------------------------------===//

Tensor where(const Tensor &condition, const Tensor &a, const Tensor &b,
             SourceLoc where) {
  return whereImpl(condition, Arg(a), Arg(b), where);
}
Tensor where(const Tensor &condition, const Tensor &a, Scalar b,
             SourceLoc where) {
  return whereImpl(condition, Arg(a), Arg(b), where);
}
Tensor where(const Tensor &condition, Scalar a, const Tensor &b,
             SourceLoc where) {
  return whereImpl(condition, Arg(a), Arg(b), where);
}
Tensor where(const Tensor &condition, Scalar a, Scalar b, SourceLoc where) {
  return whereImpl(condition, Arg(a), Arg(b), where);
}

Tensor clamp(const Tensor &x, std::optional<Scalar> low,
             std::optional<Scalar> high, SourceLoc where) {
  const TensorImpl &self = checked(x, "clamp", where);
  if (!low && !high)
    fail<ValueError>(where, "clamp", "give a low bound, a high bound or both",
                     "clamp needs at least one bound");
  DType dtype = self.dtype;
  if (low)
    dtype = resultType(dtype, *low);
  if (high)
    dtype = resultType(dtype, *high);
  if (dtype == DType::Bool)
    rejectDType("clamp", dtype, "convert it first, e.g. with to(kInt32)",
                where);
  if (!high)
    return binary(OpCode::Maximum, "clamp", Arg(x.to(dtype)), Arg(*low), where);
  if (!low)
    return binary(OpCode::Minimum, "clamp", Arg(x.to(dtype)), Arg(*high),
                  where);
  return detail::record(OpCode::Clamp, dtype, self.shape,
                        {detail::castNode(detail::nodeOf(self), dtype),
                         detail::scalarNode(*low, dtype, self.shape),
                         detail::scalarNode(*high, dtype, self.shape)},
                        self.storage->device(), {}, where);
}

Tensor clamp(const Tensor &x, const Tensor &low, const Tensor &high,
             SourceLoc where) {
  const TensorImpl &self = checked(x, "clamp", where);
  checked(low, "clamp", where);
  checked(high, "clamp", where);
  Shape shape = broadcastOperands({&x, &low, &high}, "clamp", where);
  DType dtype = resultType(resultType(x, low), high.dtype());
  if (dtype == DType::Bool)
    rejectDType("clamp", dtype, "convert it first, e.g. with to(kInt32)",
                where);
  return detail::record(OpCode::Clamp, dtype, shape,
                        {operandNode(Arg(x), dtype, shape),
                         operandNode(Arg(low), dtype, shape),
                         operandNode(Arg(high), dtype, shape)},
                        self.storage->device(), {}, where);
}

Tensor Tensor::clamp(std::optional<Scalar> low, std::optional<Scalar> high,
                     SourceLoc where) const {
  return trueno::clamp(*this, low, high, where);
}
Tensor Tensor::clamp(const Tensor &low, const Tensor &high,
                     SourceLoc where) const {
  return trueno::clamp(*this, low, high, where);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

namespace {

enum class Reduction { Sum, Prod, Mean, Max, Min, All, Any };

Tensor reduce(Reduction kind, std::string_view name, const Tensor &x,
              std::vector<std::int64_t> dims, bool keepdim, SourceLoc where) {
  const TensorImpl &self = checked(x, name, where);
  auto rank = static_cast<std::int64_t>(self.shape.size());
  std::vector<std::int64_t> reduced =
      detail::reductionDims(self.shape, dims, name, where);
  Shape shape;
  std::int64_t count = 1;
  for (std::int64_t d = 0; d < rank; ++d) {
    bool r = std::find(reduced.begin(), reduced.end(), d) != reduced.end();
    if (r)
      count *= self.shape[d];
    if (!r)
      shape.push_back(self.shape[d]);
    else if (keepdim)
      shape.push_back(1);
  }
  if ((kind == Reduction::Max || kind == Reduction::Min) && count == 0)
    fail<ValueError>(where, name,
                     "an empty dimension has no largest or smallest element",
                     "cannot reduce over an empty dimension of shape {}",
                     formatShape(self.shape));
  DType dtype = self.dtype;
  DType compute = dtype, result = dtype;
  OpCode op = OpCode::ReduceSum;
  switch (kind) {
  case Reduction::Sum:
  case Reduction::Prod:
    op = kind == Reduction::Sum ? OpCode::ReduceSum : OpCode::ReduceProd;
    if (!isFloating(dtype))
      compute = result = DType::Int64;
    else if (dtype == DType::Float16 || dtype == DType::BFloat16)
      compute = DType::Float32; // accumulate wide, round once
    break;
  case Reduction::Mean:
    if (!isFloating(dtype))
      fail<DTypeError>(where, name, "convert it first, e.g. with to(kFloat32)",
                       "mean is defined for floating tensors, not {}",
                       dtypeName(dtype));
    if (dtype == DType::Float16 || dtype == DType::BFloat16)
      compute = DType::Float32;
    break;
  case Reduction::Max:
    op = OpCode::ReduceMax;
    break;
  case Reduction::Min:
    op = OpCode::ReduceMin;
    break;
  case Reduction::All:
  case Reduction::Any:
    op = kind == Reduction::Any ? OpCode::ReduceMax : OpCode::ReduceMin;
    compute = result = DType::Bool;
    break;
  }
  Device device = self.storage->device();
  NodePtr input = detail::castNode(detail::nodeOf(self), compute);
  if (kind != Reduction::Mean) {
    if (rank == 0) // nothing to reduce: a converted copy
      return x.to(compute, where).to(result, where).clone();
    Tensor r = detail::record(op, compute, shape, {std::move(input)}, device,
                              {reduced}, where);
    return r.to(result, where);
  }
  Tensor total =
      rank == 0 ? x.to(compute, where)
                : detail::record(OpCode::ReduceSum, compute, shape,
                                 {std::move(input)}, device, {reduced}, where);
  return mul(total, 1.0 / static_cast<double>(count), where).to(result, where);
}

} // namespace

#define TRUENO_DEFINE_REDUCTION(function, kind)                                \
  Tensor function(const Tensor &x, std::vector<std::int64_t> dims,             \
                  bool keepdim, SourceLoc where) {                             \
    return reduce(Reduction::kind, #function, x, std::move(dims), keepdim,     \
                  where);                                                      \
  }                                                                            \
  Tensor Tensor::function(std::vector<std::int64_t> dims, bool keepdim,        \
                          SourceLoc where) const {                             \
    return trueno::function(*this, std::move(dims), keepdim, where);           \
  }
TRUENO_DEFINE_REDUCTION(sum, Sum)
TRUENO_DEFINE_REDUCTION(prod, Prod)
TRUENO_DEFINE_REDUCTION(mean, Mean)
TRUENO_DEFINE_REDUCTION(amax, Max)
TRUENO_DEFINE_REDUCTION(amin, Min)
TRUENO_DEFINE_REDUCTION(all, All)
TRUENO_DEFINE_REDUCTION(any, Any)
#undef TRUENO_DEFINE_REDUCTION

detail::Centered detail::centered(const Tensor &v,
                                  const std::vector<std::int64_t> &dims,
                                  SourceLoc where) {
  Tensor shift = v;
  if (v.numel() > 0)
    for (std::int64_t d : reductionDims(v.shape(), dims, "mean", where))
      shift = shift.narrow(d, 0, 1, where);
  Tensor m = add(mean(sub(v, shift, where), dims, true, where), shift, where);
  return {m, sub(v, m, where)};
}

/// var and stddev: two kernels, the mean, then the sum of squared deviations
/// (one pass over x, the subtraction and square fused into the sum).
Tensor var(const Tensor &x, std::vector<std::int64_t> dims, double correction,
           bool keepdim, SourceLoc where) {
  const TensorImpl &self = checked(x, "var", where);
  if (!isFloating(self.dtype))
    fail<DTypeError>(where, "var", "convert it first, e.g. with to(kFloat32)",
                     "var is defined for floating tensors, not {}",
                     dtypeName(self.dtype));
  detail::reductionDims(self.shape, dims, "var", where);
  DType compute = detail::computeType(self.dtype);
  Tensor v = x.to(compute, where);
  auto [m, d] = detail::centered(v, dims, where);
  std::int64_t count = x.numel() / std::max<std::int64_t>(m.numel(), 1);
  if (m.numel() == 0) // no outputs; count is irrelevant
    count = 0;
  // As PyTorch: the divisor is max(0, N - correction), so too few elements
  // give inf (or NaN when the deviations are all 0).
  double divisor = std::max(0.0, static_cast<double>(count) - correction);
  Tensor total = sum(mul(d, d, where), dims, keepdim, where);
  Tensor result = div(total, divisor, where); // as PyTorch, not * (1 / n)
  return result.to(self.dtype, where);
}

Tensor countNonzero(const Tensor &x, std::vector<std::int64_t> dims,
                    SourceLoc where) {
  checked(x, "countNonzero", where);
  return sum(ne(x, 0, where), std::move(dims), false, where); // int64
}

Tensor norm(const Tensor &x, double p, std::vector<std::int64_t> dims,
            bool keepdim, SourceLoc where) {
  const TensorImpl &self = checked(x, "norm", where);
  detail::reductionDims(self.shape, dims, "norm", where);
  if (!isFloating(self.dtype))
    fail<DTypeError>(where, "norm", "convert it first, e.g. with to(kFloat32)",
                     "norm is defined for floating tensors, not {}",
                     dtypeName(self.dtype));
  Tensor a = abs(x.to(detail::computeType(self.dtype), where), where);
  Tensor r;
  if (p == 2)
    r = sqrt(sum(mul(a, a, where), dims, keepdim, where), where);
  else if (p == 1)
    r = sum(a, dims, keepdim, where);
  else if (std::isinf(p))
    r = p > 0 ? amax(a, dims, keepdim, where) : amin(a, dims, keepdim, where);
  else if (p == 0) // the number of nonzero elements, as a float
    r = sum(ne(a, 0.0, where), dims, keepdim, where).to(a.dtype(), where);
  else
    r = pow(sum(pow(a, p, where), dims, keepdim, where), 1.0 / p, where);
  return r.to(self.dtype, where);
}

namespace {

/// argmax / argmin: one trueno op along one dimension; without a dimension,
/// over the flattened tensor (as PyTorch).
Tensor argReduce(OpCode op, std::string_view name, const Tensor &x,
                 std::optional<std::int64_t> dim, bool keepdim,
                 SourceLoc where) {
  const TensorImpl &self = checked(x, name, where);
  auto rank = static_cast<std::int64_t>(self.shape.size());
  if (!dim) {
    Tensor flat = rank == 1 ? x : x.reshape({x.numel()}, where);
    Tensor index = argReduce(op, name, flat, 0, false, where);
    return keepdim ? index.reshape(Shape(rank, 1), where) : index;
  }
  if (rank == 0) { // one element: index 0
    detail::wrapDim(*dim, 1, self.shape, name, where);
    return zeros({}, DType::Int64);
  }
  std::int64_t d = detail::wrapDim(*dim, rank, self.shape, name, where);
  if (self.shape[d] == 0)
    fail<ValueError>(where, name,
                     "an empty dimension has no largest or "
                     "smallest element",
                     "cannot reduce dimension {} of shape {}, which is empty",
                     d, formatShape(self.shape));
  Shape shape = self.shape;
  if (keepdim)
    shape[d] = 1;
  else
    shape.erase(shape.begin() + d);
  // Halves compare as float32: the same order, and no half compares in IR.
  DType compute = detail::computeType(self.dtype);
  return detail::record(op, DType::Int64, shape,
                        {detail::castNode(detail::nodeOf(self), compute)},
                        self.storage->device(), {{d}}, where);
}

} // namespace

Tensor argmax(const Tensor &x, std::optional<std::int64_t> dim, bool keepdim,
              SourceLoc where) {
  return argReduce(OpCode::ArgMax, "argmax", x, dim, keepdim, where);
}
Tensor argmin(const Tensor &x, std::optional<std::int64_t> dim, bool keepdim,
              SourceLoc where) {
  return argReduce(OpCode::ArgMin, "argmin", x, dim, keepdim, where);
}

Tensor stddev(const Tensor &x, std::vector<std::int64_t> dims,
              double correction, bool keepdim, SourceLoc where) {
  detail::reductionDims(checked(x, "stddev", where).shape, dims, "stddev",
                        where);
  Tensor v = var(x, std::move(dims), correction, keepdim, where);
  // sqrt(v), but with PyTorch's gradient at v == 0 (a constant row): 0,
  // not 0 / 0. The sqrt reads 1 there, so its gradient is finite and the
  // where sends it nowhere.
  Tensor zero = eq(v, 0.0, where);
  return trueno::where(zero, 0.0,
                       sqrt(trueno::where(zero, 1.0, v, where), where), where);
}

//===----------------------------------------------------------------------===//
// Conversion and in-place update
//===----------------------------------------------------------------------===//

Tensor Tensor::to(DType dtype, SourceLoc where) const {
  const TensorImpl &self = checked(*this, "to", where);
  if (self.dtype == dtype)
    return *this;
  return detail::record(OpCode::Cast, dtype, self.shape, {detail::nodeOf(self)},
                        self.storage->device(), {}, where);
}

Tensor Tensor::to(Device device, SourceLoc where) const {
  const TensorImpl &self = checked(*this, "to", where);
  if (self.storage->device() == device)
    return *this;
  if (requiresGrad(where))
    detail::fail<ValueError>(
        where, "to",
        "create the tensor on the device (TensorOptions().withDevice()), or "
        "detach() it first",
        "moving a tensor that requires grad from {} to {} is not "
        "differentiable yet",
        self.storage->device().name(), device.name());
  // Validates `device` before any work: a DeviceError names it.
  runtime::Backend &backend = detail::backendOf(device, "to");
  Tensor source = contiguous(where);
  const TensorImpl &from = *source.impl();
  Tensor result =
      detail::makeContiguous(from.dtype, from.shape, device, "to", where);
  auto bytes =
      static_cast<std::size_t>(from.numel() * trueno::itemSize(from.dtype));
  if (bytes == 0)
    return result;
  const std::byte *host = from.firstElement(); // a download from a GPU
  if (device.kind == DeviceKind::CPU) {
    std::memcpy(result.impl()->mutableFirstElement(), host, bytes);
    return result;
  }
  if (llvm::Error error =
          backend.upload(result.impl()->storage->buffer(), host, bytes))
    detail::fail<DeviceError>(where, "to",
                              "the device may be lost: check its driver",
                              "copying {} bytes to {} failed: {}", bytes,
                              device.name(), llvm::toString(std::move(error)));
  return result;
}

Tensor &Tensor::moveTo_(Device device, SourceLoc where) {
  TensorImpl &self = detail::implOf(*this, "moveTo_", where);
  if (self.storage->device() == device)
    return *this;
  bool leaf = requiresGrad(where) && isLeaf(where);
  Tensor moved = detach(where).to(device, where);
  self.storage = moved.impl()->storage;
  self.strides = moved.impl()->strides;
  self.offset = moved.impl()->offset;
  if (leaf)
    requiresGrad_(true, where);
  return *this;
}

namespace detail {

/// bool < integer < floating: what an in-place update may not go up.
static int category(DType t) {
  return t == DType::Bool ? 0 : isFloating(t) ? 2 : 1;
}

Tensor &assignResult(Tensor &self, const Tensor &value, const char *op,
                     SourceLoc where) {
  // Checked here, not by copy_, so the message names the caller's op.
  detail::checkWritable(implOf(self, op, where), op, where);
  if (category(value.dtype()) > category(self.dtype()))
    fail<DTypeError>(where, op, "convert the tensor first, e.g. with to()",
                     "the result has dtype {}, which cannot be stored in "
                     "place in a tensor of dtype {}",
                     dtypeName(value.dtype()), dtypeName(self.dtype()));
  if (value.shape() != self.shape())
    fail<ShapeError>(where, op,
                     "an in-place update cannot change the shape; use the "
                     "plain operator to get the broadcast result",
                     "the result has shape {}, but the tensor updated in "
                     "place has shape {}",
                     formatShape(value.shape()), formatShape(self.shape()));
  return self.copy_(value, where);
}

} // namespace detail

#define TRUENO_DEFINE_IN_PLACE(method, function)                               \
  Tensor &Tensor::method(const Tensor &other, SourceLoc where) {               \
    return detail::assignResult(*this, trueno::function(*this, other, where),  \
                                #method, where);                               \
  }                                                                            \
  Tensor &Tensor::method(Scalar other, SourceLoc where) {                      \
    return detail::assignResult(*this, trueno::function(*this, other, where),  \
                                #method, where);                               \
  }
TRUENO_DEFINE_IN_PLACE(add_, add)
TRUENO_DEFINE_IN_PLACE(sub_, sub)
TRUENO_DEFINE_IN_PLACE(mul_, mul)
TRUENO_DEFINE_IN_PLACE(div_, div)
#undef TRUENO_DEFINE_IN_PLACE

Tensor &Tensor::clamp_(std::optional<Scalar> low, std::optional<Scalar> high,
                       SourceLoc where) {
  return detail::assignResult(*this, trueno::clamp(*this, low, high, where),
                              "clamp_", where);
}

Tensor &Tensor::relu_(SourceLoc where) {
  return detail::assignResult(*this, trueno::relu(*this, where), "relu_",
                              where);
}

} // namespace trueno
