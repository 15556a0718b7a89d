//===- PackedFormat.cpp - The packed weight format of docs/FORMAT.md ------===//

#include "baq/Format/PackedFormat.h"
#include "baq/Format/Grid.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace baq::numerics;

int baq::numerics::gridTypeBits(GridType type) {
  switch (type) {
  case GridType::F16:
  case GridType::BF16:
    return 16;
  case GridType::F32:
    return 32;
  case GridType::U8:
  case GridType::E4M4:
    return 8;
  }
  llvm_unreachable("unknown grid type");
}

float baq::numerics::decodeScaleCode(uint8_t code) {
  if (code == 0)
    return 0.0f;
  // An integer below 32 times a power of two: exact.
  return std::ldexp(static_cast<float>(16 + (code & 15)), (code >> 4) - 16);
}

uint8_t baq::numerics::encodeScaleCode(float scale) {
  if (!(scale > 0.0f))
    return 0;
  if (scale >= kLargestScaleCode)
    return 255;
  // scale = mant * 2^(e - 16) with mant = 32 f in [16, 32), f from frexp.
  int x = 0;
  const float mant = std::ldexp(std::frexp(scale, &x), 5);
  int e = x + 11;
  float rounded = std::nearbyint(mant); // ties to even: to the even code
  if (rounded == 32.0f) {
    rounded = 16.0f;
    ++e;
  }
  const int code = e * 16 + static_cast<int>(rounded) - 16;
  // Below code 1 (code 0 is the scale 0): code 1, so that a nonzero range
  // never decodes to zeros (its grid is coarser instead).
  return static_cast<uint8_t>(e >= 0 && code > 0 ? code : 1);
}

float baq::numerics::roundToGridType(float value, GridType type) {
  const llvm::fltSemantics *semantics = nullptr;
  switch (type) {
  case GridType::F16:
    semantics = &llvm::APFloat::IEEEhalf();
    break;
  case GridType::BF16:
    semantics = &llvm::APFloat::BFloat();
    break;
  case GridType::F32:
    return value;
  case GridType::E4M4:
    return decodeScaleCode(encodeScaleCode(value));
  case GridType::U8:
    llvm_unreachable("U8 is a zero code, not a float type");
  }
  llvm::APFloat rounded(value);
  bool losesInfo = false;
  rounded.convert(*semantics, llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  // A finite range must stay finite: saturate instead of rounding to Inf.
  if (rounded.isInfinity() && std::isfinite(value))
    rounded = llvm::APFloat::getLargest(*semantics, value < 0);
  rounded.convert(llvm::APFloat::IEEEsingle(),
                  llvm::APFloat::rmNearestTiesToEven, &losesInfo);
  return rounded.convertToFloat();
}

float baq::numerics::encodeZero(float lo, float scale, GridType type) {
  if (type != GridType::U8)
    return roundToGridType(lo, type);
  if (!(scale > 0.0f))
    return 0.0f;
  double code = std::nearbyint(-255.0 * static_cast<double>(lo) / scale);
  return static_cast<float>(std::clamp(code, 0.0, 255.0));
}

float baq::numerics::decodeZero(float stored, float scale, GridType type) {
  if (type != GridType::U8)
    return stored;
  // Two f32 roundings in a fixed order (library built with
  // -ffp-contract=off), as every decoder evaluates them.
  float product = scale * stored;
  return -(product / 255.0f);
}

llvm::Expected<GridType>
baq::numerics::chooseGridType(llvm::ArrayRef<float> w,
                              std::optional<GridType> requested) {
  float maxAbs = 0.0f;
  // Non-finite weights are quantizeLayer's to diagnose, with their position.
  for (float v : w)
    if (std::isfinite(v))
      maxAbs = std::max(maxAbs, std::fabs(v));
  // Row ranges reach 2 max|w|; computed in double so that it cannot overflow.
  double widest = 2.0 * static_cast<double>(maxAbs);
  auto holds = [&](GridType type) {
    if (type == GridType::E4M4)
      return widest <= kLargestScaleCode;
    const llvm::fltSemantics &semantics =
        type == GridType::F16    ? llvm::APFloat::IEEEhalf()
        : type == GridType::BF16 ? llvm::APFloat::BFloat()
                                 : llvm::APFloat::IEEEsingle();
    return widest <= llvm::APFloat::getLargest(semantics).convertToDouble();
  };
  auto name = [](GridType type) {
    return type == GridType::F16    ? "f16"
           : type == GridType::BF16 ? "bf16"
           : type == GridType::E4M4 ? "u8 scale code"
                                    : "f32";
  };
  if (requested) {
    if (holds(*requested))
      return *requested;
    return detail::makeError(
        llvm::Twine("weights up to ") + detail::formatDouble(maxAbs) +
        " make scale ranges exceed the largest " + name(*requested) +
        " value; use scale-type=" +
        (*requested == GridType::E4M4 ? "f16" : "f32") + " (or auto)");
  }
  // 8-bit scale codes where they hold every range: half f16's cost, and the
  // grid search picks among the values they can store.
  if (holds(GridType::E4M4) && !(widest > 0 && widest < decodeScaleCode(1)))
    return GridType::E4M4;
  // A layer whose ranges all sit below f16's normal range would get scales
  // with a few bits of precision: f32 too.
  double f16MinNormal =
      llvm::APFloat::getSmallestNormalized(llvm::APFloat::IEEEhalf())
          .convertToDouble();
  if (holds(GridType::F16) && !(widest > 0 && widest < f16MinNormal))
    return GridType::F16;
  if (holds(GridType::F32))
    return GridType::F32;
  return detail::makeError(llvm::Twine("weights up to ") +
                           detail::formatDouble(maxAbs) +
                           " make scale ranges overflow f32");
}

double baq::numerics::smallestNormal(GridType type) {
  switch (type) {
  case GridType::F16:
    return llvm::APFloat::getSmallestNormalized(llvm::APFloat::IEEEhalf())
        .convertToDouble();
  case GridType::BF16:
    return llvm::APFloat::getSmallestNormalized(llvm::APFloat::BFloat())
        .convertToDouble();
  case GridType::F32:
    return std::numeric_limits<float>::min();
  case GridType::E4M4: // smaller ranges are stored as code 1
    return decodeScaleCode(1);
  case GridType::U8:
    break;
  }
  llvm_unreachable("U8 is a zero code, not a float type");
}

const char *baq::numerics::gridTypeName(GridType type) {
  switch (type) {
  case GridType::F16:
    return "f16";
  case GridType::BF16:
    return "bf16";
  case GridType::F32:
    return "f32";
  case GridType::U8:
    return "i8";
  case GridType::E4M4:
    return "u8 scale code";
  }
  llvm_unreachable("unknown grid type");
}

std::optional<SmallRanges>
baq::numerics::findSmallRanges(llvm::ArrayRef<float> w,
                               const PackedLayout &layout, GridType scaleType) {
  const int64_t m = layout.m;
  assert(static_cast<int64_t>(w.size()) == m * layout.n && "weight is M x N");
  const double normal = smallestNormal(scaleType);
  SmallRanges found;
  for (int64_t group = 0; group < layout.numGroups; ++group) {
    for (int64_t i = 0; i < m; ++i) {
      // The ranges computeGrids starts from.
      auto [lo, hi] = layout.groupRange(w, i, group);
      float range = hi - lo;
      if (!(range > 0.0f) || range >= normal)
        continue;
      float stored = roundToGridType(range, scaleType);
      found.rounded += stored == 0.0f;
      if (found.count++ == 0 || range < found.range) {
        found.row = i;
        found.group = group;
        found.range = range;
        found.stored = stored;
      }
    }
  }
  if (found.count == 0)
    return std::nullopt;
  return found;
}

int64_t PackedLayout::groupOfChannel(int64_t channel) const {
  if (groupSize <= 0)
    return 0;
  // 0-bit channels sit past the live positions; their grid is never used,
  // but keep the index valid.
  return std::min(posOf[channel] / groupSize, numGroups - 1);
}

std::pair<float, float> PackedLayout::groupRange(llvm::ArrayRef<float> w,
                                                 int64_t row,
                                                 int64_t group) const {
  const int64_t size = groupSize > 0 ? groupSize : std::max<int64_t>(1, live);
  const int64_t begin = std::min(group * size, live);
  const int64_t end = std::min(begin + size, live);
  float lo = 0.0f, hi = 0.0f;
  for (int64_t p = begin; p < end; ++p) {
    float v = w[row * n + perm[p]];
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  return {lo, hi};
}

PackedLayout baq::numerics::computeLayout(llvm::ArrayRef<int8_t> bits,
                                          int64_t m, int64_t groupSize) {
  PackedLayout layout;
  const int64_t n = static_cast<int64_t>(bits.size());
  layout.m = m;
  layout.n = n;
  layout.bits.assign(bits.begin(), bits.end());
  for (int8_t b : bits) {
    (void)b;
    assert(b >= 0 && b <= kMaxBits && "bitwidth out of range");
  }

  // §1: descending bitwidth, ties by ascending channel index.
  layout.perm.resize(n);
  std::iota(layout.perm.begin(), layout.perm.end(), 0);
  std::stable_sort(layout.perm.begin(), layout.perm.end(),
                   [&](int32_t a, int32_t b) { return bits[a] > bits[b]; });
  layout.posOf.resize(n);
  for (int64_t p = 0; p < n; ++p)
    layout.posOf[layout.perm[p]] = p;

  // §2: runs of equal bitwidth among the live positions, one bit stream.
  int64_t bitOffset = 0;
  for (int64_t p = 0; p < n;) {
    int b = bits[layout.perm[p]];
    if (b == 0)
      break;
    int64_t end = p;
    while (end < n && bits[layout.perm[end]] == b)
      ++end;
    Segment segment;
    segment.bits = b;
    segment.start = p;
    segment.count = end - p;
    segment.bitOffset = bitOffset;
    bitOffset += segment.streamBits();
    layout.segments.push_back(segment);
    layout.live = end;
    p = end;
  }
  // §3: full words interleaved by row, the rest in one shared tail.
  layout.rowBits = bitOffset;
  layout.fullWords = bitOffset / 32;
  layout.tailBits = bitOffset % 32;
  layout.payloadWords = countPayloadWords(bitOffset, m);
  layout.groupSize = std::max<int64_t>(0, groupSize);
  layout.numGroups = countGroups(layout.live, layout.groupSize);
  return layout;
}

int64_t baq::numerics::countPayloadWords(int64_t rowBits, int64_t m) {
  // Saturates: the verifier rejects absurd shapes after computing a layout.
  int64_t full, tail, total;
  if (llvm::MulOverflow<int64_t>(rowBits / 32, m, full) ||
      llvm::MulOverflow<int64_t>(rowBits % 32, m, tail) ||
      llvm::AddOverflow<int64_t>(full, llvm::divideCeil(tail, 32), total))
    return std::numeric_limits<int64_t>::max();
  return total;
}

int64_t PackedLayout::flatBit(int64_t row, int64_t t) const {
  const int64_t mainBits = 32 * fullWords;
  if (t < mainBits)
    return ((t / 32) * m + row) * 32 + t % 32;
  return mainBits * m + row * tailBits + (t - mainBits);
}

int64_t baq::numerics::countGroups(int64_t live, int64_t groupSize) {
  if (groupSize <= 0)
    return 1;
  return std::max<int64_t>(1, llvm::divideCeil(live, groupSize));
}

StorageBits baq::numerics::computeStorage(const PackedLayout &layout,
                                          GridType scaleType,
                                          GridType zeroType) {
  StorageBits storage;
  int64_t bitsPerRow = 0;
  for (int8_t b : layout.bits)
    bitsPerRow += b;
  storage.payload = layout.m * bitsPerRow;
  storage.padding = 32 * layout.payloadWords - storage.payload;
  storage.scales = layout.m * layout.numGroups * gridTypeBits(scaleType);
  storage.zeros = layout.m * layout.numGroups * gridTypeBits(zeroType);
  storage.bitTable = 4 * layout.n;
  storage.permutation = 0;
  return storage;
}

/// Calls fn(flatBit, codeBit, count) for the pieces of a `bits`-bit code at
/// stream bit `t` of `row` that are contiguous in the flat payload: a code
/// is split where it crosses a row-interleaved word boundary.
template <typename Fn>
static void forEachPiece(const PackedLayout &layout, int64_t row, int64_t t,
                         int bits, Fn fn) {
  const int64_t mainBits = 32 * layout.fullWords;
  for (int done = 0; done < bits;) {
    int64_t s = t + done;
    int take = bits - done;
    if (s < mainBits)
      take = std::min<int>(take, 32 - static_cast<int>(s % 32));
    fn(layout.flatBit(row, s), done, take);
    done += take;
  }
}

std::vector<uint32_t> baq::numerics::packCodes(const PackedLayout &layout,
                                               llvm::ArrayRef<uint8_t> codes) {
  const int64_t m = layout.m, n = layout.n;
  assert(static_cast<int64_t>(codes.size()) == m * n && "codes are M x N");
  std::vector<uint32_t> words(layout.payloadWords, 0u);
  for (const Segment &segment : layout.segments) {
    const uint32_t mask = (1u << segment.bits) - 1u;
    for (int64_t k = 0; k < segment.count; ++k) {
      const int64_t channel = layout.perm[segment.start + k];
      const int64_t t = segment.bitOffset + k * segment.bits;
      for (int64_t i = 0; i < m; ++i) {
        uint32_t q = codes[i * n + channel];
        assert(q <= mask && "code does not fit its bitwidth");
        q &= mask;
        forEachPiece(
            layout, i, t, segment.bits, [&](int64_t a, int from, int count) {
              uint64_t v =
                  static_cast<uint64_t>((q >> from) & ((1u << count) - 1u))
                  << (a % 32);
              words[a / 32] |= static_cast<uint32_t>(v);
              // A tail piece may straddle two flat words.
              if (v >> 32)
                words[a / 32 + 1] |= static_cast<uint32_t>(v >> 32);
            });
      }
    }
  }
  return words;
}

std::vector<uint8_t>
baq::numerics::unpackCodes(const PackedLayout &layout,
                           llvm::ArrayRef<uint32_t> words) {
  const int64_t m = layout.m, n = layout.n;
  assert(static_cast<int64_t>(words.size()) == layout.payloadWords &&
         "payload has payloadWords words");
  std::vector<uint8_t> codes(m * n, 0);
  for (const Segment &segment : layout.segments) {
    for (int64_t k = 0; k < segment.count; ++k) {
      const int64_t channel = layout.perm[segment.start + k];
      const int64_t t = segment.bitOffset + k * segment.bits;
      for (int64_t i = 0; i < m; ++i) {
        uint32_t q = 0;
        forEachPiece(
            layout, i, t, segment.bits, [&](int64_t a, int from, int count) {
              uint64_t v = words[a / 32];
              if (a % 32 + count > 32)
                v |= static_cast<uint64_t>(words[a / 32 + 1]) << 32;
              q |= static_cast<uint32_t>((v >> (a % 32)) & ((1u << count) - 1u))
                   << from;
            });
        codes[i * n + channel] = static_cast<uint8_t>(q);
      }
    }
  }
  return codes;
}

std::vector<float> baq::numerics::dequantize(const PackedLayout &layout,
                                             llvm::ArrayRef<uint32_t> words,
                                             llvm::ArrayRef<float> scales,
                                             llvm::ArrayRef<float> zeros,
                                             GridType zeroType) {
  const int64_t m = layout.m, n = layout.n, g = layout.numGroups;
  assert(static_cast<int64_t>(scales.size()) == m * g &&
         static_cast<int64_t>(zeros.size()) == m * g && "grids are M x G");
  std::vector<uint8_t> codes = unpackCodes(layout, words);
  std::vector<float> w(m * n, 0.0f);
  for (int64_t j = 0; j < n; ++j) {
    const int b = layout.bits[j];
    if (b == 0)
      continue;
    const int64_t group = layout.groupOfChannel(j);
    for (int64_t i = 0; i < m; ++i) {
      const float s = scales[i * g + group];
      w[i * n + j] =
          detail::dequantCode(codes[i * n + j], b, s,
                              decodeZero(zeros[i * g + group], s, zeroType));
    }
  }
  return w;
}
