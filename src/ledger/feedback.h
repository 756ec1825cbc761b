// FeedbackStore: the outcomes clients report for a request or a task (POST /v1/feedback), in the
// feedback table of the ledger database (schema v6), read by the outcome report (outcomes.h).
//
// Scope. A client may rate only its own tenant's requests: RequestBelongsTo / TaskBelongsTo tell
// whether the ledger holds a request (a task's request) of that tenant; an unknown id and another
// tenant's id answer the same (false), so nothing tells them apart. With auth off every request
// and caller has tenant "" and the same calls work. The ledger writes records in batches (up to
// its flush interval after the answer): a request answered a moment ago may not be found yet.
//
// Thread-safety: every method may be called from any thread; one mutex serialises them. Each is
// blocking SQLite I/O (indexed lookups, one INSERT): call it off the request workers.
// Ownership: owns its connection; independent of a SqliteLedger open on the same file.
// Failure: SQLite failures are kInternal errors naming the operation; nothing is retried.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sy::ledger {

namespace detail {
class Db;
}  // namespace detail

struct FeedbackRow {
  std::string id;               // "fb_..." (the gateway generates it)
  std::string request_id;       // the rated request; "" when a task is rated
  std::string task_id;          // the rated task; "" when a request is rated
  std::string tenant;           // the caller's tenant ("" with auth off)
  std::string key_id;           // the caller's key id ("" with auth off)
  std::string outcome;          // "success" | "failure"
  std::optional<double> score;  // 0..1 when given
  bool user_retried = false;
  bool user_edited = false;
  std::string comment;
  int64_t created_at_ms = 0;
};

class FeedbackStore {
 public:
  // Opens the existing ledger database at `path`. Fails with kInternal naming the path when the
  // file is missing, is not a ledger, or its schema is older than v6 or newer than this binary.
  static core::Result<std::unique_ptr<FeedbackStore>> Open(const std::string& path);

  ~FeedbackStore();
  FeedbackStore(const FeedbackStore&) = delete;
  FeedbackStore& operator=(const FeedbackStore&) = delete;

  // True when a recorded request with this id has tenant `tenant`; false for "", an unknown id
  // or another tenant's.
  core::Result<bool> RequestBelongsTo(std::string_view request_id, std::string_view tenant);
  // True when some recorded request of task `task_id` has tenant `tenant` (a task id is the
  // client's, so several tenants may use the same one); false for "" or when none has.
  core::Result<bool> TaskBelongsTo(std::string_view task_id, std::string_view tenant);

  // Fails with kInvalidRequest when a feedback row with this id exists.
  core::Status Insert(const FeedbackRow& row);

 private:
  explicit FeedbackStore(std::unique_ptr<detail::Db> db);
  core::Result<bool> Exists(const char* sql, std::string_view id, std::string_view tenant);

  std::mutex mu_;
  std::unique_ptr<detail::Db> db_;  // guarded by mu_
};

}  // namespace sy::ledger
