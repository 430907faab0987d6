//===- KernelCache.cpp - The disk kernel cache ----------------------------===//
//
// Entry file layout (little-endian):
//
//   offset  size  field
//        0     8  magic "TRUENOKC"
//        8     4  format version (kCacheFormatVersion)
//       12     4  header size (96)
//       16    32  key (SHA-256, also the file name in hex)
//       48     8  object size
//       56     8  metadata size
//       64    32  SHA-256 of object and metadata
//       96     -  object code, then metadata (JSON)
//
//===----------------------------------------------------------------------===//
#include "trueno/Runtime/KernelCache.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SHA256.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace trueno::runtime {

namespace fs = std::filesystem;

namespace {

constexpr char kMagic[8] = {'T', 'R', 'U', 'E', 'N', 'O', 'K', 'C'};
constexpr std::size_t kHeaderSize = 96;

/// Appends `v` little-endian.
template <typename T> void put(std::string &out, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}
/// Reads a little-endian T at byte `at`.
template <typename T> T get(const std::string &in, std::size_t at) {
  T v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    v |= static_cast<T>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

std::array<std::uint8_t, 32> sha256(std::string_view a, std::string_view b) {
  llvm::SHA256 hash;
  hash.update(llvm::StringRef(a.data(), a.size()));
  hash.update(llvm::StringRef(b.data(), b.size()));
  return hash.final();
}

} // namespace

std::string CacheKey::hex() const {
  static const char digits[] = "0123456789abcdef";
  std::string text;
  for (std::uint8_t b : bytes) {
    text.push_back(digits[b >> 4]);
    text.push_back(digits[b & 15]);
  }
  return text;
}

CacheKey cacheKey(const CacheKeyParts &parts) {
  llvm::SHA256 hash;
  auto add = [&](std::string_view text) {
    std::string length;
    put<std::uint64_t>(length, text.size());
    hash.update(length);
    hash.update(llvm::StringRef(text.data(), text.size()));
  };
  add("trueno-kernel-cache");
  add(std::to_string(kCacheFormatVersion));
  add(parts.trueno);
  add(parts.llvm);
  add(parts.target);
  add(parts.options);
  add(parts.ir);
  CacheKey key;
  key.bytes = hash.final();
  return key;
}

std::optional<std::string> checkCacheFile(const fs::path &file,
                                          CacheEntry *entry, CacheKey *key) {
  std::error_code error;
  if (fs::is_directory(file, error))
    return std::string("a directory where an entry file is expected");
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return std::string("cannot be read");
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    return std::string("not a Trueno kernel cache entry (wrong magic)");
  if (bytes.size() < kHeaderSize)
    return "truncated: " + std::to_string(bytes.size()) +
           " bytes, shorter than the header";
  std::uint32_t version = get<std::uint32_t>(bytes, 8);
  if (version != kCacheFormatVersion)
    return "format version " + std::to_string(version) + ", expected " +
           std::to_string(kCacheFormatVersion);
  if (get<std::uint32_t>(bytes, 12) != kHeaderSize)
    return std::string("unexpected header size");
  std::uint64_t objectSize = get<std::uint64_t>(bytes, 48),
                metadataSize = get<std::uint64_t>(bytes, 56);
  std::uint64_t expected = kHeaderSize + objectSize + metadataSize;
  if (objectSize > bytes.size() || metadataSize > bytes.size() ||
      expected != bytes.size())
    return "truncated or padded: " + std::to_string(bytes.size()) +
           " bytes, the header says " + std::to_string(expected);
  std::string_view object(bytes.data() + kHeaderSize, objectSize);
  std::string_view metadata(bytes.data() + kHeaderSize + objectSize,
                            metadataSize);
  auto checksum = sha256(object, metadata);
  if (std::memcmp(checksum.data(), bytes.data() + 64, 32) != 0)
    return std::string("checksum mismatch: the payload is corrupt");
  CacheKey stored;
  std::memcpy(stored.bytes.data(), bytes.data() + 16, 32);
  if (file.extension() == kCacheSuffix && file.stem() != stored.hex())
    return std::string("its key does not match its file name");
  if (entry) {
    entry->object.assign(object);
    entry->metadata.assign(metadata);
  }
  if (key)
    *key = stored;
  return std::nullopt;
}

KernelCache &KernelCache::instance() {
  static KernelCache *cache = [] {
    const char *dir = std::getenv("TRUENO_CACHE_DIR");
    fs::path directory;
    if (dir && *dir) {
      directory = dir;
    } else {
      const char *home = std::getenv("HOME");
      directory = fs::path(home ? home : "/tmp") / ".cache" / "trueno";
    }
    std::uint64_t maxMb = 1024;
    if (const char *max = std::getenv("TRUENO_CACHE_MAX_MB"))
      maxMb = std::strtoull(max, nullptr, 10);
    auto *c = new KernelCache(directory, maxMb << 20);
    const char *on = std::getenv("TRUENO_CACHE");
    if (on && std::string(on) == "0")
      c->enabled_ = false;
    return c;
  }();
  return *cache;
}

KernelCache::KernelCache(fs::path directory, std::uint64_t maxBytes)
    : directory_(std::move(directory)), maxBytes_(maxBytes) {}

fs::path KernelCache::pathOf(const CacheKey &key) const {
  return directory_ / (key.hex() + kCacheSuffix);
}

void KernelCache::warnOnce(const std::string &message) {
  if (warned_)
    return;
  warned_ = true;
  std::cerr << "trueno: kernel cache: " << message << "\n";
}

/// Appends to a file with one write(2) in O_APPEND mode: concurrent
/// processes never interleave within a record.
static void appendRecord(const fs::path &path, const std::string &record) {
  int fd =
      ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  [[maybe_unused]] ssize_t written = ::write(fd, record.data(), record.size());
  ::close(fd);
}

void KernelCache::record(const CacheKey &key, bool hit) {
  if (!writable_)
    return;
  std::error_code error;
  if (!fs::is_directory(directory_, error) &&
      !fs::create_directories(directory_, error))
    return; // store() reports an unusable directory
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  appendRecord(directory_ / kEventLog, std::to_string(now) +
                                           (hit ? " hit " : " miss ") +
                                           key.hex() + "\n");
  if (hit)
    appendRecord(directory_ / (key.hex() + kHitsSuffix), "+");
}

std::optional<CacheEntry> KernelCache::load(const CacheKey &key) {
  if (!enabled_)
    return std::nullopt;
  std::lock_guard lock(mutex_);
  fs::path path = pathOf(key);
  std::error_code error;
  if (!fs::exists(path, error)) {
    record(key, false);
    return std::nullopt;
  }
  CacheEntry entry;
  CacheKey stored;
  if (std::optional<std::string> problem =
          checkCacheFile(path, &entry, &stored);
      problem || !(stored == key)) {
    std::cerr << "trueno: kernel cache: removed " << path.string() << ": "
              << (problem ? *problem : "it holds another key")
              << "; recompiling\n";
    fs::remove_all(path, error);
    fs::remove(directory_ / (key.hex() + kHitsSuffix), error);
    record(key, false);
    return std::nullopt;
  }
  // The modification time is the last use, for eviction.
  fs::last_write_time(path, fs::file_time_type::clock::now(), error);
  record(key, true);
  return entry;
}

void KernelCache::store(const CacheKey &key, const CacheEntry &entry) {
  if (!enabled_)
    return;
  std::lock_guard lock(mutex_);
  if (!writable_)
    return;
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error) {
    writable_ = false;
    warnOnce("cannot create " + directory_.string() + " (" + error.message() +
             "); compiled kernels stay in memory only");
    return;
  }
  std::string bytes(kMagic, 8);
  put<std::uint32_t>(bytes, kCacheFormatVersion);
  put<std::uint32_t>(bytes, kHeaderSize);
  bytes.append(reinterpret_cast<const char *>(key.bytes.data()), 32);
  put<std::uint64_t>(bytes, entry.object.size());
  put<std::uint64_t>(bytes, entry.metadata.size());
  auto checksum = sha256(entry.object, entry.metadata);
  bytes.append(reinterpret_cast<const char *>(checksum.data()), 32);
  bytes += entry.object;
  bytes += entry.metadata;

  static std::atomic<std::uint64_t> counter{0};
  fs::path temporary =
      directory_ / (".tmp-" + std::to_string(::getpid()) + "-" +
                    std::to_string(counter++) + kCacheSuffix);
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      out.close();
      fs::remove(temporary, error);
      writable_ = false;
      warnOnce("cannot write to " + directory_.string() +
               " (read-only or full); compiled kernels stay in memory only");
      return;
    }
  }
  // rename() replaces atomically: a concurrent process writing the same key
  // leaves one complete entry either way.
  fs::rename(temporary, pathOf(key), error);
  if (error) {
    fs::remove(temporary, error);
    writable_ = false;
    warnOnce("cannot write to " + directory_.string() + " (" + error.message() +
             "); compiled kernels stay in memory only");
    return;
  }
  if (knownBytes_)
    *knownBytes_ += bytes.size();
  if (!knownBytes_ || *knownBytes_ > maxBytes_)
    evictTo(maxBytes_);
}

int KernelCache::evictTo(std::uint64_t limit) {
  std::error_code error;
  std::vector<std::pair<fs::file_time_type, fs::path>> entries;
  std::uint64_t total = 0;
  for (const fs::directory_entry &e :
       fs::directory_iterator(directory_, error)) {
    if (e.path().extension() != kCacheSuffix || !e.is_regular_file(error) ||
        e.path().filename().string().starts_with(".tmp-"))
      continue;
    total += e.file_size(error);
    entries.push_back({e.last_write_time(error), e.path()});
  }
  int removed = 0;
  knownBytes_ = total;
  if (total <= limit)
    return removed;
  std::sort(entries.begin(), entries.end());
  for (const auto &[time, path] : entries) {
    if (total <= limit)
      break;
    std::uint64_t size = fs::file_size(path, error);
    if (fs::remove(path, error)) {
      total -= size;
      knownBytes_ = total;
      ++removed;
      fs::path hits = path;
      fs::remove(hits.replace_extension(kHitsSuffix), error);
    }
  }
  return removed;
}

} // namespace trueno::runtime
