// The output of `switchyard plan`: a table for the terminal, JSON, or Markdown (docs/planning.md).
// Savings are measured against the first policy (positive: cheaper than it).
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plan/plan.h"

namespace sy::plan {

struct PlanReport {
  std::vector<PolicyPlan> policies{};  // the first is the reference for savings
  int64_t workload_tokens = 0;         // input and output, every bucket
  std::optional<SelfHost> self_host{};
  std::string source{};  // what was priced: the workload file, or "ledger <db>"
};

// {"source", "workload_tokens", "policies": [{"name", "total_usd", "total_exact_usd",
//  "savings_usd", "savings_percent", "buckets": [{"name", "target", "cost_usd", "cost_exact_usd",
//  "models": [{"model", "input_tokens", "output_tokens", "samples"?, "cost_usd",
//  "cost_exact_usd"}], "notes": [...]}],
//  "self_host"?: {"api_usd_per_million_tokens", "break_even_tokens_per_month"}}],
//  "self_host"?: {"gpus", "usd_per_gpu_hour", "tokens_per_second", "monthly_cost_usd",
//  "monthly_capacity_tokens"}}. Amounts are strings: *_usd rounded to the cent, *_exact_usd the
//  exact decimal.
std::string FormatJson(const PlanReport& report);
// The policies' totals, then each policy's buckets and models, then the self-host comparison.
std::string FormatTable(const PlanReport& report);
// The same tables in Markdown, under headings.
std::string FormatMarkdown(const PlanReport& report);

// (first - other) / first in percent with one decimal, rounded half away from zero ("69.7");
// "-" when first is zero.
std::string SavingsPercent(const Amount& first, const Amount& other);

}  // namespace sy::plan
