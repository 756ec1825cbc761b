#include "ledger/detail/postgres.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <libpq-fe.h>

#include "ledger/detail/columns.h"
#include "ledger/detail/schema.h"

namespace sy::ledger::detail {
namespace {

// A batch is cut into statements of these row counts, largest first, each prepared once per
// connection: a fresh statement of thousands of parameters parsed and planned for every batch
// cost PostgreSQL more than storing the rows. 256 rows keep a statement far under PostgreSQL's
// 65535 parameters (33, 20 and 32 columns).
constexpr std::array<size_t, 5> kChunkRows = {256, 64, 16, 4, 1};

size_t ChunkFor(size_t remaining) {
  for (const size_t rows : kChunkRows) {
    if (rows <= remaining) return rows;
  }
  return 1;
}
// Any constant both the gateway's replicas use: serialises their migrations.
constexpr int64_t kMigrationLockKey = 0x5357'5943'4844'0001;  // "SWYCHD" 1

constexpr const char* kPgSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS requests (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  request_id TEXT NOT NULL UNIQUE,
  started_at_ms BIGINT NOT NULL,
  day TEXT NOT NULL,
  tenant TEXT NOT NULL,
  key_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  dialect TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  requested_model TEXT NOT NULL,
  chosen_model TEXT NOT NULL,
  provider TEXT NOT NULL,
  input_tokens BIGINT NOT NULL,
  cached_input_tokens BIGINT NOT NULL,
  cache_write_input_tokens BIGINT NOT NULL,
  output_tokens BIGINT NOT NULL,
  reasoning_tokens BIGINT NOT NULL,
  usage_reported INTEGER NOT NULL,
  cost_pico BIGINT NOT NULL,
  cost_usd TEXT NOT NULL,
  price_list TEXT NOT NULL,
  stream INTEGER NOT NULL,
  status INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  route_reason TEXT NOT NULL,
  latency_ms BIGINT NOT NULL,
  ttft_ms BIGINT,
  attempts_count INTEGER NOT NULL,
  usage_estimated INTEGER NOT NULL DEFAULT 0,
  task_type TEXT NOT NULL DEFAULT '',
  profile TEXT NOT NULL DEFAULT '',
  rule TEXT NOT NULL DEFAULT '',
  verify TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS requests_task_id ON requests(task_id);
CREATE INDEX IF NOT EXISTS requests_started_at ON requests(started_at_ms);
CREATE TABLE IF NOT EXISTS attempts (
  request_row BIGINT NOT NULL REFERENCES requests(id),
  request_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  model TEXT NOT NULL,
  provider TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  latency_ms BIGINT NOT NULL,
  outcome TEXT NOT NULL DEFAULT '',
  input_tokens BIGINT NOT NULL DEFAULT 0,
  cached_input_tokens BIGINT NOT NULL DEFAULT 0,
  cache_write_input_tokens BIGINT NOT NULL DEFAULT 0,
  output_tokens BIGINT NOT NULL DEFAULT 0,
  reasoning_tokens BIGINT NOT NULL DEFAULT 0,
  usage_estimated INTEGER NOT NULL DEFAULT 0,
  cost_pico BIGINT NOT NULL DEFAULT 0,
  cost_usd TEXT NOT NULL DEFAULT '0',
  deployment TEXT NOT NULL DEFAULT '',
  verdict TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (request_row, idx)
);
)sql";

// Version 2: the feedback clients report (ledger/feedback.h), as SQLite's v6 table. `seq` keeps
// the order rows arrived in (SQLite's rowid), which the outcome report breaks ties by.
constexpr const char* kPgSchemaV2 = R"sql(
CREATE TABLE IF NOT EXISTS feedback (
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  key_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  score DOUBLE PRECISION,
  user_retried INTEGER NOT NULL,
  user_edited INTEGER NOT NULL,
  comment TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_request_id ON feedback(request_id);
CREATE INDEX IF NOT EXISTS feedback_task_id ON feedback(task_id);
)sql";

// Version 3: client keys and tenants (ledger/keys.h), as SQLite's v6 tables with BYTEA for the
// 32-byte hashes and BIGINT for the millisecond times, and SQLite's meta table holding
// keys_revision, so KeyStore runs the same statements on both engines. Every key or tenant write
// bumps keys_revision in its transaction; replicas poll it to learn that another one changed them.
constexpr const char* kPgSchemaV3 = R"sql(
CREATE TABLE IF NOT EXISTS tenants (
  name TEXT PRIMARY KEY,
  policy_json TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS client_keys (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash BYTEA NOT NULL UNIQUE,
  previous_hash BYTEA,
  previous_valid_until_ms BIGINT NOT NULL DEFAULT 0,
  created_at_ms BIGINT NOT NULL,
  revoked_at_ms BIGINT,
  policy_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO meta (name, value) VALUES ('keys_revision', 0) ON CONFLICT (name) DO NOTHING;
)sql";

// Version 4: the stored responses of the Responses dialect (ledger/response_store.h), as SQLite's
// v4 table with BIGINT millisecond times. The JSON stays TEXT (stored and served byte for byte,
// never queried inside). The expiry index serves the retention sweep.
constexpr const char* kPgSchemaV4 = R"sql(
CREATE TABLE IF NOT EXISTS responses (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  previous_id TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  input_json TEXT NOT NULL,
  output_json TEXT NOT NULL,
  response_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_expires_at ON responses(expires_at_ms);
)sql";

// Version 5: shadow traffic, as SQLite's v7 shadows table (detail/schema.h): shadow records apart
// from requests, request_id UNIQUE (a replayed insert does nothing), started_at_ms indexed for
// the report's range.
constexpr const char* kPgSchemaV5 = R"sql(
CREATE TABLE IF NOT EXISTS shadows (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  request_id TEXT NOT NULL UNIQUE,
  shadow_of TEXT NOT NULL,
  started_at_ms BIGINT NOT NULL,
  day TEXT NOT NULL,
  tenant TEXT NOT NULL,
  key_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  dialect TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  task_type TEXT NOT NULL,
  profile TEXT NOT NULL,
  rule TEXT NOT NULL,
  model TEXT NOT NULL,
  chosen_model TEXT NOT NULL,
  provider TEXT NOT NULL,
  input_tokens BIGINT NOT NULL,
  cached_input_tokens BIGINT NOT NULL,
  cache_write_input_tokens BIGINT NOT NULL,
  output_tokens BIGINT NOT NULL,
  reasoning_tokens BIGINT NOT NULL,
  usage_reported INTEGER NOT NULL,
  usage_estimated INTEGER NOT NULL,
  cost_pico BIGINT NOT NULL,
  cost_usd TEXT NOT NULL,
  price_list TEXT NOT NULL,
  status INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  latency_ms BIGINT NOT NULL,
  attempts_count INTEGER NOT NULL,
  agreement TEXT NOT NULL,
  verdict TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS shadows_started_at ON shadows(started_at_ms);
)sql";

// Version 6: as SQLite's v8 (detail/schema.cpp), the task_id index holds only the requests that
// carry a task id; feedback's task lookup states the condition (detail/feedback_sql.h).
constexpr const char* kPgSchemaV6 = R"sql(
DROP INDEX IF EXISTS requests_task_id;
CREATE INDEX requests_task_id ON requests(task_id) WHERE task_id <> '';
)sql";

// Version 7: as SQLite's v9, feedback's creation time indexed for retention
// (PgRecordWriter::Prune).
constexpr const char* kPgSchemaV7 = R"sql(
CREATE INDEX IF NOT EXISTS feedback_created_at ON feedback(created_at_ms);
)sql";

// Version 8: as SQLite's v10, a tenant's own reports read its rows through an index, and each
// owner's stored bytes are kept by triggers (ledger/response_store.h).
// The sum and the trigger must see the same rows: replicas still on the previous binary (a
// rolling upgrade) would otherwise store or sweep responses between the two, counted never or
// forever. Their writes wait while it sums (review of 2d521f1).
constexpr const char* kPgSchemaV8 = R"sql(
LOCK TABLE responses IN SHARE ROW EXCLUSIVE MODE;
CREATE INDEX IF NOT EXISTS requests_tenant_started_at ON requests(tenant, started_at_ms);
CREATE INDEX IF NOT EXISTS feedback_tenant_task ON feedback(tenant, task_id);
CREATE TABLE IF NOT EXISTS response_owners (
  owner TEXT PRIMARY KEY,
  bytes BIGINT NOT NULL
);
INSERT INTO response_owners (owner, bytes)
  SELECT owner, SUM(octet_length(input_json) + octet_length(output_json) +
                    octet_length(response_json))
  FROM responses GROUP BY owner
  ON CONFLICT (owner) DO NOTHING;
CREATE OR REPLACE FUNCTION switchyard_response_bytes() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO response_owners (owner, bytes) VALUES (NEW.owner,
      octet_length(NEW.input_json) + octet_length(NEW.output_json) +
      octet_length(NEW.response_json))
    ON CONFLICT (owner) DO UPDATE SET bytes = response_owners.bytes + excluded.bytes;
    RETURN NEW;
  END IF;
  UPDATE response_owners SET bytes = bytes - (octet_length(OLD.input_json) +
    octet_length(OLD.output_json) + octet_length(OLD.response_json))
  WHERE owner = OLD.owner;
  RETURN OLD;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS responses_bytes ON responses;
CREATE TRIGGER responses_bytes AFTER INSERT OR DELETE ON responses
  FOR EACH ROW EXECUTE FUNCTION switchyard_response_bytes();
)sql";

// Retention's deletes, $1 the cutoff (unix ms), $2 the rows at most: the oldest rows by their
// table's time. A request's attempts go in the same statement (the foreign key is checked at its
// end), selected by the same materialised set. Replicas pruning at once may pick the same rows:
// the later waits for the earlier's row locks, then finds them gone and deletes fewer.
constexpr std::array<const char*, 3> kPgPruneSql = {
    "WITH doomed AS (SELECT id FROM requests WHERE started_at_ms < $1 ORDER BY started_at_ms, id "
    "LIMIT $2), gone AS (DELETE FROM attempts WHERE request_row IN (SELECT id FROM doomed)) "
    "DELETE FROM requests WHERE id IN (SELECT id FROM doomed)",
    "DELETE FROM shadows WHERE id IN (SELECT id FROM shadows WHERE started_at_ms < $1 "
    "ORDER BY started_at_ms, id LIMIT $2)",
    "DELETE FROM feedback WHERE id IN (SELECT id FROM feedback WHERE created_at_ms < $1 "
    "ORDER BY created_at_ms, seq LIMIT $2)",
};

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// libpq's messages end in a newline and continue lines with "\n\t": one log line instead.
std::string OneLine(const char* message) {
  std::string out = message ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  ReplaceAll(out, "\n\t", " ");
  ReplaceAll(out, "\n", " ");
  return out;
}

// The server's notices ("relation ... already exists, skipping") are not errors: not logged.
void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

// detail/columns.h's Binder building one multi-row statement's parameters. Integers are sent
// as text, texts as raw bytes (binary format: no terminator, no escaping). Views stay valid
// while the Records and this binder live.
class ParamBinder {
 public:
  void Text(std::string_view text) {
    // A default string_view has no data pointer, which libpq would send as NULL: "" instead.
    if (text.data() == nullptr) text = std::string_view("", 0);
    if (std::string fixed; PgSafeText(text, fixed)) text = fixed_.emplace_back(std::move(fixed));
    params_.push_back({text, false, true});
  }
  void Int(int64_t value) {
    std::array<char, 24> digits{};
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size() - 1, value);
    *end = '\0';  // text format: NUL-terminated
    ints_.emplace_back(digits.data(), static_cast<size_t>(end - digits.data()) + 1);
    const std::string& stored = ints_.back();
    params_.push_back({std::string_view(stored.data(), stored.size() - 1), false, false});
  }
  void Null() { params_.push_back({{}, true, false}); }

  size_t size() const { return params_.size(); }

  core::Result<PgResult> ExecPrepared(PgConnection& conn, const std::string& name,
                                      std::string_view what) {
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> binary;
    values.reserve(params_.size());
    lengths.reserve(params_.size());
    binary.reserve(params_.size());
    for (const Param& p : params_) {
      values.push_back(p.null ? nullptr : p.view.data());
      lengths.push_back(static_cast<int>(p.view.size()));
      binary.push_back(p.binary ? 1 : 0);
    }
    return conn.ExecPrepared(name, values, lengths, binary, what);
  }

 private:
  struct Param {
    std::string_view view;
    bool null;
    bool binary;
  };
  std::vector<Param> params_;
  std::deque<std::string> ints_;   // deque: elements never move, views stay valid
  std::deque<std::string> fixed_;  // texts PgSafeText had to repair
};

// "INSERT INTO <table> (<columns>) VALUES ($1, ...), (...) <suffix>" for `rows` rows.
std::string InsertSql(std::string_view table, std::string_view columns, int column_count,
                      size_t rows, std::string_view suffix) {
  std::string sql = "INSERT INTO " + std::string(table) + " (" + std::string(columns) + ") VALUES ";
  size_t next = 1;
  for (size_t row = 0; row < rows; ++row) {
    sql += row == 0 ? "(" : ", (";
    for (int column = 0; column < column_count; ++column) {
      if (column > 0) sql += ", ";
      sql += '$' + std::to_string(next++);
    }
    sql += ')';
  }
  return sql + std::string(suffix);
}

}  // namespace

void PgResultDeleter::operator()(pg_result* result) const { PQclear(result); }

core::Result<PgTarget> ParsePgTarget(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    // libpq's message may quote the URL, password included: say only what kind of problem.
    PQfreemem(error);
    return core::MakeError(core::Errc::kInvalidRequest,
                           "database.url: not a valid PostgreSQL connection URL (not shown: it "
                           "may hold a password)");
  }
  PgTarget target;
  target.url = url;
  std::string user;
  std::string host = "localhost";
  std::string port = "5432";
  std::string dbname;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view key = o->keyword;
    if (key == "password") target.password = o->val;
    if (key == "user") user = o->val;
    if (key == "host" || key == "hostaddr") host = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") dbname = o->val;
  }
  PQconninfoFree(options);
  target.display = "postgresql://" + (user.empty() ? "" : user + "@") + host + ":" + port + "/" +
                   (dbname.empty() ? user : dbname);
  return target;
}

core::Result<PgConnection> PgConnection::Connect(const PgTarget& target,
                                                 std::chrono::seconds connect_timeout) {
  const std::string timeout = std::to_string(std::max<int64_t>(connect_timeout.count(), 1));
  // The URL first (expand_dbname), then settings that override it.
  const char* const keywords[] = {
      "dbname",           "connect_timeout",  "keepalives_idle",  "keepalives_interval",
      "keepalives_count", "tcp_user_timeout", "application_name", nullptr};
  const char* const values[] = {target.url.c_str(), timeout.c_str(), "5", "2", "3", "10000",
                                "switchyard",       nullptr};
  pg_conn* conn = PQconnectdbParams(keywords, values, 1);
  PgConnection out(conn, target.password);
  if (conn != nullptr) PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  if (conn == nullptr) {
    return core::MakeError(core::Errc::kInternal,
                           "connecting to " + target.display + ": no memory");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    return out.Failure("connecting to " + target.display, nullptr);
  }
  return out;
}

PgConnection::PgConnection(PgConnection&& other) noexcept
    : conn_(std::exchange(other.conn_, nullptr)), password_(std::move(other.password_)) {}

PgConnection& PgConnection::operator=(PgConnection&& other) noexcept {
  if (this != &other) {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = std::exchange(other.conn_, nullptr);
    password_ = std::move(other.password_);
  }
  return *this;
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

bool PgConnection::ok() const { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }

core::Error PgConnection::Failure(std::string_view what, const pg_result* result) const {
  std::string message = OneLine(result != nullptr ? PQresultErrorMessage(result)
                                                  : (conn_ ? PQerrorMessage(conn_) : ""));
  ReplaceAll(message, password_, "[redacted]");
  // SQLSTATE classes 22 (data exception) and 23 (integrity constraint): the server refused what
  // the statement holds, and will refuse it again; anything else (connection, shutdown, resources)
  // may pass on a retry.
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view sqlstate = state != nullptr ? state : "";
  const bool refused = sqlstate.starts_with("22") || sqlstate.starts_with("23");
  return core::MakeError(refused ? core::Errc::kInvalidRequest : core::Errc::kInternal,
                         std::string(what) + ": " + message);
}

core::Status PgConnection::Exec(const std::string& sql, std::string_view what) {
  PgResult result(PQexec(conn_, sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Failure(what, result.get());
  return {};
}

core::Result<PgResult> PgConnection::ExecParams(const std::string& sql,
                                                const std::vector<const char*>& values,
                                                const std::vector<int>& lengths,
                                                const std::vector<int>& binary,
                                                std::string_view what) {
  PgResult result(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), lengths.data(), binary.data(), 0));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Failure(what, result.get());
  return result;
}

core::Status PgConnection::Prepare(const std::string& name, const std::string& sql,
                                   std::string_view what) {
  PgResult result(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) return Failure(what, result.get());
  return {};
}

core::Result<PgResult> PgConnection::ExecPrepared(const std::string& name,
                                                  const std::vector<const char*>& values,
                                                  const std::vector<int>& lengths,
                                                  const std::vector<int>& binary,
                                                  std::string_view what) {
  PgResult result(PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()),
                                 values.data(), lengths.data(), binary.data(), 0));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return Failure(what, result.get());
  return result;
}

core::Result<std::string> PgConnection::QueryScalar(const std::string& sql, std::string_view what) {
  PgResult result(PQexec(conn_, sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return Failure(what, result.get());
  if (PQntuples(result.get()) == 0 || PQgetisnull(result.get(), 0, 0)) return std::string();
  return std::string(PQgetvalue(result.get(), 0, 0));
}

void PgParams::Int(int64_t value) {
  ints_.push_back(std::to_string(value));
  Add(nullptr, 0, false);
  int_at_.push_back(values_.size() - 1);
}

void PgParams::Add(const char* value, int length, bool binary) {
  values_.push_back(value);
  lengths_.push_back(length);
  formats_.push_back(binary ? 1 : 0);
}

void PgParams::PointAtInts() {
  for (size_t i = 0; i < int_at_.size(); ++i) values_[int_at_[i]] = ints_[i].c_str();
}

PgResult PgParams::Exec(pg_conn* conn, const std::string& sql) {
  PointAtInts();
  return PgResult(PQexecParams(conn, sql.c_str(), static_cast<int>(values_.size()), nullptr,
                               values_.data(), lengths_.data(), formats_.data(), 0));
}

core::Result<PgResult> PgParams::ExecPrepared(PgConnection& conn, const std::string& name,
                                              std::string_view what) {
  PointAtInts();
  return conn.ExecPrepared(name, values_, lengths_, formats_, what);
}

std::string PgText(const pg_result* result, int row, int column) {
  return std::string(PQgetvalue(result, row, column),
                     static_cast<size_t>(PQgetlength(result, row, column)));
}

int64_t PgInt(const pg_result* result, int row, int column) {
  return std::strtoll(PQgetvalue(result, row, column), nullptr, 10);
}

core::Result<int64_t> ReadPgSchemaVersion(PgConnection& conn) {
  // Two statements: PostgreSQL resolves every table a statement names before running it.
  auto exists = conn.QueryScalar("SELECT to_regclass('switchyard_schema') IS NOT NULL",
                                 "reading the ledger schema");
  if (!exists) return std::move(exists).error();
  if (*exists != "t") return int64_t{0};
  auto version =
      conn.QueryScalar("SELECT max(version) FROM switchyard_schema", "reading the ledger schema");
  if (!version) return std::move(version).error();
  return std::strtoll(version->c_str(), nullptr, 10);
}

core::Result<PgOpened> ConnectAtSchema(const std::string& url, std::chrono::seconds connect_timeout,
                                       int64_t min_version, std::string_view tables) {
  auto target = ParsePgTarget(url);
  if (!target) return std::move(target).error();
  auto conn = PgConnection::Connect(*target, connect_timeout);
  if (!conn) return std::move(conn).error();
  auto version = ReadPgSchemaVersion(*conn);
  if (!version) return std::move(version).error();
  const std::string at = target->display + ": ledger schema version " + std::to_string(*version);
  if (*version == 0 && min_version == 1) {
    return core::MakeError(core::Errc::kInternal,
                           target->display + ": not a Switchyard ledger (no ledger schema)");
  }
  if (*version < min_version) {
    return core::MakeError(core::Errc::kInternal,
                           at + " has no " + std::string(tables) +
                               " (starting the gateway on it creates or migrates it)");
  }
  if (*version > kPgSchemaVersion) {
    return core::MakeError(core::Errc::kInternal, at + " is newer than this binary supports (" +
                                                      std::to_string(kPgSchemaVersion) + ")");
  }
  return PgOpened{std::move(*target), std::move(*conn)};
}

core::Status EnsurePgSchema(PgConnection& conn) {
  if (auto s = conn.Exec("BEGIN", "migrating the ledger schema"); !s) return s;
  auto migrate = [&]() -> core::Status {
    const std::string lock =
        "SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")";
    if (auto s = conn.Exec(lock, "locking the ledger schema"); !s) return s;
    if (auto s =
            conn.Exec("CREATE TABLE IF NOT EXISTS switchyard_schema (version INTEGER NOT NULL)",
                      "creating switchyard_schema");
        !s) {
      return s;
    }
    auto version_text = conn.QueryScalar("SELECT max(version) FROM switchyard_schema",
                                         "reading the ledger schema version");
    if (!version_text) return std::move(version_text).error();
    const int64_t version = version_text->empty() ? 0 : std::stoll(*version_text);
    if (version > kPgSchemaVersion) {
      return core::MakeError(core::Errc::kInternal, "ledger schema version " +
                                                        std::to_string(version) +
                                                        " is newer than this binary supports (" +
                                                        std::to_string(kPgSchemaVersion) + ")");
    }
    if (version < 1) {
      if (auto s = conn.Exec(kPgSchemaV1, "creating the ledger schema v1"); !s) return s;
    }
    if (version < 2) {
      if (auto s = conn.Exec(kPgSchemaV2, "migrating the ledger schema to v2"); !s) return s;
    }
    if (version < 3) {
      if (auto s = conn.Exec(kPgSchemaV3, "migrating the ledger schema to v3"); !s) return s;
    }
    if (version < 4) {
      if (auto s = conn.Exec(kPgSchemaV4, "migrating the ledger schema to v4"); !s) return s;
    }
    if (version < 5) {
      if (auto s = conn.Exec(kPgSchemaV5, "migrating the ledger schema to v5"); !s) return s;
    }
    if (version < 6) {
      if (auto s = conn.Exec(kPgSchemaV6, "migrating the ledger schema to v6"); !s) return s;
    }
    if (version < 7) {
      if (auto s = conn.Exec(kPgSchemaV7, "migrating the ledger schema to v7"); !s) return s;
    }
    if (version < 8) {
      if (auto s = conn.Exec(kPgSchemaV8, "migrating the ledger schema to v8"); !s) return s;
    }
    if (version == kPgSchemaVersion) return {};
    return conn.Exec("DELETE FROM switchyard_schema; INSERT INTO switchyard_schema VALUES (" +
                         std::to_string(kPgSchemaVersion) + ")",
                     "recording the ledger schema version");
  };
  if (auto s = migrate(); !s) {
    (void)conn.Exec("ROLLBACK", "rolling back");
    return s;
  }
  return conn.Exec("COMMIT", "committing the ledger schema");
}

bool PgSafeText(std::string_view text, std::string& fixed) {
  const auto valid_at = [&](size_t i) -> size_t {  // length of the valid character at i, or 0
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) return 0;
    if (c < 0x80) return 1;
    size_t n = 0;
    unsigned min = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 2;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      n = 3;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      n = 4;
      min = 0x10000;
    } else
      return 0;
    if (i + n > text.size()) return 0;
    unsigned cp = c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
  };
  size_t i = 0;
  while (i < text.size()) {
    const size_t n = valid_at(i);
    if (n == 0) break;
    i += n;
  }
  if (i == text.size()) return false;
  fixed.assign(text.substr(0, i));
  while (i < text.size()) {
    const size_t n = valid_at(i);
    if (n == 0) {
      fixed += "\xEF\xBF\xBD";
      ++i;
    } else {
      fixed.append(text.substr(i, n));
      i += n;
    }
  }
  return true;
}

core::Status PgRecordWriter::Connect() {
  auto conn = PgConnection::Connect(target_, connect_timeout_);
  if (!conn) return std::move(conn).error();
  if (auto s = EnsurePgSchema(*conn); !s) return s;
  conn_ = std::move(*conn);
  prepared_.clear();  // prepared statements belong to the connection
  return {};
}

core::Status PgRecordWriter::WriteBatch(std::span<const Record> records,
                                        const WriteOptions& options) {
  (void)options;  // every insert skips a known request_id; no yield: the server does the work
  return InTransaction("a ledger batch", [&] { return WriteInTransaction(records); });
}

core::Result<PruneCounts> PgRecordWriter::Prune(int64_t before_ms, int64_t max_rows) {
  PruneCounts counts;
  auto done = InTransaction("a retention pass",
                            [&] { return PruneInTransaction(before_ms, max_rows, counts); });
  if (!done) return std::move(done).error();
  return counts;
}

core::Status PgRecordWriter::InTransaction(std::string_view what,
                                           const std::function<core::Status()>& body) {
  if (!conn_.ok()) {
    if (auto s = Connect(); !s) return s;
  }
  const std::string name(what);
  if (auto s = conn_.Exec("BEGIN", "beginning " + name); !s) return s;
  if (auto s = body(); !s) {
    (void)conn_.Exec("ROLLBACK", "rolling back " + name);
    return s;
  }
  return conn_.Exec("COMMIT", "committing " + name);
}

core::Status PgRecordWriter::PruneInTransaction(int64_t before_ms, int64_t max_rows,
                                                PruneCounts& counts) {
  const std::string before = std::to_string(before_ms);
  const std::string limit = std::to_string(max_rows);
  const std::vector<const char*> values = {before.c_str(), limit.c_str()};
  const std::vector<int> lengths = {0, 0};
  const std::vector<int> text = {0, 0};
  const std::array<int64_t*, 3> into = {&counts.requests, &counts.shadows, &counts.feedback};
  for (size_t i = 0; i < kPgPruneSql.size(); ++i) {
    auto result = conn_.ExecParams(kPgPruneSql[i], values, lengths, text,
                                   "deleting ledger rows past retention");
    if (!result) return std::move(result).error();
    *into[i] = std::strtoll(PQcmdTuples(result->get()), nullptr, 10);
  }
  return {};
}

core::Status PgRecordWriter::WriteInTransaction(std::span<const Record> records) {
  // Shadow records go to their own table (detail/schema.h v7); the rest keep their order.
  std::vector<const Record*> live;
  std::vector<const Record*> shadows;
  for (const Record& r : records) (r.shadow_of.empty() ? live : shadows).push_back(&r);
  std::unordered_map<std::string_view, int64_t> ids;
  for (size_t begin = 0; begin < live.size();) {
    const size_t rows = ChunkFor(live.size() - begin);
    if (auto s = InsertRequests(std::span(live).subspan(begin, rows), ids); !s) return s;
    begin += rows;
  }
  for (size_t begin = 0; begin < shadows.size();) {
    const size_t rows = ChunkFor(shadows.size() - begin);
    if (auto s = InsertShadows(std::span(shadows).subspan(begin, rows)); !s) return s;
    begin += rows;
  }
  return InsertAttempts(live, ids);
}

core::Result<std::string> PgRecordWriter::Prepared(Table table, size_t rows) {
  static constexpr std::array<std::string_view, 3> kPrefixes = {"sy_requests_", "sy_attempts_",
                                                                "sy_shadows_"};
  std::string name = std::string(kPrefixes[static_cast<size_t>(table)]) + std::to_string(rows);
  if (prepared_.contains(name)) return name;
  std::string sql;
  switch (table) {
    case Table::kRequests:
      sql = InsertSql("requests", kRequestColumns, kRequestColumnCount, rows,
                      " ON CONFLICT (request_id) DO NOTHING RETURNING id, request_id");
      break;
    case Table::kAttempts:
      sql = InsertSql("attempts", kAttemptColumns, kAttemptColumnCount, rows, "");
      break;
    case Table::kShadows:
      sql = InsertSql("shadows", kShadowColumns, kShadowColumnCount, rows,
                      " ON CONFLICT (request_id) DO NOTHING");
      break;
  }
  if (auto s = conn_.Prepare(name, sql, "preparing the ledger's inserts"); !s) {
    return std::move(s).error();
  }
  prepared_.insert(name);
  return name;
}

// Inserts `records` (a chunk: kChunkRows) and notes each new row's id by request_id (a replayed
// one returns none).
core::Status PgRecordWriter::InsertRequests(std::span<const Record* const> records,
                                            std::unordered_map<std::string_view, int64_t>& ids) {
  auto name = Prepared(Table::kRequests, records.size());
  if (!name) return std::move(name).error();
  ParamBinder binder;
  std::deque<DerivedText> derived;
  for (const Record* r : records) {
    BindRequest(binder, *r, derived.emplace_back(UtcDay(r->started_at_ms), r->cost.ToString()));
  }
  auto result = binder.ExecPrepared(conn_, *name, "inserting ledger requests");
  if (!result) return std::move(result).error();
  std::unordered_map<std::string_view, std::string_view> own_ids;  // views of the Records
  for (const Record* r : records) own_ids.emplace(r->request_id, r->request_id);
  const int rows = PQntuples(result->get());
  for (int row = 0; row < rows; ++row) {
    const auto own = own_ids.find(PQgetvalue(result->get(), row, 1));
    if (own == own_ids.end()) continue;
    ids[own->second] = std::strtoll(PQgetvalue(result->get(), row, 0), nullptr, 10);
  }
  return {};
}

// Inserts shadow `records` (a chunk: kChunkRows); one already there (a replay) is skipped.
core::Status PgRecordWriter::InsertShadows(std::span<const Record* const> records) {
  auto name = Prepared(Table::kShadows, records.size());
  if (!name) return std::move(name).error();
  ParamBinder binder;
  std::deque<DerivedText> derived;
  for (const Record* r : records) {
    BindShadow(binder, *r, derived.emplace_back(UtcDay(r->started_at_ms), r->cost.ToString()));
  }
  if (auto result = binder.ExecPrepared(conn_, *name, "inserting ledger shadows"); !result) {
    return std::move(result).error();
  }
  return {};
}

// Inserts the attempts of the requests that were new (their ids in `ids`), in chunks.
core::Status PgRecordWriter::InsertAttempts(
    std::span<const Record* const> records,
    const std::unordered_map<std::string_view, int64_t>& ids) {
  struct Row {
    const Record* record;
    size_t index;
    int64_t request_row;
  };
  std::vector<Row> rows;
  for (const Record* r : records) {
    const auto id = ids.find(r->request_id);
    if (id == ids.end()) continue;  // recorded before: a replay
    for (size_t i = 0; i < r->attempts.size(); ++i) rows.push_back({r, i, id->second});
  }
  for (size_t begin = 0; begin < rows.size();) {
    const size_t count = ChunkFor(rows.size() - begin);
    auto name = Prepared(Table::kAttempts, count);
    if (!name) return std::move(name).error();
    ParamBinder binder;
    std::deque<std::string> costs;
    for (size_t k = begin; k < begin + count; ++k) {
      const Row& row = rows[k];
      BindAttempt(binder, row.request_row, *row.record, row.index,
                  costs.emplace_back(row.record->attempts[row.index].cost.ToString()));
    }
    if (auto result = binder.ExecPrepared(conn_, *name, "inserting ledger attempts"); !result) {
      return std::move(result).error();
    }
    begin += count;
  }
  return {};
}

}  // namespace sy::ledger::detail
