//===- KernelCacheTest.cpp - Cache keys, entries and eviction -------------===//
//
// The key changes with every part a compiled program depends on (so a new
// target, version or option never loads stale code), entries round-trip,
// and the least recently used entries go first past the size limit. The
// cross-process behaviour is tested by tests/cache/test_disk_cache.py.
//
//===----------------------------------------------------------------------===//
#include "trueno/Runtime/KernelCache.h"
#include "trueno/Runtime/Cpu/CpuBackend.h"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace trueno::runtime;

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
