#include "ledger/outcomes.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ledger/detail/test_util.h"
#include "ledger/feedback.h"
#include "ledger/sqlite_ledger.h"

namespace sy::ledger {
namespace {

using test::TempDir;
using ::testing::HasSubstr;

constexpr int64_t kT = 1'764'669'600'000;  // 2025-12-02T10:00:00Z

Attempt Try(std::string model, std::string outcome, std::string verdict) {
  Attempt a;
  a.model = std::move(model);
  a.outcome = std::move(outcome);
  a.verdict = std::move(verdict);
  return a;
}

Record Req(std::string id, std::string task, std::string tenant, std::string model,
           int64_t cost_pico, int64_t at, std::vector<Attempt> attempts) {
  Record r;
  r.request_id = std::move(id);
  r.task_id = std::move(task);
  r.tenant = std::move(tenant);
  r.chosen_model = std::move(model);
  r.cost = core::Money::FromPico(cost_pico);
  r.started_at_ms = at;
  r.status = 200;
  r.attempts = std::move(attempts);
  return r;
}

// Tasks of tenant acme:
//   t1: r1 (cheap, 1.000000000001), r2 (escalated: cheap rejected, strong passed; 2.0),
//       r3 (strong after a skipped candidate; 7 pico) -> group strong.
//       Feedback: success on the task, then failure on r2 (later): failure wins. Score 0.1.
//   t2: r4 (strong, 3 pico). Feedback: failure, then success (score 0.9, edited).
//   r5 (no task id, strong, 0): its own task; verify_mode record saw a rejection.
//       Feedback on r5: success, score 0.4, retried.
//   t4: r6 (cheap, 100 pico): unrated.
// Tenant beta's task "t1" (the same client id): r7 (cheap, 50 pico), its own success feedback.
class OutcomesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Record> records;
    Record r1 =
        Req("r1", "t1", "acme", "cheap", 1'000'000'000'001, kT, {Try("cheap", "ok", "passed")});
    r1.task_type = "chat";
    records.push_back(r1);
    records.push_back(
        Req("r2", "t1", "acme", "strong", 2'000'000'000'000, kT + 1,
            {Try("cheap", "rejected", "rejected: json: not JSON"), Try("strong", "ok", "passed")}));
    Record r3 = Req("r3", "t1", "acme", "strong", 7, kT + 2,
                    {Try("cheap", "skipped", ""), Try("strong", "ok", "")});
    r3.task_type = "code";
    r3.profile = "auto";
    r3.rule = "strong-code";
    records.push_back(r3);
    records.push_back(
        Req("r4", "t2", "acme", "strong", 3, kT + 3, {Try("strong", "ok", "passed")}));
    records.push_back(Req("r5", "", "acme", "strong", 0, kT + 4,
                          {Try("strong", "ok", "recorded: rejected: regex: no match")}));
    records.push_back(Req("r6", "t4", "acme", "cheap", 100, kT + 5, {Try("cheap", "ok", "")}));
    records.push_back(Req("r7", "t1", "beta", "cheap", 50, kT + 6, {Try("cheap", "ok", "")}));
    auto ledger = SqliteLedger::Open({.path = path_});
    ASSERT_TRUE(ledger.has_value()) << ledger.error().message;
    for (Record& r : records) (*ledger)->Append(std::move(r));
    (*ledger)->Close();

    auto store = FeedbackStore::Open(path_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    const int64_t f = kT + 60'000;
    FeedbackRow t2_success = test::Rating("fb4", "r4", "", "acme", "success", 0.9, f + 5);
    t2_success.user_edited = true;
    FeedbackRow r5_success = test::Rating("fb5", "r5", "", "acme", "success", 0.4, f);
    r5_success.user_retried = true;
    for (const FeedbackRow& row : {
             test::Rating("fb1", "", "t1", "acme", "success", std::nullopt, f),
             test::Rating("fb2", "r2", "", "acme", "failure", 0.1, f + 1),
             test::Rating("fb3", "r4", "", "acme", "failure", std::nullopt, f),
             t2_success,
             r5_success,
             test::Rating("fb6", "", "t1", "beta", "success", std::nullopt, f),
             // No such request: ignored.
             test::Rating("fb7", "r404", "", "acme", "success", 1.0, f),
         }) {
      ASSERT_TRUE((*store)->Insert(row));
    }
  }

  OutcomeReport Query(OutcomeBy by, std::optional<int64_t> from = std::nullopt,
                      std::optional<std::string> tenant = std::nullopt) {
    OutcomeQuery q;
    q.by = by;
    q.from_ms = from;
    q.tenant = std::move(tenant);
    auto report = QueryOutcomes(path_, q);
    EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().message);
    return report ? *report : OutcomeReport{};
  }

  TempDir dir_;
  std::string path_ = dir_.File("ledger.db");
};

TEST_F(OutcomesTest, PerModelCountsTasksByTheirLastRequestAndTheLatestFeedback) {
  const OutcomeReport report = Query(OutcomeBy::kModel);
  ASSERT_EQ(report.groups.size(), 2u);
  const OutcomeRow& strong = report.groups[0];
  EXPECT_EQ(strong.key, "strong");
  EXPECT_EQ(strong.tasks, 3);  // t1, t2, r5
  EXPECT_EQ(strong.rated, 3);
  EXPECT_EQ(strong.successes, 2);  // t2, r5; t1's later failure replaced its success
  EXPECT_EQ(strong.failures, 1);
  EXPECT_EQ(strong.retried, 1);
  EXPECT_EQ(strong.edited, 1);
  EXPECT_EQ(strong.cost.pico(), 3'000'000'000'011);  // t1's cheap first request included
  EXPECT_EQ(strong.attempts, 6);                     // the skipped candidate was never sent
  EXPECT_EQ(strong.rejected_attempts, 2);            // r2's cheap, r5's recorded rejection
  EXPECT_EQ(strong.verified_attempts, 5);
  ASSERT_TRUE(strong.avg_score.has_value());
  EXPECT_DOUBLE_EQ(*strong.avg_score, (0.1 + 0.9 + 0.4) / 3);

  const OutcomeRow& cheap = report.groups[1];
  EXPECT_EQ(cheap.key, "cheap");
  EXPECT_EQ(cheap.tasks, 2);  // acme's t4 and beta's t1
  EXPECT_EQ(cheap.rated, 1);
  EXPECT_EQ(cheap.successes, 1);
  EXPECT_EQ(cheap.cost.pico(), 150);
  EXPECT_EQ(cheap.verified_attempts, 0);
  EXPECT_FALSE(cheap.avg_score.has_value());

  EXPECT_EQ(report.total.tasks, 5);
  EXPECT_EQ(report.total.rated, 4);
  EXPECT_EQ(report.total.successes, 3);
  EXPECT_EQ(report.total.cost.pico(), 3'000'000'000'161);
  EXPECT_EQ(report.total.attempts, 8);
}

// A task whose last call was refused (over budget: no model, no route) still belongs to the
// model that answered it before.
TEST(OutcomesRefusedTest, ARefusedLastRequestKeepsItsTaskInItsGroup) {
  TempDir dir;
  const std::string path = dir.File("ledger.db");
  {
    auto ledger = SqliteLedger::Open({.path = path});
    ASSERT_TRUE(ledger.has_value());
    (*ledger)->Append(Req("a1", "tx", "acme", "strong", 5, kT, {Try("strong", "ok", "")}));
    (*ledger)->Append(Req("a2", "tx", "acme", "", 0, kT + 1, {}));
    (*ledger)->Close();
  }
  auto report = QueryOutcomes(path, OutcomeQuery{OutcomeBy::kModel, {}, {}, {}});
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->groups.size(), 1u);
  EXPECT_EQ(report->groups[0].key, "strong");
  EXPECT_EQ(report->groups[0].tasks, 1);
  EXPECT_EQ(report->groups[0].cost.pico(), 5);
}

// Ratings of one task at the same millisecond, one naming the task and one naming a request of
// it: the one written last is the outcome, whichever way each names the task.
TEST(OutcomesTieTest, RatingsAtTheSameTimeCountInTheOrderTheyWereWritten) {
  for (const bool task_rating_last : {false, true}) {
    SCOPED_TRACE(task_rating_last ? "the task's rating last" : "the request's rating last");
    TempDir dir;
    const std::string path = dir.File("ledger.db");
    {
      auto ledger = SqliteLedger::Open({.path = path});
      ASSERT_TRUE(ledger.has_value());
      (*ledger)->Append(Req("q1", "tx", "acme", "strong", 5, kT, {Try("strong", "ok", "")}));
      (*ledger)->Close();
    }
    auto store = FeedbackStore::Open(path);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    const FeedbackRow by_task =
        test::Rating("fb1", "", "tx", "acme", "failure", std::nullopt, kT + 1);
    const FeedbackRow by_request =
        test::Rating("fb2", "q1", "", "acme", "success", std::nullopt, kT + 1);
    ASSERT_TRUE((*store)->Insert(task_rating_last ? by_request : by_task));
    ASSERT_TRUE((*store)->Insert(task_rating_last ? by_task : by_request));
    auto report = QueryOutcomes(path, OutcomeQuery{OutcomeBy::kModel, {}, {}, {}});
    ASSERT_TRUE(report.has_value()) << report.error().message;
    EXPECT_EQ(report->total.rated, 1);
    EXPECT_EQ(report->total.successes, task_rating_last ? 0 : 1);
  }
}

TEST_F(OutcomesTest, JsonRatesAndCostPerSuccessfulTaskToThePico) {
  const std::string json = FormatOutcomesJson(Query(OutcomeBy::kModel));
  // 3.000000000011 / 2 = 1.5000000000055 -> 1.500000000006 (half away from zero).
  EXPECT_THAT(json, HasSubstr("{\"group_by\":\"model\",\"groups\":[{\"key\":\"strong\",\"tasks\":3,"
                              "\"rated\":3,\"successes\":2,\"failures\":1,\"success_rate\":0.6667,"
                              "\"cost_usd\":\"3.000000000011\","
                              "\"cost_per_successful_task_usd\":\"1.500000000006\","
                              "\"retry_rate\":0.3333,\"edit_rate\":0.3333,\"attempts\":6,"
                              "\"rejected_attempts\":2,\"verified_attempts\":5,"
                              "\"verification_failure_rate\":0.4,\"avg_score\":0.4667}"));
  EXPECT_THAT(json, HasSubstr("{\"key\":\"cheap\",\"tasks\":2,\"rated\":1,\"successes\":1,"
                              "\"failures\":0,\"success_rate\":1,\"cost_usd\":\"0.00000000015\","
                              "\"cost_per_successful_task_usd\":\"0.00000000015\","
                              "\"retry_rate\":0,\"edit_rate\":0,\"attempts\":2,"
                              "\"rejected_attempts\":0,\"verified_attempts\":0,"
                              "\"verification_failure_rate\":null,\"avg_score\":null}"));
  // 3.000000000161 / 3 = 1.000000000053666... -> 1.000000000054.
  EXPECT_THAT(json, HasSubstr("\"total\":{\"tasks\":5,\"rated\":4,\"successes\":3,"
                              "\"failures\":1,\"success_rate\":0.75,"
                              "\"cost_usd\":\"3.000000000161\","
                              "\"cost_per_successful_task_usd\":\"1.000000000054\","));
}

TEST_F(OutcomesTest, ATenantSeesOnlyItsTasksAndItsFeedback) {
  const OutcomeReport acme = Query(OutcomeBy::kModel, std::nullopt, "acme");
  ASSERT_EQ(acme.groups.size(), 2u);
  EXPECT_EQ(acme.groups[1].key, "cheap");
  EXPECT_EQ(acme.groups[1].tasks, 1);  // t4 only
  EXPECT_EQ(acme.groups[1].rated, 0);  // beta's success on its own "t1" is not acme's
  EXPECT_EQ(acme.total.tasks, 4);
  EXPECT_THAT(FormatOutcomesJson(acme),
              HasSubstr("\"key\":\"cheap\",\"tasks\":1,\"rated\":0,\"successes\":0,"
                        "\"failures\":0,\"success_rate\":null,\"cost_usd\":\"0.0000000001\","
                        "\"cost_per_successful_task_usd\":null,\"retry_rate\":null"));

  const OutcomeReport beta = Query(OutcomeBy::kModel, std::nullopt, "beta");
  ASSERT_EQ(beta.groups.size(), 1u);
  EXPECT_EQ(beta.groups[0].tasks, 1);
  EXPECT_EQ(beta.groups[0].successes, 1);
  EXPECT_EQ(beta.total.cost.pico(), 50);
}

TEST_F(OutcomesTest, TheRangeSelectsRequestsBeforeTasksAreFormed) {
  const OutcomeReport report = Query(OutcomeBy::kModel, kT + 2);  // r3 onwards
  ASSERT_EQ(report.groups.size(), 2u);
  EXPECT_EQ(report.groups[0].key, "cheap");  // 150 pico now outweighs strong's 10
  const OutcomeRow& strong = report.groups[1];
  EXPECT_EQ(strong.key, "strong");
  EXPECT_EQ(strong.tasks, 3);  // t1 is now r3 alone
  // t1's task feedback (success) still rates it; the later failure named r2, outside the range.
  EXPECT_EQ(strong.successes, 3);
  EXPECT_EQ(strong.failures, 0);
  EXPECT_EQ(strong.cost.pico(), 10);
  EXPECT_EQ(strong.attempts, 3);
}

TEST_F(OutcomesTest, ByRuleAndTaskTypeUseTheLastRequest) {
  const OutcomeReport by_rule = Query(OutcomeBy::kRule);
  ASSERT_EQ(by_rule.groups.size(), 2u);
  EXPECT_EQ(by_rule.groups[0].key, "auto/strong-code");  // t1, via r3
  EXPECT_EQ(by_rule.groups[0].tasks, 1);
  EXPECT_EQ(by_rule.groups[0].failures, 1);
  EXPECT_EQ(by_rule.groups[1].key, "(no rule)");
  EXPECT_EQ(by_rule.groups[1].tasks, 4);

  const OutcomeReport by_type = Query(OutcomeBy::kTaskType);
  ASSERT_EQ(by_type.groups.size(), 2u);
  EXPECT_EQ(by_type.groups[0].key, "code");  // not r1's "chat"
  EXPECT_EQ(by_type.groups[1].key, "(no task type)");
}

TEST_F(OutcomesTest, TableHasAHeaderAGroupLineAndATotal) {
  const std::string table = FormatOutcomesTable(Query(OutcomeBy::kModel));
  EXPECT_THAT(table, ::testing::StartsWith("model   tasks  rated  success  failure  success_rate"));
  EXPECT_THAT(table, HasSubstr("\nstrong      3      3        2        1        0.6667  "
                               "3.000000000011   1.500000000006"));
  EXPECT_THAT(table, HasSubstr("\nTOTAL       5      4        3        1          0.75"));
  EXPECT_THAT(table, HasSubstr("             -          -\n-----"));  // cheap: no verdict, score
}

TEST(OutcomesQueryTest, AVersionTwoLedgerHasOnlyUnratedTasks) {
  TempDir dir;
  const std::string path = dir.File("v2.db");
  {
    auto db = detail::Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(db->Exec(test::kVersionTwoLedger));
  }
  auto report = QueryOutcomes(path, {});
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->total.tasks, 1);  // old-1 and old-2 share task "t" of tenant acme
  EXPECT_EQ(report->total.rated, 0);
  EXPECT_EQ(report->total.attempts, 1);
  EXPECT_EQ(report->total.cost.ToString(), "1.234567890123");
  ASSERT_EQ(report->groups.size(), 1u);
  // old-2, the task's last request, got no answer: the task stays with the model of old-1.
  EXPECT_EQ(report->groups[0].key, "gpt");

  auto missing = QueryOutcomes(dir.File("none.db"), {});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, core::Errc::kNotFound);
}

TEST(OutcomesFormatTest, ParseOutcomeBy) {
  for (OutcomeBy by : {OutcomeBy::kModel, OutcomeBy::kTaskType, OutcomeBy::kRule}) {
    auto parsed = ParseOutcomeBy(OutcomeByName(by));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, by);
  }
  auto bad = ParseOutcomeBy("day");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, core::Errc::kInvalidRequest);
  EXPECT_THAT(bad.error().message, HasSubstr("model, task_type or rule"));
  // A client's by= (GET /v1/outcomes) is echoed clipped.
  auto huge = ParseOutcomeBy(std::string(10'000, 'w'));
  ASSERT_FALSE(huge.has_value());
  EXPECT_LT(huge.error().message.size(), 200u) << huge.error().message.size();
  EXPECT_THAT(huge.error().message, HasSubstr("unknown grouping \"www"));
}

}  // namespace
}  // namespace sy::ledger
