//===- TruenoDialect.cpp - Registration of the trueno dialect -------------===//
#include "trueno/IR/TruenoDialect.h"
#include "trueno/IR/TruenoOps.h"

using namespace mlir;
using namespace mlir::trueno;

#include "trueno/IR/TruenoOpsDialect.cpp.inc"

void TruenoDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "trueno/IR/TruenoOps.cpp.inc"
      >();
}

Operation *TruenoDialect::materializeConstant(OpBuilder &builder,
                                              Attribute value, Type type,
                                              Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, elements);
}
