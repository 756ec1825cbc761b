// Feedback and outcome reports on PostgreSQL: the store answers as the SQLite one does, and the
// same records and feedback give the same outcome report on both engines, byte for byte.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ledger/detail/two_engines_test_util.h"
#include "ledger/feedback.h"
#include "ledger/outcomes.h"
#include "tests/testutil/pg_server.h"

namespace sy::ledger {
namespace {

using test::TwoLedgers;
using test::VariedRecords;

// Request- and task-level feedback, with and without scores, for both tenants, and one row that
// rates a request of another tenant (never matches).
std::vector<FeedbackRow> Feedback() {
  auto row = [](std::string id, std::string request, std::string task, std::string tenant,
                std::string outcome, std::optional<double> score, bool retried, int64_t at) {
    FeedbackRow r = test::Rating(std::move(id), std::move(request), std::move(task),
                                 std::move(tenant), std::move(outcome), score, at);
    r.user_retried = retried;
    r.user_edited = !retried;
    r.comment = "said so";
    return r;
  };
  return {
      row("fb_1", "req-3", "", "tenant-1", "success", 0.75, false, 5),
      row("fb_2", "req-8", "", "tenant-0", "failure", std::nullopt, true, 6),
      row("fb_3", "", "task-2", "tenant-0", "success", 0.1234567890123, false, 7),
      row("fb_4", "", "task-5", "tenant-1", "failure", 0.2, true, 7),  // same time: arrival order
      row("fb_5", "", "task-5", "tenant-1", "success", 1.0, false, 7),
      row("fb_6", "req-3", "", "tenant-0", "success", 0.5, false, 8),  // not tenant-0's request
  };
}

void Rate(const std::string& location, const std::vector<FeedbackRow>& rows) {
  auto store = FeedbackStore::Open(location);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  for (const FeedbackRow& row : rows) {
    auto belongs = row.request_id.empty() ? (*store)->TaskBelongsTo(row.task_id, row.tenant)
                                          : (*store)->RequestBelongsTo(row.request_id, row.tenant);
    ASSERT_TRUE(belongs.has_value()) << belongs.error().message;
    EXPECT_EQ(*belongs, row.id != "fb_6") << row.id;
    ASSERT_TRUE((*store)->Insert(row).has_value()) << row.id;
  }
  auto again = (*store)->Insert(rows.front());
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, core::Errc::kInvalidRequest);
  auto empty = (*store)->RequestBelongsTo("", "tenant-1");
  ASSERT_TRUE(empty.has_value());
  EXPECT_FALSE(*empty);
}

TEST(OutcomesOnPostgresTest, FeedbackAndEveryOutcomeReportEqualTheSqliteOnes) {
  TwoLedgers ledgers;
  ledgers.Write(VariedRecords());
  Rate(ledgers.sqlite_path, Feedback());
  Rate(ledgers.postgres_url, Feedback());
  std::vector<OutcomeQuery> queries(4);
  queries[1].tenant = "tenant-1";
  queries[2].from_ms = 1'700'010'000'000;
  queries[2].to_ms = 1'700'100'000'000;
  queries[3] = queries[2];  // the tenant's parameter after both bounds' ($3)
  queries[3].tenant = "tenant-1";
  for (const std::string_view name : {"model", "task_type", "rule"}) {
    for (OutcomeQuery q : queries) {
      q.by = *ParseOutcomeBy(name);
      SCOPED_TRACE(name);
      auto on_sqlite = QueryOutcomes(ledgers.sqlite_path, q);
      auto on_postgres = QueryOutcomes(ledgers.postgres_url, q);
      ASSERT_TRUE(on_sqlite.has_value()) << on_sqlite.error().message;
      ASSERT_TRUE(on_postgres.has_value()) << on_postgres.error().message;
      EXPECT_GT(on_sqlite->total.attempts, 0);
      EXPECT_EQ(FormatOutcomesJson(*on_postgres), FormatOutcomesJson(*on_sqlite));
    }
  }
  auto all = QueryOutcomes(ledgers.postgres_url, {});
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->total.rated, 4);  // fb_4 and fb_5 rate one task: the later one counts
  EXPECT_GT(all->total.rejected_attempts, 0);
  EXPECT_GT(all->total.verified_attempts, 0);
}

// The store reconnects after the server restarts instead of failing every later call.
TEST(OutcomesOnPostgresTest, TheFeedbackStoreOutlivesAServerRestart) {
  TwoLedgers ledgers;
  ledgers.Write(VariedRecords());
  auto store = FeedbackStore::Open(ledgers.postgres_url);
  ASSERT_TRUE(store.has_value()) << store.error().message;
  ASSERT_TRUE(testutil::SharedPgServer().Stop().has_value());
  EXPECT_FALSE((*store)->RequestBelongsTo("req-3", "tenant-1").has_value());
  ASSERT_TRUE(testutil::SharedPgServer().Restart().has_value());
  auto belongs = (*store)->RequestBelongsTo("req-3", "tenant-1");
  ASSERT_TRUE(belongs.has_value()) << belongs.error().message;
  EXPECT_TRUE(*belongs);
}

TEST(OutcomesOnPostgresTest, ADatabaseTheGatewayNeverMigratedHasNoFeedbackStore) {
  auto store = FeedbackStore::Open(testutil::FreshPgDatabase());
  ASSERT_FALSE(store.has_value());
  EXPECT_THAT(store.error().message, ::testing::HasSubstr("no feedback table"));
}

}  // namespace
}  // namespace sy::ledger
