// ResponseStore on PostgreSQL (ledger/response_store.h): the responses table of the database every
// replica shares, over a few connections so that calls from several threads run at once.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <utility>

#include <libpq-fe.h>

#include "core/clock.h"
#include "ledger/detail/postgres.h"
#include "ledger/detail/responses.h"

namespace sy::ledger {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

// The first schema with the responses table.
constexpr int64_t kPgResponsesSchema = 4;

// Prepared once per connection, by these names.
struct Sql {
  const char* name;
  const char* text;
};
// Inserts nothing when the owner holds $9 bytes or more (response_owners, kept by a trigger).
// Puts of one owner running at once on several connections or replicas may each pass the check:
// the owner then passes its bound by as many responses.
constexpr Sql kInsert = {
    "responses_insert",
    "INSERT INTO responses (id, owner, previous_id, created_at_ms, expires_at_ms, input_json, "
    "output_json, response_json) SELECT $1, $2, $3, $4::bigint, $5::bigint, $6, $7, $8 WHERE "
    "coalesce((SELECT bytes FROM response_owners WHERE owner = $2), 0) < $9::bigint"};
constexpr Sql kStoredBytes = {
    "responses_stored_bytes",
    "SELECT coalesce((SELECT bytes FROM response_owners WHERE owner = $1), 0)"};
constexpr Sql kSelect = {
    "responses_select",
    "SELECT previous_id, created_at_ms, input_json, output_json, response_json FROM responses "
    "WHERE id = $1 AND owner = $2 AND expires_at_ms > $3"};
// The whole conversation in one round trip: the chain of the owner's live turns from $1 back to
// the first, each with its depth and the bytes of items up to it. The walk stops one turn past
// either bound ($4 turns, $5 bytes), so the caller can tell "too long" from "missing", and the
// items of a turn past a bound are not sent (NULL).
constexpr Sql kConversation = {
    "responses_conversation",
    "WITH RECURSIVE chain (id, previous_id, depth, bytes) AS ("
    " SELECT id, previous_id, 1::bigint,"
    " octet_length(input_json)::bigint + octet_length(output_json)::bigint"
    " FROM responses WHERE id = $1 AND owner = $2 AND expires_at_ms > $3"
    " UNION ALL"
    " SELECT r.id, r.previous_id, c.depth + 1,"
    " c.bytes + octet_length(r.input_json)::bigint + octet_length(r.output_json)::bigint"
    " FROM chain c JOIN responses r ON r.id = c.previous_id"
    " WHERE c.previous_id <> '' AND c.depth <= $4::bigint AND c.bytes <= $5::bigint"
    " AND r.owner = $2 AND r.expires_at_ms > $3)"
    " SELECT c.id, c.previous_id, c.depth, c.bytes, r.created_at_ms,"
    " CASE WHEN c.depth <= $4::bigint AND c.bytes <= $5::bigint THEN r.input_json END,"
    " CASE WHEN c.depth <= $4::bigint AND c.bytes <= $5::bigint THEN r.output_json END"
    " FROM chain c JOIN responses r ON r.id = c.id ORDER BY c.depth"};
constexpr Sql kDelete = {
    "responses_delete",
    "DELETE FROM responses WHERE id = $1 AND owner = $2 RETURNING expires_at_ms"};
// Replicas sweep the same table one at a time: a replica that finds another sweeping deletes
// nothing this time (the advisory lock 0x5357594348440002, "SWYCHD" 2, held to the statement's
// end). Each deleted row's trigger locks its owner's row in response_owners, in the order the
// rows go: two sweeps at once could take two owners in opposite orders and deadlock, holding
// every put of those owners back until the server broke the tie (review of 2d521f1).
constexpr Sql kSweep = {
    "responses_sweep",
    "WITH sweeper AS (SELECT pg_try_advisory_xact_lock(6005366773631942658) AS held) "
    "DELETE FROM responses WHERE id IN (SELECT r.id FROM responses r, sweeper WHERE sweeper.held "
    "AND r.expires_at_ms <= $1 ORDER BY r.expires_at_ms LIMIT $2 FOR UPDATE OF r SKIP LOCKED)"};
constexpr Sql kStatements[] = {kInsert, kSelect, kConversation, kDelete, kSweep, kStoredBytes};

bool IsUniqueViolation(const core::Error& error) {
  return error.code == core::Errc::kInvalidRequest &&
         error.message.find("duplicate key") != std::string::npos;
}

// A bound as a BIGINT parameter: a size_t past INT64_MAX means "no bound".
int64_t AsBigint(size_t bound) {
  return static_cast<int64_t>(
      std::min<uint64_t>(bound, static_cast<uint64_t>(std::numeric_limits<int64_t>::max() - 1)));
}

class PostgresResponses final : public ResponseStore {
 public:
  PostgresResponses(const Options& options, detail::PgOpened opened)
      : ResponseStore(options), target_(std::move(opened.target)) {
    for (int i = 0; i < options.connections; ++i) slots_.push_back(std::make_unique<Slot>());
    slots_[0]->conn = std::move(opened.conn);
  }

  // Connects the first slot's connection and prepares its statements (Open fails early).
  core::Status Start() { return Ready(*slots_[0]); }

  core::Result<std::optional<StoredResponse>> Get(std::string_view id, std::string_view owner,
                                                  TimePoint now) override;
  core::Result<std::vector<StoredResponse>> Conversation(std::string_view id,
                                                         std::string_view owner, TimePoint now,
                                                         size_t max_turns,
                                                         size_t max_bytes) override;
  core::Result<bool> Delete(std::string_view id, std::string_view owner, TimePoint now) override;
  core::Result<int64_t> StoredBytes(std::string_view owner) override;

 private:
  struct Slot {
    std::mutex mu;
    detail::PgConnection conn;  // guarded by mu
    bool prepared = false;      // guarded by mu: kStatements are prepared on conn
  };

  core::Status Insert(const StoredResponse& r, int64_t expires_at_ms) override;
  core::Result<int64_t> DeleteExpired(int64_t now_ms, int64_t limit) override;

  // Runs the prepared statement `sql` with `params` on a connection of its own: the first idle
  // slot, else the next one in turn (waiting for it). A statement that failed because the
  // connection broke (a server restart) runs once more on a new connection (*tries says how many
  // runs there were); one that fails for any other reason is not retried.
  core::Result<detail::PgResult> Run(const Sql& sql, detail::PgParams& params,
                                     const std::string& what, int* tries = nullptr);
  Slot& Acquire(std::unique_lock<std::mutex>& lock);
  // The slot's connection, opened (and its statements prepared) when it has none or it broke.
  core::Status Ready(Slot& slot);

  const detail::PgTarget target_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<size_t> next_{0};
};

core::Result<detail::PgResult> PostgresResponses::Run(const Sql& sql, detail::PgParams& params,
                                                      const std::string& what, int* tries) {
  std::unique_lock<std::mutex> lock;
  Slot& slot = Acquire(lock);
  for (int attempt = 1;; ++attempt) {
    if (tries) *tries = attempt;
    if (auto s = Ready(slot); !s) return std::move(s).error();
    auto result = params.ExecPrepared(slot.conn, sql.name, what);
    if (result || slot.conn.ok() || attempt == 2) return result;
  }
}

PostgresResponses::Slot& PostgresResponses::Acquire(std::unique_lock<std::mutex>& lock) {
  for (auto& slot : slots_) {
    std::unique_lock<std::mutex> idle(slot->mu, std::try_to_lock);
    if (idle) {
      lock = std::move(idle);
      return *slot;
    }
  }
  Slot& slot = *slots_[next_.fetch_add(1, std::memory_order_relaxed) % slots_.size()];
  lock = std::unique_lock<std::mutex>(slot.mu);
  return slot;
}

core::Status PostgresResponses::Ready(Slot& slot) {
  if (slot.conn.ok() && slot.prepared) return {};
  if (!slot.conn.ok()) {
    slot.prepared = false;
    auto conn = detail::PgConnection::Connect(target_, options().connect_timeout);
    if (!conn) return std::move(conn).error();
    slot.conn = std::move(*conn);
  }
  for (const Sql& sql : kStatements) {
    if (auto s = slot.conn.Prepare(sql.name, sql.text, std::string("preparing ") + sql.name); !s) {
      return s;
    }
  }
  slot.prepared = true;
  return {};
}

core::Status PostgresResponses::Insert(const StoredResponse& r, int64_t expires_at_ms) {
  detail::PgParams p;
  p.Text(r.id);
  p.Text(r.owner);
  p.Text(r.previous_id);
  p.Int(core::UnixMs(r.created_at));
  p.Int(expires_at_ms);
  p.Text(r.input_json);
  p.Text(r.output_json);
  p.Text(r.response_json);
  p.Int(options().max_bytes_per_owner);
  int tries = 0;
  auto inserted = Run(kInsert, p, "storing response " + r.id, &tries);
  if (inserted) {
    if (std::string_view(PQcmdTuples(inserted->get())) == "1") return {};
    // None inserted: the owner is full, unless a first try stored it before its connection broke
    // (it counts towards the owner's bytes too).
    if (tries == 2) {
      auto stored = Get(r.id, r.owner, TimePoint());
      if (stored && *stored) return {};
    }
    return detail::StoreFull(options().max_bytes_per_owner);
  }
  // Ids are generated unique: the id already stored on a second try is the first try's row,
  // committed before its connection broke.
  if (tries == 2 && IsUniqueViolation(inserted.error())) return {};
  core::Error error = std::move(inserted).error();
  error.code = core::Errc::kInternal;  // whatever the server refused, the row is not stored
  return error;
}

core::Result<int64_t> PostgresResponses::StoredBytes(std::string_view owner) {
  const std::string owner_text(owner);
  detail::PgParams p;
  p.Text(owner_text);
  auto result = Run(kStoredBytes, p, "reading the stored bytes of a key");
  if (!result) return std::move(result).error();
  return detail::PgInt(result->get(), 0, 0);
}

core::Result<std::optional<StoredResponse>> PostgresResponses::Get(std::string_view id,
                                                                   std::string_view owner,
                                                                   TimePoint now) {
  const std::string id_text(id);
  const std::string owner_text(owner);
  detail::PgParams p;
  p.Text(id_text);
  p.Text(owner_text);
  p.Int(core::UnixMs(now));
  auto result = Run(kSelect, p, "reading stored response " + id_text);
  if (!result) return std::move(result).error();
  const pg_result* rows = result->get();
  if (PQntuples(rows) == 0) return std::optional<StoredResponse>();
  StoredResponse r;
  r.id = id_text;
  r.owner = owner_text;
  r.previous_id = detail::PgText(rows, 0, 0);
  r.created_at = core::FromUnixMs(detail::PgInt(rows, 0, 1));
  r.input_json = detail::PgText(rows, 0, 2);
  r.output_json = detail::PgText(rows, 0, 3);
  r.response_json = detail::PgText(rows, 0, 4);
  return std::optional<StoredResponse>(std::move(r));
}

core::Result<std::vector<StoredResponse>> PostgresResponses::Conversation(std::string_view id,
                                                                          std::string_view owner,
                                                                          TimePoint now,
                                                                          size_t max_turns,
                                                                          size_t max_bytes) {
  const std::string id_text(id);
  const std::string owner_text(owner);
  detail::PgParams p;
  p.Text(id_text);
  p.Text(owner_text);
  p.Int(core::UnixMs(now));
  p.Int(AsBigint(max_turns));
  p.Int(AsBigint(max_bytes));
  auto result = Run(kConversation, p, "reading the conversation of " + id_text);
  if (!result) return std::move(result).error();
  const pg_result* rows = result->get();
  const int n = PQntuples(rows);
  if (n == 0) return detail::PreviousNotFound(id);
  std::vector<StoredResponse> turns;
  turns.reserve(static_cast<size_t>(n));
  // Newest first, as SQLite's walk meets them: the same bound is reported first.
  for (int row = 0; row < n; ++row) {
    if (turns.size() == max_turns) return detail::TooManyTurns(id, max_turns);
    if (static_cast<uint64_t>(detail::PgInt(rows, row, 3)) > max_bytes) {
      return detail::TooManyBytes(id, max_bytes);
    }
    StoredResponse& turn = turns.emplace_back();
    turn.id = detail::PgText(rows, row, 0);
    turn.owner = owner_text;
    turn.previous_id = detail::PgText(rows, row, 1);
    turn.created_at = core::FromUnixMs(detail::PgInt(rows, row, 4));
    turn.input_json = detail::PgText(rows, row, 5);
    turn.output_json = detail::PgText(rows, row, 6);
  }
  // The walk ended on a turn that names another: that one is absent, expired or another owner's,
  // unless the walk stopped at the bound.
  if (!turns.back().previous_id.empty()) {
    if (turns.size() == max_turns) return detail::TooManyTurns(id, max_turns);
    return detail::PreviousNotFound(id);
  }
  std::reverse(turns.begin(), turns.end());
  return turns;
}

core::Result<bool> PostgresResponses::Delete(std::string_view id, std::string_view owner,
                                             TimePoint now) {
  const std::string id_text(id);
  const std::string owner_text(owner);
  detail::PgParams p;
  p.Text(id_text);
  p.Text(owner_text);
  auto result = Run(kDelete, p, "deleting stored response " + id_text);
  if (!result) return std::move(result).error();
  // ids are unique: at most one row
  return PQntuples(result->get()) == 1 && detail::PgInt(result->get(), 0, 0) > core::UnixMs(now);
}

core::Result<int64_t> PostgresResponses::DeleteExpired(int64_t now_ms, int64_t limit) {
  detail::PgParams p;
  p.Int(now_ms);
  p.Int(limit);
  auto result = Run(kSweep, p, "sweeping expired stored responses");
  if (!result) return std::move(result).error();
  return std::strtoll(PQcmdTuples(result->get()), nullptr, 10);
}

}  // namespace

namespace detail {

core::Result<std::unique_ptr<ResponseStore>> OpenPostgresResponses(
    const ResponseStore::Options& options) {
  auto opened = ConnectAtSchema(options.location, options.connect_timeout, kPgResponsesSchema,
                                "responses table");
  if (!opened) return std::move(opened).error();
  const std::string display = opened->target.display;
  auto store = std::make_unique<PostgresResponses>(options, std::move(*opened));
  if (auto s = store->Start(); !s) {
    return core::MakeError(s.error().code, display + ": " + s.error().message);
  }
  return std::unique_ptr<ResponseStore>(std::move(store));
}

}  // namespace detail
}  // namespace sy::ledger
