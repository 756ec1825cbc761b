// Anthropic Messages `system` + `messages` -> OpenAI Chat Completions `messages`.
//
// The system prompt becomes the first message, {role: system}. A user turn's tool_result blocks
// become {role: tool} messages placed before the rest of the turn (OpenAI wants the tool answers
// right after the assistant message that called the tools). An assistant turn's text blocks are
// joined into `content` and its tool_use blocks become `tool_calls`.
//
// Dropped, as they do not change the answer's content: cache_control and citations on any block,
// and thinking / redacted_thinking blocks of earlier assistant turns (OpenAI models neither take
// nor need another vendor's reasoning).
// Refused: a final assistant message. Anthropic continues it (prefill); an OpenAI model would
// answer with a new message instead, which changes the answer.
// Expressed differently: a tool_result with is_error true has its content prefixed with
// "Error: ", as OpenAI's tool messages have no error flag and the model must still learn that
// the tool failed.
#include <string>
#include <utility>

#include <boost/json/serialize.hpp>

#include "api/translate/translate_internal.h"

namespace sy::api::translate::internal {
namespace {

namespace json = boost::json;

constexpr std::string_view kOrChooseAnthropic =
    ", or choose a model that speaks the Anthropic Messages API.";

std::string OrChooseAnthropic(std::string_view fix) {
  return std::string(fix) + std::string(kOrChooseAnthropic);
}

std::string At(const std::string& base, std::string_view key, size_t i) {
  return base + "." + std::string(key) + "." + std::to_string(i);
}

json::object TextPart(std::string_view text, const json::storage_ptr& sp) {
  json::object part(sp);
  part["type"] = "text";
  part["text"] = text;
  return part;
}

core::Result<std::string_view> BlockType(const json::value& v, const std::string& at) {
  const auto* block = v.if_object();
  const auto type = block ? FindString(*block, "type") : std::nullopt;
  if (!type) return core::InvalidParam(at + ".type", at + ".type: Field required");
  return *type;
}

core::Result<json::object> ImagePart(const json::object& block, const std::string& at,
                                     const json::storage_ptr& sp) {
  const auto* source = FindObject(block, "source");
  const auto type = source ? FindString(*source, "type") : std::nullopt;
  std::string url;
  if (type == "base64") {
    const auto media_type = FindString(*source, "media_type");
    const auto data = FindString(*source, "data");
    if (!media_type || !data)
      return core::InvalidParam(at + ".source", at + ".source: Field required");
    url = "data:" + std::string(*media_type) + ";base64," + std::string(*data);
  } else if (type == "url") {
    const auto u = FindString(*source, "url");
    if (!u) return core::InvalidParam(at + ".source.url", at + ".source.url: Field required");
    url = *u;
  } else {
    return Unsupported(at + ".source", "an image source other than base64 or url", kOpenAiApi,
                       OrChooseAnthropic("Send the image as base64 data or a URL"));
  }
  json::object part(sp);
  part["type"] = "image_url";
  part["image_url"] = json::object({{"url", url}}, sp);
  return part;
}

// tool_result -> {role: tool, tool_call_id, content}.
core::Result<json::object> ToolMessage(const json::object& block, const std::string& at,
                                       const json::storage_ptr& sp) {
  const auto id = FindString(block, "tool_use_id");
  if (!id) return core::InvalidParam(at + ".tool_use_id", at + ".tool_use_id: Field required");
  const auto* is_error = block.if_contains("is_error");
  const bool error = is_error && is_error->is_bool() && is_error->get_bool();
  const std::string prefix = error ? "Error: " : "";
  json::value content(sp);
  const auto* given = Find(block, "content");
  if (!given || given->is_string()) {
    content = json::string(prefix + std::string(given ? given->get_string() : ""), sp);
  } else if (const auto* blocks = given->if_array()) {
    json::array parts(sp);
    for (size_t j = 0; j < blocks->size(); ++j) {
      const std::string block_at = At(at, "content", j);
      auto type = BlockType((*blocks)[j], block_at);
      if (!type) return std::move(type).error();
      const auto text = FindString((*blocks)[j].get_object(), "text");
      if (*type != "text" || !text) {
        return Unsupported(block_at,
                           "a " + core::ClipForEcho(*type) + " block inside a tool_result",
                           kOpenAiApi, OrChooseAnthropic("Return the tool's result as text"));
      }
      parts.push_back(TextPart(parts.empty() ? prefix + std::string(*text) : *text, sp));
    }
    if (parts.empty()) {
      content = json::string(prefix, sp);
    } else {
      content = std::move(parts);
    }
  } else {
    return core::InvalidParam(at + ".content",
                              at + ".content: Input should be a valid string or list");
  }
  json::object message(sp);
  message["role"] = "tool";
  message["tool_call_id"] = *id;
  message["content"] = std::move(content);
  return message;
}

core::Status UserTurn(const json::array& blocks, const std::string& at, json::array& out) {
  const auto& sp = out.storage();
  json::array parts(sp);
  for (size_t j = 0; j < blocks.size(); ++j) {
    const std::string block_at = At(at, "content", j);
    auto type = BlockType(blocks[j], block_at);
    if (!type) return std::move(type).error();
    const auto& block = blocks[j].get_object();
    if (*type == "text") {
      const auto text = FindString(block, "text");
      if (!text) return core::InvalidParam(block_at + ".text", block_at + ".text: Field required");
      parts.push_back(TextPart(*text, sp));
    } else if (*type == "image") {
      auto part = ImagePart(block, block_at, sp);
      if (!part) return std::move(part).error();
      parts.push_back(std::move(*part));
    } else if (*type == "tool_result") {
      auto message = ToolMessage(block, block_at, sp);
      if (!message) return std::move(message).error();
      out.push_back(std::move(*message));  // before the turn's other parts
    } else if (*type == "document") {
      return Unsupported(block_at, "a document block", kOpenAiApi,
                         OrChooseAnthropic("Send the document's text as a text block"));
    } else {
      return Unsupported(block_at, "a " + core::ClipForEcho(*type) + " block in a user message",
                         kOpenAiApi, OrChooseAnthropic("Send text, image and tool_result blocks"));
    }
  }
  const bool only_tool_results = parts.empty() && !blocks.empty();
  if (only_tool_results) return {};
  json::object message(sp);
  message["role"] = "user";
  message["content"] = std::move(parts);
  out.push_back(std::move(message));
  return {};
}

core::Status AssistantTurn(const json::array& blocks, const std::string& at, json::array& out) {
  const auto& sp = out.storage();
  std::string text;
  bool has_text = false;
  json::array calls(sp);
  for (size_t j = 0; j < blocks.size(); ++j) {
    const std::string block_at = At(at, "content", j);
    auto type = BlockType(blocks[j], block_at);
    if (!type) return std::move(type).error();
    const auto& block = blocks[j].get_object();
    if (*type == "text") {
      const auto t = FindString(block, "text");
      if (!t) return core::InvalidParam(block_at + ".text", block_at + ".text: Field required");
      text += *t;
      has_text = true;
    } else if (*type == "tool_use") {
      const auto id = FindString(block, "id");
      const auto name = FindString(block, "name");
      if (!id || !name)
        return core::InvalidParam(block_at, block_at + ": tool_use needs an id and a name");
      const auto* input = Find(block, "input");
      json::object call(sp);
      call["id"] = *id;
      call["type"] = "function";
      call["function"] = json::object(
          {{"name", *name}, {"arguments", input ? json::serialize(*input) : std::string("{}")}},
          sp);
      calls.push_back(std::move(call));
    } else if (*type == "thinking" || *type == "redacted_thinking") {
      continue;  // another vendor's reasoning: not sent (see the file comment)
    } else {
      return Unsupported(block_at,
                         "a " + core::ClipForEcho(*type) + " block in an assistant message",
                         kOpenAiApi, OrChooseAnthropic("Send text and tool_use blocks"));
    }
  }
  json::object message(sp);
  message["role"] = "assistant";
  if (has_text || calls.empty()) {
    message["content"] = text;
  } else {
    message["content"] = nullptr;
  }
  if (!calls.empty()) message["tool_calls"] = std::move(calls);
  out.push_back(std::move(message));
  return {};
}

// A system prompt (top-level `system`, or a system turn's content at `at`) -> {role: system}.
core::Status SystemMessage(const json::value& system, const std::string& at, json::array& out) {
  const auto& sp = out.storage();
  json::object message(sp);
  message["role"] = "system";
  if (system.is_string()) {
    message["content"] = system;
  } else if (const auto* blocks = system.if_array()) {
    json::array parts(sp);
    for (size_t i = 0; i < blocks->size(); ++i) {
      const std::string block_at = at + "." + std::to_string(i);
      auto type = BlockType((*blocks)[i], block_at);
      if (!type) return std::move(type).error();
      const auto text = FindString((*blocks)[i].get_object(), "text");
      if (*type != "text" || !text) {
        return Unsupported(block_at, "a non-text system block", kOpenAiApi,
                           "Send text blocks only.");
      }
      parts.push_back(TextPart(*text, sp));
    }
    message["content"] = std::move(parts);
  } else {
    return core::InvalidParam(at, at + ": Input should be a valid string or a list of text blocks");
  }
  out.push_back(std::move(message));
  return {};
}

}  // namespace

core::Status AnthropicMessagesToOpenAi(const json::object& body, json::object& out) {
  json::array messages(out.storage());
  if (const auto* system = Find(body, "system")) {
    if (auto s = SystemMessage(*system, "system", messages); !s) return s;
  }
  const auto* list = FindArray(body, "messages");
  if (!list) return core::InvalidParam("messages", "messages: Input should be a valid list");
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string at = "messages." + std::to_string(i);
    const auto* msg = (*list)[i].if_object();
    const auto role = msg ? FindString(*msg, "role") : std::nullopt;
    const auto* content = msg ? Find(*msg, "content") : nullptr;
    if (!role || (*role != "user" && *role != "assistant" && *role != "system")) {
      return core::InvalidParam(at + ".role",
                                at + ".role: Input should be 'user', 'assistant' or 'system'");
    }
    if (!content) return core::InvalidParam(at + ".content", at + ".content: Field required");
    if (*role == "system") {  // a system turn stays where it is, as OpenAI allows
      if (auto s = SystemMessage(*content, at + ".content", messages); !s) return s;
      continue;
    }
    if (content->is_string()) {
      messages.push_back(json::object({{"role", *role}, {"content", *content}}, out.storage()));
      continue;
    }
    const auto* blocks = content->if_array();
    if (!blocks) {
      return core::InvalidParam(at + ".content",
                                at + ".content: Input should be a valid string or list");
    }
    auto s =
        *role == "user" ? UserTurn(*blocks, at, messages) : AssistantTurn(*blocks, at, messages);
    if (!s) return s;
  }
  const auto* last = list->empty() ? nullptr : list->back().if_object();
  if (last && FindString(*last, "role") == "assistant") {
    return Unsupported("messages." + std::to_string(list->size() - 1),
                       "a final assistant message (a prefill for the answer to continue)",
                       kOpenAiApi, OrChooseAnthropic("End the conversation with a user message"));
  }
  out["messages"] = std::move(messages);
  return {};
}

}  // namespace sy::api::translate::internal
