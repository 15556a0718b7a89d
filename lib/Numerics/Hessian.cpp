//===- Hessian.cpp - Damping and factoring the proxy Hessian --------------===//
//
// GPTQ's preparation of H = 2 X X^T: dead inputs, relative damping, and the
// upper Cholesky factor of H^-1, all through LAPACKE in float32 as GPTQ does
// in PyTorch.
//
// Row-major n x n buffers are handed to column-major LAPACK: a symmetric
// matrix is its own transpose, and a column-major lower factor read row-major
// is the upper factor we want, so no transposing copies are needed.
//
//===----------------------------------------------------------------------===//

#include "baq/Numerics/Numerics.h"

#include "NumericsInternal.h"

#include <lapacke.h>

#include <cmath>

using namespace baq::numerics;
using baq::numerics::detail::formatDouble;
using baq::numerics::detail::makeError;

/// Factors the inverse of `a` (damped H, row-major) in place: on success `a`
/// holds the upper Cholesky factor U of a^-1 and `invDiag` the diagonal of
/// a^-1. Returns false if either Cholesky fails or the result is not finite.
static bool factorInverse(std::vector<float> &a, int64_t n,
                          std::vector<float> &invDiag) {
  // OpenBLAS's threaded potrf/potri block by thread count: on one thread the
  // factor (and so the allocation) does not depend on OPENBLAS_NUM_THREADS.
  detail::SingleThreadedBlas singleThreaded;
  const lapack_int ln = static_cast<lapack_int>(n);
  // Column-major 'U' reads the row-major lower triangle, as
  // torch.linalg.cholesky(H) does.
  if (LAPACKE_spotrf(LAPACK_COL_MAJOR, 'U', ln, a.data(), ln) != 0)
    return false;
  if (LAPACKE_spotri(LAPACK_COL_MAJOR, 'U', ln, a.data(), ln) != 0)
    return false;
  // The inverse now sits in the row-major lower triangle; mirror it.
  invDiag.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    invDiag[i] = a[i * n + i];
    for (int64_t j = 0; j < i; ++j)
      a[j * n + i] = a[i * n + j];
  }
  // Column-major lower L (H^-1 = L L^T) is the row-major upper U = L^T.
  if (LAPACKE_spotrf(LAPACK_COL_MAJOR, 'L', ln, a.data(), ln) != 0)
    return false;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < i; ++j)
      a[i * n + j] = 0.0f;
    for (int64_t j = i; j < n; ++j)
      if (!std::isfinite(a[i * n + j]))
        return false;
    if (!(a[i * n + i] > 0.0f) || !std::isfinite(invDiag[i]))
      return false;
  }
  return true;
}

llvm::Error baq::numerics::detail::checkFinite(llvm::ArrayRef<float> h,
                                               int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (!std::isfinite(h[i * n + j]))
        return makeError("Hessian contains NaN or Inf at (" + llvm::Twine(i) +
                         ", " + llvm::Twine(j) + ")");
  return llvm::Error::success();
}

llvm::Expected<PreparedHessian>
baq::numerics::prepareHessian(llvm::ArrayRef<float> h, int64_t n,
                              const HessianOptions &options) {
  if (n <= 0)
    return makeError("Hessian size must be positive, got " + llvm::Twine(n));
  if (static_cast<int64_t>(h.size()) != n * n)
    return makeError("Hessian has " + llvm::Twine(h.size()) +
                     " elements, expected " + llvm::Twine(n) + " x " +
                     llvm::Twine(n));
  if (!(options.damp >= 0) || !std::isfinite(options.damp))
    return makeError("Hessian damping must be finite and non-negative, got " +
                     formatDouble(options.damp));
  if (llvm::Error err = detail::checkFinite(h, n))
    return std::move(err);

  // Dead inputs (H_jj = 0) get H_jj = 1; GPTQ takes the mean after that.
  PreparedHessian result;
  result.n = n;
  result.dead.assign(n, 0);
  int64_t numDead = 0;
  double mean = 0;
  for (int64_t j = 0; j < n; ++j) {
    if (h[j * n + j] == 0.0f) {
      result.dead[j] = 1;
      ++numDead;
    }
    mean += result.dead[j] ? 1.0 : h[j * n + j];
  }
  if (numDead == n)
    return makeError("Hessian diagonal is all zero: no calibration signal "
                     "reached any input channel");
  mean /= static_cast<double>(n);
  // H^-1 and its factor are formed in f32: a Hessian whose scale is near
  // f32's limits (denormal diagonals) would overflow there and look
  // indefinite. Its scale does not change the allocation or GPTQ.
  if (mean > 0 && (mean < kMinHessianScale || mean > kMaxHessianScale))
    return makeError("Hessian diagonal mean " + formatDouble(mean) +
                     " is outside [" + formatDouble(kMinHessianScale) + ", " +
                     formatDouble(kMaxHessianScale) +
                     "], where its f32 inverse is representable; multiply "
                     "the Hessian by a constant (the allocation and GPTQ do "
                     "not depend on its scale)");

  // One n x n buffer: the damped matrix is rebuilt from `h` for each attempt
  // and factored in place (h may be a resource blob that must not change).
  std::vector<float> a;
  double damp = options.damp;
  for (int attempt = 0; attempt <= std::max(0, options.maxRetries);
       ++attempt, damp *= 10) {
    a.assign(h.begin(), h.end());
    const float shift = static_cast<float>(damp * mean);
    for (int64_t j = 0; j < n; ++j)
      a[j * n + j] = (result.dead[j] ? 1.0f : a[j * n + j]) + shift;
    if (options.keepDamped)
      result.damped = a;
    if (!factorInverse(a, n, result.invDiag))
      continue;
    result.invChol = std::move(a);
    result.dampUsed = damp;
    result.shift = shift;
    result.retries = attempt;
    return result;
  }
  return makeError("Hessian is not positive definite: Cholesky failed with "
                   "relative damping up to " +
                   formatDouble(damp / 10) + " (" +
                   llvm::Twine(std::max(0, options.maxRetries)) +
                   " retries, mean diagonal " + formatDouble(mean) + ")");
}

void baq::numerics::zeroDeadColumns(llvm::MutableArrayRef<float> w, int64_t m,
                                    const PreparedHessian &hessian) {
  const int64_t n = hessian.n;
  assert(static_cast<int64_t>(w.size()) == m * n && "weight/Hessian mismatch");
  for (int64_t j = 0; j < n; ++j)
    if (hessian.dead[j])
      for (int64_t i = 0; i < m; ++i)
        w[i * n + j] = 0.0f;
}
