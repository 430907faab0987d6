//===- Npy.cpp - Reading and writing NumPy .npy files ---------------------===//
//
// The format (numpy/lib/format.py): the magic "\x93NUMPY", a version byte
// pair, a little-endian header length (2 bytes in 1.0, 4 in 2.0 and 3.0),
// then a Python dict literal with 'descr', 'fortran_order' and 'shape', and
// the raw elements. The reader trusts nothing: every length is checked
// against the bytes present before it is used (a file is read preamble,
// header, elements, each bounded by what came before and by the file's
// size, and only when it is a regular file), and the dict is parsed by a
// small tokenizer rather than searched for substrings, as strictly as
// Python reads it. Files are written to a temporary name and renamed.
//
//===----------------------------------------------------------------------===//
#include "tensor/Dispatch.h"
#include "tensor/TensorImpl.h"
#include "trueno/Core/Check.h"
#include "trueno/Files.h"

#include "trueno/Npy.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace trueno {

using detail::fail;

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;

/// The .npy type string for a dtype, little-endian.
std::string descrFor(DType dtype) {
  switch (dtype) {
  case DType::Bool:
    return "|b1";
  case DType::Int8:
    return "|i1";
  case DType::UInt8:
    return "|u1";
  case DType::Int16:
    return "<i2";
  case DType::Int32:
    return "<i4";
  case DType::Int64:
    return "<i8";
  case DType::Float16:
    return "<f2";
  case DType::BFloat16:
    return "<V2";
  case DType::Float32:
    return "<f4";
  case DType::Float64:
    return "<f8";
  }
  return "";
}

/// `text` with bytes outside printable ASCII written as \xNN, for error
/// messages: a NUL in a hostile header must not cut the message short.
std::string escaped(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '\\')
      out += fmt::format("\\x{:02x}", byte);
    else
      out.push_back(c);
  }
  return out;
}

[[noreturn]] void corruptFile(const std::string &name, SourceLoc where,
                              const std::string &what) {
  fail<IOError>(where, "loadNpy", "the file is not a valid .npy file", "{}: {}",
                name, what);
}

struct Header {
  DType dtype = DType::Float32;
  bool bigEndian = false;
  bool fortranOrder = false;
  Shape shape;
};

/// A recursive-descent reader for the header's dict literal.
class HeaderParser {
public:
  HeaderParser(std::string_view text, const std::string &name, SourceLoc where)
      : text_(text), name_(name), where_(where) {}

  Header parse() {
    Header header;
    bool haveDescr = false, haveOrder = false, haveShape = false;
    expect('{');
    while (!peek('}')) {
      std::string key = parseString();
      expect(':');
      if (key == "descr") {
        if (peek('['))
          fail<DTypeError>(
              where_, "loadNpy", "save each field as its own array in NumPy",
              "{}: structured (record) dtypes are not supported", name_);
        parseDescr(parseString(), header);
        haveDescr = true;
      } else if (key == "fortran_order") {
        header.fortranOrder = parseBool();
        haveOrder = true;
      } else if (key == "shape") {
        header.shape = parseShape();
        haveShape = true;
      } else {
        corrupt(fmt::format("unexpected key '{}' in the header", escaped(key)));
      }
      if (!peek('}'))
        expect(',');
    }
    expect('}');
    skipSpace();
    if (pos_ != text_.size())
      corrupt("unexpected text after the header dict");
    if (!haveDescr || !haveOrder || !haveShape)
      corrupt("the header lacks one of 'descr', 'fortran_order', 'shape'");
    return header;
  }

private:
  [[noreturn]] void corrupt(const std::string &what) const {
    corruptFile(name_, where_, what);
  }

  void skipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\t'))
      ++pos_;
  }
  bool peek(char c) {
    skipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  void expect(char c) {
    if (!peek(c))
      corrupt(fmt::format("expected '{}' at header byte {}", c, pos_));
    ++pos_;
  }

  std::string parseString() {
    skipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      corrupt(fmt::format("expected a string at header byte {}", pos_));
    char quote = text_[pos_++];
    std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos)
      corrupt("unterminated string in the header");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  bool parseBool() {
    skipSpace();
    for (auto [word, value] : {std::pair{"True", true}, {"False", false}}) {
      std::size_t n = std::strlen(word);
      if (text_.substr(pos_, n) == word) {
        pos_ += n;
        return value;
      }
    }
    corrupt("fortran_order is neither True nor False");
  }

  Shape parseShape() {
    Shape shape;
    bool trailingComma = false;
    expect('(');
    while (!peek(')')) {
      skipSpace();
      std::int64_t value = 0;
      std::size_t digits = 0;
      // Python (and so NumPy) refuses leading zeros: (03,) is no literal.
      if (pos_ + 1 < text_.size() && text_[pos_] == '0' &&
          text_[pos_ + 1] >= '0' && text_[pos_ + 1] <= '9')
        corrupt(fmt::format("a dimension with a leading zero at header byte "
                            "{}, which Python does not read",
                            pos_));
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        if (value > (INT64_MAX - 9) / 10)
          corrupt("a dimension in the shape is too large");
        value = value * 10 + (text_[pos_++] - '0');
        ++digits;
      }
      if (digits == 0)
        corrupt(fmt::format("expected a dimension at header byte {}", pos_));
      if (pos_ < text_.size() && text_[pos_] == 'L') // Python 2 long
        ++pos_;
      shape.push_back(value);
      if (shape.size() > static_cast<std::size_t>(kMaxRank))
        corrupt(fmt::format("more than {} dimensions", kMaxRank));
      trailingComma = false;
      if (!peek(')')) {
        expect(',');
        trailingComma = true;
      }
    }
    // (3) is the number 3 in Python, not a tuple: NumPy refuses it.
    if (shape.size() == 1 && !trailingComma)
      corrupt(fmt::format("'shape' is ({}), a number, not a tuple: a "
                          "one-dimensional shape is written ({},)",
                          shape[0], shape[0]));
    expect(')');
    return shape;
  }

  void parseDescr(const std::string &descr, Header &header) {
    if (descr.size() < 2)
      corrupt(fmt::format("unknown descr '{}'", escaped(descr)));
    char order = descr[0];
    std::string_view code = std::string_view(descr).substr(1);
    if (order != '<' && order != '>' && order != '|' && order != '=')
      corrupt(fmt::format("unknown byte order in descr '{}'", escaped(descr)));
    header.bigEndian = order == '>' || (order == '=' && std::endian::native ==
                                                            std::endian::big);
    static const std::pair<std::string_view, DType> kCodes[] = {
        {"b1", kBool},    {"i1", kInt8},   {"u1", kUInt8},   {"i2", kInt16},
        {"i4", kInt32},   {"i8", kInt64},  {"f2", kFloat16}, {"V2", kBFloat16},
        {"f4", kFloat32}, {"f8", kFloat64}};
    for (auto [c, dtype] : kCodes)
      if (c == code) {
        header.dtype = dtype;
        return;
      }
    fail<DTypeError>(where_, "loadNpy",
                     "Trueno reads bool, int8/16/32/64, uint8, float16/32/64 "
                     "and bfloat16 ('<V2'); convert the array in NumPy first",
                     "{}: unsupported element type '{}'", name_,
                     escaped(descr));
  }

  std::string_view text_;
  const std::string &name_;
  SourceLoc where_;
  std::size_t pos_ = 0;
};

std::uint32_t readLittle(const std::uint8_t *p, int bytes) {
  std::uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

} // namespace

namespace {

/// NumPy's own reader refuses headers over 10,000 bytes; this bound only
/// keeps a hostile length from allocating: a header of any real array fits.
constexpr std::size_t kMaxHeaderBytes = 1 << 20;
/// The longest preamble: magic, version, 4-byte header length.
constexpr std::size_t kMaxPreambleBytes = kMagicSize + 2 + 4;

/// Where the header dict lies in a file of `fileSize` bytes whose first
/// bytes are `start` (all of them, or the first kMaxPreambleBytes).
struct Preamble {
  std::size_t headerOffset;
  std::size_t headerLength;
};

Preamble readPreamble(std::span<const std::uint8_t> start,
                      std::uint64_t fileSize, const std::string &name,
                      SourceLoc where) {
  if (start.size() < kMagicSize + 4 ||
      std::memcmp(start.data(), kMagic, kMagicSize) != 0)
    corruptFile(name, where, "missing the .npy magic string (\\x93NUMPY)");
  int major = start[6], minor = start[7];
  if (major < 1 || major > 3 || minor != 0)
    corruptFile(name, where,
                fmt::format("unsupported format version {}.{} (NumPy writes "
                            "1.0, 2.0 and 3.0)",
                            major, minor));
  int lengthBytes = major == 1 ? 2 : 4;
  std::size_t prefix = kMagicSize + 2 + lengthBytes;
  if (start.size() < prefix)
    corruptFile(name, where, "truncated before the header length");
  std::size_t headerLength = readLittle(start.data() + 8, lengthBytes);
  if (headerLength > fileSize - prefix)
    corruptFile(name, where,
                fmt::format("the header claims {} bytes but the file has {}",
                            headerLength, fileSize - prefix));
  if (headerLength > kMaxHeaderBytes)
    corruptFile(name, where,
                fmt::format("the header claims {} bytes, more than any "
                            "array's header needs ({} at most)",
                            headerLength, kMaxHeaderBytes));
  return {prefix, headerLength};
}

/// The parsed header and where its elements start, checked against the
/// file's size: a tensor is allocated only for data the file holds.
struct Layout {
  Header header;
  std::uint64_t dataOffset;
  std::int64_t numel;
};

Layout readLayout(const Preamble &preamble, std::string_view text,
                  std::uint64_t fileSize, const std::string &name,
                  SourceLoc where) {
  Header header = HeaderParser(text, name, where).parse();
  // Like NumPy, zero sizes do not excuse the others from fitting.
  std::size_t itemBytes = itemSize(header.dtype);
  std::int64_t numel = 1, nonzeroBytes = static_cast<std::int64_t>(itemBytes);
  for (std::int64_t s : header.shape) {
    if (s != 0 && __builtin_mul_overflow(nonzeroBytes, s, &nonzeroBytes))
      corruptFile(name, where,
                  fmt::format("shape {} overflows", formatShape(header.shape)));
    numel *= s; // cannot overflow: the nonzero product fits
  }
  std::uint64_t dataOffset = preamble.headerOffset + preamble.headerLength;
  std::uint64_t available = fileSize - dataOffset;
  if (static_cast<std::uint64_t>(numel) > available / itemBytes)
    corruptFile(name, where,
                fmt::format("truncated: shape {} of {} needs {} data bytes, "
                            "the file has {}",
                            formatShape(header.shape), dtypeName(header.dtype),
                            static_cast<std::uint64_t>(numel) * itemBytes,
                            available));
  return {std::move(header), dataOffset, numel};
}

/// A tensor to read the elements into, in the order they are stored
/// (Fortran order is C order of the reversed shape).
Tensor storedTensor(const Header &header) {
  Shape stored = header.shape;
  if (header.fortranOrder)
    std::reverse(stored.begin(), stored.end());
  return detail::makeContiguous(header.dtype, stored, Device::cpu());
}

std::uint8_t *bytesOf(const Tensor &stored) {
  return reinterpret_cast<std::uint8_t *>(stored.impl()->mutableFirstElement());
}

/// The loaded tensor from `stored`, whose bytes are the file's elements:
/// byte order fixed, bools normalized, Fortran order transposed back.
Tensor finish(Tensor stored, const Layout &layout) {
  const Header &header = layout.header;
  std::size_t itemBytes = itemSize(header.dtype);
  std::uint8_t *out = bytesOf(stored);
  if (header.bigEndian && itemBytes > 1)
    for (std::int64_t i = 0; i < layout.numel; ++i)
      std::reverse(out + i * itemBytes, out + (i + 1) * itemBytes);
  if (header.dtype == kBool) // any nonzero byte is true, as in NumPy
    for (std::int64_t i = 0; i < layout.numel; ++i)
      out[i] = out[i] != 0;
  return header.fortranOrder ? stored.T().contiguous() : stored;
}

/// Reads exactly `size` bytes at `offset`; false on an error or end of file.
} // namespace

Tensor decodeNpy(std::span<const std::uint8_t> bytes, const std::string &name,
                 SourceLoc where) {
  Preamble preamble = readPreamble(bytes, bytes.size(), name, where);
  std::string_view text(reinterpret_cast<const char *>(bytes.data()) +
                            preamble.headerOffset,
                        preamble.headerLength);
  Layout layout = readLayout(preamble, text, bytes.size(), name, where);
  Tensor stored = storedTensor(layout.header);
  std::memcpy(bytesOf(stored), bytes.data() + layout.dataOffset,
              layout.numel * itemSize(layout.header.dtype));
  return finish(std::move(stored), layout);
}

std::vector<std::uint8_t> encodeNpy(const Tensor &tensor, SourceLoc where) {
  const TensorImpl &impl = detail::implOf(tensor, "saveNpy", where);
  std::string dict =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                  descrFor(impl.dtype), formatShape(impl.shape));
  // Pad with spaces so that the data starts on a 64-byte boundary.
  std::size_t lengthBytes = dict.size() + 64 < 65535 ? 2 : 4;
  std::size_t prefix = kMagicSize + 2 + lengthBytes;
  std::size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict.push_back('\n');

  std::vector<std::uint8_t> bytes(kMagic, kMagic + kMagicSize);
  bytes.push_back(lengthBytes == 2 ? 1 : 2);
  bytes.push_back(0);
  for (std::size_t i = 0; i < lengthBytes; ++i)
    bytes.push_back(static_cast<std::uint8_t>(dict.size() >> (8 * i)));
  bytes.insert(bytes.end(), dict.begin(), dict.end());
  std::size_t dataStart = bytes.size();
  bytes.resize(dataStart + impl.numel() * itemSize(impl.dtype));
  tensor.copyTo(bytes.data() + dataStart, impl.dtype);
  if constexpr (std::endian::native == std::endian::big) {
    std::size_t w = itemSize(impl.dtype);
    for (std::size_t i = dataStart; w > 1 && i < bytes.size(); i += w)
      std::reverse(bytes.begin() + i, bytes.begin() + i + w);
  }
  return bytes;
}

void saveNpy(const std::string &path, const Tensor &tensor, SourceLoc where) {
  std::vector<std::uint8_t> bytes = encodeNpy(tensor, where);
  // A failure or a crash midway leaves the old file (or none), never half
  // of the new one.
  if (int error = detail::writeFileAtomically(path, bytes))
    fail<IOError>(where, "saveNpy",
                  "check that the directory exists and is writable, and "
                  "free space",
                  "writing '{}' failed: {}", path, std::strerror(error));
}

Tensor loadNpy(const std::string &path, SourceLoc where) {
  // Only regular files: /dev/zero or a pipe would be read without end.
  // O_NONBLOCK keeps a pipe swapped in after the check from blocking the
  // open; fstat checks the file that was opened.
  std::error_code ec;
  std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(status))
    fail<IOError>(where, "loadNpy", "", "'{}' is a directory, not a file",
                  path);
  detail::FileDescriptor file(
      ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  int fd = file.fd;
  if (fd < 0)
    fail<IOError>(where, "loadNpy", "", "cannot open '{}': {}", path,
                  std::strerror(errno));
  struct stat info;
  if (::fstat(fd, &info) != 0)
    fail<IOError>(where, "loadNpy", "", "cannot read '{}': {}", path,
                  std::strerror(errno));
  if (!S_ISREG(info.st_mode))
    fail<IOError>(where, "loadNpy", "load .npy data from a regular file",
                  "'{}' is not a regular file (a device, pipe or socket)",
                  path);
  auto fileSize = static_cast<std::uint64_t>(info.st_size);
  auto readFailed = [&] {
    fail<IOError>(where, "loadNpy", "", "reading '{}' failed: {}", path,
                  errno ? std::strerror(errno) : "the file shrank");
  };
  // Each read is bounded by what the bytes before it justify: the preamble,
  // then the header it gives the length of, then the elements the header
  // describes, checked against the file's size first.
  std::uint8_t start[kMaxPreambleBytes];
  std::size_t startBytes = std::min<std::uint64_t>(fileSize, sizeof(start));
  errno = 0;
  if (!detail::readAt(fd, 0, start, startBytes))
    readFailed();
  Preamble preamble = readPreamble({start, startBytes}, fileSize, path, where);
  std::string text(preamble.headerLength, '\0');
  if (!detail::readAt(fd, preamble.headerOffset,
                      reinterpret_cast<std::uint8_t *>(text.data()),
                      text.size()))
    readFailed();
  Layout layout = readLayout(preamble, text, fileSize, path, where);
  Tensor stored = storedTensor(layout.header);
  if (!detail::readAt(fd, layout.dataOffset, bytesOf(stored),
                      layout.numel * itemSize(layout.header.dtype)))
    readFailed();
  return finish(std::move(stored), layout);
}

} // namespace trueno
