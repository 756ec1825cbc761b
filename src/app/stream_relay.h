// app::StreamRelay: relays an upstream's event stream to the client as it arrives, event by
// event, never buffering the answer.
//
// On the way it (1) re-frames each upstream event into the client's dialect when the model
// speaks another one (api::translate::StreamTranslator; one upstream event may become none or
// several client events); (2) prices and records the usage block the gateway always asks for;
// (3) shows the cost to the client: OpenAI clients get `usage.cost_usd` in the usage chunk when
// they asked for usage (stream_options.include_usage) and no usage chunk otherwise, Anthropic
// clients get `usage.cost_usd` in message_delta; (4) sends the cost as an HTTP trailer;
// (5) turns a failure after the first byte into an error event in the client's dialect and
// ends the stream: the model is never switched mid-answer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/translate/translate.h"
#include "app/context.h"
#include "http/task.h"
#include "providers/provider.h"

namespace sy::app {

class StreamRelay {
 public:
  // `upstream` is the dialect the model's provider speaks.
  StreamRelay(RequestContext& ctx, providers::EventStream& stream, core::Dialect upstream);

  // REQUIRES: the response head was sent. Returns after the last event, an upstream failure,
  // or the client going away; the outcome is left in ctx.record.
  http::Task<void> Run(providers::StreamEvent first);

  // The client-side bytes for one upstream event ("" when it maps to nothing), or the error
  // that ends the stream (an event that cannot be re-framed). Public for unit tests.
  core::Result<std::string> Frame(providers::StreamEvent& upstream);

 private:
  std::string FrameClientEvent(core::StreamEvent& event);
  std::string FrameOpenAiUsage(core::StreamEvent& event);
  void Account(const core::Usage& usage);
  void NoteFirstToken(const core::StreamEvent& event);

  RequestContext& ctx_;
  providers::EventStream& stream_;
  std::unique_ptr<api::translate::StreamTranslator> translator_;  // null: same dialect
  std::vector<core::StreamEvent> translated_;
};

}  // namespace sy::app
