#include "app/stream_relay.h"

#include <boost/json/serialize.hpp>

#include "app/dialect.h"
#include "http/sse.h"

namespace sy::app {

namespace json = boost::json;

StreamRelay::StreamRelay(RequestContext& ctx, providers::EventStream& stream,
                         core::Dialect upstream)
    : ctx_(ctx), stream_(stream) {
  if (upstream != ctx.request.dialect) {
    const auto created =
        std::chrono::duration_cast<std::chrono::seconds>(ctx.request.received_at.time_since_epoch())
            .count();
    translator_ = api::translate::MakeStreamTranslator(upstream, ctx.request.dialect,
                                                       api::translate::Context{created});
  }
}

void StreamRelay::Account(const core::Usage& usage) {
  ctx_.record.usage = usage;
  ctx_.cost = catalog::ComputeCost(ctx_.model->price, usage, ctx_.request.received_at);
}

void StreamRelay::NoteFirstToken(const core::StreamEvent& event) {
  if (ctx_.record.ttft_ms || !CarriesContent(ctx_.request.dialect, event)) return;
  ctx_.record.ttft_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - ctx_.started)
                            .count();
}

std::string StreamRelay::FrameOpenAiUsage(core::StreamEvent& event) {
  auto& obj = event.json.get_object();
  if (ctx_.request.include_usage) {
    obj["usage"].get_object()["cost_usd"] = ctx_.cost->total.ToString();
    return http::FormatSse(event.event, json::serialize(obj));
  }
  const auto* choices = obj.if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty()) return {};
  obj.erase("usage");  // usage riding on a content chunk: keep the content
  return http::FormatSse(event.event, json::serialize(obj));
}

std::string StreamRelay::FrameClientEvent(core::StreamEvent& event) {
  NoteFirstToken(event);
  if (!event.usage) return http::FormatSse(event.event, event.data);
  Account(*event.usage);
  if (ctx_.request.dialect == core::Dialect::kOpenAiChat) return FrameOpenAiUsage(event);
  // Anthropic's message_delta: its usage object gains the cost, as OpenAI's usage chunk does.
  auto* usage = event.json.is_object() ? event.json.get_object().if_contains("usage") : nullptr;
  if (!usage || !usage->is_object()) return http::FormatSse(event.event, event.data);
  usage->get_object()["cost_usd"] = ctx_.cost->total.ToString();
  return http::FormatSse(event.event, json::serialize(event.json));
}

core::Result<std::string> StreamRelay::Frame(providers::StreamEvent& upstream) {
  if (!translator_) return FrameClientEvent(upstream);
  translated_.clear();
  if (auto s = translator_->Feed(upstream, translated_); !s) return std::move(s).error();
  std::string frames;
  for (auto& event : translated_) frames += FrameClientEvent(event);
  return frames;
}

http::Task<void> StreamRelay::Run(providers::StreamEvent first) {
  std::optional<providers::StreamEvent> event = std::move(first);
  std::optional<core::Error> failure;
  while (event) {
    auto frame = Frame(*event);
    if (!frame) {
      failure = std::move(frame).error();
      break;
    }
    if (!frame->empty() && !co_await ctx_.writer.Write(*frame)) {
      ctx_.record.error_code = "client_closed";
      ctx_.record.error_message = "the client closed the connection mid-stream";
      co_return;
    }
    if (event->terminal) break;
    auto next = co_await stream_.Next();
    if (!next) {
      failure = std::move(next).error();
      break;
    }
    event = std::move(*next);
  }
  if (failure) {
    ctx_.record.error_code = std::string(core::ErrcName(failure->code));
    ctx_.record.error_message = "stream interrupted after it started: " + failure->message;
    co_await ctx_.writer.Write(StreamErrorFrame(ctx_.request.dialect, *failure));
  }
  http::Headers trailers;
  if (ctx_.cost) trailers.Add("x-switchyard-cost-usd", ctx_.cost->total.ToString());
  co_await ctx_.writer.EndStream(trailers);
}

}  // namespace sy::app
