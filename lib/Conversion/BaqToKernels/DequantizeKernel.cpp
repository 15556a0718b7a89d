//===- DequantizeKernel.cpp - Dequantize and scatter nests ----------------===//

#include "KernelBuilder.h"

using namespace mlir;
using namespace mlir::baq;
using namespace mlir::baq::kernels;

/// Codes [0, codes) of chunk `c` (static `chunk` when >= 0, then the codes
/// may reach into the row's tail) of rows [i0, i0 + V), dequantized as
/// w = (q - zp) * step (FORMAT.md §4) and handed to `onWeight` with their
/// index in the chunk; indices [codes, ceil(codes / 32) * 32) get 0.
void PackedKernels::dequantizeChunk(
    Lanes &e, Value i0, const Seg &seg, Value c, int64_t chunk, int64_t codes,
    function_ref<void(int64_t, Value)> onWeight) {
  OpBuilder &nb = e.b;
  Location nl = e.loc;
  int bits = seg.bits;
  Value words = payload(nb, nl);
  Value scaleT = scales(nb, nl), zeroT = zeros(nb, nl);
  Value wordBase =
      e.add(arith::MulIOp::create(nb, nl, c, e.index(bits)), seg.chunkWord(0));
  // Unpadded packed position of code 0 of the chunk (for groups).
  Value posBase =
      e.add(arith::MulIOp::create(nb, nl, c, e.index(32)), seg.start);
  // (step, zero point) of a group.
  auto gridOf = [&](Value group) {
    return grid(e, scaleT, zeroT, i0, group, bits);
  };
  GridValues fixed;
  if (l.groupSize <= 0)
    fixed = gridOf(e.index(0));
  emitChunk(e, words, i0, seg, wordBase,
            chunk < 0 ? -1 : seg.bitOffset + chunk * 32 * bits, posBase, 0,
            codes, false, [&](int64_t k, Value qf, Value pos) {
              GridValues g = fixed;
              if (l.groupSize > 0)
                g = gridOf(
                    arith::DivUIOp::create(nb, nl, pos, e.index(l.groupSize)));
              onWeight(k, buildDequantizedWeight(nb, nl, qf, g));
            });
  if (codes % 32 != 0) {
    Value zero = e.splatF32(0.0f);
    for (int64_t k = codes, e32 = ceilDiv(codes, 32) * 32; k < e32; ++k)
      onWeight(k, zero);
  }
}

/// Dequantized weights in padded packed order, [padded x M] of `elem`;
/// padding positions are 0. w = (q - zp) * step, as FORMAT.md §4.
Value PackedKernels::dequantizePacked(Type elem) {
  Value result =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{l.padded, l.m}, elem);
  for (const Seg &seg : l.segs) {
    // Chunks in the row's full words run in parallel; the rest (a partial
    // chunk, chunks reaching into the row's tail) has static positions.
    int64_t full = l.loopChunks(seg), tail = seg.count - 32 * full;
    // chunk < 0: the chunk is the outer iv; else fixed (tail) chunks.
    auto body = [&](int64_t chunk, int64_t codes, int64_t lanes, int64_t base,
                    OpBuilder &nb, Location nl, ValueRange outer, Value item,
                    Value slice) {
      Lanes e(nb, nl, lanes);
      Value i0 = e.firstRow(item, base);
      Value c = chunk < 0 ? outer[0] : e.index(chunk);
      Value z0 = e.index(0);
      dequantizeChunk(e, i0, seg, c, chunk, codes, [&](int64_t k, Value w) {
        slice = e.writeContig(e.fromF32(w, elem), slice, {e.index(k), z0});
      });
      return slice;
    };
    if (full > 0)
      result = buildRowNests(
          b, loc, "baq_dequantize", result, {full}, l.m, config.rowsPerThread,
          config.threadsPerBlock,
          [&](int64_t lanes, int64_t base) {
            return SmallVector<DimSpec>{DimSpec::outer(0, 32, seg.padStart),
                                        DimSpec::item(lanes, base)};
          },
          [&](int64_t lanes, int64_t base, OpBuilder &nb, Location nl,
              ValueRange outer, Value item, Value slice) {
            return body(-1, 32, lanes, base, nb, nl, outer, item, slice);
          });
    if (tail > 0)
      result = buildRowNests(
          b, loc, "baq_dequantize_tail", result, {}, l.m, config.rowsPerThread,
          config.threadsPerBlock,
          [&](int64_t lanes, int64_t base) {
            return SmallVector<DimSpec>{
                DimSpec::full(ceilDiv(tail, 32) * 32, seg.padStart + 32 * full),
                DimSpec::item(lanes, base)};
          },
          [&](int64_t lanes, int64_t base, OpBuilder &nb, Location nl,
              ValueRange outer, Value item, Value slice) {
            return body(full, tail, lanes, base, nb, nl, outer, item, slice);
          });
  }
  return result;
}

/// The dequantized weight in the op's layout ([N, M] or [M, N]) from the
/// padded packed one; 0-bit channels are 0.
Value PackedKernels::scatter(Value weights, RankedTensorType resultType) {
  SmallVector<int32_t> padPos(l.n, -1);
  ArrayRef<int32_t> perm = l.attr.getPerm();
  for (const Seg &s : l.segs)
    for (int64_t k = 0; k < s.count; ++k)
      padPos[perm[s.start + k]] = s.padStart + k;
  Type elem = resultType.getElementType();
  Value init = tensor::EmptyOp::create(b, loc, resultType.getShape(), elem);
  auto lookup = [&](OpBuilder &nb, Location nl, Value channel) {
    Lanes e(nb, nl, 1);
    Value pp = e.scalar(i32Table(nb, nl, padPos), {channel});
    Value zero32 = arith::ConstantIntOp::create(nb, nl, 0, 32);
    Value valid =
        arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sge, pp, zero32);
    Value safe = arith::SelectOp::create(nb, nl, valid, pp, zero32);
    return std::make_pair(
        valid, arith::IndexCastOp::create(nb, nl, nb.getIndexType(), safe)
                   .getResult());
  };
  if (l.attr.getChannelDim() == 0)
    return buildRowNests(
        b, loc, "baq_scatter", init, {l.n}, l.m, config.rowsPerThread,
        config.threadsPerBlock,
        [&](int64_t lanes, int64_t base) {
          return SmallVector<DimSpec>{DimSpec::outer(0, 1),
                                      DimSpec::item(lanes, base)};
        },
        [&](int64_t lanes, int64_t base, OpBuilder &nb, Location nl,
            ValueRange outer, Value item, Value slice) {
          Lanes e(nb, nl, lanes);
          Value i0 = e.firstRow(item, base);
          auto [valid, pp] = lookup(nb, nl, outer[0]);
          Value w = e.readContig(weights, {pp, i0});
          Value zero = arith::ConstantOp::create(
              nb, nl, cast<TypedAttr>(nb.getZeroAttr(w.getType())));
          Value v = arith::SelectOp::create(nb, nl, valid, w, zero);
          Value z = e.index(0);
          return e.writeContig(v, slice, {z, z});
        });
  return buildNest(b, loc, "baq_scatter", init, {l.m}, l.n,
                   config.threadsPerBlock,
                   {DimSpec::outer(0, 1), DimSpec::item(1)},
                   [&](OpBuilder &nb, Location nl, ValueRange outer, Value item,
                       Value slice) {
                     Lanes e(nb, nl, 1);
                     auto [valid, pp] = lookup(nb, nl, item);
                     Value w = e.scalar(weights, {pp, outer[0]});
                     Value zero = arith::ConstantOp::create(
                         nb, nl, cast<TypedAttr>(nb.getZeroAttr(w.getType())));
                     Value v = arith::SelectOp::create(nb, nl, valid, w, zero);
                     Value z = e.index(0);
                     return e.writeContig(v, slice, {z, z});
                   });
}
