//===- TruenoDialect.h - The trueno dialect ---------------------*- C++ -*-===//
#ifndef TRUENO_IR_TRUENODIALECT_H
#define TRUENO_IR_TRUENODIALECT_H

#include "mlir/IR/Dialect.h"

#include "trueno/IR/TruenoOpsDialect.h.inc"

#endif // TRUENO_IR_TRUENODIALECT_H
