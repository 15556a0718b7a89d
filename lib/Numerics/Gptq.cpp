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
using baq::numerics::detail::Grid;
using baq::numerics::detail::quantizeColumn;
using baq::numerics::detail::quantizeValue;

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
  QuantizedWeight result;
  GptqWorkspace workspace;
  quantizeGptq(weight, m, n, bits, hessian, options, result, workspace);
  return result;
}

void baq::numerics::quantizeGptq(llvm::ArrayRef<float> weight, int64_t m,
                                 int64_t n, llvm::ArrayRef<int8_t> channelBits,
                                 const PreparedHessian &hessian,
                                 const QuantizerOptions &channelOptions,
                                 QuantizedWeight &result,
                                 GptqWorkspace &workspace,
                                 llvm::ArrayRef<int64_t> order) {
  assert(hessian.n == n && static_cast<int64_t>(weight.size()) == m * n &&
         static_cast<int64_t>(channelBits.size()) == n &&
         "weight/Hessian mismatch");
  assert((order.empty() || static_cast<int64_t>(order.size()) == n) &&
         "one position per channel");
  assert((order.empty() || channelOptions.groupSize == 0) &&
         "a column order needs one group per row");
  // The working copy, in the order GPTQ runs (the lazy batch updates it in
  // place), with dead channels zeroed.
  std::vector<float> &w = workspace.w;
  w.resize(m * n);
  std::vector<int8_t> permutedBits;
  llvm::ArrayRef<int8_t> bits = channelBits;
  QuantizerOptions permutedOptions;
  const QuantizerOptions *options = &channelOptions;
  if (order.empty()) {
    std::copy(weight.begin(), weight.end(), w.begin());
  } else {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t a = 0; a < n; ++a)
        w[i * n + a] = weight[i * n + order[a]];
    permutedBits.resize(n);
    for (int64_t a = 0; a < n; ++a)
      permutedBits[a] = channelBits[order[a]];
    bits = permutedBits;
    permutedOptions = channelOptions;
    for (int64_t a = 0, e = channelOptions.gridWeights.size(); a < e; ++a)
      permutedOptions.gridWeights[a] = channelOptions.gridWeights[order[a]];
    options = &permutedOptions;
  }
  zeroDeadColumns(w, m, hessian);
  // Grids from the weight in run order (with one group per row they do not
  // depend on it; the search's float sums do, in their last bits).
  result.layout = computeLayout(channelBits, m, options->groupSize);
  {
    PackedLayout runLayout = order.empty()
                                 ? result.layout
                                 : computeLayout(bits, m, options->groupSize);
    computeGrids(w, runLayout, *options, result.scales, result.zeros);
  }
  // Every code and dequantized value is written below: no zero fill.
  result.codes.resize(m * n);
  result.dequant.resize(m * n);
  result.gptqLoss = result.gptqDampedLoss = 0.0;
  if (m == 0 || n == 0)
    return; // BLAS rejects zero leading dimensions.
  const PackedLayout &layout = result.layout;
  const int64_t g = layout.numGroups;
  const float *u = hessian.invChol.data();
  // A lazy batch longer than the layer is the whole layer.
  const int64_t blockSize = std::clamp<int64_t>(options->blockSize, 1, n);
  const int lm = static_cast<int>(m), ln = static_cast<int>(n);
  auto channel = [&](int64_t a) { return order.empty() ? a : order[a]; };

  // The block is kept transposed (column c of the block is row c, length M)
  // so that quantizing a column and each rank-1 update stream through memory.
  std::vector<float> &blockT = workspace.blockT;
  std::vector<float> &errT = workspace.errT;
  // Codes and dequantized values of the block, transposed like it.
  std::vector<uint8_t> &codesT = workspace.codesT;
  std::vector<float> &dequantT = workspace.dequantT;
  blockT.resize(blockSize * m);
  errT.resize(blockSize * m);
  codesT.resize(blockSize * m);
  dequantT.resize(blockSize * m);
  std::vector<float> gridSteps[kMaxBits + 1], gridZeros[kMaxBits + 1];
  // ||E||_F^2, ||D||_F^2 and the dead channels' share of it, in double.
  double errorSquares = 0, shifted = 0, dead = 0;
  constexpr int64_t kTile = 16;
  for (int64_t i1 = 0; i1 < n; i1 += blockSize) {
    const int64_t i2 = std::min(i1 + blockSize, n);
    const int64_t count = i2 - i1;
    // Transposes in tiles of kTile rows: each touches kTile cache lines of
    // the row-major side while streaming through the transposed one.
    for (int64_t i0 = 0; i0 < m; i0 += kTile)
      for (int64_t c = 0; c < count; ++c)
        for (int64_t i = i0, e = std::min(i0 + kTile, m); i < e; ++i)
          blockT[c * m + i] = w[i * n + i1 + c];

    for (int64_t c = 0; c < count; ++c) {
      const int64_t j = i1 + c;
      const int b = bits[j];
      const int64_t group = layout.groupOfChannel(channel(j));
      const float d = u[j * n + j];
      float *col = &blockT[c * m];
      float *err = &errT[c * m];
      if (g == 1) {
        // One grid per row: each bitwidth's steps and zero points once.
        if (gridSteps[b].empty()) {
          gridSteps[b].resize(m);
          gridZeros[b].resize(m);
          for (int64_t i = 0; i < m; ++i) {
            const float s = result.scales[i];
            const Grid grid(b, s,
                            decodeZero(result.zeros[i], s, options->zeroType));
            gridSteps[b][i] = grid.step;
            gridZeros[b][i] = grid.zeroPoint;
          }
        }
        quantizeColumn(col, m, gridSteps[b].data(), gridZeros[b].data(), b, d,
                       &codesT[c * m], &dequantT[c * m], err);
      } else {
        for (int64_t i = 0; i < m; ++i) {
          const float s = result.scales[i * g + group];
          const float z =
              decodeZero(result.zeros[i * g + group], s, options->zeroType);
          unsigned q = quantizeValue(col[i], b, s, z);
          float dq = dequantCode(q, b, s, z);
          codesT[c * m + i] = static_cast<uint8_t>(q);
          dequantT[c * m + i] = dq;
          err[i] = (col[i] - dq) / d;
        }
      }
      for (int64_t i = 0; i < m; ++i)
        errorSquares += static_cast<double>(err[i]) * err[i];
      // Error feedback inside the block: W1[:, c+1:] -= err * U[j, j+1:i2].
      if (c + 1 < count)
        cblas_sger(CblasRowMajor, static_cast<int>(count - c - 1), lm, -1.0f,
                   &u[j * n + j + 1], 1, err, 1, &blockT[(c + 1) * m], lm);
    }

    // Results to channel order, and ||D||^2 for gptqLoss with D = W' - Q
    // (W' zeroed at dead channels).
    for (int64_t i0 = 0; i0 < m; i0 += kTile)
      for (int64_t c = 0; c < count; ++c) {
        const int64_t ch = channel(i1 + c);
        const bool isDead = hessian.dead[i1 + c];
        double columnSquares = 0;
        for (int64_t i = i0, e = std::min(i0 + kTile, m); i < e; ++i) {
          const int64_t k = i * n + ch;
          const float dq = dequantT[c * m + i];
          result.codes[k] = codesT[c * m + i];
          result.dequant[k] = dq;
          const double d = (isDead ? 0.0 : static_cast<double>(weight[k])) -
                           static_cast<double>(dq);
          columnSquares += d * d;
        }
        shifted += columnSquares;
        if (isDead)
          dead += columnSquares;
      }

    // Lazy batch: W[:, i2:] -= Err * U[i1:i2, i2:] in one GEMM.
    if (i2 < n)
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, lm,
                  static_cast<int>(n - i2), static_cast<int>(count), -1.0f,
                  errT.data(), lm, &u[i1 * n + i2], ln, 1.0f, &w[i2], ln);
  }

  // tr(D H D^T) = tr(D H_d D^T) - shift ||D||^2 - sum over dead channels of
  // ||D_j||^2.
  result.gptqDampedLoss = errorSquares;
  result.gptqLoss =
      errorSquares - static_cast<double>(hessian.shift) * shifted - dead;
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
