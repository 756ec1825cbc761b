// Table-style tests of routing::Decide over a small catalog: every rule kind, every constraint,
// off-peak estimates, cool-downs, and the messages a client sees.
#include "routing/decide.h"

#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace sy::routing {
namespace {

using namespace std::chrono_literals;

std::optional<std::string> NoEnv(std::string_view) { return std::nullopt; }

// cheap: economy, no vision, 128K; mid: standard, vision, window unknown; big: frontier, 1M;
// eu: standard, in the EU. Prices per M tokens are round so the estimates below are by hand.
constexpr std::string_view kYaml = R"(
providers:
  us: {kind: openai, base_url: "http://127.0.0.1:1/v1", region: us}
  eu: {kind: openai, base_url: "http://127.0.0.1:1/v1", region: eu, residency: [eu]}
models:
  cheap:
    provider: us
    tier: economy
    context_window: 128000
    capabilities: [tools, json_schema]
    price:
      input: "0.10"
      output: "0.40"
      windows: [{name: off-peak, start: "16:30", end: "00:30", input: "0.05", output: "0.20"}]
  mid:
    provider: us
    capabilities: [tools, json_schema, vision]
    quality: {scores: {code: 0.8, factual: 0.5}, example: true}
    price: {input: "1", output: "4"}
  big:
    provider: us
    tier: frontier
    context_window: 1000000
    max_output_tokens: 32000
    capabilities: [tools, json_schema, vision, reasoning]
    hallucination: {rate: 0.36, source: test}
    quality: {scores: {code: 0.95, factual: 0.9}, example: true}
    price: {input: "5", output: "25"}
  eu:
    provider: eu
    capabilities: [tools]
    price: {input: "2", output: "6"}
aliases:
  team: [cheap, mid]
routing:
  profiles:
    auto:
      rules:
        - name: code
          when: {task: [code]}
          chain: [cheap, {model: mid, max_cost_per_1k: "0.002"}, big]
        - name: facts
          when: {task: [factual], tags: [premium]}
          cheapest: {min_quality: 0.9, top: 2}
        - name: facts-by-rate
          when: {task: [factual]}
          cheapest: {rank_by: hallucination_rate}
        - name: tiered
          when: {task: [math]}
          cheapest: {min_tier: standard, top: 2}
        - name: default
          chain: [team, big]
    strict:
      rules:
        - name: eu-only
          cheapest: {residency: [eu]}
)";

struct Fixture {
  explicit Fixture(std::string_view yaml = kYaml) {
    auto config = config::ParseConfig(yaml, "t.yaml", &NoEnv);
    EXPECT_TRUE(config.has_value()) << config.error().message;
    catalog = *catalog::Catalog::Build(std::make_shared<const config::Config>(*std::move(config)));
    policy = std::make_unique<Policy>(*Policy::Build(*catalog));
    health = std::make_unique<Health>(HealthFor(*catalog));
  }
  Decision Run(std::string_view model, const RouteRequest& request,
               std::chrono::system_clock::time_point wall = Noon()) const {
    auto target = Resolve(model, *policy, *catalog);
    EXPECT_TRUE(target.has_value()) << target.error().message;
    return Decide(*target, request, *policy, *catalog, *health, Now{wall, steady});
  }
  // The health slot of the model's first deployment.
  size_t Slot(std::string_view model) const {
    return catalog->DeploymentsOf(*catalog->FindModel(model)).front().slot;
  }
  static std::chrono::system_clock::time_point Noon() {
    return std::chrono::sys_days{std::chrono::year{2026} / 12 / 1} + 12h;
  }
  std::shared_ptr<const catalog::Catalog> catalog;
  std::unique_ptr<Policy> policy;
  std::unique_ptr<Health> health;
  SteadyTime steady{std::chrono::seconds(1000)};
};

RouteRequest Request(TaskType type, int64_t prompt = 1000, int64_t expected = 200) {
  RouteRequest r;
  r.features.task_type = type;
  r.features.prompt_tokens = prompt;
  r.features.expected_output_tokens = expected;
  r.features.max_output_tokens = 1000;
  return r;
}

std::vector<std::string> Kept(const Decision& d) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < d.kept; ++i) ids.push_back(d.candidates[i].model->id);
  return ids;
}

const Candidate& Find(const Decision& d, std::string_view id) {
  for (const auto& c : d.candidates) {
    if (c.model->id == id) return c;
  }
  ADD_FAILURE() << "no candidate " << id;
  return d.candidates.front();
}

using Ids = std::vector<std::string>;

TEST(DecideTest, FirstMatchingRuleAndItsChainInOrder) {
  Fixture f;
  const Decision d = f.Run("auto", Request(TaskType::kCode));
  EXPECT_EQ(d.profile, "auto");
  EXPECT_EQ(d.rule, "code");
  EXPECT_EQ(Kept(d), (Ids{"cheap", "mid", "big"}));
  EXPECT_EQ(d.candidates[0].reason, "chain step 1");
  EXPECT_EQ(RouteHeader(d), "profile=auto; rule=code; task=code");
}

TEST(DecideTest, EstimatesAreExactAtTheListInForce) {
  Fixture f;
  // cheap at noon: 1000 x 0.10 + 200 x 0.40 per M = 0.00018; worst case 1000 output: 0.0005.
  const Decision noon = f.Run("auto", Request(TaskType::kCode));
  EXPECT_EQ(Find(noon, "cheap").estimated_cost.ToString(), "0.00018");
  EXPECT_EQ(Find(noon, "cheap").worst_case_cost.ToString(), "0.0005");
  // 17:00 UTC is off-peak: 1000 x 0.05 + 200 x 0.20 per M.
  const Decision evening = f.Run("auto", Request(TaskType::kCode), Fixture::Noon() + 5h);
  EXPECT_EQ(Find(evening, "cheap").estimated_cost.ToString(), "0.00009");
  // big: 1000 x 5 + 200 x 25 per M = 0.01.
  EXPECT_EQ(Find(noon, "big").estimated_cost.ToString(), "0.01");
}

// OpenAI's n asks for n answers, each billed its output: the estimates and the worst case (what
// budgets reserve and x-switchyard-max-cost-usd compares) count every one.
TEST(DecideTest, EstimatesCountEveryAnswerAskedFor) {
  Fixture f;
  RouteRequest four = Request(TaskType::kCode);
  four.features.choices = 4;
  const Decision d = f.Run("auto", four);
  // cheap at noon: 1000 x 0.10 + 4 x 200 x 0.40 per M; worst case 1000 x 0.10 + 4 x 1000 x 0.40.
  EXPECT_EQ(Find(d, "cheap").estimated_cost.ToString(), "0.00042");
  EXPECT_EQ(Find(d, "cheap").worst_case_cost.ToString(), "0.0017");
  RouteRequest huge = Request(TaskType::kCode);
  huge.features.choices = int64_t{1} << 40;
  huge.features.max_output_tokens = int64_t{1} << 40;
  EXPECT_GT(Find(f.Run("auto", huge), "cheap").worst_case_cost, Find(d, "cheap").worst_case_cost);
}

// max_tokens is the client's figure, up to int64's largest: the window check must not overflow.
TEST(DecideTest, TheLargestOutputCapIsOverEveryContextWindow) {
  Fixture f;
  RouteRequest r = Request(TaskType::kCode);
  r.features.max_output_tokens = std::numeric_limits<int64_t>::max();
  const Decision d = f.Run("auto", r);
  EXPECT_EQ(d.kept, 0u);
  EXPECT_EQ(Find(d, "cheap").constraint, "context_window");
}

TEST(DecideTest, StepCostPer1kDropsOnlyThatStep) {
  Fixture f;
  // mid: 1000 x 1 + 1000 x 4 per M = 0.005 over 2000 tokens = 0.0025 per 1K > 0.002.
  const Decision d = f.Run("auto", Request(TaskType::kCode, 1000, 1000));
  EXPECT_EQ(Kept(d), (Ids{"cheap", "big"}));
  const Candidate& mid = Find(d, "mid");
  EXPECT_FALSE(mid.kept);
  EXPECT_EQ(mid.constraint, "max_cost_per_1k");
  EXPECT_EQ(mid.reason, "0.0025 USD per 1K tokens > max_cost_per_1k 0.002");
  // Input-heavy: 0.0015 per 1K is within it.
  EXPECT_EQ(Kept(f.Run("auto", Request(TaskType::kCode, 1000, 200))), (Ids{"cheap", "mid", "big"}));
}

TEST(DecideTest, ContextWindowSkipsSmallModelsForAHugePrompt) {
  Fixture f;
  const Decision d = f.Run("auto", Request(TaskType::kCode, 300'000));
  EXPECT_EQ(Kept(d), (Ids{"big"}));
  EXPECT_EQ(Find(d, "cheap").constraint, "context_window");
  EXPECT_EQ(Find(d, "cheap").reason, "context window 128000 < ~300000 prompt + 1000 output tokens");
  // mid has no configured window: routing.assumed_context_window (128K) stands in.
  EXPECT_EQ(Find(d, "mid").reason,
            "context window 128000 (assumed) < ~300000 prompt + 1000 output tokens");
}

TEST(DecideTest, ContextWindowCountsTheModelsMaxOutputWhenTheRequestGivesNone) {
  Fixture f;
  RouteRequest r = Request(TaskType::kCode, 970'000);
  r.features.max_output_tokens = 0;  // big's max_output_tokens (32000) is assumed
  const Decision d = f.Run("auto", r);
  EXPECT_EQ(d.kept, 0u);
  EXPECT_EQ(Find(d, "big").reason, "context window 1000000 < ~970000 prompt + 32000 output tokens");
  EXPECT_EQ(NoCandidateError(d).message,
            "no model satisfies context_window: big: context window 1000000 < ~970000 prompt + "
            "32000 output tokens");
}

TEST(DecideTest, CapabilitiesTheRequestNeeds) {
  struct Case {
    const char* name;
    void (*set)(Features&);
    Ids kept;
  };
  const Case cases[] = {
      {"images need vision", [](Features& x) { x.images = 1; }, {"mid", "big"}},
      {"tools", [](Features& x) { x.tools = true; }, {"cheap", "mid", "big"}},
      {"json_schema", [](Features& x) { x.json_schema = true; }, {"cheap", "mid", "big"}},
  };
  Fixture f;
  for (const Case& c : cases) {
    RouteRequest r = Request(TaskType::kCode);
    c.set(r.features);
    EXPECT_EQ(Kept(f.Run("auto", r)), c.kept) << c.name;
  }
  RouteRequest r = Request(TaskType::kCode);
  r.features.images = 2;
  EXPECT_EQ(Find(f.Run("auto", r), "cheap").reason, "lacks capability vision");
}

TEST(DecideTest, CostCeilingDropsDearModelsAndNamesTheCheapest) {
  Fixture f;
  RouteRequest r = Request(TaskType::kCode);
  r.max_cost = *core::Money::Parse("0.003");
  // Worst cases: cheap 0.0005, mid 0.005, big 0.03.
  const Decision d = f.Run("auto", r);
  EXPECT_EQ(Kept(d), (Ids{"cheap"}));
  EXPECT_EQ(Find(d, "big").reason, "worst case 0.03 USD > x-switchyard-max-cost-usd 0.003");
  r.max_cost = *core::Money::Parse("0.0001");
  const Decision none = f.Run("auto", r);
  ASSERT_EQ(none.kept, 0u);
  const core::Error e = NoCandidateError(none);
  EXPECT_EQ(e.code, core::Errc::kInvalidRequest);
  EXPECT_EQ(e.param, "x-switchyard-max-cost-usd");
  EXPECT_EQ(e.message,
            "no model satisfies x-switchyard-max-cost-usd=0.0001: cheapest candidate cheap "
            "estimated 0.0005");
}

TEST(DecideTest, NoCandidateNamesTheRequestsConstraintBeforeTheRules) {
  Fixture f;
  // facts-by-rate keeps only big (the others have no rate); the ceiling then drops big.
  RouteRequest r = Request(TaskType::kFactual);
  r.max_cost = *core::Money::Parse("0.001");
  const Decision d = f.Run("auto", r);
  ASSERT_EQ(d.kept, 0u);
  EXPECT_EQ(NoCandidateError(d).message,
            "no model satisfies x-switchyard-max-cost-usd=0.001: cheapest candidate big "
            "estimated 0.03");
  r.max_cost.reset();
  r.features.prompt_tokens = 2'000'000;
  EXPECT_EQ(NoCandidateError(f.Run("auto", r)).message,
            "no model satisfies context_window: big: context window 1000000 < ~2000000 prompt + "
            "1000 output tokens");
}

TEST(DecideTest, CheapestByHallucinationRateDropsModelsWithoutAFigure) {
  Fixture f;
  const Decision d = f.Run("auto", Request(TaskType::kFactual));
  EXPECT_EQ(d.rule, "facts-by-rate");
  EXPECT_EQ(Kept(d), (Ids{"big"}));
  EXPECT_EQ(Find(d, "cheap").constraint, "hallucination_rate");
  EXPECT_EQ(d.candidates[0].reason, "cheapest #1 by hallucination rate");
}

TEST(DecideTest, TagsSelectARuleAndMinQualityIsPerTaskType) {
  Fixture f;
  RouteRequest r = Request(TaskType::kFactual);
  r.tags = {"team=search", "premium"};
  const Decision d = f.Run("auto", r);
  EXPECT_EQ(d.rule, "facts");
  EXPECT_EQ(Kept(d), (Ids{"big"}));
  EXPECT_EQ(Find(d, "mid").reason, "quality 0.5 for factual (min_quality 0.9)");
  EXPECT_EQ(Find(d, "cheap").reason, "no quality figure for factual (min_quality 0.9)");
}

TEST(DecideTest, MinTierThenCheapestFirstThenTop) {
  Fixture f;
  const Decision d = f.Run("auto", Request(TaskType::kMath));
  EXPECT_EQ(d.rule, "tiered");
  EXPECT_EQ(Kept(d), (Ids{"mid", "eu"}));  // standard or stronger, by estimated cost
  EXPECT_EQ(Find(d, "cheap").constraint, "min_tier");
  EXPECT_EQ(Find(d, "big").constraint, "top");
  EXPECT_EQ(Find(d, "big").reason, "not in the top 2 by estimated cost");
  EXPECT_EQ(d.candidates[1].reason, "cheapest #2 by estimated cost");
}

TEST(DecideTest, ResidencyInACheapestRule) {
  Fixture f;
  const Decision d = f.Run("auto:strict", Request(TaskType::kChat));
  EXPECT_EQ(d.profile, "strict");
  EXPECT_EQ(Kept(d), (Ids{"eu"}));
  EXPECT_EQ(Find(d, "cheap").reason, "provider us lacks residency eu");
}

TEST(DecideTest, DefaultRuleExpandsAnAliasStep) {
  Fixture f;
  const Decision d = f.Run("auto", Request(TaskType::kChat));
  EXPECT_EQ(d.rule, "default");
  EXPECT_EQ(Kept(d), (Ids{"cheap", "mid", "big"}));
  EXPECT_EQ(d.candidates[1].reason, "chain step 2 (alias team)");
}

TEST(DecideTest, ModelsAndAliasesObeyTheConstraintsToo) {
  Fixture f;
  RouteRequest r = Request(TaskType::kChat);
  r.features.images = 1;
  const Decision alias = f.Run("team", r);
  EXPECT_EQ(alias.profile, "");
  EXPECT_EQ(alias.rule, "alias team");
  EXPECT_EQ(Kept(alias), (Ids{"mid"}));
  EXPECT_EQ(alias.candidates[0].reason, "alias team, #2");
  EXPECT_EQ(RouteHeader(alias), "profile=none; rule=alias team; task=chat");
  const Decision model = f.Run("cheap", r);
  EXPECT_EQ(model.rule, "model cheap");
  EXPECT_EQ(model.kept, 0u);
  EXPECT_EQ(NoCandidateError(model).message,
            "no model satisfies capability: cheap: lacks capability vision");
}

TEST(DecideTest, AllowedRegionsLimitEveryRoute) {
  std::string yaml(kYaml);
  yaml.replace(yaml.find("routing:\n"), 9, "routing:\n  allowed_regions: [eu]\n");
  Fixture f(yaml);
  const Decision d = f.Run("auto", Request(TaskType::kChat));
  EXPECT_EQ(d.kept, 0u);
  EXPECT_EQ(Find(d, "cheap").reason, "region us not in routing.allowed_regions [eu]");
  EXPECT_EQ(Kept(f.Run("eu", Request(TaskType::kChat))), (Ids{"eu"}));
}

TEST(DecideTest, CoolingModelsKeepTheirPlaceSoTheChainRecordsTheSkip) {
  Fixture f;
  f.health->NoteRetryAfter(f.Slot("cheap"), f.steady, 12s);
  const Decision d = f.Run("auto", Request(TaskType::kCode));
  EXPECT_EQ(Kept(d), (Ids{"cheap", "mid", "big"}));
  EXPECT_TRUE(d.candidates[0].cooling);
  EXPECT_FALSE(d.candidates[1].cooling);
  EXPECT_EQ(d.candidates[0].reason,
            "chain step 1; cooling down for 12 s: skipped while another candidate remains");
}

TEST(DecideTest, RequestConstraintsApplyBeforeACheapestRulesTop) {
  Fixture f;
  // math: standard or stronger, top 2 by cost = mid, eu. A ceiling that drops eu leaves only
  // mid: big, the next by cost, is dearer still.
  RouteRequest r = Request(TaskType::kMath);
  r.max_cost = *core::Money::Parse("0.0075");  // worst cases: mid 0.005, eu 0.008, big 0.03
  const Decision d = f.Run("auto", r);
  EXPECT_EQ(Kept(d), (Ids{"mid"}));
  r.max_cost = *core::Money::Parse("0.01");
  EXPECT_EQ(Kept(f.Run("auto", r)), (Ids{"mid", "eu"}));
  r.features.images = 1;  // eu lacks vision: big, the next that fits, is in the top 2
  r.max_cost.reset();
  EXPECT_EQ(Kept(f.Run("auto", r)), (Ids{"mid", "big"}));
}

TEST(DecideTest, DroppedCandidatesFollowTheKeptOnes) {
  Fixture f;
  const Decision d = f.Run("auto", Request(TaskType::kMath));
  ASSERT_EQ(d.candidates.size(), 4u);
  EXPECT_TRUE(d.candidates[0].kept && d.candidates[1].kept);
  EXPECT_FALSE(d.candidates[2].kept || d.candidates[3].kept);
}

TEST(ResolveTest, ProfilesModelsAndAliases) {
  Fixture f;
  EXPECT_EQ((*Resolve("auto", *f.policy, *f.catalog)).profile->name, "auto");
  EXPECT_EQ((*Resolve("auto:strict", *f.policy, *f.catalog)).profile->name, "strict");
  EXPECT_TRUE((*Resolve("team", *f.policy, *f.catalog)).route->alias);
  const auto missing = Resolve("auto:nope", *f.policy, *f.catalog);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, core::Errc::kNotFound);
  EXPECT_EQ(missing.error().message,
            "The routing profile 'auto:nope' does not exist. Profiles: auto, auto:strict.");
  EXPECT_EQ(Resolve("gpt-9", *f.policy, *f.catalog).error().code, core::Errc::kNotFound);
}

TEST(MatchesTest, EveryCondition) {
  auto match_of = [](std::string_view when) {
    std::string yaml(kYaml);
    yaml += "    extra:\n      rules:\n        - {name: r, when: " + std::string(when) +
            ", chain: [cheap]}\n        - {name: d, chain: [cheap]}\n";
    Fixture f(yaml);
    return f.policy->profiles().back().rules.front().when.value();
  };
  Features base;
  base.task_type = TaskType::kExtraction;
  base.prompt_tokens = 500;
  base.expected_output_tokens = 100;
  base.depth = 3;
  base.language = "de";
  struct Case {
    const char* when;
    void (*set)(Features&);
    bool want;
  };
  const Case cases[] = {
      {"{task: [extraction, code]}", nullptr, true},
      {"{task: [code]}", nullptr, false},
      {"{tools: true}", nullptr, false},
      {"{tools: true}", [](Features& x) { x.tools = true; }, true},
      {"{tool_results: false}", nullptr, true},
      {"{json_output: true}", [](Features& x) { x.json_output = true; }, true},
      {"{code: true}", nullptr, false},
      {"{context: true}", [](Features& x) { x.context = true; }, true},
      {"{images: true}", [](Features& x) { x.images = 2; }, true},
      {"{language: [en, fr]}", nullptr, false},
      {"{language: [de]}", nullptr, true},
      {"{min_prompt_tokens: 500, max_prompt_tokens: 500}", nullptr, true},
      {"{min_prompt_tokens: 501}", nullptr, false},
      {"{max_output_tokens: 99}", nullptr, false},
      {"{min_depth: 2, max_depth: 3}", nullptr, true},
      {"{max_depth: 2}", nullptr, false},
      {"{tags: [batch]}", nullptr, false},
  };
  for (const Case& c : cases) {
    Features features = base;
    if (c.set) c.set(features);
    EXPECT_EQ(Matches(match_of(c.when), features, {}), c.want) << c.when;
  }
  EXPECT_TRUE(Matches(match_of("{tags: [batch, team=a]}"), base, {"team=a", "batch", "x"}));
  EXPECT_FALSE(Matches(match_of("{tags: [batch, team=a]}"), base, {"batch"}));
}

}  // namespace
}  // namespace sy::routing

namespace sy::routing {
namespace {

// A model served from two deployments: the us API host and an eu self-hosted copy.
constexpr std::string_view kDeployments = R"(
providers:
  us: {kind: openai, base_url: "http://127.0.0.1:1/v1", region: us}
  own: {kind: openai, base_url: "http://127.0.0.1:2/v1", region: eu, residency: [eu, self-hosted]}
models:
  open:
    deployments: [{provider: us, weight: 3}, {provider: own, name: self-hosted}]
    price: {input: "0.10", output: "0.40"}
  big:
    provider: us
    price: {input: "5", output: "25"}
routing:
  profiles:
    auto:
      rules:
        - name: default
          chain: [open, big]
)";

TEST(DecideDeploymentsTest, EveryDeploymentIsACandidatesChoice) {
  Fixture f(kDeployments);
  const Decision d = f.Run("auto", Request(TaskType::kChat));
  EXPECT_EQ(Kept(d), (Ids{"open", "big"}));
  const Candidate& open = Find(d, "open");
  ASSERT_EQ(open.deployments.size(), 2u);
  EXPECT_EQ(open.deployments[0].deployment->key, "open/us");
  EXPECT_EQ(open.deployments[1].deployment->key, "open/self-hosted");
  EXPECT_TRUE(open.deployments[0].kept && open.deployments[1].kept);
  ASSERT_EQ(Find(d, "big").deployments.size(), 1u);  // the shorthand: one, named after its provider
  EXPECT_EQ(Find(d, "big").deployments[0].deployment->key, "big/us");
}

// Regression (audit 3): estimates used the model's list price though each attempt is billed at
// its deployment's; an override 100x dearer let a key spend 16x its daily budget and a request
// cost 50x the client's x-switchyard-max-cost-usd.
TEST(DecideDeploymentsTest, AModelIsPricedAtItsDearestDeployment) {
  std::string yaml(kDeployments);
  const std::string own = "{provider: own, name: self-hosted}";
  yaml.replace(yaml.find(own), own.size(),
               "{provider: own, name: self-hosted, price: {input: \"10\", output: \"40\"}}");
  Fixture f(yaml);
  RouteRequest r = Request(TaskType::kChat);  // 1,000 prompt, 200 expected, at most 1,000 output
  const Decision d = f.Run("auto", r);
  const Candidate& open = Find(d, "open");
  ASSERT_EQ(open.deployments.size(), 2u);
  EXPECT_EQ(open.deployments[0].worst_case_cost.ToString(), "0.0005");  // the list: 0.10 / 0.40
  EXPECT_EQ(open.deployments[1].worst_case_cost.ToString(), "0.05");    // its own: 10 / 40
  EXPECT_EQ(open.worst_case_cost.ToString(), "0.05");
  EXPECT_EQ(open.estimated_cost.ToString(), "0.018");
  // A ceiling between the two prices drops the model: either deployment may serve it.
  r.max_cost = *core::Money::Parse("0.01");
  const Decision capped = f.Run("auto", r);
  EXPECT_EQ(Find(capped, "open").constraint, "max_cost_usd");

  // A deployment the request may not go to prices nothing: with the eu copy out of the allowed
  // regions, the model is the us deployment's list price, within the same ceiling.
  yaml.replace(yaml.find("routing:\n"), 9, "routing:\n  allowed_regions: [us]\n");
  Fixture us_only(yaml);
  const Decision placed = us_only.Run("auto", r);
  const Candidate& listed = Find(placed, "open");
  EXPECT_TRUE(listed.kept) << listed.reason;
  EXPECT_FALSE(listed.deployments[1].kept);
  EXPECT_EQ(listed.worst_case_cost.ToString(), "0.0005");
  EXPECT_EQ(listed.estimated_cost.ToString(), "0.00018");
}

TEST(DecideDeploymentsTest, ResidencyFiltersDeploymentsNotWholeModels) {
  std::string yaml(kDeployments);
  yaml.replace(yaml.find("routing:\n"), 9, "routing:\n  required_residency: [self-hosted]\n");
  Fixture f(yaml);
  const Decision d = f.Run("auto", Request(TaskType::kChat));
  EXPECT_EQ(Kept(d), (Ids{"open"}));
  const Candidate& open = Find(d, "open");
  EXPECT_FALSE(open.deployments[0].kept);
  EXPECT_EQ(open.deployments[0].reason,
            "provider us lacks residency self-hosted (routing.required_residency)");
  EXPECT_TRUE(open.deployments[1].kept);
  EXPECT_EQ(Find(d, "big").constraint, "residency");
}

TEST(DecideDeploymentsTest, AModelWhoseEveryDeploymentIsOpenDropsAsCircuitOpen) {
  Fixture f(kDeployments);
  for (std::string_view key : {"open/us", "open/self-hosted"}) {
    const size_t slot = *f.health->IndexOf(key);
    for (int i = 0; i < 5; ++i) {  // the default breaker: five failures in a row
      f.health->Begin(slot);
      f.health->NoteFailure(slot, f.steady, std::chrono::microseconds(1000), false);
    }
  }
  const Decision d = f.Run("auto", Request(TaskType::kChat));
  EXPECT_EQ(Kept(d), (Ids{"big"}));
  EXPECT_EQ(Find(d, "open").constraint, "circuit_open");
  EXPECT_EQ(Find(d, "open").reason, "every deployment's circuit breaker is open");
}

TEST(DecideDeploymentsTest, OneOpenDeploymentIsMarkedAndTheModelKept) {
  Fixture f(kDeployments);
  const size_t slot = *f.health->IndexOf("open/us");
  for (int i = 0; i < 5; ++i) {
    f.health->Begin(slot);
    f.health->NoteFailure(slot, f.steady, std::chrono::microseconds(1000), false);
  }
  const Decision d = f.Run("auto", Request(TaskType::kChat));
  EXPECT_EQ(Kept(d), (Ids{"open", "big"}));
  EXPECT_TRUE(Find(d, "open").deployments[0].blocked);
  EXPECT_EQ(Find(d, "open").deployments[0].reason, "circuit open");
}

TEST(DecideDeploymentsTest, OpenBreakersEverywhereAreAnUpstreamErrorNotA400) {
  Fixture f(kDeployments);
  for (std::string_view key : {"open/us", "open/self-hosted", "big/us"}) {
    const size_t slot = *f.health->IndexOf(key);
    for (int i = 0; i < 5; ++i) {
      f.health->Begin(slot);
      f.health->NoteFailure(slot, f.steady, std::chrono::microseconds(1000), false);
    }
  }
  const Decision d = f.Run("auto", Request(TaskType::kChat));
  EXPECT_EQ(d.kept, 0u);
  const core::Error e = NoCandidateError(d);
  EXPECT_EQ(e.code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(e.message.find("circuit breaker"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace sy::routing
