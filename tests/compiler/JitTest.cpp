//===- JitTest.cpp - trueno IR through the CPU pipeline and the JIT -------===//
//
// Each case parses a small trueno function, compiles it for this CPU and runs
// it on buffers. Results are compared with the eager frontend (which holds
// the reference conversion rules), with hand-checked NumPy/Python values, or
// with libm within a stated tolerance.
//
//===----------------------------------------------------------------------===//
#include "trueno/Codegen/Cpu/Pipeline.h"
#include "trueno/Runtime/Cpu/CpuKernel.h"
#include "trueno/Runtime/Schedule.h"

#include <trueno/trueno.h>

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <unistd.h>

using trueno::runtime::CpuKernel;
using trueno::runtime::KernelBuffer;

namespace {

/// Compiles the function @k of `source`.
std::unique_ptr<CpuKernel> compileKernel(const std::string &source) {
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(
          source, &trueno::runtime::compilerContext());
  REQUIRE(module);
  auto kernel = CpuKernel::compile(*module, "k");
  if (!kernel)
    FAIL(llvm::toString(kernel.takeError()));
  return std::move(*kernel);
}

template <typename T> KernelBuffer buffer(std::vector<T> &v) {
  return {v.data(), {static_cast<std::int64_t>(v.size())}, {1}};
}

void run(const CpuKernel &kernel, std::vector<KernelBuffer> buffers) {
  if (llvm::Error error = kernel.run(buffers))
    FAIL(llvm::toString(std::move(error)));
}

} // namespace

TEST_CASE("exp(a * b + c) with a broadcast operand, fused into one kernel") {
  auto kernel = compileKernel(R"(
    func.func @k(%a: tensor<2x3xf32>, %b: tensor<2x3xf32>, %c: tensor<3xf32>)
        -> tensor<2x3xf32> {
      %m = trueno.mul %a, %b : tensor<2x3xf32>
      %e = trueno.expand %c : tensor<3xf32> to tensor<2x3xf32>
      %s = trueno.add %m, %e : tensor<2x3xf32>
      %r = trueno.exp %s : tensor<2x3xf32>
      return %r : tensor<2x3xf32>
    })");
  std::vector<float> a = {0.5f, -1, 2, 0, 3, -0.25f},
                     b = {1, 2, -1, 4, 0.5f, 8}, c = {0.1f, -0.2f, 0.3f},
                     out(6);
  run(*kernel, {{a.data(), {2, 3}, {3, 1}},
                {b.data(), {2, 3}, {3, 1}},
                {c.data(), {3}, {1}},
                {out.data(), {2, 3}, {3, 1}}});
  for (int i = 0; i < 6; ++i) {
    float expected = std::exp(a[i] * b[i] + c[i % 3]);
    // Polynomial exp: within 2 ulp of libm's.
    CHECK(out[i] == doctest::Approx(expected).epsilon(3e-7));
  }
  MESSAGE("compile time " << kernel->compileMs() << " ms");
}

TEST_CASE("float to integer casts agree with the frontend's NumPy rules") {
  auto kernel = compileKernel(R"(
    func.func @k(%x: tensor<12xf32>) -> (tensor<12xi8>, tensor<12xui8>,
                                         tensor<12xi32>, tensor<12xi64>, tensor<12xi1>) {
      %0 = trueno.cast %x : tensor<12xf32> to tensor<12xi8>
      %1 = trueno.cast %x : tensor<12xf32> to tensor<12xui8>
      %2 = trueno.cast %x : tensor<12xf32> to tensor<12xi32>
      %3 = trueno.cast %x : tensor<12xf32> to tensor<12xi64>
      %4 = trueno.cast %x : tensor<12xf32> to tensor<12xi1>
      return %0, %1, %2, %3, %4 : tensor<12xi8>, tensor<12xui8>, tensor<12xi32>, tensor<12xi64>, tensor<12xi1>
    })");
  std::vector<float> x = {300.0f,   -1.0f, -129.5f, 1e10f,   -1e10f, NAN,
                          INFINITY, 2.7f,  -2.7f,   70000.f, 3e9f,   -0.0f};
  std::vector<std::int8_t> i8(12);
  std::vector<std::uint8_t> u8(12), b(12);
  std::vector<std::int32_t> i32(12);
  std::vector<std::int64_t> i64(12);
  run(*kernel,
      {buffer(x), buffer(i8), buffer(u8), buffer(i32), buffer(i64), buffer(b)});
  trueno::Tensor t = trueno::fromVector(x, {12});
  CHECK(i8 == t.to(trueno::kInt8).toVector<std::int8_t>());
  CHECK(u8 == t.to(trueno::kUInt8).toVector<std::uint8_t>());
  CHECK(i32 == t.to(trueno::kInt32).toVector<std::int32_t>());
  CHECK(i64 == t.to(trueno::kInt64).toVector<std::int64_t>());
  CHECK(std::vector<bool>(b.begin(), b.end()) ==
        t.to(trueno::kBool).toVector<bool>());
}

TEST_CASE("integer floor division and remainder follow Python") {
  auto kernel = compileKernel(R"(
    func.func @k(%a: tensor<6xi32>, %b: tensor<6xi32>) -> (tensor<6xi32>, tensor<6xi32>) {
      %q = trueno.floordiv %a, %b : tensor<6xi32>
      %r = trueno.remainder %a, %b : tensor<6xi32>
      return %q, %r : tensor<6xi32>, tensor<6xi32>
    })");
  const std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
  std::vector<std::int32_t> a = {7, -7, 7, -7, 5, kMin},
                            b = {2, 2, -2, -2, 0, -1};
  std::vector<std::int32_t> q(6), r(6);
  run(*kernel, {buffer(a), buffer(b), buffer(q), buffer(r)});
  // NumPy: 7//2=3, -7//2=-4, 7//-2=-4, -7//-2=3, x//0=0, MIN//-1=MIN.
  CHECK(q == std::vector<std::int32_t>{3, -4, -4, 3, 0, kMin});
  CHECK(r == std::vector<std::int32_t>{1, 1, -1, -1, 0, 0});
}

TEST_CASE("float floor division and remainder follow NumPy") {
  auto kernel = compileKernel(R"(
    func.func @k(%a: tensor<5xf64>, %b: tensor<5xf64>) -> (tensor<5xf64>, tensor<5xf64>) {
      %q = trueno.floordiv %a, %b : tensor<5xf64>
      %r = trueno.remainder %a, %b : tensor<5xf64>
      return %q, %r : tensor<5xf64>, tensor<5xf64>
    })");
  std::vector<double> a = {7.5, -7.5, 7.5, 1.0, 0.0}, b = {2, 2, -2, 0, 0};
  std::vector<double> q(5), r(5);
  run(*kernel, {buffer(a), buffer(b), buffer(q), buffer(r)});
  // numpy.floor_divide / numpy.remainder on the same values.
  CHECK(q[0] == 3.0);
  CHECK(r[0] == 1.5);
  CHECK(q[1] == -4.0);
  CHECK(r[1] == 0.5);
  CHECK(q[2] == -4.0);
  CHECK(r[2] == -0.5);
  CHECK(std::isinf(q[3]));
  CHECK(std::isnan(r[3]));
  CHECK(std::isnan(q[4]));
}

TEST_CASE("uint8 is unsigned, float16 computes in float32") {
  auto kernel = compileKernel(R"(
    func.func @k(%a: tensor<3xui8>, %b: tensor<3xui8>, %h: tensor<3xf16>)
        -> (tensor<3xi1>, tensor<3xui8>, tensor<3xf16>) {
      %0 = trueno.gt %a, %b : tensor<3xui8> -> tensor<3xi1>
      %1 = trueno.maximum %a, %b : tensor<3xui8>
      %2 = trueno.sigmoid %h : tensor<3xf16>
      return %0, %1, %2 : tensor<3xi1>, tensor<3xui8>, tensor<3xf16>
    })");
  std::vector<std::uint8_t> a = {200, 1, 128}, b = {100, 2, 127}, gt(3), mx(3);
  std::vector<trueno::Half> h = {trueno::Half(0.0f), trueno::Half(2.0f),
                                 trueno::Half(-3.0f)},
                            s(3);
  run(*kernel,
      {buffer(a), buffer(b), buffer(h), buffer(gt), buffer(mx), buffer(s)});
  CHECK(gt == std::vector<std::uint8_t>{1, 0, 1});
  CHECK(mx == std::vector<std::uint8_t>{200, 2, 128});
  for (int i = 0; i < 3; ++i) {
    float x = float(h[i]);
    CHECK(s[i].bits == trueno::Half(1.0f / (1.0f + std::exp(-x))).bits);
  }
}

TEST_CASE("float64 math is precise near zero and NaN propagates") {
  auto kernel = compileKernel(R"(
    func.func @k(%x: tensor<3xf64>) -> (tensor<3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>) {
      %0 = trueno.log1p %x : tensor<3xf64>
      %1 = trueno.expm1 %x : tensor<3xf64>
      %2 = trueno.erf %x : tensor<3xf64>
      %3 = trueno.relu %x : tensor<3xf64>
      return %0, %1, %2, %3 : tensor<3xf64>, tensor<3xf64>, tensor<3xf64>, tensor<3xf64>
    })");
  std::vector<double> x = {1e-12, -0.5, NAN}, l(3), e(3), f(3), r(3);
  run(*kernel, {buffer(x), buffer(l), buffer(e), buffer(f), buffer(r)});
  for (int i = 0; i < 2; ++i) {
    CHECK(l[i] == doctest::Approx(std::log1p(x[i])).epsilon(1e-15));
    CHECK(e[i] == doctest::Approx(std::expm1(x[i])).epsilon(1e-15));
    CHECK(f[i] == doctest::Approx(std::erf(x[i])).epsilon(1e-15));
  }
  CHECK(r[1] == 0.0);
  CHECK(std::isnan(l[2]));
  CHECK(std::isnan(r[2])); // relu(NaN) is NaN, as in PyTorch
}

TEST_CASE("a function that is not there is an error, not a crash") {
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(
          "module {}", &trueno::runtime::compilerContext());
  auto kernel = CpuKernel::compile(*module, "missing");
  REQUIRE_FALSE(kernel);
  CHECK(llvm::toString(kernel.takeError()) ==
        "no function @missing in the module");
}

TEST_CASE("TRUENO_DEBUG=4 prints the IR after every stage and the assembly") {
  // Capture file descriptor 2, where llvm::errs() writes, unbuffered.
  std::FILE *capture = std::tmpfile();
  REQUIRE(capture);
  int savedStderr = dup(2);
  dup2(fileno(capture), 2);
  setenv("TRUENO_DEBUG", "4", 1);
  auto kernel = compileKernel(R"(
    func.func @k(%a: tensor<64xf32>) -> tensor<64xf32> {
      %r = trueno.sqrt %a : tensor<64xf32>
      return %r : tensor<64xf32>
    })");
  unsetenv("TRUENO_DEBUG");
  dup2(savedStderr, 2);
  close(savedStderr);
  std::rewind(capture);
  std::string text;
  for (int c; (c = std::fgetc(capture)) != EOF;)
    text.push_back(static_cast<char>(c));
  std::fclose(capture);
  for (const char *header :
       {"// ---- trueno: input IR ----", "IR after stage linalg",
        "IR after stage fused", "IR after stage bufferized",
        "IR after stage loops", "IR after stage llvm",
        "// ---- trueno: assembly ----"})
    CHECK_MESSAGE(text.find(header) != std::string::npos, header);
  CHECK(text.find("trueno.sqrt") != std::string::npos);
  CHECK(text.find("linalg.generic") != std::string::npos);
  CHECK(text.find("llvm.func") != std::string::npos);
  CHECK(text.find("sqrt") != std::string::npos); // the instruction or call
}

TEST_CASE("float32 atan2 keeps IEEE results at zeros and infinities") {
  auto kernel = compileKernel(R"(
    func.func @k(%y: tensor<10xf32>, %x: tensor<10xf32>) -> tensor<10xf32> {
      %r = trueno.atan2 %y, %x : tensor<10xf32>
      return %r : tensor<10xf32>
    })");
  std::vector<float> y = {-0.0f,     0.0f, INFINITY, -INFINITY, INFINITY,
                          -INFINITY, 0.0f, -0.0f,    0.0f,      -0.0f},
                     x = {-1.0f,    -1.0f, INFINITY, -INFINITY, -INFINITY,
                          INFINITY, 0.0f,  0.0f,     -0.0f,     -0.0f},
                     out(10);
  run(*kernel, {buffer(y), buffer(x), buffer(out)});
  for (int i = 0; i < 10; ++i) {
    CAPTURE(i);
    CHECK(out[i] == doctest::Approx(std::atan2(y[i], x[i])).epsilon(1e-6));
    CHECK(std::signbit(out[i]) == std::signbit(std::atan2(y[i], x[i])));
  }
}

TEST_CASE("float32 sin and cos stay accurate for large arguments") {
  auto kernel = compileKernel(R"(
    func.func @k(%x: tensor<6xf32>) -> (tensor<6xf32>, tensor<6xf32>) {
      %s = trueno.sin %x : tensor<6xf32>
      %c = trueno.cos %x : tensor<6xf32>
      return %s, %c : tensor<6xf32>, tensor<6xf32>
    })");
  std::vector<float> x = {100.0f, -127.0f, 7.0e8f, 1.9759e9f, 3.0e18f, 1.0e30f},
                     s(6), c(6);
  run(*kernel, {buffer(x), buffer(s), buffer(c)});
  for (int i = 0; i < 6; ++i) {
    CAPTURE(x[i]);
    CHECK(s[i] == doctest::Approx(std::sin(double(x[i]))).epsilon(1e-6));
    CHECK(c[i] == doctest::Approx(std::cos(double(x[i]))).epsilon(1e-6));
  }
}

namespace {

/// out = c + a @ b through `linalg.matmul` into a `c` that is not
/// zero-filled (a GEMM with beta = 1): a is m x k and b is k x n, each
/// stored row-major or as the transpose of a row-major matrix (then passed
/// as a strided view), checked against a double-precision sum.
void checkAccumulatingProduct(std::int64_t m, std::int64_t n, std::int64_t k,
                              bool aTransposed, bool bTransposed) {
  auto type = [](std::int64_t rows, std::int64_t cols) {
    return "tensor<" + std::to_string(rows) + "x" + std::to_string(cols) +
           "xf32>";
  };
  auto strides = [](bool transposed, std::int64_t rows, std::int64_t cols) {
    return transposed ? " {trueno.strides = array<i64: 1, " +
                            std::to_string(rows) + ">}"
                      : std::string();
  };
  std::string a = type(m, k), b = type(k, n), c = type(m, n);
  auto kernel = compileKernel(
      "func.func @k(%a: " + a + strides(aTransposed, m, k) + ", %b: " + b +
      strides(bTransposed, k, n) + ", %c: " + c + ") -> " + c +
      " {\n  %r = linalg.matmul ins(%a, %b : " + a + ", " + b +
      ") outs(%c : " + c + ") -> " + c + "\n  return %r : " + c + "\n}");
  // Element (i, j) of an r x s operand, stored as given.
  auto at = [](const std::vector<float> &v, bool transposed, std::int64_t r,
               std::int64_t s, std::int64_t i, std::int64_t j) {
    return transposed ? v[j * r + i] : v[i * s + j];
  };
  std::vector<float> av(m * k), bv(k * n), cv(m * n), out(m * n);
  for (std::size_t i = 0; i < av.size(); ++i)
    av[i] = static_cast<float>((i * 7919) % 23) / 11.0f - 1.0f;
  for (std::size_t i = 0; i < bv.size(); ++i)
    bv[i] = static_cast<float>((i * 104729) % 31) / 15.0f - 1.0f;
  for (std::size_t i = 0; i < cv.size(); ++i)
    cv[i] = static_cast<float>(i % 5) - 2.0f;
  auto view = [](std::vector<float> &v, bool transposed, std::int64_t rows,
                 std::int64_t cols) -> KernelBuffer {
    return {
        v.data(), {rows, cols}, {transposed ? 1 : cols, transposed ? rows : 1}};
  };
  run(*kernel, {view(av, aTransposed, m, k), view(bv, bTransposed, k, n),
                view(cv, false, m, n), view(out, false, m, n)});
  for (std::int64_t i = 0; i < m; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double expected = cv[i * n + j];
      for (std::int64_t p = 0; p < k; ++p)
        expected += static_cast<double>(at(av, aTransposed, m, k, i, p)) *
                    at(bv, bTransposed, k, n, p, j);
      CHECK(out[i * n + j] == doctest::Approx(expected).epsilon(1e-5));
    }
}

} // namespace

TEST_CASE("products accumulate into their output through the runtime") {
  // On AVX-512 CPUs these take the runtime's own kernels (SmallGemm.cpp),
  // elsewhere OpenBLAS. x @ w^T, both rows contiguous: the dot-product tile
  // with a row tail (23 = 3 * 6 + 5), a column tail (13) and a reduction
  // tail (100 = 6 * 16 + 4).
  checkAccumulatingProduct(23, 13, 100, false, true);
  // The transpose of a times a row-major b: the broadcast tile reading a
  // through its strides, a 64-column panel and a 6-column one (a masked
  // vector), and the row tail.
  checkAccumulatingProduct(23, 70, 100, true, false);
}

TEST_CASE("movement ops: transpose, reshape, slice, insert_slice, pad, "
          "concat, scatter_add") {
  auto kernel = compileKernel(R"(
    func.func @k(%a: tensor<3x4xf32>, %v: tensor<f32>, %ids: tensor<2x4xi64>,
                 %src: tensor<2x4xf32>)
        -> (tensor<4x3xf32>, tensor<2x6xf32>, tensor<3x2xf32>,
            tensor<3x4xf32>, tensor<6x6xf32>, tensor<3x8xf32>,
            tensor<3x4xf32>) {
      %two = trueno.constant dense<2.0> : tensor<3x4xf32>
      %a2 = trueno.mul %a, %two : tensor<3x4xf32>
      %0 = trueno.transpose %a2 permutation = [1, 0]
             : tensor<3x4xf32> -> tensor<4x3xf32>
      %r = trueno.reshape %a : tensor<3x4xf32> -> tensor<2x6xf32>
      %one = trueno.constant dense<1.0> : tensor<2x6xf32>
      %1 = trueno.add %r, %one : tensor<2x6xf32>
      %2 = trueno.slice %a offsets = [2, 3] steps = [-1, -2]
             : tensor<3x4xf32> -> tensor<3x2xf32>
      %ten = trueno.constant dense<10.0> : tensor<3x2xf32>
      %s10 = trueno.mul %2, %ten : tensor<3x2xf32>
      %3 = trueno.insert_slice %s10 into %a offsets = [2, 1] steps = [-1, 2]
             : tensor<3x2xf32> into tensor<3x4xf32>
      %4 = trueno.pad %a, %v low = [1, 0] high = [0, 2] interior = [1, 0]
             : tensor<3x4xf32>, tensor<f32> -> tensor<6x6xf32>
      %5 = trueno.concat %a, %a2 dim = 1
             : tensor<3x4xf32>, tensor<3x4xf32> -> tensor<3x8xf32>
      %6 = trueno.scatter_add %a, %ids, %src dim = 0
             : tensor<3x4xf32>, tensor<2x4xi64>, tensor<2x4xf32>
      return %0, %1, %2, %3, %4, %5, %6 : tensor<4x3xf32>, tensor<2x6xf32>,
             tensor<3x2xf32>, tensor<3x4xf32>, tensor<6x6xf32>,
             tensor<3x8xf32>, tensor<3x4xf32>
    })");
  std::vector<float> a(12), v = {-7.0f}, src(8);
  for (int i = 0; i < 12; ++i)
    a[i] = static_cast<float>(i) + 0.5f;
  for (int i = 0; i < 8; ++i)
    src[i] = 100.0f * static_cast<float>(i + 1);
  // Repeated targets: (0, 0) twice in column 0, (2, 3) twice in column 3.
  std::vector<std::int64_t> ids = {0, 1, 2, 2, 0, 0, 1, 2};
  std::vector<float> t(12), r(12), s(6), ins(12), p(36), c(24), sc(12);
  run(*kernel, {{a.data(), {3, 4}, {4, 1}},
                {v.data(), {}, {}},
                {ids.data(), {2, 4}, {4, 1}},
                {src.data(), {2, 4}, {4, 1}},
                {t.data(), {4, 3}, {3, 1}},
                {r.data(), {2, 6}, {6, 1}},
                {s.data(), {3, 2}, {2, 1}},
                {ins.data(), {3, 4}, {4, 1}},
                {p.data(), {6, 6}, {6, 1}},
                {c.data(), {3, 8}, {8, 1}},
                {sc.data(), {3, 4}, {4, 1}}});
  auto A = [&](int i, int j) { return a[i * 4 + j]; };
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      CHECK(t[i * 3 + j] == 2 * A(j, i));
  for (int i = 0; i < 12; ++i)
    CHECK(r[i] == a[i] + 1);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j)
      CHECK(s[i * 2 + j] == A(2 - i, 3 - 2 * j));
  std::vector<float> want = a;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j)
      want[(2 - i) * 4 + 1 + 2 * j] = 10 * A(2 - i, 3 - 2 * j);
  CHECK(ins == want);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j) {
      bool inside = i >= 1 && (i - 1) % 2 == 0 && j < 4;
      CHECK(p[i * 6 + j] == (inside ? A((i - 1) / 2, j) : -7.0f));
    }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 8; ++j)
      CHECK(c[i * 8 + j] == (j < 4 ? A(i, j) : 2 * A(i, j - 4)));
  want = a;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j)
      want[ids[i * 4 + j] * 4 + j] += src[i * 4 + j];
  CHECK(sc == want);
}
