// OpenAI Chat Completions `messages` -> Anthropic Messages `system` + `messages`.
//
// system and developer messages, wherever they stand, become the top-level `system` text blocks
// in order; tool messages become tool_result blocks in a user message; consecutive messages of
// the same Anthropic role are merged into one, because Anthropic wants user and assistant turns
// to alternate. In a user message, tool_result blocks are moved (stably) before the other
// blocks, because Anthropic requires them first in the content array.
//
// A final assistant message is passed on: Anthropic continues it (prefill), the nearest meaning
// an OpenAI client can have in sending one.
//
// Dropped, as they do not change the answer's content: a message's `name` (Anthropic has no
// per-message author name), assistant `refusal` parts and the `refusal` field (the refusal text
// of an earlier answer), image `detail`, and empty text (Anthropic rejects empty text blocks).
#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

#include "api/translate/translate_internal.h"

namespace sy::api::translate::internal {
namespace {

namespace json = boost::json;

constexpr std::string_view kChooseOpenAi =
    "choose a model that speaks the OpenAI Chat Completions API";

std::string Index(const std::string& base, std::string_view key, size_t i) {
  return base + "." + std::string(key) + "[" + std::to_string(i) + "]";
}

json::object TextBlock(std::string_view text, const json::storage_ptr& sp) {
  json::object block(sp);
  block["type"] = "text";
  block["text"] = text;
  return block;
}

// "data:image/png;base64,AAAA" -> {type: base64, media_type, data}.
core::Result<json::object> DataUrlSource(std::string_view url, const std::string& at,
                                         const json::storage_ptr& sp) {
  const auto comma = url.find(',');
  const std::string_view header = url.substr(5, comma == std::string_view::npos ? 0 : comma - 5);
  if (comma == std::string_view::npos || !header.ends_with(";base64")) {
    return Unsupported(at, "an image data URL that is not base64-encoded", kAnthropicApi,
                       "Encode the image as data:<media type>;base64,<data>.");
  }
  std::string media_type(header.substr(0, header.find(';')));
  std::transform(media_type.begin(), media_type.end(), media_type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (media_type == "image/jpg") media_type = "image/jpeg";  // a common misspelling
  static constexpr std::array<std::string_view, 4> kTypes = {"image/jpeg", "image/png", "image/gif",
                                                             "image/webp"};
  if (std::find(kTypes.begin(), kTypes.end(), media_type) == kTypes.end()) {
    return Unsupported(
        at, "an image of media type '" + core::ClipForEcho(media_type) + "'", kAnthropicApi,
        "Send the image as JPEG, PNG, GIF or WebP, or " + std::string(kChooseOpenAi) + ".");
  }
  json::object source(sp);
  source["type"] = "base64";
  source["media_type"] = media_type;
  source["data"] = url.substr(comma + 1);
  return source;
}

core::Result<json::object> ImageBlock(const json::object& part, const std::string& at,
                                      const json::storage_ptr& sp) {
  const auto* image = FindObject(part, "image_url");
  const auto url = image ? FindString(*image, "url") : std::nullopt;
  if (!url)
    return core::InvalidParam(at + ".image_url.url",
                              "'" + at + ".image_url.url' must be a string.");
  json::object source(sp);
  if (url->starts_with("data:")) {
    auto data = DataUrlSource(*url, at + ".image_url.url", sp);
    if (!data) return std::move(data).error();
    source = std::move(*data);
  } else if (url->starts_with("https://") || url->starts_with("http://")) {
    source["type"] = "url";
    source["url"] = *url;
  } else {
    return Unsupported(at + ".image_url.url",
                       "an image URL that is neither http(s) nor data:", kAnthropicApi,
                       "Send an https:// URL or a base64 data URL.");
  }
  json::object block(sp);
  block["type"] = "image";
  block["source"] = std::move(source);
  return block;
}

core::Status AppendUserPart(const json::value& v, const std::string& at, json::array& blocks) {
  const auto* part = v.if_object();
  const auto type = part ? FindString(*part, "type") : std::nullopt;
  if (!type) return core::InvalidParam(at + ".type", "'" + at + ".type' must be a string.");
  const auto& sp = blocks.storage();
  if (*type == "text") {
    const auto text = FindString(*part, "text");
    if (!text) return core::InvalidParam(at + ".text", "'" + at + ".text' must be a string.");
    if (!text->empty()) blocks.push_back(TextBlock(*text, sp));
    return {};
  }
  if (*type == "image_url") {
    auto block = ImageBlock(*part, at, sp);
    if (!block) return std::move(block).error();
    blocks.push_back(std::move(*block));
    return {};
  }
  if (*type == "input_audio") {
    return Unsupported(at, "audio input", kAnthropicApi,
                       "Send a transcript as text, or " + std::string(kChooseOpenAi) + ".");
  }
  if (*type == "file") {
    return Unsupported(
        at, "a file part", kAnthropicApi,
        "Send the file's text as a text part, or " + std::string(kChooseOpenAi) + ".");
  }
  return Unsupported(at, "a content part of type '" + core::ClipForEcho(*type) + "'", kAnthropicApi,
                     "Send text and image_url parts only.");
}

// Text-only content (system, developer and tool messages): a string or text parts.
core::Status AppendTextParts(const json::value& content, const std::string& at,
                             std::string_view role, json::array& blocks) {
  if (content.is_string()) {
    if (!content.get_string().empty()) {
      blocks.push_back(TextBlock(content.get_string(), blocks.storage()));
    }
    return {};
  }
  const auto* parts = content.if_array();
  if (!parts)
    return core::InvalidParam(at, "'" + at + "' must be a string or an array of text parts.");
  for (size_t j = 0; j < parts->size(); ++j) {
    const std::string part_at = at + "[" + std::to_string(j) + "]";
    const auto* part = (*parts)[j].if_object();
    const auto text = part ? FindString(*part, "text") : std::nullopt;
    if (!part || FindString(*part, "type") != "text" || !text) {
      return Unsupported(part_at, "a non-text part in a " + std::string(role) + " message",
                         kAnthropicApi, "Send text parts only.");
    }
    if (!text->empty()) blocks.push_back(TextBlock(*text, blocks.storage()));
  }
  return {};
}

core::Status AppendToolUse(const json::value& v, const std::string& at, int64_t max_json_depth,
                           json::array& blocks) {
  const auto* call = v.if_object();
  if (!call) return core::InvalidParam(at, "'" + at + "' must be an object.");
  const auto type = FindString(*call, "type");
  if (type && *type != "function") {
    return Unsupported(at + ".type", "a tool call of type '" + core::ClipForEcho(*type) + "'",
                       kAnthropicApi, "Send function tool calls only.");
  }
  const auto id = FindString(*call, "id");
  if (!id) return core::InvalidParam(at + ".id", "'" + at + ".id' must be a string.");
  const auto* fn = FindObject(*call, "function");
  const auto name = fn ? FindString(*fn, "name") : std::nullopt;
  if (!name)
    return core::InvalidParam(at + ".function.name",
                              "'" + at + ".function.name' must be a string.");
  const auto arguments = FindString(*fn, "arguments");
  auto input = ParseArguments(arguments.value_or(""), blocks.storage(), max_json_depth);
  if (!input) {
    return Unsupported(at + ".function.arguments", "tool call arguments that are not a JSON object",
                       kAnthropicApi,
                       "Send the arguments as a serialized JSON object, as the model produced "
                       "them.");
  }
  json::object block(blocks.storage());
  block["type"] = "tool_use";
  block["id"] = *id;
  block["name"] = *name;
  block["input"] = std::move(*input);
  blocks.push_back(std::move(block));
  return {};
}

core::Status AssistantBlocks(const json::object& msg, const std::string& at, int64_t max_json_depth,
                             json::array& blocks) {
  if (Find(msg, "function_call")) {
    return Unsupported(at + ".function_call", "the legacy function_call", kAnthropicApi,
                       "Send tool_calls instead (and tools instead of functions).");
  }
  if (Find(msg, "audio")) {
    return Unsupported(at + ".audio", "a reference to an earlier audio answer", kAnthropicApi,
                       "Send the answer's transcript as content instead.");
  }
  const auto* content = Find(msg, "content");
  if (const auto* parts = content ? content->if_array() : nullptr) {
    for (size_t j = 0; j < parts->size(); ++j) {
      const auto* part = (*parts)[j].if_object();
      const auto type = part ? FindString(*part, "type") : std::nullopt;
      const auto text = part ? FindString(*part, "text") : std::nullopt;
      if (type == "refusal") continue;  // the refusal text of an earlier answer
      if (type != "text" || !text) {
        return Unsupported(Index(at, "content", j), "a non-text part in an assistant message",
                           kAnthropicApi, "Send text parts only.");
      }
      if (!text->empty()) blocks.push_back(TextBlock(*text, blocks.storage()));
    }
  } else if (content) {
    if (auto s = AppendTextParts(*content, at + ".content", "assistant", blocks); !s) return s;
  }
  if (const auto* calls = Find(msg, "tool_calls")) {
    const auto* list = calls->if_array();
    if (!list)
      return core::InvalidParam(at + ".tool_calls", "'" + at + ".tool_calls' must be an array.");
    for (size_t j = 0; j < list->size(); ++j) {
      if (auto s = AppendToolUse((*list)[j], Index(at, "tool_calls", j), max_json_depth, blocks);
          !s) {
        return s;
      }
    }
  }
  return {};
}

core::Result<json::object> ToolResultBlock(const json::object& msg, const std::string& at,
                                           const json::storage_ptr& sp) {
  const auto id = FindString(msg, "tool_call_id");
  if (!id)
    return core::InvalidParam(at + ".tool_call_id", "'" + at + ".tool_call_id' must be a string.");
  json::object block(sp);
  block["type"] = "tool_result";
  block["tool_use_id"] = *id;
  const auto* content = Find(msg, "content");
  if (!content || content->is_string()) {
    block["content"] = content ? json::string(content->get_string(), sp) : json::string(sp);
    return block;
  }
  json::array parts(sp);
  if (auto s = AppendTextParts(*content, at + ".content", "tool", parts); !s) {
    return std::move(s).error();
  }
  block["content"] = std::move(parts);
  return block;
}

// Appends one Anthropic turn, merging it into the previous one when the role repeats.
void AppendTurn(std::string_view role, json::value content, json::array& messages) {
  const auto& sp = messages.storage();
  auto* last = messages.empty() ? nullptr : messages.back().if_object();
  if (last && FindString(*last, "role") == role) {
    auto& previous = (*last)["content"];
    if (previous.is_string()) {
      json::array blocks(sp);
      if (!previous.get_string().empty()) blocks.push_back(TextBlock(previous.get_string(), sp));
      previous = std::move(blocks);
    }
    auto& into = previous.get_array();
    if (content.is_string()) {
      if (!content.get_string().empty()) into.push_back(TextBlock(content.get_string(), sp));
    } else {
      for (auto& block : content.get_array()) into.push_back(std::move(block));
    }
    return;
  }
  json::object turn(sp);
  turn["role"] = role;
  turn["content"] = std::move(content);
  messages.push_back(std::move(turn));
}

bool IsToolResult(const json::value& block) {
  const auto* obj = block.if_object();
  return obj && FindString(*obj, "type") == "tool_result";
}

}  // namespace

core::Status OpenAiMessagesToAnthropic(const json::array& messages, int64_t max_json_depth,
                                       json::object& out) {
  const auto& sp = out.storage();
  json::array system(sp);
  json::array turns(sp);
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string at = "messages[" + std::to_string(i) + "]";
    const auto* msg = messages[i].if_object();
    const auto role = msg ? FindString(*msg, "role") : std::nullopt;
    if (!role) return core::InvalidParam(at + ".role", "'" + at + ".role' must be a string.");
    const auto* content = Find(*msg, "content");
    if (*role == "system" || *role == "developer") {
      if (!content) continue;
      if (auto s = AppendTextParts(*content, at + ".content", *role, system); !s) return s;
    } else if (*role == "user") {
      if (!content || content->is_string()) {
        AppendTurn("user", content ? json::string(content->get_string(), sp) : json::string(sp),
                   turns);
        continue;
      }
      const auto* parts = content->if_array();
      if (!parts)
        return core::InvalidParam(at + ".content",
                                  "'" + at + ".content' must be a string or an array.");
      json::array blocks(sp);
      for (size_t j = 0; j < parts->size(); ++j) {
        if (auto s = AppendUserPart((*parts)[j], Index(at, "content", j), blocks); !s) return s;
      }
      AppendTurn("user", std::move(blocks), turns);
    } else if (*role == "assistant") {
      json::array blocks(sp);
      if (auto s = AssistantBlocks(*msg, at, max_json_depth, blocks); !s) return s;
      if (!blocks.empty()) AppendTurn("assistant", std::move(blocks), turns);
    } else if (*role == "tool") {
      auto block = ToolResultBlock(*msg, at, sp);
      if (!block) return std::move(block).error();
      AppendTurn("user", json::array({std::move(*block)}, sp), turns);
    } else if (*role == "function") {
      return Unsupported(at + ".role", "a legacy function message", kAnthropicApi,
                         "Send the result as a tool message answering a tool call.");
    } else {
      return core::InvalidParam(
          at + ".role", "'" + at + ".role': unknown role '" + core::ClipForEcho(*role) + "'.");
    }
  }
  for (auto& turn : turns) {
    auto* blocks = turn.get_object()["content"].if_array();
    if (blocks) std::stable_partition(blocks->begin(), blocks->end(), IsToolResult);
  }
  if (!system.empty()) out["system"] = std::move(system);
  out["messages"] = std::move(turns);
  return {};
}

}  // namespace sy::api::translate::internal
