//===- PackedFormat.h - The packed weight format ----------------*- C++ -*-===//
//
// The packed format of docs/FORMAT.md without any quantizer: the canonical
// layout of a bit assignment (permutation, segments with bit offsets, word
// counts), storage sizes, code packing and the exact dequantizer. Library
// BAQFormat, which links LLVMSupport only (no BLAS): the dialect's verifier,
// the packer and the tests use it; the quantizers (BAQNumerics) build on it.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_FORMAT_PACKEDFORMAT_H
#define BAQ_FORMAT_PACKEDFORMAT_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace baq {
namespace numerics {

constexpr int kMaxBits = 8;

//===----------------------------------------------------------------------===//
// Packed layout (docs/FORMAT.md)
//===----------------------------------------------------------------------===//

struct Segment {
  int bits = 0;
  int64_t start = 0;     // first packed position
  int64_t count = 0;     // number of channels
  int64_t bitOffset = 0; // first bit of the segment in a row's bit stream
  int64_t streamBits() const { return count * bits; }
};

/// Storage type of scales and zeros (FORMAT.md §4). U8 is for zeros only: an
/// 8-bit code zq standing for the minimum z = -((s * zq) / 255). E4M4 is for
/// scales only: an 8-bit code c standing for s = 0 (c = 0) or
/// s = (16 + c mod 16) * 2^(floor(c / 16) - 16), an unsigned float with 4
/// exponent and 4 mantissa bits covering [17 * 2^-16, 15.5].
enum class GridType { F16, BF16, F32, U8, E4M4 };
int gridTypeBits(GridType type);
/// Rounds `value` to the nearest representable value of `type`.
float roundToGridType(float value, GridType type);

/// The E4M4 scale code nearest to `scale` (ties to the even code; 0 for
/// non-positive or NaN values, 255 above the largest value, 1 for positive
/// values below code 1's).
uint8_t encodeScaleCode(float scale);
/// The scale an E4M4 code stands for; exact in f32.
float decodeScaleCode(uint8_t code);
/// The largest E4M4 scale (code 255).
constexpr float kLargestScaleCode = 15.5f;
/// The stored zero of a (row, group) whose stored scale is `scale` and whose
/// minimum is `lo`: `lo` rounded to `type`, or for U8 the code
/// clamp(round(-255 lo / scale), 0, 255) (0 when scale is not positive).
float encodeZero(float lo, float scale, GridType type);
/// The minimum z that a decoder derives from a stored zero (FORMAT.md §4):
/// the value itself, or for U8 z = -((scale * zq) / 255) in f32.
float decodeZero(float stored, float scale, GridType type);
/// The grid type for scales and zeros of weight `w`: `requested` if its
/// finite range holds every row range and minimum of `w` (at most twice the
/// largest |w|), else an error naming the option; with no request, E4M4
/// codes when they hold them, else f16 when it does (and they are not all
/// below f16's normal range), else f32. Errors when even f32 cannot.
llvm::Expected<GridType> chooseGridType(llvm::ArrayRef<float> w,
                                        std::optional<GridType> requested);

/// The smallest positive normal value of a float grid type.
double smallestNormal(GridType type);
const char *gridTypeName(GridType type);

struct PackedLayout;

/// The (row, group) ranges (max - min of the group's live weights, 0 forced
/// inside, as the grids take them) that are nonzero but below the smallest
/// normal value of `scaleType`: stored, such a scale keeps fewer significant
/// bits than the type's normal range, or rounds to 0 so that the group
/// decodes to zeros (FORMAT.md §4).
struct SmallRanges {
  int64_t count = 0;   // (row, group)s below the normal range
  int64_t rounded = 0; // of them, those whose stored scale is 0
  int64_t row = 0;     // the smallest such range: its row,
  int64_t group = 0;   // its group,
  float range = 0;     // its value,
  float stored = 0;    // and its value rounded to scaleType
};
std::optional<SmallRanges> findSmallRanges(llvm::ArrayRef<float> w,
                                           const PackedLayout &layout,
                                           GridType scaleType);

struct PackedLayout {
  int64_t m = 0, n = 0;
  std::vector<int8_t> bits;   // per original channel
  std::vector<int32_t> perm;  // packed position -> channel, all n channels
  std::vector<int64_t> posOf; // channel -> packed position
  std::vector<Segment> segments;
  int64_t live = 0;         // channels with bits > 0 (= P)
  int64_t groupSize = 0;    // 0: one group per row
  int64_t numGroups = 0;    // G (at least 1)
  int64_t rowBits = 0;      // L: bits of one row's stream (sum of bits)
  int64_t fullWords = 0;    // F = floor(L / 32): row-interleaved words per row
  int64_t tailBits = 0;     // r = L mod 32: bits per row in the shared tail
  int64_t payloadWords = 0; // F * M + ceil(M * r / 32)

  int64_t groupOfChannel(int64_t channel) const;
  /// [min, max] of row `row`'s weights in scale group `group` (the packed
  /// positions of live channels it covers, §4), with 0 forced inside: the
  /// range every grid of that (row, group) starts from.
  std::pair<float, float> groupRange(llvm::ArrayRef<float> w, int64_t row,
                                     int64_t group) const;
  /// Bit address in the flat payload (word a / 32, bit a % 32) of bit `t`
  /// of row `row`'s stream (FORMAT.md §3).
  int64_t flatBit(int64_t row, int64_t t) const;
};

/// Payload words of an M-row layout whose rows carry `rowBits` bits each.
int64_t countPayloadWords(int64_t rowBits, int64_t m);

/// Scale groups per row for `live` packed channels (at least 1; 0 = one
/// group per row).
int64_t countGroups(int64_t live, int64_t groupSize);

/// Builds the canonical layout for the given bitwidths (each 0..8).
PackedLayout computeLayout(llvm::ArrayRef<int8_t> bits, int64_t m,
                           int64_t groupSize);

struct StorageBits {
  int64_t payload = 0, padding = 0, scales = 0, zeros = 0, bitTable = 0,
          permutation = 0;
  int64_t total() const {
    return payload + padding + scales + zeros + bitTable + permutation;
  }
};
StorageBits computeStorage(const PackedLayout &layout, GridType scaleType,
                           GridType zeroType);

/// Packs codes (M x N, original channel order, code < 2^bits) into the
/// flat payload of `payloadWords` uint32 words.
std::vector<uint32_t> packCodes(const PackedLayout &layout,
                                llvm::ArrayRef<uint8_t> codes);
/// Inverse of packCodes; 0-bit channels get code 0.
std::vector<uint8_t> unpackCodes(const PackedLayout &layout,
                                 llvm::ArrayRef<uint32_t> words);

/// Dequantizes to W (M x N row-major float), following FORMAT.md §4 exactly;
/// `zeros` are stored zeros of `zeroType` (decodeZero).
std::vector<float> dequantize(const PackedLayout &layout,
                              llvm::ArrayRef<uint32_t> words,
                              llvm::ArrayRef<float> scales,
                              llvm::ArrayRef<float> zeros,
                              GridType zeroType = GridType::F16);

} // namespace numerics
} // namespace baq

#endif // BAQ_FORMAT_PACKEDFORMAT_H
