// What the offline commands share (`plan`, `spend`, `outcomes`, `route explain`): their
// configuration, read without the environment the gateway needs to run (no upstream is called,
// so upstream URLs and API keys need not be set), and their --from / --to flags.
//
// Thread-safety: run from main only.
#pragma once

#include <cstdint>
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

// A --from / --to flag: unset when `text` is empty, else ledger::ParseTimeBound's milliseconds.
// Fails with its error, prefixed by `flag` ("--from: invalid time ...").
core::Result<std::optional<int64_t>> ParseTimeFlag(const std::string& text, std::string_view flag);

}  // namespace sy::app
