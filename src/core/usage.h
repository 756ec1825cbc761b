// Token usage as an upstream reported it, normalised across dialects.
#pragma once

#include <cstdint>

namespace sy::core {

struct Usage {
  // All prompt tokens, cached ones included (OpenAI's prompt_tokens). Anthropic's input_tokens
  // excludes cache reads and writes; its adapter adds them back so this field means one thing.
  int64_t input_tokens = 0;
  // The part of input_tokens served from the provider's prompt cache (cheaper).
  int64_t cached_input_tokens = 0;
  // The part of input_tokens written to the prompt cache (Anthropic's cache_creation_input_tokens).
  int64_t cache_write_input_tokens = 0;
  // All generated tokens, reasoning tokens included (OpenAI's completion_tokens).
  int64_t output_tokens = 0;
  // The part of output_tokens spent on hidden reasoning; informational, priced as output.
  int64_t reasoning_tokens = 0;
  // False when the upstream sent no usage block (the gateway then estimates it: `estimated`).
  bool reported = false;
  // True when the upstream's usage never arrived (the client left, the gateway shut down, the
  // stream broke) and the gateway estimated the tokens from what it sent and relayed
  // (app::EstimateUsage; docs/cost.md). The provider bills such tokens all the same.
  bool estimated = false;
};

}  // namespace sy::core
