// The x-switchyard-* response headers (docs/api.md).
#pragma once

#include "app/context.h"
#include "http/headers.h"

namespace sy::app {

// Adds request id, route, attempts and, once known, model, provider and cost.
void AddSwitchyardHeaders(const RequestContext& ctx, http::Headers& headers);

}  // namespace sy::app
