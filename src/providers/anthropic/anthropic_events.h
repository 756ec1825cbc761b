// Decoding of Anthropic Messages stream events and of Anthropic's usage block, free of I/O:
// the Anthropic adapter's stream drives an AnthropicEventDecoder with the SSE events it reads.
//
// A stream is: message_start (message.usage: input and cache counts, output so far), content
// blocks (content_block_start / _delta / _stop), ping at any time, one or more message_delta
// (stop_reason and the cumulative usage: output_tokens always, input and cache counters when
// the upstream restates them), message_stop; or an `error` event instead of the rest.
//
// Thread-safety: ParseAnthropicUsage is pure; a decoder belongs to one stream.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include "core/result.h"
#include "core/secrets.h"
#include "core/stream_event.h"
#include "core/usage.h"
#include "http/sse.h"

namespace sy::providers {

// Anthropic's usage block, normalised to core::Usage: input_tokens = input_tokens +
// cache_read_input_tokens + cache_creation_input_tokens; cached_input_tokens = cache_read;
// cache_write_input_tokens = cache_creation; output_tokens = output_tokens. A cache counter
// that is absent or null counts 0. A block whose input or output count is missing, or any of
// whose counters is not a count (detail::Billable), is no reported usage (`reported` false:
// the gateway estimates it). nullopt when `usage` is not an object.
std::optional<core::Usage> ParseAnthropicUsage(const boost::json::value& usage);

// The status a Messages error body ({"type": "error", "error": {"type": ...}}) answered with
// 200 stands for: AnthropicFailureStatus of its error's type.
int AnthropicFailureStatusOf(const boost::json::value& body);

// Decodes the events of one Anthropic stream (stateful: one per stream).
//  - message_start: remembers message.usage (no usage on the event itself).
//  - message_delta: usage = the counts known so far (message_start's, then those of earlier
//    message_deltas) overridden by every counter present in this delta's cumulative usage,
//    normalised as ParseAnthropicUsage does -> StreamEvent::usage.
//  - message_stop: terminal.
//  - ping, content_block_* and unknown event types: passed through (Anthropic adds event
//    types; clients must ignore the ones they do not know).
//  - error: fails with UpstreamError for the status its error.type implies (overloaded_error
//    -> 529, rate_limit_error -> 429, api_error and anything else -> 500), error.message, and
//    the path that message leads with as the param (as in an error body: detail::ErrorParamOf).
//  - data that is not a JSON object, or whose "type" is missing or differs from the SSE event
//    name (an event without a name included) -> MalformedUpstream.
// Every decoded event keeps the SSE event name and data as sent, and the parsed data as Json()
// (a content_block_delta's built on first use; it carries `generated` instead).
class AnthropicEventDecoder {
 public:
  // `provider` names the provider in error messages; `secrets` (never null) are scrubbed from
  // an error event's text (UpstreamError). An event may nest core::EchoJsonDepth(max_json_depth)
  // levels (pass the request's core::Request::max_json_depth).
  AnthropicEventDecoder(std::string provider, std::shared_ptr<const core::SecretScrubber> secrets,
                        int64_t max_json_depth);

  core::Result<core::StreamEvent> Decode(http::SseEvent sse);

 private:
  core::Result<core::StreamEvent> DecodeDelta(core::StreamEvent event) const;

  std::string provider_;
  std::shared_ptr<const core::SecretScrubber> secrets_;
  boost::json::parse_options options_;
  // The counters known so far, in Anthropic's own (not normalised) usage shape.
  boost::json::object usage_;
};

}  // namespace sy::providers
