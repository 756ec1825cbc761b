// OpenAI Chat Completions answer (the hub) -> OpenAI Responses Response object.
//
// choices[0].message becomes the output: its content (and refusal) one message item with an
// output_text (and a refusal) part, each tool call a function_call item (call_id = the tool call
// id). finish_reason "length" makes the Response incomplete (incomplete_details.reason
// max_output_tokens, the last item incomplete), "content_filter" incomplete with reason
// content_filter. Usage is written from core::Usage; the other fields echo the client's request
// (responses_object.h).
// Dropped: the chat completion's id, system_fingerprint, service_tier, logprobs, choices after the
// first (n > 1 cannot be asked for in Responses) and annotations other than url_citation.
#include <string>
#include <utility>

#include "api/translate/responses_object.h"
#include "api/translate/translate_internal.h"

namespace sy::api::translate::internal {
namespace {

namespace json = boost::json;

constexpr std::string_view kChat = "OpenAI Chat Completions";

// Chat's {type: url_citation, url_citation: {start_index, end_index, url, title}} -> Responses'
// flat {type: url_citation, start_index, end_index, url, title}.
json::array Annotations(const json::object& message, const json::storage_ptr& sp) {
  json::array out(sp);
  const auto* list = FindArray(message, "annotations");
  if (!list) return out;
  for (const auto& a : *list) {
    const auto* annotation = a.if_object();
    const auto* citation = annotation ? FindObject(*annotation, "url_citation") : nullptr;
    if (!citation) continue;
    json::object flat({{"type", "url_citation"}}, sp);
    for (std::string_view key : {"start_index", "end_index", "url", "title"}) {
      if (const auto* v = Find(*citation, key)) flat[key] = *v;
    }
    out.push_back(std::move(flat));
  }
  return out;
}

core::Status AddMessage(const json::object& message, const Context& ctx, json::array& output) {
  const auto& sp = output.storage();
  json::array parts(sp);
  const auto text = FindString(message, "content");
  if (text && !text->empty()) {
    json::object part({{"type", "output_text"}, {"text", *text}}, sp);
    part["annotations"] = Annotations(message, sp);
    part["logprobs"] = json::array(sp);
    parts.push_back(std::move(part));
  }
  if (const auto refusal = FindString(message, "refusal"); refusal && !refusal->empty()) {
    parts.push_back(json::object({{"type", "refusal"}, {"refusal", *refusal}}, sp));
  }
  if (parts.empty()) return {};
  json::object item(sp);
  item["id"] = MessageItemId(ctx, 0);
  item["type"] = "message";
  item["status"] = "completed";
  item["role"] = "assistant";
  item["content"] = std::move(parts);
  output.push_back(std::move(item));
  return {};
}

core::Status AddToolCalls(const json::object& message, json::array& output) {
  const auto* calls = Find(message, "tool_calls");
  if (!calls) return {};
  if (!calls->is_array()) return Malformed(kChat, "tool_calls is not an array");
  const auto& sp = output.storage();
  for (const auto& v : calls->get_array()) {
    const auto* call = v.if_object();
    const auto* fn = call ? FindObject(*call, "function") : nullptr;
    const auto id = call ? FindString(*call, "id") : std::nullopt;
    const auto name = fn ? FindString(*fn, "name") : std::nullopt;
    const auto arguments = fn ? FindString(*fn, "arguments") : std::nullopt;
    if (!id || !name || !arguments) {
      return Malformed(kChat, "a tool call without id, function name or arguments");
    }
    json::object item(sp);
    item["id"] = FunctionCallItemId(*id);
    item["type"] = "function_call";
    item["status"] = "completed";
    item["call_id"] = *id;
    item["name"] = *name;
    item["arguments"] = *arguments;
    output.push_back(std::move(item));
  }
  return {};
}

}  // namespace

core::Result<json::object> ChatToResponsesResponse(const json::value& upstream,
                                                   const core::Usage& usage, const Context& ctx,
                                                   json::storage_ptr sp) {
  const auto* body = upstream.if_object();
  if (!body) return Malformed(kChat, "not a JSON object");
  const auto* choices = FindArray(*body, "choices");
  const auto* choice = choices && !choices->empty() ? (*choices)[0].if_object() : nullptr;
  const auto* message = choice ? FindObject(*choice, "message") : nullptr;
  if (!message) return Malformed(kChat, "no choices[0].message");
  json::object response =
      ResponseEnvelope(ctx, FindString(*body, "model").value_or(""), "completed", sp);
  json::array output(sp);
  if (auto s = AddMessage(*message, ctx, output); !s) return std::move(s).error();
  if (auto s = AddToolCalls(*message, output); !s) return std::move(s).error();
  const std::string_view finish = FindString(*choice, "finish_reason").value_or("stop");
  if (MarkIncomplete(response, finish) && finish == "length" && !output.empty()) {
    output.back().get_object()["status"] = "incomplete";
  }
  response["output"] = std::move(output);
  response["usage"] = ResponsesUsageJson(usage, sp);
  return response;
}

namespace {

// A request field echoed as given, or `fallback` when absent or null.
void Echo(json::object& out, const json::object* request, std::string_view key,
          json::value fallback) {
  const auto* v = request ? Find(*request, key) : nullptr;
  out[key] = v ? json::value(*v, out.storage()) : std::move(fallback);
}

}  // namespace

json::object ResponseEnvelope(const Context& ctx, std::string_view model, std::string_view status,
                              json::storage_ptr sp) {
  const json::object* request = ctx.responses_request;
  json::object r(sp);
  r["id"] = ctx.response_id;
  r["object"] = "response";
  r["created_at"] = ctx.created_unix_s;
  r["status"] = status;
  r["error"] = nullptr;
  r["incomplete_details"] = nullptr;
  Echo(r, request, "instructions", nullptr);
  Echo(r, request, "max_output_tokens", nullptr);
  r["model"] = model;
  r["output"] = json::array(sp);
  Echo(r, request, "parallel_tool_calls", true);
  r["previous_response_id"] = ctx.previous_response_id.empty()
                                  ? json::value(nullptr)
                                  : json::value(ctx.previous_response_id, sp);
  Echo(r, request, "reasoning", json::object({{"effort", nullptr}, {"summary", nullptr}}, sp));
  Echo(r, request, "store", true);
  Echo(r, request, "temperature", 1);
  Echo(r, request, "text", json::object({{"format", {{"type", "text"}}}}, sp));
  Echo(r, request, "tool_choice", "auto");
  Echo(r, request, "tools", json::array(sp));
  Echo(r, request, "top_p", 1);
  r["truncation"] = "disabled";
  r["usage"] = nullptr;
  Echo(r, request, "metadata", json::object(sp));
  for (std::string_view key : {"user", "safety_identifier"}) {
    if (request && Find(*request, key)) Echo(r, request, key, nullptr);
  }
  return r;
}

bool MarkIncomplete(json::object& response, std::string_view finish_reason) {
  std::string_view reason;
  if (finish_reason == "length") reason = "max_output_tokens";
  if (finish_reason == "content_filter") reason = "content_filter";
  if (reason.empty()) return false;
  response["status"] = "incomplete";
  response["incomplete_details"] = json::object({{"reason", reason}}, response.storage());
  return true;
}

std::string MessageItemId(const Context& ctx, int n) {
  std::string_view tail = ctx.response_id;
  if (tail.starts_with("resp_")) tail.remove_prefix(5);
  std::string id = "msg_" + std::string(tail);
  if (n > 0) id += "_" + std::to_string(n);
  return id;
}

std::string FunctionCallItemId(std::string_view call_id) { return "fc_" + std::string(call_id); }

}  // namespace sy::api::translate::internal
