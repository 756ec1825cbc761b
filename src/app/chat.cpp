// Execute, account and encode for /v1/chat/completions: non-streamed and streamed answers.
#include <boost/json/serialize.hpp>

#include "api/openai/errors.h"
#include "app/gateway.h"
#include "app/response_headers.h"
#include "app/stream_relay.h"
#include "http/sse.h"

namespace sy::app {
namespace {

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

struct OpenedStream {
  std::unique_ptr<providers::EventStream> stream;
  providers::StreamEvent first;
};

}  // namespace

http::Task<void> Gateway::Complete(Context& ctx) {
  const auto options = ChainOptionsFor(catalog_->config().failover);
  failover::AttemptFn<providers::Completion> attempt =
      [&](const config::ModelConfig& model) -> http::Task<core::Result<providers::Completion>> {
    auto* provider = ProviderFor(model);
    if (!provider) co_return NoAdapter(model);
    providers::Call call{ctx.request, model, *ctx.http.client, options.deadline};
    co_return co_await provider->Complete(call);
  };
  auto outcome = co_await failover::RunChain(ctx.route->candidates, options, tl_cooldowns,
                                             ctx.attempts, attempt);
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
  const auto options = ChainOptionsFor(catalog_->config().failover);
  // The first event is read inside the attempt: until a byte reaches the client, a failing
  // model can still be swapped for the next candidate.
  failover::AttemptFn<OpenedStream> attempt =
      [&](const config::ModelConfig& model) -> http::Task<core::Result<OpenedStream>> {
    auto* provider = ProviderFor(model);
    if (!provider) co_return NoAdapter(model);
    providers::Call call{ctx.request, model, *ctx.http.client, options.deadline};
    auto stream = co_await provider->Stream(call);
    if (!stream) co_return std::move(stream).error();
    auto first = co_await (*stream)->Next();
    if (!first) co_return std::move(first).error();
    if (!*first) co_return core::MakeError(core::Errc::kUpstreamUnavailable, "empty stream");
    co_return OpenedStream{std::move(*stream), std::move(**first)};
  };
  auto outcome = co_await failover::RunChain(ctx.route->candidates, options, tl_cooldowns,
                                             ctx.attempts, attempt);
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
  StreamRelay relay(ctx, *outcome.result->stream);
  co_await relay.Run(std::move(outcome.result->first));
}

}  // namespace sy::app
