#include "limits/rate.h"

#include <gtest/gtest.h>

namespace sy::limits {
namespace {

TEST(RateTest, NewBucketStartsFull) {
  Bucket b;
  Refill(b, 60, 1000);
  EXPECT_EQ(Remaining(b), 60);
  EXPECT_EQ(MsUntilFull(b, 60), 0);
}

TEST(RateTest, TakesUntilEmptyThenRefillsOnePerSecondAtSixtyPerMinute) {
  Bucket b;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(TryTake(b, 3, 1, 0)) << i;
  EXPECT_FALSE(TryTake(b, 3, 1, 0));
  EXPECT_EQ(MsUntil(b, 3, 1), 20'000);  // 3 per minute: one every 20 s
  EXPECT_FALSE(TryTake(b, 3, 1, 19'999));
  EXPECT_TRUE(TryTake(b, 3, 1, 20'000));
  EXPECT_EQ(MsUntilFull(b, 3), 60'000);
}

struct Case {
  int64_t per_minute;
  int64_t take;
  int64_t wait_ms;
  int64_t remaining;
};

TEST(RateTest, RefillIsExactForAnyRate) {
  const Case cases[] = {
      {600, 600, 100, 1},                                // 10 per second
      {600, 600, 1'000, 10}, {7, 7, 8'571, 0},           // 7/min: 8571.4 ms per unit
      {7, 7, 8'572, 1},      {200'000, 200'000, 3, 10},  // tokens: 3.33 per ms
  };
  for (const auto& c : cases) {
    Bucket b;
    ASSERT_TRUE(TryTake(b, c.per_minute, c.take, 0));
    Refill(b, c.per_minute, c.wait_ms);
    EXPECT_EQ(Remaining(b), c.remaining) << c.per_minute << " after " << c.wait_ms;
  }
}

TEST(RateTest, DebitMayGoNegativeButNotBelowAMinute) {
  Bucket b;
  Debit(b, 1'000, 1'500, 0);
  EXPECT_EQ(b.level, -500 * kSubUnits);
  EXPECT_EQ(Remaining(b), 0);
  EXPECT_EQ(MsUntil(b, 1'000, 1), 30'060);  // 501 tokens at 1000 per minute
  Debit(b, 1'000, 1'000'000, 0);
  EXPECT_EQ(b.level, -1'000 * kSubUnits);
}

TEST(RateTest, ClockGoingBackKeepsTheLevel) {
  Bucket b;
  ASSERT_TRUE(TryTake(b, 60, 60, 10'000));
  Refill(b, 60, 5'000);
  EXPECT_EQ(Remaining(b), 0);
  Refill(b, 60, 11'000);
  EXPECT_EQ(Remaining(b), 1);
}

}  // namespace
}  // namespace sy::limits
