// ScanAnswer: reads what the gateway needs from a complete upstream answer that is passed to the
// client unchanged (its top-level "usage" member) without building the answer's DOM. One
// streaming pass of Boost.JSON's own parser checks the body exactly as json::parse does and
// rebuilds only the "usage" subtree; everything else is read and dropped. ScanOpenAiChunk does
// the same for a Chat Completions stream chunk and also reads what its choices generated;
// ScanAnthropicDelta and ScanResponsesDelta check a delta event and read what it generated.
//
// Internal to providers/. Pure; nothing here throws on any input (only an allocation failure
// escapes, as from json::parse). Thread-safe: touches only its arguments.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include <boost/json/parse_options.hpp>
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>

#include "core/stream_event.h"

namespace sy::providers::detail {

// What ScanAnswer read from a body that is one JSON object.
struct ScannedAnswer {
  // The top-level "usage" member's value, equal to json::parse(body).at("usage"): numbers,
  // nesting and strings as json::parse gives them and, when the key repeats, the last one (what
  // json::parse keeps in Boost 1.81). nullopt when the object has no such member; a member
  // that is JSON null is a null value here. A "usage" below the top level is not this member.
  std::optional<boost::json::value> usage{};
  // The object has a top-level "error" member that is not null (the last one, when it repeats).
  bool error = false;
  // The object's top-level "choices" (Chat Completions) or "content" (Messages) member is an
  // array (the last one, when it repeats): what makes it an answer of that dialect.
  bool choices = false;
  bool content = false;
};

// Checks that `body` is one JSON object under `options` (the same verdict as json::parse(body,
// ec, {}, options) with no error and is_object(): malformed text, trailing non-whitespace, an
// array or scalar at the top level, an empty body and nesting beyond options.max_depth all
// fail), and reads its top-level "usage" member.
// Returns nullopt when `body` is not one JSON object. The usage value is allocated from `sp`,
// which must outlive it (a small stack arena suits a caller that reads it and drops it).
// The caller passes the options it parses complete answers with (core::EchoParseOptions), so
// that an answer is accepted or refused alike with or without its DOM.
std::optional<ScannedAnswer> ScanAnswer(std::string_view body,
                                        const boost::json::parse_options& options,
                                        boost::json::storage_ptr sp = {});

// What ScanOpenAiChunk read from a chunk that is one JSON object.
struct ScannedChunk {
  ScannedAnswer answer;
  // What the chunk's choices generated, equal to providers::ChunkGenerated of the chunk's DOM
  // (stream_generated.h): over `choices[]` (an array of objects), each choice's `delta` object
  // adds its `content` string's bytes (content when not empty) and, when its `tool_calls` is not
  // null, content and the bytes of each `tool_calls[].function.arguments` string. A member of
  // another type adds nothing; a repeated key counts once, its last value, as json::parse keeps.
  core::Generated generated;
};

// ScanAnswer for one Chat Completions stream chunk (same verdict, same usage and error), which
// also reads what the chunk generated.
std::optional<ScannedChunk> ScanOpenAiChunk(std::string_view data,
                                            const boost::json::parse_options& options,
                                            boost::json::storage_ptr sp = {});

// What ScanAnthropicDelta or ScanResponsesDelta read from an event that is one JSON object.
struct ScannedDelta {
  bool type_matches = false;  // its top-level "type" (the last one) is the expected name
  // The bytes it generated, equal to the DOM reading of providers/stream_generated.h:
  // AnthropicDeltaBytes (its `delta` object's "text", "partial_json" and "thinking" strings),
  // ResponsesDeltaBytes (its `delta` string).
  size_t bytes = 0;
};

// Check that `data` is one JSON object under `options`, with ScanAnswer's verdict, and read what
// a delta event needs: whether its type is "content_block_delta" (Anthropic) or `type`
// (Responses: the SSE event's name), and the bytes it generated.
std::optional<ScannedDelta> ScanAnthropicDelta(std::string_view data,
                                               const boost::json::parse_options& options);
std::optional<ScannedDelta> ScanResponsesDelta(std::string_view data, std::string_view type,
                                               const boost::json::parse_options& options);

}  // namespace sy::providers::detail
