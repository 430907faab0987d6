//===- ReadWholeFile.h - One bounded read of a whole file -----------------===//
#ifndef TRUENO_IO_READWHOLEFILE_H
#define TRUENO_IO_READWHOLEFILE_H

#include <cstdint>
#include <source_location>
#include <string>
#include <vector>

namespace trueno::io {
/// The bytes of the regular file `path` (as many as fstat says); IOError
/// naming `op` if it cannot be opened or read.
std::vector<std::uint8_t> readWholeFile(const std::string &path, const char *op,
                                        std::source_location where);
} // namespace trueno::io

#endif // TRUENO_IO_READWHOLEFILE_H
