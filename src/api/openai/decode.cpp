#include "api/openai/decode.h"

#include <algorithm>
#include <array>
#include <string>

#include <boost/json/serialize.hpp>

#include "api/json.h"
#include "api/openai/checks.h"
#include "core/text.h"

namespace sy::api::openai {
namespace {

namespace json = boost::json;

using core::InvalidParam;

core::Status CheckMessage(const json::value& m, size_t index) {
  // The message's path, only for an error's text: most messages pass.
  const auto at = [index](std::string_view field = {}) {
    return "messages[" + std::to_string(index) + "]" + std::string(field);
  };
  if (!m.is_object()) return WrongType(at(), m, "an object");
  const auto& msg = m.get_object();
  const auto* role = msg.if_contains("role");
  if (!role) return Missing(at(".role"));
  if (!role->is_string()) return WrongType(at(".role"), *role, "a string");
  static constexpr std::array<std::string_view, 6> kRoles = {"system",    "developer", "user",
                                                             "assistant", "tool",      "function"};
  const std::string_view r = role->get_string();
  if (std::find(kRoles.begin(), kRoles.end(), r) == kRoles.end()) {
    return InvalidParam(at(".role"), "Invalid value: '" + core::ClipForEcho(r) +
                                         "'. Supported values are: " +
                                         "'system', 'developer', 'user', 'assistant', 'tool', and "
                                         "'function'.");
  }
  const auto* content = msg.if_contains("content");
  if (content && !content->is_string() && !content->is_array() && !content->is_null()) {
    return WrongType(at(".content"), *content, "a string or an array of content parts");
  }
  if (!content && r != "assistant") {
    return Missing(at(".content"));
  }
  if (r == "tool" && !msg.contains("tool_call_id")) {
    return Missing(at(".tool_call_id"));
  }
  return {};
}

core::Status CheckMessages(const json::object& body) {
  const auto* messages = body.if_contains("messages");
  if (!messages) return Missing("messages");
  if (!messages->is_array()) return WrongType("messages", *messages, "an array");
  const auto& list = messages->get_array();
  if (list.empty()) {
    return InvalidParam("messages",
                        "Invalid 'messages': empty array. Expected an array with minimum "
                        "length 1.");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    if (auto s = CheckMessage(list[i], i); !s) return s;
  }
  return {};
}

core::Status CheckTools(const json::object& body) {
  const auto* tools = body.if_contains("tools");
  if (!tools || tools->is_null()) return {};
  if (!tools->is_array()) return WrongType("tools", *tools, "an array");
  const auto& list = tools->get_array();
  for (size_t i = 0; i < list.size(); ++i) {
    const auto* fn = list[i].is_object() ? list[i].get_object().if_contains("function") : nullptr;
    const auto* name = fn && fn->is_object() ? fn->get_object().if_contains("name") : nullptr;
    if (!name || !name->is_string()) {
      return Missing("tools[" + std::to_string(i) + "].function.name");
    }
  }
  return {};
}

core::Status CheckPenalty(std::string_view name, const json::value& v) {
  return CheckNumberRange(name, v, -2, 2, "-2", "2");
}

core::Status CheckStop(std::string_view name, const json::value& v) {
  if (v.is_string() || v.is_array()) return {};
  return WrongType(std::string(name), v, "a string or an array");
}

// An object whose include_usage, when present and not null, is a boolean (a string "yes" was
// taken for false).
core::Status CheckStreamOptions(std::string_view name, const json::value& v) {
  if (!v.is_object()) return WrongType(std::string(name), v, "an object");
  const auto* include = v.get_object().if_contains("include_usage");
  if (include && !include->is_null() && !include->is_bool()) {
    return WrongType(std::string(name) + ".include_usage", *include, "a boolean");
  }
  return {};
}

core::Status CheckToolChoice(std::string_view name, const json::value& v) {
  if (v.is_string() || v.is_object()) return {};
  return WrongType(std::string(name), v, "a string or an object");
}

// The optional scalar parameters, checked as OpenAI checks them when present and not null.
constexpr ParamRule kScalarRules[] = {
    {"stream", CheckBool},
    {"stream_options", CheckStreamOptions},
    {"temperature", CheckTemperature},
    {"top_p", CheckTopP},
    {"presence_penalty", CheckPenalty},
    {"frequency_penalty", CheckPenalty},
    {"response_format", CheckObject},
    {"stop", CheckStop},
    {"tool_choice", CheckToolChoice},
    {"n", CheckPositiveInt},
    {"max_tokens", CheckPositiveInt},
    {"max_completion_tokens", CheckPositiveInt},
};

}  // namespace

core::Status DecodeChatRequest(std::string_view body, int64_t max_depth, core::Request& out) {
  auto parsed = ParseJson(body, max_depth, out.body.storage());  // same arena: moves, no copy
  if (!parsed) return std::move(parsed).error();
  if (!parsed->is_object()) return InvalidParam("", "The request body must be a JSON object.");
  auto& obj = parsed->get_object();
  const auto* model = obj.if_contains("model");
  if (!model) return Missing("model");
  if (!model->is_string()) return WrongType("model", *model, "a string");
  out.model = std::string(model->get_string());
  for (auto status : {CheckMessages(obj), CheckTools(obj), CheckParams(obj, kScalarRules)}) {
    if (!status) return status;
  }
  out.dialect = core::Dialect::kOpenAiChat;
  out.max_json_depth = max_depth;
  const auto* stream = obj.if_contains("stream");
  out.stream = stream && stream->is_bool() && stream->get_bool();
  const auto* options = obj.if_contains("stream_options");
  const auto* include = options && options->is_object()
                            ? options->get_object().if_contains("include_usage")
                            : nullptr;
  out.include_usage = include && include->is_bool() && include->get_bool();
  out.body = std::move(obj);
  return {};
}

}  // namespace sy::api::openai
