//===- NpyTest.cpp - .npy round trips and corrupt files -------------------===//
#include "TestUtil.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <sys/stat.h>
#include <unistd.h>

using namespace trueno;
using namespace trueno::testing;

namespace fs = std::filesystem;

static std::vector<std::uint8_t> bytesOf(const std::string &s) {
  return std::vector<std::uint8_t>(s.begin(), s.end());
}

/// A .npy file with the given header dict and data bytes.
static std::vector<std::uint8_t>
npyFile(const std::string &dict, std::size_t dataBytes, int version = 1) {
  std::string header = dict + "\n";
  std::string bytes = std::string("\x93NUMPY") + char(version) + '\0';
  std::size_t n = header.size();
  for (int i = 0; i < (version == 1 ? 2 : 4); ++i)
    bytes.push_back(static_cast<char>(n >> (8 * i)));
  bytes += header;
  bytes.append(dataBytes, '\x01');
  return bytesOf(bytes);
}

TEST_CASE("every dtype round-trips through .npy bytes") {
  Generator gen(3);
  for (int i = 0; i < kNumDTypes; ++i) {
    DType dtype = static_cast<DType>(i);
    CAPTURE(dtypeName(dtype));
    Tensor t = uniform({3, 4}, -100, 100, gen, kFloat64).to(dtype);
    Tensor back = decodeNpy(encodeNpy(t));
    CHECK(back.dtype() == dtype);
    CHECK(back.shape() == t.shape());
    CHECK(back.toVector<double>() == t.toVector<double>());
  }
  // Views are written in logical order.
  Tensor view = arange(12).reshape({3, 4}).T().slice(0, {}, {}, -1);
  CHECK(decodeNpy(encodeNpy(view)).toVector<int>() == view.toVector<int>());
  CHECK(decodeNpy(encodeNpy(tensor(2.5))).dim() == 0);
  CHECK(decodeNpy(encodeNpy(zeros({0, 5}))).shape() == Shape{0, 5});
}

TEST_CASE("the written header is NumPy's") {
  std::vector<std::uint8_t> bytes = encodeNpy(zeros({3, 4}));
  std::string text(bytes.begin(), bytes.end());
  CHECK(text.rfind("\x93NUMPY\x01", 0) == 0);
  CHECK_CONTAINS(text, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, "
                       "4), }");
  std::size_t headerEnd = text.find('\n') + 1;
  CHECK(headerEnd % 64 == 0);
  CHECK(bytes.size() == headerEnd + 48);
  std::vector<std::uint8_t> vec = encodeNpy(tensor({1}));
  CHECK_CONTAINS(std::string(vec.begin(), vec.end()), "'shape': (1,)");
  std::vector<std::uint8_t> bf = encodeNpy(ones({2}, kBFloat16));
  CHECK_CONTAINS(std::string(bf.begin(), bf.end()), "'descr': '<V2'");
}

TEST_CASE("big-endian, Fortran order and version 2 files are read") {
  // >i4 values 1, 2, 3, 4 in Fortran order for shape (2, 2): [[1, 3], [2, 4]].
  std::vector<std::uint8_t> f =
      npyFile("{'descr': '>i4', 'fortran_order': True, 'shape': (2, 2), }", 0);
  for (int v : {1, 2, 3, 4})
    for (int b : {0, 0, 0, v})
      f.push_back(static_cast<std::uint8_t>(b));
  Tensor t = decodeNpy(f);
  CHECK(t.dtype() == kInt32);
  CHECK(t.toVector<int>() == std::vector<int>{1, 3, 2, 4});
  CHECK(t.isContiguous());
  std::vector<std::uint8_t> v2 =
      npyFile("{'descr': '|u1', 'fortran_order': False, 'shape': (3,)}", 3, 2);
  CHECK(decodeNpy(v2).toVector<int>() == std::vector<int>{1, 1, 1});
  std::vector<std::uint8_t> b =
      npyFile("{'descr': '|b1', 'fortran_order': False, 'shape': (1,)}", 1);
  b.back() = 7; // any nonzero byte is true
  CHECK(decodeNpy(b).item<int>() == 1);
}

TEST_CASE(
    "corrupt and truncated files raise IOError, never read past the end") {
  auto ioError = [](const std::vector<std::uint8_t> &bytes) {
    return errorOf<IOError>([&] { decodeNpy(bytes, "bad.npy"); });
  };
  CHECK_CONTAINS(ioError({}),
                 "loadNpy: bad.npy: missing the .npy magic string");
  CHECK_CONTAINS(ioError(bytesOf("PK\x03\x04 this is a zip")),
                 "missing the .npy magic");
  CHECK_CONTAINS(ioError(npyFile("{}", 0, 9)),
                 "unsupported format version 9.0");
  std::vector<std::uint8_t> good = npyFile(
      "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 48);
  std::vector<std::uint8_t> shortData(good.begin(), good.end() - 1);
  CHECK_CONTAINS(ioError(shortData), "truncated: shape (2, 3) of float64 needs "
                                     "48 data bytes, the file has 47");
  std::vector<std::uint8_t> shortHeader(good.begin(), good.begin() + 20);
  CHECK_CONTAINS(ioError(shortHeader), "the header claims");
  CHECK_CONTAINS(ioError(npyFile("{'descr': '<f8', 'shape': (2,), }", 16)),
                 "lacks one of 'descr', 'fortran_order', 'shape'");
  CHECK_CONTAINS(ioError(npyFile("{'descr': '<f8', 'fortran_order': Maybe, "
                                 "'shape': (2,), }",
                                 16)),
                 "fortran_order is neither True nor False");
  CHECK_CONTAINS(ioError(npyFile("{'descr': '<f8', 'fortran_order': False, "
                                 "'shape': (2, -3), }",
                                 16)),
                 "expected a dimension");
  CHECK_CONTAINS(ioError(npyFile("{'descr': '<f8', 'fortran_order': False, "
                                 "'shape': (4294967296, 4294967296), }",
                                 16)),
                 "overflows");
  CHECK_CONTAINS(ioError(npyFile("{'descr': '<f8', 'fortran_order': False, "
                                 "'shape': (99999999999,), }",
                                 16)),
                 "truncated");
  CHECK_CONTAINS(ioError(npyFile("{'descr': '<f8', 'fortran_order': False, "
                                 "'shape': (2,), 'extra': 1}",
                                 16)),
                 "unexpected key 'extra'");
  CHECK_CONTAINS(ioError(npyFile("{'descr': 'f8', 'fortran_order': False, "
                                 "'shape': (2,), }",
                                 16)),
                 "unknown byte order in descr 'f8'");
  CHECK_CONTAINS(
      ioError(npyFile("{'descr' '<f8', 'fortran_order': False}", 16)),
      "expected ':' at header byte 9");
  CHECK_CONTAINS(ioError(npyFile("{'descr': '<f8', 'fortran_order': False, "
                                 "'shape': (2,), } trailing",
                                 16)),
                 "unexpected text after the header dict");
  CHECK_CONTAINS(ioError(npyFile("{'descr': '<f4', 'fortran_order': False, "
                                 "'shape': (0, 4611686018427387904, "
                                 "4611686018427387904), }",
                                 0)),
                 "overflows"); // NumPy refuses it too ("array is too big")
  CHECK_CONTAINS(errorOf<DTypeError>([] {
                   decodeNpy(npyFile("{'descr': [('a', '<i4'), ('b', '<f8')], "
                                     "'fortran_order': False, 'shape': (1,)}",
                                     12));
                 }),
                 "structured (record) dtypes are not supported");
  std::string msg = errorOf<DTypeError>([] {
    decodeNpy(
        npyFile("{'descr': '<u4', 'fortran_order': False, 'shape': (1,)}", 4));
  });
  CHECK_CONTAINS(msg, "unsupported element type '<u4'");
}

TEST_CASE(
    "random damage never crashes: it loads or throws IOError/DTypeError") {
  std::vector<std::uint8_t> good = encodeNpy(arange(40).reshape({5, 8}));
  std::mt19937 rng(2024);
  int rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::uint8_t> bad = good;
    int damage = rng() % 3;
    if (damage == 0)
      bad.resize(rng() % bad.size());
    else
      for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k)
        bad[rng() % 128] = static_cast<std::uint8_t>(rng());
    try {
      Tensor t = decodeNpy(bad);
      CHECK(t.numel() * t.itemSize() <= static_cast<std::int64_t>(bad.size()));
    } catch (const IOError &) {
      ++rejected;
    } catch (const DTypeError &) {
      ++rejected;
    }
  }
  CHECK(rejected > 1000);
}

TEST_CASE("files: save, load and the errors of the file system") {
  fs::path dir = fs::temp_directory_path() / "trueno-npy-test";
  fs::create_directories(dir);
  std::string path = (dir / "x.npy").string();
  Tensor t = arange(6, kInt16).reshape({2, 3});
  saveNpy(path, t);
  CHECK(loadNpy(path).toVector<int>() == t.toVector<int>());
  CHECK(loadNpy(path).dtype() == kInt16);
  CHECK_CONTAINS(
      errorOf<IOError>([&] { loadNpy((dir / "missing.npy").string()); }),
      "loadNpy: cannot open");
  CHECK_CONTAINS(errorOf<IOError>([&] { loadNpy(dir.string()); }),
                 "is a directory, not a file");
  CHECK_CONTAINS(
      errorOf<IOError>([&] { saveNpy((dir / "no/such/dir.npy").string(), t); }),
      "saveNpy: writing");
  fs::remove_all(dir);
}

TEST_CASE("headers are read as strictly as NumPy reads them") {
  auto ioError = [](const std::vector<std::uint8_t> &bytes) {
    return errorOf<IOError>([&] { decodeNpy(bytes, "bad.npy"); });
  };
  auto withShape = [](const std::string &shape, std::size_t dataBytes) {
    return npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': " +
                       shape + ", }",
                   dataBytes);
  };
  // (3) is the number 3 in Python; (03,) is a syntax error.
  CHECK_CONTAINS(ioError(withShape("(3)", 12)),
                 "'shape' is (3), a number, not a tuple");
  CHECK_CONTAINS(ioError(withShape("(03,)", 12)), "leading zero");
  CHECK_CONTAINS(ioError(withShape("(2, 03)", 24)), "leading zero");
  CHECK(decodeNpy(withShape("(3,)", 12)).shape() == Shape{3});
  CHECK(decodeNpy(withShape("(0,)", 0)).shape() == Shape{0});
  CHECK(decodeNpy(withShape("(2, 0)", 0)).shape() == Shape{2, 0});
  CHECK(decodeNpy(withShape("()", 4)).shape() == Shape{});
  // A minor version other than 0 is no format NumPy knows.
  std::vector<std::uint8_t> minor = withShape("(3,)", 12);
  minor[7] = 1;
  CHECK_CONTAINS(ioError(minor), "unsupported format version 1.1");
  // Bytes outside printable ASCII are escaped: a NUL does not cut the
  // message short.
  std::string nul = std::string("{'de") + '\0' +
                    "scr': '<f4', 'fortran_order': False, 'shape': (3,), }";
  std::string message = ioError(npyFile(nul, 12));
  CHECK_CONTAINS(message, "unexpected key 'de\\x00scr' in the header");
  CHECK_CONTAINS(errorOf<DTypeError>([] {
                   decodeNpy(npyFile("{'descr': '<u\x01', 'fortran_order': "
                                     "False, 'shape': (1,)}",
                                     4));
                 }),
                 "unsupported element type '<u\\x01'");
  // A header length past the bound is refused before it is parsed, even
  // when the file is long enough to hold it.
  std::vector<std::uint8_t> big = npyFile(
      "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}" +
          std::string((1 << 20) + 10, ' '),
      4, 2);
  CHECK_CONTAINS(ioError(big), "more than any array's header needs");
}

TEST_CASE("only regular files are read, and writes replace files whole") {
  fs::path dir = fs::temp_directory_path() /
                 ("trueno-npy-files-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  // /dev/zero and a pipe nobody writes to would be read without end.
  CHECK_CONTAINS(errorOf<IOError>([] { loadNpy("/dev/zero"); }),
                 "'/dev/zero' is not a regular file (a device, pipe or "
                 "socket)");
  std::string fifo = (dir / "pipe.npy").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_CONTAINS(errorOf<IOError>([&] { loadNpy(fifo); }),
                 "is not a regular file");
  // A link to a regular file is read, as NumPy reads it.
  std::string path = (dir / "x.npy").string();
  saveNpy(path, arange(4));
  fs::create_symlink(path, dir / "link.npy");
  CHECK(loadNpy((dir / "link.npy").string()).toVector<std::int64_t>() ==
        std::vector<std::int64_t>{0, 1, 2, 3});
  // Saving over a file replaces it whole; a failed save leaves no
  // temporary file behind.
  saveNpy(path, arange(7, kInt8));
  CHECK(loadNpy(path).numel() == 7);
  fs::create_directories(dir / "taken.npy" / "inside");
  CHECK_CONTAINS(errorOf<IOError>([&] {
                   saveNpy((dir / "taken.npy").string(), arange(3));
                 }),
                 "saveNpy: writing");
  int files = 0;
  for (const fs::directory_entry &e : fs::directory_iterator(dir)) {
    CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
    ++files;
  }
  CHECK(files == 4); // pipe.npy, x.npy, link.npy, taken.npy
  // A file cut short while it is read: the size check refuses it.
  std::vector<std::uint8_t> bytes = encodeNpy(arange(100));
  {
    std::FILE *f = std::fopen(path.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size() - 8, f);
    std::fclose(f);
  }
  CHECK_CONTAINS(errorOf<IOError>([&] { loadNpy(path); }),
                 "truncated: shape (100,) of int64 needs 800 data bytes");
  fs::remove_all(dir);
}
