// The x-switchyard-* response headers (docs/api.md) and the /v1/models listing.
#pragma once

#include <map>
#include <string>

#include "app/context.h"
#include "catalog/catalog.h"
#include "http/headers.h"

namespace sy::app {

// Adds request id, route, attempts and, once known, model, provider and cost.
void AddSwitchyardHeaders(const RequestContext& ctx, http::Headers& headers);

// The OpenAI-shaped model list, with Switchyard's price and alias details per entry.
std::string ModelsBody(const catalog::Catalog& catalog,
                       const std::map<std::string, std::string>& unavailable_providers);

}  // namespace sy::app
