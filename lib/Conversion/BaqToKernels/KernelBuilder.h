//===- KernelBuilder.h - Shared pieces of the kernel nests ------*- C++ -*-===//
//
// Private to lib/Conversion/BaqToKernels: the layout analysis, the
// scalar/vector emission helpers, the block/thread nest builder and the
// PackedKernels class whose methods (one file per kernel kind) emit the
// nests of one packed weight.
//
// Every kernel is a two-level scf.forall nest on tensors:
//
//   scf.forall (outer..., %bx) in (..., ceil(items / T))  // #gpu.block
//     scf.forall (%t) in (min(T, items - %bx * T))        // #gpu.thread<x>
//       <body for item %bx * T + %t>
//
// An item is a small rectangular slice of the output (for example V output
// rows of one K slice); bodies never synchronise, so the nest runs as nested
// loops on a CPU and as one gpu.launch on a GPU.
//
// Packed positions are addressed in a padded space where every segment
// starts at a multiple of 32 ("padded positions"): chunk c of a segment, the
// 32 codes at row stream bits [bit_offset + 32 bits c, + 32 bits), lies in
// the row-interleaved words [bit_offset / 32 + bits c, + bits + (o > 0)),
// o = bit_offset mod 32, with the same bit pattern for every chunk, and
// covers padded positions [pad_start + 32 c, + 32); so both the words and
// the gathered activations of a chunk are found by adding constants to one
// base. Codes in (or reaching into) a row's tail (FORMAT.md §3) are never
// in a loop: their chunks are emitted with static positions.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_LIB_CONVERSION_BAQTOKERNELS_KERNELBUILDER_H
#define BAQ_LIB_CONVERSION_BAQTOKERNELS_KERNELBUILDER_H

#include "DecodeHalf2.h"
#include "baq/Conversion/BaqToKernels.h"
#include "baq/Dialect/Baq/IR/BaqAttrs.h"
#include "baq/Dialect/Baq/IR/GridBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir {
namespace baq {
namespace kernels {

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

//===----------------------------------------------------------------------===//
// Layout analysis (Layout.cpp)
//===----------------------------------------------------------------------===//

struct Seg {
  int bits;
  int64_t start, count, bitOffset, padStart;
  /// Row-interleaved word of chunk c's first code, and that code's bit in it.
  int64_t chunkWord(int64_t c) const { return bitOffset / 32 + c * bits; }
  int bitBase() const { return static_cast<int>(bitOffset % 32); }
  /// Words a full chunk spans.
  int64_t chunkWords() const { return bits + (bitBase() > 0 ? 1 : 0); }
};

/// Codes [k0, k1) of a segment that share one (scale, zero) group.
struct Piece {
  int seg;
  int64_t k0, k1, group;
};

struct Layout {
  PackedLayoutAttr attr;
  int64_t m = 0, n = 0, live = 0, groups = 1, groupSize = 0, padded = 0;
  /// FORMAT.md §3: F row-interleaved words, r tail bits per row, T words.
  int64_t fullWords = 0, tailBits = 0, payloadWords = 0;
  SmallVector<Seg> segs;
  SmallVector<Piece> pieces;

  /// Whether a code at row stream bit t reaches into the row's tail.
  bool inTail(int64_t t, int bits) const { return t + bits > 32 * fullWords; }
  /// Leading chunks of a segment that lie entirely in the full words.
  int64_t loopChunks(const Seg &s) const {
    int64_t room = 32 * fullWords - s.bitOffset;
    return room <= 0 ? 0 : std::min(s.count / 32, room / (32 * s.bits));
  }
  /// Chunks [ceil(k0 / 32), result) of a piece run in a loop; the codes
  /// after them (a partial chunk, or chunks reaching into the tail) are
  /// emitted with static positions.
  int64_t loopStop(const Piece &p) const {
    int64_t cStart = ceilDiv(p.k0, 32), cStop = p.k1 / 32;
    if (cStart > cStop)
      return cStop;
    return std::max(cStart, std::min(cStop, loopChunks(segs[p.seg])));
  }
};

/// Segments, pieces and padded positions of a layout.
Layout analyze(PackedLayoutAttr attr);

/// The activation of a `bits`-bit code at bit `shift` of its word is
/// pre-multiplied by 2^-shift so that the code can be used in place, without
/// shifting it down: (word & (mask << shift)) is q * 2^shift exactly.
/// Returns that shift, or 0 where the code is shifted down instead
/// (straddling codes, the top code of a word whose AND would set the sign
/// bit, and, for the 2^23 trick, codes that do not fit the mantissa in
/// place).
int inPlaceShift(int bits, int shift, bool magic);

/// inPlaceShift of code k of a segment; 0 for codes reaching into the tail.
int activationShift(const Layout &l, const Seg &s, int64_t k, bool magic);

//===----------------------------------------------------------------------===//
// Emission helpers and nests (Nest.cpp)
//===----------------------------------------------------------------------===//

/// Creates scalar ops for V = 1 and vector<V x T> ops for V > 1.
class Lanes {
public:
  Lanes(OpBuilder &b, Location loc, int64_t v) : b(b), loc(loc), v(v) {}

  OpBuilder &b;
  Location loc;
  int64_t v;

  Type f32() { return b.getF32Type(); }
  Type i32() { return b.getI32Type(); }
  Type lanes(Type t) {
    return v == 1 ? t : static_cast<Type>(VectorType::get({v}, t));
  }
  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value add(Value a, int64_t c) {
    if (c == 0)
      return a;
    return arith::AddIOp::create(b, loc, a, index(c));
  }
  /// First row of a nest item: item * V + base (buildRowNests' item of V
  /// interleaved rows, after `base` rows handled by wider items).
  Value firstRow(Value item, int64_t base) {
    return add(arith::MulIOp::create(b, loc, item, index(v)), base);
  }
  Value splatI32(uint32_t value) {
    Type t = lanes(i32());
    APInt bits(32, value);
    if (v == 1)
      return arith::ConstantOp::create(b, loc, b.getIntegerAttr(i32(), bits));
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(cast<ShapedType>(t), ArrayRef<APInt>(bits)));
  }
  Value splatF32(float value) {
    Type t = lanes(f32());
    if (v == 1)
      return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(cast<ShapedType>(t), ArrayRef<float>(value)));
  }
  Value broadcast(Value scalar) {
    if (v == 1)
      return scalar;
    return vector::BroadcastOp::create(b, loc, lanes(scalar.getType()), scalar);
  }
  /// Extends (or keeps) float lanes to f32.
  Value toF32(Value x) {
    Type elem = getElementTypeOrSelf(x.getType());
    if (elem.isF32())
      return x;
    Type t = f32();
    if (auto vt = dyn_cast<VectorType>(x.getType()))
      t = VectorType::get(vt.getShape(), t);
    return arith::ExtFOp::create(b, loc, t, x);
  }
  Value fromF32(Value x, Type elem) {
    if (elem.isF32())
      return x;
    Type t = elem;
    if (auto vt = dyn_cast<VectorType>(x.getType()))
      t = VectorType::get(vt.getShape(), elem);
    return arith::TruncFOp::create(b, loc, t, x);
  }
  Value fma(Value a, Value x, Value acc) {
    return math::FmaOp::create(b, loc, a, x, acc);
  }
  Value scalar(Value tensor, ValueRange indices) {
    return tensor::ExtractOp::create(b, loc, tensor, indices);
  }
  /// V contiguous elements along the last dimension.
  Value readContig(Value tensor, ValueRange indices) {
    if (v == 1)
      return scalar(tensor, indices);
    Type elem = cast<ShapedType>(tensor.getType()).getElementType();
    Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(elem));
    return vector::TransferReadOp::create(b, loc, VectorType::get({v}, elem),
                                          tensor, indices, pad,
                                          ArrayRef<bool>{true});
  }
  Value writeContig(Value value, Value tensor, ValueRange indices) {
    if (v == 1)
      return tensor::InsertOp::create(b, loc, value, tensor, indices);
    return vector::TransferWriteOp::create(b, loc, value, tensor, indices,
                                           ArrayRef<bool>{true})
        .getResult();
  }
  /// V elements along dimension 0 of a 2-D tensor (rows of a column).
  Value readColumn(Value tensor, Value row, Value col) {
    if (v == 1)
      return scalar(tensor, {row, col});
    Type elem = cast<ShapedType>(tensor.getType()).getElementType();
    Value pad = arith::ConstantOp::create(b, loc, b.getZeroAttr(elem));
    AffineMap map =
        AffineMap::get(2, 0, {b.getAffineDimExpr(0)}, b.getContext());
    return vector::TransferReadOp::create(b, loc, VectorType::get({v}, elem),
                                          tensor, ValueRange{row, col}, pad,
                                          map, ArrayRef<bool>{true});
  }
};

/// The `bits`-bit code at bit `shift` of word `j` (continuing into word
/// j + 1 when it straddles) as i32 lanes: q * 2^shift when `scaled` and
/// inPlaceShift allows it, else q.
Value extractCode(Lanes &e, function_ref<Value(int64_t)> word, int64_t j,
                  int shift, int bits, bool scaled, bool magic);

/// Code lanes to f32: sitofp, or the 2^23 mantissa trick if `magic`.
Value codeToFloat(Lanes &e, Value q, bool magic);

/// Where an output slice of a nest lies along one dimension.
struct DimSpec {
  enum Kind { Outer, Item, Full } kind;
  int64_t size;
  int64_t base = 0;
  unsigned outerIndex = 0;

  static DimSpec outer(unsigned index, int64_t size, int64_t base = 0) {
    return {Outer, size, base, index};
  }
  static DimSpec item(int64_t size, int64_t base = 0) {
    return {Item, size, base, 0};
  }
  static DimSpec full(int64_t size, int64_t base = 0) {
    return {Full, size, base, 0};
  }
};

/// Computes the item's slice (static sizes) of the output and returns the
/// updated slice.
using NestBody = function_ref<Value(OpBuilder &, Location, ValueRange outer,
                                    Value item, Value slice)>;

/// Builds the two-level block/thread nest described in the file comment.
Value buildNest(OpBuilder &b, Location loc, StringRef kind, Value init,
                ArrayRef<int64_t> outer, int64_t items, int64_t threads,
                ArrayRef<DimSpec> dims, NestBody body);

/// Builds nests over output rows [0, M): V rows per thread for the first
/// floor(M / V) * V rows, one row per thread for the rest. `dims(v, base)`
/// and `body(v, base)` describe a nest whose items are blocks of v rows
/// starting at row `base`.
Value buildRowNests(
    OpBuilder &b, Location loc, StringRef kind, Value init,
    ArrayRef<int64_t> outer, int64_t m, int64_t v, int64_t threads,
    function_ref<SmallVector<DimSpec>(int64_t v, int64_t base)> dims,
    function_ref<Value(int64_t v, int64_t base, OpBuilder &, Location,
                       ValueRange, Value, Value)>
        body);

/// The CPU prefill microkernel: rows [0, rows) of `slice` (rows x v, any
/// float type) += xs[0..rows, 0..positions) · panel (positions x v, f32), in
/// register tiles of min(tileRows, rows) rows (one vector<v> accumulator per
/// row) and a remainder tile. Returns the updated slice.
Value accumulatePanel(OpBuilder &b, Location loc, int64_t v, Value slice,
                      Value xs, Value panel, Value positions, int64_t rows,
                      int64_t tileRows);

//===----------------------------------------------------------------------===//
// Kernels of one packed weight
//===----------------------------------------------------------------------===//

/// Where the kernels read a packed weight from: the op (baq.packed_constant
/// or baq.packed_parameter) whose results are all of a baq op's packed
/// operands, with the same layout. A constant's parts are re-created as
/// constants where they are used (so that outlining a GPU kernel carries
/// them along); any other source's parts are read as the SSA values they
/// are, so the kernels never need the weight bytes.
struct PackedSource {
  Operation *op = nullptr;
  PackedLayoutAttr layout;
  Value payload, scales, zeros;
  /// Null unless the source is a baq.packed_constant.
  PackedConstantOp constant;
  explicit operator bool() const { return op != nullptr; }
};

/// The packed source of the op's packed operands; null if they are not all
/// the results of one baq.packed_constant or baq.packed_parameter with the
/// op's layout.
PackedSource getPackedSource(DequantizeOp dequant);
PackedSource getPackedSource(PackedMatmulOp op);

class PackedKernels {
public:
  PackedKernels(OpBuilder &b, Location loc, const PackedSource &packed,
                const KernelConfig &config)
      : b(b), loc(loc), packed(packed), config(config),
        l(analyze(packed.layout)) {}

  const Layout &layout() const { return l; }

  Value gather(Value a, bool scaled);
  /// unpack=half2: the f16 pair words the decode loops read (DecodeHalf2.h).
  Value gatherHalf2(Value a);
  Value decode(Value xs, Value xh, Value sums, int64_t rows);
  Value activationSums(Value a, int64_t split);
  /// Output rows per decode thread: V, or 1 when M < V.
  int64_t decodeLanes() const {
    return l.m < config.rowsPerThread ? 1 : config.rowsPerThread;
  }
  Value finalize(Value partial, Value c);
  Value dequantizePacked(Type elem);
  Value tiledMatmul(Value xs, Value weights, Value c);
  /// CPU tiled kernel: dequantizes its own panel (see TiledKernel.cpp).
  Value panelMatmul(Value xs, Value c);
  Value scatter(Value weights, RankedTensorType resultType);
  int64_t autoSplit(int64_t v) const;

private:
  // Constants are created where they are used (inside the nests) so that
  // outlining a GPU kernel carries the weights' globals into the gpu.module.
  Value constant(OpBuilder &nb, Location nl, Attribute value) {
    return arith::ConstantOp::create(nb, nl, cast<TypedAttr>(value));
  }
  Value payload(OpBuilder &nb, Location nl) {
    return packed.constant ? constant(nb, nl, packed.constant.getPayload())
                           : packed.payload;
  }
  Value scales(OpBuilder &nb, Location nl) {
    return packed.constant ? constant(nb, nl, packed.constant.getScales())
                           : packed.scales;
  }
  Value zeros(OpBuilder &nb, Location nl) {
    return packed.constant ? constant(nb, nl, packed.constant.getZeros())
                           : packed.zeros;
  }
  Value i32Table(OpBuilder &nb, Location nl, ArrayRef<int32_t> values) {
    auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                      nb.getI32Type());
    return constant(nb, nl, DenseElementsAttr::get(type, values));
  }
  Value f32Table(OpBuilder &nb, Location nl, ArrayRef<float> values) {
    auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                      nb.getF32Type());
    return constant(nb, nl, DenseElementsAttr::get(type, values));
  }

  /// FORMAT.md §4 grid of rows [i0, i0 + V), group `group`: (step, zp) with
  /// step = s / (2^b - 1), zp = clamp(roundeven(-z / step), 0, 2^b - 1), 0
  /// when step is not positive; f32 lanes, as the quantizer computes them.
  GridValues grid(Lanes &e, Value scaleT, Value zeroT, Value i0, Value group,
                  int bits);

  /// Emits dequantized weights of one chunk (DequantizeKernel.cpp).
  void dequantizeChunk(Lanes &e, Value i0, const Seg &seg, Value c,
                       int64_t chunk, int64_t codes,
                       function_ref<void(int64_t k, Value w)> onWeight);

  using CodeFn = function_ref<void(int64_t k, Value qf, Value pos)>;
  void emitChunk(Lanes &e, Value words, Value row, const Seg &seg,
                 Value wordBase, int64_t chunkBit, Value posBase, int64_t lo,
                 int64_t hi, bool scaled, CodeFn onCode,
                 ArrayRef<Value> preloaded = {});
  /// `count` bits of the tails of rows [row, row + V) from bit `offset` of
  /// each row's tail, as i32 lanes.
  Value tailBits(Lanes &e, Value words, Value row, int64_t offset, int count);
  Value decodeBody(int64_t v, int64_t base, int64_t rows, int64_t split,
                   OpBuilder &nb, Location nl, ValueRange outer, Value item,
                   Value slice);

  OpBuilder &b;
  Location loc;
  PackedSource packed;
  const KernelConfig &config;
  Layout l;
  // Operands of the decode nests.
  Value xsValue, sumsValue, xhValue;
  // unpack=half2: loop chunks per segment and their repacked payload.
  SmallVector<half2::SegmentChunks> h2Segs;
  DenseElementsAttr h2Payload;
};

} // namespace kernels
} // namespace baq
} // namespace mlir

#endif // BAQ_LIB_CONVERSION_BAQTOKERNELS_KERNELBUILDER_H
