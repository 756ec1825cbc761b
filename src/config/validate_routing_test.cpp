// The routing section and the models' quality figures: each mistake an operator can make fails
// at start with the path of the line to fix.
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "config/config.h"

namespace sy::config {
namespace {

std::optional<std::string> NoEnv(std::string_view) { return std::nullopt; }

constexpr std::string_view kBase = R"(
providers:
  p: {kind: openai, base_url: "http://127.0.0.1:1/v1"}
models:
  a: {provider: p, price: {input: 1, output: 2}}
  b: {provider: p, price: {input: 1, output: 2}}
aliases:
  both: [a, b]
)";

std::string WithRouting(std::string_view routing) {
  return std::string(kBase) + "routing:\n" + std::string(routing);
}

std::string ErrorOf(const std::string& yaml) {
  auto config = ParseConfig(yaml, "t.yaml", &NoEnv);
  EXPECT_FALSE(config.has_value()) << yaml;
  if (config) return "";
  EXPECT_EQ(config.error().message.rfind(config.error().param + ": ", 0), 0u);
  return config.error().message;
}

TEST(ValidateRoutingTest, ARouterRuleParses) {
  auto config = ParseConfig(WithRouting(R"(
  profiles:
    auto:
      rules:
        - name: hard
          when: {task: [math]}
          router: {model: builtin:x, strong: both, weak: b, target_strong_share: 0.25}
        - name: default
          router: {model: /m.syr, strong: a, weak: b, budget_usd_per_1k_requests: "2.50",
                   expected_output_tokens: 800, calibration: live, calibration_window: 5000}
)"),
                            "t.yaml", &NoEnv);
  ASSERT_TRUE(config.has_value()) << config.error().message;
  const auto& rules = config->routing.profiles.at(0).rules;
  ASSERT_TRUE(rules[0].router.has_value());
  EXPECT_EQ(rules[0].router->model, "builtin:x");
  EXPECT_EQ(rules[0].router->strong, "both");
  EXPECT_EQ(rules[0].router->target_strong_share, 0.25);
  EXPECT_FALSE(rules[0].router->threshold.has_value());
  EXPECT_EQ(rules[0].router->expected_output_tokens, 500);
  EXPECT_EQ(rules[0].router->calibration, "training");
  EXPECT_EQ(rules[0].router->calibration_window, 10'000);
  ASSERT_TRUE(rules[1].router.has_value());
  EXPECT_EQ(rules[1].router->budget_usd_per_1k_requests->ToString(), "2.5");
  EXPECT_EQ(rules[1].router->expected_output_tokens, 800);
  EXPECT_EQ(rules[1].router->calibration, "live");
  EXPECT_EQ(rules[1].router->calibration_window, 5000);
  EXPECT_TRUE(rules[1].chain.empty());
}

TEST(ValidateRoutingTest, AFullPolicyParses) {
  auto config = ParseConfig(WithRouting(R"(
  trust_task_header: false
  allowed_regions: [us]
  default_max_output_tokens: 2048
  assumed_context_window: 64000
  profiles:
    auto:
      rules:
        - name: cheap
          when: {task: [extraction, code], tools: false, language: [en, de], min_prompt_tokens: 10,
                 max_prompt_tokens: 5000, min_depth: 1, tags: [batch]}
          chain: [a, {model: both, max_cost_per_1k: "0.002"}]
          cache: {ttl_s: 60, scope: key}
        - name: default
          cheapest: {min_tier: standard, min_quality: 0.7, capabilities: [tools], top: 2,
                     rank_by: hallucination_rate, max_cost_per_1k: "0.01"}
          cache: {ttl_s: 3600}
          shadow: {model: a, sample: "0.125"}
)"),
                            "t.yaml", &NoEnv);
  ASSERT_TRUE(config.has_value()) << config.error().message;
  const RoutingConfig& r = config->routing;
  EXPECT_FALSE(r.trust_task_header);
  EXPECT_EQ(r.default_max_output_tokens, 2048);
  EXPECT_EQ(r.assumed_context_window, 64000);
  ASSERT_EQ(r.profiles.size(), 1u);
  const auto& rules = r.profiles[0].rules;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].when->task_types, (std::vector<std::string>{"extraction", "code"}));
  EXPECT_EQ(rules[0].when->tools, false);
  EXPECT_EQ(rules[0].when->max_prompt_tokens, 5000);
  EXPECT_EQ(rules[0].chain[1].target, "both");
  EXPECT_EQ(rules[0].chain[1].max_cost_per_1k->ToString(), "0.002");
  EXPECT_FALSE(rules[1].when.has_value());
  EXPECT_EQ(rules[1].cheapest->min_quality, 0.7);
  EXPECT_EQ(rules[1].cheapest->top, 2);
  ASSERT_TRUE(rules[0].cache.has_value());
  EXPECT_EQ(rules[0].cache->ttl_s, 60);
  EXPECT_EQ(rules[0].cache->scope, "key");
  ASSERT_TRUE(rules[1].cache.has_value());
  EXPECT_EQ(rules[1].cache->ttl_s, 3600);
  EXPECT_EQ(rules[1].cache->scope, "tenant");  // the default: the tenant's keys share entries
  EXPECT_FALSE(rules[0].shadow.has_value());
  ASSERT_TRUE(rules[1].shadow.has_value());
  EXPECT_EQ(rules[1].shadow->model, "a");
  EXPECT_EQ(rules[1].shadow->sample_ppm, 125'000);
  EXPECT_EQ(r.shadow_max_in_flight, 16);
}

TEST(ValidateRoutingTest, Mistakes) {
  const std::string rules = "  profiles:\n    auto:\n      rules:\n";
  struct Case {
    std::string routing;
    std::string error;
  };
  const Case cases[] = {
      {rules + "        - {name: r, when: {task: [poetry]}, chain: [a]}\n        - {name: d, "
               "chain: [a]}\n",
       "routing.profiles.auto.rules[0].when.task[0]: unknown task type \"poetry\" (expected one "
       "of extraction, classification, summarization, rewriting, code, math, reasoning, factual, "
       "grounded_qa, creative, chat, agentic)"},
      {rules + "        - {name: d, chain: [a, gpt-9]}\n",
       "routing.profiles.auto.rules[0].chain[1]: unknown model or alias \"gpt-9\""},
      {rules + "        - {name: r, when: {code: true}, chain: [a]}\n",
       "routing.profiles.auto.rules: the profile has no default rule: the last rule must have no "
       "`when`, so every request finds a route"},
      {rules + "        - {name: d, chain: [a]}\n        - {name: e, chain: [b]}\n",
       "routing.profiles.auto.rules[0]: rule \"d\" has no `when`, so it matches everything and "
       "the rules after it are never reached; put the default rule last"},
      {rules + "        - {name: d, chain: [a], cheapest: {top: 1}}\n",
       "routing.profiles.auto.rules[0]: rule \"d\" needs exactly one of `chain`, `cheapest` and "
       "`router`"},
      {rules + "        - {name: d, chain: [a], router: {model: m, strong: a, weak: b, "
               "threshold: 0.5}}\n",
       "routing.profiles.auto.rules[0]: rule \"d\" needs exactly one of `chain`, `cheapest` and "
       "`router`"},
      {rules + "        - {name: d, router: {model: m, strong: a, weak: b}}\n",
       "routing.profiles.auto.rules[0].router: needs exactly one of `threshold`, "
       "`target_strong_share` and `budget_usd_per_1k_requests`"},
      {rules + "        - {name: d, router: {model: m, strong: a, weak: b, threshold: 0.5, "
               "target_strong_share: 0.2}}\n",
       "routing.profiles.auto.rules[0].router: needs exactly one of `threshold`, "
       "`target_strong_share` and `budget_usd_per_1k_requests`"},
      {rules + "        - {name: d, router: {model: m, strong: gpt-9, weak: b, threshold: 0.5}}\n",
       "routing.profiles.auto.rules[0].router.strong: unknown model or alias \"gpt-9\""},
      {rules + "        - {name: d, router: {model: m, strong: a, weak: a, threshold: 0.5}}\n",
       "routing.profiles.auto.rules[0].router.weak: must differ from `strong`"},
      {rules + "        - {name: d, router: {model: m, strong: a, weak: b, threshold: 1.5}}\n",
       "routing.profiles.auto.rules[0].router.threshold: \"1.5\" is not a number between 0 and 1"},
      {rules + "        - {name: d, router: {model: m, strong: a, weak: b, "
               "budget_usd_per_1k_requests: \"-2\"}}\n",
       "routing.profiles.auto.rules[0].router.budget_usd_per_1k_requests: \"-2\" must not be "
       "negative"},
      {rules + "        - {name: d, router: {strong: a, weak: b, threshold: 0.5}}\n",
       "routing.profiles.auto.rules[0].router.model: required"},
      {rules + "        - {name: d, router: {model: m, strong: a, weak: b, threshold: 0.5, "
               "calibration: live}}\n",
       "routing.profiles.auto.rules[0].router.calibration: \"live\" holds a share: give "
       "`target_strong_share` or `budget_usd_per_1k_requests`, not `threshold`"},
      {rules + "        - {name: d, router: {model: m, strong: a, weak: b, "
               "target_strong_share: 0.2, calibration: online}}\n",
       "routing.profiles.auto.rules[0].router.calibration: must be \"training\" or \"live\", "
       "not \"online\""},
      {rules + "        - {name: d, router: {model: m, strong: a, weak: b, "
               "target_strong_share: 0.2, calibration: live, calibration_window: 10}}\n",
       "routing.profiles.auto.rules[0].router.calibration_window: must be between 100 and "
       "1000000, got 10"},
      {rules + "        - {name: d}\n",
       "routing.profiles.auto.rules[0]: rule \"d\" needs exactly one of `chain`, `cheapest` and "
       "`router`"},
      {rules + "        - {name: d, cheapest: {rank_by: vibes}}\n",
       "routing.profiles.auto.rules[0].cheapest.rank_by: unknown ranking \"vibes\" (expected cost "
       "or hallucination_rate)"},
      {rules + "        - {name: d, cheapest: {min_tier: premium}}\n",
       "routing.profiles.auto.rules[0].cheapest.min_tier: unknown tier \"premium\" (expected "
       "frontier, standard or economy)"},
      {rules + "        - {name: d, cheapest: {capabilities: [telepathy]}}\n",
       "routing.profiles.auto.rules[0].cheapest.capabilities[0]: unknown capability "
       "\"telepathy\" (expected tools, json_schema, vision or reasoning)"},
      {rules + "        - {name: d, cheapest: {top: 0}}\n",
       "routing.profiles.auto.rules[0].cheapest.top: must be between 1 and 100, got 0"},
      {rules + "        - {name: d, cheapest: {min_quality: 1.5}}\n",
       "routing.profiles.auto.rules[0].cheapest.min_quality: \"1.5\" is not a number between 0 "
       "and 1"},
      {rules + "        - {name: d, chain: [{model: a, max_cost_per_1k: \"-1\"}]}\n",
       "routing.profiles.auto.rules[0].chain[0].max_cost_per_1k: \"-1\" must not be negative"},
      {rules + "        - {name: r, when: {}, chain: [a]}\n        - {name: d, chain: [a]}\n",
       "routing.profiles.auto.rules[0].when: has no condition (leave `when` out for the default "
       "rule)"},
      {rules + "        - {name: r, when: {min_prompt_tokens: 9, max_prompt_tokens: 1}, chain: "
               "[a]}\n        - {name: d, chain: [a]}\n",
       "routing.profiles.auto.rules[0].when.min_prompt_tokens: exceeds max_prompt_tokens"},
      {rules + "        - {name: r, when: {language: [english]}, chain: [a]}\n        - {name: "
               "d, chain: [a]}\n",
       "routing.profiles.auto.rules[0].when.language[0]: expected a two-letter ISO 639-1 code or "
       "\"other\", got \"english\""},
      {rules + "        - {name: d, chain: [a]}\n        - {name: d, chain: [b]}\n",
       "routing.profiles.auto.rules[0]: rule \"d\" has no `when`, so it matches everything and "
       "the rules after it are never reached; put the default rule last"},
      {rules + "        - {name: r, when: {code: true}, chain: [a]}\n        - {name: r, chain: "
               "[b]}\n",
       "routing.profiles.auto.rules[1].name: duplicate rule name \"r\""},
      {"  profiles:\n    Auto: {rules: [{name: d, chain: [a]}]}\n",
       "routing.profiles.Auto: invalid profile name \"Auto\" (use 1 to 64 lower-case letters, "
       "digits and . _ -)"},
      {"  profiles:\n    auto: {rules: []}\n",
       "routing.profiles.auto.rules: a profile needs at least one rule"},
      {rules + "        - {name: d, chain: [a], cache: {ttl_s: 0}}\n",
       "routing.profiles.auto.rules[0].cache.ttl_s: must be between 1 and 2592000, got 0"},
      {rules + "        - {name: d, chain: [a], cache: {}}\n",
       "routing.profiles.auto.rules[0].cache.ttl_s: required"},
      {rules + "        - {name: d, chain: [a], cache: {ttl: 5}}\n",
       "routing.profiles.auto.rules[0].cache.ttl: unknown key"},
      {rules + "        - {name: d, chain: [a], cache: {ttl_s: 60, scope: user}}\n",
       "routing.profiles.auto.rules[0].cache.scope: unknown value \"user\" (expected tenant or "
       "key)"},
      {rules + "        - {name: d, chain: [a], cache: {ttl_s: 60, scope: \"\"}}\n",
       "routing.profiles.auto.rules[0].cache.scope: unknown value \"\" (expected tenant or key)"},
      {rules + "        - {name: d, chain: [a], shadow: {model: gpt-9, sample: 0.1}}\n",
       "routing.profiles.auto.rules[0].shadow.model: unknown model or alias \"gpt-9\""},
      {rules + "        - {name: d, chain: [a], shadow: {model: b}}\n",
       "routing.profiles.auto.rules[0].shadow.sample: must be a share above 0 and at most 1 (e.g. "
       "0.1)"},
      {rules + "        - {name: d, chain: [a], shadow: {model: b, sample: 0}}\n",
       "routing.profiles.auto.rules[0].shadow.sample: must be a share above 0 and at most 1 (e.g. "
       "0.1)"},
      {rules + "        - {name: d, chain: [a], shadow: {sample: 0.5}}\n",
       "routing.profiles.auto.rules[0].shadow.model: required"},
      {"  shadow_max_in_flight: 0\n",
       "routing.shadow_max_in_flight: must be between 1 and 100000, got 0"},
      {"  default_max_output_tokens: 0\n",
       "routing.default_max_output_tokens: must be between 1 and 1000000000, got 0"},
  };
  for (const Case& c : cases) EXPECT_EQ(ErrorOf(WithRouting(c.routing)), c.error) << c.routing;
}

TEST(ValidateRoutingTest, QualityFiguresAndReservedNames) {
  const std::string providers = "providers:\n  p: {kind: openai, base_url: \"http://x/v1\"}\n";
  EXPECT_EQ(ErrorOf(providers +
                    "models:\n  a: {provider: p, price: {input: 1, output: 2}, quality: {scores: "
                    "{poetry: 0.5}}}\n"),
            "models.a.quality.scores.poetry: unknown task type \"poetry\" (expected one of "
            "extraction, classification, summarization, rewriting, code, math, reasoning, "
            "factual, grounded_qa, creative, chat, agentic)");
  EXPECT_EQ(ErrorOf(providers +
                    "models:\n  a: {provider: p, price: {input: 1, output: 2}, hallucination: "
                    "{rate: 96}}\n"),
            "models.a.hallucination.rate: \"96\" is not a number between 0 and 1");
  EXPECT_EQ(ErrorOf(providers + "models:\n  auto: {provider: p, price: {input: 1, output: 2}}\n"),
            "models.auto: \"auto\" names routing profiles");
  EXPECT_EQ(
      ErrorOf(providers + "models:\n  a: {provider: p, price: {input: 1, output: 2}}\naliases:\n  "
                          "auto:fast: [a]\n"),
      "aliases.auto:fast: \"auto\" names routing profiles");
  auto ok = ParseConfig(providers +
                            "models:\n  a: {provider: p, price: {input: 1, output: 2}, "
                            "hallucination: {rate: 0.36, source: AA}, quality: {scores: {code: "
                            "0.9, factual: 0.25}, example: true, note: mine}}\n",
                        "t.yaml", &NoEnv);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  const ModelQuality& q = ok->models[0].quality;
  EXPECT_EQ(q.hallucination_rate, 0.36);
  EXPECT_EQ(q.hallucination_source, "AA");
  ASSERT_EQ(q.scores.size(), 2u);
  EXPECT_EQ(q.scores[1].first, "factual");
  EXPECT_EQ(q.scores[1].second, 0.25);
  EXPECT_TRUE(q.example);
}

}  // namespace
}  // namespace sy::config
