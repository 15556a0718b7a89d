//===- Grid.h - The grid formula of the packed format -----------*- C++ -*-===//
//
// The one grid formula (FORMAT.md §4) that the quantizers (BAQNumerics) and
// the packed-format dequantizer (BAQFormat) share, so both produce
// bit-identical floats, and the error helpers of both libraries. Both are
// built with -ffp-contract=off.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_FORMAT_GRID_H
#define BAQ_FORMAT_GRID_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <algorithm>
#include <cmath>
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

/// The b-bit grid of a (row, group) with range `scale` and minimum `zero`
/// (FORMAT.md §4): GPTQ's asymmetric grid, step = scale / (2^b - 1) and an
/// integer zero point round(-zero / step), so that 0.0 is always a grid point.
/// The library is built with -ffp-contract=off so that no FMA changes the
/// rounding of these formulas between the quantizer and the dequantizer.
struct Grid {
  float step = 0, zeroPoint = 0, levels = 0;

  Grid(int bits, float scale, float zero) {
    if (bits == 0)
      return;
    levels = gridLevels(bits);
    step = scale / levels;
    if (step > 0.0f)
      zeroPoint = std::clamp(std::nearbyint(-zero / step), 0.0f, levels);
  }

  float dequant(unsigned code) const {
    return (static_cast<float>(code) - zeroPoint) * step;
  }

  /// Nearest code of `value`; clamped to [0, 2^b - 1].
  unsigned quantize(float value) const {
    if (!(step > 0.0f))
      return static_cast<unsigned>(zeroPoint);
    // nearbyint rounds ties to even, like torch.round in GPTQ.
    float q = std::nearbyint(value / step) + zeroPoint;
    // Written so that a NaN lands on code 0 instead of an undefined cast.
    q = q > 0.0f ? std::min(q, levels) : 0.0f;
    return static_cast<unsigned>(q);
  }
};

inline float dequantCode(unsigned code, int bits, float scale, float zero) {
  if (bits == 0)
    return 0.0f;
  return Grid(bits, scale, zero).dequant(code);
}

inline unsigned quantizeValue(float value, int bits, float scale, float zero) {
  if (bits == 0)
    return 0;
  return Grid(bits, scale, zero).quantize(value);
}

} // namespace detail
} // namespace numerics
} // namespace baq

#endif // BAQ_FORMAT_GRID_H
