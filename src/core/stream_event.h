// core::StreamEvent: one event of a streamed answer, in one dialect's wire format.
//
// Providers decode upstream events into it (setting `usage` from the upstream's own usage
// block), translators re-frame it into the client's dialect carrying `usage` along, and the
// relay prices and forwards it. So the usage a client sees is always the usage that was billed.
#pragma once

#include <optional>
#include <string>

#include <boost/json/value.hpp>

#include "core/usage.h"

namespace sy::core {

struct StreamEvent {
  std::string event;        // SSE event name ("" for OpenAI chunks)
  std::string data;         // the event's data as sent ("[DONE]" for OpenAI's terminator)
  boost::json::value json;  // `data` parsed; null for "[DONE]"
  // Set on the event that carries the final usage block (OpenAI: the usage chunk; Anthropic:
  // message_delta, merged with message_start's input counts).
  std::optional<Usage> usage;
  bool terminal = false;  // the dialect's end-of-stream marker ([DONE], message_stop)
};

}  // namespace sy::core
