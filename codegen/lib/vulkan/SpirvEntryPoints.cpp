//===- SpirvEntryPoints.cpp - Target environment and entry point ABIs -----===//
//
// convert-gpu-to-spirv needs two things MLIR's GPU passes do not give: the
// target environment (what the device can do) and, on each kernel, the
// workgroup size as `spirv.entry_point_abi`. The environment comes from the
// pass's options (the device's capabilities), the workgroup size from the
// `known_block_size` convert-parallel-loops-to-gpu recorded.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Vulkan/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SPIRV/IR/SPIRVAttributes.h"
#include "mlir/Dialect/SPIRV/IR/TargetAndABI.h"
#include "mlir/IR/Matchers.h"

namespace mlir::trueno {

#define GEN_PASS_DEF_SPIRVENTRYPOINTS
#include "trueno/Codegen/Vulkan/Passes.h.inc"

namespace {

struct SpirvEntryPointsPass
    : public impl::SpirvEntryPointsBase<SpirvEntryPointsPass> {
  using SpirvEntryPointsBase::SpirvEntryPointsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();

    SmallVector<spirv::Capability> capabilities = {spirv::Capability::Shader};
    SmallVector<spirv::Extension> extensions = {
        spirv::Extension::SPV_KHR_storage_buffer_storage_class};
    auto add = [&](bool has, spirv::Capability capability) {
      if (has)
        capabilities.push_back(capability);
    };
    add(float64, spirv::Capability::Float64);
    add(int64, spirv::Capability::Int64);
    add(int16, spirv::Capability::Int16);
    add(float16, spirv::Capability::Float16);
    add(int8, spirv::Capability::Int8);
    add(storage16, spirv::Capability::StorageBuffer16BitAccess);
    add(storage8, spirv::Capability::StorageBuffer8BitAccess);
    if (storage16)
      extensions.push_back(spirv::Extension::SPV_KHR_16bit_storage);
    if (storage8)
      extensions.push_back(spirv::Extension::SPV_KHR_8bit_storage);
    // MLIR 19 gives the KHR cooperative-matrix operations SPIR-V 1.6;
    // spirv-update-vce then asks each module for the least version its
    // operations need.
    if (cooperativeMatrix) {
      capabilities.push_back(spirv::Capability::CooperativeMatrixKHR);
      extensions.push_back(spirv::Extension::SPV_KHR_cooperative_matrix);
    }
    // Subgroup ids (the cooperative kernel's), elections and shuffles
    // (trueno-workgroup-reductions'), and the subgroup size that
    // convert-gpu-to-spirv checks each gpu.shuffle's width against.
    add(cooperativeMatrix || subgroupSize > 0,
        spirv::Capability::GroupNonUniform);
    add(subgroupSize > 0, spirv::Capability::GroupNonUniformShuffle);
    spirv::ResourceLimitsAttr limits = spirv::getDefaultResourceLimits(context);
    if (subgroupSize > 0)
      limits = spirv::ResourceLimitsAttr::get(
          context, limits.getMaxComputeSharedMemorySize(),
          limits.getMaxComputeWorkgroupInvocations(),
          limits.getMaxComputeWorkgroupSize(), subgroupSize,
          limits.getMinSubgroupSize(), limits.getMaxSubgroupSize(),
          limits.getCooperativeMatrixPropertiesKhr(),
          limits.getCooperativeMatrixPropertiesNv());
    auto triple = spirv::VerCapExtAttr::get(
        cooperativeMatrix ? spirv::Version::V_1_6 : spirv::Version::V_1_3,
        capabilities, extensions, context);
    module->setAttr(
        spirv::getTargetEnvAttrName(),
        spirv::TargetEnvAttr::get(triple, limits, spirv::ClientAPI::Vulkan));

    WalkResult kernels = module.walk([&](gpu::GPUFuncOp func) {
      if (!func.isKernel())
        return WalkResult::advance();
      std::optional<ArrayRef<int32_t>> block = func.getKnownBlockSize();
      if (!block || block->size() != 3) {
        func.emitOpError("has no known workgroup size");
        return WalkResult::interrupt();
      }
      func->setAttr(spirv::getEntryPointABIAttrName(),
                    spirv::getEntryPointABIAttr(context, *block));
      return WalkResult::advance();
    });
    if (kernels.wasInterrupted())
      return signalPassFailure();

    WalkResult launches = module.walk([&](gpu::LaunchFuncOp launch) {
      gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
      Value sizes[] = {grid.x, grid.y, grid.z};
      for (auto [d, size] : llvm::enumerate(sizes)) {
        APInt count;
        if (!matchPattern(size, m_ConstantInt(&count))) {
          launch.emitOpError("has a workgroup count that is not a constant");
          return WalkResult::interrupt();
        }
        if (count.getSExtValue() > maxWorkgroupCount) {
          launch.emitOpError("needs ")
              << count.getSExtValue() << " workgroups in dimension " << d
              << "; the device allows "
              << static_cast<int64_t>(maxWorkgroupCount);
          return WalkResult::interrupt();
        }
      }
      return WalkResult::advance();
    });
    if (launches.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

} // namespace mlir::trueno
