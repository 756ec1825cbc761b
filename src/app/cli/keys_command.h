// `switchyard keys`: client keys for operators, on the gateway's database directly: the
// PostgreSQL database of the config's database.url when it is set, else the SQLite file named by
// ledger.sqlite_path, or the database --db names; with the same pepper the gateway uses. Running
// gateways (every replica, on PostgreSQL) see a change within auth.reload_interval_ms.
//
//   switchyard keys create --config FILE [--db FILE|URL] --tenant T [--name N]
//                          [--usd-per-day X] [--usd-per-month X] [--rpm N] [--tpm N]
//                          [--allow-model M]... [--allow-profile P]...
//   switchyard keys list   --config FILE [--db FILE|URL] [--tenant T] [--after ID] [--limit N]
//   switchyard keys revoke --config FILE [--db FILE|URL] --id ID
//   switchyard keys rotate --config FILE [--db FILE|URL] --id ID [--grace-seconds N]
//
// --db is a SQLite ledger file or a postgresql:// URL (as `spend --db`; libpq also reads the
// password from PGPASSWORD or ~/.pgpass, which keeps it off the command line). A database no
// gateway has opened yet gets the ledger schema first. On PostgreSQL the pepper must come from
// the environment variable auth.pepper_env names (the replicas' own), never from a file.
//
// Prints the key object as JSON (docs/api.md); create and rotate include "key", the secret, the
// only time it is shown. Exit status: 0, or 2 with the reason on stderr.
//
// Thread-safety: run from main only.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/key_service.h"

namespace sy::app {

// The flags of the four verbs; an option not given is nullopt or empty.
struct KeysArgs {
  std::string config;
  std::string db;  // "" = the config's (KeyDatabase)
  std::string tenant;
  std::string name;
  std::string usd_per_day, usd_per_month;
  std::optional<int64_t> rpm, tpm;  // nullopt: no limit
  std::vector<std::string> models, profiles;
  std::string id;
  std::optional<int64_t> grace_seconds;  // nullopt: auth.rotation_grace_s
  KeyService::ListPage page;             // list: --after, --limit
};

// The command body, for tests: `verb` is create, list, revoke or rotate. A value given is
// checked as the admin API checks it (POST /admin/keys, .../rotate), with its messages: --rpm
// and --tpm from 1 to 1000000000, --grace-seconds from 0 to 2592000. Returns the exit status.
int RunKeys(const KeysArgs& args, std::string_view verb, std::ostream& out, std::ostream& err);

// Registers the `keys` subcommand and its four verbs on `app`.
void AddKeysCommand(CLI::App& app);

}  // namespace sy::app
