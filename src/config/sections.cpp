// The named sections of the configuration: providers, models (with their price schedules and
// quality figures) and aliases. Checks here are about the YAML's shape and scalar syntax; ranges,
// names and references are checked on the typed result in validate.cpp.
#include "config/detail/sections.h"

#include <string>
#include <utility>

namespace sy::config::detail {

bool IsEnvName(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

namespace {

// Reads the key from the environment variable named by api_key_env. The key's value never
// appears in a message.
core::Status ResolveApiKey(const std::string& path, EnvLookup env, ProviderConfig& provider) {
  if (provider.api_key_env.empty()) return {};
  const std::string key_path = JoinPath(path, "api_key_env");
  if (!IsEnvName(provider.api_key_env)) {
    return PathError(key_path,
                     Quote(provider.api_key_env) + " is not a valid environment variable name");
  }
  auto value = env(provider.api_key_env);
  if (!value) {
    return PathError(key_path, "environment variable " + provider.api_key_env + " is not set");
  }
  if (value->empty()) {
    return PathError(key_path, "environment variable " + provider.api_key_env + " is empty");
  }
  provider.api_key = std::move(*value);
  return {};
}

core::Status ReadProvider(const std::string& name, const YAML::Node& node, const std::string& path,
                          EnvLookup env, ProviderConfig& out) {
  out.name = name;
  MapReader r(node, path,
              {"kind", "api", "base_url", "api_key_env", "region", "residency", "timeouts",
               "tls_verify", "ca_file", "max_idle_connections"},
              env);
  r.String("kind", out.kind, Need::kRequired);
  r.String("api", out.api);
  r.String("base_url", out.base_url, Need::kRequired);
  r.String("api_key_env", out.api_key_env);
  r.String("region", out.region);
  r.StringList("residency", out.residency);
  r.Map("timeouts", {"connect_ms", "first_byte_ms", "idle_ms"}, [&](MapReader& t) {
    t.Millis("connect_ms", out.timeouts.connect);
    t.Millis("first_byte_ms", out.timeouts.first_byte);
    t.Millis("idle_ms", out.timeouts.idle);
  });
  r.Bool("tls_verify", out.tls_verify);
  r.String("ca_file", out.ca_file);
  r.Int("max_idle_connections", out.max_idle_connections);
  if (!r.ok()) return r.status();
  // Adapters append "/chat/completions" or "/messages": keep one form, without a trailing slash.
  while (out.base_url.size() > 1 && out.base_url.back() == '/') out.base_url.pop_back();
  return ResolveApiKey(path, env, out);
}

void ReadPriceList(MapReader& r, PriceList& out) {
  r.Price("input", out.input, Need::kRequired);
  r.Price("cached_input", out.cached_input);
  r.Price("cache_write", out.cache_write);
  r.Price("output", out.output, Need::kRequired);
}

core::Status ReadWindow(const YAML::Node& node, const std::string& path, EnvLookup env,
                        PriceWindow& out) {
  MapReader r(node, path,
              {"name", "start", "end", "input", "cached_input", "cache_write", "output"}, env);
  r.String("name", out.name, Need::kRequired);
  r.TimeOfDay("start", out.start_minute_utc, Need::kRequired);
  r.TimeOfDay("end", out.end_minute_utc, Need::kRequired);
  ReadPriceList(r, out.prices);
  return r.status();
}

void ReadPrice(MapReader& model, EnvLookup env, PriceSchedule& out) {
  model.Map(
      "price",
      {"input", "cached_input", "cache_write", "output", "example", "note", "windows", "batch"},
      [&](MapReader& r) {
        ReadPriceList(r, out.standard);
        r.Bool("example", out.example);
        r.String("note", out.note);
        r.Map("batch", {"input", "cached_input", "cache_write", "output"},
              [&](MapReader& b) { ReadPriceList(b, out.batch.emplace()); });
        r.List("windows", [&](const YAML::Node& node, const std::string& path) {
          PriceWindow window;
          auto status = ReadWindow(node, path, env, window);
          if (status) out.windows.push_back(std::move(window));
          return status;
        });
      },
      Need::kRequired);
}

void ReadQuality(MapReader& model, ModelQuality& out) {
  model.Map("hallucination", {"rate", "source"}, [&](MapReader& r) {
    r.Fraction("rate", out.hallucination_rate);
    r.String("source", out.hallucination_source);
  });
  model.Map("quality", {"scores", "example", "note"}, [&](MapReader& r) {
    r.Named("scores",
            [&](const std::string& task, const YAML::Node& node,
                const std::string& path) -> core::Status {
              if (!node.IsScalar()) return PathError(path, "expected a number between 0 and 1");
              auto score = ParseFraction(node.Scalar(), path);
              if (!score) return std::move(score).error();
              out.scores.emplace_back(task, *score);
              return {};
            });
    r.Bool("example", out.example);
    r.String("note", out.note);
  });
}

core::Status ReadDeployment(const std::string& model_id, const YAML::Node& node,
                            const std::string& path, EnvLookup env, DeploymentConfig& out) {
  MapReader r(node, path, {"name", "provider", "upstream_name", "weight", "price"}, env);
  r.String("provider", out.provider, Need::kRequired);
  r.String("name", out.name);
  r.String("upstream_name", out.upstream_name);
  r.Int("weight", out.weight);
  if (node.IsMap() && node["price"].IsDefined()) {
    out.price.emplace();
    ReadPrice(r, env, *out.price);
  }
  if (!r.ok()) return r.status();
  if (out.name.empty()) out.name = out.provider;
  if (out.upstream_name.empty()) out.upstream_name = model_id;
  return {};
}

// A model is configured with either the one-deployment shorthand (provider, upstream_name) or
// a deployments list; the model's own provider and upstream_name then name the first deployment.
core::Status ResolveDeployments(const std::string& path, const YAML::Node& node, ModelConfig& out) {
  const bool shorthand = node["provider"].IsDefined() || node["upstream_name"].IsDefined();
  if (out.deployments.empty()) {
    if (!node["provider"].IsDefined()) {
      return PathError(JoinPath(path, "provider"), "required (or a deployments list)");
    }
    return {};
  }
  if (shorthand) {
    return PathError(JoinPath(path, node["provider"].IsDefined() ? "provider" : "upstream_name"),
                     "not allowed beside deployments (each deployment names its provider)");
  }
  out.provider = out.deployments.front().provider;
  out.upstream_name = out.deployments.front().upstream_name;
  return {};
}

core::Status ReadModel(const std::string& id, const YAML::Node& node, const std::string& path,
                       EnvLookup env, ModelConfig& out) {
  out.id = id;
  out.upstream_name = id;
  MapReader r(node, path,
              {"provider", "upstream_name", "deployments", "strategy", "ids", "context_window",
               "max_output_tokens", "capabilities", "tier", "price", "hallucination", "quality"},
              env);
  r.String("provider", out.provider);
  r.String("upstream_name", out.upstream_name);
  r.String("strategy", out.strategy);
  r.List("deployments", [&](const YAML::Node& item, const std::string& item_path) {
    DeploymentConfig deployment;
    auto status = ReadDeployment(id, item, item_path, env, deployment);
    if (status) out.deployments.push_back(std::move(deployment));
    return status;
  });
  r.StringList("ids", out.ids);
  r.Int("context_window", out.context_window);
  r.Int("max_output_tokens", out.max_output_tokens);
  r.StringList("capabilities", out.capabilities);
  r.String("tier", out.tier);
  ReadPrice(r, env, out.price);
  ReadQuality(r, out.quality);
  if (!r.ok()) return r.status();
  return ResolveDeployments(path, node, out);
}

}  // namespace

void ReadProviders(MapReader& root, EnvLookup env, std::vector<ProviderConfig>& out) {
  root.Named("providers",
             [&](const std::string& name, const YAML::Node& node, const std::string& path) {
               ProviderConfig provider;
               auto status = ReadProvider(name, node, path, env, provider);
               if (status) out.push_back(std::move(provider));
               return status;
             });
}

void ReadModels(MapReader& root, EnvLookup env, std::vector<ModelConfig>& out) {
  root.Named("models", [&](const std::string& id, const YAML::Node& node, const std::string& path) {
    ModelConfig model;
    auto status = ReadModel(id, node, path, env, model);
    if (status) out.push_back(std::move(model));
    return status;
  });
}

void ReadAliases(MapReader& root, EnvLookup env, std::vector<AliasConfig>& out) {
  root.Named("aliases",
             [&](const std::string& name, const YAML::Node& node,
                 const std::string& path) -> core::Status {
               AliasConfig alias;
               alias.name = name;
               if (!node.IsSequence()) return PathError(path, "expected a list of model ids");
               size_t index = 0;
               for (const auto& item : node) {
                 const std::string item_path = IndexPath(path, index++);
                 if (!item.IsScalar()) return PathError(item_path, "expected a model id");
                 auto value = SubstituteEnv(item.Scalar(), item_path, env);
                 if (!value) return std::move(value).error();
                 alias.models.push_back(std::move(*value));
               }
               out.push_back(std::move(alias));
               return {};
             });
}

}  // namespace sy::config::detail
