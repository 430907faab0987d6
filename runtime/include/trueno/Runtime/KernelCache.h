//===- KernelCache.h - Compiled programs on disk, across processes -*- C++
//-*-===//
//
// A compiled program's object code, stored under a key that hashes
// everything that could change the code: the kernels' IR, the target (triple,
// CPU, features), the Trueno and LLVM versions and the compile options. A
// second process that builds the same kernels loads them instead of
// compiling. Entries are checked (magic, format version, key, sizes, a
// SHA-256 of the payload) before use; a bad one is removed, logged and
// recompiled, never executed. Writes go to a temporary file renamed into
// place, so concurrent processes leave one valid entry. The least recently
// used entries are evicted past a size limit.
//
// Configuration: TRUENO_CACHE=0 turns the disk cache off; TRUENO_CACHE_DIR
// (default ~/.cache/trueno) is where it lives; TRUENO_CACHE_MAX_MB (default
// 1024) caps its size. A directory that cannot be created or written makes
// the cache memory-only, with one warning; a single entry path that cannot
// be cleared or replaced makes only that kernel memory-only. Entry files are
// read header first, bounded by their size, and only when regular files.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_KERNELCACHE_H
#define TRUENO_RUNTIME_KERNELCACHE_H

#include <array>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace llvm {
class raw_ostream;
}

namespace trueno::runtime {

/// The on-disk format version; entries of any other version are removed.
inline constexpr std::uint32_t kCacheFormatVersion = 1;
/// File name suffix of cache entries.
inline constexpr const char *kCacheSuffix = ".tkc";
/// Beside entry K.tkc, K.hits grows by one byte per load (the hit count,
/// race-free with O_APPEND); the entry's modification time is its last use.
inline constexpr const char *kHitsSuffix = ".hits";
/// One line per lookup, "<unix time> hit|miss <key>", for hit rates.
inline constexpr const char *kEventLog = "events.log";

/// Everything a compiled program depends on.
struct CacheKeyParts {
  std::string ir;      ///< the kernels, as canonical trueno IR text
  std::string target;  ///< triple, CPU name and feature string
  std::string trueno;  ///< Trueno's version
  std::string llvm;    ///< LLVM/MLIR's version
  std::string options; ///< the compile pipeline and optimization levels
};

struct CacheKey {
  std::array<std::uint8_t, 32> bytes{};
  std::string hex() const;
  bool operator==(const CacheKey &) const = default;
};

/// SHA-256 over all the parts, each length-prefixed.
CacheKey cacheKey(const CacheKeyParts &parts);
/// (The key parts of a program compiled now come from its backend:
/// Backend::keyParts.)

/// The metadata stored with an entry, as JSON (what trueno-cache reads):
/// the kernels' names, every key part, the compile time, the time of
/// creation and the backend that compiled it ("cpu", "vulkan").
std::string cacheMetadata(const CacheKeyParts &parts,
                          const std::vector<std::string> &kernels,
                          double compileMs, std::string_view backend);
/// `text` as a JSON string literal.
std::string jsonString(std::string_view text);
/// What TRUENO_DEBUG=2 prints of a program's kernels, which `trueno-cache
/// explain` reads back:
///   // ---- trueno: kernel cache key KEY for DEVICE ----
///   IR
///   // ---- trueno: end of kernels ----
void printCacheKeyBlock(llvm::raw_ostream &os, const CacheKey &key,
                        const std::string &device, const std::string &ir);

struct CacheEntry {
  std::string object;   ///< relocatable object code, loaded without compiling
  std::string metadata; ///< JSON: kernels, target, versions, compile ms, IR
};

/// Checks one entry file; on success returns nothing and fills `entry` (and
/// `key`) if given, otherwise returns what is wrong with it.
std::optional<std::string> checkCacheFile(const std::filesystem::path &file,
                                          CacheEntry *entry = nullptr,
                                          CacheKey *key = nullptr);

class KernelCache {
public:
  /// The process's cache, configured from the environment.
  static KernelCache &instance();
  KernelCache(std::filesystem::path directory, std::uint64_t maxBytes);

  bool enabled() const { return enabled_; }
  const std::filesystem::path &directory() const { return directory_; }
  std::filesystem::path pathOf(const CacheKey &key) const;
  /// The configured size limit in bytes.
  std::uint64_t maxBytes() const { return maxBytes_; }
  /// Removes least recently used entries until at most `limit` bytes remain;
  /// returns how many were removed. Lists the whole directory.
  int evictTo(std::uint64_t limit);

  /// The entry stored under `key`, or nothing. A bad entry is removed (and
  /// the event logged to stderr) and reads as a miss; one that cannot be
  /// removed makes that key memory-only, the rest of the cache stays on.
  std::optional<CacheEntry> load(const CacheKey &key);
  /// Stores `entry` atomically and evicts the least recently used entries
  /// past the size limit. A directory that cannot be created or written
  /// turns writes off, with one warning; a key whose path cannot be
  /// replaced is skipped alone, with the real error. It never throws. The
  /// directory is listed on the first store of the process and then only when
  /// the entries it knows of plus those it wrote since pass the limit: listing
  /// 50,000 entries took ~0.2 s, and doing it on every store made each new
  /// compile that much slower. Entries other processes write meanwhile are
  /// counted at the next listing.
  void store(const CacheKey &key, const CacheEntry &entry);

private:
  /// Turns writes off for the rest of the process, with a warning.
  void disableWrites(const std::string &message);
  void record(const CacheKey &key, bool hit);

  std::filesystem::path directory_;
  std::uint64_t maxBytes_;
  /// Bytes of entries after the last listing, plus those stored since.
  std::optional<std::uint64_t> knownBytes_;
  /// Keys whose path could not be cleared or written (hex): skipped for the
  /// rest of the process, while every other key still uses the cache.
  std::set<std::string> unusableKeys_;
  bool enabled_ = true;
  bool writable_ = true;
  std::mutex mutex_;
};

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_KERNELCACHE_H
