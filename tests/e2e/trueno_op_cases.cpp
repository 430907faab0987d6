//===- trueno_op_cases.cpp - Runs frontend ops on .npy inputs -------------===//
//
// The Trueno half of the end-to-end PyTorch differential test: the whole
// path (frontend op -> recorded graph -> fusion -> JIT -> kernel) on views.
// Each line of the case file is
//
//   <id> <op> <operand>...
//
// where an operand is `t:<dtype>:<path.npy>:<view>` (a tensor loaded from
// the file, converted to dtype, then viewed) or `s:<bool|int|float>:<value>`
// (a scalar); a reduction is `sum:<dims>:<keepdim>` (dims comma separated,
// empty for all). A view is `-`, `T` (all axes reversed), `s<dim>,<start>,
// <stop>,<step>` (a slice; `_` for an omitted bound) or `e<d0>x<d1>...`
// (expand to that shape; `e` alone for rank 0), any of them prefixed with
// `P` to take the view of a pending copy of the loaded tensor. The result is
// saved as <outdir>/<id>.npy (bfloat16 as float32, which holds it exactly) with
// its dtype name in <outdir>/<id>.dtype; a thrown error goes to <id>.err.
//
//===----------------------------------------------------------------------===//
#include <trueno/trueno.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>

namespace tn = trueno;

namespace {

std::vector<std::string> split(const std::string &text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);)
    parts.push_back(part);
  if (!text.empty() && text.back() == separator)
    parts.push_back("");
  return parts;
}

tn::DType parseDType(const std::string &name) {
  for (int i = 0; i < tn::kNumDTypes; ++i)
    if (tn::dtypeName(static_cast<tn::DType>(i)) == name)
      return static_cast<tn::DType>(i);
  throw std::runtime_error("unknown dtype " + name);
}

tn::Tensor applyView(const tn::Tensor &t, const std::string &view) {
  if (view[0] == 'P') {
    // A view of a pending value: the base is first recorded through an
    // exact identity (x * 1, or x & true for bool), so the view reaches
    // the op as movement ops in its graph rather than as strides.
    tn::Scalar one = t.dtype() == tn::kBool ? tn::Scalar(true) : tn::Scalar(1);
    return applyView(tn::mul(t, one), view.substr(1));
  }
  if (view == "-")
    return t;
  if (view == "T")
    return t.T();
  if (view[0] == 's') {
    std::vector<std::string> f = split(view.substr(1), ',');
    auto bound = [](const std::string &s) -> std::optional<std::int64_t> {
      if (s == "_")
        return std::nullopt;
      return std::stoll(s);
    };
    return t.slice(std::stoll(f[0]), bound(f[1]), bound(f[2]),
                   std::stoll(f[3]));
  }
  if (view[0] == 'e') {
    tn::Shape shape;
    if (view.size() > 1)
      for (const std::string &s : split(view.substr(1), 'x'))
        shape.push_back(std::stoll(s));
    return t.expand(shape);
  }
  throw std::runtime_error("unknown view " + view);
}

/// A tensor or scalar operand; a tensor remembers the loaded base and the
/// view taken of it (gradient cases differentiate with respect to bases).
struct Arg {
  std::optional<tn::Tensor> tensor;
  tn::Scalar scalar;
  std::optional<tn::Tensor> base;
  std::string view;
};

Arg parseOperand(const std::string &text) {
  std::vector<std::string> f = split(text, ':');
  Arg arg;
  if (f[0] == "s") {
    if (f[1] == "bool")
      arg.scalar = tn::Scalar(f[2] == "1");
    else if (f[1] == "int")
      arg.scalar = tn::Scalar(static_cast<std::int64_t>(std::stoll(f[2])));
    else
      arg.scalar = tn::Scalar(std::stod(f[2]));
    return arg;
  }
  // On the default device (TRUENO_DEVICE): the same cases run on every
  // backend.
  tn::Tensor loaded =
      tn::loadNpy(f[2]).to(tn::defaultDevice()).to(parseDType(f[1]));
  arg.base = loaded;
  arg.view = f[3];
  arg.tensor = applyView(loaded, f[3]);
  return arg;
}

using Unary = tn::Tensor (*)(const tn::Tensor &, tn::SourceLoc);
using BinaryTT = tn::Tensor (*)(const tn::Tensor &, const tn::Tensor &,
                                tn::SourceLoc);
using BinaryTS = tn::Tensor (*)(const tn::Tensor &, tn::Scalar, tn::SourceLoc);
using BinaryST = tn::Tensor (*)(tn::Scalar, const tn::Tensor &, tn::SourceLoc);

struct BinaryOverloads {
  BinaryTT tt;
  BinaryTS ts;
  BinaryST st;
};

std::vector<std::int64_t> integers(const std::string &text) {
  std::vector<std::int64_t> out;
  for (const std::string &v : split(text, ','))
    if (!v.empty())
      out.push_back(std::stoll(v));
  return out;
}

/// An index list from `spec`: items separated by ';', each `i<n>` (an
/// integer), `s<start>,<stop>,<step>` (a slice, `_` for an omitted bound),
/// `N` (newaxis), `E` (ellipsis) or `T` (the next tensor operand, from
/// args[next]).
std::vector<tn::TensorIndex>
parseIndex(const std::string &spec, std::vector<Arg> &args, std::size_t &next) {
  std::vector<tn::TensorIndex> out;
  for (const std::string &item : split(spec, ';')) {
    if (item.empty())
      continue;
    if (item[0] == 'i') {
      out.emplace_back(static_cast<std::int64_t>(std::stoll(item.substr(1))));
    } else if (item[0] == 's') {
      std::vector<std::string> f = split(item.substr(1), ',');
      auto bound = [](const std::string &b) -> std::optional<std::int64_t> {
        if (b == "_")
          return std::nullopt;
        return std::stoll(b);
      };
      out.emplace_back(tn::Slice(bound(f[0]), bound(f[1]), std::stoll(f[2])));
    } else if (item == "N") {
      out.emplace_back(tn::newaxis);
    } else if (item == "E") {
      out.emplace_back(tn::ellipsis);
    } else {
      out.emplace_back(*args.at(next++).tensor);
    }
  }
  return out;
}

/// trueno::linalg ops; decompositions whose factors are unique only up to
/// signs are checked through what is unique: their reconstruction.
tn::Tensor runLinalg(const std::string &op, const std::string &part,
                     std::vector<Arg> &args) {
  namespace la = tn::linalg;
  const tn::Tensor &a = *args.at(0).tensor;
  auto second = [&]() -> const tn::Tensor & { return *args.at(1).tensor; };
  auto diagonalOf = [](const tn::Tensor &v) { // (..., k) -> (..., k, k)
    tn::Tensor eye = tn::eye(v.size(-1), std::nullopt, v.dtype());
    return tn::mul(v.unsqueeze(-1), eye);
  };
  if (op == "solve")
    return la::solve(a, second());
  if (op == "inv")
    return la::inv(a);
  if (op == "det")
    return la::det(a);
  if (op == "slogdet") {
    la::SignLogAbsDet r = la::slogdet(a);
    return part == "sign" ? r.sign : r.logabsdet;
  }
  if (op == "cholesky") { // <lower|upper>, or sym<...>: of (a + a^T) / 2
    if (part.starts_with("sym"))
      return la::cholesky(tn::mul(tn::add(a, a.mT()), 0.5), part == "symupper");
    return la::cholesky(a, part == "upper");
  }
  // The gradient cases (test_grads_vs_torch.py) take functions that do not
  // depend on the factors' free signs or phases: squares of Q, R, U, V.
  if (op == "qr") { // <reduced|complete|r><recon|qtq|absr|qsq|rsq>
    la::QrMode mode = part.starts_with("complete")  ? la::QrMode::Complete
                      : part.starts_with("reduced") ? la::QrMode::Reduced
                                                    : la::QrMode::R;
    la::QR r = la::qr(a, mode);
    if (part.ends_with("recon"))
      return tn::matmul(r.q, r.r);
    if (part.ends_with("qtq"))
      return tn::matmul(r.q.mT(), r.q);
    if (part.ends_with("qsq"))
      return r.q * r.q;
    if (part.ends_with("rsq"))
      return r.r * r.r;
    return tn::abs(r.r);
  }
  if (op == "eigh" || op == "eigvalsh") { // sym...: of (a + a^T) / 2
    tn::Tensor m =
        part.starts_with("sym") ? tn::mul(tn::add(a, a.mT()), 0.5) : a;
    if (op == "eigvalsh")
      return la::eigvalsh(m);
    la::Eigh r = la::eigh(m, false);
    if (part.ends_with("values"))
      return r.eigenvalues;
    if (part.ends_with("vsq"))
      return r.eigenvectors * r.eigenvectors;
    return tn::matmul(tn::matmul(r.eigenvectors, diagonalOf(r.eigenvalues)),
                      r.eigenvectors.mT());
  }
  if (op == "eig" && part.starts_with("g")) {
    // Functions of the values and vectors that hold for any order and
    // phase: (sum re(l)^2, sum im(l)^2), and sum_j |V_ij|^2 re(l_j).
    la::Eig r = la::eig(a);
    if (part == "gvals")
      return tn::stack({(r.valuesReal * r.valuesReal).sum({-1}),
                        (r.valuesImag * r.valuesImag).sum({-1})},
                       -1);
    tn::Tensor magnitude =
        r.vectorsReal * r.vectorsReal + r.vectorsImag * r.vectorsImag;
    return (magnitude * r.valuesReal.unsqueeze(-2)).sum({-1});
  }
  if (op == "eig") {
    la::Eig r = la::eig(a);
    if (part == "real" || part == "imag") {
      // LAPACK's order depends on rounding: compare them sorted by (real,
      // imaginary) in each matrix.
      std::vector<double> re = r.valuesReal.toVector<double>(),
                          im = r.valuesImag.toVector<double>(), out;
      std::size_t n = static_cast<std::size_t>(a.size(-1));
      for (std::size_t first = 0; first < re.size(); first += n) {
        std::vector<std::size_t> order(n);
        for (std::size_t i = 0; i < n; ++i)
          order[i] = first + i;
        std::sort(order.begin(), order.end(),
                  [&](std::size_t x, std::size_t y) {
                    return std::pair(re[x], im[x]) < std::pair(re[y], im[y]);
                  });
        for (std::size_t i : order)
          out.push_back(part == "real" ? re[i] : im[i]);
      }
      return tn::fromVector(out, r.valuesReal.shape()).to(a.dtype());
    }
    // |A V - V L| for V = Vr + i Vi, L = diag(wr + i wi): real and imaginary
    // parts, as one tensor.
    tn::Tensor wr = diagonalOf(r.valuesReal), wi = diagonalOf(r.valuesImag);
    tn::Tensor re =
        tn::matmul(a, r.vectorsReal) -
        (tn::matmul(r.vectorsReal, wr) - tn::matmul(r.vectorsImag, wi));
    tn::Tensor im =
        tn::matmul(a, r.vectorsImag) -
        (tn::matmul(r.vectorsReal, wi) + tn::matmul(r.vectorsImag, wr));
    return tn::cat({re, im}, -1);
  }
  if (op == "svd") { // values, full, reduced; g...: reduced factors
    la::SVD r = la::svd(a, part != "reduced" && !part.starts_with("g"));
    if (part == "values" || part == "gvalues")
      return r.s;
    if (part == "gusq")
      return r.u * r.u;
    if (part == "gvhsq")
      return r.vh * r.vh;
    if (part == "gweighted") // U diag(s^2) Vh
      return tn::matmul(r.u * (r.s * r.s).unsqueeze(-2), r.vh);
    std::int64_t k = r.s.size(-1);
    return tn::matmul(tn::matmul(r.u.narrow(-1, 0, k), diagonalOf(r.s)),
                      r.vh.narrow(-2, 0, k));
  }
  if (op == "svdvals")
    return la::svdvals(a);
  if (op == "lstsq") {
    la::Lstsq r = la::lstsq(a, second());
    return part == "solution"   ? r.solution
           : part == "rank"     ? r.rank
           : part == "singular" ? r.singularValues
                                : r.residuals;
  }
  if (op == "pinv")
    return la::pinv(a);
  if (op == "matrixRank")
    return la::matrixRank(a);
  throw std::runtime_error("unknown linalg op " + op);
}

/// Indexing, joining, reordering and sorting ops (trueno/Indexing.h); none
/// when `parts` names none of them.
std::optional<tn::Tensor> runIndexingOp(const std::vector<std::string> &parts,
                                        std::vector<Arg> &args) {
  const std::string &name = parts[0];
  auto arg = [&](std::size_t i) -> tn::Tensor & { return *args.at(i).tensor; };
  auto tensors = [&] {
    std::vector<tn::Tensor> all;
    for (Arg &a : args)
      all.push_back(*a.tensor);
    return all;
  };
  if (name == "index") { // index:<spec>
    std::size_t next = 1;
    return arg(0).index(parseIndex(parts.at(1), args, next));
  }
  if (name == "indexPut") { // indexPut:<spec>:<accumulate>, values last
    std::size_t next = 1;
    tn::Tensor x = arg(0).clone();
    std::vector<tn::TensorIndex> index = parseIndex(parts.at(1), args, next);
    x.indexPut_(index, arg(next), parts.at(2) == "1");
    return x;
  }
  if (name == "indexSelect")
    return tn::indexSelect(arg(0), std::stoll(parts.at(1)), arg(1));
  if (name == "gather")
    return tn::gather(arg(0), std::stoll(parts.at(1)), arg(1));
  if (name == "scatter")
    return tn::scatter(arg(0), std::stoll(parts.at(1)), arg(1), arg(2));
  if (name == "scatterAdd")
    return tn::scatterAdd(arg(0), std::stoll(parts.at(1)), arg(1), arg(2));
  if (name == "scatterReduce") { // scatterReduce:<dim>:<mode>:<includeSelf>
    static const std::map<std::string, tn::ScatterReduce> modes = {
        {"sum", tn::ScatterReduce::Sum},
        {"prod", tn::ScatterReduce::Prod},
        {"mean", tn::ScatterReduce::Mean},
        {"amax", tn::ScatterReduce::Amax},
        {"amin", tn::ScatterReduce::Amin}};
    return tn::scatterReduce(arg(0), std::stoll(parts.at(1)), arg(1), arg(2),
                             modes.at(parts.at(2)), parts.at(3) == "1");
  }
  if (name == "maskedFill")
    return tn::maskedFill(arg(0), arg(1), args.at(2).scalar);
  if (name == "maskedSelect")
    return tn::maskedSelect(arg(0), arg(1));
  if (name == "nonzero")
    return tn::nonzero(arg(0));
  if (name == "cat")
    return tn::cat(tensors(), std::stoll(parts.at(1)));
  if (name == "stack")
    return tn::stack(tensors(), std::stoll(parts.at(1)));
  if (name == "split") // split:<size>:<dim>:<piece>
    return tn::split(arg(0), std::stoll(parts.at(1)), std::stoll(parts.at(2)))
        .at(std::stoll(parts.at(3)));
  if (name == "splitSizes") // splitSizes:<sizes>:<dim>:<piece>
    return tn::split(arg(0), integers(parts.at(1)), std::stoll(parts.at(2)))
        .at(std::stoll(parts.at(3)));
  if (name == "chunk") // chunk:<chunks>:<dim>:<piece>
    return tn::chunk(arg(0), std::stoll(parts.at(1)), std::stoll(parts.at(2)))
        .at(std::stoll(parts.at(3)));
  if (name == "flip")
    return tn::flip(arg(0), integers(parts.at(1)));
  if (name == "roll") // roll:<shifts>:<dims>
    return tn::roll(arg(0), integers(parts.at(1)), integers(parts.at(2)));
  if (name == "tile")
    return tn::tile(arg(0), integers(parts.at(1)));
  if (name == "repeatInterleave") { // repeatInterleave:<dim or empty>
    std::optional<std::int64_t> dim;
    if (!parts.at(1).empty())
      dim = std::stoll(parts.at(1));
    if (args.at(1).tensor)
      return tn::repeatInterleave(arg(0), arg(1), dim);
    return tn::repeatInterleave(arg(0), args.at(1).scalar.to<std::int64_t>(),
                                dim);
  }
  if (name == "pad") { // pad:<constant|reflect|replicate|circular>:<pads>
    tn::PadMode mode = parts.at(1) == "reflect"     ? tn::PadMode::Reflect
                       : parts.at(1) == "replicate" ? tn::PadMode::Replicate
                       : parts.at(1) == "circular"  ? tn::PadMode::Circular
                                                    : tn::PadMode::Constant;
    return tn::pad(arg(0), integers(parts.at(2)), mode, args.at(1).scalar);
  }
  if (name == "tril")
    return tn::tril(arg(0), std::stoll(parts.at(1)));
  if (name == "triu")
    return tn::triu(arg(0), std::stoll(parts.at(1)));
  if (name == "diag")
    return tn::diag(arg(0), std::stoll(parts.at(1)));
  if (name == "diagonal")
    return tn::diagonal(arg(0), std::stoll(parts.at(1)),
                        std::stoll(parts.at(2)), std::stoll(parts.at(3)));
  if (name == "sort") { // sort:<dim>:<descending>:<values|indices>
    tn::ValuesIndices r =
        tn::sort(arg(0), std::stoll(parts.at(1)), parts.at(2) == "1");
    return parts.at(3) == "values" ? r.values : r.indices;
  }
  if (name == "topk") { // topk:<k>:<dim>:<largest>:<values|indices>
    tn::ValuesIndices r = tn::topk(arg(0), std::stoll(parts.at(1)),
                                   std::stoll(parts.at(2)), parts.at(3) == "1");
    return parts.at(4) == "values" ? r.values : r.indices;
  }
  if (name == "unique") { // unique:<values|inverse|counts>
    tn::UniqueResult r = tn::unique(arg(0));
    return parts.at(1) == "values"    ? r.values
           : parts.at(1) == "inverse" ? r.inverse
                                      : r.counts;
  }
  if (name == "uniqueDim") { // uniqueDim:<dim>:<values|inverse|counts>
    tn::UniqueResult r = tn::unique(arg(0), std::stoll(parts.at(1)));
    return parts.at(2) == "values"    ? r.values
           : parts.at(2) == "inverse" ? r.inverse
                                      : r.counts;
  }
  auto pair = [&](const std::string &text) {
    std::vector<std::int64_t> v = integers(text);
    return std::array<std::int64_t, 2>{v.at(0), v.at(1)};
  };
  auto bias = [&](std::size_t i) {
    return args.size() > i ? std::optional<tn::Tensor>(arg(i)) : std::nullopt;
  };
  if (name == "conv1d") // conv1d:<stride>:<padding>:<dilation>:<groups>
    return tn::conv1d(arg(0), arg(1), bias(2), std::stoll(parts.at(1)),
                      std::stoll(parts.at(2)), std::stoll(parts.at(3)),
                      std::stoll(parts.at(4)));
  // convT2d:<stride>:<padding>:<output padding>:<groups>:<dilation>
  if (name == "convT2d")
    return tn::convTranspose2d(arg(0), arg(1), bias(2), pair(parts.at(1)),
                               pair(parts.at(2)), pair(parts.at(3)),
                               std::stoll(parts.at(4)), pair(parts.at(5)));
  if (name == "convT1d")
    return tn::convTranspose1d(arg(0), arg(1), bias(2), std::stoll(parts.at(1)),
                               std::stoll(parts.at(2)), std::stoll(parts.at(3)),
                               std::stoll(parts.at(4)),
                               std::stoll(parts.at(5)));
  // maxPool2d:<kernel>:<stride>:<padding>:<dilation>:<ceil>:<values|indices>
  if (name == "maxPool2d") {
    tn::ValuesIndices r = tn::maxPool2dWithIndices(
        arg(0), pair(parts.at(1)), pair(parts.at(2)), pair(parts.at(3)),
        pair(parts.at(4)), parts.at(5) == "1");
    return parts.at(6) == "values" ? r.values : r.indices;
  }
  // avgPool2d:<kernel>:<stride>:<padding>:<ceil>:<count pad>:<divisor or ->
  if (name == "avgPool2d") {
    std::optional<std::int64_t> divisor;
    if (parts.at(6) != "-")
      divisor = std::stoll(parts.at(6));
    return tn::avgPool2d(arg(0), pair(parts.at(1)), pair(parts.at(2)),
                         pair(parts.at(3)), parts.at(4) == "1",
                         parts.at(5) == "1", divisor);
  }
  if (name == "adaptiveAvgPool2d")
    return tn::adaptiveAvgPool2d(arg(0), pair(parts.at(1)));
  if (name == "linalg") // linalg:<op>:<part>, see build_linalg
    return runLinalg(parts.at(1), parts.at(2), args);
  if (name == "cumsum")
    return tn::cumsum(arg(0), std::stoll(parts.at(1)));
  if (name == "cumprod")
    return tn::cumprod(arg(0), std::stoll(parts.at(1)));
  if (name == "layerNorm") { // layerNorm:<dims>:<eps>, operands x[, w[, b]]
    tn::Shape normalized(arg(0).shape().end() - std::stoll(parts.at(1)),
                         arg(0).shape().end());
    std::optional<tn::Tensor> w, b;
    if (args.size() > 1)
      w = arg(1);
    if (args.size() > 2)
      b = arg(2);
    return tn::layerNorm(arg(0), normalized, w, b, std::stod(parts.at(2)));
  }
  // batchNorm:<training>:<momentum>:<eps>:<out|mean|var>, operands x, mean,
  // var, weight, bias (the statistics are updated in copies)
  if (name == "batchNorm") {
    tn::Tensor mean = arg(1).clone(), var = arg(2).clone();
    tn::Tensor y =
        tn::batchNorm(arg(0), mean, var, arg(3), arg(4), parts.at(1) == "1",
                      std::stod(parts.at(2)), std::stod(parts.at(3)));
    return parts.at(4) == "out" ? y : parts.at(4) == "mean" ? mean : var;
  }
  // classLoss:<nll|ce>:<none|mean|sum>:<ignore index>:<smoothing>, operands
  // input, target[, weight]
  if (name == "classLoss") {
    tn::ClassLossOptions options;
    options.reduction = parts.at(2) == "none"  ? tn::LossReduction::None
                        : parts.at(2) == "sum" ? tn::LossReduction::Sum
                                               : tn::LossReduction::Mean;
    options.ignoreIndex = std::stoll(parts.at(3));
    options.labelSmoothing = std::stod(parts.at(4));
    if (args.size() > 2)
      options.weight = arg(2);
    return parts.at(1) == "nll" ? tn::nllLoss(arg(0), arg(1), options)
                                : tn::crossEntropy(arg(0), arg(1), options);
  }
  if (name == "searchsorted")
    return tn::searchsorted(arg(0), arg(1), parts.at(1) == "1");
  return std::nullopt;
}

tn::Tensor runOp(const std::string &op, std::vector<Arg> &args) {
  static const std::map<std::string, Unary> unary = {
#define TRUENO_UNARY(Code, mnemonic, function, rule, cost)                     \
  {#function, &tn::function},
#define TRUENO_UNARY_COMPOSITE(function) {#function, &tn::function},
#include "trueno/OpTable.def"
  };
  static const std::map<std::string, BinaryOverloads> binary = {
#define TRUENO_BINARY(Code, mnemonic, function, cost)                          \
  {#function, {&tn::function, &tn::function, &tn::function}},
#include "trueno/OpTable.def"
  };
  auto here = tn::SourceLoc::current();
  if (auto u = unary.find(op); u != unary.end())
    return u->second(*args.at(0).tensor, here);
  if (auto b = binary.find(op); b != binary.end()) {
    Arg &x = args.at(0), &y = args.at(1);
    if (x.tensor && y.tensor)
      return b->second.tt(*x.tensor, *y.tensor, here);
    if (x.tensor)
      return b->second.ts(*x.tensor, y.scalar, here);
    return b->second.st(x.scalar, *y.tensor, here);
  }
  if (op == "gelu")
    return tn::gelu(*args.at(0).tensor);
  if (op == "geluTanh")
    return tn::gelu(*args.at(0).tensor, true);
  if (op == "where") {
    Arg &c = args.at(0), &x = args.at(1), &y = args.at(2);
    if (x.tensor && y.tensor)
      return tn::where(*c.tensor, *x.tensor, *y.tensor);
    if (x.tensor)
      return tn::where(*c.tensor, *x.tensor, y.scalar);
    if (y.tensor)
      return tn::where(*c.tensor, x.scalar, *y.tensor);
    return tn::where(*c.tensor, x.scalar, y.scalar);
  }
  if (op == "clamp") {
    Arg &x = args.at(0), &lo = args.at(1), &hi = args.at(2);
    if (lo.tensor)
      return tn::clamp(*x.tensor, *lo.tensor, *hi.tensor);
    return tn::clamp(*x.tensor, lo.scalar, hi.scalar);
  }
  static const std::map<std::string, Unary> activations = {
      {"selu", &tn::selu},
      {"mish", &tn::mish},
      {"hardsigmoid", &tn::hardsigmoid},
      {"hardswish", &tn::hardswish},
      {"softsign", &tn::softsign}};
  if (auto a = activations.find(op); a != activations.end())
    return a->second(*args.at(0).tensor, here);
  if (op == "leakyRelu")
    return tn::leakyRelu(*args.at(0).tensor, 0.2);
  if (op == "elu")
    return tn::elu(*args.at(0).tensor, 1.5);
  if (op == "hardtanh")
    return tn::hardtanh(*args.at(0).tensor, -2.0, 0.5);
  // <loss>:<none|mean|sum>
  if (std::vector<std::string> loss = split(op, ':');
      loss.size() == 2 && loss[0].find("oss") != std::string::npos) {
    using Loss = tn::Tensor (*)(const tn::Tensor &, const tn::Tensor &,
                                tn::LossReduction, tn::SourceLoc);
    static const std::map<std::string, Loss> losses = {
        {"mseLoss", &tn::mseLoss},
        {"bceLoss", &tn::binaryCrossEntropy},
        {"bceLogitsLoss", &tn::binaryCrossEntropyWithLogits},
        {"nllLoss", &tn::nllLoss},
        {"crossEntropyLoss", &tn::crossEntropy}};
    tn::LossReduction r = loss[1] == "none"  ? tn::LossReduction::None
                          : loss[1] == "sum" ? tn::LossReduction::Sum
                                             : tn::LossReduction::Mean;
    return losses.at(loss[0])(*args.at(0).tensor, *args.at(1).tensor, r, here);
  }
  if (op == "matmul")
    return tn::matmul(*args.at(0).tensor, *args.at(1).tensor);
  if (op == "dot")
    return tn::dot(*args.at(0).tensor, *args.at(1).tensor);
  if (op == "vdot")
    return tn::vdot(*args.at(0).tensor, *args.at(1).tensor);
  if (op == "outer")
    return tn::outer(*args.at(0).tensor, *args.at(1).tensor);
  if (op == "addmm")
    return tn::addmm(*args.at(0).tensor, *args.at(1).tensor,
                     *args.at(2).tensor);
  if (op == "linear")
    return tn::linear(*args.at(0).tensor, *args.at(1).tensor,
                      *args.at(2).tensor);
  if (op == "linearRelu")
    return tn::relu(
        tn::linear(*args.at(0).tensor, *args.at(1).tensor, *args.at(2).tensor));
  if (op.rfind("to:", 0) == 0)
    return args.at(0).tensor->to(parseDType(op.substr(3)));
  // <reduction>:<dims, comma separated, or empty>:<keepdim 0|1>
  std::vector<std::string> parts = split(op, ':');
  if (std::optional<tn::Tensor> moved = runIndexingOp(parts, args))
    return *moved;
  // conv2d:<sy,sx>:<py,px>:<dy,dx>:<groups>[:relu], operands input,
  // weight[, bias]
  if ((parts.size() == 5 || (parts.size() == 6 && parts[5] == "relu")) &&
      parts[0] == "conv2d") {
    auto pair = [&](const std::string &text) {
      std::vector<std::string> v = split(text, ',');
      return std::array<std::int64_t, 2>{std::stoll(v.at(0)),
                                         std::stoll(v.at(1))};
    };
    std::optional<tn::Tensor> bias;
    if (args.size() > 2)
      bias = *args.at(2).tensor;
    tn::Tensor y =
        tn::conv2d(*args.at(0).tensor, *args.at(1).tensor, bias, pair(parts[1]),
                   pair(parts[2]), pair(parts[3]), std::stoll(parts[4]));
    return parts.size() == 6 ? tn::relu(y) : y;
  }
  // argmax|argmin:<dim or empty>:<keepdim>
  if (parts.size() == 3 && (parts[0] == "argmax" || parts[0] == "argmin")) {
    std::optional<std::int64_t> dim;
    if (!parts[1].empty())
      dim = std::stoll(parts[1]);
    auto fn = parts[0] == "argmax" ? &tn::argmax : &tn::argmin;
    return fn(*args.at(0).tensor, dim, parts[2] == "1", here);
  }
  // norm:<dims>:<keepdim>:<p>, countNonzero:<dims>
  if (parts.size() == 4 && parts[0] == "norm") {
    std::vector<std::int64_t> dims;
    for (const std::string &d : split(parts[1], ','))
      if (!d.empty())
        dims.push_back(std::stoll(d));
    return tn::norm(*args.at(0).tensor, std::stod(parts[3]), dims,
                    parts[2] == "1", here);
  }
  if (parts.size() == 2 && parts[0] == "countNonzero") {
    std::vector<std::int64_t> dims;
    for (const std::string &d : split(parts[1], ','))
      if (!d.empty())
        dims.push_back(std::stoll(d));
    return tn::countNonzero(*args.at(0).tensor, dims, here);
  }
  // var|std:<dims>:<keepdim>:<correction>
  if (parts.size() == 4 && (parts[0] == "var" || parts[0] == "std")) {
    std::vector<std::int64_t> dims;
    for (const std::string &d : split(parts[1], ','))
      if (!d.empty())
        dims.push_back(std::stoll(d));
    auto fn = parts[0] == "var" ? &tn::var : &tn::stddev;
    return fn(*args.at(0).tensor, dims, std::stod(parts[3]), parts[2] == "1",
              here);
  }
  if (parts.size() == 2 && parts[0] == "softmax")
    return tn::softmax(*args.at(0).tensor, std::stoll(parts[1]));
  if (parts.size() == 2 && parts[0] == "logSoftmax")
    return tn::logSoftmax(*args.at(0).tensor, std::stoll(parts[1]));
  if (parts.size() == 3) {
    using Reduction = tn::Tensor (*)(
        const tn::Tensor &, std::vector<std::int64_t>, bool, tn::SourceLoc);
    static const std::map<std::string, Reduction> reductions = {
        {"sum", &tn::sum},   {"prod", &tn::prod},          {"mean", &tn::mean},
        {"amax", &tn::amax}, {"amin", &tn::amin},          {"all", &tn::all},
        {"any", &tn::any},   {"logsumexp", &tn::logsumexp}};
    auto r = reductions.find(parts[0]);
    if (r != reductions.end()) {
      std::vector<std::int64_t> dims;
      for (const std::string &d : split(parts[1], ','))
        if (!d.empty())
          dims.push_back(std::stoll(d));
      return r->second(*args.at(0).tensor, dims, parts[2] == "1", here);
    }
  }
  throw std::runtime_error("unknown op " + op);
}

} // namespace

/// A gradient case, `<id> grad@<op> <operands...> <seed>`: the floating
/// operands' bases (float64, or float32 in test_grads_vs_torch.py's float32
/// runs) require grad, the gradient of sum(op(...) * seed) with
/// respect to each is saved as <id>.g<k>.npy (k the operand's position),
/// and a central finite difference of the same sum along a random
/// direction, next to the gradients' inner product with that direction,
/// goes to <id>.fd ("<difference> <inner product>"). `grad2@<op>` also saves
/// the direction as <id>.v<k>.npy and the Hessian-vector product (the
/// gradient of <gradients, direction>, through createGraph) as
/// <id>.h<k>.npy.
void runGradientCase(const std::string &id, const std::string &op,
                     std::vector<Arg> &args, const std::string &out,
                     bool secondOrder) {
  tn::Tensor seed = *args.back().tensor;
  args.pop_back();
  std::vector<std::size_t> wrt;
  for (std::size_t k = 0; k < args.size(); ++k)
    if (args[k].base && (args[k].base->dtype() == tn::kFloat64 ||
                         args[k].base->dtype() == tn::kFloat32)) {
      args[k].base = args[k].base->clone().requiresGrad_();
      args[k].tensor = applyView(*args[k].base, args[k].view);
      wrt.push_back(k);
    }
  auto lossOf = [&](std::vector<Arg> &a) {
    return (runOp(op, a).to(tn::kFloat64) * seed).sum();
  };
  std::vector<tn::Tensor> bases;
  for (std::size_t k : wrt)
    bases.push_back(*args[k].base);
  std::vector<tn::Tensor> grads =
      tn::grad({lossOf(args)}, bases, {}, std::nullopt, secondOrder, true);
  // A direction per base, from the case's id, and f(x +- h v).
  tn::Generator rng(std::hash<std::string>{}(id));
  std::vector<tn::Tensor> directions;
  double inner = 0;
  for (std::size_t i = 0; i < wrt.size(); ++i) {
    directions.push_back(
        tn::randn(bases[i].shape(), rng, tn::kFloat64).to(bases[i].dtype()));
    if (grads[i].defined()) {
      tn::saveNpy(out + "/" + id + ".g" + std::to_string(wrt[i]) + ".npy",
                  grads[i]);
      inner += (grads[i] * directions[i]).sum().item<double>();
    }
  }
  if (secondOrder) {
    // A Hessian-vector product: the gradient of <grads, directions>.
    tn::Tensor product;
    for (std::size_t i = 0; i < wrt.size(); ++i) {
      tn::saveNpy(out + "/" + id + ".v" + std::to_string(wrt[i]) + ".npy",
                  directions[i]);
      if (grads[i].defined() && grads[i].requiresGrad()) {
        tn::Tensor term = (grads[i] * directions[i]).sum();
        product = product.defined() ? product + term : term;
      }
    }
    if (product.defined()) {
      std::vector<tn::Tensor> hv =
          tn::grad({product}, bases, {}, std::nullopt, false, true);
      for (std::size_t i = 0; i < wrt.size(); ++i)
        if (hv[i].defined())
          tn::saveNpy(out + "/" + id + ".h" + std::to_string(wrt[i]) + ".npy",
                      hv[i]);
    }
  }
  // float32: a step that keeps the difference above rounding (the script
  // checks the difference in float64 runs only).
  const double h =
      !bases.empty() && bases[0].dtype() == tn::kFloat32 ? 1e-3 : 1e-6;
  double sides[2];
  for (int side = 0; side < 2; ++side) {
    tn::NoGradGuard noGrad;
    std::vector<Arg> moved = args;
    for (std::size_t i = 0; i < wrt.size(); ++i) {
      tn::Tensor base =
          bases[i].detach() + directions[i] * (side == 0 ? h : -h);
      moved[wrt[i]].tensor = applyView(base, args[wrt[i]].view);
    }
    sides[side] = lossOf(moved).item<double>();
  }
  std::ofstream file(out + "/" + id + ".fd");
  file.precision(17);
  file << (sides[0] - sides[1]) / (2 * h) << " " << inner << "\n";
}

int main(int argc, char **argv) {
  if (argc != 3) {
    std::cerr << "usage: trueno-op-cases CASES OUTDIR\n";
    return 2;
  }
  std::ifstream cases(argv[1]);
  std::string out = argv[2], line;
  int count = 0;
  while (std::getline(cases, line)) {
    std::istringstream words(line);
    std::string id, op;
    if (!(words >> id >> op))
      continue;
    try {
      std::vector<Arg> args;
      for (std::string w; words >> w;)
        args.push_back(parseOperand(w));
      if (op.rfind("grad@", 0) == 0 || op.rfind("grad2@", 0) == 0) {
        bool second = op[4] == '2';
        runGradientCase(id, op.substr(second ? 6 : 5), args, out, second);
        ++count;
        continue;
      }
      tn::Tensor result = runOp(op, args);
      std::ofstream(out + "/" + id + ".dtype") << tn::dtypeName(result.dtype());
      if (result.dtype() == tn::kBFloat16)
        result = result.to(tn::kFloat32);
      tn::saveNpy(out + "/" + id + ".npy", result);
    } catch (const std::exception &e) {
      std::ofstream(out + "/" + id + ".err") << e.what() << "\n";
    }
    ++count;
  }
  tn::RuntimeStats stats = tn::runtimeStats();
  std::cout << "ran " << count << " cases: " << stats.kernelsLaunched
            << " kernels, " << stats.cacheMisses << " programs compiled in "
            << stats.compileMs << " ms\n";
  return 0;
}
