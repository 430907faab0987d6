//===- Data.h - Datasets, a batching loader, transforms, IDX files
//---------===//
//
// torch.utils.data for C++: a Dataset hands out examples (or whole batches,
// which in-memory datasets copy row by row without a per-example tensor), a
// DataLoader batches them in a seeded order on a background thread so the
// next batch is ready when the training step asks for it, and transforms
// run on whole batches on that thread.
//
// readIdx reads the IDX files MNIST and Fashion-MNIST ship in (gzip'ed or
// not); loadFashionMnist reads Debian's dataset-fashion-mnist package.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_DATA_DATA_H
#define TRUENO_DATA_DATA_H

#include "trueno/Random.h"
#include "trueno/Tensor.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace trueno::data {

/// An input and its target; a batch stacks them along a new dimension 0.
struct Example {
  Tensor data;
  Tensor target;
};

class Dataset {
public:
  virtual ~Dataset() = default;
  virtual std::int64_t size() const = 0;
  /// Example `index` (0 <= index < size(); IndexError otherwise).
  virtual Example get(std::int64_t index) const = 0;
  /// The examples at `indices`, stacked. The default calls get() for
  /// each; in-memory datasets copy rows instead.
  virtual Example getBatch(const std::vector<std::int64_t> &indices) const;
};

/// Rows of `data` and `targets` (their first dimensions must agree), held
/// in memory as contiguous tensors.
class TensorDataset : public Dataset {
public:
  TensorDataset(Tensor data, Tensor targets, TRUENO_HERE);
  std::int64_t size() const override { return size_; }
  Example get(std::int64_t index) const override;
  Example getBatch(const std::vector<std::int64_t> &indices) const override;
  const Tensor &data() const { return data_; }
  const Tensor &targets() const { return targets_; }

private:
  Tensor data_, targets_;
  std::int64_t size_;
};

/// A transform of a whole batch (run on the loader's thread), drawing from
/// the loader's generator: `[](Example &b, Generator &g) { ... }`.
using Transform = std::function<void(Example &batch, Generator &gen)>;

/// (x - mean[c]) / std[c] for each channel c of (N, C, ...) float data
/// (one value each for all channels when given one).
Transform normalize(std::vector<double> mean, std::vector<double> std);
/// Pads (N, C, H, W) data by `padding` zeros on each side, then crops a
/// random H x W window from each image (torchvision's RandomCrop(size,
/// padding) at the input's own size).
Transform randomCrop(std::int64_t padding);
/// Mirrors each image of (N, C, H, W) left to right with probability p.
Transform randomHorizontalFlip(double p = 0.5);

struct LoaderOptions {
  std::int64_t batchSize = 64;
  /// A new seeded permutation each epoch (the same seed gives the same
  /// order on every machine); in order otherwise.
  bool shuffle = false;
  /// Drops the last batch if it is smaller than batchSize.
  bool dropLast = false;
  std::uint64_t seed = 0;
  /// Batches prepared ahead on a background thread (0: none, in the
  /// caller's thread).
  std::int64_t prefetch = 2;
  /// Applied to each batch, in order, on the loader's thread.
  std::vector<Transform> transforms{};
};

/// Batches of a dataset. `for (Example &batch : loader)` runs one epoch;
/// each new loop is the next epoch (a new order when shuffling).
class DataLoader {
public:
  DataLoader(std::shared_ptr<const Dataset> dataset, LoaderOptions options,
             TRUENO_HERE);
  ~DataLoader();
  DataLoader(const DataLoader &) = delete;
  DataLoader &operator=(const DataLoader &) = delete;

  /// Batches per epoch.
  std::int64_t size() const;
  const Dataset &dataset() const { return *dataset_; }

  class Iterator {
  public:
    Example &operator*() { return current_; }
    Example *operator->() { return &current_; }
    Iterator &operator++();
    bool operator==(const Iterator &other) const {
      return done_ == other.done_;
    }

  private:
    friend class DataLoader;
    Iterator(DataLoader *loader, bool done);
    DataLoader *loader_;
    bool done_;
    Example current_;
  };
  /// Starts an epoch (stopping one still running).
  Iterator begin();
  Iterator end() { return Iterator(this, true); }

private:
  std::optional<Example> next();
  void stopWorker();
  Example makeBatch(std::int64_t batch, Generator &gen);

  std::shared_ptr<const Dataset> dataset_;
  LoaderOptions o_;
  std::uint64_t epoch_ = 0;
  std::vector<std::int64_t> order_;
  std::int64_t nextBatch_ = 0;
  Generator transformGen_;

  // The prefetching worker and its queue.
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Example> ready_;
  std::exception_ptr error_;
  bool stop_ = false, finished_ = false;
  std::int64_t produced_ = 0, consumed_ = 0;
};

/// An IDX file (the format of MNIST and Fashion-MNIST), gzip'ed or not:
/// a tensor of its dtype (uint8, int8, int16, int32, float32, float64)
/// and shape. Every header field is checked against the file's size; a
/// truncated, oversized or corrupt file is an IOError naming it.
Tensor readIdx(const std::string &path, TRUENO_HERE);

/// Fashion-MNIST's training (60000) or test (10000) set from `directory`
/// (Debian's dataset-fashion-mnist installs it in
/// /usr/share/datasets/fashion-mnist): images (N, 1, 28, 28) float32 in
/// [0, 1], labels (N,) int64. IOError naming the package if missing.
TensorDataset loadFashionMnist(const std::string &directory, bool train,
                               TRUENO_HERE);
struct CsvOptions {
  /// The first line names the columns (skipped).
  bool header = true;
  char delimiter = ',';
  /// The target's column (negative counts from the end).
  std::int64_t targetColumn = -1;
  /// int64 class labels (classification) or float32 values (regression).
  bool integerTarget = true;
};
/// A CSV file of numbers as a dataset: every column but the target as
/// float32 features (N, F), the target as (N,). A row with another number
/// of fields, or a field that is not a number, is an IOError naming the
/// file, line and column.
TensorDataset loadCsv(const std::string &path, CsvOptions options = {},
                      TRUENO_HERE);
/// `.npy` files of data and targets (numpy.save) as a dataset.
TensorDataset loadNpyDataset(const std::string &dataPath,
                             const std::string &targetPath, TRUENO_HERE);

/// Where Debian puts it.
inline constexpr const char *kFashionMnistDir =
    "/usr/share/datasets/fashion-mnist";
/// Fashion-MNIST's class names, by label.
const std::vector<std::string> &fashionMnistClasses();

} // namespace trueno::data

#endif // TRUENO_DATA_DATA_H
