// The `router` rule action: the built-in model scores the prompt, the threshold picks the side,
// the other side follows; and how Policy::Build loads the model and calibrates the threshold.
#include <array>
#include <charconv>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "core/prompt.h"
#include "routing/decide.h"
#include "routing/router_model.h"

namespace sy::routing {
namespace {

using namespace std::chrono_literals;

std::optional<std::string> NoEnv(std::string_view) { return std::nullopt; }

// Round prices so the budget calibration below is by hand.
std::string Yaml(std::string_view router) {
  return std::string(R"(
providers:
  us: {kind: openai, base_url: "http://127.0.0.1:1/v1"}
models:
  cheap: {provider: us, price: {input: "1", output: "2"}}
  mid: {provider: us, price: {input: "2", output: "4"}}
  big: {provider: us, price: {input: "11", output: "22"}}
aliases:
  both: [mid, big]
routing:
  profiles:
    auto:
      rules:
        - name: learned
          router: )") +
         std::string(router) + "\n";
}

struct Fixture {
  explicit Fixture(std::string_view router) {
    auto config = config::ParseConfig(Yaml(router), "t.yaml", &NoEnv);
    EXPECT_TRUE(config.has_value()) << config.error().message;
    catalog = *catalog::Catalog::Build(std::make_shared<const config::Config>(*std::move(config)));
    auto built = Policy::Build(*catalog);
    EXPECT_TRUE(built.has_value()) << built.error().message;
    if (built) policy = std::make_unique<Policy>(*std::move(built));
    health = std::make_unique<Health>(HealthFor(*catalog));
  }
  Decision Run(const core::Prompt& prompt) const {
    RouteRequest request;
    request.features.task_type = TaskType::kMath;
    request.features.prompt_tokens = 100;
    request.features.expected_output_tokens = 100;
    request.prompt = &prompt;
    auto target = Resolve("auto", *policy, *catalog);
    const auto noon = std::chrono::sys_days{std::chrono::year{2026} / 12 / 1} + 12h;
    return Decide(*target, request, *policy, *catalog, *health,
                  Now{noon, SteadyTime(std::chrono::seconds(1000))});
  }
  const RouterRule& Rule() const { return *policy->profiles().at(0).rules.at(0).router; }

  std::shared_ptr<const catalog::Catalog> catalog;
  std::unique_ptr<Policy> policy;
  std::unique_ptr<Health> health;
};

std::vector<std::string> Kept(const Decision& d) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < d.kept; ++i) ids.push_back(d.candidates[i].model->id);
  return ids;
}

const core::Prompt kMath =
    core::SingleUserPrompt("Solve for x: 3x^2 - 12x + 9 = 0. Show each step.");

TEST(RouterRuleTest, AtOrAboveTheThresholdTheStrongSideThenTheWeak) {
  Fixture f("{model: builtin:routellm-gpt4-mixtral, strong: big, weak: cheap, threshold: 0}");
  const Decision d = f.Run(kMath);
  ASSERT_TRUE(d.router.has_value());
  const double score =
      f.Rule().model->Score(kMath, static_cast<int>(TaskType::kMath));  // what Decide asked
  EXPECT_EQ(d.router->score, score);
  // The shipped model's score for this prompt, to four places: a model that scored everything
  // alike would pass the rest of this file.
  EXPECT_NEAR(score, 0.51605, 0.00005);
  EXPECT_TRUE(d.router->strong);
  EXPECT_EQ(Kept(d), (std::vector<std::string>{"big", "cheap"}));
  EXPECT_EQ(d.candidates[0].reason, "router strong step 1");
  EXPECT_EQ(d.candidates[1].reason, "router fallback weak step 1");
  EXPECT_EQ(RouteHeader(d),
            "profile=auto; rule=learned; task=math; router=" + RouterVerdictText(*d.router));
  EXPECT_EQ(f.Rule().calibration, "threshold 0.0000");
}

TEST(RouterRuleTest, BelowTheThresholdTheWeakSideThenTheStrong) {
  Fixture f("{model: builtin:routellm-gpt4-mixtral, strong: big, weak: cheap, threshold: 1}");
  const Decision d = f.Run(kMath);
  ASSERT_TRUE(d.router.has_value());
  ASSERT_LT(d.router->score, 1.0);
  EXPECT_FALSE(d.router->strong);
  EXPECT_EQ(Kept(d), (std::vector<std::string>{"cheap", "big"}));
  EXPECT_EQ(d.candidates[0].reason, "router weak step 1");
}

// The verdict's numbers are printed by integer arithmetic in [0, 1]: the same digits as
// printf's "%.4f", exact ties (k / 32) rounded to even, the ends and a sweep included.
TEST(RouterRuleTest, VerdictNumbersAreTheDigitsOfPrintfsFourDecimals) {
  auto printf4 = [](double v) {
    std::array<char, 32> buf{};
    auto [end, ec] =
        std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed, 4);
    return std::string(buf.data(), end);
  };
  std::vector<double> values = {0.0,     1.0,     0.5,       0.03125,  0.09375,  0.15625,
                                0.96875, 0.00005, 0.999949,  0.99995,  0.999951, 0.73415,
                                0.4120,  1e-300,  0.0312499, 0.0312501};
  values.push_back(std::nextafter(1.0, 0.0));
  values.push_back(std::nextafter(0.03125, 0.0));
  values.push_back(std::nextafter(0.03125, 1.0));
  for (int k = 0; k <= 20'000; ++k) values.push_back(k / 20'000.0);  // every tie at 4 decimals
  std::mt19937_64 random(7);
  for (int i = 0; i < 20'000; ++i) values.push_back(std::generate_canonical<double, 53>(random));
  for (const double v : values) {
    const std::string text = RouterVerdictText({.score = v, .threshold = 1 - v, .strong = false});
    EXPECT_EQ(text, printf4(v) + "<" + printf4(1 - v) + " weak") << std::hexfloat << v;
  }
  // Outside [0, 1] (a threshold never is; scores neither) it falls back to to_chars itself.
  EXPECT_EQ(RouterVerdictText({.score = 1.5, .threshold = -0.25, .strong = true}),
            "1.5000>=-0.2500 strong");
}

TEST(RouterRuleTest, VerdictTextIsFixedPrecision) {
  EXPECT_EQ(RouterVerdictText({.score = 0.73412, .threshold = 0.412, .strong = true}),
            "0.7341>=0.4120 strong");
  EXPECT_EQ(RouterVerdictText({.score = 0.1, .threshold = 0.412, .strong = false}),
            "0.1000<0.4120 weak");
  // Rounded as printf rounds; the threshold above every score (a 0% strong share) shows as 1.
  EXPECT_EQ(RouterVerdictText({.score = 0.99996, .threshold = std::nextafter(1.0, 2.0)}),
            "1.0000<1.0000 weak");
  EXPECT_EQ(RouterVerdictText({.score = 0.00004, .threshold = 0.0, .strong = true}),
            "0.0000>=0.0000 strong");
}

// An alias side expands in place; a model on both sides is tried once, where the verdict put it.
TEST(RouterRuleTest, AnAliasSideExpandsAndAModelOnBothSidesIsTriedOnce) {
  Fixture f("{model: builtin:routellm-gpt4-mixtral, strong: both, weak: mid, threshold: 0}");
  const Decision d = f.Run(kMath);
  EXPECT_EQ(Kept(d), (std::vector<std::string>{"mid", "big"}));
  EXPECT_EQ(d.candidates.back().model->id, "mid");
  EXPECT_EQ(d.candidates.back().constraint, "duplicate");
}

TEST(RouterRuleTest, ATargetShareIsTheModelsQuantile) {
  Fixture f(
      "{model: builtin:routellm-gpt4-mixtral, strong: big, weak: cheap, target_strong_share: "
      "0.3}");
  EXPECT_EQ(f.Rule().threshold, f.Rule().model->ThresholdForShare(0.3));
  EXPECT_NEAR(f.Rule().model->ShareAtThreshold(f.Rule().threshold), 0.3, 0.01);
  EXPECT_EQ(f.Rule().calibration, "target_strong_share 0.3000");
}

// Per request at the model's mean prompt length P and 500 output tokens: cheap costs
// (P + 1000) / 1e6 USD and big 11 times that; a budget of 3 x cheap's per 1,000 requests is
// a strong share of (3 - 1) / (11 - 1) = 0.2.
TEST(RouterRuleTest, ABudgetIsTheStrongShareWhoseMixSpendsIt) {
  auto model = LoadRouterModel("builtin:routellm-gpt4-mixtral");
  ASSERT_TRUE(model.has_value()) << model.error().message;
  const auto tokens = static_cast<int64_t>(std::llround((*model)->metadata().mean_prompt_tokens));
  const int64_t cheap_pico = (tokens + 1000) * 1'000'000;  // 1 USD/M in, 2 USD/M out
  const std::string budget = core::Money::FromPico(3 * cheap_pico * 1000).ToString();
  Fixture f(
      "{model: builtin:routellm-gpt4-mixtral, strong: big, weak: cheap, "
      "budget_usd_per_1k_requests: \"" +
      budget + "\"}");
  EXPECT_EQ(f.Rule().calibration, "budget_usd_per_1k_requests " + budget + ": strong share 0.2000");
  EXPECT_EQ(f.Rule().threshold, f.Rule().model->ThresholdForShare(0.2));
}

// Three `cheap` requests' cost per 1,000 requests (ABudgetIsTheStrongShareWhoseMixSpendsIt).
std::string ThreeCheapRequests() {
  auto model = LoadRouterModel("builtin:routellm-gpt4-mixtral");
  EXPECT_TRUE(model.has_value()) << model.error().message;
  const auto tokens =
      model ? static_cast<int64_t>(std::llround((*model)->metadata().mean_prompt_tokens)) : 0;
  return core::Money::FromPico(3 * (tokens + 1000) * 1'000'000 * 1000).ToString();
}

std::string BudgetRule(const std::string& budget) {
  return "{model: builtin:routellm-gpt4-mixtral, strong: big, weak: cheap, "
         "budget_usd_per_1k_requests: \"" +
         budget + "\"}";
}

// The calibration the router rule `router` gets in Yaml's config with the model line `from`
// replaced by `to`.
std::string CalibrationWith(const std::string& router, const std::string& from,
                            const std::string& to) {
  std::string yaml = Yaml(router);
  yaml.replace(yaml.find(from), from.size(), to);
  auto config = config::ParseConfig(yaml, "t.yaml", &NoEnv);
  EXPECT_TRUE(config.has_value()) << config.error().message;
  if (!config) return "";
  auto catalog =
      *catalog::Catalog::Build(std::make_shared<const config::Config>(*std::move(config)));
  auto policy = Policy::Build(*catalog);
  EXPECT_TRUE(policy.has_value()) << policy.error().message;
  return policy ? policy->profiles().at(0).rules.at(0).router->calibration : "";
}

// A time window must not move a static threshold: priced at start, it depended on the minute
// the replica started (DeepSeek's off-peak) and held all day. Here `cheap` is at a tenth of its
// list all day long, and the share is still the standard lists' 0.2.
TEST(RouterRuleTest, ABudgetIsCalibratedAtTheStandardListsWhateverTheWindowInForce) {
  const std::string budget = ThreeCheapRequests();
  const std::string calibration = CalibrationWith(
      BudgetRule(budget), R"(cheap: {provider: us, price: {input: "1", output: "2"}})",
      R"(cheap: {provider: us, price: {input: "1", output: "2", windows: [{name: all-day, )"
      R"(start: "00:00", end: "23:59", input: "0.1", output: "0.2"}, {name: last-minute, )"
      R"(start: "23:59", end: "00:00", input: "0.1", output: "0.2"}]}})");
  EXPECT_EQ(calibration, "budget_usd_per_1k_requests " + budget + ": strong share 0.2000");
}

// Each side is priced at its dearest deployment, as routing prices a candidate: `big` also runs
// on a copy at 21 times cheap's prices, so the same budget buys (3 - 1) / (21 - 1) = 0.1. At
// the list price (11 times) it bought 0.2, and the copy's requests spent past the budget.
TEST(RouterRuleTest, ABudgetIsCalibratedAtEachSidesDearestDeployment) {
  const std::string budget = ThreeCheapRequests();
  const std::string calibration = CalibrationWith(
      BudgetRule(budget), R"(big: {provider: us, price: {input: "11", output: "22"}})",
      R"(big: {deployments: [{provider: us}, {provider: us, name: dear, price: {input: "21", )"
      R"(output: "42"}}], price: {input: "11", output: "22"}})");
  EXPECT_EQ(calibration, "budget_usd_per_1k_requests " + budget + ": strong share 0.1000");
}

TEST(RouterRuleTest, BudgetsOutsideTheTwoSidesClampToOneSide) {
  Fixture rich(
      "{model: builtin:routellm-gpt4-mixtral, strong: big, weak: cheap, "
      "budget_usd_per_1k_requests: \"1000\"}");
  EXPECT_EQ(rich.Rule().threshold, rich.Rule().model->ThresholdForShare(1.0));
  Fixture poor(
      "{model: builtin:routellm-gpt4-mixtral, strong: big, weak: cheap, "
      "budget_usd_per_1k_requests: \"0\"}");
  EXPECT_EQ(poor.Rule().threshold, poor.Rule().model->ThresholdForShare(0.0));
}

// `calibration: live`: the training threshold until warmed up, then the quantile of the scores
// the gateway reported (ObserveRouterScore), which Decide uses from the next request on.
TEST(RouterRuleTest, ALiveShareMovesTheThresholdWithTheScoresServed) {
  Fixture f(
      "{model: builtin:routellm-gpt4-mixtral, strong: big, weak: cheap, target_strong_share: "
      "0.25, calibration: live, calibration_window: 100}");
  const RouterRule& rule = f.Rule();
  ASSERT_NE(rule.live, nullptr);
  EXPECT_EQ(rule.calibration, "target_strong_share 0.2500, held live over 100 requests");
  EXPECT_EQ(rule.ThresholdInForce(), rule.model->ThresholdForShare(0.25));
  const Decision first = f.Run(kMath);
  ASSERT_TRUE(first.router.has_value());
  const double score = first.router->score;
  EXPECT_EQ(first.router->threshold, rule.threshold);
  ObserveRouterScore(first);
  EXPECT_EQ(rule.live->seen(), 1);

  // Traffic that scores far below this prompt: the prompt is now in the strong quarter.
  for (int i = 1; i < 100; ++i) rule.live->Observe(score / 2);
  EXPECT_LT(rule.ThresholdInForce(), score);
  const Decision low = f.Run(kMath);
  EXPECT_TRUE(low.router->strong);
  EXPECT_EQ(low.router->threshold, rule.ThresholdInForce());
  // Traffic that scores above it, for a few windows: now it is not.
  for (int i = 0; i < 400; ++i) rule.live->Observe((1 + score) / 2);
  EXPECT_GT(rule.ThresholdInForce(), score);
  EXPECT_FALSE(f.Run(kMath).router->strong);
}

// A live budget starts from the estimate ABudgetIsTheStrongShareWhoseMixSpendsIt pins, and
// prices the usage of the requests the gateway reports (ObserveRouterUsage) instead.
TEST(RouterRuleTest, ALiveBudgetPricesTheUsageOfTheRequestsServed) {
  auto model = LoadRouterModel("builtin:routellm-gpt4-mixtral");
  ASSERT_TRUE(model.has_value()) << model.error().message;
  const auto tokens = static_cast<int64_t>(std::llround((*model)->metadata().mean_prompt_tokens));
  const int64_t cheap_pico = (tokens + 1000) * 1'000'000;
  const std::string budget = core::Money::FromPico(3 * cheap_pico * 1000).ToString();
  Fixture f(
      "{model: builtin:routellm-gpt4-mixtral, strong: big, weak: cheap, "
      "budget_usd_per_1k_requests: \"" +
      budget + "\", calibration: live, calibration_window: 100}");
  const RouterRule& rule = f.Rule();
  ASSERT_NE(rule.live, nullptr);
  EXPECT_EQ(rule.calibration, "budget_usd_per_1k_requests " + budget +
                                  ": strong share 0.2000, held live over 100 requests");
  EXPECT_DOUBLE_EQ(rule.live->share(), 0.2);
  EXPECT_EQ(rule.live->mean_usage()->input_tokens, tokens);
  EXPECT_EQ(rule.live->mean_usage()->output_tokens, 500);

  // Requests with half the estimate's tokens, prompt and output: both sides cost half as much,
  // so the budget buys (3 - 0.5) / (5.5 - 0.5) = 0.5 once the estimate has faded.
  const Decision d = f.Run(kMath);
  ASSERT_TRUE(d.router.has_value());
  core::Usage half;
  half.input_tokens = tokens / 2;
  half.output_tokens = 250;
  half.reported = true;
  for (int i = 0; i < 400; ++i) {
    ObserveRouterScore(d);
    ObserveRouterUsage(d, half);
  }
  EXPECT_NEAR(static_cast<double>(rule.live->mean_usage()->output_tokens), 250,
              10);  // the estimate has faded
  EXPECT_NEAR(rule.live->share(), 0.5, 0.02);
}

TEST(RouterRuleTest, ATrainingCalibrationOrAGivenThresholdHasNoLiveState) {
  Fixture training(
      "{model: builtin:routellm-gpt4-mixtral, strong: big, weak: cheap, target_strong_share: "
      "0.25}");
  EXPECT_EQ(training.Rule().live, nullptr);
  const Decision d = training.Run(kMath);
  ObserveRouterScore(d);  // no live calibration: nothing to feed, nothing moves
  EXPECT_EQ(training.Run(kMath).router->threshold, training.Rule().threshold);
  Fixture given("{model: builtin:routellm-gpt4-mixtral, strong: big, weak: cheap, threshold: 0.6}");
  EXPECT_EQ(given.Rule().live, nullptr);
  ObserveRouterScore(given.Run(kMath));
  EXPECT_EQ(given.Run(kMath).router->threshold, 0.6);
}

// Rules naming the same model file share one loaded copy: it is read and checked once.
TEST(RouterRuleTest, RulesNamingOneModelShareIt) {
  Fixture f(
      "{model: builtin:routellm-gpt4-mixtral, strong: big, weak: cheap, threshold: 0.5}\n"
      "          when: {task: [math]}\n"
      "        - name: default\n"
      "          router: {model: builtin:routellm-gpt4-mixtral, strong: mid, weak: cheap, "
      "threshold: 0.2}");
  const auto& rules = f.policy->profiles().at(0).rules;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].router->model.get(), rules[1].router->model.get());
  EXPECT_EQ(rules[1].router->threshold, 0.2);
}

TEST(RouterRuleTest, AModelThatCannotBeLoadedFailsTheBuildNamingIt) {
  for (const std::string_view location : {"/nonexistent/router.syr", "builtin:no-such-model"}) {
    auto config = config::ParseConfig(
        Yaml("{model: " + std::string(location) + ", strong: big, weak: cheap, threshold: 0.5}"),
        "t.yaml", &NoEnv);
    ASSERT_TRUE(config.has_value()) << config.error().message;
    auto catalog =
        *catalog::Catalog::Build(std::make_shared<const config::Config>(*std::move(config)));
    auto built = Policy::Build(*catalog);
    ASSERT_FALSE(built.has_value()) << location;
    EXPECT_EQ(built.error().code, core::Errc::kInvalidRequest);
    const std::string& message = built.error().message;
    EXPECT_EQ(message.rfind("routing.profiles.auto.rules[0].router.model: ", 0), 0u) << message;
    EXPECT_NE(message.find(location), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace sy::routing
