//===- VulkanCodegenTest.cpp - Kernels to SPIR-V, validated ---------------===//
//
// Trueno kernels through the Vulkan pipeline (codegen/lib/vulkan): each
// compute shader it serializes must pass SPIRV-Tools' validator
// (`spirv-val`, Debian's spirv-tools, for Vulkan 1.3), and a kernel needing
// a capability the device lacks must fail to compile with a diagnostic,
// not produce a shader the driver would reject.
//
//===----------------------------------------------------------------------===//
#include "VulkanTestUtil.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <unistd.h>

using namespace mlir::trueno;
using trueno::testing::CompiledKernels;
using trueno::testing::compileForVulkan;

namespace {

/// What spirv-val says of `kernel` (empty when it is valid).
std::string validate(const SpirvKernel &kernel) {
  char path[] = "/tmp/trueno-spirv-XXXXXX";
  int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  ::close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char *>(kernel.words.data()),
              static_cast<std::streamsize>(kernel.words.size() * 4));
  }
  std::string command =
      std::string("spirv-val --target-env vulkan1.3 ") + path + " 2>&1";
  std::string output;
  std::FILE *pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe);
  char line[512];
  while (std::fgets(line, sizeof line, pipe))
    output += line;
  int status = ::pclose(pipe);
  std::remove(path);
  if (status != 0 && output.empty())
    output = "spirv-val failed to run (install Debian's spirv-tools)";
  return status == 0 ? "" : output;
}

/// A SPIR-V module's instructions: (opcode, operands).
using Instruction = std::pair<std::uint32_t, std::vector<std::uint32_t>>;
std::vector<Instruction> instructions(const std::vector<std::uint32_t> &words) {
  std::vector<Instruction> out;
  std::size_t i = 5;
  while (i < words.size()) {
    std::uint32_t count = words[i] >> 16;
    if (count == 0 || i + count > words.size())
      break; // malformed: checked below
    out.push_back({words[i] & 0xffff,
                   std::vector<std::uint32_t>(words.begin() + i + 1,
                                              words.begin() + i + count)});
    i += count;
  }
  CHECK(i == words.size());
  return out;
}

/// How many of `code`'s instructions have `opcode`.
std::int64_t countOf(const std::vector<Instruction> &code,
                     std::uint32_t opcode) {
  return llvm::count_if(
      code, [&](const Instruction &i) { return i.first == opcode; });
}

/// OpVariables in Workgroup storage (class 4): a kernel's tiles.
std::int64_t workgroupVariables(const std::vector<Instruction> &code) {
  return llvm::count_if(code, [](const Instruction &i) {
    return i.first == 59 && i.second.size() >= 3 && i.second[2] == 4;
  });
}

/// OpExtInst ... Fma (GLSL.std.450's 50).
std::int64_t fusedMultiplyAdds(const std::vector<Instruction> &code) {
  return llvm::count_if(code, [](const Instruction &i) {
    return i.first == 12 && i.second.size() >= 4 && i.second[3] == 50;
  });
}

/// The values of `code`'s 32-bit constants (OpConstant) by id.
llvm::DenseMap<std::uint32_t, std::uint32_t>
constantValues(const std::vector<Instruction> &code) {
  llvm::DenseMap<std::uint32_t, std::uint32_t> values;
  for (const Instruction &i : code)
    if (i.first == 43 && i.second.size() == 3)
      values[i.second[1]] = i.second[2];
  return values;
}

/// `text` with every `from` replaced by `to`.
std::string replaced(std::string text, const std::string &from,
                     const std::string &to) {
  for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos;
       at += to.size())
    text.replace(at, from.size(), to);
  return text;
}

} // namespace

TEST_CASE("elementwise kernels become valid compute shaders") {
  CompiledKernels c = compileForVulkan(R"(
    func.func @chain(%a: tensor<1000xf32>, %b: tensor<1000xf32>,
                     %c: tensor<1000xf32>) -> tensor<1000xf32> {
      %0 = trueno.mul %a, %b : tensor<1000xf32>
      %1 = trueno.add %0, %c : tensor<1000xf32>
      %2 = trueno.exp %1 : tensor<1000xf32>
      return %2 : tensor<1000xf32>
    }
    func.func @broadcast(%x: tensor<64x100xf32>, %row: tensor<100xf32>)
        -> tensor<64x100xf32> {
      %r = trueno.expand %row : tensor<100xf32> to tensor<64x100xf32>
      %0 = trueno.mul %x, %r : tensor<64x100xf32>
      %1 = trueno.tanh %0 : tensor<64x100xf32>
      return %1 : tensor<64x100xf32>
    }
    func.func @compare(%x: tensor<300xi32>, %y: tensor<300xi32>)
        -> tensor<300xi32> {
      %m = trueno.maximum %x, %y : tensor<300xi32>
      return %m : tensor<300xi32>
    }
  )");
  INFO(c.diagnostics);
  REQUIRE(c.ok);
  REQUIRE(c.kernels.size() == 3);
  for (const SpirvKernel &kernel : c.kernels) {
    INFO(kernel.entryPoint);
    CHECK(kernel.words.at(0) == 0x07230203u); // SPIR-V's magic number
    CHECK(kernel.workgroupSize == std::array<std::int64_t, 3>{64, 1, 1});
    CHECK(validate(kernel) == "");
  }
  CHECK(c.kernels[0].entryPoint == "chain_kernel");
  CHECK(c.kernels[0].bindings == 4); // a, b, c and the result
  CHECK(c.kernels[1].bindings == 3);
}

TEST_CASE("a reduction's rows are computed by threads, and validate") {
  // Short rows: a thread per row; long ones: a workgroup per row, with
  // workgroup memory, barriers and a private accumulator
  // (trueno-workgroup-reductions), in a row maximum and a column sum too.
  CompiledKernels c = compileForVulkan(R"(
    func.func @rows(%a: tensor<64x10xf32>) -> tensor<64xf32> {
      %0 = trueno.reduce_sum %a dims = [1] : tensor<64x10xf32> -> tensor<64xf32>
      return %0 : tensor<64xf32>
    }
    func.func @long_rows(%a: tensor<8x1000xf32>) -> tensor<8xf32> {
      %0 = trueno.reduce_max %a dims = [1] : tensor<8x1000xf32> -> tensor<8xf32>
      return %0 : tensor<8xf32>
    }
    func.func @columns(%a: tensor<1000x8xi32>) -> tensor<8xi32> {
      %0 = trueno.reduce_sum %a dims = [0] : tensor<1000x8xi32> -> tensor<8xi32>
      return %0 : tensor<8xi32>
    }
  )");
  INFO(c.diagnostics);
  REQUIRE(c.ok);
  REQUIRE_FALSE(c.kernels.empty());
  int cooperative = 0;
  for (const SpirvKernel &kernel : c.kernels) {
    CHECK(validate(kernel) == "");
    // OpControlBarrier: opcode 224, one word count of 4.
    cooperative += llvm::is_contained(kernel.words, (4u << 16) | 224u);
  }
  CHECK(cooperative == 1);
}

TEST_CASE("row reductions combine within subgroups by shuffles, with one "
          "barrier a row, where the device's subgroups shuffle") {
  // A row sum, a softmax (a chain of two reductions) and an int64 sum, each
  // with 256 threads a row. SPIR-V instructions as their first word (word
  // count and opcode): OpControlBarrier, OpGroupNonUniformElect and
  // OpGroupNonUniformShuffleXor.
  const char *source = R"(
    func.func @sum(%a: tensor<8x1000xf32>) -> tensor<8xf32> {
      %0 = trueno.reduce_sum %a dims = [1] : tensor<8x1000xf32> -> tensor<8xf32>
      return %0 : tensor<8xf32>
    }
    func.func @softmax(%x: tensor<8x4096xf32>) -> tensor<8x4096xf32> {
      %m = trueno.reduce_max %x dims = [1] : tensor<8x4096xf32> -> tensor<8x1xf32>
      %mb = trueno.expand %m : tensor<8x1xf32> to tensor<8x4096xf32>
      %d = trueno.sub %x, %mb : tensor<8x4096xf32>
      %e = trueno.exp %d : tensor<8x4096xf32>
      %s = trueno.reduce_sum %e dims = [1] : tensor<8x4096xf32> -> tensor<8x1xf32>
      %sb = trueno.expand %s : tensor<8x1xf32> to tensor<8x4096xf32>
      %y = trueno.div %e, %sb : tensor<8x4096xf32>
      return %y : tensor<8x4096xf32>
    }
    func.func @integers(%a: tensor<8x5000xi64>) -> tensor<8xi64> {
      %0 = trueno.reduce_sum %a dims = [1] : tensor<8x5000xi64> -> tensor<8xi64>
      return %0 : tensor<8xi64>
    }
  )";
  constexpr std::uint32_t barrier = (4u << 16) | 224u,
                          elect = (4u << 16) | 333u,
                          shuffle = (6u << 16) | 346u;
  auto count = [](const SpirvKernel &kernel, std::uint32_t first) {
    return llvm::count(kernel.words, first);
  };
  VulkanPipelineOptions options;
  options.int64 = true;
  options.workgroupSize = 256;
  options.subgroupExtendedTypes = true; // int64 shuffles
  // {subgroup size, barriers, elections and shuffles per reduction}: the
  // tree (8 levels and the first store), subgroups of 8 (lavapipe's) and
  // 32 (NVIDIA's), one subgroup a workgroup (no workgroup memory).
  for (auto [subgroup, barriers, elections, shuffles] :
       {std::tuple{0, 9, 0, 0}, {8, 1, 1, 3}, {32, 1, 1, 5}, {256, 0, 0, 8}}) {
    INFO("subgroup size " << subgroup);
    options.subgroupSize = subgroup;
    CompiledKernels c = compileForVulkan(source, options);
    INFO(c.diagnostics);
    REQUIRE(c.ok);
    int reductions = 0;
    for (const SpirvKernel &kernel : c.kernels) {
      INFO(kernel.entryPoint);
      CHECK(validate(kernel) == "");
      int chain = kernel.entryPoint.find("softmax") == 0 ? 2 : 1;
      if (count(kernel, barrier) == 0 && count(kernel, shuffle) == 0)
        continue; // a fill
      ++reductions;
      // The softmax's chain broadcasts each total (the tree: one more
      // barrier after every thread has read it).
      int extra = subgroup == 0 && chain == 2 ? 1 : 0;
      CHECK(count(kernel, barrier) == chain * (barriers + extra));
      CHECK(count(kernel, elect) == chain * elections);
      CHECK(count(kernel, shuffle) == chain * shuffles);
    }
    CHECK(reductions == 3);
  }
  // Without shaderSubgroupExtendedTypes, Vulkan shuffles no int64: that
  // sum takes the tree, the float32 ones still shuffle.
  options.subgroupExtendedTypes = false;
  options.subgroupSize = 32;
  CompiledKernels c = compileForVulkan(source, options);
  INFO(c.diagnostics);
  REQUIRE(c.ok);
  for (const SpirvKernel &kernel : c.kernels) {
    INFO(kernel.entryPoint);
    CHECK(validate(kernel) == "");
    if (kernel.entryPoint.find("integers") == 0 && count(kernel, barrier) > 0) {
      CHECK(count(kernel, barrier) == 9);
      CHECK(count(kernel, shuffle) == 0);
    } else if (kernel.entryPoint.find("sum") == 0 &&
               count(kernel, barrier) > 0) {
      CHECK(count(kernel, shuffle) == 5);
    }
  }
}

TEST_CASE("random uniforms compile without 64-bit integers, and validate") {
  // trueno.random_uniform adds each element's block to the counter in
  // 32-bit halves and takes Philox's products as OpUMulExtended, so a
  // device without Int64 runs it (float64 values need only Float64).
  CompiledKernels c = compileForVulkan(R"(
    func.func @draw(%k0: tensor<i32>, %k1: tensor<i32>, %c0: tensor<i32>,
                    %c1: tensor<i32>, %x: tensor<64x128xf32>)
        -> tensor<64x128xf32> {
      %u = trueno.random_uniform %k0, %k1, %c0, %c1 : tensor<64x128xf32>
      %m = trueno.mul %u, %x : tensor<64x128xf32>
      return %m : tensor<64x128xf32>
    }
  )");
  INFO(c.diagnostics);
  REQUIRE(c.ok);
  REQUIRE(c.kernels.size() == 1);
  CHECK(validate(c.kernels[0]) == "");
  std::vector<Instruction> code = instructions(c.kernels[0].words);
  // OpUMulExtended: two a round, unrolled, less the first round's product
  // of the counter's zero word, which folds.
  CHECK(countOf(code, 151) == 19);
  CHECK(llvm::none_of(code, [](const Instruction &i) {
    return i.first == 17 && i.second == std::vector<std::uint32_t>{11};
  })); // no OpCapability Int64
  VulkanPipelineOptions options;
  options.float64 = true;
  CompiledKernels wide = compileForVulkan(R"(
    func.func @draw(%k0: tensor<i32>, %k1: tensor<i32>, %c0: tensor<i32>,
                    %c1: tensor<i32>) -> tensor<1000xf64> {
      %u = trueno.random_uniform %k0, %k1, %c0, %c1 : tensor<1000xf64>
      return %u : tensor<1000xf64>
    }
  )",
                                          options);
  INFO(wide.diagnostics);
  REQUIRE(wide.ok);
  CHECK(validate(wide.kernels.at(0)) == "");
}

TEST_CASE("float64 needs the device's Float64 capability") {
  const char *source = R"(
    func.func @twice(%a: tensor<10xf64>) -> tensor<10xf64> {
      %0 = trueno.add %a, %a : tensor<10xf64>
      return %0 : tensor<10xf64>
    }
  )";
  CompiledKernels without = compileForVulkan(source);
  CHECK_FALSE(without.ok);
  CHECK(without.diagnostics.find("failed to legalize") != std::string::npos);
  VulkanPipelineOptions options;
  options.float64 = true;
  CompiledKernels with = compileForVulkan(source, options);
  INFO(with.diagnostics);
  REQUIRE(with.ok);
  REQUIRE(with.kernels.size() == 1);
  CHECK(validate(with.kernels[0]) == "");
}

TEST_CASE("float64 and int64 products compile to tiles of their type, and "
          "validate") {
  // 200 x 96 @ 96 x 300: 4 x 5 tiles of 64 x 64, 256 threads, the tiles
  // (64 x 16 and 16 x 64 float64) in workgroup memory, 16 fused
  // multiply-adds (GLSL.std.450 Fma) a thread per element of the step.
  const char *source = R"(
    func.func @product(%a: tensor<200x96xf64>, %b: tensor<96x300xf64>) -> tensor<200x300xf64> {
      %p = trueno.matmul %a, %b : tensor<200x96xf64>, tensor<96x300xf64> -> tensor<200x300xf64>
      return %p : tensor<200x300xf64>
    }
  )";
  VulkanPipelineOptions options;
  options.float64 = true;
  options.workgroupSize = 256;
  CompiledKernels c = compileForVulkan(source, options);
  INFO(c.diagnostics);
  REQUIRE(c.ok);
  REQUIRE(c.kernels.size() == 1);
  const SpirvKernel &kernel = c.kernels[0];
  CHECK(validate(kernel) == "");
  CHECK(kernel.workgroupSize[0] == 256);
  CHECK(kernel.workgroupCount[0] == 20);
  const std::vector<Instruction> code = instructions(kernel.words);
  // OpTypeFloat 64, and OpVariables in Workgroup storage (4): the tiles.
  CHECK(llvm::any_of(code, [](const Instruction &i) {
    return i.first == 22 && i.second.size() == 2 && i.second[1] == 64;
  }));
  CHECK(workgroupVariables(code) == 2);
  // Fma: 16 a thread for each of the step's 16 elements.
  CHECK(fusedMultiplyAdds(code) == 256);
  // int64 the same way: the tiles in workgroup memory, 256 OpIMul (132)
  // of the products a thread at least (addresses take more), no Fma.
  options.int64 = true;
  CompiledKernels ints =
      compileForVulkan(replaced(source, "f64", "i64"), options);
  INFO(ints.diagnostics);
  REQUIRE(ints.ok);
  REQUIRE(ints.kernels.size() == 1);
  CHECK(validate(ints.kernels[0]) == "");
  const std::vector<Instruction> intCode = instructions(ints.kernels[0].words);
  CHECK(workgroupVariables(intCode) == 2);
  CHECK(countOf(intCode, 132) >= 256);
  CHECK(fusedMultiplyAdds(intCode) == 0);
}

TEST_CASE("a launch never asks for more workgroups than the device allows") {
  // 1000 elements want 16 workgroups of 64; with 8 allowed, each thread
  // takes two elements (the grid-stride loop; VulkanDispatchTest runs it).
  VulkanPipelineOptions options;
  options.maxWorkgroupCount = 8;
  CompiledKernels c = compileForVulkan(R"(
    func.func @big(%a: tensor<1000xf32>) -> tensor<1000xf32> {
      %0 = trueno.neg %a : tensor<1000xf32>
      return %0 : tensor<1000xf32>
    }
  )",
                                       options);
  INFO(c.diagnostics);
  REQUIRE(c.ok);
  REQUIRE(c.kernels.size() == 1);
  CHECK(c.kernels[0].workgroupCount == std::array<std::int64_t, 3>{8, 1, 1});
  CHECK(validate(c.kernels[0]) == "");
}

TEST_CASE("float16 products compile to cooperative matrices where the device "
          "has them, and to float32 tiles that validate where not") {
  const char *source = R"(
    func.func @product(%a: tensor<200x96xf16>, %b: tensor<96x300xf16>) -> tensor<200x300xf16> {
      %wa = trueno.cast %a : tensor<200x96xf16> to tensor<200x96xf32>
      %wb = trueno.cast %b : tensor<96x300xf16> to tensor<96x300xf32>
      %p = trueno.matmul %wa, %wb : tensor<200x96xf32>, tensor<96x300xf32> -> tensor<200x300xf32>
      %r = trueno.cast %p : tensor<200x300xf32> to tensor<200x300xf16>
      return %r : tensor<200x300xf16>
    }
  )";
  mlir::trueno::VulkanPipelineOptions options;
  options.float16 = options.storage16 = true;
  options.workgroupSize = 256;
  // SPIR-V opcodes: OpCooperativeMatrixMulAddKHR (4459, 6 words) and
  // OpFConvert (115), the widening the product no longer needs.
  auto count = [](const SpirvKernel &kernel, std::uint32_t opcode) {
    return llvm::count_if(kernel.words, [&](std::uint32_t w) {
      return (w & 0xffff) == opcode && (w >> 16) >= 4 && (w >> 16) <= 6;
    });
  };
  {
    CompiledKernels c = compileForVulkan(source, options);
    INFO(c.diagnostics);
    REQUIRE(c.ok);
    // The product reading the halves (storing its sums: C's zero fill is
    // folded in), the rounding.
    REQUIRE(c.kernels.size() == 2);
    for (const SpirvKernel &kernel : c.kernels) {
      CHECK(validate(kernel) == "");
      CHECK(count(kernel, 4459) == 0);
    }
  }
  options.cooperativeMatrix = true;
  options.cooperativeStep = 32;
  options.cooperativeSubgroups = 8;
  options.cooperativeColumns = 128;
  CompiledKernels c = compileForVulkan(source, options);
  INFO(c.diagnostics);
  REQUIRE(c.ok);
  REQUIRE(c.kernels.size() == 2);
  int cooperative = 0;
  for (const SpirvKernel &kernel : c.kernels) {
    if (count(kernel, 4459) == 0) {
      CHECK(validate(kernel) == "");
      continue;
    }
    // (Debian's spirv-val predates SPV_KHR_cooperative_matrix: the GPU run
    // checks these kernels' results instead.) SPIR-V 1.6, 8 subgroups'
    // 4 x 2 fragments twice a step.
    ++cooperative;
    CHECK(kernel.words[1] == 0x00010600u);
    CHECK(count(kernel, 4459) == 16);
    // In the Vulkan memory model (useVulkanMemoryModel; SPIR-V requires it
    // of cooperative matrices): OpMemoryModel Logical Vulkan and its
    // capability, the tiles' stores and matrix loads from workgroup memory
    // non-private, the barriers' semantics AcquireRelease|WorkgroupMemory
    // with MakeAvailable|MakeVisible.
    const std::vector<Instruction> code = instructions(kernel.words);
    std::set<std::uint32_t> capabilities, semantics;
    llvm::DenseMap<std::uint32_t, std::uint32_t> values = constantValues(code);
    // Pointers into workgroup memory: variables and access chains of a
    // pointer type of storage class 4.
    std::set<std::uint32_t> workgroupTypes, workgroupPointers;
    for (const Instruction &i : code) {
      if (i.first == 32 && i.second[1] == 4)
        workgroupTypes.insert(i.second[0]);
      if ((i.first == 59 || i.first == 65) && workgroupTypes.count(i.second[0]))
        workgroupPointers.insert(i.second[1]);
    }
    int stores = 0, matrixLoads = 0;
    for (const Instruction &i : code) {
      if (i.first == 17)
        capabilities.insert(i.second[0]);
      if (i.first == 14)
        CHECK(i.second == std::vector<std::uint32_t>{0, 3});
      if (i.first == 224)
        semantics.insert(values[i.second[2]]);
      // Every store (OpStore), load (OpLoad) and matrix load of workgroup
      // memory has NonPrivatePointer (0x20) in its memory operands.
      auto nonPrivate = [&](std::size_t mask) {
        return i.second.size() > mask && (i.second[mask] & 0x20);
      };
      if (i.first == 62 && workgroupPointers.count(i.second[0])) {
        CHECK(nonPrivate(2));
        ++stores;
      }
      if (i.first == 61 && workgroupPointers.count(i.second[2]))
        CHECK(nonPrivate(3));
      if (i.first == 4457 && workgroupPointers.count(i.second[2])) {
        CHECK(nonPrivate(5));
        ++matrixLoads;
      }
    }
    CHECK(capabilities.count(5345) == 1);
    CHECK(semantics == std::set<std::uint32_t>{0x6108});
    CHECK(stores > 0);
    CHECK(matrixLoads > 0);
  }
  CHECK(cooperative == 1);
  // With the float32 tiles' prefetch option too (the cooperative kernel
  // prefetches either way), and with steps of 64 (the default): four
  // fragments of the contraction a step.
  // The cooperative multiply-adds of `product`'s kernel compiled with
  // `options` (the first of its two).
  auto mulAdds = [&](const std::string &product) {
    CompiledKernels compiled = compileForVulkan(product, options);
    INFO(compiled.diagnostics);
    REQUIRE(compiled.ok);
    REQUIRE(compiled.kernels.size() == 2);
    return count(compiled.kernels[0], 4459);
  };
  options.matmulPrefetch = true;
  CHECK(mulAdds(source) == 16);
  options.cooperativeStep = 64;
  CHECK(mulAdds(source) == 32);
  // Two copies of the tiles (steps of 32 to fit in 48 KiB; two steps a
  // loop iteration, one from each copy), and tiles of 256 columns: 4 x 4
  // fragments a subgroup, steps of 32 likewise.
  options.maxWorkgroupMemory = 49152;
  options.cooperativeBuffers = 2;
  CHECK(mulAdds(source) == 32);
  options.cooperativeBuffers = 1;
  options.cooperativeColumns = 256;
  CHECK(mulAdds(source) == 32);
  // Four subgroups: 128 threads, 128 columns although 256 are asked (2 x 2
  // subgroups of 4 x 4 fragments), and two copies of steps of 32 fit (two
  // steps an iteration).
  {
    mlir::trueno::VulkanPipelineOptions four = options;
    four.cooperativeSubgroups = 4;
    four.cooperativeBuffers = 2;
    CompiledKernels compiled = compileForVulkan(source, four);
    INFO(compiled.diagnostics);
    REQUIRE(compiled.ok);
    REQUIRE(compiled.kernels.size() == 2);
    const SpirvKernel &kernel = compiled.kernels[0];
    CHECK(count(kernel, 4459) == 64);
    CHECK(kernel.workgroupSize[0] == 128);
    // 200 x 300: 2 x 3 tiles of 128 x 128 (3 x 2 of 128 x 256 before).
    CHECK(kernel.workgroupCount[0] == 6);
  }
  // A contraction of 33: A's rows are not groups of 4 in memory, so its
  // groups are loaded a half at a time (and assembled by vector.insert,
  // which SPIR-V has; MLIR 19 does not convert vector.from_elements).
  CHECK(mulAdds(replaced(source, "96", "33")) == 32);
  // The accumulators reach C directly where its rows start 16-byte
  // aligned (300 columns): a matrix store (OpCooperativeMatrixStoreKHR,
  // 4458) of each of a subgroup's 4 x 4 fragments to C, and one to
  // workgroup memory for edge tiles; 301 columns, only the latter.
  auto stores = [&](const std::string &product) {
    CompiledKernels compiled = compileForVulkan(product, options);
    INFO(compiled.diagnostics);
    REQUIRE(compiled.ok);
    REQUIRE(compiled.kernels.size() == 2);
    return llvm::count_if(compiled.kernels[0].words, [](std::uint32_t w) {
      return (w & 0xffff) == 4458 && (w >> 16) >= 4 && (w >> 16) <= 7;
    });
  };
  CHECK(stores(source) == 32);
  CHECK(stores(replaced(source, "300", "301")) == 16);
  // Where even the smallest shape does not fit, float32 tiles.
  options.maxWorkgroupMemory = 16384;
  CompiledKernels small = compileForVulkan(source, options);
  INFO(small.diagnostics);
  REQUIRE(small.ok);
  for (const SpirvKernel &kernel : small.kernels) {
    CHECK(count(kernel, 4459) == 0);
    CHECK(validate(kernel) == "");
  }
}

TEST_CASE("bfloat16 products compile to bfloat16 cooperative matrices where "
          "the device has them") {
  const char *source = R"(
    func.func @product(%a: tensor<200x96xbf16>, %b: tensor<96x304xbf16>) -> tensor<200x304xf32> {
      %wa = trueno.cast %a : tensor<200x96xbf16> to tensor<200x96xf32>
      %wb = trueno.cast %b : tensor<96x304xbf16> to tensor<96x304xf32>
      %p = trueno.matmul %wa, %wb : tensor<200x96xf32>, tensor<96x304xf32> -> tensor<200x304xf32>
      return %p : tensor<200x304xf32>
    }
  )";
  mlir::trueno::VulkanPipelineOptions options;
  options.float16 = options.storage16 = true;
  options.workgroupSize = 256;
  options.cooperativeMatrix = true;
  auto count = [&](const SpirvKernel &kernel, std::uint32_t opcode) {
    return countOf(instructions(kernel.words), opcode);
  };
  {
    // Without the device's bfloat16 matrices: the inputs widened (the
    // widening kernels read bfloat16's bits as 16-bit integers), the
    // product on float32 tiles.
    options.int16 = true;
    CompiledKernels c = compileForVulkan(source, options);
    INFO(c.diagnostics);
    REQUIRE(c.ok);
    REQUIRE(c.kernels.size() == 3);
    for (const SpirvKernel &kernel : c.kernels) {
      CHECK(count(kernel, 4459) == 0);
      CHECK(validate(kernel) == "");
    }
    options.int16 = false;
  }
  options.cooperativeBf16 = true;
  CompiledKernels c = compileForVulkan(source, options);
  INFO(c.diagnostics);
  REQUIRE(c.ok);
  REQUIRE(c.kernels.size() == 1);
  const std::vector<Instruction> code = instructions(c.kernels[0].words);
  // Each subgroup's 4 x 4 fragments twice a step of 32.
  CHECK(count(c.kernels[0], 4459) == 32);
  // OpCapability BFloat16TypeKHR and BFloat16CooperativeMatrixKHR,
  // OpExtension "SPV_KHR_bfloat16", one OpTypeFloat 16 BFloat16KHR.
  auto has = [&](std::uint32_t opcode, std::vector<std::uint32_t> operands) {
    return llvm::any_of(code, [&](const Instruction &i) {
      return i.first == opcode && i.second == operands;
    });
  };
  CHECK(has(17, {5116}));
  CHECK(has(17, {5118}));
  const char *extension = "SPV_KHR_bfloat16";
  std::vector<std::uint32_t> name(5, 0);
  std::memcpy(name.data(), extension, std::strlen(extension));
  CHECK(has(10, name));
  std::optional<std::uint32_t> bfloat16, half, single;
  llvm::DenseMap<std::uint32_t, std::uint32_t> constants = constantValues(code);
  for (const Instruction &i : code) {
    if (i.first == 22 && i.second.size() == 3 && i.second[1] == 16 &&
        i.second[2] == 0) {
      CHECK_FALSE(bfloat16);
      bfloat16 = i.second[0];
    }
    if (i.first == 22 && i.second.size() == 2)
      (i.second[1] == 16 ? half : single) = i.second[0];
  }
  REQUIRE(bfloat16);
  REQUIRE(single);
  // Every A and B matrix type (use 0, 1) is of bfloat16, the accumulators
  // (use 2) of float32.
  int matrices = 0;
  for (const Instruction &i : code)
    if (i.first == 4456) {
      REQUIRE(i.second.size() == 6);
      REQUIRE(constants.count(i.second[5]));
      std::uint32_t use = constants[i.second[5]];
      CHECK(i.second[1] == (use == 2 ? *single : *bfloat16));
      ++matrices;
    }
  CHECK(matrices == 3);
  // Words that are not a module, or a module without float16 matrices,
  // are refused, unchanged.
  std::vector<std::uint32_t> garbage = {1, 2, 3};
  CHECK(mlir::failed(mlir::trueno::retypeBFloat16Matrices(garbage)));
  CHECK(garbage == std::vector<std::uint32_t>{1, 2, 3});
  options.cooperativeBf16 = false;
  options.int16 = true;
  CompiledKernels tiles = compileForVulkan(source, options);
  REQUIRE(tiles.ok);
  std::vector<std::uint32_t> plain = tiles.kernels[0].words;
  CHECK(mlir::failed(mlir::trueno::retypeBFloat16Matrices(plain)));
  CHECK(plain == tiles.kernels[0].words);
}

TEST_CASE("products whose tiles all lie inside C compile to workgroup-scope "
          "matrices of the whole tiles where the device has them") {
  // 256 x 96 @ 96 x 384: 2 x 3 tiles of 128 x 128, all inside C; the
  // accumulators stored to C, which is zero-filled.
  const char *source = R"(
    func.func @product(%a: tensor<256x96xf16>, %b: tensor<96x384xf16>) -> tensor<256x384xf32> {
      %wa = trueno.cast %a : tensor<256x96xf16> to tensor<256x96xf32>
      %wb = trueno.cast %b : tensor<96x384xf16> to tensor<96x384xf32>
      %p = trueno.matmul %wa, %wb : tensor<256x96xf32>, tensor<96x384xf32> -> tensor<256x384xf32>
      return %p : tensor<256x384xf32>
    }
  )";
  mlir::trueno::VulkanPipelineOptions options;
  options.float16 = options.storage16 = true;
  options.workgroupSize = 256;
  options.cooperativeMatrix = true;
  options.cooperativeWorkgroupScope = true;
  CompiledKernels c = compileForVulkan(source, options);
  INFO(c.diagnostics);
  REQUIRE(c.ok);
  REQUIRE(c.kernels.size() == 1);
  const SpirvKernel &kernel = c.kernels[0];
  CHECK(kernel.workgroupSize[0] == 128);
  CHECK(kernel.workgroupCount[0] == 6);
  const std::vector<Instruction> code = instructions(kernel.words);
  auto count = [&](std::uint32_t opcode) { return countOf(code, opcode); };
  // One multiply-add a step (OpCooperativeMatrixMulAddKHR), one store
  // (OpCooperativeMatrixStoreKHR) to C.
  CHECK(count(4459) == 1);
  CHECK(count(4458) == 1);
  // Three matrix types, each of workgroup scope (2): A 128 x 32, B 32 x
  // 128, the accumulators 128 x 128 (operands: result, component, scope,
  // rows, columns, use, each but the component a constant's id).
  llvm::DenseMap<std::uint32_t, std::uint32_t> constants = constantValues(code);
  std::set<std::vector<std::uint32_t>> shapes;
  for (const Instruction &i : code)
    if (i.first == 4456) {
      REQUIRE(i.second.size() == 6);
      std::vector<std::uint32_t> shape;
      for (int operand : {2, 3, 4, 5}) {
        REQUIRE(constants.count(i.second[operand]));
        shape.push_back(constants[i.second[operand]]);
      }
      shapes.insert(shape);
    }
  CHECK(shapes == std::set<std::vector<std::uint32_t>>{
                      {2, 128, 32, 0}, {2, 32, 128, 1}, {2, 128, 128, 2}});
  CHECK(count(224) > 0); // OpControlBarrier: the tiles in workgroup memory
  // Loading its matrices from the inputs: two loads (OpCooperativeMatrix
  // LoadKHR) a step, none of C (zero-filled), the 3 steps unrolled; no
  // barrier, no workgroup memory (OpVariable of storage class 4).
  {
    mlir::trueno::VulkanPipelineOptions global = options;
    global.cooperativeWorkgroupGlobal = true;
    CompiledKernels g = compileForVulkan(source, global);
    INFO(g.diagnostics);
    REQUIRE(g.ok);
    REQUIRE(g.kernels.size() == 1);
    const std::vector<Instruction> direct = instructions(g.kernels[0].words);
    CHECK(countOf(direct, 4459) == 3);
    CHECK(countOf(direct, 4457) == 6);
    CHECK(countOf(direct, 224) == 0);
    CHECK(workgroupVariables(direct) == 0);
    // As tensor loads (OpCooperativeMatrixLoadTensorNV, 5367), each
    // through a layout (OpTypeTensorLayoutNV, 5370) of its matrix's rows
    // and columns (OpTensorLayoutSetDimensionNV, 5373) at its row's stride
    // in halves (OpTensorLayoutSetStrideNV, 5374: A's 96, B's 384), sliced
    // whole (OpTensorLayoutSliceNV, 5375), with the capabilities
    // TensorAddressingNV and CooperativeMatrixTensorAddressingNV.
    global.cooperativeTensorLoads = true;
    CompiledKernels t = compileForVulkan(source, global);
    INFO(t.diagnostics);
    REQUIRE(t.ok);
    REQUIRE(t.kernels.size() == 1);
    const std::vector<Instruction> tensor = instructions(t.kernels[0].words);
    CHECK(countOf(tensor, 4457) == 0);
    CHECK(countOf(tensor, 5367) == 6);
    CHECK(countOf(tensor, 5370) == 1);
    CHECK(countOf(tensor, 4459) == 3);
    llvm::DenseMap<std::uint32_t, std::uint32_t> values =
        constantValues(tensor);
    std::multiset<std::vector<std::uint32_t>> dimensions, strides;
    std::set<std::uint32_t> capabilities;
    for (const Instruction &i : tensor) {
      if (i.first == 17)
        capabilities.insert(i.second[0]);
      if (i.first == 5373 || i.first == 5374) {
        REQUIRE(i.second.size() == 5);
        std::vector<std::uint32_t> pair = {values[i.second[3]],
                                           values[i.second[4]]};
        (i.first == 5373 ? dimensions : strides).insert(pair);
      }
    }
    CHECK(capabilities.count(5439) == 1);
    CHECK(capabilities.count(5433) == 1);
    CHECK(
        dimensions ==
        std::multiset<std::vector<std::uint32_t>>{
            {128, 32}, {128, 32}, {128, 32}, {32, 128}, {32, 128}, {32, 128}});
    CHECK(strides ==
          std::multiset<std::vector<std::uint32_t>>{
              {96, 1}, {96, 1}, {96, 1}, {384, 1}, {384, 1}, {384, 1}});
    // With wide tiles for tensor loads: this product (384 columns, not a
    // multiple of 256) keeps its 128x128 tiles of 4 subgroups; one of 512
    // columns takes 128x256 tiles of 8 subgroups (2 x 2 workgroups of 256
    // threads), B's layouts 32 x 256.
    global.cooperativeTensorWideTiles = true;
    CompiledKernels same = compileForVulkan(source, global);
    REQUIRE(same.ok);
    REQUIRE(same.kernels.size() == 1);
    CHECK(same.kernels[0].workgroupSize[0] == 128);
    CHECK(same.kernels[0].words == t.kernels[0].words);
    CompiledKernels wide =
        compileForVulkan(replaced(source, "384", "512"), global);
    INFO(wide.diagnostics);
    REQUIRE(wide.ok);
    REQUIRE(wide.kernels.size() == 1);
    CHECK(wide.kernels[0].workgroupSize[0] == 256);
    CHECK(wide.kernels[0].workgroupCount[0] == 4);
    const std::vector<Instruction> wideCode =
        instructions(wide.kernels[0].words);
    CHECK(countOf(wideCode, 5367) == 6);
    llvm::DenseMap<std::uint32_t, std::uint32_t> wideValues =
        constantValues(wideCode);
    std::multiset<std::vector<std::uint32_t>> wideDimensions;
    for (const Instruction &i : wideCode)
      if (i.first == 5373)
        wideDimensions.insert(
            {wideValues[i.second[3]], wideValues[i.second[4]]});
    CHECK(
        wideDimensions ==
        std::multiset<std::vector<std::uint32_t>>{
            {128, 32}, {128, 32}, {128, 32}, {32, 256}, {32, 256}, {32, 256}});
    // Words that are not a module are refused, unchanged.
    std::vector<std::uint32_t> garbage = {1, 2, 3};
    CHECK(
        mlir::failed(mlir::trueno::loadMatricesThroughTensorLayouts(garbage)));
    CHECK(garbage == std::vector<std::uint32_t>{1, 2, 3});
    if (const char *dump = std::getenv("TRUENO_TEST_DUMP_TENSOR_LOADS")) {
      std::ofstream(dump, std::ios::binary)
          .write(reinterpret_cast<const char *>(t.kernels[0].words.data()),
                 static_cast<std::streamsize>(t.kernels[0].words.size() * 4));
    }
  }
  // bfloat16: the same three shapes, A and B of bfloat16 (both retypings),
  // loaded through the tiles in workgroup memory, and by tensor loads
  // through a float16 view of the inputs (the pointers' elements float16,
  // the matrices bfloat16: a load reads the matrix's component type from
  // whatever the pointer points at).
  // (And by plain matrix loads from the inputs through that view.)
  for (int loads : {0, 1, 2}) {
    const bool fromInputs = loads > 0, tensorLoads = loads == 2;
    INFO("from the inputs: " << fromInputs
                             << ", tensor loads: " << tensorLoads);
    mlir::trueno::VulkanPipelineOptions bfloat16 = options;
    bfloat16.cooperativeBf16 = true;
    bfloat16.cooperativeWorkgroupGlobal = fromInputs;
    bfloat16.cooperativeTensorLoads = tensorLoads;
    CompiledKernels g =
        compileForVulkan(replaced(source, "xf16>", "xbf16>"), bfloat16);
    INFO(g.diagnostics);
    REQUIRE(g.ok);
    REQUIRE(g.kernels.size() == 1);
    const std::vector<Instruction> retyped = instructions(g.kernels[0].words);
    std::optional<std::uint32_t> bfloat16Type, halfType;
    llvm::DenseMap<std::uint32_t, std::uint32_t> values =
        constantValues(retyped);
    for (const Instruction &i : retyped)
      if (i.first == 22 && i.second.size() == 3 && i.second[1] == 16 &&
          i.second[2] == 0)
        bfloat16Type = i.second[0];
      else if (i.first == 22 && i.second.size() == 2 && i.second[1] == 16)
        halfType = i.second[0];
    REQUIRE(bfloat16Type);
    std::set<std::vector<std::uint32_t>> typed;
    for (const Instruction &i : retyped)
      if (i.first == 4456) {
        REQUIRE(i.second.size() == 6);
        typed.insert({i.second[1] == *bfloat16Type, values[i.second[2]],
                      values[i.second[3]], values[i.second[4]],
                      values[i.second[5]]});
      }
    CHECK(typed == std::set<std::vector<std::uint32_t>>{{1, 2, 128, 32, 0},
                                                        {1, 2, 32, 128, 1},
                                                        {0, 2, 128, 128, 2}});
    if (!fromInputs) {
      CHECK(countOf(retyped, 5367) == 0); // no tensor loads
      CHECK(countOf(retyped, 224) > 0);   // the tiles' barriers
      continue;
    }
    // Six loads from the inputs (tensor loads, or matrix loads), none of
    // C, no barrier.
    CHECK(countOf(retyped, 5367) == (tensorLoads ? 6 : 0));
    CHECK(countOf(retyped, 4457) == (tensorLoads ? 0 : 6));
    CHECK(countOf(retyped, 224) == 0);
    CHECK(workgroupVariables(retyped) == 0);
    // Every storage-buffer pointer to 16-bit elements points at float16
    // ones (OpTypePointer, storage class 12): A's and B's views.
    REQUIRE(halfType);
    int halfPointers = 0;
    for (const Instruction &i : retyped)
      if (i.first == 32 && i.second.size() == 3 && i.second[1] == 12) {
        CHECK(i.second[2] != *bfloat16Type);
        halfPointers += i.second[2] == *halfType;
      }
    CHECK(halfPointers >= 1);
    if (const char *dump = std::getenv("TRUENO_TEST_DUMP_TENSOR_LOADS");
        dump && tensorLoads) {
      std::ofstream(std::string(dump) + ".bf16", std::ios::binary)
          .write(reinterpret_cast<const char *>(g.kernels[0].words.data()),
                 static_cast<std::streamsize>(g.kernels[0].words.size() * 4));
    }
  }
  // A product with edge tiles (200 rows) keeps the subgroups' fragments.
  CompiledKernels edges =
      compileForVulkan(replaced(source, "256x", "200x"), options);
  INFO(edges.diagnostics);
  REQUIRE(edges.ok);
  REQUIRE(edges.kernels.size() == 1);
  CHECK(countOf(instructions(edges.kernels[0].words), 4459) == 32);
  // Words that are not a module, or a module without matrices, are
  // refused, unchanged.
  std::vector<std::uint32_t> garbage = {1, 2, 3};
  CHECK(mlir::failed(
      mlir::trueno::retypeWorkgroupMatrices(garbage, 128, 128, 32)));
  CHECK(garbage == std::vector<std::uint32_t>{1, 2, 3});
}

TEST_CASE("the cooperative kernel's tiles as the runtime asks for them") {
  // What the runtime checks against the device's workgroup-scope shapes:
  // the shape asked for, fitted to the workgroup memory as the pass fits
  // it.
  VulkanPipelineOptions options; // 4 subgroups, 128 columns, steps of 32
  auto tiles = mlir::trueno::cooperativeTiles(options);
  REQUIRE(tiles);
  CHECK(tiles->rows == 128);
  CHECK(tiles->columns == 128);
  CHECK(tiles->step == 32);
  CHECK(tiles->threads == 128);
  // 256 columns asked of 4 subgroups: 128.
  options.cooperativeColumns = 256;
  CHECK(mlir::trueno::cooperativeTiles(options)->columns == 128);
  // 8 subgroups: 256 threads, 256 columns; steps of 64 with two copies do
  // not fit in 40 KiB: steps of 32, and then one copy (35 KiB).
  options.cooperativeSubgroups = 8;
  options.cooperativeStep = 64;
  options.cooperativeBuffers = 2;
  options.maxWorkgroupMemory = 40960;
  tiles = mlir::trueno::cooperativeTiles(options);
  REQUIRE(tiles);
  CHECK(tiles->threads == 256);
  CHECK(tiles->columns == 256);
  CHECK(tiles->step == 32);
  // Nothing fits in 16 KiB.
  options.maxWorkgroupMemory = 16384;
  CHECK_FALSE(mlir::trueno::cooperativeTiles(options));
  // The tiles of products on tensor loads (cooperativeTensorWideTiles):
  // 128x256 of 8 subgroups whatever the shape asked for, none where they
  // would not fit whole (40 KiB; 30 KiB leaves only 128 columns).
  VulkanPipelineOptions tensor;
  tensor.maxWorkgroupMemory = 40960;
  tiles = mlir::trueno::cooperativeTiles(tensor, /*tensorWide=*/true);
  REQUIRE(tiles);
  CHECK(tiles->rows == 128);
  CHECK(tiles->columns == 256);
  CHECK(tiles->step == 32);
  CHECK(tiles->threads == 256);
  CHECK(mlir::trueno::cooperativeTiles(tensor)->threads == 128);
  tensor.maxWorkgroupMemory = 30720;
  CHECK_FALSE(mlir::trueno::cooperativeTiles(tensor, /*tensorWide=*/true));
}

TEST_CASE("every cooperative option on, as an H100's: products of any shape "
          "compile") {
  // The options the runtime sets on an H100 (tensor loads and their wide
  // tiles included), which lavapipe's runtime never sets: a product of
  // fewer rows than a tile once divided by its zero tiles while choosing
  // them (a crash the H100's backend tests found).
  mlir::trueno::VulkanPipelineOptions options;
  options.float16 = options.storage16 = true;
  options.int64 = options.float64 = options.int16 = true;
  options.workgroupSize = 256;
  options.subgroupSize = 32;
  options.cooperativeMatrix = true;
  options.cooperativeBf16 = true;
  options.cooperativeWorkgroupScope = true;
  options.cooperativeWorkgroupGlobal = true;
  options.cooperativeTensorLoads = true;
  options.cooperativeTensorWideTiles = true;
  options.cooperativeTensorWideBf16 = true;
  options.maxWorkgroupMemory = 40960;
  for (auto [m, k, n] : {std::tuple{64, 3000, 96},
                         {130, 33, 129},
                         {200, 96, 300},
                         {256, 256, 256},
                         {128, 64, 64},
                         {384, 224, 768}})
    for (const char *dtype : {"f16", "bf16"}) {
      std::string a = "tensor<" + std::to_string(m) + "x" + std::to_string(k) +
                      "x",
                  b = "tensor<" + std::to_string(k) + "x" + std::to_string(n) +
                      "x",
                  c = "tensor<" + std::to_string(m) + "x" + std::to_string(n) +
                      "x";
      std::string source = "func.func @product(%a: " + a + dtype +
                           ">, %b: " + b + dtype + ">) -> " + c +
                           "f32> {\n"
                           "  %wa = trueno.cast %a : " +
                           a + dtype + "> to " + a +
                           "f32>\n"
                           "  %wb = trueno.cast %b : " +
                           b + dtype + "> to " + b +
                           "f32>\n"
                           "  %p = trueno.matmul %wa, %wb : " +
                           a + "f32>, " + b + "f32> -> " + c +
                           "f32>\n"
                           "  return %p : " +
                           c + "f32>\n}\n";
      INFO(m << "x" << k << " @ " << k << "x" << n << " " << dtype);
      CompiledKernels compiled = compileForVulkan(source, options);
      INFO(compiled.diagnostics);
      CHECK(compiled.ok);
    }
}
