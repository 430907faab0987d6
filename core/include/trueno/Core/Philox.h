//===- Philox.h - The constants of Philox4x32-10 ----------------*- C++ -*-===//
//
// Philox4x32-10 (Salmon et al., SC'11), as Trueno uses it: block `c` of seed
// `s` is ten rounds over the counter (c mod 2^32, c >> 32, 0, 0) under the
// key (s mod 2^32, s >> 32). Each round multiplies words 0 and 2 by the
// multipliers into 64-bit products and bumps the key by the Weyl constants.
// The host's generator (frontend/lib/tensor/Random.cpp) and the kernels'
// (trueno.random_uniform, codegen/lib/TruenoToLinalg.cpp) both read them
// here, so that they cannot drift apart.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_CORE_PHILOX_H
#define TRUENO_CORE_PHILOX_H

#include <cstdint>

namespace trueno::philox {

inline constexpr int kRounds = 10;
inline constexpr std::uint32_t kMultiplier0 = 0xD2511F53u;
inline constexpr std::uint32_t kMultiplier1 = 0xCD9E8D57u;
inline constexpr std::uint32_t kWeyl0 = 0x9E3779B9u;
inline constexpr std::uint32_t kWeyl1 = 0xBB67AE85u;

} // namespace trueno::philox

#endif // TRUENO_CORE_PHILOX_H
