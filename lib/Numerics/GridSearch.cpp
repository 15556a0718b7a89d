//===- GridSearch.cpp - Static grids and the measured loss table ----------===//
//
// The two loops that round every weight many times: computeGrids' MSE shrink
// search (80 candidate grids per (row, group)) and measuredLossTable (every
// bitwidth per weight). Both run on 8-lane vectors (GCC/Clang vector
// extensions: plain IEEE float arithmetic per lane, no FMA since the library
// is built with -ffp-contract=off) and on llvm::parallelFor, with rows
// (columns) independent, so results do not depend on the thread count.
//
// The search copies each row once into packed order, so that every part of a
// group with one bitwidth is a contiguous run with one grid, and scores the
// 80 candidates in float. Float scores are within a relative 1e-5 of the
// objective (terms are non-negative: rounding is relative), so the candidates
// whose float score is within a margin of the best are re-scored with the
// reference objective in double, in the reference order: the choice is the
// reference's, the first candidate with the least objective.
//
//===----------------------------------------------------------------------===//

#include "baq/Numerics/Numerics.h"

#include "NumericsInternal.h"

#include "llvm/Support/Parallel.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace baq::numerics;
using baq::numerics::detail::dequantCode;
using baq::numerics::detail::Grid;
using baq::numerics::detail::quantizeValue;

// The vector helpers are internal and inlined: no vector crosses an ABI.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace {

constexpr int kLanes = 8;
typedef float F8 __attribute__((vector_size(kLanes * sizeof(float))));
typedef int32_t I8 __attribute__((vector_size(kLanes * sizeof(int32_t))));
typedef float F4 __attribute__((vector_size(4 * sizeof(float))));
typedef double D4 __attribute__((vector_size(4 * sizeof(double))));

// Inlined into each clone of the kernels below (BAQ_VECTOR_CLONES).
#define BAQ_INLINE inline __attribute__((always_inline))
// The kernels in an AVX2 build chosen at load time where the CPU has it (8
// lanes a register instead of 4); the arithmetic, and so every result, is
// the same in both (no FMA: -ffp-contract=off).
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define BAQ_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define BAQ_VECTOR_CLONES
#endif

BAQ_INLINE F8 splat(float x) { return F8{} + x; }
BAQ_INLINE F8 load(const float *p) {
  F8 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
BAQ_INLINE I8 asInt(F8 v) {
  I8 i;
  std::memcpy(&i, &v, sizeof(i));
  return i;
}
BAQ_INLINE F8 asFloat(I8 i) {
  F8 v;
  std::memcpy(&v, &i, sizeof(v));
  return v;
}

/// std::nearbyint in round-to-nearest-even (the default mode, which the
/// scalar quantizer runs in too): adding 2^23 leaves no fraction bits, and
/// values from 2^23 up are integers already.
/// mask ? a : b, lane by lane (masks are all ones or all zeros).
BAQ_INLINE F8 select(I8 mask, F8 a, F8 b) {
  return asFloat((mask & asInt(a)) | (~mask & asInt(b)));
}

BAQ_INLINE F8 roundEven(F8 x) {
  const I8 sign = asInt(x) & static_cast<int32_t>(0x80000000u);
  const F8 a = asFloat(asInt(x) & 0x7fffffff);
  const F8 magic = splat(0x1p23f);
  F8 r = (a + magic) - magic;
  r = select(a < magic, r, a);
  return asFloat(asInt(r) | sign);
}

/// Grid::quantize then Grid::dequant of each lane, bit for bit.
BAQ_INLINE F8 roundTrip(F8 v, float step, float zeroPoint, float levels) {
  F8 q = roundEven(v / step) + zeroPoint;
  const F8 top = splat(levels);
  q = select(q > splat(0.0f), select(q < top, q, top), splat(0.0f));
  return (q - zeroPoint) * step;
}

/// |e|^0.4 to a relative 1e-6 for |e| >= 1e-30 (0 below): 2^(0.4 log2|e|),
/// with log2 from the exponent and atanh series of the mantissa in
/// [sqrt(1/2), sqrt(2)), and 2^f from a degree-7 polynomial on [-1/2, 1/2].
BAQ_INLINE F8 pow04(F8 e) {
  const I8 bits = asInt(e) & 0x7fffffff;
  I8 k = (bits >> 23) - 127;
  F8 m = asFloat((bits & 0x007fffff) | 0x3f800000);
  const I8 big = m > splat(1.41421356f);
  m = select(big, m * 0.5f, m);
  k -= big; // a true lane is -1
  const F8 t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
  F8 series = splat(1.0f / 9.0f);
  series = series * t2 + 1.0f / 7.0f;
  series = series * t2 + 1.0f / 5.0f;
  series = series * t2 + 1.0f / 3.0f;
  series = series * t2 + 1.0f;
  // 0.4 log2|e| = 0.4 k + 0.4 * 2 t series / ln 2.
  const F8 kf = __builtin_convertvector(k, F8);
  const F8 y = kf * 0.4f + t * series * 1.15415603f;
  const F8 n = roundEven(y), f = (y - n) * 0.693147181f;
  F8 p = splat(1.0f / 5040.0f);
  p = p * f + 1.0f / 720.0f;
  p = p * f + 1.0f / 120.0f;
  p = p * f + 1.0f / 24.0f;
  p = p * f + 1.0f / 6.0f;
  p = p * f + 0.5f;
  p = p * f + 1.0f;
  p = p * f + 1.0f;
  const I8 scale = (__builtin_convertvector(n, I8) + 127) << 23;
  const F8 result = p * asFloat(scale);
  return select(asFloat(bits) >= splat(1e-30f), result, splat(0.0f));
}

BAQ_INLINE double laneSum(F8 v) {
  double sum = 0;
  for (int l = 0; l < kLanes; ++l)
    sum += v[l];
  return sum;
}

/// A run of packed positions of one (row, group) with one bitwidth, padded to
/// whole vectors with zeros (0 is a point of every grid: error 0).
struct Run {
  int64_t offset, count; // in the padded row buffer; count % kLanes == 0
  int bits;
};

/// Float score of one candidate grid over a group's runs: the objective
/// computed in float (sqrtWeights empty: |e|^2.4; else (sqrt(w_j) e)^2).
BAQ_VECTOR_CLONES double floatScore(llvm::ArrayRef<Run> runs,
                                    const float *values,
                                    const float *sqrtWeights, float scale,
                                    float zero) {
  double total = 0;
  for (const Run &run : runs) {
    const Grid grid(run.bits, scale, zero);
    const bool flat = !(grid.step > 0.0f); // every code decodes to 0
    // Float partial sums of at most 64 vectors each, then double.
    for (int64_t chunk = 0; chunk < run.count; chunk += 64 * kLanes) {
      const int64_t end = std::min(run.count, chunk + 64 * kLanes);
      F8 acc = {};
      for (int64_t p = run.offset + chunk; p < run.offset + end; p += kLanes) {
        const F8 v = load(values + p);
        const F8 q =
            flat ? F8{} : roundTrip(v, grid.step, grid.zeroPoint, grid.levels);
        const F8 e = q - v;
        if (sqrtWeights) {
          const F8 t = load(sqrtWeights + p) * e;
          acc += t * t;
        } else {
          acc += e * e * pow04(e);
        }
      }
      total += laneSum(acc);
    }
  }
  return total;
}

/// The reference objective of one candidate grid, bit for bit: the same
/// codes, the same double terms, summed in packed order (padding adds +0).
BAQ_VECTOR_CLONES double exactScore(llvm::ArrayRef<Run> runs,
                                    const float *values, const double *weights,
                                    float scale, float zero) {
  double sum = 0;
  for (const Run &run : runs) {
    const Grid grid(run.bits, scale, zero);
    const bool flat = !(grid.step > 0.0f);
    for (int64_t p = run.offset; p < run.offset + run.count; p += kLanes) {
      const F8 v = load(values + p);
      const F8 q =
          flat ? F8{} : roundTrip(v, grid.step, grid.zeroPoint, grid.levels);
      for (int l = 0; l < kLanes; ++l) {
        double e = static_cast<double>(q[l]) - v[l];
        sum += weights ? weights[p + l] * e * e : std::pow(std::fabs(e), 2.4);
      }
    }
  }
  return sum;
}

/// One row of measuredLossTable's columns: acc[b * stride + c] +=
/// (Q_b(v_c) - v_c)^2 in double for whole vectors of columns (b = 0: v_c^2),
/// as the scalar loop adds them. Returns the columns done.
BAQ_VECTOR_CLONES int64_t accumulateLosses(const float *row, int64_t count,
                                           const float *step,
                                           const float *zeroPoint,
                                           const float *levels, double *acc,
                                           int64_t stride) {
  int64_t c = 0;
  for (; c + kLanes <= count; c += kLanes) {
    const F8 v = load(row + c);
    const D4 vLo = __builtin_convertvector(F4{v[0], v[1], v[2], v[3]}, D4),
             vHi = __builtin_convertvector(F4{v[4], v[5], v[6], v[7]}, D4);
    for (int b = 0; b <= kMaxBits; ++b) {
      D4 eLo = vLo, eHi = vHi; // 0 bits: the weight itself
      if (b > 0) {
        const F8 q = step[b] > 0.0f
                         ? roundTrip(v, step[b], zeroPoint[b], levels[b])
                         : F8{};
        eLo = __builtin_convertvector(F4{q[0], q[1], q[2], q[3]}, D4) - vLo;
        eHi = __builtin_convertvector(F4{q[4], q[5], q[6], q[7]}, D4) - vHi;
      }
      double *a = &acc[b * stride + c];
      D4 aLo, aHi;
      std::memcpy(&aLo, a, sizeof(aLo));
      std::memcpy(&aHi, a + 4, sizeof(aHi));
      aLo += eLo * eLo;
      aHi += eHi * eHi;
      std::memcpy(a, &aLo, sizeof(aLo));
      std::memcpy(a + 4, &aHi, sizeof(aHi));
    }
  }
  return c;
}

/// quantizeColumn, in the clones.
BAQ_VECTOR_CLONES void quantizeColumnKernel(const float *col, int64_t m,
                                            const float *step,
                                            const float *zeroPoint, int bits,
                                            float d, uint8_t *codes,
                                            float *dequant, float *err) {
  const float levels = bits == 0 ? 0.0f : detail::gridLevels(bits);
  const F8 top = splat(levels), zero = splat(0.0f);
  int64_t i = 0;
  for (; i + kLanes <= m; i += kLanes) {
    const F8 v = load(col + i), st = load(step + i), zp = load(zeroPoint + i);
    // Grid::quantize: rows without a positive step take their zero point.
    F8 q = roundEven(v / st) + zp;
    q = select(q > zero, select(q < top, q, top), zero);
    q = select(st > zero, q, zp);
    const F8 dq = (q - zp) * st;
    const F8 e = (v - dq) / d;
    std::memcpy(dequant + i, &dq, sizeof(dq));
    std::memcpy(err + i, &e, sizeof(e));
    for (int l = 0; l < kLanes; ++l)
      codes[i + l] = static_cast<uint8_t>(q[l]);
  }
  for (; i < m; ++i) {
    float q = zeroPoint[i];
    if (step[i] > 0.0f) {
      q = std::nearbyint(col[i] / step[i]) + zeroPoint[i];
      q = q > 0.0f ? std::min(q, levels) : 0.0f;
    }
    const float dq = (q - zeroPoint[i]) * step[i];
    codes[i] = static_cast<uint8_t>(q);
    dequant[i] = dq;
    err[i] = (col[i] - dq) / d;
  }
}

/// A bound on |float score - objective| / objective, used to pick the
/// candidates re-scored exactly: about 10x the worst case of the float terms
/// (a few ulps each, |e|^0.4 to 3e-6) and of the 64-term float sums.
constexpr double kScoreTolerance = 1e-4;

} // namespace

void baq::numerics::detail::quantizeColumn(const float *col, int64_t m,
                                           const float *step,
                                           const float *zeroPoint, int bits,
                                           float d, uint8_t *codes,
                                           float *dequant, float *err) {
  quantizeColumnKernel(col, m, step, zeroPoint, bits, d, codes, dequant, err);
}

void baq::numerics::computeGrids(llvm::ArrayRef<float> w,
                                 const PackedLayout &layout,
                                 const QuantizerOptions &options,
                                 std::vector<float> &scales,
                                 std::vector<float> &zeros) {
  const int64_t m = layout.m, n = layout.n, g = layout.numGroups;
  assert(static_cast<int64_t>(w.size()) == m * n && "weight is M x N");
  scales.assign(m * g, 0.0f);
  zeros.assign(m * g, 0.0f);
  const int64_t groupSize = layout.groupSize > 0
                                ? layout.groupSize
                                : std::max<int64_t>(1, layout.live);
  const bool weighted = !options.gridWeights.empty();
  assert((!weighted || static_cast<int64_t>(options.gridWeights.size()) == n) &&
         "one grid weight per column");

  // Each group's runs of one bitwidth in a padded packed-order row buffer,
  // and the column weights laid out the same way.
  std::vector<std::vector<Run>> runs(g);
  std::vector<int64_t> source; // buffer position -> column, -1 for padding
  for (int64_t group = 0; group < g && options.mseGrid; ++group) {
    const int64_t begin = std::min(group * groupSize, layout.live);
    const int64_t end = std::min(begin + groupSize, layout.live);
    for (int64_t p = begin; p < end;) {
      const int bits = layout.bits[layout.perm[p]];
      int64_t q = p;
      while (q < end && layout.bits[layout.perm[q]] == bits)
        ++q;
      const int64_t offset = static_cast<int64_t>(source.size());
      for (int64_t r = p; r < q; ++r)
        source.push_back(layout.perm[r]);
      while (source.size() % kLanes)
        source.push_back(-1);
      runs[group].push_back(
          {offset, static_cast<int64_t>(source.size()) - offset, bits});
      p = q;
    }
  }
  std::vector<float> sqrtWeights;
  std::vector<double> packedWeights;
  if (weighted)
    for (int64_t j : source) {
      packedWeights.push_back(j < 0 ? 0.0 : options.gridWeights[j]);
      sqrtWeights.push_back(
          static_cast<float>(std::sqrt(packedWeights.back())));
    }

  llvm::parallelFor(0, m, [&](int64_t i) {
    std::vector<float> values;
    if (options.mseGrid) {
      values.resize(source.size());
      for (size_t k = 0; k < source.size(); ++k)
        values[k] = source[k] < 0 ? 0.0f : w[i * n + source[k]];
    }
    for (int64_t group = 0; group < g; ++group) {
      auto [lo, hi] = layout.groupRange(w, i, group);
      // The min-max grid: the range itself, or with 8-bit scale codes (1/16
      // to 1/32 apart) the code at or above it, so that it clips nothing.
      float scale = roundToGridType(hi - lo, options.scaleType);
      if (options.scaleType == GridType::E4M4 && scale < hi - lo)
        scale =
            decodeScaleCode(std::min<int>(encodeScaleCode(hi - lo) + 1, 255));
      float zero = encodeZero(lo, scale, options.zeroType);
      if (options.mseGrid && hi > lo) {
        // GPTQ's search (grid = 100, maxshrink = 0.8, norm = 2.4, or the
        // weighted squared error); p = 1 is the first candidate, so the
        // result is never worse than min-max.
        constexpr int kCandidates = 80;
        float candScale[kCandidates], candZero[kCandidates];
        double score[kCandidates];
        candScale[0] = scale;
        candZero[0] = zero;
        for (int k = 1; k < kCandidates; ++k) {
          float shrink = 1.0f - static_cast<float>(k) / 100.0f;
          candScale[k] = roundToGridType((hi - lo) * shrink, options.scaleType);
          candZero[k] = encodeZero(lo * shrink, candScale[k], options.zeroType);
        }
        double least = 0;
        bool finite = true;
        for (int k = 0; k < kCandidates; ++k) {
          score[k] = floatScore(
              runs[group], values.data(),
              weighted ? sqrtWeights.data() : nullptr, candScale[k],
              decodeZero(candZero[k], candScale[k], options.zeroType));
          finite &= std::isfinite(score[k]);
          least = k == 0 ? score[k] : std::min(least, score[k]);
        }
        // The least objective is within the margin of the least float score
        // (float underflow costs at most ~1e-38 a term): re-score what lies
        // within it, first candidate first, as the reference loop does.
        const double margin =
            (least + 1e-37 * static_cast<double>(values.size())) *
            (1 + 3 * kScoreTolerance);
        int chosen = -1, within = 0;
        for (int k = 0; k < kCandidates; ++k)
          if (!finite || score[k] <= margin) {
            chosen = chosen < 0 ? k : chosen;
            ++within;
          }
        if (within > 1) {
          double best = 0;
          chosen = -1;
          for (int k = 0; k < kCandidates; ++k) {
            if (finite && score[k] > margin)
              continue;
            double e = exactScore(
                runs[group], values.data(),
                weighted ? packedWeights.data() : nullptr, candScale[k],
                decodeZero(candZero[k], candScale[k], options.zeroType));
            if (chosen < 0 || e < best) {
              best = e;
              chosen = k;
            }
          }
        }
        scale = candScale[chosen];
        zero = candZero[chosen];
      }
      scales[i * g + group] = scale;
      zeros[i * g + group] = zero;
    }
  });
}

LossTable baq::numerics::measuredLossTable(llvm::ArrayRef<float> w,
                                           const PackedLayout &layout,
                                           llvm::ArrayRef<float> scales,
                                           llvm::ArrayRef<float> zeros,
                                           GridType zeroType,
                                           llvm::ArrayRef<double> colWeight) {
  constexpr int width = kMaxBits + 1;
  const int64_t m = layout.m, n = layout.n, g = layout.numGroups;
  assert(static_cast<int64_t>(colWeight.size()) == n && "one weight a column");
  LossTable table(n * width, 0.0);
  std::vector<int64_t> groupOf(n);
  for (int64_t j = 0; j < n; ++j)
    groupOf[j] = layout.groupOfChannel(j);

  // Columns in blocks, each block's rows in order: every entry is summed in
  // the same order as one column at a time, whatever the thread count.
  constexpr int64_t kBlock = 256;
  llvm::parallelFor(0, (n + kBlock - 1) / kBlock, [&](int64_t block) {
    const int64_t j0 = block * kBlock, j1 = std::min(n, j0 + kBlock);
    const int64_t count = j1 - j0;
    std::vector<double> acc(width * kBlock, 0.0); // [bits][column]
    float step[width] = {}, zeroPoint[width] = {}, levels[width] = {};
    for (int64_t i = 0; i < m; ++i) {
      const float *row = &w[i * n + j0];
      int64_t c = 0;
      // One grid per row: whole vectors of columns at a time.
      if (g == 1) {
        const float s = scales[i * g];
        const float z = decodeZero(zeros[i * g], s, zeroType);
        for (int b = 1; b < width; ++b) {
          const Grid grid(b, s, z);
          step[b] = grid.step;
          zeroPoint[b] = grid.zeroPoint;
          levels[b] = grid.levels;
        }
        c = accumulateLosses(row, count, step, zeroPoint, levels, acc.data(),
                             kBlock);
      }
      for (; c < count; ++c) {
        const int64_t j = j0 + c, group = groupOf[j];
        const float v = row[c];
        const float s = scales[i * g + group];
        const float z = decodeZero(zeros[i * g + group], s, zeroType);
        acc[c] += static_cast<double>(v) * v;
        for (int b = 1; b < width; ++b) {
          double e = static_cast<double>(
                         dequantCode(quantizeValue(v, b, s, z), b, s, z)) -
                     v;
          acc[b * kBlock + c] += e * e;
        }
      }
    }
    for (int64_t c = 0; c < count; ++c)
      for (int b = 0; b < width; ++b)
        table[(j0 + c) * width + b] = acc[b * kBlock + c] * colWeight[j0 + c];
  });
  return table;
}
