//===- Loss.cpp - Losses as modules
//----------------------------------------===//

#include "trueno/nn/Loss.h"

#include "trueno/Fail.h"

namespace trueno::nn {

Tensor Loss::forward(const Tensor &, SourceLoc where) {
  detail::fail<ValueError>(where, typeName(), "call loss(input, target)",
                           "a loss takes an input and a target");
}

} // namespace trueno::nn
