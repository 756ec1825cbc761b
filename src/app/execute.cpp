// The execute stage: the attempt chain over the route's candidates, one provider call each.
#include <boost/json/serialize.hpp>

#include "api/translate/translate.h"
#include "app/conversation.h"
#include "app/pipeline.h"
#include "app/pipeline_internal.h"

namespace sy::app {
namespace {

failover::ChainOptions ChainOptionsFor(const RequestContext& ctx) {
  const auto& config = ctx.services.catalog.config().failover;
  failover::ChainOptions options;
  options.deadline = std::chrono::steady_clock::now() + config.total_deadline;
  options.max_attempts = config.max_attempts;
  options.max_retry_after = config.max_retry_after;
  const auto* http = &ctx.http;
  options.stopped = [http] { return http->cancelled != http::CancelReason::kNone; };
  return options;
}

core::Error NoAdapter(const config::ModelConfig& model) {
  return core::MakeError(
      core::Errc::kUpstreamUnavailable,
      "model " + model.id + ": provider " + model.provider + " has no adapter in this build");
}

// The first event is read inside the attempt: until a byte reaches the client, a failing model
// can still be swapped for the next candidate.
http::Task<core::Result<Answer>> OpenStream(providers::Provider& provider,
                                            const providers::Call& call) {
  auto stream = co_await provider.Stream(call);
  if (!stream) co_return std::move(stream).error();
  auto first = co_await (*stream)->Next();
  if (!first) co_return std::move(first).error();
  if (!*first) co_return core::MakeError(core::Errc::kUpstreamUnavailable, "empty stream");
  Answer answer;
  answer.stream = std::move(*stream);
  answer.first = std::move(**first);
  co_return answer;
}

// A complete answer, translated into the client's dialect inside the attempt: an answer that
// cannot be re-framed fails over, and what the upstream billed for it stays on the attempt.
http::Task<core::Result<Answer>> FetchAnswer(RequestContext& ctx, providers::Provider& provider,
                                             const providers::Call& call,
                                             failover::Attempt& attempt) {
  auto completion = co_await provider.Complete(call);
  if (!completion) co_return std::move(completion).error();
  attempt.usage = completion->usage;
  const core::Dialect upstream = provider.dialect();
  if (upstream != ctx.request.dialect) {
    auto translated =
        api::translate::TranslateResponse(upstream, ctx.request.dialect, completion->json,
                                          completion->usage, TranslationContext(ctx));
    if (!translated) co_return std::move(translated).error();
    completion->body = std::move(*translated);
  } else if (upstream == core::Dialect::kOpenAiResponses && completion->json.is_object()) {
    // Passed through: the upstream saw neither the client's store nor previous_response_id.
    EchoConversation(ctx, completion->json.get_object());
    completion->body = boost::json::serialize(completion->json);
  }
  Answer answer;
  answer.completion = std::move(*completion);
  co_return answer;
}

http::Task<core::Result<Answer>> AttemptOn(RequestContext& ctx, const config::ModelConfig& model,
                                           failover::Attempt& attempt,
                                           std::chrono::steady_clock::time_point deadline) {
  auto* provider = ctx.services.providers.For(model);
  if (!provider) co_return NoAdapter(model);
  const providers::Call call{ctx.request, BodyIn(ctx, provider->dialect(), model), model,
                             *ctx.http.client, deadline};
  // Not a ?: around the co_awaits: GCC 12 miscompiles co_await inside a conditional expression.
  core::Result<Answer> answer = core::MakeError(core::Errc::kInternal, "not attempted");
  if (ctx.request.stream) {
    answer = co_await OpenStream(*provider, call);
  } else {
    answer = co_await FetchAnswer(ctx, *provider, call, attempt);
  }
  if (!answer && ctx.http.cancelled != http::CancelReason::kNone) {
    // Cut while the upstream was working on it: it bills the prompt at least.
    if (!attempt.usage) attempt.usage = EstimateUsage(ctx.http.body.size(), 0, 0);
    co_return CutError(ctx.http.cancelled);
  }
  co_return answer;
}

}  // namespace

api::translate::Context TranslationContext(const RequestContext& ctx) {
  api::translate::Context out;
  out.created_unix_s =
      std::chrono::duration_cast<std::chrono::seconds>(ctx.request.received_at.time_since_epoch())
          .count();
  if (ctx.decision) out.input_tokens_estimate = ctx.decision->features.prompt_tokens;
  if (ctx.request.dialect == core::Dialect::kOpenAiResponses) {
    out.response_id = ResponseIdFor(ctx.request);
    out.responses_request = &ctx.request.body;
    out.previous_response_id = ctx.turn.previous_id;
  }
  return out;
}

http::Task<core::Result<Answer>> Execute(RequestContext& ctx) {
  const auto options = ChainOptionsFor(ctx);
  failover::AttemptFn<Answer> attempt = [&](const config::ModelConfig& model,
                                            failover::Attempt& record) {
    return AttemptOn(ctx, model, record, options.deadline);
  };
  auto outcome = co_await failover::RunChain(ctx.candidates, options, ctx.services.health,
                                             ctx.attempts, attempt);
  if (!outcome.result) co_return std::move(outcome.result).error();
  ctx.model = outcome.model;
  co_return std::move(outcome.result);
}

}  // namespace sy::app
