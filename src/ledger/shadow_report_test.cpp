#include "ledger/shadow_report.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ledger/detail/columns.h"
#include "ledger/detail/schema.h"
#include "ledger/detail/shadow_test_cases.h"
#include "ledger/detail/test_util.h"
#include "ledger/outcomes.h"
#include "ledger/spend.h"
#include "ledger/spill_file.h"
#include "ledger/sqlite_ledger.h"

namespace sy::ledger {
namespace {

using test::QueryInt;
using test::ShadowCaseRecords;
using test::TempDir;
using ::testing::HasSubstr;

void Write(const std::string& path, const std::vector<Record>& records) {
  auto ledger = SqliteLedger::Open({.path = path});
  ASSERT_TRUE(ledger.has_value()) << ledger.error().message;
  for (const Record& r : records) (*ledger)->Append(Record(r));
  (*ledger)->Close();
}

ShadowReport MustQuery(const std::string& path, const ShadowQuery& q = {}) {
  auto report = QueryShadowReport(path, q);
  EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().message);
  return report ? std::move(*report) : ShadowReport{};
}

// ---- Pure pieces ----

TEST(ShadowReportTest, NearestRank) {
  struct Case {
    std::vector<int64_t> values;
    int percent;
    std::optional<int64_t> want;
  };
  const Case cases[] = {
      {{}, 50, std::nullopt},
      {{7}, 50, 7},
      {{7}, 95, 7},
      {{300, 100, 200}, 50, 200},
      {{300, 100, 200}, 95, 300},
      {{80, 100, 200, 300}, 50, 100},  // rank ceil(2) = 2
      {{80, 100, 200, 300}, 95, 300},
      {{5, 4, 3, 2, 1, 10, 9, 8, 7, 6}, 50, 5},
      {{5, 4, 3, 2, 1, 10, 9, 8, 7, 6}, 95, 10},
      {{5, 4, 3, 2, 1, 10, 9, 8, 7, 6}, 1, 1},
  };
  for (const Case& c : cases) {
    std::vector<int64_t> values = c.values;
    EXPECT_EQ(NearestRank(values, c.percent), c.want)
        << c.values.size() << " values, p" << c.percent;
  }
}

TEST(ShadowReportTest, CostRatio) {
  struct Case {
    int64_t shadow_pico, live_pico;
    std::optional<std::string> want;
  };
  const Case cases[] = {
      {1, 0, std::nullopt},
      {0, 5, "0.0000"},
      {2, 1, "2.0000"},
      {7'500'000'000, 3'001'000'000, "2.4992"},
      {1, 3, "0.3333"},
      {2, 3, "0.6667"},
      {1, 20'000, "0.0001"},  // 0.00005: half away from zero
      {1, 20'001, "0.0000"},
      {-1, 3, "-0.3333"},
      {INT64_MAX, 1, "9223372036854775807.0000"},
      {INT64_MIN, 1, "-9223372036854775808.0000"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CostRatio(core::Money::FromPico(c.shadow_pico), core::Money::FromPico(c.live_pico)),
              c.want)
        << c.shadow_pico << " / " << c.live_pico;
  }
}

TEST(ShadowReportTest, ClassifyVerdict) {
  struct Case {
    const char* verdict;
    int want;
  };
  const Case cases[] = {
      {"", 0},
      {"passed", 1},
      {"recorded: passed", 1},
      {"rejected: json: not json", -1},
      {"recorded: rejected: json_schema: no", -1},
      {"recorded: ", 0},
      {"something else", 0},
  };
  for (const Case& c : cases) EXPECT_EQ(ClassifyVerdict(c.verdict), c.want) << c.verdict;
}

TEST(ShadowReportTest, AnsweringVerdictIsTheLastAnsweringAttempts) {
  Record r;
  EXPECT_EQ(detail::AnsweringVerdict(r), "");
  r.attempts = {test::ShadowCaseAttempt("rejected", "rejected: a"),
                test::ShadowCaseAttempt("ok", "passed"), test::ShadowCaseAttempt("failed", "")};
  EXPECT_EQ(detail::AnsweringVerdict(r), "passed");
  r.attempts.pop_back();
  r.attempts.pop_back();
  EXPECT_EQ(detail::AnsweringVerdict(r), "rejected: a");
  r.attempts = {test::ShadowCaseAttempt("skipped", "x")};
  EXPECT_EQ(detail::AnsweringVerdict(r), "");
}

// Counts the binder's values: the column list and the bind order cannot drift apart.
TEST(ShadowReportTest, BindShadowBindsEveryColumn) {
  struct Counter {
    int n = 0;
    void Text(std::string_view) { ++n; }
    void Int(int64_t) { ++n; }
    void Null() { ++n; }
  };
  Counter counter;
  detail::BindShadow(counter, ShadowCaseRecords()[3], detail::DerivedText{});
  EXPECT_EQ(counter.n, detail::kShadowColumnCount);
  int commas = 0;
  for (const char c : detail::kShadowColumns) commas += c == ',' ? 1 : 0;
  EXPECT_EQ(commas + 1, detail::kShadowColumnCount);
}

ShadowReport SmallReport() {
  ShadowReport report;
  ShadowRow row;
  row.rule = "auto/cheap";
  row.live_model = "small";
  row.shadow_model = "big";
  row.shadows = 2;
  row.shadow_errors = 1;
  row.live_found = 2;
  row.live_cost = core::Money::FromPico(1'234'000'000);
  row.shadow_cost = core::Money::FromPico(2'468'000'000);
  row.live_latency = {100, 300};
  row.shadow_latency = {400, 700};
  row.agree_exact = 1;
  row.agreement_unknown = 1;
  row.shadow_verdicts = {1, 0};
  row.live_verdicts = {0, 1};
  report.groups.push_back(row);
  report.total = row;
  report.total.rule.clear();
  report.total.live_model.clear();
  report.total.shadow_model.clear();
  return report;
}

TEST(ShadowReportTest, FormatsJson) {
  const std::string fields =
      R"("shadows":2,"shadow_errors":1,"live_found":2,"live_cost_usd":"0.001234",)"
      R"("shadow_cost_usd":"0.002468","cost_ratio":"2.0000","live_p50_ms":100,"live_p95_ms":300,)"
      R"("shadow_p50_ms":400,"shadow_p95_ms":700,)"
      R"("agreement":{"exact":1,"json":0,"differs":0,"unknown":1},)"
      R"("shadow_verification":{"passed":1,"rejected":0},)"
      R"("live_verification":{"passed":0,"rejected":1})";
  EXPECT_EQ(FormatShadowJson(SmallReport()),
            R"({"groups":[{"rule":"auto/cheap","live_model":"small","shadow_model":"big",)" +
                fields + R"(}],"total":{)" + fields + "}}\n");
  EXPECT_EQ(FormatShadowJson(ShadowReport{}),
            R"({"groups":[],"total":{"shadows":0,"shadow_errors":0,"live_found":0,)"
            R"("live_cost_usd":"0","shadow_cost_usd":"0","cost_ratio":null,"live_p50_ms":null,)"
            R"("live_p95_ms":null,"shadow_p50_ms":null,"shadow_p95_ms":null,)"
            R"("agreement":{"exact":0,"json":0,"differs":0,"unknown":0},)"
            R"("shadow_verification":{"passed":0,"rejected":0},)"
            R"("live_verification":{"passed":0,"rejected":0}}})"
            "\n");
}

TEST(ShadowReportTest, FormatsTable) {
  // Text columns left-aligned, numbers right-aligned, two spaces apart.
  const std::string header =
      "rule        live_model  shadow_model  shadows  errors  live_found  live_usd  shadow_usd   "
      "ratio  live_p50  live_p95  shadow_p50  shadow_p95  exact  json  differs  unknown  "
      "shadow_pass  shadow_rej  live_pass  live_rej\n";
  const std::string numbers =
      "       2       1           2  0.001234    0.002468  2.0000       100       300         400  "
      "       700      1     0        0        1            1           0          0         1\n";
  EXPECT_EQ(FormatShadowTable(SmallReport()), header + "auto/cheap  small       big          " +
                                                  numbers + std::string(header.size() - 1, '-') +
                                                  "\n" + "TOTAL                                " +
                                                  numbers);
}

TEST(ShadowReportTest, FormatsMarkdown) {
  const std::string markdown = FormatShadowMarkdown(SmallReport());
  EXPECT_THAT(markdown, HasSubstr("| rule | live_model | shadow_model | shadows |"));
  EXPECT_THAT(markdown, HasSubstr("| auto/cheap | small | big | 2 | 1 | 2 | 0.001234 | 0.002468 "
                                  "| 2.0000 | 100 | 300 | 400 | 700 | 1 | 0 | 0 | 1 | 1 | 0 | 0 "
                                  "| 1 |"));
  EXPECT_THAT(markdown, HasSubstr("| **TOTAL** |  |  | 2 |"));
}

// ---- On a ledger ----

class ShadowLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override { Write(path_, ShadowCaseRecords()); }

  TempDir dir_;
  std::string path_ = dir_.File("ledger.db");
};

TEST_F(ShadowLedgerTest, ShadowRecordsGoToShadowsOnly) {
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM requests"), 4);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM requests WHERE request_id LIKE 'shadow-%'"), 0);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM attempts WHERE request_id LIKE 'shadow-%'"), 0);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM shadows"), 5);
  EXPECT_EQ(QueryInt(path_,
                     "SELECT COUNT(*) FROM shadows WHERE request_id = 'shadow-2' AND shadow_of = "
                     "'live-2' AND model = 'big' AND chosen_model = 'big' AND profile = 'auto' AND "
                     "rule = 'cheap' AND task_type = 'extraction' AND agreement = 'json' AND "
                     "verdict = 'recorded: rejected: json_schema: no' AND cost_pico = 4500000000 "
                     "AND cost_usd = '0.0045' AND day = '2025-12-02' AND latency_ms = 700 AND "
                     "attempts_count = 1 AND status = 200 AND tenant = 'acme'"),
            1);
  EXPECT_EQ(QueryInt(path_, "SELECT status FROM shadows WHERE request_id = 'shadow-3'"), 502);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM shadows WHERE verdict = ''"), 3);
}

// Spend and outcomes count the live requests only.
TEST_F(ShadowLedgerTest, SpendAndOutcomesIgnoreShadows) {
  auto spend = QuerySpend(path_, GroupBy::kModel);
  ASSERT_TRUE(spend.has_value()) << spend.error().message;
  EXPECT_EQ(spend->total.requests, 4);
  EXPECT_EQ(spend->total.cost.ToString(), "0.013001");
  for (const SpendRow& row : spend->groups) EXPECT_NE(row.key, "big");
  auto outcomes = QueryOutcomes(path_, {});
  ASSERT_TRUE(outcomes.has_value()) << outcomes.error().message;
  EXPECT_EQ(outcomes->total.tasks, 4);
  EXPECT_EQ(outcomes->total.attempts, 5);
  EXPECT_EQ(outcomes->total.cost.ToString(), "0.013001");
}

TEST_F(ShadowLedgerTest, ReportFiguresAreExact) {
  EXPECT_EQ(FormatShadowJson(MustQuery(path_)), test::kShadowCaseJson);
}

TEST_F(ShadowLedgerTest, FiltersByRuleTenantAndTime) {
  struct Case {
    const char* name;
    ShadowQuery query;
    int64_t shadows;
    size_t groups;
  };
  const Case cases[] = {
      {"all", {}, 5, 3},
      {"profile/rule", {.rule = "auto/cheap"}, 4, 2},
      {"bare rule", {.rule = "cheap"}, 4, 2},
      {"rule without profile", {.rule = "model"}, 1, 1},
      {"unknown rule", {.rule = "nope"}, 0, 0},
      {"tenant", {.tenant = "other"}, 1, 1},
      {"from", {.from_ms = test::kShadowT0 + 6}, 1, 1},
      {"to", {.to_ms = test::kShadowT0 + 6}, 4, 2},
      {"empty range", {.from_ms = test::kShadowT0, .to_ms = test::kShadowT0 + 5}, 0, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const ShadowReport report = MustQuery(path_, c.query);
    EXPECT_EQ(report.total.shadows, c.shadows);
    EXPECT_EQ(report.groups.size(), c.groups);
  }
}

// The same shadows written again (a spill replayed after a crash between commit and head
// update, or a retried batch) leave one row each.
TEST_F(ShadowLedgerTest, ReplayedShadowsAreWrittenOnce) {
  {
    auto spill = SpillFile::Open({.path = path_ + ".spill"});
    ASSERT_TRUE(spill.has_value()) << spill.error().message;
    auto appended = (*spill)->Append(ShadowCaseRecords());
    ASSERT_TRUE(appended.has_value());
  }
  Write(path_, {});                   // opening replays the spill
  Write(path_, ShadowCaseRecords());  // not a replay: the shadows are still skipped
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM shadows"), 5);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(DISTINCT request_id) FROM requests"), 4);
  EXPECT_EQ(QueryInt(path_, "SELECT COUNT(*) FROM requests WHERE request_id LIKE 'shadow-%'"), 0);
}

TEST(ShadowReportTest, MissingFileIsNotFound) {
  TempDir dir;
  auto report = QueryShadowReport(dir.File("nope.db"), {});
  ASSERT_FALSE(report.has_value());
  EXPECT_EQ(report.error().code, core::Errc::kNotFound);
}

// A ledger the gateway has not migrated to v7 has no shadows table: an empty report.
TEST(ShadowReportTest, OlderLedgerHasNoShadows) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    auto db = detail::Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(db->Exec(test::kVersionTwoLedger));
  }
  const ShadowReport report = MustQuery(path);
  EXPECT_TRUE(report.groups.empty());
  EXPECT_EQ(report.total.shadows, 0);
}

// A v6 file (every table but shadows) migrates when the gateway opens it, its rows kept.
TEST(ShadowReportTest, AVersionSixLedgerMigratesAndGainsTheShadowsTable) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  Write(path, {test::MakeRecord(1)});
  {
    auto db = detail::Db::Open(path, SQLITE_OPEN_READWRITE);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(db->Exec("DROP TABLE shadows; PRAGMA user_version = 6;"));
  }
  ASSERT_EQ(QueryInt(path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'shadows'"), 0);
  Write(path, {ShadowCaseRecords()[3]});
  EXPECT_EQ(QueryInt(path, "PRAGMA user_version"), detail::kSchemaVersion);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM requests"), 1);
  EXPECT_EQ(QueryInt(path, "SELECT COUNT(*) FROM shadows"), 1);
  EXPECT_EQ(QueryInt(path,
                     "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('shadows_request_id', "
                     "'shadows_started_at')"),
            2);
}

}  // namespace
}  // namespace sy::ledger
