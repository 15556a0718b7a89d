//===- Expand.cpp - Lower baq ops to upstream tensor-level dialects -------===//
//
// Produces IR that stock mlir-opt accepts and that tensor compilers (IREE)
// recognise as dequantize + matmul: packed constants become arith.constants
// and each dequantize becomes an elementwise linalg.generic over the weight
// shape that gathers its payload words, scales and zeros with tensor.extract.
// Everything that depends only on the input channel (docs/FORMAT.md: the
// bitwidth, the payload words holding the code, its bit offset and its
// group) is folded into small 1-D constant tables read through the
// generic's indexing maps.
//
//===----------------------------------------------------------------------===//

#include "baq/Dialect/Baq/IR/BaqAttrs.h"
#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "baq/Dialect/Baq/IR/BaqOps.h"
#include "baq/Dialect/Baq/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQEXPAND
#include "baq/Dialect/Baq/Transforms/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;
using namespace mlir::baq;

namespace {

/// Per-input-channel constants of a layout, in original channel order.
struct ChannelTables {
  SmallVector<int32_t> bits;
  /// Payload word holding the code's first bit.
  SmallVector<int32_t> word;
  /// Word holding its last bit: `word + 1` for codes that straddle a word
  /// boundary, `word` otherwise, so that the read is always in bounds.
  SmallVector<int32_t> next;
  /// Bit offset of the code within `word`.
  SmallVector<int32_t> shift;
  SmallVector<int32_t> group;
};

struct BaqExpandPass : public mlir::baq::impl::BaqExpandBase<BaqExpandPass> {
  using BaqExpandBase::BaqExpandBase;
  void runOnOperation() override;
};

} // namespace

static ChannelTables computeTables(PackedLayoutAttr layout) {
  int64_t n = layout.getInputs();
  ArrayRef<int8_t> bits = layout.getBits();
  ArrayRef<int32_t> perm = layout.getPerm();
  ArrayRef<int64_t> segments = layout.getSegments();
  int64_t groupSize = layout.getGroupSize();

  ChannelTables t;
  t.bits.assign(bits.begin(), bits.end());
  t.word.assign(n, 0);
  t.next.assign(n, 0);
  t.shift.assign(n, 0);
  t.group.assign(n, 0);
  // Segments cover exactly the packed positions of the non-zero channels;
  // 0-bit channels keep all-zero entries and are masked out by the body.
  for (size_t s = 0; s + 3 < segments.size(); s += 4) {
    int64_t b = segments[s], start = segments[s + 1], count = segments[s + 2],
            wordOffset = segments[s + 3];
    for (int64_t k = 0; k < count; ++k) {
      int64_t p = start + k;
      int32_t j = perm[p];
      int64_t bit = k * b;
      t.word[j] = wordOffset + bit / 32;
      t.shift[j] = bit % 32;
      t.next[j] = t.word[j] + (t.shift[j] + b > 32 ? 1 : 0);
      t.group[j] = groupSize > 0 ? p / groupSize : 0;
    }
  }
  return t;
}

static Value createTable(OpBuilder &b, Location loc, ArrayRef<int32_t> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                    b.getI32Type());
  return arith::ConstantOp::create(b, loc,
                                   DenseIntElementsAttr::get(type, values));
}

static Value toF32(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isF32())
    return v;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), v);
}

/// Builds the dequantized weight of `op` as a linalg.generic.
static Value expandDequantize(OpBuilder &b, DequantizeOp op) {
  Location loc = op.getLoc();
  PackedLayoutAttr layout = op.getLayout();
  auto resultType = cast<RankedTensorType>(op.getResult().getType());
  Type elemType = resultType.getElementType();
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(), elemType);

  // Every channel is 0-bit: there is no payload word to read.
  if (layout.getWordsPerRow() == 0) {
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elemType));
    return linalg::FillOp::create(b, loc, zero, init).getResult(0);
  }

  ChannelTables t = computeTables(layout);
  SmallVector<Value> tables = {
      createTable(b, loc, t.bits), createTable(b, loc, t.word),
      createTable(b, loc, t.next), createTable(b, loc, t.shift),
      createTable(b, loc, t.group)};

  // Loop d0, d1 over the weight shape; channel_dim names the input channel.
  int64_t channelDim = layout.getChannelDim();
  int64_t rowDim = 1 - channelDim;
  MLIRContext *ctx = b.getContext();
  AffineMap channelMap =
      AffineMap::get(2, 0, getAffineDimExpr(channelDim, ctx), ctx);
  SmallVector<AffineMap> maps(tables.size(), channelMap);
  maps.push_back(b.getMultiDimIdentityMap(2));
  SmallVector<utils::IteratorType> iterators(2, utils::IteratorType::parallel);

  Value payload = op.getPayload(), scales = op.getScales(),
        zeros = op.getZeros();
  auto generic = linalg::GenericOp::create(
      b, loc, resultType, tables, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value bits = args[0], word = args[1], next = args[2], shift = args[3],
              group = args[4];
        Type i64 = nb.getI64Type(), f32 = nb.getF32Type();
        auto index = [&](Value v) {
          return arith::IndexCastOp::create(nb, nl, nb.getIndexType(), v)
              .getResult();
        };
        auto ext = [&](Value v) {
          return arith::ExtUIOp::create(nb, nl, i64, v).getResult();
        };
        Value row = linalg::IndexOp::create(nb, nl, rowDim);

        // Both words as one i64 (lo | hi << 32): a shift by `shift` < 32 then
        // reaches every bit of a straddling code without an i32 shift by 32.
        Value lo = tensor::ExtractOp::create(nb, nl, payload,
                                             ValueRange{index(word), row});
        Value hi = tensor::ExtractOp::create(nb, nl, payload,
                                             ValueRange{index(next), row});
        Value c32 = arith::ConstantIntOp::create(nb, nl, i64, 32);
        Value both = arith::OrIOp::create(
            nb, nl, ext(lo), arith::ShLIOp::create(nb, nl, ext(hi), c32));
        Value shifted = arith::ShRUIOp::create(nb, nl, both, ext(shift));
        Value one = arith::ConstantIntOp::create(nb, nl, i64, 1);
        Value mask = arith::SubIOp::create(
            nb, nl, arith::ShLIOp::create(nb, nl, one, ext(bits)), one);
        Value code = arith::AndIOp::create(nb, nl, shifted, mask);

        // GPTQ's grid in f32 (FORMAT.md §4): step = s / (2^b - 1),
        // zp = clamp(roundeven(-z / step), 0, 2^b - 1) if step > 0, else 0;
        // w = (q - zp) * step. The clamp propagates NaN and the select drops
        // the 0 / 0 of an all-zero group, exactly as the kernels and the
        // numerics library compute it.
        Value g = index(group);
        Value s = toF32(
            nb, nl,
            tensor::ExtractOp::create(nb, nl, scales, ValueRange{row, g}));
        Value z =
            toF32(nb, nl,
                  tensor::ExtractOp::create(nb, nl, zeros, ValueRange{row, g}));
        Value levels = arith::UIToFPOp::create(nb, nl, f32, mask);
        Value q = arith::UIToFPOp::create(nb, nl, f32, code);
        Value step = arith::DivFOp::create(nb, nl, s, levels);
        Value ratio = arith::DivFOp::create(
            nb, nl, arith::NegFOp::create(nb, nl, z), step);
        Value zeroF = arith::ConstantOp::create(nb, nl, nb.getZeroAttr(f32));
        Value clamped = arith::MinimumFOp::create(
            nb, nl,
            arith::MaximumFOp::create(
                nb, nl, math::RoundEvenOp::create(nb, nl, ratio), zeroF),
            levels);
        Value positive = arith::CmpFOp::create(
            nb, nl, arith::CmpFPredicate::OGT, step, zeroF);
        Value zp = arith::SelectOp::create(nb, nl, positive, clamped, zeroF);
        Value w = arith::MulFOp::create(
            nb, nl, arith::SubFOp::create(nb, nl, q, zp), step);

        // 0-bit channels are exactly 0 (their s / 0 is not used).
        Value zeroBits =
            arith::ConstantIntOp::create(nb, nl, nb.getI32Type(), 0);
        Value dropped = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq,
                                              bits, zeroBits);
        Value result = arith::SelectOp::create(nb, nl, dropped, zeroF, w);
        if (elemType != f32)
          result = arith::TruncFOp::create(nb, nl, elemType, result);
        linalg::YieldOp::create(nb, nl, result);
      });
  return generic.getResult(0);
}

/// Whether `attr` is or contains an attribute of the baq dialect.
static bool containsBaqAttr(Attribute attr) {
  bool found = false;
  attr.walk([&](Attribute nested) {
    if (isa<BaqDialect>(nested.getDialect()))
      found = true;
  });
  return found;
}

void BaqExpandPass::runOnOperation() {
  Operation *module = getOperation();
  SmallVector<PackedConstantOp> constants;
  SmallVector<DequantizeOp> dequantizes;
  module->walk([&](Operation *op) {
    if (auto c = dyn_cast<PackedConstantOp>(op))
      constants.push_back(c);
    else if (auto d = dyn_cast<DequantizeOp>(op))
      dequantizes.push_back(d);
  });

  OpBuilder b(&getContext());
  for (PackedConstantOp op : constants) {
    b.setInsertionPoint(op);
    SmallVector<Value> parts;
    for (ElementsAttr value : {op.getPayload(), op.getScales(), op.getZeros()})
      parts.push_back(
          arith::ConstantOp::create(b, op.getLoc(), cast<TypedAttr>(value)));
    op->replaceAllUsesWith(parts);
    op->erase();
  }
  for (DequantizeOp op : dequantizes) {
    b.setInsertionPoint(op);
    op.getResult().replaceAllUsesWith(expandDequantize(b, op));
    op->erase();
  }

  // The quantization annotations (baq.bits, baq.hessian) have no meaning
  // without the baq ops; dropping them lets the result parse without the
  // dialect. Any other baq attribute would keep the dialect alive.
  StringRef prefix = BaqDialect::getDialectNamespace();
  WalkResult result = module->walk([&](Operation *op) -> WalkResult {
    SmallVector<StringAttr> dropped;
    for (NamedAttribute attr : op->getDiscardableAttrs()) {
      StringRef name = attr.getName().strref();
      if (name.consume_front(prefix) && name.starts_with("."))
        dropped.push_back(attr.getName());
    }
    for (StringAttr name : dropped)
      op->removeDiscardableAttr(name);
    for (NamedAttribute attr : op->getAttrs()) {
      if (containsBaqAttr(attr.getValue())) {
        op->emitError() << "baq-expand: attribute '" << attr.getName().strref()
                        << "' holds a baq attribute that has no upstream "
                           "equivalent";
        return WalkResult::interrupt();
      }
    }
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    signalPassFailure();
}
