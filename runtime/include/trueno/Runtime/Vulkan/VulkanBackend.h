//===- VulkanBackend.h - A Vulkan device as a Trueno backend ----*- C++ -*-===//
//
// The runtime::Backend of one Vulkan device: device-local buffers from a
// caching allocator, transfers through the device's staging buffer, graphs
// compiled through the shared schedule and the Vulkan pipeline
// (codegen/lib/vulkan) into compute pipelines, and a program run as one
// submission of all its kernels.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_VULKAN_VULKANBACKEND_H
#define TRUENO_RUNTIME_VULKAN_VULKANBACKEND_H

#include "trueno/Codegen/Vulkan/Pipeline.h"
#include "trueno/Runtime/Backend.h"

namespace trueno::runtime {

/// The backend of vulkan:`index` (the index in the instance's enumeration),
/// created at the first call; the error says why there is none (no loader,
/// no such device, an unusable device), and is the same on every call.
llvm::Expected<Backend &> vulkanBackend(int index);

/// Returns when every program submitted to the Vulkan devices started so
/// far has finished (Backend::wait of each): the first error one met.
llvm::Error waitForVulkanDevices();

/// Nanoseconds the Vulkan devices started so far spent running programs
/// (timestamps around each submission).
std::uint64_t vulkanBusyNanos();

/// What the disk kernel cache keeps of a Vulkan program: the program
/// (mlir::trueno::encodeSpirvProgram) after its length (u64), then the
/// driver's pipeline cache of its kernels (VulkanPipelineCache). Reading
/// checks the length and the program (decodeSpirvProgram).
std::string vulkanCachePayload(const mlir::trueno::SpirvProgram &program,
                               llvm::StringRef pipelines);
llvm::Expected<std::pair<mlir::trueno::SpirvProgram, std::string>>
readVulkanCachePayload(llvm::StringRef bytes);

/// The index of the Vulkan device TRUENO_VULKAN_DEVICE names, or of the
/// best usable one (VulkanInstance::select).
llvm::Expected<int> defaultVulkanDevice();

} // namespace trueno::runtime

#endif // TRUENO_RUNTIME_VULKAN_VULKANBACKEND_H
