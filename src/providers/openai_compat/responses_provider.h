// The adapter for a provider that speaks OpenAI's Responses API natively (config kind openai,
// api responses): POST {base_url}/responses with a bearer key. The request body is already in
// the Responses dialect (the client's own, or translated from the hub); the adapter only sets
// the model and makes the call stateless (see BuildRequest).
#pragma once

#include <memory>

#include "config/config.h"
#include "providers/provider.h"

namespace sy::providers {

// REQUIRES: config.kind == "openai" and config.api == "responses" (MakeProvider checks).
std::unique_ptr<Provider> MakeResponsesProvider(const config::ProviderConfig& config);

}  // namespace sy::providers
