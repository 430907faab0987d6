//===- VulkanBackend.cpp - Buffers, compiled programs and runs on Vulkan --===//
//
// compile(): the graph's schedule (Schedule.h), its kernels module lowered
// by the Vulkan pipeline to SPIR-V (codegen/lib/vulkan), or the program
// and the driver's pipeline cache loaded from the disk kernel cache, a
// compute pipeline per kernel. run(): every step's launches recorded into one
// batch with the uploads of host inputs (the scalars of a graph live on the
// host) and the copies of misaligned views, submitted once and waited for.
//
//===----------------------------------------------------------------------===//
#include "trueno/Runtime/Vulkan/VulkanBackend.h"
#include "trueno/Codegen/Vulkan/Pipeline.h"
#include "trueno/Runtime/CompilerFingerprint.h"
#include "trueno/Runtime/Counters.h"
#include "trueno/Runtime/Cpu/HostAllocator.h"
#include "trueno/Runtime/Schedule.h"
#include "trueno/Runtime/Settings.h"
#include "trueno/Runtime/Vulkan/VulkanBuffer.h"
#include "trueno/Runtime/Vulkan/VulkanDevice.h"
#include "trueno/Runtime/Vulkan/VulkanKernel.h"
#include "trueno/Runtime/Vulkan/VulkanPipelineCache.h"
#include "trueno/Version.h"

#include "mlir/IR/Diagnostics.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>

namespace trueno::runtime {

using vulkan::VulkanBuffer;
using vulkan::VulkanCommand;
using vulkan::VulkanDevice;
using vulkan::VulkanDeviceInfo;
using vulkan::VulkanInstance;
using vulkan::VulkanKernel;
using vulkan::VulkanPipelineCache;

namespace {

llvm::Error failure(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

/// A compiled graph: its schedule (without the kernels' IR), for each step
/// the host function of the lowered module that runs it, and the kernels.
class VulkanExecutable final : public Executable {
public:
  int kernelCount() const override {
    return static_cast<int>(schedule.steps.size());
  }
  void setCompileMs(double ms) { compileMs_ = ms; }
  void setCodeBytes(std::uint64_t bytes) { codeBytes_ = bytes; }
  void setFromDisk() { fromDisk_ = true; }

  KernelSchedule schedule;
  std::vector<mlir::trueno::SpirvFunction> stepFunctions;
  /// Shared with the batches that run them, which may outlive the program.
  std::vector<std::shared_ptr<VulkanKernel>> kernels;
  /// Each step's constants, on the device.
  std::vector<std::vector<std::shared_ptr<Buffer>>> constants;
  /// Each kernel's workgroup counts.
  std::vector<std::array<std::uint32_t, 3>> kernelGroups;
  /// Each temporary's bytes: the largest of the slots that share it.
  std::vector<std::size_t> temporaryBytes;
  /// The commands a run records: every step's launches, and the copies.
  std::size_t commandCount = 0;
};

/// The elements a view of `shape` and `strides` reaches, relative to its
/// first element: the lowest (<= 0, from negative strides) and how many
/// from there. A kernel indexes the view from the lowest one (codegen's
/// trueno-flatten-kernel-buffers), so that is where it is bound.
std::pair<std::int64_t, std::int64_t> reach(const Shape &shape,
                                            const Strides &strides) {
  std::int64_t lowest = 0, highest = 0;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0)
      return {0, 0};
    (strides[d] < 0 ? lowest : highest) += (shape[d] - 1) * strides[d];
  }
  return {lowest, highest - lowest + 1};
}

/// Uploads up to this size are queued, not waited for (VulkanBackend::
/// upload); larger ones stream through the device's staging buffer.
constexpr std::size_t kQueuedUploadBytes = 1 << 20;

class VulkanBackend final : public Backend {
public:
  VulkanBackend(std::shared_ptr<VulkanDevice> device, CompileTarget target)
      : device_(std::move(device)), target_(std::move(target)) {
    const VulkanDeviceInfo &info = device_->info();
    options_.float64 = info.float64;
    options_.int64 = info.int64;
    options_.int16 = info.int16;
    options_.float16 = info.float16;
    options_.int8 = info.int8;
    options_.storage16 = info.storage16;
    options_.storage8 = info.storage8;
    // Where the device has them, unless TRUENO_VULKAN_COOPERATIVE_MATRIX=0
    // (VulkanInstance): checked and timed on an H100 (docs/PERFORMANCE.md,
    // seventh pass), 143-187 TFLOP/s against 29 on float32 tiles. Part of the
    // target's features, so of every kernel's cache key.
    options_.cooperativeMatrix = info.cooperativeMatrix;
    options_.cooperativeBf16 = info.cooperativeMatrixBf16;
    options_.preserveNanInfWidths = info.preserveNanInfWidths;
    options_.preserveDenormWidths = info.preserveDenormWidths;
    // Tuning knobs, each part of the kernels' cache key like every pipeline
    // option. 256 threads a workgroup unless TRUENO_VULKAN_WORKGROUP_SIZE (a
    // power of two the device allows) says otherwise.
    std::int64_t threads =
        numberSetting("TRUENO_VULKAN_WORKGROUP_SIZE",
                      "a power of two from 1 "
                      "to 1024",
                      [](std::int64_t v) {
                        return v >= 1 && v <= 1024 && (v & (v - 1)) == 0;
                      })
            .value_or(256);
    options_.workgroupSize = std::min<std::int64_t>(
        threads, std::max<std::int64_t>(info.maxWorkgroupInvocations, 1));
    options_.maxWorkgroupCount = info.maxWorkgroupCount[0];
    if (auto tile = choiceSetting("TRUENO_VULKAN_MATMUL_TILE", {"64", "128"}))
      options_.largeMatmulTiles = *tile == "128";
    if (auto group = numberSetting(
            "TRUENO_VULKAN_MATMUL_TILE_GROUP", "tile rows a group, 1 to 64",
            [](std::int64_t v) { return v >= 1 && v <= 64; }))
      options_.tileGroupRows = *group;
    if (auto prefetch =
            choiceSetting("TRUENO_VULKAN_MATMUL_PREFETCH", {"0", "1"}))
      options_.matmulPrefetch = *prefetch == "1";
    if (auto implicit =
            choiceSetting("TRUENO_VULKAN_IMPLICIT_GEMM", {"1", "0"}))
      options_.implicitGemm = *implicit == "1";
    if (auto step =
            choiceSetting("TRUENO_VULKAN_COOPERATIVE_STEP", {"64", "32", "16"}))
      options_.cooperativeStep = *step == "32" ? 32 : *step == "16" ? 16 : 64;
    if (auto columns = choiceSetting("TRUENO_VULKAN_COOPERATIVE_COLUMNS",
                                     {"128", "256", "64"}))
      options_.cooperativeColumns = *columns == "256"  ? 256
                                    : *columns == "64" ? 64
                                                       : 128;
    if (auto copies =
            choiceSetting("TRUENO_VULKAN_COOPERATIVE_BUFFERS", {"1", "2"}))
      options_.cooperativeBuffers = *copies == "2" ? 2 : 1;
    if (auto subgroups =
            choiceSetting("TRUENO_VULKAN_COOPERATIVE_SUBGROUPS", {"8", "4"}))
      options_.cooperativeSubgroups = *subgroups == "4" ? 4 : 8;
    if (auto direct =
            choiceSetting("TRUENO_VULKAN_COOPERATIVE_DIRECT", {"0", "1"}))
      options_.cooperativeDirect = *direct == "1";
    if (auto wide =
            choiceSetting("TRUENO_VULKAN_COOPERATIVE_WIDE_LOADS", {"1", "0"}))
      options_.cooperativeWideLoads = *wide == "1";
    options_.maxWorkgroupMemory = info.maxSharedMemoryBytes;
    // Products whose tiles all lie inside C on workgroup-scope matrices
    // where the device lists the kernel's workgroup size with
    // granularities that divide its tiles, as they fit in the workgroup
    // memory the driver leaves such a kernel (then every kernel's limit).
    if (options_.cooperativeMatrix && !info.workgroupMatrices.empty()) {
      mlir::trueno::VulkanPipelineOptions workgroup = options_;
      workgroup.maxWorkgroupMemory =
          info.maxSharedMemoryBytes - info.workgroupMatrixReservedBytes;
      auto tiles = mlir::trueno::cooperativeTiles(workgroup);
      auto lists = [&](const mlir::trueno::CooperativeTiles &t, bool bfloat16) {
        return llvm::any_of(
            info.workgroupMatrices,
            [&](const VulkanDeviceInfo::WorkgroupMatrixShape &s) {
              return s.bfloat16 == bfloat16 && s.invocations == t.threads &&
                     t.rows % s.rows == 0 && t.columns % s.columns == 0 &&
                     t.step % s.depth == 0;
            });
      };
      if (tiles && lists(*tiles, false) &&
          (!options_.cooperativeBf16 || lists(*tiles, true))) {
        options_.cooperativeWorkgroupScope = true;
        // Tiles in workgroup memory (0), loads from the inputs (1), tensor
        // loads (tensor: the default where the device has them).
        std::string_view global =
            choiceSetting("TRUENO_VULKAN_COOPERATIVE_WORKGROUP_GLOBAL",
                          {"0", "1", "tensor"})
                .value_or(info.workgroupTensorLoads ? "tensor" : "0");
        options_.cooperativeWorkgroupGlobal = global != "0";
        options_.cooperativeTensorLoads =
            global == "tensor" && info.workgroupTensorLoads;
        // Products on tensor loads take 128x256 tiles of 8 subgroups where
        // the device lists that shape too (bfloat16 ones where it lists
        // the shape for bfloat16 as well), unless
        // TRUENO_VULKAN_COOPERATIVE_TENSOR_TILES=128, or a shape asked for
        // (_COLUMNS, _SUBGROUPS) is every product's.
        const bool shapeAsked =
            std::getenv("TRUENO_VULKAN_COOPERATIVE_COLUMNS") ||
            std::getenv("TRUENO_VULKAN_COOPERATIVE_SUBGROUPS");
        auto wide = mlir::trueno::cooperativeTiles(workgroup, true);
        options_.cooperativeTensorWideTiles =
            options_.cooperativeTensorLoads && wide && lists(*wide, false) &&
            choiceSetting("TRUENO_VULKAN_COOPERATIVE_TENSOR_TILES",
                          {"256", "128"})
                    .value_or(shapeAsked ? "128" : "256") == "256";
        options_.cooperativeTensorWideBf16 =
            options_.cooperativeTensorWideTiles && options_.cooperativeBf16 &&
            lists(*wide, true);
        options_.maxWorkgroupMemory = workgroup.maxWorkgroupMemory;
      }
    }
    // Row reductions combine within subgroups by shuffles where the device's
    // subgroups shuffle in compute shaders, unless TRUENO_VULKAN_SUBGROUPS=0.
    // The kernels' SPIR-V is older than 1.6 (they use no cooperative matrix)
    // and asks for no varying size, so their subgroups are of this size.
    const std::uint32_t subgroup = info.subgroupSize;
    if (info.subgroupShuffle && subgroup >= 2 && subgroup <= 128 &&
        (subgroup & (subgroup - 1)) == 0 &&
        choiceSetting("TRUENO_VULKAN_SUBGROUPS", {"0", "1"}).value_or("1") ==
            "1")
      options_.subgroupSize = subgroup;
    options_.subgroupExtendedTypes = info.subgroupExtendedTypes;
    // A thread's reduction loop's unroll factor (1: not unrolled).
    if (auto unroll =
            numberSetting("TRUENO_VULKAN_UNROLL", "a factor from 1 to 64",
                          [](std::int64_t v) { return v >= 1 && v <= 64; }))
      options_.unrollFactor = *unroll;
  }

  Device device() const override { return target_.device; }
  const CompileTarget &target() const override { return target_; }

  llvm::Expected<std::shared_ptr<Buffer>> allocate(std::size_t bytes) override;
  llvm::Error upload(const BufferRef &to, const void *from,
                     std::size_t bytes) override;
  llvm::Error download(void *to, const BufferRef &from,
                       std::size_t bytes) override;
  void releaseCachedMemory() override {
    std::lock_guard lock(cacheMutex_);
    free_.clear();
    cachedBytes_ = 0;
  }
  std::uint64_t cachedMemoryBytes() const override { return cachedBytes_; }
  std::uint64_t liveMemoryBytes() const override { return liveBytes_; }
  std::uint64_t peakMemoryBytes() const override { return peakBytes_; }
  void resetPeakMemory() override { peakBytes_ = liveBytes_.load(); }

  llvm::Expected<std::unique_ptr<Executable>> compile(const Graph &graph,
                                                      bool debug) override;
  llvm::Error run(const Executable &executable,
                  std::span<const BufferRef> inputs,
                  std::span<const BufferRef> outputs) override;
  llvm::Error wait() override { return device_->synchronize(); }
  CacheKeyParts keyParts(std::string ir) const override;

private:
  /// `module`'s kernels lowered to SPIR-V and serialized.
  llvm::Expected<mlir::trueno::SpirvProgram> lower(mlir::ModuleOp module);
  void recycle(std::shared_ptr<VulkanBuffer> buffer);
  /// A device buffer for `ref`'s bytes, if it is one.
  static VulkanBuffer *vulkanBuffer(const BufferRef &ref) {
    if (!ref || ref.buffer->device().kind != DeviceKind::Vulkan)
      return nullptr;
    return static_cast<VulkanBuffer *>(ref.buffer.get());
  }

public:
  const VulkanDevice &vulkanDevice() const { return *device_; }

private:
  std::shared_ptr<VulkanDevice> device_;
  CompileTarget target_;
  mlir::trueno::VulkanPipelineOptions options_;

  std::mutex cacheMutex_;
  std::multimap<std::size_t, std::shared_ptr<VulkanBuffer>> free_;
  std::atomic<std::uint64_t> cachedBytes_ = 0, liveBytes_ = 0, peakBytes_ = 0;
  /// One program at a time: runs share the device's queue and staging.
  std::mutex runMutex_;
};

llvm::Expected<std::shared_ptr<Buffer>>
VulkanBackend::allocate(std::size_t bytes) {
  // The host allocator's size classes: freed buffers then serve later
  // requests of about their size, as host blocks do.
  std::size_t size = HostAllocator::sizeClass(bytes);
  std::shared_ptr<VulkanBuffer> buffer;
  {
    std::lock_guard lock(cacheMutex_);
    if (auto found = free_.find(size); found != free_.end()) {
      buffer = std::move(found->second);
      free_.erase(found);
      cachedBytes_ -= size;
    }
  }
  if (!buffer) {
    auto made = device_->allocate(size);
    if (!made) {
      // Out of device memory: give the cached buffers back and try again;
      // then wait for the batches in flight, whose buffers return to the
      // cache when they finish, and try once more before failing.
      llvm::consumeError(made.takeError());
      releaseCachedMemory();
      made = device_->allocate(size);
      if (!made) {
        llvm::consumeError(made.takeError());
        if (llvm::Error e = device_->synchronize())
          return e;
        releaseCachedMemory();
        made = device_->allocate(size);
        if (!made)
          return made.takeError();
      }
    }
    buffer = std::move(*made);
  }
  liveBytes_ += size;
  peakBytes_ = std::max<std::uint64_t>(peakBytes_, liveBytes_);
  // The last holder gives the buffer back to the cache, not to Vulkan.
  VulkanBuffer *raw = buffer.get();
  return std::shared_ptr<Buffer>(
      raw, [this, keep = std::move(buffer)](Buffer *) mutable {
        recycle(std::move(keep));
      });
}

void VulkanBackend::recycle(std::shared_ptr<VulkanBuffer> buffer) {
  std::lock_guard lock(cacheMutex_);
  liveBytes_ -= buffer->size();
  cachedBytes_ += buffer->size();
  std::size_t size = buffer->size();
  free_.emplace(size, std::move(buffer));
}

llvm::Error VulkanBackend::upload(const BufferRef &to, const void *from,
                                  std::size_t bytes) {
  VulkanBuffer *buffer = vulkanBuffer(to);
  if (!buffer)
    return device_->failure("an upload into memory of another device");
  std::lock_guard lock(runMutex_);
  if (bytes > kQueuedUploadBytes)
    return device_->upload(*buffer, to.offset, from, bytes);
  // A small upload (a tensor made from host values, a label batch) is a
  // batch of its own: its bytes go to the batch's staging memory now, and
  // the host does not wait for the copy (a round trip through the driver
  // per upload, most of a training step's host time on a GPU otherwise).
  // Queue order puts it before every later program and transfer.
  VulkanCommand c;
  c.kind = VulkanCommand::Upload;
  c.to = buffer->handle();
  c.toOffset = to.offset;
  c.bytes = bytes;
  c.host = from;
  return device_->submit({&c, 1}, {to.buffer});
}

llvm::Error VulkanBackend::download(void *to, const BufferRef &from,
                                    std::size_t bytes) {
  VulkanBuffer *buffer = vulkanBuffer(from);
  if (!buffer)
    return device_->failure("a download from memory of another device");
  std::lock_guard lock(runMutex_);
  return device_->download(to, *buffer, from.offset, bytes);
}

CacheKeyParts VulkanBackend::keyParts(std::string ir) const {
  std::string options =
      "spirv program format " +
      std::to_string(mlir::trueno::kSpirvProgramFormatVersion) + "; compiler " +
      TRUENO_COMPILER_FINGERPRINT + ";";
  for (mlir::trueno::VulkanStage stage :
       {mlir::trueno::VulkanStage::Linalg, mlir::trueno::VulkanStage::Fused,
        mlir::trueno::VulkanStage::Bufferized, mlir::trueno::VulkanStage::Gpu,
        mlir::trueno::VulkanStage::Spirv})
    options += mlir::trueno::vulkanStagePipeline(stage, options_) + ";";
  options += target_.graphPipeline() + ";";
  return {std::move(ir), target_.key(), TRUENO_VERSION_STRING,
          LLVM_VERSION_STRING, std::move(options)};
}

llvm::Expected<mlir::trueno::SpirvProgram>
VulkanBackend::lower(mlir::ModuleOp module) {
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(
      module.getContext(), [&](mlir::Diagnostic &diagnostic) {
        llvm::raw_string_ostream os(diagnostics);
        os << diagnostic.getLocation() << ": " << diagnostic << "\n";
        for (const mlir::Diagnostic &note : diagnostic.getNotes())
          os << "  note: " << note << "\n";
        return mlir::success();
      });
  if (mlir::failed(mlir::trueno::lowerForVulkan(module, options_)))
    return device_->failure("lowering the kernels to SPIR-V failed:\n" +
                            diagnostics);
  mlir::FailureOr<mlir::trueno::SpirvProgram> program =
      mlir::trueno::serializeProgram(module);
  if (mlir::failed(program))
    return device_->failure("serializing the kernels failed:\n" + diagnostics);
  return std::move(*program);
}

llvm::Expected<std::unique_ptr<Executable>>
VulkanBackend::compile(const Graph &graph, bool debug) {
  auto start = std::chrono::steady_clock::now();
  auto scheduled = scheduleGraph(graph, target_.graphPipeline(), debug);
  if (!scheduled)
    return scheduled.takeError();
  auto executable = std::make_unique<VulkanExecutable>();
  executable->schedule = std::move(*scheduled);
  KernelSchedule &schedule = executable->schedule;
  if (!schedule.steps.empty()) {
    // The program (SPIR-V and how each step launches it) and the driver's
    // pipelines: both from the disk cache when an earlier process (or this
    // one) compiled the same kernels for this device and driver, else
    // lowered now and stored.
    mlir::ModuleOp module = *schedule.kernels;
    std::string ir;
    {
      llvm::raw_string_ostream os(ir);
      module.print(os);
    }
    std::vector<std::string> names;
    for (const KernelSchedule::Step &step : schedule.steps)
      names.push_back(step.kernel);
    CacheKeyParts parts = keyParts(ir);
    CacheKey key = cacheKey(parts);
    if (debug)
      printCacheKeyBlock(llvm::errs(), key, target_.device.name(), ir);
    KernelCache &cache = KernelCache::instance();
    std::optional<mlir::trueno::SpirvProgram> program;
    std::string pipelineData;
    auto loadStart = std::chrono::steady_clock::now();
    if (cache.enabled())
      if (std::optional<CacheEntry> entry = cache.load(key)) {
        auto decoded = readVulkanCachePayload(entry->object);
        if (decoded) {
          program = std::move(decoded->first);
          pipelineData = std::move(decoded->second);
        } else {
          // The checksum held, so the entry was written so: a foreign or
          // older writer. It is replaced by the program compiled now.
          llvm::errs() << "trueno: kernel cache: " << cache.pathOf(key).string()
                       << ": " << llvm::toString(decoded.takeError())
                       << "; recompiling\n";
        }
      }
    double lowerMs = 0;
    if (program) {
      executable->setFromDisk();
      counters().diskHits++;
    } else {
      if (cache.enabled())
        counters().diskMisses++;
      auto lowerStart = std::chrono::steady_clock::now();
      auto lowered = lower(module);
      if (!lowered)
        return lowered.takeError();
      program = std::move(*lowered);
      lowerMs = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - lowerStart)
                    .count();
      counters().kernelsCompiled += schedule.steps.size();
    }
    if (debug)
      for (const mlir::trueno::SpirvFunction &f : program->functions)
        llvm::errs() << "// trueno: vulkan kernel " << f.name << ": "
                     << f.launches.size() << " launches, "
                     << f.scratchBytes.size() << " scratch buffers\n";
    // The driver compiles each kernel's SPIR-V when its pipeline is
    // created, unless the pipeline cache stored with the entry has it.
    auto pipelines = VulkanPipelineCache::create(device_, pipelineData);
    if (!pipelines)
      return pipelines.takeError();
    std::uint64_t codeBytes = 0;
    for (const mlir::trueno::SpirvKernel &k : program->kernels) {
      auto kernel = VulkanKernel::create(device_, k.words, k.entryPoint,
                                         k.bindings, (*pipelines)->handle());
      if (!kernel)
        return kernel.takeError();
      (*kernel)->setWrites(k.writes);
      (*kernel)->setLabel(
          key.hex() + " / " + std::to_string(executable->kernels.size()) +
          " (" + std::to_string(k.workgroupCount[0]) + "x" +
          std::to_string(k.workgroupCount[1]) + "x" +
          std::to_string(k.workgroupCount[2]) + " workgroups of " +
          std::to_string(k.workgroupSize[0] * k.workgroupSize[1] *
                         k.workgroupSize[2]) +
          ")");
      executable->kernels.push_back(std::move(*kernel));
      codeBytes += k.words.size() * sizeof(std::uint32_t);
    }
    if (executable->fromDisk())
      counters().diskLoadMicros += static_cast<std::int64_t>(
          std::chrono::duration<double, std::micro>(
              std::chrono::steady_clock::now() - loadStart)
              .count());
    else if (cache.enabled()) {
      // Stored once its pipelines exist, so that the entry carries them.
      auto data = (*pipelines)->data();
      if (!data)
        return data.takeError();
      double ms = lowerMs + std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - loadStart)
                                .count();
      cache.store(key, {vulkanCachePayload(*program, *data),
                        cacheMetadata(parts, names, ms, "vulkan")});
    }
    for (const KernelSchedule::Step &step : schedule.steps) {
      auto found = llvm::find_if(program->functions, [&](const auto &f) {
        return f.name == step.kernel;
      });
      if (found == program->functions.end())
        return device_->failure("no SPIR-V for kernel " + step.kernel);
      for (const mlir::trueno::SpirvFunction::Launch &launch : found->launches)
        for (const mlir::trueno::SpirvFunction::Buffer &b : launch.buffers)
          if (b.kind == mlir::trueno::SpirvFunction::Buffer::Argument &&
              b.index >= static_cast<int>(step.slots.size()))
            return device_->failure("kernel " + step.kernel +
                                    " binds an argument it does not have");
      // Constants go to the device once, with the program.
      std::vector<std::shared_ptr<Buffer>> constants;
      for (const std::vector<std::uint8_t> &bytes : found->constants) {
        auto buffer = allocate(std::max<std::size_t>(bytes.size(), 4));
        if (!buffer)
          return buffer.takeError();
        if (!bytes.empty())
          if (llvm::Error e = upload({*buffer, 0}, bytes.data(), bytes.size()))
            return e;
        constants.push_back(*buffer);
        codeBytes += bytes.size();
      }
      executable->constants.push_back(std::move(constants));
      executable->stepFunctions.push_back(*found);
    }
    executable->setCodeBytes(codeBytes);
    for (const mlir::trueno::SpirvKernel &k : program->kernels)
      executable->kernelGroups.push_back(
          {static_cast<std::uint32_t>(k.workgroupCount[0]),
           static_cast<std::uint32_t>(k.workgroupCount[1]),
           static_cast<std::uint32_t>(k.workgroupCount[2])});
  }
  executable->temporaryBytes.assign(
      static_cast<std::size_t>(schedule.temporaries), 0);
  for (const KernelSchedule::Slot &slot : schedule.slots)
    if (slot.kind == KernelSchedule::Slot::Temporary) {
      std::size_t &bytes =
          executable->temporaryBytes[static_cast<std::size_t>(slot.index)];
      bytes = std::max(bytes, static_cast<std::size_t>(slot.bytes));
    }
  executable->commandCount = schedule.copies.size();
  for (const mlir::trueno::SpirvFunction &function : executable->stepFunctions)
    executable->commandCount += function.launches.size();
  schedule.kernels = nullptr;
  executable->setCompileMs(std::chrono::duration<double, std::milli>(
                               std::chrono::steady_clock::now() - start)
                               .count());
  return executable;
}

llvm::Error VulkanBackend::run(const Executable &compiled,
                               std::span<const BufferRef> inputs,
                               std::span<const BufferRef> outputs) {
  const auto &executable = static_cast<const VulkanExecutable &>(compiled);
  const KernelSchedule &schedule = executable.schedule;
  using Slot = KernelSchedule::Slot;
  const std::uint64_t alignment = device_->info().storageOffsetAlignment;
  std::vector<VulkanCommand> commands;
  // The launches and copies, a copy of each misaligned view and the
  // packed upload.
  commands.reserve(executable.commandCount + inputs.size() + 1);
  // What the batch uses, held until it has finished: the buffers this run
  // allocates, the inputs and outputs, the constants and the kernels. A
  // buffer goes back to the caching allocator only then, so no later run
  // is given memory that a running batch still reads.
  std::vector<std::shared_ptr<const void>> held;
  held.reserve(inputs.size() + outputs.size() + executable.kernels.size() +
               executable.temporaryBytes.size() + schedule.steps.size() + 8);
  auto scratch = [&](std::size_t bytes) -> llvm::Expected<VulkanBuffer *> {
    auto buffer = allocate(std::max<std::size_t>(bytes, 4));
    if (!buffer)
      return buffer.takeError();
    auto *raw = static_cast<VulkanBuffer *>(buffer->get());
    held.push_back(std::move(*buffer));
    return raw;
  };
  for (const BufferRef &ref : inputs)
    held.push_back(ref.buffer);
  for (const BufferRef &ref : outputs)
    held.push_back(ref.buffer);
  for (const auto &step : executable.constants)
    for (const std::shared_ptr<Buffer> &constant : step)
      held.push_back(constant);
  for (const std::shared_ptr<VulkanKernel> &kernel : executable.kernels)
    held.push_back(kernel);

  // Every slot as a buffer and a byte offset.
  std::vector<std::pair<VkBuffer, VkDeviceSize>> bound(schedule.slots.size());
  struct HostInput {
    std::size_t slot;
    const std::byte *host;
    std::size_t bytes;
  };
  std::vector<HostInput> hostInputs;
  // Their bytes, packed: valid until submit() has copied them.
  std::vector<std::byte> packed;
  std::vector<VulkanBuffer *> temporaries(
      static_cast<std::size_t>(schedule.temporaries), nullptr);
  for (std::size_t i = 0; i < schedule.slots.size(); ++i) {
    const Slot &s = schedule.slots[i];
    if (s.kind == Slot::Temporary) {
      VulkanBuffer *&t = temporaries[static_cast<std::size_t>(s.index)];
      if (!t) {
        auto buffer = scratch(
            executable.temporaryBytes[static_cast<std::size_t>(s.index)]);
        if (!buffer)
          return buffer.takeError();
        t = *buffer;
      }
      bound[i] = {t->handle(), 0};
      continue;
    }
    const BufferRef &ref =
        s.kind == Slot::Input ? inputs[s.index] : outputs[s.index];
    VulkanBuffer *buffer = vulkanBuffer(ref);
    auto [lowest, count] = reach(s.shape, s.strides);
    auto start = static_cast<std::int64_t>(ref.offset) + lowest * s.itemSize;
    if (start < 0)
      return device_->failure("a view reaching before its buffer's start");
    if (buffer && start % static_cast<std::int64_t>(alignment) == 0) {
      bound[i] = {buffer->handle(), static_cast<VkDeviceSize>(start)};
      continue;
    }
    if (s.kind == Slot::Output)
      return device_->failure("an output buffer not on this device, or not "
                              "aligned");
    auto bytes = static_cast<std::size_t>(count * s.itemSize);
    if (!buffer) {
      // Host memory (a graph's scalars; a CPU tensor mixed in): packed
      // below with the run's other host inputs.
      std::byte *host = ref.buffer->hostAddress();
      if (!host)
        return device_->failure("an input in memory of " +
                                ref.buffer->device().name() +
                                ", which the host cannot read");
      hostInputs.push_back({i, host + start, bytes});
      continue;
    }
    // A view starting where no binding may: the bytes it reaches copied
    // into a buffer of their own, at the start of the batch.
    auto copy = scratch(bytes);
    if (!copy)
      return copy.takeError();
    VulkanCommand c;
    c.kind = VulkanCommand::Copy;
    c.to = (*copy)->handle();
    c.bytes = bytes;
    c.from = buffer->handle();
    c.fromOffset = static_cast<VkDeviceSize>(start);
    commands.push_back(std::move(c));
    bound[i] = {(*copy)->handle(), 0};
  }
  // The host inputs in one buffer, each at an offset a binding may start
  // at, uploaded by one copy: a training step has some 60 scalars, which
  // were 60 copies, each with its barrier, buffer and descriptor.
  if (!hostInputs.empty()) {
    // 16 bytes at least: a kernel may read an input as 4-element vectors.
    const std::uint64_t packing = std::max<std::uint64_t>(alignment, 16);
    std::size_t packedBytes = 0;
    for (const HostInput &h : hostInputs)
      packedBytes = llvm::alignTo(packedBytes, packing) + h.bytes;
    packed.resize(std::max<std::size_t>(packedBytes, 4));
    auto together = scratch(packedBytes);
    if (!together)
      return together.takeError();
    std::size_t at = 0;
    for (const HostInput &h : hostInputs) {
      at = llvm::alignTo(at, packing);
      if (h.bytes)
        std::memcpy(packed.data() + at, h.host, h.bytes);
      bound[h.slot] = {(*together)->handle(), at};
      at += h.bytes;
    }
    VulkanCommand c;
    c.kind = VulkanCommand::Upload;
    c.to = (*together)->handle();
    c.bytes = packedBytes;
    c.host = packed.data();
    commands.push_back(std::move(c));
  }

  // The steps' launches, in order; a step's scratch buffers are its own.
  for (std::size_t k = 0; k < schedule.steps.size(); ++k) {
    const KernelSchedule::Step &step = schedule.steps[k];
    const mlir::trueno::SpirvFunction &function = executable.stepFunctions[k];
    std::vector<VkBuffer> stepScratch;
    for (std::int64_t bytes : function.scratchBytes) {
      auto buffer = scratch(static_cast<std::size_t>(bytes));
      if (!buffer)
        return buffer.takeError();
      stepScratch.push_back((*buffer)->handle());
    }
    for (const mlir::trueno::SpirvFunction::Launch &launch :
         function.launches) {
      VulkanCommand c;
      c.kind = VulkanCommand::Dispatch;
      c.kernel =
          executable.kernels[static_cast<std::size_t>(launch.kernel)].get();
      c.groups =
          executable.kernelGroups[static_cast<std::size_t>(launch.kernel)];
      for (const mlir::trueno::SpirvFunction::Buffer &b : launch.buffers) {
        using Kind = mlir::trueno::SpirvFunction::Buffer::Kind;
        auto index = static_cast<std::size_t>(b.index);
        if (b.kind == Kind::Scratch)
          c.bindings.push_back({stepScratch[index], 0});
        else if (b.kind == Kind::Constant)
          c.bindings.push_back(
              {static_cast<VulkanBuffer *>(executable.constants[k][index].get())
                   ->handle(),
               0});
        else
          c.bindings.push_back(
              bound[static_cast<std::size_t>(step.slots[index])]);
      }
      commands.push_back(std::move(c));
    }
  }
  // Outputs no kernel writes: copies of the slot that holds the value.
  for (const KernelSchedule::Copy &copy : schedule.copies) {
    const Slot &from = schedule.slots[copy.from];
    if (from.strides != contiguousStrides(from.shape))
      return device_->failure("returning a strided view of an input is not "
                              "supported on Vulkan yet");
    VulkanCommand c;
    c.kind = VulkanCommand::Copy;
    c.from = bound[copy.from].first;
    c.fromOffset = bound[copy.from].second;
    VulkanBuffer *to = vulkanBuffer(outputs[copy.output]);
    if (!to)
      return device_->failure("an output buffer not on this device");
    c.to = to->handle();
    c.toOffset = outputs[copy.output].offset;
    c.bytes = static_cast<VkDeviceSize>(numelOf(from.shape)) * copy.itemSize;
    commands.push_back(std::move(c));
  }
  std::lock_guard lock(runMutex_);
  if (llvm::Error error = device_->submit(commands, std::move(held)))
    return error;
  counters().kernelsLaunched += schedule.steps.size();
  return llvm::Error::success();
}

} // namespace

std::string vulkanCachePayload(const mlir::trueno::SpirvProgram &program,
                               llvm::StringRef pipelines) {
  std::string encoded = mlir::trueno::encodeSpirvProgram(program);
  std::string bytes;
  for (std::size_t i = 0; i < 8; ++i)
    bytes.push_back(
        static_cast<char>(std::uint64_t(encoded.size()) >> (8 * i)));
  return bytes + encoded + pipelines.str();
}

llvm::Expected<std::pair<mlir::trueno::SpirvProgram, std::string>>
readVulkanCachePayload(llvm::StringRef bytes) {
  std::uint64_t length = 0;
  if (bytes.size() >= 8)
    for (std::size_t i = 0; i < 8; ++i)
      length |= std::uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (bytes.size() < 8 || length > bytes.size() - 8)
    return failure("a Vulkan cache payload shorter than its program");
  auto program = mlir::trueno::decodeSpirvProgram(bytes.substr(8, length));
  if (!program)
    return program.takeError();
  return std::pair{std::move(*program), bytes.substr(8 + length).str()};
}

llvm::Expected<int> defaultVulkanDevice() {
  llvm::Expected<VulkanInstance &> instance = VulkanInstance::get();
  if (!instance)
    return instance.takeError();
  const char *setting = std::getenv("TRUENO_VULKAN_DEVICE");
  llvm::Expected<const VulkanDeviceInfo &> info =
      instance->select(setting ? setting : "");
  if (!info)
    return info.takeError();
  return info->index;
}

namespace {
struct Made {
  VulkanBackend *backend = nullptr; // never destroyed: outlives tensors
  std::string error;
};
struct Backends {
  std::mutex mutex;
  std::map<int, Made> made;
};
Backends &backends() {
  static Backends *all = new Backends; // never destroyed, as the backends
  return *all;
}
} // namespace

/// The Vulkan backends started so far.
static std::vector<VulkanBackend *> startedBackends() {
  Backends &all = backends();
  std::lock_guard lock(all.mutex);
  std::vector<VulkanBackend *> started;
  for (const auto &[index, m] : all.made)
    if (m.backend)
      started.push_back(m.backend);
  return started;
}

llvm::Error waitForVulkanDevices() {
  for (VulkanBackend *backend : startedBackends())
    if (llvm::Error e = backend->wait())
      return e;
  return llvm::Error::success();
}

std::uint64_t vulkanBusyNanos() {
  std::uint64_t nanos = 0;
  for (VulkanBackend *backend : startedBackends())
    nanos += backend->vulkanDevice().busyNanos();
  return nanos;
}

llvm::Expected<Backend &> vulkanBackend(int index) {
  Backends &all = backends();
  std::lock_guard lock(all.mutex);
  auto [it, fresh] = all.made.try_emplace(index);
  Made &m = it->second;
  if (fresh) {
    auto create = [&]() -> llvm::Error {
      llvm::Expected<VulkanInstance &> instance = VulkanInstance::get();
      if (!instance)
        return instance.takeError();
      const auto &devices = instance->devices();
      if (index < 0 || index >= static_cast<int>(devices.size()))
        return failure("there is no Vulkan device " + llvm::Twine(index) +
                       " (" + llvm::Twine(devices.size()) +
                       " found; vulkaninfo --summary lists them)");
      const VulkanDeviceInfo &info = devices[static_cast<std::size_t>(index)];
      if (!info.unusable.empty())
        return failure(info.describe() +
                       " cannot run Trueno's kernels: " + info.unusable);
      auto device = VulkanDevice::create(*instance, info);
      if (!device)
        return device.takeError();
      CompileTarget target;
      target.device = Device::vulkan(index);
      target.triple = "spirv1.3-vulkan";
      // The driver's version and pipeline-cache UUID: a driver update
      // gives other keys, so no pipeline cache of another driver is used.
      target.cpu = info.name + "; " + info.driverName + " " + info.driverInfo +
                   "; driver " + std::to_string(info.driverVersion) +
                   "; pipeline cache " + llvm::toHex(info.pipelineCacheUUID);
      target.features = "";
      for (auto [has, name] : {std::pair{info.float16, "+f16"},
                               {info.int8, "+i8"},
                               {info.int16, "+i16"},
                               {info.storage16, "+storage16"},
                               {info.storage8, "+storage8"},
                               {info.cooperativeMatrix, "+coopmat"},
                               {info.cooperativeMatrixBf16, "+coopmat-bf16"}})
        if (has)
          target.features += name;
      target.float64 = info.float64;
      target.int64 = info.int64;
      target.vectorBits = 32;
      target.subgroupSize = static_cast<int>(info.subgroupSize);
      target.l1Bytes = info.maxSharedMemoryBytes;
      target.l2Bytes = 4 << 20;
      // A kernel's inputs and results, plus room for the scratch buffers
      // codegen adds (split and workgroup reductions): lavapipe binds 32.
      target.maxKernelBuffers = std::max<std::int64_t>(
          8, static_cast<std::int64_t>(info.maxStorageBuffersPerStage) - 8);
      target.widenIntoProducts = true;
      m.backend = new VulkanBackend(std::move(*device), std::move(target));
      return llvm::Error::success();
    };
    if (llvm::Error e = create())
      m.error = llvm::toString(std::move(e));
  }
  if (!m.backend)
    return failure(m.error);
  return *m.backend;
}

} // namespace trueno::runtime
