//===- trueno_kernel_cases.cpp - Runs generated kernels on .npy inputs ----===//
//
// The Trueno half of the PyTorch differential test of the compiler path.
// Each line of the case file is
//
//   <id> <kernel.mlir> <input.npy>...
//
// The kernel file holds a function @k in the trueno dialect. It is compiled
// through the CPU pipeline and the JIT, run on the inputs, and each result
// is saved as <outdir>/<id>.<i>.npy; a failure to compile or run is saved as
// <outdir>/<id>.err for the Python side to report.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Cpu/Pipeline.h"
#include "trueno/Runtime/Cpu/CpuKernel.h"
#include "trueno/Runtime/Schedule.h"

#include <trueno/trueno.h>

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <fstream>
#include <iostream>
#include <sstream>

namespace tn = trueno;
using trueno::runtime::CpuKernel;
using trueno::runtime::KernelBuffer;

namespace {

/// The frontend dtype of a kernel element type.
tn::DType dtypeOf(mlir::Type t) {
  if (t.isF16())
    return tn::kFloat16;
  if (t.isBF16())
    return tn::kBFloat16;
  if (t.isF32())
    return tn::kFloat32;
  if (t.isF64())
    return tn::kFloat64;
  if (t.isInteger(1))
    return tn::kBool;
  if (t.isUnsignedInteger(8))
    return tn::kUInt8;
  switch (t.getIntOrFloatBitWidth()) {
  case 8:
    return tn::kInt8;
  case 16:
    return tn::kInt16;
  case 32:
    return tn::kInt32;
  default:
    return tn::kInt64;
  }
}

KernelBuffer bufferOf(const tn::Tensor &t) {
  return {t.rawData(t.dtype()), t.shape(), t.strides()};
}

void runCase(mlir::MLIRContext &context, const std::string &id,
             const std::string &kernelPath,
             const std::vector<std::string> &inputs, const std::string &out) {
  std::ifstream file(kernelPath);
  std::stringstream source;
  source << file.rdbuf();
  auto module = mlir::parseSourceString<mlir::ModuleOp>(source.str(), &context);
  if (!module)
    throw std::runtime_error("cannot parse " + kernelPath);
  auto func = module->lookupSymbol<mlir::func::FuncOp>("k");
  std::vector<tn::Tensor> tensors;
  for (const std::string &path : inputs)
    tensors.push_back(tn::loadNpy(path).contiguous());
  std::size_t numInputs = tensors.size();
  for (mlir::Type result : func.getFunctionType().getResults()) {
    auto type = mlir::cast<mlir::RankedTensorType>(result);
    tensors.push_back(
        tn::empty(tn::Shape(type.getShape().begin(), type.getShape().end()),
                  dtypeOf(type.getElementType())));
  }
  auto kernel = CpuKernel::compile(*module, "k");
  if (!kernel)
    throw std::runtime_error(llvm::toString(kernel.takeError()));
  std::vector<KernelBuffer> buffers;
  for (const tn::Tensor &t : tensors)
    buffers.push_back(bufferOf(t));
  if (llvm::Error error = (*kernel)->run(buffers))
    throw std::runtime_error(llvm::toString(std::move(error)));
  for (std::size_t i = numInputs; i < tensors.size(); ++i)
    tn::saveNpy(out + "/" + id + "." + std::to_string(i - numInputs) + ".npy",
                tensors[i]);
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    std::cerr << "usage: trueno-kernel-cases CASES OUTDIR\n";
    return 2;
  }
  mlir::MLIRContext &context = trueno::runtime::compilerContext();
  std::ifstream cases(argv[1]);
  std::string out = argv[2], line;
  int count = 0;
  while (std::getline(cases, line)) {
    std::istringstream words(line);
    std::string id, kernel;
    if (!(words >> id >> kernel))
      continue;
    std::vector<std::string> inputs;
    for (std::string w; words >> w;)
      inputs.push_back(w);
    try {
      runCase(context, id, kernel, inputs, out);
    } catch (const std::exception &e) {
      std::ofstream(out + "/" + id + ".err") << e.what() << "\n";
    }
    ++count;
  }
  std::cout << "ran " << count << " kernels\n";
  return 0;
}
