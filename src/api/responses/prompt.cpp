#include "api/responses/prompt.h"

#include <string_view>

#include "api/json.h"

namespace sy::api::responses {
namespace {

namespace json = boost::json;

using core::PromptRole;

bool IsSystem(std::string_view role) { return role == "system" || role == "developer"; }

bool IsMessage(const json::object& item) {
  const std::string_view type = StringAt(item, "type");
  return type == "message" || (type.empty() && item.contains("role"));
}

void ReadContent(const json::value& content, PromptRole role, int turn, core::Prompt& out) {
  if (content.is_string()) {
    out.AddText(role, turn, content.get_string());
    return;
  }
  if (!content.is_array()) return;
  for (const auto& part : content.get_array()) {
    if (!part.is_object()) continue;
    const auto& p = part.get_object();
    const std::string_view type = StringAt(p, "type");
    if (type == "input_text" || type == "output_text") {
      out.AddText(role, turn, StringAt(p, "text"));
    } else if (type == "refusal") {
      out.AddText(role, turn, StringAt(p, "refusal"));
    } else if (type == "input_image") {
      ++out.images;
    } else if (type == "input_file") {
      ++out.documents;
    }
  }
}

void ReadSystem(const json::object& body, const json::array* items, core::Prompt& out) {
  out.AddText(PromptRole::kSystem, -1, StringAt(body, "instructions"));
  if (!items) return;
  for (const auto& v : *items) {
    const auto* item = v.if_object();
    if (!item || !IsMessage(*item) || !IsSystem(StringAt(*item, "role"))) continue;
    if (const auto* content = item->if_contains("content")) {
      ReadContent(*content, PromptRole::kSystem, -1, out);
    }
  }
}

void ReadItems(const json::array& items, core::Prompt& out) {
  int turn = 0;
  bool in_calls = false;  // consecutive function_call items are one assistant message
  for (const auto& v : items) {
    const auto* item = v.if_object();
    if (!item) continue;
    const std::string_view type = StringAt(*item, "type");
    if (type == "function_call") {
      out.tool_calls = true;
      if (!in_calls) {
        ++out.messages;
        ++turn;
      }
      in_calls = true;
      continue;
    }
    in_calls = false;
    if (type == "function_call_output") {
      out.tool_results = true;
      ++out.messages;
      if (const auto* output = item->if_contains("output")) {
        ReadContent(*output, PromptRole::kTool, turn, out);
      }
      ++turn;
      continue;
    }
    if (!IsMessage(*item)) continue;  // reasoning items say nothing about the task
    const std::string_view role_name = StringAt(*item, "role");
    if (IsSystem(role_name)) continue;
    const PromptRole role = role_name == "assistant" ? PromptRole::kAssistant : PromptRole::kUser;
    ++out.messages;
    if (role == PromptRole::kUser) ++out.user_turns;
    if (const auto* content = item->if_contains("content")) ReadContent(*content, role, turn, out);
    ++turn;
  }
}

void ReadInput(const json::object& body, core::Prompt& out) {
  const auto* input = body.if_contains("input");
  const auto* items = input ? input->if_array() : nullptr;
  if (items) out.texts.reserve(items->size() + 1);
  ReadSystem(body, items, out);
  if (input && input->is_string()) {
    ++out.messages;
    ++out.user_turns;
    out.AddText(PromptRole::kUser, 0, input->get_string());
  } else if (items) {
    ReadItems(*items, out);
  }
}

void ReadTools(const json::object& body, core::Prompt& out) {
  if (const auto* tools = ArrayAt(body, "tools")) {
    for (const auto& t : *tools) out.tools_offered += t.is_object() ? 1 : 0;
  }
  const auto* choice = body.if_contains("tool_choice");
  if (!choice) return;
  if (choice->is_string()) {
    const std::string_view c = choice->get_string();
    if (c == "none") out.tools_offered = 0;
    if (c == "required") out.tool_required = true;
    return;
  }
  const auto* c = choice->if_object();
  if (!c || out.tools_offered == 0) return;
  if (StringAt(*c, "type") == "allowed_tools") {
    out.tool_required = StringAt(*c, "mode") == "required";
    return;
  }
  out.tool_required = true;  // a named function or built-in tool: forced
  if (StringAt(*c, "type") == "function") out.output = core::OutputFormat::kForcedTool;
}

void ReadOutput(const json::object& body, core::Prompt& out) {
  const auto* text = ObjectAt(body, "text");
  const auto* format = text ? ObjectAt(*text, "format") : nullptr;
  if (format) {
    const std::string_view type = StringAt(*format, "type");
    if (type == "json_object") out.output = core::OutputFormat::kJsonObject;
    if (type == "json_schema") out.output = core::OutputFormat::kJsonSchema;
  }
  const auto* cap = body.if_contains("max_output_tokens");
  if (cap && cap->is_int64() && cap->get_int64() > 0) out.max_output_tokens = cap->get_int64();
}

}  // namespace

core::Prompt ReadResponsesPrompt(const json::object& body, size_t body_bytes) {
  core::Prompt out;
  out.body_bytes = body_bytes;
  ReadInput(body, out);
  ReadTools(body, out);
  ReadOutput(body, out);
  AppendStringMembers(body, "metadata", out.metadata);
  return out;
}

}  // namespace sy::api::responses
