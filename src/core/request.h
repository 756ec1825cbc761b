// core::Request: one client request after its dialect's decoder validated it.
//
// The body stays in the client's own dialect (a validated JSON object) so that a request whose
// model speaks the same dialect is forwarded faithfully, field for field, with only `model` and
// the stream-usage option rewritten. Translation between dialects works from the same object.
//
// Ownership: a Request is owned by the per-request context for the life of the request.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/object.hpp>

#include "core/json_depth.h"

namespace sy::core {

enum class Dialect {
  kOpenAiChat,         // POST /v1/chat/completions
  kAnthropicMessages,  // POST /v1/messages
  kOpenAiResponses,    // POST /v1/responses
};

// "openai", "anthropic" or "responses": the name used in config, the ledger and headers.
std::string_view DialectName(Dialect dialect);
// The dialect DialectName names; nullopt for any other text.
std::optional<Dialect> ParseDialectName(std::string_view name);

struct Request {
  std::string id;
  Dialect dialect = Dialect::kOpenAiChat;
  std::string model;           // as the client asked: a model id or an alias
  bool stream = false;         // the client asked for a streamed answer
  bool include_usage = false;  // the client asked for the usage chunk in its stream
  std::string tenant;          // who pays; "" until keys land
  std::string key_id;          // which virtual key; "" until keys land
  std::string task_id;         // x-switchyard-task-id, "" when absent
  // Client headers that belong to the client's dialect (Anthropic's anthropic-beta), as
  // {lower-case name, value}: forwarded to an upstream of the same dialect, dropped when the
  // request is translated (they name features of that API only).
  std::vector<std::pair<std::string, std::string>> dialect_headers;
  // The client's body, validated by its dialect's decoder. It lives in its own arena
  // (a monotonic resource): decoders parse with body.storage(), so the whole DOM is bump-
  // allocated and freed at once with the request.
  boost::json::object body{boost::json::make_shared_resource<boost::json::monotonic_resource>()};
  // The nesting limit the body was accepted under (server.max_json_depth), set by the decoder.
  // JSON that may echo the body (upstream answers and events, translated tool arguments, stored
  // turns) is parsed with EchoParseOptions(max_json_depth) (core/json_depth.h).
  int64_t max_json_depth = kDefaultMaxJsonDepth;
  std::chrono::system_clock::time_point received_at;
};

}  // namespace sy::core
