//===- Random.h - Seeded, reproducible random tensors ---------------------===//
//
// The generator is Philox4x32-10 (Salmon et al., SC'11), the counter-based
// generator PyTorch and JAX use on GPUs. Element i of a request is computed
// from (seed, offset + i / 4) alone, so results do not depend on thread
// count or backend, and a seed reproduces the same numbers on every machine.
// docs/RANDOM.md gives the exact recipe of each distribution (and the one
// caveat: normals call the C library's log/cos/sin).
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RANDOM_H
#define TRUENO_RANDOM_H

#include "trueno/Tensor.h"

#include <array>
#include <cstdint>

namespace trueno {

class Generator {
public:
  explicit Generator(std::uint64_t seed = 0) : seed_(seed) {}

  std::uint64_t seed() const { return seed_; }
  /// Restarts the stream from `seed`.
  void manualSeed(std::uint64_t seed) {
    seed_ = seed;
    offset_ = 0;
  }
  /// Philox blocks consumed so far (each block is four 32-bit words).
  std::uint64_t offset() const { return offset_; }

  /// Block `counter` of this seed's stream; does not advance the stream.
  std::array<std::uint32_t, 4> block(std::uint64_t counter) const;
  /// Reserves `blocks` consecutive blocks and returns the first counter.
  std::uint64_t advance(std::uint64_t blocks) {
    std::uint64_t first = offset_;
    offset_ += blocks;
    return first;
  }

private:
  std::uint64_t seed_;
  std::uint64_t offset_ = 0;
};

/// The generator used when none is passed; seed it with `manualSeed`.
Generator &defaultGenerator();
void manualSeed(std::uint64_t seed);

/// Uniform in [0, 1).
Tensor rand(Shape shape, Generator &gen, TensorOptions options = {},
            TRUENO_HERE);
Tensor rand(Shape shape, TensorOptions options = {}, TRUENO_HERE);
/// Uniform in [low, high).
Tensor uniform(Shape shape, double low, double high, Generator &gen,
               TensorOptions options = {}, TRUENO_HERE);
/// Standard normal (Box-Muller).
Tensor randn(Shape shape, Generator &gen, TensorOptions options = {},
             TRUENO_HERE);
Tensor randn(Shape shape, TensorOptions options = {}, TRUENO_HERE);
/// Normal with the given mean and standard deviation (std >= 0).
Tensor normal(Shape shape, double mean, double std, Generator &gen,
              TensorOptions options = {}, TRUENO_HERE);
/// Integers uniform in [low, high); int64 unless told otherwise.
Tensor randint(std::int64_t low, std::int64_t high, Shape shape, Generator &gen,
               TensorOptions options = {}, TRUENO_HERE);
Tensor randint(std::int64_t low, std::int64_t high, Shape shape,
               TensorOptions options = {}, TRUENO_HERE);
/// 1 with probability p, else 0; float32 unless told otherwise.
Tensor bernoulli(Shape shape, double p, Generator &gen,
                 TensorOptions options = {}, TRUENO_HERE);
/// One draw per element of `probs` (each in [0, 1]), in probs' dtype.
Tensor bernoulli(const Tensor &probs, Generator &gen, TRUENO_HERE);

} // namespace trueno

#endif // TRUENO_RANDOM_H
