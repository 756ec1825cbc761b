// Anthropic Messages request body -> OpenAI Chat Completions request body.
//
// Dropped, as they do not change the answer's content: model (the adapter sets it), thinking
// (extended thinking has no Chat Completions equivalent; the model answers without a visible
// reasoning budget), service_tier, cache_control anywhere (OpenAI caches prompts on its own),
// metadata other than user_id, `type: custom` on tools, tool_choice and
// disable_parallel_tool_use when no tools are given (OpenAI refuses them without tools, and
// without tools they change nothing), output_config.effort (structured_output.cpp says why), and
// any parameter whose value is null.
// output_config.format and the beta output_format become response_format json_schema
// (structured_output.cpp).
// Refused: top_k, more than 4 stop_sequences, server tools, and any parameter this translator does
// not know, named, since silently dropping it could change the answer.
#include <string>
#include <utility>

#include "api/translate/translate_internal.h"

namespace sy::api::translate {
namespace {

namespace json = boost::json;
using internal::FindObject;
using internal::FindString;
using internal::kOpenAiApi;
using internal::Unsupported;

constexpr size_t kMaxStopSequences = 4;  // OpenAI's `stop` takes up to 4

constexpr std::string_view kOrChooseAnthropic =
    ", or choose a model that speaks the Anthropic Messages API.";

std::string OrChooseAnthropic(std::string_view fix) {
  return std::string(fix) + std::string(kOrChooseAnthropic);
}

core::Result<json::array> Tools(const json::value& tools, const json::storage_ptr& sp) {
  const auto* list = tools.if_array();
  if (!list) return core::InvalidParam("tools", "tools: Input should be a valid list");
  json::array out(sp);
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string at = "tools." + std::to_string(i);
    const auto* tool = (*list)[i].if_object();
    if (!tool) return core::InvalidParam(at, at + ": Input should be a valid dictionary");
    const auto type = FindString(*tool, "type");
    if (type && *type != "custom") {
      return Unsupported(at, "the server tool '" + core::ClipForEcho(*type) + "'", kOpenAiApi,
                         OrChooseAnthropic("Send custom tools (name, input_schema) only"));
    }
    const auto name = FindString(*tool, "name");
    if (!name) return core::InvalidParam(at + ".name", at + ".name: Field required");
    json::object fn(sp);
    fn["name"] = *name;
    if (const auto description = FindString(*tool, "description")) {
      fn["description"] = *description;
    }
    const auto* schema = FindObject(*tool, "input_schema");
    if (!schema)
      return core::InvalidParam(at + ".input_schema", at + ".input_schema: Field required");
    fn["parameters"] = *schema;
    out.push_back(json::object({{"type", "function"}, {"function", std::move(fn)}}, sp));
  }
  return out;
}

// Sets tool_choice and parallel_tool_calls on `out` from Anthropic's tool_choice.
core::Status ToolChoice(const json::value& choice, json::object& out) {
  const auto* obj = choice.if_object();
  const auto type = obj ? FindString(*obj, "type") : std::nullopt;
  if (!type) return core::InvalidParam("tool_choice.type", "tool_choice.type: Field required");
  if (*type == "auto" || *type == "none") {
    out["tool_choice"] = *type;
  } else if (*type == "any") {
    out["tool_choice"] = "required";
  } else if (*type == "tool") {
    const auto name = FindString(*obj, "name");
    if (!name) return core::InvalidParam("tool_choice.name", "tool_choice.name: Field required");
    out["tool_choice"] = json::object(
        {{"type", "function"}, {"function", json::object({{"name", *name}}, out.storage())}},
        out.storage());
  } else {
    return Unsupported("tool_choice.type", "tool_choice type '" + core::ClipForEcho(*type) + "'",
                       kOpenAiApi, OrChooseAnthropic("Send auto, any, tool or none"));
  }
  const auto* disable = obj->if_contains("disable_parallel_tool_use");
  if (*type != "none" && disable && disable->is_bool() && disable->get_bool()) {
    out["parallel_tool_calls"] = false;
  }
  return {};
}

std::optional<core::Error> Untranslatable(std::string_view key) {
  if (key == "thinking" || key == "service_tier") return std::nullopt;
  if (key == "top_k") {
    return Unsupported("top_k", "top_k sampling", kOpenAiApi,
                       OrChooseAnthropic("Omit top_k (top_p and temperature are translated)"));
  }
  return Unsupported(std::string(key), "the parameter '" + core::ClipForEcho(key) + "'", kOpenAiApi,
                     OrChooseAnthropic("Remove it"));
}

}  // namespace

core::Result<json::object> AnthropicToOpenAiRequest(const json::object& body,
                                                    json::storage_ptr sp) {
  json::object out(sp);
  if (auto s = internal::AnthropicMessagesToOpenAi(body, out); !s) return std::move(s).error();
  const json::value* tools = nullptr;
  const json::value* tool_choice = nullptr;
  for (const auto& [key, value] : body) {
    if (value.is_null() || key == "model" || key == "messages" || key == "system") continue;
    if (key == "stream") {
      out["stream"] = value;  // the adapter adds stream_options
    } else if (key == "max_tokens") {
      out["max_completion_tokens"] = value;
    } else if (key == "stop_sequences") {
      const auto* list = value.if_array();
      if (list && list->size() > kMaxStopSequences) {
        return Unsupported("stop_sequences", "more than 4 stop sequences", kOpenAiApi,
                           OrChooseAnthropic("Send at most 4 (OpenAI's limit)"));
      }
      out["stop"] = value;
    } else if (key == "temperature" || key == "top_p") {
      out[key] = value;
    } else if (key == "tools") {
      tools = &value;
    } else if (key == "tool_choice") {
      tool_choice = &value;
    } else if (key == "output_config" || key == "output_format") {
      if (auto s = internal::OutputFormatToOpenAi(key, value, out); !s) {
        return std::move(s).error();
      }
    } else if (key == "metadata") {
      const auto* metadata = value.if_object();
      const auto user = metadata ? FindString(*metadata, "user_id") : std::nullopt;
      if (user) out["user"] = *user;
    } else if (auto refusal = Untranslatable(key)) {
      return std::move(*refusal);
    }
  }
  if (tools) {
    auto list = Tools(*tools, sp);
    if (!list) return std::move(list).error();
    if (!list->empty()) out["tools"] = std::move(*list);
  }
  if (tool_choice && out.contains("tools")) {
    if (auto s = ToolChoice(*tool_choice, out); !s) return std::move(s).error();
  }
  return out;
}

}  // namespace sy::api::translate
