// YAML text -> config::Config. The schema is documented in docs/configuration.md; this file reads
// the top level and the plain sections (server, failover, ledger); sections.cpp reads providers,
// models and aliases; validate.cpp checks the typed result as a whole.
#include "config/config.h"

#include <cstdlib>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/detail/sections.h"
#include "config/detail/yaml_reader.h"
#include "core/file.h"
#include "core/secrets.h"

namespace sy::config {
namespace {

using detail::MapReader;

void ReadServer(MapReader& root, ServerConfig& out) {
  root.Map("server",
           {"listen", "threads", "max_body_bytes", "max_header_bytes", "max_json_depth",
            "request_read_timeout_ms", "idle_timeout_ms", "shutdown_grace_ms", "max_connections",
            "max_buffered_body_bytes", "max_buffered_answer_bytes", "cancel_wait_ms"},
           [&](MapReader& r) {
             r.String("listen", out.listen);
             r.Int("threads", out.threads);
             r.Int("max_body_bytes", out.max_body_bytes);
             r.Int("max_header_bytes", out.max_header_bytes);
             r.Int("max_json_depth", out.max_json_depth);
             r.Millis("request_read_timeout_ms", out.request_read_timeout);
             r.Millis("idle_timeout_ms", out.idle_timeout);
             r.Millis("shutdown_grace_ms", out.shutdown_grace);
             r.Int("max_connections", out.max_connections);
             r.Int("max_buffered_body_bytes", out.max_buffered_body_bytes);
             r.Int("max_buffered_answer_bytes", out.max_buffered_answer_bytes);
             r.Millis("cancel_wait_ms", out.cancel_wait);
           });
}

void ReadFailover(MapReader& root, FailoverConfig& out) {
  root.Map("failover",
           {"total_deadline_ms", "max_attempts", "max_retry_after_ms", "max_cooldown_ms",
            "retries_per_deployment", "backoff_base_ms", "backoff_max_ms"},
           [&](MapReader& r) {
             r.Millis("total_deadline_ms", out.total_deadline);
             r.Int("max_attempts", out.max_attempts);
             r.Millis("max_retry_after_ms", out.max_retry_after);
             r.Millis("max_cooldown_ms", out.max_cooldown);
             r.Int("retries_per_deployment", out.retries_per_deployment);
             r.Millis("backoff_base_ms", out.backoff_base);
             r.Millis("backoff_max_ms", out.backoff_max);
           });
}

void ReadHealth(MapReader& root, HealthConfig& out) {
  root.Map("health", {"breaker"}, [&](MapReader& h) {
    h.Map("breaker",
          {"consecutive_failures", "error_rate", "min_requests", "window_ms", "cool_off_ms"},
          [&](MapReader& r) {
            r.Int("consecutive_failures", out.breaker.consecutive_failures);
            std::optional<double> rate;
            r.Fraction("error_rate", rate);
            if (rate) out.breaker.error_rate = *rate;
            r.Int("min_requests", out.breaker.min_requests);
            r.Millis("window_ms", out.breaker.window);
            r.Millis("cool_off_ms", out.breaker.cool_off);
          });
  });
}

void ReadVerification(MapReader& root, VerificationConfig& out) {
  root.Map("verification", {"refusal_phrases", "max_held_bytes"}, [&](MapReader& r) {
    std::vector<std::string> phrases;
    r.StringList("refusal_phrases", phrases);
    if (r.ok() && !phrases.empty()) out.refusal_phrases = std::move(phrases);
    r.Int("max_held_bytes", out.max_held_bytes);
  });
}

void ReadLedger(MapReader& root, LedgerConfig& out) {
  root.Map("ledger",
           {"sqlite_path", "batch_size", "flush_interval_ms", "queue_capacity", "spill_path",
            "spill_max_bytes", "retention_days"},
           [&](MapReader& r) {
             r.String("sqlite_path", out.sqlite_path);
             r.Int("batch_size", out.batch_size);
             r.Millis("flush_interval_ms", out.flush_interval);
             r.Int("queue_capacity", out.queue_capacity);
             r.String("spill_path", out.spill_path);
             r.Int("spill_max_bytes", out.spill_max_bytes);
             r.Int("retention_days", out.retention_days);
           });
}

void ReadDatabase(MapReader& root, DatabaseConfig& out) {
  root.Map("database", {"url", "connect_timeout_s"}, [&](MapReader& r) {
    r.String("url", out.url);
    int64_t seconds = out.connect_timeout.count();
    r.Int("connect_timeout_s", seconds);
    out.connect_timeout = std::chrono::seconds(seconds);
  });
}

void ReadSharedState(MapReader& root, SharedStateConfig& out) {
  root.Map("shared_state",
           {"redis_url", "on_failure", "key_prefix", "allowance_percent", "sync_interval_ms",
            "timeout_ms"},
           [&](MapReader& r) {
             r.String("redis_url", out.redis_url);
             r.String("on_failure", out.on_failure);
             r.String("key_prefix", out.key_prefix);
             r.Int("allowance_percent", out.allowance_percent);
             r.Millis("sync_interval_ms", out.sync_interval);
             r.Millis("timeout_ms", out.timeout);
           });
}

void ReadResponses(MapReader& root, ResponsesConfig& out) {
  root.Map("responses", {"store", "retention_days", "max_stored_bytes_per_key"}, [&](MapReader& r) {
    r.Bool("store", out.store);
    r.Int("max_stored_bytes_per_key", out.max_stored_bytes_per_key);
    int64_t days = out.retention.count() / 24;
    r.Int("retention_days", days);
    // Multiplied with a check: days * 24 past int64 is undefined, and a wrapped product can land
    // inside validate.cpp's range (2^61 + 365 days wraps to exactly 365).
    int64_t hours = 0;
    if (__builtin_mul_overflow(days, int64_t{24}, &hours)) {
      return r.Fail(detail::PathError("responses.retention_days",
                                      detail::Quote(std::to_string(days)) + " is out of range"));
    }
    out.retention = std::chrono::hours(hours);
  });
}

void ReadAuth(MapReader& root, EnvLookup env, AuthConfig& out) {
  root.Map("auth",
           {"mode", "admin_token_env", "pepper_env", "budget_check", "rotation_grace_s",
            "reload_interval_ms"},
           [&](MapReader& r) {
             r.String("mode", out.mode);
             r.String("admin_token_env", out.admin_token_env);
             r.String("pepper_env", out.pepper_env);
             r.String("budget_check", out.budget_check);
             int64_t grace = out.rotation_grace.count();
             r.Int("rotation_grace_s", grace);
             out.rotation_grace = std::chrono::seconds(grace);
             r.Millis("reload_interval_ms", out.reload_interval);
           });
  // Secrets come from the environment only, never from the file.
  if (!out.admin_token_env.empty()) out.admin_token = env(out.admin_token_env).value_or("");
  if (!out.pepper_env.empty()) out.pepper = env(out.pepper_env).value_or("");
}

void ReadAccessLog(MapReader& root, AccessLogConfig& out) {
  root.Map("access_log", {"enabled", "path", "log_prompts"}, [&](MapReader& r) {
    r.Bool("enabled", out.enabled);
    r.String("path", out.path);
    r.Bool("log_prompts", out.log_prompts);
  });
}

void ReadMetrics(MapReader& root, EnvLookup env, MetricsConfig& out) {
  root.Map("metrics", {"enabled", "token_env", "max_tenant_labels"}, [&](MapReader& r) {
    r.Bool("enabled", out.enabled);
    r.String("token_env", out.token_env);
    r.Int("max_tenant_labels", out.max_tenant_labels);
  });
  // From the environment only, as the admin token: a scrape config holds it, never this file.
  if (!out.token_env.empty()) out.token = env(out.token_env).value_or("");
}

core::Status ReadRoot(const YAML::Node& node, std::string_view source, EnvLookup env, Config& out) {
  if (node.IsDefined() && !node.IsNull() && !node.IsMap()) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           std::string(source) + ": the top level must be a map");
  }
  MapReader root(
      node, "",
      {"server", "providers", "models", "aliases", "routing", "failover", "health", "verification",
       "ledger", "database", "shared_state", "responses", "auth", "access_log", "metrics"},
      env);
  ReadServer(root, out.server);
  detail::ReadProviders(root, env, out.providers);
  detail::ReadModels(root, env, out.models);
  detail::ReadAliases(root, env, out.aliases);
  detail::ReadRouting(root, env, out.routing);
  ReadFailover(root, out.failover);
  ReadHealth(root, out.health);
  ReadVerification(root, out.verification);
  ReadLedger(root, out.ledger);
  ReadDatabase(root, out.database);
  ReadSharedState(root, out.shared_state);
  ReadResponses(root, out.responses);
  ReadAuth(root, env, out.auth);
  ReadAccessLog(root, out.access_log);
  ReadMetrics(root, env, out.metrics);
  return root.status();
}

// A scalar that ${NAME} substitution changed: the text as written and what it became, and the
// values of the variables it used.
struct Substituted {
  std::string raw;
  std::string value;
  std::vector<std::string> env_values;
};

// The ${NAME} names in `text`, skipping "$$" escapes (SubstituteEnv's grammar).
std::vector<std::string_view> EnvNames(std::string_view text) {
  std::vector<std::string_view> names;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] != '$') continue;
    if (text[i + 1] == '$') {
      ++i;
    } else if (text[i + 1] == '{') {
      const size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) break;
      names.push_back(text.substr(i + 2, close - i - 2));
      i = close;
    }
  }
  return names;
}

// Every scalar under `node` (keys included) that substitution changes. LoadDocument refuses
// aliases, so no node is shared and the walk is linear in the document (with them, nine aliases
// a level made it exponential: audit 2, finding 3). The depth bound stays as a second guard.
void CollectSubstituted(const YAML::Node& node, EnvLookup env, int depth,
                        std::vector<Substituted>& out) {
  if (depth > 64 || !node.IsDefined()) return;
  if (node.IsScalar()) {
    const std::string& raw = node.Scalar();
    if (raw.find('$') == std::string::npos) return;
    auto value = detail::SubstituteEnv(raw, "", env);
    if (!value || *value == raw) return;
    Substituted s{raw, std::move(*value), {}};
    for (std::string_view name : EnvNames(raw)) {
      if (auto v = env(name)) s.env_values.push_back(std::move(*v));
    }
    out.push_back(std::move(s));
  } else if (node.IsMap()) {
    for (const auto& entry : node) {
      CollectSubstituted(entry.first, env, depth + 1, out);
      CollectSubstituted(entry.second, env, depth + 1, out);
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) CollectSubstituted(item, env, depth + 1, out);
  }
}

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// Whether `text` holds a fragment of `value` long enough to matter (8 bytes), as a message cut
// by Quote would.
bool HoldsFragment(std::string_view text, std::string_view value) {
  constexpr size_t kFragment = 8;
  if (value.size() < kFragment) return false;
  for (size_t i = 0; i + kFragment <= value.size(); ++i) {
    if (text.find(value.substr(i, kFragment)) != std::string_view::npos) return true;
  }
  return false;
}

// `error` without any value that ${NAME} substitution produced (see ParseConfig).
core::Error WithoutSubstitutedValues(core::Error error, const YAML::Node& root, EnvLookup env,
                                     const Config& config) {
  std::vector<Substituted> substituted;
  CollectSubstituted(root, env, 0, substituted);
  std::vector<std::string> secrets = SecretValues(config);
  for (const Substituted& s : substituted) {
    ReplaceAll(error.message, detail::Quote(s.value), detail::Quote(s.raw));
    secrets.insert(secrets.end(), s.env_values.begin(), s.env_values.end());
  }
  const core::SecretScrubber scrubber(secrets);
  scrubber.ScrubError(error);
  for (const std::string& secret : secrets) {
    if (!HoldsFragment(error.message, secret)) continue;
    error.message = (error.param.empty() ? std::string("config") : error.param) +
                    ": invalid value (not shown: it holds an environment variable's value)";
    break;
  }
  return error;
}

}  // namespace

std::string DatabasePassword(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    const std::string_view rest = url.substr(scheme + 3);
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
    const size_t at = authority.rfind('@');
    const size_t colon = authority.find(':');
    if (at != std::string_view::npos && colon < at) {
      return std::string(authority.substr(colon + 1, at - colon - 1));
    }
  }
  const size_t query = url.find("password=");
  if (query == std::string_view::npos) return "";
  const std::string_view value = url.substr(query + 9);
  return std::string(value.substr(0, value.find('&')));
}

std::vector<std::string> SecretValues(const Config& config) {
  std::vector<std::string> out;
  for (const ProviderConfig& p : config.providers) {
    if (!p.api_key.empty()) out.push_back(p.api_key);
  }
  if (!config.auth.admin_token.empty()) out.push_back(config.auth.admin_token);
  if (!config.metrics.token.empty()) out.push_back(config.metrics.token);
  if (!config.auth.pepper.empty()) out.push_back(config.auth.pepper);
  if (!config.database.url.empty()) {
    out.push_back(config.database.url);
    if (auto password = DatabasePassword(config.database.url); !password.empty()) {
      out.push_back(std::move(password));
    }
  }
  if (!config.shared_state.redis_url.empty()) {
    out.push_back(config.shared_state.redis_url);
    if (auto password = DatabasePassword(config.shared_state.redis_url); !password.empty()) {
      out.push_back(std::move(password));
    }
  }
  return out;
}

std::optional<std::string> RealEnv(std::string_view name) {
  // getenv is safe here: configuration loads before any thread that could call setenv.
  const char* value = std::getenv(std::string(name).c_str());  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

core::Result<Config> ParseConfig(std::string_view yaml, std::string_view source, EnvLookup env) {
  Config config;
  auto loaded = detail::LoadDocument(yaml, source);
  if (!loaded) return std::move(loaded).error();
  const YAML::Node root = *loaded;
  try {
    if (auto status = ReadRoot(root, source, env, config); !status) {
      return WithoutSubstitutedValues(status.error(), root, env, config);
    }
  } catch (const YAML::Exception& e) {
    return detail::SyntaxError(source, e);
  } catch (const std::exception& e) {
    return core::MakeError(core::Errc::kInvalidRequest, std::string(source) + ": " + e.what());
  }
  if (auto status = ValidateConfig(config); !status) {
    return WithoutSubstitutedValues(status.error(), root, env, config);
  }
  return config;
}

core::Result<Config> LoadConfigFile(const std::string& path, EnvLookup env) {
  auto text = core::ReadRegularFile(path, kMaxConfigFileBytes, "config file");
  if (!text) return std::move(text).error();
  return ParseConfig(*text, path, env);
}

}  // namespace sy::config
