#include "app/cli/spend_command.h"

#include <iostream>
#include <memory>
#include <string>

#include "ledger/spend.h"

namespace sy::app {
namespace {

constexpr int kDatabaseErrorExit = 2;

struct SpendArgs {
  std::string db;
  std::string by;
  std::string format = "table";
};

}  // namespace

int RunSpendCommand(const std::string& db_path, std::string_view by, std::string_view format,
                    std::ostream& out, std::ostream& err) {
  auto group_by = ledger::ParseGroupBy(by);
  if (!group_by) {
    err << "switchyard spend: " << group_by.error().message << "\n";
    return kDatabaseErrorExit;
  }
  auto report = ledger::QuerySpend(db_path, *group_by);
  if (!report) {
    err << "switchyard spend: " << report.error().message << "\n";
    return kDatabaseErrorExit;
  }
  out << (format == "json" ? ledger::FormatJson(*report) : ledger::FormatTable(*report));
  out.flush();
  return 0;
}

void AddSpendCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("spend", "Show spend totals from a ledger database");
  auto args = std::make_shared<SpendArgs>();
  cmd->add_option("--db", args->db, "Ledger SQLite file written by the gateway")->required();
  cmd->add_option("--by", args->by,
                  "Group by model, task (client task id), day (UTC), tenant, task_type (routing's "
                  "classification) or rule (routing profile/rule)")
      ->required()
      ->check(CLI::IsMember({"model", "task", "day", "tenant", "task_type", "rule"}));
  cmd->add_option("--format", args->format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([args] {
    const int status = RunSpendCommand(args->db, args->by, args->format, std::cout, std::cerr);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace sy::app
