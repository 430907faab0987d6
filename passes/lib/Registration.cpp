//===- Registration.cpp - Registers the graph passes and pipeline ---------===//
#include "trueno/Autograd/Autograd.h"
#include "trueno/Passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include <mutex>

namespace mlir::trueno {

std::string graphPipeline(int64_t rowFusionBytes, int64_t maxBuffers,
                          bool widenIntoProducts) {
  return "func.func(trueno-reverse-mode),canonicalize,cse,"
         "trueno-form-kernels{row-fusion-bytes=" +
         std::to_string(rowFusionBytes) +
         " max-buffers=" + std::to_string(maxBuffers) +
         " widen-into-products=" + (widenIntoProducts ? "true" : "false") + "}";
}

void registerGraphPasses() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerTruenoGraphPasses();
    registerTruenoAutogradPasses();
    registerCanonicalizerPass();
    registerCSEPass();
    PassPipelineRegistration<>(
        "trueno-graph-pipeline",
        "Expand a recorded graph's gradients, canonicalize and CSE it, then "
        "fuse it into kernels",
        [](OpPassManager &pm) {
          if (failed(parsePassPipeline("func.func(trueno-reverse-mode),"
                                       "canonicalize,cse,trueno-form-kernels",
                                       pm)))
            llvm::report_fatal_error("invalid built-in graph pipeline");
        });
  });
}

} // namespace mlir::trueno
