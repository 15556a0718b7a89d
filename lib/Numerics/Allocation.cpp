//===- Allocation.cpp - BAQ sensitivities and bit allocation --------------===//
//
// Paper eqs. 5-10 and Alg. 1-2, plus the exact integer optimum of the
// separable convex objective sum_j C_j 2^{-2 R_j} under a bit budget.
//
//===----------------------------------------------------------------------===//

#include "baq/Numerics/Numerics.h"

#include "NumericsInternal.h"

#include <algorithm>
#include <cmath>
#include <queue>

using namespace baq::numerics;
using baq::numerics::detail::makeError;

std::vector<double>
baq::numerics::computeSensitivities(llvm::ArrayRef<float> w, int64_t m,
                                    int64_t n, const PreparedHessian &hessian,
                                    SensitivityMode mode) {
  assert(static_cast<int64_t>(w.size()) == m * n && hessian.n == n &&
         "weight/Hessian mismatch");
  // The row ranges do not depend on the column: sum them once.
  double rangeSquares = 0;
  for (int64_t i = 0; i < m; ++i) {
    float lo = 0.0f, hi = 0.0f;
    for (int64_t j = 0; j < n; ++j) {
      lo = std::min(lo, w[i * n + j]);
      hi = std::max(hi, w[i * n + j]);
    }
    double range = static_cast<double>(hi) - static_cast<double>(lo);
    rangeSquares += range * range;
  }

  std::vector<double> c(n, 0.0);
  for (int64_t j = 0; j < n; ++j) {
    if (hessian.dead[j])
      continue;
    double d;
    if (mode == SensitivityMode::CholeskyDiag) {
      double u = hessian.invChol[j * n + j];
      d = u * u;
    } else {
      d = hessian.invDiag[j];
    }
    c[j] = d > 0 ? rangeSquares / (12.0 * d) : 0.0;
  }
  return c;
}

double baq::numerics::ratioC(llvm::ArrayRef<double> c) {
  double logSum = 0, sum = 0;
  int64_t count = 0;
  for (double cj : c) {
    if (!(cj > 0))
      continue;
    logSum += std::log(cj);
    sum += cj;
    ++count;
  }
  if (count == 0)
    return 1.0;
  double geometric = std::exp(logSum / static_cast<double>(count));
  double arithmetic = sum / static_cast<double>(count);
  return geometric / arithmetic;
}

double baq::numerics::predictedLoss(llvm::ArrayRef<double> c,
                                    llvm::ArrayRef<int> bits) {
  assert(c.size() == bits.size() && "one bitwidth per column");
  double loss = 0;
  for (size_t j = 0; j < c.size(); ++j)
    loss += std::ldexp(c[j], -2 * bits[j]);
  return loss;
}

std::vector<double> baq::numerics::allocateContinuous(llvm::ArrayRef<double> c,
                                                      double avgBits) {
  const int64_t n = static_cast<int64_t>(c.size());
  std::vector<double> r(n, 0.0);
  const double total = avgBits * static_cast<double>(n);
  std::vector<double> logC;
  std::vector<int64_t> index;
  for (int64_t j = 0; j < n; ++j) {
    if (c[j] > 0) {
      logC.push_back(std::log2(c[j]));
      index.push_back(j);
    }
  }
  if (!(total > 0) || logC.empty())
    return r;

  // Work with t = log2(lambda): R_j = max(0, (log2 C_j - t) / 2), whose sum
  // decreases in t. At t = max log2 C it is 0; at t = min log2 C - 2 total / P
  // every term is at least total / P.
  const int64_t p = static_cast<int64_t>(logC.size());
  auto bitsAt = [&](double t) {
    double sum = 0;
    for (double l : logC)
      sum += std::max(0.0, 0.5 * (l - t));
    return sum;
  };
  double hi = *std::max_element(logC.begin(), logC.end());
  double lo = *std::min_element(logC.begin(), logC.end()) -
              2.0 * total / static_cast<double>(p);
  for (int iter = 0; iter < 200 && hi - lo > 0; ++iter) {
    double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi)
      break;
    if (bitsAt(mid) > total)
      lo = mid;
    else
      hi = mid;
  }
  double t = 0.5 * (lo + hi);

  // Bisection pins the active set; solve the budget equation on it in closed
  // form so the interior case is eq. 6 to rounding error.
  double activeLogSum = 0;
  int64_t active = 0;
  for (double l : logC) {
    if (l > t) {
      activeLogSum += l;
      ++active;
    }
  }
  if (active > 0) {
    double exact = (activeLogSum - 2.0 * total) / static_cast<double>(active);
    bool consistent = true;
    for (double l : logC)
      if ((l > t) != (l > exact) && std::fabs(l - exact) > 1e-12)
        consistent = false;
    if (consistent)
      t = exact;
  }
  for (int64_t k = 0; k < p; ++k)
    r[index[k]] = std::max(0.0, 0.5 * (logC[k] - t));
  return r;
}

/// The bit range and budget both exact allocators accept.
static llvm::Error checkBitRange(int64_t n, int64_t budgetBits, int minBits,
                                 int maxBits) {
  if (minBits < 0 || maxBits > kMaxBits || minBits > maxBits)
    return makeError("bit range [" + llvm::Twine(minBits) + ", " +
                     llvm::Twine(maxBits) + "] is not inside [0, " +
                     llvm::Twine(kMaxBits) + "]");
  if (static_cast<int64_t>(minBits) * n > budgetBits)
    return makeError("bit budget " + llvm::Twine(budgetBits) +
                     " is below min-bits=" + llvm::Twine(minBits) + " for " +
                     llvm::Twine(n) + " columns");
  return llvm::Error::success();
}

llvm::Expected<std::vector<int>>
baq::numerics::allocateExact(llvm::ArrayRef<double> c, int64_t budgetBits,
                             int minBits, int maxBits) {
  const int64_t n = static_cast<int64_t>(c.size());
  if (llvm::Error e = checkBitRange(n, budgetBits, minBits, maxBits))
    return std::move(e);

  std::vector<int> bits(n, minBits);
  int64_t remaining = budgetBits - static_cast<int64_t>(minBits) * n;

  // Gain of the next bit of column j: C_j 4^{-R} - C_j 4^{-R-1}. ldexp is
  // exact, so equal C_j at equal R tie exactly and the index decides.
  struct Candidate {
    double gain;
    int64_t column;
  };
  auto lessUrgent = [](const Candidate &a, const Candidate &b) {
    if (a.gain != b.gain)
      return a.gain < b.gain;
    return a.column > b.column;
  };
  auto gainOf = [&](int64_t j) {
    return std::ldexp(c[j] * 0.75, -2 * bits[j]);
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(lessUrgent)>
      heap(lessUrgent);
  for (int64_t j = 0; j < n; ++j)
    if (c[j] > 0 && bits[j] < maxBits)
      heap.push({gainOf(j), j});

  // The objective is separable and convex in R_j with decreasing marginal
  // gains, so taking the best next bit each time is optimal.
  while (remaining > 0 && !heap.empty()) {
    Candidate best = heap.top();
    heap.pop();
    ++bits[best.column];
    --remaining;
    if (bits[best.column] < maxBits)
      heap.push({gainOf(best.column), best.column});
  }
  return bits;
}

LossTable baq::numerics::paperLossTable(llvm::ArrayRef<double> c) {
  constexpr int64_t width = kMaxBits + 1;
  LossTable table(c.size() * width);
  for (size_t j = 0; j < c.size(); ++j)
    for (int b = 0; b < width; ++b)
      table[j * width + b] = std::ldexp(c[j], -2 * b);
  return table;
}

llvm::Expected<std::vector<int>>
baq::numerics::allocateTable(const LossTable &table, int64_t budgetBits,
                             int minBits, int maxBits, int64_t maxLive) {
  constexpr int64_t width = kMaxBits + 1;
  const int64_t n = static_cast<int64_t>(table.size()) / width;
  if (llvm::Error e = checkBitRange(n, budgetBits, minBits, maxBits))
    return std::move(e);
  auto loss = [&](int64_t j, int b) { return table[j * width + b]; };

  // Lower convex hull of each column's (bits, loss) points: the bitwidths
  // worth stopping at. Greedy over hull edges is then exact up to the last,
  // partly affordable, edge.
  std::vector<std::vector<int>> hull(n);
  for (int64_t j = 0; j < n; ++j) {
    std::vector<int> &h = hull[j];
    for (int b = minBits; b <= maxBits; ++b) {
      // Pop the middle point while it lies on or above the chord a -> b.
      while (h.size() >= 2) {
        int a = h[h.size() - 2], c = h.back();
        double below = (loss(j, b) - loss(j, c)) * (c - a) -
                       (loss(j, c) - loss(j, a)) * (b - c);
        if (below > 0)
          break;
        h.pop_back();
      }
      h.push_back(b);
    }
  }

  std::vector<int> bits(n, minBits);
  std::vector<size_t> at(n, 0);
  int64_t used = static_cast<int64_t>(minBits) * n;
  int64_t live = minBits > 0 ? n : 0;
  struct Edge {
    double gain; // loss decrease per bit
    int64_t column;
  };
  auto lessUrgent = [](const Edge &a, const Edge &b) {
    if (a.gain != b.gain)
      return a.gain < b.gain;
    return a.column > b.column;
  };
  std::priority_queue<Edge, std::vector<Edge>, decltype(lessUrgent)> heap(
      lessUrgent);
  auto pushNext = [&](int64_t j) {
    if (at[j] + 1 >= hull[j].size())
      return;
    int a = hull[j][at[j]], c = hull[j][at[j] + 1];
    double gain = (loss(j, a) - loss(j, c)) / (c - a);
    if (gain > 0)
      heap.push({gain, j});
  };
  for (int64_t j = 0; j < n; ++j)
    pushNext(j);
  while (!heap.empty() && used < budgetBits) {
    int64_t j = heap.top().column;
    heap.pop();
    int step = hull[j][at[j] + 1] - bits[j];
    if (used + step > budgetBits || (bits[j] == 0 && live >= maxLive))
      continue; // this column stays where it is
    live += bits[j] == 0;
    used += step;
    bits[j] += step;
    ++at[j];
    pushNext(j);
  }
  // Bits no hull edge could use: one at a time, best single-bit decrease.
  while (used < budgetBits) {
    int64_t best = -1;
    double bestGain = 0;
    for (int64_t j = 0; j < n; ++j) {
      if (bits[j] >= maxBits || (bits[j] == 0 && live >= maxLive))
        continue;
      double gain = loss(j, bits[j]) - loss(j, bits[j] + 1);
      if (gain > bestGain) {
        bestGain = gain;
        best = j;
      }
    }
    if (best < 0)
      break;
    live += bits[best] == 0;
    ++bits[best];
    ++used;
  }
  return bits;
}

/// Paper Alg. 1: R_j = max(0, round(1/2 log2(C_j / L_ref))), then clamped.
/// L_ref is passed as log2 so that extreme C_j cannot overflow.
static std::vector<int> bitsForReferenceLoss(llvm::ArrayRef<double> c,
                                             double log2RefLoss, int minBits,
                                             int maxBits) {
  std::vector<int> bits(c.size(), minBits);
  for (size_t j = 0; j < c.size(); ++j) {
    if (!(c[j] > 0))
      continue;
    double r = std::max(0.0, std::round(0.5 * (std::log2(c[j]) - log2RefLoss)));
    bits[j] = static_cast<int>(std::clamp(r, static_cast<double>(minBits),
                                          static_cast<double>(maxBits)));
  }
  return bits;
}

std::vector<int> baq::numerics::allocatePaper(llvm::ArrayRef<double> c,
                                              double avgBits, int minBits,
                                              int maxBits) {
  const int64_t n = static_cast<int64_t>(c.size());
  double logSum = 0;
  int64_t positive = 0;
  for (double cj : c) {
    if (cj > 0) {
      logSum += std::log2(cj);
      ++positive;
    }
  }
  if (positive == 0 || n == 0)
    return std::vector<int>(n, minBits);

  // Eq. 8: the loss per column of the continuous optimum is G 2^{-2 avgBits}.
  double log2Init = logSum / static_cast<double>(positive) - 2.0 * avgBits;
  // Alg. 2: measure the average the rounding gives, shift L by eq. 12.
  std::vector<int> first = bitsForReferenceLoss(c, log2Init, minBits, maxBits);
  double initAvg = 0;
  for (int b : first)
    initAvg += b;
  initAvg /= static_cast<double>(n);
  double log2Ref = log2Init + 2.0 * (initAvg - avgBits);
  return bitsForReferenceLoss(c, log2Ref, minBits, maxBits);
}
