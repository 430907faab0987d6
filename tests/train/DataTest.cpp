//===- DataTest.cpp - Datasets, the loader, IDX files, checkpoints --------===//
//
// Loaders: sizes, seeded orders, prefetching, errors from the worker.
// Files: round trips of IDX, safetensors and .npz, and every way a file can
// lie (truncated, oversized claims, bad JSON, overlapping ranges...), each
// an IOError that names the file; a process killed with SIGKILL while
// saving leaves the previous checkpoint whole.
//
//===----------------------------------------------------------------------===//

#include "../unit/TestUtil.h"

#include <trueno/data/Data.h>
#include <trueno/io/Checkpoint.h>
#include <trueno/io/Logging.h>

#include <zlib.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace trueno;
using trueno::testing::errorOf;

namespace {

std::string scratch(const std::string &name) {
  return "/tmp/trueno-data-test-" + std::to_string(::getpid()) + "-" + name;
}

void writeBytes(const std::string &path,
                const std::vector<std::uint8_t> &bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char *>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> idx(std::uint8_t type,
                              std::vector<std::uint32_t> dims,
                              std::vector<std::uint8_t> payload) {
  std::vector<std::uint8_t> out = {0, 0, type,
                                   static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<std::uint8_t>(d >> shift));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

bool identical(const Tensor &a, const Tensor &b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         eq(a.to(kFloat64), b.to(kFloat64)).all().item<bool>();
}

/// A dataset whose example 5 cannot be read.
struct Faulty : data::Dataset {
  std::int64_t size() const override { return 8; }
  data::Example get(std::int64_t i) const override {
    if (i == 5)
      throw IOError("Faulty.get", "example 5 is unreadable", "",
                    SourceLoc::current());
    return {full({2}, static_cast<double>(i)), tensor(i)};
  }
};

} // namespace

TEST_CASE("DataLoader: batches, seeded shuffling, prefetching") {
  auto ds = std::make_shared<data::TensorDataset>(
      arange(10).to(kFloat32).reshape({10, 1}), arange(10));
  data::DataLoader plain(ds, {.batchSize = 4});
  CHECK(plain.size() == 3);
  std::vector<std::int64_t> sizes, seen;
  for (data::Example &b : plain) {
    sizes.push_back(b.data.size(0));
    for (std::int64_t v : b.target.toVector<std::int64_t>())
      seen.push_back(v);
  }
  CHECK(sizes == std::vector<std::int64_t>{4, 4, 2});
  CHECK(seen == arange(10).toVector<std::int64_t>());
  auto order = [&](std::uint64_t seed, std::int64_t prefetch, int epochs) {
    data::DataLoader l(ds, {.batchSize = 3,
                            .shuffle = true,
                            .dropLast = true,
                            .seed = seed,
                            .prefetch = prefetch});
    CHECK(l.size() == 3);
    std::vector<std::vector<std::int64_t>> out;
    for (int e = 0; e < epochs; ++e) {
      std::vector<std::int64_t> epoch;
      for (data::Example &b : l)
        for (std::int64_t v : b.target.toVector<std::int64_t>())
          epoch.push_back(v);
      out.push_back(epoch);
    }
    return out;
  };
  auto a = order(7, 2, 2), b = order(7, 0, 2), c = order(8, 2, 1);
  CHECK(a == b);       // prefetching changes nothing
  CHECK(a[0] != a[1]); // a new order each epoch
  CHECK(a[0] != c[0]); // and per seed
  CHECK(a[0].size() == 9);
  CHECK(std::set<std::int64_t>(a[0].begin(), a[0].end()).size() == 9);
  // Leaving an epoch early and starting the next one is fine.
  data::DataLoader early(ds, {.batchSize = 2});
  for (data::Example &batch : early) {
    (void)batch;
    break;
  }
  int batches = 0;
  for (data::Example &batch : early)
    batches += batch.data.defined();
  CHECK(batches == 5);
  // The worker's errors reach the loop, with their type.
  data::DataLoader faulty(std::make_shared<Faulty>(), {.batchSize = 2});
  std::string msg = errorOf<IOError>([&] {
    for (data::Example &batch : faulty)
      (void)batch;
  });
  CHECK_CONTAINS(msg, "example 5 is unreadable");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   data::TensorDataset(zeros({3, 2}), zeros({4}));
                 }),
                 "do not have the same number of rows");
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { data::DataLoader(ds, {.batchSize = 0}); }),
      "the batch size must be positive");
}

TEST_CASE("transforms: normalize, flips and crops") {
  Generator gen(1);
  data::Example batch{arange(8).to(kFloat32).reshape({1, 2, 2, 2}),
                      tensor({0})};
  Tensor original = batch.data.clone();
  data::normalize({1.0, 2.0}, {2.0, 4.0})(batch, gen);
  CHECK(batch.data.toVector<float>() ==
        std::vector<float>{-0.5f, 0, 0.5f, 1, 0.5f, 0.75f, 1, 1.25f});
  CHECK(identical(original, arange(8).to(kFloat32).reshape({1, 2, 2, 2})));
  batch.data = original.clone();
  data::randomHorizontalFlip(1.0)(batch, gen);
  CHECK(batch.data.toVector<float>() ==
        std::vector<float>{1, 0, 3, 2, 5, 4, 7, 6});
  batch.data = original.clone();
  data::randomCrop(0)(batch, gen);
  CHECK(identical(batch.data, original));
  // With padding, each image is a shifted copy with zeros coming in.
  data::Example ones1{ones({16, 1, 3, 3}), zeros({16})};
  data::randomCrop(1)(ones1, gen);
  double kept = ones1.data.sum().item<double>();
  CHECK(kept < 16 * 9);
  CHECK(kept >= 16 * 4);
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   data::Example flat{ones({2, 3}), zeros({2})};
                   data::randomCrop(1)(flat, gen);
                 }),
                 "expected a 4-D batch");
}

TEST_CASE("IDX files: round trips, gzip, and files that lie") {
  std::string path = scratch("a.idx");
  writeBytes(path, idx(0x08, {2, 3}, {1, 2, 3, 4, 5, 6}));
  Tensor t = data::readIdx(path);
  CHECK(t.dtype() == kUInt8);
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.at<int>({1, 2}) == 6);
  // Big-endian int32 and float32.
  writeBytes(path, idx(0x0C, {2}, {0, 0, 1, 2, 0xFF, 0xFF, 0xFF, 0xFE}));
  CHECK(data::readIdx(path).toVector<std::int32_t>() ==
        std::vector<std::int32_t>{258, -2});
  writeBytes(path, idx(0x0D, {1}, {0x3F, 0xC0, 0, 0}));
  CHECK(data::readIdx(path).item<float>() == 1.5f);
  // gzip'ed.
  std::string gzPath = scratch("a.idx.gz");
  {
    auto bytes = idx(0x08, {4}, {9, 8, 7, 6});
    gzFile f = gzopen(gzPath.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  }
  CHECK(data::readIdx(gzPath).toVector<std::uint8_t>() ==
        std::vector<std::uint8_t>{9, 8, 7, 6});
  auto lie = [&](std::vector<std::uint8_t> bytes) {
    writeBytes(path, bytes);
    return errorOf<IOError>([&] { (void)data::readIdx(path); });
  };
  CHECK_CONTAINS(lie({0, 0, 8}), "truncated");
  CHECK_CONTAINS(lie(idx(0x08, {4}, {1, 2, 3})),
                 "promises 4 bytes of elements, the file has 3");
  CHECK_CONTAINS(lie(idx(0x08, {2}, {1, 2, 3})), "promises 2 bytes");
  CHECK_CONTAINS(lie({1, 0, 8, 1, 0, 0, 0, 1, 5}), "two zero bytes");
  CHECK_CONTAINS(lie(idx(0x07, {1}, {1})), "unknown element type 0x07");
  CHECK_CONTAINS(lie({0, 0, 8, 0}), "rank 0");
  // 2^32-1 x 2^32-1 elements in a tiny file: refused before allocating.
  CHECK_CONTAINS(lie(idx(0x0E, {0xFFFFFFFF, 0xFFFFFFFF}, {})), "too large");
  CHECK_CONTAINS(lie(idx(0x08, {0x10000, 0x10000}, {1})),
                 "promises 4294967296 bytes");
  {
    auto bytes = idx(0x08, {0x40000, 0x40000}, {1});
    gzFile f = gzopen(gzPath.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  }
  CHECK_CONTAINS(errorOf<IOError>([&] { (void)data::readIdx(gzPath); }),
                 "more than a compressed file of");
  CHECK_CONTAINS(
      errorOf<IOError>([&] { (void)data::readIdx(scratch("missing")); }),
      "cannot open");
  CHECK_CONTAINS(errorOf<IOError>([&] {
                   (void)data::loadFashionMnist(scratch("nowhere"), true);
                 }),
                 "install Debian's dataset-fashion-mnist package");
  std::remove(path.c_str());
  std::remove(gzPath.c_str());
}

TEST_CASE("safetensors: every dtype round-trips, with metadata") {
  io::TensorMap tensors = {{"f32", randn({3, 4})},
                           {"f64", randn({2}, kFloat64)},
                           {"i64", arange(5)},
                           {"i32", arange(3).to(kInt32)},
                           {"i16", arange(3).to(kInt16)},
                           {"i8", tensor({-3, 4}).to(kInt8)},
                           {"u8", arange(4).to(kUInt8)},
                           {"b", tensor({true, false})},
                           {"h", randn({2, 2}).to(kFloat16)},
                           {"bf", randn({3}).to(kBFloat16)},
                           {"scalar", tensor(2.5)},
                           {"empty", zeros({0, 3})},
                           {"view", arange(12).reshape({3, 4}).T()}};
  std::string path = scratch("t.safetensors");
  io::saveSafetensors(path, tensors,
                      {{"epoch", "3"}, {"note", "a \"quoted\"\nline"}});
  io::Safetensors back = io::loadSafetensors(path);
  CHECK(back.metadata.at("epoch") == "3");
  CHECK(back.metadata.at("note") == "a \"quoted\"\nline");
  CHECK(back.tensors.size() == tensors.size());
  for (auto &[name, t] : tensors)
    CHECK_MESSAGE(identical(back.tensors.at(name), t), name);
  std::remove(path.c_str());
}

TEST_CASE(
    "safetensors: corrupt and hostile files are IOErrors naming the problem") {
  auto header = [](const std::string &json,
                   std::vector<std::uint8_t> data = {}) {
    std::vector<std::uint8_t> out(8);
    std::uint64_t n = json.size();
    for (int i = 0; i < 8; ++i)
      out[static_cast<std::size_t>(i)] =
          static_cast<std::uint8_t>(n >> (8 * i));
    out.insert(out.end(), json.begin(), json.end());
    out.insert(out.end(), data.begin(), data.end());
    return out;
  };
  auto bad = [&](const std::vector<std::uint8_t> &bytes) {
    return errorOf<IOError>(
        [&] { (void)io::decodeSafetensors(bytes, "f.st"); });
  };
  CHECK_CONTAINS(bad({1, 2, 3}), "f.st: 3 bytes, too short");
  CHECK_CONTAINS(
      bad({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, '{', '}'}),
      "the header length 9223372036854775807 exceeds the file");
  CHECK_CONTAINS(bad(header("[1, 2]")), "the header is not a JSON object");
  CHECK_CONTAINS(bad(header("{\"a\": ")), "unexpected end");
  CHECK_CONTAINS(bad(header("{\"a\": 1} x")), "trailing characters");
  CHECK_CONTAINS(bad(header(std::string(50, '[') + std::string(50, ']'))),
                 "nested too deeply");
  CHECK_CONTAINS(bad(header("{\"a\":{},\"a\":{}}")), "duplicate key \"a\"");
  CHECK_CONTAINS(bad(header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}")),
                 "lacks dtype, shape or data_offsets");
  CHECK_CONTAINS(
      bad(header(
          "{\"a\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
          std::vector<std::uint8_t>(8))),
      "unsupported dtype C64");
  CHECK_CONTAINS(
      bad(header(
          "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
          std::vector<std::uint8_t>(4))),
      "bad size in its shape");
  CHECK_CONTAINS(
      bad(header(
          "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
          std::vector<std::uint8_t>(4))),
      "do not fit its 8 bytes in a buffer of 4");
  // 2^40 x 2^40 floats claimed: refused without allocating.
  CHECK_CONTAINS(
      bad(header(
          "{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],"
          "\"data_offsets\":[0,4]}}",
          std::vector<std::uint8_t>(4))),
      "do not fit");
  CHECK_CONTAINS(
      bad(header(
          "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
          "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
          std::vector<std::uint8_t>(8))),
      "overlapping or leaving a gap");
  CHECK_CONTAINS(
      bad(header(
          "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
          std::vector<std::uint8_t>(6))),
      "2 bytes after the last tensor");
  CHECK_CONTAINS(
      bad(header(
          "{\"a\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]}}",
          {7})),
      "is BOOL but holds the byte 7");
  CHECK_CONTAINS(bad(header("{\"__metadata__\":{\"k\":1}}")),
                 "metadata \"k\" is not a string");
  CHECK_CONTAINS(
      errorOf<IOError>([&] { (void)io::loadSafetensors(scratch("none")); }),
      "cannot open");
  // Every truncation of a valid file is refused, never read past its end.
  std::vector<std::uint8_t> good =
      io::encodeSafetensors({{"w", randn({5, 3})}, {"b", zeros({3})}});
  for (std::size_t n = 0; n < good.size(); ++n) {
    std::vector<std::uint8_t> cut(
        good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    CHECK_THROWS_AS((void)io::decodeSafetensors(cut), IOError);
  }
}

TEST_CASE("a checkpoint save killed midway leaves the previous file whole") {
  std::string path = scratch("kill.safetensors");
  io::TensorMap small = {{"w", full({16}, 1.0)}};
  io::saveSafetensors(path, small);
  for (int attempt = 0; attempt < 5; ++attempt) {
    pid_t child = ::fork();
    if (child == 0) {
      // Saves 32 MB checkpoints over the file until killed.
      io::TensorMap big = {{"w", full({8 << 20}, 2.0)}};
      for (;;)
        io::saveSafetensors(path, big);
    }
    ::usleep(static_cast<useconds_t>(20000 + 30000 * attempt));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    io::Safetensors back = io::loadSafetensors(path);
    Tensor w = back.tensors.at("w");
    // Either the old checkpoint or a whole new one, never a mix.
    bool old = w.numel() == 16 && w.sum().item<double>() == 16;
    bool whole =
        w.numel() == (8 << 20) && w.sum().item<double>() == 2.0 * (8 << 20);
    CHECK((old || whole));
  }
  std::remove(path.c_str());
}

TEST_CASE(".npz archives round-trip and reject corrupt entries") {
  std::string path = scratch("a.npz");
  io::TensorMap tensors = {
      {"x", randn({3, 2})}, {"labels", arange(4)}, {"s", tensor(1.5)}};
  io::saveNpz(path, tensors);
  io::TensorMap back = io::loadNpz(path);
  CHECK(back.size() == 3);
  for (auto &[name, t] : tensors)
    CHECK(identical(back.at(name), t));
  // Flip one byte of an entry's data: its CRC catches it.
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  bytes[80] ^= 0x40;
  writeBytes(path, bytes);
  CHECK_CONTAINS(errorOf<IOError>([&] { (void)io::loadNpz(path); }), "CRC-32");
  writeBytes(path,
             std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 40));
  CHECK_CONTAINS(errorOf<IOError>([&] { (void)io::loadNpz(path); }),
                 "no end-of-central-directory record");
  std::remove(path.c_str());
}

TEST_CASE("metrics files and the SVG plot") {
  std::string stem = scratch("metrics");
  {
    io::MetricsLog log(stem);
    log.append({{"epoch", 1}, {"loss", 0.5}});
    log.append({{"epoch", 2}, {"loss", 0.25}});
  }
  std::ifstream csv(stem + ".csv");
  std::string text((std::istreambuf_iterator<char>(csv)), {});
  CHECK(text == "epoch,loss\n1,0.5\n2,0.25\n");
  std::ifstream jsonl(stem + ".jsonl");
  std::string lines((std::istreambuf_iterator<char>(jsonl)), {});
  CHECK(lines ==
        "{\"epoch\": 1, \"loss\": 0.5}\n{\"epoch\": 2, \"loss\": 0.25}\n");
  std::string svg = stem + ".svg";
  io::writeSvgPlot(svg, {{"loss", {{"train", {0.5, 0.25}}}}}, "t");
  std::ifstream plot(svg);
  std::string drawing((std::istreambuf_iterator<char>(plot)), {});
  CHECK(drawing.starts_with("<svg"));
  CHECK_CONTAINS(drawing, "<polyline");
  for (const char *suffix : {".csv", ".jsonl", ".svg"})
    std::remove((stem + suffix).c_str());
}

TEST_CASE("CSV and .npy files as datasets") {
  std::string path = scratch("d.csv");
  writeBytes(path,
             {'a', ',',  'b',  ',', 'y', '\n', '1', ',', '2', '.', '5', ',',
              '3', '\r', '\n', '-', '4', ',',  '1', 'e', '2', ',', '0', '\n'});
  data::TensorDataset csv = data::loadCsv(path);
  CHECK(csv.size() == 2);
  CHECK(csv.data().toVector<float>() == std::vector<float>{1, 2.5f, -4, 100});
  CHECK(csv.targets().dtype() == kInt64);
  CHECK(csv.targets().toVector<std::int64_t>() ==
        std::vector<std::int64_t>{3, 0});
  data::TensorDataset first =
      data::loadCsv(path, {.targetColumn = 0, .integerTarget = false});
  CHECK(first.targets().toVector<float>() == std::vector<float>{1, -4});
  auto bad = [&](const std::string &text, data::CsvOptions o = {}) {
    writeBytes(path, std::vector<std::uint8_t>(text.begin(), text.end()));
    return errorOf<IOError>([&] { (void)data::loadCsv(path, o); });
  };
  CHECK_CONTAINS(bad("a,b\n1,2\n3\n"), ":3: 1 fields, the first row has 2");
  CHECK_CONTAINS(bad("a,b\n1,x\n"), ":2: column 2 is not a number: \"x\"");
  CHECK_CONTAINS(bad("a,b\n1,2.5\n"),
                 "the target \"2.5\" is not an integer label");
  CHECK_CONTAINS(bad("a,b\n"), "has no data rows");
  CHECK_CONTAINS(bad("a\n1\n"), "1 columns cannot hold features and target");
  std::string x = scratch("x.npy"), y = scratch("y.npy");
  saveNpy(x, ones({3, 2}));
  saveNpy(y, arange(3));
  CHECK(data::loadNpyDataset(x, y).size() == 3);
  saveNpy(y, arange(4));
  CHECK_THROWS_AS((void)data::loadNpyDataset(x, y), ShapeError);
  for (const std::string &p : {path, x, y})
    std::remove(p.c_str());
}

TEST_CASE("IDX files: every element type, every header field wrong, gzip's "
          "own errors") {
  std::string path = scratch("b.idx");
  writeBytes(path, idx(0x09, {2}, {0xFF, 0x05}));
  Tensor i8 = data::readIdx(path);
  CHECK(i8.dtype() == kInt8);
  CHECK(i8.toVector<std::int8_t>() == std::vector<std::int8_t>{-1, 5});
  writeBytes(path, idx(0x0B, {1}, {0x80, 0x01}));
  CHECK(data::readIdx(path).toVector<std::int16_t>() ==
        std::vector<std::int16_t>{-32767});
  writeBytes(path, idx(0x08, {0, 5}, {}));
  CHECK(data::readIdx(path).shape() == Shape{0, 5});
  auto lie = [&](std::vector<std::uint8_t> bytes) {
    writeBytes(path, bytes);
    std::string msg = errorOf<IOError>([&] { (void)data::readIdx(path); });
    CHECK_CONTAINS(msg, "readIdx: " + path + ": ");
    return msg;
  };
  CHECK_CONTAINS(lie({0, 1, 8, 1, 0, 0, 0, 1, 5}), "two zero bytes");
  std::vector<std::uint8_t> deep = {0, 0, 8, 17};
  deep.resize(4 + 17 * 4 + 1, 0);
  CHECK_CONTAINS(lie(deep), "rank 17 (1 to 16 supported)");
  // Not files: a directory, a device.
  CHECK_CONTAINS(errorOf<IOError>([] { (void)data::readIdx("/tmp"); }),
                 "cannot open /tmp: a directory");
  CHECK_CONTAINS(errorOf<IOError>([] { (void)data::readIdx("/dev/null"); }),
                 "cannot open /dev/null: not a regular file");
  // gzip'ed: its data corrupt, its check value wrong, bytes after the
  // elements inside the stream, truncated.
  std::string gzPath = scratch("b.idx.gz");
  auto gzip = [&](const std::vector<std::uint8_t> &bytes) {
    gzFile f = gzopen(gzPath.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    std::ifstream in(gzPath, std::ios::binary);
    return std::vector<std::uint8_t>((std::istreambuf_iterator<char>(in)), {});
  };
  auto gzLie = [&](const std::vector<std::uint8_t> &bytes) {
    writeBytes(gzPath, bytes);
    return errorOf<IOError>([&] { (void)data::readIdx(gzPath); });
  };
  std::vector<std::uint8_t> payload(4000);
  for (std::size_t i = 0; i < payload.size(); ++i)
    payload[i] = static_cast<std::uint8_t>(i * 7 % 251);
  std::vector<std::uint8_t> good = gzip(idx(0x08, {4000}, payload));
  std::vector<std::uint8_t> bad = good;
  bad[bad.size() - 8] ^= 0xFF; // the CRC-32 in the trailer
  std::string msg = gzLie(bad);
  CHECK_CONTAINS(msg, "corrupt compressed data (");
  CHECK_CONTAINS(msg, "incorrect data check)");
  bad = good;
  for (std::size_t i = 12; i < 40; ++i)
    bad[i] ^= 0x5A;
  CHECK_CONTAINS(gzLie(bad), "corrupt compressed data");
  CHECK_CONTAINS(gzLie(gzip(idx(0x08, {4}, {1, 2, 3, 4, 5}))),
                 "there are bytes after the last element");
  bad.assign(good.begin(),
             good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
  CHECK_CONTAINS(gzLie(bad), "truncated: the header promises more bytes");
  std::remove(path.c_str());
  std::remove(gzPath.c_str());
}

TEST_CASE("loadFashionMnist: a small copy loads, mismatched files are "
          "refused") {
  std::string dir = scratch("fashion");
  std::filesystem::create_directory(dir);
  writeBytes(dir + "/train-images-idx3-ubyte",
             idx(0x08, {2, 2, 2}, {0, 255, 51, 102, 0, 0, 0, 255}));
  writeBytes(dir + "/train-labels-idx1-ubyte", idx(0x08, {2}, {3, 9}));
  data::TensorDataset train = data::loadFashionMnist(dir, true);
  CHECK(train.data().shape() == Shape{2, 1, 2, 2});
  std::vector<float> expected = {0, 1, 0.2f, 0.4f, 0, 0, 0, 1};
  std::vector<float> pixels = train.data().toVector<float>();
  for (std::size_t i = 0; i < expected.size(); ++i)
    CHECK(pixels[i] == doctest::Approx(expected[i]));
  CHECK(train.targets().toVector<std::int64_t>() ==
        std::vector<std::int64_t>{3, 9});
  CHECK(data::fashionMnistClasses().at(9) == "Ankle boot");
  writeBytes(dir + "/train-labels-idx1-ubyte", idx(0x08, {3}, {3, 9, 1}));
  CHECK_CONTAINS(
      errorOf<IOError>([&] { (void)data::loadFashionMnist(dir, true); }),
      "expected uint8 images (N, H, W) and N uint8 labels, got uint8 (2, 2, "
      "2) and uint8 (3,)");
  writeBytes(dir + "/train-images-idx3-ubyte",
             idx(0x08, {3, 4}, std::vector<std::uint8_t>(12)));
  CHECK_CONTAINS(
      errorOf<IOError>([&] { (void)data::loadFashionMnist(dir, true); }),
      "got uint8 (3, 4) and uint8 (3,)");
  std::filesystem::remove_all(dir);
}

TEST_CASE("datasets, transforms and the loader check their arguments") {
  CHECK_CONTAINS(
      errorOf<ShapeError>([] { data::TensorDataset(tensor(1.0), zeros({1})); }),
      "do not have the same number of rows");
  CHECK_CONTAINS(
      errorOf<ShapeError>([] { data::TensorDataset(zeros({1}), tensor(1.0)); }),
      "do not have the same number of rows");
  auto ds = std::make_shared<data::TensorDataset>(zeros({3, 2}), arange(3));
  for (std::int64_t bad : {-1, 3})
    CHECK_CONTAINS(errorOf<IndexError>([&] { (void)ds->get(bad); }),
                   fmt::format("Dataset.get: index {} is out of range for a "
                               "dataset of 3 examples",
                               bad));
  CHECK_CONTAINS(errorOf<IndexError>([&] {
                   (void)ds->getBatch({0, 5});
                 }),
                 "index 5 is out of range");
  // Rows of zero size copy nothing.
  data::TensorDataset none(zeros({0, 2}), zeros({0}));
  CHECK(none.getBatch({}).data.shape() == Shape{0, 2});
  CHECK_CONTAINS(errorOf<ValueError>([] { data::DataLoader(nullptr, {}); }),
                 "DataLoader: the dataset is null");
  CHECK_CONTAINS(
      errorOf<ValueError>([&] { data::DataLoader(ds, {.prefetch = -1}); }),
      "DataLoader: prefetch must be >= 0, got -1");
  // Fewer examples than a batch, dropping the last: no batches.
  data::DataLoader empty(ds, {.batchSize = 4, .dropLast = true});
  CHECK(empty.size() == 0);
  CHECK(empty.begin() == empty.end());
  CHECK(&empty.dataset() == ds.get());
  // normalize: its arguments, then the batch's channels.
  for (auto [mean, std] :
       std::vector<std::pair<std::vector<double>, std::vector<double>>>{
           {{}, {}}, {{0, 0}, {1}}, {{0}, {0}}, {{0}, {-1}}, {{0}, {NAN}}})
    CHECK_CONTAINS(errorOf<ValueError>([&] { data::normalize(mean, std); }),
                   "normalize: needs as many means as standard deviations");
  Generator gen(1);
  data::Example three{ones({2, 3, 2, 2}), zeros({2})};
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   data::normalize({0, 0}, {1, 1})(three, gen);
                 }),
                 "normalize: 2 means for a batch of shape (2, 3, 2, 2) (3 "
                 "channels)");
  // One mean for every channel, and batches of vectors or scalars.
  data::Example flat{full({4}, 3.0), zeros({4})};
  data::normalize({1}, {2})(flat, gen);
  CHECK(flat.data.toVector<float>() == std::vector<float>(4, 1.0f));
  data::Example empties{zeros({0, 3}), zeros({0})};
  data::normalize({1, 2, 3}, {1, 1, 1})(empties, gen);
  CHECK(empties.data.shape() == Shape{0, 3});
  CHECK_CONTAINS(errorOf<ValueError>([] { data::randomCrop(-1); }),
                 "randomCrop: padding must be >= 0, got -1");
  for (double p : {-0.5, 1.5, double(NAN)})
    CHECK_CONTAINS(errorOf<ValueError>([&] { data::randomHorizontalFlip(p); }),
                   "randomHorizontalFlip: the probability must be in [0, 1]");
  data::Example images{arange(8).to(kFloat32).reshape({2, 1, 2, 2}),
                       zeros({2})};
  Tensor before = images.data.clone();
  data::randomHorizontalFlip(0.0)(images, gen);
  CHECK(identical(images.data, before));
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   data::Example v{ones({3}), zeros({3})};
                   data::randomHorizontalFlip(1.0)(v, gen);
                 }),
                 "randomHorizontalFlip: expected a 4-D batch, got shape (3,)");
}

TEST_CASE("CSV files: options, blank lines, fields that are not labels") {
  std::string path = scratch("e.csv");
  auto write = [&](const std::string &text) {
    writeBytes(path, std::vector<std::uint8_t>(text.begin(), text.end()));
  };
  write("7;1 ;0\n\n2; 3\t;1\n");
  data::TensorDataset d =
      data::loadCsv(path, {.header = false, .delimiter = ';'});
  CHECK(d.size() == 2);
  CHECK(d.data().toVector<float>() == std::vector<float>{7, 1, 2, 3});
  d = data::loadCsv(path,
                    {.header = false, .delimiter = ';', .targetColumn = 0});
  CHECK(d.targets().toVector<std::int64_t>() ==
        std::vector<std::int64_t>{7, 2});
  auto bad = [&](const std::string &text, data::CsvOptions o = {}) {
    write(text);
    return errorOf<IOError>([&] { (void)data::loadCsv(path, o); });
  };
  for (std::int64_t target : {3, -4})
    CHECK_CONTAINS(bad("a,b,c\n1,2,3\n", {.targetColumn = target}),
                   fmt::format(":2: 3 columns cannot hold features and target "
                               "column {}",
                               target));
  CHECK_CONTAINS(bad("a,b,c\n1,,2\n"), ":2: column 2 is not a number: \"\"");
  CHECK_CONTAINS(bad("a,b\n1,2x\n"), "column 2 is not a number: \"2x\"");
  // The first data row must have the header's columns (a shifted file).
  CHECK_CONTAINS(bad("a,b,c\n1,2,3,4\n1,2,3,4\n"),
                 ":2: 4 fields, the header names 3");
  // Labels int64 cannot hold: converting them would be undefined.
  for (const char *label : {"inf", "-inf", "nan", "1e300", "9.3e18"})
    CHECK_CONTAINS(
        bad(fmt::format("a,b\n1,{}\n", label)),
        fmt::format("the target \"{}\" is not an integer label", label));
  // As regression targets they load.
  write("a,b\n1,1e300\n");
  CHECK(data::loadCsv(path, {.integerTarget = false}).targets().item<float>() ==
        INFINITY);
  CHECK_CONTAINS(
      errorOf<IOError>([&] { (void)data::loadCsv(scratch("absent.csv")); }),
      "loadCsv: cannot open " + scratch("absent.csv"));
  std::remove(path.c_str());
}
