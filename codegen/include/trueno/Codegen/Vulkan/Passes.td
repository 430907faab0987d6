//===- Passes.td - Codegen passes for Vulkan (SPIR-V) ------*- tablegen -*-===//
//
// The passes of the Vulkan pipeline that MLIR does not have
// (include/trueno/Codegen/Vulkan/Pipeline.h lists the whole pipeline).
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_CODEGEN_VULKAN_PASSES_TD
#define TRUENO_CODEGEN_VULKAN_PASSES_TD

include "mlir/Pass/PassBase.td"

def SpirvEntryPoints : Pass<"trueno-spirv-entry-points", "::mlir::ModuleOp"> {
  let summary = "Give outlined GPU kernels what the SPIR-V conversion needs";
  let description = [{
    Sets `spirv.target_env` on the module from the device's capabilities
    (the options: Vulkan 1.3 SPIR-V with Shader, and Float64, Int64, Int16,
    Float16, Int8 and 8/16-bit storage buffer access where the device has
    them, so that a kernel needing a missing one fails to convert instead of
    failing on the device), and `spirv.entry_point_abi` on each kernel with
    the workgroup size its launch uses (`known_block_size`, which
    convert-parallel-loops-to-gpu records). A launch of more workgroups in a
    dimension than the device allows (`max-workgroup-count`) is an error
    naming the kernel and the counts.
  }];
  let options = [
    Option<"float64", "float64", "bool", /*default=*/"false",
           "The device computes float64 (shaderFloat64)">,
    Option<"int64", "int64", "bool", /*default=*/"false",
           "The device computes int64 (shaderInt64)">,
    Option<"int16", "int16", "bool", /*default=*/"false",
           "The device computes int16 (shaderInt16)">,
    Option<"float16", "float16", "bool", /*default=*/"false",
           "The device computes float16 (shaderFloat16)">,
    Option<"int8", "int8", "bool", /*default=*/"false",
           "The device computes int8 (shaderInt8)">,
    Option<"storage16", "storage16", "bool", /*default=*/"false",
           "16-bit values in storage buffers (storageBuffer16BitAccess)">,
    Option<"storage8", "storage8", "bool", /*default=*/"false",
           "8-bit values in storage buffers (storageBuffer8BitAccess)">,
    Option<"maxWorkgroupCount", "max-workgroup-count", "int64_t",
           /*default=*/"65535",
           "Workgroups a launch may have in each dimension">,
  ];
  let dependentDialects = ["::mlir::spirv::SPIRVDialect"];
}

#endif // TRUENO_CODEGEN_VULKAN_PASSES_TD
