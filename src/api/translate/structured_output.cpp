// Structured output (a JSON answer) between Chat Completions and Anthropic Messages requests.
//
// Chat -> Anthropic (response_format):
//   {type: text}                          nothing (the default).
//   json_schema, native structured output  output_config: {format: {type: json_schema, schema}}.
//       The schema is passed as given: Anthropic accepts a subset of JSON Schema (no recursion,
//       no minimum/maximum/multipleOf, no minLength/maxLength, additionalProperties only false,
//       ...) and that subset keeps growing, so the upstream judges it and its 400 names the
//       keyword; refusing here would mean keeping a copy of Anthropic's rules that goes stale.
//       json_schema.description goes to the schema's own description when it has none (the
//       model reads it either way); name and strict are dropped (Anthropic's format has no name
//       and always constrains decoding, which satisfies strict false as well).
//   json_schema without native support, and json_object (Anthropic has no JSON mode): a forced
//       tool, internal::kJsonAnswerTool, whose input_schema is the schema (json_object:
//       {"type": "object"}) and whose input is the answer. A tool input is an object, so a schema
//       whose root is not {"type": "object"} is refused here. With the client's tools:
//         client tool_choice                    Anthropic tool_choice        our tool
//         any value, no client tools            {type: tool, name: ours}     added
//         "none"                                {type: tool, name: ours}     added
//         absent or "auto", client tools        {type: any}                  added
//         "required"                            {type: any}                  left out
//         {function: {name}}                    {type: tool, name}           left out
//       so the answer is the JSON, or (auto) either the JSON or a call of a client tool, and a
//       client that demands a tool call gets one. The answer translators unwrap our tool call
//       into message.content (finish_reason "stop" when it was the only call).
// Anthropic -> Chat (output_config.format, or the beta top-level output_format, same shape):
//   {type: json_schema, schema} -> response_format {type: json_schema, json_schema: {name:
//   "output", schema, strict: true}} (Anthropic always constrains decoding: strict is the same
//   promise). output_config.effort is dropped, like thinking: it sets how much the model
//   reasons, not what the answer says, and Chat's reasoning_effort would be refused by the
//   models that do not reason.
#include <string>
#include <utility>

#include "api/translate/translate_internal.h"

namespace sy::api::translate::internal {
namespace {

namespace json = boost::json;

constexpr std::string_view kJsonAnswerDescription =
    "Respond by calling this tool with the answer as its input.";

constexpr std::string_view kSchemaParam = "response_format.json_schema.schema";

bool HasClientTools(const json::object& out) {
  const auto* tools = FindArray(out, "tools");
  return tools && !tools->empty();
}

// The tool whose input is the answer.
json::object JsonAnswerTool(const json::object& schema, std::optional<std::string_view> about,
                            const json::storage_ptr& sp) {
  json::object tool(sp);
  tool["name"] = kJsonAnswerTool;
  std::string description(kJsonAnswerDescription);
  if (about && !about->empty()) description += " The answer: " + std::string(*about);
  tool["description"] = description;
  tool["input_schema"] = schema;
  return tool;
}

// Adds our tool and the tool_choice that forces it (or lets the model choose between it and the
// client's tools), unless the client's tool_choice demands one of its own tools.
void ForceJsonAnswerTool(json::object tool, const json::value* client_tool_choice,
                         json::object& out) {
  const auto& sp = out.storage();
  const bool client_tools = HasClientTools(out);
  const json::string* choice = client_tool_choice ? client_tool_choice->if_string() : nullptr;
  if (client_tools) {
    if (client_tool_choice && !choice) return;    // a named client function: that function
    if (choice && *choice == "required") return;  // any over the client's tools
  }
  const bool only_ours = !client_tools || (choice && *choice == "none");
  if (only_ours) {
    out["tool_choice"] = json::object({{"type", "tool"}, {"name", kJsonAnswerTool}}, sp);
  } else {
    out["tool_choice"] = json::object({{"type", "any"}}, sp);
  }
  auto& tools = out["tools"];
  if (!tools.is_array()) tools = json::array(sp);
  tools.get_array().push_back(std::move(tool));
}

}  // namespace

core::Status ResponseFormatToAnthropic(const json::value& response_format,
                                       const json::value* client_tool_choice,
                                       const TargetModel& target, json::object& out) {
  const auto& sp = out.storage();
  const auto* format = response_format.if_object();
  const auto type = format ? FindString(*format, "type") : std::nullopt;
  if (!type) {
    return core::InvalidParam("response_format.type",
                              "'response_format.type' must be \"text\", \"json_object\" or "
                              "\"json_schema\".");
  }
  if (*type == "text") return {};
  if (*type == "json_object") {
    ForceJsonAnswerTool(JsonAnswerTool(json::object({{"type", "object"}}, sp), std::nullopt, sp),
                        client_tool_choice, out);
    return {};
  }
  if (*type != "json_schema") {
    return Unsupported("response_format.type",
                       "response_format type '" + core::ClipForEcho(*type) + "'", kAnthropicApi,
                       "Send \"text\", \"json_object\" or \"json_schema\", or choose a model that "
                       "speaks the OpenAI Chat Completions API.");
  }
  const auto* spec = FindObject(*format, "json_schema");
  const auto* schema = spec ? FindObject(*spec, "schema") : nullptr;
  if (!schema) {
    return core::InvalidParam(std::string(kSchemaParam),
                              "'" + std::string(kSchemaParam) +
                                  "' must be a JSON Schema object (a model that speaks the "
                                  "Anthropic Messages API needs the schema to answer in).");
  }
  const auto description = FindString(*spec, "description");
  if (target.native_structured_output) {
    json::object native(*schema, sp);
    if (description && !native.contains("description")) native["description"] = *description;
    json::object out_format({{"type", "json_schema"}}, sp);
    out_format["schema"] = std::move(native);
    json::object config(sp);
    config["format"] = std::move(out_format);
    out["output_config"] = std::move(config);
    return {};
  }
  if (FindString(*schema, "type") != "object") {
    return Unsupported(std::string(kSchemaParam), "a schema whose root is not of type \"object\"",
                       kAnthropicApi,
                       "This model gives JSON answers as a tool call, whose input is an object: "
                       "wrap the answer in an object schema, or choose a model with native "
                       "structured output or one that speaks the OpenAI Chat Completions API.");
  }
  ForceJsonAnswerTool(JsonAnswerTool(*schema, description, sp), client_tool_choice, out);
  return {};
}

core::Status OutputFormatToOpenAi(std::string_view key, const json::value& value,
                                  json::object& out) {
  const std::string at(key);
  const auto* obj = value.if_object();
  if (!obj) return core::InvalidParam(at, at + ": Input should be a valid dictionary");
  const json::object* format = obj;
  std::string format_at = at;
  if (key == "output_config") {
    format = nullptr;
    for (const auto& [field, v] : *obj) {
      if (v.is_null() || field == "effort") continue;  // effort: see the header comment
      if (field != "format") {
        const std::string param = at + "." + core::ClipForEcho(field);
        return Unsupported(param, "the parameter '" + param + "'", kOpenAiApi,
                           "Remove it, or choose a model that speaks the Anthropic Messages API.");
      }
      format = v.if_object();
      if (!format)
        return core::InvalidParam(at + ".format", at + ".format: Input should be a "
                                                       "valid dictionary");
    }
    if (!format) return {};
    format_at = at + ".format";
  }
  const auto type = FindString(*format, "type");
  if (type != "json_schema") {
    return Unsupported(format_at + ".type", "an output format other than json_schema", kOpenAiApi,
                       "Send {\"type\": \"json_schema\", \"schema\": ...}, or choose a model that "
                       "speaks the Anthropic Messages API.");
  }
  const auto* schema = FindObject(*format, "schema");
  if (!schema)
    return core::InvalidParam(format_at + ".schema", format_at + ".schema: Field required");
  if (out.contains("response_format")) {
    return core::InvalidParam(at, at + ": give either output_config.format or output_format, "
                                       "not both");
  }
  const auto& sp = out.storage();
  json::object spec({{"name", "output"}}, sp);
  spec["schema"] = *schema;
  spec["strict"] = true;
  json::object response_format({{"type", "json_schema"}}, sp);
  response_format["json_schema"] = std::move(spec);
  out["response_format"] = std::move(response_format);
  return {};
}

}  // namespace sy::api::translate::internal
