#include "ledger/feedback.h"

#include <chrono>
#include <utility>

#include <sqlite3.h>

#include "ledger/detail/schema.h"
#include "ledger/detail/sqlite.h"

namespace sy::ledger {
namespace {

// The first schema with the feedback table.
constexpr int64_t kFeedbackSchema = 6;
constexpr std::chrono::milliseconds kBusyTimeout{5000};

// Both lookups use an index (requests_request_id, requests_task_id) and stop at the first match.
constexpr const char* kRequestOfTenant =
    "SELECT EXISTS (SELECT 1 FROM requests WHERE request_id = ?1 AND tenant = ?2)";
constexpr const char* kTaskOfTenant =
    "SELECT EXISTS (SELECT 1 FROM requests WHERE task_id = ?1 AND tenant = ?2)";
constexpr const char* kInsert =
    "INSERT INTO feedback (id, request_id, task_id, tenant, key_id, outcome, score, "
    "user_retried, user_edited, comment, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
    "?9, ?10, ?11)";

}  // namespace

core::Result<std::unique_ptr<FeedbackStore>> FeedbackStore::Open(const std::string& path) {
  auto db = detail::OpenExisting(path, kFeedbackSchema, kBusyTimeout);
  if (!db) return std::move(db).error();
  return std::unique_ptr<FeedbackStore>(
      new FeedbackStore(std::make_unique<detail::Db>(std::move(*db))));
}

FeedbackStore::FeedbackStore(std::unique_ptr<detail::Db> db) : db_(std::move(db)) {}

FeedbackStore::~FeedbackStore() = default;

core::Result<bool> FeedbackStore::RequestBelongsTo(std::string_view request_id,
                                                   std::string_view tenant) {
  return Exists(kRequestOfTenant, request_id, tenant);
}

core::Result<bool> FeedbackStore::TaskBelongsTo(std::string_view task_id, std::string_view tenant) {
  return Exists(kTaskOfTenant, task_id, tenant);
}

core::Result<bool> FeedbackStore::Exists(const char* sql, std::string_view id,
                                         std::string_view tenant) {
  if (id.empty()) return false;  // "" is "no request id" / "no task", never a match
  std::lock_guard lock(mu_);
  auto s = db_->Prepare(sql);
  if (!s) return std::move(s).error();
  s->BindText(1, id);
  s->BindText(2, tenant);
  if (s->Step() != SQLITE_ROW) return db_->LastError("looking up " + std::string(id));
  return s->ColumnInt(0) != 0;
}

core::Status FeedbackStore::Insert(const FeedbackRow& row) {
  std::lock_guard lock(mu_);
  auto s = db_->Prepare(kInsert);
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
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    return core::MakeError(core::Errc::kInvalidRequest, "feedback with id '" + row.id + "' exists");
  }
  return db_->LastError("recording feedback " + row.id);
}

}  // namespace sy::ledger
