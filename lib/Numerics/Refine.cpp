//===- Refine.cpp - Lower GPTQ's layer loss with its layout fixed ---------===//
//
// GPTQ quantizes each column once, given the columns before it, and never
// revisits a code; its (row, group) scales are fixed before any code is
// chosen. Both leave loss on the table that the stored format could keep:
// after GPTQ, exact coordinate descent over the codes and a least-squares
// refit of the scales lower tr((W - Q) H (W - Q)^T) at no cost in bits.
//
// Everything works on G = (W - Q) H, kept up to date: moving one code of row
// i, column j by a stored difference d changes the loss by
// -2 d G_ij + d^2 H_jj, and changing a scale moves a whole (row, group)
// along the direction of its normalised codes.
//
//===----------------------------------------------------------------------===//

#include "baq/Numerics/Numerics.h"

#include "NumericsInternal.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

using namespace baq::numerics;
using baq::numerics::detail::Grid;

namespace {
/// The refinement state of one layer.
class Refiner {
public:
  Refiner(llvm::ArrayRef<float> w, int64_t m, int64_t n, const float *hd,
          const QuantizerOptions &options, QuantizedWeight &q)
      : w(w), m(m), n(n), hd(hd), options(options), q(q), g(q.layout.numGroups),
        e(m * n), grad(m * n) {}

  /// E = W - Q and G = E H.
  void start() {
    for (int64_t k = 0; k < m * n; ++k)
      e[k] = w[k] - q.dequant[k];
    gemm(e.data(), n, 0, n, grad.data(), 0.0f);
  }

  /// One pass of coordinate descent over every code, in lazy blocks: within
  /// a block the block's own columns of G are updated after each column, the
  /// rest of G once per block.
  void sweepCodes(int64_t blockSize) {
    std::vector<float> delta(m * blockSize), gBlock(m * blockSize);
    for (int64_t j0 = 0; j0 < n; j0 += blockSize) {
      const int64_t j1 = std::min(n, j0 + blockSize), count = j1 - j0;
      std::fill(delta.begin(), delta.end(), 0.0f);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t c = 0; c < count; ++c)
          gBlock[i * count + c] = grad[i * n + j0 + c];
      bool moved = false;
      for (int64_t c = 0; c < count; ++c) {
        const int64_t j = j0 + c;
        const int bits = q.layout.bits[j];
        const float hjj = hd[j * n + j];
        if (bits == 0 || !(hjj > 0.0f))
          continue;
        const int64_t group = q.layout.groupOfChannel(j);
        bool columnMoved = false;
        for (int64_t i = 0; i < m; ++i) {
          const float s = q.scales[i * g + group];
          const Grid grid(
              bits, s, decodeZero(q.zeros[i * g + group], s, options.zeroType));
          if (!(grid.step > 0.0f))
            continue;
          const float gij = gBlock[i * count + c];
          const double ideal = gij / (static_cast<double>(grid.step) * hjj);
          const unsigned code = q.codes[i * n + j];
          const double target = std::clamp(code + std::nearbyint(ideal), 0.0,
                                           static_cast<double>(grid.levels));
          if (target == code)
            continue;
          const unsigned next = static_cast<unsigned>(target);
          const float old = q.dequant[i * n + j], now = grid.dequant(next);
          const double d = static_cast<double>(now) - old;
          // The exact change of the loss for the stored difference.
          if (-2.0 * d * gij + d * d * hjj >= 0.0)
            continue;
          q.codes[i * n + j] = static_cast<uint8_t>(next);
          q.dequant[i * n + j] = now;
          e[i * n + j] = w[i * n + j] - now;
          // E moves by -d: G's row i moves by -d H_j.
          delta[i * blockSize + c] = static_cast<float>(d);
          columnMoved = true;
        }
        if (!columnMoved)
          continue;
        moved = true;
        // Keep the block's later columns of G current.
        for (int64_t i = 0; i < m; ++i) {
          const float d = delta[i * blockSize + c];
          if (d == 0.0f)
            continue;
          for (int64_t k = c + 1; k < count; ++k)
            gBlock[i * count + k] -= d * hd[j * n + j0 + k];
        }
      }
      // G -= Delta H[j0:j1, :] for every column (the block's own included:
      // the running copy was only for decisions inside the block).
      if (moved)
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m),
            static_cast<int>(n), static_cast<int>(count), -1.0f, delta.data(),
            static_cast<int>(blockSize), &hd[j0 * n], static_cast<int>(n), 1.0f,
            grad.data(), static_cast<int>(n));
    }
  }

  /// Moves each (row, group) scale to the least-squares optimum of its codes
  /// (the other groups fixed, one group after the other), rounded to the
  /// scale type, where that lowers the loss. With 8-bit zero codes the zero
  /// point of every bitwidth does not depend on the scale (FORMAT.md §4), so
  /// each weight of a (row, group) is the scale times a constant d: the loss
  /// is the parabola -2 t d.G + t^2 d H d^T in the scale's change t.
  void refitScales() {
    const double normal = smallestNormal(options.scaleType);
    for (int64_t group = 0; group < g; ++group) {
      std::vector<int64_t> cols;
      for (int64_t j = 0; j < n; ++j)
        if (q.layout.bits[j] > 0 && q.layout.groupOfChannel(j) == group)
          cols.push_back(j);
      const int64_t k = cols.size();
      if (k == 0)
        continue;
      std::vector<float> hRows(k * n), dir(m * k, 0.0f), dirH(m * n);
      for (int64_t a = 0; a < k; ++a)
        std::copy_n(&hd[cols[a] * n], n, &hRows[a * n]);
      for (int64_t i = 0; i < m; ++i) {
        const float s = q.scales[i * g + group];
        if (s > 0.0f)
          for (int64_t a = 0; a < k; ++a)
            dir[i * k + a] = q.dequant[i * n + cols[a]] / s;
      }
      // dirH = dir H[cols, :]: the parabola's curvature and G's change.
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans,
                  static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
                  1.0f, dir.data(), static_cast<int>(k), hRows.data(),
                  static_cast<int>(n), 0.0f, dirH.data(), static_cast<int>(n));
      for (int64_t i = 0; i < m; ++i) {
        const float s = q.scales[i * g + group];
        if (!(s > 0.0f))
          continue;
        double num = 0, den = 0;
        for (int64_t a = 0; a < k; ++a) {
          num += static_cast<double>(dir[i * k + a]) * grad[i * n + cols[a]];
          den += static_cast<double>(dir[i * k + a]) * dirH[i * n + cols[a]];
        }
        if (!(den > 0.0))
          continue;
        const float optimum = static_cast<float>(s + num / den);
        float next = roundToGridType(optimum, options.scaleType);
        auto change = [&](float to) {
          const double t = static_cast<double>(to) - s;
          return -2.0 * t * num + t * t * den;
        };
        // 8-bit scale codes are coarse (1/16 to 1/32 apart): the code on
        // the optimum's other side may lower the parabola more.
        if (options.scaleType == GridType::E4M4 && std::isfinite(optimum)) {
          const uint8_t code = encodeScaleCode(optimum);
          const float other =
              decodeScaleCode(next < optimum ? std::min<int>(code + 1, 255)
                                             : std::max<int>(code - 1, 1));
          if (change(other) < change(next))
            next = other;
        }
        const double t = static_cast<double>(next) - s;
        if (!std::isfinite(next) || next < normal || t == 0.0 ||
            !(change(next) < 0.0))
          continue;
        q.scales[i * g + group] = next;
        const float zero =
            decodeZero(q.zeros[i * g + group], next, options.zeroType);
        for (int64_t a = 0; a < k; ++a) {
          const int64_t j = cols[a];
          q.dequant[i * n + j] =
              Grid(q.layout.bits[j], next, zero).dequant(q.codes[i * n + j]);
          e[i * n + j] = w[i * n + j] - q.dequant[i * n + j];
        }
        // The stored weights moved by t d up to f32 rounding.
        const float tf = static_cast<float>(t);
        for (int64_t j = 0; j < n; ++j)
          grad[i * n + j] -= tf * dirH[i * n + j];
      }
    }
  }

  double loss() const {
    double total = 0;
    for (int64_t k = 0; k < m * n; ++k)
      total += static_cast<double>(e[k]) * grad[k];
    return total;
  }

private:
  /// out = beta out + a[:, lo:lo+count] H[lo:lo+count, :] (a is m x lda).
  void gemm(const float *a, int64_t lda, int64_t lo, int64_t count, float *out,
            float beta) const {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(count), 1.0f, a + lo,
                static_cast<int>(lda), &hd[lo * n], static_cast<int>(n), beta,
                out, static_cast<int>(n));
  }

  llvm::ArrayRef<float> w;
  int64_t m, n;
  const float *hd;
  const QuantizerOptions &options;
  QuantizedWeight &q;
  int64_t g;
  std::vector<float> e, grad;
};
} // namespace

double baq::numerics::refineQuantized(llvm::ArrayRef<float> w, int64_t m,
                                      int64_t n, llvm::ArrayRef<float> h,
                                      double damp,
                                      const QuantizerOptions &options,
                                      int sweeps, QuantizedWeight &q) {
  assert(static_cast<int64_t>(w.size()) == m * n &&
         static_cast<int64_t>(h.size()) == n * n && "shape mismatch");
  if (m == 0 || n == 0)
    return 0.0;
  // The damped Hessian GPTQ inverted (prepareHessian): dead channels get
  // H_jj = 1, every diagonal entry damp * mean(diag).
  std::vector<float> hd(h.begin(), h.end());
  double mean = 0;
  for (int64_t j = 0; j < n; ++j) {
    float &d = hd[j * n + j];
    if (d == 0.0f)
      d = 1.0f;
    mean += d;
  }
  const float shift = static_cast<float>(damp * mean / n);
  for (int64_t j = 0; j < n; ++j)
    hd[j * n + j] += shift;

  Refiner refiner(w, m, n, hd.data(), options, q);
  refiner.start();
  const bool refit = options.zeroType == GridType::U8;
  for (int sweep = 0; sweep < sweeps; ++sweep) {
    refiner.sweepCodes(std::clamp<int64_t>(options.blockSize, 1, n));
    if (refit)
      refiner.refitScales();
  }
  return refiner.loss();
}
