// Internal to config/: the section readers ParseConfig runs over the top-level map.
// Each reads its section from `root` and records the first error in `root`.
#pragma once

#include <vector>

#include "config/config.h"
#include "config/detail/yaml_reader.h"

namespace sy::config::detail {

// providers: {<name>: {...}}, in document order; resolves api_key from `env`.
void ReadProviders(MapReader& root, EnvLookup env, std::vector<ProviderConfig>& out);
// models: {<id>: {...}}, in document order.
void ReadModels(MapReader& root, EnvLookup env, std::vector<ModelConfig>& out);
// aliases: {<name>: [model, ...]}, in document order.
void ReadAliases(MapReader& root, EnvLookup env, std::vector<AliasConfig>& out);

// routing: {trust_task_header, allowed_regions, ..., profiles: {<name>: {rules: [...]}}}.
void ReadRouting(MapReader& root, EnvLookup env, RoutingConfig& out);

}  // namespace sy::config::detail
