// Spend reports over a ledger database written by SqliteLedger: totals per model, task, day,
// tenant, routed task type or routing rule, for the `switchyard spend` command and tests.
//
// Money is exact: sums are taken in SQL over the INTEGER cost_pico column (SQLite integer SUM,
// which fails rather than wraps on overflow), so a group's cost equals the sum of its requests'
// costs to the pico-dollar. A request counts as failed when it carries an error code or the
// client got an HTTP status >= 400.
//
// Thread-safety: free functions over plain values; QuerySpend opens its own read-only
// connection, so it may run while a SqliteLedger is writing the same file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/result.h"

namespace sy::ledger {

enum class GroupBy { kModel, kTask, kDay, kTenant, kTaskType, kRule };

// "model", "task", "day", "tenant", "task_type", "rule".
std::string_view GroupByName(GroupBy by);
// The inverse of GroupByName; fails with kInvalidRequest listing the accepted names.
core::Result<GroupBy> ParseGroupBy(std::string_view name);

struct SpendRow {
  // The group: model id ("(none)" when no model answered), task id ("(no task)" when none),
  // UTC day "YYYY-MM-DD", tenant ("(no tenant)" when none), task type ("(no task type)" when
  // unclassified), or "profile/rule" ("auto/cheap-extraction"; just the rule, e.g. "model",
  // when the profile is ""; "(no rule)" when the request was not routed); "" for the total.
  // A ledger older than schema v3 has no routing columns: all its requests are "(no task type)"
  // and "(no rule)", as the v3 migration would leave them.
  std::string key;
  int64_t requests = 0;
  int64_t failed = 0;
  int64_t input_tokens = 0;
  int64_t cached_input_tokens = 0;
  int64_t output_tokens = 0;
  core::Money cost;
};

struct SpendReport {
  GroupBy group_by = GroupBy::kModel;
  // By day: in date order. Otherwise: most expensive first, then by key.
  std::vector<SpendRow> groups;
  SpendRow total;  // over all requests
};

// Reads the ledger at `db_path` (opened read-only; never created). Fails with kNotFound when the
// file does not exist and kInternal when it cannot be read or is not a Switchyard ledger; the
// message names the path.
core::Result<SpendReport> QuerySpend(const std::string& db_path, GroupBy by);

// A fixed-width text table: one line per group, columns group, requests, failed, input, cached,
// output, cost_usd (exact) and cost_cents (rounded half away from zero), then a TOTAL line.
std::string FormatTable(const SpendReport& report);

// {"group_by":"model","groups":[{"key":..,"requests":..,"failed":..,"input_tokens":..,
//  "cached_input_tokens":..,"output_tokens":..,"cost_usd":"<exact>","cost_cents":"12.35"}],
//  "total":{<same fields without key>}} — money as strings so no reader turns it into a float.
std::string FormatJson(const SpendReport& report);

}  // namespace sy::ledger
