#include "router/report.h"

#include <cstdint>
#include <limits>
#include <optional>
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
  const EvalReport r = *BuildReport(prompts, "all", 1, Catalog());
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
  const json::value v = json::parse(FormatReportJson(*BuildReport(prompts, "validation", 1, {})));
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
  const std::string t = FormatReportTable(*BuildReport(prompts, "validation", 1, Catalog()));
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

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// Both models at `in`/`out` micro-USD per million tokens.
Prices Flat(int64_t in, int64_t out, int64_t output_tokens) {
  const auto i = core::PricePerMTokens::FromMicro(in);
  const auto o = core::PricePerMTokens::FromMicro(out);
  return {i, o, i, o, output_tokens};
}

TEST(RouterReportTest, ACostPastTheLargestMoneyIsAnErrorNamingWhatOverflows) {
  struct Case {
    int64_t bytes;  // of each of two prompts
    Prices prices;
    std::string error;  // the message's start; "" when it fits
  };
  const std::string kRequest = "cost overflows: a request of 2 input tokens (a prompt of 8 bytes)";
  const std::string k1k = "cost overflows: 1,000 requests routed at a strong share of ";
  const Case cases[] = {
      // One token a request: the cost of 1,000 is exactly the largest multiple of 1,000 in range.
      {4, Flat(kMax / 1000, 0, 0), ""},
      {4, Flat(kMax / 1000 + 1, 0, 0), k1k},
      {4, Flat(0, kMax / 1000, 1), ""},
      {4, Flat(0, kMax / 1000 + 1, 1), k1k},
      // One request alone past the range: input, output, or only their sum.
      {8, Flat(kMax, 0, 0), kRequest},
      {4, Flat(0, kMax, 2), "cost overflows: a request of 1 input tokens"},
      {4, Flat(kMax / 2 + 1, kMax / 2 + 1, 1), "cost overflows: a request of 1 input tokens"},
      // ceil(bytes / 4) without overflow: 2.3 million USD a request fits, 1,000 of them do not.
      {kMax, Flat(1, 0, 0), k1k},
  };
  for (const Case& c : cases) {
    const std::vector<ScoredPrompt> prompts = {{"a", 0.9, c.bytes, 1, 0, 1, 0},
                                               {"a", 0.1, c.bytes, 0, 1, 0, 1}};
    auto r = BuildReport(prompts, "all", 1, c.prices);
    if (c.error.empty()) {
      EXPECT_TRUE(r) << c.bytes << ": " << r.error().message;
      continue;
    }
    ASSERT_FALSE(r) << c.bytes;
    EXPECT_EQ(r.error().code, core::Errc::kInvalidRequest);
    EXPECT_EQ(r.error().message.substr(0, c.error.size()), c.error) << r.error().message;
    EXPECT_NE(
        r.error().message.find("the largest amount a report holds (9223372.036854775807 USD)"),
        std::string::npos)
        << r.error().message;
  }
  // Without prices nothing is costed, so nothing can overflow.
  const std::vector<ScoredPrompt> huge = {{"a", 0.5, kMax, 1, 0, 1, 0}};
  EXPECT_TRUE(BuildReport(huge, "all", 1, std::nullopt));
}

TEST(RouterReportTest, AnOutputPriceIsCheckedAgainstOneThousandRequests) {
  struct Case {
    const char* price;
    int64_t output_tokens;
    std::string error;  // "" when it fits
  };
  const Case cases[] = {
      {"30", 500, ""},
      {"18446744.073709", 500, ""},  // the largest that fits 500 tokens x 1,000 requests
      {"18446744.07371", 500,
       "cost overflows: 1,000 requests of 500 output tokens at 18446744.07371 USD per million "
       "output tokens cost more than the largest amount a report holds (9223372.036854775807 "
       "USD); at most 18446744.073709 fits"},
      {"9223372036854.775807", 0, ""},  // no output tokens cost nothing
      {"0", kMax, ""},
      {"0.000001", kMax,
       "cost overflows: 1,000 requests of 9223372036854775807 output tokens at 0.000001 USD per "
       "million output tokens cost more than the largest amount a report holds "
       "(9223372.036854775807 USD); at most 0 fits"},
  };
  for (const Case& c : cases) {
    const auto price = core::PricePerMTokens::Parse(c.price);
    ASSERT_TRUE(price) << c.price;
    const core::Status ok = CheckOutputPrice(*price, c.output_tokens);
    EXPECT_EQ(ok ? "" : ok.error().message, c.error) << c.price << " x " << c.output_tokens;
  }
}

}  // namespace
}  // namespace sy::router
