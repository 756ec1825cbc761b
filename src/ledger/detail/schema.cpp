#include "ledger/detail/schema.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "ledger/detail/columns.h"

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

// Version 7: shadow traffic (issue 22). A shadow request's record is its own table, so no
// report over requests (spend, outcomes, budgets, feedback, plan --from-ledger) counts it. The
// UNIQUE request_id makes a replayed spill's insert a no-op (ON CONFLICT DO NOTHING); the report
// selects by started_at_ms and finds each live request through requests' own request_id index,
// so shadow_of needs none.
constexpr const char* kSchemaV7 = R"sql(
CREATE TABLE IF NOT EXISTS shadows (
  id INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  shadow_of TEXT NOT NULL,
  started_at_ms INTEGER NOT NULL,
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
  input_tokens INTEGER NOT NULL,
  cached_input_tokens INTEGER NOT NULL,
  cache_write_input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  usage_reported INTEGER NOT NULL,
  usage_estimated INTEGER NOT NULL,
  cost_pico INTEGER NOT NULL,
  cost_usd TEXT NOT NULL,
  price_list TEXT NOT NULL,
  status INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL,
  latency_ms INTEGER NOT NULL,
  attempts_count INTEGER NOT NULL,
  agreement TEXT NOT NULL,
  verdict TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS shadows_request_id ON shadows(request_id);
CREATE INDEX IF NOT EXISTS shadows_started_at ON shadows(started_at_ms);
PRAGMA user_version = 7;
)sql";

// Version 8: the task_id index holds only the requests that carry a task id. Most requests carry
// none, and indexing their '' was one b-tree insert per request on the ledger writer (callgrind:
// about 1,150 instructions a request) for a key no lookup asks for: the one reader, feedback's
// task lookup, asks for a non-empty id and states `task_id <> ''`, the index's condition, so
// that SQLite's planner may use it.
constexpr const char* kSchemaV8 = R"sql(
DROP INDEX IF EXISTS requests_task_id;
CREATE INDEX requests_task_id ON requests(task_id) WHERE task_id <> '';
PRAGMA user_version = 8;
)sql";

// Version 9: retention (ledger.retention_days) deletes feedback by its age, so it needs the
// creation time indexed; the requests and shadows it deletes are found by their started_at_ms
// indexes. Only feedback's own inserts pay for it, not the request path's.
constexpr const char* kSchemaV9 = R"sql(
CREATE INDEX IF NOT EXISTS feedback_created_at ON feedback(created_at_ms);
PRAGMA user_version = 9;
)sql";

// Version 10: a tenant's own reports (GET /v1/spend, /v1/outcomes: every client call names its
// tenant) read that tenant's rows through an index instead of scanning every tenant's: on a
// ledger of 2 million rows a report for a tenant of one request took 0.34 s, and the time grows
// with the ledger (audit 4). The requests index costs the ledger writer one more b-tree insert a
// request (docs/performance.md measures it); the feedback one only feedback's inserts.
//
// It also bounds what a key stores (audit 4): response_owners holds the bytes of each owner's
// stored responses (their input, output and Response JSON), kept by triggers on every insert and
// delete (a put, a DELETE, the expiry sweep), so that a put checks its owner's total with one
// lookup. Migrating sums the rows already stored.
constexpr const char* kSchemaV10 = R"sql(
CREATE INDEX IF NOT EXISTS requests_tenant_started_at ON requests(tenant, started_at_ms);
CREATE INDEX IF NOT EXISTS feedback_tenant_task ON feedback(tenant, task_id);
CREATE TABLE IF NOT EXISTS response_owners (
  owner TEXT PRIMARY KEY,
  bytes INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO response_owners (owner, bytes)
  SELECT owner, SUM(length(CAST(input_json AS BLOB)) + length(CAST(output_json AS BLOB)) +
                    length(CAST(response_json AS BLOB)))
  FROM responses GROUP BY owner;
CREATE TRIGGER IF NOT EXISTS responses_stored AFTER INSERT ON responses BEGIN
  INSERT INTO response_owners (owner, bytes) VALUES (NEW.owner,
    length(CAST(NEW.input_json AS BLOB)) + length(CAST(NEW.output_json AS BLOB)) +
    length(CAST(NEW.response_json AS BLOB)))
  ON CONFLICT (owner) DO UPDATE SET bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER IF NOT EXISTS responses_removed AFTER DELETE ON responses BEGIN
  UPDATE response_owners SET bytes = bytes - (length(CAST(OLD.input_json AS BLOB)) +
    length(CAST(OLD.output_json AS BLOB)) + length(CAST(OLD.response_json AS BLOB)))
  WHERE owner = OLD.owner;
END;
PRAGMA user_version = 10;
)sql";

// Retention's deletes, ?1 the cutoff (unix ms), ?2 the rows at most. Each picks the oldest rows
// in the order of its table's time index (which holds the rowid, so no sort is needed). The two
// statements on requests select the same rows: they run back to back in one write transaction.
constexpr std::array<const char*, 4> kPruneSql = {
    "DELETE FROM attempts WHERE request_row IN (SELECT id FROM requests WHERE started_at_ms < ?1 "
    "ORDER BY started_at_ms, id LIMIT ?2)",
    "DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE started_at_ms < ?1 "
    "ORDER BY started_at_ms, id LIMIT ?2)",
    "DELETE FROM shadows WHERE id IN (SELECT id FROM shadows WHERE started_at_ms < ?1 "
    "ORDER BY started_at_ms, id LIMIT ?2)",
    "DELETE FROM feedback WHERE rowid IN (SELECT rowid FROM feedback WHERE created_at_ms < ?1 "
    "ORDER BY created_at_ms, rowid LIMIT ?2)",
};

// "?first, ?first+1, ..., ?first+n-1".
std::string Placeholders(int n, int first = 1) {
  std::string out;
  for (int i = first; i < first + n; ++i) out += (i > first ? ", ?" : "?") + std::to_string(i);
  return out;
}

// " (?1, ..., ?n), (?n+1, ..., ?2n), ..." for `rows` rows of `n` values.
std::string ValuesRows(int n, size_t rows) {
  std::string out;
  for (size_t r = 0; r < rows; ++r) {
    out += (r > 0 ? ", (" : " (") + Placeholders(n, static_cast<int>(r) * n + 1) + ")";
  }
  return out;
}

std::string InsertRequestSql() {
  return "INSERT INTO requests (" + std::string(kRequestColumns) + ") VALUES (" +
         Placeholders(kRequestColumnCount) + ")";
}

// For a replayed spill: skips a request already recorded (?1 is its request_id; the
// requests_request_id index makes the check a lookup).
std::string InsertRequestIfNewSql() {
  return "INSERT INTO requests (" + std::string(kRequestColumns) + ") SELECT " +
         Placeholders(kRequestColumnCount) +
         " WHERE NOT EXISTS (SELECT 1 FROM requests WHERE request_id = ?1)";
}

// Always skips a shadow already recorded (a replayed spill): the UNIQUE request_id decides.
std::string InsertShadowSql() {
  return "INSERT INTO shadows (" + std::string(kShadowColumns) + ") VALUES (" +
         Placeholders(kShadowColumnCount) + ") ON CONFLICT (request_id) DO NOTHING";
}

std::string InsertAttemptSql() {
  return "INSERT INTO attempts (" + std::string(kAttemptColumns) + ") VALUES (" +
         Placeholders(kAttemptColumnCount) + ")";
}

// kGroupRows requests in one statement, each with the row id the writer gives it.
//
// OR FAIL: a statement that writes several rows and may abort keeps a statement journal, so
// that an abort undoes its earlier rows; opening and closing it cost about 2,000 instructions
// a request. The writer rolls the whole batch back on any failed step, so a failed statement's
// earlier rows need no undoing of their own.
std::string InsertRequestGroupSql() {
  return "INSERT OR FAIL INTO requests (id, " + std::string(kRequestColumns) + ") VALUES" +
         ValuesRows(kRequestColumnCount + 1, kGroupRows);
}

std::string InsertAttemptGroupSql() {
  return "INSERT OR FAIL INTO attempts (" + std::string(kAttemptColumns) + ") VALUES" +
         ValuesRows(kAttemptColumnCount, kGroupRows);
}

// detail/columns.h's Binder over a prepared statement, parameters from 1 on.
struct StatementBinder {
  Statement& s;
  int index = 1;
  void Text(std::string_view text) { s.BindText(index++, text); }
  void Int(int64_t value) { s.BindInt(index++, value); }
  void Null() { s.BindNull(index++); }
};

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
  return db.WriteTransaction([&]() -> core::Status {
    auto version = db.QueryInt("PRAGMA user_version");
    if (!version) return std::move(version).error();
    if (*version > kSchemaVersion) return TooNew(*version);
    core::Status result;
    if (*version < 1) result = db.Exec(kSchemaV1);
    if (result && *version < 2) result = db.Exec(kSchemaV2);
    if (result && *version < 3) result = db.Exec(kSchemaV3);
    if (result && *version < 4) result = db.Exec(kSchemaV4);
    if (result && *version < 5) result = db.Exec(kSchemaV5);
    if (result && *version < 6) result = db.Exec(kSchemaV6);
    if (result && *version < 7) result = db.Exec(kSchemaV7);
    if (result && *version < 8) result = db.Exec(kSchemaV8);
    if (result && *version < 9) result = db.Exec(kSchemaV9);
    if (result && *version < 10) result = db.Exec(kSchemaV10);
    return result;
  });
}

namespace {

// Runs one of kPruneSql; returns the rows it deleted.
core::Result<int64_t> PruneStep(Db& db, const char* sql, int64_t before_ms, int64_t max_rows) {
  auto statement = db.Prepare(sql);
  if (!statement) return std::move(statement).error();
  statement->BindInt(1, before_ms);
  statement->BindInt(2, max_rows);
  if (statement->Step() != SQLITE_DONE) return db.LastError("deleting ledger rows past retention");
  return static_cast<int64_t>(sqlite3_changes64(db.get()));
}

// Runs every statement of kPruneSql, noting what each deleted in `counts`.
core::Status PruneEach(Db& db, int64_t before_ms, int64_t max_rows, PruneCounts& counts) {
  std::array<int64_t*, 4> into = {nullptr, &counts.requests, &counts.shadows, &counts.feedback};
  for (size_t i = 0; i < kPruneSql.size(); ++i) {
    auto deleted = PruneStep(db, kPruneSql[i], before_ms, max_rows);
    if (!deleted) return std::move(deleted).error();
    if (into[i] != nullptr) *into[i] = *deleted;
  }
  return {};
}

}  // namespace

core::Result<PruneCounts> PruneRows(Db& db, int64_t before_ms, int64_t max_rows) {
  PruneCounts counts;
  auto done = db.WriteTransaction([&] { return PruneEach(db, before_ms, max_rows, counts); });
  if (!done) return std::move(done).error();
  return counts;
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
  auto request = db.Prepare(InsertRequestSql());
  if (!request) return std::move(request).error();
  auto request_group = db.Prepare(InsertRequestGroupSql());
  if (!request_group) return std::move(request_group).error();
  auto attempt_group = db.Prepare(InsertAttemptGroupSql());
  if (!attempt_group) return std::move(attempt_group).error();
  auto next_id = db.Prepare("SELECT coalesce(max(id), 0) + 1 FROM requests");
  if (!next_id) return std::move(next_id).error();
  auto request_if_new = db.Prepare(InsertRequestIfNewSql());
  if (!request_if_new) return std::move(request_if_new).error();
  auto attempt = db.Prepare(InsertAttemptSql());
  if (!attempt) return std::move(attempt).error();
  auto shadow = db.Prepare(InsertShadowSql());
  if (!shadow) return std::move(shadow).error();
  RecordWriter writer(db, std::move(*request), std::move(*request_if_new), std::move(*attempt),
                      std::move(*shadow));
  writer.insert_request_group_ = std::move(*request_group);
  writer.insert_attempt_group_ = std::move(*attempt_group);
  writer.next_request_id_ = std::move(*next_id);
  return writer;
}

core::Status RecordWriter::WriteBatch(std::span<const Record> records,
                                      const WriteOptions& options) {
  return db_->WriteTransaction([&] { return InsertAll(records, options); });
}

// Live requests go kGroupRows at a time, one statement for their rows and one per kGroupRows of
// their attempts: SQLite's work per statement (cursors on the table and each index) is then
// paid once per group, not per row. A replayed spill's requests (each checked for a copy first)
// and shadows go one at a time.
core::Status RecordWriter::InsertAll(std::span<const Record> records, const WriteOptions& options) {
  size_t since_yield = 0;
  for (size_t i = 0; i < records.size();) {
    const bool group = !options.replay && IsGroup(records.subspan(i));
    const size_t n = group ? kGroupRows : 1;
    auto status =
        group ? InsertGroup(records.subspan(i, n)) : InsertRecord(records[i], options.replay);
    if (!status) return status;
    i += n;
    since_yield += n;
    if (options.yield_every > 0 && since_yield >= options.yield_every) {
      since_yield = 0;
      std::this_thread::yield();
    }
  }
  return {};
}

// Whether `rest` starts with kGroupRows live requests (no shadow among them).
bool RecordWriter::IsGroup(std::span<const Record> rest) {
  if (rest.size() < kGroupRows) return false;
  return std::none_of(rest.begin(), rest.begin() + kGroupRows,
                      [](const Record& r) { return !r.shadow_of.empty(); });
}

core::Status RecordWriter::InsertGroup(std::span<const Record> group) {
  // The writer holds the database's write lock (BEGIN IMMEDIATE), so the ids after the largest
  // are free; giving them here, rather than letting SQLite choose, ties each attempt to its row.
  Statement& next = next_request_id_;
  if (next.Step() != SQLITE_ROW) {
    core::Error error = db_->LastError("reading the next ledger row id");
    next.Reset();
    return error;
  }
  const int64_t first_id = next.ColumnInt(0);
  next.Reset();
  std::array<DerivedText, kGroupRows> derived;
  Statement& s = insert_request_group_;
  StatementBinder rows{s};
  for (size_t i = 0; i < kGroupRows; ++i) {
    derived[i] = {UtcDay(group[i].started_at_ms), group[i].cost.ToString()};
    rows.Int(first_id + static_cast<int64_t>(i));
    BindRequest(rows, group[i], derived[i]);
  }
  if (auto status = StepOnce(s, "inserting ledger requests from ", group[0].request_id); !status) {
    return status;
  }
  return InsertAttempts(group, first_id);
}

// The attempts of `group` (whose rows have ids first_id, first_id + 1, ...), kGroupRows to a
// statement, the rest one by one.
core::Status RecordWriter::InsertAttempts(std::span<const Record> group, int64_t first_id) {
  struct Row {
    int64_t request_row;
    const Record* record;
    size_t index;
  };
  std::vector<Row> all;
  all.reserve(group.size());
  for (size_t i = 0; i < group.size(); ++i) {
    for (size_t a = 0; a < group[i].attempts.size(); ++a) {
      all.push_back({first_id + static_cast<int64_t>(i), &group[i], a});
    }
  }
  std::array<std::string, kGroupRows> costs;  // bound without a copy: alive until the step
  for (size_t done = 0; done < all.size();) {
    const size_t n = all.size() - done >= kGroupRows ? kGroupRows : 1;
    Statement& s = n == kGroupRows ? insert_attempt_group_ : insert_attempt_;
    StatementBinder binder{s};
    for (size_t i = 0; i < n; ++i) {
      const Row& row = all[done + i];
      costs[i] = row.record->attempts[row.index].cost.ToString();
      BindAttempt(binder, row.request_row, *row.record, row.index, costs[i]);
    }
    const auto status = StepOnce(s, "inserting ledger attempts of ", all[done].record->request_id);
    if (!status) return status;
    done += n;
  }
  return {};
}

// Runs an INSERT once and rewinds it; on failure the error says `what` and the request id.
// Every insert binds all its parameters before it steps, so its bindings need no clearing.
core::Status RecordWriter::StepOnce(Statement& s, std::string_view what,
                                    std::string_view request_id) {
  if (s.Step() != SQLITE_DONE) {
    core::Error error = db_->LastError(std::string(what) + std::string(request_id));
    s.Rewind();
    return error;
  }
  s.Rewind();
  return {};
}

core::Status RecordWriter::InsertRecord(const Record& r, bool replay) {
  const DerivedText derived{UtcDay(r.started_at_ms), r.cost.ToString()};
  if (!r.shadow_of.empty()) return InsertShadow(r, derived);
  Statement& s = replay ? insert_request_if_new_ : insert_request_;
  StatementBinder request{s};
  BindRequest(request, r, derived);
  if (auto status = StepOnce(s, "inserting ledger request ", r.request_id); !status) return status;
  if (replay && sqlite3_changes(db_->get()) == 0) return {};  // recorded before the crash
  return InsertAttempts(std::span(&r, 1), sqlite3_last_insert_rowid(db_->get()));
}

core::Status RecordWriter::InsertShadow(const Record& r, const DerivedText& derived) {
  StatementBinder shadow{insert_shadow_};
  BindShadow(shadow, r, derived);
  return StepOnce(insert_shadow_, "inserting ledger shadow ", r.request_id);
}

}  // namespace sy::ledger::detail
