#include "app/cli/spend_command.h"

#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "app/cli/common.h"
#include "catalog/catalog.h"
#include "config/config.h"
#include "ledger/spend.h"

namespace sy::app {
namespace {

constexpr int kErrorExit = 2;

// The price schedule of `model` (its id or one of its other ids) in the config file.
core::Result<config::PriceSchedule> BaselinePrice(const std::string& config_path,
                                                  const std::string& model) {
  if (config_path.empty()) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "--baseline needs --config (the file with the model's price)");
  }
  auto cfg = config::LoadConfigFile(config_path, &PricesOnlyEnv);
  if (!cfg) return std::move(cfg).error();
  for (const config::ModelConfig& m : cfg->models) {
    if (m.id == model) return m.price;
    for (const std::string& id : m.ids) {
      if (id == model) return m.price;
    }
  }
  return core::MakeError(core::Errc::kInvalidRequest,
                         "--baseline: model \"" + model + "\" is not in " + config_path);
}

int Fail(std::ostream& err, const core::Error& error) {
  err << "switchyard spend: " << error.message << "\n";
  return kErrorExit;
}

}  // namespace

int RunSpendCommand(const SpendArgs& args, std::ostream& out, std::ostream& err) {
  auto group_by = ledger::ParseGroupBy(args.by);
  if (!group_by) return Fail(err, group_by.error());
  auto from = ParseTimeFlag(args.from, "--from");
  if (!from) return Fail(err, from.error());
  auto to = ParseTimeFlag(args.to, "--to");
  if (!to) return Fail(err, to.error());
  ledger::SpendQuery q;
  q.by = *group_by;
  q.from_ms = *from;
  q.to_ms = *to;
  if (args.tenant_set) q.tenant = args.tenant;
  q.max_groups = args.limit;

  std::optional<ledger::Reprice> reprice;
  if (!args.baseline.empty()) {
    auto price = BaselinePrice(args.config, args.baseline);
    if (!price) return Fail(err, price.error());
    reprice = [schedule = std::move(*price)](const core::Usage& usage, int64_t started_at_ms,
                                             std::string_view) {
      const std::chrono::system_clock::time_point at{std::chrono::milliseconds(started_at_ms)};
      return catalog::ComputeCost(schedule, usage, at).total;
    };
  }
  auto report = ledger::QuerySpend(args.db, q, reprice ? &*reprice : nullptr, args.baseline);
  if (!report) return Fail(err, report.error());
  out << (args.format == "json" ? ledger::FormatJson(*report) : ledger::FormatTable(*report));
  out.flush();
  return 0;
}

void AddSpendCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("spend", "Show spend totals from a ledger database");
  auto args = std::make_shared<SpendArgs>();
  cmd->add_option("--db", args->db,
                  "The gateway's ledger: its SQLite file, or its database.url "
                  "(postgresql://user@host:port/dbname; a password is better left to PGPASSWORD "
                  "or ~/.pgpass than put on the command line)")
      ->required();
  cmd->add_option("--by", args->by,
                  "Group by model, provider, tenant, key (key id), task (client task id), "
                  "task_type (routing's classification), rule (routing profile/rule), day or "
                  "hour (UTC)")
      ->required()
      ->check(CLI::IsMember(
          {"model", "provider", "tenant", "key", "task", "task_type", "rule", "day", "hour"}));
  cmd->add_option("--from", args->from,
                  "Only requests started at or after: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix "
                  "seconds (UTC)");
  cmd->add_option("--to", args->to, "Only requests started before (same forms as --from)");
  CLI::Option* tenant = cmd->add_option("--tenant", args->tenant, "Only this tenant's requests");
  cmd->add_option("--baseline", args->baseline,
                  "Also show the cost had every request's usage been billed at this model's "
                  "price, and the savings")
      ->needs(
          cmd->add_option("--config", args->config, "Config file with the baseline model's price"));
  cmd->add_option("--limit", args->limit,
                  "The most groups listed, the first in the report's order (the total counts "
                  "them all)")
      ->check(CLI::Range(int64_t{1}, ledger::kMaxSpendGroups))
      ->capture_default_str();
  cmd->add_option("--format", args->format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([args, tenant] {
    args->tenant_set = tenant->count() > 0;
    const int status = RunSpendCommand(*args, std::cout, std::cerr);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace sy::app
