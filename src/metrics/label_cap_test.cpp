#include "metrics/label_cap.h"

#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sy::metrics {
namespace {

TEST(LabelCapTest, TheFirstValuesUpToTheBoundKeepTheirOwnSeriesAndLaterOnesAreFolded) {
  LabelCap cap(2, "tenant", "metrics.max_tenant_labels");
  EXPECT_EQ(cap.Label("acme"), "acme");
  EXPECT_EQ(cap.Label("beta"), "beta");
  EXPECT_EQ(cap.Label("gamma"), LabelCap::kOther);
  EXPECT_EQ(cap.Label("acme"), "acme");  // admitted for good
  EXPECT_EQ(cap.Label("beta"), "beta");
  EXPECT_EQ(cap.Label("gamma"), LabelCap::kOther);  // folded for good
  EXPECT_EQ(cap.Label("delta"), LabelCap::kOther);
  EXPECT_EQ(cap.admitted(), 2u);
  EXPECT_EQ(cap.folded(), 3u);
}

TEST(LabelCapTest, TheEmptyValueIsNoTenantAndTakesNoPlace) {
  LabelCap cap(1, "tenant", "metrics.max_tenant_labels");
  EXPECT_EQ(cap.Label(""), "");
  EXPECT_EQ(cap.Label("acme"), "acme");
  EXPECT_EQ(cap.Label(""), "");
  EXPECT_EQ(cap.admitted(), 1u);
  EXPECT_EQ(cap.folded(), 0u);
}

TEST(LabelCapTest, ABoundOfZeroFoldsEveryValue) {
  LabelCap cap(0, "tenant", "metrics.max_tenant_labels");
  EXPECT_EQ(cap.Label("acme"), LabelCap::kOther);
  EXPECT_EQ(cap.admitted(), 0u);
}

// The memo is per thread and keyed by the cap: a second cap, or a new one where a destroyed one
// was, must not answer from the first one's memo.
TEST(LabelCapTest, AThreadsMemoNeverAnswersForAnotherCap) {
  auto first = std::make_unique<LabelCap>(0, "tenant", "x");
  EXPECT_EQ(first->Label("acme"), LabelCap::kOther);
  LabelCap second(1, "tenant", "x");
  EXPECT_EQ(second.Label("acme"), "acme");
  first.reset();
  auto third = std::make_unique<LabelCap>(0, "tenant", "x");
  EXPECT_EQ(third->Label("acme"), LabelCap::kOther);
  EXPECT_EQ(second.Label("acme"), "acme");
}

TEST(LabelCapTest, ThreadsRacingForTheLastPlacesAdmitExactlyTheBound) {
  LabelCap cap(50, "tenant", "x");
  std::vector<std::thread> threads;
  std::vector<std::vector<char>> own(4, std::vector<char>(200));  // each thread its own row
  for (size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < 200; ++i) {
        const std::string value = "tenant-" + std::to_string(i);
        own[t][i] = cap.Label(value) == value;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(cap.admitted(), 50u);
  // Every thread got the same answer for every value: a value is admitted or not, for all.
  for (size_t i = 0; i < 200; ++i) {
    for (size_t t = 1; t < 4; ++t) EXPECT_EQ(own[t][i], own[0][i]) << i;
  }
}

}  // namespace
}  // namespace sy::metrics
