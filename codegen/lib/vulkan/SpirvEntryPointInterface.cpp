//===- SpirvEntryPointInterface.cpp - What SPIR-V 1.4+ entry points list --===//
//
// trueno-spirv-entry-point-interface: see Passes.td. MLIR 19's
// spirv-lower-abi-attrs lists only Input and Output variables in an entry
// point's interface, as SPIR-V 1.3 and before ask; from 1.4 on it must
// list every global variable the entry point uses, and only modules that
// need a newer version (the cooperative-matrix kernels, SPIR-V 1.6) get one.
// Its spirv-update-vce does not deduce the capability of the SubgroupId
// built-in either.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/SPIRV/IR/SPIRVAttributes.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVDialect.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVOps.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"

namespace mlir::trueno {
#define GEN_PASS_DEF_SPIRVENTRYPOINTINTERFACE
#include "trueno/Codegen/Vulkan/Passes.h.inc"
} // namespace mlir::trueno

using namespace mlir;

namespace {

struct SpirvEntryPointInterfacePass
    : public mlir::trueno::impl::SpirvEntryPointInterfaceBase<
          SpirvEntryPointInterfacePass> {
  void runOnOperation() override {
    spirv::ModuleOp module = getOperation();
    std::optional<spirv::VerCapExtAttr> vce = module.getVceTriple();
    if (!vce)
      return;
    MLIRContext *context = &getContext();
    // Capabilities of the built-ins the module reads.
    SmallVector<spirv::Capability> capabilities(vce->getCapabilities());
    const size_t deduced = capabilities.size();
    for (auto global : module.getOps<spirv::GlobalVariableOp>()) {
      // The decoration, as the conversion sets it (not the op's own
      // `builtin` attribute).
      auto builtin = global->getAttrOfType<StringAttr>(
          spirv::SPIRVDialect::getAttributeName(spirv::Decoration::BuiltIn));
      if (builtin &&
          (builtin.getValue() == "SubgroupId" ||
           builtin.getValue() == "NumSubgroups") &&
          !llvm::is_contained(capabilities, spirv::Capability::GroupNonUniform))
        capabilities.push_back(spirv::Capability::GroupNonUniform);
    }
    if (capabilities.size() != deduced)
      module.setVceTripleAttr(spirv::VerCapExtAttr::get(
          vce->getVersion(), capabilities,
          SmallVector<spirv::Extension>(vce->getExtensions()), context));
    vce = module.getVceTriple();
    if (vce->getVersion() < spirv::Version::V_1_4)
      return;
    for (auto entry : module.getOps<spirv::EntryPointOp>()) {
      auto function =
          module.lookupSymbol<spirv::FuncOp>(entry.getFnAttr().getAttr());
      if (!function)
        continue;
      llvm::SetVector<Attribute> used;
      for (Attribute a : entry.getInterface())
        used.insert(a);
      function.walk([&](spirv::AddressOfOp address) {
        used.insert(address.getVariableAttr());
      });
      entry.setInterfaceAttr(ArrayAttr::get(context, used.getArrayRef()));
    }
  }
};

} // namespace
