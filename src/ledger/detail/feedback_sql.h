// The feedback store's ownership lookups, shared by its SQLite and PostgreSQL stores and pinned
// by a query-plan test (an index each). Internal to ledger/.
#pragma once

namespace sy::ledger::detail {

// Both lookups use an index (on request_id; on task_id) and stop at the first match. SQLite's
// task_id index is partial (schema v8): the task lookup states its condition, `task_id <> ''`,
// for the planner to use it; the id looked up is never empty (TaskBelongsTo). The same
// statements on both engines: SQLite numbers "$N" parameters in the order they first appear,
// which in each of these is $1, $2, ..., so index N binds $N on both.
inline constexpr const char* kRequestOfTenant =
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM requests WHERE request_id = $1 AND tenant = $2) "
    "THEN 1 ELSE 0 END";
inline constexpr const char* kTaskOfTenant =
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM requests WHERE task_id = $1 AND task_id <> '' AND "
    "tenant = $2) THEN 1 ELSE 0 END";

}  // namespace sy::ledger::detail
