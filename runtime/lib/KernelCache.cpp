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
#include "trueno/Files.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>
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

std::string jsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        char buffer[8];
        std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
        out += buffer;
      } else {
        out += c;
      }
    }
  }
  return out + "\"";
}

std::string cacheMetadata(const CacheKeyParts &parts,
                          const std::vector<std::string> &kernels,
                          double compileMs, std::string_view backend) {
  std::string metadata = "{\"kernels\": [";
  for (std::size_t i = 0; i < kernels.size(); ++i)
    metadata += (i ? ", " : "") + jsonString(kernels[i]);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return metadata + "], \"backend\": " + jsonString(backend) +
         ", \"target\": " + jsonString(parts.target) +
         ", \"trueno\": " + jsonString(parts.trueno) +
         ", \"llvm\": " + jsonString(parts.llvm) +
         ", \"options\": " + jsonString(parts.options) +
         ", \"compile_ms\": " + std::to_string(compileMs) +
         ", \"created\": " + std::to_string(now) +
         ", \"ir\": " + jsonString(parts.ir) + "}";
}

void printCacheKeyBlock(llvm::raw_ostream &os, const CacheKey &key,
                        const std::string &device, const std::string &ir) {
  os << "// ---- trueno: kernel cache key " << key.hex() << " for " << device
     << " ----\n"
     << ir << "// ---- trueno: end of kernels ----\n";
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

namespace {

/// No kernel object comes near this: a larger file is refused before any of
/// it is read.
constexpr std::uint64_t kMaxEntryBytes = std::uint64_t(1) << 30;

/// Reads exactly `size` bytes at `offset` of `fd` into `out`.
bool readExactly(int fd, std::uint64_t offset, std::size_t size,
                 std::string &out) {
  out.resize(size);
  return trueno::detail::readAt(fd, offset, out.data(), size);
}

} // namespace

std::optional<std::string> checkCacheFile(const fs::path &file,
                                          CacheEntry *entry, CacheKey *key) {
  // Only a regular file is read: a link (to /dev/zero, say), a device or a
  // pipe is refused before it is opened for reading, and O_NOFOLLOW and
  // O_NONBLOCK keep a file swapped in meanwhile from being followed or
  // from blocking the open.
  std::error_code error;
  fs::file_status status = fs::symlink_status(file, error);
  if (fs::is_directory(status))
    return std::string("a directory where an entry file is expected");
  if (!error && !fs::is_regular_file(status))
    return std::string("not a regular file (a link, device or pipe)");
  trueno::detail::FileDescriptor in{
      ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)};
  struct stat info;
  if (in.fd < 0 || ::fstat(in.fd, &info) != 0)
    return std::string("cannot be read");
  if (!S_ISREG(info.st_mode))
    return std::string("not a regular file (a link, device or pipe)");
  // The header first; the payload is read only when the header's sizes
  // account for the file's size exactly.
  auto fileSize = static_cast<std::uint64_t>(info.st_size);
  std::string header;
  if (!readExactly(in.fd, 0, std::min<std::uint64_t>(fileSize, kHeaderSize),
                   header))
    return std::string("cannot be read");
  if (header.size() < 8 || std::memcmp(header.data(), kMagic, 8) != 0)
    return std::string("not a Trueno kernel cache entry (wrong magic)");
  if (header.size() < kHeaderSize)
    return "truncated: " + std::to_string(fileSize) +
           " bytes, shorter than the header";
  std::uint32_t version = get<std::uint32_t>(header, 8);
  if (version != kCacheFormatVersion)
    return "format version " + std::to_string(version) + ", expected " +
           std::to_string(kCacheFormatVersion);
  if (get<std::uint32_t>(header, 12) != kHeaderSize)
    return std::string("unexpected header size");
  std::uint64_t objectSize = get<std::uint64_t>(header, 48),
                metadataSize = get<std::uint64_t>(header, 56);
  if (objectSize > fileSize || metadataSize > fileSize ||
      kHeaderSize + objectSize + metadataSize != fileSize)
    return "truncated or padded: " + std::to_string(fileSize) +
           " bytes, the header says " +
           (objectSize > fileSize || metadataSize > fileSize
                ? std::string("more")
                : std::to_string(kHeaderSize + objectSize + metadataSize));
  if (fileSize > kMaxEntryBytes)
    return "too large: " + std::to_string(fileSize) + " bytes";
  std::string payload;
  if (!readExactly(in.fd, kHeaderSize, objectSize + metadataSize, payload))
    return std::string("cannot be read (it shrank while being read)");
  std::string_view object(payload.data(), objectSize);
  std::string_view metadata(payload.data() + objectSize, metadataSize);
  auto checksum = sha256(object, metadata);
  if (std::memcmp(checksum.data(), header.data() + 64, 32) != 0)
    return std::string("checksum mismatch: the payload is corrupt");
  CacheKey stored;
  std::memcpy(stored.bytes.data(), header.data() + 16, 32);
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

void KernelCache::disableWrites(const std::string &message) {
  // store() returns early from now on, so this warns once per process.
  writable_ = false;
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
  if (unusableKeys_.count(key.hex()))
    return std::nullopt;
  fs::path path = pathOf(key);
  std::error_code error;
  // symlink_status: a link is an entry to check (and refuse), even when it
  // dangles.
  if (!fs::exists(fs::symlink_status(path, error))) {
    record(key, false);
    return std::nullopt;
  }
  CacheEntry entry;
  // checkCacheFile compares the key stored inside with the file's name,
  // which is this key's.
  if (std::optional<std::string> problem = checkCacheFile(path, &entry)) {
    const std::string &why = *problem;
    fs::remove_all(path, error);
    if (error) {
      // Only this key is skipped: the rest of the cache stays in use.
      unusableKeys_.insert(key.hex());
      std::cerr << "trueno: kernel cache: cannot remove " << path.string()
                << " (" << error.message() << "): " << why
                << "; this kernel is compiled and kept in memory only\n";
      return std::nullopt;
    }
    std::cerr << "trueno: kernel cache: removed " << path.string() << ": "
              << why << "; recompiling\n";
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
  if (!writable_ || unusableKeys_.count(key.hex()))
    return;
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error) {
    disableWrites("cannot create " + directory_.string() + " (" +
                  error.message() + "); compiled kernels stay in memory only");
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
      disableWrites(
          "cannot write to " + directory_.string() +
          " (read-only or full); compiled kernels stay in memory only");
      return;
    }
  }
  // rename() replaces atomically: a concurrent process writing the same key
  // leaves one complete entry either way.
  // The temporary file was written, so the directory takes writes: a
  // failed rename is this key's path (a directory in its place, say), and
  // only this key is skipped.
  fs::rename(temporary, pathOf(key), error);
  if (error) {
    std::string why = error.message();
    fs::remove(temporary, error);
    unusableKeys_.insert(key.hex());
    std::cerr << "trueno: kernel cache: cannot store " << pathOf(key).string()
              << " (" << why << "); this kernel stays in memory only\n";
    return;
  }
  if (knownBytes_)
    *knownBytes_ += bytes.size();
  // Past the limit, evict down to 7/8 of it: evicting to the limit itself
  // made every later store list the whole directory again (205,000
  // entries: a second per kernel when a compiler change invalidated the
  // cache).
  if (!knownBytes_ || *knownBytes_ > maxBytes_)
    evictTo(maxBytes_ - maxBytes_ / 8);
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
