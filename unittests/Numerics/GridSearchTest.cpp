//===- GridSearchTest.cpp - Vectorised grid search against the scalar one -===//
//
// computeGrids and measuredLossTable run on vectors and threads; the
// references here are the straightforward scalar loops they replaced (one
// candidate, one weight at a time, double objective, packed order). The
// choices must be identical: same stored scale and zero bit for bit, same
// loss table bit for bit, for any thread count.
//
//===----------------------------------------------------------------------===//

#include "baq/Format/Grid.h"
#include "baq/Numerics/Numerics.h"

#include "llvm/Support/Parallel.h"
#include "llvm/Support/Threading.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <random>

using namespace baq::numerics;
using baq::numerics::detail::dequantCode;
using baq::numerics::detail::quantizeValue;

namespace {

/// The search as it was before vectorisation (GPTQ's grid 100, maxshrink
/// 0.8, norm 2.4, or the weighted squared error), first strictly better
/// candidate wins.
void referenceGrids(const std::vector<float> &w, const PackedLayout &layout,
                    const QuantizerOptions &options, std::vector<float> &scales,
                    std::vector<float> &zeros) {
  const int64_t m = layout.m, n = layout.n, g = layout.numGroups;
  scales.assign(m * g, 0.0f);
  zeros.assign(m * g, 0.0f);
  const int64_t groupSize = layout.groupSize > 0
                                ? layout.groupSize
                                : std::max<int64_t>(1, layout.live);
  const bool weighted = !options.gridWeights.empty();
  for (int64_t group = 0; group < g; ++group) {
    const int64_t begin = std::min(group * groupSize, layout.live);
    const int64_t end = std::min(begin + groupSize, layout.live);
    for (int64_t i = 0; i < m; ++i) {
      float lo = 0, hi = 0;
      for (int64_t p = begin; p < end; ++p) {
        lo = std::min(lo, w[i * n + layout.perm[p]]);
        hi = std::max(hi, w[i * n + layout.perm[p]]);
      }
      float scale = roundToGridType(hi - lo, options.scaleType);
      float zero = encodeZero(lo, scale, options.zeroType);
      if (options.mseGrid && hi > lo) {
        auto error = [&](float s, float z) {
          const float zd = decodeZero(z, s, options.zeroType);
          double sum = 0;
          for (int64_t p = begin; p < end; ++p) {
            int64_t j = layout.perm[p];
            float v = w[i * n + j];
            float q = dequantCode(quantizeValue(v, layout.bits[j], s, zd),
                                  layout.bits[j], s, zd);
            double e = static_cast<double>(q) - v;
            sum += weighted ? options.gridWeights[j] * e * e
                            : std::pow(std::fabs(e), 2.4);
          }
          return sum;
        };
        double best = error(scale, zero);
        for (int k = 1; k < 80; ++k) {
          float shrink = 1.0f - static_cast<float>(k) / 100.0f;
          float s = roundToGridType((hi - lo) * shrink, options.scaleType);
          float z = encodeZero(lo * shrink, s, options.zeroType);
          double e = error(s, z);
          if (e < best) {
            best = e;
            scale = s;
            zero = z;
          }
        }
      }
      scales[i * g + group] = scale;
      zeros[i * g + group] = zero;
    }
  }
}

/// Every column rounded at every bitwidth, one column at a time.
LossTable referenceTable(const std::vector<float> &w,
                         const PackedLayout &layout,
                         const std::vector<float> &scales,
                         const std::vector<float> &zeros, GridType zeroType,
                         const std::vector<double> &colWeight) {
  constexpr int64_t width = kMaxBits + 1;
  const int64_t m = layout.m, n = layout.n, g = layout.numGroups;
  LossTable table(n * width, 0.0);
  for (int64_t j = 0; j < n; ++j) {
    const int64_t group = layout.groupOfChannel(j);
    double *row = &table[j * width];
    for (int64_t i = 0; i < m; ++i) {
      const float v = w[i * n + j];
      const float s = scales[i * g + group];
      const float z = decodeZero(zeros[i * g + group], s, zeroType);
      row[0] += static_cast<double>(v) * v;
      for (int b = 1; b < width; ++b) {
        double e = static_cast<double>(
                       dequantCode(quantizeValue(v, b, s, z), b, s, z)) -
                   v;
        row[b] += e * e;
      }
    }
    for (int b = 0; b < width; ++b)
      row[b] *= colWeight[j];
  }
  return table;
}

bool sameBits(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

bool sameBits(const std::vector<double> &a, const std::vector<double> &b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

/// Runs `fn` with llvm::parallelFor on one thread (sequential), then with
/// the default strategy, and restores it.
template <typename Fn> void withThreads(unsigned threads, Fn fn) {
  llvm::ThreadPoolStrategy saved = llvm::parallel::strategy;
  llvm::parallel::strategy = threads == 1 ? llvm::hardware_concurrency(1)
                                          : llvm::hardware_concurrency(threads);
  fn();
  llvm::parallel::strategy = saved;
}

struct Case {
  int64_t m, n, groupSize;
  GridType scaleType, zeroType;
  bool weighted;
  int maxBits;
};

/// Heavy-tailed weights with column scales over two decades, some exactly
/// on a coarse grid (many exact ties between candidates), tiny rows (float
/// underflow in the scores) and mixed bitwidths 0..maxBits.
std::vector<float> makeWeights(const Case &c, std::mt19937 &rng) {
  std::student_t_distribution<float> heavy(3.0f);
  std::uniform_real_distribution<float> logScale(-1.0f, 1.0f);
  std::vector<float> colScale(c.n);
  for (float &s : colScale)
    s = std::pow(10.0f, logScale(rng));
  std::vector<float> w(c.m * c.n);
  for (int64_t i = 0; i < c.m; ++i)
    for (int64_t j = 0; j < c.n; ++j) {
      float v = heavy(rng) * colScale[j];
      if (i % 5 == 3)
        v = std::round(v * 2.0f) / 2.0f; // on a half-integer grid
      if (i % 7 == 6)
        v *= 1e-18f; // scores near float underflow
      w[i * c.n + j] = v;
    }
  return w;
}

TEST(GridSearchTest, MatchesScalarSearchBitForBit) {
  std::mt19937 rng(21);
  const Case cases[] = {
      {12, 67, 0, GridType::F16, GridType::F16, false, 4},
      {12, 67, 0, GridType::F16, GridType::F16, true, 4},
      {9, 130, 16, GridType::BF16, GridType::BF16, true, 8},
      {9, 130, 32, GridType::F32, GridType::F32, false, 8},
      {10, 200, 24, GridType::F16, GridType::U8, true, 3},
      {10, 200, 0, GridType::F32, GridType::U8, false, 2},
      {7, 333, 64, GridType::F16, GridType::F16, true, 8},
      {6, 1025, 0, GridType::BF16, GridType::BF16, false, 8},
  };
  for (const Case &c : cases) {
    std::vector<float> w = makeWeights(c, rng);
    std::vector<int8_t> bits(c.n);
    for (int8_t &b : bits)
      b = static_cast<int8_t>(rng() % (c.maxBits + 1));
    PackedLayout layout = computeLayout(bits, c.m, c.groupSize);
    QuantizerOptions options;
    options.mseGrid = true;
    options.groupSize = c.groupSize;
    options.scaleType = c.scaleType;
    options.zeroType = c.zeroType;
    std::vector<double> colWeight(c.n);
    std::lognormal_distribution<double> spread(0.0, 2.0);
    for (int64_t j = 0; j < c.n; ++j)
      colWeight[j] = j % 11 == 0 ? 0.0 : spread(rng); // dead columns
    if (c.weighted)
      options.gridWeights = colWeight;

    std::vector<float> refScales, refZeros;
    referenceGrids(w, layout, options, refScales, refZeros);
    for (unsigned threads : {1u, 2u, 5u}) {
      std::vector<float> scales, zeros;
      withThreads(threads,
                  [&] { computeGrids(w, layout, options, scales, zeros); });
      EXPECT_TRUE(sameBits(scales, refScales))
          << c.m << "x" << c.n << " group " << c.groupSize << ", " << threads
          << " threads";
      EXPECT_TRUE(sameBits(zeros, refZeros))
          << c.m << "x" << c.n << " group " << c.groupSize << ", " << threads
          << " threads";

      LossTable table;
      withThreads(threads, [&] {
        table = measuredLossTable(w, layout, refScales, refZeros, c.zeroType,
                                  colWeight);
      });
      EXPECT_TRUE(sameBits(table, referenceTable(w, layout, refScales, refZeros,
                                                 c.zeroType, colWeight)))
          << c.m << "x" << c.n << " group " << c.groupSize << ", " << threads
          << " threads";
    }
  }
}

// Shrunk grids must actually be chosen in the cases above, or the test
// would only compare min-max grids.
TEST(GridSearchTest, SearchMovesTheGrid) {
  std::mt19937 rng(5);
  Case c{16, 256, 0, GridType::F16, GridType::F16, true, 4};
  std::vector<float> w = makeWeights(c, rng);
  std::vector<int8_t> bits(c.n, 2);
  PackedLayout layout = computeLayout(bits, c.m, 0);
  QuantizerOptions minmax, mse;
  mse.mseGrid = true;
  std::vector<float> s0, z0, s1, z1;
  computeGrids(w, layout, minmax, s0, z0);
  computeGrids(w, layout, mse, s1, z1);
  int shrunk = 0;
  for (int64_t i = 0; i < c.m; ++i)
    shrunk += s1[i] < s0[i];
  EXPECT_GE(shrunk, c.m / 2);
}

} // namespace
