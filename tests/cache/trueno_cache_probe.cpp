//===- trueno_cache_probe.cpp - Realizes distinct kernels, reports counts -===//
//
// The program the disk kernel cache tests run in several processes:
//
//   trueno-cache-probe run N     realizes N distinct programs (different
//                                shapes and ops) and prints "compiled=C
//                                disk_hits=H disk_misses=M median_realize_ms=T
//                                programs=P evicted=E rss_mb=R checksum=S"
//                                (programs held in memory, evicted,
//                                resident MiB; a sum of elements of the
//                                results, to compare runs)
//   trueno-cache-probe verify D  checks every entry in directory D and
//                                prints "entries=E bad=B"
//
//===----------------------------------------------------------------------===//
#include "trueno/Runtime/KernelCache.h"

#include <trueno/trueno.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

namespace tn = trueno;

/// The process's resident set, from /proc/self/statm (in pages).
static long residentMegabytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * ::sysconf(_SC_PAGESIZE) / (1 << 20);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    std::cerr << "usage: trueno-cache-probe run N | verify DIR\n";
    return 2;
  }
  std::string mode = argv[1];
  if (mode == "verify") {
    int entries = 0, bad = 0;
    for (const auto &e : std::filesystem::directory_iterator(argv[2])) {
      if (e.path().extension() != tn::runtime::kCacheSuffix)
        continue; // hit counts and the event log
      ++entries;
      if (auto problem = tn::runtime::checkCacheFile(e.path())) {
        ++bad;
        std::cout << e.path().filename().string() << ": " << *problem << "\n";
      }
    }
    std::cout << "entries=" << entries << " bad=" << bad << "\n";
    return bad ? 1 : 0;
  }
  int n = std::stoi(argv[2]);
  std::vector<double> ms;
  double checksum = 0;
  for (int i = 0; i < n; ++i) {
    tn::Tensor a = tn::full({100 + i}, 0.5f);
    tn::Tensor y = (i % 2 ? (a * 2.0 + 1.0).exp() : (a - 3.0).tanh());
    auto start = std::chrono::steady_clock::now();
    if (y.at<float>({0}) != y.at<float>({0})) // the realize: compile or load
      return 3;
    ms.push_back(std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count());
    // Reading elements runs no program (a sum would add one).
    for (std::int64_t at : {0, 50 + i / 2, 99 + i})
      checksum += y.at<float>({at});
  }
  std::sort(ms.begin(), ms.end());
  tn::RuntimeStats s = tn::runtimeStats();
  std::cout << "compiled=" << s.kernelsCompiled
            << " disk_hits=" << s.diskCacheHits
            << " disk_misses=" << s.diskCacheMisses
            << " median_realize_ms=" << (ms.empty() ? 0 : ms[ms.size() / 2])
            << " programs=" << s.cachedPrograms
            << " evicted=" << s.evictedPrograms
            << " rss_mb=" << residentMegabytes() << " checksum=" << checksum
            << "\n";
  return 0;
}
