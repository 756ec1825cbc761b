#include "ledger/feedback.h"

#include <array>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "ledger/detail/feedback_sql.h"
#include "ledger/detail/postgres.h"
#include "ledger/detail/report_source.h"
#include "ledger/detail/schema.h"
#include "ledger/detail/sqlite.h"

namespace sy::ledger {
namespace {

// The first schemas with the feedback table.
constexpr int64_t kFeedbackSchema = 6;
constexpr int64_t kPgFeedbackSchema = 2;
constexpr std::chrono::milliseconds kBusyTimeout{5000};
constexpr std::chrono::seconds kConnectTimeout{5};

constexpr const char* kInsert =
    "INSERT INTO feedback (id, request_id, task_id, tenant, key_id, outcome, score, "
    "user_retried, user_edited, comment, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
    "$9, $10, $11)";
// What a new rating replaces: the tenant's earlier ratings of the same request (or task). The
// latest is the outcome either way (outcomes.h); keeping the others only let a client fill the
// disk by rating one request again and again (audit 3: 15,105 rows in 10 s). A row with the new
// one's id is kept, so that a duplicate id still fails the insert, and the transaction with it.
// On SQLite: detail::kDeleteEarlierOfRequest or kDeleteEarlierOfTask (feedback_sql.h), then
// kInsert, in one transaction. On PostgreSQL: the delete and the insert in one statement, atomic (a
// data-modifying WITH). The insert's parameters are $1-$11 (kInsert's); the delete's, its request
// or task id ($2 or $3), the tenant ($4) and the new id ($1).
constexpr const char* kReplaceOfRequest =
    "WITH earlier AS (DELETE FROM feedback WHERE request_id = $2 AND tenant = $4 AND id <> $1) "
    "INSERT INTO feedback (id, request_id, task_id, tenant, key_id, outcome, score, "
    "user_retried, user_edited, comment, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
    "$9, $10, $11)";
constexpr const char* kReplaceOfTask =
    "WITH earlier AS (DELETE FROM feedback WHERE task_id = $3 AND tenant = $4 AND id <> $1) "
    "INSERT INTO feedback (id, request_id, task_id, tenant, key_id, outcome, score, "
    "user_retried, user_edited, comment, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
    "$9, $10, $11)";

bool ByRequest(const FeedbackRow& row) { return !row.request_id.empty(); }

core::Error Duplicate(const FeedbackRow& row) {
  return core::MakeError(core::Errc::kInvalidRequest, "feedback with id '" + row.id + "' exists");
}

class SqliteFeedbackStore final : public FeedbackStore {
 public:
  explicit SqliteFeedbackStore(detail::Db db) : db_(std::move(db)) {}

  core::Status Insert(const FeedbackRow& row) override {
    std::lock_guard lock(mu_);
    return db_.WriteTransaction([&]() -> core::Status {
      if (auto s = DeleteEarlier(row); !s) return s;
      return InsertRow(row);
    });
  }

 private:
  core::Status DeleteEarlier(const FeedbackRow& row) {
    auto s = db_.Prepare(ByRequest(row) ? detail::kDeleteEarlierOfRequest
                                        : detail::kDeleteEarlierOfTask);
    if (!s) return std::move(s).error();
    s->BindText(1, ByRequest(row) ? row.request_id : row.task_id);
    s->BindText(2, row.tenant);
    s->BindText(3, row.id);
    if (s->Step() == SQLITE_DONE) return {};
    return db_.LastError("replacing earlier feedback of " + row.id);
  }

  core::Status InsertRow(const FeedbackRow& row) {
    auto s = db_.Prepare(kInsert);
    if (!s) return std::move(s).error();
    s->BindText(1, row.id);
    s->BindText(2, row.request_id);
    s->BindText(3, row.task_id);
    s->BindText(4, row.tenant);
    s->BindText(5, row.key_id);
    s->BindText(6, row.outcome);
    if (row.score) {
      s->BindDouble(7, *row.score);
    } else {
      s->BindNull(7);
    }
    s->BindInt(8, row.user_retried ? 1 : 0);
    s->BindInt(9, row.user_edited ? 1 : 0);
    s->BindText(10, row.comment);
    s->BindInt(11, row.created_at_ms);
    const int rc = s->Step();
    if (rc == SQLITE_DONE) return {};
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return Duplicate(row);
    return db_.LastError("recording feedback " + row.id);
  }

  core::Result<bool> Holds(bool by_request, std::string_view id, std::string_view tenant) override {
    std::lock_guard lock(mu_);
    auto s = db_.Prepare(by_request ? detail::kSqliteRequestOfTenant : detail::kSqliteTaskOfTenant);
    if (!s) return std::move(s).error();
    s->BindText(1, id);
    s->BindText(2, tenant);
    if (s->Step() != SQLITE_ROW) return db_.LastError("looking up " + std::string(id));
    return s->ColumnInt(0) != 0;
  }

  std::mutex mu_;
  detail::Db db_;  // guarded by mu_
};

class PostgresFeedbackStore final : public FeedbackStore {
 public:
  PostgresFeedbackStore(detail::PgTarget target, detail::PgConnection conn)
      : target_(std::move(target)), conn_(std::move(conn)) {}

  core::Status Insert(const FeedbackRow& row) override {
    std::array<char, 32> score{};  // shortest text that reads back as the same double
    if (row.score) {
      *std::to_chars(score.data(), score.data() + score.size() - 1, *row.score).ptr = 0;
    }
    const std::string retried = row.user_retried ? "1" : "0";
    const std::string edited = row.user_edited ? "1" : "0";
    const std::string created = std::to_string(row.created_at_ms);
    const std::vector<const char*> values = {row.id.c_str(),
                                             row.request_id.c_str(),
                                             row.task_id.c_str(),
                                             row.tenant.c_str(),
                                             row.key_id.c_str(),
                                             row.outcome.c_str(),
                                             row.score ? score.data() : nullptr,
                                             retried.c_str(),
                                             edited.c_str(),
                                             row.comment.c_str(),
                                             created.c_str()};
    std::lock_guard lock(mu_);
    if (auto s = Reconnect(); !s) return s;
    const detail::PgResult result(
        PQexecParams(conn_.get(), ByRequest(row) ? kReplaceOfRequest : kReplaceOfTask,
                     static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
    if (PQresultStatus(result.get()) == PGRES_COMMAND_OK) return {};
    const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
    if (state != nullptr && std::string_view(state) == "23505") return Duplicate(row);
    return conn_.Failure("recording feedback " + row.id, result.get());
  }

 private:
  core::Result<bool> Holds(bool by_request, std::string_view id, std::string_view tenant) override {
    const char* sql = by_request ? detail::kRequestOfTenant : detail::kTaskOfTenant;
    const std::string id_text(id);
    const std::string tenant_text(tenant);
    const std::vector<const char*> values = {id_text.c_str(), tenant_text.c_str()};
    std::lock_guard lock(mu_);
    if (auto s = Reconnect(); !s) return std::move(s).error();
    const detail::PgResult result(
        PQexecParams(conn_.get(), sql, 2, nullptr, values.data(), nullptr, nullptr, 0));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      return conn_.Failure("looking up " + id_text, result.get());
    }
    return std::string_view(PQgetvalue(result.get(), 0, 0)) == "1";
  }

  // A connection that broke (a server restart) is opened again rather than failing every call.
  core::Status Reconnect() {
    if (conn_.ok()) return {};
    auto conn = detail::PgConnection::Connect(target_, kConnectTimeout);
    if (!conn) return std::move(conn).error();
    conn_ = std::move(*conn);
    return {};
  }

  const detail::PgTarget target_;
  std::mutex mu_;
  detail::PgConnection conn_;  // guarded by mu_
};

core::Result<std::unique_ptr<FeedbackStore>> OpenPostgres(const std::string& url) {
  auto opened = detail::ConnectAtSchema(url, kConnectTimeout, kPgFeedbackSchema, "feedback table");
  if (!opened) return std::move(opened).error();
  return std::unique_ptr<FeedbackStore>(
      new PostgresFeedbackStore(std::move(opened->target), std::move(opened->conn)));
}

}  // namespace

// "" is "no request id" / "no task", never a match.
core::Result<bool> FeedbackStore::RequestBelongsTo(std::string_view request_id,
                                                   std::string_view tenant) {
  if (request_id.empty()) return false;
  return Holds(/*by_request=*/true, request_id, tenant);
}

core::Result<bool> FeedbackStore::TaskBelongsTo(std::string_view task_id, std::string_view tenant) {
  if (task_id.empty()) return false;
  return Holds(/*by_request=*/false, task_id, tenant);
}

core::Result<std::unique_ptr<FeedbackStore>> FeedbackStore::Open(const std::string& location) {
  if (detail::IsPostgresUrl(location)) return OpenPostgres(location);
  auto db = detail::OpenExisting(location, kFeedbackSchema, kBusyTimeout);
  if (!db) return std::move(db).error();
  return std::unique_ptr<FeedbackStore>(new SqliteFeedbackStore(std::move(*db)));
}

}  // namespace sy::ledger
