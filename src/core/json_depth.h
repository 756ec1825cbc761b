// How deeply the JSON the gateway parses may nest.
//
// A client body is accepted up to server.max_json_depth levels (api::ParseJson). JSON the gateway
// parses later for that request may carry the body's nesting inside an envelope of its own: an
// upstream answer or stream event that echoes the request's tools and schemas (a Responses
// object), tool-call arguments a model shaped to the client's schema, a stored response read
// back for the next turn. All of these are parsed with EchoParseOptions: the client's limit plus
// kEchoEnvelopeDepth. Boost.JSON's default (32) refused, after the upstream had billed it, the
// answer to a body the gateway had accepted.
//
// The allowance follows the configured limit, not the largest one config accepts: depth bounds
// the parser's recursion (and that of copying and destroying the DOM), so a deployment that keeps
// the default limit keeps that recursion shallow for upstream data too.
//
// Thread-safety: constants and pure functions.
#pragma once

#include <cstddef>
#include <cstdint>

#include <boost/json/parse_options.hpp>

namespace sy::core {

// server.max_json_depth when config does not set it.
inline constexpr int64_t kDefaultMaxJsonDepth = 64;

// The levels an echo may add around the client's own nesting: the event and Response objects
// around an echoed `tools[].parameters` or `text.format.schema` add two or three.
inline constexpr int64_t kEchoEnvelopeDepth = 16;

// The nesting allowed in JSON that may echo a body accepted under `max_json_depth`.
constexpr int64_t EchoJsonDepth(int64_t max_json_depth) {
  return max_json_depth + kEchoEnvelopeDepth;
}

// Boost.JSON's strict defaults with max_depth = EchoJsonDepth(max_json_depth).
// REQUIRES: max_json_depth >= 0 (config validates it as 1..10000).
inline boost::json::parse_options EchoParseOptions(int64_t max_json_depth) {
  boost::json::parse_options options;
  options.max_depth = static_cast<std::size_t>(EchoJsonDepth(max_json_depth));
  return options;
}

}  // namespace sy::core
