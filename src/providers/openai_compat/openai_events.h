// Decoding of OpenAI Chat Completions stream events: a pure function from one SSE event to a
// core::StreamEvent, used by the OpenAI-compatible adapter's stream and testable without I/O.
// Thread-safety: pure.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/result.h"
#include "core/secrets.h"
#include "core/stream_event.h"
#include "http/sse.h"

namespace sy::providers {

// One SSE event of an OpenAI Chat Completions stream: "[DONE]" -> terminal event (Json() null);
// a JSON object chunk -> Json() (built on first use), `generated` (what its choices generated,
// detail::ScannedChunk), and usage = ParseOpenAiUsage(chunk.usage) when present and not null
// (whether the chunk also carries content or not); a chunk with a non-null "error" ->
// UpstreamError(500, ...) with the upstream's message and the param it names (error.param, as
// in an error body: detail::ErrorParamOf); anything else -> MalformedUpstream.
// `provider` names the provider in error messages; `secrets` are scrubbed from an error's text
// (UpstreamError). `event` and `data` are kept as sent. A chunk may nest
// core::EchoJsonDepth(max_json_depth) levels (pass the request's core::Request::max_json_depth).
core::Result<core::StreamEvent> DecodeOpenAiEvent(http::SseEvent sse, std::string_view provider,
                                                  const core::SecretScrubber& secrets,
                                                  int64_t max_json_depth);

}  // namespace sy::providers
