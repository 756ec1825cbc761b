#include "ledger/detail/schema.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace sy::ledger::detail {
namespace {

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS requests (
  id INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  started_at_ms INTEGER NOT NULL,
  day TEXT NOT NULL,
  tenant TEXT NOT NULL,
  key_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  dialect TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  requested_model TEXT NOT NULL,
  chosen_model TEXT NOT NULL,
  provider TEXT NOT NULL,
  input_tokens INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL,
  cache_write_input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  usage_reported INTEGER NOT NULL,
  cost_pico INTEGER NOT NULL,
  cost_usd TEXT NOT NULL,
  price_list TEXT NOT NULL,
  stream INTEGER NOT NULL,
  status INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  route_reason TEXT NOT NULL,
  latency_ms INTEGER NOT NULL,
  ttft_ms INTEGER,
  attempts_count INTEGER NOT NULL
);
-- Each index costs every insert on the request path's writer; only lookups that are not
-- whole-table aggregates get one (spend's GROUP BY scans anyway).
CREATE INDEX IF NOT EXISTS requests_request_id ON requests(request_id);
CREATE INDEX IF NOT EXISTS requests_task_id ON requests(task_id);
CREATE INDEX IF NOT EXISTS requests_started_at ON requests(started_at_ms);
CREATE TABLE IF NOT EXISTS attempts (
  request_row INTEGER NOT NULL REFERENCES requests(id),
  request_id TEXT NOT NULL,
  idx INTEGER NOT NULL,
  model TEXT NOT NULL,
  provider TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  latency_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_request_row ON attempts(request_row);
PRAGMA user_version = 1;
)sql";

// Version 2: attempts carry their outcome, what each billed and its cost (a request's cost is
// the sum of its attempts'); requests say when their usage was estimated by the gateway.
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE requests ADD COLUMN usage_estimated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN cache_write_input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN usage_estimated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN cost_pico INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN cost_usd TEXT NOT NULL DEFAULT '0';
PRAGMA user_version = 2;
)sql";

// Version 3: requests say how routing saw them: the classified task type and the profile and
// rule that chose the route, for `switchyard spend --by task_type|rule`. No index: spend groups
// by scanning the whole table anyway (see kSchemaV1), and an index would cost every insert.
constexpr const char* kSchemaV3 = R"sql(
ALTER TABLE requests ADD COLUMN task_type TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN profile TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN rule TEXT NOT NULL DEFAULT '';
PRAGMA user_version = 3;
)sql";

// Version 4: the response store's table (ledger/response_store.h). Rows are looked up by id and
// swept by expiry; ids are random, so a rowid table with the id's own index keeps the large
// JSON texts out of the index b-tree (WITHOUT ROWID would store them in it).
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE IF NOT EXISTS responses (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  previous_id TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  input_json TEXT NOT NULL,
  output_json TEXT NOT NULL,
  response_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_expires_at ON responses(expires_at_ms);
PRAGMA user_version = 4;
)sql";

// Version 5: several deployments per model and verification (issue 18): which deployment an
// attempt went to, its verdict, and the request's x-switchyard-verify summary.
constexpr const char* kSchemaV5 = R"sql(
ALTER TABLE attempts ADD COLUMN deployment TEXT NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN verdict TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN verify TEXT NOT NULL DEFAULT '';
PRAGMA user_version = 5;
)sql";

// Version 6: client keys, tenants and feedback (issue 19). Keys are looked up in memory by the
// gateway (it loads the whole table), so client_keys needs no index beyond its hash's UNIQUE
// one, which also refuses a duplicate secret. meta.keys_revision is bumped by every key or
// tenant write, so a gateway polls one integer to learn that another process changed them.
// Feedback is found by the request or task it rates. No index on requests(key_id, ...): budget
// seeding scans by started_at_ms (indexed), and each index costs the ledger writer's inserts.
constexpr const char* kSchemaV6 = R"sql(
CREATE TABLE IF NOT EXISTS tenants (
  name TEXT PRIMARY KEY,
  policy_json TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS client_keys (
  id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash BLOB NOT NULL UNIQUE,
  previous_hash BLOB,
  previous_valid_until_ms INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER,
  policy_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
  id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  tenant TEXT NOT NULL,
  key_id TEXT NOT NULL,
  outcome TEXT NOT NULL,
  score REAL,
  user_retried INTEGER NOT NULL,
  user_edited INTEGER NOT NULL,
  comment TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_request_id ON feedback(request_id);
CREATE INDEX IF NOT EXISTS feedback_task_id ON feedback(task_id);
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (name, value) VALUES ('keys_revision', 0);
PRAGMA user_version = 6;
)sql";

// Column order of this statement is the Bind order in InsertRecord.
constexpr const char* kInsertRequest =
    "INSERT INTO requests (request_id, started_at_ms, day, tenant, key_id, task_id, dialect, "
    "endpoint, requested_model, chosen_model, provider, input_tokens, cached_input_tokens, "
    "cache_write_input_tokens, output_tokens, reasoning_tokens, usage_reported, cost_pico, "
    "cost_usd, price_list, stream, status, error_code, error_message, route_reason, latency_ms, "
    "ttft_ms, attempts_count, usage_estimated, task_type, profile, rule, verify) VALUES (?1, ?2, "
    "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, "
    "?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33)";

constexpr const char* kInsertAttempt =
    "INSERT INTO attempts (request_row, request_id, idx, model, provider, http_status, "
    "error_code, error_message, latency_ms, outcome, input_tokens, cached_input_tokens, "
    "cache_write_input_tokens, output_tokens, reasoning_tokens, usage_estimated, cost_pico, "
    "cost_usd, deployment, verdict) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
    "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)";

// The five token counters, in the column order both tables share, from parameter `first` on.
void BindTokens(Statement& s, int first, const core::Usage& u) {
  s.BindInt(first, u.input_tokens);
  s.BindInt(first + 1, u.cached_input_tokens);
  s.BindInt(first + 2, u.cache_write_input_tokens);
  s.BindInt(first + 3, u.output_tokens);
  s.BindInt(first + 4, u.reasoning_tokens);
}

core::Error TooNew(int64_t version) {
  return core::MakeError(core::Errc::kInternal, "ledger schema version " + std::to_string(version) +
                                                    " is newer than this binary supports (" +
                                                    std::to_string(kSchemaVersion) + ")");
}

// The file holds request metadata, upstream error text and stored conversations, so a new file
// is readable by its owner only: it is created here 0600 before SQLite opens it, and SQLite
// gives its -wal and -shm files the database file's mode. An existing file keeps its mode (the
// operator's choice). Any failure is left to SQLite's open, which reports it with the path.
void CreateOwnerOnly(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) return;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
}

}  // namespace

core::Error WithPath(const std::string& path, core::Error error) {
  error.message = "ledger database '" + path + "': " + error.message;
  return error;
}

core::Result<Db> OpenForWriting(const std::string& path, std::chrono::milliseconds busy_timeout) {
  CreateOwnerOnly(path);
  auto db = Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db) return std::move(db).error();
  sqlite3_busy_timeout(db->get(), static_cast<int>(busy_timeout.count()));
  auto mode = db->QueryText("PRAGMA journal_mode=WAL");
  if (!mode) return WithPath(path, std::move(mode).error());
  if (*mode != "wal") {
    return WithPath(path, core::MakeError(core::Errc::kInternal,
                                          "cannot use WAL journal mode (got " + *mode + ")"));
  }
  if (auto s = db->Exec("PRAGMA synchronous=NORMAL"); !s)
    return WithPath(path, std::move(s).error());
  if (auto s = EnsureSchema(*db); !s) return WithPath(path, std::move(s).error());
  return db;
}

core::Result<Db> OpenExisting(const std::string& path, int64_t min_version,
                              std::chrono::milliseconds busy_timeout) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return core::MakeError(core::Errc::kInternal,
                           "ledger database '" + path + "' does not exist or is not a file");
  }
  auto db = Db::Open(path, SQLITE_OPEN_READWRITE);
  if (!db) return std::move(db).error();
  sqlite3_busy_timeout(db->get(), static_cast<int>(busy_timeout.count()));
  auto version = ReadableSchemaVersion(*db);
  if (!version) return WithPath(path, std::move(version).error());
  if (*version < min_version) {
    return WithPath(path, core::MakeError(core::Errc::kInternal,
                                          "ledger schema version " + std::to_string(*version) +
                                              " is older than " + std::to_string(min_version) +
                                              " (starting the gateway on it migrates it)"));
  }
  return db;
}

core::Status EnsureSchema(Db& db) {
  if (auto s = db.Exec("BEGIN IMMEDIATE"); !s) return s;
  auto version = db.QueryInt("PRAGMA user_version");
  core::Status result;
  if (!version) {
    result = std::move(version).error();
  } else if (*version > kSchemaVersion) {
    result = TooNew(*version);
  } else {
    if (*version < 1) result = db.Exec(kSchemaV1);
    if (result && *version < 2) result = db.Exec(kSchemaV2);
    if (result && *version < 3) result = db.Exec(kSchemaV3);
    if (result && *version < 4) result = db.Exec(kSchemaV4);
    if (result && *version < 5) result = db.Exec(kSchemaV5);
    if (result && *version < 6) result = db.Exec(kSchemaV6);
  }
  if (!result) {
    (void)db.Exec("ROLLBACK");
    return result;
  }
  return db.Exec("COMMIT");
}

core::Result<int64_t> ReadableSchemaVersion(Db& db) {
  auto version = db.QueryInt("PRAGMA user_version");
  if (!version) return std::move(version).error();
  if (*version > kSchemaVersion) return TooNew(*version);
  if (*version < 1) {
    return core::MakeError(core::Errc::kInternal, "not a Switchyard ledger (no ledger schema)");
  }
  return *version;
}

std::string UtcDay(int64_t epoch_ms) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(epoch_ms)));
  const year_month_day ymd(day);
  const int year = static_cast<int>(ymd.year());
  const auto month = static_cast<unsigned>(ymd.month());
  const auto mday = static_cast<unsigned>(ymd.day());
  if (year < 0 || year > 9999) {
    std::array<char, 24> buf{};
    std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02u", year, month, mday);
    return buf.data();
  }
  // Digits by hand: snprintf cost about 1.5K instructions, once per ledger row.
  auto digit = [](unsigned v) { return static_cast<char>('0' + v % 10); };
  const auto y = static_cast<unsigned>(year);
  return std::string{
      digit(y / 1000),   digit(y / 100), digit(y / 10), digit(y),         '-',
      digit(month / 10), digit(month),   '-',           digit(mday / 10), digit(mday)};
}

core::Result<RecordWriter> RecordWriter::Create(Db& db) {
  auto request = db.Prepare(kInsertRequest);
  if (!request) return std::move(request).error();
  auto attempt = db.Prepare(kInsertAttempt);
  if (!attempt) return std::move(attempt).error();
  return RecordWriter(db, std::move(*request), std::move(*attempt));
}

core::Status RecordWriter::WriteBatch(std::span<const Record> records, size_t yield_every) {
  if (auto s = db_->Exec("BEGIN IMMEDIATE"); !s) return s;
  size_t inserted = 0;
  for (const Record& record : records) {
    if (auto s = InsertRecord(record); !s) {
      (void)db_->Exec("ROLLBACK");
      return s;
    }
    if (yield_every > 0 && ++inserted % yield_every == 0) std::this_thread::yield();
  }
  if (auto s = db_->Exec("COMMIT"); !s) {
    (void)db_->Exec("ROLLBACK");
    return s;
  }
  return {};
}

core::Status RecordWriter::InsertRecord(const Record& r) {
  const std::string day = UtcDay(r.started_at_ms);
  const std::string cost_usd = r.cost.ToString();
  Statement& s = insert_request_;
  s.BindText(1, r.request_id);
  s.BindInt(2, r.started_at_ms);
  s.BindText(3, day);
  s.BindText(4, r.tenant);
  s.BindText(5, r.key_id);
  s.BindText(6, r.task_id);
  s.BindText(7, r.dialect);
  s.BindText(8, r.endpoint);
  s.BindText(9, r.requested_model);
  s.BindText(10, r.chosen_model);
  s.BindText(11, r.provider);
  BindTokens(s, 12, r.usage);
  s.BindInt(17, r.usage.reported ? 1 : 0);
  s.BindInt(18, r.cost.pico());
  s.BindText(19, cost_usd);
  s.BindText(20, r.price_list);
  s.BindInt(21, r.stream ? 1 : 0);
  s.BindInt(22, r.status);
  s.BindText(23, r.error_code);
  s.BindText(24, r.error_message);
  s.BindText(25, r.route_reason);
  s.BindInt(26, r.latency_ms);
  if (r.ttft_ms) {
    s.BindInt(27, *r.ttft_ms);
  } else {
    s.BindNull(27);
  }
  s.BindInt(28, static_cast<int64_t>(r.attempts.size()));
  s.BindInt(29, r.usage.estimated ? 1 : 0);
  s.BindText(30, r.task_type);
  s.BindText(31, r.profile);
  s.BindText(32, r.rule);
  s.BindText(33, r.verify);
  if (s.Step() != SQLITE_DONE) {
    core::Error error = db_->LastError("inserting ledger request " + r.request_id);
    s.Reset();
    return error;
  }
  s.Reset();
  const int64_t row = sqlite3_last_insert_rowid(db_->get());

  Statement& a = insert_attempt_;
  for (size_t i = 0; i < r.attempts.size(); ++i) {
    const Attempt& attempt = r.attempts[i];
    const std::string attempt_cost = attempt.cost.ToString();  // bound without a copy: keep alive
    a.BindInt(1, row);
    a.BindText(2, r.request_id);
    a.BindInt(3, static_cast<int64_t>(i));
    a.BindText(4, attempt.model);
    a.BindText(5, attempt.provider);
    a.BindInt(6, attempt.http_status);
    a.BindText(7, attempt.error_code);
    a.BindText(8, attempt.error_message);
    a.BindInt(9, attempt.latency_ms);
    a.BindText(10, attempt.outcome);
    BindTokens(a, 11, attempt.usage);
    a.BindInt(16, attempt.usage.estimated ? 1 : 0);
    a.BindInt(17, attempt.cost.pico());
    a.BindText(18, attempt_cost);
    a.BindText(19, attempt.deployment);
    a.BindText(20, attempt.verdict);
    if (a.Step() != SQLITE_DONE) {
      core::Error error = db_->LastError("inserting ledger attempt of " + r.request_id);
      a.Reset();
      return error;
    }
    a.Reset();
  }
  return {};
}

}  // namespace sy::ledger::detail
