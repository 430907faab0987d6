//===- VulkanDispatchTest.cpp - Compiled kernels run on a device ----------===//
//
// The whole path below the frontend: trueno IR through the Vulkan pipeline
// to SPIR-V, a compute pipeline on the device, inputs uploaded, the kernel
// dispatched, the result downloaded and compared with the same arithmetic
// on the host (float32 exp as the CPU's polynomial: within 2 ulp of libm).
// Pipelines also go through a VkPipelineCache whose stored bytes are
// checked against the device before use. Calls made while the device is
// busy share a submission and still run in order.
// On CI the device is Mesa's lavapipe; with TRUENO_TEST_REQUIRE_VULKAN=1 a
// missing device is a failure, and the validation layer must stay silent.
//
//===----------------------------------------------------------------------===//
#include "VulkanTestUtil.h"
#include "trueno/Runtime/Counters.h"
#include "trueno/Runtime/Vulkan/VulkanBuffer.h"
#include "trueno/Runtime/Vulkan/VulkanKernel.h"
#include "trueno/Runtime/Vulkan/VulkanPipelineCache.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>
#include <string>

using namespace trueno::runtime::vulkan;
using trueno::testing::messageOf;
using trueno::testing::vulkanRequired;

namespace {

/// The device the tests run on, or null where there is none and none is
/// required.
std::shared_ptr<VulkanDevice> testDevice() {
  static std::shared_ptr<VulkanDevice> device = [] {
    std::string why;
    if (llvm::Expected<VulkanInstance &> instance = VulkanInstance::get()) {
      if (llvm::Expected<const VulkanDeviceInfo &> info =
              instance->select("")) {
        if (auto created = VulkanDevice::create(*instance, *info))
          return *created;
        else
          why = messageOf(created.takeError());
      } else {
        why = messageOf(info.takeError());
      }
    } else {
      why = messageOf(instance.takeError());
    }
    if (vulkanRequired())
      FAIL("no Vulkan device: " << why);
    MESSAGE("skipped: " << why);
    return std::shared_ptr<VulkanDevice>();
  }();
  return device;
}

/// `source` lowered for `device`'s capabilities and serialized.
std::vector<mlir::trueno::SpirvKernel> compile(const std::string &source,
                                               const VulkanDevice &device) {
  const VulkanDeviceInfo &info = device.info();
  mlir::trueno::VulkanPipelineOptions options;
  options.float64 = info.float64;
  options.int64 = info.int64;
  options.maxWorkgroupCount = info.maxWorkgroupCount[0];
  trueno::testing::CompiledKernels compiled =
      trueno::testing::compileForVulkan(source, options);
  REQUIRE_MESSAGE(compiled.ok, compiled.diagnostics);
  return std::move(compiled.kernels);
}

std::shared_ptr<VulkanBuffer> upload(VulkanDevice &device,
                                     const std::vector<float> &values) {
  auto buffer = device.allocate(values.size() * sizeof(float));
  REQUIRE_MESSAGE(buffer, messageOf(buffer.takeError()));
  REQUIRE(messageOf(device.upload(**buffer, 0, values.data(),
                                  values.size() * sizeof(float)))
              .empty());
  return *buffer;
}

std::vector<float> download(VulkanDevice &device, VulkanBuffer &buffer) {
  std::vector<float> values(buffer.size() / sizeof(float));
  REQUIRE(messageOf(device.download(values.data(), buffer, 0, buffer.size()))
              .empty());
  return values;
}

/// The workgroups a compiled kernel is launched over.
std::array<std::uint32_t, 3>
workgroupsOf(const mlir::trueno::SpirvKernel &compiled) {
  std::array<std::uint32_t, 3> groups;
  for (int k = 0; k < 3; ++k)
    groups[k] = static_cast<std::uint32_t>(compiled.workgroupCount[k]);
  return groups;
}

void run(VulkanDevice &device, std::shared_ptr<VulkanDevice> shared,
         const mlir::trueno::SpirvKernel &compiled,
         std::vector<VulkanBuffer *> buffers) {
  auto kernel = VulkanKernel::create(shared, compiled.words,
                                     compiled.entryPoint, compiled.bindings);
  REQUIRE_MESSAGE(kernel, messageOf(kernel.takeError()));
  REQUIRE(messageOf(device.dispatch(**kernel, buffers, workgroupsOf(compiled)))
              .empty());
}

/// The validation layer (on under ctest) reported nothing so far.
void checkNoValidationMessages() {
  if (llvm::Expected<VulkanInstance &> instance = VulkanInstance::get()) {
    CHECK(instance->validationErrors() == 0);
    CHECK(instance->validationWarnings() == 0);
  } else {
    llvm::consumeError(instance.takeError());
  }
}

} // namespace

TEST_CASE("exp(a * b + c) runs on the device and matches the host") {
  std::shared_ptr<VulkanDevice> device = testDevice();
  if (!device)
    return;
  // 1000 elements: 16 workgroups of 64, the last one partly idle.
  auto kernels = compile(R"(
    func.func @chain(%a: tensor<1000xf32>, %b: tensor<1000xf32>,
                     %c: tensor<1000xf32>) -> tensor<1000xf32> {
      %0 = trueno.mul %a, %b : tensor<1000xf32>
      %1 = trueno.add %0, %c : tensor<1000xf32>
      %2 = trueno.exp %1 : tensor<1000xf32>
      return %2 : tensor<1000xf32>
    }
  )",
                         *device);
  REQUIRE(kernels.size() == 1);
  CHECK(kernels[0].workgroupCount == std::array<std::int64_t, 3>{16, 1, 1});
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  std::vector<float> a(1000), b(1000), c(1000);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = uniform(rng);
    b[i] = uniform(rng);
    c[i] = uniform(rng);
  }
  auto ba = upload(*device, a), bb = upload(*device, b),
       bc = upload(*device, c);
  auto out = upload(*device, std::vector<float>(1000, -1.0f));
  run(*device, device, kernels[0], {ba.get(), bb.get(), bc.get(), out.get()});
  std::vector<float> got = download(*device, *out);
  for (std::size_t i = 0; i < got.size(); ++i) {
    double want = std::exp(double(a[i]) * b[i] + c[i]);
    if (std::abs(got[i] - want) > 4e-7 * want)
      FAIL("element " << i << ": " << got[i] << ", want " << want);
  }
  checkNoValidationMessages();
}

TEST_CASE("a broadcast row and a 2-D grid of workgroups") {
  std::shared_ptr<VulkanDevice> device = testDevice();
  if (!device)
    return;
  auto kernels = compile(R"(
    func.func @scale(%x: tensor<70x33xf32>, %row: tensor<33xf32>)
        -> tensor<70x33xf32> {
      %r = trueno.expand %row : tensor<33xf32> to tensor<70x33xf32>
      %0 = trueno.mul %x, %r : tensor<70x33xf32>
      %1 = trueno.maximum %0, %r : tensor<70x33xf32>
      return %1 : tensor<70x33xf32>
    }
  )",
                         *device);
  REQUIRE(kernels.size() == 1);
  std::vector<float> x(70 * 33), row(33);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(i % 17) - 8.0f;
  for (std::size_t j = 0; j < row.size(); ++j)
    row[j] = 0.25f * static_cast<float>(j) - 3.0f;
  auto bx = upload(*device, x), brow = upload(*device, row);
  auto out = upload(*device, std::vector<float>(x.size(), 0.0f));
  run(*device, device, kernels[0], {bx.get(), brow.get(), out.get()});
  std::vector<float> got = download(*device, *out);
  for (std::size_t i = 0; i < 70; ++i)
    for (std::size_t j = 0; j < 33; ++j) {
      float want = std::max(x[i * 33 + j] * row[j], row[j]);
      if (got[i * 33 + j] != want)
        FAIL("element (" << i << ", " << j << "): " << got[i * 33 + j]
                         << ", want " << want);
    }
  checkNoValidationMessages();
}

TEST_CASE("dispatch refuses the wrong buffers and workgroup counts") {
  std::shared_ptr<VulkanDevice> device = testDevice();
  if (!device)
    return;
  auto kernels = compile(R"(
    func.func @neg(%a: tensor<64xf32>) -> tensor<64xf32> {
      %0 = trueno.neg %a : tensor<64xf32>
      return %0 : tensor<64xf32>
    }
  )",
                         *device);
  REQUIRE(kernels.size() == 1);
  auto kernel = VulkanKernel::create(
      device, kernels[0].words, kernels[0].entryPoint, kernels[0].bindings);
  REQUIRE(kernel);
  auto a = upload(*device, std::vector<float>(64, 1.0f));
  std::vector<VulkanBuffer *> one = {a.get()};
  CHECK(messageOf(device->dispatch(**kernel, one, {1, 1, 1}))
            .ends_with("a kernel of 2 bindings dispatched with 1 buffers"));
  std::vector<VulkanBuffer *> two = {a.get(), a.get()};
  CHECK(messageOf(device->dispatch(**kernel, two, {0, 1, 1}))
            .find("a dispatch of 0 workgroups in dimension 0") !=
        std::string::npos);
  checkNoValidationMessages();
}

TEST_CASE("pipelines through a pipeline cache, whose bytes are checked "
          "before the driver sees them") {
  std::shared_ptr<VulkanDevice> device = testDevice();
  if (!device)
    return;
  auto kernels = compile(R"(
    func.func @twice(%a: tensor<300xf32>) -> tensor<300xf32> {
      %0 = trueno.add %a, %a : tensor<300xf32>
      return %0 : tensor<300xf32>
    }
  )",
                         *device);
  REQUIRE(kernels.size() == 1);
  const mlir::trueno::SpirvKernel &k = kernels[0];
  std::vector<float> a(300);
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<float>(i) - 100.5f;
  // A kernel created through `cache` computes 2a.
  auto runThrough = [&](const VulkanPipelineCache &cache) {
    auto kernel = VulkanKernel::create(device, k.words, k.entryPoint,
                                       k.bindings, cache.handle());
    REQUIRE_MESSAGE(kernel, messageOf(kernel.takeError()));
    auto in = upload(*device, a);
    auto out = upload(*device, std::vector<float>(300, 0.0f));
    VulkanBuffer *buffers[] = {in.get(), out.get()};
    REQUIRE(
        messageOf(device->dispatch(
                      **kernel, buffers,
                      {static_cast<std::uint32_t>(k.workgroupCount[0]), 1, 1}))
            .empty());
    std::vector<float> twice = download(*device, *out);
    for (std::size_t i = 0; i < a.size(); ++i)
      REQUIRE(twice[i] == 2 * a[i]);
  };

  auto empty = VulkanPipelineCache::create(device);
  REQUIRE_MESSAGE(empty, messageOf(empty.takeError()));
  CHECK_FALSE((*empty)->primed());
  runThrough(**empty);
  auto data = (*empty)->data();
  REQUIRE_MESSAGE(data, messageOf(data.takeError()));
  // Vulkan's header: this device's vendor, device and UUID.
  const VulkanDeviceInfo &info = device->info();
  CHECK(VulkanPipelineCache::mismatch(*data, info) == std::nullopt);
  auto primed = VulkanPipelineCache::create(device, *data);
  REQUIRE_MESSAGE(primed, messageOf(primed.takeError()));
  CHECK((*primed)->primed());
  runThrough(**primed);

  // Bytes of another device or driver, or no header at all, never reach
  // the driver: the cache starts empty and pipelines are still created.
  auto changed = [&](std::size_t at, char value) {
    std::string bytes = *data;
    bytes[at] = value;
    return bytes;
  };
  const std::pair<std::string, std::string> foreign[] = {
      {data->substr(0, 20), "shorter than a pipeline cache header"},
      {changed(0, 8), "a header length out of range"},
      {changed(4, 2), "an unknown header version"},
      {changed(8, static_cast<char>(data->at(8) ^ 1)), "another device's"},
      {changed(12, static_cast<char>(data->at(12) ^ 1)), "another device's"},
      {changed(20, static_cast<char>(data->at(20) ^ 1)),
       "another driver's (pipeline-cache UUID)"},
  };
  for (const auto &[bytes, why] : foreign) {
    CAPTURE(why);
    CHECK(VulkanPipelineCache::mismatch(bytes, info) == why);
    auto cache = VulkanPipelineCache::create(device, bytes);
    REQUIRE_MESSAGE(cache, messageOf(cache.takeError()));
    CHECK_FALSE((*cache)->primed());
    runThrough(**cache);
  }
  checkNoValidationMessages();
}

TEST_CASE("calls made while the device is busy share a submission, in "
          "order") {
  std::shared_ptr<VulkanDevice> device = testDevice();
  if (!device)
    return;
  auto kernels = compile(R"(
    func.func @slow(%a: tensor<1048576xf32>) -> tensor<1048576xf32> {
      %0 = trueno.exp %a : tensor<1048576xf32>
      return %0 : tensor<1048576xf32>
    }
    func.func @step(%a: tensor<256xf32>, %b: tensor<256xf32>)
        -> tensor<256xf32> {
      %0 = trueno.add %a, %a : tensor<256xf32>
      %1 = trueno.sub %0, %b : tensor<256xf32>
      return %1 : tensor<256xf32>
    }
  )",
                         *device);
  REQUIRE(kernels.size() == 2);
  std::vector<std::shared_ptr<VulkanKernel>> made;
  for (const mlir::trueno::SpirvKernel &k : kernels) {
    auto kernel =
        VulkanKernel::create(device, k.words, k.entryPoint, k.bindings);
    REQUIRE_MESSAGE(kernel, messageOf(kernel.takeError()));
    made.push_back(std::move(*kernel));
  }
  const bool slowFirst =
      kernels[0].entryPoint.find("slow") != std::string::npos;
  const VulkanKernel &slow = *made[slowFirst ? 0 : 1];
  const VulkanKernel &step = *made[slowFirst ? 1 : 0];
  auto big = upload(*device, std::vector<float>(1 << 20, 0.5f));
  auto bigOut = upload(*device, std::vector<float>(1 << 20, 0.0f));
  VulkanCommand slowCommand;
  slowCommand.kernel = &slow;
  slowCommand.groups = workgroupsOf(kernels[slowFirst ? 0 : 1]);
  slowCommand.bindings = {{big->handle(), 0}, {bigOut->handle(), 0}};

  // How long one slow dispatch runs; then enough of them, in each of two
  // batches, to keep the device busy for about 50 ms.
  std::uint64_t busy = device->busyNanos();
  auto start = std::chrono::steady_clock::now();
  REQUIRE(messageOf(device->submit({&slowCommand, 1})).empty());
  REQUIRE(messageOf(device->synchronize()).empty());
  double one = device->busyNanos() > busy
                   ? static_cast<double>(device->busyNanos() - busy)
                   : std::chrono::duration<double, std::nano>(
                         std::chrono::steady_clock::now() - start)
                         .count();
  auto repeats = static_cast<std::size_t>(std::clamp(50e6 / one, 1.0, 4000.0));
  std::vector<VulkanCommand> slowBatch(repeats, slowCommand);
  // An upload last keeps each slow batch one submission on every device:
  // early submission (a GPU's, where a long call starts while the host
  // records the rest) cuts only commands after a call's last upload. Cut,
  // a batch's short last part could end while the calls below are made,
  // and they would rightly take a second submission (an H100 used 7).
  auto mark = upload(*device, std::vector<float>(4, 0.0f));
  const float markValue = 1.0f;
  VulkanCommand markCommand;
  markCommand.kind = VulkanCommand::Upload;
  markCommand.to = mark->handle();
  markCommand.bytes = sizeof(float);
  markCommand.host = &markValue;
  slowBatch.push_back(markCommand);

  // 20 calls of a chain, each an upload of its own and a dispatch reading
  // the result of the call before: x <- 2x - k, with x and k small
  // integers, exact in float32, and wrong if any call ran out of order.
  // Each upload is `uploadFloats` floats (the kernel reads 256): more than
  // an open batch has staging memory for splits it. The submissions used.
  const int kCalls = 20;
  auto chain = [&](std::size_t uploadFloats, bool slowBatches) {
    auto x = upload(*device, std::vector<float>(256, 1.0f));
    auto y = upload(*device, std::vector<float>(256, 0.0f));
    std::vector<std::shared_ptr<VulkanBuffer>> ks;
    std::vector<std::vector<float>> hostKs;
    double want = 1.0;
    for (int i = 0; i < kCalls; ++i) {
      auto k = device->allocate(uploadFloats * sizeof(float));
      REQUIRE(k);
      ks.push_back(std::move(*k));
      hostKs.emplace_back(uploadFloats, static_cast<float>((i * 7) % 4));
      want = 2 * want - hostKs.back()[0];
    }
    std::int64_t submissions = trueno::runtime::counters().deviceSubmissions;
    std::uint64_t busyBefore = device->busyNanos();
    auto began = std::chrono::steady_clock::now();
    if (slowBatches)
      for (int b = 0; b < 2; ++b)
        REQUIRE(messageOf(device->submit(slowBatch)).empty());
    for (int i = 0; i < kCalls; ++i) {
      auto at = static_cast<std::size_t>(i);
      VulkanBuffer &from = i % 2 ? *y : *x, &to = i % 2 ? *x : *y;
      VulkanCommand commands[2];
      commands[0].kind = VulkanCommand::Upload;
      commands[0].to = ks[at]->handle();
      commands[0].bytes = uploadFloats * sizeof(float);
      commands[0].host = hostKs[at].data();
      commands[1].kernel = &step;
      commands[1].groups = workgroupsOf(kernels[slowFirst ? 1 : 0]);
      commands[1].bindings = {
          {from.handle(), 0}, {ks[at]->handle(), 0}, {to.handle(), 0}};
      REQUIRE(messageOf(device->submit(commands)).empty());
    }
    double recording = std::chrono::duration<double, std::nano>(
                           std::chrono::steady_clock::now() - began)
                           .count();
    REQUIRE(messageOf(device->synchronize()).empty());
    std::int64_t used =
        trueno::runtime::counters().deviceSubmissions - submissions;
    std::vector<float> got = download(*device, kCalls % 2 ? *y : *x);
    for (std::size_t i = 0; i < got.size(); ++i)
      if (got[i] != want)
        FAIL("element " << i << ": " << got[i] << ", want " << want);
    // While the first slow batch ran (half the device's time), every call
    // found two batches still to run: they share submissions.
    double slowBatchNanos =
        static_cast<double>(device->busyNanos() - busyBefore) / 2;
    bool busyThroughout =
        device->busyNanos() > busyBefore && recording < slowBatchNanos / 2;
    CAPTURE(repeats);
    CAPTURE(recording);
    CAPTURE(slowBatchNanos);
    const char *merge = std::getenv("TRUENO_VULKAN_MERGE");
    if (merge && std::string(merge) == "0")
      CHECK(used == (slowBatches ? 2 : 0) + kCalls);
    else if (slowBatches && uploadFloats == 256 && busyThroughout)
      CHECK(used == 3);
    else if (slowBatches && uploadFloats == 256)
      MESSAGE("the device ran the slow batches before the calls were made: "
              << used << " submissions");
    return used;
  };
  chain(256, /*slowBatches=*/true);
  // 64 KiB uploads: the calls fill open batches and go on in new ones.
  chain(16384, /*slowBatches=*/true);
  // An idle device: the first calls are submitted alone.
  CHECK(chain(256, /*slowBatches=*/false) >= 2);
  checkNoValidationMessages();
}

TEST_CASE("a long call reaches an idle device in pieces, in order") {
  std::shared_ptr<VulkanDevice> device = testDevice();
  if (!device)
    return;
  auto kernels = compile(R"(
    func.func @step(%a: tensor<4096xf32>, %b: tensor<4096xf32>)
        -> tensor<4096xf32> {
      %0 = trueno.neg %a : tensor<4096xf32>
      %1 = trueno.add %0, %b : tensor<4096xf32>
      return %1 : tensor<4096xf32>
    }
  )",
                         *device);
  REQUIRE(kernels.size() == 1);
  auto kernel = VulkanKernel::create(
      device, kernels[0].words, kernels[0].entryPoint, kernels[0].bindings);
  REQUIRE_MESSAGE(kernel, messageOf(kernel.takeError()));
  // One call of 64 dispatches, each reading the one before's result:
  // x <- k - x, small integers exact in float32, and wrong if a piece ran out
  // of order or a piece's commands ran twice or not at all.
  const int kSteps = 64;
  std::vector<std::shared_ptr<VulkanBuffer>> ks;
  double want = 1.0;
  for (int i = 0; i < kSteps; ++i) {
    float k = static_cast<float>((i * 5) % 7);
    ks.push_back(upload(*device, std::vector<float>(4096, k)));
    want = k - want;
  }
  auto run = [&](std::size_t earlyAfter) {
    auto x = upload(*device, std::vector<float>(4096, 1.0f));
    auto y = upload(*device, std::vector<float>(4096, 0.0f));
    std::vector<VulkanCommand> commands(kSteps);
    for (int i = 0; i < kSteps; ++i) {
      VulkanBuffer &from = i % 2 ? *y : *x, &to = i % 2 ? *x : *y;
      VulkanCommand &c = commands[static_cast<std::size_t>(i)];
      c.kernel = kernel->get();
      c.groups = workgroupsOf(kernels[0]);
      c.bindings = {{from.handle(), 0},
                    {ks[static_cast<std::size_t>(i)]->handle(), 0},
                    {to.handle(), 0}};
    }
    REQUIRE(messageOf(device->synchronize()).empty()); // idle
    device->setEarlySubmission(earlyAfter);
    std::int64_t before = trueno::runtime::counters().deviceSubmissions;
    REQUIRE(messageOf(device->submit(commands)).empty());
    REQUIRE(messageOf(device->synchronize()).empty());
    std::int64_t used = trueno::runtime::counters().deviceSubmissions - before;
    std::vector<float> got = download(*device, (kSteps - 1) % 2 ? *x : *y);
    for (std::size_t i = 0; i < got.size(); ++i)
      if (got[i] != want)
        FAIL("element " << i << ": " << got[i] << ", want " << want);
    return used;
  };
  // The device is idle when the 8th command is recorded: the first piece
  // goes then, the rest whenever the device has finished what it has.
  // Descriptor sets come from the batch's pool: a call that uses them
  // (TRUENO_VULKAN_PUSH_DESCRIPTORS=0) goes whole.
  const bool pushed = (*kernel)->pushesDescriptors();
  CAPTURE(pushed);
  CHECK((run(8) >= 2) == pushed);
  CHECK((run(1) >= 2) == pushed);
  CHECK(run(0) == 1);
  device->setEarlySubmission(0);
  checkNoValidationMessages();
}

TEST_CASE("float64 remainders compile and run without Int64") {
  std::shared_ptr<VulkanDevice> device = testDevice();
  if (!device)
    return;
  if (!device->info().float64) {
    MESSAGE("skipped: the device has no float64");
    return;
  }
  // Compiled as for a device with Float64 but not Int64: the sign of a
  // zero remainder (copysign(0, b)) by comparisons, not bits. Quotients
  // are small, so OpFRem's result is exact.
  mlir::trueno::VulkanPipelineOptions options;
  options.float64 = true;
  options.int64 = false;
  options.maxWorkgroupCount = device->info().maxWorkgroupCount[0];
  trueno::testing::CompiledKernels compiled =
      trueno::testing::compileForVulkan(R"(
    func.func @remainder(%a: tensor<512xf64>, %b: tensor<512xf64>) -> tensor<512xf64> {
      %0 = trueno.remainder %a, %b : tensor<512xf64>
      return %0 : tensor<512xf64>
    }
  )",
                                        options);
  REQUIRE_MESSAGE(compiled.ok, compiled.diagnostics);
  REQUIRE(compiled.kernels.size() == 1);
  std::vector<std::uint32_t> &words = compiled.kernels[0].words;
  // No OpCapability Int64 (17, 2 words: 0x00020011 then 11).
  for (std::size_t i = 0; i + 1 < words.size(); ++i)
    CHECK_FALSE((words[i] == 0x00020011u && words[i + 1] == 11u));
  const double divisors[] = {3.0, -3.0, 0.5, -0.5, 7.25, -7.25, 0.125, -0.0};
  std::vector<double> a(512), b(512);
  for (std::size_t i = 0; i < a.size(); ++i) {
    b[i] = divisors[i % 8];
    // Multiples of the divisor (zero remainders, whose sign is b's) and
    // values between them.
    double k = static_cast<double>(static_cast<int>(i / 8) - 32);
    a[i] = i % 3 == 0 ? k * b[i] : k * 1.375;
  }
  auto toDevice = [&](const std::vector<double> &values) {
    auto buffer = device->allocate(values.size() * sizeof(double));
    REQUIRE(buffer);
    REQUIRE(messageOf(device->upload(**buffer, 0, values.data(),
                                     values.size() * sizeof(double)))
                .empty());
    return std::move(*buffer);
  };
  auto ba = toDevice(a), bb = toDevice(b), out = toDevice(a);
  run(*device, device, compiled.kernels[0], {ba.get(), bb.get(), out.get()});
  std::vector<double> got(512);
  REQUIRE(messageOf(device->download(got.data(), *out, 0, 512 * sizeof(double)))
              .empty());
  for (std::size_t i = 0; i < got.size(); ++i) {
    double r = std::fmod(a[i], b[i]);
    if (r != 0 && (r < 0) != (b[i] < 0))
      r += b[i];
    if (r == 0)
      r = std::copysign(0.0, b[i]);
    CAPTURE(i);
    CAPTURE(a[i]);
    CAPTURE(b[i]);
    if (std::isnan(r))
      CHECK(std::isnan(got[i]));
    else
      CHECK((got[i] == r && std::signbit(got[i]) == std::signbit(r)));
  }
  checkNoValidationMessages();
}

TEST_CASE("kernels moved to the Vulkan memory model run as they did") {
  // useVulkanMemoryModel, which kernels on cooperative matrices take (a
  // device without them never runs one), applied to kernels that share
  // workgroup memory between invocations through barriers: a product on
  // float32 tiles and a row reduction (a fill, then the rows reduced by
  // workgroups). Each program runs as compiled and moved to the Vulkan
  // memory model on the same inputs: the same bits.
  std::shared_ptr<VulkanDevice> device = testDevice();
  if (!device)
    return;
  if (!device->info().vulkanMemoryModel) {
    MESSAGE("skipped: the device has no Vulkan memory model");
    return;
  }
  struct Case {
    const char *source;
    std::vector<std::size_t> inputs; // elements of each input
    std::size_t outputs;
    /// Each kernel's buffers: inputs by index, the output last.
    std::vector<std::vector<std::size_t>> bindings;
  };
  const Case cases[] = {{R"(
    func.func @product(%a: tensor<130x70xf32>, %b: tensor<70x129xf32>) -> tensor<130x129xf32> {
      %p = trueno.matmul %a, %b : tensor<130x70xf32>, tensor<70x129xf32> -> tensor<130x129xf32>
      return %p : tensor<130x129xf32>
    }
  )",
                         {130 * 70, 70 * 129},
                         130 * 129,
                         {{0, 1, 2}}},
                        {R"(
    func.func @rows(%a: tensor<8x5000xf32>) -> tensor<8xf32> {
      %0 = trueno.reduce_sum %a dims = [1] : tensor<8x5000xf32> -> tensor<8xf32>
      return %0 : tensor<8xf32>
    }
  )",
                         {8 * 5000},
                         8,
                         {{1}, {0, 1}}}};
  mlir::trueno::VulkanPipelineOptions options;
  options.workgroupSize = 256; // (the product's tiles)
  options.maxWorkgroupCount = device->info().maxWorkgroupCount[0];
  std::mt19937 rng(4321);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (const Case &c : cases) {
    CAPTURE(c.source);
    trueno::testing::CompiledKernels compiled =
        trueno::testing::compileForVulkan(c.source, options);
    REQUIRE_MESSAGE(compiled.ok, compiled.diagnostics);
    REQUIRE(compiled.kernels.size() == c.bindings.size());
    std::vector<mlir::trueno::SpirvKernel> moved = compiled.kernels;
    int barriers = 0;
    for (mlir::trueno::SpirvKernel &kernel : moved) {
      for (std::size_t i = 5; i < kernel.words.size();
           i += kernel.words[i] >> 16)
        barriers += (kernel.words[i] & 0xffff) == 224; // OpControlBarrier
      REQUIRE(
          mlir::succeeded(mlir::trueno::useVulkanMemoryModel(kernel.words)));
      // Once only: a module in the Vulkan memory model is refused,
      // unchanged.
      std::vector<std::uint32_t> again = kernel.words;
      CHECK(mlir::failed(mlir::trueno::useVulkanMemoryModel(again)));
      CHECK(again == kernel.words);
    }
    CHECK(barriers > 0);
    std::vector<std::shared_ptr<VulkanBuffer>> inputs;
    for (std::size_t n : c.inputs) {
      std::vector<float> values(n);
      for (float &v : values)
        v = uniform(rng);
      inputs.push_back(upload(*device, values));
    }
    std::vector<std::vector<float>> results;
    for (const std::vector<mlir::trueno::SpirvKernel> *program :
         {&compiled.kernels, &moved}) {
      auto out = upload(*device, std::vector<float>(c.outputs, -7.0f));
      for (std::size_t k = 0; k < program->size(); ++k) {
        std::vector<VulkanBuffer *> bound;
        for (std::size_t b : c.bindings[k])
          bound.push_back(b < inputs.size() ? inputs[b].get() : out.get());
        run(*device, device, (*program)[k], bound);
      }
      results.push_back(download(*device, *out));
    }
    CHECK(results[0] == results[1]);
    CHECK(llvm::count(results[1], -7.0f) == 0);
  }
  // Words that are not a module are refused, unchanged.
  std::vector<std::uint32_t> garbage = {1, 2, 3};
  CHECK(mlir::failed(mlir::trueno::useVulkanMemoryModel(garbage)));
  CHECK(garbage == std::vector<std::uint32_t>{1, 2, 3});
  checkNoValidationMessages();
}

TEST_CASE("products take their tiles in groups of rows and compute the "
          "same bits") {
  // trueno-tile-matmuls' tile-group-rows: each workgroup's tiles in another
  // order, each output's sum as before. A batched product of 5 x 4 tiles of
  // 64 (groups of 3 rows leave a last group of 2), over 7 workgroups that
  // each take several tiles, and over as many workgroups as tiles.
  std::shared_ptr<VulkanDevice> device = testDevice();
  if (!device)
    return;
  const char *source = R"(
    func.func @product(%a: tensor<2x300x70xf32>, %b: tensor<2x70x200xf32>) -> tensor<2x300x200xf32> {
      %p = trueno.matmul %a, %b : tensor<2x300x70xf32>, tensor<2x70x200xf32> -> tensor<2x300x200xf32>
      return %p : tensor<2x300x200xf32>
    }
  )";
  std::mt19937 rng(2468);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> a(2 * 300 * 70), b(2 * 70 * 200);
  for (float &v : a)
    v = uniform(rng);
  for (float &v : b)
    v = uniform(rng);
  auto aBuffer = upload(*device, a), bBuffer = upload(*device, b);
  std::vector<float> expected(2 * 300 * 200);
  for (int batch = 0; batch < 2; ++batch)
    for (int i = 0; i < 300; ++i)
      for (int j = 0; j < 200; ++j) {
        double sum = 0;
        for (int k = 0; k < 70; ++k)
          sum += double(a[(batch * 300 + i) * 70 + k]) *
                 double(b[(batch * 70 + k) * 200 + j]);
        expected[(batch * 300 + i) * 200 + j] = static_cast<float>(sum);
      }
  std::vector<float> first;
  for (std::int64_t workgroups : {std::int64_t{7}, std::int64_t{65535}})
    for (std::int64_t groupRows : {1, 3, 8}) {
      CAPTURE(workgroups);
      CAPTURE(groupRows);
      mlir::trueno::VulkanPipelineOptions options;
      options.workgroupSize = 256; // (the product's tiles)
      options.maxWorkgroupCount = std::min<std::int64_t>(
          workgroups, device->info().maxWorkgroupCount[0]);
      options.tileGroupRows = groupRows;
      trueno::testing::CompiledKernels compiled =
          trueno::testing::compileForVulkan(source, options);
      REQUIRE_MESSAGE(compiled.ok, compiled.diagnostics);
      REQUIRE(compiled.kernels.size() == 1);
      CHECK(compiled.kernels[0].workgroupCount[0] ==
            std::min<std::int64_t>(workgroups, 2 * 5 * 4));
      auto out = upload(*device, std::vector<float>(expected.size(), -7.0f));
      run(*device, device, compiled.kernels[0],
          {aBuffer.get(), bBuffer.get(), out.get()});
      std::vector<float> got = download(*device, *out);
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < got.size(); ++i)
        wrong += !(std::abs(got[i] - expected[i]) <=
                   1e-5f * (1 + std::abs(expected[i])));
      CHECK(wrong == 0);
      if (first.empty())
        first = got;
      CHECK(got == first);
    }
  checkNoValidationMessages();
}

TEST_CASE("commands that touch nothing another wrote need no barrier") {
  std::shared_ptr<VulkanDevice> device = testDevice();
  if (!device)
    return;
  auto kernels = compile(R"(
    func.func @neg(%a: tensor<256xf32>) -> tensor<256xf32> {
      %0 = trueno.neg %a : tensor<256xf32>
      return %0 : tensor<256xf32>
    }
  )",
                         *device);
  REQUIRE(kernels.size() == 1);
  // The kernel reads its input and writes its output (codegen's analysis
  // of its stores).
  CHECK(kernels[0].writes == std::vector<std::uint8_t>{0, 1});
  auto kernel = VulkanKernel::create(
      device, kernels[0].words, kernels[0].entryPoint, kernels[0].bindings);
  REQUIRE(kernel);
  (*kernel)->setWrites(kernels[0].writes);
  std::vector<float> values(256);
  for (std::size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>(i) - 100.0f;
  auto input = upload(*device, values);
  std::vector<std::shared_ptr<VulkanBuffer>> outputs;
  for (int i = 0; i < 8; ++i)
    outputs.push_back(upload(*device, std::vector<float>(256, 0.0f)));
  auto dispatch = [&](VulkanBuffer &from, VulkanBuffer &to) {
    VulkanCommand c;
    c.kernel = kernel->get();
    c.groups = {static_cast<std::uint32_t>(kernels[0].workgroupCount[0]), 1, 1};
    c.bindings = {{from.handle(), 0}, {to.handle(), 0}};
    return c;
  };
  // Eight commands reading the input, each writing its own output: no
  // barrier between them.
  std::vector<VulkanCommand> commands;
  for (auto &out : outputs)
    commands.push_back(dispatch(*input, *out));
  std::int64_t before = trueno::runtime::counters().deviceBarriers;
  REQUIRE(messageOf(device->submit(commands)).empty());
  REQUIRE(messageOf(device->synchronize()).empty());
  CHECK(trueno::runtime::counters().deviceBarriers - before == 0);
  // input -> outputs[0], then outputs[0] -> outputs[1] reads what the
  // first wrote: a barrier. outputs[2] -> input writes what the first
  // read, but that barrier ordered the first before it, and nothing since
  // touched the input: none. input -> outputs[3] reads what that one
  // wrote: a barrier.
  commands = {dispatch(*input, *outputs[0]), dispatch(*outputs[0], *outputs[1]),
              dispatch(*outputs[2], *input), dispatch(*input, *outputs[3])};
  before = trueno::runtime::counters().deviceBarriers;
  REQUIRE(messageOf(device->submit(commands)).empty());
  REQUIRE(messageOf(device->synchronize()).empty());
  CHECK(trueno::runtime::counters().deviceBarriers - before == 2);
  // An upload into a buffer no command of the batch used goes before the
  // batch's commands: the launch reading it needs no barrier (in order, it
  // would: three barriers, not two). A second
  // upload into it, after that launch, stays in order: a barrier (the
  // launch read it), and one more for the launch reading the new bytes.
  std::vector<float> fresh(256, 3.0f), again(256, -5.0f);
  auto target = device->allocate(256 * sizeof(float));
  REQUIRE(target);
  auto upload = [&](VulkanBuffer &to, const std::vector<float> &from) {
    VulkanCommand c;
    c.kind = VulkanCommand::Upload;
    c.to = to.handle();
    c.bytes = from.size() * sizeof(float);
    c.host = from.data();
    return c;
  };
  commands = {dispatch(*input, *outputs[6]), upload(**target, fresh),
              dispatch(**target, *outputs[4]), upload(**target, again),
              dispatch(**target, *outputs[5])};
  before = trueno::runtime::counters().deviceBarriers;
  REQUIRE(messageOf(device->submit(commands)).empty());
  REQUIRE(messageOf(device->synchronize()).empty());
  CHECK(trueno::runtime::counters().deviceBarriers - before == 2);
  CHECK(download(*device, *outputs[4]) == std::vector<float>(256, -3.0f));
  CHECK(download(*device, *outputs[5]) == std::vector<float>(256, 5.0f));
  std::vector<float> got1 = download(*device, *outputs[1]);
  std::vector<float> got3 = download(*device, *outputs[3]);
  std::vector<float> gotInput = download(*device, *input);
  for (std::size_t i = 0; i < values.size(); ++i) {
    CHECK(got1[i] == values[i]);     // -(-v)
    CHECK(gotInput[i] == values[i]); // -(outputs[2]) = -(-v)
    CHECK(got3[i] == -values[i]);    // -(input)
  }
  checkNoValidationMessages();
}
