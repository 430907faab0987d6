//===- Safetensors.cpp - The safetensors format, read with every check ----===//
//
// Layout (huggingface/safetensors): u64 little-endian N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [b, e]}, ...,
// "__metadata__": {"k": "v"}}, then the byte buffer; offsets are relative
// to the buffer and the tensors tile it exactly. The JSON parser below
// accepts the JSON grammar with a depth limit (a hostile header cannot
// recurse deeply) and rejects duplicate keys.
//
//===----------------------------------------------------------------------===//

#include "trueno/io/Checkpoint.h"

#include "ReadWholeFile.h"
#include "trueno/Fail.h"
#include "trueno/Files.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_set>
#include <variant>

namespace trueno::io {

using detail::fail;

namespace {

/// Header lengths past this are refused (safetensors' own limit is 100 MB).
constexpr std::uint64_t kMaxHeader = 100'000'000;
/// The longest array a header has (a shape of kMaxRank sizes, two data
/// offsets). Refusing longer ones keeps a hostile header of tiny elements
/// ("[0,0,0,...]", 2 bytes each, ~60 bytes parsed) from costing 30 times its
/// length in memory.
constexpr std::size_t kMaxArray = 64;

struct Json;
using JsonObject = std::vector<std::pair<std::string, Json>>;
using JsonArray = std::vector<Json>;
struct Json {
  std::variant<std::nullptr_t, bool, double, std::string, JsonArray, JsonObject>
      value;
  /// For numbers: the literal was a non-negative integer below 2^63.
  bool isCount = false;
  std::uint64_t count = 0;
};

class JsonParser {
public:
  JsonParser(std::string_view text, const std::string &name, SourceLoc where)
      : text_(text), name_(name), where_(where) {}

  Json parseDocument() {
    Json j = parse(0);
    skipSpace();
    if (pos_ != text_.size())
      error("trailing characters after the JSON object");
    return j;
  }

  [[noreturn]] void error(const std::string &what) const {
    fail<IOError>(where_, "loadSafetensors", "is it a safetensors file?",
                  "{}: bad header at byte {}: {}", name_, pos_ + 8, what);
  }

private:
  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool take(char c) {
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!take(c))
      error(fmt::format("expected '{}'", c));
  }

  Json parse(int depth) {
    if (depth > 8)
      error("nested too deeply");
    skipSpace();
    if (pos_ >= text_.size())
      error("unexpected end");
    char c = text_[pos_];
    Json j;
    if (c == '{') {
      ++pos_;
      JsonObject object;
      // A set, not a scan of the keys so far: a header of a million keys
      // must not take a million squared comparisons.
      std::unordered_set<std::string> keys;
      if (!take('}')) {
        do {
          skipSpace();
          std::string key = parseString();
          if (!keys.insert(key).second)
            error(fmt::format("duplicate key \"{}\"", key));
          expect(':');
          object.emplace_back(std::move(key), parse(depth + 1));
        } while (take(','));
        expect('}');
      }
      j.value = std::move(object);
    } else if (c == '[') {
      ++pos_;
      JsonArray array;
      if (!take(']')) {
        do {
          if (array.size() == kMaxArray)
            error(fmt::format("an array of more than {} elements", kMaxArray));
          array.push_back(parse(depth + 1));
        } while (take(','));
        expect(']');
      }
      j.value = std::move(array);
    } else if (c == '"') {
      j.value = parseString();
    } else if (text_.substr(pos_, 4) == "true") {
      pos_ += 4;
      j.value = true;
    } else if (text_.substr(pos_, 5) == "false") {
      pos_ += 5;
      j.value = false;
    } else if (text_.substr(pos_, 4) == "null") {
      pos_ += 4;
      j.value = nullptr;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      std::size_t start = pos_;
      bool integer = c != '-';
      ++pos_;
      while (pos_ < text_.size() &&
             std::strchr("0123456789.eE+-", text_[pos_]) != nullptr) {
        if (!(text_[pos_] >= '0' && text_[pos_] <= '9'))
          integer = false;
        ++pos_;
      }
      std::string literal(text_.substr(start, pos_ - start));
      char *end = nullptr;
      errno = 0;
      double v = std::strtod(literal.c_str(), &end);
      if (end != literal.c_str() + literal.size())
        error("a malformed number");
      j.value = v;
      if (integer && literal.size() <= 19) {
        std::uint64_t n = 0;
        for (char d : literal)
          n = n * 10 + static_cast<std::uint64_t>(d - '0');
        if (n < (std::uint64_t(1) << 63)) {
          j.isCount = true;
          j.count = n;
        }
      }
    } else {
      error(fmt::format("unexpected character '{}'", c));
    }
    return j;
  }

  std::string parseString() {
    if (pos_ >= text_.size() || text_[pos_] != '"')
      error("expected a string");
    ++pos_;
    std::string out;
    while (true) {
      if (pos_ >= text_.size())
        error("an unterminated string");
      char c = text_[pos_++];
      if (c == '"')
        return out;
      if (static_cast<unsigned char>(c) < 0x20)
        error("a control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size())
        error("an unterminated escape");
      char e = text_[pos_++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out += e;
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        if (pos_ + 4 > text_.size())
          error("a short \\u escape");
        unsigned code = 0;
        for (int i = 0; i < 4; ++i) {
          char h = text_[pos_++];
          code <<= 4;
          if (h >= '0' && h <= '9')
            code |= static_cast<unsigned>(h - '0');
          else if (h >= 'a' && h <= 'f')
            code |= static_cast<unsigned>(h - 'a' + 10);
          else if (h >= 'A' && h <= 'F')
            code |= static_cast<unsigned>(h - 'A' + 10);
          else
            error("a bad \\u escape");
        }
        // UTF-8 of the code unit (surrogates kept as they are: names only
        // need to round-trip).
        if (code < 0x80) {
          out += static_cast<char>(code);
        } else if (code < 0x800) {
          out += static_cast<char>(0xC0 | (code >> 6));
          out += static_cast<char>(0x80 | (code & 0x3F));
        } else {
          out += static_cast<char>(0xE0 | (code >> 12));
          out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (code & 0x3F));
        }
        break;
      }
      default:
        error(fmt::format("a bad escape '\\{}'", e));
      }
    }
  }

  std::string_view text_;
  const std::string &name_;
  SourceLoc where_;
  std::size_t pos_ = 0;
};

struct DTypeCode {
  const char *code;
  DType dtype;
};
constexpr DTypeCode kCodes[] = {
    {"BOOL", DType::Bool},   {"I8", DType::Int8},       {"I16", DType::Int16},
    {"I32", DType::Int32},   {"I64", DType::Int64},     {"U8", DType::UInt8},
    {"F16", DType::Float16}, {"BF16", DType::BFloat16}, {"F32", DType::Float32},
    {"F64", DType::Float64}};

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

} // namespace

std::vector<std::uint8_t> encodeSafetensors(const TensorMap &tensors,
                                            const Metadata &metadata,
                                            SourceLoc where) {
  std::string header = "{";
  std::uint64_t offset = 0;
  std::vector<Tensor> ordered;
  for (const auto &[name, t] : tensors) {
    if (!t.defined())
      fail<ValueError>(where, "saveSafetensors", "",
                       "tensor \"{}\" is undefined", name);
    if (name == "__metadata__")
      fail<ValueError>(where, "saveSafetensors", "",
                       "\"__metadata__\" cannot name a tensor");
    const char *code = nullptr;
    for (const auto &c : kCodes)
      if (c.dtype == t.dtype())
        code = c.code;
    std::uint64_t bytes = static_cast<std::uint64_t>(t.numel()) * t.itemSize();
    if (header.size() > 1)
      header += ",";
    header += fmt::format("{}:{{\"dtype\":\"{}\",\"shape\":[{}],"
                          "\"data_offsets\":[{},{}]}}",
                          jsonString(name), code, fmt::join(t.shape(), ","),
                          offset, offset + bytes);
    offset += bytes;
    ordered.push_back(t);
  }
  if (!metadata.empty()) {
    if (header.size() > 1)
      header += ",";
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto &[k, v] : metadata) {
      header += (first ? "" : ",") + jsonString(k) + ":" + jsonString(v);
      first = false;
    }
    header += "}";
  }
  header += "}";
  // Padded with spaces so that the buffer starts 8-byte aligned.
  while (header.size() % 8)
    header += ' ';
  std::vector<std::uint8_t> out(8 + header.size() + offset);
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(n >> (8 * i));
  std::memcpy(out.data() + 8, header.data(), header.size());
  std::uint8_t *data = out.data() + 8 + header.size();
  for (const Tensor &t : ordered) {
    t.copyTo(data, t.dtype());
    std::size_t bytes = static_cast<std::size_t>(t.numel()) * t.itemSize();
    if constexpr (std::endian::native != std::endian::little)
      for (std::size_t i = 0; i < bytes; i += t.itemSize())
        std::reverse(data + i, data + i + t.itemSize());
    data += bytes;
  }
  return out;
}

Safetensors decodeSafetensors(std::span<const std::uint8_t> bytes,
                              const std::string &name, SourceLoc where) {
  auto bad = [&](const std::string &what) {
    fail<IOError>(where, "loadSafetensors", "is it a safetensors file?",
                  "{}: {}", name, what);
  };
  if (bytes.size() < 8)
    bad(fmt::format("{} bytes, too short for the header length", bytes.size()));
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | bytes[static_cast<std::size_t>(i)];
  if (n > kMaxHeader || n > bytes.size() - 8)
    bad(fmt::format("the header length {} exceeds the file ({} bytes) or "
                    "the 100 MB limit",
                    n, bytes.size()));
  std::string_view text(reinterpret_cast<const char *>(bytes.data() + 8), n);
  JsonParser parser(text, name, where);
  Json root = parser.parseDocument();
  auto *object = std::get_if<JsonObject>(&root.value);
  if (!object)
    bad("the header is not a JSON object");
  std::span<const std::uint8_t> buffer = bytes.subspan(8 + n);
  Safetensors out;
  struct Range {
    std::uint64_t begin, end;
    std::string name;
  };
  std::vector<Range> ranges;
  for (const auto &[key, value] : *object) {
    if (key == "__metadata__") {
      auto *meta = std::get_if<JsonObject>(&value.value);
      if (!meta)
        bad("__metadata__ is not an object");
      for (const auto &[k, v] : *meta) {
        auto *s = std::get_if<std::string>(&v.value);
        if (!s)
          bad(fmt::format("metadata \"{}\" is not a string", k));
        out.metadata.emplace(k, *s);
      }
      continue;
    }
    auto *entry = std::get_if<JsonObject>(&value.value);
    if (!entry)
      bad(fmt::format("\"{}\" is not an object", key));
    const Json *dtypeField = nullptr, *shapeField = nullptr,
               *offsetsField = nullptr;
    for (const auto &[k, v] : *entry) {
      if (k == "dtype")
        dtypeField = &v;
      else if (k == "shape")
        shapeField = &v;
      else if (k == "data_offsets")
        offsetsField = &v;
      else
        bad(fmt::format("\"{}\" has an unknown field \"{}\"", key, k));
    }
    if (!dtypeField || !shapeField || !offsetsField)
      bad(fmt::format("\"{}\" lacks dtype, shape or data_offsets", key));
    auto *code = std::get_if<std::string>(&dtypeField->value);
    std::optional<DType> dtype;
    for (const auto &c : kCodes)
      if (code && *code == c.code)
        dtype = c.dtype;
    if (!dtype)
      bad(fmt::format("\"{}\" has an unsupported dtype {}", key,
                      code ? *code : "(not a string)"));
    auto *shapeArray = std::get_if<JsonArray>(&shapeField->value);
    if (!shapeArray || shapeArray->size() > kMaxRank)
      bad(fmt::format("\"{}\" has a bad shape (a list of at most {} sizes)",
                      key, kMaxRank));
    Shape shape;
    std::uint64_t elements = 1;
    for (const Json &s : *shapeArray) {
      if (!s.isCount || s.count > (std::uint64_t(1) << 40))
        bad(fmt::format("\"{}\" has a bad size in its shape", key));
      shape.push_back(static_cast<std::int64_t>(s.count));
      // Each size < 2^41 and the product compared to the buffer at each
      // step: no overflow.
      elements *= s.count;
      if (elements > buffer.size())
        elements = buffer.size() + 1;
    }
    auto *offsets = std::get_if<JsonArray>(&offsetsField->value);
    if (!offsets || offsets->size() != 2 || !(*offsets)[0].isCount ||
        !(*offsets)[1].isCount)
      bad(fmt::format("\"{}\" has bad data_offsets", key));
    std::uint64_t begin = (*offsets)[0].count, end = (*offsets)[1].count;
    std::uint64_t size =
        elements * static_cast<std::uint64_t>(itemSize(*dtype));
    if (begin > end || end > buffer.size() || end - begin != size)
      bad(fmt::format("\"{}\": data_offsets [{}, {}] do not fit its {} bytes "
                      "in a buffer of {}",
                      key, begin, end, size, buffer.size()));
    ranges.push_back({begin, end, key});
    Tensor t = empty(shape, *dtype, where);
    if (size > 0) {
      auto *dst = static_cast<std::uint8_t *>(t.rawData(*dtype));
      std::memcpy(dst, buffer.data() + begin, size);
      if constexpr (std::endian::native != std::endian::little)
        for (std::uint64_t i = 0; i < size; i += itemSize(*dtype))
          std::reverse(dst + i, dst + i + itemSize(*dtype));
    }
    if (*dtype == DType::Bool) { // only 0 and 1 are bools
      const auto *p = static_cast<const std::uint8_t *>(t.rawData(*dtype));
      for (std::uint64_t i = 0; i < size; ++i)
        if (p[i] > 1)
          bad(fmt::format("\"{}\" is BOOL but holds the byte {}", key, p[i]));
    }
    out.tensors.emplace(key, t);
  }
  // The tensors tile the buffer: no overlap, no gap, nothing after.
  std::sort(ranges.begin(), ranges.end(), [](const Range &a, const Range &b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t at = 0;
  for (const Range &r : ranges) {
    if (r.begin != at)
      bad(fmt::format("\"{}\" starts at byte {} of the buffer, where {} "
                      "(overlapping or leaving a gap)",
                      r.name, r.begin, at));
    at = r.end;
  }
  if (at != buffer.size())
    bad(fmt::format("{} bytes after the last tensor", buffer.size() - at));
  return out;
}

void saveSafetensors(const std::string &path, const TensorMap &tensors,
                     const Metadata &metadata, SourceLoc where) {
  std::vector<std::uint8_t> bytes = encodeSafetensors(tensors, metadata, where);
  if (int error = detail::writeFileAtomically(path, bytes))
    fail<IOError>(where, "saveSafetensors", "", "cannot write {}: {}", path,
                  std::strerror(error));
}

/// The whole file, bounded by its size (read once, checked after).
std::vector<std::uint8_t> readWholeFile(const std::string &path, const char *op,
                                        SourceLoc where) {
  detail::FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0)
    fail<IOError>(where, op, "", "cannot open {}: {}", path,
                  std::strerror(errno));
  struct stat info {};
  if (::fstat(fd.fd, &info) != 0 || !S_ISREG(info.st_mode))
    fail<IOError>(where, op, "", "{} is not a regular file", path);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(info.st_size));
  if (!detail::readAt(fd.fd, 0, bytes.data(), bytes.size()))
    fail<IOError>(where, op, "", "cannot read {}: {}", path,
                  errno ? std::strerror(errno) : "it shrank while read");
  return bytes;
}

Safetensors loadSafetensors(const std::string &path, SourceLoc where) {
  return decodeSafetensors(readWholeFile(path, "loadSafetensors", where), path,
                           where);
}

TensorMap withPrefix(const std::string &prefix, const TensorMap &tensors) {
  TensorMap out;
  for (const auto &[name, t] : tensors)
    out.emplace(prefix + "." + name, t);
  return out;
}

TensorMap underPrefix(const std::string &prefix, const TensorMap &tensors) {
  TensorMap out;
  std::string head = prefix + ".";
  for (const auto &[name, t] : tensors)
    if (name.starts_with(head))
      out.emplace(name.substr(head.size()), t);
  return out;
}

} // namespace trueno::io
