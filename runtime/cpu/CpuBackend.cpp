//===- CpuBackend.cpp - Host memory, JIT-compiled programs, calls ---------===//
//
// compile(): the graph's schedule (Schedule.h), its kernels lowered and
// compiled into one object for the target CPU (or loaded from the disk
// kernel cache), each kernel's packed entry looked up. run(): patches
// buffer addresses into prebuilt memref descriptors and calls the kernels
// in order, with temporaries from the host allocator between them.
//
//===----------------------------------------------------------------------===//
#include "trueno/Runtime/Cpu/CpuBackend.h"
#include "trueno/Codegen/Cpu/Pipeline.h"
#include "trueno/Runtime/CompilerFingerprint.h"
#include "trueno/Runtime/Counters.h"
#include "trueno/Runtime/Cpu/CpuKernel.h"
#include "trueno/Runtime/Cpu/HostAllocator.h"
#include "trueno/Runtime/Schedule.h"
#include "trueno/Runtime/Settings.h"
#include "trueno/Version.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <chrono>
#include <cstring>

namespace trueno::runtime {

namespace {

/// Host memory from the caching allocator, returned to it when the last
/// holder lets go.
class HostBuffer final : public Buffer {
public:
  HostBuffer(std::byte *bytes, std::size_t size)
      : Buffer(Device::cpu(), size), bytes_(bytes) {}
  ~HostBuffer() override {
    if (bytes_)
      HostAllocator::instance().deallocate(bytes_, size());
  }
  std::byte *hostAddress() override { return bytes_; }

private:
  std::byte *bytes_;
};

/// A compiled graph: its schedule, the loaded machine code of its kernels
/// and their entries, one per step.
class CpuExecutable final : public Executable {
public:
  CpuExecutable(KernelSchedule schedule, double compileMs, bool fromDisk)
      : schedule(std::move(schedule)) {
    compileMs_ = compileMs;
    fromDisk_ = fromDisk;
  }
  int kernelCount() const override {
    return static_cast<int>(schedule.steps.size());
  }
  void setCompileMs(double ms) { compileMs_ = ms; }
  void setFromDisk() { fromDisk_ = true; }
  void setCodeBytes(std::uint64_t bytes) { codeBytes_ = bytes; }

  KernelSchedule schedule;
  std::unique_ptr<JitModule> code;
  std::vector<void (*)(void **)> entries;
};

/// Copies a strided view of `shape` into a contiguous buffer of elements of
/// `itemSize` bytes.
void copyToContiguous(std::byte *dst, const std::byte *src, const Shape &shape,
                      const Strides &strides, int itemSize) {
  std::int64_t n = numelOf(shape);
  if (n == 0)
    return;
  if (strides == contiguousStrides(shape)) {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * itemSize);
    return;
  }
  std::vector<std::int64_t> index(shape.size(), 0);
  std::int64_t offset = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    std::memcpy(dst + i * itemSize, src + offset * itemSize, itemSize);
    for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
      offset += strides[d];
      if (++index[d] < shape[d])
        break;
      offset -= strides[d] * shape[d];
      index[d] = 0;
    }
  }
}

llvm::Error failure(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message.str());
}

} // namespace

llvm::Expected<std::shared_ptr<Buffer>>
CpuBackend::allocate(std::size_t bytes) {
  // The caching allocator: reusing freed blocks avoids the page faults of
  // fresh memory, which dominate eager ops on large tensors.
  void *memory = HostAllocator::instance().allocate(bytes);
  if (!memory && bytes > 0)
    return failure("cannot allocate " + llvm::Twine(bytes) +
                   " bytes of host memory");
  return std::make_shared<HostBuffer>(static_cast<std::byte *>(memory), bytes);
}

llvm::Error CpuBackend::upload(const BufferRef &to, const void *from,
                               std::size_t bytes) {
  if (to.offset + bytes > to.buffer->size())
    return failure("an upload past the end of its buffer");
  std::memcpy(to.buffer->hostAddress() + to.offset, from, bytes);
  return llvm::Error::success();
}

llvm::Error CpuBackend::download(void *to, const BufferRef &from,
                                 std::size_t bytes) {
  if (from.offset + bytes > from.buffer->size())
    return failure("a download past the end of its buffer");
  std::memcpy(to, from.buffer->hostAddress() + from.offset, bytes);
  return llvm::Error::success();
}

CacheKeyParts CpuBackend::keyParts(std::string ir) const {
  // The compiler's fingerprint covers what the pipeline strings cannot: a
  // pass's logic, a runtime entry point's signature.
  std::string options = "llvm-O3 codegen-O3 reciprocal-none; compiler " +
                        std::string(TRUENO_COMPILER_FINGERPRINT) + ";";
  mlir::trueno::CpuPipelineOptions pipeline = cpuPipelineOptions(target_);
  for (mlir::trueno::Stage stage :
       {mlir::trueno::Stage::Linalg, mlir::trueno::Stage::Fused,
        mlir::trueno::Stage::Bufferized, mlir::trueno::Stage::Loops,
        mlir::trueno::Stage::LLVM})
    options += mlir::trueno::stagePipeline(stage, pipeline) + ";";
  options += target_.graphPipeline() + ";";
  return {std::move(ir), target_.key(), TRUENO_VERSION_STRING,
          LLVM_VERSION_STRING, std::move(options)};
}

llvm::Expected<std::unique_ptr<Executable>>
CpuBackend::compile(const Graph &graph, bool debug) {
  auto start = std::chrono::steady_clock::now();
  auto scheduled = scheduleGraph(graph, target_.graphPipeline(), debug);
  if (!scheduled)
    return scheduled.takeError();
  auto executable =
      std::make_unique<CpuExecutable>(std::move(*scheduled), 0, false);
  KernelSchedule &schedule = executable->schedule;
  if (schedule.steps.empty()) {
    executable->setCompileMs(std::chrono::duration<double, std::milli>(
                                 std::chrono::steady_clock::now() - start)
                                 .count());
    return executable;
  }

  // The kernels' machine code: from the disk cache when an earlier process
  // (or this one) compiled the same kernels for this target, else compiled
  // now and stored.
  KernelCache &cache = KernelCache::instance();
  std::vector<std::string> names;
  for (const KernelSchedule::Step &step : schedule.steps)
    names.push_back(step.kernel);
  mlir::ModuleOp kernels = *schedule.kernels;
  std::string ir;
  {
    llvm::raw_string_ostream os(ir);
    kernels.print(os);
  }
  CacheKeyParts parts = keyParts(ir);
  CacheKey key = cacheKey(parts);
  if (debug)
    printCacheKeyBlock(llvm::errs(), key, target_.device.name(), ir);
  std::unique_ptr<JitModule> code;
  auto loadStart = std::chrono::steady_clock::now();
  if (cache.enabled())
    if (std::optional<CacheEntry> entry = cache.load(key)) {
      std::uint64_t bytes = entry->object.size();
      auto loaded = loadObject(std::move(entry->object));
      if (loaded) {
        executable->setCodeBytes(bytes);
        code = std::move(*loaded);
        executable->setFromDisk();
        counters().diskHits++;
        counters().diskLoadMicros += static_cast<std::int64_t>(
            std::chrono::duration<double, std::micro>(
                std::chrono::steady_clock::now() - loadStart)
                .count());
      } else {
        llvm::consumeError(loaded.takeError()); // unloadable: compile
      }
    }
  if (!code) {
    if (cache.enabled())
      counters().diskMisses++;
    counters().kernelsCompiled += names.size();
    auto compileStart = std::chrono::steady_clock::now();
    auto object = compileObject(kernels, cpuPipelineOptions(target_));
    if (!object)
      return object.takeError();
    if (cache.enabled()) {
      double ms = std::chrono::duration<double, std::milli>(
                      std::chrono::steady_clock::now() - compileStart)
                      .count();
      cache.store(key, {*object, cacheMetadata(parts, names, ms, "cpu")});
    }
    executable->setCodeBytes(object->size());
    auto loaded = loadObject(std::move(*object));
    if (!loaded)
      return loaded.takeError();
    code = std::move(*loaded);
  }
  for (const std::string &name : names) {
    auto entry = code->lookupPacked(name);
    if (!entry)
      return entry.takeError();
    executable->entries.push_back(*entry);
  }
  executable->code = std::move(code);
  // The kernels' IR is not needed to run them: held by every cached
  // program, it was most of a program's memory.
  schedule.kernels = nullptr;
  executable->setCompileMs(std::chrono::duration<double, std::milli>(
                               std::chrono::steady_clock::now() - start)
                               .count());
  return executable;
}

void CpuBackend::releaseCachedMemory() {
  HostAllocator::instance().releaseCached();
}

std::uint64_t CpuBackend::cachedMemoryBytes() const {
  return HostAllocator::instance().stats().cachedBytes;
}

std::uint64_t CpuBackend::liveMemoryBytes() const {
  return HostAllocator::instance().stats().liveBytes;
}

std::uint64_t CpuBackend::peakMemoryBytes() const {
  return HostAllocator::instance().stats().peakLiveBytes;
}

void CpuBackend::resetPeakMemory() { HostAllocator::instance().resetPeak(); }

namespace {

std::atomic<bool> &flushSetting() {
  static std::atomic<bool> flush =
      choiceSetting("TRUENO_FLUSH_DENORMAL", {"0", "1"}).value_or("0") == "1";
  return flush;
}

#if defined(__x86_64__)
constexpr bool kHasFlushFlags = true;
/// FTZ (bit 15) and DAZ (bit 6) of MXCSR.
constexpr unsigned kFlushBits = 0x8040;
unsigned readFloatControl() { return __builtin_ia32_stmxcsr(); }
void writeFloatControl(unsigned bits) { __builtin_ia32_ldmxcsr(bits); }
#else
constexpr bool kHasFlushFlags = false;
constexpr unsigned kFlushBits = 0;
unsigned readFloatControl() { return 0; }
void writeFloatControl(unsigned) {}
#endif

/// Sets the calling thread's flush flags for one run as the setting says,
/// and restores them after: the user's own code on this thread keeps its
/// floating-point environment.
class FlushDenormalsScope {
public:
  FlushDenormalsScope() : saved_(readFloatControl()) {
    unsigned wanted =
        flushDenormals() ? saved_ | kFlushBits : saved_ & ~kFlushBits;
    if (wanted != saved_)
      writeFloatControl(wanted);
  }
  ~FlushDenormalsScope() {
    if (readFloatControl() != saved_)
      writeFloatControl(saved_);
  }
  FlushDenormalsScope(const FlushDenormalsScope &) = delete;
  FlushDenormalsScope &operator=(const FlushDenormalsScope &) = delete;

private:
  unsigned saved_;
};

} // namespace

bool flushDenormals() {
  return kHasFlushFlags && flushSetting().load(std::memory_order_relaxed);
}

bool setFlushDenormals(bool on) {
  if (!kHasFlushFlags)
    return false;
  flushSetting().store(on, std::memory_order_relaxed);
  return true;
}

llvm::Error CpuBackend::run(const Executable &compiled,
                            std::span<const BufferRef> inputs,
                            std::span<const BufferRef> outputs) {
  const auto &executable = static_cast<const CpuExecutable &>(compiled);
  const KernelSchedule &schedule = executable.schedule;
  using Slot = KernelSchedule::Slot;
  // One memref descriptor per slot, as the kernels' C interface expects.
  std::vector<std::byte *> addresses(schedule.slots.size());
  std::vector<std::shared_ptr<Buffer>> temporaries(schedule.temporaries);
  std::size_t words = 0;
  for (const Slot &s : schedule.slots)
    words += descriptorWords(s.shape.size());
  std::vector<std::int64_t> descriptors(words);
  std::vector<std::int64_t *> descriptorOf(schedule.slots.size());
  // Each temporary lives from the step that first uses it to the step that
  // last does (the copies at the end count as one more step): allocated
  // just before, given back to the caching allocator just after, so a
  // training step's backward reuses the memory of forward values it no
  // longer needs and the peak is the largest live set, not the sum.
  auto stepCount = static_cast<int>(schedule.steps.size());
  std::vector<int> firstUse(temporaries.size(), stepCount + 1),
      lastUse(temporaries.size(), -1);
  auto use = [&](int slot, int step) {
    const Slot &s = schedule.slots[static_cast<std::size_t>(slot)];
    if (s.kind != Slot::Temporary)
      return;
    auto t = static_cast<std::size_t>(s.index);
    firstUse[t] = std::min(firstUse[t], step);
    lastUse[t] = std::max(lastUse[t], step);
  };
  for (int k = 0; k < stepCount; ++k)
    for (int slot : schedule.steps[static_cast<std::size_t>(k)].slots)
      use(slot, k);
  for (const KernelSchedule::Copy &c : schedule.copies)
    use(c.from, stepCount);
  std::size_t at = 0;
  for (std::size_t i = 0; i < schedule.slots.size(); ++i) {
    descriptorOf[i] = descriptors.data() + at;
    at += descriptorWords(schedule.slots[i].shape.size());
  }
  auto bind = [&](std::size_t i, BufferRef ref) {
    const Slot &s = schedule.slots[i];
    addresses[i] = ref.buffer->hostAddress() + ref.offset;
    writeDescriptor(descriptorOf[i], addresses[i], s.shape, s.strides);
  };
  for (std::size_t i = 0; i < schedule.slots.size(); ++i) {
    const Slot &s = schedule.slots[i];
    if (s.kind == Slot::Input)
      bind(i, inputs[s.index]);
    else if (s.kind == Slot::Output)
      bind(i, outputs[s.index]);
  }
  // Allocates the temporaries whose first use is `step` and binds their
  // slots.
  auto allocateFor = [&](int step) -> llvm::Error {
    for (std::size_t t = 0; t < temporaries.size(); ++t)
      if (firstUse[t] == step) {
        std::size_t bytes = 0;
        for (const Slot &s : schedule.slots)
          if (s.kind == Slot::Temporary && s.index == static_cast<int>(t))
            bytes = std::max(bytes, static_cast<std::size_t>(s.bytes));
        auto buffer = allocate(bytes);
        if (!buffer)
          return buffer.takeError();
        temporaries[t] = *buffer;
      }
    for (std::size_t i = 0; i < schedule.slots.size(); ++i) {
      const Slot &s = schedule.slots[i];
      if (s.kind == Slot::Temporary &&
          firstUse[static_cast<std::size_t>(s.index)] == step)
        bind(i, {temporaries[static_cast<std::size_t>(s.index)], 0});
    }
    return llvm::Error::success();
  };
  llvm::SmallVector<std::int64_t *, 8> arguments;
  FlushDenormalsScope flushScope;
  for (int k = 0; k < stepCount; ++k) {
    if (llvm::Error error = allocateFor(k))
      return error;
    arguments.clear();
    for (int slot : schedule.steps[static_cast<std::size_t>(k)].slots)
      arguments.push_back(descriptorOf[slot]);
    callPacked(executable.entries[static_cast<std::size_t>(k)], arguments);
    for (std::size_t t = 0; t < temporaries.size(); ++t)
      if (lastUse[t] == k)
        temporaries[t].reset();
  }
  if (llvm::Error error = allocateFor(stepCount))
    return error;
  counters().kernelsLaunched += schedule.steps.size();
  for (const KernelSchedule::Copy &c : schedule.copies) {
    const Slot &from = schedule.slots[c.from];
    copyToContiguous(outputs[c.output].buffer->hostAddress() +
                         outputs[c.output].offset,
                     addresses[c.from], from.shape, from.strides, c.itemSize);
  }
  return llvm::Error::success();
}

llvm::Expected<CpuBackend &> cpuBackend() {
  struct Instance {
    CpuBackend *backend = nullptr; // never destroyed: outlives tensors
    std::string error;
  };
  static Instance instance = [] {
    Instance made;
    auto target = cpuCompileTarget();
    if (!target)
      made.error = llvm::toString(target.takeError());
    else
      made.backend = new CpuBackend(*target);
    return made;
  }();
  if (!instance.backend)
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s",
                                   instance.error.c_str());
  return *instance.backend;
}

} // namespace trueno::runtime
