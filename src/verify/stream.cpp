// StreamCollector: a streamed upstream answer, event by event, as a verify::Output — the same
// Output ReadAnswer gives for the complete answer.
#include <boost/json.hpp>

#include "verify/detail/json_read.h"
#include "verify/verify.h"

namespace sy::verify {
namespace {

namespace json = boost::json;

using detail::Obj;
using detail::Str;

// A stream's index field (tool call, content block, output item); 0 when absent or not an int.
int64_t Index(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_int64() ? v->get_int64() : 0;
}

}  // namespace

StreamCollector::StreamCollector(core::Dialect upstream) : upstream_(upstream) {}

void StreamCollector::Append(std::string& to, std::string_view piece) {
  if (bytes_ + piece.size() > kMaxOutputBytes) {
    piece = piece.substr(0, kMaxOutputBytes - std::min(bytes_, kMaxOutputBytes));
    truncated_ = true;
  }
  bytes_ += piece.size();
  to.append(piece);
}

StreamCollector::Call& StreamCollector::CallAt(int64_t index) {
  for (Call& call : calls_) {
    if (call.index == index) return call;
  }
  if (calls_.size() == kMaxStreamCalls) {  // an upstream inventing indices: bounded
    truncated_ = true;
    overflow_ = Call{};
    return overflow_;
  }
  return calls_.emplace_back(Call{index, {}, {}});
}

void StreamCollector::Add(const core::StreamEvent& event) {
  const json::object* data = event.Json().if_object();
  if (!data) return;  // [DONE], or nothing to read
  switch (upstream_) {
    case core::Dialect::kOpenAiChat:
      AddChat(*data);
      break;
    case core::Dialect::kAnthropicMessages:
      AddAnthropic(*data);
      break;
    case core::Dialect::kOpenAiResponses:
      AddResponses(*data);
      break;
  }
}

// Chat chunks: choices[0].delta.{content, refusal, tool_calls[i]} and finish_reason.
void StreamCollector::AddChat(const json::object& chunk) {
  const auto* choices = chunk.if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty()) return;
  const auto* choice = choices->get_array()[0].if_object();
  if (!choice) return;
  if (auto finish = Str(*choice, "finish_reason"); !finish.empty()) reason_ = std::string(finish);
  const json::object* delta = Obj(*choice, "delta");
  if (!delta) return;
  Append(text_, Str(*delta, "content"));
  Append(refusal_, Str(*delta, "refusal"));
  const auto* calls = delta->if_contains("tool_calls");
  if (!calls || !calls->is_array()) return;
  for (const auto& c : calls->get_array()) {
    const json::object* call = c.if_object();
    if (!call) continue;
    Call& into = CallAt(Index(*call, "index"));
    if (const json::object* fn = Obj(*call, "function")) {
      Append(into.name, Str(*fn, "name"));
      Append(into.arguments, Str(*fn, "arguments"));
    }
  }
}

// Anthropic events: content_block_start (text / tool_use), content_block_delta (text_delta,
// input_json_delta), message_delta's stop_reason.
void StreamCollector::AddAnthropic(const json::object& event) {
  const std::string_view type = Str(event, "type");
  if (type == "content_block_start") {
    const json::object* block = Obj(event, "content_block");
    if (block && Str(*block, "type") == "tool_use") {
      Append(CallAt(Index(event, "index")).name, Str(*block, "name"));
    } else if (block) {
      Append(text_, Str(*block, "text"));
    }
  } else if (type == "content_block_delta") {
    const json::object* delta = Obj(event, "delta");
    if (!delta) return;
    if (Str(*delta, "type") == "input_json_delta") {
      Append(CallAt(Index(event, "index")).arguments, Str(*delta, "partial_json"));
    } else {
      Append(text_, Str(*delta, "text"));
    }
  } else if (type == "message_delta") {
    if (const json::object* delta = Obj(event, "delta")) {
      if (auto stop = Str(*delta, "stop_reason"); !stop.empty()) reason_ = std::string(stop);
    }
  }
}

// Responses events: the terminal event carries the whole Response, which ReadAnswer reads; the
// deltas are kept for a stream that ends without one.
void StreamCollector::AddResponses(const json::object& event) {
  const std::string_view type = Str(event, "type");
  if (type == "response.completed" || type == "response.incomplete") {
    if (const auto* response = event.if_contains("response")) {
      if (auto read = ReadAnswer(core::Dialect::kOpenAiResponses, *response)) final_ = *read;
    }
  } else if (type == "response.output_text.delta") {
    Append(text_, Str(event, "delta"));
  } else if (type == "response.refusal.delta") {
    Append(refusal_, Str(event, "delta"));
  } else if (type == "response.output_item.added") {
    const json::object* item = Obj(event, "item");
    if (item && Str(*item, "type") == "function_call") {
      Append(CallAt(Index(event, "output_index")).name, Str(*item, "name"));
    }
  } else if (type == "response.function_call_arguments.delta") {
    Append(CallAt(Index(event, "output_index")).arguments, Str(event, "delta"));
  }
}

Output StreamCollector::Finish() {
  if (final_) return std::move(*final_);
  Output out;
  out.text = std::move(text_);
  out.refusal = std::move(refusal_);
  out.truncated = truncated_;
  for (Call& call : calls_) {
    if (call.name == kJsonAnswerTool) {
      out.text += call.arguments;  // the gateway's structured-output tool: its input is the text
    } else {
      out.tool_calls.push_back({std::move(call.name), std::move(call.arguments)});
    }
  }
  out.stop = StopOf(upstream_, reason_, !out.tool_calls.empty());
  return out;
}

Stop StopOf(core::Dialect dialect, std::string_view reason, bool called) {
  Stop stop = Stop::kComplete;
  if (dialect == core::Dialect::kAnthropicMessages) {
    if (reason == "max_tokens") stop = Stop::kLength;
    if (reason == "tool_use") stop = Stop::kToolUse;
    if (reason == "refusal") stop = Stop::kRefusal;
    if (reason == "pause_turn") stop = Stop::kOther;
  } else {
    if (reason == "length" || reason == "max_output_tokens") stop = Stop::kLength;
    if (reason == "tool_calls" || reason == "function_call") stop = Stop::kToolUse;
    if (reason == "content_filter") stop = Stop::kContentFilter;
  }
  // A tool stop with no real call (the gateway's JSON-answer tool) is a complete answer.
  if (stop == Stop::kToolUse && !called) stop = Stop::kComplete;
  return stop;
}

}  // namespace sy::verify
