// routing::OrderDeployments: each strategy's order and ties, the weighted draw's distribution and
// determinism, and strategy names.
#include "routing/deployments.h"

#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace sy::routing {
namespace {

using Order = std::vector<size_t>;

TEST(DeploymentsTest, StrategyNamesRoundTrip) {
  for (Strategy s : {Strategy::kWeighted, Strategy::kLeastInFlight, Strategy::kLatency}) {
    EXPECT_EQ(ParseStrategy(StrategyName(s)), s);
  }
  EXPECT_EQ(StrategyName(Strategy::kLeastInFlight), "least_in_flight");
  EXPECT_FALSE(ParseStrategy("round_robin").has_value());
  EXPECT_FALSE(ParseStrategy("Weighted").has_value());
  EXPECT_FALSE(ParseStrategy("").has_value());
}

TEST(DeploymentsTest, LeastInFlight) {
  struct Case {
    const char* name;
    std::vector<DeploymentView> deployments;
    Order want;
  };
  const Case cases[] = {
      {"fewest first", {{1, 5, 0}, {1, 2, 0}, {1, 9, 0}}, {1, 0, 2}},
      {"ties by higher weight", {{1, 3, 0}, {4, 3, 0}, {2, 3, 0}}, {1, 2, 0}},
      {"then config order", {{2, 3, 0}, {2, 3, 0}, {2, 1, 0}}, {2, 0, 1}},
      {"latency is ignored", {{1, 1, 900}, {1, 1, 5}}, {0, 1}},
      {"one", {{1, 0, 0}}, {0}},
      {"none", {}, {}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(OrderDeployments(Strategy::kLeastInFlight, c.deployments, 7), c.want) << c.name;
  }
}

TEST(DeploymentsTest, Latency) {
  struct Case {
    const char* name;
    std::vector<DeploymentView> deployments;
    Order want;
  };
  const Case cases[] = {
      {"lowest first", {{1, 0, 80}, {1, 0, 20.5}, {1, 0, 40}}, {1, 2, 0}},
      {"unmeasured first", {{1, 0, 20}, {1, 0, 0}, {1, 0, 10}}, {1, 2, 0}},
      {"unmeasured keep config order", {{1, 0, 0}, {1, 0, 5}, {1, 0, 0}}, {0, 2, 1}},
      {"ties by config order, not weight", {{1, 0, 30}, {9, 0, 30}, {1, 0, 10}}, {2, 0, 1}},
      {"in flight is ignored", {{1, 50, 10}, {1, 0, 20}}, {0, 1}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(OrderDeployments(Strategy::kLatency, c.deployments, 7), c.want) << c.name;
  }
}

TEST(DeploymentsTest, WeightedFirstPickByHand) {
  // Weights 3:1 cover [0, 3) and [3, 4) of random % 4; the second pick is the one left.
  const std::vector<DeploymentView> d = {{3, 0, 0}, {1, 0, 0}};
  struct Case {
    uint64_t random;
    Order want;
  };
  for (const Case& c :
       {Case{0, {0, 1}}, Case{2, {0, 1}}, Case{3, {1, 0}}, Case{7, {1, 0}}, Case{8, {0, 1}}}) {
    EXPECT_EQ(OrderDeployments(Strategy::kWeighted, d, c.random), c.want) << c.random;
  }
}

TEST(DeploymentsTest, WeightedFirstPickFollowsTheWeights) {
  const std::vector<DeploymentView> d = {{3, 0, 0}, {1, 0, 0}};
  std::mt19937_64 rng(20240601);
  int first = 0;
  for (int i = 0; i < 10'000; ++i) {
    if (OrderDeployments(Strategy::kWeighted, d, rng())[0] == 0) ++first;
  }
  EXPECT_GE(first, 7'200);
  EXPECT_LE(first, 7'800);
}

TEST(DeploymentsTest, WeightedLaterPicksFollowTheRemainingWeights) {
  // Weights 2:1:1. When 0 is picked first, the second pick is 1 or 2 at even odds; when 1 is
  // first, 0 follows with probability 2/3.
  const std::vector<DeploymentView> d = {{2, 0, 0}, {1, 0, 0}, {1, 0, 0}};
  std::mt19937_64 rng(7);
  int zero_first = 0, zero_then_one = 0, one_first = 0, one_then_zero = 0;
  for (int i = 0; i < 20'000; ++i) {
    const Order o = OrderDeployments(Strategy::kWeighted, d, rng());
    ASSERT_EQ(std::set<size_t>(o.begin(), o.end()).size(), 3u);
    if (o[0] == 0) {
      ++zero_first;
      if (o[1] == 1) ++zero_then_one;
    } else if (o[0] == 1) {
      ++one_first;
      if (o[1] == 0) ++one_then_zero;
    }
  }
  EXPECT_NEAR(zero_first / 20'000.0, 0.5, 0.02);
  EXPECT_NEAR(zero_then_one / static_cast<double>(zero_first), 0.5, 0.03);
  EXPECT_NEAR(one_then_zero / static_cast<double>(one_first), 2.0 / 3.0, 0.04);
}

TEST(DeploymentsTest, WeightedIsDeterministicForAGivenRandom) {
  const std::vector<DeploymentView> d = {{1, 0, 0}, {2, 0, 0}, {3, 0, 0}, {4, 0, 0}};
  std::mt19937_64 rng(99);
  std::set<Order> seen;
  for (int i = 0; i < 200; ++i) {
    const uint64_t random = rng();
    const Order o = OrderDeployments(Strategy::kWeighted, d, random);
    EXPECT_EQ(OrderDeployments(Strategy::kWeighted, d, random), o);
    seen.insert(o);
  }
  EXPECT_GT(seen.size(), 12u);  // the later picks vary too, not only the first
}

TEST(DeploymentsTest, WeightedZeroWeightsComeLastInConfigOrder) {
  const std::vector<DeploymentView> d = {{0, 0, 0}, {5, 0, 0}, {-1, 0, 0}, {1, 0, 0}};
  for (uint64_t random : {0ULL, 5ULL, 123456789ULL}) {
    const Order o = OrderDeployments(Strategy::kWeighted, d, random);
    ASSERT_EQ(o.size(), 4u);
    EXPECT_EQ((Order{o[2], o[3]}), (Order{0, 2})) << random;
  }
  EXPECT_EQ(
      OrderDeployments(Strategy::kWeighted, std::vector<DeploymentView>{{0, 0, 0}, {0, 0, 0}}, 42),
      (Order{0, 1}));
}

TEST(DeploymentsTest, SplitMix64KnownValues) {
  // The reference sequence for seed 0 (Vigna's splitmix64.c).
  uint64_t state = 0;
  EXPECT_EQ(SplitMix64(state), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(SplitMix64(state), 0x6e789e6aa1b965f4ULL);
}

}  // namespace
}  // namespace sy::routing
