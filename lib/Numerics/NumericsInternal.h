//===- NumericsInternal.h - Shared helpers of lib/Numerics ------*- C++ -*-===//
//
// Private to lib/Numerics: the one grid formula that the quantizers and the
// packed-format dequantizer share, so both produce bit-identical floats.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_LIB_NUMERICS_NUMERICSINTERNAL_H
#define BAQ_LIB_NUMERICS_NUMERICSINTERNAL_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace baq {
namespace numerics {
namespace detail {

inline llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Shortest readable form of a double for messages (Twine has no double).
inline std::string formatDouble(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

/// 2^b - 1 as a float: the number of steps of a b-bit grid.
inline float gridLevels(int bits) {
  return static_cast<float>((1u << bits) - 1u);
}

/// FORMAT.md §4: w = z + q * (s / (2^b - 1)), in f32. The library is built
/// with -ffp-contract=off so that no FMA changes the rounding here.
inline float dequantCode(unsigned code, int bits, float scale, float zero) {
  if (bits == 0)
    return 0.0f;
  float step = scale / gridLevels(bits);
  return zero + static_cast<float>(code) * step;
}

/// Nearest code of `value` on the b-bit grid [zero, zero + scale].
inline unsigned quantizeValue(float value, int bits, float scale, float zero) {
  if (bits == 0 || scale == 0.0f)
    return 0;
  float levels = gridLevels(bits);
  float step = scale / levels;
  // nearbyint rounds ties to even, like torch.round in GPTQ.
  float q = std::nearbyint((value - zero) / step);
  // Written so that a NaN lands on code 0 instead of an undefined cast.
  q = q > 0.0f ? std::min(q, levels) : 0.0f;
  return static_cast<unsigned>(q);
}

} // namespace detail
} // namespace numerics
} // namespace baq

#endif // BAQ_LIB_NUMERICS_NUMERICSINTERNAL_H
