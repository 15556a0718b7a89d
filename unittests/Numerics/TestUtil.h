//===- TestUtil.h - Independent references for the numerics tests -*- C++ -*-//
//
// Plain double-precision loops that share no code with lib/Numerics: the
// library is checked against these, never against itself.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_UNITTESTS_NUMERICS_TESTUTIL_H
#define BAQ_UNITTESTS_NUMERICS_TESTUTIL_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace baq {
namespace testutil {

using Matrix = std::vector<double>; // row-major

inline std::vector<float> randomNormal(int64_t count, unsigned seed,
                                       double sigma = 1.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0.0, sigma);
  std::vector<float> v(count);
  for (float &x : v)
    x = static_cast<float>(dist(rng));
  return v;
}

/// H = 2 X X^T / samples for X (n x samples, row-major), in double then
/// rounded to float as a calibration pass would store it.
inline std::vector<float> hessianFromActivations(const std::vector<double> &x,
                                                 int64_t n, int64_t samples) {
  std::vector<float> h(n * n);
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b) {
      double sum = 0;
      for (int64_t t = 0; t < samples; ++t)
        sum += x[a * samples + t] * x[b * samples + t];
      h[a * n + b] = static_cast<float>(2.0 * sum / samples);
    }
  return h;
}

/// Random SPD Hessian from correlated activations.
inline std::vector<float> randomHessian(int64_t n, unsigned seed,
                                        int64_t samples = 0) {
  if (samples == 0)
    samples = 4 * n;
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<double> x(n * samples);
  std::vector<double> common(samples);
  for (double &v : common)
    v = dist(rng);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t t = 0; t < samples; ++t)
      x[j * samples + t] = 0.5 * common[t] + dist(rng);
  return hessianFromActivations(x, n, samples);
}

/// Inverse by Gauss-Jordan elimination with partial pivoting.
inline Matrix gaussJordanInverse(Matrix a, int64_t n) {
  Matrix inv(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    inv[i * n + i] = 1.0;
  for (int64_t col = 0; col < n; ++col) {
    int64_t pivot = col;
    for (int64_t r = col + 1; r < n; ++r)
      if (std::fabs(a[r * n + col]) > std::fabs(a[pivot * n + col]))
        pivot = r;
    for (int64_t k = 0; k < n; ++k) {
      std::swap(a[col * n + k], a[pivot * n + k]);
      std::swap(inv[col * n + k], inv[pivot * n + k]);
    }
    double p = a[col * n + col];
    for (int64_t k = 0; k < n; ++k) {
      a[col * n + k] /= p;
      inv[col * n + k] /= p;
    }
    for (int64_t r = 0; r < n; ++r) {
      if (r == col)
        continue;
      double f = a[r * n + col];
      if (f == 0)
        continue;
      for (int64_t k = 0; k < n; ++k) {
        a[r * n + k] -= f * a[col * n + k];
        inv[r * n + k] -= f * inv[col * n + k];
      }
    }
  }
  return inv;
}

/// Upper U with A = U^T U (textbook Cholesky-Banachiewicz, then transpose).
inline Matrix upperCholesky(const Matrix &a, int64_t n) {
  Matrix l(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double sum = a[i * n + j];
      for (int64_t k = 0; k < j; ++k)
        sum -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = i == j ? std::sqrt(sum) : sum / l[j * n + j];
    }
  Matrix u(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      u[i * n + j] = l[j * n + i];
  return u;
}

/// Textbook GPTQ (Frantar et al., Alg. 1 without lazy batches), double
/// precision, one column at a time. Grids: min-max with 0 inside over the
/// columns with bits > 0 of each group; groupOf[j] gives column j's group
/// (groups listed in groupCols). Scales and zeros are kept as float, as the
/// F32 grid type stores them.
struct ReferenceResult {
  std::vector<double> dequant;
  std::vector<int> codes;
};

inline ReferenceResult
referenceGptq(const std::vector<float> &weight, int64_t m, int64_t n,
              const std::vector<float> &h, double damp,
              const std::vector<int> &bits,
              const std::vector<std::vector<int64_t>> &groupCols) {
  Matrix w(weight.begin(), weight.end());
  Matrix hd(h.begin(), h.end());
  for (int64_t j = 0; j < n; ++j) {
    if (hd[j * n + j] == 0) {
      hd[j * n + j] = 1;
      for (int64_t i = 0; i < m; ++i)
        w[i * n + j] = 0;
    }
  }
  double mean = 0;
  for (int64_t j = 0; j < n; ++j)
    mean += hd[j * n + j];
  mean /= n;
  for (int64_t j = 0; j < n; ++j)
    hd[j * n + j] += damp * mean;
  Matrix u = upperCholesky(gaussJordanInverse(hd, n), n);

  const int64_t g = static_cast<int64_t>(groupCols.size());
  std::vector<int64_t> groupOf(n, 0);
  std::vector<double> scale(m * g), zero(m * g);
  for (int64_t k = 0; k < g; ++k) {
    for (int64_t col : groupCols[k])
      groupOf[col] = k;
    for (int64_t i = 0; i < m; ++i) {
      double lo = 0, hi = 0;
      for (int64_t col : groupCols[k]) {
        lo = std::min(lo, w[i * n + col]);
        hi = std::max(hi, w[i * n + col]);
      }
      scale[i * g + k] = static_cast<float>(hi - lo);
      zero[i * g + k] = static_cast<float>(lo);
    }
  }

  ReferenceResult result;
  result.dequant.assign(m * n, 0.0);
  result.codes.assign(m * n, 0);
  for (int64_t j = 0; j < n; ++j) {
    const int b = bits[j];
    const double levels = std::ldexp(1.0, b) - 1;
    for (int64_t i = 0; i < m; ++i) {
      const double s = scale[i * g + groupOf[j]];
      const double z = zero[i * g + groupOf[j]];
      double q = 0, dq = 0;
      if (b > 0 && s > 0) {
        // GPTQ's grid: integer zero point, 0.0 exactly representable.
        const double step = s / levels;
        const double zp =
            std::min(levels, std::max(0.0, std::nearbyint(-z / step)));
        q = std::min(levels,
                     std::max(0.0, std::nearbyint(w[i * n + j] / step) + zp));
        dq = (q - zp) * step;
      }
      result.codes[i * n + j] = static_cast<int>(q);
      result.dequant[i * n + j] = dq;
      const double err = (w[i * n + j] - dq) / u[j * n + j];
      for (int64_t k = j + 1; k < n; ++k)
        w[i * n + k] -= err * u[j * n + k];
    }
  }
  return result;
}

} // namespace testutil
} // namespace baq

#endif // BAQ_UNITTESTS_NUMERICS_TESTUTIL_H
