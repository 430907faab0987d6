//===- Npy.cpp - Reading and writing NumPy .npy files ---------------------===//
//
// The format (numpy/lib/format.py): the magic "\x93NUMPY", a version byte
// pair, a little-endian header length (2 bytes in 1.0, 4 in 2.0 and 3.0),
// then a Python dict literal with 'descr', 'fortran_order' and 'shape', and
// the raw elements. The reader trusts nothing: every length is checked
// against the bytes present before it is used, and the dict is parsed by a
// small tokenizer rather than searched for substrings.
//
//===----------------------------------------------------------------------===//
#include "trueno/Core/Check.h"
#include "tensor/Dispatch.h"
#include "tensor/TensorImpl.h"

#include "trueno/Npy.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

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
        corrupt(fmt::format("unexpected key '{}' in the header", key));
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
    fail<IOError>(where_, "loadNpy", "the file is not a valid .npy file",
                  "{}: {}", name_, what);
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
    expect('(');
    while (!peek(')')) {
      skipSpace();
      std::int64_t value = 0;
      std::size_t digits = 0;
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
      if (!peek(')'))
        expect(',');
    }
    expect(')');
    return shape;
  }

  void parseDescr(const std::string &descr, Header &header) {
    if (descr.size() < 2)
      corrupt(fmt::format("unknown descr '{}'", descr));
    char order = descr[0];
    std::string_view code = std::string_view(descr).substr(1);
    if (order != '<' && order != '>' && order != '|' && order != '=')
      corrupt(fmt::format("unknown byte order in descr '{}'", descr));
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
                     "{}: unsupported element type '{}'", name_, descr);
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

Tensor decodeNpy(std::span<const std::uint8_t> bytes, const std::string &name,
                 SourceLoc where) {
  auto corrupt = [&](const std::string &what) {
    fail<IOError>(where, "loadNpy", "the file is not a valid .npy file",
                  "{}: {}", name, what);
  };
  if (bytes.size() < kMagicSize + 4 ||
      std::memcmp(bytes.data(), kMagic, kMagicSize) != 0)
    corrupt("missing the .npy magic string (\\x93NUMPY)");
  int major = bytes[6];
  if (major < 1 || major > 3)
    corrupt(fmt::format("unsupported format version {}.{}", major, bytes[7]));
  int lengthBytes = major == 1 ? 2 : 4;
  std::size_t prefix = kMagicSize + 2 + lengthBytes;
  if (bytes.size() < prefix)
    corrupt("truncated before the header length");
  std::size_t headerLength = readLittle(bytes.data() + 8, lengthBytes);
  if (headerLength > bytes.size() - prefix)
    corrupt(fmt::format("the header claims {} bytes but the file has {}",
                        headerLength, bytes.size() - prefix));
  std::string_view text(reinterpret_cast<const char *>(bytes.data()) + prefix,
                        headerLength);
  Header header = HeaderParser(text, name, where).parse();

  // Like NumPy, zero sizes do not excuse the others from fitting.
  std::size_t itemBytes = itemSize(header.dtype);
  std::int64_t numel = 1, nonzeroBytes = static_cast<std::int64_t>(itemBytes);
  for (std::int64_t s : header.shape) {
    if (s != 0 && __builtin_mul_overflow(nonzeroBytes, s, &nonzeroBytes))
      corrupt(fmt::format("shape {} overflows", formatShape(header.shape)));
    numel *= s; // cannot overflow: the nonzero product fits
  }
  std::size_t available = bytes.size() - prefix - headerLength;
  if (static_cast<std::uint64_t>(numel) > available / itemBytes)
    corrupt(fmt::format("truncated: shape {} of {} needs {} data bytes, the "
                        "file has {}",
                        formatShape(header.shape), dtypeName(header.dtype),
                        static_cast<std::uint64_t>(numel) * itemBytes,
                        available));

  // Fortran order is C order of the reversed shape, transposed back.
  Shape stored = header.shape;
  if (header.fortranOrder)
    std::reverse(stored.begin(), stored.end());
  Tensor result = detail::makeContiguous(header.dtype, stored, Device::cpu());
  auto *out =
      reinterpret_cast<std::uint8_t *>(result.impl()->mutableFirstElement());
  const std::uint8_t *data = bytes.data() + prefix + headerLength;
  std::memcpy(out, data, numel * itemBytes);
  if (header.bigEndian && itemBytes > 1)
    for (std::int64_t i = 0; i < numel; ++i)
      std::reverse(out + i * itemBytes, out + (i + 1) * itemBytes);
  if (header.dtype == kBool) // any nonzero byte is true, as in NumPy
    for (std::int64_t i = 0; i < numel; ++i)
      out[i] = out[i] != 0;
  return header.fortranOrder ? result.T().contiguous() : result;
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
  std::FILE *file = std::fopen(path.c_str(), "wb");
  if (!file)
    fail<IOError>(where, "saveNpy",
                  "check that the directory exists and is "
                  "writable",
                  "cannot open '{}' for writing: {}", path,
                  std::strerror(errno));
  bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  ok = std::fclose(file) == 0 && ok;
  if (!ok)
    fail<IOError>(where, "saveNpy", "check free space",
                  "writing '{}' failed: {}", path, std::strerror(errno));
}

Tensor loadNpy(const std::string &path, SourceLoc where) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    fail<IOError>(where, "loadNpy", "", "'{}' is a directory, not a file",
                  path);
  std::FILE *file = std::fopen(path.c_str(), "rb");
  if (!file)
    fail<IOError>(where, "loadNpy", "", "cannot open '{}': {}", path,
                  std::strerror(errno));
  std::vector<std::uint8_t> bytes;
  std::uint8_t chunk[1 << 16];
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof(chunk), file)) > 0)
    bytes.insert(bytes.end(), chunk, chunk + n);
  bool failed = std::ferror(file);
  std::fclose(file);
  if (failed)
    fail<IOError>(where, "loadNpy", "", "reading '{}' failed", path);
  return decodeNpy(bytes, path, where);
}

} // namespace trueno
