//===- AllocationTest.cpp - Sensitivities and bit allocation --------------===//

#include "baq/Numerics/Numerics.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <cmath>
#include <limits>
#include <numeric>
#include <random>

using namespace baq::numerics;
using namespace baq::testutil;

namespace {

std::vector<double> randomSensitivities(int64_t n, unsigned seed,
                                        double logSpread = 6.0) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-logSpread, logSpread);
  std::vector<double> c(n);
  for (double &v : c)
    v = std::exp2(dist(rng));
  return c;
}

double lossOf(const std::vector<double> &c, const std::vector<int> &bits) {
  double loss = 0;
  for (size_t j = 0; j < c.size(); ++j)
    loss += c[j] * std::pow(2.0, -2.0 * bits[j]);
  return loss;
}

int64_t sumOf(const std::vector<int> &bits) {
  return std::accumulate(bits.begin(), bits.end(), int64_t(0));
}

/// Minimum loss over every assignment in [minBits, maxBits]^n within budget.
double bruteForceLoss(const std::vector<double> &c, int64_t budget, int minBits,
                      int maxBits) {
  const size_t n = c.size();
  std::vector<int> bits(n, minBits);
  double best = std::numeric_limits<double>::infinity();
  while (true) {
    if (sumOf(bits) <= budget)
      best = std::min(best, lossOf(c, bits));
    size_t k = 0;
    while (k < n && bits[k] == maxBits)
      bits[k++] = minBits;
    if (k == n)
      break;
    ++bits[k];
  }
  return best;
}

TEST(AllocationTest, ExactEqualsBruteForce) {
  for (unsigned seed = 0; seed < 40; ++seed) {
    const int64_t n = 4 + seed % 2;
    std::vector<double> c = randomSensitivities(n, seed, 8.0);
    for (int minBits : {0, 1}) {
      for (int64_t budget = minBits * n; budget <= 4 * n; ++budget) {
        auto bits = allocateExact(c, budget, minBits, 4);
        ASSERT_TRUE(static_cast<bool>(bits));
        EXPECT_LE(sumOf(*bits), budget);
        for (int b : *bits) {
          EXPECT_GE(b, minBits);
          EXPECT_LE(b, 4);
        }
        double expected = bruteForceLoss(c, budget, minBits, 4);
        EXPECT_NEAR(lossOf(c, *bits), expected, 1e-12 * expected)
            << "seed " << seed << " budget " << budget;
        EXPECT_NEAR(predictedLoss(c, *bits), lossOf(c, *bits),
                    1e-12 * expected);
      }
    }
  }
}

TEST(AllocationTest, ExactMeetsBudget) {
  const int64_t n = 300;
  std::vector<double> c = randomSensitivities(n, 11, 10.0);
  for (int64_t budget : {int64_t(0), int64_t(1), int64_t(299), 2 * n, 2 * n + 1,
                         3 * n + 17, 8 * n - 1}) {
    auto bits = allocateExact(c, budget, 0, 8);
    ASSERT_TRUE(static_cast<bool>(bits));
    EXPECT_EQ(sumOf(*bits), budget);
  }
  // Capped by maxBits: every column at the cap, budget left over.
  auto capped = allocateExact(c, 5 * n, 0, 3);
  ASSERT_TRUE(static_cast<bool>(capped));
  EXPECT_EQ(sumOf(*capped), 3 * n);
}

TEST(AllocationTest, ExactKeepsZeroSensitivityAtMinBits) {
  std::vector<double> c = {0.0, 5.0, 0.0, 1.0};
  auto bits = allocateExact(c, 100, 1, 8);
  ASSERT_TRUE(static_cast<bool>(bits));
  EXPECT_EQ(*bits, (std::vector<int>{1, 8, 1, 8}));
}

TEST(AllocationTest, ExactBreaksTiesByLowerIndex) {
  std::vector<double> c(6, 2.5);
  auto bits = allocateExact(c, 8, 0, 8);
  ASSERT_TRUE(static_cast<bool>(bits));
  EXPECT_EQ(*bits, (std::vector<int>{2, 2, 1, 1, 1, 1}));
}

TEST(AllocationTest, ExactFailsBelowMinBits) {
  std::vector<double> c = {1, 2, 3};
  auto bits = allocateExact(c, 5, 2, 8);
  ASSERT_FALSE(static_cast<bool>(bits));
  llvm::consumeError(bits.takeError());
}

TEST(AllocationTest, ContinuousInteriorIsEq6) {
  // Spread small enough (x8) that every R_j of eq. 6 is positive at 3 bits.
  std::vector<double> c = randomSensitivities(50, 3, 3.0);
  const double avg = 3.0;
  std::vector<double> r = allocateContinuous(c, avg);
  double logMean = 0;
  for (double v : c)
    logMean += std::log2(v);
  logMean /= c.size();
  double total = 0;
  for (size_t j = 0; j < c.size(); ++j) {
    double eq6 = 0.5 * (std::log2(c[j]) - logMean) + avg;
    ASSERT_GT(eq6, 0.0);
    EXPECT_NEAR(r[j], eq6, 1e-9);
    total += r[j];
  }
  EXPECT_NEAR(total, avg * c.size(), 1e-9);
}

TEST(AllocationTest, ContinuousEqualLoss) {
  // Wide spread and a low budget: some columns drop to 0 bits (eq. 5).
  std::vector<double> c = randomSensitivities(64, 5, 12.0);
  c[3] = 0.0;
  const double avg = 1.5;
  std::vector<double> r = allocateContinuous(c, avg);
  double total = 0, level = -1;
  int zeros = 0;
  for (size_t j = 0; j < c.size(); ++j) {
    total += r[j];
    if (r[j] > 0) {
      double loss = c[j] * std::pow(2.0, -2.0 * r[j]);
      if (level < 0)
        level = loss;
      EXPECT_NEAR(loss, level, 1e-9 * level); // eq. 7
    }
  }
  ASSERT_GT(level, 0.0);
  for (size_t j = 0; j < c.size(); ++j) {
    if (r[j] == 0) {
      ++zeros;
      // Inactive columns are already below the common loss level.
      EXPECT_LE(c[j], level * (1 + 1e-9));
    }
  }
  EXPECT_EQ(r[3], 0.0);
  EXPECT_GT(zeros, 1);
  EXPECT_NEAR(total, avg * c.size(), 1e-9);
}

TEST(AllocationTest, RatioCByHand) {
  // G = (1 * 4 * 16)^(1/3) = 4, A = 21 / 3 = 7; zeros are ignored.
  EXPECT_NEAR(ratioC({1.0, 0.0, 4.0, 16.0}), 4.0 / 7.0, 1e-15);
  EXPECT_NEAR(ratioC({3.0, 3.0, 3.0}), 1.0, 1e-15);
  EXPECT_EQ(ratioC({0.0, 0.0}), 1.0);
  EXPECT_EQ(ratioC({}), 1.0);
  // G/A by eq. 9 equals optimal over uniform loss in the interior case.
  std::vector<double> c = randomSensitivities(40, 9, 2.0);
  std::vector<double> r = allocateContinuous(c, 4.0);
  double optimal = 0, uniform = 0;
  for (size_t j = 0; j < c.size(); ++j) {
    optimal += c[j] * std::pow(2.0, -2.0 * r[j]);
    uniform += c[j] * std::pow(2.0, -8.0);
  }
  EXPECT_NEAR(ratioC(c), optimal / uniform, 1e-9);
}

TEST(AllocationTest, PredictedLossByHand) {
  EXPECT_DOUBLE_EQ(predictedLoss({8.0, 3.0, 16.0}, {1, 0, 2}),
                   8.0 / 4 + 3.0 + 16.0 / 16);
}

TEST(AllocationTest, PaperFollowsAlgorithms1And2) {
  std::vector<double> c = randomSensitivities(200, 21, 8.0);
  for (double avg : {2.0, 3.0, 4.0}) {
    // Alg. 1-2 written out here independently.
    double g = 0;
    for (double v : c)
      g += std::log(v);
    g = std::exp(g / c.size());
    double lInit = g * std::pow(2.0, -2 * avg);
    auto alg1 = [&](double l) {
      std::vector<int> bits;
      for (double v : c) {
        double r = std::max(0.0, std::round(0.5 * std::log2(v / l)));
        bits.push_back(static_cast<int>(std::min(8.0, r)));
      }
      return bits;
    };
    std::vector<int> first = alg1(lInit);
    double rInit = double(sumOf(first)) / c.size();
    double lRef = lInit * std::pow(2.0, 2 * (rInit - avg));
    std::vector<int> expected = alg1(lRef);

    std::vector<int> bits = allocatePaper(c, avg, 0, 8);
    EXPECT_EQ(bits, expected) << "avg " << avg;
    // Only approximately on budget, as in the paper's Table 1.
    EXPECT_NEAR(double(sumOf(bits)) / c.size(), avg, 0.25);
  }
  // Clamping.
  for (int b : allocatePaper(c, 3.0, 2, 4)) {
    EXPECT_GE(b, 2);
    EXPECT_LE(b, 4);
  }
}

TEST(AllocationTest, SensitivitiesByHand) {
  const int64_t m = 3, n = 4;
  std::vector<float> h = randomHessian(n, 4);
  // Channel 2 dead.
  for (int64_t k = 0; k < n; ++k)
    h[2 * n + k] = h[k * n + 2] = 0.0f;
  auto prepared = prepareHessian(h, n, HessianOptions());
  ASSERT_TRUE(static_cast<bool>(prepared));
  std::vector<float> w = {0.5f,  -1.0f, 9.0f, 0.25f, //
                          2.0f,  3.0f,  9.0f, 1.0f,  //
                          -4.0f, -1.0f, 9.0f, -2.0f};
  zeroDeadColumns(w, m, *prepared);
  // Row ranges with 0 inside: [-1, 0.5], [0, 3], [-4, 0].
  const double rangeSquares = 1.5 * 1.5 + 3.0 * 3.0 + 4.0 * 4.0;
  std::vector<double> chol =
      computeSensitivities(w, m, n, *prepared, SensitivityMode::CholeskyDiag);
  std::vector<double> diag =
      computeSensitivities(w, m, n, *prepared, SensitivityMode::InverseDiag);
  for (int64_t j = 0; j < n; ++j) {
    if (j == 2) {
      EXPECT_EQ(chol[j], 0.0);
      EXPECT_EQ(diag[j], 0.0);
      continue;
    }
    double u = prepared->invChol[j * n + j];
    EXPECT_NEAR(chol[j], rangeSquares / (12 * u * u), 1e-9 * chol[j]);
    EXPECT_NEAR(diag[j], rangeSquares / (12 * double(prepared->invDiag[j])),
                1e-9 * diag[j]);
  }
  // Column 0 sees every column still unquantized: both readings agree.
  EXPECT_NEAR(chol[0], diag[0], 1e-4 * diag[0]);
}

} // namespace
