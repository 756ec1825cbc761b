#include "providers/openai_compat/openai_events.h"

#include <boost/json/monotonic_resource.hpp>

#include "core/json_depth.h"
#include "providers/detail/answer_scan.h"
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
  // The chunk is checked and read in one scan; most chunks reach the client as they came and
  // never need their DOM (core::StreamEvent).
  const boost::json::parse_options options = core::EchoParseOptions(max_json_depth);
  unsigned char buffer[1024];  // a usage block's DOM fits: it is read and dropped here
  boost::json::monotonic_resource arena(buffer, sizeof(buffer));
  auto scanned = detail::ScanOpenAiChunk(event.data, options, &arena);
  if (!scanned) return MalformedUpstream(provider, "a malformed stream chunk");
  event.DeferJson(options);
  if (scanned->answer.error) {
    // Judged by what it says, as the same error in a response head would be (a refused prompt
    // is not failed over); there are no headers to read a retry-after from.
    const boost::json::value& chunk = event.Json();
    const http::Headers no_headers;
    return UpstreamError(detail::OpenAiFailureStatusOf(chunk.at("error")), no_headers, provider,
                         detail::ErrorMessageOf(chunk), event.data, secrets,
                         detail::ErrorParamOf(chunk));
  }
  if (scanned->answer.usage) event.usage = ParseOpenAiUsage(*scanned->answer.usage);
  event.generated = scanned->generated;
  return event;
}

}  // namespace sy::providers
