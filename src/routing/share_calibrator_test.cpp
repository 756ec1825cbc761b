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

}  // namespace
}  // namespace sy::routing
