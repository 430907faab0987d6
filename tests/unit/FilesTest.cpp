//===- FilesTest.cpp - Bounded reads and atomic writes --------------------===//
//
// The file primitives under .npy files, checkpoints and logs: readAt reads
// exactly the bytes asked for or reports failure (end of file, a bad
// descriptor), and writeFileAtomically either replaces the file whole or
// leaves the old one and no temporary file, returning the failed step's
// errno (no directory, a full disk, a directory in the way).
//
//===----------------------------------------------------------------------===//
#include "trueno/Files.h"
#include "TestUtil.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;
using namespace trueno::detail;
using trueno::testing::FileSizeLimit;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() /
                  ("trueno-files-test-" + std::to_string(::getpid()));
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string contentsOf(const fs::path &file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// The names in `dir`, to see that no temporary file is left.
std::vector<std::string> namesIn(const fs::path &dir) {
  std::vector<std::string> names;
  for (const fs::directory_entry &e : fs::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

int writeText(const fs::path &file, const std::string &text) {
  return writeFileAtomically(
      file.string(),
      {reinterpret_cast<const std::uint8_t *>(text.data()), text.size()});
}

} // namespace

TEST_CASE("readAt reads exactly the bytes asked for, or fails") {
  TempDir dir;
  fs::path file = dir.path / "data";
  std::ofstream(file, std::ios::binary) << "0123456789";
  FileDescriptor in{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
  REQUIRE(in.fd >= 0);
  char bytes[16] = {};
  CHECK(readAt(in.fd, 3, bytes, 4));
  CHECK(std::string(bytes, 4) == "3456");
  CHECK(readAt(in.fd, 10, bytes, 0)); // nothing asked, nothing read
  // Past the end: the bytes that are there do not make a success.
  CHECK(!readAt(in.fd, 8, bytes, 4));
  CHECK(!readAt(in.fd, 100, bytes, 1));
  errno = 0;
  bool read = readAt(-1, 0, bytes, 1);
  int error = errno; // before CHECK, which may set errno
  CHECK(!read);
  CHECK(error == EBADF);
}

TEST_CASE("FileDescriptor closes its descriptor, and only a real one") {
  TempDir dir;
  int fd = ::open(dir.path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  { FileDescriptor owner{fd}; }
  errno = 0;
  int flags = ::fcntl(fd, F_GETFD);
  int error = errno;
  CHECK(flags == -1);
  CHECK(error == EBADF);
  FileDescriptor none; // -1: nothing to close
  CHECK(none.fd == -1);
}

TEST_CASE("writeFileAtomically replaces a file whole") {
  TempDir dir;
  fs::path file = dir.path / "out.bin";
  CHECK(writeText(file, "first") == 0);
  CHECK(writeText(file, "second version") == 0);
  CHECK(contentsOf(file) == "second version");
  CHECK(writeText(file, "") == 0); // an empty file is written too
  CHECK(fs::exists(file));
  CHECK(fs::file_size(file) == 0);
  CHECK(namesIn(dir.path) == std::vector<std::string>{"out.bin"});
}

TEST_CASE("a write that fails at any step returns its errno and leaves the "
          "old file and no temporary file") {
  TempDir dir;
  // No directory to create the temporary file in.
  CHECK(writeText(dir.path / "missing" / "out.bin", "x") == ENOENT);
  CHECK(namesIn(dir.path).empty());

  // The disk fills up midway.
  fs::path file = dir.path / "out.bin";
  REQUIRE(writeText(file, "old contents") == 0);
  {
    FileSizeLimit limit(4);
    CHECK(writeText(file, "new contents, longer than 4 bytes") == EFBIG);
  }
  CHECK(contentsOf(file) == "old contents");
  CHECK(namesIn(dir.path) == std::vector<std::string>{"out.bin"});

  // A non-empty directory where the file goes: the rename fails.
  fs::path blocked = dir.path / "blocked";
  fs::create_directories(blocked / "inside");
  CHECK(writeText(blocked, "x") == EISDIR);
  CHECK(fs::is_directory(blocked / "inside"));
  CHECK(namesIn(dir.path) == std::vector<std::string>{"blocked", "out.bin"});
}
