//===- QuantizeLayer.h - One layer through BAQ, end to end ------*- C++ -*-===//
//
// The policy part of --baq-allocate without any IR: given a weight and its
// prepared Hessian, choose bitwidths for the budget, quantize, and measure.
//
//===----------------------------------------------------------------------===//

#ifndef BAQ_NUMERICS_QUANTIZELAYER_H
#define BAQ_NUMERICS_QUANTIZELAYER_H

#include "baq/Numerics/Numerics.h"

#include <array>
#include <string>

namespace baq {
namespace numerics {

enum class Allocator { Exact, Paper, Uniform };
enum class Quantizer { Gptq, Rtn };
/// What the exact allocator minimises: the paper's C_j 2^{-2b}, or each
/// column's loss measured by rounding it at every bitwidth on the grid it
/// will be stored with (measuredLossTable), which sees that a b-bit grid has
/// 2^b - 1 steps and that 1 bit on a row's range is often no better than 0.
enum class LossModel { Paper, Measured };

struct LayerOptions {
  double targetBits = 2.0;
  /// false: target-bits bounds the payload; true: payload plus metadata.
  bool budgetTotal = false;
  Allocator allocator = Allocator::Exact;
  Quantizer quantizer = Quantizer::Gptq;
  SensitivityMode sensitivity = SensitivityMode::CholeskyDiag;
  int minBits = 0, maxBits = kMaxBits;
  QuantizerOptions quant;
  /// Measure tr((W-Q) H (W-Q)^T): GPTQ's from its recurrence
  /// (QuantizedWeight::gptqLoss), RTN's with one M x N x N GEMM.
  bool measureLoss = true;
  /// Also quantize with uniform GPTQ at the same budget to report its loss.
  bool measureUniformBaseline = false;
  /// Bitwidths chosen beforehand (allocateModule); empty: chooseBits.
  std::vector<int8_t> fixedBits;
  /// GPTQ's act-order (desc_act): quantize columns by decreasing H_jj; the
  /// sensitivities use the Cholesky factor in that order. Needs
  /// quant.groupSize == 0 (a row's grid is then order-independent).
  bool actOrder = false;
  /// With actOrder, quantize a layout's 0-bit (pruned) channels first, then
  /// the others in act order, as SparseGPT prunes: a pruned channel's whole
  /// weight is error that GPTQ spreads over the channels after it, and act
  /// order puts them last (small H_jj), where nothing is left to absorb it.
  /// Costs one more Hessian preparation per such candidate.
  bool prunedFirst = false;
  /// Loss model of the exact allocator (the paper and paper allocators
  /// always use C_j).
  LossModel lossModel = LossModel::Paper;
  /// With quant.mseGrid: weight each column's error in the grid search by
  /// 1/[H_F^-1]_jj (QuantizerOptions::gridWeights).
  bool weightedGrid = false;
  /// Needs the undamped Hessian: also quantize the widest uniform layout that
  /// meets the budget and, with LossModel::Measured, the allocation of the
  /// loss table re-measured on the first result's grid; keep whichever has
  /// the lowest measured tr((W-Q) H (W-Q)^T) (GPTQ's recurrence losses,
  /// the explicit traces where two are within their rounding). Never worse
  /// than uniform GPTQ at the same budget on the layer's loss.
  bool guard = false;
  /// Rounds of refineQuantized on the kept GPTQ result (needs the undamped
  /// Hessian): codes by coordinate descent, scales by least squares.
  int refineSweeps = 0;
};

struct LayerResult {
  QuantizedWeight weight;
  StorageBits storage;
  std::vector<double> sensitivities;
  std::array<int64_t, kMaxBits + 1> histogram{};
  double ratioC = 1;
  double predictedLoss = 0;
  /// Nonzero (row, group) ranges below the scale type's normal range: the
  /// caller decides (a wider type, or an error); never silently zeros.
  std::optional<SmallRanges> smallRanges;
  /// With measureLoss or the guard; negative otherwise.
  double hessianLoss = -1;
  /// With measureUniformBaseline or the guard (which quantizes the same
  /// uniform layout); negative otherwise.
  double uniformHessianLoss = -1;
  int uniformBits = 0;
  /// Which candidate was kept: "allocated" (the first allocation),
  /// "reallocated" (on the first result's grid) or "uniform" (the guard).
  const char *choice = "allocated";
  /// Why the uniform baseline was not measured (no uniform width meets the
  /// budget for this layer alone); empty when it was or was not asked for.
  std::string uniformUnavailable;
};

/// Bitwidths for one layer under the options' budget and allocator: Uniform
/// takes the widest uniform width that fits; Paper runs the paper's Alg. 1-2
/// (with budgetTotal, after charging a uniform layout's metadata); Exact
/// takes the integer optimum of the payload budget or, with budgetTotal, the
/// lowest *predicted* loss over the number of scale groups (dropping channels
/// saves their groups' metadata) and over the uniform layouts that fit.
/// With a non-empty `table` (n x (kMaxBits + 1)), Exact minimises its
/// losses instead of C_j 2^{-2b}.
llvm::Expected<std::vector<int8_t>>
chooseBits(llvm::ArrayRef<double> sensitivities, int64_t m,
           const LayerOptions &options, const LossTable &table = {});

/// Every stored bit of an M-row layer with these bitwidths (FORMAT.md §6).
int64_t storedBits(llvm::ArrayRef<int8_t> bits, int64_t m,
                   const QuantizerOptions &quant);

/// One layer of a module-wide allocation: its sensitivities and rows.
struct LayerDemand {
  llvm::ArrayRef<double> sensitivities;
  int64_t m = 0;
  /// This layer's group size and grid types (its metadata's cost); null:
  /// the options' own.
  const QuantizerOptions *quant = nullptr;
};

/// Exact allocation over a whole module: target-bits bounds the payload
/// (or, with budgetTotal, every stored bit) summed over all layers. The
/// objective is the sum over layers of each layer's predicted loss relative
/// to its loss at 0 bits (sum_j C_j). Greedy on its decrease per stored bit,
/// C_j 2^{-2R} * 3/4 / (M sum_k C_k), over every column of every layer; a
/// step is taken only if the module's exact total (padding and scale groups
/// included) still fits. The per-layer plan is returned instead where it
/// scores better.
llvm::Expected<std::vector<std::vector<int8_t>>>
allocateModule(llvm::ArrayRef<LayerDemand> layers, const LayerOptions &options);

/// One layer's shape and storage types, for a pooled budget.
struct LayerShape {
  int64_t m = 0, n = 0;
  QuantizerOptions quant;
};

/// budget-scope=module with budget=total: the largest payload rate r such
/// that every layer at floor(r N + 1e-9) bits per row (what budget=payload
/// with target-bits=r gives it), with the metadata of all its channels live,
/// fits `targetBits` over all layers together. The metadata is pooled, not
/// spent per layer: a wide layer's cheap scales pay for a narrow one's, as in
/// a uniform layout. r is a breakpoint k / N of some layer, so that printing
/// it exactly and reading it back as target-bits gives the same rows.
llvm::Expected<double> pooledPayloadRate(llvm::ArrayRef<LayerShape> layers,
                                         double targetBits, int minBits);

/// The share of a pooled budget one layer gets, in total bits per weight:
/// its layout at `rate` with the metadata of all channels live. With scale
/// groups the layer then meets this as budget=total, so that channels its
/// allocation drops give their groups' metadata back to its payload.
double pooledLayerTotal(const LayerShape &layer, double rate);

/// GPTQ's act order of an undamped Hessian (desc_act: decreasing H_jj, ties
/// to the lower index) and the Hessian prepared in that order: what
/// LayerOptions::actOrder quantizes with. One per Hessian, shared by every
/// layer that reads it.
struct ActOrderHessian {
  std::vector<int64_t> order; // position -> channel
  PreparedHessian prepared;   // of H permuted into `order`
};

/// Validates `h` as prepareHessian does (messages name channel indices),
/// then prepares it in act order with `options` (damping retries are judged
/// on the permuted matrix).
llvm::Expected<ActOrderHessian> prepareActOrder(llvm::ArrayRef<float> h,
                                                int64_t n,
                                                const HessianOptions &options);

/// Prepares the (already validated) undamped Hessian `h` permuted into
/// `order` (position -> channel) with `options`.
llvm::Expected<ActOrderHessian> prepareInOrder(llvm::ArrayRef<float> h,
                                               int64_t n,
                                               std::vector<int64_t> order,
                                               const HessianOptions &options);

/// The order LayerOptions::prunedFirst quantizes `bits` in: the 0-bit
/// channels, then the others, each part in `actOrder` (position -> channel).
std::vector<int64_t> prunedFirstOrder(llvm::ArrayRef<int64_t> actOrder,
                                      llvm::ArrayRef<int8_t> bits);

/// Runs BAQ on one M x N weight (dead columns are zeroed in a copy).
/// `hessian` is the undamped input used for the measured losses. With
/// options.actOrder, `act` (if given) is the Hessian already prepared in act
/// order and `prepared` is not read; without it, quantizeLayer prepares one
/// with `prepared`'s damping.
llvm::Expected<LayerResult> quantizeLayer(llvm::ArrayRef<float> w, int64_t m,
                                          int64_t n, llvm::ArrayRef<float> h,
                                          const PreparedHessian &prepared,
                                          const LayerOptions &options,
                                          const ActOrderHessian *act = nullptr);

} // namespace numerics
} // namespace baq

#endif // BAQ_NUMERICS_QUANTIZELAYER_H
