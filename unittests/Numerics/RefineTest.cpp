//===- RefineTest.cpp - Refinement of GPTQ results ------------------------===//
//
// refineQuantized against independent double-precision loops: the damped
// layer loss, FORMAT.md §4's decoder, and brute-force single-step searches
// (no code moved by one level, no scale moved to a nearby value of its
// type, lowers the loss once the refinement has converged).
//
//===----------------------------------------------------------------------===//

#include "baq/Numerics/Numerics.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace baq::numerics;
using namespace baq::testutil;

namespace {

/// H + damp * mean(diag) I, dead channels' diagonal 1 first (Hessian.cpp).
std::vector<double> dampedReference(const std::vector<float> &h, int64_t n,
                                    double damp) {
  std::vector<double> hd(h.begin(), h.end());
  double mean = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (hd[j * n + j] == 0)
      hd[j * n + j] = 1;
    mean += hd[j * n + j];
  }
  mean /= n;
  for (int64_t j = 0; j < n; ++j)
    hd[j * n + j] += static_cast<float>(damp * mean);
  return hd;
}

double lossReference(const std::vector<float> &w, const std::vector<float> &q,
                     const std::vector<double> &h, int64_t m, int64_t n) {
  double total = 0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t a = 0; a < n; ++a)
      for (int64_t b = 0; b < n; ++b)
        total += (static_cast<double>(w[i * n + a]) - q[i * n + a]) *
                 h[a * n + b] *
                 (static_cast<double>(w[i * n + b]) - q[i * n + b]);
  return total;
}

/// FORMAT.md §4 in plain f32 arithmetic.
float decodeReference(unsigned code, int bits, float s, float stored,
                      GridType zeroType) {
  if (bits == 0)
    return 0.0f;
  volatile float z = stored;
  if (zeroType == GridType::U8) {
    volatile float product = s * stored;
    z = -(product / 255.0f);
  }
  const float levels = static_cast<float>((1u << bits) - 1u);
  const float step = s / levels;
  float zp = 0;
  if (step > 0)
    zp = std::min(std::max(std::nearbyint(-z / step), 0.0f), levels);
  volatile float centred = static_cast<float>(code) - zp;
  return centred * step;
}

struct Case {
  int64_t m, n, groupSize;
  GridType scaleType, zeroType;
  unsigned seed;
};

std::vector<int8_t> mixedBits(int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<int8_t> bits(n);
  for (int8_t &b : bits)
    b = static_cast<int8_t>(rng() % 9); // 0 ... 8
  return bits;
}

/// A random M x N weight, its Hessian and GPTQ's preparation of it.
struct Layer {
  std::vector<float> w, h;
  PreparedHessian prepared;
};

Layer makeLayer(int64_t m, int64_t n, unsigned seed) {
  Layer layer{randomNormal(m * n, seed), randomHessian(n, seed + 1), {}};
  auto prepared = prepareHessian(layer.h, n, HessianOptions());
  EXPECT_TRUE(static_cast<bool>(prepared));
  layer.prepared = std::move(*prepared);
  return layer;
}

TEST(RefineTest, LowersTheDampedLossAndStaysDecodable) {
  const Case cases[] = {
      {24, 40, 0, GridType::F16, GridType::U8, 1},
      {24, 40, 16, GridType::F16, GridType::U8, 2},
      {17, 33, 8, GridType::BF16, GridType::U8, 3},
      {20, 36, 0, GridType::F32, GridType::U8, 4},
      {24, 40, 0, GridType::F16, GridType::F16, 5},
      {9, 70, 32, GridType::F16, GridType::F32, 6},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(testing::Message() << "case seed " << c.seed);
    std::vector<float> w = randomNormal(c.m * c.n, c.seed);
    std::vector<float> h = randomHessian(c.n, c.seed + 100);
    HessianOptions hessianOptions;
    auto prepared = prepareHessian(h, c.n, hessianOptions);
    ASSERT_TRUE(static_cast<bool>(prepared));
    QuantizerOptions options;
    options.groupSize = c.groupSize;
    options.scaleType = c.scaleType;
    options.zeroType = c.zeroType;
    options.blockSize = 16; // several lazy blocks
    std::vector<int8_t> bits = mixedBits(c.n, c.seed);
    QuantizedWeight q = quantizeGptq(w, c.m, c.n, bits, *prepared, options);
    std::vector<double> hd = dampedReference(h, c.n, prepared->dampUsed);
    const double before = lossReference(w, q.dequant, hd, c.m, c.n);
    const std::vector<float> scalesBefore = q.scales;

    double reported =
        refineQuantized(w, c.m, c.n, h, prepared->dampUsed, options, 3, q);
    const double after = lossReference(w, q.dequant, hd, c.m, c.n);
    EXPECT_LT(after, 0.995 * before);
    EXPECT_NEAR(reported, after, 1e-3 * after);

    // Same layout; every stored value decodes to the weight it claims.
    const int64_t g = q.layout.numGroups;
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j) {
        const int b = bits[j];
        const unsigned code = q.codes[i * c.n + j];
        ASSERT_LE(code, (1u << b) - 1u);
        const int64_t group = q.layout.groupOfChannel(j);
        const float s = q.scales[i * g + group];
        ASSERT_TRUE(std::isfinite(s) && s >= 0.0f);
        ASSERT_EQ(roundToGridType(s, c.scaleType), s);
        EXPECT_EQ(
            q.dequant[i * c.n + j],
            decodeReference(code, b, s, q.zeros[i * g + group], c.zeroType))
            << "(" << i << ", " << j << ")";
      }
    // Scales move only with 8-bit zero codes (their zero points do not
    // depend on the scale).
    if (c.zeroType != GridType::U8)
      EXPECT_EQ(q.scales, scalesBefore);
    else
      EXPECT_NE(q.scales, scalesBefore);
  }
}

TEST(RefineTest, ConvergedCodesAreCoordinateOptimal) {
  // Float zeros: no scale refit, so the last step is a code sweep.
  const int64_t m = 6, n = 12;
  Layer layer = makeLayer(m, n, 11);
  const std::vector<float> &w = layer.w, &h = layer.h;
  const PreparedHessian *prepared = &layer.prepared;
  QuantizerOptions options;
  options.zeroType = GridType::F32;
  options.scaleType = GridType::F32;
  std::vector<int8_t> bits = {3, 2, 1, 4, 0, 2, 3, 1, 2, 5, 2, 3};
  QuantizedWeight q = quantizeGptq(w, m, n, bits, *prepared, options);
  refineQuantized(w, m, n, h, prepared->dampUsed, options, 50, q);
  std::vector<double> hd = dampedReference(h, n, prepared->dampUsed);
  const double best = lossReference(w, q.dequant, hd, m, n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      if (bits[j] == 0)
        continue;
      for (int step : {-1, 1}) {
        int code = q.codes[i * n + j] + step;
        if (code < 0 || code > (1 << bits[j]) - 1)
          continue;
        std::vector<float> moved = q.dequant;
        moved[i * n + j] = decodeReference(code, bits[j], q.scales[i],
                                           q.zeros[i], options.zeroType);
        EXPECT_GE(lossReference(w, moved, hd, m, n), best * (1 - 1e-9))
            << "code (" << i << ", " << j << ") " << step;
      }
    }
}

TEST(RefineTest, RefittedScalesAreOptimalForTheirType) {
  // One sweep ends with the scale refit: no nearby f16 scale of a row (with
  // its codes and zero code kept) has a lower loss.
  const int64_t m = 8, n = 24;
  Layer layer = makeLayer(m, n, 21);
  const std::vector<float> &w = layer.w, &h = layer.h;
  const PreparedHessian *prepared = &layer.prepared;
  QuantizerOptions options; // f16 scales
  options.zeroType = GridType::U8;
  options.mseGrid = true;
  std::vector<int8_t> bits = mixedBits(n, 23);
  QuantizedWeight q = quantizeGptq(w, m, n, bits, *prepared, options);
  refineQuantized(w, m, n, h, prepared->dampUsed, options, 1, q);
  std::vector<double> hd = dampedReference(h, n, prepared->dampUsed);
  const double best = lossReference(w, q.dequant, hd, m, n);
  for (int64_t i = 0; i < m; ++i)
    for (int k = -40; k <= 40; ++k) {
      const float s =
          roundToGridType(q.scales[i] * (1.0f + k / 2048.0f), GridType::F16);
      if (s == q.scales[i])
        continue;
      std::vector<float> moved = q.dequant;
      for (int64_t j = 0; j < n; ++j)
        moved[i * n + j] = decodeReference(q.codes[i * n + j], bits[j], s,
                                           q.zeros[i], GridType::U8);
      EXPECT_GE(lossReference(w, moved, hd, m, n), best * (1 - 1e-9))
          << "row " << i << " scale " << s;
    }
}

TEST(RefineTest, DeterministicAndZeroRoundsChangeNothing) {
  const int64_t m = 12, n = 20;
  Layer layer = makeLayer(m, n, 31);
  const std::vector<float> &w = layer.w, &h = layer.h;
  const PreparedHessian *prepared = &layer.prepared;
  QuantizerOptions options;
  options.zeroType = GridType::U8;
  std::vector<int8_t> bits = mixedBits(n, 33);
  QuantizedWeight a = quantizeGptq(w, m, n, bits, *prepared, options);
  QuantizedWeight b = a;
  refineQuantized(w, m, n, h, prepared->dampUsed, options, 2, a);
  refineQuantized(w, m, n, h, prepared->dampUsed, options, 2, b);
  EXPECT_EQ(a.codes, b.codes);
  EXPECT_EQ(a.scales, b.scales);
  EXPECT_EQ(a.dequant, b.dequant);
  // Zero sweeps change nothing.
  QuantizedWeight c = a;
  refineQuantized(w, m, n, h, prepared->dampUsed, options, 0, c);
  EXPECT_EQ(c.codes, a.codes);
  EXPECT_EQ(c.dequant, a.dequant);
}

} // namespace
