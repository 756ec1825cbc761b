#include "app/response_headers.h"

namespace sy::app {

namespace {

// Attempts actually sent upstream (skipped cool-downs do not count).
int SentAttempts(const RequestContext& ctx) {
  return static_cast<int>(std::count_if(ctx.attempts.begin(), ctx.attempts.end(),
                                        [](const failover::Attempt& a) { return !a.skipped; }));
}

}  // namespace

void AddSwitchyardHeaders(const RequestContext& ctx, http::Headers& headers) {
  headers.Add("x-switchyard-request-id", ctx.request.id);
  if (ctx.route) headers.Add("x-switchyard-route", ctx.route->reason);
  headers.Add("x-switchyard-attempts", std::to_string(SentAttempts(ctx)));
  if (ctx.model) {
    headers.Add("x-switchyard-model", ctx.model->id);
    headers.Add("x-switchyard-provider", ctx.model->provider);
  }
  if (ctx.cost) headers.Add("x-switchyard-cost-usd", ctx.cost->total.ToString());
}

}  // namespace sy::app
