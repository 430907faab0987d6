//===- Logging.h - Progress bars, metrics files, a training-curve plot ----===//
//
// What a training run shows and leaves behind: a progress bar (batches,
// loss, accuracy, samples/s, ETA; redrawn in place on a terminal, plain
// lines every 10% otherwise, so CI logs stay short), metrics per epoch as
// CSV and JSON Lines (appended and flushed at each epoch, so a killed run
// keeps what it measured), and the curves as a standalone SVG.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_IO_LOGGING_H
#define TRUENO_IO_LOGGING_H

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace trueno::io {

class ProgressBar {
public:
  /// `total` steps of `samplesPerStep` samples; `label` starts each line.
  /// Redraws in place when `out` is a terminal (auto-detected).
  ProgressBar(std::string label, std::int64_t total,
              std::int64_t samplesPerStep, std::FILE *out = stdout);
  /// Step `done` (1-based) finished; `values` are shown as name value.
  void update(std::int64_t done,
              const std::vector<std::pair<std::string, double>> &values);
  /// Ends the line (prints the final state once).
  void finish(const std::vector<std::pair<std::string, double>> &values);
  double elapsedSeconds() const;

private:
  std::string
  line(std::int64_t done,
       const std::vector<std::pair<std::string, double>> &values) const;
  std::string label_;
  std::int64_t total_, samples_;
  std::FILE *out_;
  bool terminal_;
  std::int64_t lastDecile_ = -1;
  std::chrono::steady_clock::time_point start_, lastDraw_;
};

/// Rows of named values, one per epoch, written to `<stem>.csv` and
/// `<stem>.jsonl` (both rewritten from the start when the log is created).
class MetricsLog {
public:
  explicit MetricsLog(std::string stem);
  /// Appends a row (the first row fixes the CSV's columns).
  void append(const std::vector<std::pair<std::string, double>> &row);
  const std::vector<std::vector<std::pair<std::string, double>>> &rows() const {
    return rows_;
  }
  std::string csvPath() const { return stem_ + ".csv"; }
  std::string jsonlPath() const { return stem_ + ".jsonl"; }

private:
  std::string stem_;
  std::vector<std::string> columns_;
  std::vector<std::vector<std::pair<std::string, double>>> rows_;
};

/// A line chart per panel (e.g. loss, accuracy), series by name, x the
/// epoch: a self-contained SVG written atomically to `path`.
struct PlotPanel {
  std::string title;
  std::map<std::string, std::vector<double>> series;
};
void writeSvgPlot(const std::string &path, const std::vector<PlotPanel> &panels,
                  const std::string &title);

} // namespace trueno::io

#endif // TRUENO_IO_LOGGING_H
