// config/demo.yaml, the embedded demo configuration, loads cleanly and carries DESIGN.md's prices.
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "config/config.h"

namespace sy::config {
namespace {

const std::string kDemoPath = std::string(SY_SOURCE_DIR) + "/config/demo.yaml";

std::optional<std::string> DemoEnv(std::string_view name) {
  if (name == "EMULATOR_URL") return "http://127.0.0.1:41234";
  if (name == "SWITCHYARD_DEMO_UPSTREAM_KEY") return "demo-key";
  return std::nullopt;
}

std::optional<std::string> NoEnv(std::string_view) { return std::nullopt; }

const ModelConfig& Find(const Config& c, std::string_view id) {
  for (const ModelConfig& m : c.models) {
    if (m.id == id) return m;
  }
  ADD_FAILURE() << "no model " << id;
  static const ModelConfig kNone;
  return kNone;
}

std::string Price(const core::PricePerMTokens& p) { return p.ToString(); }

class DemoConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = LoadConfigFile(kDemoPath, &DemoEnv);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
    config_ = *std::move(loaded);
  }
  Config config_;
};

TEST_F(DemoConfigTest, LoadsEveryModelInOrder) {
  const std::vector<std::string> expected = {
      "gpt-5.5",          "gpt-5.5-pro",     "claude-opus-4.7", "claude-opus-4.8",
      "claude-haiku-4.5", "gemini-3.1-pro",  "grok-4",          "grok-4.1-fast",
      "mistral-large-3",  "mistral-small-4", "deepseek-v4-pro", "deepseek-v4-flash",
      "llama-4-maverick", "kimi-k2.6"};
  std::vector<std::string> ids;
  for (const ModelConfig& m : config_.models) ids.push_back(m.id);
  EXPECT_EQ(ids, expected);
}

TEST_F(DemoConfigTest, ProvidersPointAtTheEmulator) {
  for (const ProviderConfig& p : config_.providers) {
    EXPECT_EQ(p.base_url, "http://127.0.0.1:41234/v1") << p.name;
    EXPECT_EQ(p.api_key, "demo-key") << p.name;
    EXPECT_EQ(p.kind, p.name == "anthropic" ? "anthropic" : "openai") << p.name;
  }
  EXPECT_EQ(Find(config_, "claude-opus-4.7").provider, "anthropic");
}

TEST_F(DemoConfigTest, ListPricesFromDesign) {
  const ModelConfig& gpt = Find(config_, "gpt-5.5");
  EXPECT_EQ(Price(gpt.price.standard.input), "5");
  EXPECT_EQ(Price(gpt.price.standard.output), "30");
  EXPECT_FALSE(gpt.price.standard.cached_input.has_value());  // "–": no cached discount listed
  EXPECT_FALSE(gpt.price.example);
  EXPECT_EQ(gpt.context_window, 256'000);
  EXPECT_EQ(Price(Find(config_, "gpt-5.5-pro").price.standard.output), "180");
  EXPECT_EQ(Price(*Find(config_, "claude-opus-4.7").price.standard.cached_input), "0.5");
  EXPECT_EQ(Find(config_, "claude-opus-4.7").context_window, 1'000'000);
  EXPECT_EQ(Price(*Find(config_, "gemini-3.1-pro").price.standard.cached_input), "0.2");
  EXPECT_EQ(Price(Find(config_, "grok-4.1-fast").price.standard.output), "0.5");
  EXPECT_EQ(Price(Find(config_, "mistral-small-4").price.standard.input), "0.15");
  EXPECT_EQ(Price(Find(config_, "llama-4-maverick").price.standard.output), "0.6");

  const ModelConfig& flash = Find(config_, "deepseek-v4-flash");
  EXPECT_EQ(Price(*flash.price.standard.cached_input), "0.014");
  ASSERT_EQ(flash.price.windows.size(), 1u);
  const PriceWindow& off_peak = flash.price.windows[0];
  EXPECT_EQ(off_peak.name, "off-peak");
  EXPECT_EQ(off_peak.start_minute_utc, 16 * 60 + 30);
  EXPECT_EQ(off_peak.end_minute_utc, 30);
  EXPECT_EQ(Price(off_peak.prices.input), "0.07");
  EXPECT_EQ(Price(*off_peak.prices.cached_input), "0.007");
  EXPECT_EQ(Price(off_peak.prices.output), "0.14");
  const PriceWindow& pro_off_peak = Find(config_, "deepseek-v4-pro").price.windows.at(0);
  EXPECT_EQ(Price(*pro_off_peak.prices.cached_input), "0.09");  // its own list, not half of 0.17

  ASSERT_TRUE(gpt.price.batch.has_value());  // Batch at half the standard rate
  EXPECT_EQ(Price(gpt.price.batch->input), "2.5");
  EXPECT_EQ(Price(gpt.price.batch->output), "15");
  EXPECT_FALSE(flash.price.batch.has_value());
}

TEST_F(DemoConfigTest, PricesNotInDesignAreMarkedExamples) {
  for (const char* id : {"kimi-k2.6", "claude-haiku-4.5", "claude-opus-4.8"}) {
    const ModelConfig& m = Find(config_, id);
    EXPECT_TRUE(m.price.example) << id;
    EXPECT_NE(m.price.note.find("example"), std::string::npos) << id;
  }
  EXPECT_EQ(Price(Find(config_, "kimi-k2.6").price.standard.input), "0.6");
  EXPECT_EQ(Price(Find(config_, "kimi-k2.6").price.standard.output), "2.5");
  int examples = 0;
  for (const ModelConfig& m : config_.models) examples += m.price.example ? 1 : 0;
  EXPECT_EQ(examples, 3);
}

TEST_F(DemoConfigTest, Aliases) {
  ASSERT_FALSE(config_.aliases.empty());
  EXPECT_EQ(config_.aliases[0].name, "economy");
  EXPECT_EQ(config_.aliases[0].models,
            (std::vector<std::string>{"deepseek-v4-flash", "kimi-k2.6", "gpt-5.5"}));
}

TEST(DemoConfigEnvTest, NeedsTheEmulatorUrl) {
  auto loaded = LoadConfigFile(kDemoPath, &NoEnv);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().message,
            "providers.openai.base_url: environment variable EMULATOR_URL is not set");
}

}  // namespace
}  // namespace sy::config
