//===- Numerics.h - Dialect-free BAQ numerics -------------------*- C++ -*-===//
//
// Hessian preparation, BAQ sensitivities and bit allocation, RTN/GPTQ with
// per-column bitwidths, and the packed format of docs/FORMAT.md. No MLIR here:
// the passes are thin wrappers over these functions, and unittests/ check them
// against independent references.
//
// Conventions: a weight W is M x N (M outputs, N input channels = "columns"),
// row-major float. Hessians are N x N row-major float, H = 2 X X^T.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_NUMERICS_NUMERICS_H
#define BAQ_NUMERICS_NUMERICS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace baq {
namespace numerics {

constexpr int kMaxBits = 8;

//===----------------------------------------------------------------------===//
// Hessian
//===----------------------------------------------------------------------===//

struct HessianOptions {
  /// Relative damping: H += damp * mean(diag H) * I.
  double damp = 0.01;
  /// Attempts with damping multiplied by 10 each time if Cholesky fails.
  int maxRetries = 4;
  /// Also return the damped matrix (`PreparedHessian::damped`): one more
  /// n x n copy, which quantization never reads.
  bool keepDamped = false;
};

struct PreparedHessian {
  int64_t n = 0;
  /// Damped Hessian with dead inputs fixed (H_jj = 1), n x n row-major;
  /// only with HessianOptions::keepDamped, empty otherwise.
  std::vector<float> damped;
  /// Upper Cholesky factor U of (damped H)^-1 = U^T U, n x n row-major
  /// (lower triangle zero). U_jj^2 = [H_F^-1]_jj in GPTQ's column order.
  std::vector<float> invChol;
  /// Plain diagonal of (damped H)^-1.
  std::vector<float> invDiag;
  /// dead[j]: H_jj == 0 in the input; such channels must be zeroed in W.
  std::vector<uint8_t> dead;
  /// Damping that finally succeeded and how many retries it took.
  double dampUsed = 0;
  int retries = 0;
};

/// Range of the mean Hessian diagonal that prepareHessian accepts: within
/// it, H^-1 and its Cholesky factor stay far from f32's overflow and
/// denormals.
constexpr double kMinHessianScale = 1e-30;
constexpr double kMaxHessianScale = 1e30;

/// Validates (square, finite, non-zero diagonal somewhere), damps and factors
/// H. Fails with a descriptive message if H has NaN/Inf, is all zero or
/// of a scale outside [kMinHessianScale, kMaxHessianScale], or stays
/// indefinite after all retries.
llvm::Expected<PreparedHessian> prepareHessian(llvm::ArrayRef<float> h,
                                               int64_t n,
                                               const HessianOptions &options);

/// Sets W[:, j] = 0 for every dead input j (in place), as GPTQ does.
void zeroDeadColumns(llvm::MutableArrayRef<float> w, int64_t m,
                     const PreparedHessian &hessian);

//===----------------------------------------------------------------------===//
// Sensitivities and allocation
//===----------------------------------------------------------------------===//

enum class SensitivityMode {
  /// [H_F^-1]_jj = U_jj^2 from the Cholesky factor of H^-1 (GPTQ's order).
  CholeskyDiag,
  /// Plain diagonal of H^-1.
  InverseDiag,
};

/// Paper eq. 10: C_j = sum_i (max_i - min_i)^2 / (12 [H_F^-1]_jj), with each
/// row's range taken over the whole row and 0 forced inside it. Dead
/// channels get C_j = 0.
std::vector<double> computeSensitivities(llvm::ArrayRef<float> w, int64_t m,
                                         int64_t n,
                                         const PreparedHessian &hessian,
                                         SensitivityMode mode);

/// Paper eq. 9: geometric over arithmetic mean of the positive C_j (1 if none).
double ratioC(llvm::ArrayRef<double> c);

/// Predicted loss sum_j C_j 2^{-2 R_j}; 0-bit columns contribute C_j.
double predictedLoss(llvm::ArrayRef<double> c, llvm::ArrayRef<int> bits);

/// Continuous optimum with R_j >= 0 (paper eq. 5; eq. 6 when interior) for an
/// average of `avgBits` per column; the Lagrange multiplier is found by
/// bisection. C_j = 0 columns get 0 bits.
std::vector<double> allocateContinuous(llvm::ArrayRef<double> c,
                                       double avgBits);

/// Integer optimum of sum_j C_j 2^{-2R_j} s.t. sum_j R_j <= budgetBits,
/// minBits <= R_j <= maxBits (C_j = 0 columns stay at minBits). Greedy on
/// the marginal gain C_j 2^{-2R} * 3/4, ties to the lower column index.
/// Fails if even minBits everywhere exceeds the budget.
llvm::Expected<std::vector<int>> allocateExact(llvm::ArrayRef<double> c,
                                               int64_t budgetBits, int minBits,
                                               int maxBits);

/// Paper Alg. 1-2: L_init from eq. 8 (G * 2^{-2 avgBits}), one Alg. 2
/// correction, then Alg. 1 rounding, clamped to [minBits, maxBits]. Only
/// approximately meets the budget, as in the paper.
std::vector<int> allocatePaper(llvm::ArrayRef<double> c, double avgBits,
                               int minBits, int maxBits);

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
/// 8-bit code zq standing for the minimum z = -((s * zq) / 255).
enum class GridType { F16, BF16, F32, U8 };
int gridTypeBits(GridType type);
/// Rounds `value` to the nearest representable value of `type` (a float
/// type).
float roundToGridType(float value, GridType type);
/// The stored zero of a (row, group) whose stored scale is `scale` and whose
/// minimum is `lo`: `lo` rounded to `type`, or for U8 the code
/// clamp(round(-255 lo / scale), 0, 255) (0 when scale is not positive).
float encodeZero(float lo, float scale, GridType type);
/// The minimum z that a decoder derives from a stored zero (FORMAT.md §4):
/// the value itself, or for U8 z = -((scale * zq) / 255) in f32.
float decodeZero(float stored, float scale, GridType type);
/// The grid type for scales and zeros of weight `w`: `requested` if its
/// finite range holds every row range and minimum of `w` (at most twice the
/// largest |w|), else an error naming the option; with no request, f16 when
/// it holds them (and they are not all below f16's normal range) and f32
/// otherwise. Errors when even f32 cannot.
llvm::Expected<GridType> chooseGridType(llvm::ArrayRef<float> w,
                                        std::optional<GridType> requested);

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

//===----------------------------------------------------------------------===//
// Quantizers
//===----------------------------------------------------------------------===//

struct QuantizedWeight {
  PackedLayout layout;
  std::vector<uint8_t> codes; // M x N, original channel order
  std::vector<float> scales;  // M x G, already rounded to scaleType
  std::vector<float> zeros;   // M x G, stored zeros (encodeZero)
  std::vector<float> dequant; // M x N
};

struct QuantizerOptions {
  int64_t groupSize = 0;
  GridType scaleType = GridType::F16;
  GridType zeroType = GridType::F16;
  /// GPTQ lazy-batch block size.
  int64_t blockSize = 128;
  /// MSE-optimal grids (GPTQ's `mse` option): per (row, group), the min-max
  /// range shrunk by p = 1 - k / 100, k < 80, that minimises
  /// sum |Q(w) - w|^2.4 over the group's weights, each at its own bitwidth
  /// and with the scale and zero rounded to their storage types.
  bool mseGrid = false;
};

/// Static grids (FORMAT.md §4) of each (row, group) computed from W: the
/// min-max range, or the MSE-optimal shrink of it (QuantizerOptions::mseGrid).
void computeGrids(llvm::ArrayRef<float> w, const PackedLayout &layout,
                  const QuantizerOptions &options, std::vector<float> &scales,
                  std::vector<float> &zeros);

/// Round-to-nearest on the grid, per column bitwidth.
QuantizedWeight quantizeRtn(llvm::ArrayRef<float> w, int64_t m, int64_t n,
                            llvm::ArrayRef<int8_t> bits,
                            const QuantizerOptions &options);

/// GPTQ (paper Alg. 3) in natural column order with per-column bitwidths,
/// lazy-batch blocks and BLAS updates. 0-bit columns are quantized to 0 and
/// their error is compensated like any other column's.
QuantizedWeight quantizeGptq(llvm::ArrayRef<float> w, int64_t m, int64_t n,
                             llvm::ArrayRef<int8_t> bits,
                             const PreparedHessian &hessian,
                             const QuantizerOptions &options);

/// tr((W - Q) H (W - Q)^T) with the given (undamped) Hessian.
double hessianLoss(llvm::ArrayRef<float> w, llvm::ArrayRef<float> q, int64_t m,
                   int64_t n, llvm::ArrayRef<float> h);

} // namespace numerics
} // namespace baq

#endif // BAQ_NUMERICS_NUMERICS_H
