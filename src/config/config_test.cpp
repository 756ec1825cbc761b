// ParseConfig: the YAML schema, defaults, ${NAME} substitution, and one test per message kind,
// each asserting the exact path.
#include "config/config.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <unistd.h>

namespace sy::config {
namespace {

constexpr std::string_view kSecret = "sk-secret-value-1234";

std::optional<std::string> FakeEnv(std::string_view name) {
  if (name == "OPENAI_API_KEY") return std::string(kSecret);
  if (name == "EMULATOR_URL") return "http://127.0.0.1:9999";
  if (name == "EMPTY_KEY") return "";
  return std::nullopt;
}

// A minimal valid config; tests append to it or replace parts of it.
constexpr std::string_view kProviders = R"(
providers:
  openai: {kind: openai, base_url: "https://api.openai.com/v1", api_key_env: OPENAI_API_KEY}
)";
constexpr std::string_view kModels = R"(
models:
  gpt-5.5:
    provider: openai
    price: {input: "5.00", output: "30.00"}
)";

std::string Minimal(std::string_view extra = "") {
  return std::string(kProviders) + std::string(kModels) + std::string(extra);
}

Config MustParse(const std::string& yaml) {
  auto config = ParseConfig(yaml, "t.yaml", &FakeEnv);
  EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().message);
  return config ? *config : Config{};
}

// The message of a config that must fail; also checks no secret leaks into it.
std::string ErrorOf(const std::string& yaml) {
  auto config = ParseConfig(yaml, "t.yaml", &FakeEnv);
  EXPECT_FALSE(config.has_value()) << yaml;
  if (config) return "";
  EXPECT_EQ(config.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(config.error().message.find(kSecret), std::string::npos);
  return config.error().message;
}

TEST(ParseConfigTest, MinimalConfigGetsDefaults) {
  const Config c = MustParse(Minimal());
  EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(c.server.max_body_bytes, 8 * 1024 * 1024);
  EXPECT_EQ(c.server.max_connections, 4096);
  EXPECT_EQ(c.server.max_buffered_body_bytes, 256 * 1024 * 1024);
  EXPECT_EQ(c.server.cancel_wait, std::chrono::milliseconds(3000));
  ASSERT_EQ(c.providers.size(), 1u);
  EXPECT_EQ(c.providers[0].name, "openai");
  EXPECT_EQ(c.providers[0].api_key, kSecret);
  EXPECT_TRUE(c.providers[0].tls_verify);
  EXPECT_EQ(c.providers[0].timeouts.first_byte, std::chrono::milliseconds(60'000));
  ASSERT_EQ(c.models.size(), 1u);
  EXPECT_EQ(c.models[0].id, "gpt-5.5");
  EXPECT_EQ(c.models[0].upstream_name, "gpt-5.5");
  EXPECT_EQ(c.models[0].tier, "standard");
  EXPECT_EQ(c.models[0].price.standard.input.micro(), 5'000'000);
  EXPECT_EQ(c.models[0].price.standard.output.micro(), 30'000'000);
  EXPECT_FALSE(c.models[0].price.standard.cached_input.has_value());
  EXPECT_EQ(c.failover.max_attempts, 4);
  EXPECT_EQ(c.ledger.batch_size, 512);
  EXPECT_EQ(c.metrics.max_tenant_labels, 1000);
}

TEST(ParseConfigTest, ReadsEveryField) {
  const Config c = MustParse(R"(
server: {listen: "[::1]:0", threads: 2, max_body_bytes: 1024, max_header_bytes: 512,
         max_json_depth: 8, request_read_timeout_ms: 100, idle_timeout_ms: 200,
         max_connections: 10, max_buffered_body_bytes: 4096, cancel_wait_ms: 300}
providers:
  eu: {kind: anthropic, base_url: "https://eu.example.com:8443/v1/", region: eu,
       residency: [eu, gdpr], timeouts: {connect_ms: 1, first_byte_ms: 2, idle_ms: 3},
       tls_verify: false, ca_file: /etc/ca.pem, max_idle_connections: 0}
models:
  m:
    provider: eu
    upstream_name: m-2025
    context_window: 1000
    max_output_tokens: 100
    capabilities: [tools, vision]
    tier: economy
    price:
      input: 1.5
      cached_input: 0.014
      cache_write: "1.875"
      output: 3
      example: true
      note: an example
      windows: [{name: night, start: "22:00", end: "06:00", input: 1, output: 2}]
      batch: {input: "0.75", output: "1.5"}
failover: {total_deadline_ms: 5000, max_attempts: 2, max_retry_after_ms: 0}
ledger: {sqlite_path: /tmp/l.db, batch_size: 10, flush_interval_ms: 50, queue_capacity: 100,
         retention_days: 400}
metrics: {max_tenant_labels: 0}
)");
  EXPECT_EQ(c.metrics.max_tenant_labels, 0);
  EXPECT_EQ(c.server.listen, "[::1]:0");
  EXPECT_EQ(c.server.threads, 2);
  EXPECT_EQ(c.server.idle_timeout, std::chrono::milliseconds(200));
  EXPECT_EQ(c.server.max_connections, 10);
  EXPECT_EQ(c.server.max_buffered_body_bytes, 4096);
  EXPECT_EQ(c.server.cancel_wait, std::chrono::milliseconds(300));
  const ProviderConfig& p = c.providers.at(0);
  EXPECT_EQ(p.base_url, "https://eu.example.com:8443/v1");  // trailing slash removed
  EXPECT_EQ(p.api_key, "");
  EXPECT_EQ(p.residency, (std::vector<std::string>{"eu", "gdpr"}));
  EXPECT_EQ(p.timeouts.idle, std::chrono::milliseconds(3));
  EXPECT_FALSE(p.tls_verify);
  EXPECT_EQ(p.ca_file, "/etc/ca.pem");
  const ModelConfig& m = c.models.at(0);
  EXPECT_EQ(m.upstream_name, "m-2025");
  EXPECT_EQ(m.max_output_tokens, 100);
  EXPECT_EQ(m.capabilities, (std::vector<std::string>{"tools", "vision"}));
  EXPECT_EQ(m.price.standard.input.micro(), 1'500'000);  // plain scalars parsed from text
  EXPECT_EQ(m.price.standard.cached_input->micro(), 14'000);
  EXPECT_EQ(m.price.standard.cache_write->micro(), 1'875'000);
  EXPECT_TRUE(m.price.example);
  ASSERT_EQ(m.price.windows.size(), 1u);
  EXPECT_EQ(m.price.windows[0].start_minute_utc, 22 * 60);
  EXPECT_EQ(m.price.windows[0].end_minute_utc, 6 * 60);
  EXPECT_EQ(m.price.windows[0].prices.output.micro(), 2'000'000);
  ASSERT_TRUE(m.price.batch.has_value());
  EXPECT_EQ(m.price.batch->input.micro(), 750'000);
  EXPECT_FALSE(m.price.batch->cached_input.has_value());
  EXPECT_EQ(c.failover.max_retry_after, std::chrono::milliseconds(0));
  EXPECT_EQ(c.ledger.queue_capacity, 100);
  EXPECT_EQ(c.ledger.retention_days, 400);
}

TEST(ParseConfigTest, NamedMapsKeepDocumentOrder) {
  const Config c = MustParse(std::string(kProviders) + R"(
models:
  zeta: {provider: openai, price: {input: 1, output: 1}}
  alpha: {provider: openai, price: {input: 1, output: 1}}
  mid: {provider: openai, price: {input: 1, output: 1}}
aliases:
  z: [mid, zeta]
  a: [alpha]
)");
  ASSERT_EQ(c.models.size(), 3u);
  EXPECT_EQ(c.models[0].id, "zeta");
  EXPECT_EQ(c.models[1].id, "alpha");
  EXPECT_EQ(c.models[2].id, "mid");
  ASSERT_EQ(c.aliases.size(), 2u);
  EXPECT_EQ(c.aliases[0].name, "z");
  EXPECT_EQ(c.aliases[0].models, (std::vector<std::string>{"mid", "zeta"}));
}

TEST(ParseConfigTest, SubstitutesEnvironmentInStrings) {
  const Config c = MustParse(std::string(kModels) + R"(
providers:
  openai: {kind: openai, base_url: "${EMULATOR_URL}/v1", ca_file: "a$$b$c"}
)");
  EXPECT_EQ(c.providers[0].base_url, "http://127.0.0.1:9999/v1");
  EXPECT_EQ(c.providers[0].ca_file, "a$b$c");
}

TEST(ParseConfigTest, SubstitutionErrors) {
  EXPECT_EQ(ErrorOf(Minimal("ledger: {sqlite_path: \"${NOPE}/l.db\"}")),
            "ledger.sqlite_path: environment variable NOPE is not set");
  EXPECT_EQ(ErrorOf(Minimal("ledger: {sqlite_path: \"${HOME\"}")),
            "ledger.sqlite_path: unterminated ${ in \"${HOME\"");
  EXPECT_EQ(ErrorOf(Minimal("ledger: {sqlite_path: \"${1X}\"}")),
            "ledger.sqlite_path: invalid variable name \"1X\" in ${...}");
}

TEST(ParseConfigTest, PriceErrors) {
  const auto with_price = [](std::string_view price) {
    return std::string(kProviders) +
           "models:\n  gpt-5.5:\n    provider: openai\n    price: " + std::string(price) + "\n";
  };
  EXPECT_EQ(ErrorOf(with_price(R"({input: "5", output: "30.0.0"})")),
            "models.gpt-5.5.price.output: \"30.0.0\" is not a decimal number");
  EXPECT_EQ(ErrorOf(with_price("{input: 5, output: 1e3}")),
            "models.gpt-5.5.price.output: \"1e3\" is not a decimal number");
  EXPECT_EQ(ErrorOf(with_price("{input: 0.0000001, output: 1}")),
            "models.gpt-5.5.price.input: \"0.0000001\" has more than 6 decimal places");
  EXPECT_EQ(ErrorOf(with_price("{input: -1, output: 1}")),
            "models.gpt-5.5.price.input: \"-1\" is negative");
  EXPECT_EQ(ErrorOf(with_price(R"({input: "5"})")), "models.gpt-5.5.price.output: required");
  EXPECT_EQ(ErrorOf(with_price("{input: [5], output: 1}")),
            "models.gpt-5.5.price.input: expected a decimal price");
  EXPECT_EQ(ErrorOf(with_price("{input: 1, output: 1, example: true}")),
            "models.gpt-5.5.price.note: required when example is true");
  EXPECT_EQ(ErrorOf(std::string(kProviders) + "models:\n  gpt-5.5: {provider: openai}\n"),
            "models.gpt-5.5.price: required");
}

TEST(ParseConfigTest, WindowErrors) {
  const auto with_window = [](std::string_view window) {
    return std::string(kProviders) +
           "models:\n  m:\n    provider: openai\n    price: {input: 1, output: 1, windows: [" +
           std::string(window) + "]}\n";
  };
  EXPECT_EQ(ErrorOf(with_window(R"({name: w, start: "25:00", end: "01:00", input: 1, output: 1})")),
            "models.m.price.windows[0].start: \"25:00\" is not a time of day (expected HH:MM, "
            "00:00 to 23:59)");
  EXPECT_EQ(ErrorOf(with_window(R"({name: w, start: "1:00", end: "01:00", input: 1, output: 1})")),
            "models.m.price.windows[0].start: \"1:00\" is not a time of day (expected HH:MM, "
            "00:00 to 23:59)");
  EXPECT_EQ(ErrorOf(with_window(R"({name: w, start: "10:00", end: "10:00", input: 1, output: 1})")),
            "models.m.price.windows[0].end: must differ from start");
  EXPECT_EQ(ErrorOf(with_window(R"({name: w, start: "10:00", end: "11:00", input: 1})")),
            "models.m.price.windows[0].output: required");
  EXPECT_EQ(ErrorOf(with_window(R"({name: w, start: "10:00", end: "11:00", input: 1, output: 1},
                                   {name: w, start: "12:00", end: "13:00", input: 1, output: 1})")),
            "models.m.price.windows[1].name: duplicate window name \"w\"");
  EXPECT_EQ(ErrorOf(with_window(
                R"({name: standard, start: "10:00", end: "11:00", input: 1, output: 1})")),
            "models.m.price.windows[0].name: \"standard\" is reserved");
  EXPECT_EQ(ErrorOf(with_window("7")), "models.m.price.windows[0]: expected a map");
}

TEST(ParseConfigTest, BatchListErrors) {
  const auto with_batch = [](std::string_view batch) {
    return std::string(kProviders) +
           "models:\n  m:\n    provider: openai\n    price: {input: 1, output: 1, batch: " +
           std::string(batch) + "}\n";
  };
  EXPECT_EQ(ErrorOf(with_batch("{input: 1}")), "models.m.price.batch.output: required");
  EXPECT_EQ(ErrorOf(with_batch("{input: 1, output: -1}")),
            "models.m.price.batch.output: \"-1\" is negative");
  EXPECT_EQ(ErrorOf(with_batch("{input: 1, output: 1, window: x}")),
            "models.m.price.batch.window: unknown key");
}

TEST(ParseConfigTest, UnknownKeysAreRejected) {
  EXPECT_EQ(ErrorOf(Minimal("server: {listn: \"0.0.0.0:1\"}")), "server.listn: unknown key");
  EXPECT_EQ(ErrorOf(Minimal("rate_limits: {}")), "rate_limits: unknown key");
  EXPECT_EQ(ErrorOf(Minimal("failover: {timeout_ms: 5}")), "failover.timeout_ms: unknown key");
  EXPECT_EQ(ErrorOf(std::string(kProviders) +
                    "models:\n  m: {provider: openai, prise: {}, price: {input: 1, output: 1}}\n"),
            "models.m.prise: unknown key");
  EXPECT_EQ(
      ErrorOf(std::string(kModels) + "providers:\n  openai: {kind: openai, base_url: \"http://x\", "
                                     "timeouts: {connect: 5}}\n"),
      "providers.openai.timeouts.connect: unknown key");
}

TEST(ParseConfigTest, DuplicateKeysAreRejected) {
  EXPECT_EQ(ErrorOf(std::string(kProviders) + R"(
models:
  gpt-5.5: {provider: openai, price: {input: 1, output: 1}}
  gpt-5.5: {provider: openai, price: {input: 2, output: 2}}
)"),
            "models.gpt-5.5: duplicate key");
  EXPECT_EQ(ErrorOf(Minimal("server: {threads: 1, threads: 2}")), "server.threads: duplicate key");
}

TEST(ParseConfigTest, WrongTypes) {
  EXPECT_EQ(ErrorOf(Minimal("server: [1, 2]")), "server: expected a map");
  EXPECT_EQ(ErrorOf(Minimal("server: {threads: many}")),
            "server.threads: expected an integer, got \"many\"");
  EXPECT_EQ(ErrorOf(Minimal("server: {threads: 1.5}")),
            "server.threads: expected an integer, got \"1.5\"");
  EXPECT_EQ(ErrorOf(Minimal("server: {threads: 99999999999}")),
            "server.threads: \"99999999999\" is out of range");
  EXPECT_EQ(ErrorOf(Minimal("server: {max_body_bytes: 99999999999999999999}")),
            "server.max_body_bytes: \"99999999999999999999\" is out of range");
  EXPECT_EQ(ErrorOf(Minimal("server: {listen: {a: 1}}")), "server.listen: expected a string");
  EXPECT_EQ(ErrorOf(Minimal("aliases: {economy: gpt-5.5}")),
            "aliases.economy: expected a list of model ids");
  EXPECT_EQ(ErrorOf(Minimal("aliases: [gpt-5.5]")), "aliases: expected a map keyed by name");
  EXPECT_EQ(
      ErrorOf(std::string(kModels) +
              "providers:\n  openai: {kind: openai, base_url: \"http://x\", tls_verify: yes}\n"),
      "providers.openai.tls_verify: expected true or false, got \"yes\"");
  EXPECT_EQ(ErrorOf(std::string(kProviders) +
                    "models:\n  m: {provider: openai, capabilities: tools, price: {input: 1, "
                    "output: 1}}\n"),
            "models.m.capabilities: expected a list of strings");
  EXPECT_EQ(ErrorOf("- a\n- b\n"), "t.yaml: the top level must be a map");
}

TEST(ParseConfigTest, SyntaxErrorsCarryLineAndColumn) {
  const std::string message = ErrorOf("server:\n  listen: a\n    b: c\n");
  EXPECT_EQ(message.rfind("t.yaml:3:", 0), 0u) << message;
  const std::string flow = ErrorOf("server: {threads: 1\n");
  EXPECT_EQ(flow.rfind("t.yaml:", 0), 0u) << flow;
}

// Twelve levels of nine aliases: 9^12 paths through a 1 KB document, which the walk that keeps
// substituted values out of error messages followed one by one for hours (audit 2, finding 3).
// Anchors are refused before any walk, at the first one.
TEST(ParseConfigTest, BillionLaughsIsRefusedAtTheFirstAnchor) {
  std::string laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x]\n";
  for (int level = 1; level < 12; ++level) {
    const std::string alias = "*a" + std::to_string(level - 1);
    laughs += "a" + std::to_string(level) + ": &a" + std::to_string(level) + " [";
    for (int i = 0; i < 9; ++i) laughs += (i == 0 ? "" : ", ") + alias;
    laughs += "]\n";
  }
  EXPECT_EQ(ErrorOf(laughs + Minimal()),
            "t.yaml:1:5: anchors (&name) are not supported; write the value out");
  // The same under a field the reader reads, and after a valid config.
  EXPECT_EQ(ErrorOf(Minimal("server: {listen: *a11}\n" + laughs)).rfind("t.yaml:", 0), 0u);
  EXPECT_EQ(ErrorOf(Minimal(laughs)),
            "t.yaml:9:5: anchors (&name) are not supported; write the value out");
}

TEST(ParseConfigTest, AnchorsAndAliasesAreRefused) {
  EXPECT_EQ(ErrorOf("server: &s {threads: 1}\n"),
            "t.yaml:1:9: anchors (&name) are not supported; write the value out");
  EXPECT_EQ(ErrorOf(Minimal("server:\n  listen: &l \"127.0.0.1:8080\"\n")),
            "t.yaml:10:11: anchors (&name) are not supported; write the value out");
  // A "*" inside a quoted string is text, not an alias.
  EXPECT_EQ(MustParse(Minimal("access_log: {path: \"*a\"}\n")).access_log.path, "*a");
}

// An appended "---\nserver: {threads: 1}" was dropped without a word (audit 2, finding 12).
TEST(ParseConfigTest, ASecondDocumentIsRefused) {
  const std::string second =
      "t.yaml:9:1: a second YAML document (after \"---\"): the file must hold one document, so "
      "nothing in it is silently ignored";
  EXPECT_EQ(ErrorOf(Minimal("---\nserver: {threads: 1}\n")), second);
  EXPECT_EQ(ErrorOf(Minimal("---\n")), second);
  // One document, with its optional start and end markers, is fine.
  EXPECT_EQ(MustParse("---\n" + Minimal("server: {threads: 3}\n...\n")).server.threads, 3);
}

// yaml-cpp stops at 2000 levels with the message "bad file" (audit 2).
TEST(ParseConfigTest, DeepNestingIsNamedAsSuch) {
  const std::string deep = "a: " + std::string(3000, '[') + std::string(3000, ']') + "\n";
  const std::string error = ErrorOf(deep);
  EXPECT_EQ(error.rfind("t.yaml:1:", 0), 0u) << error;
  EXPECT_NE(error.find(": nested too deeply (more than 2000 levels)"), std::string::npos) << error;
}

TEST(ParseConfigTest, EmptyDocumentNeedsAModel) {
  EXPECT_EQ(ErrorOf(""), "models: at least one model is required");
  EXPECT_EQ(ErrorOf(std::string(kProviders)), "models: at least one model is required");
}

TEST(LoadConfigFileTest, MissingFileIsNotFound) {
  auto config = LoadConfigFile("/nonexistent/switchyard.yaml", &FakeEnv);
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().code, core::Errc::kNotFound);
  EXPECT_EQ(config.error().message, "config file /nonexistent/switchyard.yaml: no such file");
}

// `serve --config /dev/zero` grew to 7 GB in 20 s (audit 2, finding 5): what is not a regular
// file is refused unread, and a file over the limit before it is read.
TEST(LoadConfigFileTest, RefusesWhatIsNotARegularFileOrTooLarge) {
  for (const std::string path : {"/dev/zero", "/"}) {
    auto config = LoadConfigFile(path, &FakeEnv);
    ASSERT_FALSE(config.has_value()) << path;
    EXPECT_EQ(config.error().code, core::Errc::kInvalidRequest) << path;
    EXPECT_EQ(config.error().message, "config file " + path + ": not a regular file");
  }
  // Sparse: one byte over the limit costs no disk.
  const std::string big =
      ::testing::TempDir() + "config_test_big_" + std::to_string(::getpid()) + ".yaml";
  std::ofstream(big).close();
  std::filesystem::resize_file(big, kMaxConfigFileBytes + 1);
  auto config = LoadConfigFile(big, &FakeEnv);
  std::filesystem::remove(big);
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().code, core::Errc::kPayloadTooLarge);
  EXPECT_EQ(config.error().message, "config file " + big + ": larger than 16777216 bytes");
}

}  // namespace
}  // namespace sy::config
