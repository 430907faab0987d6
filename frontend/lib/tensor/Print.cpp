//===- Print.cpp - PyTorch-style text of a tensor -------------------------===//
//
// Reproduces PyTorch's `repr` (torch/_tensor_str.py): one width for every
// element, integer-valued floats printed as "1.", four decimals otherwise,
// scientific notation when magnitudes span more than 1000x (or exceed 1e8,
// or fall below 1e-4), rows wrapped at 80 columns, and tensors of more than
// 1000 elements summarized to their first and last three entries per
// dimension. The dtype is named when it is not the default for its kind.
//
//===----------------------------------------------------------------------===//
#include "trueno/Core/Check.h"
#include "tensor/TensorImpl.h"

#include <algorithm>
#include <cmath>

namespace trueno {

namespace {
constexpr std::int64_t kSummarizeAbove = 1000;
constexpr std::int64_t kEdgeItems = 3;
constexpr std::int64_t kLineWidth = 80;
constexpr int kPrecision = 4;

/// Chooses one notation and width for all printed elements.
class ElementFormatter {
public:
  ElementFormatter(DType dtype, const std::vector<Scalar> &shown)
      : floating_(isFloating(dtype)), bool_(dtype == kBool) {
    if (!floating_) {
      for (const Scalar &v : shown)
        width_ = std::max(width_, raw(v).size());
      return;
    }
    std::vector<double> values;
    for (const Scalar &v : shown)
      values.push_back(v.toDouble());
    double minAbs = INFINITY, maxAbs = 0;
    bool any = false;
    for (double v : values) {
      if (!std::isfinite(v) || v == 0)
        continue;
      any = true;
      minAbs = std::min(minAbs, std::fabs(v));
      maxAbs = std::max(maxAbs, std::fabs(v));
      if (v != std::ceil(v))
        intMode_ = false;
    }
    if (!any)
      return;
    double ratio = maxAbs / minAbs;
    sciMode_ = intMode_ ? (ratio > 1000.0 || maxAbs > 1e8)
                        : (ratio > 1000.0 || maxAbs > 1e8 || minAbs < 1e-4);
    for (double v : values) {
      if (!std::isfinite(v) || v == 0)
        continue;
      std::size_t len = raw(Scalar(v)).size();
      width_ = std::max(width_, len);
    }
  }

  std::size_t width() const { return width_; }

  std::string format(const Scalar &v) const {
    std::string s = raw(v);
    return std::string(width_ > s.size() ? width_ - s.size() : 0, ' ') + s;
  }

private:
  std::string raw(const Scalar &value) const {
    if (bool_)
      return value.to<bool>() ? "True" : "False";
    if (!floating_)
      return fmt::format("{}", value.to<std::int64_t>());
    double v = value.toDouble();
    if (std::isnan(v))
      return "nan";
    if (std::isinf(v))
      return v > 0 ? "inf" : "-inf";
    if (sciMode_)
      return fmt::format("{:.{}e}", v, kPrecision);
    if (intMode_)
      return fmt::format("{:.0f}.", v);
    return fmt::format("{:.{}f}", v, kPrecision);
  }

  bool floating_, bool_;
  bool intMode_ = true, sciMode_ = false;
  std::size_t width_ = 1;
};

/// The indices printed along a dimension of size n: all of them, or the
/// first and last kEdgeItems with kGap between them when summarizing.
constexpr std::int64_t kGap = -1;
std::vector<std::int64_t> shownIndices(std::int64_t n, bool summarize) {
  std::vector<std::int64_t> indices;
  bool cut = summarize && n > 2 * kEdgeItems;
  for (std::int64_t i = 0; i < n; ++i) {
    if (cut && i == kEdgeItems) {
      indices.push_back(kGap);
      i = n - kEdgeItems;
    }
    indices.push_back(i);
  }
  return indices;
}

/// The elements shown (all of them, or the summarized edges), in order.
void collectShown(const Tensor &t, bool summarize, std::vector<Scalar> &out) {
  if (t.dim() == 0) {
    out.push_back(t.item());
    return;
  }
  for (std::int64_t i : shownIndices(t.size(0), summarize)) {
    if (i == kGap)
      continue;
    if (t.dim() == 1)
      out.push_back(t.at({i}));
    else
      collectShown(t.select(0, i), summarize, out);
  }
}

std::string vectorText(const Tensor &t, std::size_t indent, bool summarize,
                       const ElementFormatter &formatter) {
  std::size_t perLine = std::max<std::int64_t>(
      1, (kLineWidth - static_cast<std::int64_t>(indent)) /
             static_cast<std::int64_t>(formatter.width() + 2));
  std::vector<std::string> items;
  for (std::int64_t i : shownIndices(t.size(0), summarize))
    items.push_back(i == kGap ? " ..." : formatter.format(t.at({i})));
  std::string text = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      text += i % perLine == 0 ? ",\n" + std::string(indent + 1, ' ') : ", ";
    text += items[i];
  }
  return text + "]";
}

std::string tensorText(const Tensor &t, std::size_t indent, bool summarize,
                       const ElementFormatter &formatter) {
  if (t.dim() == 0)
    return formatter.format(t.item());
  if (t.dim() == 1)
    return vectorText(t, indent, summarize, formatter);
  std::vector<std::string> rows;
  for (std::int64_t i : shownIndices(t.size(0), summarize))
    rows.push_back(i == kGap ? "..."
                             : tensorText(t.select(0, i), indent + 1, summarize,
                                          formatter));
  std::string separator =
      "," + std::string(t.dim() - 1, '\n') + std::string(indent + 1, ' ');
  std::string text = "[";
  for (std::size_t i = 0; i < rows.size(); ++i)
    text += (i > 0 ? separator : "") + rows[i];
  return text + "]";
}
} // namespace

std::string Tensor::toString() const {
  if (!defined())
    return "tensor(undefined)";
  const std::string prefix = "tensor(";
  std::vector<std::string> suffixes;
  std::string body;
  if (numel() == 0) {
    body = "[]";
    if (dim() != 1)
      suffixes.push_back("size=" + formatShape(shape()));
  } else {
    bool summarize = numel() > kSummarizeAbove;
    std::vector<Scalar> shown;
    collectShown(*this, summarize, shown);
    ElementFormatter formatter(dtype(), shown);
    body = tensorText(*this, prefix.size(), summarize, formatter);
  }
  // PyTorch names every dtype but the default float for empty tensors,
  // since "[]" alone says nothing of the type.
  DType t = dtype();
  if (t != kDefaultFloat && (numel() == 0 || (t != kDefaultInt && t != kBool)))
    suffixes.push_back(fmt::format("dtype={}", dtypeName(t)));
  std::string text = prefix + body;
  for (const std::string &s : suffixes)
    text += ", " + s;
  return text + ")";
}

} // namespace trueno
