//===- Npy.h - NumPy .npy files -------------------------------------------===//
//
// Reads and writes NumPy's .npy format (versions 1.0, 2.0 and 3.0) for every
// Trueno dtype. Reading accepts both byte orders and Fortran order; writing
// produces little-endian C order. bfloat16, which NumPy lacks, is written as
// 2-byte void ('<V2', what NumPy with ml_dtypes writes) and read back as
// bfloat16. A truncated or corrupt file throws IOError and is never read out
// of bounds.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_NPY_H
#define TRUENO_NPY_H

#include "trueno/Tensor.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace trueno {

void saveNpy(const std::string &path, const Tensor &tensor, TRUENO_HERE);
Tensor loadNpy(const std::string &path, TRUENO_HERE);

/// The bytes of a .npy file, and back; `name` is used in error messages.
std::vector<std::uint8_t> encodeNpy(const Tensor &tensor, TRUENO_HERE);
Tensor decodeNpy(std::span<const std::uint8_t> bytes,
                 const std::string &name = "<memory>", TRUENO_HERE);

} // namespace trueno

#endif // TRUENO_NPY_H
