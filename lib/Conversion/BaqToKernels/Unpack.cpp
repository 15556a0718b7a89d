//===- Unpack.cpp - Code extraction, grid and activation gather -----------===//

#include "KernelBuilder.h"

#include "llvm/ADT/DenseMap.h"

#include <cmath>

using namespace mlir;
using namespace mlir::baq;
using namespace mlir::baq::kernels;

template <typename OpTy> static PackedSource getPackedSourceOf(OpTy op) {
  Operation *source = op.getPayload().getDefiningOp();
  if (!isa_and_nonnull<PackedConstantOp, PackedParameterOp>(source) ||
      op.getScales().getDefiningOp() != source ||
      op.getZeros().getDefiningOp() != source)
    return {};
  PackedSource packed;
  packed.constant = dyn_cast<PackedConstantOp>(source);
  packed.layout = packed.constant ? packed.constant.getLayout()
                                  : cast<PackedParameterOp>(source).getLayout();
  if (packed.layout != op.getLayout())
    return {};
  packed.op = source;
  packed.payload = op.getPayload();
  packed.scales = op.getScales();
  packed.zeros = op.getZeros();
  return packed;
}

PackedSource mlir::baq::kernels::getPackedSource(DequantizeOp dequant) {
  return getPackedSourceOf(dequant);
}

PackedSource mlir::baq::kernels::getPackedSource(PackedMatmulOp op) {
  return getPackedSourceOf(op);
}

/// xs[r, pp] = A[r, perm[p]] * 2^-activationShift (0 in the padding), f32.
Value PackedKernels::gather(Value a, bool scaled) {
  auto aType = cast<RankedTensorType>(a.getType());
  int64_t rows = aType.getDimSize(0);
  ArrayRef<int32_t> perm = l.attr.getPerm();
  SmallVector<int32_t> source(l.padded, -1);
  SmallVector<float> factor(l.padded, 0.0f);
  for (const Seg &s : l.segs)
    for (int64_t k = 0; k < s.count; ++k) {
      source[s.padStart + k] = perm[s.start + k];
      factor[s.padStart + k] =
          scaled
              ? std::ldexp(1.0f, -activationShift(l, s, k, config.magicUnpack))
              : 1.0f;
    }
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{rows, l.padded}, b.getF32Type());
  return buildNest(
      b, loc, "baq_gather", init, {rows}, l.padded, config.threadsPerBlock,
      {DimSpec::outer(0, 1), DimSpec::item(1)},
      [&](OpBuilder &nb, Location nl, ValueRange outer, Value item,
          Value slice) {
        Lanes e(nb, nl, 1);
        Value src = e.scalar(i32Table(nb, nl, source), {item});
        Value fac = e.scalar(f32Table(nb, nl, factor), {item});
        Value zero32 = arith::ConstantIntOp::create(nb, nl, 0, 32);
        Value valid = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sge,
                                            src, zero32);
        Value safe = arith::SelectOp::create(nb, nl, valid, src, zero32);
        Value col = arith::IndexCastOp::create(nb, nl, nb.getIndexType(), safe);
        Value x = e.toF32(e.scalar(a, {outer[0], col}));
        Value scaledX = arith::MulFOp::create(nb, nl, x, fac);
        Value value =
            arith::SelectOp::create(nb, nl, valid, scaledX, e.splatF32(0.0f));
        Value z = e.index(0);
        return e.writeContig(value, slice, {z, z});
      });
}

GridValues PackedKernels::grid(Lanes &e, Value scaleT, Value zeroT, Value i0,
                               Value group, int bits) {
  Value levels = e.splatF32(static_cast<float>((1u << bits) - 1u));
  Value scale = buildScale(e.b, e.loc, e.readColumn(scaleT, i0, group));
  Value zero = buildZero(e.b, e.loc, scale, e.readColumn(zeroT, i0, group));
  return buildGrid(e.b, e.loc, scale, zero, levels, GridRounding::Magic);
}

/// Emits codes [lo, hi) of the chunk whose first row-interleaved word is
/// `wordBase` and whose first padded position is `posBase` (hi may pass 32:
/// codes continue into the next chunk), calling `onCode` with the code as
/// float lanes: q, or q * 2^activationShift if `scaled`. `chunkBit` is the
/// chunk's first row stream bit when `wordBase` is static, else -1 (then no
/// code of the chunk reaches into the tail).
void PackedKernels::emitChunk(Lanes &e, Value words, Value row, const Seg &seg,
                              Value wordBase, int64_t chunkBit, Value posBase,
                              int64_t lo, int64_t hi, bool scaled,
                              CodeFn onCode, ArrayRef<Value> preloaded) {
  OpBuilder &nb = e.b;
  Location nl = e.loc;
  const int bits = seg.bits;
  llvm::SmallDenseMap<int64_t, Value> loaded;
  auto word = [&](int64_t j) {
    if (!preloaded.empty())
      return preloaded[j];
    Value &w = loaded[j];
    if (!w) {
      Value flat =
          arith::MulIOp::create(nb, nl, e.add(wordBase, j), e.index(l.m));
      w = e.readContig(words, {arith::AddIOp::create(nb, nl, flat, row)});
    }
    return w;
  };
  bool magic = config.magicUnpack;
  for (int64_t k = lo; k < hi; ++k) {
    int64_t bit = seg.bitBase() + k * bits;
    int64_t j = bit / 32;
    int shift = static_cast<int>(bit % 32);
    if (chunkBit >= 0 && l.inTail(chunkBit + k * bits, bits)) {
      // FORMAT.md §3: the code's low bits may end the row's last full word,
      // the rest lies in the row's tail.
      int64_t t = chunkBit + k * bits;
      int inMain = static_cast<int>(std::max<int64_t>(0, 32 * l.fullWords - t));
      Value q =
          tailBits(e, words, row, t + inMain - 32 * l.fullWords, bits - inMain);
      if (inMain > 0)
        q = arith::OrIOp::create(
            nb, nl, arith::ShRUIOp::create(nb, nl, word(j), e.splatI32(shift)),
            arith::ShLIOp::create(nb, nl, q, e.splatI32(inMain)));
      onCode(k, codeToFloat(e, q, magic), e.add(posBase, k));
      continue;
    }
    Value q = extractCode(e, word, j, shift, bits, scaled, magic);
    onCode(k, codeToFloat(e, q, magic), e.add(posBase, k));
  }
}

Value mlir::baq::kernels::codeToFloat(Lanes &e, Value q, bool magic) {
  Type ft = e.lanes(e.f32());
  if (!magic)
    return arith::SIToFPOp::create(e.b, e.loc, ft, q);
  // q < 2^23: OR it into the mantissa of 2^23, then subtract 2^23.
  Value biased = arith::OrIOp::create(e.b, e.loc, q, e.splatI32(0x4B000000u));
  Value f = arith::BitcastOp::create(e.b, e.loc, ft, biased);
  return arith::SubFOp::create(e.b, e.loc, f, e.splatF32(8388608.0f));
}

Value mlir::baq::kernels::extractCode(Lanes &e,
                                      function_ref<Value(int64_t)> word,
                                      int64_t j, int shift, int bits,
                                      bool scaled, bool magic) {
  OpBuilder &nb = e.b;
  Location nl = e.loc;
  const uint32_t mask = (1u << bits) - 1u;
  int inPlace = scaled ? inPlaceShift(bits, shift, magic) : 0;
  if (inPlace > 0)
    return arith::AndIOp::create(nb, nl, word(j), e.splatI32(mask << shift));
  if (shift + bits > 32) {
    Value low = arith::ShRUIOp::create(nb, nl, word(j), e.splatI32(shift));
    Value high =
        arith::ShLIOp::create(nb, nl, word(j + 1), e.splatI32(32 - shift));
    return arith::AndIOp::create(
        nb, nl, arith::OrIOp::create(nb, nl, low, high), e.splatI32(mask));
  }
  if (shift + bits == 32)
    return arith::ShRUIOp::create(nb, nl, word(j), e.splatI32(shift));
  if (shift == 0)
    return arith::AndIOp::create(nb, nl, word(j), e.splatI32(mask));
  return arith::AndIOp::create(
      nb, nl, arith::ShRUIOp::create(nb, nl, word(j), e.splatI32(shift)),
      e.splatI32(mask));
}

Value PackedKernels::tailBits(Lanes &e, Value words, Value row, int64_t offset,
                              int count) {
  OpBuilder &nb = e.b;
  Location nl = e.loc;
  Type i64 = nb.getI64Type(), i32 = nb.getI32Type();
  SmallVector<Value> lanes;
  for (int64_t v = 0; v < e.v; ++v) {
    // Tail bit u = row * r + offset is bit u mod 32 of flat word F M + u / 32;
    // the two words as one i64 cover a piece that straddles them (the second
    // index is clamped: a piece in the last word does not use it).
    Value u =
        e.add(arith::MulIOp::create(nb, nl, e.add(row, v), e.index(l.tailBits)),
              offset);
    Value w0 = e.add(arith::DivUIOp::create(nb, nl, u, e.index(32)),
                     l.fullWords * l.m);
    Value w1 = arith::MinUIOp::create(nb, nl, e.add(w0, 1),
                                      e.index(l.payloadWords - 1));
    Value shift = arith::IndexCastOp::create(
        nb, nl, i64, arith::RemUIOp::create(nb, nl, u, e.index(32)));
    Value piece = buildBitField(
        nb, nl, tensor::ExtractOp::create(nb, nl, words, w0),
        tensor::ExtractOp::create(nb, nl, words, w1), shift,
        arith::ConstantIntOp::create(nb, nl, i64, (int64_t{1} << count) - 1));
    lanes.push_back(arith::TruncIOp::create(nb, nl, i32, piece));
  }
  if (e.v == 1)
    return lanes.front();
  return vector::FromElementsOp::create(nb, nl, VectorType::get({e.v}, i32),
                                        lanes);
}
