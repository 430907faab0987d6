//===- nn.h - The training library's layers, in one include ---------------===//
#ifndef TRUENO_NN_NN_H
#define TRUENO_NN_NN_H

#include "trueno/nn/Init.h"
#include "trueno/nn/Layers.h"
#include "trueno/nn/Loss.h"
#include "trueno/nn/Module.h"

#endif // TRUENO_NN_NN_H
