// Execute, account and encode for the generation endpoints (/v1/chat/completions and
// /v1/messages): non-streamed and streamed answers, translated when the model that answers
// speaks another dialect than the client.
#include "api/translate/translate.h"
#include "app/dialect.h"
#include "app/gateway.h"
#include "app/response_headers.h"
#include "app/stream_relay.h"

namespace sy::app {
namespace {

namespace json = boost::json;

thread_local failover::Cooldowns tl_cooldowns;  // per worker: no lock on the request path

failover::ChainOptions ChainOptionsFor(const config::FailoverConfig& config) {
  failover::ChainOptions options;
  options.deadline = std::chrono::steady_clock::now() + config.total_deadline;
  options.max_attempts = config.max_attempts;
  options.max_retry_after = config.max_retry_after;
  return options;
}

core::Error NoAdapter(const config::ModelConfig& model) {
  return core::MakeError(
      core::Errc::kUpstreamUnavailable,
      "model " + model.id + ": provider " + model.provider + " has no adapter in this build");
}

int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

struct OpenedStream {
  std::unique_ptr<providers::EventStream> stream;
  providers::StreamEvent first;
};

}  // namespace

const core::Result<json::object>& Gateway::BodyFor(Context& ctx, core::Dialect dialect) const {
  auto it = ctx.translated_bodies.find(dialect);
  if (it == ctx.translated_bodies.end()) {
    it = ctx.translated_bodies
             .emplace(dialect, api::translate::TranslateRequest(ctx.request.dialect, dialect,
                                                                ctx.request.body,
                                                                ctx.request.body.storage()))
             .first;
  }
  return it->second;
}

const json::object& Gateway::BodyIn(Context& ctx, core::Dialect dialect) const {
  return dialect == ctx.request.dialect ? ctx.request.body : *BodyFor(ctx, dialect);
}

core::Result<std::vector<const config::ModelConfig*>> Gateway::Servable(Context& ctx) const {
  std::vector<const config::ModelConfig*> servable;
  std::optional<core::Error> refusal;
  for (const auto* model : ctx.route->candidates) {
    const auto* provider = ProviderFor(*model);
    if (provider && provider->dialect() != ctx.request.dialect) {
      const auto& body = BodyFor(ctx, provider->dialect());
      if (!body) {
        // Not sent: the request uses something this model's API cannot express.
        ctx.attempts.push_back({model, false, true, body.error(), {}});
        if (!refusal) refusal = body.error();
        continue;
      }
    }
    servable.push_back(model);
  }
  if (servable.empty()) return *refusal;
  return servable;
}

http::Task<core::Result<providers::Completion>> Gateway::CompleteOn(
    Context& ctx, const config::ModelConfig& model, SteadyTime deadline) const {
  auto* provider = ProviderFor(model);
  if (!provider) co_return NoAdapter(model);
  const core::Dialect upstream = provider->dialect();
  providers::Call call{ctx.request, BodyIn(ctx, upstream), model, *ctx.http.client, deadline};
  auto completion = co_await provider->Complete(call);
  if (!completion || upstream == ctx.request.dialect) co_return completion;
  // Translated inside the attempt: an answer that cannot be re-framed fails over.
  auto translated =
      api::translate::TranslateResponse(upstream, ctx.request.dialect, completion->json,
                                        completion->usage, {UnixSeconds(ctx.request.received_at)});
  if (!translated) co_return std::move(translated).error();
  completion->body = std::move(*translated);
  co_return completion;
}

http::Task<void> Gateway::Complete(Context& ctx) {
  auto candidates = Servable(ctx);
  if (!candidates) {
    co_await Fail(ctx, candidates.error());
    co_return;
  }
  const auto options = ChainOptionsFor(catalog_->config().failover);
  failover::AttemptFn<providers::Completion> attempt = [&](const config::ModelConfig& model) {
    return CompleteOn(ctx, model, options.deadline);
  };
  auto outcome =
      co_await failover::RunChain(*candidates, options, tl_cooldowns, ctx.attempts, attempt);
  if (!outcome.result) {
    co_await Fail(ctx, outcome.result.error());
    co_return;
  }
  auto& completion = *outcome.result;
  ctx.model = outcome.model;
  ctx.record.usage = completion.usage;
  ctx.cost = catalog::ComputeCost(ctx.model->price, completion.usage, ctx.request.received_at);
  ctx.record.status = 200;
  http::Headers headers;
  headers.Add("content-type", "application/json");
  AddSwitchyardHeaders(ctx, headers);
  co_await ctx.writer.Send(200, headers, std::move(completion.body));
}

http::Task<void> Gateway::Stream(Context& ctx) {
  auto candidates = Servable(ctx);
  if (!candidates) {
    co_await Fail(ctx, candidates.error());
    co_return;
  }
  const auto options = ChainOptionsFor(catalog_->config().failover);
  // The first event is read inside the attempt: until a byte reaches the client, a failing
  // model can still be swapped for the next candidate.
  failover::AttemptFn<OpenedStream> attempt =
      [&](const config::ModelConfig& model) -> http::Task<core::Result<OpenedStream>> {
    auto* provider = ProviderFor(model);
    if (!provider) co_return NoAdapter(model);
    providers::Call call{ctx.request, BodyIn(ctx, provider->dialect()), model, *ctx.http.client,
                         options.deadline};
    auto stream = co_await provider->Stream(call);
    if (!stream) co_return std::move(stream).error();
    auto first = co_await (*stream)->Next();
    if (!first) co_return std::move(first).error();
    if (!*first) co_return core::MakeError(core::Errc::kUpstreamUnavailable, "empty stream");
    co_return OpenedStream{std::move(*stream), std::move(**first)};
  };
  auto outcome =
      co_await failover::RunChain(*candidates, options, tl_cooldowns, ctx.attempts, attempt);
  if (!outcome.result) {
    co_await Fail(ctx, outcome.result.error());
    co_return;
  }
  ctx.model = outcome.model;
  ctx.record.status = 200;
  http::Headers headers;
  headers.Add("content-type", "text/event-stream");
  headers.Add("cache-control", "no-cache");
  headers.Add("trailer", "x-switchyard-cost-usd");
  AddSwitchyardHeaders(ctx, headers);
  if (!co_await ctx.writer.StartStream(200, headers)) {
    ctx.record.error_code = "client_closed";
    co_return;
  }
  StreamRelay relay(ctx, *outcome.result->stream, ProviderFor(*ctx.model)->dialect());
  co_await relay.Run(std::move(outcome.result->first));
}

}  // namespace sy::app
