//===- NumericsInternal.h - Shared helpers of lib/Numerics ------*- C++ -*-===//
//
// Private to lib/Numerics: BLAS threading; the grid formula the quantizers
// share with the packed-format dequantizer is in baq/Format/Grid.h.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_LIB_NUMERICS_NUMERICSINTERNAL_H
#define BAQ_LIB_NUMERICS_NUMERICSINTERNAL_H

#include "baq/Format/Grid.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace baq {
namespace numerics {
namespace detail {

/// Limits OpenBLAS to one thread for its lifetime (not thread-safe: OpenBLAS
/// keeps the count globally; the passes call the numerics from one thread).
class SingleThreadedBlas {
public:
  SingleThreadedBlas() : saved(openblas_get_num_threads()) {
    openblas_set_num_threads(1);
  }
  ~SingleThreadedBlas() { openblas_set_num_threads(saved); }
  SingleThreadedBlas(const SingleThreadedBlas &) = delete;
  SingleThreadedBlas &operator=(const SingleThreadedBlas &) = delete;

private:
  int saved;
};

/// An error naming the first NaN or Inf of the N x N Hessian `h`.
llvm::Error checkFinite(llvm::ArrayRef<float> h, int64_t n);

/// One column of GPTQ (quantizeGptq) over its M rows, 8 rows at a time:
/// row i's b-bit grid is (step[i], zeroPoint[i]) of detail::Grid; writes each
/// row's code, dequantized value and error (col - dequant) / d, bit for bit
/// as Grid::quantize and Grid::dequant.
void quantizeColumn(const float *col, int64_t m, const float *step,
                    const float *zeroPoint, int bits, float d, uint8_t *codes,
                    float *dequant, float *err);

} // namespace detail
} // namespace numerics
} // namespace baq

#endif // BAQ_LIB_NUMERICS_NUMERICSINTERNAL_H
