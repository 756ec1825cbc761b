#include "plan/plan.h"

#include <map>

#include <gtest/gtest.h>

#include "config/workload.h"
#include "plan/format.h"

namespace sy::plan {
namespace {

config::PriceList List(const char* input, const char* cached, const char* output) {
  config::PriceList list;
  list.input = *core::PricePerMTokens::Parse(input);
  if (cached != nullptr) list.cached_input = *core::PricePerMTokens::Parse(cached);
  list.output = *core::PricePerMTokens::Parse(output);
  return list;
}

// DESIGN.md's price table.
struct Prices {
  std::map<std::string, config::PriceSchedule, std::less<>> models;
  Prices() {
    config::PriceSchedule gpt;
    gpt.standard = List("5.00", nullptr, "30.00");
    gpt.batch = List("2.50", nullptr, "15.00");
    models["gpt-5.5"] = gpt;
    config::PriceSchedule pro;
    pro.standard = List("1.74", "0.17", "3.48");
    pro.windows.push_back({"off-peak", 16 * 60 + 30, 30, List("0.87", "0.09", "1.74")});
    models["deepseek-v4-pro"] = pro;
    config::PriceSchedule flash;
    flash.standard = List("0.14", "0.014", "0.28");
    flash.windows.push_back({"off-peak", 16 * 60 + 30, 30, List("0.07", "0.007", "0.14")});
    models["deepseek-v4-flash"] = flash;
  }

  // Models by name; "route" stands for a routing profile that sends samples containing "hard"
  // to gpt-5.5 and the rest to deepseek-v4-flash.
  Resolve Resolver() const {
    return [this](std::string_view target,
                  const config::WorkloadBucket& bucket) -> core::Result<std::vector<Pick>> {
      if (target == "route") {
        int64_t hard = 0;
        for (const std::string& s : bucket.samples) hard += s.find("hard") != s.npos ? 1 : 0;
        std::vector<Pick> picks;
        const int64_t easy = static_cast<int64_t>(bucket.samples.size()) - hard;
        if (easy > 0) {
          picks.push_back({"deepseek-v4-flash", &models.at("deepseek-v4-flash"), easy, easy});
        }
        if (hard > 0) picks.push_back({"gpt-5.5", &models.at("gpt-5.5"), hard, hard});
        return picks;
      }
      const auto it = models.find(target);
      if (it == models.end()) return core::MakeError(core::Errc::kNotFound, "unknown model");
      return std::vector<Pick>{{std::string(target), &it->second, 1, 0}};
    };
  }
};

config::Workload Parse(const std::string& yaml) {
  auto w = config::ParseWorkload(yaml, "test.yaml");
  EXPECT_TRUE(w.has_value()) << (w ? "" : w.error().message);
  return w ? *w : config::Workload{};
}

std::string Total(const config::Workload& w, size_t policy) {
  const Prices prices;
  auto plan = PricePolicy(w, w.policies.at(policy), prices.Resolver());
  EXPECT_TRUE(plan.has_value()) << (plan ? "" : plan.error().message);
  return plan ? plan->total.ToCents() : "";
}

// The issue's figures, checked by hand.
constexpr const char* kTwoBuckets = R"(
buckets:
  - {name: repetitive, input_tokens: 100000000, output_tokens: 20000000}
  - {name: hard, input_tokens: 30000000, output_tokens: 10000000}
policies:
  - {name: all-frontier, models: {"*": gpt-5.5}}
  - {name: cheap, models: {repetitive: deepseek-v4-flash, hard: gpt-5.5}}
  - {name: pro, models: {repetitive: deepseek-v4-pro, hard: gpt-5.5}}
)";

TEST(PlanTest, PricesTheIssuesHandCheckedTotals) {
  const config::Workload w = Parse(kTwoBuckets);
  EXPECT_EQ(Total(w, 0), "1550.00");  // 130M x 5 + 30M x 30
  EXPECT_EQ(Total(w, 1), "469.60");   // 100M x 0.14 + 20M x 0.28 + 450
  EXPECT_EQ(Total(w, 2), "693.60");   // 100M x 1.74 + 20M x 3.48 + 450
}

TEST(PlanTest, PricesCallsPerDay) {
  const config::Workload w = Parse(R"(
buckets:
  - name: chat
    calls_per_day: 1000000
    days: 30
    input_tokens_per_call: 1000
    output_tokens_per_call: 500
policies:
  - {name: frontier, models: {chat: gpt-5.5}}
  - {name: pro, models: {chat: deepseek-v4-pro}}
  - {name: flash, models: {chat: deepseek-v4-flash}}
)");
  EXPECT_EQ(w.buckets.at(0).input_tokens, 30'000'000'000);
  EXPECT_EQ(w.buckets.at(0).output_tokens, 15'000'000'000);
  EXPECT_EQ(Total(w, 0), "600000.00");
  EXPECT_EQ(Total(w, 1), "104400.00");
  EXPECT_EQ(Total(w, 2), "8400.00");
}

TEST(PlanTest, SharesUseTheirOwnPriceLists) {
  // 1M input (40% cached), 1M output on V4-Pro: half off-peak, where cached input is 0.09 (its
  // own list, not half of 0.17). Standard half: 0.5 x (0.6 x 1.74 + 0.4 x 0.17 + 3.48) = 2.296;
  // off-peak half: 0.5 x (0.6 x 0.87 + 0.4 x 0.09 + 1.74) = 1.149.
  const config::Workload w = Parse(R"(
buckets:
  - {name: b, input_tokens: 1000000, output_tokens: 1000000, cached_input_share: 0.4, off_peak_share: "0.5"}
policies:
  - {name: pro, models: {b: deepseek-v4-pro}}
  - {name: gpt, models: {b: gpt-5.5}}
)");
  const Prices prices;
  auto pro = PricePolicy(w, w.policies[0], prices.Resolver());
  ASSERT_TRUE(pro.has_value());
  EXPECT_EQ(pro->total.units(), static_cast<Int128>(3'445'000'000'000) * Amount::kPerPico);
  EXPECT_TRUE(pro->buckets[0].notes.empty());
  // gpt-5.5 has no off-peak list: priced standard, and said so.
  auto gpt = PricePolicy(w, w.policies[1], prices.Resolver());
  ASSERT_TRUE(gpt.has_value());
  EXPECT_EQ(gpt->total.ToCents(), "35.00");
  ASSERT_EQ(gpt->buckets[0].notes.size(), 1u);
  EXPECT_EQ(gpt->buckets[0].notes[0],
            "gpt-5.5 has no off-peak list: its off-peak share is priced standard");
}

TEST(PlanTest, BatchShareUsesTheBatchList) {
  // 30% of 10M in + 10M out on gpt-5.5's batch list (half price): 0.7 x 350 + 0.3 x 175.
  const config::Workload w = Parse(R"(
buckets: [{name: b, input_tokens: 10000000, output_tokens: 10000000, batch_share: 0.3}]
policies: [{name: p, models: {b: gpt-5.5}}, {name: f, models: {b: deepseek-v4-flash}}]
)");
  EXPECT_EQ(Total(w, 0), "297.50");
  const Prices prices;
  auto flash = PricePolicy(w, w.policies[1], prices.Resolver());
  ASSERT_TRUE(flash.has_value());
  EXPECT_EQ(flash->total.ToCents(), "4.20");
  EXPECT_EQ(flash->buckets[0].notes.at(0),
            "deepseek-v4-flash has no batch list: its batch share is priced standard");
}

TEST(PlanTest, FractionalTokensStayExact) {
  // 3 input tokens, a third... no: 1 token at 50% cached on flash = 0.5 x 0.14 + 0.5 x 0.014
  // micro-dollars = 0.077 micro-dollars: below a cent, but exact in the amount.
  const config::Workload w = Parse(R"(
buckets: [{name: b, input_tokens: 1, output_tokens: 0, cached_input_share: 0.5}]
policies: [{name: f, models: {b: deepseek-v4-flash}}]
)");
  const Prices prices;
  auto plan = PricePolicy(w, w.policies[0], prices.Resolver());
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->total.units(), static_cast<Int128>(77'000) * Amount::kPerPico);
  EXPECT_EQ(plan->total.ToCents(), "0.00");
  EXPECT_EQ(plan->total.ToString(), "0.000000077");
}

TEST(PlanTest, RoutedBucketsSplitTokensBySamples) {
  const config::Workload w = Parse(R"(
buckets:
  - name: mixed
    input_tokens: 10000000
    output_tokens: 1000001
    samples: ["easy one", "a hard one", "easy two"]
policies: [{name: routed, models: {mixed: route}}]
)");
  const Prices prices;
  auto plan = PricePolicy(w, w.policies[0], prices.Resolver());
  ASSERT_TRUE(plan.has_value());
  const BucketPlan& b = plan->buckets.at(0);
  ASSERT_EQ(b.parts.size(), 2u);
  EXPECT_EQ(b.parts[0].model, "deepseek-v4-flash");
  EXPECT_EQ(b.parts[0].samples, 2);
  EXPECT_EQ(b.parts[0].input_tokens, 6'666'667);  // largest remainder: 6,666,666.67
  EXPECT_EQ(b.parts[1].input_tokens, 3'333'333);
  EXPECT_EQ(b.parts[0].output_tokens + b.parts[1].output_tokens, 1'000'001);
  // 6,666,667 x 0.14 + 666,667 x 0.28 + 3,333,333 x 5 + 333,334 x 30 micro-dollars
  // = 0.93333338 + 0.18666676 + 16.666665 + 10.00002 = 27.78668514.
  EXPECT_EQ(b.parts[1].output_tokens, 333'334);
  EXPECT_EQ(plan->total.ToCents(), "27.79");
}

// 1000 buckets of 10^15 tokens each way, all on one model at `micro` micro-USD per million.
core::Result<PolicyPlan> PriceHuge(int64_t micro) {
  config::PriceSchedule huge;
  huge.standard.input = core::PricePerMTokens::FromMicro(micro);
  huge.standard.output = huge.standard.input;
  config::Workload w;
  for (int i = 0; i < 1000; ++i) {
    w.buckets.push_back({.name = "b" + std::to_string(i),
                         .input_tokens = config::kMaxTokens,
                         .output_tokens = config::kMaxTokens});
  }
  const config::WorkloadPolicy policy{.name = "p", .targets = {{"*", "huge"}}};
  const Resolve resolve = [&](std::string_view, const config::WorkloadBucket&) {
    return core::Result<std::vector<Pick>>(std::vector<Pick>{{"huge", &huge, 1, 0}});
  };
  return PricePolicy(w, policy, resolve);
}

TEST(PlanTest, AmountsTooLargeToHoldAreErrorsNotWrappedValues) {
  // One bucket's product does not fit.
  auto product = PriceHuge(INT64_MAX);
  ASSERT_FALSE(product.has_value());
  EXPECT_EQ(product.error().message,
            "policy p, bucket b0: too large to price exactly (amounts stop near 1.7 x 10^14 USD)");
  // Each bucket fits (2 x 10^13 USD), their sum does not.
  auto sum = PriceHuge(10'000'000'000);
  ASSERT_FALSE(sum.has_value());
  EXPECT_EQ(sum.error().message,
            "policy p: too large to price exactly (amounts stop near 1.7 x 10^14 USD)");
}

TEST(PlanTest, SplitTokensGivesEveryTokenOnce) {
  EXPECT_EQ(SplitTokens(10, {1, 1, 1}), (std::vector<int64_t>{4, 3, 3}));
  EXPECT_EQ(SplitTokens(0, {2, 5}), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(SplitTokens(7, {7}), (std::vector<int64_t>{7}));
  EXPECT_EQ(SplitTokens(100, {1, 2, 7}), (std::vector<int64_t>{10, 20, 70}));
  EXPECT_EQ(SplitTokens(1, {1, 3}), (std::vector<int64_t>{0, 1}));
}

TEST(PlanTest, ResolveErrorsNameThePolicyAndBucket) {
  const config::Workload w = Parse(R"(
buckets: [{name: b, input_tokens: 1, output_tokens: 1}]
policies: [{name: p, models: {b: kimi-k9}}]
)");
  const Prices prices;
  auto plan = PricePolicy(w, w.policies[0], prices.Resolver());
  ASSERT_FALSE(plan.has_value());
  EXPECT_EQ(plan.error().message, "policy p, bucket b: unknown model");
}

TEST(PlanTest, CentsRoundHalfAwayFromZero) {
  constexpr Int128 kCent = Amount::kPerPico * 10'000'000'000;
  EXPECT_EQ(Amount::FromUnits(kCent / 2).ToCents(), "0.01");
  EXPECT_EQ(Amount::FromUnits(kCent / 2 - 1).ToCents(), "0.00");
  EXPECT_EQ(Amount::FromUnits(-kCent / 2).ToCents(), "-0.01");
  EXPECT_EQ(Amount::FromUnits(-kCent / 2 + 1).ToCents(), "0.00");
  EXPECT_EQ(Amount::FromUnits(kCent * 123456).ToCents(), "1234.56");
  EXPECT_EQ(Amount::FromMoney(*core::Money::Parse("-12.345")).ToCents(), "-12.35");
  EXPECT_EQ(Amount::FromMoney(*core::Money::Parse("-12.345")).ToString(), "-12.345");
  EXPECT_EQ(Amount().ToString(), "0");
  EXPECT_EQ(Amount::FromUnits(1).ToString(), "0.000000000000000000000001");
}

TEST(PlanTest, SavingsPercent) {
  const Amount first = Amount::FromMoney(*core::Money::Parse("1550"));
  EXPECT_EQ(SavingsPercent(first, Amount::FromMoney(*core::Money::Parse("469.60"))), "69.7");
  EXPECT_EQ(SavingsPercent(first, first), "0.0");
  EXPECT_EQ(SavingsPercent(first, Amount::FromMoney(*core::Money::Parse("3100"))), "-100.0");
  EXPECT_EQ(SavingsPercent(Amount(), first), "-");
}

TEST(PlanTest, SelfHostBreakEven) {
  auto host = ParseSelfHost("8,2.50,2400");
  ASSERT_TRUE(host.has_value());
  const config::Workload w = Parse(kTwoBuckets);
  const Prices prices;
  auto plan = PricePolicy(w, w.policies[0], prices.Resolver());
  ASSERT_TRUE(plan.has_value());
  const BreakEven b = ComputeBreakEven(*host, *plan, WorkloadTokens(w));
  EXPECT_EQ(b.monthly_cost.ToCents(), "14600.00");            // 8 x 2.50 x 730
  EXPECT_EQ(b.monthly_capacity, int64_t{2400} * 3600 * 730);  // 6,307,200,000
  // 1550 USD over 160M tokens: 9.6875 USD per million; 14,600 / 9.6875 = 1,507.096...M tokens.
  EXPECT_EQ(b.api_price_per_million.ToCents(), "9.69");
  EXPECT_EQ(b.break_even, int64_t{1'507'096'775});
}

TEST(PlanTest, SelfHostArgumentErrors) {
  EXPECT_FALSE(ParseSelfHost("8,2.50").has_value());
  EXPECT_FALSE(ParseSelfHost("8,2.50,2400,1").has_value());
  EXPECT_FALSE(ParseSelfHost("0,2.50,2400").has_value());
  EXPECT_FALSE(ParseSelfHost("8,-1,2400").has_value());
  EXPECT_FALSE(ParseSelfHost("8,2.50,fast").has_value());
  EXPECT_EQ(ParseSelfHost("8,abc,2400").error().message,
            "--self-host 8,abc,2400: USD_PER_GPU_HOUR must be a positive decimal up to 100000 "
            "(expected GPUS,USD_PER_GPU_HOUR,TOKENS_PER_S, e.g. 8,2.50,2400)");
}

TEST(PlanFormatTest, JsonCarriesTotalsAndSavings) {
  const config::Workload w = Parse(kTwoBuckets);
  const Prices prices;
  PlanReport report{.workload_tokens = WorkloadTokens(w), .source = "test.yaml"};
  for (const auto& policy : w.policies)
    report.policies.push_back(*PricePolicy(w, policy, prices.Resolver()));
  const std::string json = FormatJson(report);
  EXPECT_NE(
      json.find(
          R"({"name":"cheap","total_usd":"469.60","total_exact_usd":"469.6","savings_usd":"1080.40")"),
      std::string::npos)
      << json;
  EXPECT_NE(
      json.find(
          R"({"model":"deepseek-v4-flash","input_tokens":100000000,"output_tokens":20000000,"cost_usd":"19.60","cost_exact_usd":"19.6"})"),
      std::string::npos)
      << json;
  const std::string table = FormatTable(report);
  EXPECT_NE(table.find("cheap            469.60      1080.40       69.7"), std::string::npos)
      << table;
  const std::string md = FormatMarkdown(report);
  EXPECT_NE(md.find("| cheap | 469.60 | 1080.40 | 69.7 |"), std::string::npos) << md;
}

}  // namespace
}  // namespace sy::plan
