// OpenAI Chat Completions request body -> Anthropic Messages request body.
//
// Dropped, as they do not change the answer's content: model (the adapter sets it),
// stream_options (the Anthropic adapter always gets usage), store, metadata (OpenAI's stored-
// completion tags, unrelated to Anthropic's metadata), service_tier, seed, prediction (a latency
// hint), reasoning_effort, safety_identifier, prompt_cache_key, frequency_penalty and
// presence_penalty when 0, logprobs false, n = 1, response_format {type: text}, logit_bias {},
// modalities ["text"], `strict` on tools, and any parameter whose value is null (as OpenAI
// treats it: absent).
// response_format json_schema / json_object: structured_output.cpp (native output_config.format,
// or a forced tool whose input is the answer; the tool's name is reserved, see
// internal::kJsonAnswerTool).
// Refused: everything else that Anthropic cannot express (see Translate below), and any
// parameter this translator does not know, named, since silently dropping it could change the
// answer.
#include <string>
#include <utility>

#include "api/translate/translate_internal.h"

namespace sy::api::translate {
namespace {

namespace json = boost::json;
using internal::Find;
using internal::FindObject;
using internal::FindString;
using internal::kAnthropicApi;
using internal::Unsupported;

constexpr std::string_view kOrChooseOpenAi =
    ", or choose a model that speaks the OpenAI Chat Completions API.";

std::string OrChooseOpenAi(std::string_view fix) {
  return std::string(fix) + std::string(kOrChooseOpenAi);
}

bool IsZero(const json::value& v) {
  return (v.is_int64() && v.get_int64() == 0) || (v.is_uint64() && v.get_uint64() == 0) ||
         (v.is_double() && v.get_double() == 0.0);
}

bool IsOne(const json::value& v) {
  return (v.is_int64() && v.get_int64() == 1) || (v.is_uint64() && v.get_uint64() == 1);
}

core::Result<json::array> StopSequences(const json::value& stop, const json::storage_ptr& sp) {
  json::array out(sp);
  if (stop.is_string()) {
    out.push_back(stop);
    return out;
  }
  const auto* list = stop.if_array();
  if (!list) return core::InvalidParam("stop", "'stop' must be a string or an array of strings.");
  for (size_t i = 0; i < list->size(); ++i) {
    if (!(*list)[i].is_string()) {
      const std::string at = "stop[" + std::to_string(i) + "]";
      return core::InvalidParam(at, "'" + at + "' must be a string.");
    }
    out.push_back((*list)[i]);
  }
  return out;
}

core::Result<json::array> Tools(const json::value& tools, const json::storage_ptr& sp) {
  const auto* list = tools.if_array();
  if (!list) return core::InvalidParam("tools", "'tools' must be an array.");
  json::array out(sp);
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string at = "tools[" + std::to_string(i) + "]";
    const auto* tool = (*list)[i].if_object();
    const auto type = tool ? FindString(*tool, "type") : std::nullopt;
    if (type && *type != "function") {
      return Unsupported(at + ".type", "a tool of type '" + core::ClipForEcho(*type) + "'",
                         kAnthropicApi, OrChooseOpenAi("Send function tools only"));
    }
    const auto* fn = tool ? FindObject(*tool, "function") : nullptr;
    const auto name = fn ? FindString(*fn, "name") : std::nullopt;
    if (!name)
      return core::InvalidParam(at + ".function.name",
                                "'" + at + ".function.name' must be a string.");
    if (*name == internal::kJsonAnswerTool) {
      return core::InvalidParam(at + ".function.name",
                                "'" + at + ".function.name': the name '" +
                                    std::string(internal::kJsonAnswerTool) +
                                    "' is reserved by the gateway (it carries JSON answers from "
                                    "Anthropic models): rename the tool.");
    }
    json::object anthropic(sp);
    anthropic["name"] = *name;
    if (const auto description = FindString(*fn, "description")) {
      anthropic["description"] = *description;
    }
    if (const auto* parameters = Find(*fn, "parameters")) {
      if (!parameters->is_object()) {
        return core::InvalidParam(at + ".function.parameters",
                                  "'" + at + ".function.parameters' must be a JSON Schema object.");
      }
      anthropic["input_schema"] = *parameters;
    } else {
      anthropic["input_schema"] =
          json::object({{"type", "object"}, {"properties", json::object()}}, sp);
    }
    out.push_back(std::move(anthropic));
  }
  return out;
}

core::Result<json::object> ToolChoice(const json::value& choice, const json::storage_ptr& sp) {
  json::object out(sp);
  if (choice.is_string()) {
    const std::string_view s = choice.get_string();
    if (s == "none" || s == "auto") {
      out["type"] = s;
    } else if (s == "required") {
      out["type"] = "any";
    } else {
      return core::InvalidParam("tool_choice",
                                "'tool_choice': unknown value '" + core::ClipForEcho(s) + "'.");
    }
    return out;
  }
  const auto* obj = choice.if_object();
  const auto type = obj ? FindString(*obj, "type") : std::nullopt;
  const auto* fn = obj ? FindObject(*obj, "function") : nullptr;
  const auto name = fn ? FindString(*fn, "name") : std::nullopt;
  if (type != "function" || !name) {
    return Unsupported("tool_choice", "this 'tool_choice'", kAnthropicApi,
                       OrChooseOpenAi("Send \"none\", \"auto\", \"required\" or "
                                      "{\"type\": \"function\", \"function\": {\"name\": ...}}"));
  }
  out["type"] = "tool";
  out["name"] = *name;
  return out;
}

// Parameters that have no Anthropic equivalent: an error naming it, or std::nullopt when this
// value of it does not change the answer (dropped).
std::optional<core::Error> Untranslatable(std::string_view key, const json::value& v) {
  const std::string k(key);
  auto refuse = [&](std::string_view what, std::string_view fix) {
    return Unsupported(k, what, kAnthropicApi, OrChooseOpenAi(fix));
  };
  if (key == "n") {
    if (IsOne(v)) return std::nullopt;
    return refuse("more than one choice ('n' > 1)", "Set 'n' to 1 and repeat the request for more");
  }
  if (key == "logprobs") {
    if (v.is_bool() && !v.get_bool()) return std::nullopt;
    return refuse("log probabilities", "Omit 'logprobs' and 'top_logprobs'");
  }
  if (key == "top_logprobs")
    return refuse("log probabilities", "Omit 'logprobs' and 'top_logprobs'");
  if (key == "logit_bias") {
    if (v.is_object() && v.get_object().empty()) return std::nullopt;
    return refuse("token logit biases", "Omit 'logit_bias'");
  }
  if (key == "frequency_penalty" || key == "presence_penalty") {
    if (IsZero(v)) return std::nullopt;
    return refuse("a non-zero '" + k + "'", "Omit it or set it to 0");
  }
  if (key == "modalities") {
    const auto* list = v.if_array();
    if (list && list->size() == 1 && (*list)[0].is_string() && (*list)[0].get_string() == "text") {
      return std::nullopt;
    }
    return refuse("audio output", "Omit 'modalities' and 'audio'");
  }
  if (key == "audio") return refuse("audio output", "Omit 'modalities' and 'audio'");
  if (key == "web_search_options") {
    return refuse("OpenAI's built-in web search", "Omit 'web_search_options'");
  }
  if (key == "functions" || key == "function_call") {
    return refuse("the legacy '" + k + "'", "Send 'tools' and 'tool_choice' instead");
  }
  static constexpr std::string_view kDropped[] = {"stream_options",
                                                  "store",
                                                  "metadata",
                                                  "service_tier",
                                                  "seed",
                                                  "prediction",
                                                  "reasoning_effort",
                                                  "safety_identifier",
                                                  "prompt_cache_key"};
  for (const auto dropped : kDropped) {
    if (key == dropped) return std::nullopt;
  }
  return refuse("the parameter '" + core::ClipForEcho(k) + "'", "Remove it");
}

}  // namespace

core::Result<json::object> OpenAiToAnthropicRequest(const json::object& body, json::storage_ptr sp,
                                                    const TargetModel& target,
                                                    int64_t max_json_depth) {
  json::object out(sp);
  const json::value* max_tokens = nullptr;
  const json::value* max_completion_tokens = nullptr;
  const json::value* tool_choice = nullptr;
  const json::value* parallel_tool_calls = nullptr;
  const json::value* tools = nullptr;
  const json::value* response_format = nullptr;
  const json::value* messages = nullptr;
  for (const auto& [key, value] : body) {
    if (value.is_null() || key == "model") continue;
    if (key == "messages") {
      messages = &value;
    } else if (key == "stream") {
      out["stream"] = value;
    } else if (key == "max_tokens") {
      max_tokens = &value;
    } else if (key == "max_completion_tokens") {
      max_completion_tokens = &value;
    } else if (key == "stop") {
      auto stop = StopSequences(value, sp);
      if (!stop) return std::move(stop).error();
      out["stop_sequences"] = std::move(*stop);
    } else if (key == "temperature") {
      boost::system::error_code ec;
      const double t = value.to_number<double>(ec);
      if (ec) return core::InvalidParam("temperature", "'temperature' must be a number.");
      if (t < 0 || t > 1) {
        return Unsupported("temperature", "a temperature outside 0 to 1", kAnthropicApi,
                           OrChooseOpenAi("Anthropic's range is 0 to 1: send a temperature in it"));
      }
      out["temperature"] = value;
    } else if (key == "top_p") {
      out["top_p"] = value;
    } else if (key == "tools") {
      tools = &value;
    } else if (key == "tool_choice") {
      tool_choice = &value;
    } else if (key == "parallel_tool_calls") {
      parallel_tool_calls = &value;
    } else if (key == "response_format") {
      response_format = &value;
    } else if (key == "user") {
      if (!value.is_string()) return core::InvalidParam("user", "'user' must be a string.");
      out["metadata"] = json::object({{"user_id", value}}, sp);
    } else if (auto refusal = Untranslatable(key, value)) {
      return std::move(*refusal);
    }
  }
  if (const auto* limit = max_completion_tokens ? max_completion_tokens : max_tokens) {
    out["max_tokens"] = *limit;  // absent: the adapter fills in the model's default
  }
  if (tools) {
    auto list = Tools(*tools, sp);
    if (!list) return std::move(list).error();
    out["tools"] = std::move(*list);
  }
  if (tool_choice) {
    auto choice = ToolChoice(*tool_choice, sp);
    if (!choice) return std::move(choice).error();
    out["tool_choice"] = std::move(*choice);
  }
  if (response_format) {
    if (auto s = internal::ResponseFormatToAnthropic(*response_format, tool_choice, target, out);
        !s) {
      return std::move(s).error();
    }
  }
  const bool has_tools = tools && tools->is_array() && !tools->get_array().empty();
  if (parallel_tool_calls && parallel_tool_calls->is_bool() && !parallel_tool_calls->get_bool() &&
      (tool_choice || has_tools)) {
    auto& choice = out["tool_choice"];
    if (!choice.is_object()) choice = json::object({{"type", "auto"}}, sp);
    // Anthropic's {type: none} takes no disable_parallel_tool_use: no tool, nothing to limit.
    if (FindString(choice.get_object(), "type") != "none") {
      choice.get_object()["disable_parallel_tool_use"] = true;
    }
  }
  const auto* list = messages ? messages->if_array() : nullptr;
  if (!list) return core::InvalidParam("messages", "'messages' must be an array.");
  if (auto s = internal::OpenAiMessagesToAnthropic(*list, max_json_depth, out); !s) {
    return std::move(s).error();
  }
  return out;
}

}  // namespace sy::api::translate
