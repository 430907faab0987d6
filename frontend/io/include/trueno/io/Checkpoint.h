//===- Checkpoint.h - safetensors and .npz files of named tensors ---------===//
//
// A checkpoint is named tensors (a model's and an optimizer's stateDict())
// in a safetensors file: an 8-byte little-endian header length, a JSON
// header giving each tensor's dtype, shape and byte range, then the bytes.
// Python reads it with a few lines (tests/e2e/test_checkpoint_vs_python.py)
// or the `safetensors` package; PyTorch's tensors saved that way load here.
//
// Writes are atomic (a temporary file, fsync, rename): a process killed
// mid-save leaves the previous checkpoint whole. Reads check every header
// field against the file before allocating: a corrupt or hostile file is
// an IOError naming the file and the field, never a crash or an oversized
// allocation.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_IO_CHECKPOINT_H
#define TRUENO_IO_CHECKPOINT_H

#include "trueno/Tensor.h"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace trueno::io {

using TensorMap = std::map<std::string, Tensor>;
using Metadata = std::map<std::string, std::string>;

struct Safetensors {
  TensorMap tensors;
  /// The header's "__metadata__": free-form strings.
  Metadata metadata;
};

void saveSafetensors(const std::string &path, const TensorMap &tensors,
                     const Metadata &metadata = {}, TRUENO_HERE);
Safetensors loadSafetensors(const std::string &path, TRUENO_HERE);
/// The same, in memory (`name` is what errors call the bytes).
std::vector<std::uint8_t> encodeSafetensors(const TensorMap &tensors,
                                            const Metadata &metadata = {},
                                            TRUENO_HERE);
Safetensors decodeSafetensors(std::span<const std::uint8_t> bytes,
                              const std::string &name = "<memory>",
                              TRUENO_HERE);

/// NumPy's .npz: a zip of one .npy file per tensor (numpy.savez; stored,
/// uncompressed). loadNpz also reads numpy.savez_compressed's deflated
/// entries. Names get ".npy" appended in the archive, as NumPy does.
void saveNpz(const std::string &path, const TensorMap &tensors, TRUENO_HERE);
TensorMap loadNpz(const std::string &path, TRUENO_HERE);

/// `tensors` with `prefix` + "." before each name (one file holding a
/// model's and an optimizer's state: withPrefix("model", ...)).
TensorMap withPrefix(const std::string &prefix, const TensorMap &tensors);
/// The entries of `tensors` under `prefix` + ".", with the prefix removed.
TensorMap underPrefix(const std::string &prefix, const TensorMap &tensors);

} // namespace trueno::io

#endif // TRUENO_IO_CHECKPOINT_H
