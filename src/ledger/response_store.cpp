#include "ledger/response_store.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include <sqlite3.h>

#include "core/clock.h"
#include "ledger/detail/report_source.h"
#include "ledger/detail/responses.h"
#include "ledger/detail/schema.h"
#include "ledger/detail/sqlite.h"

namespace sy::ledger {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

// Inserts nothing when the owner holds ?9 bytes or more (response_owners, kept by triggers).
constexpr const char* kInsert =
    "INSERT INTO responses (id, owner, previous_id, created_at_ms, expires_at_ms, input_json, "
    "output_json, response_json) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8 WHERE coalesce((SELECT "
    "bytes FROM response_owners WHERE owner = ?2), 0) < ?9";
constexpr const char* kStoredBytes =
    "SELECT coalesce((SELECT bytes FROM response_owners WHERE owner = ?1), 0)";
// The owner and expiry are part of every lookup: another owner's or an expired row is absent.
constexpr const char* kSelect =
    "SELECT previous_id, created_at_ms, input_json, output_json, response_json FROM responses "
    "WHERE id = ?1 AND owner = ?2 AND expires_at_ms > ?3";
constexpr const char* kSelectTurn =
    "SELECT previous_id, created_at_ms, input_json, output_json FROM responses "
    "WHERE id = ?1 AND owner = ?2 AND expires_at_ms > ?3";
constexpr const char* kDelete =
    "DELETE FROM responses WHERE id = ?1 AND owner = ?2 RETURNING expires_at_ms";
// The expiry index gives the oldest expired rows first; the LIMIT bounds one call's work.
constexpr const char* kSweep =
    "DELETE FROM responses WHERE rowid IN (SELECT rowid FROM responses WHERE expires_at_ms <= ?1 "
    "ORDER BY expires_at_ms LIMIT ?2)";

// Resets a statement when the scope ends, on every path (its bindings point at the caller's
// strings, and an un-reset SELECT keeps a read transaction open).
class ResetOnExit {
 public:
  explicit ResetOnExit(detail::Statement& s) : s_(s) {}
  ~ResetOnExit() { s_.Reset(); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  detail::Statement& s_;
};

class SqliteResponses final : public ResponseStore {
 public:
  struct Statements {
    detail::Statement insert;
    detail::Statement select;
    detail::Statement select_turn;
    detail::Statement remove;
    detail::Statement sweep;
    detail::Statement stored_bytes;
  };

  SqliteResponses(const Options& options, detail::Db db, std::unique_ptr<Statements> statements)
      : ResponseStore(options), db_(std::move(db)), statements_(std::move(statements)) {}

  ~SqliteResponses() override { statements_.reset(); }  // statements before their connection

  core::Result<std::optional<StoredResponse>> Get(std::string_view id, std::string_view owner,
                                                  TimePoint now) override;
  core::Result<std::vector<StoredResponse>> Conversation(std::string_view id,
                                                         std::string_view owner, TimePoint now,
                                                         size_t max_turns,
                                                         size_t max_bytes) override;
  core::Result<bool> Delete(std::string_view id, std::string_view owner, TimePoint now) override;
  core::Result<int64_t> StoredBytes(std::string_view owner) override;

 private:
  core::Status Insert(const StoredResponse& r, int64_t expires_at_ms) override;
  core::Result<int64_t> DeleteExpired(int64_t now_ms, int64_t limit) override;

  std::mutex mu_;
  detail::Db db_;                           // guarded by mu_
  std::unique_ptr<Statements> statements_;  // guarded by mu_; destroyed before db_
};

core::Status SqliteResponses::Insert(const StoredResponse& r, int64_t expires_at_ms) {
  std::lock_guard lock(mu_);
  detail::Statement& s = statements_->insert;
  ResetOnExit reset(s);
  s.BindText(1, r.id);
  s.BindText(2, r.owner);
  s.BindText(3, r.previous_id);
  s.BindInt(4, core::UnixMs(r.created_at));
  s.BindInt(5, expires_at_ms);
  s.BindText(6, r.input_json);
  s.BindText(7, r.output_json);
  s.BindText(8, r.response_json);
  s.BindInt(9, options().max_bytes_per_owner);
  if (s.Step() != SQLITE_DONE) return db_.LastError("storing response " + r.id);
  if (sqlite3_changes64(db_.get()) == 0) return detail::StoreFull(options().max_bytes_per_owner);
  return {};
}

core::Result<int64_t> SqliteResponses::StoredBytes(std::string_view owner) {
  std::lock_guard lock(mu_);
  detail::Statement& s = statements_->stored_bytes;
  ResetOnExit reset(s);
  s.BindText(1, owner);
  if (s.Step() != SQLITE_ROW) return db_.LastError("reading the stored bytes of a key");
  return s.ColumnInt(0);
}

core::Result<std::optional<StoredResponse>> SqliteResponses::Get(std::string_view id,
                                                                 std::string_view owner,
                                                                 TimePoint now) {
  std::lock_guard lock(mu_);
  detail::Statement& s = statements_->select;
  ResetOnExit reset(s);
  s.BindText(1, id);
  s.BindText(2, owner);
  s.BindInt(3, core::UnixMs(now));
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<StoredResponse>();
  if (rc != SQLITE_ROW) return db_.LastError("reading stored response " + std::string(id));
  StoredResponse r;
  r.id = id;
  r.owner = owner;
  r.previous_id = s.ColumnText(0);
  r.created_at = core::FromUnixMs(s.ColumnInt(1));
  r.input_json = s.ColumnText(2);
  r.output_json = s.ColumnText(3);
  r.response_json = s.ColumnText(4);
  return std::optional<StoredResponse>(std::move(r));
}

core::Result<std::vector<StoredResponse>> SqliteResponses::Conversation(std::string_view id,
                                                                        std::string_view owner,
                                                                        TimePoint now,
                                                                        size_t max_turns,
                                                                        size_t max_bytes) {
  const int64_t now_ms = core::UnixMs(now);
  std::vector<StoredResponse> turns;
  size_t bytes = 0;
  std::string next(id);
  std::lock_guard lock(mu_);
  detail::Statement& s = statements_->select_turn;
  while (!next.empty()) {
    // A chain is acyclic (a turn names an earlier one), but max_turns would bound a cycle too.
    if (turns.size() == max_turns) return detail::TooManyTurns(id, max_turns);
    ResetOnExit reset(s);
    s.BindText(1, next);
    s.BindText(2, owner);
    s.BindInt(3, now_ms);
    const int rc = s.Step();
    if (rc == SQLITE_DONE) return detail::PreviousNotFound(id);
    if (rc != SQLITE_ROW) return db_.LastError("reading stored response " + next);
    bytes += s.ColumnBytes(2) + s.ColumnBytes(3);
    if (bytes > max_bytes) return detail::TooManyBytes(id, max_bytes);
    StoredResponse& turn = turns.emplace_back();
    turn.id = std::move(next);
    turn.owner = owner;
    turn.previous_id = s.ColumnText(0);
    turn.created_at = core::FromUnixMs(s.ColumnInt(1));
    turn.input_json = s.ColumnText(2);
    turn.output_json = s.ColumnText(3);
    next = turn.previous_id;
  }
  std::reverse(turns.begin(), turns.end());
  return turns;
}

core::Result<bool> SqliteResponses::Delete(std::string_view id, std::string_view owner,
                                           TimePoint now) {
  std::lock_guard lock(mu_);
  detail::Statement& s = statements_->remove;
  ResetOnExit reset(s);
  s.BindText(1, id);
  s.BindText(2, owner);
  int rc = s.Step();
  bool live = false;
  if (rc == SQLITE_ROW) {  // ids are unique: at most one row
    live = s.ColumnInt(0) > core::UnixMs(now);
    rc = s.Step();
  }
  if (rc != SQLITE_DONE) return db_.LastError("deleting stored response " + std::string(id));
  return live;
}

core::Result<int64_t> SqliteResponses::DeleteExpired(int64_t now_ms, int64_t limit) {
  std::lock_guard lock(mu_);
  detail::Statement& s = statements_->sweep;
  ResetOnExit reset(s);
  s.BindInt(1, now_ms);
  s.BindInt(2, limit);
  if (s.Step() != SQLITE_DONE) return db_.LastError("sweeping expired stored responses");
  return sqlite3_changes64(db_.get());
}

}  // namespace

namespace detail {

core::Result<std::unique_ptr<ResponseStore>> OpenSqliteResponses(
    const ResponseStore::Options& options) {
  auto db = OpenForWriting(options.location, options.busy_timeout);
  if (!db) return std::move(db).error();
  // Debian builds SQLite with secure_delete ON: every deleted row's pages are zeroed and
  // rewritten, which made a 512-row sweep ~10x slower (~90 ms vs ~10 ms). FAST still zeroes a
  // row's b-tree cells, just not its freed overflow pages (and the WAL keeps recent page images
  // whatever the mode); the file is owner-only.
  if (auto s = db->Exec("PRAGMA secure_delete=FAST"); !s) {
    return WithPath(options.location, std::move(s).error());
  }
  auto statements = std::make_unique<SqliteResponses::Statements>();
  const std::pair<Statement*, const char*> wanted[] = {
      {&statements->insert, kInsert},
      {&statements->select, kSelect},
      {&statements->select_turn, kSelectTurn},
      {&statements->remove, kDelete},
      {&statements->sweep, kSweep},
      {&statements->stored_bytes, kStoredBytes},
  };
  for (const auto& [statement, sql] : wanted) {
    auto prepared = db->Prepare(sql);
    if (!prepared) return WithPath(options.location, std::move(prepared).error());
    *statement = std::move(*prepared);
  }
  return std::unique_ptr<ResponseStore>(
      new SqliteResponses(options, std::move(*db), std::move(statements)));
}

}  // namespace detail

core::Result<std::unique_ptr<ResponseStore>> ResponseStore::Open(const std::string& location,
                                                                 std::chrono::hours retention) {
  Options options;
  options.location = location;
  options.retention = retention;
  return Open(options);
}

core::Result<std::unique_ptr<ResponseStore>> ResponseStore::Open(const Options& options) {
  if (options.retention.count() <= 0 || options.sweep_every_puts <= 0 ||
      options.sweep_interval.count() <= 0 || options.sweep_limit <= 0 || options.connections <= 0 ||
      options.max_bytes_per_owner <= 0) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "response store options: retention, connections, sweep_every_puts, "
                           "sweep_interval, sweep_limit and max_bytes_per_owner must be positive");
  }
  if (detail::IsPostgresUrl(options.location)) return detail::OpenPostgresResponses(options);
  return detail::OpenSqliteResponses(options);
}

core::Status ResponseStore::Put(const StoredResponse& r) {
  // The sweep first: it may make room for this owner.
  if (SweepDue(r.created_at)) {
    auto swept = Sweep(r.created_at, options_.sweep_limit);
    if (!swept) {
      sweep_errors_.fetch_add(1, std::memory_order_relaxed);
      std::fprintf(stderr, "switchyard response store: sweeping expired responses failed: %s\n",
                   swept.error().message.c_str());
    }
  }
  core::Status stored = Insert(r, core::UnixMs(r.created_at + options_.retention));
  if (!stored && stored.error().param == "store") {
    std::lock_guard lock(full_mu_);
    found_full_.insert(r.owner);
  }
  return stored;
}

bool ResponseStore::FoundFull(std::string_view owner) const {
  std::lock_guard lock(full_mu_);
  return found_full_.contains(owner);
}

core::Status ResponseStore::CheckRoom(std::string_view owner) {
  auto bytes = StoredBytes(owner);
  if (!bytes) return std::move(bytes).error();
  const int64_t most = options_.max_bytes_per_owner;
  if (*bytes >= most) return detail::StoreFull(most);
  std::lock_guard lock(full_mu_);
  if (const auto it = found_full_.find(owner); it != found_full_.end()) found_full_.erase(it);
  return {};
}

core::Result<int64_t> ResponseStore::Sweep(TimePoint now, int64_t limit) {
  auto deleted = DeleteExpired(core::UnixMs(now), limit);
  if (deleted) rows_swept_.fetch_add(static_cast<uint64_t>(*deleted), std::memory_order_relaxed);
  return deleted;
}

bool ResponseStore::SweepDue(TimePoint now) {
  std::lock_guard lock(sweep_mu_);
  ++puts_since_sweep_;
  if (puts_since_sweep_ < options_.sweep_every_puts &&
      now - last_sweep_ < options_.sweep_interval) {
    return false;
  }
  puts_since_sweep_ = 0;
  last_sweep_ = now;
  return true;
}

}  // namespace sy::ledger
