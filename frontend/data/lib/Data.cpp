//===- Data.cpp - Datasets, the prefetching loader, transforms ------------===//

#include "trueno/data/Data.h"

#include "trueno/Fail.h"
#include "trueno/Indexing.h"
#include "trueno/Npy.h"
#include "trueno/Ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

namespace trueno::data {

using detail::fail;

namespace {

/// Uniform draws on the host from a trueno::Generator's Philox stream, so
/// an order or a crop is the same on every machine for a seed.
class HostRandom {
public:
  explicit HostRandom(Generator &gen) : gen_(gen) {}
  std::uint32_t next() {
    if (used_ == 4) {
      words_ = gen_.block(gen_.advance(1));
      used_ = 0;
    }
    return words_[used_++];
  }
  /// Uniform in [0, n) for n <= 2^32 (Lemire's multiply-shift).
  std::uint64_t below(std::uint64_t n) {
    return (static_cast<std::uint64_t>(next()) * n) >> 32;
  }
  /// Uniform in [0, 1).
  double unit() { return next() * 0x1p-32; }

private:
  Generator &gen_;
  std::array<std::uint32_t, 4> words_{};
  int used_ = 4;
};

/// The batch's data as a fresh contiguous float32 tensor the transform may
/// write (never the dataset's own storage).
Tensor writableFloat(const Tensor &t) { return t.to(kFloat32).clone(); }

void checkImages(const Tensor &x, const char *transform) {
  if (x.dim() != 4)
    fail<ShapeError>(std::source_location::current(), transform,
                     "pass batches of (N, C, H, W) images",
                     "expected a 4-D batch, got shape {}",
                     formatShape(x.shape()));
}

} // namespace

// --- Datasets
// ------------------------------------------------------------------

Example Dataset::getBatch(const std::vector<std::int64_t> &indices) const {
  std::vector<Tensor> data, targets;
  for (std::int64_t i : indices) {
    Example e = get(i);
    data.push_back(e.data);
    targets.push_back(e.target);
  }
  return {stack(data), stack(targets)};
}

TensorDataset::TensorDataset(Tensor data, Tensor targets, SourceLoc where) {
  if (data.dim(where) == 0 || targets.dim(where) == 0 ||
      data.size(0) != targets.size(0))
    fail<ShapeError>(where, "TensorDataset",
                     "data and targets need one row per example",
                     "data of shape {} and targets of shape {} do not have "
                     "the same number of rows",
                     formatShape(data.shape()), formatShape(targets.shape()));
  data_ = data.contiguous(where);
  targets_ = targets.contiguous(where);
  // Computed now, once: batches copy rows of the stored bytes.
  (void)data_.rawData(data_.dtype());
  (void)targets_.rawData(targets_.dtype());
  size_ = data_.size(0);
}

static void checkIndex(std::int64_t index, std::int64_t size) {
  if (index < 0 || index >= size)
    fail<IndexError>(std::source_location::current(), "Dataset.get", "",
                     "index {} is out of range for a dataset of {} examples",
                     index, size);
}

Example TensorDataset::get(std::int64_t index) const {
  checkIndex(index, size_);
  return {data_.select(0, index), targets_.select(0, index)};
}

/// Rows `indices` of a contiguous tensor, copied into a new one.
static Tensor gatherRows(const Tensor &t,
                         const std::vector<std::int64_t> &indices) {
  Shape shape = t.shape();
  std::int64_t rows = shape[0];
  shape[0] = static_cast<std::int64_t>(indices.size());
  Tensor out = empty(shape, t.dtype());
  std::size_t rowBytes =
      rows == 0 ? 0 : static_cast<std::size_t>(t.numel() / rows) * t.itemSize();
  const auto *from = static_cast<const std::uint8_t *>(t.rawData(t.dtype()));
  auto *to = static_cast<std::uint8_t *>(out.rawData(out.dtype()));
  for (std::size_t i = 0; i < indices.size(); ++i) {
    checkIndex(indices[i], rows);
    std::memcpy(to + i * rowBytes, from + indices[i] * rowBytes, rowBytes);
  }
  return out;
}

Example
TensorDataset::getBatch(const std::vector<std::int64_t> &indices) const {
  return {gatherRows(data_, indices), gatherRows(targets_, indices)};
}

// --- Transforms
// ----------------------------------------------------------------

Transform normalize(std::vector<double> mean, std::vector<double> std) {
  if (mean.empty() || mean.size() != std.size() ||
      std::any_of(std.begin(), std.end(), [](double s) { return !(s > 0); }))
    fail<ValueError>(std::source_location::current(), "normalize", "",
                     "needs as many means as standard deviations (at least "
                     "one), each deviation positive");
  return [mean, std](Example &batch, Generator &) {
    Tensor x = writableFloat(batch.data);
    std::int64_t channels = x.dim() >= 2 ? x.size(1) : 1;
    if (mean.size() != 1 && static_cast<std::int64_t>(mean.size()) != channels)
      fail<ShapeError>(std::source_location::current(), "normalize", "",
                       "{} means for a batch of shape {} ({} channels)",
                       mean.size(), formatShape(x.shape()), channels);
    std::int64_t n = x.dim() >= 1 ? x.size(0) : 1;
    std::int64_t plane = n * channels == 0 ? 0 : x.numel() / (n * channels);
    float *p = x.data<float>();
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t c = 0; c < channels; ++c) {
        std::size_t k = mean.size() == 1 ? 0 : static_cast<std::size_t>(c);
        float m = static_cast<float>(mean[k]);
        float inv = static_cast<float>(1.0 / std[k]);
        float *q = p + (i * channels + c) * plane;
        for (std::int64_t j = 0; j < plane; ++j)
          q[j] = (q[j] - m) * inv;
      }
    batch.data = x;
  };
}

Transform randomCrop(std::int64_t padding) {
  if (padding < 0)
    fail<ValueError>(std::source_location::current(), "randomCrop", "",
                     "padding must be >= 0, got {}", padding);
  return [padding](Example &batch, Generator &gen) {
    checkImages(batch.data, "randomCrop");
    Tensor x = writableFloat(batch.data);
    Tensor out = zeros(x.shape(), kFloat32);
    std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    const float *in = x.data<float>();
    float *o = out.data<float>();
    HostRandom random(gen);
    for (std::int64_t i = 0; i < n; ++i) {
      // The window's corner in the padded image, in [0, 2 * padding].
      std::int64_t dy =
          static_cast<std::int64_t>(random.below(2 * padding + 1)) - padding;
      std::int64_t dx =
          static_cast<std::int64_t>(random.below(2 * padding + 1)) - padding;
      for (std::int64_t ch = 0; ch < c; ++ch) {
        const float *src = in + (i * c + ch) * h * w;
        float *dst = o + (i * c + ch) * h * w;
        for (std::int64_t y = 0; y < h; ++y) {
          std::int64_t sy = y + dy;
          if (sy < 0 || sy >= h)
            continue;
          for (std::int64_t xx = 0; xx < w; ++xx) {
            std::int64_t sx = xx + dx;
            if (sx >= 0 && sx < w)
              dst[y * w + xx] = src[sy * w + sx];
          }
        }
      }
    }
    batch.data = out;
  };
}

Transform randomHorizontalFlip(double p) {
  if (!(p >= 0 && p <= 1))
    fail<ValueError>(std::source_location::current(), "randomHorizontalFlip",
                     "", "the probability must be in [0, 1], got {}", p);
  return [p](Example &batch, Generator &gen) {
    checkImages(batch.data, "randomHorizontalFlip");
    Tensor x = writableFloat(batch.data);
    std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    float *data = x.data<float>();
    HostRandom random(gen);
    for (std::int64_t i = 0; i < n; ++i) {
      if (!(random.unit() < p))
        continue;
      for (std::int64_t r = 0; r < c * h; ++r) {
        float *row = data + (i * c * h + r) * w;
        std::reverse(row, row + w);
      }
    }
    batch.data = x;
  };
}

// --- DataLoader
// ----------------------------------------------------------------

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset,
                       LoaderOptions options, SourceLoc where)
    : dataset_(std::move(dataset)), o_(std::move(options)),
      transformGen_(o_.seed ^ 0x9e3779b97f4a7c15ULL) {
  if (!dataset_)
    fail<ValueError>(where, "DataLoader", "", "the dataset is null");
  if (o_.batchSize <= 0)
    fail<ValueError>(where, "DataLoader", "",
                     "the batch size must be positive, got {}", o_.batchSize);
  if (o_.prefetch < 0)
    fail<ValueError>(where, "DataLoader", "", "prefetch must be >= 0, got {}",
                     o_.prefetch);
}

DataLoader::~DataLoader() { stopWorker(); }

std::int64_t DataLoader::size() const {
  std::int64_t n = dataset_->size();
  return o_.dropLast ? n / o_.batchSize : (n + o_.batchSize - 1) / o_.batchSize;
}

Example DataLoader::makeBatch(std::int64_t batch, Generator &gen) {
  std::int64_t first = batch * o_.batchSize;
  std::int64_t last =
      std::min<std::int64_t>(first + o_.batchSize, dataset_->size());
  std::vector<std::int64_t> indices(order_.begin() + first,
                                    order_.begin() + last);
  Example e = dataset_->getBatch(indices);
  for (const Transform &t : o_.transforms)
    t(e, gen);
  return e;
}

void DataLoader::stopWorker() {
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    worker_.join();
  }
  stop_ = false;
  ready_.clear();
  error_ = nullptr;
}

DataLoader::Iterator DataLoader::begin() {
  stopWorker();
  // This epoch's order: a Fisher-Yates shuffle from a generator seeded by
  // (seed, epoch), so epoch e's order does not depend on earlier epochs.
  std::int64_t n = dataset_->size();
  order_.resize(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    order_[static_cast<std::size_t>(i)] = i;
  if (o_.shuffle) {
    Generator gen(o_.seed + 0x632be59bd9b4e019ULL * (epoch_ + 1));
    HostRandom random(gen);
    for (std::int64_t i = n - 1; i > 0; --i)
      std::swap(order_[static_cast<std::size_t>(i)],
                order_[random.below(static_cast<std::uint64_t>(i) + 1)]);
  }
  ++epoch_;
  nextBatch_ = 0;
  produced_ = consumed_ = 0;
  finished_ = false;
  std::int64_t batches = size();
  if (o_.prefetch > 0) {
    worker_ = std::thread([this, batches] {
      for (std::int64_t b = 0; b < batches; ++b) {
        {
          std::unique_lock<std::mutex> lock(mutex_);
          changed_.wait(lock, [&] {
            return stop_ ||
                   static_cast<std::int64_t>(ready_.size()) < o_.prefetch;
          });
          if (stop_)
            return;
        }
        try {
          Example e = makeBatch(b, transformGen_);
          std::lock_guard<std::mutex> lock(mutex_);
          ready_.push_back(std::move(e));
        } catch (...) {
          std::lock_guard<std::mutex> lock(mutex_);
          error_ = std::current_exception();
          finished_ = true;
          changed_.notify_all();
          return;
        }
        changed_.notify_all();
      }
      std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
      changed_.notify_all();
    });
  }
  return Iterator(this, false);
}

std::optional<Example> DataLoader::next() {
  if (o_.prefetch == 0) {
    if (nextBatch_ >= size())
      return std::nullopt;
    return makeBatch(nextBatch_++, transformGen_);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !ready_.empty() || finished_; });
  if (ready_.empty()) {
    if (error_) {
      std::exception_ptr e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
    return std::nullopt;
  }
  Example e = std::move(ready_.front());
  ready_.pop_front();
  changed_.notify_all();
  return e;
}

DataLoader::Iterator::Iterator(DataLoader *loader, bool done)
    : loader_(loader), done_(done) {
  if (!done_)
    ++*this;
}

DataLoader::Iterator &DataLoader::Iterator::operator++() {
  std::optional<Example> e = loader_->next();
  if (e)
    current_ = std::move(*e);
  else
    done_ = true;
  return *this;
}

} // namespace trueno::data

// --- Files as datasets
// -----------------------------------------------------------

namespace trueno::data {

TensorDataset loadCsv(const std::string &path, CsvOptions o, SourceLoc where) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    fail<IOError>(where, "loadCsv", "", "cannot open {}", path);
  std::vector<float> features;
  std::vector<double> targets;
  std::string line;
  std::int64_t lineNumber = 0, columns = -1, target = 0, headerColumns = -1;
  auto split = [&](const std::string &text) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (;;) {
      std::size_t end = text.find(o.delimiter, start);
      fields.push_back(
          text.substr(start, end == std::string::npos ? end : end - start));
      if (end == std::string::npos)
        return fields;
      start = end + 1;
    }
  };
  while (std::getline(in, line)) {
    ++lineNumber;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (lineNumber == 1 && o.header) {
      headerColumns = static_cast<std::int64_t>(split(line).size());
      continue;
    }
    if (line.empty())
      continue;
    std::vector<std::string> fields = split(line);
    auto count = static_cast<std::int64_t>(fields.size());
    if (columns < 0) {
      if (headerColumns >= 0 && count != headerColumns)
        fail<IOError>(where, "loadCsv", "",
                      "{}:{}: {} fields, the header names {}", path, lineNumber,
                      count, headerColumns);
      columns = count;
      target = o.targetColumn < 0 ? o.targetColumn + columns : o.targetColumn;
      if (columns < 2 || target < 0 || target >= columns)
        fail<IOError>(where, "loadCsv", "",
                      "{}:{}: {} columns cannot hold features and target "
                      "column {}",
                      path, lineNumber, columns, o.targetColumn);
    }
    if (count != columns)
      fail<IOError>(where, "loadCsv", "",
                    "{}:{}: {} fields, the first row has {}", path, lineNumber,
                    count, columns);
    for (std::int64_t c = 0; c < count; ++c) {
      const std::string &f = fields[static_cast<std::size_t>(c)];
      char *end = nullptr;
      double v = std::strtod(f.c_str(), &end);
      while (end && (*end == ' ' || *end == '\t'))
        ++end;
      if (f.empty() || end == f.c_str() || *end != '\0')
        fail<IOError>(where, "loadCsv", "",
                      "{}:{}: column {} is not a number: \"{}\"", path,
                      lineNumber, c + 1, f);
      if (c == target) {
        // Also refuses what int64 cannot hold (converting it is undefined).
        if (o.integerTarget && !(v == std::floor(v) && std::fabs(v) < 0x1p63))
          fail<IOError>(where, "loadCsv",
                        "pass integerTarget = false for regression",
                        "{}:{}: the target \"{}\" is not an integer label",
                        path, lineNumber, f);
        targets.push_back(v);
      } else {
        features.push_back(static_cast<float>(v));
      }
    }
  }
  auto rows = static_cast<std::int64_t>(targets.size());
  if (rows == 0)
    fail<IOError>(where, "loadCsv", "", "{} has no data rows", path);
  Tensor x = fromVector(features, {rows, columns - 1});
  Tensor y = o.integerTarget ? fromVector(targets, {rows}).to(kInt64)
                             : fromVector(targets, {rows}).to(kFloat32);
  return TensorDataset(x, y, where);
}

TensorDataset loadNpyDataset(const std::string &dataPath,
                             const std::string &targetPath, SourceLoc where) {
  return TensorDataset(loadNpy(dataPath, where), loadNpy(targetPath, where),
                       where);
}

} // namespace trueno::data
