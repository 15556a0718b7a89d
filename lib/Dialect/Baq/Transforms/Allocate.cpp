//===- Allocate.cpp - BAQ bit allocation and packing pass -----------------===//
//
// A thin pass over baq::numerics::quantizeLayer: find matmul weights with
// Hessians, read them, quantize, and rewrite the IR to packed constants.
//
//===----------------------------------------------------------------------===//

#include "WeightAccess.h"

#include "baq/Dialect/Baq/Transforms/Passes.h"
#include "baq/Format/Grid.h"
#include "baq/Numerics/QuantizeLayer.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>

namespace mlir {
namespace baq {
#define GEN_PASS_DEF_BAQALLOCATE
#include "baq/Dialect/Baq/Transforms/Passes.h.inc"
} // namespace baq
} // namespace mlir

using namespace mlir;
using namespace mlir::baq;
namespace num = ::baq::numerics;

namespace {

/// A Hessian read and factored once, shared by every matmul that uses it,
/// and dropped after its last use: a billion-parameter model must not hold
/// every factor at once.
struct HessianEntry {
  /// The undamped input, for the report's measured losses and act-order:
  /// the resource blob itself when it is f32, else a converted copy
  /// (`owned`); empty when neither needs it.
  ArrayRef<float> raw;
  std::vector<float> owned;
  /// Prepared in channel order, or (act-order with GPTQ) in act order only:
  /// the channel-order factor would only serve to find the damping.
  num::PreparedHessian prepared;
  std::optional<num::ActOrderHessian> act;
  bool ready = false;
  /// Matmuls still to be quantized with this Hessian.
  int64_t pendingUses = 0;
};

struct BaqAllocatePass
    : public mlir::baq::impl::BaqAllocateBase<BaqAllocatePass> {
  using BaqAllocateBase::BaqAllocateBase;
  void runOnOperation() override;

private:
  LogicalResult verifyOptions();
  num::LayerOptions getLayerOptions() const;
  /// act-order=auto: on wherever it applies.
  bool useActOrder() const {
    if (actOrder == ActOrderKind::Auto)
      return groupSize == 0 && budgetScope != BudgetScope::ModuleGreedy &&
             quantizer == QuantizerKind::Gptq;
    return actOrder == ActOrderKind::On;
  }
  /// Hessians are prepared in act order only: every user quantizes in it.
  bool preparesActOrder() const {
    return useActOrder() && quantizer == QuantizerKind::Gptq &&
           budgetScope != BudgetScope::ModuleGreedy;
  }
  /// budget-scope=module, budget=total: the payload rate every matmul gets,
  /// and each candidate's scale type (chosen once, with its remark).
  FailureOr<double> poolBudget(ArrayRef<QuantizableMatmul> candidates,
                               std::vector<num::GridType> &gridTypes);
  /// Set by poolBudget for this run: every layer without its own
  /// baq.target_bits runs as budget=payload at this rate.
  std::optional<double> pooledRate;
  /// With scale groups: each candidate's pooled total (NaN where the matmul
  /// has its own target), met as budget=total.
  std::vector<double> pooledTotals;
  FailureOr<const HessianEntry *> getHessian(Operation *op, ElementsAttr attr);
  void releaseHessian(ElementsAttr attr);
  /// A candidate's prepared Hessian (`hessianAttr`) and its M x N weight; the
  /// caller releases the Hessian use whatever the outcome.
  struct LayerInputs {
    const HessianEntry *hessian;
    std::vector<float> weight;
  };
  FailureOr<LayerInputs> readLayer(const QuantizableMatmul &c,
                                   ElementsAttr hessianAttr);
  std::optional<num::GridType> getRequestedScaleType() const;
  void setGridTypes(num::QuantizerOptions &quant, num::GridType type) const;
  void emitF32Remark(Operation *op, StringRef why);
  /// The scale type of an M x N weight (remarks where `auto` picks f32).
  FailureOr<num::GridType> chooseScaleType(Operation *op, ArrayRef<float> w,
                                           int64_t m, int64_t n);
  /// `fixedBits` and `gridType` come from a module-wide plan, if any.
  LogicalResult quantizeMatmul(const QuantizableMatmul &candidate,
                               llvm::json::Array &report, int64_t index,
                               int64_t count, ArrayRef<int8_t> fixedBits = {},
                               std::optional<num::GridType> gridType = {});
  /// A module-wide plan: each layer's bits and scale type.
  struct ModulePlan {
    std::vector<std::vector<int8_t>> bits;
    std::vector<num::GridType> gridTypes;
  };
  FailureOr<ModulePlan> allocateModule(ArrayRef<QuantizableMatmul> candidates);
  /// The one summary line of a run (progress=true).
  void printSummary(ArrayRef<MatchNote> notes);

  /// Keyed by the (uniqued) Hessian attribute: shared blobs are read once.
  /// shared_ptr keeps the pass copyable (pass cloning); entries are never
  /// shared between runs, runOnOperation starts from an empty map.
  std::map<const void *, std::shared_ptr<HessianEntry>> hessians;
  int64_t totalWeights = 0;
  num::StorageBits totalStorage;
  /// For the summary line: quantized matmuls, columns per bitwidth, and
  /// weights whose scales had to be f32.
  int64_t quantizedCount = 0, f32Count = 0;
  std::array<int64_t, num::kMaxBits + 1> columnsPerBits = {};
  std::chrono::steady_clock::time_point start;
};

} // namespace

LogicalResult BaqAllocatePass::verifyOptions() {
  Operation *module = getOperation();
  if (!(targetBits > 0 && targetBits <= num::kMaxBits))
    return module->emitError()
           << "baq-allocate: target-bits must be in (0, " << num::kMaxBits
           << "], got " << targetBits.getValue();
  if (minBits < 0 || maxBits > num::kMaxBits || minBits > maxBits)
    return module->emitError()
           << "baq-allocate: need 0 <= min-bits <= max-bits <= "
           << num::kMaxBits << ", got min-bits=" << minBits.getValue()
           << " max-bits=" << maxBits.getValue();
  if (groupSize < 0)
    return module->emitError() << "baq-allocate: group-size must be >= 0, got "
                               << groupSize.getValue();
  if (!(damp > 0 && damp < 1e6))
    return module->emitError()
           << "baq-allocate: damp must be positive and finite, got "
           << damp.getValue();
  if (blockSize < 1)
    return module->emitError() << "baq-allocate: block-size must be >= 1, got "
                               << blockSize.getValue();
  if (budgetScope == BudgetScope::ModuleGreedy &&
      (uniform || allocator != AllocatorKind::Exact))
    return module->emitError() << "baq-allocate: budget-scope=module-greedy "
                                  "needs allocator=exact and uniform=false";
  if (actOrder == ActOrderKind::On &&
      (groupSize != 0 || budgetScope == BudgetScope::ModuleGreedy))
    return module->emitError() << "baq-allocate: act-order needs group-size=0 "
                                  "and budget-scope=layer or module";
  return success();
}

num::LayerOptions BaqAllocatePass::getLayerOptions() const {
  num::LayerOptions options;
  options.targetBits = targetBits;
  options.budgetTotal = budget == BudgetKind::Total;
  options.allocator = uniform ? num::Allocator::Uniform
                      : allocator == AllocatorKind::Paper
                          ? num::Allocator::Paper
                          : num::Allocator::Exact;
  options.quantizer = quantizer == QuantizerKind::Rtn ? num::Quantizer::Rtn
                                                      : num::Quantizer::Gptq;
  options.sensitivity = sensitivity == SensitivityKind::Diagonal
                            ? num::SensitivityMode::InverseDiag
                            : num::SensitivityMode::CholeskyDiag;
  options.minBits = minBits;
  options.maxBits = maxBits;
  options.quant.groupSize = groupSize;
  options.quant.blockSize = blockSize;
  options.quant.mseGrid = mseGrid;
  if (zeroType == ZeroTypeKind::U8)
    options.quant.zeroType = num::GridType::U8;
  options.actOrder = useActOrder();
  options.prunedFirst = prunedFirst;
  options.lossModel = lossModel == LossModelKind::Paper
                          ? num::LossModel::Paper
                          : num::LossModel::Measured;
  options.weightedGrid = gridWeight == GridWeightKind::Hessian;
  options.guard = guard && budgetScope != BudgetScope::ModuleGreedy;
  options.refineSweeps = refine;
  if (pooledRate) {
    options.budgetTotal = false;
    options.targetBits = *pooledRate;
  }
  // Losses cost a GEMM each and only appear in the report.
  options.measureLoss = !reportFile.empty();
  options.measureUniformBaseline = !reportFile.empty();
  return options;
}

FailureOr<const HessianEntry *> BaqAllocatePass::getHessian(Operation *op,
                                                            ElementsAttr attr) {
  std::shared_ptr<HessianEntry> &slot = hessians[attr.getAsOpaquePointer()];
  assert(slot && slot->pendingUses > 0 && "uses are counted before the walk");
  if (slot->ready)
    return slot.get();
  // f32 blobs (what exporters write) are read in place: a billion-parameter
  // model's Hessians are the bulk of its bytes.
  std::vector<float> owned;
  ArrayRef<float> raw;
  if (std::optional<ArrayRef<float>> borrowed = borrowF32Elements(attr)) {
    raw = *borrowed;
  } else {
    FailureOr<std::vector<float>> converted =
        readFloatElements(op, attr, "Hessian");
    if (failed(converted))
      return failure();
    owned = std::move(*converted);
    raw = owned;
  }
  int64_t n = cast<ShapedType>(attr.getType()).getDimSize(0);
  num::HessianOptions options;
  options.damp = damp;
  auto fail = [&](llvm::Error error) {
    op->emitError() << "cannot use '" << BaqDialect::getHessianAttrName()
                    << "': " << llvm::toString(std::move(error));
    return failure();
  };
  const num::PreparedHessian *prepared = nullptr;
  if (preparesActOrder()) {
    llvm::Expected<num::ActOrderHessian> act =
        num::prepareActOrder(raw, n, options);
    if (!act)
      return fail(act.takeError());
    slot->act = std::move(*act);
    prepared = &slot->act->prepared;
  } else {
    llvm::Expected<num::PreparedHessian> plain =
        num::prepareHessian(raw, n, options);
    if (!plain)
      return fail(plain.takeError());
    slot->prepared = std::move(*plain);
    prepared = &slot->prepared;
  }
  slot->ready = true;
  if (prepared->retries > 0)
    op->emitRemark() << "Hessian needed damping " << prepared->dampUsed << " ("
                     << prepared->retries
                     << " retries) to become positive definite";
  // The undamped Hessian outlives this call for the report's measured losses
  // and for act-order's column order (diag H).
  if (!reportFile.empty() || useActOrder() || guard || refine > 0) {
    slot->owned = std::move(owned);
    slot->raw = slot->owned.empty() ? raw : ArrayRef<float>(slot->owned);
  }
  return slot.get();
}

FailureOr<BaqAllocatePass::LayerInputs>
BaqAllocatePass::readLayer(const QuantizableMatmul &c,
                           ElementsAttr hessianAttr) {
  FailureOr<const HessianEntry *> hessian = getHessian(c.matmul, hessianAttr);
  if (failed(hessian))
    return failure();
  FailureOr<std::vector<float>> weight = readWeightMatrix(c);
  if (failed(weight))
    return failure();
  return LayerInputs{*hessian, std::move(*weight)};
}

void BaqAllocatePass::releaseHessian(ElementsAttr attr) {
  auto it = hessians.find(attr.getAsOpaquePointer());
  if (it != hessians.end() && --it->second->pendingUses == 0)
    hessians.erase(it);
}

static llvm::json::Array toJson(llvm::ArrayRef<int64_t> values) {
  llvm::json::Array array;
  for (int64_t v : values)
    array.push_back(v);
  return array;
}

/// JSON has no NaN or Inf: a loss that overflowed is reported as null
/// rather than making the report unreadable.
static llvm::json::Value toJsonNumber(double value) {
  if (std::isfinite(value))
    return value;
  return nullptr;
}

static llvm::json::Object storageToJson(const num::StorageBits &s,
                                        int64_t weights) {
  auto perWeight = [&](int64_t bits) {
    return static_cast<double>(bits) / static_cast<double>(weights);
  };
  return llvm::json::Object{
      {"payload", perWeight(s.payload)},
      {"padding", perWeight(s.padding)},
      {"scales", perWeight(s.scales)},
      {"zeros", perWeight(s.zeros)},
      {"bit_table", perWeight(s.bitTable)},
      {"permutation", perWeight(s.permutation)},
      {"total", perWeight(s.total())},
  };
}

std::optional<num::GridType> BaqAllocatePass::getRequestedScaleType() const {
  switch (scaleType) {
  case ScaleTypeKind::F16:
    return num::GridType::F16;
  case ScaleTypeKind::BF16:
    return num::GridType::BF16;
  case ScaleTypeKind::F32:
    return num::GridType::F32;
  case ScaleTypeKind::U8:
    return num::GridType::E4M4;
  case ScaleTypeKind::Auto:
    break;
  }
  return std::nullopt;
}

void BaqAllocatePass::setGridTypes(num::QuantizerOptions &quant,
                                   num::GridType type) const {
  quant.scaleType = type;
  // Zeros are signed: with scale codes, zero-type=auto stores them in f16.
  if (zeroType != ZeroTypeKind::U8)
    quant.zeroType = type == num::GridType::E4M4 ? num::GridType::F16 : type;
}

void BaqAllocatePass::emitF32Remark(Operation *op, StringRef why) {
  ++f32Count;
  op->emitRemark() << (zeroType == ZeroTypeKind::U8 ? "scales"
                                                    : "scales and zeros")
                   << " of this weight are stored as f32: " << why;
}

FailureOr<num::GridType> BaqAllocatePass::chooseScaleType(Operation *op,
                                                          ArrayRef<float> w,
                                                          int64_t m,
                                                          int64_t n) {
  // Scales and zeros must hold the layer's ranges: f16 saturating at 65504
  // would decode wrong weights without a word.
  std::optional<num::GridType> requested = getRequestedScaleType();
  llvm::Expected<num::GridType> gridType = num::chooseGridType(w, requested);
  if (!gridType)
    return op->emitError() << "baq-allocate: "
                           << llvm::toString(gridType.takeError());
  if (requested)
    return *gridType;
  if (*gridType == num::GridType::F32) {
    emitF32Remark(op, "its ranges exceed f16 (or all lie below its normal "
                      "range)");
    return *gridType;
  }
  // A row whose range lies below code 1 of the 8-bit scale codes, or below
  // f16's normal range: the next wider type before the bits are chosen (they
  // depend on the metadata's cost). Groups are checked after quantizing.
  std::vector<int8_t> allLive(n, 1);
  num::PackedLayout rows = num::computeLayout(allLive, m, /*groupSize=*/0);
  if (*gridType == num::GridType::E4M4 &&
      !num::findSmallRanges(w, rows, num::GridType::E4M4))
    return *gridType;
  if (num::findSmallRanges(w, rows, num::GridType::F16)) {
    emitF32Remark(op, "some of its rows' ranges lie below f16's normal range");
    return num::GridType::F32;
  }
  return num::GridType::F16;
}

LogicalResult
BaqAllocatePass::quantizeMatmul(const QuantizableMatmul &c,
                                llvm::json::Array &report, int64_t index,
                                int64_t count, ArrayRef<int8_t> fixedBits,
                                std::optional<num::GridType> gridType) {
  Operation *op = c.matmul;
  auto hessianAttr =
      cast<ElementsAttr>(op->getAttr(BaqDialect::getHessianAttrName()));
  llvm::scope_exit release([&] { releaseHessian(hessianAttr); });
  FailureOr<LayerInputs> inputs = readLayer(c, hessianAttr);
  if (failed(inputs))
    return failure();
  const HessianEntry *hessian = inputs->hessian;
  std::vector<float> &w = inputs->weight;

  num::LayerOptions options = getLayerOptions();
  if (!gridType) {
    FailureOr<num::GridType> chosen =
        chooseScaleType(op, w, c.outputs, c.inputs);
    if (failed(chosen))
      return failure();
    gridType = *chosen;
  }
  setGridTypes(options.quant, *gridType);
  if (index < static_cast<int64_t>(pooledTotals.size()) &&
      !std::isnan(pooledTotals[index])) {
    options.budgetTotal = true;
    options.targetBits = pooledTotals[index];
  }
  // A per-matmul target: this layer meets it on its own.
  if (auto target =
          op->getAttrOfType<FloatAttr>(BaqDialect::getTargetBitsAttrName())) {
    options.targetBits = target.getValueAsDouble();
    options.budgetTotal = budget == BudgetKind::Total;
  }
  options.fixedBits.assign(fixedBits.begin(), fixedBits.end());
  const num::ActOrderHessian *act = hessian->act ? &*hessian->act : nullptr;
  llvm::Expected<num::LayerResult> result = num::quantizeLayer(
      w, c.outputs, c.inputs, hessian->raw, hessian->prepared, options, act);
  if (!result)
    return op->emitError() << "baq-allocate: "
                           << llvm::toString(result.takeError());
  // A (row, group) range below the normal range would store a scale with
  // few significant bits, or 0: that group would decode to zeros. `auto`
  // moves the layer to f32 where its bits are still free to choose (a
  // module-wide plan was made with this layer's type).
  // A pooled total was costed with this layer's type too.
  bool planned =
      !fixedBits.empty() || (pooledRate && budget == BudgetKind::Total);
  // With 8-bit scale codes a small range is stored as code 1: a coarser grid
  // that the quantizer used and measured, never a group of zeros. `auto`
  // moves such a layer to f16 where its bits are still free to choose and
  // keeps the codes under a plan.
  if (result->smallRanges && scaleType == ScaleTypeKind::Auto &&
      *gridType == num::GridType::E4M4) {
    if (planned) {
      result->smallRanges.reset();
    } else {
      gridType = num::GridType::F16;
      setGridTypes(options.quant, *gridType);
      result = num::quantizeLayer(w, c.outputs, c.inputs, hessian->raw,
                                  hessian->prepared, options, act);
      if (!result)
        return op->emitError()
               << "baq-allocate: " << llvm::toString(result.takeError());
    }
  }
  if (result->smallRanges && scaleType == ScaleTypeKind::Auto &&
      *gridType == num::GridType::F16 && !planned) {
    emitF32Remark(op, "some of its groups' ranges lie below f16's normal "
                      "range");
    setGridTypes(options.quant, num::GridType::F32);
    result = num::quantizeLayer(w, c.outputs, c.inputs, hessian->raw,
                                hessian->prepared, options, act);
    if (!result)
      return op->emitError()
             << "baq-allocate: " << llvm::toString(result.takeError());
  }
  if (const std::optional<num::SmallRanges> &small = result->smallRanges) {
    num::GridType type = options.quant.scaleType;
    InFlightDiagnostic diag = op->emitError();
    diag << "baq-allocate: " << small->count << " of "
         << c.outputs * result->weight.layout.numGroups
         << " (row, group) ranges of this weight lie below the smallest "
         << (type == num::GridType::E4M4 ? "" : "normal ")
         << num::gridTypeName(type) << " ("
         << num::detail::formatDouble(num::smallestNormal(type))
         << "); the smallest, " << num::detail::formatDouble(small->range)
         << " at row " << small->row << ", group " << small->group;
    if (type == num::GridType::F32)
      return diag << "; no scale type holds ranges this small (the grid's "
                     "step, range / (2^b - 1), would lose its precision or "
                     "be 0)";
    if (type == num::GridType::E4M4)
      diag << ", is stored as code 1 ("
           << num::detail::formatDouble(small->stored)
           << ": a coarser grid than its range needs)";
    else if (small->stored == 0.0f)
      diag << ", is stored as 0 (its group would decode to zeros)";
    else
      diag << ", is stored as " << num::detail::formatDouble(small->stored)
           << " (with fewer significant bits than " << num::gridTypeName(type)
           << " has)";
    if (scaleType == ScaleTypeKind::Auto)
      diag << "; use scale-type=f32 (the module-wide plan chose "
           << num::gridTypeName(type) << " from the rows' ranges)";
    else if (type == num::GridType::E4M4)
      diag << "; use scale-type=f16 (or auto)";
    else
      diag << "; use scale-type=f32 (or auto)";
    return diag;
  }

  rewriteToPacked(c, result->weight, options.quant, getOperation());

  // The paper's rounding only approximates the budget (Alg. 1-2); say so
  // where it overshoots instead of reporting a target it did not meet.
  int64_t weights = c.outputs * c.inputs;
  const num::StorageBits &s = result->storage;
  double achieved =
      static_cast<double>(options.budgetTotal ? s.total() : s.payload) /
      static_cast<double>(weights);
  if (options.allocator == num::Allocator::Paper &&
      achieved > options.targetBits + 1e-9)
    op->emitWarning() << llvm::formatv(
        "allocator=paper reached {0:f3} {1} bits per weight for target-bits="
        "{2}; allocator=exact meets the budget",
        achieved, options.budgetTotal ? "total" : "payload",
        options.targetBits);

  // Bookkeeping, report and progress.
  ++quantizedCount;
  for (auto [b, columns] : llvm::enumerate(result->histogram))
    columnsPerBits[b] += columns;
  totalWeights += weights;
  totalStorage.payload += s.payload;
  totalStorage.padding += s.padding;
  totalStorage.scales += s.scales;
  totalStorage.zeros += s.zeros;
  totalStorage.bitTable += s.bitTable;
  totalStorage.permutation += s.permutation;

  std::string location;
  llvm::raw_string_ostream os(location);
  op->getLoc().print(os);
  llvm::json::Object entry{
      {"name", c.name},
      {"location", location},
      {"shape", toJson({c.outputs, c.inputs})},
      {"bits", storageToJson(s, weights)},
      {"bits_histogram", toJson(result->histogram)},
      {"ratio_c", toJsonNumber(result->ratioC)},
      {"predicted_loss", toJsonNumber(result->predictedLoss)},
      // Predicted loss with every column at 0 bits (sum of C_j): what
      // budget-scope=module measures each layer's loss against.
      {"predicted_loss_0bit",
       toJsonNumber(std::accumulate(result->sensitivities.begin(),
                                    result->sensitivities.end(), 0.0))},
  };
  entry["choice"] = result->choice;
  if (options.measureLoss)
    entry["hessian_loss"] = toJsonNumber(result->hessianLoss);
  if (!result->uniformUnavailable.empty()) {
    entry["uniform_bits"] = nullptr;
    entry["uniform_hessian_loss"] = nullptr;
    entry["uniform_unavailable"] = result->uniformUnavailable;
  } else if (options.measureUniformBaseline) {
    entry["uniform_bits"] = result->uniformBits;
    entry["uniform_hessian_loss"] = toJsonNumber(result->uniformHessianLoss);
  }
  report.push_back(std::move(entry));

  if (progress) {
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    double eta = elapsed / static_cast<double>(index + 1) *
                 static_cast<double>(count - index - 1);
    llvm::errs() << llvm::formatv(
        "baq-allocate [{0}/{1}] {2} {3}x{4}: payload {5:f3} total {6:f3} "
        "bits/weight, ratio_c {7:f3}, elapsed {8:f1}s, eta {9:f1}s\n",
        index + 1, count, c.name, c.outputs, c.inputs,
        static_cast<double>(s.payload) / weights,
        static_cast<double>(s.total()) / weights, result->ratioC, elapsed, eta);
  }
  return success();
}

/// Sensitivities of every candidate, then one allocation across all of them
/// (num::allocateModule).
FailureOr<BaqAllocatePass::ModulePlan>
BaqAllocatePass::allocateModule(ArrayRef<QuantizableMatmul> candidates) {
  num::LayerOptions options = getLayerOptions();
  std::vector<std::vector<double>> sensitivities;
  // Each layer's metadata is costed in the type it will be stored in.
  ModulePlan plan;
  std::vector<num::QuantizerOptions> quants;
  for (const QuantizableMatmul &c : candidates) {
    auto hessianAttr =
        cast<ElementsAttr>(c.matmul->getAttr(BaqDialect::getHessianAttrName()));
    Operation *op = c.matmul;
    llvm::scope_exit release([&] { releaseHessian(hessianAttr); });
    FailureOr<LayerInputs> inputs = readLayer(c, hessianAttr);
    if (failed(inputs))
      return failure();
    const HessianEntry *hessian = inputs->hessian;
    std::vector<float> &w = inputs->weight;
    for (float v : w)
      if (!std::isfinite(v))
        return op->emitError() << "baq-allocate: weight contains NaN or Inf";
    FailureOr<num::GridType> gridType =
        chooseScaleType(op, w, c.outputs, c.inputs);
    if (failed(gridType))
      return failure();
    plan.gridTypes.push_back(*gridType);
    quants.push_back(options.quant);
    setGridTypes(quants.back(), *gridType);
    num::zeroDeadColumns(w, c.outputs, hessian->prepared);
    sensitivities.push_back(num::computeSensitivities(
        w, c.outputs, c.inputs, hessian->prepared, options.sensitivity));
  }
  std::vector<num::LayerDemand> demands;
  for (auto [c, s, quant] : llvm::zip(candidates, sensitivities, quants))
    demands.push_back({s, c.outputs, &quant});
  llvm::Expected<std::vector<std::vector<int8_t>>> bits =
      num::allocateModule(demands, options);
  if (!bits) {
    getOperation()->emitError()
        << "baq-allocate: " << llvm::toString(bits.takeError());
    return failure();
  }
  plan.bits = std::move(*bits);
  return plan;
}

FailureOr<double>
BaqAllocatePass::poolBudget(ArrayRef<QuantizableMatmul> candidates,
                            std::vector<num::GridType> &gridTypes) {
  std::vector<num::LayerShape> shapes;
  std::vector<int64_t> shapeOf; // candidate -> shapes index, or -1
  for (const QuantizableMatmul &c : candidates) {
    // Only the storage types depend on the weight's values.
    FailureOr<std::vector<float>> w = readWeightMatrix(c);
    if (failed(w))
      return failure();
    FailureOr<num::GridType> gridType =
        chooseScaleType(c.matmul, *w, c.outputs, c.inputs);
    if (failed(gridType))
      return failure();
    gridTypes.push_back(*gridType);
    shapeOf.push_back(-1);
    if (c.matmul->hasAttr(BaqDialect::getTargetBitsAttrName()))
      continue; // meets its own target
    shapeOf.back() = static_cast<int64_t>(shapes.size());
    num::LayerShape shape{c.outputs, c.inputs, getLayerOptions().quant};
    setGridTypes(shape.quant, *gridType);
    shapes.push_back(shape);
  }
  if (shapes.empty())
    return targetBits.getValue();
  llvm::Expected<double> rate =
      num::pooledPayloadRate(shapes, targetBits, minBits);
  if (!rate)
    return getOperation()->emitError()
           << "baq-allocate: " << llvm::toString(rate.takeError());
  if (groupSize > 0)
    for (int64_t k : shapeOf)
      pooledTotals.push_back(k < 0 ? std::nan("")
                                   : num::pooledLayerTotal(shapes[k], *rate));
  return *rate;
}

void BaqAllocatePass::printSummary(ArrayRef<MatchNote> notes) {
  std::string line;
  llvm::raw_string_ostream os(line);
  os << "baq-allocate";
  if (std::string scope = getScopeName(getOperation()); !scope.empty())
    os << " (" << scope << ")";
  os << ": quantized " << quantizedCount << " weight"
     << (quantizedCount == 1 ? "" : "s");
  if (quantizedCount > 0) {
    os << llvm::formatv(
        " ({0} parameters, payload {1:f3} total {2:f3} "
        "bits/weight; columns per bitwidth",
        totalWeights, static_cast<double>(totalStorage.payload) / totalWeights,
        static_cast<double>(totalStorage.total()) / totalWeights);
    for (auto [b, columns] : llvm::enumerate(columnsPerBits))
      if (columns)
        os << " " << b << ":" << columns;
    os << ")";
  }
  if (f32Count)
    os << ", " << f32Count << " with f32 scales";
  // Reasons in order of first appearance, each with its count.
  SmallVector<std::pair<StringRef, int64_t>> reasons;
  for (const MatchNote &note : notes) {
    auto *it = llvm::find_if(
        reasons, [&](const auto &r) { return r.first == note.kind; });
    if (it == reasons.end())
      reasons.push_back({note.kind, 1});
    else
      ++it->second;
  }
  if (!reasons.empty()) {
    os << "; other contractions:";
    for (auto [index, reason] : llvm::enumerate(reasons))
      os << (index ? "," : "") << " " << reason.second << " " << reason.first;
    if (!verbose)
      os << " (verbose=true names each)";
  }
  llvm::errs() << line << "\n";
}

void BaqAllocatePass::runOnOperation() {
  if (failed(verifyOptions()))
    return signalPassFailure();
  start = std::chrono::steady_clock::now();
  hessians.clear();
  totalWeights = 0;
  totalStorage = {};

  quantizedCount = f32Count = 0;
  columnsPerBits = {};

  SmallVector<QuantizableMatmul> candidates;
  SmallVector<MatchNote> notes;
  bool failedMatch = false;
  getOperation()->walk([&](linalg::LinalgOp op) {
    FailureOr<std::optional<QuantizableMatmul>> match =
        matchQuantizable(op, getOperation(), notes);
    if (failed(match))
      failedMatch = true;
    else if (*match)
      candidates.push_back(**match);
  });
  if (failedMatch)
    return signalPassFailure();
  mergeSharedWeights(candidates, notes);
  // Attention contractions and tied weights are expected in every model:
  // counted in the summary, remarked on (with the op) only when asked.
  if (verbose)
    for (const MatchNote &note : notes)
      note.op->emitRemark() << note.message;
  // A module-wide budget reads every Hessian twice: once for the
  // sensitivities, once to quantize.
  bool moduleScope = budgetScope == BudgetScope::ModuleGreedy;
  for (const QuantizableMatmul &c : candidates) {
    std::shared_ptr<HessianEntry> &slot =
        hessians[c.matmul->getAttr(BaqDialect::getHessianAttrName())
                     .getAsOpaquePointer()];
    if (!slot)
      slot = std::make_shared<HessianEntry>();
    slot->pendingUses += moduleScope ? 2 : 1;
  }

  ModulePlan plan;
  pooledRate.reset();
  pooledTotals.clear();
  if (budgetScope == BudgetScope::Module && budget == BudgetKind::Total &&
      !candidates.empty()) {
    FailureOr<double> rate = poolBudget(candidates, plan.gridTypes);
    if (failed(rate))
      return signalPassFailure();
    pooledRate = *rate;
  }
  if (moduleScope) {
    FailureOr<ModulePlan> planned = allocateModule(candidates);
    if (failed(planned))
      return signalPassFailure();
    plan = std::move(*planned);
  }

  llvm::json::Array matmuls;
  bool anyFailure = false;
  for (auto [index, candidate] : llvm::enumerate(candidates))
    if (failed(quantizeMatmul(
            candidate, matmuls, index, candidates.size(),
            moduleScope ? ArrayRef<int8_t>(plan.bits[index])
                        : ArrayRef<int8_t>(),
            plan.gridTypes.empty()
                ? std::nullopt
                : std::optional<num::GridType>(plan.gridTypes[index]))))
      anyFailure = true;
  if (anyFailure)
    return signalPassFailure();
  if (progress)
    printSummary(notes);

  if (reportFile.empty())
    return;
  auto perWeight = [&](int64_t bits) {
    return totalWeights ? static_cast<double>(bits) / totalWeights : 0.0;
  };
  llvm::json::Object total =
      storageToJson(totalStorage, std::max<int64_t>(1, totalWeights));
  total["weights"] = totalWeights;
  total["payload_bits_per_weight"] = perWeight(totalStorage.payload);
  total["total_bits_per_weight"] = perWeight(totalStorage.total());
  llvm::json::Object options{
      {"target_bits", targetBits.getValue()},
      {"budget", budget == BudgetKind::Total ? "total" : "payload"},
      {"budget_scope", budgetScope == BudgetScope::Module  ? "module"
                       : budgetScope == BudgetScope::Layer ? "layer"
                                                           : "module-greedy"},
      {"allocator", uniform                             ? "uniform"
                    : allocator == AllocatorKind::Paper ? "paper"
                                                        : "exact"},
      {"quantizer", quantizer == QuantizerKind::Rtn ? "rtn" : "gptq"},
      {"group_size", groupSize.getValue()},
      {"scale_type", scaleType == ScaleTypeKind::F16    ? "f16"
                     : scaleType == ScaleTypeKind::BF16 ? "bf16"
                     : scaleType == ScaleTypeKind::F32  ? "f32"
                     : scaleType == ScaleTypeKind::U8   ? "u8"
                                                        : "auto"},
      {"zero_type", zeroType == ZeroTypeKind::U8 ? "u8" : "auto"},
      {"mse_grid", mseGrid.getValue()},
      {"act_order", useActOrder()},
      {"pruned_first", useActOrder() && prunedFirst},
      {"grid_weight",
       gridWeight == GridWeightKind::Hessian ? "hessian" : "none"},
      {"loss_model", lossModel == LossModelKind::Paper ? "paper" : "measured"},
      {"guard", guard.getValue()},
      {"refine", static_cast<int64_t>(refine.getValue())},
      {"damp", damp.getValue()},
  };
  llvm::json::Object root{{"options", std::move(options)},
                          {"matmuls", std::move(matmuls)},
                          {"total", std::move(total)}};
  // Instances nested below the top level run concurrently: each writes its
  // own report, named after its scope (r.json -> r.<function>.json), instead
  // of racing for one file.
  std::string path = reportFile;
  if (std::string scope = getScopeName(getOperation()); !scope.empty()) {
    StringRef extension = llvm::sys::path::extension(reportFile);
    path = (StringRef(reportFile).drop_back(extension.size()) + "." + scope +
            extension)
               .str();
  }
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    getOperation()->emitError() << "baq-allocate: cannot write report '" << path
                                << "': " << ec.message();
    return signalPassFailure();
  }
  out << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
}
