#include "catalog/catalog.h"

#include <memory>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace sy::catalog {
namespace {

std::optional<std::string> NoEnv(std::string_view) { return std::nullopt; }

std::shared_ptr<const config::Config> ParseOrDie(std::string_view yaml) {
  auto config = config::ParseConfig(yaml, "t.yaml", &NoEnv);
  EXPECT_TRUE(config.has_value()) << config.error().message;
  return std::make_shared<const config::Config>(*std::move(config));
}

constexpr std::string_view kYaml = R"(
providers:
  openai: {kind: openai, base_url: "https://api.openai.com/v1"}
  deepseek: {kind: openai, base_url: "https://api.deepseek.com"}
models:
  gpt-5.5: {provider: openai, ids: [gpt-5.5-2026-04-23], price: {input: 5, output: 30}}
  deepseek-v4-flash: {provider: deepseek, upstream_name: deepseek-chat,
                      price: {input: 0.14, output: 0.28}}
  kimi-k2.6: {provider: deepseek, price: {input: 0.6, output: 2.5, example: true, note: example}}
aliases:
  economy: [deepseek-v4-flash, kimi-k2.6, gpt-5.5]
)";

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto built = Catalog::Build(ParseOrDie(kYaml));
    ASSERT_TRUE(built.has_value()) << built.error().message;
    catalog_ = *built;
  }
  std::shared_ptr<const Catalog> catalog_;
};

TEST_F(CatalogTest, FindsModelsAndProviders) {
  const config::ModelConfig* flash = catalog_->FindModel("deepseek-v4-flash");
  ASSERT_NE(flash, nullptr);
  EXPECT_EQ(flash->upstream_name, "deepseek-chat");
  EXPECT_EQ(catalog_->ProviderOf(*flash).name, "deepseek");
  EXPECT_EQ(catalog_->ProviderOf(*catalog_->FindModel("gpt-5.5")).name, "openai");
  EXPECT_EQ(catalog_->FindModel("gpt-9"), nullptr);
  EXPECT_EQ(catalog_->FindModel("economy"), nullptr);
  ASSERT_NE(catalog_->FindProvider("openai"), nullptr);
  EXPECT_EQ(catalog_->FindProvider("openai")->base_url, "https://api.openai.com/v1");
  EXPECT_EQ(catalog_->FindProvider("azure"), nullptr);
}

TEST_F(CatalogTest, OtherIdsReachTheSameModel) {
  const config::ModelConfig* dated = catalog_->FindModel("gpt-5.5-2026-04-23");
  ASSERT_NE(dated, nullptr);
  EXPECT_EQ(dated, catalog_->FindModel("gpt-5.5"));
  auto route = catalog_->Resolve("gpt-5.5-2026-04-23");
  ASSERT_TRUE(route.has_value());
  ASSERT_EQ((*route)->candidates.size(), 1u);
  EXPECT_EQ((*route)->candidates[0]->id, "gpt-5.5");
  EXPECT_EQ((*route)->rule, "model gpt-5.5");
}

TEST_F(CatalogTest, ResolvesAliasesInOrder) {
  auto route = catalog_->Resolve("economy");
  ASSERT_TRUE(route.has_value());
  const auto& models = (*route)->candidates;
  ASSERT_EQ(models.size(), 3u);
  EXPECT_EQ(models[0]->id, "deepseek-v4-flash");
  EXPECT_EQ(models[1]->id, "kimi-k2.6");
  EXPECT_EQ(models[2]->id, "gpt-5.5");
  EXPECT_EQ(models[2], catalog_->FindModel("gpt-5.5"));  // the catalog's own objects
  EXPECT_EQ((*route)->rule, "alias economy");
  EXPECT_TRUE((*route)->alias);
}

TEST_F(CatalogTest, ResolvesAModelIdToItself) {
  auto route = catalog_->Resolve("gpt-5.5");
  ASSERT_TRUE(route.has_value());
  ASSERT_EQ((*route)->candidates.size(), 1u);
  EXPECT_EQ((*route)->candidates[0]->id, "gpt-5.5");
  EXPECT_EQ((*route)->rule, "model gpt-5.5");
  EXPECT_FALSE((*route)->alias);
}

TEST_F(CatalogTest, UnknownModelIsNotFound) {
  auto models = catalog_->Resolve("gpt-9");
  ASSERT_FALSE(models.has_value());
  EXPECT_EQ(models.error().code, core::Errc::kNotFound);
  EXPECT_EQ(models.error().message, "unknown model \"gpt-9\"");
  EXPECT_EQ(models.error().param, "model");
  EXPECT_EQ(catalog_->Resolve("").error().code, core::Errc::kNotFound);
  const std::string long_name(500, 'x');
  EXPECT_EQ(catalog_->Resolve(long_name).error().message,
            "unknown model \"" + std::string(100, 'x') + "...\"");
}

TEST_F(CatalogTest, ConfigIsShared) { EXPECT_EQ(catalog_->config().models.size(), 3u); }

TEST_F(CatalogTest, TheShorthandIsOneDeploymentNamedAfterItsProvider) {
  const auto& flash = catalog_->DeploymentsOf(*catalog_->FindModel("deepseek-v4-flash"));
  ASSERT_EQ(flash.size(), 1u);
  EXPECT_EQ(flash[0].name(), "deepseek");
  EXPECT_EQ(flash[0].upstream_name(), "deepseek-chat");
  EXPECT_EQ(flash[0].provider->name, "deepseek");
  EXPECT_EQ(flash[0].key, "deepseek-v4-flash/deepseek");
  EXPECT_EQ(flash[0].price, &catalog_->FindModel("deepseek-v4-flash")->price);
  // Slots number every deployment in config order.
  ASSERT_EQ(catalog_->deployments().size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(catalog_->deployments()[i]->slot, i);
  EXPECT_EQ(catalog_->deployments()[1], &flash[0]);
}

TEST(CatalogDeploymentsTest, SeveralDeploymentsWithTheirOwnPrices) {
  auto built = Catalog::Build(ParseOrDie(R"(
providers:
  api: {kind: openai, base_url: "https://api.example.com/v1"}
  own: {kind: openai, base_url: "http://127.0.0.1:8000/v1", residency: [self-hosted]}
models:
  first: {provider: api, price: {input: 1, output: 2}}
  open:
    deployments:
      - {provider: api, weight: 3}
      - {provider: own, name: gpu, upstream_name: open-fp8, price: {input: 0.05, output: 0.1}}
    price: {input: 0.15, output: 0.6}
)"));
  ASSERT_TRUE(built.has_value()) << built.error().message;
  const Catalog& catalog = **built;
  const config::ModelConfig& open = *catalog.FindModel("open");
  const auto& deployments = catalog.DeploymentsOf(open);
  ASSERT_EQ(deployments.size(), 2u);
  EXPECT_EQ(deployments[0].key, "open/api");
  EXPECT_EQ(deployments[0].upstream_name(), "open");
  EXPECT_EQ(deployments[0].config->weight, 3);
  EXPECT_EQ(deployments[0].price, &open.price);
  EXPECT_EQ(deployments[1].key, "open/gpu");
  EXPECT_EQ(deployments[1].upstream_name(), "open-fp8");
  EXPECT_EQ(deployments[1].provider->name, "own");
  EXPECT_EQ(deployments[1].price->standard.input.ToString(), "0.05");
  EXPECT_EQ(deployments[0].slot, 1u);
  EXPECT_EQ(deployments[1].slot, 2u);
  // What an attempt on the self-hosted copy costs: its own price, exactly.
  core::Usage usage;
  usage.input_tokens = 1'000'000;
  usage.output_tokens = 500'000;
  EXPECT_EQ(ComputeCost(*deployments[1].price, usage, {}).total.ToString(), "0.1");
  EXPECT_EQ(ComputeCost(*deployments[0].price, usage, {}).total.ToString(), "0.45");
}

// Build cross-checks a Config that did not come through ParseConfig.
TEST(CatalogBuildTest, RejectsBrokenReferences) {
  auto config = std::make_shared<config::Config>(*ParseOrDie(kYaml));
  config->aliases[0].models[1] = "kimi-k3";
  auto built = Catalog::Build(config);
  ASSERT_FALSE(built.has_value());
  EXPECT_EQ(built.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(built.error().message, "aliases.economy[1]: unknown model \"kimi-k3\"");

  config = std::make_shared<config::Config>(*ParseOrDie(kYaml));
  config->models[0].provider = "foo";
  EXPECT_EQ(Catalog::Build(config).error().message,
            "models.gpt-5.5.provider: unknown provider \"foo\"");

  config = std::make_shared<config::Config>(*ParseOrDie(kYaml));
  config->aliases[0].name = "gpt-5.5";
  EXPECT_EQ(Catalog::Build(config).error().message,
            "aliases.gpt-5.5: alias name is already a model id");

  EXPECT_EQ(Catalog::Build(nullptr).error().code, core::Errc::kInternal);
}

TEST(CatalogBuildTest, EmptyConfigBuilds) {
  auto built = Catalog::Build(std::make_shared<const config::Config>());
  ASSERT_TRUE(built.has_value());
  EXPECT_EQ((*built)->Resolve("gpt-5.5").error().code, core::Errc::kNotFound);
}

}  // namespace
}  // namespace sy::catalog
