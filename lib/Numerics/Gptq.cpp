//===- Gptq.cpp - RTN and GPTQ with per-column bitwidths ------------------===//
//
// Grids are static: computed once from W before any error feedback, so that
// the stored (rounded) scale and zero of each (row, group) are exactly the
// ones the quantizer used, whatever the bitwidth of each column.
//
//===----------------------------------------------------------------------===//

#include "baq/Numerics/Numerics.h"

#include "NumericsInternal.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

using namespace baq::numerics;
using baq::numerics::detail::dequantCode;
using baq::numerics::detail::quantizeValue;

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
  for (int64_t group = 0; group < g; ++group) {
    // Groups run over packed positions of live channels only (§4).
    const int64_t begin = std::min(group * groupSize, layout.live);
    const int64_t end = std::min(begin + groupSize, layout.live);
    for (int64_t i = 0; i < m; ++i) {
      auto [lo, hi] = layout.groupRange(w, i, group);
      float scale = roundToGridType(hi - lo, options.scaleType);
      float zero = encodeZero(lo, scale, options.zeroType);
      if (options.mseGrid && hi > lo) {
        // GPTQ's search (grid = 100, maxshrink = 0.8, norm = 2.4, or the
        // weighted squared error); p = 1 is the first candidate, so the
        // result is never worse than min-max.
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

LossTable baq::numerics::measuredLossTable(llvm::ArrayRef<float> w,
                                           const PackedLayout &layout,
                                           llvm::ArrayRef<float> scales,
                                           llvm::ArrayRef<float> zeros,
                                           GridType zeroType,
                                           llvm::ArrayRef<double> colWeight) {
  constexpr int64_t width = kMaxBits + 1;
  const int64_t m = layout.m, n = layout.n, g = layout.numGroups;
  assert(static_cast<int64_t>(colWeight.size()) == n && "one weight a column");
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

/// Shared front part of both quantizers: layout and static grids.
static QuantizedWeight startQuantized(llvm::ArrayRef<float> w, int64_t m,
                                      int64_t n, llvm::ArrayRef<int8_t> bits,
                                      const QuantizerOptions &options) {
  assert(static_cast<int64_t>(bits.size()) == n && "one bitwidth per column");
  QuantizedWeight result;
  result.layout = computeLayout(bits, m, options.groupSize);
  computeGrids(w, result.layout, options, result.scales, result.zeros);
  result.codes.assign(m * n, 0);
  result.dequant.assign(m * n, 0.0f);
  return result;
}

QuantizedWeight baq::numerics::quantizeRtn(llvm::ArrayRef<float> w, int64_t m,
                                           int64_t n,
                                           llvm::ArrayRef<int8_t> bits,
                                           const QuantizerOptions &options) {
  QuantizedWeight result = startQuantized(w, m, n, bits, options);
  const int64_t g = result.layout.numGroups;
  for (int64_t j = 0; j < n; ++j) {
    const int b = bits[j];
    const int64_t group = result.layout.groupOfChannel(j);
    for (int64_t i = 0; i < m; ++i) {
      const float s = result.scales[i * g + group];
      const float z =
          decodeZero(result.zeros[i * g + group], s, options.zeroType);
      unsigned q = quantizeValue(w[i * n + j], b, s, z);
      result.codes[i * n + j] = static_cast<uint8_t>(q);
      result.dequant[i * n + j] = dequantCode(q, b, s, z);
    }
  }
  return result;
}

QuantizedWeight baq::numerics::quantizeGptq(llvm::ArrayRef<float> weight,
                                            int64_t m, int64_t n,
                                            llvm::ArrayRef<int8_t> bits,
                                            const PreparedHessian &hessian,
                                            const QuantizerOptions &options) {
  assert(hessian.n == n && static_cast<int64_t>(weight.size()) == m * n &&
         "weight/Hessian mismatch");
  std::vector<float> w(weight.begin(), weight.end());
  zeroDeadColumns(w, m, hessian);
  QuantizedWeight result = startQuantized(w, m, n, bits, options);
  if (m == 0 || n == 0)
    return result; // BLAS rejects zero leading dimensions.
  const PackedLayout &layout = result.layout;
  const int64_t g = layout.numGroups;
  const float *u = hessian.invChol.data();
  // A lazy batch longer than the layer is the whole layer.
  const int64_t blockSize = std::clamp<int64_t>(options.blockSize, 1, n);
  const int lm = static_cast<int>(m), ln = static_cast<int>(n);

  // The block is kept transposed (column c of the block is row c, length M)
  // so that quantizing a column and each rank-1 update stream through memory.
  std::vector<float> blockT(blockSize * m);
  std::vector<float> errT(blockSize * m);
  for (int64_t i1 = 0; i1 < n; i1 += blockSize) {
    const int64_t i2 = std::min(i1 + blockSize, n);
    const int64_t count = i2 - i1;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t c = 0; c < count; ++c)
        blockT[c * m + i] = w[i * n + i1 + c];

    for (int64_t c = 0; c < count; ++c) {
      const int64_t j = i1 + c;
      const int b = bits[j];
      const int64_t group = layout.groupOfChannel(j);
      const float d = u[j * n + j];
      float *col = &blockT[c * m];
      float *err = &errT[c * m];
      for (int64_t i = 0; i < m; ++i) {
        const float s = result.scales[i * g + group];
        const float z =
            decodeZero(result.zeros[i * g + group], s, options.zeroType);
        unsigned q = quantizeValue(col[i], b, s, z);
        float dq = dequantCode(q, b, s, z);
        result.codes[i * n + j] = static_cast<uint8_t>(q);
        result.dequant[i * n + j] = dq;
        err[i] = (col[i] - dq) / d;
      }
      // Error feedback inside the block: W1[:, c+1:] -= err * U[j, j+1:i2].
      if (c + 1 < count)
        cblas_sger(CblasRowMajor, static_cast<int>(count - c - 1), lm, -1.0f,
                   &u[j * n + j + 1], 1, err, 1, &blockT[(c + 1) * m], lm);
    }

    // Lazy batch: W[:, i2:] -= Err * U[i1:i2, i2:] in one GEMM.
    if (i2 < n)
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, lm,
                  static_cast<int>(n - i2), static_cast<int>(count), -1.0f,
                  errT.data(), lm, &u[i1 * n + i2], ln, 1.0f, &w[i2], ln);
  }
  return result;
}

double baq::numerics::hessianLoss(llvm::ArrayRef<float> w,
                                  llvm::ArrayRef<float> q, int64_t m, int64_t n,
                                  llvm::ArrayRef<float> h) {
  assert(static_cast<int64_t>(w.size()) == m * n &&
         static_cast<int64_t>(q.size()) == m * n &&
         static_cast<int64_t>(h.size()) == n * n && "shape mismatch");
  if (m == 0 || n == 0)
    return 0.0;
  std::vector<float> e(m * n);
  for (int64_t k = 0, end = m * n; k < end; ++k)
    e[k] = w[k] - q[k];
  std::vector<float> eh(m * n);
  const int lm = static_cast<int>(m), ln = static_cast<int>(n);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, lm, ln, ln, 1.0f,
              e.data(), ln, h.data(), ln, 0.0f, eh.data(), ln);
  double loss = 0;
  for (int64_t k = 0, end = m * n; k < end; ++k)
    loss += static_cast<double>(e[k]) * static_cast<double>(eh[k]);
  return loss;
}
