// Whole-config checks on the typed result: ranges, names, kinds, URLs, price windows, duplicates
// and cross-references. Paths use the YAML key names, so a message points at the line to fix.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/detail/checker.h"
#include "config/detail/sections.h"
#include "config/detail/yaml_reader.h"

namespace sy::config {
namespace {

using detail::Checker;
using detail::IndexPath;
using detail::JoinPath;
using detail::Quote;

constexpr int kMinutesPerDay = 24 * 60;
// Budgets are seeded at start from the ledger's spend of their current day or month, so
// retention keeps a whole month and a day.
constexpr int64_t kMinRetentionDays = 32;
constexpr int64_t kMaxRetentionDays = 36'500;

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("._:/@+-").find(c) != std::string_view::npos;
}

void CheckName(Checker& c, std::string_view path, std::string_view name) {
  if (name.empty() || name.size() > 128 || !std::all_of(name.begin(), name.end(), IsNameChar)) {
    c.Fail(path,
           "invalid name " + Quote(name) + " (use 1 to 128 letters, digits and . _ - : / @ +)");
  }
}

bool IsPort(std::string_view text, bool allow_zero) {
  if (text.empty() || text.size() > 5) return false;
  if (!std::all_of(text.begin(), text.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return false;
  }
  const int port = std::stoi(std::string(text));
  return port <= 65535 && (allow_zero || port > 0);
}

// "host:port" or "[v6]:port" -> true when well formed (port 0 asks for an ephemeral port).
bool IsHostPort(std::string_view text, bool allow_zero_port) {
  size_t colon = 0;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    colon = close + 1;
    if (colon >= text.size() || text[colon] != ':') return false;
  } else {
    colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    if (text.substr(0, colon).find(':') != std::string_view::npos) return false;
  }
  return IsPort(text.substr(colon + 1), allow_zero_port);
}

// host, host:port, [v6] or [v6]:port.
bool IsAuthority(std::string_view authority) {
  if (authority.empty()) return false;
  if (authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    return close + 1 == authority.size() || IsHostPort(authority, /*allow_zero_port=*/false);
  }
  return authority.find(':') == std::string_view::npos ||
         IsHostPort(authority, /*allow_zero_port=*/false);
}

void CheckUrl(Checker& c, std::string_view path, std::string_view url) {
  std::string lower(url);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char ch) { return ch >= 'A' && ch <= 'Z' ? static_cast<char>(ch + 32) : ch; });
  const size_t scheme_end = lower.rfind("http://", 0) == 0    ? 7
                            : lower.rfind("https://", 0) == 0 ? 8
                                                              : 0;
  // Query, fragment and user-info may carry secrets: these messages do not echo the URL.
  if (url.find_first_of("?#") != std::string_view::npos) {
    return c.Fail(path, "must not contain a query or fragment");
  }
  const std::string_view rest = url.substr(scheme_end);
  const std::string_view authority = rest.substr(0, rest.find('/'));
  if (authority.find('@') != std::string_view::npos) {
    return c.Fail(path, "must not contain credentials (user:password@); use api_key_env");
  }
  if (scheme_end == 0) return c.Fail(path, Quote(url) + " is not an http:// or https:// URL");
  if (std::any_of(url.begin(), url.end(),
                  [](char ch) { return static_cast<unsigned char>(ch) <= 0x20; })) {
    return c.Fail(path, Quote(url) + " contains whitespace or control characters");
  }
  if (!IsAuthority(authority)) return c.Fail(path, Quote(url) + " has no valid host[:port]");
}

void CheckServer(Checker& c, const ServerConfig& s) {
  if (!IsHostPort(s.listen, /*allow_zero_port=*/true)) {
    c.Fail("server.listen", Quote(s.listen) + " is not host:port (e.g. 127.0.0.1:8080)");
  }
  c.Range("server.threads", s.threads, 0, 1024);
  c.Range("server.max_body_bytes", s.max_body_bytes, 1, int64_t{1} << 32);
  c.Range("server.max_header_bytes", s.max_header_bytes, 1, int64_t{1} << 20);
  c.Range("server.max_json_depth", s.max_json_depth, 1, 10'000);
  c.Millis("server.request_read_timeout_ms", s.request_read_timeout, 1);
  c.Millis("server.idle_timeout_ms", s.idle_timeout, 1);
  c.Millis("server.shutdown_grace_ms", s.shutdown_grace, 0);
  c.Range("server.max_connections", s.max_connections, 1, 1'000'000);
  c.Range("server.max_buffered_body_bytes", s.max_buffered_body_bytes, 1, int64_t{1} << 40);
  if (s.max_buffered_body_bytes < s.max_body_bytes) {
    // Otherwise a body within max_body_bytes could never be accepted.
    c.Fail("server.max_buffered_body_bytes", "must be at least server.max_body_bytes (" +
                                                 std::to_string(s.max_body_bytes) + "), got " +
                                                 std::to_string(s.max_buffered_body_bytes));
  }
  c.Range("server.max_buffered_answer_bytes", s.max_buffered_answer_bytes, int64_t{1} << 20,
          int64_t{1} << 40);
  c.Millis("server.cancel_wait_ms", s.cancel_wait, 0);
}

void CheckUnique(Checker& c, std::string_view path, const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i].empty()) c.Fail(IndexPath(path, i), "must not be empty");
    if (std::find(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i), values[i]) !=
        values.begin() + static_cast<std::ptrdiff_t>(i)) {
      c.Fail(IndexPath(path, i), Quote(values[i]) + " is listed twice");
    }
  }
}

void CheckProvider(Checker& c, const ProviderConfig& p) {
  const std::string path = JoinPath("providers", p.name);
  CheckName(c, path, p.name);
  if (p.kind.empty()) {
    c.Fail(JoinPath(path, "kind"), "required");
  } else if (p.kind != "openai" && p.kind != "anthropic") {
    c.Fail(JoinPath(path, "kind"),
           "unknown kind " + Quote(p.kind) + " (expected openai or anthropic)");
  }
  if (p.api != "chat" && p.api != "responses") {
    c.Fail(JoinPath(path, "api"), "unknown api " + Quote(p.api) + " (expected chat or responses)");
  } else if (p.api == "responses" && p.kind != "openai") {
    c.Fail(JoinPath(path, "api"), "responses is only for kind openai");
  }
  if (p.base_url.empty()) c.Fail(JoinPath(path, "base_url"), "required");
  CheckUrl(c, JoinPath(path, "base_url"), p.base_url);
  CheckUnique(c, JoinPath(path, "residency"), p.residency);
  c.Millis(JoinPath(path, "timeouts.connect_ms"), p.timeouts.connect, 1);
  c.Millis(JoinPath(path, "timeouts.first_byte_ms"), p.timeouts.first_byte, 1);
  c.Millis(JoinPath(path, "timeouts.idle_ms"), p.timeouts.idle, 1);
  c.Range(JoinPath(path, "max_idle_connections"), p.max_idle_connections, 0, 100'000);
}

void CheckPriceList(Checker& c, std::string_view path, const PriceList& list) {
  const auto check = [&](std::string_view key, const core::PricePerMTokens& price) {
    if (price.micro() < 0) c.Fail(JoinPath(path, key), "must not be negative");
  };
  check("input", list.input);
  if (list.cached_input) check("cached_input", *list.cached_input);
  if (list.cache_write) check("cache_write", *list.cache_write);
  check("output", list.output);
}

void CheckWindow(Checker& c, std::string_view path, const PriceWindow& w) {
  CheckName(c, JoinPath(path, "name"), w.name);
  if (w.name == "standard") c.Fail(JoinPath(path, "name"), "\"standard\" is reserved");
  c.Range(JoinPath(path, "start"), w.start_minute_utc, 0, kMinutesPerDay - 1);
  c.Range(JoinPath(path, "end"), w.end_minute_utc, 0, kMinutesPerDay - 1);
  if (w.start_minute_utc == w.end_minute_utc)
    c.Fail(JoinPath(path, "end"), "must differ from start");
  CheckPriceList(c, path, w.prices);
}

void CheckPrice(Checker& c, std::string_view path, const PriceSchedule& p) {
  CheckPriceList(c, path, p.standard);
  if (p.batch) CheckPriceList(c, JoinPath(path, "batch"), *p.batch);
  if (p.example && p.note.empty()) c.Fail(JoinPath(path, "note"), "required when example is true");
  const std::string windows_path = JoinPath(path, "windows");
  for (size_t i = 0; i < p.windows.size(); ++i) {
    CheckWindow(c, IndexPath(windows_path, i), p.windows[i]);
    for (size_t j = 0; j < i; ++j) {
      if (p.windows[j].name == p.windows[i].name) {
        c.Fail(JoinPath(IndexPath(windows_path, i), "name"),
               "duplicate window name " + Quote(p.windows[i].name));
      }
    }
  }
}

void CheckDeployments(Checker& c, const std::string& model_path, const ModelConfig& m) {
  if (std::find(kDeploymentStrategies.begin(), kDeploymentStrategies.end(), m.strategy) ==
      kDeploymentStrategies.end()) {
    c.Fail(JoinPath(model_path, "strategy"),
           "unknown strategy " + Quote(m.strategy) +
               " (expected weighted, least_in_flight or latency)");
  }
  const std::string path = JoinPath(model_path, "deployments");
  for (size_t i = 0; i < m.deployments.size(); ++i) {
    const DeploymentConfig& d = m.deployments[i];
    const std::string item = IndexPath(path, i);
    CheckName(c, JoinPath(item, "name"), d.name);
    if (d.upstream_name.empty()) c.Fail(JoinPath(item, "upstream_name"), "must not be empty");
    c.Range(JoinPath(item, "weight"), d.weight, 1, 1'000'000);
    if (d.price) CheckPrice(c, JoinPath(item, "price"), *d.price);
    for (size_t j = 0; j < i; ++j) {
      if (m.deployments[j].name == d.name) {
        c.Fail(JoinPath(item, "name"), "duplicate deployment name " + Quote(d.name) +
                                           " (name deployments on the same provider)");
      }
    }
  }
}

void CheckModel(Checker& c, const ModelConfig& m) {
  const std::string path = JoinPath("models", m.id);
  CheckName(c, path, m.id);
  if (m.provider.empty()) c.Fail(JoinPath(path, "provider"), "required");
  if (m.upstream_name.empty()) c.Fail(JoinPath(path, "upstream_name"), "must not be empty");
  constexpr int64_t kMaxTokens = 1'000'000'000;
  c.Range(JoinPath(path, "context_window"), m.context_window, 0, kMaxTokens);
  c.Range(JoinPath(path, "max_output_tokens"), m.max_output_tokens, 0, kMaxTokens);
  if (m.context_window > 0 && m.max_output_tokens > m.context_window) {
    c.Fail(JoinPath(path, "max_output_tokens"), "exceeds context_window");
  }
  const std::string caps_path = JoinPath(path, "capabilities");
  CheckUnique(c, caps_path, m.capabilities);
  for (size_t i = 0; i < m.capabilities.size(); ++i) {
    if (std::find(kCapabilities.begin(), kCapabilities.end(), m.capabilities[i]) ==
        kCapabilities.end()) {
      c.Fail(IndexPath(caps_path, i), "unknown capability " + Quote(m.capabilities[i]) +
                                          " (expected tools, json_schema, vision or reasoning)");
    }
  }
  if (std::find(kTiers.begin(), kTiers.end(), m.tier) == kTiers.end()) {
    c.Fail(JoinPath(path, "tier"),
           "unknown tier " + Quote(m.tier) + " (expected frontier, standard or economy)");
  }
  CheckPrice(c, JoinPath(path, "price"), m.price);
  CheckDeployments(c, path, m);
}

void CheckFailoverAndLedger(Checker& c, const FailoverConfig& f, const LedgerConfig& l) {
  c.Millis("failover.total_deadline_ms", f.total_deadline, 1);
  c.Range("failover.max_attempts", f.max_attempts, 1, 100);
  c.Millis("failover.max_retry_after_ms", f.max_retry_after, 0);
  c.Millis("failover.max_cooldown_ms", f.max_cooldown, 0);
  c.Range("failover.retries_per_deployment", f.retries_per_deployment, 0, 10);
  c.Millis("failover.backoff_base_ms", f.backoff_base, 0);
  c.Millis("failover.backoff_max_ms", f.backoff_max, 0);
  if (f.backoff_max < f.backoff_base) {
    c.Fail("failover.backoff_max_ms", "must not be below backoff_base_ms");
  }
  if (l.sqlite_path.empty()) c.Fail("ledger.sqlite_path", "must not be empty");
  c.Range("ledger.batch_size", l.batch_size, 1, 1'000'000);
  c.Millis("ledger.flush_interval_ms", l.flush_interval, 1);
  c.Range("ledger.queue_capacity", l.queue_capacity, 1, 100'000'000);
  if (l.batch_size > l.queue_capacity) {
    c.Fail("ledger.batch_size",
           "must not exceed queue_capacity (" + std::to_string(l.queue_capacity) + ")");
  }
  c.Range("ledger.spill_max_bytes", l.spill_max_bytes, int64_t{1} << 20, int64_t{1} << 40);
  if (l.retention_days != 0 &&
      (l.retention_days < kMinRetentionDays || l.retention_days > kMaxRetentionDays)) {
    c.Fail("ledger.retention_days",
           "must be 0 (keep every row) or " + std::to_string(kMinRetentionDays) + " to " +
               std::to_string(kMaxRetentionDays) +
               " (budgets are seeded from the ledger's spend of their current month)");
  }
}

// The URL is never quoted: it may hold a password.
void CheckDatabase(Checker& c, const DatabaseConfig& d, const AuthConfig& auth) {
  if (!d.url.empty() && !d.url.starts_with("postgresql://") && !d.url.starts_with("postgres://")) {
    c.Fail("database.url",
           "must be a postgresql:// URL, or absent for the SQLite file ledger.sqlite_path");
  }
  // Client keys then live in PostgreSQL, and every replica (and `switchyard keys`) hashes the
  // secrets it sees: all must use one pepper. The file a SQLite ledger keeps it in is per replica,
  // so with database.url the pepper must come from the environment.
  if (!d.url.empty() && auth.mode == "keys" && auth.pepper.empty()) {
    c.Fail("auth.pepper_env",
           "with database.url every replica must share the key pepper: " +
               (auth.pepper_env.empty() ? std::string("name the environment variable that holds it")
                                        : "set " + Quote(auth.pepper_env)) +
               " (16+ characters, the same value in every replica)");
  }
  c.Range("database.connect_timeout_s", d.connect_timeout.count(), 1, 600);
}

// The URL is never quoted: it may hold a password.
void CheckSharedState(Checker& c, const SharedStateConfig& s) {
  if (!s.redis_url.empty() && !s.redis_url.starts_with("redis://")) {
    c.Fail("shared_state.redis_url", "must be a redis:// URL, or absent for in-process counters");
  }
  if (s.on_failure != "fail_open" && s.on_failure != "fail_closed") {
    c.Fail("shared_state.on_failure",
           "unknown mode " + Quote(s.on_failure) + " (expected fail_open or fail_closed)");
  }
  if (s.key_prefix.size() > 64) c.Fail("shared_state.key_prefix", "must be at most 64 bytes");
  c.Range("shared_state.allowance_percent", s.allowance_percent, 1, 50);
  c.Millis("shared_state.sync_interval_ms", s.sync_interval, 10);
  c.Millis("shared_state.timeout_ms", s.timeout, 10);
}

void CheckHealthAndVerification(Checker& c, const HealthConfig& h, const VerificationConfig& v) {
  const BreakerConfig& b = h.breaker;
  c.Range("health.breaker.consecutive_failures", b.consecutive_failures, 0, 1'000'000);
  c.Range("health.breaker.min_requests", b.min_requests, 1, 1'000'000);
  c.Millis("health.breaker.window_ms", b.window, 1);
  c.Millis("health.breaker.cool_off_ms", b.cool_off, 1);
  if (b.error_rate <= 0) c.Fail("health.breaker.error_rate", "must be above 0 (1 = never)");
  c.Range("verification.max_held_bytes", v.max_held_bytes, 1024, int64_t{1} << 30);
  if (v.refusal_phrases) {
    for (size_t i = 0; i < v.refusal_phrases->size(); ++i) {
      const std::string& phrase = (*v.refusal_phrases)[i];
      if (phrase.empty() || phrase.size() > 200) {
        c.Fail(IndexPath("verification.refusal_phrases", i), "must be 1-200 bytes");
      }
    }
  }
}

template <typename T, typename Name>
bool Contains(const std::vector<T>& items, size_t end, std::string_view name, Name name_of) {
  for (size_t i = 0; i < end && i < items.size(); ++i) {
    if (name_of(items[i]) == name) return true;
  }
  return false;
}

void CheckAliasReferences(Checker& c, const Config& config) {
  const auto model_id = [](const ModelConfig& m) -> const std::string& { return m.id; };
  const auto alias_name = [](const AliasConfig& a) -> const std::string& { return a.name; };
  for (size_t i = 0; i < config.aliases.size(); ++i) {
    const AliasConfig& alias = config.aliases[i];
    const std::string path = JoinPath("aliases", alias.name);
    if (Contains(config.aliases, i, alias.name, alias_name)) c.Fail(path, "duplicate alias name");
    if (Contains(config.models, config.models.size(), alias.name, model_id)) {
      c.Fail(path, "alias name is already a model id");
    }
    if (alias.models.empty()) c.Fail(path, "must list at least one model");
    for (size_t j = 0; j < alias.models.size(); ++j) {
      const std::string& id = alias.models[j];
      if (Contains(config.models, config.models.size(), id, model_id)) continue;
      if (Contains(config.aliases, config.aliases.size(), id, alias_name)) {
        c.Fail(IndexPath(path, j), Quote(id) + " is an alias; an alias lists model ids");
      }
      c.Fail(IndexPath(path, j), "unknown model " + Quote(id));
    }
    CheckUnique(c, path, alias.models);
  }
}

// A model's other ids name it exactly like its id: none may be taken twice.
void CheckOtherIds(Checker& c, const Config& config) {
  std::map<std::string, std::string> taken;  // name -> what already has it
  for (const ModelConfig& m : config.models) taken.emplace(m.id, "model " + Quote(m.id));
  for (const AliasConfig& a : config.aliases) taken.emplace(a.name, "alias " + Quote(a.name));
  for (const ModelConfig& m : config.models) {
    const std::string path = JoinPath(JoinPath("models", m.id), "ids");
    for (size_t i = 0; i < m.ids.size(); ++i) {
      CheckName(c, IndexPath(path, i), m.ids[i]);
      auto [it, fresh] = taken.emplace(m.ids[i], "model " + Quote(m.id));
      if (!fresh) c.Fail(IndexPath(path, i), Quote(m.ids[i]) + " already names " + it->second);
    }
  }
}

}  // namespace

core::Status CheckReferences(const Config& config) {
  Checker c;
  const auto provider_name = [](const ProviderConfig& p) -> const std::string& { return p.name; };
  const auto model_id = [](const ModelConfig& m) -> const std::string& { return m.id; };
  for (size_t i = 0; i < config.providers.size(); ++i) {
    const std::string& name = config.providers[i].name;
    if (Contains(config.providers, i, name, provider_name)) {
      c.Fail(JoinPath("providers", name), "duplicate provider name");
    }
  }
  for (size_t i = 0; i < config.models.size(); ++i) {
    const ModelConfig& m = config.models[i];
    const std::string path = JoinPath("models", m.id);
    if (Contains(config.models, i, m.id, model_id)) c.Fail(path, "duplicate model id");
    if (m.deployments.empty() &&
        !Contains(config.providers, config.providers.size(), m.provider, provider_name)) {
      c.Fail(JoinPath(path, "provider"), "unknown provider " + Quote(m.provider));
    }
    for (size_t j = 0; j < m.deployments.size(); ++j) {
      const std::string& provider = m.deployments[j].provider;
      if (!Contains(config.providers, config.providers.size(), provider, provider_name)) {
        c.Fail(JoinPath(IndexPath(JoinPath(path, "deployments"), j), "provider"),
               "unknown provider " + Quote(provider));
      }
    }
  }
  CheckAliasReferences(c, config);
  CheckOtherIds(c, config);
  return c.status();
}

namespace {

// A secret shorter than this is guessable; refusing it at start beats finding out later.
constexpr size_t kMinSecretChars = 16;

// A *_env setting names a variable; one no shell can set (a typo, or the secret itself pasted in
// its place) would leave the secret unset without a word. The name is not echoed, since it may be
// that secret. Empty is allowed: it turns the secret off.
void CheckEnvName(Checker& c, const std::string& path, const std::string& name) {
  if (!name.empty() && !detail::IsEnvName(name)) {
    c.Fail(path,
           "must name an environment variable (letters, digits and _, not leading with a digit)");
  }
}

void CheckAuth(Checker& c, const AuthConfig& auth) {
  CheckEnvName(c, "auth.admin_token_env", auth.admin_token_env);
  CheckEnvName(c, "auth.pepper_env", auth.pepper_env);
  if (auth.mode != "keys" && auth.mode != "off") {
    c.Fail("auth.mode", "unknown mode " + Quote(auth.mode) + " (expected keys or off)");
  }
  if (auth.budget_check != "estimate" && auth.budget_check != "after") {
    c.Fail("auth.budget_check",
           "unknown check " + Quote(auth.budget_check) + " (expected estimate or after)");
  }
  c.Range("auth.rotation_grace_s", auth.rotation_grace.count(), 0, 30 * 86'400);
  c.Range("auth.reload_interval_ms", auth.reload_interval.count(), 100, 60'000);
  if (!auth.admin_token.empty() && auth.admin_token.size() < kMinSecretChars) {
    c.Fail("auth.admin_token_env",
           "the admin token in " + Quote(auth.admin_token_env) + " must be at least 16 characters");
  }
  if (!auth.pepper.empty() && auth.pepper.size() < kMinSecretChars) {
    c.Fail("auth.pepper_env",
           "the pepper in " + Quote(auth.pepper_env) + " must be at least 16 characters");
  }
}

void CheckMetrics(Checker& c, const MetricsConfig& metrics) {
  CheckEnvName(c, "metrics.token_env", metrics.token_env);
  c.Range("metrics.max_tenant_labels", metrics.max_tenant_labels, 0, 1'000'000);
  if (!metrics.token.empty() && metrics.token.size() < kMinSecretChars) {
    c.Fail("metrics.token_env",
           "the metrics token in " + Quote(metrics.token_env) + " must be at least 16 characters");
  }
}

}  // namespace

core::Status ValidateConfig(const Config& config) {
  Checker c;
  CheckServer(c, config.server);
  for (const ProviderConfig& p : config.providers) CheckProvider(c, p);
  if (config.models.empty()) c.Fail("models", "at least one model is required");
  for (const ModelConfig& m : config.models) CheckModel(c, m);
  for (const AliasConfig& a : config.aliases) CheckName(c, JoinPath("aliases", a.name), a.name);
  c.Take(CheckReferences(config));
  detail::CheckRouting(c, config);
  CheckFailoverAndLedger(c, config.failover, config.ledger);
  CheckDatabase(c, config.database, config.auth);
  CheckSharedState(c, config.shared_state);
  c.Range("responses.retention_days", config.responses.retention.count() / 24, 1, 3650);
  c.Range("responses.max_stored_bytes_per_key", config.responses.max_stored_bytes_per_key,
          int64_t{1} << 20, int64_t{1} << 40);
  CheckHealthAndVerification(c, config.health, config.verification);
  CheckAuth(c, config.auth);
  CheckMetrics(c, config.metrics);
  if (config.access_log.path.empty()) c.Fail("access_log.path", "must be \"-\" or a file path");
  return c.status();
}

}  // namespace sy::config
