#include "eval/report.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace sy::eval {
namespace {

namespace json = boost::json;

Suite TwoItems() {
  auto suite = ParseSuite(
      R"({"id":"sum","task_type":"math","messages":[{"role":"user","content":"2+2?"}],)"
      R"("checker":{"type":"numeric-within","value":4}})"
      "\n"
      R"({"id":"capital","task_type":"factual","messages":[{"role":"user","content":"Capital of France?"}],)"
      R"("checker":{"type":"contains","value":"Paris"}})",
      "two");
  EXPECT_TRUE(suite);
  return *suite;
}

Outcome At(size_t item, bool passed, const char* cost, int64_t latency_ms, bool answered = true) {
  Outcome o;
  o.item = item;
  o.answered = answered;
  o.passed = passed;
  o.cost = *core::Money::Parse(cost);
  o.latency_us = latency_ms * 1000;
  o.model = answered ? "m" : "";
  return o;
}

// Two attempts per item. a: 3 of 4 pass for 0.004 USD; b: 2 of 4 for 0.03 USD, one unanswered.
Report Sample() {
  const std::vector<PolicyRun> runs = {
      {"a",
       {At(0, true, "0.001", 10), At(0, false, "0.002", 30), At(1, true, "0.0005", 20),
        At(1, true, "0.0005", 40)}},
      {"b",
       {At(0, true, "0.01", 5), At(0, true, "0.01", 5), At(1, false, "0.01", 5),
        At(1, false, "0", 100, false)}},
  };
  auto report = Summarize(TwoItems(), "two", 2, runs);
  EXPECT_TRUE(report) << report.error().message;
  return report ? *report : Report();
}

TEST(ReportTest, TotalsFollowTheDefinitions) {
  const Report r = Sample();
  ASSERT_EQ(r.totals.size(), 2u);
  const Row& a = r.totals[0];
  EXPECT_EQ(a.items, 2);
  EXPECT_EQ(a.attempts, 4);
  EXPECT_EQ(a.passed, 3);
  EXPECT_DOUBLE_EQ(a.SuccessRate(), 0.75);
  EXPECT_EQ(a.cost.ToString(), "0.004");
  // 0.004 / 3, rounded to the pico-dollar.
  EXPECT_EQ(a.cost_per_success->ToString(), "0.001333333333");
  // Nearest rank over 10, 20, 30, 40 ms.
  EXPECT_EQ(a.p50_us, 20'000);
  EXPECT_EQ(a.p95_us, 40'000);
  EXPECT_EQ(a.FactualFailureRate(), 0.0);
  // Items pass with p = 0.5 and 1: 1 - 0.5^k averaged with 1.
  ASSERT_EQ(a.within_k.size(), 3u);
  EXPECT_DOUBLE_EQ(a.within_k[0], 0.75);
  EXPECT_DOUBLE_EQ(a.within_k[1], 0.875);
  EXPECT_DOUBLE_EQ(a.within_k[2], 0.9375);
  EXPECT_EQ(a.models.at("m"), 4);

  const Row& b = r.totals[1];
  EXPECT_EQ(b.passed, 2);
  EXPECT_EQ(b.unanswered, 1);
  EXPECT_EQ(b.cost_per_success->ToString(), "0.015");
  EXPECT_EQ(b.FactualFailureRate(), 1.0);
  EXPECT_EQ(Cheapest(r), 0u);
}

TEST(ReportTest, TaskTypeRowsSplitEachPolicy) {
  const Report r = Sample();
  ASSERT_EQ(r.by_task.size(), 4u);  // 2 policies x {factual, math}
  EXPECT_EQ(r.by_task[0].policy, "a");
  EXPECT_EQ(r.by_task[0].task_type, "factual");
  EXPECT_EQ(r.by_task[0].cost_per_success->ToString(), "0.0005");
  EXPECT_EQ(r.by_task[1].task_type, "math");
  EXPECT_EQ(r.by_task[1].cost_per_success->ToString(), "0.003");
  EXPECT_EQ(r.by_task[3].cost_per_success->ToString(), "0.01");
}

TEST(ReportTest, NothingPassedHasNoCostPerSuccessAndIsNeverCheapest) {
  const Report r = *Summarize(TwoItems(), "two", 1, {{"x", {At(0, false, "0.5", 1)}}});
  EXPECT_FALSE(r.totals[0].cost_per_success);
  EXPECT_FALSE(Cheapest(r));
  EXPECT_NE(FormatTable(r).find("no policy passed any task"), std::string::npos);
  EXPECT_NE(FormatJson(r).find("\"cost_per_success_usd\":null"), std::string::npos);
}

TEST(ReportTest, JsonCarriesEveryFigureExactly) {
  const json::value v = json::parse(FormatJson(Sample()));
  const json::object& a = v.at("policies").at(0).as_object();
  EXPECT_EQ(a.at("name"), "a");
  EXPECT_EQ(a.at("cost_usd"), "0.004");
  EXPECT_EQ(a.at("cost_per_success_usd"), "0.001333333333");
  EXPECT_EQ(a.at("success_rate").as_double(), 0.75);
  EXPECT_EQ(a.at("p50_ms").as_double(), 20.0);
  EXPECT_EQ(a.at("p_success_within_k").as_array().size(), 3u);
  EXPECT_EQ(a.at("task_types").as_array().size(), 2u);
  EXPECT_EQ(v.at("cheapest"), "a");
  EXPECT_EQ(v.at("attempts_per_item"), 2);
}

TEST(ReportTest, TableAndMarkdownNameTheCheapestPolicyAndBy) {
  const std::string table = FormatTable(Sample());
  EXPECT_NE(table.find("suite two: 2 items, 2 attempts each"), std::string::npos) << table;
  // 1.3333 vs 15.0000 USD per 1,000 successes: 91.1% below.
  EXPECT_NE(table.find("lowest cost per successful task: a, 1.3333 USD per 1,000 successes at "
                       "75.0% success; 91.1% below b (15.0000, 50.0% success)"),
            std::string::npos)
      << table;
  const std::string md = FormatMarkdown(Sample());
  EXPECT_NE(md.find("| `a` | 75.0% | 1.3333 |"), std::string::npos) << md;
}

TEST(ReportTest, TheSuccessBarKeepsCheapButPoorPoliciesOutOfTheVerdict) {
  Report r = Sample();  // a: 75% success, b: 50%
  r.min_success = 0.6;
  EXPECT_EQ(Cheapest(r), 0u);
  EXPECT_NE(FormatTable(r).find("lowest cost per successful task among policies with at least "
                                "60.0% success: a, 1.3333 USD per 1,000 successes at 75.0% "
                                "success; b below the bar (15.0000, 50.0% success)"),
            std::string::npos)
      << FormatTable(r);
  // Now a costs more per success than b, but b stays out while below the bar.
  r.totals[0].cost_per_success = core::Money::FromPico(20'000'000'000);
  EXPECT_EQ(Cheapest(r), 0u);
  r.min_success = 0.8;
  EXPECT_FALSE(Cheapest(r));
  EXPECT_NE(FormatTable(r).find("no policy reached 80.0% success"), std::string::npos);
}

TEST(ReportTest, ACostSumPastTheLargestMoneyIsAnErrorNamingThePolicy) {
  const char* kLargest = "9223372.036854775807";  // INT64_MAX pico-dollars
  struct Case {
    std::vector<Outcome> outcomes;
    const char* total;  // nullptr: the sum overflows
  };
  const std::vector<Case> cases = {
      {{At(0, true, "9223372.036854775806", 1), At(1, true, "0.000000000001", 1)}, kLargest},
      {{At(0, true, kLargest, 1), At(1, false, "0", 1)}, kLargest},
      {{At(0, true, kLargest, 1), At(1, true, "0.000000000001", 1)}, nullptr},
      {{At(0, true, kLargest, 1), At(0, true, kLargest, 1)}, nullptr},
  };
  for (const Case& c : cases) {
    auto r = Summarize(TwoItems(), "two", 2, {{"auto", c.outcomes}});
    if (c.total) {
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(r->totals[0].cost.ToString(), c.total);
      continue;
    }
    ASSERT_FALSE(r) << c.outcomes[1].cost.ToString();
    EXPECT_EQ(r.error().code, core::Errc::kInvalidRequest);
    EXPECT_EQ(r.error().message,
              "cost overflows: the attempts of policy auto cost more in total than the largest "
              "amount a report holds (9223372.036854775807 USD); check their "
              "x-switchyard-cost-usd");
  }
}

TEST(ReportTest, CostPer1kIsExactUpToTheLargestCostPerSuccess) {
  struct Case {
    const char* cost;  // of the one passing attempt
    const char* per_1k;
  };
  const Case cases[] = {
      {"0.0012345", "1.2345"},
      {"0.00000005", "0.0001"},  // half away from zero
      {"0.00000004", "0.0000"},
      {"9223.372036854775", "9223372.0369"},  // * 1000 still fits int64 pico-dollars
      {"9223.372036854776", "9223372.0369"},  // * 1000 would not: formatted, not multiplied
      {"9223372.036854775807", "9223372036.8548"},
  };
  for (const Case& c : cases) {
    auto r = Summarize(TwoItems(), "two", 1, {{"x", {At(0, true, c.cost, 1)}}});
    ASSERT_TRUE(r) << r.error().message;
    const std::string md = FormatMarkdown(*r);
    EXPECT_NE(md.find("| `x` | 100.0% | " + std::string(c.per_1k) + " |"), std::string::npos)
        << c.cost << "\n"
        << md;
  }
}

TEST(ReportTest, SvgPlotsOnePointPerPolicyAndEscapesNames) {
  Report r = Sample();
  r.totals[1].policy = "b<&>";
  const std::string svg = FormatSvg(r);
  EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  size_t circles = 0;
  for (size_t at = svg.find("<circle"); at != std::string::npos; at = svg.find("<circle", at + 1)) {
    ++circles;
  }
  EXPECT_EQ(circles, 2u);
  EXPECT_NE(svg.find("b&lt;&amp;&gt; (15.0000)"), std::string::npos);
  EXPECT_EQ(svg.find("b<&>"), std::string::npos);
  // Round ticks: 0 to 20 USD per 1k in steps of 5 (the dearest is 15); 40% to 100% in tens (the
  // worst succeeds 50%).
  for (const char* tick : {">0</text>", ">5</text>", ">20</text>", ">40%</text>", ">100%</text>"}) {
    EXPECT_NE(svg.find(tick), std::string::npos) << tick;
  }
  EXPECT_EQ(svg.find(">25</text>"), std::string::npos);
}

TEST(ReportTest, SvgWrapsALongNote) {
  Report r = Sample();
  r.note = std::string(60, 'a') + " " + std::string(60, 'b');
  const std::string svg = FormatSvg(r);
  EXPECT_NE(svg.find("fill=\"#555\">" + std::string(60, 'a') + "</text>"), std::string::npos);
  EXPECT_NE(svg.find("fill=\"#555\">" + std::string(60, 'b') + "</text>"), std::string::npos);
}

}  // namespace
}  // namespace sy::eval
