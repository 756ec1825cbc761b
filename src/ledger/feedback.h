// FeedbackStore: the outcomes clients report for a request or a task (POST /v1/feedback), in the
// feedback table of the ledger database (SQLite schema v6, PostgreSQL v2), read by the outcome
// report (outcomes.h). The same interface over either engine.
//
// Scope. A client may rate only its own tenant's requests: RequestBelongsTo / TaskBelongsTo tell
// whether the ledger holds a request (a task's request) of that tenant; an unknown id and another
// tenant's id answer the same (false), so nothing tells them apart. With auth off every request
// and caller has tenant "" and the same calls work. The ledger writes records in batches (up to
// its flush interval after the answer): a request answered a moment ago may not be found yet.
//
// Thread-safety: every method may be called from any thread; one mutex serialises them. Each is
// blocking database I/O (indexed lookups; a DELETE and an INSERT): call it off the request
// workers.
// Ownership: owns its connection; independent of a ledger writing the same database.
// Failure: database failures are kInternal errors naming the operation; nothing is retried (a
// PostgreSQL connection that broke is opened again by the next call).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace sy::ledger {

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
  // Opens the feedback of the ledger at `location`: an existing SQLite ledger file, or a
  // postgresql:// URL whose ledger schema the gateway created. Fails with kInternal naming the
  // path (or user@host:port/dbname, never a password) when the file is missing, the database
  // unreachable, or its schema has no feedback table or is newer than this binary.
  static core::Result<std::unique_ptr<FeedbackStore>> Open(const std::string& location);

  virtual ~FeedbackStore() = default;

  // True when a recorded request with this id has tenant `tenant`; false for "", an unknown id
  // or another tenant's.
  core::Result<bool> RequestBelongsTo(std::string_view request_id, std::string_view tenant);
  // True when some recorded request of task `task_id` has tenant `tenant` (a task id is the
  // client's, so several tenants may use the same one); false for "" or when none has.
  core::Result<bool> TaskBelongsTo(std::string_view task_id, std::string_view tenant);
  // Stores `row` in place of the tenant's earlier feedback on the same request (or task): the
  // latest is the outcome (outcomes.h), and one rating per request or task bounds what a client
  // stores by what it was served. Fails, changing nothing, with kInvalidRequest when a feedback
  // row with this id exists.
  virtual core::Status Insert(const FeedbackRow& row) = 0;

 protected:
  // Whether a recorded request of `tenant` has request id `id` (`by_request`), or task id `id`:
  // the engine's statement of detail/feedback_sql.h.
  virtual core::Result<bool> Holds(bool by_request, std::string_view id,
                                   std::string_view tenant) = 0;
};

}  // namespace sy::ledger
