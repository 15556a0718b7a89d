//===- DecodeHalf2.cpp - f16x2 variant of the decode kernel ---------------===//
//
// Repacked chunk layout (per row, per loop chunk of a b-bit segment): b
// words; the low halves hold the 16 b-bit stream of codes 0..15 (code i at
// stream bits [i b, i b + b), 16 stream bits per word), the high halves the
// same stream of codes 16..31. Codes i and i + 16 therefore sit at the same
// bits of the two halves, and one mask (duplicated in both halves) extracts
// both: (w & mask) | 0x64006400 is the f16 pair (1024 + q_i 2^e, 1024 +
// q_{i+16} 2^e), exact while q 2^e < 1024 (pairUnpack picks e).
//
//===----------------------------------------------------------------------===//

#include "DecodeHalf2.h"

#include "baq/Numerics/Numerics.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::baq;
using namespace mlir::baq::half2;
namespace num = ::baq::numerics;

/// The f16 magic 1024 (0x6400) in both halves: 0x6400 | m is 1024 + m for
/// m < 1024.
static constexpr uint32_t kMagicPair = 0x64006400u;

PairUnpack mlir::baq::half2::pairUnpack(int bits, int i) {
  PairUnpack p;
  int bit = i * bits;
  int t = bit % 16;
  p.word = bit / 16;
  uint32_t m = (1u << bits) - 1u;
  auto both = [](uint32_t x) { return x | (x << 16); };
  if (t + bits > 16) {
    // Low 16 - t bits at the top of this half, the rest at the bottom of
    // the next word's half: shifted into place, no in-place scale.
    uint32_t low = (1u << (16 - t)) - 1u;
    p.straddle = true;
    p.shift = t;
    p.mask = both(low);
    p.highMask = both(m & ~low);
  } else if (t + bits <= 10) {
    p.mask = both(m << t);
    p.scaleExp = t;
  } else if (t >= 6) {
    // One shift by 6 brings every code of the top 6 bits under 2^10.
    p.shift = 6;
    p.mask = both(m << (t - 6));
    p.scaleExp = t - 6;
  } else {
    p.shift = t;
    p.mask = both(m);
  }
  return p;
}

int64_t mlir::baq::half2::assignWords(MutableArrayRef<SegmentChunks> segs) {
  int64_t words = 0;
  for (SegmentChunks &s : segs) {
    s.word0 = words;
    words += s.chunks * s.bits;
  }
  return words;
}

/// The payload's words, from a resource blob (verified by the op) or any
/// elements attribute with integer values.
static std::vector<uint32_t> readWords(ElementsAttr payload) {
  std::vector<uint32_t> words;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(payload)) {
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob()) {
      ArrayRef<char> data = blob->getData();
      words.resize(data.size() / 4);
      std::memcpy(words.data(), data.data(), words.size() * 4);
    }
    return words;
  }
  for (const APInt &v : payload.getValues<APInt>())
    words.push_back(static_cast<uint32_t>(v.getZExtValue()));
  return words;
}

DenseElementsAttr mlir::baq::half2::repackPayload(PackedLayoutAttr layout,
                                                  ElementsAttr payload,
                                                  ArrayRef<SegmentChunks> segs,
                                                  int64_t words) {
  int64_t m = layout.getOutputs(), n = layout.getInputs();
  num::PackedLayout l =
      num::computeLayout(layout.getBits(), m, layout.getGroupSize());
  std::vector<uint32_t> original = readWords(payload);
  std::vector<uint8_t> codes = num::unpackCodes(l, original);
  ArrayRef<int32_t> perm = layout.getPerm();
  SmallVector<int32_t> out(words * m, 0);
  for (const SegmentChunks &s : segs)
    for (int64_t c = 0; c < s.chunks; ++c)
      for (int64_t row = 0; row < m; ++row)
        for (int half = 0; half < 2; ++half)
          for (int i = 0; i < 16; ++i) {
            int64_t k = 32 * c + 16 * half + i;
            uint32_t q = codes[row * n + perm[s.start + k]];
            // Stream bit i * bits of this half: piece (word) bit / 16.
            for (int u = 0; u < s.bits; ++u) {
              int bit = i * s.bits + u;
              int64_t w = s.word0 + c * s.bits + bit / 16;
              out[w * m + row] |= static_cast<int32_t>(
                  ((q >> u) & 1u) << (bit % 16 + 16 * half));
            }
          }
  auto type = RankedTensorType::get({words * m},
                                    IntegerType::get(layout.getContext(), 32));
  return DenseElementsAttr::get(type, ArrayRef<int32_t>(out));
}

PairSources mlir::baq::half2::pairSources(PackedLayoutAttr layout,
                                          ArrayRef<SegmentChunks> segs,
                                          int64_t padded) {
  PairSources p;
  for (int h = 0; h < 2; ++h) {
    p.channel[h].assign(padded / 2, -1);
    p.factor[h].assign(padded / 2, 0.0f);
  }
  ArrayRef<int32_t> perm = layout.getPerm();
  for (const SegmentChunks &s : segs)
    for (int64_t c = 0; c < s.chunks; ++c)
      for (int i = 0; i < 16; ++i) {
        int64_t word = s.padStart / 2 + 16 * c + i;
        float factor = std::ldexp(1.0f, -pairUnpack(s.bits, i).scaleExp);
        for (int h = 0; h < 2; ++h) {
          p.channel[h][word] = perm[s.start + 32 * c + 16 * h + i];
          p.factor[h][word] = factor;
        }
      }
  return p;
}

Value mlir::baq::half2::gatherPairWord(OpBuilder &b, Location loc, Value a,
                                       Value row, Value item,
                                       ArrayRef<Value> tables) {
  Type i32 = b.getI32Type();
  Value zero32 = arith::ConstantIntOp::create(b, loc, 0, 32);
  Value word;
  for (int h = 0; h < 2; ++h) {
    Value ch = tensor::ExtractOp::create(b, loc, tables[h], item);
    Value factor = tensor::ExtractOp::create(b, loc, tables[2 + h], item);
    Value valid =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, ch, zero32);
    Value col = arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        arith::SelectOp::create(b, loc, valid, ch, zero32));
    Value x = tensor::ExtractOp::create(b, loc, a, ValueRange{row, col});
    if (!x.getType().isF32())
      x = arith::ExtFOp::create(b, loc, b.getF32Type(), x);
    x = arith::MulFOp::create(b, loc, x, factor);
    x = arith::SelectOp::create(
        b, loc, valid, x,
        arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f)));
    Value bits = arith::ExtUIOp::create(
        b, loc, i32,
        arith::BitcastOp::create(
            b, loc, b.getI16Type(),
            arith::TruncFOp::create(b, loc, b.getF16Type(), x)));
    if (h == 0) {
      word = bits;
      continue;
    }
    word = arith::OrIOp::create(
        b, loc, word,
        arith::ShLIOp::create(b, loc, bits,
                              arith::ConstantIntOp::create(b, loc, 16, 32)));
  }
  return word;
}

namespace {
/// Builds the chunk arithmetic on vector<v x i32> words / vector<2v x f16>
/// pairs.
struct Emitter {
  OpBuilder &b;
  Location loc;
  int64_t v;

  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value splatI32(uint32_t value) {
    auto type = VectorType::get({v}, b.getI32Type());
    return arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(type, ArrayRef<APInt>(APInt(32, value))));
  }
  Value shift(Value w, int amount, bool left) {
    if (amount == 0)
      return w;
    Value s = splatI32(amount);
    if (left)
      return arith::ShLIOp::create(b, loc, w, s);
    return arith::ShRUIOp::create(b, loc, w, s);
  }
  Value lop(Value x, uint32_t mask, Value orWith) {
    return arith::OrIOp::create(
        b, loc, arith::AndIOp::create(b, loc, x, splatI32(mask)), orWith);
  }
  Value read(Value tensor, ValueRange indices, int64_t lanes) {
    auto type = VectorType::get({lanes}, b.getI32Type());
    Value pad = arith::ConstantIntOp::create(b, loc, 0, 32);
    return vector::TransferReadOp::create(b, loc, type, tensor, indices, pad,
                                          ArrayRef<bool>{true});
  }
  Value asHalves(Value words) {
    auto wt = cast<VectorType>(words.getType());
    return vector::BitCastOp::create(
        b, loc, VectorType::get({2 * wt.getNumElements()}, b.getF16Type()),
        words);
  }
};
} // namespace

void mlir::baq::half2::emitChunks(OpBuilder &b, Location loc, Value payload,
                                  Value xh, Value row0, int64_t v, int64_t m,
                                  const SegmentChunks &seg, Value c,
                                  int64_t count, MutableArrayRef<Value> accs) {
  Emitter e{b, loc, v};
  const int bits = seg.bits;
  int64_t rows = cast<RankedTensorType>(xh.getType()).getDimSize(0);
  Type f16 = b.getF16Type(), f32 = b.getF32Type();
  auto pairType = VectorType::get({2 * v}, f16);
  // Every load of the `count` chunks first (bytes in flight), then the math.
  SmallVector<SmallVector<Value>> words(count), xs(count * rows);
  for (int64_t u = 0; u < count; ++u) {
    Value cu = arith::AddIOp::create(b, loc, c, e.index(u));
    for (int j = 0; j < bits; ++j) {
      // (word0 + cu bits + j) m + row0
      Value w = arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, cu, e.index(bits * m)),
          e.index((seg.word0 + j) * m));
      words[u].push_back(
          e.read(payload, {arith::AddIOp::create(b, loc, w, row0)}, v));
    }
    Value base = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, cu, e.index(16)),
        e.index(seg.padStart / 2));
    for (int64_t r = 0; r < rows; ++r)
      for (int q = 0; q < 4; ++q)
        xs[u * rows + r].push_back(e.asHalves(e.read(
            xh,
            {e.index(r), arith::AddIOp::create(b, loc, base, e.index(4 * q))},
            4)));
  }
  Value magic = e.splatI32(kMagicPair);
  Value bias = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(
          pairType, ArrayRef<APFloat>(APFloat(APFloat::IEEEhalf(), "1024"))));
  Value zeroPair = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(
          pairType, ArrayRef<APFloat>(APFloat(APFloat::IEEEhalf(), "0"))));
  // f16 sums of 16 count products per lane (all chunks of one call), then
  // f32: the conversion and f32 adds cost 4 v instructions per row.
  SmallVector<Value> half(rows, zeroPair);
  for (int64_t u = 0; u < count; ++u) {
    llvm::SmallDenseMap<std::pair<int, int>, Value> shifted;
    auto source = [&](int j, int amount) {
      Value &s = shifted[{j, amount}];
      if (!s)
        s = e.shift(words[u][j], amount, /*left=*/false);
      return s;
    };
    for (int i = 0; i < 16; ++i) {
      PairUnpack p = pairUnpack(bits, i);
      Value q = e.lop(source(p.word, p.shift), p.mask, magic);
      if (p.straddle)
        q = e.lop(e.shift(words[u][p.word + 1], 16 - p.shift, /*left=*/true),
                  p.highMask, q);
      // (1024 + q 2^e) - 1024 is exact; one f16x2 FMA per row pair.
      Value d = arith::SubFOp::create(b, loc, e.asHalves(q), bias);
      SmallVector<int64_t> lanes;
      for (int64_t k = 0; k < v; ++k) {
        lanes.push_back(2 * (i % 4));
        lanes.push_back(2 * (i % 4) + 1);
      }
      for (int64_t r = 0; r < rows; ++r) {
        Value x8 = xs[u * rows + r][i / 4];
        Value x = vector::ShuffleOp::create(b, loc, x8, x8, lanes);
        half[r] = math::FmaOp::create(b, loc, d, x, half[r]);
      }
    }
  }
  SmallVector<int64_t> even, odd;
  for (int64_t k = 0; k < v; ++k) {
    even.push_back(2 * k);
    odd.push_back(2 * k + 1);
  }
  for (int64_t r = 0; r < rows; ++r) {
    Value wide =
        arith::ExtFOp::create(b, loc, VectorType::get({2 * v}, f32), half[r]);
    Value sum = arith::AddFOp::create(
        b, loc, vector::ShuffleOp::create(b, loc, wide, wide, even),
        vector::ShuffleOp::create(b, loc, wide, wide, odd));
    if (v == 1)
      sum = vector::ExtractOp::create(b, loc, sum, ArrayRef<int64_t>{0});
    accs[r] = arith::AddFOp::create(b, loc, accs[r], sum);
  }
}
