//===- KernelCacheTest.cpp - Cache keys, entries and eviction -------------===//
//
// The key changes with every part a compiled program depends on (so a new
// target, version or option never loads stale code), entries round-trip,
// and the least recently used entries go first past the size limit; files
// that are not entries (links, pipes, huge claims) are refused unread, and
// one unusable key leaves the rest of the cache on. The
// cross-process behaviour is tested by tests/cache/test_disk_cache.py.
//
//===----------------------------------------------------------------------===//
#include "trueno/Runtime/KernelCache.h"
#include "trueno/Runtime/Cpu/CpuBackend.h"

#include "../unit/TestUtil.h"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace trueno::runtime;
using trueno::testing::FileSizeLimit;

namespace {
struct TempDir {
  fs::path path = fs::temp_directory_path() /
                  ("trueno-cache-test-" + std::to_string(::getpid()));
  TempDir() { fs::remove_all(path); }
  ~TempDir() { fs::remove_all(path); }
};

CacheKeyParts sampleParts() {
  return {"module {}", "x86_64-pc-linux-gnu znver4 +avx512f", "0.1.0", "19.1.7",
          "O3"};
}

/// `count` keys of different modules.
std::vector<CacheKey> distinctKeys(int count) {
  std::vector<CacheKey> keys;
  for (int i = 0; i < count; ++i) {
    CacheKeyParts p = sampleParts();
    p.ir = "module " + std::to_string(i);
    keys.push_back(cacheKey(p));
  }
  return keys;
}

} // namespace

TEST_CASE("the cache key changes with every part it covers") {
  CacheKeyParts base = sampleParts();
  CacheKey key = cacheKey(base);
  CHECK(cacheKey(sampleParts()) == key);
  CHECK(key.hex().size() == 64);
  auto differs = [&](auto change) {
    CacheKeyParts p = sampleParts();
    change(p);
    return !(cacheKey(p) == key);
  };
  CHECK(differs([](CacheKeyParts &p) { p.ir = "module { }"; }));
  CHECK(differs([](CacheKeyParts &p) {
    p.target = "x86_64-pc-linux-gnu znver4 -avx512f"; // one feature less
  }));
  CHECK(differs([](CacheKeyParts &p) { p.trueno = "0.1.1"; }));
  CHECK(differs([](CacheKeyParts &p) { p.llvm = "19.1.8"; }));
  CHECK(differs([](CacheKeyParts &p) { p.options = "O2"; }));
  // Length prefixes: moving a character from one part to the next matters.
  CHECK(differs([](CacheKeyParts &p) {
    p.trueno = "0.1.01";
    p.llvm = "9.1.7";
  }));
}

TEST_CASE("entries round-trip and a changed key misses") {
  TempDir dir;
  KernelCache cache(dir.path, 1 << 20);
  CacheKey key = cacheKey(sampleParts());
  CHECK(!cache.load(key));
  cache.store(key, {"\x7f"
                    "ELF object bytes",
                    "{\"ir\": \"module {}\"}"});
  std::optional<CacheEntry> entry = cache.load(key);
  REQUIRE(entry);
  CHECK(entry->object == "\x7f"
                         "ELF object bytes");
  CHECK(entry->metadata == "{\"ir\": \"module {}\"}");
  CacheKeyParts newer = sampleParts();
  newer.trueno = "0.2.0";
  CHECK(!cache.load(cacheKey(newer)));
  CHECK(!checkCacheFile(cache.pathOf(key)));
}

TEST_CASE("an entry stored under another key's name is rejected") {
  TempDir dir;
  KernelCache cache(dir.path, 1 << 20);
  CacheKey a = cacheKey(sampleParts());
  CacheKeyParts other = sampleParts();
  other.ir = "module { func.func @f() { return } }";
  CacheKey b = cacheKey(other);
  cache.store(a, {"code of a", "{}"});
  fs::copy_file(cache.pathOf(a), cache.pathOf(b));
  CHECK(checkCacheFile(cache.pathOf(b)).value_or("") ==
        "its key does not match its file name");
  CHECK(!cache.load(b)); // removed, never handed out as b's code
  CHECK(!fs::exists(cache.pathOf(b)));
  CHECK(cache.load(a));
}

TEST_CASE("the least recently used entries are evicted past the limit") {
  TempDir dir;
  std::string object(4000, 'x');
  KernelCache cache(dir.path, 10000); // room for two entries of ~4.1 KB
  std::vector<CacheKey> keys = distinctKeys(3);
  cache.store(keys[0], {object, "{}"});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  cache.store(keys[1], {object, "{}"});
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(cache.load(keys[0])); // now the most recently used
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  cache.store(keys[2], {object, "{}"});
  CHECK(fs::exists(cache.pathOf(keys[0])));
  CHECK(!fs::exists(cache.pathOf(keys[1]))); // the least recently used
  CHECK(fs::exists(cache.pathOf(keys[2])));
  CHECK(cache.evictTo(0) == 2);
}

TEST_CASE("stores list the directory again only past the known limit") {
  TempDir dir;
  std::string object(4000, 'x');
  KernelCache cache(dir.path, 10000); // room for two entries of ~4.1 KB
  std::vector<CacheKey> keys = distinctKeys(4);
  cache.store(keys[0], {object, "{}"}); // lists the directory: 1 entry
  // Another process's entry, the least recently used, which this one does
  // not know of yet.
  fs::copy_file(cache.pathOf(keys[0]), cache.pathOf(keys[1]));
  fs::last_write_time(cache.pathOf(keys[1]),
                      fs::file_time_type::clock::now() - std::chrono::hours(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  cache.store(keys[2], {object, "{}"}); // 2 known entries: no listing
  CHECK(fs::exists(cache.pathOf(keys[1])));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  cache.store(keys[3], {object, "{}"}); // 3 known: listed, 4 found
  CHECK(!fs::exists(cache.pathOf(keys[1])));
  CHECK(!fs::exists(cache.pathOf(keys[0])));
  CHECK(fs::exists(cache.pathOf(keys[2])));
  CHECK(fs::exists(cache.pathOf(keys[3])));
}

TEST_CASE("the key's options name the compiler's source fingerprint") {
  auto backend = trueno::runtime::cpuBackend();
  REQUIRE(static_cast<bool>(backend));
  trueno::runtime::CacheKeyParts parts = backend->keyParts("module {}");
  std::size_t at = parts.options.find("compiler ");
  REQUIRE(at != std::string::npos);
  std::string fingerprint = parts.options.substr(at + 9, 64);
  CHECK(fingerprint.size() == 64);
  CHECK(fingerprint.find_first_not_of("0123456789abcdef") == std::string::npos);
}

namespace {
/// What `body` writes to std::cerr.
template <typename F> std::string stderrOf(F body) {
  std::ostringstream captured;
  std::streambuf *old = std::cerr.rdbuf(captured.rdbuf());
  body();
  std::cerr.rdbuf(old);
  return captured.str();
}
} // namespace

TEST_CASE("entry files that are links, devices, pipes or claim huge sizes "
          "are refused before their payload is read") {
  TempDir dir;
  KernelCache cache(dir.path, 1 << 20);
  std::vector<CacheKey> keys = distinctKeys(4);
  fs::create_directories(dir.path);
  // A link to /dev/zero: read whole, it never ends.
  fs::create_symlink("/dev/zero", cache.pathOf(keys[0]));
  CHECK(checkCacheFile(cache.pathOf(keys[0])).value_or("") ==
        "not a regular file (a link, device or pipe)");
  std::string log = stderrOf([&] { CHECK(!cache.load(keys[0])); });
  CHECK(log.find("removed") != std::string::npos);
  CHECK(!fs::exists(fs::symlink_status(cache.pathOf(keys[0]))));
  CHECK(fs::exists("/dev/zero"));
  // A pipe nobody writes to: opening it for reading must not block.
  REQUIRE(::mkfifo(cache.pathOf(keys[1]).c_str(), 0600) == 0);
  CHECK(checkCacheFile(cache.pathOf(keys[1])).value_or("") ==
        "not a regular file (a link, device or pipe)");
  // A valid header whose sizes claim 2^62 bytes: refused on the header.
  cache.store(keys[2], {"object", "{}"});
  {
    std::fstream f(cache.pathOf(keys[2]),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(48);
    std::uint64_t huge = std::uint64_t(1) << 62;
    f.write(reinterpret_cast<const char *>(&huge), 8);
  }
  CHECK(checkCacheFile(cache.pathOf(keys[2])).value_or("") ==
        "truncated or padded: 104 bytes, the header says more");
  // A dangling link reads as a bad entry, not as a miss to write through.
  fs::create_symlink(dir.path / "nowhere", cache.pathOf(keys[3]));
  stderrOf([&] { CHECK(!cache.load(keys[3])); });
  CHECK(!fs::exists(fs::symlink_status(cache.pathOf(keys[3]))));
}

TEST_CASE("a key whose path cannot be replaced is skipped alone, with the "
          "real error, and the cache stays on") {
  TempDir dir;
  KernelCache cache(dir.path, 1 << 20);
  std::vector<CacheKey> keys = distinctKeys(2);
  // A non-empty directory where the entry goes: rename() cannot replace it.
  fs::create_directories(cache.pathOf(keys[0]));
  std::ofstream(cache.pathOf(keys[0]) / "file") << "x";
  std::string log = stderrOf([&] {
    cache.store(keys[0], {"code of 0", "{}"});
  });
  CHECK(log.find("cannot store " + cache.pathOf(keys[0]).string()) !=
        std::string::npos);
  CHECK(log.find("(Success)") == std::string::npos);
  CHECK(log.find("this kernel stays in memory only") != std::string::npos);
  // Other keys are still written and read.
  cache.store(keys[1], {"code of 1", "{}"});
  std::optional<CacheEntry> entry = cache.load(keys[1]);
  REQUIRE(entry);
  CHECK(entry->object == "code of 1");
  // The skipped key is neither read nor written again by this process.
  CHECK(stderrOf([&] {
          CHECK(!cache.load(keys[0]));
          cache.store(keys[0], {"code of 0", "{}"});
        }).empty());
  CHECK(fs::is_directory(cache.pathOf(keys[0])));
  // No temporary files are left behind.
  for (const fs::directory_entry &e : fs::directory_iterator(dir.path))
    CHECK(!e.path().filename().string().starts_with(".tmp-"));
}

TEST_CASE("a file that cannot be opened or has another name is checked for "
          "what it is") {
  TempDir dir;
  KernelCache cache(dir.path, 1 << 20);
  CacheKey key = distinctKeys(1)[0];
  CHECK(checkCacheFile(cache.pathOf(key)).value_or("") == "cannot be read");
  cache.store(key, {"object", "{}"});
  // The file name is compared with the key inside only for a .tkc file: a
  // copy under another name (an export, say) is still a valid entry.
  fs::path copy = dir.path / "exported.bin";
  fs::copy_file(cache.pathOf(key), copy);
  CacheEntry entry;
  CacheKey stored;
  CHECK(!checkCacheFile(copy, &entry, &stored));
  CHECK(stored == key);
  CHECK(entry.object == "object");
}

TEST_CASE("an entry whose sizes add up to more than 1 GiB is refused before "
          "its payload is read") {
  TempDir dir;
  KernelCache cache(dir.path, 1 << 20);
  CacheKey key = distinctKeys(1)[0];
  cache.store(key, {"object", "{}"});
  // A sparse file: its header claims an object of 1 GiB and the file is
  // exactly that long, so only the size limit refuses it.
  std::uint64_t object = std::uint64_t(1) << 30, metadata = 2;
  std::uint64_t size = 96 + object + metadata;
  {
    std::fstream f(cache.pathOf(key),
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(48);
    f.write(reinterpret_cast<const char *>(&object), 8);
    f.write(reinterpret_cast<const char *>(&metadata), 8);
  }
  fs::resize_file(cache.pathOf(key), size);
  CHECK(checkCacheFile(cache.pathOf(key)).value_or("") ==
        "too large: " + std::to_string(size) + " bytes");
  std::string log = stderrOf([&] { CHECK(!cache.load(key)); });
  CHECK(log.find("removed " + cache.pathOf(key).string() + ": too large") !=
        std::string::npos);
  CHECK(!fs::exists(cache.pathOf(key)));
}

TEST_CASE("an event log or hit count that cannot be appended to does not "
          "stop loads") {
  TempDir dir;
  KernelCache cache(dir.path, 1 << 20);
  std::vector<CacheKey> keys = distinctKeys(2);
  cache.store(keys[0], {"code of 0", "{}"});
  // Directories where the log and the hit count go: open() fails for both.
  fs::create_directories(dir.path / kEventLog);
  fs::create_directories(dir.path / (keys[0].hex() + kHitsSuffix));
  std::optional<CacheEntry> entry;
  CHECK(stderrOf([&] { entry = cache.load(keys[0]); }).empty());
  REQUIRE(entry);
  CHECK(entry->object == "code of 0");
  CHECK(stderrOf([&] { CHECK(!cache.load(keys[1])); }).empty());
  CHECK(fs::is_empty(dir.path / kEventLog));
}

TEST_CASE("a cache directory that fills up turns writes off with one "
          "warning; entries already there still load") {
  TempDir dir;
  KernelCache cache(dir.path, 1 << 20);
  std::vector<CacheKey> keys = distinctKeys(3);
  cache.store(keys[0], {"code of 0", "{}"});
  std::string log;
  {
    FileSizeLimit limit(16); // the 96-byte header no longer fits
    log = stderrOf([&] {
      cache.store(keys[1], {"code of 1", "{}"});
      cache.store(keys[2], {"code of 2", "{}"});
    });
  }
  CHECK(log == "trueno: kernel cache: cannot write to " + dir.path.string() +
                   " (read-only or full); compiled kernels stay in memory "
                   "only\n");
  // Writes stay off although there is room again: one warning, not one per
  // kernel, and no half-written files.
  CHECK(stderrOf([&] { cache.store(keys[2], {"code of 2", "{}"}); }).empty());
  CHECK(!fs::exists(cache.pathOf(keys[1])));
  CHECK(!fs::exists(cache.pathOf(keys[2])));
  for (const fs::directory_entry &e : fs::directory_iterator(dir.path))
    CHECK(!e.path().filename().string().starts_with(".tmp-"));
  std::optional<CacheEntry> entry = cache.load(keys[0]);
  REQUIRE(entry);
  CHECK(entry->object == "code of 0");
}

TEST_CASE("a cache directory that cannot be created warns once") {
  TempDir dir;
  fs::create_directories(dir.path);
  std::ofstream(dir.path / "file") << "x";
  KernelCache cache(dir.path / "file" / "cache", 1 << 20);
  std::vector<CacheKey> keys = distinctKeys(2);
  std::string log = stderrOf([&] {
    cache.store(keys[0], {"code of 0", "{}"});
    cache.store(keys[1], {"code of 1", "{}"});
    CHECK(!cache.load(keys[0]));
  });
  CHECK(log == "trueno: kernel cache: cannot create " +
                   (dir.path / "file" / "cache").string() +
                   " (Not a directory); compiled kernels stay in memory "
                   "only\n");
}

TEST_CASE("eviction leaves another writer's temporary file alone") {
  TempDir dir;
  KernelCache cache(dir.path, 1 << 20);
  std::vector<CacheKey> keys = distinctKeys(2);
  cache.store(keys[0], {"code of 0", "{}"});
  cache.store(keys[1], {"code of 1", "{}"});
  // A temporary file being written has the entries' suffix until renamed.
  fs::path temporary = dir.path / (".tmp-1-0" + std::string(kCacheSuffix));
  std::ofstream(temporary) << std::string(5000, 'x');
  CHECK(cache.evictTo(0) == 2);
  CHECK(fs::exists(temporary));
  CHECK(!fs::exists(cache.pathOf(keys[0])));
  CHECK(!fs::exists(cache.pathOf(keys[1])));
}
