// Complete (non-streamed) answers, both directions.
//
// Anthropic -> OpenAI: text blocks are joined into message.content (null when there is none),
// tool_use blocks become tool_calls with their input serialized as arguments, except a call of
// kJsonAnswerTool (the forced tool that carries a JSON answer, structured_output.cpp): its input,
// serialized, is the message content, and finish_reason is "stop" when it was the only call;
// thinking and
// redacted_thinking blocks are dropped (Chat Completions has no field for them), as are block
// types this translator does not know (server tool blocks are never requested: such tools are
// refused on the way in).
// OpenAI -> Anthropic: only choices[0] is read (n > 1 is refused on the way in); message.content
// becomes one text block, tool_calls become tool_use blocks; a refusal (message.refusal) becomes
// a text block and stop_reason "refusal", so the client sees why nothing else came.
#include <string>
#include <utility>

#include <boost/json/serialize.hpp>

#include "api/translate/translate_internal.h"

namespace sy::api::translate::internal {
namespace {

namespace json = boost::json;

constexpr std::string_view kAnthropic = "Anthropic";
constexpr std::string_view kOpenAi = "OpenAI";

}  // namespace

core::Result<json::object> AnthropicToOpenAiResponse(const json::value& upstream,
                                                     const core::Usage& usage, const Context& ctx,
                                                     json::storage_ptr sp) {
  const auto* msg = upstream.if_object();
  const auto* blocks = msg ? FindArray(*msg, "content") : nullptr;
  const auto id = msg ? FindString(*msg, "id") : std::nullopt;
  if (!blocks || !id) return Malformed(kAnthropic, "no id or content array");
  std::string text;
  bool has_text = false;
  json::array calls(sp);
  bool json_answer = false;
  for (const auto& v : *blocks) {
    const auto* block = v.if_object();
    const auto type = block ? FindString(*block, "type") : std::nullopt;
    if (type == "text") {
      const auto t = FindString(*block, "text");
      if (!t) return Malformed(kAnthropic, "a text block without text");
      text += *t;
      has_text = true;
    } else if (type == "tool_use") {
      const auto call_id = FindString(*block, "id");
      const auto name = FindString(*block, "name");
      const auto* input = Find(*block, "input");
      if (!call_id || !name) return Malformed(kAnthropic, "a tool_use block without id or name");
      if (*name == kJsonAnswerTool) {
        text += input ? json::serialize(*input) : std::string("{}");
        has_text = json_answer = true;
        continue;
      }
      json::object call(sp);
      call["id"] = *call_id;
      call["type"] = "function";
      call["function"] = json::object(
          {{"name", *name}, {"arguments", input ? json::serialize(*input) : std::string("{}")}},
          sp);
      calls.push_back(std::move(call));
    } else if (!type) {
      return Malformed(kAnthropic, "a content block without a type");
    }
  }
  const auto stop_reason = FindString(*msg, "stop_reason").value_or("");
  const bool answered = json_answer && calls.empty() && stop_reason == "tool_use";
  json::object message(sp);
  message["role"] = "assistant";
  if (has_text) {
    message["content"] = text;
  } else {
    message["content"] = nullptr;
  }
  message["refusal"] = nullptr;
  if (!calls.empty()) message["tool_calls"] = std::move(calls);
  json::object choice(sp);
  choice["index"] = 0;
  choice["message"] = std::move(message);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] =
      answered ? std::string_view("stop") : FinishReasonFromStopReason(stop_reason);
  json::object out(sp);
  out["id"] = *id;
  out["object"] = "chat.completion";
  out["created"] = ctx.created_unix_s;
  out["model"] = FindString(*msg, "model").value_or("");
  out["choices"] = json::array({std::move(choice)}, sp);
  out["usage"] = OpenAiUsageJson(usage, sp);
  return out;
}

core::Result<json::object> OpenAiToAnthropicResponse(const json::value& upstream,
                                                     const core::Usage& usage, const Context& ctx,
                                                     json::storage_ptr sp) {
  const auto* completion = upstream.if_object();
  const auto* choices = completion ? FindArray(*completion, "choices") : nullptr;
  const auto* choice = choices && !choices->empty() ? choices->front().if_object() : nullptr;
  const auto* message = choice ? FindObject(*choice, "message") : nullptr;
  const auto id = completion ? FindString(*completion, "id") : std::nullopt;
  if (!message || !id) return Malformed(kOpenAi, "no id or choices[0].message");
  json::array content(sp);
  const auto text = FindString(*message, "content");
  if (text && !text->empty()) {
    content.push_back(json::object({{"type", "text"}, {"text", *text}}, sp));
  }
  const auto refusal = FindString(*message, "refusal");
  if (refusal && !refusal->empty()) {
    content.push_back(json::object({{"type", "text"}, {"text", *refusal}}, sp));
  }
  if (const auto* calls = Find(*message, "tool_calls")) {
    if (!calls->is_array()) return Malformed(kOpenAi, "tool_calls is not an array");
    for (const auto& v : calls->get_array()) {
      const auto* call = v.if_object();
      const auto call_id = call ? FindString(*call, "id") : std::nullopt;
      const auto* fn = call ? FindObject(*call, "function") : nullptr;
      const auto name = fn ? FindString(*fn, "name") : std::nullopt;
      if (!call_id || !name) return Malformed(kOpenAi, "a tool call without id or name");
      auto input =
          ParseArguments(FindString(*fn, "arguments").value_or(""), sp, ctx.max_json_depth);
      if (!input) return Malformed(kOpenAi, "tool call arguments that are not a JSON object");
      json::object block(sp);
      block["type"] = "tool_use";
      block["id"] = *call_id;
      block["name"] = *name;
      block["input"] = std::move(*input);
      content.push_back(std::move(block));
    }
  }
  const bool refused = refusal && !refusal->empty();
  json::object out(sp);
  out["id"] = *id;
  out["type"] = "message";
  out["role"] = "assistant";
  out["model"] = FindString(*completion, "model").value_or("");
  out["content"] = std::move(content);
  out["stop_reason"] =
      refused ? std::string_view("refusal")
              : StopReasonFromFinishReason(FindString(*choice, "finish_reason").value_or(""));
  out["stop_sequence"] = nullptr;
  out["usage"] = AnthropicUsageJson(usage, sp);
  return out;
}

}  // namespace sy::api::translate::internal
