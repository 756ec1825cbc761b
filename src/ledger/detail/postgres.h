// The ledger's PostgreSQL side: a libpq connection, the versioned schema and the batched writer
// of Records. Internal to ledger/: other modules use ledger/postgres_ledger.h.
//
// Schema (table switchyard_schema holds the version, kPgSchemaVersion):
//   v1  requests and attempts as on SQLite (detail/schema.h, version 6): the same tables,
//       columns, meanings and 0/1 integers for flags, so one query reads either engine;
//       requests.request_id is UNIQUE, which makes every insert idempotent (a replayed spill).
//   v2  feedback as on SQLite, plus `seq` (arrival order, SQLite's rowid).
//   v3  client keys and tenants as on SQLite (ledger/keys.h): client_keys (hash BYTEA UNIQUE,
//       id PRIMARY KEY), tenants (name PRIMARY KEY) and meta with the row keys_revision, bumped
//       in the same transaction as every key or tenant write, so replicas share keys and see one
//       another's changes by polling one integer.
//   v4  stored responses as on SQLite (ledger/response_store.h): responses (id PRIMARY KEY), with
//       an index on expires_at_ms for the retention sweep.
//   v5  shadows as on SQLite v7 (detail/schema.h): shadow requests apart from requests,
//       request_id UNIQUE, an index on started_at_ms for the shadow report's range.
//   v6  the task_id index only over requests that carry a task id, as on SQLite v8.
//   v7  an index on feedback(created_at_ms) for retention, as on SQLite v9.
//   v8  indexes on requests(tenant, started_at_ms) and feedback(tenant, task_id), and
//       response_owners with its trigger, as on SQLite v10.
// Migrations run at start in one transaction under an advisory lock, so replicas starting
// together apply each once.
//
// Secrets: the URL's password is never in a message: errors name the database by
// user@host:port/dbname and any text libpq echoes has the password replaced by [redacted].
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/result.h"
#include "ledger/batch_writer.h"
#include "ledger/record.h"

struct pg_conn;
struct pg_result;

namespace sy::ledger::detail {

inline constexpr int64_t kPgSchemaVersion = 8;

// Where a connection URL points and what it must never show.
struct PgTarget {
  std::string url;
  std::string display;   // "postgresql://user@host:port/dbname", no password
  std::string password;  // "" when the URL has none (then from ~/.pgpass or the environment)
};

// Parses a libpq URL ("postgresql://user:pass@host:port/db?sslmode=...") or key=value string.
// Fails with kInvalidRequest naming nothing secret.
core::Result<PgTarget> ParsePgTarget(const std::string& url);

// Owns a PGresult.
struct PgResultDeleter {
  void operator()(pg_result* result) const;
};
using PgResult = std::unique_ptr<pg_result, PgResultDeleter>;

class PgConnection {
 public:
  // Connects (bounded by connect_timeout; TCP keepalives and tcp_user_timeout so a server that
  // vanishes mid-query fails the query in seconds rather than hanging the writer).
  static core::Result<PgConnection> Connect(const PgTarget& target,
                                            std::chrono::seconds connect_timeout);
  PgConnection() = default;
  PgConnection(PgConnection&& other) noexcept;
  PgConnection& operator=(PgConnection&& other) noexcept;
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;
  ~PgConnection();

  bool ok() const;  // connected and not broken
  // Runs `sql` (one or more statements, no parameters); kInternal with the server's message.
  core::Status Exec(const std::string& sql, std::string_view what);
  // Runs one statement with parameters: text `values` (nullptr = NULL) in text format.
  // `binary[i]` sends values[i] as raw bytes of length lengths[i] (text columns).
  core::Result<PgResult> ExecParams(const std::string& sql, const std::vector<const char*>& values,
                                    const std::vector<int>& lengths, const std::vector<int>& binary,
                                    std::string_view what);
  core::Result<std::string> QueryScalar(const std::string& sql, std::string_view what);
  // A named prepared statement on this connection, and running it (parameters as ExecParams).
  core::Status Prepare(const std::string& name, const std::string& sql, std::string_view what);
  core::Result<PgResult> ExecPrepared(const std::string& name,
                                      const std::vector<const char*>& values,
                                      const std::vector<int>& lengths,
                                      const std::vector<int>& binary, std::string_view what);

  // "<what>: <the server's or libpq's message>", one line, the password scrubbed: kInvalidRequest
  // when the server refused the statement's values (SQLSTATE class 22 or 23), else kInternal.
  // `result` null: the connection's last error.
  core::Error Failure(std::string_view what, const pg_result* result) const;
  pg_conn* get() const { return conn_; }  // for libpq calls this class does not wrap

 private:
  PgConnection(pg_conn* conn, std::string password) : conn_(conn), password_(std::move(password)) {}

  pg_conn* conn_ = nullptr;
  std::string password_;  // scrubbed from every message
};

// One statement's parameters: texts in text format (NUL-terminated), bytes in binary format
// (BYTEA), integers as decimal text; a missing value is NULL. The strings given must outlive the
// call that runs the statement.
class PgParams {
 public:
  void Text(const std::string& text) { Add(text.c_str(), 0, false); }
  void Bytes(const std::string& bytes) { Add(bytes.data(), static_cast<int>(bytes.size()), true); }
  void Int(int64_t value);
  void Null() { Add(nullptr, 0, false); }

  // PQexecParams of `sql` on `conn`, text results; the caller checks the status.
  PgResult Exec(pg_conn* conn, const std::string& sql);
  // The statement `name` prepared on `conn` (PgConnection::ExecPrepared: fails on an error).
  core::Result<PgResult> ExecPrepared(PgConnection& conn, const std::string& name,
                                      std::string_view what);

 private:
  void Add(const char* value, int length, bool binary);
  void PointAtInts();

  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<std::string> ints_;  // pointed to only when run: the vector may still grow
  std::vector<size_t> int_at_;
};

// A column of a text-format result: its text, and an integer column's value (0 for NULL).
std::string PgText(const pg_result* result, int row, int column);
int64_t PgInt(const pg_result* result, int row, int column);

// The database's ledger schema version: 0 when the gateway never created it (no
// switchyard_schema table). For readers, which neither create nor migrate.
core::Result<int64_t> ReadPgSchemaVersion(PgConnection& conn);

// A connection to the ledger database at `url`, for a reader of tables that schema
// `min_version` introduced. Fails with kInvalidRequest for a malformed URL and with kInternal
// naming the database (user@host:port/dbname) when it is unreachable, its schema is older than
// min_version ("ledger schema version N has no <tables> (starting the gateway on it creates or
// migrates it)"; version 0: "not a Switchyard ledger" when min_version is 1) or newer than this
// binary.
struct PgOpened {
  PgTarget target;
  PgConnection conn;
};
core::Result<PgOpened> ConnectAtSchema(const std::string& url, std::chrono::seconds connect_timeout,
                                       int64_t min_version, std::string_view tables);

// Creates or migrates the schema to kPgSchemaVersion (see above). Fails when the database's
// schema is newer than this binary knows.
core::Status EnsurePgSchema(PgConnection& conn);

// Text a PostgreSQL TEXT column accepts: `text` when it is valid UTF-8 without NUL bytes (the
// common case: no copy, returns false), else a copy in `fixed` with each bad byte and each NUL
// replaced by U+FFFD (returns true). PostgreSQL refuses the whole batch otherwise.
bool PgSafeText(std::string_view text, std::string& fixed);

// The BatchWriter: multi-row INSERTs (requests ... ON CONFLICT (request_id) DO NOTHING
// RETURNING id, shadow records into shadows ... ON CONFLICT (request_id) DO NOTHING, then the new
// requests' attempts), one transaction per batch, as statements of a
// few fixed row counts prepared once per connection. Reconnects when the connection broke; the
// first connect also ensures the schema.
class PgRecordWriter final : public BatchWriter {
 public:
  PgRecordWriter(PgTarget target, std::chrono::seconds connect_timeout)
      : target_(std::move(target)), connect_timeout_(connect_timeout) {}

  // Connects and ensures the schema now (Open fails early on a bad URL, refused credentials or a
  // newer schema).
  core::Status Connect();
  core::Status WriteBatch(std::span<const Record> records, const WriteOptions& options) override;
  core::Result<PruneCounts> Prune(int64_t before_ms, int64_t max_rows) override;
  std::string Describe() const override { return "ledger database " + target_.display; }

 private:
  enum class Table { kRequests, kAttempts, kShadows };

  // Runs `body` between BEGIN and COMMIT (ROLLBACK when it fails), connecting first when the
  // connection broke; `what` names the transaction in errors ("a ledger batch").
  core::Status InTransaction(std::string_view what, const std::function<core::Status()>& body);
  core::Status WriteInTransaction(std::span<const Record> records);
  core::Status PruneInTransaction(int64_t before_ms, int64_t max_rows, PruneCounts& counts);
  core::Status InsertRequests(std::span<const Record* const> records,
                              std::unordered_map<std::string_view, int64_t>& ids);
  core::Status InsertShadows(std::span<const Record* const> records);
  core::Status InsertAttempts(std::span<const Record* const> records,
                              const std::unordered_map<std::string_view, int64_t>& ids);
  // The name of the insert of `rows` rows into `table`, prepared on first use.
  core::Result<std::string> Prepared(Table table, size_t rows);

  PgTarget target_;
  std::chrono::seconds connect_timeout_;
  PgConnection conn_;
  std::unordered_set<std::string> prepared_;  // statement names prepared on conn_
};

}  // namespace sy::ledger::detail
