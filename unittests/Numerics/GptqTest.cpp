//===- GptqTest.cpp - GPTQ/RTN against a textbook reference ---------------===//

#include "baq/Numerics/Numerics.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <cmath>
#include <numeric>
#include <random>

using namespace baq::numerics;
using namespace baq::testutil;

namespace {

/// One group per row over the columns with bits > 0.
std::vector<std::vector<int64_t>> liveColumns(const std::vector<int> &bits) {
  std::vector<std::vector<int64_t>> groups(1);
  for (size_t j = 0; j < bits.size(); ++j)
    if (bits[j] > 0)
      groups[0].push_back(j);
  return groups;
}

/// Contiguous groups in natural order (valid when all bits are equal).
std::vector<std::vector<int64_t>> naturalGroups(int64_t n, int64_t size) {
  std::vector<std::vector<int64_t>> groups;
  for (int64_t j = 0; j < n; ++j) {
    if (j % size == 0)
      groups.emplace_back();
    groups.back().push_back(j);
  }
  return groups;
}

double maxAbsDiff(const std::vector<float> &a, const std::vector<double> &b) {
  double diff = 0;
  for (size_t k = 0; k < a.size(); ++k)
    diff = std::max(diff, std::fabs(double(a[k]) - b[k]));
  return diff;
}

QuantizerOptions f32Options(int64_t blockSize, int64_t groupSize = 0) {
  QuantizerOptions options;
  options.scaleType = GridType::F32;
  options.zeroType = GridType::F32;
  options.blockSize = blockSize;
  options.groupSize = groupSize;
  return options;
}

class GptqUniformTest : public ::testing::TestWithParam<int> {};

TEST_P(GptqUniformTest, MatchesTextbookGptq) {
  const int b = GetParam();
  const int64_t m = 16, n = 20;
  std::vector<float> w = randomNormal(m * n, 30 + b);
  std::vector<float> h = randomHessian(n, 40 + b);
  HessianOptions hopts;
  auto prepared = prepareHessian(h, n, hopts);
  ASSERT_TRUE(static_cast<bool>(prepared));
  std::vector<int> bits(n, b);
  std::vector<int8_t> bits8(bits.begin(), bits.end());

  for (int64_t blockSize : {8, 3, 128}) {
    QuantizedWeight q =
        quantizeGptq(w, m, n, bits8, *prepared, f32Options(blockSize));
    ReferenceResult ref =
        referenceGptq(w, m, n, h, hopts.damp, bits, liveColumns(bits));
    EXPECT_LT(maxAbsDiff(q.dequant, ref.dequant), 1e-5)
        << "bits " << b << " block " << blockSize;
    for (size_t k = 0; k < q.codes.size(); ++k)
      EXPECT_EQ(int(q.codes[k]), ref.codes[k]);
  }

  // Groups of 4 columns: all bits equal, so packed order is natural order.
  QuantizedWeight grouped =
      quantizeGptq(w, m, n, bits8, *prepared, f32Options(8, 4));
  ReferenceResult refGrouped =
      referenceGptq(w, m, n, h, hopts.damp, bits, naturalGroups(n, 4));
  EXPECT_LT(maxAbsDiff(grouped.dequant, refGrouped.dequant), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Bits, GptqUniformTest,
                         ::testing::Values(1, 2, 3, 4, 8));

TEST(GptqTest, MixedBitsMatchTextbookGptq) {
  const int64_t m = 12, n = 20;
  std::mt19937 rng(77);
  for (int trial = 0; trial < 4; ++trial) {
    std::vector<float> w = randomNormal(m * n, 50 + trial);
    std::vector<float> h = randomHessian(n, 60 + trial);
    HessianOptions hopts;
    auto prepared = prepareHessian(h, n, hopts);
    ASSERT_TRUE(static_cast<bool>(prepared));
    std::vector<int> bits(n);
    for (int &bj : bits)
      bj = rng() % (kMaxBits + 1);
    bits[0] = 0; // a 0-bit column first: its error is fed forward
    std::vector<int8_t> bits8(bits.begin(), bits.end());
    QuantizedWeight q = quantizeGptq(w, m, n, bits8, *prepared, f32Options(8));
    ReferenceResult ref =
        referenceGptq(w, m, n, h, hopts.damp, bits, liveColumns(bits));
    EXPECT_LT(maxAbsDiff(q.dequant, ref.dequant), 1e-5) << "trial " << trial;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        if (bits[j] == 0) {
          EXPECT_EQ(q.dequant[i * n + j], 0.0f);
        }
  }
}

TEST(GptqTest, DeadColumnsAreZeroed) {
  const int64_t m = 6, n = 10;
  std::vector<float> w = randomNormal(m * n, 90);
  std::vector<float> h = randomHessian(n, 91);
  for (int64_t k = 0; k < n; ++k)
    h[3 * n + k] = h[k * n + 3] = 0.0f;
  // A huge weight on the dead channel must not widen the grids.
  for (int64_t i = 0; i < m; ++i)
    w[i * n + 3] = 1000.0f;
  HessianOptions hopts;
  auto prepared = prepareHessian(h, n, hopts);
  ASSERT_TRUE(static_cast<bool>(prepared));
  ASSERT_TRUE(prepared->dead[3]);

  std::vector<int> bits(n, 3);
  bits[7] = 0;
  std::vector<int8_t> bits8(bits.begin(), bits.end());
  QuantizedWeight q = quantizeGptq(w, m, n, bits8, *prepared, f32Options(4));
  ReferenceResult ref =
      referenceGptq(w, m, n, h, hopts.damp, bits, liveColumns(bits));
  EXPECT_LT(maxAbsDiff(q.dequant, ref.dequant), 1e-5);
  for (int64_t i = 0; i < m; ++i) {
    EXPECT_LT(q.scales[i], 100.0f);
    // The zeroed channel gets no error feedback (H is block diagonal for
    // it) and 0 is a grid point, so it stays exactly 0.
    EXPECT_EQ(q.dequant[i * n + 3], 0.0f);
  }

  // With 0 bits, as BAQ assigns to C_j = 0, the channel is exactly zero.
  bits[3] = 0;
  bits8[3] = 0;
  QuantizedWeight q0 = quantizeGptq(w, m, n, bits8, *prepared, f32Options(4));
  for (int64_t i = 0; i < m; ++i)
    EXPECT_EQ(q0.dequant[i * n + 3], 0.0f);
}

TEST(GptqTest, RtnRoundsToNearest) {
  const int64_t m = 4, n = 9;
  std::vector<float> w = randomNormal(m * n, 5);
  std::vector<int8_t> bits = {2, 3, 0, 1, 8, 4, 2, 5, 3};
  QuantizedWeight q = quantizeRtn(w, m, n, bits, f32Options(128));
  for (int64_t i = 0; i < m; ++i) {
    double lo = 0, hi = 0;
    for (int64_t j = 0; j < n; ++j)
      if (bits[j] > 0) {
        lo = std::min(lo, double(w[i * n + j]));
        hi = std::max(hi, double(w[i * n + j]));
      }
    for (int64_t j = 0; j < n; ++j) {
      if (bits[j] == 0) {
        EXPECT_EQ(q.dequant[i * n + j], 0.0f);
        continue;
      }
      double levels = std::ldexp(1.0, bits[j]) - 1;
      double step = (hi - lo) / levels;
      double zp = std::nearbyint(-lo / step);
      // Nearest grid point: within half a step (or clamped at the grid's
      // ends, which lie within half a step of the range because the zero
      // point is rounded), on the grid, and 0 is on the grid.
      double dq = q.dequant[i * n + j];
      EXPECT_LE(std::fabs(dq - w[i * n + j]), 0.5 * step + 1e-6);
      EXPECT_NEAR(dq, (q.codes[i * n + j] - zp) * step, 1e-6);
      EXPECT_NEAR(dq / step, std::nearbyint(dq / step), 1e-4);
    }
  }
}

/// Exact RTN codes where every value is a tie, hand-computed: 2 bits and a
/// range of 3 give step 1, so code = clamp(nearbyint(w) + zp, 0, 3) with
/// zp = nearbyint(-min(w, 0)), both rounding half to even. The rows' zero
/// points are 0, 3, nearbyint(0.5) = 0 and nearbyint(1.5) = 2.
TEST(GptqTest, RtnCodesRoundTiesToEven) {
  const int64_t m = 4, n = 5;
  const std::vector<float> w = {0.5f,  1.5f,  2.5f,  3.0f,  0.0f, //
                                -3.0f, -2.5f, -1.5f, -0.5f, 0.0f, //
                                -0.5f, 2.5f,  0.5f,  1.5f,  0.0f, //
                                -1.5f, 1.5f,  -0.5f, 0.5f,  0.0f};
  const std::vector<uint8_t> expected = {0, 2, 2, 3, 0, //
                                         0, 1, 1, 3, 3, //
                                         0, 2, 0, 2, 0, //
                                         0, 3, 2, 2, 2};
  std::vector<int8_t> bits(n, 2);
  QuantizedWeight q = quantizeRtn(w, m, n, bits, f32Options(128));
  EXPECT_EQ(q.codes, expected);
}

TEST(GptqTest, GridsFollowPackedGroups) {
  const int64_t m = 3, n = 12;
  std::vector<float> w = randomNormal(m * n, 12);
  std::vector<int8_t> bits = {1, 4, 0, 4, 2, 2, 4, 1, 3, 0, 4, 2};
  QuantizerOptions options;
  options.groupSize = 4; // F16 grids
  PackedLayout layout = computeLayout(bits, m, options.groupSize);
  std::vector<float> scales, zeros;
  computeGrids(w, layout, options, scales, zeros);
  // Packed order: 4-bit {1,3,6,10}, 3-bit {8}, 2-bit {4,5,11}, 1-bit {0,7}.
  const std::vector<std::vector<int>> groups = {
      {1, 3, 6, 10}, {8, 4, 5, 11}, {0, 7}};
  ASSERT_EQ(layout.numGroups, 3);
  for (int64_t i = 0; i < m; ++i) {
    for (int g = 0; g < 3; ++g) {
      float lo = 0, hi = 0;
      for (int j : groups[g]) {
        lo = std::min(lo, w[i * n + j]);
        hi = std::max(hi, w[i * n + j]);
        EXPECT_EQ(layout.groupOfChannel(j), g);
      }
      EXPECT_EQ(scales[i * 3 + g], roundToGridType(hi - lo, GridType::F16));
      EXPECT_EQ(zeros[i * 3 + g], roundToGridType(lo, GridType::F16));
      EXPECT_LE(zeros[i * 3 + g], 0.0f);
    }
  }
}

TEST(GptqTest, HessianLossMatchesLoops) {
  const int64_t m = 7, n = 13;
  std::vector<float> w = randomNormal(m * n, 1);
  std::vector<float> q = randomNormal(m * n, 2);
  std::vector<float> h = randomHessian(n, 3);
  double expected = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t a = 0; a < n; ++a)
      for (int64_t b = 0; b < n; ++b)
        expected += (double(w[i * n + a]) - q[i * n + a]) * h[a * n + b] *
                    (double(w[i * n + b]) - q[i * n + b]);
  EXPECT_NEAR(hessianLoss(w, q, m, n, h), expected, 1e-5 * expected);
  EXPECT_EQ(hessianLoss(w, w, m, n, h), 0.0);
}

/// A layer whose input channels differ strongly: a few outlier channels
/// with large, correlated activations, and weight columns of very different
/// scales.
struct SyntheticLayer {
  int64_t m, n;
  std::vector<float> w, h;
};

SyntheticLayer makeSpreadLayer(int64_t m, int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const int64_t samples = 4 * n, factors = 4;
  std::vector<double> latent(factors * samples);
  for (double &v : latent)
    v = normal(rng);
  std::vector<double> x(n * samples);
  for (int64_t j = 0; j < n; ++j) {
    double scale = std::pow(10.0, 2.0 * uniform(rng) - 1.0); // 0.1 .. 10
    if (j % 16 == 5)
      scale *= 20; // outlier channels
    int64_t f = j % factors;
    for (int64_t t = 0; t < samples; ++t)
      x[j * samples + t] =
          scale * (0.7 * latent[f * samples + t] + 0.7 * normal(rng));
  }
  SyntheticLayer layer{m, n, {}, hessianFromActivations(x, n, samples)};
  layer.w.resize(m * n);
  for (int64_t j = 0; j < n; ++j) {
    double colScale = std::pow(10.0, 2.0 * uniform(rng) - 1.0);
    for (int64_t i = 0; i < m; ++i)
      layer.w[i * n + j] = static_cast<float>(colScale * normal(rng) * 0.02);
  }
  return layer;
}

TEST(GptqTest, BaqExactBeatsUniformGptq) {
  for (int target : {2, 3, 4}) {
    SyntheticLayer layer = makeSpreadLayer(64, 128, 1000 + target);
    const int64_t m = layer.m, n = layer.n;
    auto prepared = prepareHessian(layer.h, n, HessianOptions());
    ASSERT_TRUE(static_cast<bool>(prepared));
    std::vector<double> c = computeSensitivities(layer.w, m, n, *prepared,
                                                 SensitivityMode::CholeskyDiag);
    EXPECT_LT(ratioC(c), 0.5);
    auto bits = allocateExact(c, target * n, 0, kMaxBits);
    ASSERT_TRUE(static_cast<bool>(bits));
    std::vector<int8_t> baqBits(bits->begin(), bits->end());
    std::vector<int8_t> uniformBits(n, static_cast<int8_t>(target));

    QuantizerOptions options; // F16 grids, one group per row
    options.blockSize = 32;
    QuantizedWeight baq =
        quantizeGptq(layer.w, m, n, baqBits, *prepared, options);
    QuantizedWeight uniform =
        quantizeGptq(layer.w, m, n, uniformBits, *prepared, options);
    double baqLoss = hessianLoss(layer.w, baq.dequant, m, n, layer.h);
    double uniformLoss = hessianLoss(layer.w, uniform.dequant, m, n, layer.h);
    EXPECT_LT(baqLoss, 0.5 * uniformLoss) << "target " << target;
    // The payload budget is the same.
    EXPECT_EQ(
        computeStorage(baq.layout, GridType::F16, GridType::F16).payload,
        computeStorage(uniform.layout, GridType::F16, GridType::F16).payload);
  }
}

} // namespace
