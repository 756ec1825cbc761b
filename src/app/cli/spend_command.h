// `switchyard spend`: spend totals from a ledger database, grouped by model, task, day, tenant,
// routed task type or routing rule (ledger::GroupBy).
//
//   switchyard spend --db FILE --by model|task|day|tenant|task_type|rule [--format table|json]
//
// Prints one line (table) or object (json) per group with requests, failed requests, input,
// cached-input and output tokens and the cost as an exact decimal and in cents, then the total.
// Exit status: 0 on success; 2 when the database is missing, unreadable or not a ledger (the
// reason goes to stderr). Bad arguments are CLI11 parse errors (its own exit codes).
//
// Thread-safety: run from main only.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace sy::app {

// Registers the `spend` subcommand on `app`. On a database error its callback throws
// CLI::RuntimeError(2), which CLI11_PARSE / app.exit(e) turn into exit status 2.
// REQUIRES: `app` outlives the parse.
void AddSpendCommand(CLI::App& app);

// The command body, for tests: writes the report to `out` or the error to `err` and returns the
// exit status (0, or 2 on a database error). `by` and `format` are already validated names.
int RunSpendCommand(const std::string& db_path, std::string_view by, std::string_view format,
                    std::ostream& out, std::ostream& err);

}  // namespace sy::app
