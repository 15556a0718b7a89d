//===- KernelBuilder.cpp - Packed-weight kernels as scf.forall ------------===//
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

#include "baq/Conversion/KernelBuilder.h"
#include "baq/Dialect/Baq/IR/BaqAttrs.h"
#include "baq/Dialect/Baq/Transforms/WeightAccess.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"

#include <cmath>

using namespace mlir;
using namespace mlir::baq;

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

//===----------------------------------------------------------------------===//
// Configuration
//===----------------------------------------------------------------------===//

KernelConfig mlir::baq::resolveKernelConfig(
    KernelTarget target, int64_t rows, int64_t rowsPerThread,
    int64_t accumulators, int64_t kSplit, int64_t threadsPerBlock,
    int64_t decodeMaxRows, int64_t tileRows, DequantType dequantType,
    UnpackKind unpack, int64_t unroll) {
  KernelConfig c;
  bool gpu = target == KernelTarget::GPU;
  c.decodeMaxRows = decodeMaxRows;
  bool decode = rows <= decodeMaxRows;
  if (rowsPerThread > 0)
    c.rowsPerThread = rowsPerThread;
  else if (!gpu)
    c.rowsPerThread = 16; // one AVX-512 register, two AVX2 ones
  else if (!decode)
    c.rowsPerThread = 4;
  else
    // 128-bit loads for a single row; with more rows the fully unrolled
    // chunk body (32 codes x R activations in flight) needs the registers.
    c.rowsPerThread = rows <= 1 ? 4 : rows == 2 ? 2 : 1;
  c.accumulators = accumulators > 0 ? accumulators : (gpu ? 1 : 4);
  c.threadsPerBlock = threadsPerBlock > 0 ? threadsPerBlock : (gpu ? 128 : 64);
  c.tileRows = tileRows > 0 ? tileRows : 4;
  c.dequantToF16 = dequantType == DequantType::F16 ||
                   (dequantType == DequantType::Default && gpu);
  c.magicUnpack =
      unpack == UnpackKind::Magic || (unpack == UnpackKind::Default && gpu);
  // A GPU needs ~64K threads in flight to cover memory latency; a CPU runs
  // one slice (the nest is sequential there).
  c.targetThreads = gpu ? 65536 : 0;
  c.kSplit = kSplit > 0 ? kSplit : (gpu ? 0 : 1);
  // Few rows: memory-bound, so keep two chunks of loads in flight. More
  // rows do enough arithmetic per byte, and the body grows with the rows.
  c.unroll = unroll > 0 ? unroll : (gpu && rows <= 2 ? 2 : 1);
  return c;
}

//===----------------------------------------------------------------------===//
// Layout analysis
//===----------------------------------------------------------------------===//

namespace {

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

Layout analyze(PackedLayoutAttr attr) {
  Layout l;
  l.attr = attr;
  l.m = attr.getOutputs();
  l.n = attr.getInputs();
  l.groupSize = attr.getGroupSize();
  l.groups = attr.getNumGroups();
  ArrayRef<int64_t> flat = attr.getSegments();
  int64_t pad = 0;
  for (size_t i = 0; i + 3 < flat.size(); i += 4) {
    Seg s{static_cast<int>(flat[i]), flat[i + 1], flat[i + 2], flat[i + 3],
          pad};
    pad += ceilDiv(s.count, 32) * 32;
    l.live = s.start + s.count;
    l.segs.push_back(s);
  }
  l.padded = pad;
  int64_t rowBits = attr.getRowBits();
  l.fullWords = rowBits / 32;
  l.tailBits = rowBits % 32;
  l.payloadWords = attr.getPayloadWords();
  for (auto [index, s] : llvm::enumerate(l.segs)) {
    if (l.groupSize <= 0) {
      l.pieces.push_back({static_cast<int>(index), 0, s.count, 0});
      continue;
    }
    for (int64_t p = s.start, end = s.start + s.count; p < end;) {
      int64_t g = p / l.groupSize;
      int64_t next = std::min(end, (g + 1) * l.groupSize);
      l.pieces.push_back(
          {static_cast<int>(index), p - s.start, next - s.start, g});
      p = next;
    }
  }
  return l;
}

/// The activation of a `bits`-bit code at bit `shift` of its word is
/// pre-multiplied by 2^-shift so that the code can be used in place, without
/// shifting it down: (word & (mask << shift)) is q * 2^shift exactly.
/// Returns that shift, or 0 where the code is shifted down instead
/// (straddling codes, the top code of a word whose AND would set the sign
/// bit, and, for the 2^23 trick, codes that do not fit the mantissa in
/// place).
int inPlaceShift(int bits, int shift, bool magic) {
  if (shift + bits > 32)
    return 0;
  if (magic)
    return shift + bits <= 23 ? shift : 0;
  return shift + bits == 32 ? 0 : shift;
}

/// inPlaceShift of code k of a segment; 0 for codes reaching into the tail.
int activationShift(const Layout &l, const Seg &s, int64_t k, bool magic) {
  int64_t t = s.bitOffset + k * s.bits;
  if (l.inTail(t, s.bits))
    return 0;
  return inPlaceShift(s.bits, static_cast<int>(t % 32), magic);
}

//===----------------------------------------------------------------------===//
// Emission helpers
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
                ArrayRef<DimSpec> dims, NestBody body) {
  assert(outer.size() <= 2 && items > 0 && "nest shape");
  MLIRContext *ctx = b.getContext();
  int64_t t = std::min(threads, items);
  int64_t blocks = ceilDiv(items, t);

  SmallVector<OpFoldResult> ubs;
  SmallVector<Attribute> mapping;
  for (auto [i, extent] : llvm::enumerate(outer)) {
    ubs.push_back(b.getIndexAttr(extent));
    mapping.push_back(gpu::GPUBlockMappingAttr::get(
        ctx, i == 0 ? gpu::MappingId::DimY : gpu::MappingId::DimZ));
  }
  ubs.push_back(b.getIndexAttr(blocks));
  mapping.push_back(gpu::GPUBlockMappingAttr::get(ctx, gpu::MappingId::DimX));

  auto outerOp = scf::ForallOp::create(b, loc, ubs, ValueRange{init},
                                       b.getArrayAttr(mapping), nullptr);
  outerOp->setAttr(kKernelKindAttr, b.getStringAttr(kind));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(outerOp.getTerminator());
  SmallVector<Value> ivs = outerOp.getInductionVars();
  SmallVector<Value> outerIvs(ivs.begin(), ivs.end() - 1);
  Value bx = ivs.back();
  Value outArg = outerOp.getRegionIterArgs()[0];

  AffineExpr d0 = b.getAffineDimExpr(0);
  OpFoldResult first =
      affine::makeComposedFoldedAffineApply(b, loc, d0 * t, {bx});
  OpFoldResult count = b.getIndexAttr(t);
  if (items % t != 0)
    count = affine::makeComposedFoldedAffineMin(
        b, loc,
        AffineMap::get(1, 0, {b.getAffineConstantExpr(t), items - d0 * t}, ctx),
        {bx});

  SmallVector<OpFoldResult> offsets, sizes, strides, itemSizes;
  for (const DimSpec &d : dims) {
    strides.push_back(b.getIndexAttr(1));
    itemSizes.push_back(b.getIndexAttr(d.size));
    switch (d.kind) {
    case DimSpec::Outer:
      offsets.push_back(affine::makeComposedFoldedAffineApply(
          b, loc, d0 * d.size + d.base, {outerIvs[d.outerIndex]}));
      sizes.push_back(b.getIndexAttr(d.size));
      break;
    case DimSpec::Item:
      offsets.push_back(affine::makeComposedFoldedAffineApply(
          b, loc, d0 * d.size + d.base, {first}));
      sizes.push_back(
          affine::makeComposedFoldedAffineApply(b, loc, d0 * d.size, {count}));
      break;
    case DimSpec::Full:
      offsets.push_back(b.getIndexAttr(d.base));
      sizes.push_back(b.getIndexAttr(d.size));
      break;
    }
  }
  Value block =
      tensor::ExtractSliceOp::create(b, loc, outArg, offsets, sizes, strides);

  auto innerOp = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{count}, ValueRange{block},
      b.getArrayAttr(
          {gpu::GPUThreadMappingAttr::get(ctx, gpu::MappingId::DimX)}),
      nullptr);
  {
    OpBuilder::InsertionGuard innerGuard(b);
    b.setInsertionPoint(innerOp.getTerminator());
    Value tid = innerOp.getInductionVars()[0];
    Value innerArg = innerOp.getRegionIterArgs()[0];
    Value item = getValueOrCreateConstantIndexOp(
        b, loc,
        affine::makeComposedFoldedAffineApply(
            b, loc, b.getAffineDimExpr(0) + b.getAffineDimExpr(1),
            {first, tid}));
    SmallVector<OpFoldResult> itemOffsets;
    for (const DimSpec &d : dims) {
      if (d.kind == DimSpec::Item)
        itemOffsets.push_back(
            affine::makeComposedFoldedAffineApply(b, loc, d0 * d.size, {tid}));
      else
        itemOffsets.push_back(b.getIndexAttr(0));
    }
    Value slice = tensor::ExtractSliceOp::create(b, loc, innerArg, itemOffsets,
                                                 itemSizes, strides);
    Value result = body(b, loc, outerIvs, item, slice);
    b.setInsertionPointToStart(innerOp.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(b, loc, result, innerArg, itemOffsets,
                                          itemSizes, strides);
  }
  b.setInsertionPointToStart(outerOp.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, innerOp.getResult(0), outArg,
                                        offsets, sizes, strides);
  return outerOp.getResult(0);
}

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
        body) {
  if (m < v)
    v = 1;
  int64_t main = (m / v) * v;
  Value result = init;
  auto nest = [&](int64_t lanes, int64_t base, int64_t rows) {
    SmallVector<DimSpec> d = dims(lanes, base);
    result = buildNest(
        b, loc, kind, result, outer, rows / lanes, threads, d,
        [&](OpBuilder &nb, Location nl, ValueRange o, Value item, Value s) {
          return body(lanes, base, nb, nl, o, item, s);
        });
  };
  if (main > 0)
    nest(v, 0, main);
  if (m > main)
    nest(1, main, m - main);
  return result;
}

//===----------------------------------------------------------------------===//
// Kernel builder for one packed weight
//===----------------------------------------------------------------------===//

class PackedKernels {
public:
  PackedKernels(OpBuilder &b, Location loc, PackedConstantOp packed,
                const KernelConfig &config)
      : b(b), loc(loc), packed(packed), config(config),
        l(analyze(packed.getLayout())) {}

  const Layout &layout() const { return l; }

  Value gather(Value a, bool scaled);
  Value decode(Value xs, Value sums, int64_t rows);
  Value activationSums(Value a, int64_t split);
  /// Rows per thread and K slices of the decode nest.
  int64_t decodeLanes() const {
    return l.m < config.rowsPerThread ? 1 : config.rowsPerThread;
  }
  Value finalize(Value partial, Value c);
  Value dequantizePacked(Type elem);
  Value tiledMatmul(Value xs, Value weights, Value c);
  Value scatter(Value weights, RankedTensorType resultType);
  int64_t autoSplit(int64_t v) const;

private:
  // Constants are created where they are used (inside the nests) so that
  // outlining a GPU kernel carries the weights' globals into the gpu.module.
  Value constant(OpBuilder &nb, Location nl, Attribute value) {
    return arith::ConstantOp::create(nb, nl, cast<TypedAttr>(value));
  }
  Value payload(OpBuilder &nb, Location nl) {
    return constant(nb, nl, packed.getPayload());
  }
  Value scales(OpBuilder &nb, Location nl) {
    return constant(nb, nl, packed.getScales());
  }
  Value zeros(OpBuilder &nb, Location nl) {
    return constant(nb, nl, packed.getZeros());
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
  /// An i8 zero is a code zq for z = -((s * zq) / 255).
  std::pair<Value, Value> grid(Lanes &e, Value scaleT, Value zeroT, Value i0,
                               Value group, int bits);

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
  PackedConstantOp packed;
  const KernelConfig &config;
  Layout l;
  // Operands of the decode nests.
  Value xsValue, sumsValue;
};

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

std::pair<Value, Value> PackedKernels::grid(Lanes &e, Value scaleT, Value zeroT,
                                            Value i0, Value group, int bits) {
  OpBuilder &nb = e.b;
  Location nl = e.loc;
  Value levels = e.splatF32(static_cast<float>((1u << bits) - 1u));
  Value scale = e.toF32(e.readColumn(scaleT, i0, group));
  Value zero = e.readColumn(zeroT, i0, group);
  if (getElementTypeOrSelf(zero.getType()).isInteger()) {
    // An 8-bit zero code zq stands for z = -((s * zq) / 255).
    Value zq = arith::UIToFPOp::create(nb, nl, scale.getType(), zero);
    zero = arith::NegFOp::create(
        nb, nl,
        arith::DivFOp::create(nb, nl, arith::MulFOp::create(nb, nl, scale, zq),
                              e.splatF32(255.0f)));
  } else {
    zero = e.toF32(zero);
  }
  Value step = arith::DivFOp::create(nb, nl, scale, levels);
  Value ratio =
      arith::DivFOp::create(nb, nl, arith::NegFOp::create(nb, nl, zero), step);
  // roundeven(clamp(r, 0, L)) == clamp(roundeven(r), 0, L), and for
  // 0 <= c <= 255, (c + 2^23) - 2^23 rounds c half-to-even exactly: no
  // rounding intrinsic (NVVM lowers math.roundeven through libdevice).
  Value clamped = arith::MinimumFOp::create(
      nb, nl, arith::MaximumFOp::create(nb, nl, ratio, e.splatF32(0.0f)),
      levels);
  Value magic = e.splatF32(8388608.0f);
  Value rounded = arith::SubFOp::create(
      nb, nl, arith::AddFOp::create(nb, nl, clamped, magic), magic);
  Value positive = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OGT,
                                         step, e.splatF32(0.0f));
  Value zeroPoint =
      arith::SelectOp::create(nb, nl, positive, rounded, e.splatF32(0.0f));
  return {step, zeroPoint};
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
  const uint32_t mask = (1u << bits) - 1u;
  auto toFloat = [&](Value q) -> Value {
    Type ft = e.lanes(e.f32());
    if (!config.magicUnpack)
      return arith::SIToFPOp::create(nb, nl, ft, q);
    // q < 2^23: OR it into the mantissa of 2^23, then subtract 2^23.
    Value biased = arith::OrIOp::create(nb, nl, q, e.splatI32(0x4B000000u));
    Value f = arith::BitcastOp::create(nb, nl, ft, biased);
    return arith::SubFOp::create(nb, nl, f, e.splatF32(8388608.0f));
  };
  for (int64_t k = lo; k < hi; ++k) {
    int64_t bit = seg.bitBase() + k * bits;
    int64_t j = bit / 32;
    int shift = static_cast<int>(bit % 32);
    Value q;
    if (chunkBit >= 0 && l.inTail(chunkBit + k * bits, bits)) {
      // FORMAT.md §3: the code's low bits may end the row's last full word,
      // the rest lies in the row's tail.
      int64_t t = chunkBit + k * bits;
      int inMain = static_cast<int>(std::max<int64_t>(0, 32 * l.fullWords - t));
      q = tailBits(e, words, row, t + inMain - 32 * l.fullWords, bits - inMain);
      if (inMain > 0)
        q = arith::OrIOp::create(
            nb, nl, arith::ShRUIOp::create(nb, nl, word(j), e.splatI32(shift)),
            arith::ShLIOp::create(nb, nl, q, e.splatI32(inMain)));
      onCode(k, toFloat(q), e.add(posBase, k));
      continue;
    }
    int inPlace = scaled ? inPlaceShift(bits, shift, config.magicUnpack) : 0;
    if (inPlace > 0) {
      q = arith::AndIOp::create(nb, nl, word(j), e.splatI32(mask << shift));
    } else if (shift + bits > 32) {
      Value low = arith::ShRUIOp::create(nb, nl, word(j), e.splatI32(shift));
      Value high =
          arith::ShLIOp::create(nb, nl, word(j + 1), e.splatI32(32 - shift));
      q = arith::AndIOp::create(nb, nl, arith::OrIOp::create(nb, nl, low, high),
                                e.splatI32(mask));
    } else if (shift + bits == 32) {
      q = arith::ShRUIOp::create(nb, nl, word(j), e.splatI32(shift));
    } else if (shift == 0) {
      q = arith::AndIOp::create(nb, nl, word(j), e.splatI32(mask));
    } else {
      q = arith::AndIOp::create(
          nb, nl, arith::ShRUIOp::create(nb, nl, word(j), e.splatI32(shift)),
          e.splatI32(mask));
    }
    onCode(k, toFloat(q), e.add(posBase, k));
  }
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
    auto load = [&](Value w) {
      return arith::ExtUIOp::create(nb, nl, i64,
                                    tensor::ExtractOp::create(nb, nl, words, w))
          .getResult();
    };
    Value both = arith::OrIOp::create(
        nb, nl, load(w0),
        arith::ShLIOp::create(nb, nl, load(w1),
                              arith::ConstantIntOp::create(nb, nl, i64, 32)));
    Value shift = arith::IndexCastOp::create(
        nb, nl, i64, arith::RemUIOp::create(nb, nl, u, e.index(32)));
    Value piece = arith::AndIOp::create(
        nb, nl, arith::ShRUIOp::create(nb, nl, both, shift),
        arith::ConstantIntOp::create(nb, nl, i64, (int64_t{1} << count) - 1));
    lanes.push_back(arith::TruncIOp::create(nb, nl, i32, piece));
  }
  if (e.v == 1)
    return lanes.front();
  return vector::FromElementsOp::create(nb, nl, VectorType::get({e.v}, i32),
                                        lanes);
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

/// partial[s, r, i]: slice s's share of output (r, i), f32.
Value PackedKernels::decode(Value xs, Value sums, int64_t rows) {
  int64_t v = decodeLanes();
  int64_t split = cast<RankedTensorType>(sums.getType()).getDimSize(0);
  xsValue = xs;
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
        Value i0 =
            e.add(arith::MulIOp::create(nb, nl, item, e.index(lanes)), base);
        Value z = e.index(0);
        Value sum = e.toF32(e.readContig(slice, {z, z}));
        for (int64_t s = 0; s < split; ++s)
          sum = arith::AddFOp::create(
              nb, nl, sum, e.readContig(partial, {e.index(s), outer[0], i0}));
        return e.writeContig(e.fromF32(sum, elem), slice, {z, z});
      });
}

/// Dequantized weights in padded packed order, [padded x M] of `elem`;
/// padding positions are 0. w = (q - zp) * step, as FORMAT.md §4.
Value PackedKernels::dequantizePacked(Type elem) {
  Value result =
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{l.padded, l.m}, elem);
  for (const Seg &seg : l.segs) {
    int bits = seg.bits;
    // Chunks in the row's full words run in parallel; the rest (a partial
    // chunk, chunks reaching into the row's tail) has static positions.
    int64_t full = l.loopChunks(seg), tail = seg.count - 32 * full;
    // chunk < 0: the chunk is the outer iv; else fixed (tail) chunks.
    auto body = [&](int64_t chunk, int64_t codes, int64_t lanes, int64_t base,
                    OpBuilder &nb, Location nl, ValueRange outer, Value item,
                    Value slice) {
      Lanes e(nb, nl, lanes);
      Value i0 =
          e.add(arith::MulIOp::create(nb, nl, item, e.index(lanes)), base);
      Value c = chunk < 0 ? outer[0] : e.index(chunk);
      Value words = payload(nb, nl);
      Value scaleT = scales(nb, nl), zeroT = zeros(nb, nl);
      Value wordBase = e.add(arith::MulIOp::create(nb, nl, c, e.index(bits)),
                             seg.chunkWord(0));
      // Unpadded packed position of code 0 of the chunk (for groups).
      Value posBase =
          e.add(arith::MulIOp::create(nb, nl, c, e.index(32)), seg.start);
      // (step, zero point) of a group.
      auto gridOf = [&](Value group) {
        return grid(e, scaleT, zeroT, i0, group, bits);
      };
      std::pair<Value, Value> fixed;
      if (l.groupSize <= 0)
        fixed = gridOf(e.index(0));
      Value z0 = e.index(0);
      emitChunk(
          e, words, i0, seg, wordBase,
          chunk < 0 ? -1 : seg.bitOffset + chunk * 32 * bits, posBase, 0, codes,
          false, [&](int64_t k, Value qf, Value pos) {
            std::pair<Value, Value> g = fixed;
            if (l.groupSize > 0)
              g = gridOf(
                  arith::DivUIOp::create(nb, nl, pos, e.index(l.groupSize)));
            // w = (q - zp) * step, as FORMAT.md (no FMA to contract).
            Value w = arith::MulFOp::create(
                nb, nl, arith::SubFOp::create(nb, nl, qf, g.second), g.first);
            slice = e.writeContig(e.fromF32(w, elem), slice, {e.index(k), z0});
          });
      if (codes % 32 != 0) {
        Value zero = e.fromF32(e.splatF32(0.0f), elem);
        for (int64_t k = codes, e32 = ceilDiv(codes, 32) * 32; k < e32; ++k)
          slice = e.writeContig(zero, slice, {e.index(k), z0});
      }
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

/// out[r, i] = C[r, i] + sum_pp xs[r, pp] * W[pp, i]: each thread owns a
/// tile of TR activation rows x V output rows and keeps it in registers.
Value PackedKernels::tiledMatmul(Value xs, Value weights, Value c) {
  auto cType = cast<RankedTensorType>(c.getType());
  int64_t rows = cType.getDimSize(0);
  Type elem = cType.getElementType();
  int64_t tr = std::min(config.tileRows, rows);
  int64_t mainRows = (rows / tr) * tr;
  Value result = c;
  auto rowTiles = [&](int64_t tileRows, int64_t rowBase, int64_t count) {
    result = buildRowNests(
        b, loc, "baq_tiled_matmul", result, {count / tileRows}, l.m,
        config.rowsPerThread, config.threadsPerBlock,
        [&](int64_t lanes, int64_t base) {
          return SmallVector<DimSpec>{DimSpec::outer(0, tileRows, rowBase),
                                      DimSpec::item(lanes, base)};
        },
        [&](int64_t lanes, int64_t base, OpBuilder &nb, Location nl,
            ValueRange outer, Value item, Value slice) {
          Lanes e(nb, nl, lanes);
          Value i0 =
              e.add(arith::MulIOp::create(nb, nl, item, e.index(lanes)), base);
          Value r0 =
              e.add(arith::MulIOp::create(nb, nl, outer[0], e.index(tileRows)),
                    rowBase);
          SmallVector<Value> init(tileRows, e.splatF32(0.0f));
          auto loop = scf::ForOp::create(
              nb, nl, e.index(0), e.index(l.padded), e.index(1), init,
              [&](OpBuilder &lb, Location ll, Value p, ValueRange it) {
                Lanes le(lb, ll, lanes);
                Value w = le.toF32(le.readContig(weights, {p, i0}));
                SmallVector<Value> next;
                for (int64_t t = 0; t < tileRows; ++t) {
                  Value x = le.scalar(xs, {le.add(r0, t), p});
                  next.push_back(le.fma(le.broadcast(x), w, it[t]));
                }
                scf::YieldOp::create(lb, ll, next);
              });
          Value z = e.index(0);
          for (int64_t t = 0; t < tileRows; ++t) {
            Value cv = e.toF32(e.readContig(slice, {e.index(t), z}));
            Value sum = arith::AddFOp::create(nb, nl, cv, loop.getResult(t));
            slice = e.writeContig(e.fromF32(sum, elem), slice, {e.index(t), z});
          }
          return slice;
        });
  };
  if (mainRows > 0)
    rowTiles(tr, 0, mainRows);
  if (rows > mainRows)
    rowTiles(rows - mainRows, mainRows, rows - mainRows);
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
          Value i0 =
              e.add(arith::MulIOp::create(nb, nl, item, e.index(lanes)), base);
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

PackedConstantOp getPackedSource(DequantizeOp dequant) {
  auto packed = dequant.getPayload().getDefiningOp<PackedConstantOp>();
  if (!packed || dequant.getScales().getDefiningOp() != packed ||
      dequant.getZeros().getDefiningOp() != packed ||
      packed.getLayout() != dequant.getLayout())
    return {};
  return packed;
}

} // namespace

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

LogicalResult mlir::baq::buildQuantizedMatmul(RewriterBase &rewriter,
                                              linalg::MatmulOp matmul,
                                              DequantizeOp dequant,
                                              const KernelConfig &config) {
  PackedConstantOp packed = getPackedSource(dequant);
  if (!packed)
    return rewriter.notifyMatchFailure(
        matmul, "weight is not a baq.dequantize of a baq.packed_constant");
  std::optional<int64_t> channelDim = getWeightChannelDim(matmul);
  if (!channelDim || *channelDim != dequant.getLayout().getChannelDim())
    return rewriter.notifyMatchFailure(
        matmul, "matmul maps do not match the layout's channel_dim");
  if (matmul.getDpsInputOperand(1)->get() != dequant.getResult())
    return rewriter.notifyMatchFailure(matmul, "dequantize is not the weight");
  Value a = matmul.getDpsInputOperand(0)->get();
  Value c = matmul.getDpsInitOperand(0)->get();
  auto aType = dyn_cast<RankedTensorType>(a.getType());
  auto cType = dyn_cast<RankedTensorType>(c.getType());
  if (!aType || !cType || !aType.hasStaticShape() || !cType.hasStaticShape() ||
      matmul->getNumResults() != 1)
    return rewriter.notifyMatchFailure(matmul, "needs static tensor shapes");
  if (!isa<FloatType>(aType.getElementType()) ||
      !isa<FloatType>(cType.getElementType()))
    return rewriter.notifyMatchFailure(matmul, "needs float operands");

  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(matmul);
  PackedKernels k(rewriter, matmul.getLoc(), packed, config);
  const Layout &l = k.layout();
  int64_t rows = aType.getDimSize(0);
  Value result;
  if (l.live == 0 || rows == 0 || cType.getNumElements() == 0) {
    // Every weight is 0, or the product is empty: it adds nothing.
    result = c;
  } else if (rows <= config.decodeMaxRows) {
    Value xs = k.gather(a, /*scaled=*/true);
    Value sums = k.activationSums(a, k.autoSplit(k.decodeLanes()));
    Value partial = k.decode(xs, sums, rows);
    result = k.finalize(partial, c);
  } else {
    Value xs = k.gather(a, /*scaled=*/false);
    Value weights = k.dequantizePacked(
        config.dequantToF16 ? rewriter.getF16Type() : rewriter.getF32Type());
    result = k.tiledMatmul(xs, weights, c);
  }
  rewriter.replaceOp(matmul, result);
  if (dequant->use_empty())
    rewriter.eraseOp(dequant);
  return success();
}

LogicalResult mlir::baq::buildDequantize(RewriterBase &rewriter,
                                         DequantizeOp dequant,
                                         const KernelConfig &config) {
  PackedConstantOp packed = getPackedSource(dequant);
  if (!packed)
    return rewriter.notifyMatchFailure(
        dequant, "operands are not the results of one baq.packed_constant");
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(dequant);
  auto resultType = cast<RankedTensorType>(dequant.getResult().getType());
  PackedKernels k(rewriter, dequant.getLoc(), packed, config);
  Value result;
  if (k.layout().live == 0) {
    result = arith::ConstantOp::create(
        rewriter, dequant.getLoc(),
        DenseElementsAttr::get(
            resultType, rewriter.getZeroAttr(resultType.getElementType())));
  } else {
    Value weights = k.dequantizePacked(resultType.getElementType());
    result = k.scatter(weights, resultType);
  }
  rewriter.replaceOp(dequant, result);
  return success();
}
