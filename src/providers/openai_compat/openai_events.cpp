#include "providers/openai_compat/openai_events.h"

#include <boost/json/parse.hpp>

#include "core/json_depth.h"
#include "providers/detail/upstream_call.h"
#include "providers/openai_compat/openai_provider.h"
#include "providers/upstream_error.h"

namespace sy::providers {

core::Result<core::StreamEvent> DecodeOpenAiEvent(http::SseEvent sse, std::string_view provider,
                                                  const core::SecretScrubber& secrets,
                                                  int64_t max_json_depth) {
  core::StreamEvent event;
  event.event = std::move(sse.event);
  event.data = std::move(sse.data);
  if (event.data == "[DONE]") {
    event.terminal = true;
    return event;
  }
  boost::system::error_code ec;
  event.json = boost::json::parse(event.data, ec, {}, core::EchoParseOptions(max_json_depth));
  if (ec || !event.json.is_object()) return MalformedUpstream(provider, "a malformed stream chunk");
  const auto& obj = event.json.get_object();
  if (const auto* err = obj.if_contains("error"); err && !err->is_null()) {
    // Judged by what it says, as the same error in a response head would be (a refused prompt
    // is not failed over); there are no headers to read a retry-after from.
    const http::Headers no_headers;
    return UpstreamError(detail::OpenAiFailureStatusOf(*err), no_headers, provider,
                         detail::ErrorMessageOf(event.json), event.data, secrets,
                         detail::ErrorParamOf(event.json));
  }
  if (const auto* usage = obj.if_contains("usage")) event.usage = ParseOpenAiUsage(*usage);
  return event;
}

}  // namespace sy::providers
