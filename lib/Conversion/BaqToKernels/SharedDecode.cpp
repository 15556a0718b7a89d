//===- SharedDecode.cpp - Decode kernels shared by equal shapes -----------===//
//
// The specialised decode kernel (DecodeKernel.cpp) compiles its matrix's
// layout into the code: static shifts per segment, the row tail unrolled per
// row. Here one kernel function serves every matrix of a shape class (M, N,
// activation rows, group size, element types, configuration) and reads the
// layout at run time from three small tables:
//
//   pieces  [numPieces, F, r, 0, then per piece: bits, bitStart, count,
//            padStart, group, fastChunks, 0, 0]   (a piece = segment x group)
//   source  padded position -> input channel (-1 in the padding)
//   factor  padded position -> 2^-inPlaceShift of its code
//
// A chunk is the next 32 codes of a piece, starting at any stream bit t: its
// b + 1 row-interleaved words are realigned by t mod 32 with one run-time
// funnel shift each, after which every code sits at the static position it
// has in a word-aligned b-bit stream, and the per-bitwidth chunk body
// (emitted once per bitwidth, chosen by scf.index_switch) extracts it with
// static shifts. Codes past a piece's end meet activation 0 (padding). The
// row tail (FORMAT.md §3) is read as a virtual word F of each row,
// synthesised from the tail stream (row i's at tail bit i * r), by a slow
// copy of the chunk body used only for the chunks that reach word F.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/SymbolTable.h"

#include <cmath>

using namespace mlir;
using namespace mlir::baq;
using namespace mlir::baq::kernels;

namespace {

constexpr int64_t kHeader = 4;
constexpr int64_t kPieceFields = 8;
enum PieceField { Bits, BitStart, Count, PadStart, Group, FastChunks };

/// Bounds of the tables for a shape class: pieces are segments (at most 8
/// bitwidths) cut by groups, each padded to whole chunks.
struct SharedShape {
  int64_t m, n, rows, groupSize, maxPieces, maxPadded;

  explicit SharedShape(PackedLayoutAttr attr, int64_t rows)
      : m(attr.getOutputs()), n(attr.getInputs()), rows(rows),
        groupSize(attr.getGroupSize()) {
    int64_t groups = groupSize > 0 ? ceilDiv(n, groupSize) : 1;
    maxPieces = 8 + groups - 1;
    maxPadded = n + 31 * maxPieces;
  }
};

struct SharedTables {
  SmallVector<int32_t> pieces, source;
  SmallVector<float> factor;
};

} // namespace

/// The run-time description of `l` (file comment).
static SharedTables buildTables(const Layout &l, const SharedShape &shape,
                                bool magic) {
  SharedTables t;
  t.pieces.assign(kHeader + kPieceFields * shape.maxPieces, 0);
  t.source.assign(shape.maxPadded, -1);
  t.factor.assign(shape.maxPadded, 0.0f);
  t.pieces[0] = static_cast<int32_t>(l.pieces.size());
  t.pieces[1] = static_cast<int32_t>(l.fullWords);
  t.pieces[2] = static_cast<int32_t>(l.tailBits);
  ArrayRef<int32_t> perm = l.attr.getPerm();
  int64_t pad = 0;
  for (auto [index, piece] : llvm::enumerate(l.pieces)) {
    const Seg &seg = l.segs[piece.seg];
    int bits = seg.bits;
    int64_t count = piece.k1 - piece.k0;
    int64_t bitStart = seg.bitOffset + piece.k0 * bits;
    int64_t chunks = ceilDiv(count, 32);
    // Chunk c loads words [w0 + b c, w0 + b c + b]: fast while all of them
    // are full words (< F).
    int64_t room = l.fullWords - bits - bitStart / 32;
    int64_t fast = room <= 0 ? 0 : std::min(chunks, ceilDiv(room, bits));
    int32_t *e = &t.pieces[kHeader + kPieceFields * index];
    e[Bits] = bits;
    e[BitStart] = static_cast<int32_t>(bitStart);
    e[Count] = static_cast<int32_t>(count);
    e[PadStart] = static_cast<int32_t>(pad);
    e[Group] = static_cast<int32_t>(piece.group);
    e[FastChunks] = static_cast<int32_t>(fast);
    for (int64_t k = 0; k < count; ++k) {
      t.source[pad + k] = perm[seg.start + piece.k0 + k];
      int shift = static_cast<int>((k % 32) * bits % 32);
      t.factor[pad + k] = std::ldexp(1.0f, -inPlaceShift(bits, shift, magic));
    }
    pad += chunks * 32;
  }
  t.pieces[3] = static_cast<int32_t>(pad);
  assert(static_cast<int64_t>(l.pieces.size()) <= shape.maxPieces &&
         pad <= shape.maxPadded && "table bounds");
  return t;
}

static std::string typeName(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

bool mlir::baq::hasSharedDecodeKernel(const KernelConfig &config) {
  return config.sharedKernels && !config.half2Decode && config.kSplit == 1 &&
         config.unroll == 1;
}

bool mlir::baq::hasSharedTiledKernel(const KernelConfig &config) {
  return config.sharedKernels && config.panelTiled;
}

namespace {

/// Emits the body of one shared decode kernel function.
class SharedDecodeBuilder {
public:
  SharedDecodeBuilder(OpBuilder &b, Location loc, const SharedShape &shape,
                      const KernelConfig &config)
      : b(b), loc(loc), shape(shape), config(config) {}

  /// Returns C + A W^T for the function's arguments
  /// (a, payload, scales, zeros, pieces, source, factor, c).
  Value build(ValueRange args);
  /// The tiled (prefill) form: arguments (a, payload, scales, zeros,
  /// pieces, source, c).
  Value buildTiled(ValueRange args);

private:
  /// factor: null for the unscaled activations of the tiled kernel.
  Value gather(Value a, Value source, Value factor);
  Value sums(Value a, Value source, Value pieces);
  Value decodeBody(int64_t v, int64_t base, OpBuilder &nb, Location nl,
                   Value item, Value slice);
  Value tiledBody(int64_t v, int64_t base, OpBuilder &nb, Location nl,
                  Value item, Value slice);
  /// Per-row code sums sum_k q_k xs_k over a piece's chunks, `bits` static.
  SmallVector<Value> pieceCodeSums(Lanes &e, int bits, Value i0, Value bitStart,
                                   Value padStart, Value fast, Value chunks);
  /// The piece's chunks dequantized into `panel` at their padded positions.
  Value dequantizePiece(Lanes &e, int bits, Value i0, Value bitStart,
                        Value padStart, Value fast, Value chunks,
                        const GridValues &grid, Value panel);
  /// The header fields (numPieces, F, r, padded) and the per-thread state.
  void readHeader(Lanes &e);
  /// Fields of piece `p`: bits (i32), then bitStart, count, padStart, group,
  /// fast chunks, chunks (index).
  struct PieceFields {
    Value bits32, bitStart, count, padStart, group, fast, chunks;
  };
  PieceFields readPiece(Lanes &e, Value p);
  /// Marks the nests ending in `result` with their work (kKernelWorkAttr).
  void setWork(Value result);
  /// Sets tailWord for the piece (zeros unless its chunks reach word F).
  void pieceTailWord(Lanes &e, Value i0, const PieceFields &f);
  /// scf.index_switch on the piece's bitwidth, 1..8, `caseBody(bits)`
  /// yielding `types`; the default (0 bits: never a piece) yields `other`.
  scf::IndexSwitchOp
  switchOnBits(Lanes &e, Value bits32, TypeRange types, ValueRange other,
               function_ref<SmallVector<Value>(Lanes &, int)> caseBody);
  /// Runs body(c, state, slow) over the piece's chunks [0, chunks): the
  /// fast ones (words all full) then the slow ones; returns the state.
  SmallVector<Value>
  chunkLoops(Lanes &e, Value fast, Value chunks, ValueRange init,
             function_ref<void(Lanes &, Value c, bool slow,
                               SmallVectorImpl<Value> &state)>
                 body);
  /// The `bits` words of a piece's chunk `c`, realigned so that its code k
  /// is at bit k * bits of the word-aligned stream.
  SmallVector<Value> chunkWords(Lanes &e, int bits, Value i0, Value bitStart,
                                Value c, bool slow);

  OpBuilder &b;
  Location loc;
  const SharedShape &shape;
  const KernelConfig &config;
  /// Word F of rows [i0, i0 + V): their r tail bits (tail bit row * r).
  Value buildTailWord(Lanes &e, Value i0);

  Value payload, scales, zeros, pieces, xs, xsums;
  // Per thread: #pieces, F, r, padded positions, payload words, the tail
  // word of its rows.
  Value numPieces, fullWords, tailBits, paddedEnd, payloadWords, tailWord;
  int64_t acc = 1;
};

} // namespace

static Value toIndex(OpBuilder &b, Location loc, Value i32) {
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), i32);
}

/// xs[r, p] = A[r, source[p]] * factor[p], 0 in the padding, f32.
Value SharedDecodeBuilder::gather(Value a, Value source, Value factor) {
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{shape.rows, shape.maxPadded}, b.getF32Type());
  return buildNest(
      b, loc, "baq_gather", init, {shape.rows}, shape.maxPadded,
      config.threadsPerBlock, {DimSpec::outer(0, 1), DimSpec::item(1)},
      [&](OpBuilder &nb, Location nl, ValueRange outer, Value item,
          Value slice) {
        Lanes e(nb, nl, 1);
        Value src = e.scalar(source, {item});
        Value zero32 = arith::ConstantIntOp::create(nb, nl, 0, 32);
        Value valid = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::sge,
                                            src, zero32);
        Value safe = arith::SelectOp::create(nb, nl, valid, src, zero32);
        Value x = e.toF32(e.scalar(a, {outer[0], toIndex(nb, nl, safe)}));
        Value scaled =
            factor ? arith::MulFOp::create(nb, nl, x, e.scalar(factor, {item}))
                   : x;
        Value value =
            arith::SelectOp::create(nb, nl, valid, scaled, e.splatF32(0.0f));
        Value z = e.index(0);
        return e.writeContig(value, slice, {z, z});
      });
}

/// sums[r, piece] = sum of A[r, channel] over the piece's codes, in code
/// order (the zero-point term); 0 for unused table entries.
Value SharedDecodeBuilder::sums(Value a, Value source, Value pieceTable) {
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{shape.rows, shape.maxPieces}, b.getF32Type());
  return buildNest(
      b, loc, "baq_activation_sums", init, {shape.rows}, shape.maxPieces,
      config.threadsPerBlock, {DimSpec::outer(0, 1), DimSpec::item(1)},
      [&](OpBuilder &nb, Location nl, ValueRange outer, Value item,
          Value slice) {
        Lanes e(nb, nl, 1);
        auto field = [&](int f) {
          Value at =
              e.add(arith::MulIOp::create(nb, nl, item, e.index(kPieceFields)),
                    kHeader + f);
          return toIndex(nb, nl, e.scalar(pieceTable, {at}));
        };
        Value lo = field(PadStart);
        Value hi = arith::AddIOp::create(nb, nl, lo, field(Count));
        Value zero = arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(0));
        auto loop = scf::ForOp::create(
            nb, nl, lo, hi, e.index(1), ValueRange{zero},
            [&](OpBuilder &lb, Location ll, Value p, ValueRange it) {
              Lanes le(lb, ll, 1);
              Value ch = toIndex(lb, ll, le.scalar(source, {p}));
              Value x = le.toF32(le.scalar(a, {outer[0], ch}));
              scf::YieldOp::create(
                  lb, ll, ValueRange{arith::AddFOp::create(lb, ll, it[0], x)});
            });
        Value z = e.index(0);
        return e.writeContig(loop.getResult(0), slice, {z, z});
      });
}

SmallVector<Value> SharedDecodeBuilder::chunkWords(Lanes &e, int bits, Value i0,
                                                   Value bitStart, Value c,
                                                   bool slow) {
  OpBuilder &lb = e.b;
  Location ll = e.loc;
  int64_t v = e.v;
  Value c32 = e.index(32);
  Value word0 = arith::DivUIOp::create(lb, ll, bitStart, c32);
  // Realignment by o = bitStart mod 32 (the same for every chunk of the
  // piece): word j is the funnel shift fshr(w_{j+1}, w_j, o), one
  // instruction with AVX-512 VBMI2 (vpshrdvd) where shifts, a shift by one
  // (no shift by 32 when o = 0) and an OR took four.
  Value shr = e.broadcast(arith::IndexCastOp::create(
      lb, ll, lb.getI32Type(), arith::RemUIOp::create(lb, ll, bitStart, c32)));
  Value wordBase = arith::AddIOp::create(
      lb, ll, word0, arith::MulIOp::create(lb, ll, c, e.index(bits)));
  auto fullWord = [&](OpBuilder &wb, Location wl, Value w) -> Value {
    Lanes we(wb, wl, v);
    Value flat = arith::MulIOp::create(wb, wl, w, we.index(shape.m));
    return we.readContig(payload, {arith::AddIOp::create(wb, wl, flat, i0)});
  };
  // Any word of a row's stream: full, the tail as word F, or 0.
  auto anyWord = [&](Value w) -> Value {
    Value isFull =
        arith::CmpIOp::create(lb, ll, arith::CmpIPredicate::ult, w, fullWords);
    auto ifFull = scf::IfOp::create(
        lb, ll, isFull,
        [&](OpBuilder &tb, Location tl) {
          scf::YieldOp::create(tb, tl, fullWord(tb, tl, w));
        },
        [&](OpBuilder &eb, Location el) {
          Lanes ee(eb, el, v);
          Value isTail = arith::CmpIOp::create(eb, el, arith::CmpIPredicate::eq,
                                               w, fullWords);
          scf::YieldOp::create(eb, el,
                               ValueRange{arith::SelectOp::create(
                                   eb, el, isTail, tailWord, ee.splatI32(0))});
        });
    return ifFull.getResult(0);
  };
  SmallVector<Value> raw;
  for (int64_t j = 0; j <= bits; ++j) {
    Value w = e.add(wordBase, j);
    raw.push_back(slow ? anyWord(w) : fullWord(lb, ll, w));
  }
  SmallVector<Value> aligned;
  for (int64_t j = 0; j < bits; ++j)
    aligned.push_back(LLVM::FshrOp::create(lb, ll, raw[j + 1], raw[j], shr));
  return aligned;
}

SmallVector<Value> SharedDecodeBuilder::chunkLoops(
    Lanes &e, Value fast, Value chunks, ValueRange init,
    function_ref<void(Lanes &, Value, bool, SmallVectorImpl<Value> &)> body) {
  SmallVector<Value> state(init.begin(), init.end());
  auto loop = [&](Value from, Value to, bool slow) {
    auto forOp = scf::ForOp::create(
        e.b, e.loc, from, to, e.index(1), state,
        [&](OpBuilder &lb, Location ll, Value c, ValueRange it) {
          Lanes le(lb, ll, e.v);
          SmallVector<Value> st(it.begin(), it.end());
          body(le, c, slow, st);
          scf::YieldOp::create(lb, ll, st);
        });
    state.assign(forOp.getResults().begin(), forOp.getResults().end());
  };
  loop(e.index(0), fast, /*slow=*/false);
  loop(fast, chunks, /*slow=*/true);
  return state;
}

SmallVector<Value>
SharedDecodeBuilder::pieceCodeSums(Lanes &e, int bits, Value i0, Value bitStart,
                                   Value padStart, Value fast, Value chunks) {
  int64_t rows = shape.rows;
  SmallVector<Value> accs(rows * acc, e.splatF32(0.0f));
  accs = chunkLoops(
      e, fast, chunks, accs,
      [&](Lanes &le, Value c, bool slow, SmallVectorImpl<Value> &st) {
        SmallVector<Value> aligned =
            chunkWords(le, bits, i0, bitStart, c, slow);
        Value posBase = arith::AddIOp::create(
            le.b, le.loc, padStart,
            arith::MulIOp::create(le.b, le.loc, c, le.index(32)));
        auto word = [&](int64_t j) { return aligned[j]; };
        for (int64_t k = 0; k < 32; ++k) {
          int64_t bit = k * bits;
          Value q = extractCode(le, word, bit / 32, static_cast<int>(bit % 32),
                                bits, /*scaled=*/true, config.magicUnpack);
          Value qf = codeToFloat(le, q, config.magicUnpack);
          Value pos = le.add(posBase, k);
          for (int64_t r = 0; r < rows; ++r) {
            Value x = le.broadcast(le.scalar(xs, {le.index(r), pos}));
            Value &a = st[r * acc + k % acc];
            a = le.fma(qf, x, a);
          }
        }
      });
  SmallVector<Value> sums;
  for (int64_t r = 0; r < rows; ++r) {
    Value sum = accs[r * acc];
    for (int64_t a = 1; a < acc; ++a)
      sum = arith::AddFOp::create(e.b, e.loc, sum, accs[r * acc + a]);
    sums.push_back(sum);
  }
  return sums;
}

Value SharedDecodeBuilder::dequantizePiece(Lanes &e, int bits, Value i0,
                                           Value bitStart, Value padStart,
                                           Value fast, Value chunks,
                                           const GridValues &grid,
                                           Value panel) {
  int64_t v = e.v;
  auto blockType = VectorType::get({32, v}, e.b.getF32Type());
  SmallVector<Value> state = chunkLoops(
      e, fast, chunks, ValueRange{panel},
      [&](Lanes &le, Value c, bool slow, SmallVectorImpl<Value> &st) {
        OpBuilder &lb = le.b;
        Location ll = le.loc;
        SmallVector<Value> aligned =
            chunkWords(le, bits, i0, bitStart, c, slow);
        auto word = [&](int64_t j) { return aligned[j]; };
        // The chunk's 32 x V weights in one vector, written with one
        // transfer (per-code tensor writes make bufferization quadratic).
        // Codes past the piece's end are dequantized too: they meet
        // activation 0 in the padding.
        Value block = arith::ConstantOp::create(
            lb, ll, DenseElementsAttr::get(blockType, 0.0f));
        for (int64_t k = 0; k < 32; ++k) {
          int64_t bit = k * bits;
          Value q = extractCode(le, word, bit / 32, static_cast<int>(bit % 32),
                                bits, /*scaled=*/false, config.magicUnpack);
          Value w = buildDequantizedWeight(
              lb, ll, codeToFloat(le, q, config.magicUnpack), grid);
          SmallVector<int64_t> at = {k};
          if (v == 1)
            at.push_back(0);
          block = vector::InsertOp::create(lb, ll, w, block, at);
        }
        Value pos0 = arith::AddIOp::create(
            lb, ll, padStart, arith::MulIOp::create(lb, ll, c, le.index(32)));
        st[0] = vector::TransferWriteOp::create(lb, ll, block, st[0],
                                                ValueRange{pos0, le.index(0)},
                                                ArrayRef<bool>{true, true})
                    .getResult();
      });
  return state[0];
}

void SharedDecodeBuilder::readHeader(Lanes &e) {
  auto header = [&](int64_t f) {
    return toIndex(e.b, e.loc, e.scalar(pieces, {e.index(f)}));
  };
  numPieces = header(0);
  fullWords = header(1);
  tailBits = header(2);
  paddedEnd = header(3);
  payloadWords = tensor::DimOp::create(e.b, e.loc, payload, 0);
}

SharedDecodeBuilder::PieceFields SharedDecodeBuilder::readPiece(Lanes &e,
                                                                Value p) {
  OpBuilder &lb = e.b;
  Location ll = e.loc;
  Value entry =
      e.add(arith::MulIOp::create(lb, ll, p, e.index(kPieceFields)), kHeader);
  auto field = [&](int f) { return e.scalar(pieces, {e.add(entry, f)}); };
  PieceFields f;
  f.bits32 = field(Bits);
  f.bitStart = toIndex(lb, ll, field(BitStart));
  f.count = toIndex(lb, ll, field(Count));
  f.padStart = toIndex(lb, ll, field(PadStart));
  f.group = toIndex(lb, ll, field(Group));
  f.fast = toIndex(lb, ll, field(FastChunks));
  f.chunks = arith::DivUIOp::create(lb, ll, e.add(f.count, 31), e.index(32));
  return f;
}

void SharedDecodeBuilder::pieceTailWord(Lanes &e, Value i0,
                                        const PieceFields &f) {
  // Word F of the rows, only for the (at most a few) pieces whose chunks
  // reach it.
  Value hasSlow = arith::CmpIOp::create(e.b, e.loc, arith::CmpIPredicate::ult,
                                        f.fast, f.chunks);
  tailWord = scf::IfOp::create(
                 e.b, e.loc, hasSlow,
                 [&](OpBuilder &tb, Location tl) {
                   Lanes te(tb, tl, e.v);
                   scf::YieldOp::create(tb, tl, buildTailWord(te, i0));
                 },
                 [&](OpBuilder &eb, Location el) {
                   Lanes ee(eb, el, e.v);
                   scf::YieldOp::create(eb, el, ee.splatI32(0));
                 })
                 .getResult(0);
}

scf::IndexSwitchOp SharedDecodeBuilder::switchOnBits(
    Lanes &e, Value bits32, TypeRange types, ValueRange other,
    function_ref<SmallVector<Value>(Lanes &, int)> caseBody) {
  SmallVector<int64_t> cases = {1, 2, 3, 4, 5, 6, 7, 8};
  auto sw = scf::IndexSwitchOp::create(
      e.b, e.loc, types, toIndex(e.b, e.loc, bits32), cases, cases.size());
  for (auto [index, bits] : llvm::enumerate(cases)) {
    Block &block = sw.getCaseRegions()[index].emplaceBlock();
    OpBuilder cb = OpBuilder::atBlockBegin(&block);
    Lanes ce(cb, e.loc, e.v);
    scf::YieldOp::create(cb, e.loc, caseBody(ce, static_cast<int>(bits)));
  }
  // 0-bit channels form no piece.
  Block &block = sw.getDefaultRegion().emplaceBlock();
  OpBuilder db = OpBuilder::atBlockBegin(&block);
  scf::YieldOp::create(db, e.loc, other);
  return sw;
}

Value SharedDecodeBuilder::buildTailWord(Lanes &e, Value i0) {
  OpBuilder &nb = e.b;
  Location nl = e.loc;
  Type i64 = nb.getI64Type(), i32 = nb.getI32Type();
  Value last = arith::SubIOp::create(nb, nl, payloadWords, e.index(1));
  Value base = arith::MulIOp::create(nb, nl, fullWords, e.index(shape.m));
  Value r32 = arith::IndexCastOp::create(nb, nl, i32, tailBits);
  Value mask = arith::SubIOp::create(
      nb, nl,
      arith::ShLIOp::create(nb, nl, arith::ConstantIntOp::create(nb, nl, 1, 32),
                            r32),
      arith::ConstantIntOp::create(nb, nl, 1, 32));
  SmallVector<Value> lanes;
  for (int64_t lane = 0; lane < e.v; ++lane) {
    Value u = arith::MulIOp::create(nb, nl, e.add(i0, lane), tailBits);
    Value w = arith::AddIOp::create(
        nb, nl, base, arith::DivUIOp::create(nb, nl, u, e.index(32)));
    Value w0 = arith::MinUIOp::create(nb, nl, w, last);
    Value w1 = arith::MinUIOp::create(nb, nl, e.add(w, 1), last);
    Value shift = arith::IndexCastOp::create(
        nb, nl, i64, arith::RemUIOp::create(nb, nl, u, e.index(32)));
    Value field =
        buildBitField(nb, nl, tensor::ExtractOp::create(nb, nl, payload, w0),
                      tensor::ExtractOp::create(nb, nl, payload, w1), shift,
                      arith::ConstantIntOp::create(nb, nl, i64, 0xffffffffLL));
    lanes.push_back(arith::AndIOp::create(
        nb, nl, arith::TruncIOp::create(nb, nl, i32, field), mask));
  }
  if (e.v == 1)
    return lanes.front();
  return vector::FromElementsOp::create(nb, nl, VectorType::get({e.v}, i32),
                                        lanes)
      .getResult();
}

/// Rows [i0, i0 + V) of group `group` of a scale or zero table: `[M]`
/// without groups (one contiguous vector load), else `[M x ?]` (whose row
/// stride is run-time data: V scalar loads, unrolled, instead of the loop
/// and masked moves a transfer with a dynamic stride becomes).
static Value readGroupColumn(Lanes &e, Value table, Value i0, Value group) {
  auto type = cast<RankedTensorType>(table.getType());
  if (type.getRank() == 1)
    return e.readContig(table, {i0});
  if (e.v == 1)
    return e.scalar(table, {i0, group});
  SmallVector<Value> lanes;
  for (int64_t j = 0; j < e.v; ++j)
    lanes.push_back(e.scalar(table, {e.add(i0, j), group}));
  return vector::FromElementsOp::create(
      e.b, e.loc, VectorType::get({e.v}, type.getElementType()), lanes);
}

/// FORMAT.md §4's grid of a piece's rows: levels = 2^bits - 1.
static GridValues pieceGrid(Lanes &e, Value scales, Value zeros, Value i0,
                            Value group, Value bits32) {
  OpBuilder &b = e.b;
  Location loc = e.loc;
  Value levels = arith::UIToFPOp::create(
      b, loc, b.getF32Type(),
      arith::SubIOp::create(
          b, loc,
          arith::ShLIOp::create(
              b, loc, arith::ConstantIntOp::create(b, loc, 1, 32), bits32),
          arith::ConstantIntOp::create(b, loc, 1, 32)));
  Value scale = buildScale(b, loc, readGroupColumn(e, scales, i0, group));
  Value zero = buildZero(b, loc, scale, readGroupColumn(e, zeros, i0, group));
  return buildGrid(b, loc, scale, zero, e.broadcast(levels),
                   GridRounding::Magic);
}

/// Output rows [i0, i0 + V) for all activation rows: C + sum over pieces of
/// step * (sum q x - zp * sum x), pieces in table order.
Value SharedDecodeBuilder::decodeBody(int64_t v, int64_t base, OpBuilder &nb,
                                      Location nl, Value item, Value slice) {
  Lanes e(nb, nl, v);
  int64_t rows = shape.rows;
  Value i0 = e.firstRow(item, base);
  readHeader(e);
  SmallVector<Value> init(rows, e.splatF32(0.0f));
  auto loop = scf::ForOp::create(
      nb, nl, e.index(0), numPieces, e.index(1), init,
      [&](OpBuilder &lb, Location ll, Value p, ValueRange totals) {
        Lanes le(lb, ll, v);
        PieceFields f = readPiece(le, p);
        pieceTailWord(le, i0, f);
        SmallVector<Type> types(rows, le.lanes(le.f32()));
        auto sw = switchOnBits(
            le, f.bits32, types, SmallVector<Value>(rows, le.splatF32(0.0f)),
            [&](Lanes &ce, int bits) {
              return pieceCodeSums(ce, bits, i0, f.bitStart, f.padStart, f.fast,
                                   f.chunks);
            });
        GridValues grid = pieceGrid(le, scales, zeros, i0, f.group, f.bits32);
        Value negZeroPoint = arith::NegFOp::create(lb, ll, grid.zeroPoint);
        SmallVector<Value> next;
        for (int64_t r = 0; r < rows; ++r) {
          Value sumX = le.scalar(xsums, {le.index(r), p});
          Value codes =
              le.fma(negZeroPoint, le.broadcast(sumX), sw.getResult(r));
          next.push_back(le.fma(grid.step, codes, totals[r]));
        }
        scf::YieldOp::create(lb, ll, next);
      });
  Value z = e.index(0);
  Type elem = cast<RankedTensorType>(slice.getType()).getElementType();
  for (int64_t r = 0; r < rows; ++r) {
    Value c = e.toF32(e.readContig(slice, {e.index(r), z}));
    Value y = arith::AddFOp::create(nb, nl, c, loop.getResult(r));
    slice = e.writeContig(e.fromF32(y, elem), slice, {e.index(r), z});
  }
  return slice;
}

/// Output rows [i0, i0 + V) of the tiled kind: the item's [padded x V] f32
/// panel is dequantized piece by piece (w = (q - zp) * step, as
/// TiledKernel.cpp's panel), then each tile of `tile-rows` activation rows
/// runs the register-blocked microkernel over the padded positions in order
/// from 0, and C is added.
Value SharedDecodeBuilder::tiledBody(int64_t v, int64_t base, OpBuilder &nb,
                                     Location nl, Value item, Value slice) {
  Lanes e(nb, nl, v);
  int64_t rows = shape.rows;
  Value i0 = e.firstRow(item, base);
  Value z0 = e.index(0);
  readHeader(e);
  Value panel = tensor::EmptyOp::create(
      nb, nl, ArrayRef<int64_t>{shape.maxPadded, v}, nb.getF32Type());
  auto pieceLoop = scf::ForOp::create(
      nb, nl, z0, numPieces, e.index(1), ValueRange{panel},
      [&](OpBuilder &lb, Location ll, Value p, ValueRange it) {
        Lanes le(lb, ll, v);
        PieceFields f = readPiece(le, p);
        pieceTailWord(le, i0, f);
        GridValues grid = pieceGrid(le, scales, zeros, i0, f.group, f.bits32);
        auto sw = switchOnBits(le, f.bits32, TypeRange{it[0].getType()}, it,
                               [&](Lanes &ce, int bits) {
                                 return SmallVector<Value>{dequantizePiece(
                                     ce, bits, i0, f.bitStart, f.padStart,
                                     f.fast, f.chunks, grid, it[0])};
                               });
        scf::YieldOp::create(lb, ll, sw.getResults());
      });
  panel = pieceLoop.getResult(0);

  return accumulatePanel(nb, nl, v, slice, xs, panel, paddedEnd, rows,
                         config.tileRows);
}

Value SharedDecodeBuilder::build(ValueRange args) {
  Value a = args[0];
  payload = args[1];
  scales = args[2];
  zeros = args[3];
  pieces = args[4];
  Value source = args[5], factor = args[6], c = args[7];
  acc = std::clamp<int64_t>(config.accumulators, 1,
                            std::max<int64_t>(1, 8 / shape.rows));
  xs = gather(a, source, factor);
  xsums = sums(a, source, pieces);
  int64_t v = shape.m < config.rowsPerThread ? 1 : config.rowsPerThread;
  Value result = buildRowNests(
      b, loc, "baq_decode", c, {}, shape.m, v, config.threadsPerBlock,
      [&](int64_t lanes, int64_t base) {
        return SmallVector<DimSpec>{DimSpec::full(shape.rows),
                                    DimSpec::item(lanes, base)};
      },
      [&](int64_t lanes, int64_t base, OpBuilder &nb, Location nl, ValueRange,
          Value item, Value slice) {
        return decodeBody(lanes, base, nb, nl, item, slice);
      });
  setWork(result);
  return result;
}

void SharedDecodeBuilder::setWork(Value result) {
  // The loops' trip counts are run-time data: tell baq-kernels-to-parallel
  // the work (about one operation per weight and activation row, plus the
  // unpacking shared by the rows) that its static estimate cannot see.
  int64_t work = shape.m * shape.n * (shape.rows + 2);
  for (Operation *op = result.getDefiningOp(); op;) {
    op->setAttr(kKernelWorkAttr, b.getI64IntegerAttr(work));
    auto forall = cast<scf::ForallOp>(op);
    op = forall.getOutputs()[0].getDefiningOp<scf::ForallOp>();
  }
}

Value SharedDecodeBuilder::buildTiled(ValueRange args) {
  Value a = args[0];
  payload = args[1];
  scales = args[2];
  zeros = args[3];
  pieces = args[4];
  Value source = args[5], c = args[6];
  xs = gather(a, source, /*factor=*/nullptr);
  Value result = buildRowNests(
      b, loc, "baq_tiled_matmul", c, {}, shape.m, config.rowsPerThread,
      config.threadsPerBlock,
      [&](int64_t lanes, int64_t base) {
        return SmallVector<DimSpec>{DimSpec::full(shape.rows),
                                    DimSpec::item(lanes, base)};
      },
      [&](int64_t lanes, int64_t base, OpBuilder &nb, Location nl, ValueRange,
          Value item,
          Value slice) { return tiledBody(lanes, base, nb, nl, item, slice); });
  setWork(result);
  return result;
}

/// A call of the shared kernel of `op`'s shape class, decode or tiled kind,
/// created on first use.
static LogicalResult buildSharedMatmul(RewriterBase &rewriter,
                                       PackedMatmulOp op,
                                       const KernelConfig &config, bool tiled) {
  RankedTensorType aType = op.getInput().getType();
  RankedTensorType cType = op.getInit().getType();
  if (!aType.hasStaticShape() || !cType.hasStaticShape())
    return rewriter.notifyMatchFailure(op, "needs static tensor shapes");
  auto function = op->getParentOfType<func::FuncOp>();
  Operation *symbolTableOp =
      function ? SymbolTable::getNearestSymbolTable(function->getParentOp())
               : nullptr;
  if (!symbolTableOp)
    return rewriter.notifyMatchFailure(
        op, "the shared kernel needs a symbol table around the function");

  PackedLayoutAttr layout = op.getLayout();
  Location loc = op.getLoc();
  Layout l = analyze(layout);
  OpBuilder::InsertionGuard guard(rewriter);
  if (l.live == 0 || aType.getDimSize(0) == 0 || cType.getNumElements() == 0) {
    rewriter.replaceOp(op, op.getInit());
    return success();
  }
  SharedShape shape(layout, aType.getDimSize(0));
  auto scaleType = cast<RankedTensorType>(op.getScales().getType());
  auto zeroType = cast<RankedTensorType>(op.getZeros().getType());
  Type i32 = rewriter.getI32Type();
  // Without groups the tables are one column, passed as [M] (contiguous
  // rows); with groups the group count depends on the layout's live
  // columns, so it is dynamic.
  auto dynamicGroups = [&](RankedTensorType t) {
    if (shape.groupSize <= 0)
      return RankedTensorType::get({shape.m}, t.getElementType());
    return RankedTensorType::get({shape.m, ShapedType::kDynamic},
                                 t.getElementType());
  };
  auto tableType = [&](int64_t size, Type elem) {
    return RankedTensorType::get({size}, elem);
  };
  SmallVector<Type> argTypes = {
      aType,
      RankedTensorType::get({ShapedType::kDynamic}, i32),
      dynamicGroups(scaleType),
      dynamicGroups(zeroType),
      tableType(kHeader + kPieceFields * shape.maxPieces, i32),
      tableType(shape.maxPadded, i32)};
  // The tiled kind dequantizes: its activations are not pre-scaled.
  if (!tiled)
    argTypes.push_back(tableType(shape.maxPadded, rewriter.getF32Type()));
  argTypes.push_back(cType);
  auto funcType = rewriter.getFunctionType(argTypes, {cType});

  std::string name;
  llvm::raw_string_ostream os(name);
  os << (tiled ? "baq_tiled_" : "baq_decode_") << shape.m << "x" << shape.n
     << "_r" << shape.rows << "_g" << shape.groupSize << "_"
     << typeName(aType.getElementType()) << "_"
     << typeName(cType.getElementType()) << "_"
     << typeName(scaleType.getElementType()) << "_"
     << typeName(zeroType.getElementType()) << "_v" << config.rowsPerThread
     << "a" << config.accumulators << "t" << config.threadsPerBlock
     << (config.magicUnpack ? "m" : "c");
  if (tiled)
    os << "_tr" << config.tileRows;

  Operation *existing = SymbolTable::lookupSymbolIn(symbolTableOp, name);
  auto kernel = dyn_cast_or_null<func::FuncOp>(existing);
  if (existing && (!kernel || kernel.getFunctionType() != funcType))
    return rewriter.notifyMatchFailure(op, [&](Diagnostic &diag) {
      diag << "symbol @" << name << " exists and is not the shared kernel";
    });
  if (!kernel) {
    rewriter.setInsertionPoint(function);
    kernel = func::FuncOp::create(rewriter, loc, name, funcType);
    kernel.setPrivate();
    // One copy per shape class: neither the MLIR nor the LLVM inliner may
    // copy it back into its callers (@forward, @prefill).
    // (func-to-llvm drops func.func's no_inline: say it to LLVM directly.)
    kernel.setNoInline(true);
    kernel->setAttr("passthrough", rewriter.getArrayAttr(
                                       {rewriter.getStringAttr("noinline")}));
    Block *entry = kernel.addEntryBlock();
    rewriter.setInsertionPointToStart(entry);
    SharedDecodeBuilder builder(rewriter, loc, shape, config);
    Value result = tiled ? builder.buildTiled(entry->getArguments())
                         : builder.build(entry->getArguments());
    func::ReturnOp::create(rewriter, loc, result);
  }

  rewriter.setInsertionPoint(op);
  SharedTables tables = buildTables(l, shape, config.magicUnpack);
  auto table = [&](RankedTensorType type, auto values) -> Value {
    return arith::ConstantOp::create(
        rewriter, loc,
        cast<TypedAttr>(DenseElementsAttr::get(type, ArrayRef(values))));
  };
  auto castTo = [&](Value v, Type t) -> Value {
    if (v.getType() == t)
      return v;
    if (cast<RankedTensorType>(t).getRank() == 1 &&
        cast<RankedTensorType>(v.getType()).getRank() == 2)
      return tensor::CollapseShapeOp::create(
          rewriter, loc, t, v, ArrayRef<ReassociationIndices>{{0, 1}});
    return tensor::CastOp::create(rewriter, loc, t, v);
  };
  SmallVector<Value> operands = {
      op.getInput(),
      castTo(op.getPayload(), argTypes[1]),
      castTo(op.getScales(), argTypes[2]),
      castTo(op.getZeros(), argTypes[3]),
      table(cast<RankedTensorType>(argTypes[4]), tables.pieces),
      table(cast<RankedTensorType>(argTypes[5]), tables.source)};
  if (!tiled)
    operands.push_back(
        table(cast<RankedTensorType>(argTypes[6]), tables.factor));
  operands.push_back(op.getInit());
  auto call = func::CallOp::create(rewriter, loc, kernel, operands);
  rewriter.replaceOp(op, call.getResults());
  return success();
}

LogicalResult mlir::baq::buildSharedDecodeMatmul(RewriterBase &rewriter,
                                                 PackedMatmulOp op,
                                                 const KernelConfig &config) {
  if (!hasSharedDecodeKernel(config))
    return rewriter.notifyMatchFailure(
        op, "no shared decode kernel for k-split > 1, unroll > 1 or half2");
  return buildSharedMatmul(rewriter, op, config, /*tiled=*/false);
}

LogicalResult mlir::baq::buildSharedTiledMatmul(RewriterBase &rewriter,
                                                PackedMatmulOp op,
                                                const KernelConfig &config) {
  if (!hasSharedTiledKernel(config))
    return rewriter.notifyMatchFailure(
        op, "no shared tiled kernel without the CPU panel form");
  return buildSharedMatmul(rewriter, op, config, /*tiled=*/true);
}
