//===- main.cpp - A tour of the Trueno tensor API -------------------------===//
//
// The program README.md's first command runs: it creates tensors, takes
// views, broadcasts, computes through the JIT (recorded ops fused into one
// kernel), prints, saves and loads a .npy file, and catches errors to show
// what Trueno's messages look like.
//
//===----------------------------------------------------------------------===//
#include <trueno/trueno.h>

#include <fmt/core.h>

#include <chrono>
#include <filesystem>
#include <iostream>

namespace tn = trueno;

int main() {
  fmt::print("Trueno {}\n\n", TRUENO_VERSION_STRING);

  fmt::print("== Creation\n");
  auto a = tn::tensor({{1, 2, 3}, {4, 5, 6}});
  std::cout << "tensor({{1, 2, 3}, {4, 5, 6}}) =\n" << a << "\n";
  std::cout << "arange(0, 1, 0.25) = " << tn::arange(0, 1, 0.25) << "\n";
  std::cout << "linspace(0, 1, 5, kFloat64) = "
            << tn::linspace(0, 1, 5, tn::kFloat64) << "\n";
  std::cout << "eye(3, {}, kInt32) =\n" << tn::eye(3, {}, tn::kInt32) << "\n";
  tn::Generator gen(42);
  std::cout << "randn({2, 3}, Generator(42)) =\n"
            << tn::randn({2, 3}, gen) << "\n\n";

  fmt::print("== Views share storage (no copies)\n");
  auto x = tn::arange(12).reshape({3, 4});
  std::cout << "x = arange(12).reshape({3, 4}) =\n" << x << "\n";
  auto column = x.slice(1, 1, 2).squeeze(1);
  std::cout << "x[:, 1] = " << column << "\n";
  auto reversed = x.slice(0, {}, {}, -1);
  std::cout << "x[::-1] =\n" << reversed << "\n";
  auto xt = x.T();
  fmt::print("x.T() has shape {} and strides {}; contiguous: {}\n",
             tn::formatShape(xt.shape()), tn::formatShape(xt.strides()),
             xt.isContiguous());
  column.fill_(-1);
  std::cout << "after x[:, 1] = -1, x =\n" << x << "\n\n";

  fmt::print("== Broadcasting and dtypes\n");
  auto row = tn::tensor({10.0, 20.0, 30.0});
  auto col = tn::tensor({{1.0}, {2.0}});
  fmt::print("broadcastShapes((2, 1), (3,)) = {}\n",
             tn::formatShape(tn::broadcastShapes({col.shape(), row.shape()})));
  std::cout << "col.expand({2, 3}) =\n" << col.expand({2, 3}) << "\n";
  fmt::print("resultType(int32, float16) = {}, resultType(int8 tensor, 2.5) = "
             "{}\n",
             tn::resultType(tn::kInt32, tn::kFloat16),
             tn::resultType(tn::kInt8, tn::Scalar(2.5)));
  std::cout << "tensor({1.5, -2.7, 300.0}).to(kInt8) = "
            << tn::tensor({1.5, -2.7, 300.0}).to(tn::kInt8) << "\n";
  std::cout << "a big tensor is summarized: " << tn::arange(10000) << "\n\n";

  fmt::print("== Math is recorded, fused and compiled when read\n");
  auto before = tn::runtimeStats();
  auto w = tn::randn({1000, 256}, gen);
  auto bias = tn::randn({256}, gen);
  auto scale = tn::rand({1000, 1}, gen);
  auto layer = [&] {
    auto h = (w * scale + bias).exp().sigmoid(); // recorded: nothing runs
    return tn::where(h > 0.6, h, 0.0);           // still recorded
  };
  auto timed = [](auto &&fn) {
    auto start = std::chrono::steady_clock::now();
    fn();
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now() - start)
        .count();
  };
  auto masked = layer();
  float first = 0;
  double cold = timed([&] { first = masked.at<float>({0, 0}); }); // runs here
  auto after = tn::runtimeStats();
  fmt::print("where(h > 0.6, h, 0) with h = sigmoid(exp(w * scale + bias)) "
             "over (1000, 256): first element {:.4f}\n",
             first);
  fmt::print("  {} kernel ran, {} compiled; the first read took {:.1f} ms "
             "including compilation\n",
             after.kernelsLaunched - before.kernelsLaunched,
             after.kernelsCompiled - before.kernelsCompiled, cold);
  double warm = 1e9; // best of 5: the first also pays for fresh pages
  for (int i = 0; i < 5; ++i)
    warm = std::min(warm, timed([&] { (void)layer().at<float>({0, 0}); }));
  fmt::print("  the same graph on the same shapes again: {:.3f} ms (program "
             "cache hits: {})\n",
             warm, tn::runtimeStats().cacheHits);
  std::cout << "integer math follows Python: tensor({-7, 7}) // 2 = "
            << tn::floorDivide(tn::tensor({-7, 7}), 2)
            << ", % 3 = " << (tn::tensor({-7, 7}) % 3) << "\n\n";

  fmt::print("== Indexing, sorting and linear algebra\n");
  auto scores = tn::tensor({{0.1f, 2.5f, -1.0f}, {3.0f, 0.2f, 0.7f}});
  std::cout << "scores[[1, 0], 1:] =\n"
            << scores.index({tn::tensor({1, 0}), tn::Slice(1, {})}) << "\n";
  std::cout << "scores[scores > 0.5] = " << scores.index({scores > 0.5f})
            << "\n";
  std::cout << "topk(scores, 2).indices =\n"
            << tn::topk(scores, 2).indices << "\n";
  auto m = tn::tensor({{4.0, 1.0}, {2.0, 3.0}});
  std::cout << "linalg::solve([[4, 1], [2, 3]], [1, 2]) = "
            << tn::linalg::solve(m, tn::tensor({1.0, 2.0}))
            << ", det = " << tn::linalg::det(m) << "\n\n";

  fmt::print("== .npy files\n");
  auto path = std::filesystem::temp_directory_path() / "trueno-demo.npy";
  tn::saveNpy(path.string(), x);
  std::cout << "loadNpy(saveNpy(x)) =\n"
            << tn::loadNpy(path.string()) << "\n\n";
  std::filesystem::remove(path);

  fmt::print("== Errors name the op, the shapes, a hint and your line\n");
  try {
    tn::arange(12).reshape({3, 4}).reshape({5, 2});
  } catch (const tn::ShapeError &e) {
    fmt::print("caught trueno::ShapeError:\n{}\n", e.what());
  }
  try {
    auto sum = x + tn::zeros({5});
  } catch (const tn::ShapeError &e) {
    fmt::print("caught trueno::ShapeError:\n{}\n", e.what());
  }
  try {
    x.at({3, 0});
  } catch (const tn::IndexError &e) {
    fmt::print("caught trueno::IndexError:\n{}\n", e.what());
  }
  return 0;
}
