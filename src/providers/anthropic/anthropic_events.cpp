#include "providers/anthropic/anthropic_events.h"

#include <array>
#include <string_view>
#include <utility>

#include <boost/json/parse.hpp>

#include "core/json_depth.h"
#include "core/saturating.h"
#include "providers/detail/answer_scan.h"
#include "providers/detail/upstream_call.h"
#include "providers/upstream_error.h"

namespace sy::providers {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 4> kCounters = {
    "input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens"};

// Copies into `known` every counter that `usage` states (cumulative values replace earlier ones;
// null, as message_delta sends the counters it does not restate, replaces nothing). Values are
// copied as sent, so that Normalise sees one it cannot read.
void Overlay(const json::value& usage, json::object& known) {
  const auto* obj = usage.if_object();
  if (!obj) return;
  for (std::string_view name : kCounters) {
    const auto* v = obj->if_contains(name);
    if (v && !v->is_null()) known[name] = *v;
  }
}

std::string_view ErrorType(const json::object& event) {
  const auto* error = event.if_contains("error");
  const auto* error_obj = error ? error->if_object() : nullptr;
  const auto* type = error_obj ? error_obj->if_contains("type") : nullptr;
  return type && type->is_string() ? std::string_view(type->get_string()) : std::string_view();
}

// Anthropic's input_tokens excludes cache reads and writes; core::Usage counts them in.
core::Usage Normalise(const json::object& usage) {
  auto count = [&](std::string_view name) { return detail::TokenField(usage, name).value_or(0); };
  core::Usage u;
  u.reported = detail::Billable(usage, {"input_tokens", "output_tokens"},
                                {"cache_read_input_tokens", "cache_creation_input_tokens"});
  if (!u.reported) return u;
  u.cached_input_tokens = count("cache_read_input_tokens");
  u.cache_write_input_tokens = count("cache_creation_input_tokens");
  // Saturating: the upstream may report any non-negative int64 in each counter.
  u.input_tokens =
      core::SaturatingAdd(count("input_tokens"),
                          core::SaturatingAdd(u.cached_input_tokens, u.cache_write_input_tokens));
  u.output_tokens = count("output_tokens");
  return u;
}

}  // namespace

int AnthropicFailureStatusOf(const json::value& body) {
  const auto* obj = body.if_object();
  return AnthropicFailureStatus(obj ? ErrorType(*obj) : std::string_view());
}

std::optional<core::Usage> ParseAnthropicUsage(const json::value& usage) {
  const auto* obj = usage.if_object();
  if (!obj) return std::nullopt;
  return Normalise(*obj);
}

AnthropicEventDecoder::AnthropicEventDecoder(std::string provider,
                                             std::shared_ptr<const core::SecretScrubber> secrets,
                                             int64_t max_json_depth)
    : provider_(std::move(provider)),
      secrets_(std::move(secrets)),
      options_(core::EchoParseOptions(max_json_depth)) {}

core::Result<core::StreamEvent> AnthropicEventDecoder::Decode(http::SseEvent sse) {
  core::StreamEvent event;
  event.event = std::move(sse.event);
  event.data = std::move(sse.data);
  if (event.event == "content_block_delta") return DecodeDelta(std::move(event));
  boost::system::error_code ec;
  event.SetJson(json::parse(event.data, ec, {}, options_));
  if (ec || !event.Json().is_object()) {
    return MalformedUpstream(provider_, "a malformed stream event");
  }
  const auto& obj = event.Json().get_object();
  const auto* type = obj.if_contains("type");
  if (!type || !type->is_string() || type->get_string() != event.event) {
    return MalformedUpstream(provider_, "a stream event whose type differs from its name");
  }
  if (event.event == "message_start") {
    usage_.clear();
    const auto* message = obj.if_contains("message");
    const auto* message_obj = message ? message->if_object() : nullptr;
    if (const auto* usage = message_obj ? message_obj->if_contains("usage") : nullptr) {
      Overlay(*usage, usage_);
    }
  } else if (event.event == "message_delta") {
    if (const auto* usage = obj.if_contains("usage")) Overlay(*usage, usage_);
    event.usage = Normalise(usage_);
  } else if (event.event == "message_stop") {
    event.terminal = true;
  } else if (event.event == "error") {
    const http::Headers no_headers;  // the stream's headers came with its 200
    return UpstreamError(AnthropicFailureStatus(ErrorType(obj)), no_headers, provider_,
                         detail::ErrorMessageOf(event.Json()), event.data, *secrets_,
                         detail::ErrorParamOf(event.Json()));
  }
  return event;
}

// Most of a stream's events are deltas, and the relay forwards them as their text: checked and
// read in one scan, their DOM built only if asked (core::StreamEvent).
core::Result<core::StreamEvent> AnthropicEventDecoder::DecodeDelta(core::StreamEvent event) const {
  const auto scanned = detail::ScanAnthropicDelta(event.data, options_);
  if (!scanned) return MalformedUpstream(provider_, "a malformed stream event");
  if (!scanned->type_matches) {
    return MalformedUpstream(provider_, "a stream event whose type differs from its name");
  }
  event.DeferJson(options_);
  event.generated = core::Generated{.bytes = scanned->bytes, .content = true};
  return event;
}

}  // namespace sy::providers
