// Config error messages never show what ${NAME} substitution produced: such a value may be a
// secret put in the wrong place. One test per position that quotes a value, with a key longer
// than Quote's 60-character cut, so a partial leak is caught too.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"

namespace sy::config {
namespace {

// 80 bytes; '-' makes it an invalid environment variable name, it is no URL and no host:port.
constexpr std::string_view kLongSecret =
    "sk-proj-Zx81kQ4mW7pLr2Tn9Bv6Hc3Jd5Fg0Ys1Ua8Ie4Ko7Mq2Wr6Et9Yu3Ip5As0Df2Gh8Jk1Lz4Xc7Vb";
constexpr std::string_view kShortSecret = "k3y!";

std::optional<std::string> SecretEnv(std::string_view name) {
  if (name == "LONG_SECRET") return std::string(kLongSecret);
  if (name == "SHORT_SECRET") return std::string(kShortSecret);
  if (name == "UPSTREAM_KEY") return std::string(kLongSecret);
  return std::nullopt;
}

constexpr std::string_view kProvider = R"(
providers:
  p: {kind: openai, base_url: "https://api.example.com/v1", api_key_env: UPSTREAM_KEY}
)";
constexpr std::string_view kModel = R"(
models:
  m:
    provider: p
    price: {input: "1", output: "2"}
)";

std::string WithProvider(std::string_view provider_fields) {
  return "providers:\n  p: {kind: openai, base_url: \"https://api.example.com/v1\", " +
         std::string(provider_fields) + "}\n" + std::string(kModel);
}

// The message of a config that must fail. Neither the value nor any 8-byte fragment of it may
// appear in it.
std::string ErrorOf(const std::string& yaml) {
  auto config = ParseConfig(yaml, "t.yaml", &SecretEnv);
  EXPECT_FALSE(config.has_value()) << yaml;
  if (config) return "";
  const std::string& message = config.error().message;
  for (size_t i = 0; i + 8 <= kLongSecret.size(); ++i) {
    EXPECT_EQ(message.find(kLongSecret.substr(i, 8)), std::string::npos) << message;
  }
  EXPECT_EQ(message.find(kShortSecret), std::string::npos) << message;
  return message;
}

TEST(ConfigSecretsTest, ProviderPositionsQuoteTheYamlText) {
  EXPECT_EQ(ErrorOf(std::string(kProvider) + "  q: {kind: openai, base_url: \"${LONG_SECRET}\"}\n" +
                    std::string(kModel)),
            "providers.q.base_url: \"${LONG_SECRET}\" is not an http:// or https:// URL");
  EXPECT_EQ(ErrorOf(WithProvider("api_key_env: \"${LONG_SECRET}\"")),
            "providers.p.api_key_env: \"${LONG_SECRET}\" is not a valid environment variable name");
  EXPECT_EQ(ErrorOf("providers:\n  p: {kind: \"${LONG_SECRET}\", base_url: \"https://a.b\"}\n" +
                    std::string(kModel)),
            "providers.p.kind: unknown kind \"${LONG_SECRET}\" (expected openai or anthropic)");
  EXPECT_EQ(ErrorOf(WithProvider("residency: [\"${LONG_SECRET}\", \"${LONG_SECRET}\"]")),
            "providers.p.residency[1]: \"${LONG_SECRET}\" is listed twice");
}

TEST(ConfigSecretsTest, TrimmedBaseUrlFallsBackToAMessageWithoutTheValue) {
  // base_url loses its trailing slash before validation, so the quote differs from the
  // substituted text; the cut quote would show the key's first 60 bytes.
  const std::string message = ErrorOf(
      "providers:\n  p: {kind: openai, base_url: \"${LONG_SECRET}/\"}\n" + std::string(kModel));
  EXPECT_EQ(message.rfind("providers.p.base_url: ", 0), 0u) << message;
}

TEST(ConfigSecretsTest, ServerAndModelPositions) {
  EXPECT_EQ(ErrorOf(std::string(kProvider) + std::string(kModel) +
                    "server: {listen: \"${LONG_SECRET}\"}\n"),
            "server.listen: \"${LONG_SECRET}\" is not host:port (e.g. 127.0.0.1:8080)");
  EXPECT_EQ(ErrorOf(std::string(kProvider) + std::string(kModel) +
                    "server: {listen: \"${SHORT_SECRET}\"}\n"),
            "server.listen: \"${SHORT_SECRET}\" is not host:port (e.g. 127.0.0.1:8080)");
  EXPECT_EQ(ErrorOf(std::string(kProvider) + "models:\n  m:\n    provider: \"${LONG_SECRET}\"\n"
                                             "    price: {input: \"1\", output: \"2\"}\n"),
            "models.m.provider: unknown provider \"${LONG_SECRET}\"");
  EXPECT_EQ(
      ErrorOf(std::string(kProvider) + std::string(kModel) + "    tier: \"${LONG_SECRET}\"\n"),
      "models.m.tier: unknown tier \"${LONG_SECRET}\" (expected frontier, standard or "
      "economy)");
  EXPECT_EQ(ErrorOf(std::string(kProvider) + std::string(kModel) +
                    "    capabilities: [\"${LONG_SECRET}\"]\n"),
            "models.m.capabilities[0]: unknown capability \"${LONG_SECRET}\" (expected tools, "
            "json_schema, vision or reasoning)");
  EXPECT_EQ(ErrorOf(std::string(kProvider) + std::string(kModel) +
                    "aliases:\n  a: [\"${LONG_SECRET}\"]\n"),
            "aliases.a[0]: unknown model \"${LONG_SECRET}\"");
}

TEST(ConfigSecretsTest, PriceWindowName) {
  const std::string windows = R"(
models:
  m:
    provider: p
    price:
      input: "1"
      output: "2"
      windows:
        - {name: "${LONG_SECRET}", start: "01:00", end: "02:00", input: "1", output: "2"}
        - {name: "${LONG_SECRET}", start: "03:00", end: "04:00", input: "1", output: "2"}
)";
  EXPECT_EQ(ErrorOf(std::string(kProvider) + windows),
            "models.m.price.windows[1].name: duplicate window name \"${LONG_SECRET}\"");
}

TEST(ConfigSecretsTest, SecretValuesListsEveryResolvedApiKey) {
  auto config =
      ParseConfig(std::string(kProvider) + "  q: {kind: anthropic, base_url: \"https://a.b\"}\n" +
                      std::string(kModel),
                  "t.yaml", &SecretEnv);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(SecretValues(*config), std::vector<std::string>{std::string(kLongSecret)});
}

// The database URL may hold a password: the URL and the password are both secrets, so neither
// reaches a log line or a client.
TEST(ConfigSecretsTest, SecretValuesHoldTheDatabaseUrlAndItsPassword) {
  auto config = ParseConfig(std::string(kProvider) + std::string(kModel) +
                                "database: {url: \"postgresql://sy:pw-123@db:5432/ledger\"}\n"
                                "auth: {mode: \"off\"}\n",
                            "t.yaml", &SecretEnv);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_THAT(SecretValues(*config),
              ::testing::IsSupersetOf(
                  {std::string("postgresql://sy:pw-123@db:5432/ledger"), std::string("pw-123")}));
}

TEST(ConfigSecretsTest, DatabasePassword) {
  const std::pair<std::string, std::string> cases[] = {
      {"postgresql://sy:pw@db:5432/ledger", "pw"},
      {"postgres://sy:p%40ss@db/ledger?sslmode=require", "p%40ss"},
      {"postgresql://sy@db/ledger?password=qs&sslmode=require", "qs"},
      {"postgresql://sy@db/ledger", ""},
      {"postgresql://db:5432/ledger", ""},  // the colon is the port's
      {"", ""},
  };
  for (const auto& [url, password] : cases) EXPECT_EQ(DatabasePassword(url), password) << url;
}

// The environment of a gateway whose /metrics asks for a token: the default variable holds the
// long secret, METRICS_SHORT a guessable one.
std::optional<std::string> MetricsEnv(std::string_view name) {
  if (name == "SWITCHYARD_METRICS_TOKEN") return std::string(kLongSecret);
  if (name == "METRICS_SHORT") return std::string(kShortSecret);
  if (name == "METRICS_EMPTY") return std::string();
  return SecretEnv(name);
}

// metrics.token_env names the variable; the token itself comes only from the environment and is
// a secret value, scrubbed like the admin token.
TEST(ConfigSecretsTest, MetricsTokenComesFromTheEnvironmentAndIsASecretValue) {
  const std::string base = std::string(kProvider) + std::string(kModel);
  const struct {
    std::string yaml;
    std::string token_env;
    std::string token;
  } cases[] = {
      {base, "SWITCHYARD_METRICS_TOKEN", std::string(kLongSecret)},
      {base + "metrics: {token_env: LONG_SECRET}\n", "LONG_SECRET", std::string(kLongSecret)},
      {base + "metrics: {token_env: UNSET_VARIABLE}\n", "UNSET_VARIABLE", ""},
      {base + "metrics: {token_env: METRICS_EMPTY}\n", "METRICS_EMPTY", ""},
      {base + "metrics: {token_env: \"\"}\n", "", ""},
  };
  for (const auto& c : cases) {
    auto config = ParseConfig(c.yaml, "t.yaml", &MetricsEnv);
    ASSERT_TRUE(config) << c.yaml << config.error().message;
    EXPECT_EQ(config->metrics.token_env, c.token_env) << c.yaml;
    EXPECT_EQ(config->metrics.token, c.token) << c.yaml;
    const auto secrets = SecretValues(*config);
    EXPECT_EQ(std::count(secrets.begin(), secrets.end(), std::string(kLongSecret)),
              c.token.empty() ? 1 : 2)  // the provider's api_key is the long secret too
        << c.yaml;
  }
}

// A guessable metrics token stops the start, naming the variable and never the value; a token
// written into the file is refused, so it cannot sit in a config checked into a repository.
TEST(ConfigSecretsTest, MetricsTokenErrorsNeverShowTheToken) {
  const std::string base = std::string(kProvider) + std::string(kModel);
  auto short_token =
      ParseConfig(base + "metrics: {token_env: METRICS_SHORT}\n", "t.yaml", &MetricsEnv);
  ASSERT_FALSE(short_token.has_value());
  EXPECT_EQ(short_token.error().message,
            "metrics.token_env: the metrics token in \"METRICS_SHORT\" must be at least 16 "
            "characters");
  EXPECT_EQ(ErrorOf(base + "metrics: {token: \"${LONG_SECRET}\"}\n"), "metrics.token: unknown key");
}

// Regression: an *_env setting that no shell can set (a typo, or the secret pasted in its place)
// left its secret unset without a word. It stops the start now, and the error does not echo it.
TEST(ConfigSecretsTest, AnEnvSettingMustNameAVariableAndIsNotEchoed) {
  const std::string base = std::string(kProvider) + std::string(kModel);
  const std::string pasted = "sk-pasted-secret-0123456789";
  for (const auto& [yaml, path] : std::vector<std::pair<std::string, std::string>>{
           {"auth: {admin_token_env: \"" + pasted + "\"}\n", "auth.admin_token_env"},
           {"auth: {pepper_env: \"1PEPPER\"}\n", "auth.pepper_env"},
           {"metrics: {token_env: \"MY TOKEN\"}\n", "metrics.token_env"},
       }) {
    const std::string error = ErrorOf(base + yaml);
    EXPECT_EQ(error, path +
                         ": must name an environment variable (letters, digits and _, not leading "
                         "with a digit)")
        << yaml;
    EXPECT_EQ(error.find(pasted), std::string::npos) << error;
  }
  // Empty turns the secret off, as before.
  auto off = ParseConfig(base + "auth: {admin_token_env: \"\"}\nmetrics: {token_env: \"\"}\n",
                         "t.yaml", &SecretEnv);
  EXPECT_TRUE(off.has_value()) << off.error().message;
}

}  // namespace
}  // namespace sy::config
