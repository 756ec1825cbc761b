// `switchyard emulator`: runs the upstream-provider emulator in the foreground.
//
//   switchyard emulator [--listen HOST:PORT] [--config FILE] [--threads N]
//
// Prints exactly one line, "emulator listening on http://HOST:PORT", to stdout (flushed) once
// it accepts connections, then serves until SIGINT or SIGTERM and exits 0 after a clean stop.
// Fails (non-zero exit, message on stderr) when the config file is bad or it cannot listen.
//
// Thread-safety: registers the subcommand on `app`; call once, from main, before parsing.
#pragma once

#include <CLI/CLI.hpp>

namespace sy::app {

void AddEmulatorCommand(CLI::App& app);

}  // namespace sy::app
