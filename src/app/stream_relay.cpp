#include "app/stream_relay.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/translate/usage_json.h"
#include "app/conversation.h"
#include "app/dialect.h"
#include "app/pipeline.h"
#include "app/pipeline_internal.h"
#include "app/response_cache.h"
#include "http/sse.h"
#include "providers/stream_generated.h"

namespace sy::app {

namespace json = boost::json;

StreamRelay::StreamRelay(RequestContext& ctx, providers::EventStream& stream,
                         core::Dialect upstream)
    : ctx_(ctx), stream_(stream), upstream_(upstream) {
  if (upstream != ctx.request.dialect) {
    translator_ = api::translate::MakeStreamTranslator(upstream, ctx.request.dialect,
                                                       TranslationContext(ctx));
  }
}

void StreamRelay::Bill(const core::Usage& usage) {
  auto& attempt = ctx_.attempts[ctx_.answer_attempt];
  attempt.usage = usage;
  attempt.cost.reset();
  Account(ctx_);
}

std::string StreamRelay::CostText() const {
  return RequestCost(ctx_).value_or(core::Money()).ToString();
}

void StreamRelay::EstimateIfUnbilled() {
  const failover::Attempt& attempt = ctx_.attempts[ctx_.answer_attempt];
  if (attempt.usage) return;
  Bill(EstimateUsage(attempt.request_bytes, relayed_deltas_, relayed_bytes_));
}

void StreamRelay::NoteRelayed(const core::StreamEvent& event) {
  const size_t bytes = GeneratedBytes(ctx_.request.dialect, event);
  if (bytes == 0 && !CarriesContent(ctx_.request.dialect, event)) return;
  ++relayed_deltas_;
  relayed_bytes_ += bytes;
  if (ctx_.outcome.ttft_ms) return;
  const auto now = std::chrono::steady_clock::now();
  ctx_.outcome.first_byte_at = now;
  ctx_.outcome.ttft_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - ctx_.started).count();
}

void StreamRelay::AddCost(json::object& usage, const core::Usage& billed) const {
  usage["cost_usd"] = CostText();
  if (billed.estimated) usage["estimated"] = true;
}

std::string StreamRelay::FrameOpenAiUsage(core::StreamEvent& event) {
  auto& obj = event.Json().get_object();
  if (ctx_.request.include_usage) {
    AddCost(obj["usage"].get_object(), *event.usage);
    return http::FormatSse(event.event, json::serialize(obj));
  }
  const auto* choices = obj.if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty()) return {};
  obj.erase("usage");  // usage riding on a content chunk: keep the content
  return http::FormatSse(event.event, json::serialize(obj));
}

bool StreamRelay::EchoPassedThrough(core::StreamEvent& event) const {
  if (translator_ || ctx_.request.dialect != core::Dialect::kOpenAiResponses) return false;
  // A delta carries no Response snapshot (a type, ids, indexes and the delta): its DOM, which
  // its decoder did not build, is not needed.
  if (providers::ResponsesDeltaKind(event.event) != providers::ResponsesDelta::kNone) return false;
  auto* obj = event.Json().if_object();
  auto* snapshot = obj ? obj->if_contains("response") : nullptr;
  if (!snapshot || !snapshot->is_object()) return false;
  EchoConversation(ctx_, snapshot->get_object());
  return true;
}

std::string StreamRelay::EstimatedUsageChunk() {
  const failover::Attempt& attempt = ctx_.attempts[ctx_.answer_attempt];
  if (attempt.usage || first_chunk_.empty()) return {};
  EstimateIfUnbilled();
  const core::Usage& usage = *attempt.usage;
  // The chunk names the answer as its other chunks did (the first one's id, created, model).
  boost::system::error_code ec;
  const json::value first = json::parse(first_chunk_, ec);
  const json::object* head = first.if_object();
  json::object chunk;
  for (const char* field : {"id", "created", "model", "system_fingerprint"}) {
    if (const json::value* v = head ? head->if_contains(field) : nullptr) chunk[field] = *v;
  }
  chunk["object"] = "chat.completion.chunk";
  chunk["choices"] = json::array();
  json::object usage_json = api::translate::OpenAiUsageJson(usage);
  AddCost(usage_json, usage);  // an estimate: marked so
  chunk["usage"] = std::move(usage_json);
  return http::FormatSse("", json::serialize(chunk));
}

std::string StreamRelay::FrameClientEvent(core::StreamEvent& event) {
  // An OpenAI client that asked for usage gets its usage chunk before [DONE] even from an
  // upstream that ignores stream_options.include_usage: the estimate the gateway billed.
  if (ctx_.request.include_usage && ctx_.request.dialect == core::Dialect::kOpenAiChat) {
    if (event.data == "[DONE]") {
      std::string frames = EstimatedUsageChunk();
      return frames.empty() ? FrameEvent(event) : frames + FrameEvent(event);
    }
    if (first_chunk_.empty()) first_chunk_ = event.data;
  }
  return FrameEvent(event);
}

std::string StreamRelay::FrameEvent(core::StreamEvent& event) {
  NoteRelayed(event);
  ++events_sent_;
  const auto* response = FinalResponse(ctx_.request.dialect, event);
  const bool echoed = EchoPassedThrough(event);
  if (!event.usage && !response && !echoed) return http::FormatSse(event.event, event.data);
  if (event.usage) {  // billed by Frame when it arrived from the upstream
    if (ctx_.request.dialect == core::Dialect::kOpenAiChat) return FrameOpenAiUsage(event);
    // Anthropic's message_delta and Responses' final event: the usage object gains the cost, as
    // OpenAI's usage chunk does.
    if (auto* usage = UsageObject(ctx_.request.dialect, event.Json())) {
      AddCost(*usage, *event.usage);
    }
  }
  // A final Response is stored as the client gets it; Run commits it before sending this frame.
  if (response) to_store_ = ToStore(ctx_, *response);
  return http::FormatSse(event.event, json::serialize(event.Json()));
}

core::Result<std::string> StreamRelay::Frame(providers::StreamEvent& upstream) {
  // The upstream's usage is billed as it arrives, before any translation: a translator may hold
  // it until the upstream's end (OpenAI's usage chunk comes before [DONE], which ends an
  // Anthropic client's message), and a stream cut between the two is billed what the upstream
  // reported. A usage block the gateway cannot bill from (providers::detail::Billable) is
  // replaced by the estimate of what came before it, the content it counts: billed, relayed and
  // translated as that.
  if (upstream.usage) {
    if (upstream.usage->reported) {
      Bill(*upstream.usage);
    } else {
      EstimateIfUnbilled();
      upstream.usage = ctx_.attempts[ctx_.answer_attempt].usage;
    }
  }
  if (!translator_) return FrameClientEvent(upstream);
  translated_.clear();
  if (auto s = translator_->Feed(upstream, translated_); !s) return std::move(s).error();
  std::string frames;
  for (auto& event : translated_) frames += FrameClientEvent(event);
  return frames;
}

http::Task<bool> StreamRelay::Flush(std::string& frames) {
  if (frames.empty()) co_return true;
  const bool sent = co_await ctx_.writer.Write(frames);
  frames.clear();
  if (!sent) ClientLeft();
  co_return sent;
}

void StreamRelay::ClientLeft() {
  ctx_.outcome.error_code = "client_closed";
  ctx_.outcome.error_message = "the client closed the connection mid-stream";
  EstimateIfUnbilled();
}

// What ends the stream: the upstream's failure, or the shutdown cut that caused it.
core::Error StreamRelay::FailureOf(core::Error error) const {
  if (ctx_.http.cancelled == http::CancelReason::kShutdown) return CutError(ctx_.http.cancelled);
  ctx_.services.secrets.ScrubError(error);  // an upstream may have echoed a key
  // The param an upstream's error event names, as the client sent it (AttemptOn does the same
  // for an error on the stream's first event).
  NameUpstreamParamForClient(ctx_, upstream_, error);
  error.message = "stream interrupted after it started: " + error.message;
  return error;
}

http::Task<void> StreamRelay::Run(providers::StreamEvent first) {
  std::optional<providers::StreamEvent> event = std::move(first);
  std::optional<core::Error> failure;
  // Frames of events that arrived together: an event already read when the one before it is
  // framed goes out in the same write. The relay never waits for more to fill it.
  std::string frames;
  while (event) {
    auto frame = Frame(*event);
    if (!frame) {
      failure = std::move(frame).error();
      break;
    }
    if (to_store_) {  // before the client can ask for it
      co_await StoreResponse(ctx_, *to_store_);
      to_store_.reset();
    }
    CaptureFrame(ctx_, *frame);
    frames += *frame;
    if (event->terminal) break;
    auto next = frames.size() < kMaxFramesBytes ? stream_.NextBuffered() : std::nullopt;
    if (!next) {
      if (!co_await Flush(frames)) co_return;  // written before waiting
      next.emplace(co_await stream_.Next());
    }
    if (!*next) {
      failure = std::move(*next).error();
      break;
    }
    event = std::move(**next);
  }
  if (ctx_.http.cancelled == http::CancelReason::kClientClosed) {
    ClientLeft();
    co_return;
  }
  if (failure) {
    const core::Error error = FailureOf(std::move(*failure));
    ctx_.outcome.error_code = ctx_.http.cancelled == http::CancelReason::kShutdown
                                  ? std::string(CutCode(ctx_.http.cancelled))
                                  : std::string(core::ErrcName(error.code));
    ctx_.outcome.error_message = error.message;
    EstimateIfUnbilled();
    // After the events that came before it, in the same write. The outcome is the failure,
    // whether or not the client is still there to read it.
    frames += StreamErrorFrame(ctx_.request.dialect, error, static_cast<int64_t>(events_sent_));
    const http::Headers trailers = CostTrailer();
    co_await ctx_.writer.WriteAndEnd(frames, trailers);
    co_return;
  }
  // An upstream that ignores stream_options.include_usage (many OpenAI-compatible servers), or
  // a final Response without usage, ends cleanly with nothing billed: estimate it, as a
  // complete answer without usage is, before the cost goes out in the trailer.
  EstimateIfUnbilled();
  // The last events and the body's end, in one write.
  const http::Headers trailers = CostTrailer();
  const bool sent = co_await ctx_.writer.WriteAndEnd(frames, trailers);
  if (!sent && !frames.empty()) {
    ClientLeft();
    co_return;
  }
  CacheStream(ctx_);
  // The client has all of it; what the upstream still owes (its body's end) keeps the upstream
  // connection reusable.
  co_await stream_.Finish();
}

http::Headers StreamRelay::CostTrailer() const {
  http::Headers trailers;
  if (auto cost = RequestCost(ctx_)) trailers.Add("x-switchyard-cost-usd", cost->ToString());
  return trailers;
}

}  // namespace sy::app
