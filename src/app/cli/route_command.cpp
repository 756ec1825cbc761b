#include "app/cli/route_command.h"

#include <chrono>
#include <iostream>
#include <memory>

#include "app/cli/common.h"
#include "app/demo_config.h"
#include "app/route.h"
#include "catalog/catalog.h"
#include "core/file.h"

namespace sy::app {
namespace {

constexpr int kRefused = 1;
constexpr int kUnreadable = 2;

core::Result<config::Config> LoadConfig(const std::string& path) {
  if (path.empty()) return config::ParseConfig(kDemoConfigYaml, "demo.yaml", &DemoEnv);
  return config::LoadConfigFile(path);
}

// The request body, refused as the gateway would refuse it when it is larger than
// server.max_body_bytes, and never read past that.
core::Result<std::string> ReadRequestFile(const std::string& path, int64_t max_body_bytes) {
  auto body = core::ReadRegularFile(path, static_cast<uint64_t>(max_body_bytes), "--request");
  if (!body && body.error().code == core::Errc::kPayloadTooLarge) {
    return core::MakeError(core::Errc::kPayloadTooLarge,
                           body.error().message + " (server.max_body_bytes)");
  }
  return body;
}

}  // namespace

int RunRouteExplain(const RouteExplainArgs& args, std::ostream& out, std::ostream& err) {
  auto config = LoadConfig(args.config_path);
  if (!config) {
    err << "switchyard route explain: " << config.error().message << "\n";
    return kUnreadable;
  }
  auto shared = std::make_shared<const config::Config>(std::move(*config));
  auto catalog = catalog::Catalog::Build(shared);
  if (!catalog) {
    err << "switchyard route explain: " << catalog.error().message << "\n";
    return kUnreadable;
  }
  auto policy = routing::Policy::Build(**catalog);
  if (!policy) {
    err << "switchyard route explain: " << policy.error().message << "\n";
    return kUnreadable;
  }
  auto body = ReadRequestFile(args.request_path, shared->server.max_body_bytes);
  if (!body) {
    err << "switchyard route explain: " << body.error().message << "\n";
    return kUnreadable;
  }
  core::Request request;
  request.received_at = std::chrono::system_clock::now();
  // The option's check admits only dialect names.
  request.dialect = core::ParseDialectName(args.dialect).value_or(core::Dialect::kOpenAiChat);
  const routing::Health health = routing::HealthFor(**catalog);
  const auto decision = DecodeAndDecide(
      *body, shared->server.max_json_depth, {args.task, args.max_cost_usd, args.tags}, request,
      *policy, **catalog, health, {request.received_at, std::chrono::steady_clock::now()});
  if (!decision) {
    err << "switchyard route explain: " << decision.error().message << "\n";
    return kRefused;
  }
  out << ExplainJson(*decision, **catalog) << "\n";
  return 0;
}

void AddRouteCommand(CLI::App& app) {
  CLI::App* route = app.add_subcommand("route", "Inspect routing decisions");
  route->require_subcommand(1);
  CLI::App* cmd = route->add_subcommand(
      "explain", "Show the route a request would take, without calling any upstream");
  auto args = std::make_shared<RouteExplainArgs>();
  cmd->add_option("--request", args->request_path, "File holding the request body (JSON)")
      ->required();
  cmd->add_option("--config", args->config_path, "YAML configuration (default: the demo's)");
  cmd->add_option("--dialect", args->dialect, "The body's dialect")
      ->check(CLI::IsMember({"openai", "responses", "anthropic"}))
      ->capture_default_str();
  cmd->add_option("--task", args->task, "As x-switchyard-task");
  cmd->add_option("--max-cost-usd", args->max_cost_usd, "As x-switchyard-max-cost-usd");
  cmd->add_option("--tags", args->tags, "As x-switchyard-tags");
  cmd->callback([args] {
    const int status = RunRouteExplain(*args, std::cout, std::cerr);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace sy::app
