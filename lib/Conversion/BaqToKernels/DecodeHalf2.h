//===- DecodeHalf2.h - f16x2 variant of the decode kernel -------*- C++ -*-===//
//
// unpack=half2: the decode kernel's full chunks unpack two codes per
// (x & mask) | 0x64006400 into an f16 pair (the f16 magic 1024 + q) and take
// them with one f16x2 subtract (of 1024, exact) and one f16x2 FMA. The chunk
// loops read a payload repacked at compile time so that the two codes of a
// pair sit at the same bits of the two 16-bit halves of a word; partial
// chunks keep the exact f32 path on the original payload. Layout and
// numerics: docs/KERNELS.md §3 and §4.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_LIB_CONVERSION_BAQTOKERNELS_DECODEHALF2_H
#define BAQ_LIB_CONVERSION_BAQTOKERNELS_DECODEHALF2_H

#include "baq/Dialect/Baq/IR/BaqAttrs.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace mlir {
namespace baq {
namespace half2 {

/// The loop chunks (32 codes) of one segment in the repacked payload.
struct SegmentChunks {
  int bits = 0;
  /// Packed position of the segment's first code, and its padded position.
  int64_t start = 0, padStart = 0;
  /// Chunks [0, chunks) are repacked (the ones the decode loops read).
  int64_t chunks = 0;
  /// Row-interleaved word of chunk 0: chunk c's word j is word0 + c bits + j.
  int64_t word0 = 0;
};

/// How pair i (codes i and i + 16 of a chunk) of a `bits`-bit chunk is
/// unpacked. Code i lies at bits [t, t + bits) of the 16-bit stream of codes
/// 0..15 (t = i bits mod 16, 16-bit piece `word`), code i + 16 at the same
/// bits of the stream of codes 16..31 in the upper halves.
struct PairUnpack {
  int word = 0;
  /// The word is shifted right by `shift`, then masked with `mask` (both
  /// halves); a straddling pair ORs in the next word shifted left by 16 - t
  /// and masked with `highMask`.
  int shift = 0;
  uint32_t mask = 0, highMask = 0;
  bool straddle = false;
  /// The masked value is q * 2^scaleExp; the activation carries 2^-scaleExp.
  int scaleExp = 0;
};
PairUnpack pairUnpack(int bits, int i);

/// Assigns word0 to each segment; returns the repacked payload's words per
/// row.
int64_t assignWords(MutableArrayRef<SegmentChunks> segs);

/// The repacked payload, tensor<(words * M) x i32>, element w * M + row.
DenseElementsAttr repackPayload(PackedLayoutAttr layout, ElementsAttr payload,
                                ArrayRef<SegmentChunks> segs, int64_t words);

/// Per pair word p (two padded positions) of the f16 activations: the
/// original channel (-1: none, the word's half is 0) and power-of-two factor
/// of its low and high half.
struct PairSources {
  SmallVector<int32_t> channel[2];
  SmallVector<float> factor[2];
};
PairSources pairSources(PackedLayoutAttr layout, ArrayRef<SegmentChunks> segs,
                        int64_t padded);

/// One pair word of the gathered f16 activations of row `row`:
/// f16(x[row, ch0] f0) | f16(x[row, ch1] f1) << 16 as i32 (0 halves where
/// the channel is -1). `tables` are the four PairSources tables as tensors.
Value gatherPairWord(OpBuilder &b, Location loc, Value a, Value row, Value item,
                     ArrayRef<Value> tables);

/// Accumulates `count` loop chunks [c, c + count) of `seg` for output rows
/// [row0, row0 + v) and every activation row into `accs` (one f32 value per
/// activation row: f32 for v = 1, vector<v x f32> otherwise). `payload` is
/// the repacked payload (M rows), `xh` the gathered pair words
/// tensor<R x (padded / 2) x i32>.
void emitChunks(OpBuilder &b, Location loc, Value payload, Value xh, Value row0,
                int64_t v, int64_t m, const SegmentChunks &seg, Value c,
                int64_t count, MutableArrayRef<Value> accs);

} // namespace half2
} // namespace baq
} // namespace mlir

#endif // BAQ_LIB_CONVERSION_BAQTOKERNELS_DECODEHALF2_H
