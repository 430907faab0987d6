//===- SpirvProgramFormat.cpp - A serialized program as bytes and back ----===//
//
// The payload the disk kernel cache keeps for a Vulkan program, so that a
// later process creates its pipelines without lowering anything.
// Little-endian:
//
//   "TSPV", u32 format version
//   u32 kernels;   per kernel: str entry point, u32 words + words,
//                  3 x i64 workgroup size, 3 x i64 workgroup count,
//                  i32 bindings, u8 per binding (1: the kernel writes it)
//   u32 functions; per function: str name, u32 scratch + i64 bytes each,
//                  u32 constants + (u32 bytes + bytes) each,
//                  u32 launches + (i32 kernel, u32 buffers +
//                  (u8 kind, i32 index) each) each
//
// (str is u32 length + bytes.) The cache checks an entry's checksum; the
// decoder still trusts nothing: a count larger than the bytes left could
// describe, an index outside its table or a module without SPIR-V's magic
// number is an error, so a hostile entry can neither over-read nor make it
// allocate more than the entry's own size.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Pipeline.h"

#include "llvm/Support/Error.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace mlir::trueno {

namespace {

constexpr char kMagic[4] = {'T', 'S', 'P', 'V'};
constexpr std::uint32_t kSpirvMagic = 0x07230203;
/// Far beyond any kernel's (the descriptor limit of any device is lower).
constexpr std::int64_t kMaxBindings = 1 << 16;

class Writer {
public:
  template <typename T> void put(T v) {
    for (std::size_t i = 0; i < sizeof(T); ++i)
      out.push_back(
          static_cast<char>(static_cast<std::uint64_t>(v) >> (8 * i)));
  }
  void count(std::size_t n) {
    put<std::uint32_t>(static_cast<std::uint32_t>(n));
  }
  void bytes(const void *data, std::size_t n) {
    count(n);
    if (n != 0) // `data` of an empty vector may be null
      out.append(static_cast<const char *>(data), n);
  }
  std::string out;
};

class Reader {
public:
  explicit Reader(llvm::StringRef in) : in_(in) {}

  template <typename T> bool get(T &v) {
    if (in_.size() - at_ < sizeof(T))
      return fail("it ends inside a field");
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      bits |=
          static_cast<std::uint64_t>(static_cast<unsigned char>(in_[at_ + i]))
          << (8 * i);
    at_ += sizeof(T);
    v = static_cast<T>(bits);
    return true;
  }
  /// A count of items each at least `itemBytes` long: no larger than the
  /// bytes left allow.
  bool count(std::size_t &n, std::size_t itemBytes) {
    std::uint32_t c;
    if (!get(c))
      return false;
    if (c > (in_.size() - at_) / std::max<std::size_t>(itemBytes, 1))
      return fail("a count larger than the bytes left");
    n = c;
    return true;
  }
  bool bytes(void *data, std::size_t n) {
    if (in_.size() - at_ < n)
      return fail("it ends inside a field");
    if (n == 0) // `data` of an empty vector may be null
      return true;
    std::memcpy(data, in_.data() + at_, n);
    at_ += n;
    return true;
  }
  /// Whether `n` more bytes are left.
  bool has(std::size_t n) {
    return in_.size() - at_ >= n || fail("it ends inside a field");
  }
  bool string(std::string &s) {
    std::size_t n;
    if (!count(n, 1))
      return false;
    s.resize(n);
    return bytes(s.data(), n);
  }
  bool fail(const std::string &why) {
    if (error_.empty())
      error_ = why;
    return false;
  }
  bool atEnd() const { return at_ == in_.size(); }
  const std::string &error() const { return error_; }

private:
  llvm::StringRef in_;
  std::size_t at_ = 0;
  std::string error_;
};

} // namespace

std::string encodeSpirvProgram(const SpirvProgram &program) {
  Writer w;
  w.out.append(kMagic, 4);
  w.put<std::uint32_t>(kSpirvProgramFormatVersion);
  w.count(program.kernels.size());
  for (const SpirvKernel &k : program.kernels) {
    w.bytes(k.entryPoint.data(), k.entryPoint.size());
    w.count(k.words.size());
    for (std::uint32_t word : k.words)
      w.put(word);
    for (std::int64_t s : k.workgroupSize)
      w.put(s);
    for (std::int64_t c : k.workgroupCount)
      w.put(c);
    w.put<std::int32_t>(k.bindings);
    for (int b = 0; b < k.bindings; ++b)
      w.put<std::uint8_t>(static_cast<std::size_t>(b) < k.writes.size()
                              ? k.writes[static_cast<std::size_t>(b)]
                              : 1);
  }
  w.count(program.functions.size());
  for (const SpirvFunction &f : program.functions) {
    w.bytes(f.name.data(), f.name.size());
    w.count(f.scratchBytes.size());
    for (std::int64_t b : f.scratchBytes)
      w.put(b);
    w.count(f.constants.size());
    for (const std::vector<std::uint8_t> &c : f.constants)
      w.bytes(c.data(), c.size());
    w.count(f.launches.size());
    for (const SpirvFunction::Launch &l : f.launches) {
      w.put<std::int32_t>(l.kernel);
      w.count(l.buffers.size());
      for (const SpirvFunction::Buffer &b : l.buffers) {
        w.put<std::uint8_t>(static_cast<std::uint8_t>(b.kind));
        w.put<std::int32_t>(b.index);
      }
    }
  }
  return std::move(w.out);
}

llvm::Expected<SpirvProgram> decodeSpirvProgram(llvm::StringRef bytes) {
  Reader r(bytes);
  SpirvProgram program;
  auto decode = [&]() -> bool {
    char magic[4];
    std::uint32_t version;
    if (!r.bytes(magic, 4) || std::memcmp(magic, kMagic, 4) != 0)
      return r.fail("not a serialized SPIR-V program (wrong magic)");
    if (!r.get(version))
      return false;
    if (version != kSpirvProgramFormatVersion)
      return r.fail("format version " + std::to_string(version) +
                    ", expected " + std::to_string(kSpirvProgramFormatVersion));
    std::size_t kernels;
    if (!r.count(kernels, 4 + 4 + 48 + 4))
      return false;
    program.kernels.resize(kernels);
    for (SpirvKernel &k : program.kernels) {
      std::size_t words;
      if (!r.string(k.entryPoint) || !r.count(words, 4))
        return false;
      k.words.resize(words);
      for (std::uint32_t &word : k.words)
        if (!r.get(word))
          return false;
      if (k.words.size() < 5 || k.words[0] != kSpirvMagic)
        return r.fail("a kernel that is not a SPIR-V module");
      for (std::int64_t &s : k.workgroupSize)
        if (!r.get(s))
          return false;
      for (std::int64_t &c : k.workgroupCount)
        if (!r.get(c) || c < 1 || c > std::numeric_limits<std::uint32_t>::max())
          return r.fail("a workgroup count out of range");
      std::int32_t bindings;
      if (!r.get(bindings) || bindings < 0 || bindings > kMaxBindings)
        return r.fail("a binding count out of range");
      k.bindings = bindings;
      if (!r.has(static_cast<std::size_t>(bindings)))
        return false;
      k.writes.resize(static_cast<std::size_t>(bindings));
      for (std::uint8_t &write : k.writes)
        if (!r.get(write))
          return false;
        else if (write > 1)
          return r.fail("a binding's access that is neither 0 nor 1");
    }
    std::size_t functions;
    if (!r.count(functions, 4 * 4))
      return false;
    program.functions.resize(functions);
    for (SpirvFunction &f : program.functions) {
      std::size_t scratch, constants, launches;
      if (!r.string(f.name) || !r.count(scratch, 8))
        return false;
      f.scratchBytes.resize(scratch);
      for (std::int64_t &b : f.scratchBytes)
        if (!r.get(b) || b < 0)
          return r.fail("a scratch buffer of a negative size");
      if (!r.count(constants, 4))
        return false;
      f.constants.resize(constants);
      for (std::vector<std::uint8_t> &c : f.constants) {
        std::size_t n;
        if (!r.count(n, 1))
          return false;
        c.resize(n);
        if (!r.bytes(c.data(), n))
          return false;
      }
      if (!r.count(launches, 8))
        return false;
      f.launches.resize(launches);
      for (SpirvFunction::Launch &l : f.launches) {
        std::int32_t kernel;
        std::size_t buffers;
        if (!r.get(kernel) || kernel < 0 ||
            kernel >= static_cast<std::int32_t>(program.kernels.size()))
          return r.fail("a launch of a kernel the program does not have");
        l.kernel = kernel;
        if (!r.count(buffers, 5))
          return false;
        if (static_cast<std::int64_t>(buffers) !=
            program.kernels[kernel].bindings)
          return r.fail("a launch binding another number of buffers than "
                        "its kernel has");
        l.buffers.resize(buffers);
        for (SpirvFunction::Buffer &b : l.buffers) {
          std::uint8_t kind;
          std::int32_t index;
          if (!r.get(kind) || !r.get(index))
            return false;
          if (kind > SpirvFunction::Buffer::Constant || index < 0)
            return r.fail("a buffer of an unknown kind or negative index");
          b.kind = static_cast<SpirvFunction::Buffer::Kind>(kind);
          b.index = index;
          std::size_t table =
              b.kind == SpirvFunction::Buffer::Scratch ? f.scratchBytes.size()
              : b.kind == SpirvFunction::Buffer::Constant ? f.constants.size()
                                                          : SIZE_MAX;
          if (static_cast<std::size_t>(index) >= table)
            return r.fail("a scratch buffer or constant the function does "
                          "not have");
        }
      }
    }
    if (!r.atEnd())
      return r.fail("bytes after its end");
    return true;
  };
  if (!decode())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "a corrupt SPIR-V program: " + r.error());
  return program;
}

} // namespace mlir::trueno
