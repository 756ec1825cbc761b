// The shadow report: how a candidate model that shadowed live traffic (a routing rule's
// `shadow:`, docs/planning.md "Shadow traffic") compares with the models that answered the live
// requests, for `switchyard shadow report`.
//
// Definitions (docs/planning.md "The report"):
// - The report reads the shadows table (detail/schema.h v7), never requests alone: a shadow is
//   counted once, in the group (rule, live model, shadow model). The rule is the live request's
//   "profile/rule" (the rule alone when the profile is ""), the live model the chosen_model of
//   the live request the shadow mirrors (shadows.shadow_of = requests.request_id), the shadow
//   model the model the shadow asked for. A shadow whose live row is not (yet) in the ledger has
//   live model "" (shown "(none)") and is not a matched pair.
// - shadows: shadow requests; shadow_errors: those whose status is not 200; live_found: those
//   whose live row was found (matched pairs).
// - cost: live_cost and shadow_cost sum cost_pico over the matched pairs only, so the ratio
//   shadow/live compares the same requests; unmatched shadows cost nothing here.
// - latency: nearest-rank p50 and p95 (the ceil(p/100 * n)-th smallest) of the live requests'
//   latency_ms over the matched pairs and of every shadow's latency_ms.
// - agreement: the shadows' agreement, "exact", "json", "differs"; anything else ("" when either
//   side had no answer) counts as unknown.
// - verification: a verdict (the answering attempt's; for the live request the last attempt with
//   outcome "ok" or "rejected") counts as passed when it is "passed" or "recorded: passed", as
//   rejected when it starts with "rejected" or "recorded: rejected", and as not checked otherwise
//   (""). The live counts are over the matched pairs.
// The filter selects shadows: started_at_ms in [from_ms, to_ms), tenant equal (a shadow has its
// live request's tenant), rule equal to the group's rule or to its bare rule name.
// A ledger older than SQLite schema v7 (PostgreSQL v5) has no shadows: the report is empty.
//
// Memory: groups are few (rules x models); the report keeps the latencies of the selected rows
// (a live and a shadow latency per shadow, in its group and in the total: 32 bytes) to take
// exact percentiles, and refuses more than kMaxShadowRows rows (kInvalidRequest: narrow
// --from/--to) rather than grow without bound.
//
// Thread-safety: free functions over plain values; QueryShadowReport opens its own read-only
// connection (safe while the gateway writes). It is blocking I/O: call it off request workers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/result.h"

namespace sy::ledger {

// 5 million shadows: about 160 MB of latencies.
inline constexpr size_t kMaxShadowRows = 5'000'000;

struct ShadowQuery {
  std::optional<int64_t> from_ms{};     // shadows with started_at_ms in [from_ms, to_ms)
  std::optional<int64_t> to_ms{};       // unset: unbounded
  std::optional<std::string> tenant{};  // only this tenant's shadows; unset: all
  std::optional<std::string> rule{};    // "profile/rule" or the bare rule; unset: all
};

// Nearest-rank percentiles of a set of latencies; unset when the set is empty.
struct LatencyPercentiles {
  std::optional<int64_t> p50_ms;
  std::optional<int64_t> p95_ms;
};

// Verification verdicts counted as defined above.
struct VerdictCounts {
  int64_t passed = 0;
  int64_t rejected = 0;
};

struct ShadowRow {
  std::string rule;          // the live rule key, "(no rule)" when ""; "" for the total
  std::string live_model;    // "(none)" when the live row was not found or had no answer
  std::string shadow_model;  // "(none)" when ""
  int64_t shadows = 0;
  int64_t shadow_errors = 0;
  int64_t live_found = 0;
  core::Money live_cost;    // over the matched pairs
  core::Money shadow_cost;  // over the matched pairs
  LatencyPercentiles live_latency;
  LatencyPercentiles shadow_latency;
  int64_t agree_exact = 0;
  int64_t agree_json = 0;
  int64_t differs = 0;
  int64_t agreement_unknown = 0;
  VerdictCounts shadow_verdicts;
  VerdictCounts live_verdicts;
};

struct ShadowReport {
  std::vector<ShadowRow> groups;  // by rule, then live model, then shadow model
  ShadowRow total;                // over every selected shadow
};

// Reads the ledger at `location`: a SQLite file (read-only; never created) or a postgresql://
// URL. Fails with kNotFound when the file does not exist, kInvalidRequest when more than
// kMaxShadowRows shadows are selected, and kInternal when the ledger cannot be read, is not a
// Switchyard ledger or a cost sum overflows; the message names the path or the database
// (never its password).
core::Result<ShadowReport> QueryShadowReport(const std::string& location, const ShadowQuery& q);

// The nearest-rank percentile `percent` (1..100) of `values`, which it sorts; unset when empty.
std::optional<int64_t> NearestRank(std::vector<int64_t>& values, int percent);

// shadow_cost / live_cost to 4 decimals, rounded half away from zero ("1.2500"); unset when the
// live cost is 0.
std::optional<std::string> CostRatio(core::Money shadow, core::Money live);

// Which VerdictCounts field a verdict adds to: 1 passed, -1 rejected, 0 not checked.
int ClassifyVerdict(std::string_view verdict);

// {"groups":[{"rule":..,"live_model":..,"shadow_model":..,"shadows":..,"shadow_errors":..,
//  "live_found":..,"live_cost_usd":"<exact>","shadow_cost_usd":"<exact>","cost_ratio":"1.2500"|
//  null,"live_p50_ms":..|null,"live_p95_ms":..,"shadow_p50_ms":..,"shadow_p95_ms":..,
//  "agreement":{"exact":..,"json":..,"differs":..,"unknown":..},"shadow_verification":{"passed":
//  ..,"rejected":..},"live_verification":{"passed":..,"rejected":..}}],"total":{<the same
//  without rule, live_model and shadow_model>}} and a newline.
std::string FormatShadowJson(const ShadowReport& report);
// An aligned text table: one line per group, then a TOTAL line; "-" for an unset value.
std::string FormatShadowTable(const ShadowReport& report);
// The same columns as a GitHub Markdown table, the total last in bold.
std::string FormatShadowMarkdown(const ShadowReport& report);

}  // namespace sy::ledger
