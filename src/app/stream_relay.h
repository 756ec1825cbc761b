// app::StreamRelay: relays an upstream's event stream to the client as it arrives, event by
// event, never buffering the answer.
//
// On the way it (1) takes the usage block the gateway always asks for, prices it and records it;
// (2) hands that usage chunk to the client with `usage.cost_usd` added when the client asked for
// usage (stream_options.include_usage), and strips it otherwise; (3) sends the cost as an HTTP
// trailer; (4) turns a failure after the first byte into an error event in the client's dialect
// and ends the stream: the model is never switched mid-answer.
#pragma once

#include <optional>
#include <string>

#include "app/context.h"
#include "http/task.h"
#include "providers/provider.h"

namespace sy::app {

class StreamRelay {
 public:
  StreamRelay(RequestContext& ctx, providers::EventStream& stream) : ctx_(ctx), stream_(stream) {}

  // REQUIRES: the response head was sent. Returns after the last event, an upstream failure,
  // or the client going away; the outcome is left in ctx.record.
  http::Task<void> Run(providers::StreamEvent first);

  // The client-side bytes for one upstream event; "" to drop it. Public for unit tests.
  std::string Frame(providers::StreamEvent& event);

 private:
  void Account(const core::Usage& usage);

  RequestContext& ctx_;
  providers::EventStream& stream_;
};

// True when an OpenAI chunk carries generated content (text or a tool call), which marks the
// time to first token.
bool CarriesContent(const providers::StreamEvent& event);

}  // namespace sy::app
