#include "ledger/spend.h"

#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ledger/detail/test_util.h"
#include "ledger/sqlite_ledger.h"

namespace sy::ledger {
namespace {

using test::TempDir;
using ::testing::HasSubstr;

constexpr int64_t kDay1 = 1'700'000'000'000;               // 2023-11-14 22:13:20 UTC
constexpr int64_t kDay2 = kDay1 + int64_t{2} * 3'600'000;  // 2023-11-15 00:13:20 UTC

Record Req(std::string id, std::string model, std::string task, std::string tenant,
           int64_t cost_pico, int64_t started_at_ms = kDay1) {
  Record r;
  r.request_id = std::move(id);
  r.chosen_model = std::move(model);
  r.task_id = std::move(task);
  r.tenant = std::move(tenant);
  r.cost = core::Money::FromPico(cost_pico);
  r.started_at_ms = started_at_ms;
  r.status = 200;
  r.usage.input_tokens = 1000;
  r.usage.cached_input_tokens = 200;
  r.usage.output_tokens = 30;
  return r;
}

// Writes `records` through the real SqliteLedger and returns the db path.
void WriteLedger(const std::string& path, std::vector<Record> records) {
  auto ledger = SqliteLedger::Open({.path = path});
  ASSERT_TRUE(ledger.has_value()) << ledger.error().message;
  for (Record& r : records) (*ledger)->Append(std::move(r));
  (*ledger)->Close();
}

const SpendRow* Find(const SpendReport& report, const std::string& key) {
  for (const SpendRow& row : report.groups) {
    if (row.key == key) return &row;
  }
  return nullptr;
}

class SpendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Record> records;
    records.push_back(Req("a", "gpt", "t1", "acme", 10'000'000'000'001));  // 10.000000000001
    records.push_back(Req("b", "gpt", "t1", "acme", 2'344'999'999'999));   //  2.344999999999
    records.push_back(Req("c", "flash", "t2", "beta", 3, kDay2));
    Record failed = Req("d", "", "", "beta", 0, kDay2);  // no model answered
    failed.status = 502;
    failed.error_code = "upstream_unavailable";
    failed.usage = {};
    records.push_back(failed);
    Record rejected = Req("e", "flash", "t2", "acme", 5'000'000'000, kDay2);
    rejected.status = 200;
    rejected.error_code = "verification_failed";  // answered, then failed verification
    records.push_back(rejected);
    for (const Record& r : records) hand_sum_pico_ += r.cost.pico();
    WriteLedger(path_, std::move(records));
  }

  SpendReport Query(GroupBy by) {
    auto report = QuerySpend(path_, by);
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().message);
    return report ? *report : SpendReport{};
  }

  TempDir dir_;
  std::string path_ = dir_.File("ledger.db");
  int64_t hand_sum_pico_ = 0;
};

TEST_F(SpendTest, TotalsEqualTheHandSumToThePicoDollar) {
  const SpendReport report = Query(GroupBy::kModel);
  EXPECT_EQ(report.total.cost.pico(), hand_sum_pico_);
  EXPECT_EQ(report.total.cost.pico(), 12'350'000'000'003);
  EXPECT_EQ(report.total.cost.ToString(), "12.350000000003");
  EXPECT_EQ(report.total.cost.ToCents(), "12.35");
  EXPECT_EQ(report.total.requests, 5);
  EXPECT_EQ(report.total.failed, 2);
  EXPECT_EQ(report.total.input_tokens, 4000);
  EXPECT_EQ(report.total.cached_input_tokens, 800);
  EXPECT_EQ(report.total.output_tokens, 120);
}

TEST_F(SpendTest, GroupsByModelWithNoModelShownAsNone) {
  const SpendReport report = Query(GroupBy::kModel);
  ASSERT_EQ(report.groups.size(), 3u);
  EXPECT_EQ(report.groups[0].key, "gpt");  // most expensive first
  EXPECT_EQ(report.groups[0].cost.ToString(), "12.345");
  EXPECT_EQ(report.groups[0].cost.ToCents(), "12.35");  // half away from zero
  EXPECT_EQ(report.groups[0].requests, 2);
  EXPECT_EQ(report.groups[0].failed, 0);
  const SpendRow* none = Find(report, "(none)");
  ASSERT_NE(none, nullptr);
  EXPECT_EQ(none->requests, 1);
  EXPECT_EQ(none->failed, 1);
  EXPECT_EQ(none->cost.pico(), 0);
  const SpendRow* flash = Find(report, "flash");
  ASSERT_NE(flash, nullptr);
  EXPECT_EQ(flash->cost.pico(), 5'000'000'003);
  EXPECT_EQ(flash->failed, 1);
  int64_t group_sum = 0;
  for (const SpendRow& row : report.groups) group_sum += row.cost.pico();
  EXPECT_EQ(group_sum, hand_sum_pico_);
}

TEST_F(SpendTest, GroupsByTaskDayAndTenant) {
  const SpendReport by_task = Query(GroupBy::kTask);
  ASSERT_EQ(by_task.groups.size(), 3u);
  ASSERT_NE(Find(by_task, "(no task)"), nullptr);
  EXPECT_EQ(Find(by_task, "t1")->cost.pico(), 12'345'000'000'000);

  const SpendReport by_day = Query(GroupBy::kDay);
  ASSERT_EQ(by_day.groups.size(), 2u);
  EXPECT_EQ(by_day.groups[0].key, "2023-11-14");  // date order
  EXPECT_EQ(by_day.groups[0].requests, 2);
  EXPECT_EQ(by_day.groups[1].key, "2023-11-15");
  EXPECT_EQ(by_day.groups[1].requests, 3);
  EXPECT_EQ(by_day.groups[1].failed, 2);

  const SpendReport by_tenant = Query(GroupBy::kTenant);
  ASSERT_EQ(by_tenant.groups.size(), 2u);
  EXPECT_EQ(Find(by_tenant, "acme")->cost.pico(), 12'350'000'000'000);
  EXPECT_EQ(Find(by_tenant, "beta")->cost.pico(), 3);
}

TEST_F(SpendTest, JsonAndTableFromTheDatabase) {
  const std::string json = FormatJson(Query(GroupBy::kTenant));
  EXPECT_THAT(json, HasSubstr("\"group_by\":\"tenant\""));
  EXPECT_THAT(json, HasSubstr("\"total\":{\"requests\":5,\"failed\":2,"));
  EXPECT_THAT(json, HasSubstr("\"cost_usd\":\"12.350000000003\",\"cost_cents\":\"12.35\"}}"));
  const std::string table = FormatTable(Query(GroupBy::kTenant));
  EXPECT_THAT(table, HasSubstr("TOTAL"));
  EXPECT_THAT(table, HasSubstr("12.350000000003"));
}

// Routed requests: each with a task type and the profile/rule that routed it, exact costs.
class RoutedSpendTest : public ::testing::Test {
 protected:
  static Record Routed(std::string id, std::string task_type, std::string profile, std::string rule,
                       int64_t cost_pico) {
    Record r = Req(std::move(id), "m", "", "acme", cost_pico);
    r.task_type = std::move(task_type);
    r.profile = std::move(profile);
    r.rule = std::move(rule);
    return r;
  }

  void SetUp() override {
    std::vector<Record> records;
    records.push_back(Routed("a", "extraction", "auto", "cheap-extraction", 1'234'567'890'123));
    records.push_back(Routed("b", "extraction", "auto", "cheap-extraction", 2'000'000'000'005));
    records.push_back(Routed("c", "code", "", "model", 10'005'000'000'000));  // 10.005
    records.push_back(Routed("d", "code", "auto", "strong-code", 7));
    records.push_back(Routed("e", "chat", "", "alias", 4'995'000'000'000));  // 4.995
    Record rejected = Routed("f", "", "", "", 0);  // refused before routing
    rejected.status = 400;
    rejected.error_code = "invalid_request";
    records.push_back(rejected);
    WriteLedger(path_, std::move(records));
  }

  SpendReport Query(GroupBy by) {
    auto report = QuerySpend(path_, by);
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().message);
    return report ? *report : SpendReport{};
  }

  TempDir dir_;
  std::string path_ = dir_.File("ledger.db");
};

// (key, requests, failed, exact cost, cents) of each group, in report order.
using GroupLine = std::tuple<std::string, int64_t, int64_t, std::string, std::string>;
std::vector<GroupLine> Lines(const SpendReport& report) {
  std::vector<GroupLine> lines;
  for (const SpendRow& g : report.groups) {
    lines.emplace_back(g.key, g.requests, g.failed, g.cost.ToString(), g.cost.ToCents());
  }
  return lines;
}

TEST_F(RoutedSpendTest, GroupsByTaskType) {
  const SpendReport report = Query(GroupBy::kTaskType);
  EXPECT_EQ(report.group_by, GroupBy::kTaskType);
  EXPECT_THAT(Lines(report),
              ::testing::ElementsAre(GroupLine{"code", 2, 0, "10.005000000007", "10.01"},
                                     GroupLine{"chat", 1, 0, "4.995", "5.00"},
                                     GroupLine{"extraction", 2, 0, "3.234567890128", "3.23"},
                                     GroupLine{"(no task type)", 1, 1, "0", "0.00"}));
  EXPECT_EQ(report.total.cost.pico(), 18'234'567'890'135);
  EXPECT_EQ(report.total.cost.ToCents(), "18.23");
  EXPECT_EQ(report.total.requests, 6);
  EXPECT_EQ(report.total.failed, 1);
}

TEST_F(RoutedSpendTest, GroupsByProfileAndRule) {
  const SpendReport report = Query(GroupBy::kRule);
  EXPECT_EQ(report.group_by, GroupBy::kRule);
  EXPECT_THAT(Lines(report), ::testing::ElementsAre(
                                 GroupLine{"model", 1, 0, "10.005", "10.01"},
                                 GroupLine{"alias", 1, 0, "4.995", "5.00"},
                                 GroupLine{"auto/cheap-extraction", 2, 0, "3.234567890128", "3.23"},
                                 GroupLine{"auto/strong-code", 1, 0, "0.000000000007", "0.00"},
                                 GroupLine{"(no rule)", 1, 1, "0", "0.00"}));
  EXPECT_EQ(report.total.cost.pico(), 18'234'567'890'135);
}

TEST_F(RoutedSpendTest, FormatsNameTheNewGroupings) {
  const std::string json = FormatJson(Query(GroupBy::kTaskType));
  EXPECT_THAT(json, HasSubstr("{\"group_by\":\"task_type\",\"groups\":[{\"key\":\"code\","
                              "\"requests\":2,\"failed\":0,"));
  EXPECT_THAT(json, HasSubstr("\"cost_usd\":\"18.234567890135\",\"cost_cents\":\"18.23\"}}"));
  const std::string table = FormatTable(Query(GroupBy::kRule));
  EXPECT_THAT(table, ::testing::StartsWith("rule                   requests  failed"));
  EXPECT_THAT(table, HasSubstr("\nauto/cheap-extraction         2       0"));
  EXPECT_THAT(table, HasSubstr("\n(no rule)                     1       1"));
}

TEST(SpendFormatTest, JsonShape) {
  SpendReport report;
  report.group_by = GroupBy::kModel;
  SpendRow row{.key = "m\"1",
               .requests = 2,
               .failed = 1,
               .input_tokens = 10,
               .cached_input_tokens = 4,
               .output_tokens = 5,
               .cost = core::Money::FromPico(12'345'000'000'000),
               .baseline_cost = std::nullopt};
  report.groups.push_back(row);
  report.total = row;
  report.total.key = "";
  EXPECT_EQ(FormatJson(report),
            "{\"group_by\":\"model\",\"groups\":[{\"key\":\"m\\\"1\",\"requests\":2,\"failed\":1,"
            "\"input_tokens\":10,\"cached_input_tokens\":4,\"output_tokens\":5,"
            "\"cost_usd\":\"12.345\",\"cost_cents\":\"12.35\"}],\"has_more\":false,"
            "\"total\":{\"requests\":2,"
            "\"failed\":1,\"input_tokens\":10,\"cached_input_tokens\":4,\"output_tokens\":5,"
            "\"cost_usd\":\"12.345\",\"cost_cents\":\"12.35\"}}\n");
}

TEST(SpendFormatTest, TableShape) {
  SpendReport report;
  report.group_by = GroupBy::kDay;
  report.groups.push_back({.key = "2026-01-02",
                           .requests = 3,
                           .failed = 1,
                           .input_tokens = 1200,
                           .cached_input_tokens = 0,
                           .output_tokens = 45,
                           .cost = core::Money::FromPico(4'999'999'999),
                           .baseline_cost = std::nullopt});
  report.total = report.groups[0];
  report.total.key = "";
  EXPECT_EQ(FormatTable(report),
            "day         requests  failed  input  cached  output        cost_usd  cost_cents\n"
            "2026-01-02         3       1   1200       0      45  0.004999999999        0.00\n"
            "-------------------------------------------------------------------------------\n"
            "TOTAL              3       1   1200       0      45  0.004999999999        0.00\n");
}

TEST(SpendQueryTest, EmptyLedgerHasZeroTotals) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  WriteLedger(path, {});
  auto report = QuerySpend(path, GroupBy::kModel);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_TRUE(report->groups.empty());
  EXPECT_EQ(report->total.requests, 0);
  EXPECT_EQ(report->total.cost.ToCents(), "0.00");
}

TEST(SpendQueryTest, MissingFileIsNotFoundAndNotCreated) {
  TempDir dir;
  const std::string path = dir.File("missing.db");
  auto report = QuerySpend(path, GroupBy::kModel);
  ASSERT_FALSE(report.has_value());
  EXPECT_EQ(report.error().code, core::Errc::kNotFound);
  EXPECT_THAT(report.error().message, HasSubstr(path));
  EXPECT_EQ(std::fopen(path.c_str(), "rb"), nullptr);
}

TEST(SpendQueryTest, NonLedgerFilesAreRejected) {
  TempDir dir;
  const std::string text = dir.File("notes.txt");
  std::FILE* f = std::fopen(text.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("not a database at all, but long enough to have a header-sized prefix....\n", f);
  std::fclose(f);
  auto report = QuerySpend(text, GroupBy::kDay);
  ASSERT_FALSE(report.has_value());
  EXPECT_THAT(report.error().message, HasSubstr(text));

  const std::string empty_db = dir.File("empty.db");
  {
    auto db = detail::Db::Open(empty_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(db->Exec("CREATE TABLE other (x INTEGER)").has_value());
  }
  report = QuerySpend(empty_db, GroupBy::kDay);
  ASSERT_FALSE(report.has_value());
  EXPECT_THAT(report.error().message, HasSubstr("not a Switchyard ledger"));
}

// `spend` opens read-only and does not migrate: a v2 ledger (no routing columns) still reports,
// every request in one "(no task type)" / "(no rule)" group, as the v3 migration leaves them.
TEST(SpendQueryTest, AVersionTwoLedgerReportsWithoutRoutingColumns) {
  TempDir dir;
  const std::string path = dir.File("v2.db");
  {
    auto db = detail::Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(db->Exec(test::kVersionTwoLedger));
  }
  for (GroupBy by : {GroupBy::kTaskType, GroupBy::kRule}) {
    auto report = QuerySpend(path, by);
    ASSERT_TRUE(report.has_value()) << report.error().message;
    ASSERT_EQ(report->groups.size(), 1u);
    EXPECT_EQ(report->groups[0].key, by == GroupBy::kRule ? "(no rule)" : "(no task type)");
    EXPECT_EQ(report->groups[0].requests, 2);
    EXPECT_EQ(report->groups[0].failed, 1);
    EXPECT_EQ(report->groups[0].cost.ToString(), "1.234567890123");
    EXPECT_EQ(report->total.cost.pico(), 1'234'567'890'123);
  }
  EXPECT_EQ(test::QueryInt(path, "PRAGMA user_version"), 2);  // untouched
}

TEST(SpendQueryTest, ParseGroupBy) {
  for (GroupBy by :
       {GroupBy::kModel, GroupBy::kTask, GroupBy::kDay, GroupBy::kTenant, GroupBy::kTaskType,
        GroupBy::kRule, GroupBy::kProvider, GroupBy::kKey, GroupBy::kHour}) {
    auto parsed = ParseGroupBy(GroupByName(by));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, by);
  }
  EXPECT_EQ(GroupByName(GroupBy::kTaskType), "task_type");
  EXPECT_EQ(GroupByName(GroupBy::kRule), "rule");
  EXPECT_EQ(GroupByName(GroupBy::kProvider), "provider");
  EXPECT_EQ(GroupByName(GroupBy::kKey), "key");
  EXPECT_EQ(GroupByName(GroupBy::kHour), "hour");
  auto bad = ParseGroupBy("week");
  ASSERT_FALSE(bad.has_value());
  EXPECT_THAT(bad.error().message,
              HasSubstr("model, provider, tenant, key, task, task_type, rule, day or hour"));
  // A client's by= (GET /v1/spend) is echoed clipped, as its from= and to= are.
  auto huge = ParseGroupBy(std::string(10'000, 'w'));
  ASSERT_FALSE(huge.has_value());
  EXPECT_LT(huge.error().message.size(), 200u) << huge.error().message.size();
  EXPECT_THAT(huge.error().message, HasSubstr("unknown grouping \"www"));
}

// Requests of two tenants over three hours, with providers and keys, for the issue 19 groupings,
// the [from, to) and tenant filters and the baseline.
class FilteredSpendTest : public ::testing::Test {
 protected:
  static constexpr int64_t kH0 = 1'764'669'600'000;  // 2025-12-02T10:00:00Z
  static constexpr int64_t kHour = 3'600'000;

  static Record Billed(std::string id, std::string tenant, std::string key, std::string provider,
                       int64_t input, int64_t output, int64_t cost_pico, int64_t at) {
    Record r = Req(std::move(id), provider.empty() ? "" : "m-" + provider, "", std::move(tenant),
                   cost_pico, at);
    r.key_id = std::move(key);
    r.provider = std::move(provider);
    r.usage = {};
    r.usage.input_tokens = input;
    r.usage.cached_input_tokens = input / 10;
    r.usage.output_tokens = output;
    r.usage.reported = true;
    return r;
  }

  static SpendQuery Q(GroupBy by, std::optional<int64_t> from = std::nullopt,
                      std::optional<int64_t> to = std::nullopt,
                      std::optional<std::string> tenant = std::nullopt) {
    SpendQuery q;
    q.by = by;
    q.from_ms = from;
    q.to_ms = to;
    q.tenant = std::move(tenant);
    return q;
  }

  void SetUp() override {
    WriteLedger(
        path_,
        {Billed("a", "acme", "key_a", "openai", 1000, 100, 3'000'000'000, kH0),
         Billed("b", "acme", "key_a", "anthropic", 2000, 50, 7'000'000'001, kH0 + 59 * 60'000),
         Billed("c", "acme", "key_b", "openai", 500, 500, 11, kH0 + kHour),
         Billed("d", "beta", "key_c", "openai", 4000, 0, 1'000'000'000'000, kH0 + kHour + 1),
         Billed("e", "acme", "", "", 0, 0, 0, kH0 + 2 * kHour)});
  }

  SpendReport Query(const SpendQuery& q, const Reprice* baseline = nullptr) {
    auto report = QuerySpend(path_, q, baseline, baseline != nullptr ? "big-model" : "");
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().message);
    return report ? *report : SpendReport{};
  }

  TempDir dir_;
  std::string path_ = dir_.File("ledger.db");
};

TEST_F(FilteredSpendTest, GroupsByProviderKeyAndHour) {
  EXPECT_THAT(Lines(Query(Q(GroupBy::kProvider))),
              ::testing::ElementsAre(GroupLine{"openai", 3, 0, "1.003000000011", "1.00"},
                                     GroupLine{"anthropic", 1, 0, "0.007000000001", "0.01"},
                                     GroupLine{"(none)", 1, 0, "0", "0.00"}));
  EXPECT_THAT(Lines(Query(Q(GroupBy::kKey))),
              ::testing::ElementsAre(GroupLine{"key_c", 1, 0, "1", "1.00"},
                                     GroupLine{"key_a", 2, 0, "0.010000000001", "0.01"},
                                     GroupLine{"key_b", 1, 0, "0.000000000011", "0.00"},
                                     GroupLine{"(no key)", 1, 0, "0", "0.00"}));
  EXPECT_THAT(Lines(Query(Q(GroupBy::kHour))),  // time order; 10:59 is still hour 10
              ::testing::ElementsAre(GroupLine{"2025-12-02T10", 2, 0, "0.010000000001", "0.01"},
                                     GroupLine{"2025-12-02T11", 2, 0, "1.000000000011", "1.00"},
                                     GroupLine{"2025-12-02T12", 1, 0, "0", "0.00"}));
}

TEST_F(FilteredSpendTest, FromIsInclusiveToIsExclusiveAndTenantIsExact) {
  // b (10:59) and c (11:00); not a (before `from`), not d (at `to`).
  SpendReport report = Query(Q(GroupBy::kHour, kH0 + 1, kH0 + kHour + 1));
  EXPECT_THAT(Lines(report),
              ::testing::ElementsAre(GroupLine{"2025-12-02T10", 1, 0, "0.007000000001", "0.01"},
                                     GroupLine{"2025-12-02T11", 1, 0, "0.000000000011", "0.00"}));
  EXPECT_EQ(report.total.requests, 2);
  EXPECT_EQ(report.total.cost.pico(), 7'000'000'012);

  report = Query(Q(GroupBy::kTenant, std::nullopt, std::nullopt, "beta"));
  EXPECT_THAT(Lines(report), ::testing::ElementsAre(GroupLine{"beta", 1, 0, "1", "1.00"}));
  EXPECT_EQ(report.total.cost.pico(), 1'000'000'000'000);
  EXPECT_EQ(Query(Q(GroupBy::kTenant, std::nullopt, std::nullopt, "acm")).total.requests, 0);
  EXPECT_EQ(Query(Q(GroupBy::kTenant, std::nullopt, std::nullopt, "")).total.requests, 0);
}

// The baseline prices input at 1 micro-USD and output at 5 micro-USD a token (1e6 and 5e6 pico),
// and adds the start time's minute so the callback's time argument is pinned too.
TEST_F(FilteredSpendTest, ABaselineRepricesEachRequestsUsageExactly) {
  const Reprice baseline = [](const core::Usage& usage, int64_t started_at_ms, std::string_view) {
    return core::Money::FromPico(usage.input_tokens * 1'000'000 + usage.output_tokens * 5'000'000 +
                                 (started_at_ms - kH0) / 60'000);
  };
  const SpendQuery q = Q(GroupBy::kProvider, std::nullopt, kH0 + 2 * kHour);  // e is left out
  const SpendReport report = Query(q, &baseline);
  EXPECT_EQ(report.baseline, "big-model");
  // a: 1000 in + 100 out = 1.5e9 pico; c: 500 + 500 -> 3e9 (+60: 11:00); d: 4e9 (+60).
  // b: 2000 + 50 -> 2.25e9 (+59).
  ASSERT_EQ(report.groups.size(), 2u);
  EXPECT_EQ(report.groups[0].key, "openai");  // the SQL path's order: cost descending
  EXPECT_EQ(report.groups[0].baseline_cost, core::Money::FromPico(8'500'000'120));
  EXPECT_EQ(report.groups[1].key, "anthropic");
  EXPECT_EQ(report.groups[1].baseline_cost, core::Money::FromPico(2'250'000'059));
  EXPECT_EQ(report.total.baseline_cost, core::Money::FromPico(10'750'000'179));
  EXPECT_EQ(report.total.cost.pico(), 1'010'000'000'012);
  EXPECT_EQ(report.total.requests, 4);
  EXPECT_EQ(report.total.input_tokens, 7500);
  EXPECT_EQ(report.total.cached_input_tokens, 750);
  EXPECT_EQ(report.total.output_tokens, 650);
  // The same groups and sums as without a baseline.
  EXPECT_EQ(Lines(report), Lines(Query(q)));

  const std::string json = FormatJson(report);
  EXPECT_THAT(json, ::testing::StartsWith(
                        "{\"group_by\":\"provider\",\"baseline\":\"big-model\",\"groups\":["));
  EXPECT_THAT(json, HasSubstr("\"cost_usd\":\"0.007000000001\",\"cost_cents\":\"0.01\","
                              "\"baseline_cost_usd\":\"0.002250000059\","
                              "\"savings_usd\":\"-0.004749999942\"}"));
  EXPECT_THAT(json, HasSubstr("\"total\":{\"requests\":4,\"failed\":0,\"input_tokens\":7500,"
                              "\"cached_input_tokens\":750,\"output_tokens\":650,"
                              "\"cost_usd\":\"1.010000000012\",\"cost_cents\":\"1.01\","
                              "\"baseline_cost_usd\":\"0.010750000179\","
                              "\"savings_usd\":\"-0.999249999833\"}}"));
  const std::string table = FormatTable(report);
  EXPECT_THAT(table, ::testing::StartsWith("baseline: big-model\nprovider   requests"));
  EXPECT_THAT(table, HasSubstr("cost_cents    baseline_usd      savings_usd\n"));
  EXPECT_THAT(table, HasSubstr("1.01  0.010750000179  -0.999249999833\n"));
  EXPECT_THAT(FormatJson(Query(q)), ::testing::Not(HasSubstr("baseline")));
}

// A report lists at most max_groups groups, the first in its order, and says there were more;
// the total still counts every request. With a baseline too: its groups are the same, and only
// theirs are re-priced apart (the total's baseline covers every request).
TEST_F(FilteredSpendTest, AReportListsAtMostMaxGroupsAndItsTotalCountsThemAll) {
  SpendQuery q = Q(GroupBy::kKey);
  q.max_groups = 2;
  const SpendReport report = Query(q);
  EXPECT_THAT(Lines(report),
              ::testing::ElementsAre(GroupLine{"key_c", 1, 0, "1", "1.00"},
                                     GroupLine{"key_a", 2, 0, "0.010000000001", "0.01"}));
  EXPECT_TRUE(report.more_groups);
  EXPECT_EQ(report.total.requests, 5);
  EXPECT_EQ(report.total.cost.pico(), 1'010'000'000'012);
  EXPECT_THAT(FormatJson(report), HasSubstr("],\"has_more\":true,\"total\":{\"requests\":5,"));
  EXPECT_THAT(FormatTable(report),
              ::testing::EndsWith("\n(more groups than the 2 shown; TOTAL counts them all)\n"));

  const Reprice baseline = [](const core::Usage& usage, int64_t, std::string_view) {
    return core::Money::FromPico(usage.input_tokens);
  };
  const SpendReport repriced = Query(q, &baseline);
  EXPECT_EQ(Lines(repriced), Lines(report));
  EXPECT_TRUE(repriced.more_groups);
  EXPECT_EQ(repriced.groups[0].baseline_cost, core::Money::FromPico(4000));
  EXPECT_EQ(repriced.groups[1].baseline_cost, core::Money::FromPico(3000));
  EXPECT_EQ(repriced.total.baseline_cost, core::Money::FromPico(7500));

  // Exactly as many groups as the limit: nothing left out. By hour: the earliest.
  q.max_groups = 4;
  EXPECT_FALSE(Query(q).more_groups);
  EXPECT_FALSE(Query(q, &baseline).more_groups);
  SpendQuery hours = Q(GroupBy::kHour);
  hours.max_groups = 1;
  const SpendReport first_hour = Query(hours);
  EXPECT_THAT(Lines(first_hour),
              ::testing::ElementsAre(GroupLine{"2025-12-02T10", 2, 0, "0.010000000001", "0.01"}));
  EXPECT_TRUE(first_hour.more_groups);
}

TEST_F(FilteredSpendTest, ABaselineWithNoMatchingRequestsIsZero) {
  const Reprice baseline = [](const core::Usage&, int64_t, std::string_view) {
    return core::Money::FromPico(1);
  };
  const SpendReport report = Query(Q(GroupBy::kDay, kH0 + 10 * kHour), &baseline);
  EXPECT_TRUE(report.groups.empty());
  EXPECT_EQ(report.total.baseline_cost, core::Money());
  EXPECT_THAT(FormatJson(report), HasSubstr("\"baseline_cost_usd\":\"0\",\"savings_usd\":\"0\""));
}

// Two requests recorded with one usage counter saturated (an absurd upstream usage is recorded
// as INT64_MAX tokens): `field` of core::Usage, and how the report names it.
struct SaturatedCounter {
  int64_t core::Usage::*field;
  const char* name;
};

// Regression: such rows made the report with a baseline add token counts past int64 (undefined
// behaviour: the sanitizer build aborted), and the report without one fail with SQLite's bare
// "integer overflow". The report is an exact figure or an error: both paths now fail with the
// same clear error, naming the ledger.
TEST(SpendOverflowTest, SaturatedTokenCountsFailTheReportWithAClearError) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const Reprice free_baseline = [](const core::Usage&, int64_t, std::string_view) {
    return core::Money();  // costs stay small: only the token sums overflow
  };
  for (const SaturatedCounter counter :
       {SaturatedCounter{&core::Usage::input_tokens, "input"},
        SaturatedCounter{&core::Usage::cached_input_tokens, "cached input"},
        SaturatedCounter{&core::Usage::output_tokens, "output"}}) {
    TempDir dir;
    const std::string path = dir.File("ledger.db");
    std::vector<Record> records;
    for (const char* id : {"a", "b"}) {
      Record r = Req(id, "gpt", "", "acme", 1);
      r.usage.*counter.field = kMax;
      records.push_back(std::move(r));
    }
    WriteLedger(path, std::move(records));
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    for (const Reprice* baseline : {static_cast<const Reprice*>(nullptr), &free_baseline}) {
      SCOPED_TRACE(std::string(counter.name) + (baseline ? " with a baseline" : ""));
      SpendQuery q;
      q.by = GroupBy::kModel;
      auto report = QuerySpend(path, q, baseline, "free");
      ASSERT_FALSE(report.has_value());
      EXPECT_EQ(report.error().code, core::Errc::kInternal);
      EXPECT_THAT(report.error().message, HasSubstr("ledger database '" + path + "'"));
      EXPECT_THAT(report.error().message, HasSubstr("passes the 64-bit integer range"));
    }
  }
}

// One saturated row sums to itself: the report is exact up to INT64_MAX, not refused early.
TEST(SpendOverflowTest, ASingleSaturatedCountIsReportedExactly) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  Record r = Req("a", "gpt", "", "acme", kMax);
  r.usage.input_tokens = kMax;
  WriteLedger(path, {std::move(r)});
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  const Reprice baseline = [](const core::Usage&, int64_t, std::string_view) {
    return core::Money::FromPico(kMax);
  };
  for (const Reprice* reprice : {static_cast<const Reprice*>(nullptr), &baseline}) {
    SpendQuery q;
    q.by = GroupBy::kModel;
    auto report = QuerySpend(path, q, reprice, "saturated");
    ASSERT_TRUE(report.has_value()) << report.error().message;
    EXPECT_EQ(report->total.input_tokens, kMax);
    EXPECT_EQ(report->total.cost.pico(), kMax);
    if (reprice != nullptr) {
      EXPECT_EQ(report->total.baseline_cost, core::Money::FromPico(kMax));
    }
  }
}

// Savings (baseline - cost) are printed for every group with a baseline: a row whose cost makes
// them pass int64 fails the report like an overflowing sum, instead of printing a wrapped figure.
TEST(SpendOverflowTest, SavingsPastTheRangeFailTheReport) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  struct Case {
    int64_t cost_pico;      // as stored; the gateway never stores a negative one
    int64_t baseline_pico;  // the re-priced cost
    std::optional<int64_t> savings_pico;
  };
  const Case cases[] = {
      {0, kMax, kMax},      {kMax, 0, -kMax},         {kMax, kMax, 0},
      {-1, kMax - 1, kMax}, {-1, kMax, std::nullopt},  // a hand-edited ledger
      {1, kMin + 1, kMin},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.cost_pico) + " against " + std::to_string(c.baseline_pico));
    TempDir dir;
    const std::string path = dir.File("ledger.db");
    WriteLedger(path, {Req("a", "gpt", "", "acme", c.cost_pico)});
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    const Reprice baseline = [&](const core::Usage&, int64_t, std::string_view) {
      return core::Money::FromPico(c.baseline_pico);
    };
    SpendQuery q;
    q.by = GroupBy::kModel;
    auto report = QuerySpend(path, q, &baseline, "edge");
    if (!c.savings_pico) {
      ASSERT_FALSE(report.has_value());
      EXPECT_THAT(report.error().message, HasSubstr("passes the 64-bit integer range"));
      continue;
    }
    ASSERT_TRUE(report.has_value()) << report.error().message;
    const std::string savings = core::Money::FromPico(*c.savings_pico).ToString();
    EXPECT_THAT(FormatJson(*report), HasSubstr("\"savings_usd\":\"" + savings + "\""));
  }
}

TEST(ParseTimeBoundTest, AcceptsDatesUtcTimesAndUnixSeconds) {
  const std::vector<std::pair<std::string, int64_t>> good = {
      {"2025-12-02", 1'764'633'600'000},
      {"2025-12-02T10:00:00Z", 1'764'669'600'000},
      {"2025-12-02T23:59:59Z", 1'764'719'999'000},
      {"2024-02-29", 1'709'164'800'000},
      {"1970-01-01", 0},
      {"1764669600", 1'764'669'600'000},
      {"0", 0},
  };
  for (const auto& [text, ms] : good) {
    auto parsed = ParseTimeBound(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, ms) << text;
  }
  for (const std::string bad :
       {"", "2025-13-01", "2025-02-29", "2025-12-02T24:00:00Z", "2025-12-02T10:00:00",
        "2025-12-02T10:00:00+01:00", "2025-12-2", "-5", "1.5", "123456789012", "yesterday",
        "2025-12-02 10:00:00Z", "2025-12-02T10:60:00Z"}) {
    auto parsed = ParseTimeBound(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error().code, core::Errc::kInvalidRequest);
    EXPECT_THAT(parsed.error().message, HasSubstr("YYYY-MM-DD"));
  }
}

}  // namespace
}  // namespace sy::ledger
