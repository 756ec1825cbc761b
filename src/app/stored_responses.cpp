// GET and DELETE /v1/responses/{id}: the stored responses of the Responses dialect
// (app/conversation.h), in OpenAI's shapes. Scoped to the caller: another owner's response is
// not found, exactly like one that never existed. Not recorded in the ledger (nothing is
// generated or billed); rate-limited in the key's auxiliary bucket.
#include <functional>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/pct_string_view.hpp>

#include "app/auth.h"
#include "app/conversation.h"
#include "app/dialect.h"
#include "app/gateway.h"
#include "app/gateway_metrics.h"
#include "app/pipeline.h"
#include "core/ids.h"
#include "core/text.h"
#include "ledger/response_store.h"

namespace sy::app {
namespace {

core::Error NotFound(std::string_view id) {
  return core::MakeError(core::Errc::kNotFound,
                         "Response with id '" + core::ClipForEcho(id) + "' not found.");
}

std::string DeletedBody(std::string_view id) {
  boost::json::object out;
  out["id"] = id;
  out["object"] = "response";
  out["deleted"] = true;
  return boost::json::serialize(out);
}

// The stored Response object (GET) or the deletion's answer (DELETE), as the body to send.
core::Result<std::string> GetOrDelete(const RequestContext& ctx, bool remove,
                                      const std::string& id) {
  ledger::ResponseStore& store = *ctx.services.responses;
  if (remove) {
    auto deleted = store.Delete(id, ctx.request.key_id, ctx.request.received_at);
    if (!deleted) return std::move(deleted).error();
    if (!*deleted) return NotFound(id);
    return DeletedBody(id);
  }
  auto found = store.Get(id, ctx.request.key_id, ctx.request.received_at);
  if (!found) return std::move(found).error();
  if (!*found) return NotFound(id);
  return std::move((*found)->response_json);
}

}  // namespace

http::Task<void> Gateway::StoredResponse(http::ServerRequest& http, http::ResponseWriter& writer,
                                         const Caller* caller) {
  RequestContext ctx(http, writer, services_);
  ctx.Begin(core::Dialect::kOpenAiResponses);
  if (caller) SetCaller(ctx, *caller);  // a stored response is its key's
  // From the key's auxiliary bucket: each call holds a thread of the store's pool, which the
  // Responses answers of every key also store on.
  if (core::Status admitted = co_await AdmitAuxiliary(ctx); !admitted) {
    co_await EncodeFailure(ctx, admitted.error());
    co_return;
  }
  const std::string_view rest = http.Path().substr(std::string_view("/v1/responses/").size());
  auto encoded = boost::urls::make_pct_string_view(rest);
  const std::string id = encoded ? encoded->decode() : std::string(rest);
  core::Result<std::string> body = NotFound(id);
  if (services_.responses && !id.empty() && id.find('/') == std::string::npos) {
    std::function<void()> call = [&] { body = GetOrDelete(ctx, http.method == "DELETE", id); };
    const bool ran = co_await RunOnStorePool(services_, call);
    if (!ran) body = StorePoolFull();
    if (!body && body.error().code != core::Errc::kNotFound && services_.metrics) {
      services_.metrics->ObserveResponseStoreFailure("read");
    }
  }
  if (!body) {
    co_await EncodeFailure(ctx, body.error());
    co_return;
  }
  http::Headers headers;
  headers.Add("content-type", "application/json");
  headers.Add("x-switchyard-request-id", ctx.request.id);
  AddRateLimitHeaders(ctx, headers);
  co_await writer.Send(200, headers, std::move(*body));
}

}  // namespace sy::app
