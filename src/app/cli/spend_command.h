// `switchyard spend`: spend totals from a ledger database, grouped by model, provider, tenant,
// key, task, routed task type, routing rule, UTC day or hour (ledger::GroupBy), over a time range
// and one tenant if asked, with the savings against a baseline model if asked.
//
//   switchyard spend --db FILE|URL --by model|provider|tenant|key|task|task_type|rule|day|hour
//                    [--from T] [--to T] [--tenant NAME] [--baseline MODEL --config FILE]
//                    [--limit N] [--format table|json]
//
// --db is the SQLite ledger file, or the PostgreSQL ledger's URL (database.url; libpq also reads
// the password from PGPASSWORD or ~/.pgpass, which keeps it off the command line).
// T is YYYY-MM-DD (UTC midnight), YYYY-MM-DDTHH:MM:SSZ or unix seconds; requests with
// started_at in [from, to). --baseline re-prices every request's usage at MODEL's price in
// --config's catalog (catalog::ComputeCost at the request's start time) and adds baseline cost
// and savings columns; environment variables the config names need not be set (only prices are
// read).
// --limit: the most groups listed (default 1,000, at most 100,000), the first in the report's
// order (most expensive first; by day or hour, in time order); the total counts every group.
// Prints one line (table) or object (json) per group with requests, failed requests, input,
// cached-input and output tokens and the cost as an exact decimal and in cents, then the total.
// Exit status: 0 on success; 2 for a bad time, an unreadable config or unknown baseline model,
// or a database that is missing, unreadable or not a ledger (the reason goes to stderr). Bad
// argument syntax is a CLI11 parse error (its own exit codes).
//
// Thread-safety: run from main only.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "ledger/spend.h"

namespace sy::app {

struct SpendArgs {
  std::string db;
  std::string by;
  std::string from;         // "" = unbounded
  std::string to;           // "" = unbounded
  std::string tenant;       // "" = every tenant (tenant_set says whether --tenant was given)
  bool tenant_set = false;  // --tenant "" selects the requests without a tenant
  std::string baseline;     // "" = no baseline
  std::string config;       // required with baseline
  std::string format = "table";
  int64_t limit = ledger::kDefaultSpendGroups;
};

// Registers the `spend` subcommand on `app`. On an error its callback throws
// CLI::RuntimeError(2), which CLI11_PARSE / app.exit(e) turn into exit status 2.
// REQUIRES: `app` outlives the parse.
void AddSpendCommand(CLI::App& app);

// The command body, for tests: writes the report to `out` or the error to `err` and returns the
// exit status (0, or 2).
int RunSpendCommand(const SpendArgs& args, std::ostream& out, std::ostream& err);

}  // namespace sy::app
