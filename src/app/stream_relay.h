// app::StreamRelay: relays an upstream's event stream to the client as it arrives, event by
// event, never buffering the answer.
//
// On the way it (1) re-frames each upstream event into the client's dialect when the model
// speaks another one (api::translate::StreamTranslator; one upstream event may become none or
// several client events); (2) puts the usage block the gateway always asks for on the answering
// attempt and prices it (the account stage); (3) shows the cost to the client: OpenAI clients get
// `usage.cost_usd` in the usage chunk when they asked for usage (stream_options.include_usage)
// and no usage chunk otherwise, Anthropic clients get `usage.cost_usd` in message_delta;
// (4) sends the cost as an HTTP trailer; (5) turns a failure after the first byte into an error
// event in the client's dialect (an upstream's param renamed to the client's name for it) and
// ends the stream: the model is never switched mid-answer;
// (6) when the stream ends without the upstream's usage (the client left, the gateway shut down,
// the upstream broke off) it records an estimate from the body the answering attempt sent
// upstream and what was relayed (EstimateUsage).
//
// Events that arrived together (the next one already read when one is framed: a fast model,
// or a burst the network delivered at once) go to the client in one write, as one chunk;
// the relay never waits for more events to do so.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "api/translate/translate.h"
#include "app/context.h"
#include "http/task.h"
#include "ledger/response_store.h"
#include "providers/provider.h"

namespace sy::app {

class StreamRelay {
 public:
  // `upstream` is the dialect the model's provider speaks.
  // REQUIRES: ctx.model is set and the answering attempt is ctx.attempts[ctx.answer_attempt].
  StreamRelay(RequestContext& ctx, providers::EventStream& stream, core::Dialect upstream);

  // REQUIRES: the response head was sent. Returns after the last event, an upstream failure,
  // the client going away or a shutdown cut; the outcome is left in ctx.outcome and the usage
  // (reported or estimated) on the answering attempt.
  http::Task<void> Run(providers::StreamEvent first);

  // The client went away before the stream started: records it, with the estimated usage.
  void ClientLeft();

  // The client-side bytes for one upstream event ("" when it maps to nothing), or the error
  // that ends the stream (an event that cannot be re-framed). Public for unit tests.
  core::Result<std::string> Frame(providers::StreamEvent& upstream);

 private:
  std::string FrameClientEvent(core::StreamEvent& event);
  std::string FrameEvent(core::StreamEvent& event);
  std::string FrameOpenAiUsage(core::StreamEvent& event);
  // Puts the request's cost on a usage object the client gets, and `"estimated": true` when
  // what was billed is the gateway's estimate (the upstream's usage was missing or unreadable).
  void AddCost(boost::json::object& usage, const core::Usage& billed) const;
  // The usage chunk an OpenAI client that asked for usage gets before [DONE] when the upstream
  // sent none: the estimate, billed now, marked `"estimated": true`. "" when usage was billed.
  std::string EstimatedUsageChunk();
  // A Response snapshot passed through from a Responses-native upstream gets the client's store
  // and previous_response_id back (EchoConversation); true when the event changed.
  bool EchoPassedThrough(core::StreamEvent& event) const;
  std::string CostText() const;
  void Bill(const core::Usage& usage);
  void NoteRelayed(const core::StreamEvent& event);
  void EstimateIfUnbilled();
  // Writes `frames` (if any) and empties it; false, with the client's leaving recorded, when
  // the client is gone.
  http::Task<bool> Flush(std::string& frames);
  // The x-switchyard-cost-usd trailer: what the request cost so far.
  http::Headers CostTrailer() const;
  core::Error FailureOf(core::Error error) const;

  // Frames that arrived together are written at once up to this size; a burst larger than it
  // is written in pieces of about it.
  static constexpr size_t kMaxFramesBytes = 64 * 1024;

  RequestContext& ctx_;
  providers::EventStream& stream_;
  core::Dialect upstream_;  // the dialect the model's provider speaks
  std::unique_ptr<api::translate::StreamTranslator> translator_;  // null: same dialect
  std::vector<core::StreamEvent> translated_;
  size_t relayed_deltas_ = 0;  // client events that carried generated content
  size_t relayed_bytes_ = 0;   // the generated text and tool arguments in them
  size_t events_sent_ = 0;     // client events framed (Responses' next sequence_number)
  // An OpenAI client's first chunk, kept when it asked for usage (EstimatedUsageChunk).
  std::string first_chunk_;
  // The final Response to store before its frame is sent (a Responses request with store).
  std::optional<ledger::StoredResponse> to_store_;
};

}  // namespace sy::app
