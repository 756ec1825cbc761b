// POST /v1/messages/count_tokens: Anthropic's token counter, for any model the gateway serves.
//
// A model on an Anthropic-kind provider has its request forwarded to the provider's own counter
// (exact). Any other model, a routing profile, or an Anthropic counter that is unreachable gets
// the gateway's estimate of the prompt (routing's, the one cost ceilings use), marked
// `x-switchyard-token-count: estimated`. A counter's 400 (the prompt is invalid for it) is
// answered as such; any other failure (an endpoint the provider lacks, an outage) falls back to
// the estimate. Nothing is generated and nothing is billed, so nothing is recorded.
//
// Rate limits: a count takes one request from the key's and tenant's auxiliary bucket (the size of
// their requests_per_minute, apart from generation's: auth.h AdmitAuxiliary), before the body is
// read, so a key cannot make the operator's counter work without limit.
#include "api/anthropic/decode.h"
#include "app/auth.h"
#include "app/dialect.h"
#include "app/gateway.h"
#include "app/pipeline.h"
#include "app/route.h"
#include "core/ids.h"

namespace sy::app {
namespace {

struct Count {
  int64_t input_tokens = 0;
  bool estimated = true;
};

// The model whose counter answers: a model id or other id, or an alias's first model; null for
// a routing profile (its model is only known once it routes).
const config::ModelConfig* CountingModel(const routing::Target& target) {
  if (!target.route || target.route->candidates.empty()) return nullptr;
  return target.route->candidates.front();
}

std::string CountBody(int64_t tokens) {
  return "{\"input_tokens\":" + std::to_string(tokens) + "}";
}

}  // namespace

http::Task<void> Gateway::CountTokens(http::ServerRequest& http, http::ResponseWriter& writer,
                                      const Caller* caller) {
  RequestContext ctx(http, writer, services_);
  ctx.Begin(core::Dialect::kAnthropicMessages);
  if (caller) SetCaller(ctx, *caller);
  core::Status front = co_await AdmitAuxiliary(ctx);
  if (front) {
    front = api::anthropic::DecodeCountTokensRequest(
        http.body, catalog_->config().server.max_json_depth, ctx.request);
  }
  core::Result<routing::Target> target = core::MakeError(core::Errc::kInternal, "not resolved");
  if (front) target = routing::Resolve(ctx.request.model, policy_, *catalog_);
  if (front && !target) front = std::move(target).error();
  if (front) {
    front = CheckNamedScope(caller, ctx.request.model,
                            target->profile ? std::string_view(target->profile->name) : "");
  }
  if (!front) {
    co_await EncodeFailure(ctx, front.error());
    co_return;
  }
  const config::ModelConfig* model = CountingModel(*target);
  providers::Provider* provider = model ? providers_.For(*model) : nullptr;
  Count count;
  if (provider && provider->dialect() == core::Dialect::kAnthropicMessages) {
    const auto deadline =
        std::chrono::steady_clock::now() + catalog_->config().failover.total_deadline;
    const providers::Call call{ctx.request, ctx.request.body, *model, *http.client, deadline};
    auto counted = co_await provider->CountTokens(call);
    if (!counted && counted.error().code == core::Errc::kUpstreamRejected &&
        counted.error().upstream_status == 400) {
      co_await EncodeFailure(ctx, counted.error());
      co_return;
    }
    if (counted) count = {*counted, false};
  }
  if (count.estimated) {
    count.input_tokens = routing::Classify(ReadPrompt(ctx.request, http.body.size())).prompt_tokens;
  }
  http::Headers headers;
  headers.Add("content-type", "application/json");
  headers.Add("x-switchyard-request-id", ctx.request.id);
  if (model) headers.Add("x-switchyard-model", model->id);
  headers.Add("x-switchyard-token-count", count.estimated ? "estimated" : "upstream");
  AddRateLimitHeaders(ctx, headers);
  co_await writer.Send(200, headers, CountBody(count.input_tokens));
}

}  // namespace sy::app
