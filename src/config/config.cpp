// YAML text -> config::Config. The schema is documented in docs/configuration.md; this file reads
// the top level and the plain sections (server, failover, ledger); sections.cpp reads providers,
// models and aliases; validate.cpp checks the typed result as a whole.
#include "config/config.h"

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "config/detail/sections.h"
#include "config/detail/yaml_reader.h"

namespace sy::config {
namespace {

using detail::MapReader;

void ReadServer(MapReader& root, ServerConfig& out) {
  root.Map("server",
           {"listen", "threads", "max_body_bytes", "max_header_bytes", "max_json_depth",
            "request_read_timeout_ms", "idle_timeout_ms", "max_connections",
            "max_buffered_body_bytes", "cancel_wait_ms"},
           [&](MapReader& r) {
             r.String("listen", out.listen);
             r.Int("threads", out.threads);
             r.Int("max_body_bytes", out.max_body_bytes);
             r.Int("max_header_bytes", out.max_header_bytes);
             r.Int("max_json_depth", out.max_json_depth);
             r.Millis("request_read_timeout_ms", out.request_read_timeout);
             r.Millis("idle_timeout_ms", out.idle_timeout);
             r.Int("max_connections", out.max_connections);
             r.Int("max_buffered_body_bytes", out.max_buffered_body_bytes);
             r.Millis("cancel_wait_ms", out.cancel_wait);
           });
}

void ReadFailover(MapReader& root, FailoverConfig& out) {
  root.Map("failover", {"total_deadline_ms", "max_attempts", "max_retry_after_ms"},
           [&](MapReader& r) {
             r.Millis("total_deadline_ms", out.total_deadline);
             r.Int("max_attempts", out.max_attempts);
             r.Millis("max_retry_after_ms", out.max_retry_after);
           });
}

void ReadLedger(MapReader& root, LedgerConfig& out) {
  root.Map("ledger", {"sqlite_path", "batch_size", "flush_interval_ms", "queue_capacity"},
           [&](MapReader& r) {
             r.String("sqlite_path", out.sqlite_path);
             r.Int("batch_size", out.batch_size);
             r.Millis("flush_interval_ms", out.flush_interval);
             r.Int("queue_capacity", out.queue_capacity);
           });
}

core::Status ReadRoot(const YAML::Node& node, std::string_view source, EnvLookup env, Config& out) {
  if (node.IsDefined() && !node.IsNull() && !node.IsMap()) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           std::string(source) + ": the top level must be a map");
  }
  MapReader root(node, "", {"server", "providers", "models", "aliases", "failover", "ledger"}, env);
  ReadServer(root, out.server);
  detail::ReadProviders(root, env, out.providers);
  detail::ReadModels(root, env, out.models);
  detail::ReadAliases(root, env, out.aliases);
  ReadFailover(root, out.failover);
  ReadLedger(root, out.ledger);
  return root.status();
}

// yaml-cpp reports syntax errors by exception; marks are 0-based.
core::Error SyntaxError(std::string_view source, const YAML::Exception& e) {
  std::string message(source);
  if (!e.mark.is_null()) {
    message += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
  }
  return core::MakeError(core::Errc::kInvalidRequest, message + ": " + e.msg);
}

}  // namespace

std::optional<std::string> RealEnv(std::string_view name) {
  // getenv is safe here: configuration loads before any thread that could call setenv.
  const char* value = std::getenv(std::string(name).c_str());  // NOLINT(concurrency-mt-unsafe)
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

core::Result<Config> ParseConfig(std::string_view yaml, std::string_view source, EnvLookup env) {
  Config config;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    if (auto status = ReadRoot(root, source, env, config); !status) return status.error();
  } catch (const YAML::Exception& e) {
    return SyntaxError(source, e);
  } catch (const std::exception& e) {
    return core::MakeError(core::Errc::kInvalidRequest, std::string(source) + ": " + e.what());
  }
  if (auto status = ValidateConfig(config); !status) return status.error();
  return config;
}

core::Result<Config> LoadConfigFile(const std::string& path, EnvLookup env) {
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path, ec)) {
    return core::MakeError(core::Errc::kNotFound, "cannot read config file \"" + path + "\"");
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return core::MakeError(core::Errc::kNotFound, "cannot read config file \"" + path + "\"");
  }
  return ParseConfig(text.str(), path, env);
}

}  // namespace sy::config
