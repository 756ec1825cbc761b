// Spend reports over a ledger written by SqliteLedger or PostgresLedger: totals per model,
// provider, task, day, hour, tenant, client key, routed task type or routing rule, over a time
// range and one tenant if asked, for `switchyard spend`, GET /admin/spend and GET /v1/spend.
//
// Money is exact: sums are taken in SQL over the integer cost_pico column, cast to BIGINT (which
// fails rather than wraps on overflow, in both engines), so a group's cost equals the sum of its
// requests' costs to the pico-dollar. Token counts are summed the same way. A sum past int64 (rows
// holding a saturated usage or cost: an absurd upstream usage is recorded as INT64_MAX tokens)
// fails the whole report with one clear error, in SQL and in C++ alike: an exact figure or an
// error, never a wrapped or saturated one. Both engines run the same statements
// (detail/report_source.h) and give the same report, byte for byte. A request counts as failed when
// it carries an error code or the client got an HTTP status >= 400.
//
// Baseline. With a Reprice callback ("what if every call had gone to gpt-5.5") each request's
// recorded usage (the sum of its attempts') is re-priced by the callback and summed exactly per
// group and in total; savings = baseline cost - real cost (negative when the baseline is
// cheaper). Re-pricing needs each request's usage, so that report reads the matching rows and
// sums in C++ (tokens and money checked for overflow), for the groups SQL lists first (the same
// as without a baseline) and the total; without a baseline the sums stay in SQL.
//
// Thread-safety: free functions over plain values; QuerySpend opens its own read-only
// connection, so it may run while a ledger is writing the same database. It is blocking I/O
// (a scan of the requests in range): call it off the request workers.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/result.h"
#include "core/usage.h"

namespace sy::ledger {

enum class GroupBy { kModel, kTask, kDay, kTenant, kTaskType, kRule, kProvider, kKey, kHour };

// "model", "task", "day", "tenant", "task_type", "rule", "provider", "key", "hour".
std::string_view GroupByName(GroupBy by);
// The inverse of GroupByName; fails with kInvalidRequest listing the accepted names.
core::Result<GroupBy> ParseGroupBy(std::string_view name);

// SpendQuery::max_groups: its default, and the most it may be.
inline constexpr int64_t kDefaultSpendGroups = 1000;
inline constexpr int64_t kMaxSpendGroups = 100'000;

struct SpendRow {
  // The group: model id ("(none)" when no model answered), provider ("(none)" likewise), task id
  // ("(no task)" when none), UTC day "YYYY-MM-DD", UTC hour "YYYY-MM-DDTHH", tenant ("(no
  // tenant)" when none), key id ("(no key)" when none), task type ("(no task type)" when
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
  // Set only in a report with a baseline: the same requests' usage at the baseline's price.
  std::optional<core::Money> baseline_cost;
};

struct SpendReport {
  GroupBy group_by = GroupBy::kModel;
  // By day or hour: in time order. Otherwise: most expensive first, then by key. At most the
  // query's max_groups, the first in that order.
  std::vector<SpendRow> groups;
  bool more_groups = false;  // the query had groups past max_groups, left out of `groups`
  SpendRow total;            // over all requests of the query, the left-out groups' included
  std::string baseline;      // the baseline's name ("gpt-5.5"); "" without a baseline
};

struct SpendQuery {
  GroupBy by = GroupBy::kModel;
  // Requests with started_at_ms in [from_ms, to_ms); unset: unbounded.
  std::optional<int64_t> from_ms, to_ms;
  std::optional<std::string> tenant;  // only this tenant's requests (exact match); unset: all
  // The most groups the report lists: a report's size (and, with a baseline, what it holds in
  // memory) is bounded whatever the ledger holds, by=task and by=key included.
  // REQUIRES: 1 <= max_groups <= kMaxSpendGroups.
  int64_t max_groups = kDefaultSpendGroups;
};

// The cost of a request's usage at the baseline's price, at the request's start time. `group` is
// the request's group as the report shows it (SpendRow::key: its task type when grouped by task
// type, "(no task type)" when unclassified), so a baseline may price each group on a model of its
// own (`switchyard plan --from-ledger`).
using Reprice =
    std::function<core::Money(const core::Usage&, int64_t started_at_ms, std::string_view group)>;

// Reads the ledger at `db_path`: a SQLite file (opened read-only; never created) or a
// postgresql:// URL (database.url). With `baseline` (not null), every row gets baseline_cost and
// the report `baseline_name`. Fails with kNotFound when the file does not exist and kInternal
// when it cannot be read or reached, is not a Switchyard ledger or a sum (of tokens or money)
// passes int64; the message names the path, or the database as user@host:port/dbname (never its
// password).
core::Result<SpendReport> QuerySpend(const std::string& db_path, const SpendQuery& q,
                                     const Reprice* baseline = nullptr,
                                     std::string baseline_name = "");
// All requests, no baseline.
core::Result<SpendReport> QuerySpend(const std::string& db_path, GroupBy by);

// A time bound of a spend or outcome query, as unix-epoch milliseconds: "YYYY-MM-DD" (that UTC
// day's midnight), "YYYY-MM-DDTHH:MM:SSZ" (UTC), or unix seconds ("1764633600"). Fails with
// kInvalidRequest saying which forms are accepted.
core::Result<int64_t> ParseTimeBound(std::string_view text);

// A fixed-width text table: one line per group, columns group, requests, failed, input, cached,
// output, cost_usd (exact) and cost_cents (rounded half away from zero), with a baseline also
// baseline_usd and savings_usd (exact), then a TOTAL line; a last line says when groups were
// left out.
std::string FormatTable(const SpendReport& report);

// {"group_by":"model","groups":[{"key":..,"requests":..,"failed":..,"input_tokens":..,
//  "cached_input_tokens":..,"output_tokens":..,"cost_usd":"<exact>","cost_cents":"12.35"}],
//  "has_more":false,"total":{<same fields without key>}} — money as strings so no reader turns
//  it into a float. "has_more": groups past the query's max_groups were left out (the total
//  counts them).
// With a baseline: "baseline":"gpt-5.5" after "group_by", and "baseline_cost_usd" and
// "savings_usd" (exact decimals) after "cost_cents" in each group and the total.
std::string FormatJson(const SpendReport& report);

}  // namespace sy::ledger
