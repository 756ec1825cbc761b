// eval report: what `switchyard eval` measured, summarised per policy and task type, and printed
// as a table, JSON, Markdown or an SVG chart (docs/planning.md, "switchyard eval").
//
// Definitions:
// - success rate: passed attempts / attempts. An attempt that got no answer (an HTTP error, a
//   timeout) is a failed attempt: the client got nothing it could use.
// - cost per successful task: the cost of every attempt, failed ones included, divided by the
//   passed attempts. An attempt's cost is the gateway's x-switchyard-cost-usd, which already sums
//   every upstream attempt behind it (failover and verification escalations). Exact to the
//   pico-dollar (rounded half away from zero once, at the division: core::DivideMoney); none
//   when nothing passed.
// - factual failure rate: failed attempts on factual items / attempts on factual items (the
//   hallucination proxy); none when the suite has no factual item.
// - P(success within k): the mean over items of 1 - (1 - p_i)^k, p_i an item's measured
//   per-attempt success, i.e. the chance that a client retrying up to k times gets a passing
//   answer, for k = 1..max(3, attempts).
// - latency: nearest-rank p50 and p95 of the attempts' wall time, answered or not.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/money.h"
#include "core/result.h"
#include "eval/suite.h"

namespace sy::eval {

// One request of one item under one policy.
struct Outcome {
  size_t item = 0;        // index into Suite::items
  bool answered = false;  // a 2xx answer arrived and was read
  bool passed = false;
  std::string failure;  // why it did not pass: the HTTP error, or the checker's reason
  core::Money cost;     // x-switchyard-cost-usd (zero when absent)
  int64_t latency_us = 0;
  std::string model;  // x-switchyard-model: who answered last
};

struct PolicyRun {
  std::string policy;
  std::vector<Outcome> outcomes;
};

// An attempt that did not pass, for the JSON report.
struct Failure {
  std::string item;  // its id
  std::string reason;
};
inline constexpr size_t kMaxFailuresListed = 1000;

struct Row {
  std::string policy;
  std::string task_type;  // "" = every task type
  int64_t items = 0;
  int64_t attempts = 0;
  int64_t passed = 0;
  int64_t unanswered = 0;
  core::Money cost;  // all attempts
  std::optional<core::Money> cost_per_success;
  int64_t p50_us = 0;
  int64_t p95_us = 0;
  int64_t factual_attempts = 0;
  int64_t factual_failures = 0;
  std::vector<double> within_k;           // [k - 1] = P(success within k attempts)
  std::map<std::string, int64_t> models;  // answering model -> attempts
  std::vector<Failure> failures;          // the first kMaxFailuresListed, in outcome order

  double SuccessRate() const;
  std::optional<double> FactualFailureRate() const;
};

struct Report {
  std::string suite;               // its name, for the heading
  std::string note;                // printed under the heading ("simulated quality: ...")
  std::string dialect = "openai";  // what the requests were sent as (core::DialectName)
  size_t items = 0;
  int attempts_per_item = 1;
  double min_success = 0;    // the bar a policy's success rate must reach to be the cheapest
  std::vector<Row> totals;   // one per policy, in the order given
  std::vector<Row> by_task;  // per policy, per task type (sorted by name)
};

// Fails with kInvalidRequest ("cost overflows: the attempts of policy auto ...") when a policy's
// cost sum passes the range of Money (about 9.2 million USD): a report states exact figures or
// none, never a wrapped sum.
core::Result<Report> Summarize(const Suite& suite, std::string suite_name, int attempts_per_item,
                               const std::vector<PolicyRun>& runs);

// The policy with the lowest cost per successful task among those whose success rate reaches
// `min_success` (ties: the higher success rate, then the first given); nullopt when none does.
std::optional<size_t> Cheapest(const Report& report);

std::string FormatTable(const Report& report);
std::string FormatJson(const Report& report);
std::string FormatMarkdown(const Report& report);
// A standalone SVG: cost per successful task (y) against success rate (x), one labelled point per
// policy.
std::string FormatSvg(const Report& report);

}  // namespace sy::eval
