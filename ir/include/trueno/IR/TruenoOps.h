//===- TruenoOps.h - The trueno dialect's operations ------------*- C++ -*-===//
#ifndef TRUENO_IR_TRUENOOPS_H
#define TRUENO_IR_TRUENOOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "trueno/IR/TruenoDialect.h"

#include "trueno/IR/TruenoInterfaces.h.inc"

#define GET_OP_CLASSES
#include "trueno/IR/TruenoOps.h.inc"

#endif // TRUENO_IR_TRUENOOPS_H
