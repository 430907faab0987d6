//===- Backend.cpp - Devices, their targets and host access ---------------===//
#include "trueno/Runtime/Backend.h"
#include "trueno/Passes/Passes.h"
#include "trueno/Runtime/Cpu/CpuBackend.h"
#include "trueno/Runtime/Vulkan/VulkanBackend.h"

namespace trueno::runtime {

llvm::Expected<std::byte *> hostBytes(const BufferRef &ref) {
  if (!ref)
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "no buffer");
  if (std::byte *base = ref.buffer->hostAddress())
    return base + ref.offset;
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "the host cannot address memory of %s: reading it from the host needs "
      "that device's download",
      ref.buffer->device().name().c_str());
}

std::string CompileTarget::key() const {
  return device.name() + "; " + triple + "; " + cpu + "; " + features +
         "; f64 " + (float64 ? "yes" : "no") + "; i64 " +
         (int64 ? "yes" : "no") + "; vector bits " +
         std::to_string(vectorBits) + "; subgroup " +
         std::to_string(subgroupSize) + "; L1 " + std::to_string(l1Bytes) +
         "; L2 " + std::to_string(l2Bytes) + "; buffers " +
         std::to_string(maxKernelBuffers) +
         (widenIntoProducts ? "; halves into products" : "");
}

std::string CompileTarget::graphPipeline() const {
  return mlir::trueno::graphPipeline(rowFusionBytes(), maxKernelBuffers,
                                     widenIntoProducts);
}

llvm::Expected<Backend &> backendFor(Device device) {
  switch (device.kind) {
  case DeviceKind::CPU: {
    if (device.index != 0)
      break;
    llvm::Expected<CpuBackend &> cpu = cpuBackend();
    if (!cpu)
      return cpu.takeError();
    return *cpu;
  }
  case DeviceKind::Vulkan:
    return vulkanBackend(device.index);
  }
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "no backend for device %s",
                                 device.name().c_str());
}

} // namespace trueno::runtime
