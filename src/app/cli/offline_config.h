// The configuration of a command that decides or prices offline (`plan`, `spend --baseline`,
// `route explain`): no upstream is called, so the environment the gateway needs to run (upstream
// URLs, API keys) need not be set.
//
// Thread-safety: run from main only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/result.h"

namespace sy::app {

// The demo configuration's variables, for decisions that never call an upstream.
std::optional<std::string> DemoEnv(std::string_view name);

// The environment, where an unset variable reads as a placeholder that passes as any string or
// URL: a report that reads only prices needs none of the gateway's secrets.
std::optional<std::string> PricesOnlyEnv(std::string_view name);

// The file at `path` read with PricesOnlyEnv, or the demo configuration when `path` is empty.
core::Result<config::Config> LoadOfflineConfig(const std::string& path);

}  // namespace sy::app
