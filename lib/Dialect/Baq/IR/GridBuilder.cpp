//===- GridBuilder.cpp - IR for the grid formula of the format ------------===//

#include "baq/Dialect/Baq/IR/GridBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::baq;

/// An f32 constant of `type` (f32 or a vector of f32).
static Value createF32Constant(OpBuilder &b, Location loc, Type type,
                               float value) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(shaped, ArrayRef<float>(value)));
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

Value mlir::baq::buildBitField(OpBuilder &b, Location loc, Value lo, Value hi,
                               Value shift, Value mask) {
  Type i64 = b.getI64Type();
  Value window = arith::OrIOp::create(
      b, loc, arith::ExtUIOp::create(b, loc, i64, lo),
      arith::ShLIOp::create(b, loc, arith::ExtUIOp::create(b, loc, i64, hi),
                            arith::ConstantIntOp::create(b, loc, i64, 32)));
  return arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, window, shift), mask);
}

/// A constant of `type` (i32 or a vector of i32).
static Value createI32Constant(OpBuilder &b, Location loc, Type type,
                               int32_t value) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(shaped, ArrayRef<int32_t>(value)));
  return arith::ConstantIntOp::create(b, loc, value, 32);
}

Value mlir::baq::buildScale(OpBuilder &b, Location loc, Value stored) {
  Type storedType = stored.getType();
  auto withElement = [&](Type elem) -> Type {
    if (auto vector = dyn_cast<VectorType>(storedType))
      return VectorType::get(vector.getShape(), elem);
    return elem;
  };
  Type f32Type = withElement(b.getF32Type());
  Type elem = getElementTypeOrSelf(storedType);
  if (elem.isF32())
    return stored;
  if (!elem.isInteger())
    return arith::ExtFOp::create(b, loc, f32Type, stored);
  // An 8-bit code c: s = (16 + c mod 16) * 2^(floor(c / 16) - 16), built as
  // an integer below 32 times a power of two (its f32 bit pattern, exponent
  // floor(c / 16) + 111): exact, no rounding, no libm. c = 0 is 0.
  Type i32Type = withElement(b.getI32Type());
  Value c = arith::ExtUIOp::create(b, loc, i32Type, stored);
  Value mantissa = arith::UIToFPOp::create(
      b, loc, f32Type,
      arith::AddIOp::create(
          b, loc,
          arith::AndIOp::create(b, loc, c,
                                createI32Constant(b, loc, i32Type, 15)),
          createI32Constant(b, loc, i32Type, 16)));
  Value exponentBits = arith::ShLIOp::create(
      b, loc,
      arith::AddIOp::create(
          b, loc,
          arith::ShRUIOp::create(b, loc, c,
                                 createI32Constant(b, loc, i32Type, 4)),
          createI32Constant(b, loc, i32Type, 111)),
      createI32Constant(b, loc, i32Type, 23));
  Value power = arith::BitcastOp::create(b, loc, f32Type, exponentBits);
  Value scale = arith::MulFOp::create(b, loc, mantissa, power);
  Value isZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, c,
                                       createI32Constant(b, loc, i32Type, 0));
  return arith::SelectOp::create(
      b, loc, isZero, createF32Constant(b, loc, f32Type, 0.0f), scale);
}

Value mlir::baq::buildZero(OpBuilder &b, Location loc, Value scale,
                           Value stored) {
  Type f32Type = scale.getType();
  if (getElementTypeOrSelf(stored.getType()).isInteger()) {
    Value code = arith::UIToFPOp::create(b, loc, f32Type, stored);
    Value product = arith::MulFOp::create(b, loc, scale, code);
    Value quotient = arith::DivFOp::create(
        b, loc, product, createF32Constant(b, loc, f32Type, 255.0f));
    return arith::NegFOp::create(b, loc, quotient);
  }
  if (stored.getType() == f32Type)
    return stored;
  return arith::ExtFOp::create(b, loc, f32Type, stored);
}

GridValues mlir::baq::buildGrid(OpBuilder &b, Location loc, Value scale,
                                Value zero, Value levels,
                                GridRounding rounding) {
  Type type = scale.getType();
  Value step = arith::DivFOp::create(b, loc, scale, levels);
  Value ratio =
      arith::DivFOp::create(b, loc, arith::NegFOp::create(b, loc, zero), step);
  Value zeroF = createF32Constant(b, loc, type, 0.0f);
  Value rounded;
  if (rounding == GridRounding::RoundEven) {
    rounded = arith::MinimumFOp::create(
        b, loc,
        arith::MaximumFOp::create(
            b, loc, math::RoundEvenOp::create(b, loc, ratio), zeroF),
        levels);
  } else {
    // roundeven(clamp(r, 0, L)) == clamp(roundeven(r), 0, L), and for
    // 0 <= c <= 255, (c + 2^23) - 2^23 rounds c half to even exactly.
    Value clamped = arith::MinimumFOp::create(
        b, loc, arith::MaximumFOp::create(b, loc, ratio, zeroF), levels);
    Value magic = createF32Constant(b, loc, type, 8388608.0f);
    rounded = arith::SubFOp::create(
        b, loc, arith::AddFOp::create(b, loc, clamped, magic), magic);
  }
  Value positive =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, step, zeroF);
  Value zeroPoint = arith::SelectOp::create(b, loc, positive, rounded, zeroF);
  return {step, zeroPoint};
}

Value mlir::baq::buildDequantizedWeight(OpBuilder &b, Location loc, Value q,
                                        const GridValues &grid) {
  return arith::MulFOp::create(
      b, loc, arith::SubFOp::create(b, loc, q, grid.zeroPoint), grid.step);
}
