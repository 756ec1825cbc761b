#include "router/report.h"

#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sy::router {
namespace {

namespace json = boost::json;

std::vector<ScoredPrompt> Prompts() {
  // Two sources; in "a" the higher score is where the strong model gains.
  return {{"a", 0.9, 400, 1, 0, 1, 0},
          {"a", 0.1, 40, 1, 1, 1, 1},
          {"a", 0.5, 4, 0, 0, 0, 0},
          {"b", 0.7, 80, 9, 5, 8.0 / 9, 4.0 / 9},
          {"b", 0.2, 80, 6, 6, 5.0 / 9, 5.0 / 9}};
}

Prices Catalog() {
  auto strong = ParsePricePair("10/30");
  auto weak = ParsePricePair("0.5/1.5");
  return {strong->first, strong->second, weak->first, weak->second, 100};
}

TEST(RouterReportTest, CostsEachCurvePointExactly) {
  const auto prompts = Prompts();
  const EvalReport r = BuildReport(prompts, "all", 1, Catalog());
  ASSERT_EQ(r.sources.size(), 2u);
  const RouterFigures& a = r.sources[0].second;
  ASSERT_EQ(a.cost_per_1k.size(), a.ours.curve.size());
  // All weak (share 0): prompts of 100, 10 and 1 tokens, 100 output tokens each:
  // (111 * 0.5 + 300 * 1.5) / 1e6 USD per request-set of 3 = 505.5 / 3 micro-USD per request.
  EXPECT_EQ(a.cost_per_1k.front().ToString(), "0.1685");
  // All strong: (111 * 10 + 300 * 30) / 3 / 1e6 * 1000 = 3.37 USD.
  EXPECT_EQ(a.cost_per_1k.back().ToString(), "3.37");
}

TEST(RouterReportTest, JsonHasTheFiguresAndBaselines) {
  const auto prompts = Prompts();
  const json::value v = json::parse(FormatReportJson(BuildReport(prompts, "validation", 1, {})));
  const json::object& o = v.as_object();
  EXPECT_EQ(o.at("split").as_string(), "validation");
  EXPECT_EQ(o.at("n").as_int64(), 5);
  for (const char* key : {"apgr", "cpt50", "cpt80", "strong_share_at_95pct_quality", "curve"}) {
    EXPECT_TRUE(o.contains(key)) << key;
  }
  EXPECT_TRUE(o.at("baselines").as_object().contains("random"));
  EXPECT_TRUE(o.at("baselines").as_object().contains("length"));
  const json::object& a = o.at("sources").as_object().at("a").as_object();
  EXPECT_EQ(a.at("n").as_int64(), 3);
  EXPECT_TRUE(a.at("baselines").as_object().at("length").as_object().contains("apgr"));
  // Source b: strong 7.5 vs weak 5.5 in the file's own scale.
  const json::object& b = o.at("sources").as_object().at("b").as_object();
  EXPECT_EQ(b.at("strong_performance").as_double(), 7.5);
}

TEST(RouterReportTest, TableNamesEverySourceAndRouter) {
  const auto prompts = Prompts();
  const std::string t = FormatReportTable(BuildReport(prompts, "validation", 1, Catalog()));
  for (const char* part :
       {"a (n=3", "b (n=2", "overall", "learned", "random", "length", "USD per 1k requests"}) {
    EXPECT_NE(t.find(part), std::string::npos) << part;
  }
}

TEST(RouterReportTest, PricePairs) {
  auto p = ParsePricePair("2.5/10");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->first.ToString(), "2.5");
  EXPECT_EQ(p->second.ToString(), "10");
  EXPECT_FALSE(ParsePricePair("10").has_value());
  EXPECT_FALSE(ParsePricePair("ten/30").has_value());
  EXPECT_FALSE(ParsePricePair("10/-1").has_value());
}

}  // namespace
}  // namespace sy::router
