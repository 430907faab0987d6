//===- Npz.cpp - NumPy's .npz: a zip archive of .npy files ----------------===//
//
// Written as numpy.savez does (stored entries, CRC-32 checked); read through
// the central directory (local headers' sizes may be zip64 placeholders, as
// numpy writes them), stored or deflated entries, each size and offset
// checked against the file before anything is allocated.
//
//===----------------------------------------------------------------------===//

#include "trueno/io/Checkpoint.h"

#include "ReadWholeFile.h"
#include "trueno/Fail.h"
#include "trueno/Files.h"
#include "trueno/Npy.h"

#include <zlib.h>

#include <cstring>

namespace trueno::io {

using detail::fail;

namespace {

void put16(std::vector<std::uint8_t> &out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(std::vector<std::uint8_t> &out, std::uint32_t v) {
  put16(out, v & 0xFFFF);
  put16(out, v >> 16);
}
std::uint32_t get16(const std::uint8_t *p) { return p[0] | (p[1] << 8); }
std::uint32_t get32(const std::uint8_t *p) {
  return get16(p) | (get16(p + 2) << 16);
}
std::uint64_t get64(const std::uint8_t *p) {
  return get32(p) | (std::uint64_t(get32(p + 4)) << 32);
}

} // namespace

void saveNpz(const std::string &path, const TensorMap &tensors,
             SourceLoc where) {
  std::vector<std::uint8_t> out, directory;
  std::uint32_t count = 0;
  for (const auto &[name, t] : tensors) {
    std::vector<std::uint8_t> npy = encodeNpy(t, where);
    std::string file = name + ".npy";
    if (npy.size() >= 0xFFFFFFFFu || out.size() >= 0xFFFFFFFFu - npy.size() ||
        file.size() > 0xFFFF)
      fail<ValueError>(where, "saveNpz", "save it as safetensors",
                       "\"{}\" is too large for a zip without zip64", name);
    std::uint32_t crc = static_cast<std::uint32_t>(
        crc32(0, npy.data(), static_cast<uInt>(npy.size())));
    auto size = static_cast<std::uint32_t>(npy.size());
    auto offset = static_cast<std::uint32_t>(out.size());
    // Local header: version 2.0, no flags, stored, 1980-01-01 00:00.
    put32(out, 0x04034b50);
    put16(out, 20);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0x21);
    put32(out, crc);
    put32(out, size);
    put32(out, size);
    put16(out, static_cast<std::uint32_t>(file.size()));
    put16(out, 0);
    out.insert(out.end(), file.begin(), file.end());
    out.insert(out.end(), npy.begin(), npy.end());
    put32(directory, 0x02014b50);
    put16(directory, 20);
    put16(directory, 20);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0x21);
    put32(directory, crc);
    put32(directory, size);
    put32(directory, size);
    put16(directory, static_cast<std::uint32_t>(file.size()));
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put16(directory, 0);
    put32(directory, 0);
    put32(directory, offset);
    directory.insert(directory.end(), file.begin(), file.end());
    if (++count == 0xFFFF)
      fail<ValueError>(where, "saveNpz", "", "too many tensors for a zip");
  }
  auto directoryOffset = static_cast<std::uint32_t>(out.size());
  out.insert(out.end(), directory.begin(), directory.end());
  put32(out, 0x06054b50);
  put16(out, 0);
  put16(out, 0);
  put16(out, count);
  put16(out, count);
  put32(out, static_cast<std::uint32_t>(directory.size()));
  put32(out, directoryOffset);
  put16(out, 0);
  if (int error = detail::writeFileAtomically(path, out))
    fail<IOError>(where, "saveNpz", "", "cannot write {}: {}", path,
                  std::strerror(error));
}

TensorMap loadNpz(const std::string &path, SourceLoc where) {
  std::vector<std::uint8_t> bytes = readWholeFile(path, "loadNpz", where);
  auto bad = [&](const std::string &what) {
    fail<IOError>(where, "loadNpz", "is it a .npz file (numpy.savez)?",
                  "{}: {}", path, what);
  };
  const std::uint8_t *base = bytes.data();
  std::size_t size = bytes.size();
  // The end-of-central-directory record, within the last 64 KiB + 22.
  if (size < 22)
    bad("too short for a zip archive");
  std::size_t end = std::string::npos;
  for (std::size_t at = size - 22;; --at) {
    if (get32(base + at) == 0x06054b50) {
      end = at;
      break;
    }
    if (at == 0 || size - at > 65557)
      break;
  }
  if (end == std::string::npos)
    bad("no end-of-central-directory record");
  std::uint64_t entries = get16(base + end + 10);
  std::uint64_t dirSize = get32(base + end + 12);
  std::uint64_t dirOffset = get32(base + end + 16);
  // A zip64 archive: the zip64 end record, found through its locator.
  if ((dirOffset == 0xFFFFFFFF || entries == 0xFFFF) && end >= 20 &&
      get32(base + end - 20) == 0x07064b50) {
    std::uint64_t record = get64(base + end - 20 + 8);
    if (record > size || size - record < 56 ||
        get32(base + record) != 0x06064b50)
      bad("a bad zip64 end record");
    entries = get64(base + record + 32);
    dirSize = get64(base + record + 40);
    dirOffset = get64(base + record + 48);
  }
  if (dirOffset > size || dirSize > size - dirOffset || entries > dirSize / 46)
    bad("the central directory lies outside the file");
  TensorMap out;
  std::uint64_t at = dirOffset;
  for (std::uint64_t e = 0; e < entries; ++e) {
    if (dirOffset + dirSize - at < 46 || get32(base + at) != 0x02014b50)
      bad(fmt::format("central directory entry {} is corrupt", e));
    const std::uint8_t *h = base + at;
    std::uint32_t method = get16(h + 10);
    std::uint32_t crc = get32(h + 16);
    std::uint64_t packed = get32(h + 20), unpacked = get32(h + 24);
    std::uint32_t nameLen = get16(h + 28), extraLen = get16(h + 30),
                  commentLen = get16(h + 32);
    std::uint64_t local = get32(h + 42);
    if (dirOffset + dirSize - at < 46ull + nameLen + extraLen + commentLen)
      bad(fmt::format("central directory entry {} overruns", e));
    std::string name(reinterpret_cast<const char *>(h + 46), nameLen);
    // Zip64 sizes and offset, in that order, for fields that are 0xFFFFFFFF.
    const std::uint8_t *extra = h + 46 + nameLen;
    for (std::uint32_t x = 0; x + 4 <= extraLen;) {
      std::uint32_t id = get16(extra + x), len = get16(extra + x + 2);
      if (x + 4 + len > extraLen)
        bad(fmt::format("\"{}\" has a corrupt extra field", name));
      if (id == 1) {
        std::uint32_t k = x + 4, stop = x + 4 + len;
        auto next = [&](std::uint64_t &field) {
          if (field != 0xFFFFFFFF)
            return;
          if (k + 8 > stop)
            bad(fmt::format("\"{}\" has a short zip64 field", name));
          field = get64(extra + k);
          k += 8;
        };
        next(unpacked);
        next(packed);
        next(local);
      }
      x += 4 + len;
    }
    at += 46ull + nameLen + extraLen + commentLen;
    if (local > size || size - local < 30 || get32(base + local) != 0x04034b50)
      bad(fmt::format("\"{}\": a bad local header offset", name));
    std::uint64_t data =
        local + 30 + get16(base + local + 26) + get16(base + local + 28);
    if (data > size || packed > size - data)
      bad(fmt::format("\"{}\": its data lies outside the file", name));
    std::vector<std::uint8_t> npy;
    if (method == 0) {
      if (packed != unpacked)
        bad(fmt::format("\"{}\" is stored but its sizes differ", name));
      npy.assign(base + data, base + data + packed);
    } else if (method == 8) {
      // Deflate expands at most 1032:1: a larger claim is a lie.
      if (unpacked > packed * 1032 + 1024)
        bad(fmt::format("\"{}\" claims {} bytes from {} compressed", name,
                        unpacked, packed));
      npy.resize(unpacked);
      z_stream z{};
      if (inflateInit2(&z, -15) != Z_OK)
        bad("zlib could not start");
      z.next_in = const_cast<Bytef *>(base + data);
      z.avail_in = static_cast<uInt>(packed);
      z.next_out = npy.data();
      z.avail_out = static_cast<uInt>(unpacked);
      int status = inflate(&z, Z_FINISH);
      std::uint64_t produced = z.total_out;
      inflateEnd(&z);
      if (status != Z_STREAM_END || produced != unpacked)
        bad(fmt::format("\"{}\": corrupt compressed data", name));
    } else {
      bad(fmt::format("\"{}\" uses compression method {} (stored and deflate "
                      "are supported)",
                      name, method));
    }
    if (crc32(0, npy.data(), static_cast<uInt>(npy.size())) != crc)
      bad(fmt::format("\"{}\" fails its CRC-32 check", name));
    if (name.ends_with(".npy"))
      name.resize(name.size() - 4);
    if (out.count(name))
      bad(fmt::format("\"{}\" appears twice", name));
    out.emplace(name, decodeNpy(npy, path + ":" + name, where));
  }
  return out;
}

} // namespace trueno::io
