//===- CpuKernel.cpp - Lower, JIT and call a kernel -----------------------===//
//
// Lowers through the CPU pipeline, translates to LLVM IR, optimizes with
// LLVM's O3 pipeline for the target's TargetMachine (without it the loop
// vectorizer does not know the vector width and leaves loops scalar),
// emits an object file and loads it into one process-wide ORC JIT. The entry of
// kernel `k` is `_trueno_packed_k(void **args)`, a wrapper of `_mlir_ciface_k`,
// which takes one pointer to a memref descriptor {allocated, aligned, offset,
// sizes[], strides[]} per argument.
//
//===----------------------------------------------------------------------===//
#include "trueno/Runtime/Cpu/CpuKernel.h"
#include "trueno/Codegen/Cpu/Pipeline.h"
#include "trueno/IR/TruenoDialect.h"
#include "trueno/Runtime/Cpu/Blas.h"
#include "trueno/Runtime/Cpu/HostAllocator.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <chrono>
#include <cstring>
#include <mutex>

#include <unistd.h>

namespace trueno::runtime {

/// Prints the assembly `machine` generates for (a copy of) `module`.
static llvm::Error printAssembly(const llvm::Module &module,
                                 llvm::TargetMachine &machine) {
  std::unique_ptr<llvm::Module> copy = llvm::CloneModule(module);
  llvm::SmallString<0> text;
  llvm::raw_svector_ostream os(text);
  llvm::legacy::PassManager pm;
  if (machine.addPassesToEmitFile(pm, os, nullptr,
                                  llvm::CodeGenFileType::AssemblyFile))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the target cannot emit assembly");
  pm.run(*copy);
  llvm::errs() << "// ---- trueno: assembly ----\n" << text << "\n";
  return llvm::Error::success();
}

static void initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

namespace {

/// float32 to bfloat16, rounding to nearest even (NaN stays a quiet NaN):
/// the `__truncsfbf2` that LLVM calls to round a bfloat16 value it keeps in
/// a float register, on CPUs without AVX512-BF16, and that Debian 12's
/// libgcc (GCC 12) lacks. The bits come back in the low half of xmm0, where
/// the ABI puts a bfloat16 (and a _Float16, which GCC 12 can declare).
extern "C" _Float16 truncateToBFloat16(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  std::uint16_t rounded =
      (bits & 0x7fffffffu) > 0x7f800000u
          ? static_cast<std::uint16_t>((bits >> 16) | 0x40u)
          : static_cast<std::uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >>
                                       16);
  _Float16 result;
  std::memcpy(&result, &rounded, sizeof result);
  return result;
}

/// The host's own ISA features, as cpuid reports them.
const llvm::StringMap<bool> &hostFeatures() {
  static const llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  return features;
}

/// The JIT's target machine builder for the CPU TRUENO_CPU names (the host
/// by default), checked against what the host can run.
llvm::Expected<llvm::orc::JITTargetMachineBuilder> targetMachineBuilder() {
  const char *setting = std::getenv("TRUENO_CPU");
  std::string name = setting && *setting ? setting : "native";
  if (name == "native")
    return llvm::orc::JITTargetMachineBuilder::detectHost();
  llvm::orc::JITTargetMachineBuilder builder{
      llvm::Triple(llvm::sys::getProcessTriple())};
  builder.setCPU(name);
  // The CPU's own features only: the feature string stays empty, so the
  // generated code uses exactly what that CPU model has.
  auto machine = builder.createTargetMachine();
  if (!machine)
    return machine.takeError();
  const llvm::MCSubtargetInfo *info = (*machine)->getMCSubtargetInfo();
  if (!info->isCPUStringValid(name))
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "TRUENO_CPU=%s is not a CPU LLVM knows; use native, x86-64, "
        "x86-64-v2, x86-64-v3, x86-64-v4 or an LLVM CPU name such as haswell",
        name.c_str());
  std::string missing;
  for (const llvm::SubtargetFeatureKV &feature :
       info->getAllProcessorFeatures()) {
    auto host = hostFeatures().find(feature.Key);
    // Features cpuid does not report are tuning hints, not instructions.
    if (host != hostFeatures().end() && !host->second &&
        info->checkFeatures(std::string("+") + feature.Key))
      missing += std::string(missing.empty() ? "" : ", ") + feature.Key;
  }
  if (!missing.empty())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "TRUENO_CPU=%s needs features this host lacks (%s): its code would "
        "not run here",
        name.c_str(), missing.c_str());
  return builder;
}

/// The process-wide ORC JIT that every compiled module is loaded into, each
/// in its own JITDylib, as relocatable object code: the same bytes come from
/// a fresh compile or from the disk kernel cache.
struct HostJit {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::unique_ptr<llvm::TargetMachine> machine; // for O3 and codegen
  std::mutex mutex; // a TargetMachine emits one module at a time
  std::uint64_t modules = 0;
};

llvm::Expected<HostJit *> hostJit() {
  static llvm::Expected<HostJit *> instance =
      []() -> llvm::Expected<HostJit *> {
    initializeNativeTarget();
    auto builder = targetMachineBuilder();
    if (!builder)
      return builder.takeError();
    builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
    auto jit =
        llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(*builder).create();
    if (!jit)
      return jit.takeError();
    char prefix = (*jit)->getDataLayout().getGlobalPrefix();
    // libm, memcpy... from the process; parallel loops call LLVM's OpenMP
    // runtime, loaded by path.
    auto process =
        llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(prefix);
    if (!process)
      return process.takeError();
    auto openmp = llvm::orc::DynamicLibrarySearchGenerator::Load(
        TRUENO_OPENMP_LIBRARY, prefix);
    if (!openmp)
      return openmp.takeError();
    (*jit)->getMainJITDylib().addGenerator(std::move(*process));
    (*jit)->getMainJITDylib().addGenerator(std::move(*openmp));
    // The runtime functions kernels call (GEMM), by address: they are in
    // this binary but not necessarily in its dynamic symbol table.
    llvm::orc::SymbolMap runtimeSymbols;
    std::vector<std::pair<const char *, void *>> symbols = blasSymbols();
    symbols.push_back(
        {"__truncsfbf2", reinterpret_cast<void *>(&truncateToBFloat16)});
    for (auto symbol : kernelMemorySymbols())
      symbols.push_back(symbol);
    for (auto [name, address] : symbols)
      runtimeSymbols[(*jit)->mangleAndIntern(name)] = {
          llvm::orc::ExecutorAddr::fromPtr(address),
          llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
    if (auto error = (*jit)->getMainJITDylib().define(
            llvm::orc::absoluteSymbols(std::move(runtimeSymbols))))
      return error;
    auto machine = builder->createTargetMachine();
    if (!machine)
      return machine.takeError();
    auto *host = new HostJit();
    host->jit = std::move(*jit);
    host->machine = std::move(*machine);
    return host;
  }();
  // The failure is kept as text: an Expected's error can be taken once.
  static std::string failure =
      instance ? std::string() : llvm::toString(instance.takeError());
  if (!failure.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "the host JIT could not be created: %s",
                                   failure.c_str());
  return *instance;
}

/// Adds `_trueno_packed_<f>(void **args)` for every `_mlir_ciface_<f>`: one
/// entry signature for kernels of any arity (args[i] points at the i-th
/// argument, a memref descriptor pointer), as MLIR's ExecutionEngine does.
void addPackedEntries(llvm::Module &module) {
  llvm::LLVMContext &context = module.getContext();
  auto *pointer = llvm::PointerType::get(context, 0);
  std::vector<llvm::Function *> interfaces;
  for (llvm::Function &f : module)
    if (!f.isDeclaration() && f.getName().starts_with("_mlir_ciface_"))
      interfaces.push_back(&f);
  for (llvm::Function *f : interfaces) {
    auto *entry = llvm::Function::Create(
        llvm::FunctionType::get(llvm::Type::getVoidTy(context), {pointer},
                                false),
        llvm::GlobalValue::ExternalLinkage,
        "_trueno_packed_" + f->getName().drop_front(13), module);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "entry", entry));
    std::vector<llvm::Value *> arguments;
    for (llvm::Argument &arg : f->args()) {
      llvm::Value *slot =
          b.CreateLoad(pointer, b.CreateConstGEP1_64(pointer, entry->getArg(0),
                                                     arg.getArgNo()));
      arguments.push_back(b.CreateLoad(arg.getType(), slot));
    }
    b.CreateCall(f, arguments);
    b.CreateRetVoid();
  }
}

} // namespace

JitModule::~JitModule() {
  if (dylib_)
    llvm::consumeError(dylib_->getExecutionSession().removeJITDylib(*dylib_));
}

llvm::Expected<void (*)(void **)>
JitModule::lookupPacked(llvm::StringRef name) const {
  auto host = hostJit();
  if (!host)
    return host.takeError();
  auto address =
      (*host)->jit->lookup(*dylib_, ("_trueno_packed_" + name).str());
  if (!address)
    return address.takeError();
  return address->toPtr<void (*)(void **)>();
}

llvm::Expected<std::string>
compileObject(mlir::ModuleOp module,
              const mlir::trueno::CpuPipelineOptions &options) {
  auto host = hostJit();
  if (!host)
    return host.takeError();
  int debug = debugLevel();
  auto printIR = [](llvm::StringRef title, mlir::ModuleOp m) {
    llvm::errs() << "// ---- trueno: " << title << " ----\n";
    m.print(llvm::errs());
    llvm::errs() << "\n";
  };
  std::function<void(mlir::trueno::Stage, mlir::ModuleOp)> afterStage;
  if (debug >= 3) {
    printIR("input IR", module);
    afterStage = [&](mlir::trueno::Stage stage, mlir::ModuleOp m) {
      printIR(("IR after stage " + mlir::trueno::stageName(stage)).str(), m);
    };
  }
  if (mlir::failed(mlir::trueno::lowerForCpu(
          module, options, mlir::trueno::kLastStage, afterStage)))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "lowering for the CPU failed");

  std::lock_guard lock((*host)->mutex);
  llvm::TargetMachine &machine = *(*host)->machine;
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, context);
  if (!llvmModule)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "translation to LLVM IR failed");
  llvmModule->setDataLayout(machine.createDataLayout());
  llvmModule->setTargetTriple(machine.getTargetTriple().str());
  addPackedEntries(*llvmModule);
  if (llvm::Error error = mlir::makeOptimizingTransformer(
          /*optLevel=*/3, /*sizeLevel=*/0, &machine)(llvmModule.get()))
    return error;
  if (debug >= 4)
    if (llvm::Error error = printAssembly(*llvmModule, machine))
      return error;

  std::string object;
  {
    llvm::raw_string_ostream os(object);
    llvm::buffer_ostream buffer(os);
    llvm::legacy::PassManager codegen;
    if (machine.addPassesToEmitFile(codegen, buffer, nullptr,
                                    llvm::CodeGenFileType::ObjectFile))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "the target cannot emit object code");
    codegen.run(*llvmModule);
  }
  return object;
}

llvm::Expected<std::unique_ptr<JitModule>> loadObject(std::string object) {
  auto host = hostJit();
  if (!host)
    return host.takeError();
  std::lock_guard lock((*host)->mutex);
  auto result = std::unique_ptr<JitModule>(new JitModule());
  result->object_ = std::move(object);
  llvm::orc::LLJIT &jit = *(*host)->jit;
  auto dylib =
      jit.createJITDylib("trueno-module-" + std::to_string((*host)->modules++));
  if (!dylib)
    return dylib.takeError();
  dylib->addToLinkOrder(jit.getMainJITDylib());
  result->dylib_ = &*dylib;
  if (llvm::Error error = jit.addObjectFile(
          *dylib,
          llvm::MemoryBuffer::getMemBuffer(result->object_, "kernel",
                                           /*RequiresNullTerminator=*/false)))
    return error;
  return result;
}

llvm::Expected<std::unique_ptr<JitModule>> jitForCpu(mlir::ModuleOp module) {
  auto target = cpuCompileTarget();
  if (!target)
    return target.takeError();
  auto object = compileObject(module, cpuPipelineOptions(*target));
  if (!object)
    return object.takeError();
  return loadObject(std::move(*object));
}

llvm::Expected<CompileTarget> cpuCompileTarget() {
  auto host = hostJit();
  if (!host)
    return host.takeError();
  llvm::TargetMachine &machine = *(*host)->machine;
  CompileTarget target;
  target.device = Device::cpu();
  target.triple = machine.getTargetTriple().str();
  target.cpu = machine.getTargetCPU().str();
  target.features = machine.getTargetFeatureString().str();
  target.vectorBits = cpuTargetHas("avx512f") ? 512
                      : cpuTargetHas("avx")   ? 256
                                              : 128;
  // The caches of the core the code runs on (sysconf gives 0 when unknown:
  // keep the defaults).
  if (long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE); l1 > 0)
    target.l1Bytes = l1;
  if (long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE); l2 > 0)
    target.l2Bytes = l2;
  return target;
}

bool cpuTargetHas(std::string_view feature) {
  auto host = hostJit();
  if (!host) {
    llvm::consumeError(host.takeError());
    return false;
  }
  const llvm::MCSubtargetInfo *info = (*host)->machine->getMCSubtargetInfo();
  return info->checkFeatures("+" + std::string(feature));
}

mlir::trueno::CpuPipelineOptions
cpuPipelineOptions(const CompileTarget &target) {
  mlir::trueno::CpuPipelineOptions options;
  options.float64 = target.float64;
  options.bfloat16Instructions = cpuTargetHas("avx512bf16");
  options.roundingInstructions = cpuTargetHas("sse4.1");
  options.fmaInstructions = cpuTargetHas("fma");
  options.tileRowsBytes = target.l2Bytes / 16;
  options.transposeMinBytes = target.l2Bytes / 4;
  return options;
}

llvm::Expected<std::unique_ptr<CpuKernel>>
CpuKernel::compile(mlir::ModuleOp module, llvm::StringRef name) {
  auto start = std::chrono::steady_clock::now();
  if (!module.lookupSymbol<mlir::func::FuncOp>(name))
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "no function @%s in the module",
                                   name.str().c_str());
  auto code = jitForCpu(module);
  if (!code)
    return code.takeError();
  auto entry = (*code)->lookupPacked(name);
  if (!entry)
    return entry.takeError();
  std::unique_ptr<CpuKernel> kernel(new CpuKernel());
  kernel->code_ = std::move(*code);
  kernel->entry_ = *entry;
  kernel->compileMs_ = std::chrono::duration<double, std::milli>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  return kernel;
}

void writeDescriptor(std::int64_t *d, void *data,
                     llvm::ArrayRef<std::int64_t> shape,
                     llvm::ArrayRef<std::int64_t> strides) {
  d[0] = d[1] = reinterpret_cast<std::int64_t>(data);
  d[2] = 0;
  std::copy(shape.begin(), shape.end(), d + 3);
  std::copy(strides.begin(), strides.end(), d + 3 + shape.size());
}

void callPacked(void (*entry)(void **),
                llvm::ArrayRef<std::int64_t *> descriptors) {
  // args[i] points at the i-th argument, which is a descriptor pointer.
  llvm::SmallVector<void *, 8> pointers(descriptors.begin(), descriptors.end());
  llvm::SmallVector<void *, 8> packed;
  for (void *&p : pointers)
    packed.push_back(&p);
  entry(packed.data());
}

llvm::Error CpuKernel::run(llvm::ArrayRef<KernelBuffer> buffers) const {
  std::vector<std::vector<std::int64_t>> storage;
  std::vector<std::int64_t *> descriptors;
  for (const KernelBuffer &b : buffers) {
    storage.emplace_back(descriptorWords(b.shape.size()));
    writeDescriptor(storage.back().data(), b.data, b.shape, b.strides);
    descriptors.push_back(storage.back().data());
  }
  callPacked(entry_, descriptors);
  return llvm::Error::success();
}

} // namespace trueno::runtime
