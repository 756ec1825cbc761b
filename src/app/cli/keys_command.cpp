#include "app/cli/keys_command.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/serialize.hpp>

#include "app/key_service.h"
#include "catalog/catalog.h"
#include "ledger/keys.h"

namespace sy::app {
namespace {

namespace json = boost::json;

constexpr int kFailureExit = 2;

// The admin API's create body, from the flags.
json::object CreateBody(const KeysArgs& a) {
  json::object body{{"tenant", a.tenant}};
  if (!a.name.empty()) body["name"] = a.name;
  json::object budgets;
  if (!a.usd_per_day.empty()) budgets["usd_per_day"] = a.usd_per_day;
  if (!a.usd_per_month.empty()) budgets["usd_per_month"] = a.usd_per_month;
  if (!budgets.empty()) body["budgets"] = std::move(budgets);
  // Any value given goes to the create, which checks it as the admin API does: "--rpm 0" must
  // not mean "no limit".
  json::object limits;
  if (a.rpm) limits["requests_per_minute"] = *a.rpm;
  if (a.tpm) limits["tokens_per_minute"] = *a.tpm;
  if (!limits.empty()) body["limits"] = std::move(limits);
  auto names = [](const std::vector<std::string>& list) {
    json::array out;
    for (const auto& n : list) out.emplace_back(n);
    return out;
  };
  if (!a.models.empty()) body["allowed_models"] = names(a.models);
  if (!a.profiles.empty()) body["allowed_profiles"] = names(a.profiles);
  return body;
}

CLI::App* Verb(CLI::App& keys, const std::shared_ptr<KeysArgs>& args, const char* verb,
               const char* help) {
  CLI::App* cmd = keys.add_subcommand(verb, help);
  cmd->add_option("--config", args->config, "The gateway's YAML configuration")->required();
  cmd->add_option("--db", args->db,
                  "The key database: a SQLite ledger file, or a PostgreSQL ledger's URL "
                  "(postgresql://user@host:port/dbname; a password is better left to PGPASSWORD "
                  "or ~/.pgpass). Default: the config's database.url, else ledger.sqlite_path");
  cmd->callback([args, verb] {
    if (const int status = RunKeys(*args, verb, std::cout, std::cerr); status != 0) {
      throw CLI::RuntimeError(status);
    }
  });
  return cmd;
}

}  // namespace

int RunKeys(const KeysArgs& args, std::string_view verb, std::ostream& out, std::ostream& err) {
  const auto fail = [&](const core::Error& e) {
    err << "switchyard keys: " << e.message << "\n";
    return kFailureExit;
  };
  auto config = config::LoadConfigFile(args.config);
  if (!config) return fail(config.error());
  auto shared = std::make_shared<const config::Config>(std::move(*config));
  auto catalog = catalog::Catalog::Build(shared);
  if (!catalog) return fail(catalog.error());
  auto policy = routing::Policy::Build(**catalog);
  if (!policy) return fail(policy.error());
  const std::string& location = args.db.empty() ? KeyDatabase(*shared) : args.db;
  // Only a create makes a new database (or pepper) file: a list, revoke or rotate on a mistyped
  // path would leave an empty ledger and a new pepper there and answer as if it held no key.
  // A SQLite "file:" URI, or a path that cannot be looked at, is left to the open to report.
  std::error_code ec;
  if (verb != "create" && !ledger::IsPostgresLocation(location) && !location.starts_with("file:") &&
      !std::filesystem::exists(location, ec) && !ec) {
    return fail(core::MakeError(core::Errc::kInternal,
                                "key database '" + location +
                                    "' does not exist (a keys create, or the gateway's first "
                                    "start, makes it)"));
  }
  // Before anything is created: on PostgreSQL a missing pepper is an error, not a new file.
  if (auto pepper = ResolvePepper(shared->auth, location); !pepper) return fail(pepper.error());
  // Creates the database's tables when the gateway has never run on it.
  if (auto s = ledger::PrepareKeyDatabase(location, shared->database.connect_timeout); !s) {
    return fail(s.error());
  }
  const core::SystemClock clock;
  auto keys = KeyService::Open(**catalog, *policy, clock, location);
  if (!keys) return fail(keys.error());
  core::Result<json::object> answer = json::object();
  if (verb == "create") {
    answer = (*keys)->CreateKey(CreateBody(args));
  } else if (verb == "list") {
    answer = (*keys)->ListKeys(args.tenant, args.page);
  } else if (verb == "revoke") {
    answer = (*keys)->RevokeKey(args.id);
  } else {
    json::object body;
    // Given, even negative, it is checked by the rotate; absent, the rotate uses its default.
    if (args.grace_seconds) body["grace_seconds"] = *args.grace_seconds;
    answer = (*keys)->RotateKey(args.id, body);
  }
  if (!answer) return fail(answer.error());
  out << json::serialize(*answer) << "\n";
  return 0;
}

void AddKeysCommand(CLI::App& app) {
  CLI::App* keys = app.add_subcommand("keys", "Create, list, revoke and rotate client keys");
  keys->require_subcommand(1);
  auto args = std::make_shared<KeysArgs>();
  CLI::App* create = Verb(*keys, args, "create", "Create a key (prints it once)");
  // Checked by the create itself (exit 2 naming it), like every other bad value.
  create->add_option("--tenant", args->tenant, "Who pays for the key's requests (required)");
  create->add_option("--name", args->name, "A label for operators");
  create->add_option("--usd-per-day", args->usd_per_day, "Daily budget, e.g. 5.00");
  create->add_option("--usd-per-month", args->usd_per_month, "Monthly budget, e.g. 100");
  create->add_option("--rpm", args->rpm,
                     "Requests per minute, 1 to 1000000000 (default: no limit)");
  create->add_option("--tpm", args->tpm, "Tokens per minute, 1 to 1000000000 (default: no limit)");
  create->add_option("--allow-model", args->models, "A model or alias the key may use");
  create->add_option("--allow-profile", args->profiles, "A routing profile the key may use");
  CLI::App* list = Verb(*keys, args, "list", "List keys (never their secrets)");
  list->add_option("--tenant", args->tenant, "Only this tenant's keys");
  list->add_option("--after", args->page.after,
                   "Start after this key id (the last_id of the previous page)");
  list->add_option("--limit", args->page.limit,
                   "The most keys listed (has_more says if more follow)")
      ->check(CLI::Range(int64_t{1}, KeyService::kMaxListLimit))
      ->capture_default_str();
  CLI::App* revoke = Verb(*keys, args, "revoke", "Revoke a key at once");
  revoke->add_option("--id", args->id, "The key's id (key_...)")->required();
  CLI::App* rotate = Verb(*keys, args, "rotate", "Give a key a new secret");
  rotate->add_option("--id", args->id, "The key's id (key_...)")->required();
  rotate->add_option("--grace-seconds", args->grace_seconds,
                     "How long the old secret keeps working, 0 to 2592000 (default "
                     "auth.rotation_grace_s)");
}

}  // namespace sy::app
