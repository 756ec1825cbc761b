// The encode stage: the answer, the stream or the failure in the client's dialect.
#include <algorithm>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include "app/conversation.h"
#include "app/dialect.h"
#include "app/pipeline.h"
#include "app/pipeline_internal.h"
#include "app/response_cache.h"
#include "app/response_headers.h"
#include "app/stream_relay.h"
#include "core/json_depth.h"

namespace sy::app {
namespace {

// Room for the x-switchyard-* and x-ratelimit-* headers added after it: their count, and their
// names and values (an `auto` route's x-switchyard-route is the longest, about 200 bytes).
constexpr size_t kAnswerHeaders = 16;
constexpr size_t kAnswerHeaderBytes = 1024;

http::Headers JsonHeaders() {
  http::Headers h;
  h.Reserve(kAnswerHeaders, kAnswerHeaderBytes);
  h.Add("content-type", "application/json");
  return h;
}

// Whole seconds, rounded up, never more than the longest cool-down the gateway keeps.
std::string RetryAfterSeconds(std::chrono::milliseconds wait, std::chrono::milliseconds cap) {
  const auto seconds = std::chrono::ceil<std::chrono::seconds>(std::min(wait, cap)).count();
  return std::to_string(std::max<int64_t>(1, seconds));
}

// A Responses answer's row to store: read back from the bytes the client gets. The Response
// echoes the request's tools and text.format, so it nests as deep as the client's body may.
std::optional<ledger::StoredResponse> AnswerToStore(const RequestContext& ctx,
                                                    std::string_view body) {
  boost::system::error_code ec;
  boost::json::monotonic_resource arena;
  const auto response =
      boost::json::parse(body, ec, &arena, core::EchoParseOptions(ctx.request.max_json_depth));
  if (ec || !response.is_object()) return std::nullopt;
  return ToStore(ctx, response.get_object());
}

}  // namespace

http::Task<void> EncodeAnswer(RequestContext& ctx, providers::Completion& completion) {
  ctx.outcome.status = 200;
  if (ctx.turn.store) {
    // Committed before the answer goes: the client's next turn may follow at once.
    const auto stored = AnswerToStore(ctx, completion.body);
    if (stored) co_await StoreResponse(ctx, *stored);
  }
  CacheAnswer(ctx, completion.body);
  http::Headers headers = JsonHeaders();
  AddSwitchyardHeaders(ctx, headers);
  co_await ctx.writer.Send(200, headers, std::move(completion.body));
}

http::Task<void> EncodeStream(RequestContext& ctx, Answer& answer) {
  ctx.outcome.status = 200;
  http::Headers headers;
  headers.Reserve(kAnswerHeaders + 2, kAnswerHeaderBytes + 64);
  headers.Add("content-type", "text/event-stream");
  headers.Add("cache-control", "no-cache");
  headers.Add("trailer", "x-switchyard-cost-usd");
  AddSwitchyardHeaders(ctx, headers);
  StreamRelay relay(ctx, *answer.stream, answer.upstream);
  if (!co_await ctx.writer.StartStream(200, headers)) {
    relay.ClientLeft();
    co_return;
  }
  co_await relay.Run(std::move(*answer.first));
}

http::Task<void> EncodeFailure(RequestContext& ctx, const core::Error& failure) {
  core::Error error = failure;
  ctx.services.secrets.ScrubError(error);  // an upstream may have echoed a key
  ctx.outcome.error_code = std::string(core::ErrcName(error.code));
  ctx.outcome.error_message = error.message;
  auto encoded = EncodeError(ctx.request.dialect, error);
  ctx.outcome.status = encoded.status;
  http::Headers headers = JsonHeaders();
  AddSwitchyardHeaders(ctx, headers);
  if (!error.allow.empty()) headers.Add("allow", error.allow);
  const bool over_budget = error.code == core::Errc::kBudgetExceeded;
  if (error.retry_after && (error.code == core::Errc::kRateLimited || over_budget)) {
    // An upstream's hint is capped at max_cooldown; our own budget window really resets then.
    const auto cap =
        over_budget ? *error.retry_after : ctx.services.catalog.config().failover.max_cooldown;
    headers.Add("retry-after", RetryAfterSeconds(*error.retry_after, cap));
  }
  co_await ctx.writer.Send(encoded.status, headers, std::move(encoded.body));
}

std::string_view CutCode(http::CancelReason reason) {
  return reason == http::CancelReason::kShutdown ? "shutdown" : "client_closed";
}

core::Error CutError(http::CancelReason reason) {
  if (reason == http::CancelReason::kShutdown) {
    return core::MakeError(core::Errc::kOverloaded,
                           "the gateway is shutting down and cut this request after its grace "
                           "period; send it again");
  }
  return core::MakeError(core::Errc::kInvalidRequest,
                         "the client closed the connection before the answer was sent");
}

http::Task<void> EncodeCut(RequestContext& ctx) {
  const auto reason = ctx.http.cancelled;
  if (reason == http::CancelReason::kShutdown) {
    co_await EncodeFailure(ctx, CutError(reason));
  } else {
    ctx.outcome.status = 499;  // nginx's "client closed request": nothing was sent
    ctx.outcome.error_message = CutError(reason).message;
  }
  ctx.outcome.error_code = std::string(CutCode(reason));
}

}  // namespace sy::app
