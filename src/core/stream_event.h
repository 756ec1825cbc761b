// core::StreamEvent: one event of a streamed answer, in one dialect's wire format.
//
// Providers decode upstream events into it (setting `usage` from the upstream's own usage
// block), translators re-frame it into the client's dialect carrying `usage` along, and the
// relay prices and forwards it. So the usage a client sees is always the usage that was billed.
//
// Most events pass to the client as their decoder read them, framed from `data`. A decoder that
// checks an event's text and reads what the gateway needs from it in one scan (OpenAI chunks,
// Anthropic and Responses deltas) leaves the DOM unbuilt: Json() builds it on first use.
// Parsing an event into a DOM takes about twice as long as the scan (bench/micro/stream_bench).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include "core/usage.h"

namespace sy::core {

// What an event adds to the answer, as the relay counts it for time to first token and for an
// estimate of an answer the upstream never billed.
struct Generated {
  size_t bytes = 0;      // of text and tool-call arguments
  bool content = false;  // carries content (text, or a tool call even before its arguments)
  friend bool operator==(const Generated&, const Generated&) = default;
};

struct StreamEvent {
  std::string event;  // SSE event name ("" for OpenAI chunks)
  std::string data;   // the event's data as sent ("[DONE]" for OpenAI's terminator)
  // Set on the event that carries the final usage block (OpenAI: the usage chunk; Anthropic:
  // message_delta, merged with message_start's input counts).
  std::optional<Usage> usage;
  // What the event generated, when its decoder read it in its scan; nullopt when it did not
  // (the relay then reads the DOM).
  std::optional<Generated> generated;
  bool terminal = false;  // the dialect's end-of-stream marker ([DONE], message_stop)

  // `data` parsed: set whole by SetJson, or built on first use from text a decoder checked
  // (DeferJson); null for an event with neither (OpenAI's "[DONE]").
  // Not thread-safe, const or not: the first call may build the DOM.
  boost::json::value& Json();
  const boost::json::value& Json() const;
  void SetJson(boost::json::value json);
  // `data` is one JSON value under `options`, as its decoder checked: Json() parses it under the
  // same options when first asked, so it cannot fail there.
  void DeferJson(const boost::json::parse_options& options);

 private:
  mutable boost::json::value json_;
  mutable std::optional<boost::json::parse_options> deferred_;
};

}  // namespace sy::core
