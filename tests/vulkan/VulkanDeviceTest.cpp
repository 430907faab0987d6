//===- VulkanDeviceTest.cpp - The Vulkan loader, instance and devices -----===//
//
// Runs wherever the tests run: with Vulkan (CI installs Mesa's lavapipe, a
// CPU driver, and the Khronos validation layer; ctest sets
// TRUENO_VULKAN_VALIDATION=1 and TRUENO_TEST_REQUIRE_VULKAN=1) the devices
// must be found with their capabilities and no validation message; without
// it, the error must say what to install.
//
//===----------------------------------------------------------------------===//
#include "VulkanTestUtil.h"
#include "trueno/Runtime/Vulkan/VulkanBuffer.h"
#include "trueno/Runtime/Vulkan/VulkanInstance.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace trueno::runtime::vulkan;
using trueno::testing::messageOf;
using trueno::testing::vulkanRequired;

namespace {

/// The instance, or null (and the reason printed) where this machine has
/// no Vulkan and the test does not require it.
VulkanInstance *instanceOrSkip() {
  llvm::Expected<VulkanInstance &> instance = VulkanInstance::get();
  if (instance)
    return &*instance;
  std::string why = messageOf(instance.takeError());
  if (vulkanRequired())
    FAIL("no Vulkan instance: " << why);
  MESSAGE("skipped: no Vulkan here: " << why);
  return nullptr;
}

} // namespace

TEST_CASE("a missing or foreign loader is a clear error") {
  llvm::Expected<VulkanFunctions> missing =
      openVulkanLoader("/nonexistent/libvulkan.so.1");
  REQUIRE_FALSE(missing);
  std::string why = messageOf(missing.takeError());
  CHECK(why.find("the Vulkan loader /nonexistent/libvulkan.so.1 cannot be "
                 "opened (install Debian's libvulkan1 and a driver") !=
        std::string::npos);
  // A library that is not a Vulkan loader.
  llvm::Expected<VulkanFunctions> foreign = openVulkanLoader("libm.so.6");
  REQUIRE_FALSE(foreign);
  CHECK(messageOf(foreign.takeError()) ==
        "the Vulkan loader libm.so.6 has no vkGetInstanceProcAddr");
}

TEST_CASE("Vulkan result codes are named") {
  CHECK(resultName(VK_ERROR_OUT_OF_DEVICE_MEMORY) ==
        "VK_ERROR_OUT_OF_DEVICE_MEMORY");
  CHECK(resultName(VK_ERROR_DEVICE_LOST) == "VK_ERROR_DEVICE_LOST");
  CHECK(resultName(static_cast<VkResult>(-12345)) == "VkResult -12345");
  CHECK(messageOf(check(VK_SUCCESS, "nothing")).empty());
  CHECK(messageOf(check(VK_ERROR_DEVICE_LOST, "submitting")) ==
        "submitting failed: VK_ERROR_DEVICE_LOST");
}

TEST_CASE("the devices and what each offers") {
  VulkanInstance *instance = instanceOrSkip();
  if (!instance)
    return;
  CHECK(instance->apiVersion() >= VK_API_VERSION_1_2);
  const auto &devices = instance->devices();
  if (vulkanRequired())
    REQUIRE_FALSE(devices.empty());
  for (const VulkanDeviceInfo &d : devices) {
    MESSAGE(d.describe());
    auto widths = [](const std::vector<unsigned> &list) {
      std::string text;
      for (unsigned w : list)
        text += " " + std::to_string(w);
      return text.empty() ? std::string(" none") : text;
    };
    MESSAGE("  float controls: keeps NaN, infinity, signed zero for"
            << widths(d.preserveNanInfWidths) << "; denormals for"
            << widths(d.preserveDenormWidths));
    for (unsigned w : d.preserveNanInfWidths)
      CHECK((w == 16 || w == 32 || w == 64));
    for (unsigned w : d.preserveDenormWidths)
      CHECK((w == 16 || w == 32 || w == 64));
    INFO(d.describe());
    CHECK(d.describe().starts_with("vulkan:" + std::to_string(d.index) + " " +
                                   d.name + " ("));
    CHECK_FALSE(d.name.empty());
    if (!d.unusable.empty())
      continue;
    // What Vulkan 1.2 guarantees of a device with a compute queue.
    CHECK(d.computeQueueFamily >= 0);
    CHECK(d.subgroupSize >= 1);
    CHECK(d.maxWorkgroupCount[0] >= 65535);
    CHECK(d.maxWorkgroupInvocations >= 128);
    CHECK(d.maxSharedMemoryBytes >= 16384);
    CHECK(d.maxStorageBufferRange >= (1u << 27));
    CHECK(d.deviceLocalBytes > 0);
  }
  // Mesa's lavapipe (what CI runs on) as Mesa 22.3 describes it.
  for (const VulkanDeviceInfo &d : devices)
    if (d.name.starts_with("llvmpipe")) {
      CHECK(d.type == "CPU");
      CHECK(d.driverName == "llvmpipe");
      CHECK(d.unusable.empty());
      CHECK(d.float64);
      CHECK(d.int64);
      CHECK(d.maxWorkgroupCount[0] == 65535);
      // Subgroups of 8 that shuffle (row reductions use them), and 32
      // pushed descriptors unless the test runs without them.
      CHECK(d.subgroupSize == 8);
      CHECK(d.subgroupShuffle);
      CHECK(d.subgroupExtendedTypes);
      const char *push = std::getenv("TRUENO_VULKAN_PUSH_DESCRIPTORS");
      CHECK(d.maxPushDescriptors ==
            (push && std::string_view(push) == "0" ? 0u : 32u));
    }
}

TEST_CASE("TRUENO_VULKAN_DEVICE picks a device by index or name") {
  VulkanInstance *instance = instanceOrSkip();
  if (!instance || instance->devices().empty())
    return;
  const VulkanDeviceInfo &first = instance->devices()[0];
  if (first.unusable.empty()) {
    llvm::Expected<const VulkanDeviceInfo &> byIndex = instance->select("0");
    REQUIRE(byIndex);
    CHECK(byIndex->handle == first.handle);
    // Part of the name, in any case.
    std::string part = first.name.substr(0, 4);
    for (char &c : part)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    llvm::Expected<const VulkanDeviceInfo &> byName = instance->select(part);
    REQUIRE(byName);
    CHECK(byName->name.find(first.name.substr(0, 4)) != std::string::npos);
  }
  llvm::Expected<const VulkanDeviceInfo &> best = instance->select("");
  if (best)
    CHECK(best->unusable.empty());
  else
    CHECK(messageOf(best.takeError()).starts_with("no usable Vulkan device:"));
  llvm::Expected<const VulkanDeviceInfo &> tooFar = instance->select("99");
  REQUIRE_FALSE(tooFar);
  CHECK(messageOf(tooFar.takeError())
            .starts_with("TRUENO_VULKAN_DEVICE=99: there are " +
                         std::to_string(instance->devices().size()) +
                         " Vulkan devices:\n  vulkan:0 "));
  llvm::Expected<const VulkanDeviceInfo &> unknown =
      instance->select("no-such-gpu");
  REQUIRE_FALSE(unknown);
  CHECK(messageOf(unknown.takeError())
            .starts_with("TRUENO_VULKAN_DEVICE=no-such-gpu names none of the "
                         "Vulkan devices:"));
}

TEST_CASE("device-local buffers: bytes in and out through staging") {
  VulkanInstance *instance = instanceOrSkip();
  if (!instance)
    return;
  llvm::Expected<const VulkanDeviceInfo &> info = instance->select("");
  if (!info) {
    std::string why = messageOf(info.takeError());
    if (vulkanRequired())
      FAIL(why);
    return;
  }
  llvm::Expected<std::shared_ptr<VulkanDevice>> created =
      VulkanDevice::create(*instance, *info);
  REQUIRE_MESSAGE(created, messageOf(created.takeError()));
  std::shared_ptr<VulkanDevice> device = *created;
  std::uint64_t before = device->liveBytes();
  {
    // Not a multiple of 4, and larger than the first staging buffer.
    std::size_t n = (3 << 20) + 3;
    llvm::Expected<std::shared_ptr<VulkanBuffer>> buffer = device->allocate(n);
    REQUIRE_MESSAGE(buffer, messageOf(buffer.takeError()));
    CHECK((*buffer)->hostAddress() == nullptr);
    CHECK((*buffer)->device().name() ==
          "vulkan:" + std::to_string(info->index));
    CHECK(device->liveBytes() == before + n);
    std::mt19937 rng(7);
    std::vector<std::uint8_t> bytes(n), back(n, 0);
    for (std::uint8_t &b : bytes)
      b = static_cast<std::uint8_t>(rng());
    REQUIRE(messageOf(device->upload(**buffer, 0, bytes.data(), n)).empty());
    REQUIRE(messageOf(device->download(back.data(), **buffer, 0, n)).empty());
    CHECK(back == bytes);
    // A piece at an odd offset, read back from another.
    std::vector<std::uint8_t> piece(1001, 0xab), got(2000, 0);
    REQUIRE(
        messageOf(device->upload(**buffer, 12345, piece.data(), piece.size()))
            .empty());
    REQUIRE(messageOf(device->download(got.data(), **buffer, 12000, got.size()))
                .empty());
    for (std::size_t i = 0; i < got.size(); ++i) {
      std::size_t at = 12000 + i;
      std::uint8_t want = at >= 12345 && at < 12345 + 1001 ? 0xab : bytes[at];
      if (got[i] != want)
        FAIL("byte " << at << " is " << int(got[i]) << ", not " << int(want));
    }
    // Past the end: an error naming the range, nothing copied.
    CHECK(messageOf(device->upload(**buffer, n - 2, piece.data(), 3))
              .ends_with("an upload of 3 bytes at " + std::to_string(n - 2) +
                         " past the end of a buffer of " + std::to_string(n)));
    CHECK(messageOf(device->download(got.data(), **buffer, n + 1, 0))
              .find("past the end") != std::string::npos);
  }
  CHECK(device->liveBytes() == before);
  // Zero bytes: a buffer without Vulkan objects; more than the device has:
  // refused before Vulkan is asked (the validation layer would object).
  llvm::Expected<std::shared_ptr<VulkanBuffer>> empty = device->allocate(0);
  REQUIRE(empty);
  CHECK((*empty)->handle() == VK_NULL_HANDLE);
  CHECK(messageOf(device->upload(**empty, 0, nullptr, 0)).empty());
  llvm::Expected<std::shared_ptr<VulkanBuffer>> huge =
      device->allocate(std::size_t(1) << 62);
  REQUIRE_FALSE(huge);
  CHECK(messageOf(huge.takeError())
            .find("allocating 4611686018427387904 bytes of device memory: "
                  "the device has ") != std::string::npos);
}

TEST_CASE("the validation layer reported nothing") {
  VulkanInstance *instance = instanceOrSkip();
  if (!instance)
    return;
  // The layer must be on where it was asked for (as ctest asks) on a
  // machine that must have Vulkan; a run without it (on a GPU, where the
  // layer predates cooperative matrices) only counts nothing.
  const char *asked = std::getenv("TRUENO_VULKAN_VALIDATION");
  if (vulkanRequired() && asked && *asked && std::string(asked) != "0")
    CHECK(instance->validating());
  CHECK(instance->validationErrors() == 0);
  CHECK(instance->validationWarnings() == 0);
}
