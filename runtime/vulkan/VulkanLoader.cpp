//===- VulkanLoader.cpp - The Vulkan loader, opened at run time -----------===//
#include "trueno/Runtime/Vulkan/VulkanLoader.h"

#include <cstdlib>

#include <dlfcn.h>

namespace trueno::runtime::vulkan {

namespace {

llvm::Error failure(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

} // namespace

llvm::Expected<VulkanFunctions> openVulkanLoader(const std::string &path) {
  void *library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return failure("the Vulkan loader " + path +
                   " cannot be opened (install Debian's libvulkan1 and a "
                   "driver, e.g. mesa-vulkan-drivers): " +
                   ::dlerror());
  VulkanFunctions f;
  f.vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(
      ::dlsym(library, "vkGetInstanceProcAddr"));
  if (!f.vkGetInstanceProcAddr) {
    ::dlclose(library);
    return failure("the Vulkan loader " + path +
                   " has no vkGetInstanceProcAddr");
  }
#define TRUENO_VK_GLOBAL(name)                                                 \
  f.name =                                                                     \
      reinterpret_cast<PFN_##name>(f.vkGetInstanceProcAddr(nullptr, #name));
#include "trueno/Runtime/Vulkan/VulkanFunctions.def"
  if (!f.vkCreateInstance || !f.vkEnumerateInstanceLayerProperties ||
      !f.vkEnumerateInstanceExtensionProperties) {
    ::dlclose(library);
    return failure("the Vulkan loader " + path +
                   " lacks the entry points of Vulkan 1.0");
  }
  // The library stays open for the process's lifetime: instances and
  // devices may be destroyed as late as static destructors.
  return f;
}

llvm::Expected<const VulkanFunctions &> vulkanLoader() {
  // Opened once; every caller gets the functions, or the same message.
  static const struct Loader {
    VulkanFunctions functions;
    std::string error;
    Loader() {
      const char *setting = std::getenv("TRUENO_VULKAN_LOADER");
      llvm::Expected<VulkanFunctions> opened =
          openVulkanLoader(setting && *setting ? setting : "libvulkan.so.1");
      if (opened)
        functions = *opened;
      else
        error = llvm::toString(opened.takeError());
    }
  } loader;
  if (!loader.error.empty())
    return failure(loader.error);
  return loader.functions;
}

VulkanFunctions loadInstanceFunctions(const VulkanFunctions &functions,
                                      VkInstance instance) {
  VulkanFunctions f = functions;
#define TRUENO_VK_INSTANCE(name)                                               \
  f.name =                                                                     \
      reinterpret_cast<PFN_##name>(f.vkGetInstanceProcAddr(instance, #name));
#include "trueno/Runtime/Vulkan/VulkanFunctions.def"
  return f;
}

std::string resultName(VkResult result) {
  switch (result) {
#define NAME(code)                                                             \
  case code:                                                                   \
    return #code;
    NAME(VK_SUCCESS)
    NAME(VK_NOT_READY)
    NAME(VK_TIMEOUT)
    NAME(VK_INCOMPLETE)
    NAME(VK_ERROR_OUT_OF_HOST_MEMORY)
    NAME(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    NAME(VK_ERROR_INITIALIZATION_FAILED)
    NAME(VK_ERROR_DEVICE_LOST)
    NAME(VK_ERROR_MEMORY_MAP_FAILED)
    NAME(VK_ERROR_LAYER_NOT_PRESENT)
    NAME(VK_ERROR_EXTENSION_NOT_PRESENT)
    NAME(VK_ERROR_FEATURE_NOT_PRESENT)
    NAME(VK_ERROR_INCOMPATIBLE_DRIVER)
    NAME(VK_ERROR_TOO_MANY_OBJECTS)
    NAME(VK_ERROR_FORMAT_NOT_SUPPORTED)
    NAME(VK_ERROR_FRAGMENTED_POOL)
    NAME(VK_ERROR_OUT_OF_POOL_MEMORY)
    NAME(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    NAME(VK_ERROR_FRAGMENTATION)
    NAME(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
    NAME(VK_PIPELINE_COMPILE_REQUIRED)
#undef NAME
  default:
    return "VkResult " + std::to_string(static_cast<int>(result));
  }
}

llvm::Error check(VkResult result, llvm::StringRef what) {
  if (result == VK_SUCCESS)
    return llvm::Error::success();
  return failure(what + " failed: " + resultName(result));
}

} // namespace trueno::runtime::vulkan
