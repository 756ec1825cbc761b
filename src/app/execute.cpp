// The execute stage: the attempt chain over the route's models and their deployments, one
// provider call each, every answer verified when the route asks for it.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/translate/translate.h"
#include "app/auth.h"
#include "app/conversation.h"
#include "app/dialect.h"
#include "app/pipeline.h"
#include "app/pipeline_internal.h"
#include "app/verification.h"
#include "core/json_depth.h"

namespace sy::app {
namespace {

failover::ChainOptions ChainOptionsFor(RequestContext& ctx) {
  const auto& config = ctx.services.catalog.config().failover;
  failover::ChainOptions options;
  options.deadline = std::chrono::steady_clock::now() + config.total_deadline;
  options.max_attempts = config.max_attempts;
  options.max_retry_after = config.max_retry_after;
  options.retries_per_deployment = config.retries_per_deployment;
  options.backoff_base = config.backoff_base;
  options.backoff_max = config.backoff_max;
  const auto* http = &ctx.http;
  options.stopped = [http] { return http->cancelled != http::CancelReason::kNone; };
  options.prepare = [&ctx](const catalog::Deployment& d) { return PrepareBody(ctx, d); };
  if (ctx.caller) {
    options.admit = [&ctx](const catalog::Deployment& d) { return ReserveAttempt(ctx, d); };
  }
  return options;
}

core::Error NoAdapter(const catalog::Deployment& d) {
  return core::MakeError(
      core::Errc::kUpstreamUnavailable,
      "model " + d.model->id + ": provider " + d.provider->name + " has no adapter in this build");
}

// The answer that failed verification, kept for on_exhausted return_last. The chain records
// the attempt right after the attempt function returns, so its index is the next one.
void KeepRejected(RequestContext& ctx, Answer answer) {
  if (!ctx.verify || !ctx.verify->return_last) return;
  ctx.rejected = std::move(answer);
  ctx.rejected_attempt = ctx.attempts.size();
}

core::Error Unverifiable(failover::Attempt& attempt, const core::Error& why) {
  attempt.verdict = "rejected: unreadable answer: " + why.message;
  return core::MakeError(core::Errc::kVerificationFailed, "unreadable answer: " + why.message);
}

// Events held in memory, replayed to the relay once verification passed.
class HeldStream final : public providers::EventStream {
 public:
  explicit HeldStream(std::vector<providers::StreamEvent> events) : events_(std::move(events)) {}
  http::Task<core::Result<std::optional<providers::StreamEvent>>> Next() override {
    if (next_ == events_.size()) co_return std::optional<providers::StreamEvent>();
    co_return std::optional<providers::StreamEvent>(std::move(events_[next_++]));
  }

 private:
  std::vector<providers::StreamEvent> events_;
  size_t next_ = 0;
};

// verify_mode record: the stream goes to the client as it comes; what passed through is judged
// when it ends, and the verdict lands on the answering attempt.
class RecordingStream final : public providers::EventStream {
 public:
  RecordingStream(RequestContext& ctx, std::unique_ptr<providers::EventStream> inner,
                  core::Dialect upstream, const providers::StreamEvent& first)
      : ctx_(ctx), inner_(std::move(inner)), collector_(upstream) {
    collector_.Add(first);
  }
  http::Task<core::Result<std::optional<providers::StreamEvent>>> Next() override {
    auto next = co_await inner_->Next();
    if (next && *next) collector_.Add(**next);
    // The relay stops reading at the dialect's terminal event: judge there (or at the end).
    if (next && (!*next || (*next)->terminal) && !judged_) {
      judged_ = true;
      (void)Judge(*ctx_.verify, collector_.Finish(), ctx_.attempts[ctx_.answer_attempt]);
    }
    co_return next;
  }
  http::Task<void> Finish() override { co_await inner_->Finish(); }

 private:
  RequestContext& ctx_;
  std::unique_ptr<providers::EventStream> inner_;
  verify::StreamCollector collector_;
  bool judged_ = false;
};

// verify_mode hold: reads the whole stream (bounded by verification.max_held_bytes), judges it,
// and hands on a replay of it when it passed. Nothing reaches the client before that.
http::Task<core::Result<Answer>> HoldAndJudge(RequestContext& ctx, Answer answer,
                                              failover::Attempt& attempt) {
  const auto max_bytes =
      static_cast<size_t>(ctx.services.catalog.config().verification.max_held_bytes);
  verify::StreamCollector collector(answer.upstream);
  std::vector<providers::StreamEvent> events;
  size_t bytes = 0;  // the events' own, what max_held_bytes bounds
  // What an output estimate counts, as the relay does: generated text, not the events' JSON.
  size_t deltas = 0;
  size_t generated = 0;
  std::optional<providers::StreamEvent> event = std::move(answer.first);
  while (event) {
    bytes += event->data.size();
    if (const size_t n = GeneratedBytes(answer.upstream, *event);
        n > 0 || CarriesContent(answer.upstream, *event)) {
      ++deltas;
      generated += n;
    }
    if (event->usage && event->usage->reported) attempt.usage = event->usage;
    collector.Add(*event);
    events.push_back(std::move(*event));
    if (bytes > max_bytes) {
      if (!attempt.usage) attempt.usage = EstimateUsage(attempt.request_bytes, deltas, generated);
      attempt.verdict = "rejected: too long to verify";
      co_return core::MakeError(core::Errc::kVerificationFailed,
                                "the answer is longer than verification.max_held_bytes (" +
                                    std::to_string(max_bytes) + ")");
    }
    auto next = co_await answer.stream->Next();
    if (!next) {
      if (!attempt.usage) attempt.usage = EstimateUsage(attempt.request_bytes, deltas, generated);
      co_return std::move(next).error();
    }
    event = std::move(*next);
  }
  co_await answer.stream->Finish();  // the upstream connection stays reusable
  if (!attempt.usage) attempt.usage = EstimateUsage(attempt.request_bytes, deltas, generated);
  const core::Status verdict = Judge(*ctx.verify, collector.Finish(), attempt);
  Answer held;
  held.upstream = answer.upstream;
  held.first = std::move(events.front());
  events.erase(events.begin());
  held.stream = std::make_unique<HeldStream>(std::move(events));
  if (!verdict) {
    KeepRejected(ctx, std::move(held));
    co_return verdict.error();
  }
  co_return held;
}

// The first event is read inside the attempt: until a byte reaches the client, a failing model
// can still be swapped for the next candidate.
http::Task<core::Result<Answer>> OpenStream(RequestContext& ctx, providers::Provider& provider,
                                            const providers::Call& call,
                                            failover::Attempt& attempt) {
  auto stream = co_await provider.Stream(call);
  if (!stream) co_return std::move(stream).error();
  auto first = co_await (*stream)->Next();
  if (!first) co_return std::move(first).error();
  if (!*first) co_return core::MakeError(core::Errc::kUpstreamUnavailable, "empty stream");
  Answer answer;
  answer.upstream = provider.dialect();
  answer.first = std::move(**first);
  if (ctx.verify && ctx.verify->record_only) {
    answer.stream =
        std::make_unique<RecordingStream>(ctx, std::move(*stream), answer.upstream, *answer.first);
    co_return answer;
  }
  answer.stream = std::move(*stream);
  if (!ctx.verify) co_return answer;
  co_return co_await HoldAndJudge(ctx, std::move(answer), attempt);
}

// A complete answer, translated into the client's dialect inside the attempt: an answer that
// cannot be re-framed fails over, and what the upstream billed for it stays on the attempt.
http::Task<core::Result<Answer>> FetchAnswer(RequestContext& ctx, providers::Provider& provider,
                                             const providers::Call& call,
                                             failover::Attempt& attempt) {
  auto completion = co_await provider.Complete(call);
  if (!completion) co_return std::move(completion).error();
  const core::Dialect upstream = provider.dialect();
  if (completion->usage.reported) {
    attempt.usage = completion->usage;
  } else {
    // Rare (an upstream that sends no usage block), so the DOM may be built here to read the
    // generated text, when the call went without one.
    const boost::json::value* answer = &completion->json;
    boost::json::value parsed;
    if (answer->is_null()) {
      boost::system::error_code ec;
      parsed = boost::json::parse(completion->body, ec, {},
                                  core::EchoParseOptions(ctx.request.max_json_depth));
      answer = &parsed;
    }
    attempt.usage = AnswerUsage(upstream, *answer, completion->usage, attempt.request_bytes);
  }
  core::Status verdict;
  if (ctx.verify) {
    auto output = verify::ReadAnswer(upstream, completion->json);
    verdict = output ? Judge(*ctx.verify, *output, attempt)
                     : core::Status(Unverifiable(attempt, output.error()));
  }
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
  answer.upstream = upstream;
  answer.completion = std::move(*completion);
  if (!verdict) {
    KeepRejected(ctx, std::move(answer));
    co_return verdict.error();
  }
  co_return answer;
}

// Whether anything reads a complete answer's DOM (Completion::json) after Complete: the
// verification checks, the translation into the client's dialect, the Responses pass-through
// (which echoes the conversation into the answer), and shadow traffic (ShadowRunner::WatchAnswer
// on a sampled live request, NoteAgreement on the shadow). Otherwise the answer goes to the
// client as the upstream sent it, and only its usage block is read.
bool NeedsAnswerJson(const RequestContext& ctx, core::Dialect upstream) {
  return ctx.verify || upstream != ctx.request.dialect ||
         upstream == core::Dialect::kOpenAiResponses || ctx.shadow || ctx.shadow_of;
}

// Whether a failed attempt may have cost money: the upstream had the whole request and did not
// refuse it with an error status. It then bills the prompt at least, whether its answer was
// lost (a reset, the client or the gateway cutting the call, a timeout) or unreadable (a
// malformed body, a stream whose first event broke). Refusals (4xx, 5xx) are not billed.
bool MayHaveBilled(const failover::Attempt& attempt, const core::Error& error) {
  return attempt.delivered && (error.upstream_status == 0 || error.upstream_status / 100 == 2);
}

http::Task<core::Result<Answer>> AttemptOn(RequestContext& ctx, const catalog::Deployment& d,
                                           failover::Attempt& attempt,
                                           std::chrono::steady_clock::time_point deadline) {
  auto* provider = ctx.services.providers.For(d);
  if (!provider) co_return NoAdapter(d);
  const providers::Call call{ctx.request,
                             BodyIn(ctx, provider->dialect(), *d.model),
                             *d.model,
                             *ctx.http.client,
                             deadline,
                             d.upstream_name(),
                             NeedsAnswerJson(ctx, provider->dialect()),
                             &attempt.request_bytes,
                             &attempt.delivered};
  // Not a ?: around the co_awaits: GCC 12 miscompiles co_await inside a conditional expression.
  core::Result<Answer> answer = core::MakeError(core::Errc::kInternal, "not attempted");
  if (ctx.request.stream) {
    answer = co_await OpenStream(ctx, *provider, call, attempt);
  } else {
    answer = co_await FetchAnswer(ctx, *provider, call, attempt);
  }
  if (answer) co_return answer;
  if (!attempt.usage && MayHaveBilled(attempt, answer.error())) {
    attempt.usage = EstimateUsage(attempt.request_bytes, 0, 0);
  }
  if (ctx.http.cancelled != http::CancelReason::kNone) co_return CutError(ctx.http.cancelled);
  core::Error error = std::move(answer).error();
  NameUpstreamParamForClient(ctx, provider->dialect(), error);
  co_return error;
}

}  // namespace

void NameUpstreamParamForClient(const RequestContext& ctx, core::Dialect upstream,
                                core::Error& error) {
  if (error.upstream_status == 0 || error.param.empty()) return;
  api::translate::NameParamForClient(ctx.request.dialect, upstream, ctx.request.body, error);
}

api::translate::Context TranslationContext(const RequestContext& ctx) {
  api::translate::Context out;
  out.created_unix_s =
      std::chrono::duration_cast<std::chrono::seconds>(ctx.request.received_at.time_since_epoch())
          .count();
  if (ctx.decision) out.input_tokens_estimate = ctx.decision->features.prompt_tokens;
  out.max_json_depth = ctx.request.max_json_depth;
  if (ctx.request.dialect == core::Dialect::kOpenAiResponses) {
    out.response_id = ResponseIdFor(ctx.request);
    out.responses_request = &ctx.request.body;
    out.previous_response_id = ctx.turn.previous_id;
  }
  return out;
}

http::Task<core::Result<Answer>> Execute(RequestContext& ctx) {
  const auto options = ChainOptionsFor(ctx);
  failover::AttemptFn<Answer> attempt = [&](const catalog::Deployment& d,
                                            failover::Attempt& record) {
    return AttemptOn(ctx, d, record, options.deadline);
  };
  auto outcome =
      co_await failover::RunChain(ctx.steps, options, ctx.services.health, ctx.attempts, attempt);
  if (outcome.result) {
    ctx.model = outcome.model;
    ctx.deployment = outcome.deployment;
    ctx.answer_attempt = ctx.attempts.size() - 1;
    co_return std::move(outcome.result);
  }
  if (ctx.rejected && ctx.http.cancelled == http::CancelReason::kNone) {
    // on_exhausted return_last: no answer passed; the last one goes out, flagged.
    const failover::Attempt& last = ctx.attempts[ctx.rejected_attempt];
    ctx.model = last.model;
    ctx.deployment = last.deployment;
    ctx.answer_attempt = ctx.rejected_attempt;
    ctx.returned_rejected = true;
    Answer answer = std::move(*ctx.rejected);
    ctx.rejected.reset();
    co_return answer;
  }
  if (outcome.result.error().code == core::Errc::kBudgetExceeded) {
    CountRefusal(ctx, outcome.result.error());
  }
  co_return std::move(outcome.result).error();
}

}  // namespace sy::app
