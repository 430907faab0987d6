//===- VulkanKernel.cpp - One compute pipeline ----------------------------===//
#include "trueno/Runtime/Vulkan/VulkanKernel.h"

#include <cstdio>
#include <string>
#include <vector>

namespace trueno::runtime::vulkan {

llvm::Expected<std::unique_ptr<VulkanKernel>>
VulkanKernel::create(std::shared_ptr<VulkanDevice> device,
                     const std::vector<std::uint32_t> &words,
                     const std::string &entryPoint, int bindings,
                     VkPipelineCache cache) {
  std::unique_ptr<VulkanKernel> kernel(new VulkanKernel(device, bindings));
  const VulkanDeviceFunctions &vk = device->functions();
  VkDevice handle = device->handle();
  auto failed = [&](VkResult r, const char *what) {
    return device->failure(llvm::Twine(what) + " for kernel " + entryPoint +
                           " failed: " + resultName(r));
  };

  VkShaderModuleCreateInfo shader{};
  shader.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
  shader.codeSize = words.size() * sizeof(std::uint32_t);
  shader.pCode = words.data();
  if (VkResult r =
          vk.vkCreateShaderModule(handle, &shader, nullptr, &kernel->module_);
      r != VK_SUCCESS)
    return failed(r, "vkCreateShaderModule");

  std::vector<VkDescriptorSetLayoutBinding> layout(
      static_cast<std::size_t>(bindings));
  for (int i = 0; i < bindings; ++i) {
    layout[i].binding = static_cast<std::uint32_t>(i);
    layout[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    layout[i].descriptorCount = 1;
    layout[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo set{};
  set.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
  // Pushed descriptors: no set to allocate and write per dispatch, which
  // was a third of a training step's host time per submission on lavapipe.
  kernel->pushes_ =
      bindings <= static_cast<int>(device->info().maxPushDescriptors);
  if (kernel->pushes_)
    set.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
  set.bindingCount = static_cast<std::uint32_t>(bindings);
  set.pBindings = layout.data();
  if (VkResult r = vk.vkCreateDescriptorSetLayout(handle, &set, nullptr,
                                                  &kernel->setLayout_);
      r != VK_SUCCESS)
    return failed(r, "vkCreateDescriptorSetLayout");

  VkPipelineLayoutCreateInfo pipelineLayout{};
  pipelineLayout.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
  pipelineLayout.setLayoutCount = 1;
  pipelineLayout.pSetLayouts = &kernel->setLayout_;
  if (VkResult r = vk.vkCreatePipelineLayout(handle, &pipelineLayout, nullptr,
                                             &kernel->pipelineLayout_);
      r != VK_SUCCESS)
    return failed(r, "vkCreatePipelineLayout");

  VkComputePipelineCreateInfo pipeline{};
  pipeline.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
  pipeline.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  pipeline.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  pipeline.stage.module = kernel->module_;
  pipeline.stage.pName = entryPoint.c_str();
  pipeline.layout = kernel->pipelineLayout_;
  const bool statistics = device->info().pipelineStatistics;
  if (statistics)
    pipeline.flags = VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR;
  if (VkResult r = vk.vkCreateComputePipelines(handle, cache, 1, &pipeline,
                                               nullptr, &kernel->pipeline_);
      r != VK_SUCCESS)
    return failed(r, "vkCreateComputePipelines");
  if (statistics)
    kernel->printStatistics(entryPoint, words.size());
  return kernel;
}

void VulkanKernel::printStatistics(const std::string &entryPoint,
                                   std::size_t words) const {
  const VulkanDeviceFunctions &vk = device_->functions();
  VkDevice handle = device_->handle();
  VkPipelineInfoKHR info{};
  info.sType = VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR;
  info.pipeline = pipeline_;
  std::uint32_t count = 0;
  if (!vk.vkGetPipelineExecutablePropertiesKHR ||
      vk.vkGetPipelineExecutablePropertiesKHR(handle, &info, &count, nullptr) !=
          VK_SUCCESS)
    return;
  for (std::uint32_t e = 0; e < count; ++e) {
    VkPipelineExecutableInfoKHR executable{};
    executable.sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR;
    executable.pipeline = pipeline_;
    executable.executableIndex = e;
    std::uint32_t n = 0;
    if (vk.vkGetPipelineExecutableStatisticsKHR(handle, &executable, &n,
                                                nullptr) != VK_SUCCESS)
      continue;
    std::vector<VkPipelineExecutableStatisticKHR> stats(n);
    for (VkPipelineExecutableStatisticKHR &s : stats)
      s.sType = VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR;
    if (vk.vkGetPipelineExecutableStatisticsKHR(handle, &executable, &n,
                                                stats.data()) != VK_SUCCESS)
      continue;
    std::string line;
    for (const VkPipelineExecutableStatisticKHR &s : stats) {
      line += "; ";
      line += s.name;
      line += " ";
      switch (s.format) {
      case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR:
        line += s.value.b32 ? "true" : "false";
        break;
      case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR:
        line += std::to_string(s.value.i64);
        break;
      case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR:
        line += std::to_string(s.value.u64);
        break;
      case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_FLOAT64_KHR:
        line += std::to_string(s.value.f64);
        break;
      default:
        line += "?";
      }
    }
    std::fprintf(stderr, "trueno: vulkan pipeline %s (%zu SPIR-V words)%s\n",
                 entryPoint.c_str(), words, line.c_str());
  }
}

VulkanKernel::~VulkanKernel() {
  const VulkanDeviceFunctions &vk = device_->functions();
  VkDevice handle = device_->handle();
  if (pipeline_)
    vk.vkDestroyPipeline(handle, pipeline_, nullptr);
  if (pipelineLayout_)
    vk.vkDestroyPipelineLayout(handle, pipelineLayout_, nullptr);
  if (setLayout_)
    vk.vkDestroyDescriptorSetLayout(handle, setLayout_, nullptr);
  if (module_)
    vk.vkDestroyShaderModule(handle, module_, nullptr);
}

} // namespace trueno::runtime::vulkan
