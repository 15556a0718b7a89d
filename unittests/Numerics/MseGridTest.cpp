//===- MseGridTest.cpp - MSE-optimal grids (QuantizerOptions::mseGrid) ----===//
//
// Checked against an independent search written here from GPTQ's `mse`
// option (quant.py find_params: grid 100, maxshrink 0.8, norm 2.4).
//
//===----------------------------------------------------------------------===//

#include "baq/Numerics/Numerics.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace baq::numerics;

namespace {

/// Round to f16 through the hardware-independent path of the library.
float f16(float v) { return roundToGridType(v, GridType::F16); }

/// FORMAT.md §4 round trip of one value.
float roundTrip(float v, int bits, float s, float z) {
  float levels = static_cast<float>((1u << bits) - 1u);
  float step = s / levels;
  if (!(step > 0))
    return 0.0f;
  float zp = std::clamp(std::nearbyint(-z / step), 0.0f, levels);
  float q = std::clamp(std::nearbyint(v / step) + zp, 0.0f, levels);
  return (q - zp) * step;
}

double rowError(const std::vector<float> &row, const std::vector<int8_t> &bits,
                float s, float z) {
  double e = 0;
  for (size_t j = 0; j < row.size(); ++j)
    if (bits[j] > 0)
      e += std::pow(
          std::fabs(double(roundTrip(row[j], bits[j], s, z)) - row[j]), 2.4);
  return e;
}

TEST(MseGridTest, MatchesReferenceSearchAndNeverWorse) {
  std::mt19937 rng(9);
  std::student_t_distribution<float> heavy(2.0f); // outliers
  const int64_t m = 6, n = 24;
  std::vector<float> w(m * n);
  for (float &v : w)
    v = heavy(rng);
  std::vector<int8_t> bits(n);
  for (int8_t &b : bits)
    b = rng() % 5; // 0..4, mixed within the row
  PackedLayout layout = computeLayout(bits, m, 0);
  QuantizerOptions minmax, mse;
  mse.mseGrid = true;
  std::vector<float> s0, z0, s1, z1;
  computeGrids(w, layout, minmax, s0, z0);
  computeGrids(w, layout, mse, s1, z1);
  int shrunk = 0;
  for (int64_t i = 0; i < m; ++i) {
    std::vector<float> row(w.begin() + i * n, w.begin() + (i + 1) * n);
    float lo = 0, hi = 0;
    for (int64_t j = 0; j < n; ++j)
      if (bits[j] > 0) {
        lo = std::min(lo, row[j]);
        hi = std::max(hi, row[j]);
      }
    // Reference: first strictly better candidate wins, p = 1 - k / 100.
    float bs = f16(hi - lo), bz = f16(lo);
    double best = rowError(row, bits, bs, bz);
    for (int k = 1; k < 80; ++k) {
      float p = 1.0f - k / 100.0f;
      float s = f16((hi - lo) * p), z = f16(lo * p);
      double e = rowError(row, bits, s, z);
      if (e < best) {
        best = e;
        bs = s;
        bz = z;
      }
    }
    EXPECT_EQ(s1[i], bs) << "row " << i;
    EXPECT_EQ(z1[i], bz) << "row " << i;
    EXPECT_EQ(s0[i], f16(hi - lo));
    EXPECT_LE(rowError(row, bits, s1[i], z1[i]),
              rowError(row, bits, s0[i], z0[i]));
    EXPECT_LE(z1[i], 0.0f); // 0 stays inside the range
    EXPECT_GE(s1[i] + z1[i], 0.0f);
    shrunk += s1[i] < s0[i];
  }
  // Heavy tails at 1-4 bits: clipping pays on most rows.
  EXPECT_GE(shrunk, 3);
}

TEST(MseGridTest, QuantizersUseTheSearchedGrid) {
  std::mt19937 rng(4);
  std::normal_distribution<float> normal;
  const int64_t m = 3, n = 10;
  std::vector<float> w(m * n);
  for (float &v : w)
    v = normal(rng);
  w[5] = 40.0f; // one outlier in row 0
  std::vector<int8_t> bits(n, 2);
  QuantizerOptions mse;
  mse.mseGrid = true;
  QuantizedWeight q = quantizeRtn(w, m, n, bits, mse);
  std::vector<float> s, z;
  computeGrids(w, q.layout, mse, s, z);
  EXPECT_EQ(q.scales, s);
  EXPECT_EQ(q.zeros, z);
  // Never wider than min-max.
  QuantizedWeight plain = quantizeRtn(w, m, n, bits, QuantizerOptions());
  for (int64_t i = 0; i < m; ++i)
    EXPECT_LE(q.scales[i], plain.scales[i]);
  // The packed artefact decodes to exactly what the quantizer returned.
  EXPECT_EQ(
      dequantize(q.layout, packCodes(q.layout, q.codes), q.scales, q.zeros),
      q.dequant);
}

} // namespace
