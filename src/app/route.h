// The route stage's decision, shared by the pipeline, POST /v1/route/explain and
// `switchyard route explain`: read the routing headers, read the prompt in its dialect, classify
// it, decide. No upstream is called.
#pragma once

#include <string_view>

#include "catalog/catalog.h"
#include "core/prompt.h"
#include "core/request.h"
#include "core/result.h"
#include "http/server.h"
#include "routing/decide.h"
#include "routing/health.h"
#include "routing/policy.h"

namespace sy::app {

// The client's routing headers, as sent ("" when absent).
struct RouteHeaders {
  std::string_view task;      // x-switchyard-task: a task type the caller states
  std::string_view max_cost;  // x-switchyard-max-cost-usd: worst-case ceiling, decimal USD
  std::string_view tags;      // x-switchyard-tags: comma-separated routing tags
};

// The routing headers of a client request (views into `headers`).
RouteHeaders ReadRouteHeaders(const http::Headers& headers);

// What a decoded request asks for, read in its dialect (for routing and token estimates).
core::Prompt ReadPrompt(const core::Request& request, size_t body_bytes);

// Decides the route of a decoded request whose prompt was read (ReadPrompt). Fails with
// kNotFound for an unknown model or profile (listing the profiles), or kInvalidRequest naming a
// malformed routing header. A decision that kept no candidate is returned as is
// (routing::NoCandidateError words its 400).
core::Result<routing::Decision> DecideRoute(const core::Request& request,
                                            const core::Prompt& prompt, const RouteHeaders& headers,
                                            const routing::Policy& policy,
                                            const catalog::Catalog& catalog,
                                            const routing::Health& health, const routing::Now& now);

// Explain's whole decision: decodes `body` in request.dialect (filling `request`) and decides its
// route. Fails with the decoder's error or DecideRoute's.
core::Result<routing::Decision> DecodeAndDecide(std::string_view body, int64_t max_json_depth,
                                                const RouteHeaders& headers, core::Request& request,
                                                const routing::Policy& policy,
                                                const catalog::Catalog& catalog,
                                                const routing::Health& health,
                                                const routing::Now& now);

// The explain answer: {"profile", "rule", "task_type", "features", "candidates": [...]}, kept
// candidates first in the order they would be tried, then the dropped ones with the constraint
// that dropped them (docs/api.md).
std::string ExplainJson(const routing::Decision& decision, const catalog::Catalog& catalog);

// GET /v1/route/health: every deployment's breaker state, error rate in the window, calls in
// flight and latency EWMA, as {"object": "list", "data": [...]} (docs/api.md).
std::string HealthJson(const catalog::Catalog& catalog, const routing::Health& health);

}  // namespace sy::app
