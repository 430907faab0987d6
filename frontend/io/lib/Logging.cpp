//===- Logging.cpp - Progress bars, metrics files, SVG curves -------------===//

#include "trueno/io/Logging.h"

#include "trueno/Error.h"
#include "trueno/Fail.h"
#include "trueno/Files.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <unistd.h>

namespace trueno::io {

using Clock = std::chrono::steady_clock;

ProgressBar::ProgressBar(std::string label, std::int64_t total,
                         std::int64_t samplesPerStep, std::FILE *out)
    : label_(std::move(label)), total_(std::max<std::int64_t>(total, 1)),
      samples_(samplesPerStep), out_(out),
      terminal_(::isatty(::fileno(out)) != 0), start_(Clock::now()),
      lastDraw_(start_) {}

double ProgressBar::elapsedSeconds() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

static std::string formatDuration(double seconds) {
  auto s = static_cast<std::int64_t>(std::llround(std::max(0.0, seconds)));
  if (s >= 3600)
    return fmt::format("{}h{:02}m", s / 3600, (s / 60) % 60);
  if (s >= 60)
    return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

std::string ProgressBar::line(
    std::int64_t done,
    const std::vector<std::pair<std::string, double>> &values) const {
  double elapsed = elapsedSeconds();
  double rate =
      elapsed > 0 ? static_cast<double>(done * samples_) / elapsed : 0;
  double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) /
                              static_cast<double>(done)
                        : 0;
  constexpr int kWidth = 24;
  int filled = static_cast<int>(kWidth * done / total_);
  std::string bar = std::string(static_cast<std::size_t>(filled), '#') +
                    std::string(static_cast<std::size_t>(kWidth - filled), '.');
  std::string text = fmt::format("{} [{}] {:>{}}/{}", label_, bar, done,
                                 std::to_string(total_).size(), total_);
  for (const auto &[name, value] : values)
    text += fmt::format(" {} {:.4g}", name, value);
  text += fmt::format(" | {:.0f} samples/s | {} {}", rate,
                      done < total_ ? "ETA" : "took",
                      formatDuration(done < total_ ? eta : elapsed));
  return text;
}

void ProgressBar::update(
    std::int64_t done,
    const std::vector<std::pair<std::string, double>> &values) {
  if (terminal_) {
    // At most ten redraws a second.
    auto now = Clock::now();
    if (done < total_ && now - lastDraw_ < std::chrono::milliseconds(100))
      return;
    lastDraw_ = now;
    std::fprintf(out_, "\r%s\x1b[K", line(done, values).c_str());
    std::fflush(out_);
    return;
  }
  std::int64_t decile = 10 * done / total_;
  if (decile != lastDecile_ && decile < 10 && decile > 0) {
    lastDecile_ = decile;
    std::fprintf(out_, "%s\n", line(done, values).c_str());
    std::fflush(out_);
  }
}

void ProgressBar::finish(
    const std::vector<std::pair<std::string, double>> &values) {
  if (terminal_)
    std::fprintf(out_, "\r%s\x1b[K\n", line(total_, values).c_str());
  else
    std::fprintf(out_, "%s\n", line(total_, values).c_str());
  std::fflush(out_);
}

// --- Metrics
// ---------------------------------------------------------------------

MetricsLog::MetricsLog(std::string stem) : stem_(std::move(stem)) {
  for (const std::string &path : {csvPath(), jsonlPath()}) {
    std::ofstream f(path, std::ios::trunc);
    if (!f)
      detail::fail<IOError>(std::source_location::current(), "MetricsLog", "",
                            "cannot write {}: {}", path, std::strerror(errno));
  }
}

/// A metric's name as a JSON string.
static std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    else
      out += c;
  }
  return out + "\"";
}

/// A CSV field, quoted (RFC 4180) when it holds a comma, quote or newline.
static std::string csvField(const std::string &s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos)
    return s;
  std::string out = "\"";
  for (char c : s)
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

static std::string number(double v) {
  if (std::isnan(v) || std::isinf(v))
    return "null"; // JSON has no NaN; CSV readers take it as missing
  return fmt::format("{}", v);
}

void MetricsLog::append(
    const std::vector<std::pair<std::string, double>> &row) {
  bool header = columns_.empty();
  if (header)
    for (const auto &[name, v] : row)
      columns_.push_back(name);
  rows_.push_back(row);
  std::ofstream csv(csvPath(), std::ios::app);
  if (header) {
    for (std::size_t i = 0; i < columns_.size(); ++i)
      csv << (i ? "," : "") << csvField(columns_[i]);
    csv << "\n";
  }
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    auto it = std::find_if(row.begin(), row.end(), [&](const auto &e) {
      return e.first == columns_[i];
    });
    csv << (i ? "," : "") << (it == row.end() ? "" : number(it->second));
  }
  csv << "\n";
  std::ofstream jsonl(jsonlPath(), std::ios::app);
  jsonl << "{";
  for (std::size_t i = 0; i < row.size(); ++i)
    jsonl << (i ? ", " : "") << jsonString(row[i].first) << ": "
          << number(row[i].second);
  jsonl << "}\n";
  if (!csv || !jsonl)
    detail::fail<IOError>(std::source_location::current(), "MetricsLog", "",
                          "cannot append to {}.csv/.jsonl", stem_);
}

// --- SVG
// -------------------------------------------------------------------------

/// Text as SVG (XML) character data: a title like "loss & accuracy" or
/// "lr < 0.1" would otherwise make the file unreadable.
static std::string xmlText(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

void writeSvgPlot(const std::string &path, const std::vector<PlotPanel> &panels,
                  const std::string &title) {
  constexpr double kPanelW = 420, kPanelH = 300, kMargin = 50;
  static const char *kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                  "#9467bd"};
  double width =
      kPanelW * static_cast<double>(std::max<std::size_t>(panels.size(), 1));
  double height = kPanelH + 40;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">{3}"
      "</text>\n",
      width, height, width / 2, xmlText(title));
  for (std::size_t p = 0; p < panels.size(); ++p) {
    const PlotPanel &panel = panels[p];
    double x0 = kPanelW * static_cast<double>(p) + kMargin, y0 = 40;
    double w = kPanelW - kMargin - 20, h = kPanelH - kMargin - 10;
    double lo = INFINITY, hi = -INFINITY;
    std::size_t points = 0;
    for (const auto &[name, values] : panel.series)
      for (double v : values)
        if (std::isfinite(v)) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
          points = std::max(points, values.size());
        }
    if (!(hi > lo)) {
      lo = std::isfinite(lo) ? lo - 1 : 0;
      hi = lo + 2;
    }
    double pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    auto px = [&](std::size_t i) {
      return x0 + (points > 1 ? w * static_cast<double>(i) /
                                    static_cast<double>(points - 1)
                              : w / 2);
    };
    auto py = [&](double v) { return y0 + h - h * (v - lo) / (hi - lo); };
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}"
                       "</text>\n",
                       x0 + w / 2, y0 - 6, xmlText(panel.title));
    svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
                       "fill=\"none\" stroke=\"#888\"/>\n",
                       x0, y0, w, h);
    for (int t = 0; t <= 4; ++t) {
      double v = lo + (hi - lo) * t / 4;
      svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" "
                         "font-size=\"10\">{:.3g}</text>\n",
                         x0 - 4, py(v) + 3, v);
    }
    for (std::size_t i = 0; i < points; ++i)
      svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" "
                         "font-size=\"10\">{}</text>\n",
                         px(i), y0 + h + 14, i + 1);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">epoch"
                       "</text>\n",
                       x0 + w / 2, y0 + h + 30);
    std::size_t s = 0;
    for (const auto &[name, values] : panel.series) {
      const char *color = kColors[s % 5];
      std::string pointsText;
      for (std::size_t i = 0; i < values.size(); ++i)
        if (std::isfinite(values[i]))
          pointsText += fmt::format("{:.1f},{:.1f} ", px(i), py(values[i]));
      svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" "
                         "stroke-width=\"2\" points=\"{}\"/>\n",
                         color, pointsText);
      for (std::size_t i = 0; i < values.size(); ++i)
        if (std::isfinite(values[i]))
          svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" "
                             "fill=\"{}\"/>\n",
                             px(i), py(values[i]), color);
      svg += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>\n",
                         x0 + 8, y0 + 16 + 14 * static_cast<double>(s), color,
                         xmlText(name));
      ++s;
    }
  }
  svg += "</svg>\n";
  std::span<const std::uint8_t> bytes(
      reinterpret_cast<const std::uint8_t *>(svg.data()), svg.size());
  if (int error = detail::writeFileAtomically(path, bytes))
    detail::fail<IOError>(std::source_location::current(), "writeSvgPlot", "",
                          "cannot write {}: {}", path, std::strerror(error));
}

} // namespace trueno::io
