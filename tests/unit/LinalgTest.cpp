//===- LinalgTest.cpp - trueno::linalg: values and errors -----------------===//
//
// Small known cases and every error path; the randomized comparison against
// torch.linalg is in tests/e2e/test_ops_vs_torch.py.
//
//===----------------------------------------------------------------------===//
#include "TestUtil.h"

#include <cmath>

using namespace trueno;
using trueno::testing::errorOf;
namespace la = trueno::linalg;

TEST_CASE("linalg: known values") {
  Tensor a = tensor({{4.0, 1.0}, {2.0, 3.0}});
  CHECK(la::det(a).item<double>() == doctest::Approx(10.0));
  Tensor x = la::solve(a, tensor({1.0, 2.0}));
  CHECK(x.shape() == Shape{2});
  CHECK(x.at<double>({0}) == doctest::Approx(0.1));
  CHECK(x.at<double>({1}) == doctest::Approx(0.6));
  Tensor identity = matmul(a, la::inv(a));
  CHECK(identity.at<double>({0, 1}) == doctest::Approx(0.0));
  CHECK(identity.at<double>({1, 1}) == doctest::Approx(1.0));
  la::SignLogAbsDet s = la::slogdet(tensor({{0.0, 1.0}, {1.0, 0.0}}));
  CHECK(s.sign.item<double>() == -1.0);
  CHECK(s.logabsdet.item<double>() == 0.0);
  la::SignLogAbsDet zero = la::slogdet(zeros({2, 2}, kFloat64));
  CHECK(zero.sign.item<double>() == 0.0);
  CHECK(std::isinf(zero.logabsdet.item<double>()));
  Tensor l = la::cholesky(tensor({{4.f, 2.f}, {2.f, 5.f}}));
  CHECK(l.toVector<float>() == std::vector<float>{2, 0, 1, 2});
  CHECK(la::eigvalsh(tensor({{2.0, 0.0}, {0.0, 1.0}})).toVector<double>() ==
        std::vector<double>{1, 2});
  la::Eig rotation = la::eig(tensor({{0.0, -1.0}, {1.0, 0.0}}));
  CHECK(rotation.valuesImag.at<double>({0}) == doctest::Approx(1.0));
  CHECK(rotation.valuesImag.at<double>({1}) == doctest::Approx(-1.0));
  CHECK(la::svdvals(tensor({{3.0, 0.0}, {0.0, -4.0}})).toVector<double>() ==
        std::vector<double>{4, 3});
  CHECK(la::matrixRank(ones({3, 3})).item<std::int64_t>() == 1);
  CHECK(la::pinv(zeros({2, 0})).shape() == Shape{0, 2});
  la::Lstsq fit = la::lstsq(tensor({{1.0}, {1.0}}), tensor({1.0, 3.0}));
  CHECK(fit.solution.item<double>() == doctest::Approx(2.0));
  CHECK(fit.residuals.item<double>() == doctest::Approx(2.0));
  CHECK(fit.rank.item<std::int64_t>() == 1);
  la::QR qr = la::qr(ones({3, 2}), la::QrMode::Complete);
  CHECK(qr.q.shape() == Shape{3, 3});
  CHECK(qr.r.shape() == Shape{3, 2});
}

TEST_CASE("linalg: errors") {
  Tensor singular = tensor({{1.0, 2.0}, {2.0, 4.0}});
  CHECK_CONTAINS(errorOf<LinAlgError>([&] { (void)la::inv(singular); }),
                 "the matrix (batch element 0) is singular");
  CHECK_CONTAINS(errorOf<LinAlgError>([&] {
                   (void)la::solve(stack({eye(2, {}, kFloat64), singular}),
                                   ones({2, 2}, kFloat64));
                 }),
                 "batch element 1");
  CHECK(la::det(singular).item<double>() == 0.0);
  CHECK_CONTAINS(errorOf<LinAlgError>([&] {
                   (void)la::cholesky(tensor({{1.0, 2.0}, {2.0, 1.0}}));
                 }),
                 "its leading minor of order 2 is not positive");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)la::inv(ones({2, 3}));
                 }),
                 "matrices of shape (2, 3) are not square");
  CHECK_CONTAINS(errorOf<ShapeError>([&] { (void)la::det(ones({3})); }),
                 "a tensor of shape (3,) is not a matrix");
  CHECK_CONTAINS(errorOf<DTypeError>([&] {
                   (void)la::inv(tensor({{1, 0}, {0, 1}}));
                 }),
                 "linear algebra takes float32 or float64, not int64");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)la::solve(ones({2, 2}), ones({3}));
                 }),
                 "a of shape (2, 2) and b of shape (3,) do not match");
  CHECK_CONTAINS(errorOf<ShapeError>([&] {
                   (void)la::solve(ones({2, 2, 2}), ones({3, 2, 1}));
                 }),
                 "the batch dimensions must broadcast");
}

TEST_CASE("linalg: empty matrices give PyTorch's results, silently") {
  // LAPACK's and LAPACKE's error handlers print to stdout and stderr.
  std::string printed = trueno::testing::outputOf({1, 2}, [] {
    // The full bases of an empty matrix are identities (they were
    // uninitialized memory, different on every run).
    for (int run = 0; run < 3; ++run) {
      la::SVD tall = la::svd(zeros({3, 0}), true);
      CHECK(tall.u.shape() == Shape{3, 3});
      CHECK(tall.u.toVector<float>() == eye(3).toVector<float>());
      CHECK(tall.s.shape() == Shape{0});
      CHECK(tall.vh.shape() == Shape{0, 0});
      la::SVD wide = la::svd(zeros({2, 0, 3}, kFloat64), true);
      CHECK(wide.u.shape() == Shape{2, 0, 0});
      CHECK(wide.vh.shape() == Shape{2, 3, 3});
      CHECK(wide.vh.toVector<double>() ==
            stack({eye(3, {}, kFloat64), eye(3, {}, kFloat64)})
                .toVector<double>());
      la::SVD reduced = la::svd(zeros({3, 0}), false);
      CHECK(reduced.u.shape() == Shape{3, 0});
      CHECK(reduced.vh.shape() == Shape{0, 0});
    }
    CHECK(la::inv(zeros({0, 0})).shape() == Shape{0, 0});
    CHECK(la::inv(zeros({2, 0, 0}, kFloat64)).shape() == Shape{2, 0, 0});
    CHECK(la::det(zeros({0, 0})).item<float>() == 1.0f);
  });
  CHECK(printed == ""); // LAPACK printed "parameter number 6" for inv
}
