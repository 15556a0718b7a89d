//===- ActOrderTest.cpp - GPTQ's act-order (LayerOptions::actOrder) -------===//
//
// Act-order must equal running the plain pipeline on the problem permuted by
// decreasing diag(H) (W's columns and H's rows and columns), with the result
// permuted back, and the packed artefact must decode to what it returns.
//
//===----------------------------------------------------------------------===//

#include "baq/Numerics/QuantizeLayer.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

using namespace baq::numerics;

namespace {

TEST(ActOrderTest, EqualsPermutedProblem) {
  std::mt19937 rng(31);
  std::normal_distribution<float> normal;
  const int64_t m = 9, n = 20, samples = 64;
  std::vector<float> w(m * n), x(n * samples), h(n * n, 0.0f);
  for (float &v : w)
    v = normal(rng);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t t = 0; t < samples; ++t)
      x[j * samples + t] = normal(rng) * (1.0f + j % 5); // uneven diag(H)
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b)
      for (int64_t t = 0; t < samples; ++t)
        h[a * n + b] += 2.0f * x[a * samples + t] * x[b * samples + t];

  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return h[a * n + a] > h[b * n + b];
  });
  ASSERT_FALSE(std::is_sorted(order.begin(), order.end()));
  std::vector<float> wp(m * n), hp(n * n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t a = 0; a < n; ++a)
      wp[i * n + a] = w[i * n + order[a]];
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b)
      hp[a * n + b] = h[order[a] * n + order[b]];

  HessianOptions ho;
  llvm::Expected<PreparedHessian> prepared = prepareHessian(h, n, ho);
  llvm::Expected<PreparedHessian> preparedP = prepareHessian(hp, n, ho);
  ASSERT_TRUE(prepared && preparedP);

  LayerOptions act;
  act.targetBits = 2.5;
  act.actOrder = true;
  llvm::Expected<LayerResult> got = quantizeLayer(w, m, n, h, *prepared, act);
  ASSERT_TRUE(static_cast<bool>(got)) << llvm::toString(got.takeError());

  LayerOptions plain;
  plain.targetBits = 2.5;
  llvm::Expected<LayerResult> ref =
      quantizeLayer(wp, m, n, hp, *preparedP, plain);
  ASSERT_TRUE(static_cast<bool>(ref));

  for (int64_t a = 0; a < n; ++a) {
    EXPECT_DOUBLE_EQ(got->sensitivities[order[a]], ref->sensitivities[a]);
    EXPECT_EQ(got->weight.layout.bits[order[a]], ref->weight.layout.bits[a]);
    for (int64_t i = 0; i < m; ++i) {
      EXPECT_EQ(got->weight.codes[i * n + order[a]],
                ref->weight.codes[i * n + a]);
      EXPECT_EQ(got->weight.dequant[i * n + order[a]],
                ref->weight.dequant[i * n + a]);
    }
  }
  EXPECT_EQ(got->weight.scales, ref->weight.scales);
  EXPECT_NEAR(got->hessianLoss, ref->hessianLoss, 1e-4 * ref->hessianLoss);
  // The artefact in channel order decodes to the returned weights.
  const QuantizedWeight &q = got->weight;
  EXPECT_EQ(
      dequantize(q.layout, packCodes(q.layout, q.codes), q.scales, q.zeros),
      q.dequant);

  // Groups would depend on the order: rejected.
  act.quant.groupSize = 8;
  llvm::Expected<LayerResult> grouped =
      quantizeLayer(w, m, n, h, *prepared, act);
  ASSERT_FALSE(static_cast<bool>(grouped));
  EXPECT_NE(llvm::toString(grouped.takeError()).find("group-size=0"),
            std::string::npos);
}

// The pass prepares each Hessian once, in act order only (prepareActOrder),
// and hands it to every layer that reads it: the same result, bit for bit,
// as quantizeLayer preparing it from the channel-order factor's damping, with
// the default guard, measured loss and weighted grid.
TEST(ActOrderTest, GivenActOrderHessianIsTheSameComputation) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  const int64_t m = 12, n = 40, samples = 96;
  std::vector<float> w(m * n), x(n * samples), h(n * n, 0.0f);
  for (float &v : w)
    v = normal(rng);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t t = 0; t < samples; ++t)
      x[j * samples + t] = j == 3 ? 0.0f : normal(rng) * (1.0f + j % 7);
  for (int64_t a = 0; a < n; ++a)
    for (int64_t b = 0; b < n; ++b)
      for (int64_t t = 0; t < samples; ++t)
        h[a * n + b] += 2.0f * x[a * samples + t] * x[b * samples + t];

  HessianOptions ho;
  llvm::Expected<PreparedHessian> prepared = prepareHessian(h, n, ho);
  llvm::Expected<ActOrderHessian> given = prepareActOrder(h, n, ho);
  ASSERT_TRUE(prepared && given);
  ASSERT_EQ(prepared->retries, 0);
  EXPECT_TRUE(given->prepared
                  .dead[std::find(given->order.begin(), given->order.end(), 3) -
                        given->order.begin()]);

  LayerOptions options;
  options.targetBits = 2.5;
  options.actOrder = true;
  options.lossModel = LossModel::Measured;
  options.weightedGrid = true;
  options.quant.mseGrid = true;
  options.guard = true;
  llvm::Expected<LayerResult> own =
      quantizeLayer(w, m, n, h, *prepared, options);
  // `prepared` is not read when the act-order Hessian is given.
  llvm::Expected<LayerResult> shared =
      quantizeLayer(w, m, n, h, PreparedHessian(), options, &*given);
  ASSERT_TRUE(own && shared);
  EXPECT_EQ(own->weight.codes, shared->weight.codes);
  EXPECT_EQ(own->weight.scales, shared->weight.scales);
  EXPECT_EQ(own->weight.zeros, shared->weight.zeros);
  EXPECT_EQ(own->sensitivities, shared->sensitivities);
  EXPECT_EQ(own->hessianLoss, shared->hessianLoss);
  EXPECT_STREQ(own->choice, shared->choice);
  for (int64_t i = 0; i < m; ++i)
    EXPECT_EQ(shared->weight.dequant[i * n + 3], 0.0f); // dead channel

  // Channel indices in the messages, not act-order positions.
  std::vector<float> bad = h;
  bad[5 * n + 2] = NAN;
  llvm::Expected<ActOrderHessian> nan = prepareActOrder(bad, n, ho);
  ASSERT_FALSE(static_cast<bool>(nan));
  EXPECT_EQ(llvm::toString(nan.takeError()),
            "Hessian contains NaN or Inf at (5, 2)");
}

} // namespace
