//===- Files.h - Bounded reads and atomic writes of files -------*- C++ -*-===//
//
// The two file primitives every reader and writer of untrusted or valuable
// bytes uses (.npy files, kernel cache entries, checkpoints): a read of
// exactly the bytes a header justifies, and a write that is never seen
// half done.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_CORE_FILES_H
#define TRUENO_CORE_FILES_H

#include <cstdint>
#include <span>
#include <string>

namespace trueno::detail {

/// Reads exactly `size` bytes at `offset` of `fd` into `out` (retrying
/// short reads and EINTR); false at end of file or on an error (errno
/// set).
bool readAt(int fd, std::uint64_t offset, void *out, std::uint64_t size);

/// Writes `bytes` to a temporary file beside `path` (unique to this
/// process and call), fsyncs it and renames it over `path`: a failure or a
/// crash midway leaves the old file (or none), never part of the new one.
/// Returns 0, or the errno of the step that failed (the temporary file is
/// removed then).
int writeFileAtomically(const std::string &path,
                        std::span<const std::uint8_t> bytes);

/// Closes a file descriptor on every path out of a scope.
struct FileDescriptor {
  int fd = -1;
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd(fd) {}
  FileDescriptor(const FileDescriptor &) = delete;
  FileDescriptor &operator=(const FileDescriptor &) = delete;
  ~FileDescriptor();
};

} // namespace trueno::detail

#endif // TRUENO_CORE_FILES_H
