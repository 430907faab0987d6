//===- VulkanTestUtil.h - Helpers shared by the Vulkan tests ----*- C++ -*-===//
//
// `vulkanRequired()`: whether a missing Vulkan device fails the test
// (TRUENO_TEST_REQUIRE_VULKAN=1, as ctest sets) or skips it. `messageOf`
// turns an llvm::Error into its text ("" for success). `compileForVulkan`
// lowers trueno IR through the Vulkan pipeline and serializes its kernels,
// keeping the diagnostics; with TRUENO_TEST_DUMP_SPIRV=<folder> it also
// writes each kernel's SPIR-V there (kernel-<n>.spv), for a newer spirv-val
// than Debian's, which predates cooperative matrices, to check.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_TESTS_VULKANTESTUTIL_H
#define TRUENO_TESTS_VULKANTESTUTIL_H

#include "trueno/Codegen/Vulkan/Pipeline.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/Error.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace trueno::testing {

inline bool vulkanRequired() {
  const char *setting = std::getenv("TRUENO_TEST_REQUIRE_VULKAN");
  return setting && std::string(setting) == "1";
}

inline std::string messageOf(llvm::Error error) {
  return llvm::toString(std::move(error));
}

struct CompiledKernels {
  bool ok = false;
  std::vector<mlir::trueno::SpirvKernel> kernels;
  std::string diagnostics;
};

inline CompiledKernels
compileForVulkan(const std::string &source,
                 const mlir::trueno::VulkanPipelineOptions &options = {}) {
  mlir::DialectRegistry registry;
  mlir::trueno::registerVulkanCodegen(registry);
  mlir::MLIRContext context(registry);
  CompiledKernels result;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    result.diagnostics += d.str() + "\n";
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  REQUIRE(module);
  if (mlir::failed(mlir::trueno::lowerForVulkan(*module, options)))
    return result;
  auto kernels = mlir::trueno::serializeKernels(*module);
  if (mlir::failed(kernels))
    return result;
  result.ok = true;
  result.kernels = std::move(*kernels);
  if (const char *folder = std::getenv("TRUENO_TEST_DUMP_SPIRV")) {
    static int dumped = 0;
    for (const mlir::trueno::SpirvKernel &kernel : result.kernels)
      std::ofstream(std::string(folder) + "/kernel-" +
                        std::to_string(dumped++) + ".spv",
                    std::ios::binary)
          .write(reinterpret_cast<const char *>(kernel.words.data()),
                 static_cast<std::streamsize>(kernel.words.size() * 4));
  }
  return result;
}

} // namespace trueno::testing

#endif // TRUENO_TESTS_VULKANTESTUTIL_H
