// The record stage: the ledger record, filled from the request context in this one place.
#include "app/access_log.h"
#include "app/auth.h"
#include "app/gateway_metrics.h"
#include "app/pipeline.h"
#include "app/pipeline_internal.h"
#include "app/verification.h"
#include "core/saturating.h"
#include "core/text.h"

namespace sy::app {
namespace {

int64_t MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// Client-supplied or upstream text, bounded so that a row has a size bound.
std::string Bounded(std::string_view text) {
  return core::ClipForEcho(text, ledger::kMaxFieldBytes);
}

// Upstream text: bounded, and no configured secret in it.
std::string Scrubbed(const core::SecretScrubber& secrets, std::string_view text) {
  return text.empty() ? std::string() : Bounded(secrets.Scrub(text));
}

void AddUsage(core::Usage& sum, const core::Usage& u) {
  sum.input_tokens = core::SaturatingAdd(sum.input_tokens, u.input_tokens);
  sum.cached_input_tokens = core::SaturatingAdd(sum.cached_input_tokens, u.cached_input_tokens);
  sum.cache_write_input_tokens =
      core::SaturatingAdd(sum.cache_write_input_tokens, u.cache_write_input_tokens);
  sum.output_tokens = core::SaturatingAdd(sum.output_tokens, u.output_tokens);
  sum.reasoning_tokens = core::SaturatingAdd(sum.reasoning_tokens, u.reasoning_tokens);
  sum.reported = sum.reported || u.reported;
  sum.estimated = sum.estimated || u.estimated;
}

ledger::Attempt RecordAttempt(const failover::Attempt& a, const core::SecretScrubber& secrets) {
  ledger::Attempt out;
  out.model = a.model->id;
  out.provider = a.deployment ? a.deployment->provider->name : a.model->provider;
  out.deployment = a.deployment ? a.deployment->name() : std::string();
  out.outcome = std::string(failover::OutcomeName(a.outcome));
  out.verdict = Scrubbed(secrets, a.verdict);  // quotes the answer: upstream text
  if (a.outcome == failover::Outcome::kOk) {
    out.http_status = 200;
  } else {
    out.http_status = a.error.upstream_status;
    out.error_code = a.sent() ? std::string(core::ErrcName(a.error.code)) : "skipped";
    out.error_message = Scrubbed(secrets, a.error.message);
  }
  out.latency_ms = a.latency.count();
  if (a.usage) out.usage = *a.usage;
  if (a.cost) out.cost = a.cost->total;
  return out;
}

// "alias economy [deepseek-v4-flash > kimi-k2.6]": the rule and the candidates it kept.
std::string RouteReason(const routing::Decision& d) {
  std::string reason = d.profile.empty() ? std::string() : std::string(d.profile) + "/";
  reason += d.rule;
  reason += " [";
  for (size_t i = 0; i < d.kept; ++i) {
    if (i > 0) reason += " > ";
    reason += d.candidates[i].model->id;
  }
  reason += "]";
  if (d.router) {
    reason += " router ";
    routing::AppendRouterVerdict(reason, *d.router);
  }
  return reason;
}

// The gateway's own time: to the first byte sent for a stream, to now otherwise, minus the
// time spent waiting on upstream calls.
std::chrono::microseconds Overhead(const RequestContext& ctx) {
  const auto end = ctx.outcome.first_byte_at.value_or(std::chrono::steady_clock::now());
  auto overhead = std::chrono::duration_cast<std::chrono::microseconds>(end - ctx.started);
  for (const auto& a : ctx.attempts) overhead -= a.elapsed;
  return std::max(overhead, std::chrono::microseconds(0));
}

// A shadow request's record: kept apart (no budget, request metrics or access log), under the
// live request's routing, with its agreement.
void RecordShadow(RequestContext& ctx, ledger::Record r) {
  const ShadowOf& of = *ctx.shadow_of;
  r.shadow_of = of.live_id;
  r.agreement = of.agreement;
  r.task_type = of.task_type;
  r.profile = of.profile;
  r.rule = of.rule;
  if (ctx.services.metrics) ctx.services.metrics->ObserveShadow(r);
  ctx.services.sink.Append(std::move(r));
}

}  // namespace

void Record(RequestContext& ctx) {
  ledger::Record r;
  const auto& req = ctx.request;
  r.request_id = req.id;
  r.started_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(req.received_at.time_since_epoch())
          .count();
  r.tenant = req.tenant;
  r.key_id = req.key_id;
  r.task_id = req.task_id;  // bounded by the decode stage
  r.dialect = std::string(core::DialectName(req.dialect));
  r.endpoint = Bounded(ctx.http.Path());
  r.requested_model = Bounded(req.model);
  r.stream = req.stream;
  if (ctx.decision) {
    const routing::Decision& d = *ctx.decision;
    r.task_type = std::string(routing::TaskTypeName(d.features.task_type));
    r.profile = std::string(d.profile);
    r.rule = std::string(d.rule);
    r.route_reason = Bounded(RouteReason(d));
    // A cache hit: no attempt, no cost; the answer is the one its model gave before.
    if (ctx.cache && ctx.cache->hit) r.route_reason = Bounded("cache hit; " + r.route_reason);
  }
  if (ctx.model) {
    r.chosen_model = ctx.model->id;
    r.provider = ctx.deployment ? ctx.deployment->provider->name : ctx.model->provider;
  }
  r.verify = VerifyHeader(ctx);
  for (const auto& a : ctx.attempts) {
    r.attempts.push_back(RecordAttempt(a, ctx.services.secrets));
    if (a.outcome == failover::Outcome::kFailed && &a == &ctx.attempts.back() &&
        ctx.http.cancelled != http::CancelReason::kNone) {
      r.attempts.back().error_code = std::string(CutCode(ctx.http.cancelled));  // cut by us
    }
    if (a.usage) AddUsage(r.usage, *a.usage);
    if (a.cost) {
      r.cost = core::Money::FromPico(core::SaturatingAdd(r.cost.pico(), a.cost->total.pico()));
      r.price_list = a.cost->price_list;  // the last priced attempt's: the answer's, if any
    }
  }
  r.status = ctx.outcome.status;
  r.error_code = ctx.outcome.error_code;
  r.error_message = Scrubbed(ctx.services.secrets, ctx.outcome.error_message);
  r.ttft_ms = ctx.outcome.ttft_ms;
  r.latency_ms = MillisSince(ctx.started);
  if (ctx.shadow_of) {
    RecordShadow(ctx, std::move(r));
    return;
  }
  Settle(ctx);  // streams and cuts: charged here, when their cost is final
  // A request no upstream billed (refused, a cache hit) says nothing of what one costs.
  const bool billed = r.usage.reported || r.usage.estimated;
  if (ctx.decision && billed) routing::ObserveRouterUsage(*ctx.decision, r.usage);
  if (ctx.services.metrics) ctx.services.metrics->Observe(r, Overhead(ctx));
  if (ctx.services.access_log) ctx.services.access_log->Write(r, ctx.prompt);
  ctx.services.sink.Append(std::move(r));
}

}  // namespace sy::app
