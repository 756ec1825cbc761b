#include "metrics/label_cap.h"

#include <cstddef>
#include <new>
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

// The same value twice in a row is answered from the thread's memo: it must give the answer the
// set gave, folded included, and count every folded call.
TEST(LabelCapTest, ARepeatedValueGetsTheSameAnswerFromTheMemo) {
  LabelCap cap(1, "tenant", "metrics.max_tenant_labels");
  EXPECT_EQ(cap.Label("acme"), "acme");
  EXPECT_EQ(cap.Label("acme"), "acme");
  EXPECT_EQ(cap.Label("gamma"), LabelCap::kOther);
  EXPECT_EQ(cap.Label("gamma"), LabelCap::kOther);
  EXPECT_EQ(cap.Label("gamma"), LabelCap::kOther);
  EXPECT_EQ(cap.folded(), 3u);
}

TEST(LabelCapTest, TheEmptyValuePassesAndTakesNoPlace) {
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

// Many values in turn on one thread: more than the memo's slots, past the bound. Each keeps the
// answer it got first, whether the memo or the set answers.
TEST(LabelCapTest, ManyValuesInTurnKeepTheirFirstAnswers) {
  LabelCap cap(100, "tenant", "x");
  for (int pass = 0; pass < 3; ++pass) {
    for (int i = 0; i < 300; ++i) {
      const std::string value = "t" + std::to_string(i);
      EXPECT_EQ(cap.Label(value), i < 100 ? std::string_view(value) : LabelCap::kOther) << value;
    }
  }
  EXPECT_EQ(cap.admitted(), 100u);
  EXPECT_EQ(cap.folded(), 3u * 200u);
}

// A new cap built where a destroyed one was must not answer from the old one's memo: the memo is
// keyed by an id never reused, not by the address.
TEST(LabelCapTest, ANewCapAtADestroyedOnesAddressNeverAnswersFromItsMemo) {
  alignas(LabelCap) std::byte storage[sizeof(LabelCap)];
  auto* first = new (storage) LabelCap(1, "tenant", "x");
  EXPECT_EQ(first->Label("acme"), "acme");
  first->~LabelCap();
  auto* second = new (storage) LabelCap(0, "tenant", "x");
  EXPECT_EQ(second->Label("acme"), LabelCap::kOther);
  second->~LabelCap();
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
