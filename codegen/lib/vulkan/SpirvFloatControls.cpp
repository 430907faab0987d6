//===- SpirvFloatControls.cpp - Keep NaNs and denormals on the device -----===//
//
// trueno-spirv-float-controls: see Passes.td. The CPU keeps every IEEE
// special value and every denormal; so do the kernels of a device that can
// be told to (Vulkan 1.2's float controls properties say which widths).
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/SPIRV/IR/SPIRVAttributes.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::trueno {

#define GEN_PASS_DEF_SPIRVFLOATCONTROLS
#include "trueno/Codegen/Vulkan/Passes.h.inc"

namespace {

struct SpirvFloatControlsPass
    : public impl::SpirvFloatControlsBase<SpirvFloatControlsPass> {
  using SpirvFloatControlsBase::SpirvFloatControlsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    for (unsigned width : llvm::concat<unsigned>(nanInfWidths, denormWidths))
      if (width != 16 && width != 32 && width != 64) {
        module.emitError("float controls for a ")
            << width << "-bit float: SPIR-V has 16, 32 and 64-bit floats";
        return signalPassFailure();
      }
    if (nanInfWidths.empty() && denormWidths.empty())
      return;

    // The target environment must allow what the modes need, or
    // spirv-update-vce rejects them.
    auto env = module->getAttrOfType<spirv::TargetEnvAttr>(
        spirv::getTargetEnvAttrName());
    if (!env) {
      module.emitError("float controls need the module's spirv.target_env");
      return signalPassFailure();
    }
    llvm::SetVector<spirv::Capability> capabilities;
    capabilities.insert(env.getCapabilities().begin(),
                        env.getCapabilities().end());
    llvm::SetVector<spirv::Extension> extensions;
    extensions.insert(env.getExtensions().begin(), env.getExtensions().end());
    extensions.insert(spirv::Extension::SPV_KHR_float_controls);
    if (!nanInfWidths.empty())
      capabilities.insert(spirv::Capability::SignedZeroInfNanPreserve);
    if (!denormWidths.empty())
      capabilities.insert(spirv::Capability::DenormPreserve);
    auto triple =
        spirv::VerCapExtAttr::get(env.getVersion(), capabilities.getArrayRef(),
                                  extensions.getArrayRef(), context);
    module->setAttr(
        spirv::getTargetEnvAttrName(),
        spirv::TargetEnvAttr::get(triple, env.getResourceLimits(),
                                  env.getClientAPI(), env.getVendorID(),
                                  env.getDeviceType(), env.getDeviceID()));

    module.walk([&](spirv::EntryPointOp entry) {
      OpBuilder builder(entry->getBlock(), std::next(entry->getIterator()));
      auto add = [&](spirv::ExecutionMode mode, unsigned width) {
        builder.create<spirv::ExecutionModeOp>(
            entry.getLoc(), entry.getFnAttr(),
            spirv::ExecutionModeAttr::get(context, mode),
            builder.getI32ArrayAttr({static_cast<int32_t>(width)}));
      };
      for (unsigned width : nanInfWidths)
        add(spirv::ExecutionMode::SignedZeroInfNanPreserve, width);
      for (unsigned width : denormWidths)
        add(spirv::ExecutionMode::DenormPreserve, width);
    });
  }
};

} // namespace

} // namespace mlir::trueno
