//===- Expand.cpp - Lower baq ops to upstream tensor-level dialects -------===//
//
// Produces IR that stock mlir-opt accepts and that tensor compilers (IREE)
// recognise as dequantize + matmul: packed constants become arith.constants
// and each dequantize becomes an elementwise linalg.generic over the weight
// shape that gathers its payload words, scales and zeros with tensor.extract;
// a packed_matmul becomes that dequantize feeding a linalg.matmul.
// Everything that depends only on the input channel (docs/FORMAT.md: the
// bitwidth, the code's first bit in its row's stream and its group) is
// folded into small 1-D constant tables read through the generic's indexing
// maps.
//
//===----------------------------------------------------------------------===//

#include "baq/Dialect/Baq/IR/BaqAttrs.h"
#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "baq/Dialect/Baq/IR/BaqOps.h"
#include "baq/Dialect/Baq/IR/GridBuilder.h"
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
  /// First bit of the code in its row's bit stream.
  SmallVector<int32_t> streamBit;
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
  int64_t groupSize = layout.getGroupSize();

  ChannelTables t;
  t.bits.assign(bits.begin(), bits.end());
  t.streamBit.assign(n, 0);
  t.group.assign(n, 0);
  // Segments cover exactly the packed positions of the non-zero channels;
  // 0-bit channels keep all-zero entries and are masked out by the body.
  for (const SegmentInfo &s : layout.getSegmentInfos()) {
    for (int64_t k = 0; k < s.count; ++k) {
      int64_t p = s.start + k;
      int32_t j = perm[p];
      t.streamBit[j] = static_cast<int32_t>(s.bitOffset + k * s.bits);
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

/// Builds the dequantized weight of `op` as a linalg.generic.
static Value expandDequantize(OpBuilder &b, DequantizeOp op) {
  Location loc = op.getLoc();
  PackedLayoutAttr layout = op.getLayout();
  auto resultType = cast<RankedTensorType>(op.getResult().getType());
  Type elemType = resultType.getElementType();
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(), elemType);

  // Every channel is 0-bit: there is no payload word to read.
  if (layout.getPayloadWords() == 0) {
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elemType));
    return linalg::FillOp::create(b, loc, zero, init).getResult(0);
  }

  ChannelTables t = computeTables(layout);
  SmallVector<Value> tables = {createTable(b, loc, t.bits),
                               createTable(b, loc, t.streamBit),
                               createTable(b, loc, t.group)};
  // FORMAT.md §3: F row-interleaved words per row, then an r-bit tail per
  // row in one shared stream.
  int64_t m = layout.getOutputs(), rowBits = layout.getRowBits();
  int64_t fullWords = rowBits / 32, tailBits = rowBits % 32;
  int64_t lastWord = layout.getPayloadWords() - 1;

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
        Value bits = args[0], streamBit = args[1], group = args[2];
        Type i64 = nb.getI64Type(), f32 = nb.getF32Type();
        auto index = [&](Value v) {
          return arith::IndexCastOp::create(nb, nl, nb.getIndexType(), v)
              .getResult();
        };
        auto ext = [&](Value v) {
          return arith::ExtUIOp::create(nb, nl, i64, v).getResult();
        };
        auto cst = [&](int64_t v) {
          return arith::ConstantIntOp::create(nb, nl, i64, v).getResult();
        };
        auto add = [&](Value x, Value y) {
          return arith::AddIOp::create(nb, nl, x, y).getResult();
        };
        auto mul = [&](Value x, Value y) {
          return arith::MulIOp::create(nb, nl, x, y).getResult();
        };
        auto minI = [&](Value x, Value y) {
          return arith::MinSIOp::create(nb, nl, x, y).getResult();
        };
        auto maxI = [&](Value x, Value y) {
          return arith::MaxSIOp::create(nb, nl, x, y).getResult();
        };
        Value rowIndex = linalg::IndexOp::create(nb, nl, rowDim);
        Value row = arith::IndexCastOp::create(nb, nl, i64, rowIndex);
        Value b64 = ext(bits), t = ext(streamBit);
        Value c32 = cst(32), one = cst(1);
        auto maskOf = [&](Value count) {
          return arith::SubIOp::create(
                     nb, nl, arith::ShLIOp::create(nb, nl, one, count), one)
              .getResult();
        };
        // `count` bits from flat word `word`, bit `shift` on: two words as
        // one i64 (lo | hi << 32) reach a straddling piece without an i32
        // shift by 32; indices are clamped so that unused reads stay in
        // bounds.
        auto bitsAt = [&](Value word, Value next, Value shift, Value count) {
          Value last = cst(lastWord);
          Value lo = tensor::ExtractOp::create(
              nb, nl, payload, ValueRange{index(minI(word, last))});
          Value hi = tensor::ExtractOp::create(
              nb, nl, payload, ValueRange{index(minI(next, last))});
          return buildBitField(nb, nl, lo, hi, shift, maskOf(count));
        };
        // Bits of the code in the row-interleaved words (possibly two of
        // them), then the rest from the row's tail.
        Value mainBits = cst(32 * fullWords);
        Value zero64 = cst(0);
        Value inMain =
            minI(maxI(arith::SubIOp::create(nb, nl, mainBits, t), zero64), b64);
        Value mainWord = arith::DivUIOp::create(nb, nl, t, c32);
        Value mainFlat = add(mul(mainWord, cst(m)), row);
        Value mainCode = bitsAt(mainFlat, add(mainFlat, cst(m)),
                                arith::RemUIOp::create(nb, nl, t, c32), inMain);
        Value tailBit =
            add(mul(row, cst(tailBits)),
                maxI(arith::SubIOp::create(nb, nl, t, mainBits), zero64));
        Value tailWord = add(cst(fullWords * m),
                             arith::DivUIOp::create(nb, nl, tailBit, c32));
        Value tailCode = bitsAt(tailWord, add(tailWord, one),
                                arith::RemUIOp::create(nb, nl, tailBit, c32),
                                arith::SubIOp::create(nb, nl, b64, inMain));
        Value code = arith::OrIOp::create(
            nb, nl, mainCode, arith::ShLIOp::create(nb, nl, tailCode, inMain));
        Value mask = maskOf(b64);

        // GPTQ's grid in f32 (FORMAT.md §4): step = s / (2^b - 1),
        // zp = clamp(roundeven(-z / step), 0, 2^b - 1) if step > 0, else 0;
        // w = (q - zp) * step. The clamp propagates NaN and the select drops
        // the 0 / 0 of an all-zero group, exactly as the kernels and the
        // numerics library compute it.
        Value g = index(group);
        Value s = buildScale(
            nb, nl,
            tensor::ExtractOp::create(nb, nl, scales, ValueRange{rowIndex, g}));
        Value z = buildZero(
            nb, nl, s,
            tensor::ExtractOp::create(nb, nl, zeros, ValueRange{rowIndex, g}));
        Value levels = arith::UIToFPOp::create(nb, nl, f32, mask);
        Value q = arith::UIToFPOp::create(nb, nl, f32, code);
        GridValues grid =
            buildGrid(nb, nl, s, z, levels, GridRounding::RoundEven);
        Value w = buildDequantizedWeight(nb, nl, q, grid);
        Value zeroF = arith::ConstantOp::create(nb, nl, nb.getZeroAttr(f32));

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

/// Replaces `op` by the baq.dequantize (f32) + linalg.matmul it stands for,
/// with the matmul maps of the layout's channel_dim, and returns the
/// dequantize so that it is expanded like the others.
static DequantizeOp unfusePackedMatmul(OpBuilder &b, PackedMatmulOp op) {
  Location loc = op.getLoc();
  PackedLayoutAttr layout = op.getLayout();
  auto weightType =
      RankedTensorType::get(layout.getWeightShape(), b.getF32Type());
  auto dequant = DequantizeOp::create(b, loc, weightType, op.getPayload(),
                                      op.getScales(), op.getZeros(), layout);
  SmallVector<NamedAttribute> attrs;
  if (layout.getChannelDim() == 1) {
    // Transposed B: the weight operand is [outputs, inputs].
    MLIRContext *ctx = b.getContext();
    AffineExpr d0, d1, d2;
    bindDims(ctx, d0, d1, d2);
    auto map = [&](ArrayRef<AffineExpr> results) -> Attribute {
      return AffineMapAttr::get(AffineMap::get(3, 0, results, ctx));
    };
    attrs.push_back(b.getNamedAttr(
        "indexing_maps",
        b.getArrayAttr({map({d0, d2}), map({d1, d2}), map({d0, d1})})));
  }
  auto matmul =
      linalg::MatmulOp::create(b, loc, TypeRange{op.getResult().getType()},
                               ValueRange{op.getInput(), dequant.getResult()},
                               ValueRange{op.getInit()}, attrs);
  op.getResult().replaceAllUsesWith(matmul->getResult(0));
  op->erase();
  return dequant;
}

void BaqExpandPass::runOnOperation() {
  Operation *module = getOperation();
  SmallVector<PackedConstantOp> constants;
  SmallVector<DequantizeOp> dequantizes;
  SmallVector<PackedMatmulOp> matmuls;
  module->walk([&](Operation *op) {
    if (auto c = dyn_cast<PackedConstantOp>(op))
      constants.push_back(c);
    else if (auto d = dyn_cast<DequantizeOp>(op))
      dequantizes.push_back(d);
    else if (auto m = dyn_cast<PackedMatmulOp>(op))
      matmuls.push_back(m);
  });

  OpBuilder b(&getContext());
  for (PackedMatmulOp op : matmuls) {
    b.setInsertionPoint(op);
    dequantizes.push_back(unfusePackedMatmul(b, op));
  }
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
