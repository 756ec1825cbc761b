// The model listing: other ids, and what each model accepts through each client dialect.
#include "app/models.h"

#include <memory>
#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace sy::app {
namespace {

namespace json = boost::json;

std::optional<std::string> NoEnv(std::string_view) { return std::nullopt; }

constexpr std::string_view kYaml = R"(
providers:
  oa: {kind: openai, base_url: "http://127.0.0.1:1/v1"}
  an: {kind: anthropic, base_url: "http://127.0.0.1:1/v1"}
models:
  gpt: {provider: oa, capabilities: [tools, json_schema, vision, reasoning], price: {input: 1, output: 1},
        quality: {scores: {code: 0.9, factual: 0.625}, example: true, note: "our evals"},
        hallucination: {rate: 0.5, source: "AA-Omniscience"}}
  opus: {provider: an, capabilities: [tools, json_schema, reasoning], price: {input: 1, output: 1}}
  old-claude: {provider: an, ids: [old-claude-20240101], capabilities: [tools], price: {input: 1, output: 1}}
  plain: {provider: an, price: {input: 1, output: 1}}
)";

class ModelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = config::ParseConfig(kYaml, "t.yaml", &NoEnv);
    ASSERT_TRUE(config.has_value()) << config.error().message;
    catalog_ = *catalog::Catalog::Build(std::make_shared<const config::Config>(*std::move(config)));
    listing_ = std::make_unique<ModelsListing>(*catalog_, std::map<std::string, std::string>{});
  }

  json::value Through(std::string_view model, std::string_view dialect) {
    auto body = listing_->OpenAiModel(model);
    EXPECT_TRUE(body.has_value()) << model;
    if (!body) return nullptr;
    return json::parse(*body).at("switchyard").at("capabilities_by_dialect").at(dialect);
  }

  std::shared_ptr<const catalog::Catalog> catalog_;
  std::unique_ptr<ModelsListing> listing_;
};

// An unknown after_id / before_id is named in the error, cut to the echo bound: the 16 KiB head
// limit was the only bound before.
TEST_F(ModelsTest, AnUnknownPageIdIsEchoedClipped) {
  for (const bool after : {true, false}) {
    ModelsPage page;
    (after ? page.after_id : page.before_id) = std::string(3'000, 'x');
    auto list = listing_->AnthropicList(page);
    ASSERT_FALSE(list.has_value());
    EXPECT_EQ(list.error().param, after ? "after_id" : "before_id");
    EXPECT_LT(list.error().message.size(), 400u) << list.error().message;
    EXPECT_NE(list.error().message.find("[cut, 3000 bytes]"), std::string::npos);
  }
}

TEST_F(ModelsTest, CapabilitiesThroughEachDialect) {
  const struct {
    std::string_view model, dialect, expected;
  } cases[] = {
      {"gpt", "openai", R"(["tools","json_schema","vision","reasoning"])"},
      {"gpt", "responses", R"(["tools","json_schema","vision","reasoning"])"},
      // Reasoning settings do not cross between OpenAI's dialects and Anthropic's.
      {"gpt", "anthropic", R"(["tools","json_schema","vision"])"},
      {"opus", "anthropic", R"(["tools","json_schema","reasoning"])"},
      {"opus", "openai", R"(["tools","json_schema"])"},
      // No native structured output, but tools: a forced tool carries the JSON answer.
      {"old-claude", "openai", R"(["tools","json_schema"])"},
      {"old-claude", "responses", R"(["tools","json_schema"])"},
      {"old-claude", "anthropic", R"(["tools"])"},
      {"plain", "openai", R"([])"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Through(c.model, c.dialect), json::parse(c.expected)) << c.model << " " << c.dialect;
  }
}

// The figures min_quality and max_hallucination_rate read, with where they came from.
TEST_F(ModelsTest, QualityFiguresAndTheirSourceAreListed) {
  const auto quality = [&](std::string_view model) -> json::value {
    auto body = listing_->OpenAiModel(model);
    EXPECT_TRUE(body.has_value()) << model;
    if (!body) return nullptr;
    return json::parse(*body).at("switchyard").at("quality");
  };
  EXPECT_EQ(quality("gpt"), json::parse(R"({"scores":{"code":0.9,"factual":0.625},"example":true,
      "note":"our evals","hallucination":{"rate":0.5,"source":"AA-Omniscience"}})"));
  EXPECT_EQ(quality("plain"), json::parse(R"({"scores":{},"example":false})"));
}

TEST_F(ModelsTest, OtherIdsFindTheModel) {
  auto body = listing_->OpenAiModel("old-claude-20240101");
  ASSERT_TRUE(body.has_value());
  const auto entry = json::parse(*body);
  EXPECT_EQ(entry.at("id"), "old-claude");
  EXPECT_EQ(entry.at("switchyard").at("ids"), json::parse(R"(["old-claude-20240101"])"));
  EXPECT_TRUE(listing_->AnthropicModel("old-claude-20240101").has_value());
  EXPECT_FALSE(listing_->OpenAiModel("old-claude-2024").has_value());
}

}  // namespace
}  // namespace sy::app
