//===- trueno.h - The one header an application includes -----------------===//
//
// `#include <trueno/trueno.h>` brings in the whole public API. No MLIR or
// LLVM type appears in any public header.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_TRUENO_H
#define TRUENO_TRUENO_H

#include "trueno/Autograd.h"
#include "trueno/DType.h"
#include "trueno/Device.h"
#include "trueno/Error.h"
#include "trueno/Execution.h"
#include "trueno/Format.h"
#include "trueno/Indexing.h"
#include "trueno/Linalg.h"
#include "trueno/Npy.h"
#include "trueno/Ops.h"
#include "trueno/Random.h"
#include "trueno/Shape.h"
#include "trueno/Tensor.h"
#include "trueno/Version.h"

#endif // TRUENO_TRUENO_H
