// `switchyard keys`: client keys for operators, on the gateway's database directly (the file
// named by the config's ledger.sqlite_path, with the same pepper the gateway uses). A running
// gateway sees a change within auth.reload_interval_ms.
//
//   switchyard keys create --config FILE --tenant T [--name N] [--usd-per-day X]
//                          [--usd-per-month X] [--rpm N] [--tpm N] [--allow-model M]...
//                          [--allow-profile P]...
//   switchyard keys list   --config FILE [--tenant T]
//   switchyard keys revoke --config FILE --id ID
//   switchyard keys rotate --config FILE --id ID [--grace-seconds N]
//
// Prints the key object as JSON (docs/api.md); create and rotate include "key", the secret, the
// only time it is shown. Exit status: 0, or 2 with the reason on stderr.
//
// Thread-safety: run from main only.
#pragma once

#include <CLI/CLI.hpp>

namespace sy::app {

// Registers the `keys` subcommand and its four verbs on `app`.
void AddKeysCommand(CLI::App& app);

}  // namespace sy::app
