#include "providers/openai_compat/responses_events.h"

#include <string>

#include <boost/json/parse.hpp>

#include "core/json_depth.h"
#include "providers/detail/answer_scan.h"
#include "providers/detail/upstream_call.h"
#include "providers/stream_generated.h"
#include "providers/upstream_error.h"

namespace sy::providers {
namespace {

namespace json = boost::json;

std::string_view StringField(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

// A stream's failure arrives after its 200: there are no headers to read a retry-after from,
// and its error object's code says which status it stands for (OpenAiFailureStatus). `param` is
// the parameter it names, if any.
core::Error StreamFailure(int status, std::string_view provider, std::string_view message,
                          std::string_view raw, const core::SecretScrubber& secrets,
                          std::string_view param) {
  const http::Headers no_headers;
  return UpstreamError(status, no_headers, provider, message, raw, secrets, param);
}

// Most of a stream's events are deltas, and the relay forwards them as their text: checked and
// read in one scan, their DOM built only if asked (core::StreamEvent). A server that leaves
// its events unnamed has them parsed as the other events are.
core::Result<core::StreamEvent> DecodeDelta(core::StreamEvent event, std::string_view type,
                                            ResponsesDelta delta, std::string_view provider,
                                            int64_t max_json_depth) {
  const json::parse_options options = core::EchoParseOptions(max_json_depth);
  const auto scanned = detail::ScanResponsesDelta(event.data, type, options);
  if (!scanned) return MalformedUpstream(provider, "a malformed stream event");
  if (!scanned->type_matches) {
    return MalformedUpstream(provider,
                             "a stream event whose type is missing or differs from its name");
  }
  event.event = std::string(type);
  event.DeferJson(options);
  event.generated =
      core::Generated{.bytes = scanned->bytes, .content = delta == ResponsesDelta::kContent};
  return event;
}

}  // namespace

std::optional<core::Usage> ParseResponsesUsage(const json::value& usage) {
  const auto* obj = usage.if_object();
  if (!obj) return std::nullopt;
  core::Usage u;
  u.reported = detail::Billable(*obj, {"input_tokens", "output_tokens"});
  if (!u.reported) return u;
  u.input_tokens = *detail::TokenField(*obj, "input_tokens");
  u.output_tokens = *detail::TokenField(*obj, "output_tokens");
  u.cached_input_tokens = detail::NestedTokens(*obj, "input_tokens_details", "cached_tokens");
  u.reasoning_tokens = detail::NestedTokens(*obj, "output_tokens_details", "reasoning_tokens");
  return u;
}

std::optional<std::string_view> ResponsesFailureOf(const json::value& body) {
  const auto* obj = body.if_object();
  if (!obj) return std::nullopt;
  const auto* error = obj->if_contains("error");
  const auto* error_obj = error ? error->if_object() : nullptr;
  const bool failed = StringField(*obj, "status") == "failed";
  if (!failed && !error_obj) return std::nullopt;
  return error_obj ? StringField(*error_obj, "message") : std::string_view();
}

int ResponsesFailureStatus(const json::value& body) {
  const auto* obj = body.if_object();
  const auto* error = obj ? obj->if_contains("error") : nullptr;
  return error ? detail::OpenAiFailureStatusOf(*error) : OpenAiFailureStatus({}, {});
}

core::Result<core::StreamEvent> DecodeResponsesEvent(http::SseEvent sse, std::string_view provider,
                                                     const core::SecretScrubber& secrets,
                                                     int64_t max_json_depth) {
  core::StreamEvent event;
  event.data = std::move(sse.data);
  const auto delta = ResponsesDeltaKind(sse.event);
  if (delta != ResponsesDelta::kNone)
    return DecodeDelta(std::move(event), sse.event, delta, provider, max_json_depth);
  boost::system::error_code ec;
  event.SetJson(json::parse(event.data, ec, {}, core::EchoParseOptions(max_json_depth)));
  if (ec || !event.Json().is_object()) {
    return MalformedUpstream(provider, "a malformed stream event");
  }
  const auto& obj = event.Json().get_object();
  const std::string_view type = StringField(obj, "type");
  if (type.empty() || (!sse.event.empty() && sse.event != type)) {
    return MalformedUpstream(provider,
                             "a stream event whose type is missing or differs from its name");
  }
  event.event = std::string(type);
  if (type == "error") {
    // The event is the error object itself: its "type" is the event's, so its "code" is all
    // there is, and servers put an error type there too ("invalid_request_error").
    const std::string_view code = StringField(obj, "code");
    return StreamFailure(OpenAiFailureStatus(code, code), provider, StringField(obj, "message"),
                         event.data, secrets, StringField(obj, "param"));
  }
  if (type != "response.completed" && type != "response.incomplete" && type != "response.failed") {
    return event;
  }
  const auto* response = obj.if_contains("response");
  if (!response || !response->is_object()) {
    return MalformedUpstream(provider, "a terminal stream event without its response");
  }
  if (type == "response.failed") {
    return StreamFailure(ResponsesFailureStatus(*response), provider,
                         ResponsesFailureOf(*response).value_or(""), event.data, secrets,
                         detail::ErrorParamOf(*response));
  }
  event.terminal = true;
  if (const auto* usage = response->get_object().if_contains("usage")) {
    event.usage = ParseResponsesUsage(*usage);
  }
  return event;
}

}  // namespace sy::providers
