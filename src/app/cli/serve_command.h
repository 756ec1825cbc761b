#pragma once

#include <CLI/CLI.hpp>

namespace sy::app {

// `switchyard serve --config FILE [--listen ADDR]`: the production entry point.
void AddServeCommand(CLI::App& app);

// `switchyard demo [--listen ADDR] [--state-dir DIR] [--emulator-listen ADDR]`: the gateway on
// its embedded demo configuration with an in-process emulator for every upstream.
void AddDemoCommand(CLI::App& app);

}  // namespace sy::app
