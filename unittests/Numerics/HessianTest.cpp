//===- HessianTest.cpp - prepareHessian against hand computations --------===//

#include "baq/Numerics/Numerics.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <string>

using namespace baq::numerics;
using namespace baq::testutil;

namespace {

std::string errorText(llvm::Error error) {
  return llvm::toString(std::move(error));
}

/// Default options, plus the damped matrix the tests compare.
HessianOptions keepingDamped() {
  HessianOptions options;
  options.keepDamped = true;
  return options;
}

TEST(HessianTest, RejectsNaNWithPosition) {
  std::vector<float> h = {2, 0, 0, 0, 2, 0, 0, 0, 2};
  h[1 * 3 + 2] = std::numeric_limits<float>::quiet_NaN();
  auto prepared = prepareHessian(h, 3, HessianOptions());
  ASSERT_FALSE(static_cast<bool>(prepared));
  EXPECT_EQ(errorText(prepared.takeError()),
            "Hessian contains NaN or Inf at (1, 2)");
}

TEST(HessianTest, RejectsInf) {
  std::vector<float> h = {2, 0, 0, 2};
  h[2] = -std::numeric_limits<float>::infinity();
  auto prepared = prepareHessian(h, 2, HessianOptions());
  ASSERT_FALSE(static_cast<bool>(prepared));
  EXPECT_EQ(errorText(prepared.takeError()),
            "Hessian contains NaN or Inf at (1, 0)");
}

TEST(HessianTest, RejectsAllZeroDiagonal) {
  std::vector<float> h(16, 0.0f);
  auto prepared = prepareHessian(h, 4, HessianOptions());
  ASSERT_FALSE(static_cast<bool>(prepared));
  EXPECT_NE(errorText(prepared.takeError()).find("all zero"),
            std::string::npos);
}

TEST(HessianTest, RejectsDenormalScaleByName) {
  // A positive definite but denormal H: its f32 inverse would overflow, which
  // must not be reported as "not positive definite".
  std::vector<float> h = {1e-40f, 0, 0, 2e-40f};
  auto prepared = prepareHessian(h, 2, HessianOptions());
  ASSERT_FALSE(static_cast<bool>(prepared));
  std::string text = errorText(prepared.takeError());
  EXPECT_NE(text.find("Hessian diagonal mean 1.5e-40 is outside [1e-30, "
                      "1e+30]"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("positive definite"), std::string::npos) << text;
}

TEST(HessianTest, AcceptsScalesNearTheLimits) {
  for (float scale : {2e-30f, 5e29f}) {
    std::vector<float> h = {2 * scale, scale / 2, scale / 2, scale};
    auto prepared = prepareHessian(h, 2, HessianOptions());
    ASSERT_TRUE(static_cast<bool>(prepared))
        << scale << ": " << errorText(prepared.takeError());
    for (float u : prepared->invChol)
      EXPECT_TRUE(std::isfinite(u)) << scale;
  }
}

TEST(HessianTest, RejectsWrongSize) {
  std::vector<float> h(5, 1.0f);
  auto prepared = prepareHessian(h, 2, HessianOptions());
  ASSERT_FALSE(static_cast<bool>(prepared));
  llvm::consumeError(prepared.takeError());
}

TEST(HessianTest, RejectsIndefinite) {
  std::vector<float> h = {1, 0, 0, -5};
  HessianOptions options;
  options.damp = 1e-6;
  options.maxRetries = 0;
  auto prepared = prepareHessian(h, 2, options);
  ASSERT_FALSE(static_cast<bool>(prepared));
  EXPECT_NE(errorText(prepared.takeError()).find("not positive definite"),
            std::string::npos);
}

TEST(HessianTest, RetriesWithMoreDamping) {
  // mean(diag) = 0.4975: damping 0.01 leaves H_11 < 0, 0.1 fixes it.
  std::vector<float> h = {1, 0, 0, -0.005f};
  HessianOptions options = keepingDamped();
  options.damp = 0.01;
  options.maxRetries = 4;
  auto prepared = prepareHessian(h, 2, options);
  ASSERT_TRUE(static_cast<bool>(prepared)) << errorText(prepared.takeError());
  EXPECT_EQ(prepared->retries, 1);
  EXPECT_DOUBLE_EQ(prepared->dampUsed, 0.1);
  EXPECT_FLOAT_EQ(prepared->damped[3], -0.005f + 0.1f * 0.4975f);
}

TEST(HessianTest, DampsByMeanDiagonal) {
  std::vector<float> h = {4, 1, 0, 1, 2, 0.5f, 0, 0.5f, 6};
  auto prepared = prepareHessian(h, 3, keepingDamped());
  ASSERT_TRUE(static_cast<bool>(prepared)) << errorText(prepared.takeError());
  EXPECT_EQ(prepared->retries, 0);
  EXPECT_DOUBLE_EQ(prepared->dampUsed, 0.01);
  const double shift = 0.01 * 4.0; // mean(diag) = 4
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_FLOAT_EQ(prepared->damped[i * 3 + j],
                      h[i * 3 + j] + (i == j ? shift : 0.0));
}

TEST(HessianTest, DeadInputsFixedAndZeroed) {
  // Channel 1 never saw a signal: its row and column are zero.
  std::vector<float> h = {3, 0, 1, 0, 0, 0, 1, 0, 2};
  HessianOptions options = keepingDamped();
  options.damp = 0.0;
  auto prepared = prepareHessian(h, 3, options);
  ASSERT_TRUE(static_cast<bool>(prepared)) << errorText(prepared.takeError());
  EXPECT_EQ(prepared->dead, (std::vector<uint8_t>{0, 1, 0}));
  EXPECT_EQ(prepared->damped[1 * 3 + 1], 1.0f);

  std::vector<float> w = {1, 2, 3, 4, 5, 6};
  zeroDeadColumns(w, 2, *prepared);
  EXPECT_EQ(w, (std::vector<float>{1, 0, 3, 4, 0, 6}));
}

TEST(HessianTest, DeadInputsCountInDampingMean) {
  // GPTQ sets H_jj = 1 before taking the mean: mean = (2 + 1) / 2.
  std::vector<float> h = {2, 0, 0, 0};
  auto prepared = prepareHessian(h, 2, keepingDamped());
  ASSERT_TRUE(static_cast<bool>(prepared)) << errorText(prepared.takeError());
  EXPECT_FLOAT_EQ(prepared->damped[0], 2.0f + 0.015f);
  EXPECT_FLOAT_EQ(prepared->damped[3], 1.0f + 0.015f);
}

// U_jj^2 is [H_F^-1]_jj with F = {j, ..., n-1}: one over the Schur
// complement of H_jj in the trailing block H[j:, j:].
TEST(HessianTest, CholeskyOfInverseMatchesSchurComplements) {
  const double a = 4, b = 1, c = 0.5, d = 3, e = -0.7, f = 2.5;
  std::vector<float> h = {float(a), float(b), float(c), float(b), float(d),
                          float(e), float(c), float(e), float(f)};
  HessianOptions options;
  options.damp = 0.0;
  auto prepared = prepareHessian(h, 3, options);
  ASSERT_TRUE(static_cast<bool>(prepared)) << errorText(prepared.takeError());
  const std::vector<float> &u = prepared->invChol;
  // The damped copy is only made on request.
  EXPECT_TRUE(prepared->damped.empty());

  // j = 2: the trailing block is H_22 alone.
  double schur2 = f;
  // j = 1: H_11 - H_12 H_22^-1 H_21.
  double schur1 = d - e * e / f;
  // j = 0: H_00 - [b c] [[d e][e f]]^-1 [b c]^T.
  double det = d * f - e * e;
  double quad = (b * (f * b - e * c) + c * (-e * b + d * c)) / det;
  double schur0 = a - quad;

  EXPECT_NEAR(double(u[0]) * u[0], 1.0 / schur0, 1e-6 / schur0);
  EXPECT_NEAR(double(u[4]) * u[4], 1.0 / schur1, 1e-6 / schur1);
  EXPECT_NEAR(double(u[8]) * u[8], 1.0 / schur2, 1e-6 / schur2);
  // Upper triangular.
  EXPECT_EQ(u[3], 0.0f);
  EXPECT_EQ(u[6], 0.0f);
  EXPECT_EQ(u[7], 0.0f);
}

TEST(HessianTest, FactorsReproduceInverse) {
  const int64_t n = 24;
  std::vector<float> h = randomHessian(n, 7);
  auto prepared = prepareHessian(h, n, keepingDamped());
  ASSERT_TRUE(static_cast<bool>(prepared)) << errorText(prepared.takeError());

  Matrix damped(prepared->damped.begin(), prepared->damped.end());
  Matrix inverse = gaussJordanInverse(damped, n);
  double maxAbs = 0;
  for (double v : inverse)
    maxAbs = std::max(maxAbs, std::fabs(v));
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_NEAR(prepared->invDiag[i], inverse[i * n + i], 1e-4 * maxAbs);
    for (int64_t j = 0; j < n; ++j) {
      // U^T U == H^-1 and U is upper triangular.
      double sum = 0;
      for (int64_t k = 0; k < n; ++k)
        sum +=
            double(prepared->invChol[k * n + i]) * prepared->invChol[k * n + j];
      EXPECT_NEAR(sum, inverse[i * n + j], 1e-4 * maxAbs);
      if (j < i) {
        EXPECT_EQ(prepared->invChol[i * n + j], 0.0f);
      }
    }
  }
  // The test's own factor agrees too.
  Matrix u = upperCholesky(inverse, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j)
      EXPECT_NEAR(prepared->invChol[i * n + j], u[i * n + j],
                  1e-4 * std::sqrt(maxAbs));
}

} // namespace
