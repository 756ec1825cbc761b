// One query layer, two engines: the same records written to a SQLite ledger and to a PostgreSQL
// ledger give the same spend report, byte for byte, for every grouping, filter and baseline.
#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ledger/detail/two_engines_test_util.h"
#include "ledger/spend.h"
#include "tests/testutil/pg_server.h"

namespace sy::ledger {
namespace {

using namespace std::chrono_literals;
using test::TwoLedgers;
using test::VariedRecords;

// What gpt-5.5 would have cost: $5 per million input tokens, $30 per million output.
core::Money Baseline(const core::Usage& usage, int64_t /*started_at_ms*/, std::string_view) {
  return core::Money::FromPico(usage.input_tokens * 5'000'000 + usage.output_tokens * 30'000'000);
}

TEST(SpendOnPostgresTest, EveryReportEqualsTheSqliteOneByteForByte) {
  TwoLedgers ledgers;
  ledgers.Write(VariedRecords());
  std::vector<SpendQuery> filters(4);
  filters[1].from_ms = 1'700'010'000'000;
  filters[1].to_ms = 1'700'100'000'000;
  filters[2].tenant = "alpha";
  filters[3].from_ms = 1'700'000'500'000;
  filters[3].to_ms = 1'700'090'000'000;
  filters[3].tenant = "tenant-1";
  const Reprice baseline = &Baseline;
  for (const std::string_view name :
       {"model", "provider", "tenant", "key", "task", "task_type", "rule", "day", "hour"}) {
    for (SpendQuery q : filters) {
      q.by = *ParseGroupBy(name);
      for (const Reprice* reprice : {static_cast<const Reprice*>(nullptr), &baseline}) {
        SCOPED_TRACE(std::string(name) + (reprice ? " with a baseline" : ""));
        auto on_sqlite = QuerySpend(ledgers.sqlite_path, q, reprice, "gpt-5.5");
        auto on_postgres = QuerySpend(ledgers.postgres_url, q, reprice, "gpt-5.5");
        ASSERT_TRUE(on_sqlite.has_value()) << on_sqlite.error().message;
        ASSERT_TRUE(on_postgres.has_value()) << on_postgres.error().message;
        EXPECT_FALSE(on_sqlite->groups.empty());
        EXPECT_EQ(FormatJson(*on_postgres), FormatJson(*on_sqlite));
      }
    }
  }
}

// Pinned by hand: the total is the sum of what was recorded, to the pico-dollar.
TEST(SpendOnPostgresTest, TheTotalIsTheSumOfTheRecordedCosts) {
  TwoLedgers ledgers;
  ledgers.Write(VariedRecords());
  int64_t pico = 0;
  int64_t failed = 0;
  for (const Record& r : VariedRecords()) {
    pico += r.cost.pico();
    failed += r.error_code.empty() && r.status < 400 ? 0 : 1;
  }
  auto report = QuerySpend(ledgers.postgres_url, GroupBy::kHour);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->total.cost.pico(), pico);
  EXPECT_EQ(report->total.requests, 120);
  EXPECT_EQ(report->total.failed, failed);
  EXPECT_EQ(report->groups.front().key, "2023-11-14T22");
  EXPECT_EQ(report->groups.size(), 42u);
}

// Regression: PostgreSQL's BIGINT cast of a token sum past int64 failed the report as
// kInvalidRequest ("bigint out of range", SQLSTATE class 22), while SQLite failed it with a bare
// "integer overflow". Both engines now give the same clear kInternal error, with or without a
// baseline.
TEST(SpendOnPostgresTest, ASumPastInt64FailsAsOnSqlite) {
  TwoLedgers ledgers;
  std::vector<Record> records = {test::MakeRecord(1), test::MakeRecord(2)};
  for (Record& r : records) r.usage.output_tokens = std::numeric_limits<int64_t>::max();
  ledgers.Write(records);
  const Reprice free_baseline = [](const core::Usage&, int64_t, std::string_view) {
    return core::Money();
  };
  for (const Reprice* reprice : {static_cast<const Reprice*>(nullptr), &free_baseline}) {
    SCOPED_TRACE(reprice ? "with a baseline" : "without a baseline");
    SpendQuery q;
    q.by = GroupBy::kTenant;
    auto on_sqlite = QuerySpend(ledgers.sqlite_path, q, reprice, "free");
    auto on_postgres = QuerySpend(ledgers.postgres_url, q, reprice, "free");
    ASSERT_FALSE(on_sqlite.has_value());
    ASSERT_FALSE(on_postgres.has_value());
    EXPECT_EQ(on_postgres.error().code, core::Errc::kInternal);
    EXPECT_EQ(on_postgres.error().code, on_sqlite.error().code);
    EXPECT_THAT(on_postgres.error().message,
                ::testing::HasSubstr("passes the 64-bit integer range"));
    // The same words after each engine's name for the database.
    const std::string& sqlite_message = on_sqlite.error().message;
    EXPECT_THAT(on_postgres.error().message,
                ::testing::EndsWith(sqlite_message.substr(sqlite_message.find("': ") + 3)));
  }
}

TEST(SpendOnPostgresTest, ADatabaseWithoutALedgerOrOutOfReachFailsClearly) {
  const std::string empty = testutil::FreshPgDatabase();
  auto not_a_ledger = QuerySpend(empty, GroupBy::kModel);
  ASSERT_FALSE(not_a_ledger.has_value());
  EXPECT_THAT(not_a_ledger.error().message, ::testing::HasSubstr("not a Switchyard ledger"));

  auto unreachable = QuerySpend("postgresql://u:hunter2-pw@127.0.0.1:1/db", GroupBy::kModel);
  ASSERT_FALSE(unreachable.has_value());
  EXPECT_THAT(unreachable.error().message, ::testing::HasSubstr("u@127.0.0.1:1/db"));
  EXPECT_THAT(unreachable.error().message, ::testing::Not(::testing::HasSubstr("hunter2")));
}

}  // namespace
}  // namespace sy::ledger
