//===- HostAllocatorTest.cpp - The caching host allocator -----------------===//
#include "trueno/Runtime/Cpu/HostAllocator.h"

#include <doctest/doctest.h>

#include <cstdint>

using trueno::runtime::HostAllocator;

TEST_CASE("size classes: powers of two, then whole huge pages") {
  CHECK(HostAllocator::sizeClass(1) == 64);
  CHECK(HostAllocator::sizeClass(64) == 64);
  CHECK(HostAllocator::sizeClass(65) == 128);
  CHECK(HostAllocator::sizeClass(1000) == 1024);
  CHECK(HostAllocator::sizeClass((1 << 20) + 1) == (2 << 20));
  CHECK(HostAllocator::sizeClass((2 << 20) + 1) == (4 << 20));
  CHECK(HostAllocator::sizeClass((6 << 20) + 1) == (8 << 20));
  CHECK(HostAllocator::sizeClass(40'000'000) == 20 * (2 << 20));
}

TEST_CASE("freed blocks are reused by the next request of their class") {
  HostAllocator allocator(1 << 30);
  void *a = allocator.allocate(1000);
  REQUIRE(a);
  CHECK(reinterpret_cast<std::uintptr_t>(a) % 64 == 0);
  allocator.deallocate(a, 1000);
  CHECK(allocator.stats().cachedBytes == 1024);
  void *b = allocator.allocate(900); // same class (1024)
  CHECK(b == a);
  CHECK(allocator.stats().hits == 1);
  CHECK(allocator.stats().misses == 1);
  CHECK(allocator.stats().liveBytes == 1024);
  void *c = allocator.allocate(3000); // another class: a fresh block
  CHECK(c != a);
  allocator.deallocate(b, 900);
  allocator.deallocate(c, 3000);
  CHECK(allocator.stats().liveBytes == 0);
  allocator.releaseCached();
  CHECK(allocator.stats().cachedBytes == 0);
}

TEST_CASE("large blocks are huge-page aligned; the cache has a limit") {
  HostAllocator allocator(std::size_t(5) << 20);
  void *big = allocator.allocate(3 << 20);
  REQUIRE(big);
  CHECK(reinterpret_cast<std::uintptr_t>(big) % (2 << 20) == 0);
  void *other = allocator.allocate(3 << 20);
  allocator.deallocate(big, 3 << 20);   // 4 MiB cached
  allocator.deallocate(other, 3 << 20); // over the 5 MiB limit: freed
  CHECK(allocator.stats().cachedBytes == (4 << 20));
  HostAllocator noCache(0);
  void *p = noCache.allocate(100);
  noCache.deallocate(p, 100);
  CHECK(noCache.stats().cachedBytes == 0);
  CHECK(noCache.allocate(100) != nullptr);
  CHECK(noCache.stats().hits == 0);
}
