// `switchyard outcomes`: per model, task type or routing rule, the tasks clients rated (POST
// /v1/feedback), success rate, cost per successful task, retry, edit and verification failure
// rates, from a ledger database (ledger/outcomes.h has the definitions).
//
//   switchyard outcomes --db FILE|URL --by model|task_type|rule [--from T] [--to T] [--tenant NAME]
//                       [--format table|json]
//
// T is YYYY-MM-DD (UTC midnight), YYYY-MM-DDTHH:MM:SSZ or unix seconds; requests with
// started_at in [from, to). Exit status: 0 on success; 2 for a bad time or a database that is
// missing, unreadable or not a ledger (the reason goes to stderr). Bad argument syntax is a
// CLI11 parse error (its own exit codes).
//
// Thread-safety: run from main only.
#pragma once

#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

namespace sy::app {

struct OutcomesArgs {
  std::string db;
  std::string by;
  std::string from;  // "" = unbounded
  std::string to;    // "" = unbounded
  std::string tenant;
  bool tenant_set = false;  // --tenant given ("" selects the requests without a tenant)
  std::string format = "table";
};

// Registers the `outcomes` subcommand on `app`. On an error its callback throws
// CLI::RuntimeError(2). REQUIRES: `app` outlives the parse.
void AddOutcomesCommand(CLI::App& app);

// The command body, for tests: writes the report to `out` or the error to `err` and returns the
// exit status (0, or 2).
int RunOutcomesCommand(const OutcomesArgs& args, std::ostream& out, std::ostream& err);

}  // namespace sy::app
