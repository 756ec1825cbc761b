#include "api/responses/decode.h"

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_set>

#include <boost/json/serialize.hpp>

#include "api/json.h"
#include "api/openai/checks.h"
#include "core/text.h"

namespace sy::api::responses {
namespace {

namespace json = boost::json;

using core::InvalidParam;
using openai::Missing;
using openai::WrongType;

// "Invalid value: 'x'. Supported values are: 'a', 'b', and 'c'."
core::Error BadValue(const std::string& param, std::string_view value,
                     std::initializer_list<std::string_view> supported) {
  std::string list;
  size_t i = 0;
  for (auto s : supported) {
    if (i > 0) list += supported.size() > 2 ? ", " : " ";
    if (i + 1 == supported.size() && i > 0) list += "and ";
    list += "'" + std::string(s) + "'";
    ++i;
  }
  return InvalidParam(param, "Invalid value for '" + param + "': '" + core::ClipForEcho(value) +
                                 "'. Supported values are: " + list + ".");
}

bool OneOf(std::string_view v, std::initializer_list<std::string_view> values) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// A field that, when present and not null, must be a string (a boolean); `at` names it.
core::Status OptionalString(const json::object& obj, std::string_view key, const std::string& at) {
  const auto* v = obj.if_contains(key);
  return !v || v->is_null() ? core::Status() : openai::CheckString(at, *v);
}

core::Status RequiredString(const json::object& obj, std::string_view key, const std::string& at) {
  const auto* v = obj.if_contains(key);
  return v ? openai::CheckString(at, *v) : core::Status(Missing(at));
}

core::Status OptionalBool(const json::object& obj, std::string_view key, const std::string& at) {
  const auto* v = obj.if_contains(key);
  return !v || v->is_null() ? core::Status() : openai::CheckBool(at, *v);
}

// --- input ---------------------------------------------------------------------------------

core::Status CheckPart(const json::value& v, const std::string& at) {
  if (!v.is_object()) return WrongType(at, v, "an object");
  const auto& part = v.get_object();
  const auto* type = part.if_contains("type");
  if (!type) return Missing(at + ".type");
  if (!type->is_string()) return WrongType(at + ".type", *type, "a string");
  const std::string_view t = type->get_string();
  if (t == "input_text" || t == "output_text") return RequiredString(part, "text", at + ".text");
  if (t == "refusal") return RequiredString(part, "refusal", at + ".refusal");
  if (t == "input_image") {
    const auto* url = part.if_contains("image_url");
    const auto* file = part.if_contains("file_id");
    if ((!url || url->is_null()) && (!file || file->is_null())) {
      return InvalidParam(
          at, "Invalid '" + at + "': an input_image needs an image_url or a " + "file_id.");
    }
    for (auto s : {OptionalString(part, "image_url", at + ".image_url"),
                   OptionalString(part, "file_id", at + ".file_id"),
                   OptionalString(part, "detail", at + ".detail")}) {
      if (!s) return s;
    }
    const std::string_view detail = StringAt(part, "detail");
    if (!detail.empty() && !OneOf(detail, {"low", "high", "auto"})) {
      return BadValue(at + ".detail", detail, {"low", "high", "auto"});
    }
    return {};
  }
  if (t == "input_file") return {};  // refused by translation; nothing the gateway reads
  return BadValue(at + ".type", t,
                  {"input_text", "input_image", "input_file", "output_text", "refusal"});
}

core::Status CheckContent(const json::object& item, const std::string& at) {
  const auto* content = item.if_contains("content");
  if (!content) return Missing(at + ".content");
  if (content->is_string()) return {};
  if (!content->is_array()) {
    return WrongType(at + ".content", *content, "a string or an array of content parts");
  }
  const auto& parts = content->get_array();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (auto s = CheckPart(parts[i], at + ".content[" + std::to_string(i) + "]"); !s) return s;
  }
  return {};
}

core::Status CheckMessageItem(const json::object& item, const std::string& at) {
  const auto* role = item.if_contains("role");
  if (!role) return Missing(at + ".role");
  if (!role->is_string()) return WrongType(at + ".role", *role, "a string");
  const std::string_view r = role->get_string();
  if (!OneOf(r, {"user", "assistant", "system", "developer"})) {
    return BadValue(at + ".role", r, {"user", "assistant", "system", "developer"});
  }
  return CheckContent(item, at);
}

core::Status CheckItem(const json::value& v, size_t index) {
  const std::string at = "input[" + std::to_string(index) + "]";
  if (!v.is_object()) return WrongType(at, v, "an object");
  const auto& item = v.get_object();
  const auto* type = item.if_contains("type");
  if (!type || type->is_null()) {
    if (item.contains("role")) return CheckMessageItem(item, at);
    return Missing(at + ".type");
  }
  if (!type->is_string()) return WrongType(at + ".type", *type, "a string");
  const std::string_view t = type->get_string();
  if (t == "message") return CheckMessageItem(item, at);
  if (t == "function_call") {
    for (auto s : {RequiredString(item, "call_id", at + ".call_id"),
                   RequiredString(item, "name", at + ".name"),
                   RequiredString(item, "arguments", at + ".arguments")}) {
      if (!s) return s;
    }
    return {};
  }
  if (t == "function_call_output") {
    if (auto s = RequiredString(item, "call_id", at + ".call_id"); !s) return s;
    const auto* output = item.if_contains("output");
    if (!output) return Missing(at + ".output");
    if (output->is_string()) return {};
    if (!output->is_array()) return WrongType(at + ".output", *output, "a string or an array");
    const auto& parts = output->get_array();
    for (size_t i = 0; i < parts.size(); ++i) {
      if (auto s = CheckPart(parts[i], at + ".output[" + std::to_string(i) + "]"); !s) return s;
    }
    return {};
  }
  if (t == "reasoning") return {};  // refused by translation when the model cannot take it
  return BadValue(at + ".type", t,
                  {"message", "function_call", "function_call_output", "reasoning"});
}

core::Status CheckInput(const json::object& body) {
  const auto* input = body.if_contains("input");
  if (!input || input->is_null())
    return {};  // previous_response_id or a stored prompt may carry it
  if (input->is_string()) return {};
  if (!input->is_array()) {
    return WrongType("input", *input, "a string or an array of input items");
  }
  const auto& items = input->get_array();
  for (size_t i = 0; i < items.size(); ++i) {
    if (auto s = CheckItem(items[i], i); !s) return s;
  }
  return {};
}

// --- tools, tool_choice, text ---------------------------------------------------------------

core::Status CheckTool(const json::value& v, const std::string& at) {
  if (!v.is_object()) return WrongType(at, v, "an object");
  const auto& tool = v.get_object();
  if (auto s = RequiredString(tool, "type", at + ".type"); !s) return s;
  if (tool.at("type").get_string() != "function") return {};  // built-in: refused by translation
  if (auto s = RequiredString(tool, "name", at + ".name"); !s) return s;
  const auto* parameters = tool.if_contains("parameters");
  if (parameters && !parameters->is_null() && !parameters->is_object()) {
    return WrongType(at + ".parameters", *parameters, "an object");
  }
  for (auto s : {OptionalBool(tool, "strict", at + ".strict"),
                 OptionalString(tool, "description", at + ".description")}) {
    if (!s) return s;
  }
  return {};
}

core::Status CheckTools(const json::object& body) {
  const auto* tools = body.if_contains("tools");
  if (!tools || tools->is_null()) return {};
  if (!tools->is_array()) return WrongType("tools", *tools, "an array");
  const auto& list = tools->get_array();
  for (size_t i = 0; i < list.size(); ++i) {
    if (auto s = CheckTool(list[i], "tools[" + std::to_string(i) + "]"); !s) return s;
  }
  return {};
}

core::Status CheckToolChoice(const json::object& body) {
  const auto* choice = body.if_contains("tool_choice");
  if (!choice || choice->is_null()) return {};
  if (choice->is_string()) {
    const std::string_view c = choice->get_string();
    if (OneOf(c, {"auto", "none", "required"})) return {};
    return BadValue("tool_choice", c, {"auto", "none", "required"});
  }
  if (!choice->is_object()) return WrongType("tool_choice", *choice, "a string or an object");
  const auto& c = choice->get_object();
  if (auto s = RequiredString(c, "type", "tool_choice.type"); !s) return s;
  if (c.at("type").get_string() == "function") {
    return RequiredString(c, "name", "tool_choice.name");
  }
  return {};  // the built-in tool forms (file_search, web_search_preview, allowed_tools, ...)
}

core::Status CheckJsonSchemaFormat(const json::object& format) {
  if (auto s = RequiredString(format, "name", "text.format.name"); !s) return s;
  const auto* schema = format.if_contains("schema");
  if (!schema) return Missing("text.format.schema");
  const auto* obj = schema->if_object();
  const auto* type = obj ? obj->if_contains("type") : nullptr;
  if (!type || !type->is_string() || type->get_string() != "object") {
    return InvalidParam("text.format.schema",
                        "Invalid schema for response_format '" +
                            core::ClipForEcho(StringAt(format, "name")) +
                            "': schema must be a JSON Schema of 'type: \"object\"'.");
  }
  return OptionalBool(format, "strict", "text.format.strict");
}

core::Status CheckText(const json::object& body) {
  const auto* text = body.if_contains("text");
  if (!text || text->is_null()) return {};
  if (!text->is_object()) return WrongType("text", *text, "an object");
  const auto* format = text->get_object().if_contains("format");
  if (!format || format->is_null()) return {};
  if (!format->is_object()) return WrongType("text.format", *format, "an object");
  const auto& f = format->get_object();
  if (auto s = RequiredString(f, "type", "text.format.type"); !s) return s;
  const std::string_view type = f.at("type").get_string();
  if (type == "json_schema") return CheckJsonSchemaFormat(f);
  if (type == "text" || type == "json_object") return {};
  return BadValue("text.format.type", type, {"text", "json_object", "json_schema"});
}

// --- the rest ------------------------------------------------------------------------------

// OpenAI's metadata limits: at most 16 pairs, keys up to 64 characters, values up to 512.
core::Status CheckMetadata(const json::object& body) {
  const auto* metadata = body.if_contains("metadata");
  if (!metadata || metadata->is_null()) return {};
  if (!metadata->is_object()) return WrongType("metadata", *metadata, "an object");
  const auto& m = metadata->get_object();
  if (m.size() > 16) {
    return InvalidParam("metadata", "Invalid 'metadata': too many properties. Expected an object " +
                                        std::string("with at most 16 properties, but got ") +
                                        std::to_string(m.size()) + ".");
  }
  for (const auto& kv : m) {
    const std::string at = "metadata." + core::ClipForEcho(kv.key());
    if (kv.key().size() > 64) {
      return InvalidParam("metadata", "Invalid 'metadata': a key is longer than 64 characters.");
    }
    if (!kv.value().is_string()) return WrongType(at, kv.value(), "a string");
    if (kv.value().get_string().size() > 512) {
      return InvalidParam(at, "Invalid '" + at + "': string too long. Expected a string with " +
                                  "maximum length 512.");
    }
  }
  return {};
}

core::Status CheckReasoning(const json::object& body) {
  const auto* reasoning = body.if_contains("reasoning");
  if (!reasoning || reasoning->is_null()) return {};
  if (!reasoning->is_object()) return WrongType("reasoning", *reasoning, "an object");
  const auto* effort = reasoning->get_object().if_contains("effort");
  if (!effort || effort->is_null()) return {};
  if (!effort->is_string()) return WrongType("reasoning.effort", *effort, "a string");
  const std::string_view e = effort->get_string();
  // One list for the check and the message, so that the message names what is accepted.
  const std::initializer_list<std::string_view> efforts = {"none",   "minimal", "low",
                                                           "medium", "high",    "xhigh"};
  if (OneOf(e, efforts)) return {};
  return BadValue("reasoning.effort", e, efforts);
}

constexpr openai::ParamRule kScalarRules[] = {
    {"instructions", openai::CheckString},
    {"previous_response_id", openai::CheckString},
    {"stream", openai::CheckBool},
    {"store", openai::CheckBool},
    {"parallel_tool_calls", openai::CheckBool},
    {"max_output_tokens", openai::CheckPositiveInt},
    {"temperature", openai::CheckTemperature},
    {"top_p", openai::CheckTopP},
};

}  // namespace

core::Status DecodeResponsesRequest(std::string_view body, int64_t max_depth, core::Request& out) {
  auto parsed = ParseJson(body, max_depth, out.body.storage());  // same arena: moves, no copy
  if (!parsed) return std::move(parsed).error();
  if (!parsed->is_object()) return InvalidParam("", "The request body must be a JSON object.");
  auto& obj = parsed->get_object();
  const auto* model = obj.if_contains("model");
  if (!model) return Missing("model");
  if (!model->is_string()) return WrongType("model", *model, "a string");
  if (model->get_string().empty()) {
    return InvalidParam("model", "Invalid 'model': empty string. Expected a model id.");
  }
  out.model = std::string(model->get_string());
  for (auto s : {CheckInput(obj), CheckTools(obj), CheckToolChoice(obj), CheckText(obj),
                 CheckMetadata(obj), CheckReasoning(obj), openai::CheckParams(obj, kScalarRules)}) {
    if (!s) return s;
  }
  out.dialect = core::Dialect::kOpenAiResponses;
  out.max_json_depth = max_depth;
  const auto* stream = obj.if_contains("stream");
  out.stream = stream && stream->is_bool() && stream->get_bool();
  out.include_usage = false;
  out.body = std::move(obj);
  return {};
}

// One pass, the calls seen so far in a set: a search back from each output was quadratic in
// the items, and an 8 MiB body of them held a worker for tens of seconds. The set is made only
// when the input has tool calls.
core::Status CheckFunctionCallOutputs(const json::array& input) {
  std::unordered_set<std::string_view> calls;
  for (size_t i = 0; i < input.size(); ++i) {
    const auto* item = input[i].if_object();
    if (!item) continue;
    const std::string_view type = StringAt(*item, "type");
    if (type == "function_call") {
      calls.insert(StringAt(*item, "call_id"));
      continue;
    }
    if (type != "function_call_output") continue;
    const std::string_view call_id = StringAt(*item, "call_id");
    if (calls.contains(call_id)) continue;
    const std::string at = "input[" + std::to_string(i) + "].call_id";
    return InvalidParam(at, "No tool call found for function call output with call_id " +
                                core::ClipForEcho(call_id) + ".");
  }
  return {};
}

}  // namespace sy::api::responses
