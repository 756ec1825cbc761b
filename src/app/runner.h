// Running the gateway process: catalog, ledger, server, signals, clean shutdown.
#pragma once

#include <functional>
#include <string>

#include "config/config.h"

namespace sy::app {

// Builds everything from `config`, serves until SIGINT or SIGTERM, then drains: readiness goes
// to 503, in-flight requests get up to 10 s, the ledger is flushed to disk. `on_ready` is called
// with the bound address ("127.0.0.1:8080") once the gateway accepts connections.
// Returns the process exit code: 0 after a clean shutdown, 2 when start-up fails (the reason is
// printed to stderr).
int RunGateway(config::Config config, const std::function<void(const std::string&)>& on_ready);

// Blocks SIGINT and SIGTERM in the calling thread (and the threads it starts later) so that
// WaitForStopSignal can take them synchronously.
void BlockStopSignals();
// Waits for SIGINT or SIGTERM. REQUIRES: BlockStopSignals() was called first.
int WaitForStopSignal();

}  // namespace sy::app
