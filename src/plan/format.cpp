#include "plan/format.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/table.h"

namespace sy::plan {
namespace {

std::string Savings(const PlanReport& report, const PolicyPlan& policy) {
  return (report.policies.front().total - policy.total).ToCents();
}

boost::json::object ModelJson(const ModelPart& part) {
  boost::json::object out{{"model", part.model},
                          {"input_tokens", part.input_tokens},
                          {"output_tokens", part.output_tokens}};
  if (part.samples > 0) out["samples"] = part.samples;
  out["cost_usd"] = part.cost.ToCents();
  out["cost_exact_usd"] = part.cost.ToString();
  return out;
}

boost::json::object BucketJson(const BucketPlan& bucket) {
  boost::json::array models, notes;
  for (const ModelPart& part : bucket.parts) models.push_back(ModelJson(part));
  for (const std::string& note : bucket.notes) notes.push_back(boost::json::string(note));
  return {{"name", bucket.name},
          {"target", bucket.target},
          {"cost_usd", bucket.cost.ToCents()},
          {"cost_exact_usd", bucket.cost.ToString()},
          {"models", std::move(models)},
          {"notes", std::move(notes)}};
}

// "1000000000" -> "1,000,000,000": token counts people read.
std::string Grouped(int64_t value) {
  std::string digits = std::to_string(value);
  for (int i = static_cast<int>(digits.size()) - 3; i > (value < 0 ? 1 : 0); i -= 3) {
    digits.insert(static_cast<size_t>(i), ",");
  }
  return digits;
}

std::vector<core::TableRow> TotalsRows(const PlanReport& report) {
  std::vector<core::TableRow> rows{{"policy", "total_usd", "savings_usd", "savings_%"}};
  for (const PolicyPlan& policy : report.policies) {
    rows.push_back({policy.name, policy.total.ToCents(), Savings(report, policy),
                    SavingsPercent(report.policies.front().total, policy.total)});
  }
  return rows;
}

std::vector<core::TableRow> BucketRows(const PolicyPlan& policy) {
  std::vector<core::TableRow> rows{
      {"bucket", "target", "model", "samples", "input_tokens", "output_tokens", "cost_usd"}};
  for (const BucketPlan& bucket : policy.buckets) {
    for (const ModelPart& part : bucket.parts) {
      rows.push_back({bucket.name, bucket.target, part.model,
                      part.samples > 0 ? std::to_string(part.samples) : "-",
                      Grouped(part.input_tokens), Grouped(part.output_tokens),
                      part.cost.ToCents()});
    }
  }
  rows.push_back({"TOTAL", "", "", "", "", "", policy.total.ToCents()});
  return rows;
}

std::vector<std::string> Notes(const PolicyPlan& policy) {
  std::vector<std::string> out;
  for (const BucketPlan& bucket : policy.buckets) {
    for (const std::string& note : bucket.notes) out.push_back(bucket.name + ": " + note);
  }
  return out;
}

std::string SelfHostLine(const SelfHost& host, const BreakEven& fleet) {
  return std::to_string(host.gpus) + " GPUs at $" + host.usd_per_gpu_hour.ToString() +
         "/h: " + fleet.monthly_cost.ToCents() + " USD a month (730 h), capacity " +
         Grouped(fleet.monthly_capacity) + " tokens a month at " + Grouped(host.tokens_per_second) +
         " tokens/s";
}

std::vector<core::TableRow> BreakEvenRows(const PlanReport& report) {
  std::vector<core::TableRow> rows{
      {"policy", "api_usd_per_m_tokens", "break_even_tokens_per_month", "within_capacity"}};
  for (const PolicyPlan& policy : report.policies) {
    const BreakEven b = ComputeBreakEven(*report.self_host, policy, report.workload_tokens);
    rows.push_back({policy.name, b.api_price_per_million.ToCents(),
                    b.break_even ? Grouped(*b.break_even) : "never",
                    b.break_even && *b.break_even <= b.monthly_capacity ? "yes" : "no"});
  }
  return rows;
}

}  // namespace

std::string SavingsPercent(const Amount& first, const Amount& other) {
  if (first.units() == 0) return "-";
  const Int128 diff = (first - other).units();
  // Tenths of a percent, rounded half away from zero: diff x 1000 / first. Amounts of a plan
  // stay far below 2^127 / 2000.
  const Int128 scaled = diff * 2000 / first.units();
  const Int128 tenths = scaled >= 0 ? (scaled + 1) / 2 : -((-scaled + 1) / 2);
  const bool negative = tenths < 0;
  const int64_t magnitude = static_cast<int64_t>(negative ? -tenths : tenths);
  return (negative ? "-" : "") + std::to_string(magnitude / 10) + "." +
         std::to_string(magnitude % 10);
}

std::string FormatJson(const PlanReport& report) {
  boost::json::array policies;
  for (const PolicyPlan& policy : report.policies) {
    boost::json::array buckets;
    for (const BucketPlan& bucket : policy.buckets) buckets.push_back(BucketJson(bucket));
    boost::json::object entry{
        {"name", policy.name},
        {"total_usd", policy.total.ToCents()},
        {"total_exact_usd", policy.total.ToString()},
        {"savings_usd", Savings(report, policy)},
        {"savings_percent", SavingsPercent(report.policies.front().total, policy.total)},
        {"buckets", std::move(buckets)}};
    if (report.self_host) {
      const BreakEven b = ComputeBreakEven(*report.self_host, policy, report.workload_tokens);
      boost::json::object self_host{
          {"api_usd_per_million_tokens", b.api_price_per_million.ToCents()}};
      if (b.break_even)
        self_host["break_even_tokens_per_month"] = *b.break_even;
      else
        self_host["break_even_tokens_per_month"] = nullptr;
      entry["self_host"] = std::move(self_host);
    }
    policies.push_back(std::move(entry));
  }
  boost::json::object out{{"source", report.source},
                          {"workload_tokens", report.workload_tokens},
                          {"policies", std::move(policies)}};
  if (report.self_host) {
    const SelfHost& host = *report.self_host;
    const BreakEven fleet = ComputeBreakEven(host, PolicyPlan{}, 0);
    out["self_host"] = {{"gpus", host.gpus},
                        {"usd_per_gpu_hour", host.usd_per_gpu_hour.ToString()},
                        {"tokens_per_second", host.tokens_per_second},
                        {"monthly_cost_usd", fleet.monthly_cost.ToCents()},
                        {"monthly_capacity_tokens", fleet.monthly_capacity}};
  }
  return boost::json::serialize(out) + "\n";
}

std::string FormatTable(const PlanReport& report) {
  std::string out = "workload: " + report.source + " (" + Grouped(report.workload_tokens) +
                    " tokens); savings against " + report.policies.front().name + "\n\n";
  out += core::AlignedTable(TotalsRows(report));
  for (const PolicyPlan& policy : report.policies) {
    out += "\npolicy " + policy.name + "\n" +
           core::AlignedTable(BucketRows(policy), {.total_rule = true, .text_columns = 3});
    for (const std::string& note : Notes(policy)) out += "note: " + note + "\n";
  }
  if (report.self_host) {
    out += "\nself-host: " +
           SelfHostLine(*report.self_host, ComputeBreakEven(*report.self_host, PolicyPlan{}, 0)) +
           "\n" + core::AlignedTable(BreakEvenRows(report));
  }
  return out;
}

std::string FormatMarkdown(const PlanReport& report) {
  std::string out = "## Plan: " + report.source + "\n\n" + Grouped(report.workload_tokens) +
                    " tokens; savings against **" + report.policies.front().name + "**.\n\n";
  out += core::MarkdownTable(TotalsRows(report));
  for (const PolicyPlan& policy : report.policies) {
    out += "\n### " + policy.name + "\n\n" + core::MarkdownTable(BucketRows(policy), 3);
    const std::vector<std::string> notes = Notes(policy);
    if (!notes.empty()) out += "\n";
    for (const std::string& note : notes) out += "- " + note + "\n";
  }
  if (report.self_host) {
    out += "\n### Self-hosting\n\n" +
           SelfHostLine(*report.self_host, ComputeBreakEven(*report.self_host, PolicyPlan{}, 0)) +
           ".\n\n" + core::MarkdownTable(BreakEvenRows(report));
  }
  return out;
}

}  // namespace sy::plan
