#include "app/response_headers.h"

#include <algorithm>

#include "app/auth.h"
#include "app/pipeline.h"
#include "app/verification.h"

namespace sy::app {

namespace {

// Attempts actually sent upstream (skipped candidates do not count).
int SentAttempts(const RequestContext& ctx) {
  return static_cast<int>(std::count_if(ctx.attempts.begin(), ctx.attempts.end(),
                                        [](const failover::Attempt& a) { return a.sent(); }));
}

}  // namespace

void AddSwitchyardHeaders(const RequestContext& ctx, http::Headers& headers) {
  headers.Add("x-switchyard-request-id", ctx.request.id);
  if (ctx.decision) headers.Add("x-switchyard-route", routing::RouteHeader(*ctx.decision));
  headers.Add("x-switchyard-attempts", std::to_string(SentAttempts(ctx)));
  if (ctx.model) {
    headers.Add("x-switchyard-model", ctx.model->id);
    headers.Add("x-switchyard-provider",
                ctx.deployment ? ctx.deployment->provider->name : ctx.model->provider);
  }
  if (ctx.verify) headers.Add("x-switchyard-verify", VerifyHeader(ctx));
  if (auto cost = RequestCost(ctx)) headers.Add("x-switchyard-cost-usd", cost->ToString());
  AddRateLimitHeaders(ctx, headers);
}

}  // namespace sy::app
