//===- OpCode.cpp - Names and attribute schemas from the op table ---------===//
#include "trueno/Core/OpCode.h"

namespace trueno {

namespace {
struct OpInfo {
  std::string_view name, attributes;
};

constexpr OpInfo kOps[] = {
    {"input", ""},
#define TRUENO_UNARY(Code, mnemonic, function, rule, cost) {mnemonic, ""},
#define TRUENO_BINARY(Code, mnemonic, function, cost) {mnemonic, ""},
#define TRUENO_ELEMENTWISE(Code, mnemonic, attributes, cost)                   \
  {mnemonic, attributes},
#define TRUENO_OP(Code, mnemonic, attributes) {mnemonic, attributes},
#include "trueno/OpTable.def"
};
} // namespace

std::string_view opName(OpCode op) {
  return kOps[static_cast<int>(op)].name;
}

std::string_view opAttributes(OpCode op) {
  return kOps[static_cast<int>(op)].attributes;
}

} // namespace trueno
