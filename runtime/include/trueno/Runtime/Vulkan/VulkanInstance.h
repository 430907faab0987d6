//===- VulkanInstance.h - The process's Vulkan instance ---------*- C++ -*-===//
//
// One VkInstance per process, created the first time a Vulkan device is
// asked for, with what each physical device offers: the capabilities the
// code generator shapes kernels by (float64, int64, float16, subgroup size,
// workgroup and buffer limits) and the identity the kernel cache keys
// entries by (driver version, pipeline cache UUID). With
// TRUENO_VULKAN_VALIDATION=1 the Khronos validation layer checks every call
// and its messages are counted (the tests require none).
//
//===----------------------------------------------------------------------===//
#ifndef TRUENO_RUNTIME_VULKAN_VULKANINSTANCE_H
#define TRUENO_RUNTIME_VULKAN_VULKANINSTANCE_H

#include "trueno/Runtime/Vulkan/VulkanLoader.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace trueno::runtime::vulkan {

/// What one physical device offers, as far as Trueno uses it.
struct VulkanDeviceInfo {
  int index = 0; ///< in the instance's enumeration order (vulkan:INDEX)
  VkPhysicalDevice handle = VK_NULL_HANDLE;
  std::string name;
  std::string type; ///< "discrete GPU", "integrated GPU", "CPU", ...
  std::uint32_t vendorId = 0, deviceId = 0;
  std::uint32_t apiVersion = 0, driverVersion = 0;
  std::string driverName, driverInfo; ///< Vulkan 1.2's driver properties
  std::array<std::uint8_t, VK_UUID_SIZE> pipelineCacheUUID{};

  bool float64 = false, int64 = false, int16 = false;
  bool float16 = false, int8 = false;       ///< arithmetic in shaders
  bool storage16 = false, storage8 = false; ///< 16/8-bit storage buffers
  bool timelineSemaphore = false;
  /// The Vulkan memory model, which kernels on cooperative matrices use
  /// (useVulkanMemoryModel).
  bool vulkanMemoryModel = false;
  /// 16x16x16 cooperative matrices of float16 accumulating into float32,
  /// per subgroup of 32 threads (VK_KHR_cooperative_matrix on Vulkan 1.3:
  /// its shaders are SPIR-V 1.6): Trueno's float16 matrix products run on
  /// them (tensor cores on NVIDIA). False with
  /// TRUENO_VULKAN_COOPERATIVE_MATRIX=0, and the device then does not
  /// enable the extension.
  bool cooperativeMatrix = false;
  /// The same of bfloat16 (VK_KHR_shader_bfloat16's bfloat16 cooperative
  /// matrices, where cooperativeMatrix): bfloat16 products run on them.
  /// TRUENO_VULKAN_COOPERATIVE_BF16=0 turns them off.
  bool cooperativeMatrixBf16 = false;
  /// Workgroup-scope cooperative matrices of flexible sizes, float16 (and
  /// bfloat16 where cooperativeMatrixBf16) x the same + float32 (VK_NV_
  /// cooperative_matrix2's workgroup scope and flexible dimensions, where
  /// cooperativeMatrix): one entry per workgroup size the device lists,
  /// with the granularities of M, N and K. Empty with
  /// TRUENO_VULKAN_COOPERATIVE_WORKGROUP=0; the device then does not
  /// enable the extension.
  struct WorkgroupMatrixShape {
    std::uint32_t invocations = 0, rows = 0, columns = 0, depth = 0;
    bool bfloat16 = false;
  };
  std::vector<WorkgroupMatrixShape> workgroupMatrices;
  /// Workgroup memory the driver keeps for itself in a kernel of
  /// workgroup-scope matrices (cooperativeMatrixWorkgroupScopeReserved
  /// SharedMemory): such a kernel's own is at most maxSharedMemoryBytes
  /// less this.
  std::uint32_t workgroupMatrixReservedBytes = 0;
  /// Tensor loads of such matrices (cooperativeMatrixTensorAddressing):
  /// TRUENO_VULKAN_COOPERATIVE_WORKGROUP_GLOBAL=tensor.
  bool workgroupTensorLoads = false;
  /// Float widths whose NaNs, infinities and signed zeros, and whose
  /// denormals, kernels can ask the driver to keep (Vulkan 1.2's float
  /// controls: shaderSignedZeroInfNanPreserveFloatN,
  /// shaderDenormPreserveFloatN), among the widths the device computes or
  /// stores.
  std::vector<unsigned> preserveNanInfWidths, preserveDenormWidths;
  std::uint32_t subgroupSize = 1;
  /// Whether compute shaders' subgroups elect and shuffle (Vulkan 1.1's
  /// subgroup properties: basic and shuffle operations in compute).
  bool subgroupShuffle = false;
  /// Whether subgroup operations take 8, 16 and 64-bit integers and 16-bit
  /// floats (shaderSubgroupExtendedTypes; enabled where present): int64
  /// row reductions shuffle only then.
  bool subgroupExtendedTypes = false;
  /// Storage buffers a dispatch may push into its command buffer
  /// (VK_KHR_push_descriptor's maxPushDescriptors), 0 without the
  /// extension or with TRUENO_VULKAN_PUSH_DESCRIPTORS=0: kernels binding at
  /// most this many need no descriptor set allocated and written per
  /// dispatch.
  std::uint32_t maxPushDescriptors = 0;
  /// Whether pipelines report their compiled code's statistics
  /// (VK_KHR_pipeline_executable_properties: registers, shared memory...),
  /// asked for by TRUENO_VULKAN_PIPELINE_STATISTICS=1 and printed for
  /// every pipeline created: a diagnostic (the driver then keeps more of
  /// each pipeline).
  bool pipelineStatistics = false;
  std::array<std::uint32_t, 3> maxWorkgroupCount{}, maxWorkgroupSize{};
  std::uint32_t maxWorkgroupInvocations = 0;
  std::uint32_t maxSharedMemoryBytes = 0;
  std::uint64_t maxStorageBufferRange = 0;
  std::uint32_t maxStorageBuffersPerStage = 0;
  /// Nanoseconds per timestamp tick, and whether the compute queue writes
  /// timestamps (its timestampValidBits).
  float timestampPeriod = 1;
  bool timestamps = false;
  /// A storage buffer binding's byte offset must be a multiple of this.
  std::uint64_t storageOffsetAlignment = 256;
  std::uint64_t deviceLocalBytes = 0; ///< the largest device-local heap
  /// The first queue family with compute, if there is one.
  std::int64_t computeQueueFamily = -1;

  /// Why Trueno cannot run kernels on it; empty when it can.
  std::string unusable;
  /// "vulkan:0 NVIDIA H200 (discrete GPU, driver 580.65.6, Vulkan 1.4.312)".
  std::string describe() const;
};

class VulkanInstance {
public:
  /// The process's instance, created at the first call; the error says why
  /// there is none (no loader, no driver, the validation layer asked for
  /// but not installed).
  static llvm::Expected<VulkanInstance &> get();

  ~VulkanInstance();
  VulkanInstance(const VulkanInstance &) = delete;
  VulkanInstance &operator=(const VulkanInstance &) = delete;

  VkInstance handle() const { return instance_; }
  const VulkanFunctions &functions() const { return functions_; }
  /// The API version the instance was created for.
  std::uint32_t apiVersion() const { return apiVersion_; }

  /// Every physical device, usable or not, in enumeration order.
  const std::vector<VulkanDeviceInfo> &devices() const { return devices_; }

  /// The device `setting` names (TRUENO_VULKAN_DEVICE: an index, or part of
  /// a name, case-insensitive), or with an empty setting the first usable
  /// discrete GPU, else integrated GPU, else any usable device. An error
  /// lists the devices when none matches or the match is unusable.
  llvm::Expected<const VulkanDeviceInfo &>
  select(std::string_view setting) const;

  /// Whether the Khronos validation layer is on, and the errors and
  /// warnings it reported so far.
  bool validating() const { return messenger_ != VK_NULL_HANDLE; }
  std::uint64_t validationErrors() const { return validationErrors_; }
  std::uint64_t validationWarnings() const { return validationWarnings_; }

private:
  VulkanInstance() = default;
  llvm::Error create();
  void discover();
  /// Whether `d` has 16x16x16 float16 x float16 + float32 cooperative
  /// matrices per subgroup of 32, with what the kernels need around them;
  /// and the same of bfloat16.
  struct CooperativeMatrixTypes {
    bool float16 = false, bfloat16 = false;
  };
  CooperativeMatrixTypes
  cooperativeMatrixTypes(const VulkanDeviceInfo &d) const;
  /// Fills `d`'s workgroupMatrices and workgroupMatrixReservedBytes (where
  /// d.cooperativeMatrix).
  void workgroupMatrices(VulkanDeviceInfo &d) const;
  /// Whether `d` lists the device extension `name` (false where the list
  /// cannot be read).
  bool hasExtension(const VulkanDeviceInfo &d, std::string_view name) const;
  /// `d`'s maxPushDescriptors where it has VK_KHR_push_descriptor and
  /// TRUENO_VULKAN_PUSH_DESCRIPTORS is not 0, else 0.
  std::uint32_t pushDescriptors(const VulkanDeviceInfo &d) const;
  /// Fills `features` (one feature structure, its sType set, pNext null)
  /// for `d`: asked on its own, since a chain with a structure the device
  /// does not know is not allowed.
  void queryFeatures(const VulkanDeviceInfo &d, void *features) const;
  /// Whether TRUENO_VULKAN_PIPELINE_STATISTICS=1 asks for, and `d` has,
  /// VK_KHR_pipeline_executable_properties' pipelineExecutableInfo.
  bool pipelineStatistics(const VulkanDeviceInfo &d) const;
  static VKAPI_ATTR VkBool32 VKAPI_CALL
  onMessage(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
            VkDebugUtilsMessageTypeFlagsEXT types,
            const VkDebugUtilsMessengerCallbackDataEXT *data, void *self);

  VulkanFunctions functions_;
  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  std::uint32_t apiVersion_ = 0;
  std::vector<VulkanDeviceInfo> devices_;
  std::atomic<std::uint64_t> validationErrors_ = 0, validationWarnings_ = 0;
};

/// "1.3.239" for a packed Vulkan version.
std::string versionString(std::uint32_t version);

} // namespace trueno::runtime::vulkan

#endif // TRUENO_RUNTIME_VULKAN_VULKANINSTANCE_H
