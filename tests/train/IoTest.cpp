//===- IoTest.cpp - Hostile checkpoint files, metrics files, progress -----===//
//
// Each field of a safetensors header and of a zip (.npz) wrong in turn: an
// IOError naming the file and what is wrong, never a crash or an
// allocation the file cannot back. Then what a run leaves behind: metrics
// files whose names need quoting, an SVG whose titles need escaping, and a
// progress bar on a terminal (a pseudo-terminal here).
//
//===----------------------------------------------------------------------===//

#include "../unit/TestUtil.h"

#include <trueno/io/Checkpoint.h>
#include <trueno/io/Logging.h>

#include <zlib.h>

#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <poll.h>
#include <thread>
#include <unistd.h>

using namespace trueno;
using trueno::testing::errorOf;

namespace {

std::string scratch(const std::string &name) {
  return "/tmp/trueno-io-test-" + std::to_string(::getpid()) + "-" + name;
}

void writeBytes(const std::string &path,
                const std::vector<std::uint8_t> &bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char *>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

std::string readText(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// A safetensors file: the header's length, the header, the buffer.
std::vector<std::uint8_t> safetensors(const std::string &json,
                                      std::vector<std::uint8_t> buffer = {}) {
  std::vector<std::uint8_t> out(8);
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] =
        static_cast<std::uint8_t>(json.size() >> (8 * i));
  out.insert(out.end(), json.begin(), json.end());
  out.insert(out.end(), buffer.begin(), buffer.end());
  return out;
}

/// One F32 tensor "a" of shape (1,), with `fields` in place of its usual
/// description when given.
std::string
oneTensor(const std::string &fields = "\"dtype\":\"F32\",\"shape\":[1],"
                                      "\"data_offsets\":[0,4]") {
  return "{\"a\":{" + fields + "}}";
}

std::string refused(const std::vector<std::uint8_t> &bytes) {
  return errorOf<IOError>([&] { (void)io::decodeSafetensors(bytes, "f.st"); });
}

void put16(std::vector<std::uint8_t> &out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(std::vector<std::uint8_t> &out, std::uint32_t v) {
  put16(out, v & 0xFFFF);
  put16(out, v >> 16);
}
void put64(std::vector<std::uint8_t> &out, std::uint64_t v) {
  put32(out, static_cast<std::uint32_t>(v));
  put32(out, static_cast<std::uint32_t>(v >> 32));
}

/// A zip entry as the archive holds it; each field can be made to lie.
struct ZipEntry {
  std::string name;
  std::vector<std::uint8_t> data; // as stored (compressed for method 8)
  std::uint32_t crc = 0;
  std::uint64_t unpacked = 0;
  std::uint16_t method = 0;
  /// Sizes and offset as 0xFFFFFFFF, the real ones in a zip64 extra field.
  bool zip64 = false;
  /// More extra fields in the central directory, after the zip64 one.
  std::vector<std::uint8_t> extra;
  /// Overrides of the central directory's fields.
  std::optional<std::uint32_t> signature, offset, packed;
};

ZipEntry stored(const std::string &name, const std::vector<std::uint8_t> &d) {
  ZipEntry e;
  e.name = name;
  e.data = d;
  e.crc = static_cast<std::uint32_t>(
      crc32(0, d.data(), static_cast<uInt>(d.size())));
  e.unpacked = d.size();
  return e;
}

ZipEntry deflated(const std::string &name, const std::vector<std::uint8_t> &d) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::vector<std::uint8_t> out(deflateBound(&z, d.size()));
  z.next_in = const_cast<Bytef *>(d.data());
  z.avail_in = static_cast<uInt>(d.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  ZipEntry e = stored(name, d);
  e.data = out;
  e.method = 8;
  return e;
}

/// The archive: local headers and data, the central directory, and its
/// end record (zip64's too when `zip64End`).
std::vector<std::uint8_t> zipArchive(const std::vector<ZipEntry> &entries,
                                     bool zip64End = false) {
  std::vector<std::uint8_t> out, dir;
  for (const ZipEntry &e : entries) {
    std::uint32_t offset = static_cast<std::uint32_t>(out.size());
    put32(out, 0x04034b50);
    put16(out, 20);
    put16(out, 0);
    put16(out, e.method);
    put32(out, 0);
    put32(out, e.crc);
    put32(out, static_cast<std::uint32_t>(e.data.size()));
    put32(out, static_cast<std::uint32_t>(e.unpacked));
    put16(out, static_cast<std::uint32_t>(e.name.size()));
    put16(out, 0);
    out.insert(out.end(), e.name.begin(), e.name.end());
    out.insert(out.end(), e.data.begin(), e.data.end());
    std::vector<std::uint8_t> extra;
    if (e.zip64) {
      put16(extra, 1);
      put16(extra, 24);
      put64(extra, e.unpacked);
      put64(extra, e.data.size());
      put64(extra, offset);
    }
    extra.insert(extra.end(), e.extra.begin(), e.extra.end());
    std::uint32_t all = e.zip64 ? 0xFFFFFFFF : 0;
    put32(dir, e.signature.value_or(0x02014b50));
    put16(dir, 45);
    put16(dir, 20);
    put16(dir, 0);
    put16(dir, e.method);
    put32(dir, 0);
    put32(dir, e.crc);
    put32(dir,
          e.packed.value_or(all | static_cast<std::uint32_t>(e.data.size())));
    put32(dir, all | static_cast<std::uint32_t>(e.unpacked));
    put16(dir, static_cast<std::uint32_t>(e.name.size()));
    put16(dir, static_cast<std::uint32_t>(extra.size()));
    put16(dir, 0);
    put16(dir, 0);
    put16(dir, 0);
    put32(dir, 0);
    put32(dir, e.offset.value_or(all | offset));
    dir.insert(dir.end(), e.name.begin(), e.name.end());
    dir.insert(dir.end(), extra.begin(), extra.end());
  }
  auto dirOffset = static_cast<std::uint32_t>(out.size());
  out.insert(out.end(), dir.begin(), dir.end());
  auto count = static_cast<std::uint32_t>(entries.size());
  if (zip64End) {
    auto record = static_cast<std::uint64_t>(out.size());
    put32(out, 0x06064b50);
    put64(out, 44);
    put16(out, 45);
    put16(out, 45);
    put32(out, 0);
    put32(out, 0);
    put64(out, count);
    put64(out, count);
    put64(out, dir.size());
    put64(out, dirOffset);
    put32(out, 0x07064b50);
    put32(out, 0);
    put64(out, record);
    put32(out, 1);
  }
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, zip64End ? 0xFFFF : count);
  put16(out, zip64End ? 0xFFFF : count);
  put32(out, zip64End ? 0xFFFFFFFF : static_cast<std::uint32_t>(dir.size()));
  put32(out, zip64End ? 0xFFFFFFFF : dirOffset);
  put16(out, 0);
  return out;
}

/// Reads from a pseudo-terminal's master side what is there now.
std::string drain(int master) {
  std::string out;
  char buffer[4096];
  pollfd p{master, POLLIN, 0};
  while (::poll(&p, 1, 200) > 0 && (p.revents & POLLIN)) {
    ssize_t n = ::read(master, buffer, sizeof buffer);
    if (n <= 0)
      break;
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

} // namespace

TEST_CASE("safetensors: the JSON header's grammar, escapes and literals") {
  // Every escape JSON has, in a name; whitespace of each kind.
  std::string name = "{\"q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\"";
  std::string json = name + " :\t{\"dtype\":\r\n\"U8\", \"shape\": [ 1 ] , "
                            "\"data_offsets\":[0,1]}}";
  io::Safetensors s = io::decodeSafetensors(safetensors(json, {7}));
  REQUIRE(s.tensors.size() == 1);
  CHECK(s.tensors.begin()->first == "q\"b\\s/\b\f\n\r\tA\u00e9\u20ac");
  CHECK(s.tensors.begin()->second.item<int>() == 7);
  // Names and metadata with quotes, backslashes and control characters
  // round-trip through the writer's escapes.
  std::string odd = std::string("a\\b\"c\x01") + "\t\xc3\xa9";
  io::Safetensors back = io::decodeSafetensors(
      io::encodeSafetensors({{odd, tensor({1.5f})}}, {{odd, odd}}));
  CHECK(back.tensors.count(odd));
  CHECK(back.metadata.at(odd) == odd);
  // No tensors at all is a valid file; so are empty tensors, at any offset
  // the tiling allows, even with a huge size beside a zero.
  CHECK(io::decodeSafetensors(safetensors("{}")).tensors.empty());
  io::Safetensors empties = io::decodeSafetensors(safetensors(
      "{\"e\":{\"dtype\":\"F64\",\"shape\":[0,1099511627776],"
      "\"data_offsets\":[0,0]},"
      "\"f\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}"));
  CHECK(empties.tensors.at("e").shape() == Shape{0, 1099511627776});
  // A metadata object of many keys parses in linear time (duplicates are
  // looked up, not searched for).
  std::string many = "{\"__metadata__\":{";
  for (int i = 0; i < 20000; ++i)
    many += fmt::format("{}\"k{}\":\"v\"", i ? "," : "", i);
  CHECK(io::decodeSafetensors(safetensors(many + "}}")).metadata.size() ==
        20000);
  CHECK_CONTAINS(refused(safetensors(many + ",\"k19999\":\"w\"}}")),
                 "f.st: bad header at byte");
}

TEST_CASE("safetensors: each malformed JSON construct is an IOError saying "
          "where") {
  std::string sixtyFiveZeros = "0";
  for (int i = 0; i < 64; ++i)
    sixtyFiveZeros += ",0";
  std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"a\" 1}", "expected ':'"},
      {"{\"a\":{} \"b\":{}}", "expected '}'"},
      {oneTensor("\"dtype\":\"F32\",\"shape\":[1 2],\"data_offsets\":[0,4]"),
       "expected ']'"},
      {"{1:2}", "expected a string"},
      {"{\"a", "an unterminated string"},
      {"{\"a\\", "an unterminated escape"},
      {"{\"a\x01\":{}}", "a control character in a string"},
      {"{\"\\u12", "a short \\u escape"},
      {"{\"\\u12G4\":{}}", "a bad \\u escape"},
      {"{\"\\x\":{}}", "a bad escape '\\x'"},
      {"{\"a\":1.2.3}", "a malformed number"},
      {"{\"a\":-}", "a malformed number"},
      {"{\"a\":@}", "unexpected character '@'"},
      {"{\"a\":tru}", "unexpected character 't'"},
      {"{\"a\":[" + sixtyFiveZeros + "]}", "an array of more than 64 elements"},
  };
  for (const auto &[json, what] : cases) {
    INFO(json);
    std::string msg = refused(safetensors(json));
    CHECK_CONTAINS(msg, "loadSafetensors: f.st: bad header at byte ");
    CHECK_CONTAINS(msg, what);
  }
  // The byte offset counts the 8 bytes of the length.
  CHECK_CONTAINS(refused(safetensors("{\"a\" 1}")),
                 "bad header at byte 13: expected ':'");
}

TEST_CASE("safetensors: each field of a tensor's entry wrong in turn") {
  std::vector<std::uint8_t> four(4);
  auto field = [&](const std::string &fields) {
    return refused(safetensors(oneTensor(fields), four));
  };
  CHECK_CONTAINS(refused(safetensors("{\"__metadata__\":[]}")),
                 "f.st: __metadata__ is not an object");
  CHECK_CONTAINS(refused(safetensors("{\"a\":[]}")), "\"a\" is not an object");
  CHECK_CONTAINS(field("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,"
                       "4],\"grad\":true"),
                 "\"a\" has an unknown field \"grad\"");
  for (const char *dtype : {"null", "true", "false", "1", "\"f32\""})
    CHECK_CONTAINS(field(fmt::format("\"dtype\":{},\"shape\":[1],"
                                     "\"data_offsets\":[0,4]",
                                     dtype)),
                   "\"a\" has an unsupported dtype");
  CHECK_CONTAINS(field("\"dtype\":null,\"shape\":[1],\"data_offsets\":[0,4]"),
                 "unsupported dtype (not a string)");
  for (const char *shape :
       {"\"1\"", "{}", "[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]"})
    CHECK_CONTAINS(field(fmt::format("\"dtype\":\"F32\",\"shape\":{},"
                                     "\"data_offsets\":[0,4]",
                                     shape)),
                   "\"a\" has a bad shape (a list of at most 16 sizes)");
  // Sizes: not integers, negative, past 2^40, past 2^63, past 2^64.
  for (const char *size : {"1.0", "1e0", "-1", "\"1\"", "1099511627777",
                           "9223372036854775808", "12345678901234567890"})
    CHECK_CONTAINS(field(fmt::format("\"dtype\":\"F32\",\"shape\":[{}],"
                                     "\"data_offsets\":[0,4]",
                                     size)),
                   "\"a\" has a bad size in its shape");
  for (const char *offsets : {"\"0,4\"", "[0]", "[0,4,8]", "[0,\"4\"]",
                              "[\"0\",4]", "[0,-4]", "[0,4.0]"})
    CHECK_CONTAINS(field(fmt::format("\"dtype\":\"F32\",\"shape\":[1],"
                                     "\"data_offsets\":{}",
                                     offsets)),
                   "\"a\" has bad data_offsets");
  CHECK_CONTAINS(
      field("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]"),
      "data_offsets [4, 0] do not fit its 4 bytes in a buffer of 4");
  CHECK_CONTAINS(
      field("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,2]"),
      "data_offsets [0, 2] do not fit its 4 bytes");
  CHECK_CONTAINS(
      field("\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[0,2]"),
      "2 bytes after the last tensor");
}

TEST_CASE("safetensors: writing refuses what it cannot write, reading what "
          "is not a file") {
  int at = __LINE__ + 2;
  std::string msg = errorOf<ValueError>([] {
    (void)io::encodeSafetensors({{"x", Tensor()}});
  });
  CHECK_CONTAINS(msg, "saveSafetensors: tensor \"x\" is undefined");
  CHECK_CONTAINS(msg, "IoTest.cpp:" + std::to_string(at));
  CHECK_CONTAINS(errorOf<ValueError>([] {
                   (void)io::encodeSafetensors({{"__metadata__", zeros({1})}});
                 }),
                 "\"__metadata__\" cannot name a tensor");
  std::string nowhere = scratch("no-such-dir") + "/x.safetensors";
  CHECK_CONTAINS(errorOf<IOError>([&] {
                   io::saveSafetensors(nowhere, {{"x", zeros({1})}});
                 }),
                 "saveSafetensors: cannot write " + nowhere);
  CHECK_CONTAINS(errorOf<IOError>([] { (void)io::loadSafetensors("/tmp"); }),
                 "loadSafetensors: /tmp is not a regular file");
  CHECK_CONTAINS(errorOf<IOError>([] { (void)io::loadNpz("/tmp"); }),
                 "loadNpz: /tmp is not a regular file");
}

TEST_CASE(".npz: stored, deflated and zip64 entries load") {
  Tensor x = arange(6).to(kFloat32).reshape({2, 3});
  std::vector<std::uint8_t> npy = encodeNpy(x), ids = encodeNpy(arange(3));
  std::string path = scratch("ok.npz");
  auto load = [&](const std::vector<std::uint8_t> &zip) {
    writeBytes(path, zip);
    return io::loadNpz(path);
  };
  // Deflated (numpy.savez_compressed), a name without ".npy", and extra
  // fields that are not zip64's (skipped).
  ZipEntry packed = deflated("x.npy", npy);
  packed.extra = {0x55, 0x54, 5, 0, 1, 2, 3, 4, 5};
  io::TensorMap m = load(zipArchive({packed, stored("ids", ids)}));
  CHECK(m.size() == 2);
  CHECK(eq(m.at("x"), x).all().item<bool>());
  CHECK(m.at("ids").toVector<std::int64_t>() ==
        std::vector<std::int64_t>{0, 1, 2});
  // Sizes and offsets in zip64 extra fields, and a zip64 end record.
  ZipEntry big = stored("x.npy", npy);
  big.zip64 = true;
  ZipEntry second = deflated("y.npy", ids);
  second.zip64 = true;
  m = load(zipArchive({big, second}, true));
  CHECK(m.size() == 2);
  CHECK(m.at("y").toVector<std::int64_t>() ==
        std::vector<std::int64_t>{0, 1, 2});
  std::remove(path.c_str());
}

TEST_CASE(".npz: each field of the archive wrong in turn") {
  std::vector<std::uint8_t> npy = encodeNpy(arange(4).to(kFloat32));
  std::string path = scratch("bad.npz");
  auto refuse = [&](const std::vector<std::uint8_t> &zip) {
    writeBytes(path, zip);
    std::string msg = errorOf<IOError>([&] { (void)io::loadNpz(path); });
    CHECK_CONTAINS(msg, "loadNpz: " + path + ": ");
    return msg;
  };
  auto entry = [&](auto &&change) {
    ZipEntry e = stored("x.npy", npy);
    change(e);
    return refuse(zipArchive({e}));
  };
  CHECK_CONTAINS(refuse(std::vector<std::uint8_t>(21)),
                 "too short for a zip archive");
  // No end record in the last 64 KiB (and none before it is looked for).
  std::vector<std::uint8_t> tail = zipArchive({stored("x.npy", npy)});
  tail.resize(tail.size() + 70000);
  CHECK_CONTAINS(refuse(tail), "no end-of-central-directory record");
  // The central directory: outside the file, too many entries for its
  // size, a bad signature, a name running past it.
  std::vector<std::uint8_t> zip = zipArchive({stored("x.npy", npy)});
  std::size_t end = zip.size() - 22;
  auto patched = [&](std::size_t at, std::vector<std::uint8_t> bytes) {
    std::vector<std::uint8_t> z = zip;
    std::copy(bytes.begin(), bytes.end(), z.begin() + at);
    return z;
  };
  CHECK_CONTAINS(refuse(patched(end + 16, {0xFF, 0xFF, 0, 0})),
                 "the central directory lies outside the file");
  CHECK_CONTAINS(refuse(patched(end + 12, {0xFF, 0xFF, 0, 0})),
                 "the central directory lies outside the file");
  CHECK_CONTAINS(refuse(patched(end + 10, {2, 0})),
                 "the central directory lies outside the file");
  CHECK_CONTAINS(entry([](ZipEntry &e) { e.signature = 0x02014b51; }),
                 "central directory entry 0 is corrupt");
  std::size_t dir = zip[end + 16] | (zip[end + 17] << 8);
  CHECK_CONTAINS(refuse(patched(dir + 28, {0xFF, 0})),
                 "central directory entry 0 overruns");
  // Extra fields: one running past its end, a zip64 one too short for the
  // fields it stands for.
  CHECK_CONTAINS(entry([](ZipEntry &e) {
                   e.extra = {0x55, 0x54, 9, 0, 1};
                 }),
                 "\"x.npy\" has a corrupt extra field");
  CHECK_CONTAINS(entry([](ZipEntry &e) {
                   e.offset = 0xFFFFFFFF;
                   e.extra = {1, 0, 0, 0};
                 }),
                 "\"x.npy\" has a short zip64 field");
  // The local header: past the end, not a local header, data past the end.
  CHECK_CONTAINS(entry([](ZipEntry &e) { e.offset = 1u << 20; }),
                 "\"x.npy\": a bad local header offset");
  CHECK_CONTAINS(entry([](ZipEntry &e) { e.offset = 1; }),
                 "\"x.npy\": a bad local header offset");
  CHECK_CONTAINS(entry([](ZipEntry &e) { e.packed = 1u << 20; }),
                 "\"x.npy\": its data lies outside the file");
  // Methods and sizes.
  CHECK_CONTAINS(entry([](ZipEntry &e) { e.unpacked += 1; }),
                 "\"x.npy\" is stored but its sizes differ");
  CHECK_CONTAINS(entry([](ZipEntry &e) { e.method = 12; }),
                 "\"x.npy\" uses compression method 12 (stored and deflate are "
                 "supported)");
  ZipEntry lie = deflated("x.npy", npy);
  lie.unpacked = 1u << 30;
  CHECK_CONTAINS(refuse(zipArchive({lie})),
                 fmt::format("\"x.npy\" claims 1073741824 bytes from {} "
                             "compressed",
                             lie.data.size()));
  ZipEntry garbled = deflated("x.npy", npy);
  garbled.data[garbled.data.size() / 2] ^= 0xFF;
  garbled.data.resize(garbled.data.size() - 2);
  CHECK_CONTAINS(refuse(zipArchive({garbled})),
                 "\"x.npy\": corrupt compressed data");
  ZipEntry shorter = deflated("x.npy", npy);
  shorter.unpacked -= 1;
  CHECK_CONTAINS(refuse(zipArchive({shorter})),
                 "\"x.npy\": corrupt compressed data");
  // zip64's end record where its locator says, or not.
  std::vector<std::uint8_t> z64 = zipArchive({stored("x.npy", npy)}, true);
  z64[z64.size() - 22 - 20 + 8] += 1;
  CHECK_CONTAINS(refuse(z64), "a bad zip64 end record");
  z64 = zipArchive({stored("x.npy", npy)}, true);
  z64[z64.size() - 22 - 20 + 13] = 1; // the record's offset past 2^40
  CHECK_CONTAINS(refuse(z64), "a bad zip64 end record");
  // Two entries of one name (with and without ".npy").
  CHECK_CONTAINS(refuse(zipArchive({stored("x.npy", npy), stored("x", npy)})),
                 "\"x\" appears twice");
  // A corrupt .npy inside names the archive and the entry.
  std::vector<std::uint8_t> notNpy(npy.begin(), npy.begin() + 20);
  writeBytes(path, zipArchive({stored("w.npy", notNpy)}));
  CHECK_CONTAINS(errorOf<IOError>([&] { (void)io::loadNpz(path); }),
                 path + ":w");
  std::remove(path.c_str());
}

TEST_CASE(".npz: what saveNpz cannot write") {
  std::string tooLong(70000, 'n');
  CHECK_CONTAINS(errorOf<ValueError>([&] {
                   io::saveNpz(scratch("long.npz"), {{tooLong, zeros({1})}});
                 }),
                 "is too large for a zip without zip64");
  std::string nowhere = scratch("no-such-dir") + "/x.npz";
  CHECK_CONTAINS(errorOf<IOError>([&] {
                   io::saveNpz(nowhere, {{"x", zeros({1})}});
                 }),
                 "saveNpz: cannot write " + nowhere);
}

TEST_CASE("metrics: names that need quoting, missing columns, NaN") {
  std::string stem = scratch("quoted");
  io::MetricsLog log(stem);
  log.append({{"epoch", 1}, {"a,b", 0.5}, {"say \"hi\"", NAN}});
  log.append({{"epoch", 2}, {"say \"hi\"", INFINITY}, {"extra", 3}});
  // The first row fixes the CSV's columns: a missing value is empty, a
  // later column only reaches the JSON lines.
  CHECK(readText(log.csvPath()) ==
        "epoch,\"a,b\",\"say \"\"hi\"\"\"\n1,0.5,null\n2,,null\n");
  CHECK(readText(log.jsonlPath()) ==
        "{\"epoch\": 1, \"a,b\": 0.5, \"say \\\"hi\\\"\": null}\n"
        "{\"epoch\": 2, \"say \\\"hi\\\"\": null, \"extra\": 3}\n");
  CHECK(log.rows().size() == 2);
  // A log whose directory vanished cannot append.
  std::string dir = scratch("vanishing");
  std::filesystem::create_directory(dir);
  io::MetricsLog gone(dir + "/m");
  std::filesystem::remove_all(dir);
  CHECK_CONTAINS(errorOf<IOError>([&] {
                   gone.append({{"epoch", 1}});
                 }),
                 "MetricsLog: cannot append to " + dir + "/m.csv/.jsonl");
  CHECK_CONTAINS(errorOf<IOError>([&] { io::MetricsLog(dir + "/m"); }),
                 "MetricsLog: cannot write " + dir + "/m.csv");
  for (const char *suffix : {".csv", ".jsonl"})
    std::remove((stem + suffix).c_str());
}

TEST_CASE("the SVG plot escapes its text and draws flat, empty and NaN "
          "series") {
  std::string path = scratch("plot.svg");
  io::writeSvgPlot(path,
                   {{"loss & <accuracy>",
                     {{"flat", {0.5, 0.5, 0.5}},
                      {"gaps", {NAN, 0.5, INFINITY}},
                      {"none", {}},
                      {"a<b", {1.0}}}},
                    {"empty", {}},
                    {"level", {{"f", {2.0, 2.0}}}}},
                   "run \"1\" & co");
  std::string svg = readText(path);
  CHECK_CONTAINS(svg, ">run \"1\" &amp; co</text>");
  CHECK_CONTAINS(svg, ">loss &amp; &lt;accuracy&gt;</text>");
  CHECK_CONTAINS(svg, ">a&lt;b</text>");
  CHECK(svg.find("& ") == std::string::npos);
  CHECK(svg.find("nan") == std::string::npos);
  CHECK(svg.find("inf") == std::string::npos);
  // Three panels; a NaN or infinite point is left out of its line.
  CHECK_CONTAINS(svg, "width=\"1260\"");
  CHECK(svg.ends_with("</svg>\n"));
  std::remove(path.c_str());
  std::string nowhere = scratch("no-such-dir") + "/p.svg";
  CHECK_CONTAINS(errorOf<IOError>([&] { io::writeSvgPlot(nowhere, {}, "t"); }),
                 "writeSvgPlot: cannot write " + nowhere);
}

TEST_CASE("the progress bar: plain lines every tenth, or redrawn in place "
          "on a terminal") {
  std::FILE *file = std::tmpfile();
  {
    io::ProgressBar bar("train", 20, 32, file);
    for (int i = 1; i <= 20; ++i)
      bar.update(i, {{"loss", 1.0 / i}});
    bar.finish({{"loss", 0.05}});
  }
  std::rewind(file);
  std::string text;
  for (int c; (c = std::fgetc(file)) != EOF;)
    text.push_back(static_cast<char>(c));
  std::fclose(file);
  // Deciles 1 to 9, then the final line.
  CHECK(std::count(text.begin(), text.end(), '\n') == 10);
  CHECK_CONTAINS(text, "train [##......................]  2/20 loss 0.5 | ");
  CHECK_CONTAINS(text, "train [########################] 20/20 loss 0.05 | ");
  CHECK_CONTAINS(text, "samples/s | took ");
  CHECK(text.find('\r') == std::string::npos);

  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  REQUIRE(master >= 0);
  REQUIRE(::grantpt(master) == 0);
  REQUIRE(::unlockpt(master) == 0);
  std::FILE *tty = std::fopen(::ptsname(master), "w");
  REQUIRE(tty != nullptr);
  {
    io::ProgressBar bar("eta", 2000, 1, tty);
    bar.update(1, {}); // within 100 ms of the start: not drawn
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    bar.update(1, {}); // ETA = elapsed * 1999: minutes
    std::string minutes = drain(master);
    CHECK(minutes.starts_with("\reta ["));
    CHECK_CONTAINS(minutes, "\x1b[K");
    CHECK(minutes.find("   1/2000 | ") != std::string::npos);
    auto eta = minutes.find("ETA ");
    REQUIRE(eta != std::string::npos);
    std::string d = minutes.substr(eta + 4);
    CHECK(d.find('m') != std::string::npos);
    CHECK(d.find('h') == std::string::npos);
    bar.update(2000, {}); // the last step is always drawn
    bar.finish({});
    std::string last = drain(master);
    CHECK_CONTAINS(last, "2000/2000 |");
    CHECK_CONTAINS(last, "took ");
  }
  {
    io::ProgressBar bar("long", 1000000000, 1, tty);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    bar.update(1, {}); // ETA = elapsed * 1e9: hours
    std::string hours = drain(master);
    auto eta = hours.find("ETA ");
    REQUIRE(eta != std::string::npos);
    CHECK(hours.find('h', eta) != std::string::npos);
  }
  std::fclose(tty);
  ::close(master);
}
