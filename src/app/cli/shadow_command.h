// `switchyard shadow report`: how the candidate models that shadowed live traffic (a routing
// rule's `shadow:`) compared with the live ones, per live rule, live model and shadow model:
// counts, errors, exact cost and its ratio, p50/p95 latency, answer agreement and verification
// verdicts (ledger/shadow_report.h has the definitions; docs/planning.md "The report").
//
//   switchyard shadow report [--ledger FILE|URL | --config FILE] [--rule R] [--from T] [--to T]
//                            [--tenant NAME] [--format table|json|markdown]
//
// --ledger (alias --db, as `spend --db`) is the SQLite ledger file or the PostgreSQL ledger's
// URL (libpq also reads the password from PGPASSWORD or ~/.pgpass, which keeps it off the command
// line). --config reads the gateway's configuration instead and uses its database.url when set,
// else ledger.sqlite_path (environment variables it names need not be set). One of the two is
// required. --rule is "profile/rule" or the bare rule name (as `spend --by rule` shows it).
// T is YYYY-MM-DD (UTC midnight), YYYY-MM-DDTHH:MM:SSZ or unix seconds; shadows with
// started_at in [from, to).
// Exit status: 0 on success; 2 with "switchyard shadow: <reason>" on stderr for a missing or
// doubled ledger flag, a bad time, an unreadable config, or a database that is missing,
// unreadable or not a ledger. Bad argument syntax is a CLI11 parse error (its own exit codes).
//
// Thread-safety: run from main only.
#pragma once

#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

namespace sy::app {

struct ShadowReportArgs {
  std::string ledger{};  // a SQLite file or postgresql:// URL; "" = from config
  std::string config{};  // "" = none (then ledger is required)
  std::string rule{};    // "" = every rule
  std::string from{};    // "" = unbounded
  std::string to{};      // "" = unbounded
  std::string tenant{};
  bool tenant_set = false;  // --tenant given ("" selects the shadows without a tenant)
  std::string format = "table";
};

// Registers the `shadow` subcommand and its `report` verb on `app`. On an error the callback
// throws CLI::RuntimeError(2). REQUIRES: `app` outlives the parse.
void AddShadowCommand(CLI::App& app);

// The command body, for tests: writes the report to `out` or the error to `err` and returns the
// exit status (0, or 2).
int RunShadowReportCommand(const ShadowReportArgs& args, std::ostream& out, std::ostream& err);

}  // namespace sy::app
