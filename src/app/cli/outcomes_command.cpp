#include "app/cli/outcomes_command.h"

#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "app/cli/common.h"
#include "ledger/outcomes.h"
#include "ledger/spend.h"

namespace sy::app {
namespace {

constexpr int kErrorExit = 2;

int Fail(std::ostream& err, const std::string& message) {
  err << "switchyard outcomes: " << message << "\n";
  return kErrorExit;
}

}  // namespace

int RunOutcomesCommand(const OutcomesArgs& args, std::ostream& out, std::ostream& err) {
  auto by = ledger::ParseOutcomeBy(args.by);
  if (!by) return Fail(err, by.error().message);
  ledger::OutcomeQuery q;
  q.by = *by;
  auto from = ParseTimeFlag(args.from, "--from");
  if (!from) return Fail(err, from.error().message);
  auto to = ParseTimeFlag(args.to, "--to");
  if (!to) return Fail(err, to.error().message);
  q.from_ms = *from;
  q.to_ms = *to;
  if (args.tenant_set) q.tenant = args.tenant;
  auto report = ledger::QueryOutcomes(args.db, q);
  if (!report) return Fail(err, report.error().message);
  out << (args.format == "json" ? ledger::FormatOutcomesJson(*report)
                                : ledger::FormatOutcomesTable(*report));
  out.flush();
  return 0;
}

void AddOutcomesCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "outcomes", "Show task outcomes (feedback), success rates and cost per successful task");
  auto args = std::make_shared<OutcomesArgs>();
  cmd->add_option("--db", args->db,
                  "The gateway's ledger: its SQLite file, or its database.url "
                  "(postgresql://user@host:port/dbname; a password is better left to PGPASSWORD "
                  "or ~/.pgpass than put on the command line)")
      ->required();
  cmd->add_option("--by", args->by,
                  "Group tasks by the model, task_type or rule of their last request")
      ->required()
      ->check(CLI::IsMember({"model", "task_type", "rule"}));
  cmd->add_option("--from", args->from,
                  "Only requests started at or after: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix "
                  "seconds (UTC)");
  cmd->add_option("--to", args->to, "Only requests started before (same forms as --from)");
  CLI::Option* tenant = cmd->add_option("--tenant", args->tenant, "Only this tenant's requests");
  cmd->add_option("--format", args->format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([args, tenant] {
    args->tenant_set = tenant->count() > 0;
    const int status = RunOutcomesCommand(*args, std::cout, std::cerr);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace sy::app
