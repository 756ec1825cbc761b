// A complete Responses answer (a Response object) -> a Chat Completions completion, for a hub
// client served by a model whose provider speaks the Responses API natively.
//
// message items' output_text parts are joined into message.content (null when there is none) and
// their refusal parts into message.refusal; function_call items become tool_calls (id = the
// call_id, which is what the next turn's tool message must name); finish_reason is tool_calls
// when there are calls, length for incomplete_details.reason max_output_tokens, content_filter
// for content_filter, else stop. id is the upstream's, created its created_at (the gateway's
// time when it has none).
//
// Dropped: reasoning items (Chat Completions has no field for them; their tokens are in
// usage.completion_tokens_details.reasoning_tokens), output_text annotations, and output items of
// types this translator does not know (built-in tools are never requested: they are refused on
// the way in).
#include <string>
#include <utility>

#include "api/translate/translate_internal.h"

namespace sy::api::translate::internal {
namespace {

namespace json = boost::json;

constexpr std::string_view kResponses = "OpenAI Responses";

struct Message {
  std::string text;
  bool has_text = false;
  std::string refusal;
  bool has_refusal = false;
};

core::Status MessageItem(const json::object& item, Message& message) {
  const auto* parts = FindArray(item, "content");
  if (!parts) return Malformed(kResponses, "a message item without a content array");
  for (const auto& v : *parts) {
    const auto* part = v.if_object();
    const auto type = part ? FindString(*part, "type") : std::nullopt;
    if (type == "output_text") {
      const auto text = FindString(*part, "text");
      if (!text) return Malformed(kResponses, "an output_text part without text");
      message.text += *text;
      message.has_text = true;
    } else if (type == "refusal") {
      const auto refusal = FindString(*part, "refusal");
      if (!refusal) return Malformed(kResponses, "a refusal part without refusal");
      message.refusal += *refusal;
      message.has_refusal = true;
    } else if (!type) {
      return Malformed(kResponses, "a content part without a type");
    }
  }
  return {};
}

core::Result<json::object> ToolCall(const json::object& item, const json::storage_ptr& sp,
                                    int64_t max_json_depth) {
  const auto call_id = FindString(item, "call_id");
  const auto name = FindString(item, "name");
  const auto arguments = FindString(item, "arguments");
  if (!call_id || !name || !arguments) {
    return Malformed(kResponses, "a function_call item without call_id, name or arguments");
  }
  if (!ParseArguments(*arguments, sp, max_json_depth)) {
    return Malformed(kResponses, "function_call arguments that are not a JSON object");
  }
  json::object call(sp);
  call["id"] = *call_id;
  call["type"] = "function";
  call["function"] = json::object({{"name", *name}, {"arguments", *arguments}}, sp);
  return call;
}

std::string_view FinishReason(const json::object& response, bool has_calls) {
  if (has_calls) return "tool_calls";
  const auto* details = FindObject(response, "incomplete_details");
  const auto reason = details ? FindString(*details, "reason") : std::nullopt;
  if (reason == "max_output_tokens") return "length";
  if (reason == "content_filter") return "content_filter";
  return "stop";
}

}  // namespace

core::Result<json::object> ResponsesToChatResponse(const json::value& upstream,
                                                   const core::Usage& usage, const Context& ctx,
                                                   json::storage_ptr sp) {
  const auto* response = upstream.if_object();
  const auto* output = response ? FindArray(*response, "output") : nullptr;
  const auto id = response ? FindString(*response, "id") : std::nullopt;
  if (!output || !id) return Malformed(kResponses, "no id or output array");
  Message message;
  json::array calls(sp);
  for (const auto& v : *output) {
    const auto* item = v.if_object();
    const auto type = item ? FindString(*item, "type") : std::nullopt;
    if (type == "message") {
      if (auto s = MessageItem(*item, message); !s) return std::move(s).error();
    } else if (type == "function_call") {
      auto call = ToolCall(*item, sp, ctx.max_json_depth);
      if (!call) return std::move(call).error();
      calls.push_back(std::move(*call));
    } else if (!type) {
      return Malformed(kResponses, "an output item without a type");
    }
  }
  json::object chat(sp);
  chat["role"] = "assistant";
  chat["content"] = message.has_text ? json::value(message.text, sp) : json::value(nullptr);
  chat["refusal"] = message.has_refusal ? json::value(message.refusal, sp) : json::value(nullptr);
  const bool has_calls = !calls.empty();
  if (has_calls) chat["tool_calls"] = std::move(calls);
  json::object choice(sp);
  choice["index"] = 0;
  choice["message"] = std::move(chat);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = FinishReason(*response, has_calls);
  const auto* created = Find(*response, "created_at");
  json::object out(sp);
  out["id"] = *id;
  out["object"] = "chat.completion";
  // Only a whole number of seconds is copied: 1e400 parses as infinity, which no JSON can carry
  // back to the client (found by fuzz_translate_response).
  out["created"] = created && created->is_int64() ? *created : json::value(ctx.created_unix_s);
  out["model"] = FindString(*response, "model").value_or("");
  out["choices"] = json::array({std::move(choice)}, sp);
  out["usage"] = OpenAiUsageJson(usage, sp);
  return out;
}

}  // namespace sy::api::translate::internal
