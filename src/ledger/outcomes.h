// Outcome reports over a ledger database: per model, task type or routing rule, how many tasks
// clients rated successful, what a successful task cost (every attempt, failover and escalation
// counted), retry and edit rates, and how often verification rejected an answer — for
// `switchyard outcomes`, GET /admin/outcomes and GET /v1/outcomes.
//
// Definitions (docs/operations.md "Outcomes"):
// - A task is the requests of one tenant sharing a task id (x-switchyard-task-id); a request
//   without one is its own task. Two tenants using the same task id have two tasks.
// - A task's group is that of its last request (by started_at_ms, then row order) that has
//   one: the model that answered it, its task type or "profile/rule"; a request refused before
//   it was routed or answered (a 401, a 429) does not move its task. A task none of whose
//   requests has one is "(none)", "(no task type)" or "(no rule)".
// - A task's outcome is its latest feedback (by created_at_ms, then insertion order) of the
//   task's tenant naming the task's id or one of its requests' ids; without any it is unrated.
// - cost: every request of the group's tasks (a request's cost is the sum of its attempts').
// - attempts: attempts sent upstream (outcome not "skipped"); rejected_attempts: those whose
//   answer verification rejected (outcome "rejected", or under verify_mode record a verdict
//   "recorded: rejected..."); verified_attempts: those with a verdict (a check ran).
// - retried / edited: rated tasks whose latest feedback says user_retried / user_edited.
// - avg_score: the mean score of the rated tasks whose latest feedback has one.
// The [from, to) range and the tenant filter select requests (then tasks are formed from them);
// feedback naming a request outside the selection does not count.
// Ledgers before schema v6 have no feedback (every task unrated); before v5 no verdicts.
//
// Thread-safety: free functions over plain values; QueryOutcomes opens its own read-only
// connection (safe while a SqliteLedger writes the file). It is blocking I/O (the database sorts
// the selected requests by task; the report holds one task and the groups at a time): call it
// off the request workers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/result.h"

namespace sy::ledger {

enum class OutcomeBy { kModel, kTaskType, kRule };

// "model", "task_type", "rule".
std::string_view OutcomeByName(OutcomeBy by);
// The inverse of OutcomeByName; fails with kInvalidRequest listing the accepted names.
core::Result<OutcomeBy> ParseOutcomeBy(std::string_view name);

struct OutcomeQuery {
  OutcomeBy by = OutcomeBy::kModel;
  std::optional<int64_t> from_ms, to_ms;  // requests with started_at_ms in [from_ms, to_ms)
  std::optional<std::string> tenant;      // only this tenant's requests; unset: all
};

// Counts as defined above; the rates are computed by the formatters.
struct OutcomeRow {
  std::string key;  // the group; "" for the total
  int64_t tasks = 0;
  int64_t rated = 0;
  int64_t successes = 0;
  int64_t failures = 0;
  int64_t retried = 0;
  int64_t edited = 0;
  int64_t attempts = 0;
  int64_t rejected_attempts = 0;
  int64_t verified_attempts = 0;
  core::Money cost;
  std::optional<double> avg_score;  // unset when no rated task has a score
};

struct OutcomeReport {
  OutcomeBy by = OutcomeBy::kModel;
  std::vector<OutcomeRow> groups;  // most expensive first, then by key
  OutcomeRow total;                // over every task of the query
};

// Reads the ledger at `db_path`, a SQLite file (read-only; never created) or a postgresql:// URL
// (spend.h: the same statements on both engines). Fails with kNotFound when the file
// does not exist and kInternal when it cannot be read, is not a Switchyard ledger or a cost sum
// overflows; the message names the path.
core::Result<OutcomeReport> QueryOutcomes(const std::string& db_path, const OutcomeQuery& q);

// {"group_by":"model","groups":[{"key":..,"tasks":..,"rated":..,"successes":..,"failures":..,
//  "success_rate":..,"cost_usd":"<exact>","cost_per_successful_task_usd":"<exact>"|null,
//  "retry_rate":..,"edit_rate":..,"attempts":..,"rejected_attempts":..,"verified_attempts":..,
//  "verification_failure_rate":..,"avg_score":..}],"total":{<same fields without key>}}
// Rates and avg_score are numbers rounded to 4 decimals, null when their denominator is 0
// (success_rate, retry_rate, edit_rate: rated; verification_failure_rate: verified_attempts);
// money as exact decimal strings, cost_per_successful_task_usd = cost / successes
// (core::DivideMoney), null without successes.
std::string FormatOutcomesJson(const OutcomeReport& report);

// The same as a fixed-width text table, one line per group then a TOTAL line; "-" for null.
std::string FormatOutcomesTable(const OutcomeReport& report);

}  // namespace sy::ledger
