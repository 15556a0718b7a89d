//===- QuantizeLayer.cpp - One layer through BAQ, end to end --------------===//

#include "baq/Numerics/QuantizeLayer.h"
#include "NumericsInternal.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <queue>

using namespace baq::numerics;
using baq::numerics::detail::makeError;

/// Shortest readable form ("2.5", not "2.50" or "2.500000e+00").
static std::string formatBits(double bits) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.4g", bits);
  return buffer;
}

int64_t baq::numerics::storedBits(llvm::ArrayRef<int8_t> bits, int64_t m,
                                  const QuantizerOptions &quant) {
  PackedLayout layout = computeLayout(bits, m, quant.groupSize);
  return computeStorage(layout, quant.scaleType, quant.zeroType).total();
}

static std::vector<int8_t> toBits(llvm::ArrayRef<int> bits) {
  return std::vector<int8_t>(bits.begin(), bits.end());
}

/// Total honest bits per weight of a bit assignment.
static double totalBitsPerWeight(llvm::ArrayRef<int8_t> bits, int64_t m,
                                 const QuantizerOptions &quant) {
  return static_cast<double>(storedBits(bits, m, quant)) /
         static_cast<double>(m * static_cast<int64_t>(bits.size()));
}

/// Stored bits of a layer from its row stream length and live channels:
/// payload words (FORMAT.md §3), scale groups and the bit table.
static int64_t layerBits(int64_t rowBits, int64_t live, int64_t m, int64_t n,
                         const QuantizerOptions &quant) {
  int64_t grid = gridTypeBits(quant.scaleType) + gridTypeBits(quant.zeroType);
  return 32 * countPayloadWords(rowBits, m) +
         m * countGroups(live, quant.groupSize) * grid + 4 * n;
}

/// The exact allocator under a total budget (see chooseBits).
/// Loss of `bits` under `table` (n x (kMaxBits + 1)).
static double tableLoss(const LossTable &table, llvm::ArrayRef<int8_t> bits) {
  double loss = 0;
  for (size_t j = 0; j < bits.size(); ++j)
    loss += table[j * (kMaxBits + 1) + bits[j]];
  return loss;
}

static llvm::Expected<std::vector<int8_t>>
chooseExactTotal(llvm::ArrayRef<double> c, int64_t m,
                 const LayerOptions &options, double eps,
                 const LossTable &table) {
  const int64_t n = static_cast<int64_t>(c.size());
  const QuantizerOptions &quant = options.quant;
  const int64_t budget =
      static_cast<int64_t>(std::floor(options.targetBits * m * n + eps));
  const int64_t grid =
      m * (gridTypeBits(quant.scaleType) + gridTypeBits(quant.zeroType));
  const int64_t gs = quant.groupSize;
  const int64_t maxGroups = countGroups(n, gs);
  // allocateExact's greedy with at most `cap` live channels: a column's first
  // bit is taken only while fewer than `cap` columns have one.
  auto capped = [&](int64_t rowBits, int64_t cap) {
    std::vector<int8_t> bits(n, static_cast<int8_t>(options.minBits));
    int64_t used = static_cast<int64_t>(options.minBits) * n;
    int64_t live = options.minBits > 0 ? n : 0;
    auto gain = [&](int64_t j) { return c[j] * std::exp2(-2.0 * bits[j]); };
    auto lower = [&](int64_t a, int64_t b) {
      double ga = gain(a), gb = gain(b);
      return ga != gb ? ga < gb : a > b;
    };
    std::priority_queue<int64_t, std::vector<int64_t>, decltype(lower)> heap(
        lower);
    for (int64_t j = 0; j < n; ++j)
      if (c[j] > 0 && bits[j] < options.maxBits)
        heap.push(j);
    while (!heap.empty() && used < rowBits) {
      int64_t j = heap.top();
      heap.pop();
      if (bits[j] == 0 && live >= cap)
        continue;
      live += bits[j] == 0;
      ++bits[j];
      ++used;
      if (bits[j] < options.maxBits)
        heap.push(j);
    }
    return bits;
  };

  std::vector<int8_t> best;
  double bestLoss = 0;
  auto consider = [&](std::vector<int8_t> bits) {
    if (storedBits(bits, m, quant) > budget)
      return;
    std::vector<int> asInt(bits.begin(), bits.end());
    double loss =
        table.empty() ? predictedLoss(c, asInt) : tableLoss(table, bits);
    if (best.empty() || loss < bestLoss) {
      best = std::move(bits);
      bestLoss = loss;
    }
  };
  // Groups G: at most G * group_size live channels, so G groups of metadata;
  // the rest of the budget, in whole payload words, goes to the payload.
  for (int64_t g = gs > 0 ? 1 : maxGroups; g <= maxGroups; ++g) {
    int64_t cap = gs > 0 ? std::min(n, g * gs) : n;
    if (options.minBits > 0 && cap < n)
      continue;
    int64_t avail = budget - 4 * n - g * grid;
    if (avail < 0)
      continue;
    int64_t rowBits = (avail / 32) * 32 / m;
    if (rowBits < static_cast<int64_t>(options.minBits) * n)
      continue;
    if (table.empty()) {
      consider(capped(rowBits, cap));
      continue;
    }
    llvm::Expected<std::vector<int>> bits =
        allocateTable(table, rowBits, options.minBits, options.maxBits, cap);
    if (!bits)
      return bits.takeError();
    consider(toBits(*bits));
  }
  for (int b = options.minBits; b <= options.maxBits; ++b)
    consider(std::vector<int8_t>(n, static_cast<int8_t>(b)));
  if (best.empty())
    return makeError(
        "target-bits=" + llvm::Twine(formatBits(options.targetBits)) +
        " cannot be met with budget=total: the smallest layout of this "
        "layer (min-bits=" +
        llvm::Twine(options.minBits) + ") costs " +
        llvm::Twine(formatBits(totalBitsPerWeight(
            std::vector<int8_t>(n, options.minBits), m, quant))) +
        " bits per weight");
  return best;
}

llvm::Expected<std::vector<int8_t>>
baq::numerics::chooseBits(llvm::ArrayRef<double> c, int64_t m,
                          const LayerOptions &options, const LossTable &table) {
  const int64_t n = static_cast<int64_t>(c.size());
  const double target = options.targetBits;
  // Small slack so that e.g. 2.0 * 64 is not floored to 127.
  constexpr double eps = 1e-9;

  if (options.allocator == Allocator::Uniform) {
    for (int b = options.maxBits; b >= options.minBits; --b) {
      std::vector<int8_t> bits(n, static_cast<int8_t>(b));
      double cost = options.budgetTotal
                        ? totalBitsPerWeight(bits, m, options.quant)
                        : static_cast<double>(b);
      if (cost <= target + eps)
        return bits;
    }
    return makeError("target-bits=" + llvm::Twine(formatBits(target)) +
                     " is below the cost of min-bits=" +
                     llvm::Twine(options.minBits) + " for every column");
  }

  if (options.allocator == Allocator::Paper) {
    double avg = target;
    if (options.budgetTotal) {
      // The paper has no notion of metadata: charge the metadata of a
      // uniform layout at the target up front, then allocate the rest.
      std::vector<int8_t> probe(
          n, static_cast<int8_t>(std::clamp<int>(
                 static_cast<int>(std::lround(target)), 1, kMaxBits)));
      avg -= totalBitsPerWeight(probe, m, options.quant) - probe.front();
      if (avg <= 0)
        return makeError("target-bits=" + llvm::Twine(formatBits(target)) +
                         " does not cover the metadata of this layer");
    }
    return toBits(allocatePaper(c, avg, options.minBits, options.maxBits));
  }

  if (options.budgetTotal)
    return chooseExactTotal(c, m, options, eps, table);
  // Exact: the integer optimum for the payload budget.
  int64_t budget = static_cast<int64_t>(std::floor(target * n + eps));
  if (budget < static_cast<int64_t>(options.minBits) * n)
    return makeError("target-bits=" + llvm::Twine(formatBits(target)) +
                     " is below min-bits=" + llvm::Twine(options.minBits));
  llvm::Expected<std::vector<int>> bits =
      table.empty()
          ? allocateExact(c, budget, options.minBits, options.maxBits)
          : allocateTable(table, budget, options.minBits, options.maxBits, n);
  if (!bits)
    return bits.takeError();
  return toBits(*bits);
}

llvm::Expected<std::vector<std::vector<int8_t>>>
baq::numerics::allocateModule(llvm::ArrayRef<LayerDemand> layers,
                              const LayerOptions &options) {
  constexpr double eps = 1e-9;
  auto quantOf = [&](const LayerDemand &layer) -> const QuantizerOptions & {
    return layer.quant ? *layer.quant : options.quant;
  };
  std::vector<std::vector<int8_t>> bits;
  std::vector<int64_t> rowBits, live, cost;
  int64_t weights = 0, spent = 0;
  for (const LayerDemand &layer : layers) {
    int64_t n = static_cast<int64_t>(layer.sensitivities.size());
    weights += layer.m * n;
    bits.emplace_back(n, static_cast<int8_t>(options.minBits));
    rowBits.push_back(static_cast<int64_t>(options.minBits) * n);
    live.push_back(options.minBits > 0 ? n : 0);
    cost.push_back(options.budgetTotal ? layerBits(rowBits.back(), live.back(),
                                                   layer.m, n, quantOf(layer))
                                       : layer.m * rowBits.back());
    spent += cost.back();
  }
  const int64_t budget =
      static_cast<int64_t>(std::floor(options.targetBits * weights + eps));
  // Each layer's predicted loss relative to its loss with no bits at all:
  // raw sensitivities of different layers are not comparable (measured on
  // stories260K at 2.47 total bits: raw 5725 dev perplexity, relative 421,
  // per layer 644).
  std::vector<double> weight;
  for (const LayerDemand &layer : layers) {
    double sum = 0;
    for (double v : layer.sensitivities)
      sum += v;
    weight.push_back(sum > 0 ? 1.0 / sum : 0.0);
  }
  if (spent > budget)
    return makeError(
        "target-bits=" + llvm::Twine(formatBits(options.targetBits)) +
        " cannot be met over the module: min-bits=" +
        llvm::Twine(options.minBits) + " already costs " +
        llvm::Twine(formatBits(static_cast<double>(spent) /
                               static_cast<double>(weights))) +
        " bits per weight" + (options.budgetTotal ? " with its metadata" : ""));

  // Max-heap of (gain per stored bit, layer, column); ties to the lower
  // layer, then the lower column, for determinism.
  struct Step {
    double gain;
    int64_t layer, column;
    bool operator<(const Step &o) const {
      if (gain != o.gain)
        return gain < o.gain;
      if (layer != o.layer)
        return layer > o.layer;
      return column > o.column;
    }
  };
  auto stepOf = [&](int64_t l, int64_t j) {
    double r = bits[l][j];
    return Step{weight[l] * layers[l].sensitivities[j] * std::exp2(-2.0 * r) *
                    0.75 / static_cast<double>(layers[l].m),
                l, j};
  };
  std::priority_queue<Step> heap;
  for (int64_t l = 0, e = layers.size(); l < e; ++l)
    for (int64_t j = 0, n = bits[l].size(); j < n; ++j)
      if (layers[l].sensitivities[j] > 0 && bits[l][j] < options.maxBits)
        heap.push(stepOf(l, j));
  while (!heap.empty()) {
    Step step = heap.top();
    heap.pop();
    int64_t l = step.layer, j = step.column;
    int64_t m = layers[l].m, n = bits[l].size();
    int64_t newLive = live[l] + (bits[l][j] == 0 ? 1 : 0);
    int64_t newCost = options.budgetTotal ? layerBits(rowBits[l] + 1, newLive,
                                                      m, n, quantOf(layers[l]))
                                          : m * (rowBits[l] + 1);
    // Spending only grows: a step that does not fit now never will.
    if (spent - cost[l] + newCost > budget)
      continue;
    spent += newCost - cost[l];
    cost[l] = newCost;
    ++rowBits[l];
    live[l] = newLive;
    if (++bits[l][j] < options.maxBits)
      heap.push(stepOf(l, j));
  }

  // Costs differ between layers (M bits per column bit), so the greedy is a
  // knapsack heuristic: keep the per-layer optimum where it is better (it
  // meets the module budget, each layer meeting it alone).
  auto lossOf = [&](const std::vector<std::vector<int8_t>> &plan) {
    double total = 0;
    for (auto [layer, w, b] : llvm::zip(layers, weight, plan))
      total += w * predictedLoss(layer.sensitivities,
                                 std::vector<int>(b.begin(), b.end()));
    return total;
  };
  std::vector<std::vector<int8_t>> perLayer;
  for (const LayerDemand &layer : layers) {
    LayerOptions own = options;
    own.quant = quantOf(layer);
    llvm::Expected<std::vector<int8_t>> b =
        chooseBits(layer.sensitivities, layer.m, own);
    if (!b) {
      llvm::consumeError(b.takeError());
      return bits;
    }
    perLayer.push_back(std::move(*b));
  }
  return lossOf(perLayer) < lossOf(bits) ? perLayer : bits;
}

llvm::Expected<double>
baq::numerics::pooledPayloadRate(llvm::ArrayRef<LayerShape> layers,
                                 double targetBits, int minBits) {
  constexpr double eps = 1e-9;
  int64_t weights = 0;
  std::vector<double> rates;
  for (const LayerShape &l : layers) {
    weights += l.m * l.n;
    for (int64_t k = 0; k <= kMaxBits * l.n; ++k)
      rates.push_back(static_cast<double>(k) / static_cast<double>(l.n));
  }
  llvm::sort(rates);
  rates.erase(std::unique(rates.begin(), rates.end()), rates.end());
  const int64_t budget =
      static_cast<int64_t>(std::floor(targetBits * weights + eps));
  auto stored = [&](double r) {
    int64_t total = 0;
    for (const LayerShape &l : layers) {
      int64_t rowBits = static_cast<int64_t>(std::floor(r * l.n + eps));
      total += layerBits(rowBits, rowBits > 0 ? l.n : 0, l.m, l.n, l.quant);
    }
    return total;
  };
  // Stored bits grow with r: the last rate that fits.
  auto fits = std::partition_point(rates.begin(), rates.end(), [&](double r) {
    return stored(r) <= budget;
  });
  if (fits == rates.begin() || *std::prev(fits) < minBits)
    return makeError(
        "target-bits=" + llvm::Twine(formatBits(targetBits)) +
        " cannot be met over the module: min-bits=" + llvm::Twine(minBits) +
        " with its metadata costs " +
        llvm::Twine(formatBits(static_cast<double>(stored(minBits)) /
                               static_cast<double>(weights))) +
        " bits per weight");
  return *std::prev(fits);
}

double baq::numerics::pooledLayerTotal(const LayerShape &l, double rate) {
  int64_t rowBits = static_cast<int64_t>(std::floor(rate * l.n + 1e-9));
  return static_cast<double>(
             layerBits(rowBits, rowBits > 0 ? l.n : 0, l.m, l.n, l.quant)) /
         static_cast<double>(l.m * l.n);
}

/// Columns of an M x N matrix in `order` (column a of the result is column
/// order[a] of `w`).
static std::vector<float> permuteColumns(llvm::ArrayRef<float> w, int64_t m,
                                         int64_t n,
                                         llvm::ArrayRef<int64_t> order) {
  std::vector<float> p(m * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t a = 0; a < n; ++a)
      p[i * n + a] = w[i * n + order[a]];
  return p;
}

llvm::Expected<ActOrderHessian>
baq::numerics::prepareActOrder(llvm::ArrayRef<float> h, int64_t n,
                               const HessianOptions &options) {
  if (n <= 0 || static_cast<int64_t>(h.size()) != n * n)
    return prepareHessian(h, n, options).takeError();
  if (llvm::Error err = detail::checkFinite(h, n))
    return std::move(err);
  std::vector<int64_t> order(n);
  for (int64_t j = 0; j < n; ++j)
    order[j] = j;
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return h[a * n + a] > h[b * n + b];
  });
  return prepareInOrder(h, n, std::move(order), options);
}

llvm::Expected<ActOrderHessian>
baq::numerics::prepareInOrder(llvm::ArrayRef<float> h, int64_t n,
                              std::vector<int64_t> order,
                              const HessianOptions &options) {
  assert(static_cast<int64_t>(h.size()) == n * n &&
         static_cast<int64_t>(order.size()) == n);
  ActOrderHessian act;
  act.order = std::move(order);
  std::vector<float> permutedH(n * n);
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b)
      permutedH[a * n + b] = h[act.order[a] * n + act.order[b]];
  llvm::Expected<PreparedHessian> prepared =
      prepareHessian(permutedH, n, options);
  if (!prepared)
    return prepared.takeError();
  act.prepared = std::move(*prepared);
  return act;
}

std::vector<int64_t>
baq::numerics::prunedFirstOrder(llvm::ArrayRef<int64_t> actOrder,
                                llvm::ArrayRef<int8_t> bits) {
  std::vector<int64_t> order(actOrder.begin(), actOrder.end());
  std::stable_partition(order.begin(), order.end(),
                        [&](int64_t channel) { return bits[channel] == 0; });
  return order;
}

using ActOrder = ActOrderHessian;

/// Runs the options' quantizer on `bits` into `out` (reusing its storage);
/// `quant` may carry grid weights in channel order. `h` is the undamped
/// Hessian (empty without one).
static void runQuantizer(llvm::ArrayRef<float> w, int64_t m, int64_t n,
                         llvm::ArrayRef<int8_t> bits, llvm::ArrayRef<float> h,
                         const PreparedHessian &prepared,
                         const LayerOptions &options,
                         const QuantizerOptions &quant, const ActOrder *act,
                         QuantizedWeight &out, GptqWorkspace &workspace) {
  if (options.quantizer == Quantizer::Rtn) {
    out = quantizeRtn(w, m, n, bits, quant);
    return;
  }
  if (!act)
    return quantizeGptq(w, m, n, bits, prepared, quant, out, workspace);
  // GPTQ in act order, results in channel order. With one group per row the
  // grids do not depend on the order.
  assert(quant.groupSize == 0 && "act-order needs group-size=0");
  const bool pruned = llvm::is_contained(bits, 0) &&
                      llvm::any_of(bits, [](int8_t b) { return b > 0; });
  if (options.prunedFirst && pruned &&
      static_cast<int64_t>(h.size()) == n * n) {
    HessianOptions hessianOptions;
    hessianOptions.damp = act->prepared.dampUsed;
    llvm::Expected<ActOrderHessian> first = prepareInOrder(
        h, n, prunedFirstOrder(act->order, bits), hessianOptions);
    // A permutation of a matrix act order prepared: this only fails if its
    // damping retries round differently, and act order is then the answer.
    if (first)
      return quantizeGptq(w, m, n, bits, first->prepared, quant, out, workspace,
                          first->order);
    llvm::consumeError(first.takeError());
  }
  quantizeGptq(w, m, n, bits, act->prepared, quant, out, workspace, act->order);
}

/// How far GPTQ's recurrence loss (QuantizedWeight::gptqLoss) may be from
/// the explicit tr((W-Q) H (W-Q)^T), relative to the larger damped loss
/// (gptqDampedLoss) of two candidates, for the guard to trust their order:
/// 50x the worst difference in GptqLossTest (2e-5, rank-deficient Hessians)
/// and 2000x the worst on a 1.6B-shape block (5e-7). Candidates closer than
/// this are compared on the explicit losses, so the guard keeps what
/// measuring every candidate explicitly would keep.
constexpr double kLossTolerance = 1e-3;

llvm::Expected<LayerResult> baq::numerics::quantizeLayer(
    llvm::ArrayRef<float> weight, int64_t m, int64_t n, llvm::ArrayRef<float> h,
    const PreparedHessian &prepared, const LayerOptions &options,
    const ActOrderHessian *given) {
  for (int64_t i = 0, e = m * n; i < e; ++i)
    if (!std::isfinite(weight[i]))
      return makeError("weight contains NaN or Inf at (" + llvm::Twine(i / n) +
                       ", " + llvm::Twine(i % n) + ")");

  const bool useAct = options.actOrder && options.quantizer == Quantizer::Gptq;
  if (useAct && given && given->prepared.n != n)
    return makeError("act-order Hessian does not match the layer");
  std::vector<float> w(weight.begin(), weight.end());
  if (useAct && given) {
    // Dead channels as the act-order preparation found them.
    for (int64_t a = 0; a < n; ++a)
      if (given->prepared.dead[a])
        for (int64_t i = 0; i < m; ++i)
          w[i * n + given->order[a]] = 0.0f;
  } else {
    zeroDeadColumns(w, m, prepared);
  }

  LayerResult result;
  std::unique_ptr<ActOrder> owned;
  const ActOrder *act = nullptr;
  // [H_F^-1]_jj in the order GPTQ runs, in channel order.
  std::vector<double> hfInv(n, 0.0);
  if (useAct) {
    if (options.quant.groupSize != 0)
      return makeError("act-order needs group-size=0");
    if (static_cast<int64_t>(h.size()) != n * n)
      return makeError("act-order needs the undamped Hessian (" +
                       llvm::Twine(n) + " x " + llvm::Twine(n) + "), got " +
                       llvm::Twine(h.size()) + " elements");
    if (!given) {
      HessianOptions hessianOptions;
      hessianOptions.damp = prepared.dampUsed;
      llvm::Expected<ActOrderHessian> fresh =
          prepareActOrder(h, n, hessianOptions);
      if (!fresh)
        return fresh.takeError();
      owned = std::make_unique<ActOrder>(std::move(*fresh));
    }
    act = given ? given : owned.get();
    std::vector<double> c =
        computeSensitivities(permuteColumns(w, m, n, act->order), m, n,
                             act->prepared, options.sensitivity);
    result.sensitivities.resize(n);
    for (int64_t a = 0; a < n; ++a) {
      result.sensitivities[act->order[a]] = c[a];
      double u = act->prepared.invChol[a * n + a];
      hfInv[act->order[a]] = act->prepared.dead[a] ? 0.0 : u * u;
    }
  } else {
    result.sensitivities =
        computeSensitivities(w, m, n, prepared, options.sensitivity);
    for (int64_t j = 0; j < n; ++j) {
      double u = prepared.invChol[j * n + j];
      hfInv[j] = prepared.dead[j] ? 0.0 : u * u;
    }
  }
  result.ratioC = ratioC(result.sensitivities);

  // Column weights 1/[H_F^-1]_jj: how much a unit of error in column j costs
  // the layer once GPTQ has compensated what it can (dead columns: nothing).
  std::vector<double> colWeight(n, 0.0);
  for (int64_t j = 0; j < n; ++j)
    if (hfInv[j] > 0)
      colWeight[j] = 1.0 / hfInv[j];
  QuantizerOptions quant = options.quant;
  if (options.weightedGrid && quant.mseGrid)
    quant.gridWeights = colWeight;

  LayerOptions uniformOptions = options;
  uniformOptions.allocator = Allocator::Uniform;
  uniformOptions.fixedBits.clear();
  const bool measured =
      options.lossModel == LossModel::Measured && options.maxBits >= 1 &&
      options.allocator == Allocator::Exact && options.fixedBits.empty();

  std::vector<int8_t> bits;
  LossTable table;
  if (!options.fixedBits.empty()) {
    bits = options.fixedBits;
  } else {
    if (measured) {
      // Each column's loss at each bitwidth is measured on the grid a
      // uniform layout at the target would store (the allocation then moves
      // it, which the guard's second allocation sees).
      int probe = std::clamp(static_cast<int>(std::lround(options.targetBits)),
                             std::max(options.minBits, 1), options.maxBits);
      std::vector<int8_t> probeBits(n, static_cast<int8_t>(probe));
      PackedLayout layout = computeLayout(probeBits, m, quant.groupSize);
      // In f32: a range the storage type cannot hold must not look like a
      // layer no bit improves (it is diagnosed after quantizing).
      QuantizerOptions probeQuant = quant;
      probeQuant.scaleType = GridType::F32;
      if (probeQuant.zeroType != GridType::U8)
        probeQuant.zeroType = GridType::F32;
      std::vector<float> scales, zeros;
      computeGrids(w, layout, probeQuant, scales, zeros);
      table = measuredLossTable(w, layout, scales, zeros, probeQuant.zeroType,
                                colWeight);
    }
    llvm::Expected<std::vector<int8_t>> chosen =
        chooseBits(result.sensitivities, m, options, table);
    if (!chosen)
      return chosen.takeError();
    bits = std::move(*chosen);
  }

  GptqWorkspace workspace;
  runQuantizer(w, m, n, bits, h, prepared, options, quant, act, result.weight,
               workspace);
  const bool haveH = static_cast<int64_t>(h.size()) == n * n;
  // The loss of a quantized candidate: GPTQ's own (no GEMM), or the explicit
  // trace for RTN.
  auto cheapLoss = [&](const QuantizedWeight &q) {
    return std::isnan(q.gptqLoss) ? hessianLoss(weight, q.dequant, m, n, h)
                                  : q.gptqLoss;
  };
  auto exactLoss = [&](const QuantizedWeight &q) {
    return hessianLoss(weight, q.dequant, m, n, h);
  };
  if (options.guard && haveH && options.fixedBits.empty() &&
      options.allocator != Allocator::Uniform) {
    double best = cheapLoss(result.weight);
    double bestDamped = result.weight.gptqDampedLoss;
    std::optional<double> bestExact;
    result.hessianLoss = best;
    // The losing candidate's buffers quantize the next one.
    QuantizedWeight spare;
    auto tryBits = [&](std::vector<int8_t> candidate, const char *choice) {
      if (candidate == bits)
        return bestExact.value_or(best);
      runQuantizer(w, m, n, candidate, h, prepared, options, quant, act, spare,
                   workspace);
      const double cheap = cheapLoss(spare);
      std::optional<double> exact;
      bool better = cheap < best;
      // Too close for the recurrence's rounding: decide on the explicit
      // losses, as a guard that measured every candidate would.
      if (!std::isnan(spare.gptqLoss) &&
          std::abs(cheap - best) <=
              kLossTolerance * std::max(spare.gptqDampedLoss, bestDamped)) {
        if (!bestExact)
          bestExact = exactLoss(result.weight);
        exact = exactLoss(spare);
        better = *exact < *bestExact;
      }
      const double loss = exact.value_or(cheap);
      if (better) {
        best = cheap;
        bestDamped = spare.gptqDampedLoss;
        bestExact = exact;
        bits = std::move(candidate);
        std::swap(result.weight, spare);
        result.choice = choice;
        result.hessianLoss = loss;
      }
      return loss;
    };
    if (measured) {
      // The first allocation changed the grid; measure again on it.
      LossTable again =
          measuredLossTable(w, result.weight.layout, result.weight.scales,
                            result.weight.zeros, quant.zeroType, colWeight);
      llvm::Expected<std::vector<int8_t>> re =
          chooseBits(result.sensitivities, m, options, again);
      if (!re)
        return re.takeError();
      tryBits(std::move(*re), "reallocated");
    }
    // A layer whose budget no uniform width meets (a total below the metadata
    // of every uniform layout) keeps its allocation.
    llvm::Expected<std::vector<int8_t>> uniformBits =
        chooseBits(result.sensitivities, m, uniformOptions);
    if (uniformBits) {
      result.uniformBits = uniformBits->front();
      double loss = tryBits(std::move(*uniformBits), "uniform");
      // The report's baseline is this very candidate when GPTQ quantizes.
      if (options.quantizer == Quantizer::Gptq)
        result.uniformHessianLoss = loss;
    } else {
      llvm::consumeError(uniformBits.takeError());
    }
  }

  if (options.refineSweeps > 0 && haveH &&
      options.quantizer == Quantizer::Gptq) {
    const double damp = act ? act->prepared.dampUsed : prepared.dampUsed;
    refineQuantized(w, m, n, h, damp, quant, options.refineSweeps,
                    result.weight);
    // GPTQ's recurrence no longer describes the refined codes.
    result.weight.gptqLoss = result.weight.gptqDampedLoss = std::nan("");
    if (result.hessianLoss >= 0)
      result.hessianLoss = hessianLoss(weight, result.weight.dequant, m, n, h);
  }

  result.smallRanges =
      findSmallRanges(w, result.weight.layout, options.quant.scaleType);
  result.storage = computeStorage(result.weight.layout, options.quant.scaleType,
                                  options.quant.zeroType);
  for (int8_t b : bits)
    ++result.histogram[b];
  std::vector<int> intBits(bits.begin(), bits.end());
  result.predictedLoss = predictedLoss(result.sensitivities, intBits);
  if (options.measureLoss && result.hessianLoss < 0)
    result.hessianLoss = cheapLoss(result.weight);

  if (options.measureUniformBaseline && result.uniformHessianLoss < 0) {
    LayerOptions uniform = uniformOptions;
    uniform.quantizer = Quantizer::Gptq;
    llvm::Expected<std::vector<int8_t>> uniformBits =
        chooseBits(result.sensitivities, m, uniform);
    // A baseline only describes: a layer that meets a module-wide budget
    // (or its fixed plan) need not meet the target alone at a uniform width.
    if (!uniformBits) {
      result.uniformUnavailable = llvm::toString(uniformBits.takeError());
      return result;
    }
    QuantizedWeight baseline;
    runQuantizer(w, m, n, *uniformBits, h, prepared, uniform, quant, act,
                 baseline, workspace);
    result.uniformBits = uniformBits->front();
    result.uniformHessianLoss = cheapLoss(baseline);
  }
  return result;
}
