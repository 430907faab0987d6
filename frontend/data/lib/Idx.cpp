//===- Idx.cpp - IDX files (MNIST, Fashion-MNIST), gzip'ed or not ---------===//
//
// The format (LeCun's): two zero bytes, a type code, the rank, one
// big-endian uint32 per dimension, then the elements, big-endian. zlib's
// gzread reads gzip'ed and plain files alike. The element bytes the header
// promises are allocated only when the file can hold them: exactly the
// rest of a plain file, at most 1032 times a gzip'ed file's size (deflate's
// largest ratio), so a hostile header cannot make us allocate terabytes.
//
//===----------------------------------------------------------------------===//

#include "trueno/data/Data.h"

#include "trueno/Fail.h"
#include "trueno/Ops.h"

#include <zlib.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <sys/stat.h>

namespace trueno::data {

using detail::fail;

namespace {

struct GzFile {
  gzFile file = nullptr;
  ~GzFile() {
    if (file)
      gzclose(file);
  }
};

[[noreturn]] void corrupt(const std::string &path, SourceLoc where,
                          const std::string &what) {
  fail<IOError>(where, "readIdx", "is it an IDX file (MNIST's format)?",
                "{}: {}", path, what);
}

} // namespace

Tensor readIdx(const std::string &path, SourceLoc where) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    fail<IOError>(where, "readIdx", "", "cannot open {}: {}", path,
                  std::strerror(errno));
  if (!S_ISREG(info.st_mode))
    fail<IOError>(where, "readIdx", "", "cannot open {}: {}", path,
                  S_ISDIR(info.st_mode) ? "a directory" : "not a regular file");
  GzFile gz;
  gz.file = gzopen(path.c_str(), "rb");
  if (!gz.file)
    fail<IOError>(where, "readIdx", "", "cannot open {}: {}", path,
                  std::strerror(errno));
  gzbuffer(gz.file, 1 << 16);
  bool compressed = !gzdirect(gz.file);
  // A failed read: zlib's error (a bad stream or check value), or none
  // (the data ended; a truncated gzip stream reports Z_BUF_ERROR).
  auto readFailed = [&] {
    int code = 0;
    const char *message = gzerror(gz.file, &code);
    corrupt(path, where,
            code != Z_OK && code != Z_BUF_ERROR
                ? std::string("corrupt compressed data (") + message + ")"
                : "truncated: the header promises more bytes");
  };
  auto readExactly = [&](void *out, std::uint64_t size) {
    auto *p = static_cast<std::uint8_t *>(out);
    while (size > 0) {
      unsigned chunk =
          static_cast<unsigned>(std::min<std::uint64_t>(size, 1u << 30));
      int got = gzread(gz.file, p, chunk);
      if (got <= 0)
        readFailed();
      p += got;
      size -= static_cast<std::uint64_t>(got);
    }
  };
  std::uint8_t magic[4];
  readExactly(magic, 4);
  if (magic[0] != 0 || magic[1] != 0)
    corrupt(path, where, "the magic number does not start with two zero bytes");
  DType dtype;
  switch (magic[2]) {
  case 0x08:
    dtype = DType::UInt8;
    break;
  case 0x09:
    dtype = DType::Int8;
    break;
  case 0x0B:
    dtype = DType::Int16;
    break;
  case 0x0C:
    dtype = DType::Int32;
    break;
  case 0x0D:
    dtype = DType::Float32;
    break;
  case 0x0E:
    dtype = DType::Float64;
    break;
  default:
    corrupt(path, where,
            fmt::format("unknown element type 0x{:02x}", magic[2]));
  }
  int rank = magic[3];
  if (rank == 0 || rank > kMaxRank)
    corrupt(path, where,
            fmt::format("rank {} (1 to {} supported)", rank, kMaxRank));
  Shape shape;
  std::uint64_t elements = 1;
  for (int d = 0; d < rank; ++d) {
    std::uint8_t b[4];
    readExactly(b, 4);
    std::uint64_t size =
        (std::uint64_t(b[0]) << 24) | (b[1] << 16) | (b[2] << 8) | b[3];
    shape.push_back(static_cast<std::int64_t>(size));
    // At most 2^32 - 1 per dimension, so the product cannot wrap before
    // the comparison below catches it.
    if (size != 0 && elements > (std::uint64_t(1) << 62) / size)
      corrupt(path, where, "the dimensions' product is too large");
    elements *= size;
  }
  std::uint64_t itemBytes = static_cast<std::uint64_t>(itemSize(dtype));
  std::uint64_t payload = elements * itemBytes;
  std::uint64_t header = 4 + 4 * static_cast<std::uint64_t>(rank);
  std::uint64_t fileSize = static_cast<std::uint64_t>(info.st_size);
  if (!compressed && payload + header != fileSize)
    corrupt(path, where,
            fmt::format("the header promises {} bytes of elements, the file "
                        "has {}",
                        payload, fileSize - std::min(fileSize, header)));
  if (compressed && payload > fileSize * 1032 + 1024)
    corrupt(path, where,
            fmt::format("the header promises {} bytes of elements, more than "
                        "a compressed file of {} bytes can hold",
                        payload, fileSize));
  Tensor out = empty(shape, dtype, where);
  auto *bytes = static_cast<std::uint8_t *>(out.rawData(dtype));
  readExactly(bytes, payload);
  // Reading on finds the end, or the gzip trailer's check failing.
  std::uint8_t extra;
  int more = gzread(gz.file, &extra, 1);
  if (more < 0)
    readFailed();
  if (more > 0)
    corrupt(path, where, "there are bytes after the last element");
  if (itemBytes > 1 && std::endian::native == std::endian::little)
    for (std::uint64_t i = 0; i < payload; i += itemBytes)
      std::reverse(bytes + i, bytes + i + itemBytes);
  return out;
}

TensorDataset loadFashionMnist(const std::string &directory, bool train,
                               SourceLoc where) {
  std::string prefix = directory + (train ? "/train" : "/t10k");
  auto find = [&](const std::string &stem) {
    for (const char *suffix : {".gz", ""}) {
      std::string path = prefix + stem + suffix;
      struct stat info {};
      if (::stat(path.c_str(), &info) == 0)
        return path;
    }
    fail<IOError>(where, "loadFashionMnist",
                  "install Debian's dataset-fashion-mnist package "
                  "(apt-get install dataset-fashion-mnist)",
                  "{} not found (nor its .gz)", prefix + stem);
  };
  Tensor images = readIdx(find("-images-idx3-ubyte"), where);
  Tensor labels = readIdx(find("-labels-idx1-ubyte"), where);
  if (images.dim() != 3 || labels.dim() != 1 ||
      images.size(0) != labels.size(0) || images.dtype() != DType::UInt8 ||
      labels.dtype() != DType::UInt8)
    fail<IOError>(where, "loadFashionMnist", "",
                  "{}: expected uint8 images (N, H, W) and N uint8 labels, "
                  "got {} {} and {} {}",
                  directory, dtypeName(images.dtype()),
                  formatShape(images.shape()), dtypeName(labels.dtype()),
                  formatShape(labels.shape()));
  Tensor scaled =
      div(images.to(kFloat32, where), 255.0, where).unsqueeze(1, where);
  return TensorDataset(scaled, labels.to(kInt64, where), where);
}

const std::vector<std::string> &fashionMnistClasses() {
  static const std::vector<std::string> names = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

} // namespace trueno::data
