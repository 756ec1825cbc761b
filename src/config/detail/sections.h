// Internal to config/: the section readers ParseConfig runs over the top-level map.
// Each reads its section from `root` and records the first error in `root`.
#pragma once

#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/detail/yaml_reader.h"

namespace sy::config::detail {

// Whether `name` can name an environment variable: letters, digits and '_', not leading with a
// digit (POSIX's portable names, lower case allowed).
bool IsEnvName(std::string_view name);

// providers: {<name>: {...}}, in document order; resolves api_key from `env`.
void ReadProviders(MapReader& root, EnvLookup env, std::vector<ProviderConfig>& out);
// models: {<id>: {...}}, in document order.
void ReadModels(MapReader& root, EnvLookup env, std::vector<ModelConfig>& out);
// aliases: {<name>: [model, ...]}, in document order.
void ReadAliases(MapReader& root, EnvLookup env, std::vector<AliasConfig>& out);

// routing: {trust_task_header, allowed_regions, ..., profiles: {<name>: {rules: [...]}}}.
void ReadRouting(MapReader& root, EnvLookup env, RoutingConfig& out);

}  // namespace sy::config::detail
