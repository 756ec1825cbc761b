#include "app/stream_relay.h"

#include <boost/json/serialize.hpp>

#include "api/openai/errors.h"
#include "http/sse.h"

namespace sy::app {

namespace json = boost::json;

bool CarriesContent(const providers::StreamEvent& event) {
  if (!event.json.is_object()) return false;
  const auto* choices = event.json.get_object().if_contains("choices");
  if (!choices || !choices->is_array()) return false;
  for (const auto& choice : choices->get_array()) {
    const auto* delta = choice.is_object() ? choice.get_object().if_contains("delta") : nullptr;
    if (!delta || !delta->is_object()) continue;
    const auto& d = delta->get_object();
    const auto* content = d.if_contains("content");
    if (content && content->is_string() && !content->get_string().empty()) return true;
    if (const auto* tools = d.if_contains("tool_calls"); tools && !tools->is_null()) return true;
  }
  return false;
}

void StreamRelay::Account(const core::Usage& usage) {
  ctx_.record.usage = usage;
  ctx_.cost = catalog::ComputeCost(ctx_.model->price, usage, ctx_.request.received_at);
}

std::string StreamRelay::Frame(providers::StreamEvent& event) {
  if (event.terminal) return http::FormatSse("", event.data);
  if (!event.usage) return http::FormatSse(event.event, event.data);
  Account(*event.usage);
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

http::Task<void> StreamRelay::Run(providers::StreamEvent first) {
  std::optional<providers::StreamEvent> event = std::move(first);
  while (event) {
    if (!ctx_.record.ttft_ms && CarriesContent(*event)) {
      ctx_.record.ttft_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::steady_clock::now() - ctx_.started)
                                .count();
    }
    const std::string frame = Frame(*event);
    if (!frame.empty() && !co_await ctx_.writer.Write(frame)) {
      ctx_.record.error_code = "client_closed";
      ctx_.record.error_message = "the client closed the connection mid-stream";
      co_return;
    }
    if (event->terminal) break;
    auto next = co_await stream_.Next();
    if (!next) {
      const auto& error = next.error();
      ctx_.record.error_code = std::string(core::ErrcName(error.code));
      ctx_.record.error_message = "stream interrupted after it started: " + error.message;
      co_await ctx_.writer.Write(http::FormatSse("", api::openai::EncodeStreamError(error)));
      break;
    }
    event = std::move(*next);
  }
  http::Headers trailers;
  if (ctx_.cost) trailers.Add("x-switchyard-cost-usd", ctx_.cost->total.ToString());
  co_await ctx_.writer.EndStream(trailers);
}

}  // namespace sy::app
