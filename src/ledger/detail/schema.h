// The ledger's SQLite schema and the batched writer of Records into it. Internal to ledger/.
//
// Schema (PRAGMA user_version = kSchemaVersion):
//   requests  one row per client request, every Record field; cost as INTEGER cost_pico (exact,
//             summed by queries) and TEXT cost_usd (exact decimal, for humans); `day` is the UTC
//             'YYYY-MM-DD' of started_at_ms, for grouping.
//             usage_estimated (v2): 1 when the gateway estimated the usage (docs/cost.md).
//             task_type, profile, rule (v3): how routing classified and routed the request
//             ('' when it did not, and for rows written before v3).
//             verify (v5): the x-switchyard-verify header sent ('' when nothing was verified).
//   attempts  one row per candidate tried or skipped: request_row (requests.id), request_id, idx
//             (0-based order), model, provider, http_status, error_code, error_message,
//             latency_ms; since v2 outcome ('ok' | 'failed' | 'skipped'), the attempt's usage
//             (input_tokens ... reasoning_tokens, usage_estimated) and cost (cost_pico,
//             cost_usd); since v5 deployment (the model's deployment it went to) and verdict
//             ('' | 'passed' | 'rejected: <check>: <why>' | 'recorded: ...'), outcome then
//             also 'rejected'. A request's cost is the sum of its attempts' costs.
//   responses (v4) the Responses dialect's stored responses (ledger/response_store.h).
//   tenants, client_keys, meta (v6) the client keys and tenants with their policies as opaque JSON
//             (ledger/keys.h); meta row 'keys_revision' counts writes to them.
//   indexes   requests(request_id), requests(task_id) WHERE task_id <> '' (v8; a full index
//             before), requests(started_at_ms), attempts(request_row).
//   feedback  (v6) outcomes clients reported for a request or a task (ledger/feedback.h).
//   shadows   (v7) one row per shadow request (Record::shadow_of set; docs/planning.md "Shadow
//             traffic"), never in requests or attempts, so no report over those counts it:
//             request_id (UNIQUE), shadow_of (the live request's id), the live request's
//             task_type/profile/rule, model (the shadow model asked), the request columns'
//             usage, cost, status, error and latency, attempts_count, agreement and verdict (the
//             answering attempt's: the last with outcome 'ok' or 'rejected'; '' when none).
//   v9        an index on feedback(created_at_ms), for retention (PruneRows).
//   v10       indexes on requests(tenant, started_at_ms) and feedback(tenant, task_id), for a
//             tenant's own reports; response_owners (owner, bytes), kept by triggers on
//             responses, for ResponseStore's per-owner bound.
// Migrations run in order inside EnsureSchema's transaction: v1 creates, v2, v3 and v5 add columns
// (ADD COLUMN with a constant default rewrites no rows, so migrating a large ledger is instant);
// v4, v6 and v7 create tables; v8 rebuilds the task_id index as a partial one (it reads only the
// rows that carry a task id); v9 and v10 add indexes (building them reads the tables once).
//
// Thread-safety: as detail::Db — one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "core/result.h"
#include "ledger/batch_writer.h"
#include "ledger/detail/columns.h"
#include "ledger/detail/sqlite.h"
#include "ledger/record.h"

namespace sy::ledger::detail {

inline constexpr int64_t kSchemaVersion = 10;

// Creates or migrates the schema to kSchemaVersion; idempotent and safe against another process
// doing the same (runs under BEGIN IMMEDIATE). Fails when the file is not a database or its
// schema is newer than this binary knows.
core::Status EnsureSchema(Db& db);

// `error` with its message prefixed "ledger database '<path>': ".
core::Error WithPath(const std::string& path, core::Error error);

// Opens the database file at `path` read-write for a writer (the ledger's, the response
// store's; each its own connection): creates the file owner-only (0600) if it is missing, sets
// the busy timeout, WAL journal mode and synchronous=NORMAL, and creates or migrates the schema.
// Fails with kInternal naming the path (cannot open or create, not a database, WAL refused,
// schema newer than this binary).
core::Result<Db> OpenForWriting(const std::string& path, std::chrono::milliseconds busy_timeout);

// Opens the existing database at `path` read-write for a store that neither creates nor migrates
// it (keys, feedback): sets the busy timeout and checks the schema is at least `min_version` and
// not newer than this binary. Fails with kInternal naming the path (missing file, not a ledger,
// schema too old: the gateway's SqliteLedger::Open migrates it, or too new).
core::Result<Db> OpenExisting(const std::string& path, int64_t min_version,
                              std::chrono::milliseconds busy_timeout);

// Checks that `db` holds a ledger schema this binary can read (for read-only opens, which do not
// migrate) and returns its version, 1..kSchemaVersion; readers must not use columns newer than it.
core::Result<int64_t> ReadableSchemaVersion(Db& db);

// Retention, as BatchWriter::Prune: in ONE write transaction, deletes at most `max_rows` each of
// the oldest requests started before `before_ms` (with their attempts), shadows started before
// it and feedback created before it. Fails (rolled back) with kInternal.
core::Result<PruneCounts> PruneRows(Db& db, int64_t before_ms, int64_t max_rows);

// "YYYY-MM-DD" (UTC) of a unix-epoch millisecond timestamp.
std::string UtcDay(int64_t epoch_ms);

// Rows per multi-row INSERT of the request path's records (RecordWriter::WriteBatch).
inline constexpr size_t kGroupRows = 8;

// Writes batches of Records with prepared statements.
// Ownership: holds statements of `db`; must be destroyed before it.
class RecordWriter {
 public:
  static core::Result<RecordWriter> Create(Db& db);

  // Writes all `records` in ONE transaction: either every row lands or none does (the
  // transaction is rolled back on failure and the caller may retry the same batch). As
  // BatchWriter::WriteBatch: `replay` skips requests already recorded, `yield_every`. A record
  // with shadow_of set goes to shadows (never requests/attempts); a shadow already recorded is
  // always skipped, replay or not.
  core::Status WriteBatch(std::span<const Record> records, const WriteOptions& options = {});

 private:
  RecordWriter(Db& db, Statement insert_request, Statement insert_request_if_new,
               Statement insert_attempt, Statement insert_shadow)
      : db_(&db),
        insert_request_(std::move(insert_request)),
        insert_request_if_new_(std::move(insert_request_if_new)),
        insert_attempt_(std::move(insert_attempt)),
        insert_shadow_(std::move(insert_shadow)) {}
  core::Status InsertAll(std::span<const Record> records, const WriteOptions& options);
  static bool IsGroup(std::span<const Record> rest);
  core::Status InsertGroup(std::span<const Record> group);
  core::Status InsertAttempts(std::span<const Record> group, int64_t first_id);
  core::Status StepOnce(Statement& s, std::string_view what, std::string_view request_id);
  core::Status InsertRecord(const Record& record, bool replay);
  core::Status InsertShadow(const Record& record, const DerivedText& derived);

  Db* db_;
  Statement insert_request_;
  Statement insert_request_if_new_;
  Statement insert_attempt_;
  Statement insert_shadow_;
  Statement insert_request_group_;  // kGroupRows requests, ids given
  Statement insert_attempt_group_;  // kGroupRows attempts
  Statement next_request_id_;       // the largest requests.id + 1
};

}  // namespace sy::ledger::detail
