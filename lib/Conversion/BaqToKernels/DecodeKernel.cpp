//===- DecodeKernel.cpp - Fused unpack + dot-product kernel ---------------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::baq;
using namespace mlir::baq::kernels;

int64_t PackedKernels::autoSplit(int64_t v) const {
  if (config.kSplit > 0)
    return config.kSplit;
  if (config.targetThreads <= 0)
    return 1;
  int64_t rowThreads = ceilDiv(l.m, v);
  int64_t chunks = 0;
  for (const Seg &s : l.segs)
    chunks += s.count / 32;
  // Each thread keeps `unroll` chunks of loads in flight.
  int64_t split = ceilDiv(config.targetThreads,
                          rowThreads * std::max<int64_t>(1, config.unroll));
  // Keep at least two chunks per segment loop of a slice on average.
  split = std::min(split, std::max<int64_t>(1, chunks / 2));
  return std::clamp<int64_t>(split, 1, 64);
}

/// sums[s, r, piece] = sum of A[r, channel] over the codes of `piece` that
/// decode slice s handles: the same partition as decodeBody (head chunk to
/// slice piece % S, chunks [n s / S, n (s + 1) / S), tail chunk to slice
/// (piece + 1) % S). Activation-only, so computed once instead of per row.
Value PackedKernels::activationSums(Value a, int64_t split) {
  auto aType = cast<RankedTensorType>(a.getType());
  int64_t rows = aType.getDimSize(0);
  int64_t pieces = static_cast<int64_t>(l.pieces.size());
  ArrayRef<int32_t> perm = l.attr.getPerm();
  // Per piece: segment start (packed position), k0, k1, cStart, cStop.
  SmallVector<int32_t> start, k0s, k1s, cStops;
  for (const Piece &pc : l.pieces) {
    start.push_back(static_cast<int32_t>(l.segs[pc.seg].start));
    k0s.push_back(static_cast<int32_t>(pc.k0));
    k1s.push_back(static_cast<int32_t>(pc.k1));
    cStops.push_back(static_cast<int32_t>(l.loopStop(pc)));
  }
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{split, rows, pieces}, b.getF32Type());
  return buildNest(
      b, loc, "baq_activation_sums", init, {split, rows}, pieces,
      config.threadsPerBlock,
      {DimSpec::outer(0, 1), DimSpec::outer(1, 1), DimSpec::item(1)},
      [&](OpBuilder &nb, Location nl, ValueRange outer, Value item,
          Value slice) {
        Lanes e(nb, nl, 1);
        Value s = outer[0], r = outer[1];
        Value permT = i32Table(nb, nl, perm);
        auto entry = [&](ArrayRef<int32_t> table) -> Value {
          return arith::IndexCastOp::create(
              nb, nl, nb.getIndexType(),
              e.scalar(i32Table(nb, nl, table), {item}));
        };
        Value segStart = entry(start), k0 = entry(k0s), k1 = entry(k1s);
        Value c32 = e.index(32), zero = e.index(0);
        // cStart = ceil(k0 / 32), cStop = Layout::loopStop.
        Value cStart = arith::DivUIOp::create(nb, nl, e.add(k0, 31), c32);
        Value cStop = entry(cStops);
        auto owns = [&](Value owner) {
          Value o = arith::RemUIOp::create(nb, nl, owner, e.index(split));
          return arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, s, o)
              .getResult();
        };
        Value headOwner = owns(item), tailOwner = owns(e.add(item, 1));
        auto select = [&](Value c, Value x, Value y) {
          return arith::SelectOp::create(nb, nl, c, x, y).getResult();
        };
        Value single = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ugt,
                                             cStart, cStop);
        // Code ranges [lo, hi) of this slice: head, chunks, tail.
        Value headHi =
            select(single, k1, arith::MulIOp::create(nb, nl, cStart, c32));
        Value headLo = select(headOwner, k0, headHi);
        Value n =
            select(single, zero, arith::SubIOp::create(nb, nl, cStop, cStart));
        auto bound = [&](Value sl) -> Value {
          Value q = arith::DivUIOp::create(
              nb, nl, arith::MulIOp::create(nb, nl, sl, n), e.index(split));
          return arith::MulIOp::create(
              nb, nl, arith::AddIOp::create(nb, nl, cStart, q), c32);
        };
        Value chunkLo = bound(s), chunkHi = bound(e.add(s, 1));
        Value tailLo = arith::MulIOp::create(nb, nl, cStop, c32);
        Value tailHi =
            select(arith::AndIOp::create(
                       nb, nl, tailOwner,
                       arith::XOrIOp::create(
                           nb, nl, single,
                           arith::ConstantIntOp::create(nb, nl, 1, 1))),
                   k1, tailLo);
        Value sum = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0.0f));
        auto accumulate = [&](Value lo, Value hi) {
          auto loop = scf::ForOp::create(
              nb, nl, lo, hi, e.index(1), ValueRange{sum},
              [&](OpBuilder &lb, Location ll, Value k, ValueRange it) {
                Lanes le(lb, ll, 1);
                Value p = arith::AddIOp::create(lb, ll, segStart, k);
                Value ch = arith::IndexCastOp::create(lb, ll, lb.getIndexType(),
                                                      le.scalar(permT, {p}));
                Value x = le.toF32(le.scalar(a, {r, ch}));
                scf::YieldOp::create(
                    lb, ll,
                    ValueRange{arith::AddFOp::create(lb, ll, it[0], x)});
              });
          sum = loop.getResult(0);
        };
        accumulate(headLo, headHi);
        // Chunks exist only when the piece is not a single partial chunk.
        accumulate(select(single, zero, chunkLo),
                   select(single, zero, chunkHi));
        accumulate(tailLo, tailHi);
        Value z = e.index(0);
        return e.writeContig(sum, slice, {z, z, z});
      });
}

/// One decode item: V output rows [i0, i0 + V) of K slice s, all R
/// activation rows. With the grid w = (q - zp) * step of FORMAT.md §4,
///   y = sum_pieces step * (sum_{k in piece} q_k x_k - zp * sum_{k in piece}
///   x_k),
/// so scale and zero point are applied once per piece, not per weight.
Value PackedKernels::decodeBody(int64_t v, int64_t base, int64_t rows,
                                int64_t split, OpBuilder &nb, Location nl,
                                ValueRange outer, Value item, Value slice) {
  Lanes e(nb, nl, v);
  Value s = outer[0];
  Value i0 = e.add(arith::MulIOp::create(nb, nl, item, e.index(v)), base);
  Value words = payload(nb, nl);
  Value scaleT = scales(nb, nl);
  Value zeroT = zeros(nb, nl);
  Value xs = xsValue;
  int64_t acc = std::clamp<int64_t>(config.accumulators, 1,
                                    std::max<int64_t>(1, 8 / rows));
  Value zeroF = e.splatF32(0.0f);
  SmallVector<Value> total(rows, zeroF);

  // Code term, piece by piece (segment x group), each with code-specialised
  // chunk bodies.
  for (auto [pieceIndex, piece] : llvm::enumerate(l.pieces)) {
    const Seg &seg = l.segs[piece.seg];
    int bits = seg.bits;
    SmallVector<Value> accs(rows * acc, zeroF);

    auto onCodeInto = [&](Lanes &le, SmallVectorImpl<Value> &state) {
      return [&](int64_t k, Value qf, Value pos) {
        for (int64_t r = 0; r < rows; ++r) {
          Value x = le.broadcast(le.scalar(xs, {le.index(r), pos}));
          Value &a = state[r * acc + k % acc];
          a = le.fma(qf, x, a);
        }
      };
    };
    // Codes [lo, hi) of the segment at static positions (head or tail of
    // the piece), done by one slice only.
    auto partialChunk = [&](int64_t lo, int64_t hi, int64_t owner) {
      int64_t chunk = lo / 32;
      auto emit = [&](OpBuilder &pb, Location pl, SmallVectorImpl<Value> &st) {
        Lanes le(pb, pl, v);
        Value wordBase = le.index(seg.chunkWord(chunk));
        Value posBase = le.index(seg.padStart + chunk * 32);
        emitChunk(le, words, i0, seg, wordBase,
                  seg.bitOffset + chunk * 32 * bits, posBase, lo - chunk * 32,
                  hi - chunk * 32, true, onCodeInto(le, st));
      };
      if (split == 1) {
        emit(nb, nl, accs);
        return;
      }
      Value isOwner = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::eq, s,
                                            e.index(owner % split));
      auto ifOp = scf::IfOp::create(
          nb, nl, isOwner,
          [&](OpBuilder &tb, Location tl) {
            SmallVector<Value> st(accs);
            emit(tb, tl, st);
            scf::YieldOp::create(tb, tl, st);
          },
          [&](OpBuilder &eb, Location el) {
            scf::YieldOp::create(eb, el, accs);
          });
      accs.assign(ifOp.getResults().begin(), ifOp.getResults().end());
    };

    int64_t cStart = ceilDiv(piece.k0, 32), cStop = l.loopStop(piece);
    if (cStart > cStop) {
      partialChunk(piece.k0, piece.k1, pieceIndex);
    } else {
      if (piece.k0 % 32 != 0)
        partialChunk(piece.k0, cStart * 32, pieceIndex);
      int64_t n = cStop - cStart;
      if (n > 0) {
        Value lo, hi;
        if (split == 1) {
          lo = e.index(cStart);
          hi = e.index(cStop);
        } else {
          // Slice s takes chunks [n s / S, n (s + 1) / S).
          auto bound = [&](Value slice) {
            Value prod = arith::MulIOp::create(nb, nl, slice, e.index(n));
            return e.add(arith::DivUIOp::create(nb, nl, prod, e.index(split)),
                         cStart);
          };
          lo = bound(s);
          hi = bound(e.add(s, 1));
        }
        // `unroll` chunks per iteration, their words loaded before any is
        // used so that a GPU thread keeps unroll * bits loads in flight; the
        // remaining chunks one at a time.
        int64_t unroll = std::max<int64_t>(1, config.unroll);
        auto chunkLoop = [&](Value from, Value to, int64_t step) {
          auto loop = scf::ForOp::create(
              nb, nl, from, to, e.index(step), accs,
              [&](OpBuilder &lb, Location ll, Value c, ValueRange it) {
                Lanes le(lb, ll, v);
                SmallVector<Value> st(it.begin(), it.end());
                if (config.half2Decode) {
                  SmallVector<Value> first;
                  for (int64_t r = 0; r < rows; ++r)
                    first.push_back(st[r * acc]);
                  half2::emitChunks(lb, ll, constant(lb, ll, h2Payload),
                                    xhValue, i0, v, l.m, h2Segs[piece.seg], c,
                                    step, first);
                  for (int64_t r = 0; r < rows; ++r)
                    st[r * acc] = first[r];
                  scf::YieldOp::create(lb, ll, st);
                  return;
                }
                SmallVector<Value> wordBases, posBases;
                SmallVector<SmallVector<Value>> chunkWords;
                for (int64_t u = 0; u < step; ++u) {
                  Value cu = le.add(c, u);
                  wordBases.push_back(
                      le.add(arith::MulIOp::create(lb, ll, cu, le.index(bits)),
                             seg.chunkWord(0)));
                  posBases.push_back(
                      le.add(arith::MulIOp::create(lb, ll, cu, le.index(32)),
                             seg.padStart));
                  SmallVector<Value> ws;
                  for (int64_t j = 0; j < seg.chunkWords(); ++j) {
                    Value flat = arith::MulIOp::create(
                        lb, ll, le.add(wordBases[u], j), le.index(l.m));
                    ws.push_back(le.readContig(
                        words, {arith::AddIOp::create(lb, ll, flat, i0)}));
                  }
                  chunkWords.push_back(ws);
                }
                for (int64_t u = 0; u < step; ++u)
                  emitChunk(le, words, i0, seg, wordBases[u], -1, posBases[u],
                            0, 32, true, onCodeInto(le, st), chunkWords[u]);
                scf::YieldOp::create(lb, ll, st);
              });
          accs.assign(loop.getResults().begin(), loop.getResults().end());
        };
        if (unroll == 1) {
          chunkLoop(lo, hi, 1);
        } else {
          // mid = lo + (hi - lo) / U * U
          Value count = arith::SubIOp::create(nb, nl, hi, lo);
          Value whole = arith::MulIOp::create(
              nb, nl, arith::DivUIOp::create(nb, nl, count, e.index(unroll)),
              e.index(unroll));
          Value mid = arith::AddIOp::create(nb, nl, lo, whole);
          chunkLoop(lo, mid, unroll);
          chunkLoop(mid, hi, 1);
        }
      }
      if (cStop * 32 < piece.k1)
        partialChunk(cStop * 32, piece.k1, pieceIndex + 1);
    }

    auto [step, zeroPoint] =
        grid(e, scaleT, zeroT, i0, e.index(piece.group), bits);
    Value negZeroPoint = arith::NegFOp::create(nb, nl, zeroPoint);
    for (int64_t r = 0; r < rows; ++r) {
      Value sum = accs[r * acc];
      for (int64_t a = 1; a < acc; ++a)
        sum = arith::AddFOp::create(nb, nl, sum, accs[r * acc + a]);
      // This slice's share of sum x over the piece (activationSums).
      Value sumX = e.scalar(sumsValue, {s, e.index(r), e.index(pieceIndex)});
      Value codes = e.fma(negZeroPoint, e.broadcast(sumX), sum);
      total[r] = e.fma(step, codes, total[r]);
    }
  }

  Value z = e.index(0);
  for (int64_t r = 0; r < rows; ++r)
    slice = e.writeContig(total[r], slice, {z, e.index(r), z});
  return slice;
}

Value PackedKernels::gatherHalf2(Value a) {
  for (const Seg &s : l.segs)
    h2Segs.push_back({s.bits, s.start, s.padStart, l.loopChunks(s), 0});
  int64_t words = half2::assignWords(h2Segs);
  h2Payload =
      half2::repackPayload(l.attr, packed.constant.getPayload(), h2Segs, words);
  half2::PairSources src = half2::pairSources(l.attr, h2Segs, l.padded);
  int64_t rows = cast<RankedTensorType>(a.getType()).getDimSize(0);
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{rows, l.padded / 2}, b.getI32Type());
  return buildNest(
      b, loc, "baq_gather_half2", init, {rows}, l.padded / 2,
      config.threadsPerBlock, {DimSpec::outer(0, 1), DimSpec::item(1)},
      [&](OpBuilder &nb, Location nl, ValueRange outer, Value item,
          Value slice) {
        Value tables[] = {
            i32Table(nb, nl, src.channel[0]), i32Table(nb, nl, src.channel[1]),
            f32Table(nb, nl, src.factor[0]), f32Table(nb, nl, src.factor[1])};
        Value word = half2::gatherPairWord(nb, nl, a, outer[0], item, tables);
        Value z = arith::ConstantIndexOp::create(nb, nl, 0);
        return tensor::InsertOp::create(nb, nl, word, slice, ValueRange{z, z})
            .getResult();
      });
}

/// partial[s, r, i]: slice s's share of output (r, i), f32.
Value PackedKernels::decode(Value xs, Value xh, Value sums, int64_t rows) {
  int64_t v = decodeLanes();
  int64_t split = cast<RankedTensorType>(sums.getType()).getDimSize(0);
  xsValue = xs;
  xhValue = xh;
  sumsValue = sums;
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{split, rows, l.m}, b.getF32Type());
  return buildRowNests(
      b, loc, "baq_decode", init, {split}, l.m, v, config.threadsPerBlock,
      [&](int64_t lanes, int64_t base) {
        return SmallVector<DimSpec>{DimSpec::outer(0, 1), DimSpec::full(rows),
                                    DimSpec::item(lanes, base)};
      },
      [&](int64_t lanes, int64_t base, OpBuilder &nb, Location nl,
          ValueRange outer, Value item, Value slice) {
        return decodeBody(lanes, base, rows, split, nb, nl, outer, item, slice);
      });
}

/// out[r, i] = C[r, i] + sum_s partial[s, r, i], in C's element type.
Value PackedKernels::finalize(Value partial, Value c) {
  auto cType = cast<RankedTensorType>(c.getType());
  int64_t rows = cType.getDimSize(0);
  int64_t split = cast<RankedTensorType>(partial.getType()).getDimSize(0);
  Type elem = cType.getElementType();
  return buildRowNests(
      b, loc, "baq_finalize", c, {rows}, l.m, config.rowsPerThread,
      config.threadsPerBlock,
      [&](int64_t lanes, int64_t base) {
        return SmallVector<DimSpec>{DimSpec::outer(0, 1),
                                    DimSpec::item(lanes, base)};
      },
      [&](int64_t lanes, int64_t base, OpBuilder &nb, Location nl,
          ValueRange outer, Value item, Value slice) {
        Lanes e(nb, nl, lanes);
        Value i0 = e.firstRow(item, base);
        Value z = e.index(0);
        Value sum = e.toF32(e.readContig(slice, {z, z}));
        for (int64_t s = 0; s < split; ++s)
          sum = arith::AddFOp::create(
              nb, nl, sum, e.readContig(partial, {e.index(s), outer[0], i0}));
        return e.writeContig(e.fromF32(sum, elem), slice, {z, z});
      });
}
