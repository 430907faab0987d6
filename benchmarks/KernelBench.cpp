//===- KernelBench.cpp - JIT-compiled kernels on the host CPU -------------===//
//
// exp(a * b + c) over float32 through the trueno dialect, the CPU pipeline
// and the JIT: one fused kernel, one thread (kernels are not yet split across
// cores). Also the time to compile a fresh kernel.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Cpu/Pipeline.h"
#include "trueno/Runtime/Cpu/CpuKernel.h"
#include "trueno/Runtime/Schedule.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

using trueno::runtime::CpuKernel;

namespace {

std::unique_ptr<CpuKernel> compileExpFma(std::int64_t n) {
  std::string t = "tensor<" + std::to_string(n) + "xf32>";
  std::string source = "func.func @k(%a: " + t + ", %b: " + t + ", %c: " + t +
                       ") -> " + t + " {\n  %m = trueno.mul %a, %b : " + t +
                       "\n  %s = trueno.add %m, %c : " + t +
                       "\n  %r = trueno.exp %s : " + t +
                       "\n  return %r : " + t + "\n}";
  auto module = mlir::parseSourceString<mlir::ModuleOp>(
      source, &trueno::runtime::compilerContext());
  auto kernel = CpuKernel::compile(*module, "k");
  if (!kernel) {
    llvm::consumeError(kernel.takeError());
    return nullptr;
  }
  return std::move(*kernel);
}

void expFma(benchmark::State &state) {
  std::int64_t n = state.range(0);
  auto kernel = compileExpFma(n);
  if (!kernel) {
    state.SkipWithError("compile failed");
    return;
  }
  std::vector<float> a(n, 0.5f), b(n, 1.5f), c(n, -0.25f), out(n);
  std::vector<trueno::runtime::KernelBuffer> buffers = {{a.data(), {n}, {1}},
                                                        {b.data(), {n}, {1}},
                                                        {c.data(), {n}, {1}},
                                                        {out.data(), {n}, {1}}};
  for (auto _ : state)
    if (llvm::Error e = kernel->run(buffers)) {
      state.SkipWithError(llvm::toString(std::move(e)).c_str());
      return;
    }
  state.SetBytesProcessed(state.iterations() * n * 4 * 4);
  state.counters["compile_ms"] = kernel->compileMs();
}
BENCHMARK(expFma)
    ->Arg(4096)
    ->Arg(1 << 20)
    ->Arg(10'000'000)
    ->Unit(benchmark::kMillisecond);

void compileFreshKernel(benchmark::State &state) {
  std::int64_t n = 1000;
  for (auto _ : state) // a new shape each time: nothing cached
    benchmark::DoNotOptimize(compileExpFma(n++));
}
BENCHMARK(compileFreshKernel)->Unit(benchmark::kMillisecond)->Iterations(10);

} // namespace

BENCHMARK_MAIN();
