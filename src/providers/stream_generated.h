// What a stream event generated, read from its DOM: the reading that detail::ScanOpenAiChunk,
// ScanAnthropicDelta and ScanResponsesDelta do without one (for an event a provider decoded), and
// that the relay does for an event a translator built. The two must agree; answer_scan_test and the
// chunk_scan fuzz target hold them to it.
// Thread-safety: pure.
#pragma once

#include <cstddef>
#include <string_view>

#include <boost/json/value.hpp>

#include "core/stream_event.h"

namespace sy::providers {

// Over `choices[]` (an array of objects), each choice's `delta` object adds its `content`
// string's bytes (content when not empty) and, when its `tool_calls` is not null, content and
// the bytes of each `tool_calls[].function.arguments` string. A member of another type adds
// nothing. {0, false} for anything but an object.
core::Generated ChunkGenerated(const boost::json::value& chunk);

// The bytes of an Anthropic content_block_delta event's `delta` object's `text`, `partial_json`
// and `thinking` strings (a member of another type adds nothing); 0 for anything else.
size_t AnthropicDeltaBytes(const boost::json::value& event);

// Responses' typed events whose `delta` string is generated: text, tool-call arguments and
// refusals are content (the first marks the time to first token), reasoning is not.
enum class ResponsesDelta { kNone, kContent, kReasoning };
ResponsesDelta ResponsesDeltaKind(std::string_view type);

// The bytes of a Responses delta event's `delta` string; 0 for anything else.
size_t ResponsesDeltaBytes(const boost::json::value& event);

}  // namespace sy::providers
