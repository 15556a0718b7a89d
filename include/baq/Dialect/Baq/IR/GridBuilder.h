//===- GridBuilder.h - IR for the formulas of the packed format -*- C++ -*-===//
//
// The grid formula of docs/FORMAT.md §4 and the bit-field read of §3 as IR,
// shared by --baq-expand and the kernel nests so that both emit the
// arithmetic of baq/Format/Grid.h.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_DIALECT_BAQ_IR_GRIDBUILDER_H
#define BAQ_DIALECT_BAQ_IR_GRIDBUILDER_H

#include "mlir/IR/Builders.h"

namespace mlir {
namespace baq {

/// How the zero point is rounded half to even: math.roundeven, or by adding
/// and subtracting 2^23 after the clamp (exact for [0, 255]; no rounding
/// intrinsic, which NVVM lowers through libdevice).
enum class GridRounding { RoundEven, Magic };

/// The (step, zero point) of a grid.
struct GridValues {
  Value step, zeroPoint;
};

/// Bits [shift, shift + width) of the 64-bit window (hi << 32 | lo) of two
/// consecutive i32 payload words, as an i64 (`mask` = 2^width - 1, i64):
/// a field that straddles the two words needs no 32-bit shift by 32.
/// `shift` is an i64 in [0, 32).
Value buildBitField(OpBuilder &b, Location loc, Value lo, Value hi, Value shift,
                    Value mask);

/// The f32 scale of a group from its stored scale: a float widened exactly,
/// or an 8-bit code c (scale_type i8) as s = (16 + c mod 16) *
/// 2^(floor(c / 16) - 16), 0 for c = 0, exactly. Scalars or vectors.
Value buildScale(OpBuilder &b, Location loc, Value stored);

/// The f32 minimum z of a group from its stored zero: a float zero widened
/// exactly, or an 8-bit code zq (zero_type i8) as z = -((s * zq) / 255), two
/// f32 roundings in that order. `scale` is the group's f32 scale, of the same
/// shape as `stored` (scalars or vectors).
Value buildZero(OpBuilder &b, Location loc, Value scale, Value stored);

/// step = scale / levels, zeroPoint = clamp(roundeven(-zero / step), 0,
/// levels), 0 unless step > 0 (a NaN ratio stays NaN). `scale`, `zero` and
/// `levels` (2^b - 1) are f32 scalars or vectors of one type.
GridValues buildGrid(OpBuilder &b, Location loc, Value scale, Value zero,
                     Value levels, GridRounding rounding);

/// w = (q - zeroPoint) * step, two roundings (the format allows no FMA).
Value buildDequantizedWeight(OpBuilder &b, Location loc, Value q,
                             const GridValues &grid);

} // namespace baq
} // namespace mlir

#endif // BAQ_DIALECT_BAQ_IR_GRIDBUILDER_H
