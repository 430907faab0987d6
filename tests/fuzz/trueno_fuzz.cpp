//===- trueno_fuzz.cpp - Mutation fuzzing of the file readers -------------===//
//
//   trueno-fuzz npy|cache|vulkan-program ITERATIONS [SEED]
//
// Mutates valid inputs (and every file of the regression corpus in
// tests/fuzz/corpus/<reader>/) and feeds them to a reader that parses
// untrusted bytes: `npy` runs decodeNpy on the bytes and, every 16th
// input, loadNpy on a file holding them; `cache` writes them as a kernel
// cache entry and runs checkCacheFile and KernelCache::load;
// `vulkan-program` reads them as a Vulkan cache entry's payload (the
// SPIR-V program and the driver's pipeline cache) with
// readVulkanCachePayload. A reader may accept an input or reject it with
// its typed error (IOError/DTypeError; a problem string for cache
// entries, an llvm::Error for programs); anything else (another exception,
// an accepted tensor larger than its file, an entry whose sizes disagree
// with its file, a program that does not encode back to the same bytes,
// one input taking over a second) is a failure: the input is
// written to trueno-fuzz-failure-<reader>-<iteration>.bin in the working
// directory, for the corpus, and the driver exits 1. Crashes and sanitizer
// reports stop the process by themselves.
//
// The mutations are byte flips and sets, truncation, insertion and deletion
// of runs, copies of runs within the input, splices of two inputs, and
// header numbers replaced by extreme ones (0, -1, 2^31, 2^62, INT64_MAX).
// Seeded: a run is replayed with its seed (printed first).
//
//===----------------------------------------------------------------------===//
#include "trueno/Runtime/KernelCache.h"
#include "trueno/Runtime/Vulkan/VulkanBackend.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <trueno/trueno.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <typeinfo>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
namespace tn = trueno;
using Bytes = std::vector<std::uint8_t>;

namespace {

Bytes readFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
}

void writeFile(const fs::path &path, const Bytes &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char *>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

/// The corpus files for `reader` (regression inputs kept in the repository).
std::vector<Bytes> corpus(const std::string &reader) {
  std::vector<Bytes> inputs;
  fs::path dir = fs::path(TRUENO_FUZZ_CORPUS) / reader;
  std::error_code error;
  for (const fs::directory_entry &e : fs::directory_iterator(dir, error))
    if (e.is_regular_file())
      inputs.push_back(readFile(e.path()));
  return inputs;
}

class Mutator {
public:
  explicit Mutator(std::uint32_t seed) : rng_(seed) {}

  Bytes mutate(const std::vector<Bytes> &pool) {
    Bytes bytes = pool[below(pool.size())];
    int rounds = 1 + static_cast<int>(below(4));
    for (int r = 0; r < rounds; ++r)
      mutateOnce(bytes, pool);
    return bytes;
  }

private:
  std::size_t below(std::size_t n) { return n ? rng_() % n : 0; }

  void mutateOnce(Bytes &bytes, const std::vector<Bytes> &pool) {
    switch (below(8)) {
    case 0: // flip a bit
      if (!bytes.empty())
        bytes[below(bytes.size())] ^= std::uint8_t(1u << below(8));
      break;
    case 1: // set a byte, mostly in the header
      if (!bytes.empty())
        bytes[below(std::min<std::size_t>(bytes.size(), 160))] =
            static_cast<std::uint8_t>(rng_());
      break;
    case 2: // truncate
      bytes.resize(below(bytes.size() + 1));
      break;
    case 3: { // insert a run of one byte
      std::size_t at = below(bytes.size() + 1);
      bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                   1 + below(16), static_cast<std::uint8_t>(rng_()));
      break;
    }
    case 4: { // delete a run
      if (bytes.empty())
        break;
      std::size_t at = below(bytes.size());
      std::size_t n = std::min(bytes.size() - at, 1 + below(16));
      bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                  bytes.begin() + static_cast<std::ptrdiff_t>(at + n));
      break;
    }
    case 5: { // copy a run over another place
      if (bytes.size() < 2)
        break;
      std::size_t from = below(bytes.size()), to = below(bytes.size());
      std::size_t n =
          std::min({bytes.size() - from, bytes.size() - to, 1 + below(32)});
      std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(from), n,
                  bytes.begin() + static_cast<std::ptrdiff_t>(to));
      break;
    }
    case 6: { // splice: our head, another input's tail
      const Bytes &other = pool[below(pool.size())];
      std::size_t keep = below(bytes.size() + 1);
      std::size_t from = below(other.size() + 1);
      bytes.resize(keep);
      bytes.insert(bytes.end(),
                   other.begin() + static_cast<std::ptrdiff_t>(from),
                   other.end());
      break;
    }
    default: { // an extreme number in the header, as text or little-endian
      static const char *texts[] = {"0",
                                    "-1",
                                    "2147483648",
                                    "4611686018427387904",
                                    "9223372036854775807",
                                    "99999999999999999999"};
      static const std::uint64_t words[] = {0, ~0ull, 1ull << 31, 1ull << 62,
                                            0x7fffffffffffffffull};
      std::size_t at = below(std::min<std::size_t>(bytes.size(), 128) + 1);
      if (below(2)) {
        std::string text = texts[below(std::size(texts))];
        bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                     text.begin(), text.end());
      } else if (at + 8 <= bytes.size()) {
        std::uint64_t w = words[below(std::size(words))];
        for (int i = 0; i < 8; ++i)
          bytes[at + i] = static_cast<std::uint8_t>(w >> (8 * i));
      }
      break;
    }
    }
  }

  std::mt19937 rng_;
};

/// Valid .npy files of every dtype, several shapes, both orders.
std::vector<Bytes> npySeeds() {
  std::vector<Bytes> seeds;
  for (tn::DType dtype :
       {tn::kBool, tn::kInt8, tn::kUInt8, tn::kInt16, tn::kInt32, tn::kInt64,
        tn::kFloat16, tn::kBFloat16, tn::kFloat32, tn::kFloat64})
    for (const tn::Shape &shape : {tn::Shape{}, tn::Shape{0}, tn::Shape{5},
                                   tn::Shape{2, 3}, tn::Shape{2, 1, 4}}) {
      tn::Tensor t = tn::arange(tn::numelOf(shape)).reshape(shape).to(dtype);
      seeds.push_back(tn::encodeNpy(t));
    }
  // A Fortran-order, big-endian version 2.0 file written by hand.
  std::string dict =
      "{'descr': '>i4', 'fortran_order': True, 'shape': (2, 3), }";
  std::string text = std::string("\x93NUMPY\x02\x00", 8);
  std::uint32_t length = static_cast<std::uint32_t>(dict.size() + 1);
  for (int i = 0; i < 4; ++i)
    text.push_back(static_cast<char>(length >> (8 * i)));
  text += dict + "\n" + std::string(24, '\x01');
  seeds.emplace_back(text.begin(), text.end());
  return seeds;
}

/// One .npy input: decoded from memory, and every 16th from a file.
/// Returns what is wrong, or an empty string; counts typed rejections.
std::string checkNpy(const Bytes &bytes, bool fromFile, const fs::path &dir,
                     long long &rejected) {
  try {
    tn::Tensor t = fromFile ? (writeFile(dir / "input.npy", bytes),
                               tn::loadNpy((dir / "input.npy").string()))
                            : tn::decodeNpy(bytes);
    if (t.numel() * t.itemSize() > static_cast<std::int64_t>(bytes.size()))
      return "accepted a tensor of " + std::to_string(t.numel()) +
             " elements from " + std::to_string(bytes.size()) + " bytes";
    (void)t.toVector<double>(); // every element is readable
  } catch (const tn::IOError &) {
    ++rejected;
  } catch (const tn::DTypeError &) {
    ++rejected;
  } catch (const std::exception &e) {
    return std::string("threw ") + typeid(e).name() + ": " + e.what();
  }
  return "";
}

/// Valid kernel cache entries, as the cache writes them.
std::vector<Bytes> cacheSeeds(const fs::path &dir) {
  tn::runtime::KernelCache cache(dir / "seeds", 1 << 30);
  std::vector<Bytes> seeds;
  for (int i = 0; i < 4; ++i) {
    tn::runtime::CacheKeyParts parts{"module " + std::to_string(i), "target",
                                     "0.1.0", "19", "O3"};
    tn::runtime::CacheKey key = tn::runtime::cacheKey(parts);
    cache.store(key, {std::string(static_cast<std::size_t>(i * 300), 'x'),
                      "{\"kernels\": [\"k\"]}"});
    seeds.push_back(readFile(cache.pathOf(key)));
  }
  return seeds;
}

/// One cache entry input, written under the key its header names (so that
/// the name check passes and the rest is reached) and read back.
std::string checkCache(const Bytes &bytes, const fs::path &dir) {
  tn::runtime::CacheKey key;
  if (bytes.size() >= 48)
    std::copy_n(bytes.begin() + 16, 32, key.bytes.begin());
  tn::runtime::KernelCache cache(dir / "entries", 1 << 30);
  fs::create_directories(dir / "entries");
  // The cache reports each bad entry it removes on stderr: expected here.
  std::ostringstream reports;
  struct Restore {
    std::streambuf *old;
    ~Restore() { std::cerr.rdbuf(old); }
  } restore{std::cerr.rdbuf(reports.rdbuf())};
  fs::path path = cache.pathOf(key);
  writeFile(path, bytes);
  try {
    tn::runtime::CacheEntry entry;
    tn::runtime::CacheKey stored;
    if (!tn::runtime::checkCacheFile(path, &entry, &stored) &&
        96 + entry.object.size() + entry.metadata.size() != bytes.size())
      return "accepted an entry whose sizes disagree with its file";
    (void)cache.load(key); // removes a bad entry; never throws
  } catch (const std::exception &e) {
    return std::string("threw ") + typeid(e).name() + ": " + e.what();
  }
  std::error_code error;
  fs::remove_all(dir / "entries", error);
  return "";
}

/// Vulkan cache payloads of real programs: kernels with scratch buffers
/// and several launches, lowered as the backend lowers them,
/// then a pipeline cache header.
std::vector<Bytes> vulkanProgramSeeds() {
  mlir::DialectRegistry registry;
  mlir::trueno::registerVulkanCodegen(registry);
  mlir::MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  std::vector<Bytes> seeds;
  for (const char *source : {R"(
    func.func @chain(%a: tensor<1000xf32>, %b: tensor<1000xf32>) -> tensor<1000xf32> {
      %0 = trueno.mul %a, %b : tensor<1000xf32>
      %1 = trueno.exp %0 : tensor<1000xf32>
      return %1 : tensor<1000xf32>
    })",
                             R"(
    func.func @rows(%a: tensor<8x300xf32>) -> tensor<8xf32> {
      %0 = trueno.reduce_sum %a dims = [1] : tensor<8x300xf32> -> tensor<8xf32>
      return %0 : tensor<8xf32>
    }
    func.func @total(%a: tensor<100000xf32>) -> tensor<f32> {
      %0 = trueno.reduce_sum %a dims = [0] : tensor<100000xf32> -> tensor<f32>
      return %0 : tensor<f32>
    })"}) {
    auto module = mlir::parseSourceString<mlir::ModuleOp>(source, &context);
    if (!module || mlir::failed(mlir::trueno::lowerForVulkan(*module)))
      continue;
    auto program = mlir::trueno::serializeProgram(*module);
    if (mlir::failed(program))
      continue;
    std::string header(32, '\0');
    header[0] = 32;
    header[4] = 1;
    std::string payload = tn::runtime::vulkanCachePayload(*program, header);
    seeds.emplace_back(payload.begin(), payload.end());
  }
  return seeds;
}

/// One Vulkan cache payload: rejected with an error, or read into a
/// program that encodes back to exactly these bytes.
std::string checkVulkanProgram(const Bytes &bytes, long long &rejected) {
  llvm::StringRef text(reinterpret_cast<const char *>(bytes.data()),
                       bytes.size());
  auto read = tn::runtime::readVulkanCachePayload(text);
  if (!read) {
    llvm::consumeError(read.takeError());
    ++rejected;
    return "";
  }
  if (tn::runtime::vulkanCachePayload(read->first, read->second) != text)
    return "accepted a program that does not encode back to its bytes";
  return "";
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3 ||
      (std::string(argv[1]) != "npy" && std::string(argv[1]) != "cache" &&
       std::string(argv[1]) != "vulkan-program")) {
    std::cerr << "usage: trueno-fuzz npy|cache|vulkan-program ITERATIONS "
                 "[SEED]\n";
    return 2;
  }
  std::string reader = argv[1];
  long long iterations = std::stoll(argv[2]);
  std::uint32_t seed = argc > 3
                           ? static_cast<std::uint32_t>(std::stoul(argv[3]))
                           : std::random_device{}();
  std::cout << "trueno-fuzz " << reader << ": seed " << seed
            << " (replay with that as the third argument)" << std::endl;
  fs::path dir =
      fs::temp_directory_path() / ("trueno-fuzz-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // The disk cache of the kernels the readers' checks compile stays out of
  // the user's: cache entries are what this run attacks.
  ::setenv("TRUENO_CACHE", "0", 1);
  std::vector<Bytes> pool = reader == "npy"     ? npySeeds()
                            : reader == "cache" ? cacheSeeds(dir)
                                                : vulkanProgramSeeds();
  if (pool.empty()) {
    std::cerr << "trueno-fuzz " << reader << ": no seed inputs\n";
    return 1;
  }
  std::vector<Bytes> kept = corpus(reader);
  pool.insert(pool.end(), kept.begin(), kept.end());
  Mutator mutator(seed);
  long long rejected = 0;
  // The corpus first, unmutated, then the mutations.
  for (long long i = -static_cast<long long>(kept.size()); i < iterations;
       ++i) {
    Bytes input = i < 0 ? kept[static_cast<std::size_t>(
                              i + static_cast<long long>(kept.size()))]
                        : mutator.mutate(pool);
    auto start = std::chrono::steady_clock::now();
    std::string problem =
        reader == "npy"     ? checkNpy(input, i % 16 == 0, dir, rejected)
        : reader == "cache" ? checkCache(input, dir)
                            : checkVulkanProgram(input, rejected);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (problem.empty() && seconds > 1.0)
      problem = "took " + std::to_string(seconds) + " s";
    if (!problem.empty()) {
      std::string name =
          "trueno-fuzz-failure-" + reader + "-" + std::to_string(i) + ".bin";
      writeFile(name, input);
      std::cerr << "trueno-fuzz " << reader << ": input " << i << " " << problem
                << " (written to " << name << ")\n";
      fs::remove_all(dir);
      return 1;
    }
  }
  fs::remove_all(dir);
  std::cout << "trueno-fuzz " << reader << ": " << iterations
            << " mutated inputs and " << kept.size()
            << " corpus files, no failure";
  if (reader != "cache")
    std::cout << " (" << rejected << " rejected)";
  std::cout << std::endl;
  return 0;
}
