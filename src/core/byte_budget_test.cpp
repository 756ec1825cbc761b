#include "core/byte_budget.h"

#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace sy::core {
namespace {

TEST(ByteBudgetTest, SharesTakeUpToTheLimitAndGiveBackWhenDestroyed) {
  ByteBudget budget(100);
  {
    BudgetShare a(&budget);
    BudgetShare b(&budget);
    EXPECT_TRUE(a.GrowTo(60));
    EXPECT_FALSE(b.GrowTo(41));  // 60 + 41 > 100: nothing taken
    EXPECT_EQ(b.bytes(), 0);
    EXPECT_TRUE(b.GrowTo(40));
    EXPECT_EQ(budget.used(), 100);
    EXPECT_TRUE(a.GrowTo(10));  // smaller: kept as it is
    EXPECT_EQ(a.bytes(), 60);
    EXPECT_FALSE(a.GrowTo(61));
  }
  EXPECT_EQ(budget.used(), 0);
}

TEST(ByteBudgetTest, AMovedShareIsReturnedOnce) {
  ByteBudget budget(100);
  BudgetShare kept;
  {
    BudgetShare a(&budget);
    ASSERT_TRUE(a.GrowTo(70));
    kept = std::move(a);
  }
  EXPECT_EQ(budget.used(), 70);
  BudgetShare other(&budget);
  ASSERT_TRUE(other.GrowTo(30));
  other = std::move(kept);  // other's 30 go back, kept's 70 move over
  EXPECT_EQ(budget.used(), 70);
  other = BudgetShare();
  EXPECT_EQ(budget.used(), 0);
}

TEST(ByteBudgetTest, AShareOfNoBudgetAlwaysGrows) {
  BudgetShare none;
  EXPECT_TRUE(none.GrowTo(int64_t{1} << 62));
}

TEST(ByteBudgetTest, ThreadsNeverTakeMoreThanTheLimitTogether) {
  constexpr int kThreads = 4;
  constexpr int64_t kLimit = 1000;
  ByteBudget budget(kLimit);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        BudgetShare share(&budget);
        for (int64_t n = 1; n <= 400 && share.GrowTo(n * 3); ++n) {
          EXPECT_LE(budget.used(), kLimit);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(budget.used(), 0);
}

}  // namespace
}  // namespace sy::core
