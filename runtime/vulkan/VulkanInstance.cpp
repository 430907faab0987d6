//===- VulkanInstance.cpp - The process's Vulkan instance -----------------===//
#include "trueno/Runtime/Vulkan/VulkanInstance.h"
#include "trueno/Runtime/Counters.h"

#include "llvm/ADT/StringExtras.h"

#include "llvm/ADT/STLExtras.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <tuple>

namespace trueno::runtime::vulkan {

namespace {

constexpr const char *kValidationLayer = "VK_LAYER_KHRONOS_validation";

llvm::Error failure(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

bool validationRequested() {
  const char *setting = std::getenv("TRUENO_VULKAN_VALIDATION");
  return setting && *setting && std::strcmp(setting, "0") != 0;
}

/// Whether the environment variable `name` is set to `value`.
bool settingIs(const char *name, std::string_view value) {
  const char *setting = std::getenv(name);
  return setting && std::string_view(setting) == value;
}

const char *typeName(VkPhysicalDeviceType type) {
  switch (type) {
  case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
    return "discrete GPU";
  case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
    return "integrated GPU";
  case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
    return "virtual GPU";
  case VK_PHYSICAL_DEVICE_TYPE_CPU:
    return "CPU";
  default:
    return "other";
  }
}

/// A driver version as its vendor writes it: NVIDIA packs 10.8.8.6 bits,
/// the others use Vulkan's own packing.
std::string driverVersionString(std::uint32_t vendorId, std::uint32_t v) {
  if (vendorId == 0x10de)
    return fmt::format("{}.{}.{}", v >> 22, (v >> 14) & 0xff, (v >> 6) & 0xff);
  return versionString(v);
}

} // namespace

std::string versionString(std::uint32_t version) {
  return fmt::format("{}.{}.{}", VK_API_VERSION_MAJOR(version),
                     VK_API_VERSION_MINOR(version),
                     VK_API_VERSION_PATCH(version));
}

std::string VulkanDeviceInfo::describe() const {
  std::string driver = driverVersionString(vendorId, driverVersion);
  if (!driverName.empty())
    driver = driverName + " " + driver;
  std::string text =
      fmt::format("vulkan:{} {} ({}, driver {}, Vulkan {})", index, name, type,
                  driver, versionString(apiVersion));
  if (cooperativeMatrix)
    text += ", cooperative matrices";
  if (!unusable.empty())
    text += ": unusable, " + unusable;
  return text;
}

llvm::Expected<VulkanInstance &> VulkanInstance::get() {
  // Created once: a second attempt would fail the same way, and the
  // message is kept for every caller.
  // Never destroyed: the backends' devices and the tensors on them live
  // until the process ends, after static destructors have run.
  static const struct Holder {
    VulkanInstance *instance;
    std::string error;
    Holder() : instance(new VulkanInstance()) {
      if (llvm::Error e = instance->create()) {
        error = llvm::toString(std::move(e));
        delete instance;
        instance = nullptr;
      }
    }
  } holder;
  if (!holder.instance)
    return failure(holder.error);
  return *holder.instance;
}

VulkanInstance::~VulkanInstance() {
  if (messenger_ && functions_.vkDestroyDebugUtilsMessengerEXT)
    functions_.vkDestroyDebugUtilsMessengerEXT(instance_, messenger_, nullptr);
  if (instance_ && functions_.vkDestroyInstance)
    functions_.vkDestroyInstance(instance_, nullptr);
}

llvm::Error VulkanInstance::create() {
  llvm::Expected<const VulkanFunctions &> loader = vulkanLoader();
  if (!loader)
    return loader.takeError();
  functions_ = *loader;
  // Vulkan 1.3 where the loader has it: timeline semaphores, 8/16-bit
  // storage and the driver's properties are core from 1.2.
  apiVersion_ = VK_API_VERSION_1_0;
  if (functions_.vkEnumerateInstanceVersion)
    functions_.vkEnumerateInstanceVersion(&apiVersion_);
  if (apiVersion_ < VK_API_VERSION_1_2)
    return failure("the Vulkan loader offers Vulkan " +
                   versionString(apiVersion_) + "; Trueno needs 1.2");
  apiVersion_ = std::min<std::uint32_t>(apiVersion_, VK_API_VERSION_1_3);

  std::vector<const char *> layers, extensions;
  bool validate = validationRequested();
  if (validate) {
    std::uint32_t count = 0;
    functions_.vkEnumerateInstanceLayerProperties(&count, nullptr);
    std::vector<VkLayerProperties> available(count);
    functions_.vkEnumerateInstanceLayerProperties(&count, available.data());
    bool found = std::any_of(
        available.begin(), available.end(), [](const VkLayerProperties &l) {
          return std::strcmp(l.layerName, kValidationLayer) == 0;
        });
    if (!found)
      return failure(llvm::Twine("TRUENO_VULKAN_VALIDATION is set but ") +
                     kValidationLayer +
                     " is not installed (Debian's vulkan-validationlayers)");
    layers.push_back(kValidationLayer);
    extensions.push_back(VK_EXT_DEBUG_UTILS_EXTENSION_NAME);
  }

  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "trueno";
  app.pEngineName = "trueno";
  app.apiVersion = apiVersion_;
  // The messenger also sees what vkCreateInstance itself reports.
  VkDebugUtilsMessengerCreateInfoEXT messengerInfo{};
  messengerInfo.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
  messengerInfo.messageSeverity =
      VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
      VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  messengerInfo.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                              VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                              VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  messengerInfo.pfnUserCallback = &VulkanInstance::onMessage;
  messengerInfo.pUserData = this;
  VkInstanceCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  info.pNext = validate ? &messengerInfo : nullptr;
  info.pApplicationInfo = &app;
  info.enabledLayerCount = static_cast<std::uint32_t>(layers.size());
  info.ppEnabledLayerNames = layers.data();
  info.enabledExtensionCount = static_cast<std::uint32_t>(extensions.size());
  info.ppEnabledExtensionNames = extensions.data();
  if (llvm::Error e =
          check(functions_.vkCreateInstance(&info, nullptr, &instance_),
                "creating a Vulkan instance (is a Vulkan driver installed? "
                "mesa-vulkan-drivers has a CPU one)"))
    return e;
  functions_ = loadInstanceFunctions(functions_, instance_);
  if (validate &&
      (!functions_.vkCreateDebugUtilsMessengerEXT ||
       functions_.vkCreateDebugUtilsMessengerEXT(
           instance_, &messengerInfo, nullptr, &messenger_) != VK_SUCCESS))
    return failure("creating the validation layer's messenger failed");
  discover();
  return llvm::Error::success();
}

VKAPI_ATTR VkBool32 VKAPI_CALL VulkanInstance::onMessage(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity,
    VkDebugUtilsMessageTypeFlagsEXT,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *self) {
  auto *instance = static_cast<VulkanInstance *>(self);
  bool error = severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  ++(error ? instance->validationErrors_ : instance->validationWarnings_);
  std::fprintf(stderr, "trueno: vulkan validation %s: %s\n",
               error ? "error" : "warning",
               data && data->pMessage ? data->pMessage : "(no message)");
  return VK_FALSE; // the call goes on, as the specification asks
}

bool VulkanInstance::hasExtension(const VulkanDeviceInfo &d,
                                  std::string_view name) const {
  std::uint32_t count = 0;
  if (functions_.vkEnumerateDeviceExtensionProperties(d.handle, nullptr, &count,
                                                      nullptr) != VK_SUCCESS)
    return false;
  std::vector<VkExtensionProperties> extensions(count);
  if (functions_.vkEnumerateDeviceExtensionProperties(
          d.handle, nullptr, &count, extensions.data()) != VK_SUCCESS)
    return false;
  extensions.resize(count);
  return llvm::any_of(extensions, [&](const VkExtensionProperties &e) {
    return std::string_view(e.extensionName) == name;
  });
}

VulkanInstance::CooperativeMatrixTypes
VulkanInstance::cooperativeMatrixTypes(const VulkanDeviceInfo &d) const {
  // Why not, or the shapes the device lists: TRUENO_DEBUG prints it.
  auto answer = [&](bool has, const std::string &why,
                    bool bfloat16 = false) -> CooperativeMatrixTypes {
    if (debugLevel() >= 1)
      std::fprintf(stderr, "trueno: vulkan:%d cooperative matrices: %s\n",
                   d.index, why.c_str());
    return {has, has && bfloat16};
  };
  if (apiVersion_ < VK_API_VERSION_1_3 || d.apiVersion < VK_API_VERSION_1_3)
    return answer(false, "not used below Vulkan 1.3 (SPIR-V 1.6)");
  if (d.subgroupSize != 32 || !d.float16 || !d.storage16)
    return answer(false, "not used without subgroups of 32 and float16");
  if (!d.vulkanMemoryModel)
    return answer(false, "no Vulkan memory model, which SPIR-V requires of "
                         "cooperative matrices");
  if (!hasExtension(d, VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME))
    return answer(false, "no VK_KHR_cooperative_matrix");
  if (!functions_.vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR)
    return answer(false, "the loader has no "
                         "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR");
  VkPhysicalDeviceCooperativeMatrixFeaturesKHR cooperative{};
  cooperative.sType =
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR;
  queryFeatures(d, &cooperative);
  if (!cooperative.cooperativeMatrix)
    return answer(false, "the cooperativeMatrix feature is off");
  std::uint32_t count = 0;
  if (functions_.vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR(
          d.handle, &count, nullptr) != VK_SUCCESS)
    return answer(false, "the shapes cannot be listed");
  std::vector<VkCooperativeMatrixPropertiesKHR> shapes(count);
  for (VkCooperativeMatrixPropertiesKHR &shape : shapes)
    shape.sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR;
  if (functions_.vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR(
          d.handle, &count, shapes.data()) != VK_SUCCESS)
    return answer(false, "the shapes cannot be listed");
  shapes.resize(count);
  std::string listed;
  for (const VkCooperativeMatrixPropertiesKHR &s : shapes)
    listed +=
        fmt::format(" {}x{}x{} {}*{}+{}->{} scope {}{};", s.MSize, s.NSize,
                    s.KSize, static_cast<int>(s.AType),
                    static_cast<int>(s.BType), static_cast<int>(s.CType),
                    static_cast<int>(s.ResultType), static_cast<int>(s.scope),
                    s.saturatingAccumulation ? " saturating" : "");
  auto listsShape = [&](VkComponentTypeKHR input) {
    return llvm::any_of(shapes, [&](const VkCooperativeMatrixPropertiesKHR &s) {
      return s.MSize == 16 && s.NSize == 16 && s.KSize == 16 &&
             s.AType == input && s.BType == input &&
             s.CType == VK_COMPONENT_TYPE_FLOAT32_KHR &&
             s.ResultType == VK_COMPONENT_TYPE_FLOAT32_KHR &&
             !s.saturatingAccumulation && s.scope == VK_SCOPE_SUBGROUP_KHR;
    });
  };
  bool has = listsShape(VK_COMPONENT_TYPE_FLOAT16_KHR);
  // bfloat16 matrices (VK_KHR_shader_bfloat16) where the device lists the
  // same shape of them and has the feature, unless
  // TRUENO_VULKAN_COOPERATIVE_BF16=0 (checked on an H100: results and
  // speed in docs/PERFORMANCE.md).
  bool bfloat16 = false;
  if (listsShape(VK_COMPONENT_TYPE_BFLOAT16_KHR) &&
      hasExtension(d, VK_KHR_SHADER_BFLOAT16_EXTENSION_NAME)) {
    VkPhysicalDeviceShaderBfloat16FeaturesKHR bf16{};
    bf16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_BFLOAT16_FEATURES_KHR;
    queryFeatures(d, &bf16);
    bfloat16 = bf16.shaderBFloat16Type &&
               bf16.shaderBFloat16CooperativeMatrix &&
               !settingIs("TRUENO_VULKAN_COOPERATIVE_BF16", "0");
  }
  listed += bfloat16 ? " bfloat16 ones used"
                     : " bfloat16 ones not used (not listed, or "
                       "TRUENO_VULKAN_COOPERATIVE_BF16=0)";
  // TRUENO_VULKAN_COOPERATIVE_MATRIX=0 turns them off: kernels do not use
  // them and the device does not enable the extension (Debian's validation
  // layer, 1.3.239, does not know it).
  bool off = settingIs("TRUENO_VULKAN_COOPERATIVE_MATRIX", "0");
  return answer(has && !off,
                (!has  ? "no 16x16x16 float16 -> float32; listed:"
                 : off ? "16x16x16 float16 -> float32 available, turned off by "
                         "TRUENO_VULKAN_COOPERATIVE_MATRIX=0; listed:"
                       : "16x16x16 float16 -> float32 available (float16 "
                         "products use them); listed:") +
                    listed,
                bfloat16);
}

void VulkanInstance::workgroupMatrices(VulkanDeviceInfo &d) const {
  // On by default where the device also has tensor addressing (the
  // kernel then loads float16 matrices by tensor loads, 8-14% faster on an
  // H100: docs/PERFORMANCE.md, thirteenth pass); without it, opt-in
  // (TRUENO_VULKAN_COOPERATIVE_WORKGROUP=1: no faster than subgroup
  // scope); TRUENO_VULKAN_COOPERATIVE_WORKGROUP=0 turns it off.
  if (!d.cooperativeMatrix ||
      settingIs("TRUENO_VULKAN_COOPERATIVE_WORKGROUP", "0") ||
      !hasExtension(d, VK_NV_COOPERATIVE_MATRIX_2_EXTENSION_NAME) ||
      !functions_
           .vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV)
    return;
  VkPhysicalDeviceCooperativeMatrix2FeaturesNV features{};
  features.sType =
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_FEATURES_NV;
  queryFeatures(d, &features);
  if (!features.cooperativeMatrixWorkgroupScope ||
      !features.cooperativeMatrixFlexibleDimensions ||
      (!features.cooperativeMatrixTensorAddressing &&
       !settingIs("TRUENO_VULKAN_COOPERATIVE_WORKGROUP", "1")))
    return;
  VkPhysicalDeviceCooperativeMatrix2PropertiesNV limits{};
  limits.sType =
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_2_PROPERTIES_NV;
  VkPhysicalDeviceProperties2 properties{};
  properties.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  properties.pNext = &limits;
  functions_.vkGetPhysicalDeviceProperties2(d.handle, &properties);
  std::uint32_t count = 0;
  auto list =
      functions_
          .vkGetPhysicalDeviceCooperativeMatrixFlexibleDimensionsPropertiesNV;
  if (list(d.handle, &count, nullptr) != VK_SUCCESS)
    return;
  std::vector<VkCooperativeMatrixFlexibleDimensionsPropertiesNV> shapes(count);
  for (auto &shape : shapes)
    shape.sType =
        VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_FLEXIBLE_DIMENSIONS_PROPERTIES_NV;
  VkResult listed = list(d.handle, &count, shapes.data());
  if (listed != VK_SUCCESS && listed != VK_INCOMPLETE)
    return;
  shapes.resize(std::min<std::size_t>(count, shapes.size()));
  for (const auto &s : shapes) {
    bool half = s.AType == VK_COMPONENT_TYPE_FLOAT16_KHR &&
                s.BType == VK_COMPONENT_TYPE_FLOAT16_KHR;
    bool bfloat16 = d.cooperativeMatrixBf16 &&
                    s.AType == VK_COMPONENT_TYPE_BFLOAT16_KHR &&
                    s.BType == VK_COMPONENT_TYPE_BFLOAT16_KHR;
    if (!(half || bfloat16) || s.CType != VK_COMPONENT_TYPE_FLOAT32_KHR ||
        s.ResultType != VK_COMPONENT_TYPE_FLOAT32_KHR ||
        s.saturatingAccumulation || s.scope != VK_SCOPE_WORKGROUP_KHR ||
        s.workgroupInvocations == 0 ||
        s.workgroupInvocations >
            limits.cooperativeMatrixWorkgroupScopeMaxWorkgroupSize)
      continue;
    d.workgroupMatrices.push_back({s.workgroupInvocations, s.MGranularity,
                                   s.NGranularity, s.KGranularity, bfloat16});
  }
  d.workgroupMatrixReservedBytes =
      limits.cooperativeMatrixWorkgroupScopeReservedSharedMemory;
  d.workgroupTensorLoads = features.cooperativeMatrixTensorAddressing;
  if (debugLevel() >= 1)
    for (const auto &w : d.workgroupMatrices)
      std::fprintf(stderr,
                   "trueno: vulkan:%d workgroup matrices: %u invocations, "
                   "granularity %ux%ux%u, %s%s\n",
                   d.index, w.invocations, w.rows, w.columns, w.depth,
                   w.bfloat16 ? "bfloat16" : "float16",
                   d.workgroupTensorLoads ? ", tensor loads" : "");
}

void VulkanInstance::queryFeatures(const VulkanDeviceInfo &d,
                                   void *features) const {
  VkPhysicalDeviceFeatures2 query{};
  query.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  query.pNext = features;
  functions_.vkGetPhysicalDeviceFeatures2(d.handle, &query);
}

bool VulkanInstance::pipelineStatistics(const VulkanDeviceInfo &d) const {
  if (!settingIs("TRUENO_VULKAN_PIPELINE_STATISTICS", "1") ||
      !hasExtension(d, VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME))
    return false;
  VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR executable{};
  executable.sType =
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR;
  queryFeatures(d, &executable);
  return executable.pipelineExecutableInfo;
}

std::uint32_t VulkanInstance::pushDescriptors(const VulkanDeviceInfo &d) const {
  if (settingIs("TRUENO_VULKAN_PUSH_DESCRIPTORS", "0") ||
      !hasExtension(d, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME))
    return 0;
  VkPhysicalDevicePushDescriptorPropertiesKHR push{};
  push.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PUSH_DESCRIPTOR_PROPERTIES_KHR;
  VkPhysicalDeviceProperties2 properties{};
  properties.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  properties.pNext = &push;
  functions_.vkGetPhysicalDeviceProperties2(d.handle, &properties);
  return push.maxPushDescriptors;
}

void VulkanInstance::discover() {
  std::uint32_t count = 0;
  if (functions_.vkEnumeratePhysicalDevices(instance_, &count, nullptr) !=
      VK_SUCCESS)
    return;
  std::vector<VkPhysicalDevice> handles(count);
  if (functions_.vkEnumeratePhysicalDevices(instance_, &count,
                                            handles.data()) != VK_SUCCESS)
    return;
  handles.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    VulkanDeviceInfo d;
    d.index = static_cast<int>(i);
    d.handle = handles[i];

    // The core properties first: the version says which structures the
    // device may be asked about.
    VkPhysicalDeviceProperties2 properties{};
    properties.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
    functions_.vkGetPhysicalDeviceProperties2(d.handle, &properties);
    const VkPhysicalDeviceProperties &p = properties.properties;
    d.name = p.deviceName;
    d.type = typeName(p.deviceType);
    d.vendorId = p.vendorID;
    d.deviceId = p.deviceID;
    d.apiVersion = p.apiVersion;
    d.driverVersion = p.driverVersion;
    std::copy(std::begin(p.pipelineCacheUUID), std::end(p.pipelineCacheUUID),
              d.pipelineCacheUUID.begin());
    const VkPhysicalDeviceLimits &limits = p.limits;
    for (int k = 0; k < 3; ++k) {
      d.maxWorkgroupCount[k] = limits.maxComputeWorkGroupCount[k];
      d.maxWorkgroupSize[k] = limits.maxComputeWorkGroupSize[k];
    }
    d.maxWorkgroupInvocations = limits.maxComputeWorkGroupInvocations;
    d.maxSharedMemoryBytes = limits.maxComputeSharedMemorySize;
    d.maxStorageBufferRange = limits.maxStorageBufferRange;
    d.maxStorageBuffersPerStage = limits.maxPerStageDescriptorStorageBuffers;
    d.timestampPeriod = limits.timestampPeriod;
    d.storageOffsetAlignment =
        std::max<std::uint64_t>(limits.minStorageBufferOffsetAlignment, 1);

    VkPhysicalDeviceMemoryProperties memory{};
    functions_.vkGetPhysicalDeviceMemoryProperties(d.handle, &memory);
    for (std::uint32_t h = 0; h < memory.memoryHeapCount; ++h)
      if (memory.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
        d.deviceLocalBytes = std::max<std::uint64_t>(
            d.deviceLocalBytes, memory.memoryHeaps[h].size);

    std::uint32_t families = 0;
    functions_.vkGetPhysicalDeviceQueueFamilyProperties(d.handle, &families,
                                                        nullptr);
    std::vector<VkQueueFamilyProperties> queues(families);
    functions_.vkGetPhysicalDeviceQueueFamilyProperties(d.handle, &families,
                                                        queues.data());
    for (std::uint32_t q = 0; q < families; ++q)
      if (queues[q].queueFlags & VK_QUEUE_COMPUTE_BIT) {
        d.computeQueueFamily = q;
        d.timestamps = queues[q].timestampValidBits > 0;
        break;
      }

    if (d.apiVersion < VK_API_VERSION_1_2) {
      d.unusable = "Trueno needs Vulkan 1.2";
    } else {
      VkPhysicalDeviceVulkan11Properties properties11{};
      properties11.sType =
          VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES;
      VkPhysicalDeviceVulkan12Properties properties12{};
      properties12.sType =
          VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES;
      properties11.pNext = &properties12;
      properties.pNext = &properties11;
      functions_.vkGetPhysicalDeviceProperties2(d.handle, &properties);
      d.subgroupSize = properties11.subgroupSize;
      d.subgroupShuffle = (properties11.subgroupSupportedStages &
                           VK_SHADER_STAGE_COMPUTE_BIT) &&
                          (properties11.subgroupSupportedOperations &
                           VK_SUBGROUP_FEATURE_BASIC_BIT) &&
                          (properties11.subgroupSupportedOperations &
                           VK_SUBGROUP_FEATURE_SHUFFLE_BIT);
      d.driverName = properties12.driverName;
      d.driverInfo = properties12.driverInfo;

      VkPhysicalDeviceVulkan11Features features11{};
      features11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
      VkPhysicalDeviceVulkan12Features features12{};
      features12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
      features11.pNext = &features12;
      VkPhysicalDeviceFeatures2 features{};
      features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
      features.pNext = &features11;
      functions_.vkGetPhysicalDeviceFeatures2(d.handle, &features);
      d.float64 = features.features.shaderFloat64;
      d.int64 = features.features.shaderInt64;
      d.int16 = features.features.shaderInt16;
      d.float16 = features12.shaderFloat16;
      d.int8 = features12.shaderInt8;
      d.storage16 = features11.storageBuffer16BitAccess;
      d.storage8 = features12.storageBuffer8BitAccess;
      d.timelineSemaphore = features12.timelineSemaphore;
      d.vulkanMemoryModel = features12.vulkanMemoryModel;
      d.subgroupExtendedTypes = features12.shaderSubgroupExtendedTypes;
      // 16-bit floats reach a kernel through arithmetic or storage, 64-bit
      // ones only through arithmetic.
      const bool has16 = d.float16 || d.storage16;
      for (auto [width, has, nanInf, denorm] :
           {std::tuple{16u, has16,
                       properties12.shaderSignedZeroInfNanPreserveFloat16,
                       properties12.shaderDenormPreserveFloat16},
            std::tuple{32u, true,
                       properties12.shaderSignedZeroInfNanPreserveFloat32,
                       properties12.shaderDenormPreserveFloat32},
            std::tuple{64u, d.float64,
                       properties12.shaderSignedZeroInfNanPreserveFloat64,
                       properties12.shaderDenormPreserveFloat64}}) {
        if (has && nanInf)
          d.preserveNanInfWidths.push_back(width);
        if (has && denorm)
          d.preserveDenormWidths.push_back(width);
      }
      // A device whose widths' denormal modes are not independent needs
      // the same mode for 16 and 64-bit floats (32_BIT_ONLY) or for all
      // (NONE): keep denormals for none rather than for some.
      auto &denormals = d.preserveDenormWidths;
      auto preserved = [&](unsigned w) {
        return llvm::is_contained(denormals, w);
      };
      switch (properties12.denormBehaviorIndependence) {
      case VK_SHADER_FLOAT_CONTROLS_INDEPENDENCE_ALL:
        break;
      case VK_SHADER_FLOAT_CONTROLS_INDEPENDENCE_32_BIT_ONLY:
        if (preserved(16) != preserved(64))
          llvm::erase_if(denormals, [](unsigned w) { return w != 32; });
        break;
      default:
        if (!(preserved(16) == preserved(32) && preserved(32) == preserved(64)))
          denormals.clear();
        break;
      }
      CooperativeMatrixTypes cooperative = cooperativeMatrixTypes(d);
      d.cooperativeMatrix = cooperative.float16;
      d.cooperativeMatrixBf16 = cooperative.bfloat16;
      workgroupMatrices(d);
      d.maxPushDescriptors = pushDescriptors(d);
      d.pipelineStatistics = pipelineStatistics(d);
      if (d.computeQueueFamily < 0)
        d.unusable = "it has no compute queue";
      else if (!d.timelineSemaphore)
        d.unusable = "it has no timeline semaphores";
    }
    devices_.push_back(std::move(d));
  }
}

llvm::Expected<const VulkanDeviceInfo &>
VulkanInstance::select(std::string_view setting) const {
  auto list = [&] {
    std::string text;
    for (const VulkanDeviceInfo &d : devices_)
      text += "\n  " + d.describe();
    return text.empty() ? std::string(" (none)") : text;
  };
  auto usableOrError = [&](const VulkanDeviceInfo &d)
      -> llvm::Expected<const VulkanDeviceInfo &> {
    if (!d.unusable.empty())
      return failure("TRUENO_VULKAN_DEVICE=" + llvm::Twine(setting) +
                     " names " + d.describe());
    return d;
  };
  if (!setting.empty()) {
    std::uint32_t index = 0;
    if (!llvm::StringRef(setting).getAsInteger(10, index)) {
      if (index >= devices_.size())
        return failure("TRUENO_VULKAN_DEVICE=" + llvm::Twine(setting) +
                       ": there are " + llvm::Twine(devices_.size()) +
                       " Vulkan devices:" + list());
      return usableOrError(devices_[index]);
    }
    std::string wanted = llvm::StringRef(setting).lower();
    for (const VulkanDeviceInfo &d : devices_)
      if (llvm::StringRef(d.name).lower().find(wanted) != std::string::npos)
        return usableOrError(d);
    return failure("TRUENO_VULKAN_DEVICE=" + llvm::Twine(setting) +
                   " names none of the Vulkan devices:" + list());
  }
  for (const char *type : {"discrete GPU", "integrated GPU"})
    for (const VulkanDeviceInfo &d : devices_)
      if (d.unusable.empty() && d.type == type)
        return d;
  for (const VulkanDeviceInfo &d : devices_)
    if (d.unusable.empty())
      return d;
  return failure("no usable Vulkan device:" + list());
}

} // namespace trueno::runtime::vulkan
