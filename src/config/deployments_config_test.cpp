// ParseConfig for issue 18's sections: a model's deployments, the failover retries and backoff,
// the health breaker, verification, and a rule's verify list; each error with its exact path.
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "config/config.h"

namespace sy::config {
namespace {

std::optional<std::string> NoEnv(std::string_view) { return std::nullopt; }

constexpr std::string_view kProviders = R"(
providers:
  deepseek: {kind: openai, base_url: "https://api.deepseek.com"}
  vllm: {kind: openai, base_url: "http://127.0.0.1:8000/v1", residency: [self-hosted]}
)";

std::string WithModel(std::string_view model_body, std::string_view extra = "") {
  return std::string(kProviders) + "models:\n  flash:\n" + std::string(model_body) +
         "    price: {input: \"0.14\", output: \"0.28\"}\n" + std::string(extra);
}

Config MustParse(const std::string& yaml) {
  auto config = ParseConfig(yaml, "t.yaml", &NoEnv);
  EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().message);
  return config ? *config : Config{};
}

std::string ErrorOf(const std::string& yaml) {
  auto config = ParseConfig(yaml, "t.yaml", &NoEnv);
  EXPECT_FALSE(config.has_value()) << yaml;
  return config ? "" : config.error().message;
}

constexpr std::string_view kTwoDeployments = R"(    deployments:
      - {provider: deepseek, upstream_name: deepseek-chat, weight: 3}
      - {provider: vllm, name: self-hosted, price: {input: "0.01", output: "0.02"}}
    strategy: least_in_flight
)";

TEST(DeploymentsConfigTest, ShorthandHasNoDeploymentList) {
  const Config c = MustParse(WithModel("    provider: deepseek\n"));
  ASSERT_EQ(c.models.size(), 1u);
  EXPECT_TRUE(c.models[0].deployments.empty());
  EXPECT_EQ(c.models[0].provider, "deepseek");
  EXPECT_EQ(c.models[0].upstream_name, "flash");
  EXPECT_EQ(c.models[0].strategy, "weighted");
}

TEST(DeploymentsConfigTest, ReadsEveryDeploymentField) {
  const Config c = MustParse(WithModel(kTwoDeployments));
  const ModelConfig& m = c.models[0];
  ASSERT_EQ(m.deployments.size(), 2u);
  EXPECT_EQ(m.deployments[0].name, "deepseek");  // defaults to the provider's name
  EXPECT_EQ(m.deployments[0].upstream_name, "deepseek-chat");
  EXPECT_EQ(m.deployments[0].weight, 3);
  EXPECT_FALSE(m.deployments[0].price.has_value());
  EXPECT_EQ(m.deployments[1].name, "self-hosted");
  EXPECT_EQ(m.deployments[1].upstream_name, "flash");  // defaults to the model id
  EXPECT_EQ(m.deployments[1].weight, 1);
  ASSERT_TRUE(m.deployments[1].price.has_value());
  EXPECT_EQ(m.deployments[1].price->standard.output.ToString(), "0.02");
  EXPECT_EQ(m.strategy, "least_in_flight");
  // The model's own provider and upstream name are the first deployment's.
  EXPECT_EQ(m.provider, "deepseek");
  EXPECT_EQ(m.upstream_name, "deepseek-chat");
}

TEST(DeploymentsConfigTest, DeploymentErrorsNameThePath) {
  EXPECT_EQ(ErrorOf(WithModel("    strategy: weighted\n")),
            "models.flash.provider: required (or a deployments list)");
  EXPECT_EQ(ErrorOf(WithModel("    provider: deepseek\n    deployments: [{provider: vllm}]\n")),
            "models.flash.provider: not allowed beside deployments (each deployment names its "
            "provider)");
  EXPECT_EQ(ErrorOf(WithModel("    deployments: [{provider: nope}]\n")),
            "models.flash.deployments[0].provider: unknown provider \"nope\"");
  EXPECT_EQ(ErrorOf(WithModel("    deployments: [{provider: vllm}, {provider: vllm}]\n")),
            "models.flash.deployments[1].name: duplicate deployment name \"vllm\" (name "
            "deployments on the same provider)");
  EXPECT_EQ(ErrorOf(WithModel("    deployments: [{provider: vllm, weight: 0}]\n")),
            "models.flash.deployments[0].weight: must be between 1 and 1000000, got 0");
  EXPECT_EQ(ErrorOf(WithModel("    deployments: [{provider: vllm, region: eu}]\n")),
            "models.flash.deployments[0].region: unknown key");
  EXPECT_EQ(ErrorOf(WithModel("    provider: vllm\n    strategy: fastest\n")),
            "models.flash.strategy: unknown strategy \"fastest\" (expected weighted, "
            "least_in_flight or latency)");
}

TEST(DeploymentsConfigTest, FailoverHealthAndVerificationSections) {
  const Config c = MustParse(WithModel("    provider: vllm\n", R"(
failover: {retries_per_deployment: 2, backoff_base_ms: 50, backoff_max_ms: 800}
health:
  breaker: {consecutive_failures: 3, error_rate: 0.25, min_requests: 10, window_ms: 5000, cool_off_ms: 1500}
verification: {refusal_phrases: ["no can do"], max_held_bytes: 65536}
)"));
  EXPECT_EQ(c.failover.retries_per_deployment, 2);
  EXPECT_EQ(c.failover.backoff_base.count(), 50);
  EXPECT_EQ(c.failover.backoff_max.count(), 800);
  EXPECT_EQ(c.health.breaker.consecutive_failures, 3);
  EXPECT_DOUBLE_EQ(c.health.breaker.error_rate, 0.25);
  EXPECT_EQ(c.health.breaker.min_requests, 10);
  EXPECT_EQ(c.health.breaker.window.count(), 5000);
  EXPECT_EQ(c.health.breaker.cool_off.count(), 1500);
  ASSERT_TRUE(c.verification.refusal_phrases.has_value());
  EXPECT_EQ(*c.verification.refusal_phrases, std::vector<std::string>{"no can do"});
  EXPECT_EQ(c.verification.max_held_bytes, 65536);

  const Config d = MustParse(WithModel("    provider: vllm\n"));
  EXPECT_EQ(d.failover.retries_per_deployment, 0);
  EXPECT_EQ(d.health.breaker.consecutive_failures, 5);
  EXPECT_FALSE(d.verification.refusal_phrases.has_value());
  EXPECT_EQ(d.verification.max_held_bytes, 4 << 20);

  EXPECT_EQ(ErrorOf(WithModel("    provider: vllm\n",
                              "failover: {backoff_base_ms: 500, backoff_max_ms: 100}\n")),
            "failover.backoff_max_ms: must not be below backoff_base_ms");
  const std::string cool_off =
      ErrorOf(WithModel("    provider: vllm\n", "health: {breaker: {cool_off_ms: 0}}\n"));
  EXPECT_EQ(cool_off.rfind("health.breaker.cool_off_ms: must be between 1 and ", 0), 0u)
      << cool_off;
  EXPECT_EQ(ErrorOf(WithModel("    provider: vllm\n", "verification: {refusal_phrases: [\"\"]}\n")),
            "verification.refusal_phrases[0]: must be 1-200 bytes");
}

std::string WithRule(std::string_view rule_extra) {
  return WithModel("    provider: vllm\n", std::string(R"(
routing:
  profiles:
    auto:
      rules:
        - name: checked
          chain: [flash]
)") + std::string(rule_extra));
}

TEST(DeploymentsConfigTest, RuleVerifyList) {
  const Config c = MustParse(WithRule(
      R"(          verify: [json_schema, non_empty, {regex: "^\\{"}, {grounded: {min_support: 0.9}}, {grounded: null}]
          on_exhausted: return_last
          verify_mode: record
)"));
  const RuleConfig& rule = c.routing.profiles.at(0).rules.at(0);
  ASSERT_EQ(rule.verify.size(), 5u);
  EXPECT_EQ(rule.verify[0].name, "json_schema");
  EXPECT_EQ(rule.verify[2].name, "regex");
  EXPECT_EQ(rule.verify[2].pattern, "^\\{");
  EXPECT_EQ(rule.verify[3].name, "grounded");
  EXPECT_EQ(rule.verify[3].min_support, 0.9);
  EXPECT_FALSE(rule.verify[4].min_support.has_value());
  EXPECT_EQ(rule.on_exhausted, "return_last");
  EXPECT_EQ(rule.verify_mode, "record");
}

TEST(DeploymentsConfigTest, RuleVerifyErrorsNameThePath) {
  const std::string at = "routing.profiles.auto.rules[0]";
  EXPECT_EQ(ErrorOf(WithRule("          verify: [jsn]\n")),
            at + ".verify[0]: unknown check \"jsn\" (expected json, json_schema, non_empty, "
                 "no_refusal, regex, tool_call or grounded)");
  // A regex that does not compile fails the config at start.
  const std::string bad = ErrorOf(WithRule("          verify: [{regex: \"([a-z\"}]\n"));
  EXPECT_EQ(bad.rfind(at + ".verify[0].regex: the regular expression does not compile: ", 0), 0u)
      << bad;
  EXPECT_EQ(ErrorOf(WithRule("          verify: [{json: {strict: true}}]\n")),
            at + ".verify[0].json: only regex and grounded take settings");
  EXPECT_EQ(ErrorOf(WithRule("          verify: [{grounded: {min_support: 2}}]\n")),
            at + ".verify[0].grounded.min_support: \"2\" is not a number between 0 and 1");
  EXPECT_EQ(ErrorOf(WithRule("          on_exhausted: retry\n")),
            at + ".on_exhausted: unknown value \"retry\" (expected error or return_last)");
  EXPECT_EQ(ErrorOf(WithRule("          verify_mode: later\n")),
            at + ".verify_mode: unknown value \"later\" (expected hold or record)");
}

}  // namespace
}  // namespace sy::config
