// Whole-config validation: references, kinds, URLs, the api key, names, ranges; each message
// asserted with its exact path. Most cases go through ParseConfig (the YAML an operator writes);
// a few build a Config in code to pin ValidateConfig and CheckReferences directly.
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "config/config.h"

namespace sy::config {
namespace {

constexpr std::string_view kSecret = "sk-do-not-print-me";

std::optional<std::string> FakeEnv(std::string_view name) {
  if (name == "OPENAI_API_KEY") return std::string(kSecret);
  if (name == "EMPTY_KEY") return "";
  return std::nullopt;
}

std::string Provider(std::string_view fields) {
  return "providers:\n  openai: {kind: openai, base_url: \"https://api.openai.com/v1\", " +
         std::string(fields) + "}\n";
}

std::string Model(std::string_view fields) {
  return "models:\n  gpt-5.5: {provider: openai, price: {input: 5, output: 30}, " +
         std::string(fields) + "}\n";
}

std::string ErrorOf(const std::string& yaml) {
  auto config = ParseConfig(yaml, "t.yaml", &FakeEnv);
  EXPECT_FALSE(config.has_value()) << yaml;
  if (config) return "";
  EXPECT_EQ(config.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(config.error().message.find(kSecret), std::string::npos) << config.error().message;
  EXPECT_EQ(config.error().message.rfind(config.error().param + ": ", 0), 0u);
  return config.error().message;
}

TEST(ValidateTest, ProviderKindAndUrl) {
  const std::string models = Model("");
  EXPECT_EQ(ErrorOf("providers:\n  openai: {kind: azure, base_url: \"https://x\"}\n" + models),
            "providers.openai.kind: unknown kind \"azure\" (expected openai or anthropic)");
  EXPECT_EQ(ErrorOf("providers:\n  openai: {base_url: \"https://x\"}\n" + models),
            "providers.openai.kind: required");
  EXPECT_EQ(ErrorOf("providers:\n  openai: {kind: openai}\n" + models),
            "providers.openai.base_url: required");
  const auto url_error = [&](std::string_view url) {
    return ErrorOf("providers:\n  openai: {kind: openai, base_url: \"" + std::string(url) +
                   "\", api_key_env: OPENAI_API_KEY}\n" + models);
  };
  EXPECT_EQ(url_error("ftp://x/v1"),
            "providers.openai.base_url: \"ftp://x/v1\" is not an http:// or https:// URL");
  EXPECT_EQ(url_error("api.openai.com/v1"),
            "providers.openai.base_url: \"api.openai.com/v1\" is not an http:// or https:// URL");
  EXPECT_EQ(url_error("https:///v1"),
            "providers.openai.base_url: \"https:///v1\" has no valid "
            "host[:port]");
  EXPECT_EQ(url_error("http://x:99999"),
            "providers.openai.base_url: \"http://x:99999\" has no valid host[:port]");
  EXPECT_EQ(url_error("http://a b/v1"),
            "providers.openai.base_url: \"http://a b/v1\" contains whitespace or control "
            "characters");
  // Secrets in a URL are refused without echoing the URL.
  EXPECT_EQ(url_error("https://u:${OPENAI_API_KEY}@x/v1"),
            "providers.openai.base_url: must not contain credentials (user:password@); use "
            "api_key_env");
  EXPECT_EQ(url_error("https://x/v1?key=${OPENAI_API_KEY}"),
            "providers.openai.base_url: must not contain a query or fragment");
}

TEST(ValidateTest, GoodUrlsPass) {
  for (const char* url : {"http://localhost:8000/v1", "https://[::1]:8443", "https://[::1]",
                          "HTTPS://API.EXAMPLE.COM/v1", "http://10.0.0.1"}) {
    auto config = ParseConfig("providers:\n  openai: {kind: openai, base_url: \"" +
                                  std::string(url) + "\"}\n" + Model(""),
                              "t.yaml", &FakeEnv);
    EXPECT_TRUE(config.has_value()) << url << ": " << (config ? "" : config.error().message);
  }
}

TEST(ValidateTest, ApiKeyEnvironment) {
  EXPECT_EQ(ErrorOf(Provider("api_key_env: NOT_SET_KEY") + Model("")),
            "providers.openai.api_key_env: environment variable NOT_SET_KEY is not set");
  EXPECT_EQ(ErrorOf(Provider("api_key_env: EMPTY_KEY") + Model("")),
            "providers.openai.api_key_env: environment variable EMPTY_KEY is empty");
  EXPECT_EQ(ErrorOf(Provider("api_key_env: \"MY-KEY\"") + Model("")),
            "providers.openai.api_key_env: \"MY-KEY\" is not a valid environment variable name");
  // A later error in a provider with a resolved key still never shows the key.
  EXPECT_EQ(ErrorOf(Provider("api_key_env: OPENAI_API_KEY, max_idle_connections: -1") + Model("")),
            "providers.openai.max_idle_connections: must be between 0 and 100000, got -1");
}

TEST(ValidateTest, References) {
  EXPECT_EQ(ErrorOf(Provider("") + "models:\n  x: {provider: foo, price: {input: 1, output: 1}}\n"),
            "models.x.provider: unknown provider \"foo\"");
  EXPECT_EQ(ErrorOf(Provider("") + Model("") + "aliases:\n  economy: [gpt-5.5, kimi-k3]\n"),
            "aliases.economy[1]: unknown model \"kimi-k3\"");
  EXPECT_EQ(ErrorOf(Provider("") + Model("") + "aliases:\n  gpt-5.5: [gpt-5.5]\n"),
            "aliases.gpt-5.5: alias name is already a model id");
  EXPECT_EQ(ErrorOf(Provider("") + Model("") + "aliases:\n  economy: []\n"),
            "aliases.economy: must list at least one model");
  EXPECT_EQ(ErrorOf(Provider("") + Model("") + "aliases:\n  economy: [gpt-5.5, gpt-5.5]\n"),
            "aliases.economy[1]: \"gpt-5.5\" is listed twice");
  EXPECT_EQ(ErrorOf(Provider("") + Model("") + "aliases:\n  a: [gpt-5.5]\n  b: [a]\n"),
            "aliases.b[0]: \"a\" is an alias; an alias lists model ids");
}

TEST(ValidateTest, OtherIdsAreUniqueNames) {
  const std::string two_models =
      Provider("") +
      "models:\n  a: {provider: openai, ids: [a-2026], price: {input: 1, output: 1}}\n"
      "  b: {provider: openai, ids: [b-2026], price: {input: 1, output: 1}}\n";
  EXPECT_TRUE(ParseConfig(two_models, "t.yaml", &FakeEnv).has_value());
  EXPECT_EQ(ErrorOf(Provider("") +
                    "models:\n  a: {provider: openai, ids: [b], price: {input: 1, output: 1}}\n"
                    "  b: {provider: openai, price: {input: 1, output: 1}}\n"),
            "models.a.ids[0]: \"b\" already names model \"b\"");
  EXPECT_EQ(ErrorOf(two_models + "aliases:\n  b-2026: [a]\n"),
            "models.b.ids[0]: \"b-2026\" already names alias \"b-2026\"");
}

TEST(ValidateTest, ProviderApi) {
  EXPECT_TRUE(ParseConfig(Provider("api: responses") + Model(""), "t.yaml", &FakeEnv).has_value());
  EXPECT_EQ(ErrorOf(Provider("api: completions") + Model("")),
            "providers.openai.api: unknown api \"completions\" (expected chat or responses)");
}

TEST(ValidateTest, ResponsesRetention) {
  EXPECT_EQ(ErrorOf(Provider("") + Model("") + "responses: {store: false, retention_days: 0}\n"),
            "responses.retention_days: must be between 1 and 3650, got 0");
  // days * 24 hours would overflow int64 (undefined); 2^61 + 365 days wrapped to exactly 365.
  EXPECT_EQ(ErrorOf(Provider("") + Model("") +
                    "responses: {store: false, retention_days: 2305843009213694317}\n"),
            "responses.retention_days: \"2305843009213694317\" is out of range");
  EXPECT_EQ(ErrorOf(Provider("") + Model("") +
                    "responses: {store: false, retention_days: -9223372036854775807}\n"),
            "responses.retention_days: \"-9223372036854775807\" is out of range");
  EXPECT_EQ(ErrorOf(Provider("") + Model("") + "responses: {max_stored_bytes_per_key: 1000}\n"),
            "responses.max_stored_bytes_per_key: must be between 1048576 and 1099511627776, got "
            "1000");
}

TEST(ValidateTest, MetricsTenantLabels) {
  EXPECT_EQ(ErrorOf(Provider("") + Model("") + "metrics: {max_tenant_labels: -1}\n"),
            "metrics.max_tenant_labels: must be between 0 and 1000000, got -1");
  EXPECT_EQ(ErrorOf(Provider("") + Model("") + "metrics: {max_tenant_labels: 1000001}\n"),
            "metrics.max_tenant_labels: must be between 0 and 1000000, got 1000001");
}

TEST(ValidateTest, ModelFields) {
  const std::string providers = Provider("");
  EXPECT_EQ(ErrorOf(providers + Model("tier: premium")),
            "models.gpt-5.5.tier: unknown tier \"premium\" (expected frontier, standard or "
            "economy)");
  EXPECT_EQ(ErrorOf(providers + Model("capabilities: [tools, tool]")),
            "models.gpt-5.5.capabilities[1]: unknown capability \"tool\" (expected tools, "
            "json_schema, vision or reasoning)");
  EXPECT_EQ(ErrorOf(providers + Model("capabilities: [tools, tools]")),
            "models.gpt-5.5.capabilities[1]: \"tools\" is listed twice");
  EXPECT_EQ(ErrorOf(providers + Model("context_window: -1")),
            "models.gpt-5.5.context_window: must be between 0 and 1000000000, got -1");
  EXPECT_EQ(ErrorOf(providers + Model("context_window: 10, max_output_tokens: 20")),
            "models.gpt-5.5.max_output_tokens: exceeds context_window");
  EXPECT_EQ(ErrorOf(providers + Model("upstream_name: \"\"")),
            "models.gpt-5.5.upstream_name: must not be empty");
  EXPECT_EQ(ErrorOf(providers + "models:\n  \"bad id\": {provider: openai, price: {input: 1, "
                                "output: 1}}\n"),
            "models.bad id: invalid name \"bad id\" (use 1 to 128 letters, digits and . _ - : / "
            "@ +)");
}

TEST(ValidateTest, ServerFailoverLedgerRanges) {
  const std::string base = Provider("") + Model("");
  EXPECT_EQ(ErrorOf(base + "server: {listen: \"8080\"}"),
            "server.listen: \"8080\" is not host:port (e.g. 127.0.0.1:8080)");
  EXPECT_EQ(ErrorOf(base + "server: {listen: \"::1:8080\"}"),
            "server.listen: \"::1:8080\" is not host:port (e.g. 127.0.0.1:8080)");
  EXPECT_EQ(ErrorOf(base + "server: {threads: 5000}"),
            "server.threads: must be between 0 and 1024, got 5000");
  EXPECT_EQ(ErrorOf(base + "server: {max_body_bytes: 0}"),
            "server.max_body_bytes: must be between 1 and 4294967296, got 0");
  EXPECT_EQ(ErrorOf(base + "server: {max_connections: 0}"),
            "server.max_connections: must be between 1 and 1000000, got 0");
  EXPECT_EQ(ErrorOf(base + "server: {max_body_bytes: 2048, max_buffered_body_bytes: 1024}"),
            "server.max_buffered_body_bytes: must be at least server.max_body_bytes (2048), "
            "got 1024");
  EXPECT_EQ(ErrorOf(base + "server: {idle_timeout_ms: 0}"),
            "server.idle_timeout_ms: must be between 1 and 86400000, got 0");
  EXPECT_EQ(ErrorOf(base + "failover: {max_attempts: 0}"),
            "failover.max_attempts: must be between 1 and 100, got 0");
  EXPECT_EQ(ErrorOf(base + "ledger: {batch_size: 100, queue_capacity: 10}"),
            "ledger.batch_size: must not exceed queue_capacity (10)");
  EXPECT_EQ(ErrorOf(base + "ledger: {sqlite_path: \"\"}"), "ledger.sqlite_path: must not be empty");
  EXPECT_EQ(ErrorOf(base + "ledger: {spill_max_bytes: 1000}"),
            "ledger.spill_max_bytes: must be between 1048576 and 1099511627776, got 1000");
  for (const char* days : {"-1", "7", "31", "36501"}) {
    EXPECT_EQ(ErrorOf(base + "ledger: {retention_days: " + days + "}"),
              "ledger.retention_days: must be 0 (keep every row) or 32 to 36500 (budgets are "
              "seeded from the ledger's spend of their current month)")
        << days;
  }
  // The URL is never quoted back: it may hold a password.
  EXPECT_EQ(ErrorOf(base + "database: {url: \"mysql://u:secret@h/db\"}"),
            "database.url: must be a postgresql:// URL, or absent for the SQLite file "
            "ledger.sqlite_path");
  // Client keys on PostgreSQL: every replica hashes with the pepper, which must come from the
  // environment (a pepper file is per replica).
  EXPECT_EQ(ErrorOf(base + "database: {url: \"postgresql://h/db\"}\nauth: {mode: keys}"),
            "auth.pepper_env: with database.url every replica must share the key pepper: set "
            "\"SWITCHYARD_KEY_PEPPER\" (16+ characters, the same value in every replica)");
  EXPECT_EQ(ErrorOf(base + "database: {url: \"postgresql://h/db\"}\nauth: {mode: keys, "
                           "pepper_env: \"\"}"),
            "auth.pepper_env: with database.url every replica must share the key pepper: name "
            "the environment variable that holds it (16+ characters, the same value in every "
            "replica)");
  EXPECT_TRUE(ParseConfig(base + "database: {url: \"postgresql://h/db\"}\n"
                                 "auth: {mode: keys, pepper_env: OPENAI_API_KEY}",
                          "t.yaml", &FakeEnv));
  EXPECT_EQ(ErrorOf(base + "database: {url: \"postgresql://h/db\", connect_timeout_s: 0}\n"
                           "auth: {mode: \"off\"}"),
            "database.connect_timeout_s: must be between 1 and 600, got 0");
  EXPECT_TRUE(ParseConfig(base + "database: {url: \"postgres://h/db\"}\nauth: {mode: \"off\"}",
                          "t.yaml", &FakeEnv));
}

// A small valid Config built in code, for the direct checks below.
Config CodeConfig() {
  Config c;
  ProviderConfig p;
  p.name = "openai";
  p.kind = "openai";
  p.base_url = "https://api.openai.com/v1";
  c.providers.push_back(p);
  ModelConfig m;
  m.id = "gpt-5.5";
  m.provider = "openai";
  m.upstream_name = "gpt-5.5";
  c.models.push_back(m);
  return c;
}

TEST(ValidateTest, ConfigBuiltInCode) {
  Config c = CodeConfig();
  EXPECT_TRUE(ValidateConfig(c).has_value());
  c.models.push_back(c.models[0]);
  EXPECT_EQ(CheckReferences(c).error().message, "models.gpt-5.5: duplicate model id");
  c.models.pop_back();
  c.providers.push_back(c.providers[0]);
  EXPECT_EQ(ValidateConfig(c).error().message, "providers.openai: duplicate provider name");
  c.providers.pop_back();
  c.aliases.push_back({"economy", {"gpt-5.5"}});
  c.aliases.push_back({"economy", {"gpt-5.5"}});
  EXPECT_EQ(CheckReferences(c).error().message, "aliases.economy: duplicate alias name");
  c.aliases.clear();
  c.models[0].price.windows.push_back({"off-peak", 990, 990, {}});
  EXPECT_EQ(ValidateConfig(c).error().message,
            "models.gpt-5.5.price.windows[0].end: must differ from start");
  c.models[0].price.windows[0].end_minute_utc = 1440;
  EXPECT_EQ(ValidateConfig(c).error().message,
            "models.gpt-5.5.price.windows[0].end: must be between 0 and 1439, got 1440");
  c.models[0].price.windows.clear();
  c.models[0].price.standard.input = core::PricePerMTokens::FromMicro(-1);
  EXPECT_EQ(ValidateConfig(c).error().message, "models.gpt-5.5.price.input: must not be negative");
  EXPECT_TRUE(CheckReferences(c).has_value());  // references only
}

}  // namespace
}  // namespace sy::config
