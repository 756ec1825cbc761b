#include "api/anthropic/prompt.h"

#include <string_view>

#include "api/json.h"

namespace sy::api::anthropic {
namespace {

namespace json = boost::json;

using core::PromptRole;

// A string, or text blocks (system prompts, tool_result content); other blocks are skipped
// except images, which are counted.
void ReadTextOrBlocks(const json::value& content, PromptRole role, int turn, core::Prompt& out) {
  if (content.is_string()) {
    out.AddText(role, turn, content.get_string());
    return;
  }
  if (!content.is_array()) return;
  for (const auto& b : content.get_array()) {
    if (!b.is_object()) continue;
    const auto& block = b.get_object();
    const std::string_view type = StringAt(block, "type");
    if (type == "text") out.AddText(role, turn, StringAt(block, "text"));
    if (type == "image") ++out.images;
  }
}

void ReadDocument(const json::object& block, int turn, core::Prompt& out) {
  const auto* source = ObjectAt(block, "source");
  if (source && StringAt(*source, "type") == "text") {
    out.AddText(PromptRole::kUser, turn, StringAt(*source, "data"));
  } else {
    ++out.documents;
  }
}

// One content block of a user or assistant message. Returns true when the block is something
// the user wrote or attached (not a tool result).
bool ReadBlock(const json::object& block, PromptRole role, int turn, core::Prompt& out) {
  const std::string_view type = StringAt(block, "type");
  if (type == "text") {
    out.AddText(role, turn, StringAt(block, "text"));
  } else if (type == "image") {
    ++out.images;
  } else if (type == "document") {
    ReadDocument(block, turn, out);
  } else if (type == "tool_use" || type == "server_tool_use") {
    out.tool_calls = true;
    return false;
  } else if (type == "tool_result" || type.ends_with("_tool_result")) {
    out.tool_results = true;
    if (const auto* content = block.if_contains("content")) {
      ReadTextOrBlocks(*content, PromptRole::kTool, turn, out);
    }
    return false;
  } else {
    return false;  // thinking, redacted_thinking and unknown blocks say nothing about the task
  }
  return true;
}

void ReadMessage(const json::object& msg, int turn, core::Prompt& out) {
  const PromptRole role =
      StringAt(msg, "role") == "assistant" ? PromptRole::kAssistant : PromptRole::kUser;
  ++out.messages;
  const auto* content = msg.if_contains("content");
  bool authored = false;  // a user turn unless it only returns tool results
  if (content && content->is_string()) {
    out.AddText(role, turn, content->get_string());
    authored = true;
  } else if (content && content->is_array()) {
    for (const auto& b : content->get_array()) {
      if (b.is_object()) authored = ReadBlock(b.get_object(), role, turn, out) || authored;
    }
  }
  if (role == PromptRole::kUser && authored) ++out.user_turns;
}

void ReadConversation(const json::object& body, core::Prompt& out) {
  if (const auto* system = body.if_contains("system")) {
    ReadTextOrBlocks(*system, PromptRole::kSystem, -1, out);
  }
  const auto* messages = ArrayAt(body, "messages");
  if (!messages) return;
  out.texts.reserve(out.texts.size() + messages->size());
  // System-role messages (sent by some SDKs) join the system texts, which the contract lists
  // first.
  for (const auto& m : *messages) {
    if (m.is_object() && StringAt(m.get_object(), "role") == "system") {
      if (const auto* content = m.get_object().if_contains("content")) {
        ReadTextOrBlocks(*content, PromptRole::kSystem, -1, out);
      }
    }
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    const auto& m = (*messages)[i];
    if (!m.is_object() || StringAt(m.get_object(), "role") == "system") continue;
    ReadMessage(m.get_object(), static_cast<int>(i), out);
  }
}

void ReadTools(const json::object& body, core::Prompt& out) {
  if (const auto* tools = ArrayAt(body, "tools")) {
    for (const auto& t : *tools) out.tools_offered += t.is_object() ? 1 : 0;
  }
  const auto* choice = ObjectAt(body, "tool_choice");
  if (!choice) return;
  const std::string_view type = StringAt(*choice, "type");
  if (type == "none") out.tools_offered = 0;
  if (out.tools_offered == 0) return;
  if (type == "any" || type == "tool") out.tool_required = true;
  if (type == "tool") out.output = core::OutputFormat::kForcedTool;
}

// Structured output: output_config.format, or the beta's output_format, {type: json_schema}.
void ReadOutputFormat(const json::object& body, core::Prompt& out) {
  const json::object* format = nullptr;
  if (const auto* config = ObjectAt(body, "output_config")) format = ObjectAt(*config, "format");
  if (!format) format = ObjectAt(body, "output_format");
  if (format && StringAt(*format, "type") == "json_schema") {
    out.output = core::OutputFormat::kJsonSchema;
  }
}

void ReadLimitsAndMetadata(const json::object& body, core::Prompt& out) {
  const auto* max_tokens = body.if_contains("max_tokens");
  if (max_tokens && max_tokens->is_int64() && max_tokens->get_int64() > 0) {
    out.max_output_tokens = max_tokens->get_int64();
  }
  if (const auto* metadata = ObjectAt(body, "metadata")) {
    const std::string_view user = StringAt(*metadata, "user_id");
    if (!user.empty()) out.metadata.emplace_back("user_id", user);
  }
}

}  // namespace

core::Prompt ReadMessagesPrompt(const json::object& body, size_t body_bytes) {
  core::Prompt out;
  out.body_bytes = body_bytes;
  ReadConversation(body, out);
  ReadTools(body, out);
  ReadOutputFormat(body, out);
  ReadLimitsAndMetadata(body, out);
  return out;
}

}  // namespace sy::api::anthropic
