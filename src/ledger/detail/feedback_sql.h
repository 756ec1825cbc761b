// The feedback store's ownership lookups, shared by its SQLite and PostgreSQL stores, and its
// replacement of earlier ratings on SQLite; each pinned by a query-plan test (an index each).
// Internal to ledger/.
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
// SQLite's, told the index: without statistics its planner took the tenant's (schema v10), a
// scan of every request of the tenant per rating, over the id's. PostgreSQL's planner has them.
inline constexpr const char* kSqliteRequestOfTenant =
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM requests INDEXED BY requests_request_id WHERE "
    "request_id = $1 AND tenant = $2) THEN 1 ELSE 0 END";
inline constexpr const char* kSqliteTaskOfTenant =
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM requests INDEXED BY requests_task_id WHERE task_id = "
    "$1 AND task_id <> '' AND tenant = $2) THEN 1 ELSE 0 END";

// What a new rating replaces on SQLite (feedback.cpp says why it replaces). A rating names a
// request or a task, never both, so each statement names only its own column:
// with both, SQLite searched the task_id index for task_id = '', every rating by request of every
// tenant, inside the write transaction (0.1-0.3 s a rating at a million rows; audit 4). $1 is the
// request or task id, $2 the tenant, $3 the new row's id.
inline constexpr const char* kDeleteEarlierOfRequest =
    "DELETE FROM feedback WHERE request_id = $1 AND tenant = $2 AND id <> $3";
// (The task's finds both columns in feedback_tenant_task, schema v10.)
inline constexpr const char* kDeleteEarlierOfTask =
    "DELETE FROM feedback WHERE task_id = $1 AND tenant = $2 AND id <> $3";

}  // namespace sy::ledger::detail
