// app::AdminApi: the HTTP side of keys, tenants, spend, outcomes and feedback (docs/api.md):
//
//   /admin/keys[/{id}[/rotate]], /admin/tenants[/{name}], /admin/spend, /admin/outcomes
//       operators, with the admin token (Authorization: Bearer $SWITCHYARD_ADMIN_TOKEN)
//   GET /v1/spend, GET /v1/outcomes, POST /v1/feedback
//       clients, with their key: they see and rate only their own tenant's requests
//
// Every database read or write runs on the blocking pool, never on a request worker: a slow
// report does not delay a chat completion. Errors are OpenAI-shaped for /admin/ and in the
// client's dialect for /v1/.
//
// Thread-safety: Serve* may run concurrently on every worker.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "app/context.h"
#include "app/key_service.h"
#include "http/blocking_pool.h"
#include "http/server.h"
#include "ledger/feedback.h"

namespace sy::app {

class AdminApi {
 public:
  // `keys` may be null (no key tables: /admin/keys answers 404); `flush_ledger` makes every
  // recorded request visible to readers (feedback checks that the request it rates exists);
  // `compare_key` is the gateway's key for comparing operator tokens (PresentsToken), which
  // must outlive this object.
  AdminApi(const catalog::Catalog& catalog, KeyService* keys, http::BlockingPool& pool,
           std::unique_ptr<ledger::FeedbackStore> feedback, std::function<void()> flush_ledger,
           std::string_view compare_key);

  // /admin/...: checks the admin token first (401 for a missing or wrong one, the same answer).
  http::Task<void> ServeAdmin(http::ServerRequest& http, http::ResponseWriter& writer);
  // /v1/spend, /v1/outcomes, /v1/feedback; `caller` is null with auth.mode off. `headers` go
  // on the answer, whatever it is (the caller's rate-limit headers).
  http::Task<void> ServeClient(http::ServerRequest& http, http::ResponseWriter& writer,
                               const Caller* caller, const http::Headers& headers);

 private:
  // What a blocking handler produced: the status and the JSON body, or the error.
  struct Reply {
    int status = 200;
    core::Result<std::string> body = std::string();
  };
  // Sends the reply with `headers`: its JSON body, or its error in `dialect`.
  http::Task<void> Send(http::ResponseWriter& writer, core::Dialect dialect, Reply& reply,
                        const http::Headers& given);
  // Runs `work` on the blocking pool (503 when it is full), then sends what it produced.
  http::Task<void> RunAndSend(http::ResponseWriter& writer, core::Dialect dialect,
                              std::function<Reply()> work, const http::Headers& headers);
  // Sent with no headers of the caller's (a named object: see ServeAdmin).
  static const http::Headers kNoHeaders;
  Reply Admin(const http::ServerRequest& http);
  Reply Keys(const http::ServerRequest& http, std::string_view rest);
  Reply Spend(const http::ServerRequest& http, const std::string* tenant);
  Reply Outcomes(const http::ServerRequest& http, const std::string* tenant);
  Reply Feedback(const http::ServerRequest& http, const Caller* caller);
  // Where the request ledger is: database.url, else the SQLite file (spend.h, outcomes.h).
  const std::string& LedgerLocation() const;

  const catalog::Catalog& catalog_;
  KeyService* keys_;
  http::BlockingPool& pool_;
  std::unique_ptr<ledger::FeedbackStore> feedback_;
  std::function<void()> flush_ledger_;
  const std::string_view compare_key_;  // the gateway's (Gateway::compare_key_)
};

}  // namespace sy::app
