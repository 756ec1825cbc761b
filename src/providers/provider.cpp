#include "providers/provider.h"

#include "providers/anthropic/anthropic_provider.h"
#include "providers/openai_compat/openai_provider.h"
#include "providers/openai_compat/responses_provider.h"

namespace sy::providers {

http::Task<core::Result<int64_t>> Provider::CountTokens(const Call& /*call*/) {
  co_return core::MakeError(core::Errc::kNotFound, "this provider's API does not count tokens");
}

core::Result<std::unique_ptr<Provider>> MakeProvider(const config::ProviderConfig& config) {
  if (config.kind == "openai" && config.api == "responses") return MakeResponsesProvider(config);
  if (config.kind == "openai") return MakeOpenAiProvider(config);
  if (config.kind == "anthropic") return MakeAnthropicProvider(config);
  return core::MakeError(core::Errc::kInvalidRequest, "providers." + config.name +
                                                          ".kind: no adapter for kind \"" +
                                                          config.kind + "\" in this build");
}

}  // namespace sy::providers
