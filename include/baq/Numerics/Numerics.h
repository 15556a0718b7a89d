//===- Numerics.h - Dialect-free BAQ numerics -------------------*- C++ -*-===//
//
// Hessian preparation, BAQ sensitivities and bit allocation, RTN/GPTQ with
// per-column bitwidths (the packed format of docs/FORMAT.md is BAQFormat's,
// included here). No MLIR here:
// the passes are thin wrappers over these functions, and unittests/ check them
// against independent references.
//
// Conventions: a weight W is M x N (M outputs, N input channels = "columns"),
// row-major float. Hessians are N x N row-major float, H = 2 X X^T.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_NUMERICS_NUMERICS_H
#define BAQ_NUMERICS_NUMERICS_H

#include "baq/Format/PackedFormat.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <vector>

namespace baq {
namespace numerics {

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
  /// The shift added to every diagonal entry, damp * mean(diag H) in f32:
  /// damped H = H + shift I + (1 at each dead channel's diagonal).
  float shift = 0;
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

/// Per-column loss of every bitwidth, n x (kMaxBits + 1) row-major: entry
/// (j, b) is the loss column j adds at b bits. The paper's model is
/// C_j 2^{-2b} (paperLossTable); measuredLossTable rounds the weights.
using LossTable = std::vector<double>;

/// C_j 2^{-2b} for every column and bitwidth.
LossTable paperLossTable(llvm::ArrayRef<double> c);

/// Integer optimum of sum_j L(j, R_j) s.t. sum_j R_j <= budgetBits,
/// minBits <= R_j <= maxBits, with at most `maxLive` columns above 0 bits.
/// Greedy on the lower convex hull of each column's losses (a step may add
/// several bits where a bitwidth is not worth its cost, as 1 bit often is
/// not), largest loss decrease per bit first, ties to the lower column; bits
/// a hull step cannot use are then spent one at a time where they still lower
/// the loss. Exact for convex tables (then it is allocateExact); fails if
/// minBits everywhere exceeds the budget.
llvm::Expected<std::vector<int>> allocateTable(const LossTable &table,
                                               int64_t budgetBits, int minBits,
                                               int maxBits, int64_t maxLive);

/// Paper Alg. 1-2: L_init from eq. 8 (G * 2^{-2 avgBits}), one Alg. 2
/// correction, then Alg. 1 rounding, clamped to [minBits, maxBits]. Only
/// approximately meets the budget, as in the paper.
std::vector<int> allocatePaper(llvm::ArrayRef<double> c, double avgBits,
                               int minBits, int maxBits);

//===----------------------------------------------------------------------===//
// Quantizers
//===----------------------------------------------------------------------===//

struct QuantizedWeight {
  PackedLayout layout;
  std::vector<uint8_t> codes; // M x N, original channel order
  std::vector<float> scales;  // M x G, already rounded to scaleType
  std::vector<float> zeros;   // M x G, stored zeros (encodeZero)
  std::vector<float> dequant; // M x N
  /// GPTQ only (NaN otherwise): tr((W' - Q) H (W' - Q)^T) for the undamped
  /// H, W' being W with dead channels zeroed, from GPTQ's own recurrence.
  /// GPTQ leaves W' - Q = E U with E its scaled errors (w_j - q_j) / U_jj
  /// and U^T U = H_d^-1, so tr((W' - Q) H_d (W' - Q)^T) = ||E||_F^2; the
  /// damping's shift and the dead channels' unit diagonal are subtracted.
  /// Equal to hessianLoss(W', Q, H) up to float rounding (GptqTest).
  double gptqLoss = std::nan("");
  /// GPTQ only: ||E||_F^2, the loss for the damped H_d. Rounding errors of
  /// gptqLoss scale with it (the damping's share cancels), not with
  /// gptqLoss: a tolerance on gptqLoss is relative to this.
  double gptqDampedLoss = std::nan("");
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
  /// With mseGrid: one weight per column (channel order, or the order of the
  /// columns of `w` passed to the quantizer). Non-empty, the search minimises
  /// sum_j weight_j (Q(w_j) - w_j)^2 instead: with weight_j = 1/[H_F^-1]_jj
  /// that is the diagonal of the layer loss GPTQ leaves, so the clipping
  /// favours the columns whose error costs most (often the high-bit ones).
  std::vector<double> gridWeights;
};

/// Static grids (FORMAT.md §4) of each (row, group) computed from W: the
/// min-max range, or the MSE-optimal shrink of it (QuantizerOptions::mseGrid).
void computeGrids(llvm::ArrayRef<float> w, const PackedLayout &layout,
                  const QuantizerOptions &options, std::vector<float> &scales,
                  std::vector<float> &zeros);

/// The measured loss table of a weight: entry (j, b) is
/// sum_i (w_ij - RTN_b(w_ij))^2 * colWeight_j, rounding each (row, group) on
/// the given grid (scales and stored zeros of `layout`'s groups) at b bits.
/// With colWeight_j = 1/[H_F^-1]_jj it is the loss GPTQ measures for column j
/// before error feedback, at every bitwidth, with the grid it will store.
LossTable measuredLossTable(llvm::ArrayRef<float> w, const PackedLayout &layout,
                            llvm::ArrayRef<float> scales,
                            llvm::ArrayRef<float> zeros, GridType zeroType,
                            llvm::ArrayRef<double> colWeight);

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

/// Lowers the layer loss of a GPTQ result with its layout and stored types
/// unchanged: `sweeps` rounds of exact coordinate descent over the codes
/// (each code moved to its best value given all the others), each followed,
/// with 8-bit zero codes, by a least-squares refit of every (row, group)
/// scale to its codes (rounded to the scale type). The objective is GPTQ's:
/// tr((W - Q) H_d (W - Q)^T) with H_d the undamped `h` damped as
/// prepareHessian damps it (relative `damp`, dead channels' H_jj = 1); no
/// step is taken that raises it. `w` has its dead columns zeroed, as the
/// quantizer saw it; `q` stays consistent (dequant decodes codes, scales and
/// zeros bit for bit). Returns the final objective.
double refineQuantized(llvm::ArrayRef<float> w, int64_t m, int64_t n,
                       llvm::ArrayRef<float> h, double damp,
                       const QuantizerOptions &options, int sweeps,
                       QuantizedWeight &q);

/// Buffers of quantizeGptq kept between calls, so that quantizing several
/// candidates (or matrices) does not fault in fresh M x N pages each time.
struct GptqWorkspace {
  std::vector<float> w, blockT, errT, dequantT;
  std::vector<uint8_t> codesT;
};

/// quantizeGptq into `result`, reusing its vectors' storage and `workspace`.
/// With a non-empty `order` (act-order: the run's column a is channel
/// order[a]), `hessian` is prepared in that order, the grids are computed on
/// the permuted weight with options.gridWeights in channel order, and
/// `result` is in channel order, without permuted copies of the output.
void quantizeGptq(llvm::ArrayRef<float> w, int64_t m, int64_t n,
                  llvm::ArrayRef<int8_t> bits, const PreparedHessian &hessian,
                  const QuantizerOptions &options, QuantizedWeight &result,
                  GptqWorkspace &workspace, llvm::ArrayRef<int64_t> order = {});

/// tr((W - Q) H (W - Q)^T) with the given (undamped) Hessian.
double hessianLoss(llvm::ArrayRef<float> w, llvm::ArrayRef<float> q, int64_t m,
                   int64_t n, llvm::ArrayRef<float> h);

} // namespace numerics
} // namespace baq

#endif // BAQ_NUMERICS_NUMERICS_H
