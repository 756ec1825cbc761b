// The route stage's front: routing headers, both dialects' bodies, the errors a client gets, and
// the explain rendering.
#include "app/route.h"

#include <memory>
#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace sy::app {
namespace {

using namespace std::chrono_literals;

std::optional<std::string> NoEnv(std::string_view) { return std::nullopt; }

constexpr std::string_view kYaml = R"(
providers:
  p: {kind: openai, base_url: "http://127.0.0.1:1/v1"}
models:
  cheap: {provider: p, tier: economy, capabilities: [tools], price: {input: "0.10", output: "0.40"}}
  big: {provider: p, tier: frontier, capabilities: [tools, vision], price: {input: "5", output: "25"}}
routing:
  profiles:
    auto:
      rules:
        - {name: batch, when: {tags: [batch]}, chain: [cheap]}
        - {name: team, when: {tags: [team=search]}, chain: [big]}
        - {name: extraction, when: {task: [extraction]}, chain: [cheap, big],
           shadow: {model: big, sample: "0.125"}}
        - {name: default, chain: [big, cheap]}
)";

class RouteTest : public ::testing::Test {
 protected:
  void Load(std::string_view yaml) {
    auto config = config::ParseConfig(yaml, "t.yaml", &NoEnv);
    ASSERT_TRUE(config.has_value()) << config.error().message;
    catalog_ = *catalog::Catalog::Build(std::make_shared<const config::Config>(*std::move(config)));
    policy_ = std::make_unique<routing::Policy>(*routing::Policy::Build(*catalog_));
    health_ = std::make_unique<routing::Health>(routing::HealthFor(*catalog_));
  }
  void SetUp() override { Load(kYaml); }

  core::Result<routing::Decision> Decide(std::string_view body, RouteHeaders headers = {},
                                         core::Dialect dialect = core::Dialect::kOpenAiChat) {
    request_ = core::Request{};
    request_.dialect = dialect;
    request_.received_at = std::chrono::sys_days{std::chrono::year{2026} / 12 / 1} + 12h;
    return DecodeAndDecide(body, 64, headers, request_, *policy_, *catalog_, *health_,
                           {request_.received_at, routing::SteadyTime{}});
  }

  std::shared_ptr<const catalog::Catalog> catalog_;
  std::unique_ptr<routing::Policy> policy_;
  std::unique_ptr<routing::Health> health_;
  core::Request request_;
};

RouteHeaders Task(std::string_view v) { return {v, {}, {}}; }
RouteHeaders MaxCost(std::string_view v) { return {{}, v, {}}; }
RouteHeaders Tags(std::string_view v) { return {{}, {}, v}; }

constexpr std::string_view kChat =
    R"({"model": "auto", "messages": [{"role": "user", "content": "Hello there!"}]})";

TEST_F(RouteTest, TheDefaultRuleForAPlainChat) {
  auto d = Decide(kChat);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->rule, "default");
  EXPECT_EQ(routing::RouteHeader(*d), "profile=auto; rule=default; task=chat");
}

TEST_F(RouteTest, AStatedTaskTypeIsTrustedByDefault) {
  auto d = Decide(kChat, Task("extraction"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->rule, "extraction");
  EXPECT_TRUE(d->features.task_stated);
}

TEST_F(RouteTest, AnUntrustedStatedTaskIsCheckedButIgnored) {
  std::string yaml(kYaml);
  yaml.replace(yaml.find("routing:\n"), 9, "routing:\n  trust_task_header: false\n");
  Load(yaml);
  auto d = Decide(kChat, Task("extraction"));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->rule, "default");
  EXPECT_FALSE(d->features.task_stated);
  EXPECT_EQ(Decide(kChat, Task("poetry")).error().param, "x-switchyard-task");
}

TEST_F(RouteTest, BadRoutingHeadersAre400sNamingTheHeader) {
  struct Case {
    RouteHeaders headers;
    std::string param;
  };
  const std::string long_tag = "ok, " + std::string(65, 'x');
  const Case cases[] = {
      {Task("poetry"), "x-switchyard-task"},
      {Task("Extraction"), "x-switchyard-task"},
      {MaxCost("cheap"), "x-switchyard-max-cost-usd"},
      {MaxCost("0"), "x-switchyard-max-cost-usd"},
      {MaxCost("-1"), "x-switchyard-max-cost-usd"},
      {MaxCost("1e-3"), "x-switchyard-max-cost-usd"},
      {Tags("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q"), "x-switchyard-tags"},
      {Tags(long_tag), "x-switchyard-tags"},
  };
  for (const Case& c : cases) {
    auto d = Decide(kChat, c.headers);
    ASSERT_FALSE(d.has_value()) << c.param;
    EXPECT_EQ(d.error().code, core::Errc::kInvalidRequest);
    EXPECT_EQ(d.error().param, c.param);
    EXPECT_EQ(d.error().message.rfind(c.param, 0), 0u) << d.error().message;
  }
  auto d = Decide(kChat, Task("poetry"));
  EXPECT_NE(d.error().message.find("extraction, classification"), std::string::npos);
}

TEST_F(RouteTest, TagsFromTheHeaderAndTheBodysMetadata) {
  auto header = Decide(kChat, Tags(" nightly , batch"));
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->rule, "batch");
  auto metadata = Decide(
      R"({"model": "auto", "metadata": {"team": "search"}, "messages": [{"role": "user", "content": "Hi"}]})");
  ASSERT_TRUE(metadata.has_value());
  EXPECT_EQ(metadata->rule, "team");
}

TEST_F(RouteTest, UnknownProfileListsTheProfilesAndUnknownModelPointsAtTheList) {
  auto profile =
      Decide(R"({"model": "auto:nope", "messages": [{"role": "user", "content": "x"}]})");
  ASSERT_FALSE(profile.has_value());
  EXPECT_EQ(profile.error().code, core::Errc::kNotFound);
  EXPECT_EQ(profile.error().message,
            "The routing profile 'auto:nope' does not exist. Profiles: auto.");
  auto model = Decide(R"({"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]})");
  ASSERT_FALSE(model.has_value());
  EXPECT_EQ(model.error().code, core::Errc::kNotFound);
  EXPECT_NE(model.error().message.find("GET /v1/models"), std::string::npos);
}

TEST_F(RouteTest, AnAnthropicBodyRoutesTheSameWay) {
  auto d = Decide(
      R"({"model": "cheap", "max_tokens": 100, "messages": [{"role": "user", "content": [
          {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
          {"type": "text", "text": "What is in this picture?"}]}]})",
      {}, core::Dialect::kAnthropicMessages);
  ASSERT_TRUE(d.has_value()) << d.error().message;
  EXPECT_EQ(d->rule, "model cheap");
  EXPECT_EQ(d->kept, 0u);  // cheap has no vision
  EXPECT_EQ(d->features.images, 1);
  EXPECT_EQ(routing::NoCandidateError(*d).message,
            "no model satisfies capability: cheap: lacks capability vision");
}

TEST_F(RouteTest, ExplainJsonListsKeptThenDroppedWithExactCosts) {
  auto d = Decide(
      R"({"model": "auto", "max_tokens": 100, "messages": [{"role": "user", "content": "Hello there!"}]})",
      MaxCost("0.001"));
  ASSERT_TRUE(d.has_value());
  const auto json = boost::json::parse(ExplainJson(*d, *catalog_)).as_object();
  EXPECT_EQ(json.at("profile").as_string(), "auto");
  EXPECT_EQ(json.at("rule").as_string(), "default");
  EXPECT_EQ(json.at("task_type").as_string(), "chat");
  EXPECT_EQ(json.at("max_cost_usd").as_string(), "0.001");
  const auto& features = json.at("features").as_object();
  EXPECT_EQ(features.at("max_output_tokens").as_int64(), 100);
  const auto& candidates = json.at("candidates").as_array();
  ASSERT_EQ(candidates.size(), 2u);
  const auto& cheap = candidates[0].as_object();
  EXPECT_EQ(cheap.at("model").as_string(), "cheap");
  EXPECT_TRUE(cheap.at("kept").as_bool());
  EXPECT_FALSE(cheap.contains("constraint"));
  const auto& big = candidates[1].as_object();
  EXPECT_FALSE(big.at("kept").as_bool());
  EXPECT_EQ(big.at("constraint").as_string(), "max_cost_usd");
  // big's worst case: prompt tokens x 5/M + 100 x 25/M.
  const int64_t prompt = features.at("prompt_tokens").as_int64();
  const auto worst = core::Money::FromPico(prompt * 5'000'000 + int64_t{100} * 25'000'000);
  EXPECT_EQ(big.at("worst_case_cost_usd").as_string(), worst.ToString());
  EXPECT_FALSE(json.contains("error"));
}

TEST_F(RouteTest, ExplainJsonShowsTheRulesShadow) {
  auto shadowed = Decide(kChat, Task("extraction"));
  ASSERT_TRUE(shadowed.has_value());
  const auto json = boost::json::parse(ExplainJson(*shadowed, *catalog_)).as_object();
  EXPECT_EQ(json.at("rule").as_string(), "extraction");
  EXPECT_EQ(json.at("shadow"), boost::json::parse(R"({"model": "big", "sample": "0.125"})"));
  auto plain = Decide(kChat);
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(boost::json::parse(ExplainJson(*plain, *catalog_)).as_object().contains("shadow"));
}

TEST_F(RouteTest, ExplainJsonCarriesTheErrorWhenNothingIsKept) {
  auto d = Decide(kChat, MaxCost("0.000000000001"));
  ASSERT_TRUE(d.has_value());
  const auto json = boost::json::parse(ExplainJson(*d, *catalog_)).as_object();
  EXPECT_EQ(json.at("error").as_string().subview().rfind(
                "no model satisfies x-switchyard-max-cost-usd=0.000000000001: cheapest candidate "
                "cheap estimated ",
                0),
            0u);
  EXPECT_TRUE(json.at("profile").is_string());
}

TEST_F(RouteTest, AModelNameIsNotAProfile) {
  auto d = Decide(R"({"model": "big", "messages": [{"role": "user", "content": "x"}]})");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->profile, "");
  const auto json = boost::json::parse(ExplainJson(*d, *catalog_)).as_object();
  EXPECT_TRUE(json.at("profile").is_null());
  EXPECT_EQ(json.at("rule").as_string(), "model big");
}

}  // namespace
}  // namespace sy::app
