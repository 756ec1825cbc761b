// `calibration: live`: the threshold that holds a share on the scores the gateway sees, from a
// fixed histogram; warm-up, decay and concurrent observers.
#include "routing/share_calibrator.h"

#include <cmath>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sy::routing {
namespace {

// Ten bins of 0.1 each: hand-checkable quantiles.
struct QuantileCase {
  const char* name;
  std::vector<uint32_t> bins;
  double share;
  std::optional<double> threshold;
};

TEST(ThresholdForShareTest, IsTheQuantileInterpolatedInsideItsBin) {
  const std::vector<QuantileCase> cases = {
      {"empty", std::vector<uint32_t>(10, 0), 0.5, std::nullopt},
      {"none strong", {0, 0, 0, 0, 0, 10, 0, 0, 0, 0}, 0.0, std::nextafter(1.0, 2.0)},
      {"all strong", {0, 0, 0, 0, 0, 10, 0, 0, 0, 0}, 1.0, 0.0},
      // 10 scores in [0.5, 0.6): 3 of them are the top 30% of the bin.
      {"inside one bin", {0, 0, 0, 0, 0, 10, 0, 0, 0, 0}, 0.3, 0.57},
      // 20 scores: the top 5 are the whole bin [0.9, 1.0) ...
      {"a whole bin", {0, 0, 0, 0, 0, 15, 0, 0, 0, 5}, 0.25, 0.9},
      // ... and 6 of 20 reach 1 of the 15 in [0.5, 0.6).
      {"across empty bins", {0, 0, 0, 0, 0, 15, 0, 0, 0, 5}, 0.3, 0.6 - 0.1 / 15},
      {"bottom bin", {4, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0.5, 0.05},
  };
  for (const auto& c : cases) {
    const auto got = ThresholdForShare(c.bins, c.share);
    ASSERT_EQ(got.has_value(), c.threshold.has_value()) << c.name;
    if (got) {
      EXPECT_NEAR(*got, *c.threshold, 1e-12) << c.name;
    }
  }
}

// The share of `scores` at or above `threshold`.
double ShareAtOrAbove(const std::vector<double>& scores, double threshold) {
  int64_t n = 0;
  for (const double s : scores) n += s >= threshold ? 1 : 0;
  return static_cast<double>(n) / static_cast<double>(scores.size());
}

std::vector<double> Uniform(size_t n, double lo, double hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> draw(lo, hi);
  std::vector<double> out(n);
  for (double& s : out) s = draw(rng);
  return out;
}

TEST(ShareCalibratorTest, KeepsItsStartingThresholdUntilWarmedUp) {
  ShareCalibrator c(0.2, 0.574, 10'000);
  ASSERT_EQ(c.warm_up(), 200);
  for (const double s : Uniform(199, 0.0, 0.1, 1)) c.Observe(s);
  EXPECT_EQ(c.Threshold(), 0.574);
  c.Observe(0.05);
  EXPECT_EQ(c.seen(), 200);
  EXPECT_NEAR(c.Threshold(), 0.08, 0.01);  // the top fifth of scores spread over [0, 0.1)
}

TEST(ShareCalibratorTest, HoldsTheShareOnTrafficUnlikeTheTrainingPrompts) {
  // Training said 0.574 for a share of 0.2; live scores sit in [0.45, 0.55], so that threshold
  // would send none of them to the strong side.
  ShareCalibrator c(0.2, 0.574, 2'000);
  for (const double s : Uniform(4'000, 0.45, 0.55, 2)) c.Observe(s);
  const auto next = Uniform(10'000, 0.45, 0.55, 3);
  EXPECT_NEAR(c.Threshold(), 0.53, 0.002);
  EXPECT_NEAR(ShareAtOrAbove(next, c.Threshold()), 0.2, 0.02);
}

TEST(ShareCalibratorTest, FollowsAShiftInTrafficWithinAFewWindows) {
  ShareCalibrator c(0.3, 0.5, 1'000);
  for (const double s : Uniform(5'000, 0.2, 0.4, 4)) c.Observe(s);
  EXPECT_NEAR(c.Threshold(), 0.34, 0.005);
  for (const double s : Uniform(8'000, 0.6, 0.8, 5)) c.Observe(s);
  EXPECT_NEAR(c.Threshold(), 0.74, 0.01);
  EXPECT_NEAR(ShareAtOrAbove(Uniform(10'000, 0.6, 0.8, 6), c.Threshold()), 0.3, 0.03);
}

TEST(ShareCalibratorTest, OutOfRangeScoresAreClampedAndNaNIgnored) {
  ShareCalibrator c(0.5, 0.5, 100);
  for (int i = 0; i < 100; ++i) c.Observe(i % 2 == 0 ? -3.0 : 7.0);
  c.Observe(std::nan(""));
  EXPECT_EQ(c.seen(), 100);
  // Half the scores at 0, half at 1: the top bin holds the strong half.
  EXPECT_GE(c.Threshold(), 1.0 - 1.0 / ShareCalibrator::kBins);
  EXPECT_LE(c.Threshold(), 1.0);
}

TEST(ShareCalibratorTest, ConcurrentObserversLoseNoScoreAndAgree) {
  ShareCalibrator c(0.25, 0.9, 100'000);
  std::vector<std::thread> threads;
  for (uint64_t t = 0; t < 4; ++t) {
    threads.emplace_back([&c, t] {
      for (const double s : Uniform(20'000, 0.0, 1.0, 10 + t)) c.Observe(s);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.seen(), 80'000);
  EXPECT_NEAR(c.Threshold(), 0.75, 0.01);
}

// Spend per request against the two sides' costs: the mix that spends it, clamped.
TEST(ShareForSpendTest, IsTheMixOfTheTwoSidesThatSpendsTheBudget) {
  struct Case {
    double per_request, strong, weak, share;
  };
  for (const Case& c : std::vector<Case>{{3, 11, 1, 0.2},
                                         {1, 11, 1, 0},
                                         {11, 11, 1, 1},
                                         {0.5, 11, 1, 0},    // the weak side alone is too dear
                                         {50, 11, 1, 1},     // the strong side alone fits
                                         {2, 1, 1, 1},       // equal costs within the budget
                                         {0.5, 1, 1, 0}}) {  // equal costs above it
    EXPECT_DOUBLE_EQ(ShareForSpend(c.per_request, c.strong, c.weak), c.share)
        << c.per_request << " " << c.strong << " " << c.weak;
  }
}

using sy::core::Money;

config::PriceSchedule Prices(std::string_view input, std::string_view output) {
  config::PriceSchedule s;
  s.standard.input = *core::PricePerMTokens::Parse(input);
  s.standard.output = *core::PricePerMTokens::Parse(output);
  return s;
}

core::Usage Tokens(int64_t input, int64_t output) {
  core::Usage u;
  u.input_tokens = input;
  u.output_tokens = output;
  u.reported = true;
  return u;
}

// $2 per 1,000 requests; strong costs $10 / $40 per million tokens, weak $1 / $4. The start
// estimated 100 prompt and 400 output tokens a request ($0.017 strong, $0.0017 weak: a share of
// 0.0196); requests have 100 and 100 ($0.005 and $0.0005): the budget buys (2 - 0.5) / 4.5 = 1/3.
TEST(ShareCalibratorTest, ABudgetHoldsTheShareItBuysAtTheTrafficsUsage) {
  const auto strong = Prices("10", "40");
  const auto weak = Prices("1", "4");
  const ShareCalibrator::Budget budget{Money::FromPico(2'000'000'000'000), &strong, &weak,
                                       Tokens(100, 400)};
  const auto now = std::chrono::system_clock::now();
  const auto start = ShareCalibrator::SpendAt(budget, budget.usage, now);
  EXPECT_EQ(start.strong.ToString(), "0.017");
  EXPECT_EQ(start.weak.ToString(), "0.0017");
  EXPECT_NEAR(start.share, 0.0196, 0.0001);
  ShareCalibrator c(start.share, 0.9, 1'000, budget);
  EXPECT_EQ(c.mean_usage()->output_tokens, 400);

  for (const double s : Uniform(4'000, 0.0, 1.0, 7)) {
    c.Observe(s);
    c.ObserveUsage(Tokens(100, 100));  // whichever side answered: usage prices both
  }
  EXPECT_EQ(c.mean_usage()->input_tokens, 100);
  EXPECT_NEAR(static_cast<double>(c.mean_usage()->output_tokens), 100,
              2);  // the estimate has all but faded
  EXPECT_NEAR(c.share(), 1.0 / 3, 0.01);
  EXPECT_NEAR(c.Threshold(), 2.0 / 3, 0.01);
  // What the next 1,000 requests spend: about the budget.
  double spent = 0;  // dollars
  for (const double s : Uniform(1'000, 0.0, 1.0, 8)) spent += s >= c.Threshold() ? 0.005 : 0.0005;
  EXPECT_NEAR(spent, 2.0, 0.15);
}

TEST(ShareCalibratorTest, WithoutABudgetUsageIsIgnoredAndTheShareStays) {
  ShareCalibrator c(0.3, 0.5, 100);
  for (int i = 0; i < 300; ++i) {
    c.Observe(0.001 * i);
    c.ObserveUsage(Tokens(1'000'000, 1'000'000));
  }
  EXPECT_FALSE(c.mean_usage().has_value());
  EXPECT_EQ(c.share(), 0.3);
}

}  // namespace
}  // namespace sy::routing
