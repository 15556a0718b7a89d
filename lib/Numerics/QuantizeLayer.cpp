//===- QuantizeLayer.cpp - One layer through BAQ, end to end --------------===//

#include "baq/Numerics/QuantizeLayer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace baq::numerics;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Shortest readable form ("2.5", not "2.50" or "2.500000e+00").
static std::string formatBits(double bits) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.4g", bits);
  return buffer;
}

/// Total honest bits per weight of a bit assignment.
static double totalBitsPerWeight(llvm::ArrayRef<int8_t> bits, int64_t m,
                                 const QuantizerOptions &quant) {
  PackedLayout layout = computeLayout(bits, m, quant.groupSize);
  StorageBits storage = computeStorage(layout, quant.scaleType, quant.zeroType);
  return static_cast<double>(storage.total()) /
         static_cast<double>(m * static_cast<int64_t>(bits.size()));
}

static std::vector<int8_t> toBits(llvm::ArrayRef<int> bits) {
  return std::vector<int8_t>(bits.begin(), bits.end());
}

llvm::Expected<std::vector<int8_t>>
baq::numerics::chooseBits(llvm::ArrayRef<double> c, int64_t m,
                          const LayerOptions &options) {
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

  // Exact: the integer optimum for the payload budget; for a total budget,
  // shrink the payload budget until payload plus metadata fits.
  int64_t budget = static_cast<int64_t>(std::floor(target * n + eps));
  for (int attempt = 0; attempt < 64; ++attempt) {
    if (budget < static_cast<int64_t>(options.minBits) * n)
      break;
    llvm::Expected<std::vector<int>> bits =
        allocateExact(c, budget, options.minBits, options.maxBits);
    if (!bits)
      return bits.takeError();
    std::vector<int8_t> result = toBits(*bits);
    if (!options.budgetTotal)
      return result;
    double excess = totalBitsPerWeight(result, m, options.quant) - target;
    if (excess <= eps)
      return result;
    // Each payload bit of the budget is worth 1/n bits per weight.
    budget -= std::max<int64_t>(1, static_cast<int64_t>(std::ceil(excess * n)));
  }
  return makeError(
      "target-bits=" + llvm::Twine(formatBits(target)) +
      " cannot be met with budget=total: the metadata of this "
      "layer alone costs about " +
      llvm::Twine(formatBits(totalBitsPerWeight(
          std::vector<int8_t>(n, options.minBits), m, options.quant))) +
      " bits per weight");
}

static QuantizedWeight runQuantizer(llvm::ArrayRef<float> w, int64_t m,
                                    int64_t n, llvm::ArrayRef<int8_t> bits,
                                    const PreparedHessian &prepared,
                                    const LayerOptions &options) {
  if (options.quantizer == Quantizer::Rtn)
    return quantizeRtn(w, m, n, bits, options.quant);
  return quantizeGptq(w, m, n, bits, prepared, options.quant);
}

llvm::Expected<LayerResult> baq::numerics::quantizeLayer(
    llvm::ArrayRef<float> weight, int64_t m, int64_t n, llvm::ArrayRef<float> h,
    const PreparedHessian &prepared, const LayerOptions &options) {
  for (int64_t i = 0, e = m * n; i < e; ++i)
    if (!std::isfinite(weight[i]))
      return makeError("weight contains NaN or Inf at (" + llvm::Twine(i / n) +
                       ", " + llvm::Twine(i % n) + ")");

  std::vector<float> w(weight.begin(), weight.end());
  zeroDeadColumns(w, m, prepared);

  LayerResult result;
  result.sensitivities =
      computeSensitivities(w, m, n, prepared, options.sensitivity);
  result.ratioC = ratioC(result.sensitivities);

  llvm::Expected<std::vector<int8_t>> bits =
      chooseBits(result.sensitivities, m, options);
  if (!bits)
    return bits.takeError();

  result.weight = runQuantizer(w, m, n, *bits, prepared, options);
  result.storage = computeStorage(result.weight.layout, options.quant.scaleType,
                                  options.quant.zeroType);
  for (int8_t b : *bits)
    ++result.histogram[b];
  std::vector<int> intBits(bits->begin(), bits->end());
  result.predictedLoss = predictedLoss(result.sensitivities, intBits);
  if (options.measureLoss)
    result.hessianLoss = hessianLoss(weight, result.weight.dequant, m, n, h);

  if (options.measureUniformBaseline) {
    LayerOptions uniform = options;
    uniform.allocator = Allocator::Uniform;
    uniform.quantizer = Quantizer::Gptq;
    llvm::Expected<std::vector<int8_t>> uniformBits =
        chooseBits(result.sensitivities, m, uniform);
    if (!uniformBits)
      return uniformBits.takeError();
    QuantizedWeight baseline =
        runQuantizer(w, m, n, *uniformBits, prepared, uniform);
    result.uniformBits = uniformBits->front();
    result.uniformHessianLoss = hessianLoss(weight, baseline.dequant, m, n, h);
  }
  return result;
}
