// The adapter for every OpenAI-compatible Chat Completions API (OpenAI, DeepSeek, Moonshot/Kimi,
// vLLM, llama.cpp server, Ollama, ...): POST {base_url}/chat/completions with a bearer key.
#pragma once

#include <memory>

#include "config/config.h"
#include "providers/provider.h"

namespace sy::providers {

std::unique_ptr<Provider> MakeOpenAiProvider(const config::ProviderConfig& config);

// Reads OpenAI's usage block ({prompt_tokens, completion_tokens, prompt_tokens_details.
// cached_tokens, completion_tokens_details.reasoning_tokens}); nullopt when absent or not an
// object. A block whose prompt or completion count is missing or not a count
// (detail::Billable) is no reported usage (`reported` false: the gateway estimates it); a
// details counter that cannot be read counts 0.
std::optional<core::Usage> ParseOpenAiUsage(const boost::json::value& usage);

}  // namespace sy::providers
