// Shadow records and the shadow report on PostgreSQL: the writer keeps shadows apart from
// requests, a replay writes them once, and the report equals the SQLite one byte for byte.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ledger/detail/pg_test_util.h"
#include "ledger/detail/postgres.h"
#include "ledger/detail/shadow_test_cases.h"
#include "ledger/detail/two_engines_test_util.h"
#include "ledger/shadow_report.h"
#include "ledger/spend.h"
#include "tests/testutil/pg_server.h"

namespace sy::ledger {
namespace {

using test::PgQuery;
using test::ShadowCaseRecords;
using test::TwoLedgers;

TEST(ShadowOnPostgresTest, ShadowsAreKeptApartAndReportedAsOnSqlite) {
  TwoLedgers ledgers;
  ledgers.Write(ShadowCaseRecords());
  const std::string& url = ledgers.postgres_url;
  EXPECT_EQ(PgQuery(url, "SELECT count(*) FROM requests"), "4");
  EXPECT_EQ(PgQuery(url, "SELECT count(*) FROM attempts WHERE request_id LIKE 'shadow-%'"), "0");
  EXPECT_EQ(PgQuery(url, "SELECT count(*) FROM shadows"), "5");
  EXPECT_EQ(PgQuery(url,
                    "SELECT concat_ws('|', shadow_of, model, profile, rule, agreement, verdict, "
                    "cost_pico, cost_usd, day, latency_ms, attempts_count) FROM shadows WHERE "
                    "request_id = 'shadow-2'"),
            "live-2|big|auto|cheap|json|recorded: rejected: json_schema: no|4500000000|0.0045|"
            "2025-12-02|700|1");
  EXPECT_EQ(PgQuery(url, "SELECT version FROM switchyard_schema"),
            std::to_string(detail::kPgSchemaVersion));

  auto spend = QuerySpend(url, GroupBy::kModel);
  ASSERT_TRUE(spend.has_value()) << spend.error().message;
  EXPECT_EQ(spend->total.requests, 4);
  EXPECT_EQ(spend->total.cost.ToString(), "0.013001");

  auto on_postgres = QueryShadowReport(url, {});
  ASSERT_TRUE(on_postgres.has_value()) << on_postgres.error().message;
  EXPECT_EQ(FormatShadowJson(*on_postgres), test::kShadowCaseJson);
  const ShadowQuery filtered[] = {{.tenant = "other"},
                                  {.rule = "cheap"},
                                  {.from_ms = test::kShadowT0 + 6},
                                  {.to_ms = test::kShadowT0 + 6}};
  for (const ShadowQuery& q : filtered) {
    auto pg = QueryShadowReport(url, q);
    auto sqlite = QueryShadowReport(ledgers.sqlite_path, q);
    ASSERT_TRUE(pg.has_value()) << pg.error().message;
    ASSERT_TRUE(sqlite.has_value()) << sqlite.error().message;
    EXPECT_GT(pg->total.shadows, 0);
    EXPECT_EQ(FormatShadowJson(*pg), FormatShadowJson(*sqlite));
  }
}

// A batch written again (a spill replayed after a crash between commit and head update) leaves
// one row per shadow.
TEST(ShadowOnPostgresTest, ReplayedShadowsAreWrittenOnce) {
  const std::string url = testutil::FreshPgDatabase();
  auto target = detail::ParsePgTarget(url);
  ASSERT_TRUE(target.has_value());
  detail::PgRecordWriter writer(*target, std::chrono::seconds(5));
  ASSERT_TRUE(writer.Connect().has_value());
  const std::vector<Record> records = ShadowCaseRecords();
  for (int round = 0; round < 2; ++round) {
    auto s = writer.WriteBatch(records, {.replay = round == 1});
    ASSERT_TRUE(s.has_value()) << s.error().message;
  }
  EXPECT_EQ(PgQuery(url, "SELECT count(*) FROM shadows"), "5");
  EXPECT_EQ(PgQuery(url, "SELECT count(*) FROM requests"), "4");
  EXPECT_EQ(PgQuery(url, "SELECT count(*) FROM attempts"), "5");
}

// A database the gateway has not migrated to v5 has no shadows table: an empty report.
TEST(ShadowOnPostgresTest, ADatabaseWithoutShadowsGivesAnEmptyReport) {
  const std::string url = testutil::FreshPgDatabase();
  ASSERT_EQ(PgQuery(url,
                    "CREATE TABLE switchyard_schema (version INTEGER NOT NULL); INSERT INTO "
                    "switchyard_schema VALUES (4); SELECT 1"),
            "1");
  auto report = QueryShadowReport(url, {});
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->total.shadows, 0);
  EXPECT_TRUE(report->groups.empty());
}

}  // namespace
}  // namespace sy::ledger
