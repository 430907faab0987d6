//===- CpuTarget.h - Which CPU features the compiled code may use -*- C++
//-*-===//
//
// Light enough for the hand-vectorized kernels to include: they ask it
// before taking their AVX-512 paths (CpuKernel.h has the rest of the CPU
// target).
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_CPU_CPUTARGET_H
#define TRUENO_RUNTIME_CPU_CPUTARGET_H

#include <string_view>

namespace trueno::runtime {

/// Whether the target CPU (TRUENO_CPU; the host by default) has `feature`
/// (LLVM's name: "avx512f", "avx2"). The runtime's own vector kernels
/// (SmallGemm, DirectConvolution) run only when it does, so they follow
/// TRUENO_CPU like the generated code.
bool cpuTargetHas(std::string_view feature);

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_CPU_CPUTARGET_H
