// api::translate::MakeStreamTranslator, every direction, fed a sequence of upstream events. The
// input is an SSE stream (so the translate goldens' upstream.sse files are seeds), split into
// events by http::SseParser and decoded roughly as the provider adapters do: "[DONE]",
// message_stop and Responses' response.completed / incomplete / failed are terminal, the data is
// parsed as JSON (events whose data is not JSON are dropped, as a provider refuses them before any
// translator sees them), and an event with a usage block (or named message_delta) carries a billed
// usage read from it (fuzz_usage.h). Every event is fed to all six translators.
//
// Properties: no throw, crash or leak; refusals are kUpstreamUnavailable; every client event's
// data is its JSON serialized (Anthropic and Responses: its name is its type); at most one terminal
// event, and nothing after it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <boost/json/parse.hpp>

#include "api/translate/translate.h"
#include "fuzz_check.h"
#include "fuzz_context.h"
#include "fuzz_usage.h"
#include "http/sse.h"

namespace {

namespace json = boost::json;
using sy::core::Dialect;
using sy::core::StreamEvent;
using sy::fuzz::Check;

constexpr size_t kMaxEvents = 512;  // bounds the work per input

struct Side {
  Dialect client;
  std::unique_ptr<sy::api::translate::StreamTranslator> translator;
  bool failed = false;
  bool ended = false;  // the client saw its terminal event
};

bool Decode(sy::http::SseEvent sse, StreamEvent& out) {
  out.event = std::move(sse.event);
  out.data = std::move(sse.data);
  if (out.data == "[DONE]") {
    out.terminal = true;
    return true;
  }
  boost::system::error_code ec;
  out.SetJson(json::parse(out.data, ec));
  if (ec) return false;
  const auto* obj = out.Json().if_object();
  if (out.event == "message_delta" || (obj && obj->contains("usage")))
    out.usage = sy::fuzz::UsageOf(out.Json());
  out.terminal = out.event == "message_stop" || out.event == "response.completed" ||
                 out.event == "response.incomplete" || out.event == "response.failed";
  return true;
}

void CheckClientEvent(const StreamEvent& e, Dialect client) {
  if (e.data == "[DONE]") {
    Check(e.Json().is_null(), "[DONE] has no JSON");
    return;
  }
  boost::system::error_code ec;
  const auto reparsed = json::parse(e.data, ec);
  Check(!ec && reparsed == e.Json(), "data is the event's JSON serialized");
  if (client != Dialect::kOpenAiChat) {
    const auto* obj = e.Json().if_object();
    const auto* type = obj ? obj->if_contains("type") : nullptr;
    Check(type && type->is_string() && type->get_string() == e.event,
          "an Anthropic or Responses event is named for its type");
  } else {
    Check(e.event.empty(), "OpenAI chunks have no event name");
  }
}

void Feed(Side& side, const StreamEvent& upstream) {
  if (side.failed) return;  // a refused stream is ended by the relay
  std::vector<StreamEvent> out;
  const auto status = side.translator->Feed(upstream, out);
  if (!status) {
    Check(status.error().code == sy::core::Errc::kUpstreamUnavailable,
          "refusal is kUpstreamUnavailable");
    side.failed = true;
    return;
  }
  Check(!side.ended || out.empty(), "nothing after the client's terminal event");
  for (size_t i = 0; i < out.size(); ++i) {
    CheckClientEvent(out[i], side.client);
    Check(!out[i].terminal || i + 1 == out.size(), "the terminal event is the last one");
    side.ended = side.ended || out[i].terminal;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto ctx = sy::fuzz::TranslationContext();
  std::vector<Side> sides;
  for (auto from : sy::fuzz::kDialects) {
    for (auto to : sy::fuzz::kDialects) {
      if (from != to) sides.push_back({to, MakeStreamTranslator(from, to, ctx)});
    }
  }
  sy::http::SseParser parser;
  parser.Feed(sy::fuzz::AsText(data, size));
  parser.Feed("\n\n");  // ends a last event the input left open
  size_t events = 0;
  while (auto sse = parser.Next()) {
    if (++events > kMaxEvents) break;
    StreamEvent upstream;
    if (!Decode(std::move(*sse), upstream)) continue;
    for (auto& side : sides) Feed(side, upstream);
  }
  return 0;
}
