//===- DecodeHalf2Test.cpp - half2 decode: repacking and pair unpacking ---===//
//
// Exhaustive over every bitwidth 1..8, every pair position of a chunk and
// every (code i, code i + 16) combination: codes are packed in the FORMAT.md
// payload (numerics::packCodes), repacked for the kernel, and unpacked with
// the bit operations the kernel emits (shift, AND mask, OR 0x64006400, and
// the second word of a straddling pair). Each 16-bit half must be the f16
// 1024 + q 2^e with q 2^e < 1024, so that subtracting 1024 is exact. This
// is what the GPU's lop3.b32 computes and the CPU-executed tests cannot see
// (they run the same operations as arith and/or).
//
//===----------------------------------------------------------------------===//

#include "DecodeHalf2.h"

#include "baq/Dialect/Baq/IR/BaqDialect.h"
#include "baq/Numerics/Numerics.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::baq;

namespace {

TEST(DecodeHalf2, RepackAndUnpackEveryCodePair) {
  MLIRContext ctx;
  ctx.loadDialect<BaqDialect>();
  for (int bits = 1; bits <= 8; ++bits) {
    const int64_t levels = int64_t{1} << bits;
    // Row r holds, at pair i, codes (r + i, r / levels + 3 i) mod levels:
    // over the rows every pair position sees every combination.
    const int64_t m = levels * levels, n = 32;
    SmallVector<int8_t> widths(n, static_cast<int8_t>(bits));
    Type f16 = Float16Type::get(&ctx);
    auto layout = PackedLayoutAttr::get(&ctx, m, /*channelDim=*/1, widths,
                                        /*groupSize=*/0, f16, f16);
    ::baq::numerics::PackedLayout l =
        ::baq::numerics::computeLayout(widths, m, 0);
    auto code = [&](int64_t r, int k) -> uint32_t {
      int i = k % 16;
      return k < 16 ? (r + i) % levels : (r / levels + 3 * i) % levels;
    };
    std::vector<uint8_t> codes(m * n);
    for (int64_t r = 0; r < m; ++r)
      for (int k = 0; k < n; ++k)
        codes[r * n + layout.getPerm()[k]] = static_cast<uint8_t>(code(r, k));
    std::vector<uint32_t> words = ::baq::numerics::packCodes(l, codes);
    auto payloadType = RankedTensorType::get(
        {static_cast<int64_t>(words.size())}, IntegerType::get(&ctx, 32));
    auto payload = DenseElementsAttr::get(
        payloadType,
        ArrayRef<int32_t>(reinterpret_cast<const int32_t *>(words.data()),
                          words.size()));

    half2::SegmentChunks seg{bits, 0, 0, 1, 0};
    int64_t count = half2::assignWords(seg);
    ASSERT_EQ(count, bits);
    DenseElementsAttr repacked =
        half2::repackPayload(layout, payload, seg, count);
    std::vector<uint32_t> out;
    for (const APInt &v : repacked.getValues<APInt>())
      out.push_back(static_cast<uint32_t>(v.getZExtValue()));
    ASSERT_EQ(static_cast<int64_t>(out.size()), count * m);

    for (int i = 0; i < 16; ++i) {
      half2::PairUnpack p = half2::pairUnpack(bits, i);
      for (int64_t r = 0; r < m; ++r) {
        uint32_t w = out[(seg.word0 + p.word) * m + r];
        uint32_t v = ((w >> p.shift) & p.mask) | 0x64006400u;
        if (p.straddle)
          v |= (out[(seg.word0 + p.word + 1) * m + r] << (16 - p.shift)) &
               p.highMask;
        for (int h = 0; h < 2; ++h) {
          uint32_t q = code(r, 16 * h + i) << p.scaleExp;
          ASSERT_LT(q, 1024u) << "bits " << bits << " pair " << i;
          ASSERT_EQ((v >> (16 * h)) & 0xFFFFu, 0x6400u | q)
              << "bits " << bits << " pair " << i << " row " << r << " half "
              << h;
        }
      }
    }
  }
}

TEST(DecodeHalf2, SegmentsFollowEachOther) {
  half2::SegmentChunks segs[] = {{3, 0, 0, 2, 0}, {1, 64, 64, 5, 0}};
  EXPECT_EQ(half2::assignWords(segs), 2 * 3 + 5 * 1);
  EXPECT_EQ(segs[0].word0, 0);
  EXPECT_EQ(segs[1].word0, 6);
}

} // namespace
