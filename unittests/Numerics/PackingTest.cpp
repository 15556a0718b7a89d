//===- PackingTest.cpp - The packed format of docs/FORMAT.md --------------===//

#include "baq/Numerics/Numerics.h"

#include "TestUtil.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>

using namespace baq::numerics;
using namespace baq::testutil;

namespace {

/// FORMAT.md §1-3 written out bit by bit, independently of packCodes: each
/// row's codes in packed order form one stream of L bits; stream bit t < 32F
/// (F = L / 32) is bit t % 32 of word (t / 32) * M + i, and the r = L % 32
/// remaining bits of every row follow as one stream, row i at tail bit
/// i * r.
std::vector<uint32_t> referencePack(const std::vector<int8_t> &bits, int64_t m,
                                    const std::vector<uint8_t> &codes) {
  const int64_t n = bits.size();
  std::vector<int64_t> order;
  for (int b = 8; b >= 1; --b)
    for (int64_t j = 0; j < n; ++j)
      if (bits[j] == b)
        order.push_back(j);
  int64_t rowBits = 0;
  for (int8_t b : bits)
    rowBits += b;
  const int64_t f = rowBits / 32, r = rowBits % 32;
  std::vector<uint32_t> payload(f * m + (r * m + 31) / 32, 0);
  for (int64_t i = 0; i < m; ++i) {
    int64_t t = 0;
    for (int64_t channel : order) {
      int code = codes[i * n + channel];
      for (int bit = 0; bit < bits[channel]; ++bit, ++t) {
        int64_t a = t < 32 * f ? ((t / 32) * m + i) * 32 + t % 32
                               : 32 * f * m + i * r + (t - 32 * f);
        if ((code >> bit) & 1)
          payload[a / 32] |= 1u << (a % 32);
      }
    }
  }
  return payload;
}

std::vector<uint8_t> randomCodes(const std::vector<int8_t> &bits, int64_t m,
                                 unsigned seed) {
  std::mt19937 rng(seed);
  const int64_t n = bits.size();
  std::vector<uint8_t> codes(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      codes[i * n + j] = bits[j] == 0 ? 0 : rng() % (1u << bits[j]);
  return codes;
}

TEST(PackingTest, CanonicalLayout) {
  std::vector<int8_t> bits = {3, 0, 8, 3, 1, 8, 0, 2};
  PackedLayout layout = computeLayout(bits, 4, 4);
  EXPECT_EQ(layout.perm, (std::vector<int32_t>{2, 5, 0, 3, 7, 4, 1, 6}));
  for (int64_t p = 0; p < 8; ++p)
    EXPECT_EQ(layout.posOf[layout.perm[p]], p);
  ASSERT_EQ(layout.segments.size(), 4u);
  const int64_t expected[4][4] = {
      {8, 0, 2, 0}, {3, 2, 2, 16}, {2, 4, 1, 22}, {1, 5, 1, 24}};
  for (int s = 0; s < 4; ++s) {
    EXPECT_EQ(layout.segments[s].bits, expected[s][0]);
    EXPECT_EQ(layout.segments[s].start, expected[s][1]);
    EXPECT_EQ(layout.segments[s].count, expected[s][2]);
    EXPECT_EQ(layout.segments[s].bitOffset, expected[s][3]);
  }
  EXPECT_EQ(layout.live, 6);
  EXPECT_EQ(layout.rowBits, 25);
  EXPECT_EQ(layout.fullWords, 0);
  EXPECT_EQ(layout.tailBits, 25);
  // 4 rows x 25 bits = 100 bits: 4 words, 28 bits of padding.
  EXPECT_EQ(layout.payloadWords, 4);
  EXPECT_EQ(layout.numGroups, 2);
  EXPECT_EQ(layout.groupOfChannel(2), 0); // position 0
  EXPECT_EQ(layout.groupOfChannel(3), 0); // position 3
  EXPECT_EQ(layout.groupOfChannel(7), 1); // position 4
  EXPECT_EQ(layout.groupOfChannel(4), 1); // position 5

  PackedLayout single = computeLayout(bits, 4, 0);
  EXPECT_EQ(single.numGroups, 1);
  EXPECT_EQ(single.groupOfChannel(4), 0);
}

TEST(PackingTest, SegmentWordsStraddle) {
  // 11 three-bit codes: 33 bits, one full word and a 1-bit tail.
  std::vector<int8_t> bits(11, 3);
  PackedLayout layout = computeLayout(bits, 1, 0);
  EXPECT_EQ(layout.fullWords, 1);
  EXPECT_EQ(layout.payloadWords, 2);
  std::vector<uint8_t> codes = {7, 1, 2, 3, 4, 5, 6, 7, 0, 1, 5};
  std::vector<uint32_t> words = packCodes(layout, codes);
  uint64_t stream = 0;
  for (int k = 10; k >= 0; --k)
    stream = (stream << 3) | codes[k];
  EXPECT_EQ(words[0], static_cast<uint32_t>(stream));
  EXPECT_EQ(words[1], static_cast<uint32_t>(stream >> 32));
  EXPECT_EQ(words[1], 1u); // code 5 = 0b101: bits 30, 31 and 32
}

TEST(PackingTest, RoundTripEveryBitwidth) {
  const int64_t m = 5, n = 37;
  for (int b = 0; b <= kMaxBits; ++b) {
    for (int64_t groupSize : {0, 8}) {
      std::vector<int8_t> bits(n, static_cast<int8_t>(b));
      PackedLayout layout = computeLayout(bits, m, groupSize);
      EXPECT_EQ(layout.payloadWords, (n * b * m + 31) / 32);
      std::vector<uint8_t> codes = randomCodes(bits, m, 100 + b);
      std::vector<uint32_t> words = packCodes(layout, codes);
      ASSERT_EQ(static_cast<int64_t>(words.size()), layout.payloadWords);
      EXPECT_EQ(words, referencePack(bits, m, codes)) << "bits " << b;
      EXPECT_EQ(unpackCodes(layout, words), codes) << "bits " << b;
    }
  }
}

TEST(PackingTest, RoundTripMixed) {
  const int64_t m = 5, n = 37;
  std::mt19937 rng(42);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<int8_t> bits(n);
    for (int8_t &b : bits)
      b = rng() % (kMaxBits + 1);
    for (int64_t groupSize : {0, 8}) {
      PackedLayout layout = computeLayout(bits, m, groupSize);
      std::vector<uint8_t> codes = randomCodes(bits, m, trial);
      std::vector<uint32_t> words = packCodes(layout, codes);
      EXPECT_EQ(words, referencePack(bits, m, codes));
      EXPECT_EQ(unpackCodes(layout, words), codes);
      // At most one partial word of padding in the whole payload.
      StorageBits st = computeStorage(layout, GridType::F16, GridType::F16);
      EXPECT_GE(st.padding, 0);
      EXPECT_LT(st.padding, 32);
      int64_t live = std::count_if(bits.begin(), bits.end(),
                                   [](int8_t b) { return b > 0; });
      EXPECT_EQ(layout.live, live);
      EXPECT_EQ(layout.numGroups,
                groupSize == 0 ? 1 : std::max<int64_t>(1, (live + 7) / 8));
    }
  }
}

TEST(PackingTest, StorageByHand) {
  // bits sum 17 per row; 4 rows: 68 bits in 3 words, 28 bits of padding.
  std::vector<int8_t> bits = {3, 0, 2, 3, 8, 1};
  PackedLayout layout = computeLayout(bits, 4, 0);
  StorageBits s = computeStorage(layout, GridType::F16, GridType::F16);
  EXPECT_EQ(s.payload, 4 * 17);
  EXPECT_EQ(s.padding, 32 * 3 - 68);
  EXPECT_EQ(s.scales, 4 * 16);
  EXPECT_EQ(s.zeros, 4 * 16);
  EXPECT_EQ(s.bitTable, 24);
  EXPECT_EQ(s.permutation, 0);
  EXPECT_EQ(s.total(), 96 + 64 + 64 + 24);

  // Groups of 2 over the 5 live positions: G = 3.
  PackedLayout grouped = computeLayout(bits, 4, 2);
  StorageBits g = computeStorage(grouped, GridType::BF16, GridType::F32);
  EXPECT_EQ(g.scales, 4 * 3 * 16);
  EXPECT_EQ(g.zeros, 4 * 3 * 32);
  EXPECT_EQ(g.total(), 96 + 192 + 384 + 24);
}

TEST(PackingTest, RoundToGridType) {
  const float third = 1.0f / 3.0f;
  EXPECT_EQ(roundToGridType(third, GridType::F32), third);
  EXPECT_EQ(roundToGridType(third, GridType::F16), 0.333251953125f);
  EXPECT_EQ(roundToGridType(third, GridType::BF16), 0.333984375f);
  // Ties to even.
  EXPECT_EQ(roundToGridType(1.0f + std::ldexp(1.0f, -11), GridType::F16), 1.0f);
  EXPECT_EQ(roundToGridType(1.0f + 3 * std::ldexp(1.0f, -11), GridType::F16),
            1.0f + std::ldexp(1.0f, -9));
  EXPECT_EQ(roundToGridType(1.0f + std::ldexp(1.0f, -8), GridType::BF16), 1.0f);
  // Subnormals and saturation.
  EXPECT_EQ(roundToGridType(std::ldexp(1.0f, -24), GridType::F16),
            std::ldexp(1.0f, -24));
  EXPECT_EQ(roundToGridType(std::ldexp(1.0f, -26), GridType::F16), 0.0f);
  EXPECT_EQ(roundToGridType(-1e6f, GridType::F16), -65504.0f);
  EXPECT_EQ(gridTypeBits(GridType::F16), 16);
  EXPECT_EQ(gridTypeBits(GridType::BF16), 16);
  EXPECT_EQ(gridTypeBits(GridType::F32), 32);
}

TEST(PackingTest, DequantizeByHand) {
  std::vector<int8_t> bits = {2, 0, 3};
  PackedLayout layout = computeLayout(bits, 2, 0);
  std::vector<uint8_t> codes = {3, 0, 5, 0, 0, 7};
  std::vector<float> scales = {1.5f, 0.75f}, zeros = {-0.5f, -0.25f};
  std::vector<float> w =
      dequantize(layout, packCodes(layout, codes), scales, zeros);
  // Row 0: range 1.5, min -0.5. 2 bits: step 0.5, zero point 1;
  // 3 bits: step 1.5/7, zero point round(0.5 / (1.5/7)) = round(2.33) = 2.
  EXPECT_EQ(w[0], (3.0f - 1.0f) * (1.5f / 3.0f));
  EXPECT_EQ(w[1], 0.0f);
  EXPECT_EQ(w[2], (5.0f - 2.0f) * (1.5f / 7.0f));
  // Row 1: range 0.75, min -0.25. 2 bits: step 0.25, zero point 1;
  // 3 bits: step 0.75/7, zero point round(2.33) = 2.
  EXPECT_EQ(w[3], (0.0f - 1.0f) * 0.25f);
  EXPECT_EQ(w[4], 0.0f);
  EXPECT_EQ(w[5], (7.0f - 2.0f) * (0.75f / 7.0f));
}

TEST(PackingTest, DequantizeReproducesQuantizersExactly) {
  const int64_t m = 5, n = 37;
  std::vector<float> w = randomNormal(m * n, 8);
  std::vector<float> h = randomHessian(n, 8);
  auto prepared = prepareHessian(h, n, HessianOptions());
  ASSERT_TRUE(static_cast<bool>(prepared));
  std::mt19937 rng(8);
  std::vector<int8_t> bits(n);
  for (int8_t &b : bits)
    b = rng() % (kMaxBits + 1);
  for (GridType type : {GridType::F16, GridType::BF16, GridType::F32}) {
    for (int64_t groupSize : {0, 8}) {
      QuantizerOptions options;
      options.groupSize = groupSize;
      options.scaleType = type;
      options.zeroType = type;
      options.blockSize = 8;
      for (bool gptq : {false, true}) {
        QuantizedWeight q =
            gptq ? quantizeGptq(w, m, n, bits, *prepared, options)
                 : quantizeRtn(w, m, n, bits, options);
        for (size_t k = 0; k < q.scales.size(); ++k) {
          EXPECT_EQ(roundToGridType(q.scales[k], type), q.scales[k]);
          EXPECT_EQ(roundToGridType(q.zeros[k], type), q.zeros[k]);
        }
        std::vector<float> unpacked = dequantize(
            q.layout, packCodes(q.layout, q.codes), q.scales, q.zeros);
        ASSERT_EQ(unpacked.size(), q.dequant.size());
        EXPECT_EQ(std::memcmp(unpacked.data(), q.dequant.data(),
                              unpacked.size() * sizeof(float)),
                  0)
            << "gptq " << gptq << " group " << groupSize;
      }
    }
  }
}

// FORMAT.md §4, 8-bit zero codes: zq = clamp(round(-255 lo / s), 0, 255) and
// z = -((s * zq) / 255), checked on hand-computed values.
TEST(PackingTest, U8ZeroCodes) {
  EXPECT_EQ(gridTypeBits(GridType::U8), 8);
  // lo = -0.25 of a range 1: zq = round(63.75) = 64, z = -64 / 255.
  EXPECT_EQ(encodeZero(-0.25f, 1.0f, GridType::U8), 64.0f);
  EXPECT_EQ(decodeZero(64.0f, 1.0f, GridType::U8), -(64.0f / 255.0f));
  // The code is clamped to [0, 255]; an all-zero group stores 0.
  EXPECT_EQ(encodeZero(0.5f, 1.0f, GridType::U8), 0.0f);
  EXPECT_EQ(encodeZero(-2.0f, 1.0f, GridType::U8), 255.0f);
  EXPECT_EQ(encodeZero(-1.0f, 0.0f, GridType::U8), 0.0f);
  EXPECT_EQ(decodeZero(255.0f, 3.0f, GridType::U8), -3.0f);
  // Float types store the minimum itself.
  EXPECT_EQ(encodeZero(-0.1f, 1.0f, GridType::F32), -0.1f);
  EXPECT_EQ(decodeZero(-0.1f, 1.0f, GridType::F16), -0.1f);
  // 2 bits on s = 3, zq = 170: z = -2, step 1, zp = 2; code 0 is -2.0.
  PackedLayout layout = computeLayout({2}, 1, 0);
  std::vector<uint32_t> words = packCodes(layout, {0});
  EXPECT_EQ(dequantize(layout, words, {3.0f}, {170.0f}, GridType::U8),
            std::vector<float>{-2.0f});
  // The honest size counts 8 bits per zero.
  EXPECT_EQ(computeStorage(layout, GridType::F16, GridType::U8).zeros, 8);
}

// FORMAT.md §4, 8-bit scale codes: s = (16 + c mod 16) 2^(floor(c/16) - 16),
// 0 for c = 0; encoding picks the nearest code. Checked against the formula
// in double and against a brute-force nearest-code search.
TEST(PackingTest, E4M4ScaleCodes) {
  EXPECT_EQ(gridTypeBits(GridType::E4M4), 8);
  EXPECT_EQ(decodeScaleCode(0), 0.0f);
  EXPECT_EQ(decodeScaleCode(1), 17.0f / 65536.0f);
  EXPECT_EQ(decodeScaleCode(0x80), 1.0f / 16.0f);  // e 8, m 0
  EXPECT_EQ(decodeScaleCode(0xC8), 24.0f / 16.0f); // e 12, m 8: 1.5
  EXPECT_EQ(decodeScaleCode(255), kLargestScaleCode);
  std::vector<double> values(256);
  for (int c = 0; c < 256; ++c) {
    values[c] = c == 0 ? 0.0 : std::ldexp(16.0 + (c & 15), (c >> 4) - 16);
    EXPECT_EQ(static_cast<double>(decodeScaleCode(c)), values[c]) << c;
    if (c > 1)
      EXPECT_GT(values[c], values[c - 1]) << "codes increase with c";
    EXPECT_EQ(encodeScaleCode(decodeScaleCode(c)), c) << "round trip " << c;
  }
  // Nearest code by brute force on values between and beyond the codes.
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> logScale(-16.0, 4.5);
  for (int trial = 0; trial < 20000; ++trial) {
    const float x = static_cast<float>(std::exp2(logScale(rng)));
    int best = 1;
    for (int c = 2; c < 256; ++c)
      if (std::fabs(values[c] - x) < std::fabs(values[best] - x))
        best = c;
    const int got = encodeScaleCode(x);
    // Ties (half-way between two codes) may go either way to the even one.
    EXPECT_EQ(std::fabs(values[got] - x), std::fabs(values[best] - x))
        << x << ": code " << got << ", nearest " << best;
    EXPECT_EQ(roundToGridType(x, GridType::E4M4), decodeScaleCode(got));
  }
  EXPECT_EQ(encodeScaleCode(0.0f), 0);
  EXPECT_EQ(encodeScaleCode(-1.0f), 0);
  EXPECT_EQ(encodeScaleCode(std::nanf("")), 0);
  EXPECT_EQ(encodeScaleCode(1e6f), 255);
  // A positive range below code 1 is stored as code 1, never as 0.
  EXPECT_EQ(encodeScaleCode(decodeScaleCode(1) * 0.01f), 1);
  EXPECT_EQ(encodeScaleCode(decodeScaleCode(1) * 0.6f), 1);
  EXPECT_EQ(encodeScaleCode(std::numeric_limits<float>::denorm_min()), 1);
  // Weights up to 15.5 / 2 are accepted when requested; wider ranges not.
  std::vector<float> small = {7.75f, -1.0f}, wide = {8.0f, -1.0f};
  EXPECT_EQ(*chooseGridType(small, GridType::E4M4), GridType::E4M4);
  llvm::Expected<GridType> refused = chooseGridType(wide, GridType::E4M4);
  ASSERT_FALSE(static_cast<bool>(refused));
  llvm::consumeError(refused.takeError());
  PackedLayout layout = computeLayout({2, 3}, 4, 0);
  EXPECT_EQ(computeStorage(layout, GridType::E4M4, GridType::U8).scales, 32);
}

// The quantizers round with the grid a decoder derives from the stored codes,
// so dequantize() reproduces their floats bit for bit, with and without the
// MSE search, for every bitwidth and groups.
TEST(PackingTest, U8ZerosReproduceQuantizersExactly) {
  const int64_t m = 6, n = 41;
  std::vector<float> w = randomNormal(m * n, 9);
  std::vector<float> h = randomHessian(n, 9);
  auto prepared = prepareHessian(h, n, HessianOptions());
  ASSERT_TRUE(static_cast<bool>(prepared));
  std::mt19937 rng(9);
  std::vector<int8_t> bits(n);
  for (int8_t &b : bits)
    b = rng() % (kMaxBits + 1);
  for (bool mse : {false, true}) {
    for (int64_t groupSize : {0, 8}) {
      QuantizerOptions options;
      options.groupSize = groupSize;
      options.zeroType = GridType::U8;
      options.mseGrid = mse;
      options.blockSize = 8;
      for (bool gptq : {false, true}) {
        QuantizedWeight q =
            gptq ? quantizeGptq(w, m, n, bits, *prepared, options)
                 : quantizeRtn(w, m, n, bits, options);
        for (float z : q.zeros) {
          EXPECT_EQ(z, std::nearbyint(z));
          EXPECT_GE(z, 0.0f);
          EXPECT_LE(z, 255.0f);
        }
        std::vector<float> unpacked =
            dequantize(q.layout, packCodes(q.layout, q.codes), q.scales,
                       q.zeros, GridType::U8);
        ASSERT_EQ(unpacked.size(), q.dequant.size());
        EXPECT_EQ(std::memcmp(unpacked.data(), q.dequant.data(),
                              unpacked.size() * sizeof(float)),
                  0)
            << "gptq " << gptq << " group " << groupSize << " mse " << mse;
      }
    }
  }
}

// With 8-bit zero codes the minimum moves by at most half a code (s / 510):
// RTN's error stays within a step (half for rounding, half for the integer
// zero point) plus that shift.
TEST(PackingTest, U8ZerosKeepRtnErrorBounded) {
  const int64_t m = 8, n = 32;
  std::vector<float> w = randomNormal(m * n, 10);
  std::vector<int8_t> bits(n, 4);
  QuantizerOptions options;
  options.zeroType = GridType::U8;
  options.scaleType = GridType::F32;
  QuantizedWeight q = quantizeRtn(w, m, n, bits, options);
  for (int64_t i = 0; i < m; ++i) {
    const float s = q.scales[i];
    for (int64_t j = 0; j < n; ++j)
      EXPECT_LE(std::fabs(q.dequant[i * n + j] - w[i * n + j]),
                s / 15.0f + s / 510.0f + 1e-6f)
          << i << ", " << j;
  }
}

// The min-max grid with 8-bit scale codes takes the code at or above each
// range (codes are 1/16 to 1/32 apart): nothing is clipped, and RTN's error
// stays within a stored step (half for rounding, half for the integer zero
// point) plus the zero code's shift, as with float scales.
TEST(PackingTest, E4M4MinMaxGridClipsNothing) {
  const int64_t m = 16, n = 40;
  std::vector<float> w = randomNormal(m * n, 11);
  for (int bits : {2, 4, 8}) {
    std::vector<int8_t> widths(n, bits);
    QuantizerOptions options;
    options.zeroType = GridType::U8;
    options.scaleType = GridType::E4M4;
    options.mseGrid = false;
    QuantizedWeight q = quantizeRtn(w, m, n, widths, options);
    for (int64_t i = 0; i < m; ++i) {
      const float s = q.scales[i];
      EXPECT_EQ(s, roundToGridType(s, GridType::E4M4)) << "a code's value";
      float lo = 0, hi = 0;
      for (int64_t j = 0; j < n; ++j) {
        lo = std::min(lo, w[i * n + j]);
        hi = std::max(hi, w[i * n + j]);
      }
      EXPECT_GE(s, hi - lo) << "row " << i;
      EXPECT_LT(s, (hi - lo) * (1 + 1.0f / 16)) << "the next code up";
      const float step = s / static_cast<float>((1 << bits) - 1);
      for (int64_t j = 0; j < n; ++j)
        EXPECT_LE(std::fabs(q.dequant[i * n + j] - w[i * n + j]),
                  step + s / 510.0f + 1e-6f)
            << bits << " bits, " << i << ", " << j;
    }
  }
}

TEST(PackingTest, ChooseGridTypeHoldsEveryRange) {
  auto chosen = [](std::vector<float> w, std::optional<GridType> requested) {
    llvm::Expected<GridType> type = chooseGridType(w, requested);
    if (!type)
      return std::string("error: ") + llvm::toString(type.takeError());
    return std::string(*type == GridType::F16    ? "f16"
                       : *type == GridType::BF16 ? "bf16"
                       : *type == GridType::E4M4 ? "u8"
                                                 : "f32");
  };
  // Row ranges reach 2 max|w|: 8-bit codes up to 15.5 (7.75), f16 up to
  // 32752 (2 x 32752 = 65504), one more step does not fit either.
  EXPECT_EQ(chosen({7.75f, -1.0f}, std::nullopt), "u8");
  EXPECT_EQ(chosen({7.76f, -1.0f}, std::nullopt), "f16");
  EXPECT_EQ(chosen({32752.0f, -1.0f}, std::nullopt), "f16");
  EXPECT_EQ(chosen({32768.0f, -1.0f}, std::nullopt), "f32");
  // All ranges below code 1 (2.6e-4): f16; below f16's normal range: f32.
  EXPECT_EQ(chosen({1e-4f, -1e-5f}, std::nullopt), "f16");
  EXPECT_EQ(chosen({1e-6f, -1e-6f}, std::nullopt), "f32");
  EXPECT_EQ(chosen({0.0f, 0.0f}, std::nullopt), "u8");
  EXPECT_EQ(chosen({8.0f}, GridType::E4M4),
            "error: weights up to 8 make scale ranges exceed the largest u8 "
            "scale code value; use scale-type=f16 (or auto)");
  EXPECT_EQ(chosen({1e5f}, GridType::BF16), "bf16");
  EXPECT_EQ(chosen({1e5f}, GridType::F16),
            "error: weights up to 100000 make scale ranges exceed the "
            "largest f16 value; use scale-type=f32 (or auto)");
  EXPECT_EQ(chosen({3e38f}, std::nullopt),
            "error: weights up to 3e+38 make scale ranges overflow f32");
  // Non-finite weights are left to quantizeLayer, which names the position.
  EXPECT_EQ(
      chosen({std::numeric_limits<float>::infinity(), 1.0f}, std::nullopt),
      "u8");
}

} // namespace

namespace {

TEST(PackingTest, FindSmallRangesAtTheNormalBoundary) {
  // One row per case, one 1-bit column: the row's range is |w| (0 inside).
  auto find = [](float w, GridType type) {
    PackedLayout layout = computeLayout({1}, 1, 0);
    return findSmallRanges({w}, layout, type);
  };
  const float f16Normal = static_cast<float>(smallestNormal(GridType::F16));
  EXPECT_EQ(f16Normal, std::ldexp(1.0f, -14));
  EXPECT_FALSE(find(f16Normal, GridType::F16));
  EXPECT_FALSE(find(-f16Normal, GridType::F16));
  std::optional<SmallRanges> below =
      find(std::nextafter(f16Normal, 0.0f), GridType::F16);
  ASSERT_TRUE(below);
  EXPECT_EQ(below->count, 1);
  EXPECT_EQ(below->rounded, 0); // the largest subnormal: kept, imprecisely
  // Below half the smallest subnormal (2^-25) the scale rounds to 0.
  std::optional<SmallRanges> zero = find(1e-30f, GridType::F16);
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->rounded, 1);
  EXPECT_EQ(zero->stored, 0.0f);
  // bf16 and f32 share f32's exponent range.
  EXPECT_FALSE(find(1e-30f, GridType::BF16));
  EXPECT_FALSE(find(std::numeric_limits<float>::min(), GridType::F32));
  EXPECT_TRUE(find(std::numeric_limits<float>::denorm_min(), GridType::F32));
  EXPECT_TRUE(find(1e-39f, GridType::BF16));
  // A zero range is exact in every type.
  EXPECT_FALSE(find(0.0f, GridType::F16));
}

TEST(PackingTest, FindSmallRangesNamesTheSmallestGroup) {
  // 2 rows x 4 columns, 2 bits each, groups of 2 packed positions.
  std::vector<float> w = {1.0f, -1.0f, 3e-6f, -1e-6f, // row 0: 4e-6
                          2.0f, 1e-7f, 0.5f,  0.25f}; // row 1: 2.0, 0.5
  PackedLayout layout = computeLayout({2, 2, 2, 2}, 2, 2);
  std::optional<SmallRanges> small = findSmallRanges(w, layout, GridType::F16);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->count, 1);
  EXPECT_EQ(small->row, 0);
  EXPECT_EQ(small->group, 1);
  EXPECT_FLOAT_EQ(small->range, 4e-6f);
  EXPECT_EQ(small->stored, roundToGridType(4e-6f, GridType::F16));
  // 0-bit columns are outside every group: a tiny column that gets no bits
  // leaves no tiny range.
  PackedLayout dropped = computeLayout({2, 2, 0, 0}, 2, 2);
  EXPECT_FALSE(findSmallRanges(w, dropped, GridType::F16));
  EXPECT_FALSE(findSmallRanges(w, layout, GridType::F32));
}

} // namespace
