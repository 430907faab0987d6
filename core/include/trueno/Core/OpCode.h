//===- OpCode.h - The ops a recorded graph holds --------------------------===//
//
// One enumerator per line of trueno/OpTable.def, plus `Input` (a buffer the
// caller passes). The frontend records nodes with these codes; the runtime
// turns them into trueno dialect ops by name and attribute schema, with no
// per-op code of its own.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_CORE_OPCODE_H
#define TRUENO_CORE_OPCODE_H

#include <cstdint>
#include <string_view>

namespace trueno {

enum class OpCode : std::uint8_t {
  Input, ///< a buffer the caller passes (a realized tensor or view)
#define TRUENO_UNARY(Code, mnemonic, function, rule, cost) Code,
#define TRUENO_BINARY(Code, mnemonic, function, cost) Code,
#define TRUENO_ELEMENTWISE(Code, mnemonic, attributes, cost) Code,
#define TRUENO_OP(Code, mnemonic, attributes) Code,
#include "trueno/OpTable.def"
};

/// The dialect's mnemonic ("add", "reduce_sum"...); "input" for Input.
std::string_view opName(OpCode op);
/// The attribute schema of the op's OpTable.def line ("" when none).
std::string_view opAttributes(OpCode op);

} // namespace trueno

#endif // TRUENO_CORE_OPCODE_H
