//===- Blas.h - Runtime entry points that compiled kernels call -*- C++ -*-===//
//
// Matrix products in a kernel become calls to `_mlir_ciface_trueno_*gemm_*`
// (codegen's trueno-linalg-to-blas). They live in the runtime, so the JIT
// is told their addresses rather than searching the process for them.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_BLAS_H
#define TRUENO_RUNTIME_BLAS_H

#include <utility>
#include <vector>

namespace trueno::runtime {

/// Every symbol kernels may call, with its address.
std::vector<std::pair<const char *, void *>> blasSymbols();

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_BLAS_H
