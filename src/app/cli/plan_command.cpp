#include "app/cli/plan_command.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include <boost/json/serialize.hpp>

#include "app/cli/common.h"
#include "app/route.h"
#include "catalog/catalog.h"
#include "core/saturating.h"
#include "core/text.h"
#include "ledger/spend.h"
#include "plan/format.h"
#include "plan/plan.h"
#include "routing/decide.h"
#include "routing/policy.h"

namespace sy::app {
namespace {

constexpr int kErrorExit = 2;
constexpr size_t kMaxSpecBytes = 4096;

core::Error Invalid(std::string message) {
  return core::MakeError(core::Errc::kInvalidRequest, std::move(message));
}

// The catalog and routing policy the plan prices and routes with.
struct Pricing {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const catalog::Catalog> catalog;
  routing::Policy policy;
  routing::Health health;
};

core::Result<Pricing> LoadPricing(const std::string& config_path) {
  auto config = LoadOfflineConfig(config_path);
  if (!config) return std::move(config).error();
  auto shared = std::make_shared<const config::Config>(std::move(*config));
  auto catalog = catalog::Catalog::Build(shared);
  if (!catalog) return std::move(catalog).error();
  auto policy = routing::Policy::Build(**catalog);
  if (!policy) return std::move(policy).error();
  routing::Health health = routing::HealthFor(**catalog);
  return Pricing{shared, std::move(*catalog), std::move(*policy), std::move(health)};
}

// The model `sample` is routed to under `profile`, as the gateway would route a chat request
// carrying it (every breaker closed: a plan prices the route, not today's outages).
core::Result<const config::ModelConfig*> RouteSample(const Pricing& p, std::string_view profile,
                                                     const std::string& sample) {
  const std::string body = boost::json::serialize(boost::json::object{
      {"model", profile},
      {"messages",
       boost::json::array{boost::json::object{{"role", "user"}, {"content", sample}}}}});
  core::Request request;
  request.received_at = std::chrono::system_clock::now();
  request.dialect = core::Dialect::kOpenAiChat;
  const auto decision =
      DecodeAndDecide(body, p.config->server.max_json_depth, {}, request, p.policy, *p.catalog,
                      p.health, {request.received_at, std::chrono::steady_clock::now()});
  if (!decision) return decision.error();
  if (decision->kept == 0) return routing::NoCandidateError(*decision);
  return decision->candidates.front().model;
}

// Where a model's traffic goes: the model itself, or, when its deployments are priced
// differently, each deployment with its share: by weight under the weighted strategy, evenly
// under least_in_flight and latency (which deployment is faster is not known offline).
std::vector<plan::Pick> ModelPicks(const catalog::Catalog& catalog,
                                   const config::ModelConfig& model, int64_t samples) {
  const std::vector<catalog::Deployment>& deployments = catalog.DeploymentsOf(model);
  const bool one_price =
      std::all_of(deployments.begin(), deployments.end(),
                  [&](const catalog::Deployment& d) { return d.price == &model.price; });
  const int64_t share = std::max<int64_t>(samples, 1);
  if (one_price) return {{model.id, &model.price, share, samples}};
  std::vector<plan::Pick> out;
  for (const catalog::Deployment& d : deployments) {
    const int64_t weight = model.strategy == "weighted" ? d.config->weight : 1;
    out.push_back({model.id + "/" + d.name(), d.price, share * weight, samples});
  }
  return out;
}

// A profile's picks: the models the bucket's samples are routed to, weighted by their count.
core::Result<std::vector<plan::Pick>> RoutedPicks(const Pricing& p, std::string_view profile,
                                                  const config::WorkloadBucket& bucket) {
  if (bucket.samples.empty()) {
    return Invalid(std::string(profile) +
                   " is a routing profile: the bucket needs samples (prompts like its traffic) "
                   "to route");
  }
  std::vector<std::pair<const config::ModelConfig*, int64_t>> routed;  // in first-chosen order
  for (size_t i = 0; i < bucket.samples.size(); ++i) {
    auto model = RouteSample(p, profile, bucket.samples[i]);
    if (!model) {
      return Invalid("samples[" + std::to_string(i) + "]: " + model.error().message);
    }
    auto same = std::find_if(routed.begin(), routed.end(),
                             [&](const auto& entry) { return entry.first == *model; });
    if (same != routed.end()) {
      same->second += 1;
    } else {
      routed.emplace_back(*model, 1);
    }
  }
  std::vector<plan::Pick> picks;
  for (const auto& [model, samples] : routed) {
    for (plan::Pick& pick : ModelPicks(*p.catalog, *model, samples)) picks.push_back(pick);
  }
  return picks;
}

plan::Resolve MakeResolve(const Pricing& p) {
  return [&p](std::string_view target,
              const config::WorkloadBucket& bucket) -> core::Result<std::vector<plan::Pick>> {
    if (p.policy.FindProfile(target) != nullptr) return RoutedPicks(p, target, bucket);
    auto route = p.catalog->Resolve(target);
    if (!route) {
      return core::MakeError(core::Errc::kNotFound,
                             "\"" + core::ClipForEcho(target, 128) +
                                 "\" is not a model, an alias or a routing profile of the config");
    }
    // An alias is priced on its first model: the others are tried only when it fails.
    return ModelPicks(*p.catalog, *(*route)->candidates.front(), 0);
  };
}

// ---- --from-ledger ------------------------------------------------------------------------------

// Adds a ledger group to `policy` as one bucket on one model. Fails when the policy's total passes
// the range of an Amount (about 1.7 x 10^14 USD): each group's cost fits int64 pico-dollars, so
// that takes millions of groups near the largest cost, which only a hand-edited ledger holds.
core::Status AddLedgerBucket(plan::PolicyPlan& policy, const ledger::SpendRow& row,
                             std::string target, std::string model, core::Money cost) {
  const plan::Amount amount = plan::Amount::FromMoney(cost);
  auto total = plan::Add(policy.total, amount);
  if (!total) return Invalid("the groups of policy " + policy.name + ": " + total.error().message);
  policy.buckets.push_back({.name = row.key,
                            .target = std::move(target),
                            .parts = {{.model = std::move(model),
                                       .input_tokens = row.input_tokens,
                                       .output_tokens = row.output_tokens,
                                       .cost = amount}},
                            .cost = amount});
  policy.total = *total;
  return {};
}

// What the requests really cost, by routed task type.
core::Result<plan::PolicyPlan> RecordedPolicy(const ledger::SpendReport& report) {
  plan::PolicyPlan out{.name = "recorded"};
  for (const ledger::SpendRow& row : report.groups) {
    auto added = AddLedgerBucket(out, row, "as routed", "(as routed)", row.cost);
    if (!added) return std::move(added).error();
  }
  return out;
}

// The model `policy` names for a ledger group (its task type, "(no task type)" when unclassified,
// which only "*" covers).
core::Result<const config::ModelConfig*> LedgerTarget(const Pricing& p,
                                                      const config::WorkloadPolicy& policy,
                                                      std::string_view group) {
  const std::string_view target = policy.TargetFor(group);
  if (target.empty()) {
    return Invalid("policy " + policy.name + " names no model for task type \"" +
                   std::string(group) + "\" (add a bare MODEL for every other one)");
  }
  if (p.policy.FindProfile(target) != nullptr) {
    return Invalid("policy " + policy.name + ": " + std::string(target) +
                   " is a routing profile, and the ledger keeps no prompts to route: name a model");
  }
  auto route = p.catalog->Resolve(target);
  if (!route) {
    return Invalid("policy " + policy.name + ": \"" + core::ClipForEcho(target, 128) +
                   "\" is not a model or an alias of the config");
  }
  return (*route)->candidates.front();
}

core::Result<plan::PolicyPlan> RepricedPolicy(const Pricing& p, const PlanArgs& args,
                                              const ledger::SpendQuery& q,
                                              const config::WorkloadPolicy& policy) {
  // Each group's target, resolved once: the first row of a group resolves it for the others.
  std::map<std::string, core::Result<const config::ModelConfig*>, std::less<>> targets;
  const auto target_of = [&](std::string_view group) -> const auto& {
    auto it = targets.find(group);
    if (it == targets.end()) it = targets.emplace(group, LedgerTarget(p, policy, group)).first;
    return it->second;
  };
  const ledger::Reprice reprice = [&](const core::Usage& usage, int64_t at_ms,
                                      std::string_view group) {
    const auto& model = target_of(group);
    if (!model) return core::Money();  // reported below, after the query
    const auto at = std::chrono::system_clock::time_point(std::chrono::milliseconds(at_ms));
    return catalog::ComputeCost((*model)->price, usage, at).total;
  };
  auto report = ledger::QuerySpend(args.from_ledger, q, &reprice, policy.name);
  if (!report) return std::move(report).error();
  plan::PolicyPlan out{.name = policy.name};
  for (const ledger::SpendRow& row : report->groups) {
    const auto& model = target_of(row.key);
    if (!model) return model.error();
    auto added = AddLedgerBucket(out, row, std::string(policy.TargetFor(row.key)), (*model)->id,
                                 row.baseline_cost.value_or(core::Money()));
    if (!added) return std::move(added).error();
  }
  return out;
}

core::Result<plan::PlanReport> PlanFromLedger(const Pricing& p, const PlanArgs& args,
                                              const std::vector<config::WorkloadPolicy>& specs) {
  if (specs.empty()) return Invalid("--from-ledger needs at least one --policy to compare");
  ledger::SpendQuery q;
  q.by = ledger::GroupBy::kTaskType;
  auto from = ParseTimeFlag(args.from, "--from");
  if (!from) return std::move(from).error();
  auto to = ParseTimeFlag(args.to, "--to");
  if (!to) return std::move(to).error();
  q.from_ms = *from;
  q.to_ms = *to;
  auto recorded = ledger::QuerySpend(args.from_ledger, q);
  if (!recorded) return std::move(recorded).error();
  plan::PlanReport out{.source = "ledger " + args.from_ledger};
  // Saturating: each total fits int64 (the report fails otherwise), their sum need not; it only
  // sizes the break-even volume.
  out.workload_tokens =
      core::SaturatingAdd(recorded->total.input_tokens, recorded->total.output_tokens);
  auto recorded_policy = RecordedPolicy(*recorded);
  if (!recorded_policy) return std::move(recorded_policy).error();
  out.policies.push_back(std::move(*recorded_policy));
  for (const config::WorkloadPolicy& spec : specs) {
    auto priced = RepricedPolicy(p, args, q, spec);
    if (!priced) return std::move(priced).error();
    out.policies.push_back(std::move(*priced));
  }
  return out;
}

// ---- --workload ---------------------------------------------------------------------------------

core::Result<plan::PlanReport> PlanWorkload(const Pricing& p, const PlanArgs& args,
                                            const std::vector<config::WorkloadPolicy>& specs) {
  auto workload = config::LoadWorkloadFile(args.workload_path);
  if (!workload) return std::move(workload).error();
  std::vector<config::WorkloadPolicy> policies = workload->policies;
  policies.insert(policies.end(), specs.begin(), specs.end());
  if (policies.empty()) {
    return Invalid(args.workload_path + ": no policies to price (add policies, or --policy)");
  }
  plan::PlanReport out{.workload_tokens = plan::WorkloadTokens(*workload),
                       .source = args.workload_path};
  const plan::Resolve resolve = MakeResolve(p);
  for (const config::WorkloadPolicy& policy : policies) {
    auto priced = plan::PricePolicy(*workload, policy, resolve);
    if (!priced) return std::move(priced).error();
    out.policies.push_back(std::move(*priced));
  }
  return out;
}

core::Result<plan::PlanReport> BuildPlan(const PlanArgs& args) {
  if (args.workload_path.empty() == args.from_ledger.empty()) {
    return Invalid("give either --workload FILE or --from-ledger DB");
  }
  if (args.from_ledger.empty() && !(args.from.empty() && args.to.empty())) {
    return Invalid("--from and --to bound the ledger's requests: they need --from-ledger");
  }
  std::vector<config::WorkloadPolicy> specs;
  for (const std::string& text : args.policies) {
    auto spec = ParsePolicySpec(text);
    if (!spec) return std::move(spec).error();
    specs.push_back(std::move(*spec));
  }
  auto pricing = LoadPricing(args.config_path);
  if (!pricing) return std::move(pricing).error();
  auto report = args.from_ledger.empty() ? PlanWorkload(*pricing, args, specs)
                                         : PlanFromLedger(*pricing, args, specs);
  if (!report) return report;
  if (!args.self_host.empty()) {
    auto host = plan::ParseSelfHost(args.self_host);
    if (!host) return std::move(host).error();
    report->self_host = *host;
  }
  return report;
}

}  // namespace

core::Result<config::WorkloadPolicy> ParsePolicySpec(std::string_view spec) {
  if (spec.empty() || spec.size() > kMaxSpecBytes) {
    return Invalid("--policy: expected [NAME=]ENTRY[,ENTRY...] of at most 4096 bytes");
  }
  config::WorkloadPolicy out;
  const size_t equals = spec.find('=');
  out.name = std::string(equals == std::string_view::npos ? spec : spec.substr(0, equals));
  std::string_view entries = equals == std::string_view::npos ? spec : spec.substr(equals + 1);
  while (true) {
    const size_t comma = entries.find(',');
    const std::string_view entry = entries.substr(0, comma);
    const size_t colon = entry.find(':');
    const std::string_view bucket = colon == std::string_view::npos ? "*" : entry.substr(0, colon);
    const std::string_view target =
        colon == std::string_view::npos ? entry : entry.substr(colon + 1);
    if (out.name.empty() || bucket.empty() || target.empty()) {
      return Invalid("--policy " + core::ClipForEcho(spec, 128) + ": entry \"" +
                     core::ClipForEcho(entry, 128) + "\" is not BUCKET:TARGET or TARGET");
    }
    out.targets.emplace_back(std::string(bucket), std::string(target));
    if (comma == std::string_view::npos) break;
    entries.remove_prefix(comma + 1);
  }
  return out;
}

int RunPlan(const PlanArgs& args, std::ostream& out, std::ostream& err) {
  auto report = BuildPlan(args);
  if (!report) {
    err << "switchyard plan: " << report.error().message << "\n";
    return kErrorExit;
  }
  if (args.format == "json") {
    out << plan::FormatJson(*report);
  } else if (args.format == "markdown") {
    out << plan::FormatMarkdown(*report);
  } else {
    out << plan::FormatTable(*report);
  }
  return 0;
}

void AddPlanCommand(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "plan", "Price a workload under several policies, exactly, before switching");
  auto args = std::make_shared<PlanArgs>();
  cmd->add_option("--workload", args->workload_path, "Workload file (YAML: buckets and policies)");
  cmd->add_option("--from-ledger", args->from_ledger,
                  "Re-price what went through the gateway: the ledger's SQLite file or URL");
  cmd->add_option("--policy", args->policies,
                  "Another policy: [NAME=]BUCKET:TARGET,...,TARGET (repeatable)");
  cmd->add_option("--config", args->config_path, "YAML configuration (default: the demo's)");
  cmd->add_option("--self-host", args->self_host,
                  "Compare with rented GPUs: GPUS,USD_PER_GPU_HOUR,TOKENS_PER_S");
  cmd->add_option("--from", args->from, "--from-ledger: requests from this time (UTC)");
  cmd->add_option("--to", args->to, "--from-ledger: requests before this time (UTC)");
  cmd->add_option("--format", args->format, "Output format")
      ->check(CLI::IsMember({"table", "json", "markdown"}))
      ->capture_default_str();
  cmd->callback([args] {
    const int status = RunPlan(*args, std::cout, std::cerr);
    if (status != 0) throw CLI::RuntimeError(status);
  });
}

}  // namespace sy::app
