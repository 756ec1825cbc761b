#include "api/openai/prompt.h"

#include <string_view>

#include "api/json.h"

namespace sy::api::openai {
namespace {

namespace json = boost::json;

using core::PromptRole;

bool IsSystem(std::string_view role) { return role == "system" || role == "developer"; }

PromptRole RoleOf(std::string_view role) {
  if (role == "assistant") return PromptRole::kAssistant;
  if (role == "tool" || role == "function") return PromptRole::kTool;
  if (IsSystem(role)) return PromptRole::kSystem;
  return PromptRole::kUser;
}

// A message's content: a string, or an array of parts.
void ReadContent(const json::value& content, PromptRole role, int turn, core::Prompt& out) {
  if (content.is_string()) {
    out.AddText(role, turn, content.get_string());
    return;
  }
  if (!content.is_array()) return;
  for (const auto& part : content.get_array()) {
    if (part.is_string()) {  // tolerated: a bare string part
      out.AddText(role, turn, part.get_string());
      continue;
    }
    if (!part.is_object()) continue;
    const auto& p = part.get_object();
    const std::string_view type = StringAt(p, "type");
    if (type == "text") {
      out.AddText(role, turn, StringAt(p, "text"));
    } else if (type == "image_url") {
      ++out.images;
    } else if (type == "file") {
      ++out.documents;
    }  // input_audio, refusal and unknown parts say nothing about the task
  }
}

void ReadMessage(const json::object& msg, int turn, core::Prompt& out) {
  const std::string_view role_name = StringAt(msg, "role");
  const PromptRole role = RoleOf(role_name);
  ++out.messages;
  if (role == PromptRole::kUser) ++out.user_turns;
  if (role == PromptRole::kTool) out.tool_results = true;
  if (role == PromptRole::kAssistant) {
    const auto* calls = ArrayAt(msg, "tool_calls");
    if ((calls && !calls->empty()) || ObjectAt(msg, "function_call")) out.tool_calls = true;
  }
  if (const auto* content = msg.if_contains("content")) ReadContent(*content, role, turn, out);
}

void ReadMessages(const json::object& body, core::Prompt& out) {
  const auto* messages = ArrayAt(body, "messages");
  if (!messages) return;
  out.texts.reserve(messages->size() + 1);  // one text a message is the common case
  // The contract lists system texts first, wherever the client put them.
  for (const auto& m : *messages) {
    if (!m.is_object()) continue;
    const auto& msg = m.get_object();
    if (!IsSystem(StringAt(msg, "role"))) continue;
    if (const auto* content = msg.if_contains("content")) {
      ReadContent(*content, PromptRole::kSystem, -1, out);
    }
  }
  int turn = 0;
  for (const auto& m : *messages) {
    if (!m.is_object()) continue;
    const auto& msg = m.get_object();
    if (IsSystem(StringAt(msg, "role"))) continue;
    ReadMessage(msg, turn++, out);
  }
}

int CountObjects(const json::array* list) {
  int n = 0;
  if (list) {
    for (const auto& v : *list) n += v.is_object() ? 1 : 0;
  }
  return n;
}

void ReadTools(const json::object& body, core::Prompt& out) {
  out.tools_offered =
      CountObjects(ArrayAt(body, "tools")) + CountObjects(ArrayAt(body, "functions"));
  const auto* choice = body.if_contains("tool_choice");
  if (!choice) choice = body.if_contains("function_call");  // the legacy spelling
  if (!choice) return;
  if (choice->is_string()) {
    const std::string_view c = choice->get_string();
    if (c == "none") out.tools_offered = 0;
    if (c == "required") out.tool_required = true;
    return;
  }
  if (choice->is_object() && out.tools_offered > 0) {
    // {"type":"function","function":{"name":...}} or legacy {"name":...}: one tool, forced;
    // {"type":"allowed_tools",...} with mode "required" forces some tool.
    const auto& c = choice->get_object();
    const auto* allowed = ObjectAt(c, "allowed_tools");
    if (StringAt(c, "type") == "allowed_tools" || allowed) {
      out.tool_required = allowed && StringAt(*allowed, "mode") == "required";
      return;
    }
    out.tool_required = true;
    out.output = core::OutputFormat::kForcedTool;
  }
}

void ReadOutput(const json::object& body, core::Prompt& out) {
  if (const auto* format = ObjectAt(body, "response_format")) {
    const std::string_view type = StringAt(*format, "type");
    if (type == "json_object") out.output = core::OutputFormat::kJsonObject;
    if (type == "json_schema") out.output = core::OutputFormat::kJsonSchema;
  }
  if (const auto* n = body.if_contains("n"); n && n->is_int64() && n->get_int64() > 0) {
    out.choices = n->get_int64();
  }
  for (std::string_view key : {"max_completion_tokens", "max_tokens"}) {
    const auto* v = body.if_contains(key);
    if (v && v->is_int64() && v->get_int64() > 0) {
      out.max_output_tokens = v->get_int64();
      break;
    }
  }
}

}  // namespace

core::Prompt ReadChatPrompt(const json::object& body, size_t body_bytes) {
  core::Prompt out;
  out.body_bytes = body_bytes;
  ReadMessages(body, out);
  ReadTools(body, out);
  ReadOutput(body, out);
  AppendStringMembers(body, "metadata", out.metadata);
  return out;
}

}  // namespace sy::api::openai
