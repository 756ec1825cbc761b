#include "app/cli/shadow_command.h"

#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "app/cli/common.h"
#include "app/key_service.h"
#include "ledger/shadow_report.h"

namespace sy::app {
namespace {

constexpr int kErrorExit = 2;

int Fail(std::ostream& err, const std::string& message) {
  err << "switchyard shadow: " << message << "\n";
  return kErrorExit;
}

// The ledger to read: --ledger, or the config's database (database.url, else
// ledger.sqlite_path), the one the gateway writes.
core::Result<std::string> LedgerLocation(const ShadowReportArgs& args) {
  if (args.ledger.empty() == args.config.empty()) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "give the ledger as --ledger FILE|URL or --config FILE (one of them)");
  }
  if (!args.ledger.empty()) return args.ledger;
  auto config = LoadOfflineConfig(args.config);
  if (!config) return std::move(config).error();
  return KeyDatabase(*config);
}

std::string Format(const ledger::ShadowReport& report, const std::string& format) {
  if (format == "json") return ledger::FormatShadowJson(report);
  if (format == "markdown") return ledger::FormatShadowMarkdown(report);
  return ledger::FormatShadowTable(report);
}

}  // namespace

int RunShadowReportCommand(const ShadowReportArgs& args, std::ostream& out, std::ostream& err) {
  auto location = LedgerLocation(args);
  if (!location) return Fail(err, location.error().message);
  ledger::ShadowQuery q;
  auto from = ParseTimeFlag(args.from, "--from");
  if (!from) return Fail(err, from.error().message);
  auto to = ParseTimeFlag(args.to, "--to");
  if (!to) return Fail(err, to.error().message);
  q.from_ms = *from;
  q.to_ms = *to;
  if (args.tenant_set) q.tenant = args.tenant;
  if (!args.rule.empty()) q.rule = args.rule;
  auto report = ledger::QueryShadowReport(*location, q);
  if (!report) return Fail(err, report.error().message);
  out << Format(*report, args.format);
  out.flush();
  return 0;
}

void AddShadowCommand(CLI::App& app) {
  CLI::App* shadow = app.add_subcommand("shadow", "Shadow traffic: compare candidate models");
  shadow->require_subcommand(1);
  CLI::App* cmd = shadow->add_subcommand(
      "report", "Compare shadow models with the live ones: cost, latency, agreement, verdicts");
  auto args = std::make_shared<ShadowReportArgs>();
  cmd->add_option("--ledger,--db", args->ledger,
                  "The gateway's ledger: its SQLite file, or its database.url "
                  "(postgresql://user@host:port/dbname; a password is better left to PGPASSWORD "
                  "or ~/.pgpass than put on the command line)");
  cmd->add_option("--config", args->config,
                  "The gateway's configuration: read its database.url, else ledger.sqlite_path");
  cmd->add_option("--rule", args->rule, "Only this live rule: profile/rule or the bare rule");
  cmd->add_option("--from", args->from,
                  "Only shadows started at or after: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix "
                  "seconds (UTC)");
  cmd->add_option("--to", args->to, "Only shadows started before (same forms as --from)");
  CLI::Option* tenant = cmd->add_option("--tenant", args->tenant, "Only this tenant's shadows");
  cmd->add_option("--format", args->format, "Output format")
      ->check(CLI::IsMember({"table", "json", "markdown"}))
      ->capture_default_str();
  cmd->callback([args, tenant] {
    args->tenant_set = tenant->count() > 0;
    const int status = RunShadowReportCommand(*args, std::cout, std::cerr);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace sy::app
