// `switchyard plan`: what a workload costs under several policies, before switching
// (docs/planning.md).
//
//   switchyard plan --workload FILE [--config FILE] [--policy SPEC ...]
//                   [--self-host GPUS,USD_PER_GPU_HOUR,TOKENS_PER_S] [--format table|json|markdown]
//   switchyard plan --from-ledger DB --policy SPEC [--policy SPEC ...] [--from T] [--to T]
//                   [--config FILE] [--self-host ...] [--format ...]
//
// With --workload, every policy of the file is priced, then each --policy. A policy's target
// for a bucket is a model (priced on its price schedule), an alias (priced on its first model:
// its fallbacks run only when that one fails) or a routing profile (the bucket's samples are
// classified and routed as the gateway would, and its tokens split between the models chosen).
// A model whose deployments are priced differently is split between them as its strategy
// splits traffic (by weight under weighted, evenly otherwise).
// With --from-ledger, what went through the gateway in [from, to) is re-priced: the buckets are
// the routed task types, the first policy is what the requests really cost, and each --policy
// re-prices every request's recorded usage at its start time (catalog::ComputeCost, as the
// ledger priced it) on the model the policy names for its task type. A routing profile cannot be
// priced from the ledger, which keeps no prompts.
//
// SPEC: "[NAME=]ENTRY[,ENTRY...]", each ENTRY "BUCKET:TARGET" or a bare TARGET for every other
// bucket ("*"); NAME defaults to SPEC. E.g. "gpt-5.5", "mixed=code:deepseek-v4-flash,gpt-5.5".
// Without --config, the demo configuration's catalog and routing policy.
// Exit status: 0 on success; 2 when a file cannot be read or is invalid, a policy names an
// unknown model, or a profile has no samples to route (the reason goes to stderr).
//
// Thread-safety: run from main only.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/workload.h"
#include "core/result.h"

namespace sy::app {

struct PlanArgs {
  std::string workload_path{};
  std::string config_path{};  // "" = the demo configuration
  std::vector<std::string> policies{};
  std::string self_host{};
  std::string from_ledger{};
  std::string from{};
  std::string to{};
  std::string format = "table";
};

// Parses a --policy SPEC. Fails with kInvalidRequest naming the malformed entry.
core::Result<config::WorkloadPolicy> ParsePolicySpec(std::string_view spec);

// Registers `plan` on `app`. REQUIRES: `app` outlives the parse.
void AddPlanCommand(CLI::App& app);

// The command body, for tests: returns the exit status.
int RunPlan(const PlanArgs& args, std::ostream& out, std::ostream& err);

}  // namespace sy::app
