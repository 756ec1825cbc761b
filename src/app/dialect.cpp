#include "app/dialect.h"

#include "api/anthropic/decode.h"
#include "api/anthropic/errors.h"
#include "api/openai/decode.h"
#include "api/openai/errors.h"
#include "api/responses/decode.h"
#include "http/sse.h"
#include "providers/stream_generated.h"

namespace sy::app {
namespace {

size_t AnthropicGeneratedBytes(const core::StreamEvent& event) {
  if (event.event != "content_block_delta") return 0;
  return providers::AnthropicDeltaBytes(event.Json());
}

// Responses' typed events: text, reasoning and tool-call arguments arrive as `delta` strings.
bool ResponsesCarriesContent(const core::StreamEvent& event) {
  return providers::ResponsesDeltaKind(event.event) == providers::ResponsesDelta::kContent;
}

size_t ResponsesGeneratedBytes(const core::StreamEvent& event) {
  if (providers::ResponsesDeltaKind(event.event) == providers::ResponsesDelta::kNone) return 0;
  return providers::ResponsesDeltaBytes(event.Json());
}

}  // namespace

size_t GeneratedBytes(core::Dialect dialect, const core::StreamEvent& event) {
  if (event.generated) return event.generated->bytes;  // its decoder read it, with no DOM
  switch (dialect) {
    case core::Dialect::kAnthropicMessages:
      return AnthropicGeneratedBytes(event);
    case core::Dialect::kOpenAiResponses:
      return ResponsesGeneratedBytes(event);
    case core::Dialect::kOpenAiChat:
      break;
  }
  return providers::ChunkGenerated(event.Json()).bytes;
}

core::Dialect ClientDialect(const http::ServerRequest& request) {
  const std::string_view path = request.Path();
  if (path == "/v1/messages" || path.starts_with("/v1/messages/")) {
    return core::Dialect::kAnthropicMessages;
  }
  if (path == "/v1/chat/completions") return core::Dialect::kOpenAiChat;
  if (path == "/v1/responses" || path.starts_with("/v1/responses/")) {
    return core::Dialect::kOpenAiResponses;
  }
  return request.headers.Get("anthropic-version").empty() ? core::Dialect::kOpenAiChat
                                                          : core::Dialect::kAnthropicMessages;
}

core::Status DecodeClientRequest(std::string_view body, int64_t max_json_depth,
                                 core::Request& out) {
  switch (out.dialect) {
    case core::Dialect::kAnthropicMessages:
      return api::anthropic::DecodeMessagesRequest(body, max_json_depth, out);
    case core::Dialect::kOpenAiResponses:
      return api::responses::DecodeResponsesRequest(body, max_json_depth, out);
    case core::Dialect::kOpenAiChat:
      break;
  }
  return api::openai::DecodeChatRequest(body, max_json_depth, out);
}

api::ErrorResponse EncodeError(core::Dialect dialect, const core::Error& error) {
  switch (dialect) {
    case core::Dialect::kAnthropicMessages:
      return api::anthropic::EncodeError(error);
    case core::Dialect::kOpenAiResponses:  // the same error table and body as Chat Completions
    case core::Dialect::kOpenAiChat:
      break;
  }
  return api::openai::EncodeError(error);
}

std::string StreamErrorFrame(core::Dialect dialect, const core::Error& error,
                             int64_t sequence_number) {
  switch (dialect) {
    case core::Dialect::kAnthropicMessages:
      return http::FormatSse("error", api::anthropic::EncodeStreamError(error));
    case core::Dialect::kOpenAiResponses:
      return http::FormatSse("error",
                             api::openai::EncodeResponsesStreamError(error, sequence_number));
    case core::Dialect::kOpenAiChat:
      break;
  }
  return http::FormatSse("", api::openai::EncodeStreamError(error));
}

bool CarriesContent(core::Dialect dialect, const core::StreamEvent& event) {
  if (event.generated) return event.generated->content;
  switch (dialect) {
    case core::Dialect::kAnthropicMessages:
      return event.event == "content_block_delta";
    case core::Dialect::kOpenAiResponses:
      return ResponsesCarriesContent(event);
    case core::Dialect::kOpenAiChat:
      break;
  }
  return providers::ChunkGenerated(event.Json()).content;
}

namespace {

bool EndsResponse(std::string_view event) {
  return event == "response.completed" || event == "response.incomplete";
}

boost::json::object* ObjectIn(boost::json::value& value, std::string_view key) {
  auto* obj = value.if_object();
  auto* v = obj ? obj->if_contains(key) : nullptr;
  return v ? v->if_object() : nullptr;
}

}  // namespace

boost::json::object* UsageObject(core::Dialect dialect, boost::json::value& event) {
  switch (dialect) {
    case core::Dialect::kAnthropicMessages:
      return ObjectIn(event, "usage");
    case core::Dialect::kOpenAiResponses: {
      auto* response = ObjectIn(event, "response");
      auto* usage = response ? response->if_contains("usage") : nullptr;
      return usage ? usage->if_object() : nullptr;
    }
    case core::Dialect::kOpenAiChat:
      break;
  }
  return nullptr;
}

const boost::json::object* FinalResponse(core::Dialect dialect, const core::StreamEvent& event) {
  if (dialect != core::Dialect::kOpenAiResponses || !EndsResponse(event.event)) return nullptr;
  const auto* obj = event.Json().if_object();
  const auto* response = obj ? obj->if_contains("response") : nullptr;
  return response ? response->if_object() : nullptr;
}

}  // namespace sy::app
