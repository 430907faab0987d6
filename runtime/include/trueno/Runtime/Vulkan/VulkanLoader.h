//===- VulkanLoader.h - The Vulkan loader, opened at run time ---*- C++ -*-===//
//
// Trueno does not link libvulkan: it opens the loader (libvulkan.so.1) the
// first time a Vulkan device is asked for, so that a machine without Vulkan
// runs everything on its CPU and says once why there is no GPU. The entry
// points Trueno calls are listed in VulkanFunctions.def.
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_VULKAN_VULKANLOADER_H
#define TRUENO_RUNTIME_VULKAN_VULKANLOADER_H

#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include "trueno/Runtime/Vulkan/VulkanCooperativeMatrix.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace trueno::runtime::vulkan {

/// Function pointers of the loader: the global ones are set by
/// vulkanLoader(), the instance ones by loadInstanceFunctions().
struct VulkanFunctions {
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
#define TRUENO_VK_GLOBAL(name) PFN_##name name = nullptr;
#define TRUENO_VK_INSTANCE(name) PFN_##name name = nullptr;
#include "trueno/Runtime/Vulkan/VulkanFunctions.def"
};

/// The loader's global entry points, or why there are none (no
/// libvulkan.so.1 on this machine, or one without vkGetInstanceProcAddr).
/// Opened once per process: TRUENO_VULKAN_LOADER names another loader (a
/// carried one), else libvulkan.so.1.
llvm::Expected<const VulkanFunctions &> vulkanLoader();

/// Opens the loader at `path` (a file name the dynamic linker searches
/// for, or a path) and reads its global entry points.
llvm::Expected<VulkanFunctions> openVulkanLoader(const std::string &path);

/// `functions` with the instance-level entry points of `instance` filled in
/// (an extension's stay null when the instance does not enable it).
VulkanFunctions loadInstanceFunctions(const VulkanFunctions &functions,
                                      VkInstance instance);

/// "VK_ERROR_OUT_OF_DEVICE_MEMORY" for that code, and so on.
std::string resultName(VkResult result);

/// Success, or an error naming `what` and the result's name.
llvm::Error check(VkResult result, llvm::StringRef what);

} // namespace trueno::runtime::vulkan

#endif // TRUENO_RUNTIME_VULKAN_VULKANLOADER_H
