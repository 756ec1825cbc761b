// ReadSpec: what a client's request asks of the answer, in the client's dialect.
#include <algorithm>
#include <string>

#include <boost/json.hpp>

#include "verify/detail/json_read.h"
#include "verify/verify.h"

namespace sy::verify {
namespace {

namespace json = boost::json;

using detail::Obj;
using detail::Str;

bool Wants(const std::vector<Check>& checks, CheckKind kind) {
  return std::any_of(checks.begin(), checks.end(), [&](const Check& c) { return c.kind == kind; });
}

// Where a dialect keeps a function tool's name and schema.
struct ToolField {
  std::string_view name;
  const json::value* schema = nullptr;
  std::string param;  // "tools[2].function.parameters"
};

std::optional<ToolField> ToolAt(core::Dialect dialect, const json::value& v, size_t i) {
  const auto* tool = v.if_object();
  if (!tool) return std::nullopt;
  const std::string at = "tools[" + std::to_string(i) + "]";
  const std::string_view type = Str(*tool, "type");
  switch (dialect) {
    case core::Dialect::kOpenAiChat: {
      const auto* fn = Obj(tool, "function");
      if (type != "function" || !fn) return std::nullopt;
      return ToolField{Str(*fn, "name"), fn->if_contains("parameters"),
                       at + ".function.parameters"};
    }
    case core::Dialect::kOpenAiResponses:
      if (type != "function") return std::nullopt;
      return ToolField{Str(*tool, "name"), tool->if_contains("parameters"), at + ".parameters"};
    case core::Dialect::kAnthropicMessages:
      if (!type.empty() && type != "custom") return std::nullopt;  // server tools: no schema
      return ToolField{Str(*tool, "name"), tool->if_contains("input_schema"), at + ".input_schema"};
  }
  return std::nullopt;
}

void ReadToolChoice(core::Dialect dialect, const json::object& body, Spec& spec) {
  const auto* choice = body.if_contains("tool_choice");
  if (!choice) return;
  if (const auto* s = choice->if_string()) {
    spec.tool_required = *s == "required";  // OpenAI Chat and Responses
    return;
  }
  const auto* o = choice->if_object();
  if (!o) return;
  const std::string_view type = Str(*o, "type");
  if (dialect == core::Dialect::kAnthropicMessages) {
    spec.tool_required = type == "any" || type == "tool";
    if (type == "tool") spec.forced_tool = std::string(Str(*o, "name"));
  } else if (type == "function") {
    spec.tool_required = true;
    const auto* fn = Obj(o, "function");  // Chat nests the name; Responses does not
    spec.forced_tool = std::string(fn ? Str(*fn, "name") : Str(*o, "name"));
  }
}

// The answer's schema and the request field it came from; null when none is asked for.
std::pair<const json::value*, std::string> AnswerSchema(core::Dialect dialect,
                                                        const json::object& body) {
  auto from = [](const json::object* format, std::string param) {
    if (!format || Str(*format, "type") != "json_schema") {
      return std::pair<const json::value*, std::string>{nullptr, ""};
    }
    return std::pair{format->if_contains("schema"), std::move(param)};
  };
  switch (dialect) {
    case core::Dialect::kOpenAiChat: {
      const auto* format = Obj(&body, "response_format");
      if (!format || Str(*format, "type") != "json_schema") return {nullptr, ""};
      const auto* inner = Obj(format, "json_schema");
      return {inner ? inner->if_contains("schema") : nullptr, "response_format.json_schema.schema"};
    }
    case core::Dialect::kOpenAiResponses:
      return from(Obj(Obj(&body, "text"), "format"), "text.format.schema");
    case core::Dialect::kAnthropicMessages:
      if (const auto* f = Obj(&body, "output_format")) return from(f, "output_format.schema");
      return from(Obj(Obj(&body, "output_config"), "format"), "output_config.format.schema");
  }
  return {nullptr, ""};
}

std::string Context(const core::Prompt& prompt) {
  std::string out;
  for (const auto& t : prompt.texts) {
    if (t.role == core::PromptRole::kAssistant) continue;
    if (!out.empty()) out += '\n';
    out.append(t.text.substr(0, kMaxContextBytes - std::min(out.size(), kMaxContextBytes)));
    if (out.size() >= kMaxContextBytes) break;
  }
  return out;
}

}  // namespace

core::Result<Spec> ReadSpec(core::Dialect dialect, const json::object& body,
                            const core::Prompt& prompt, const std::vector<Check>& checks) {
  Spec spec;
  ReadToolChoice(dialect, body, spec);
  const bool want_schema = Wants(checks, CheckKind::kJsonSchema);
  const bool want_tools = Wants(checks, CheckKind::kToolCall);
  if (want_schema) {
    const auto [schema, param] = AnswerSchema(dialect, body);
    if (schema) {
      auto compiled = CompileSchema(*schema, param);
      if (!compiled) return std::move(compiled).error();
      spec.answer_schema = *std::move(compiled);
    }
  }
  const auto* tools = body.if_contains("tools");
  for (size_t i = 0; tools && tools->is_array() && i < tools->get_array().size(); ++i) {
    const auto field = ToolAt(dialect, tools->get_array()[i], i);
    if (!field) continue;
    Tool tool{std::string(field->name), nullptr};
    // json_schema falls back to the forced tool's schema; tool_call validates every tool's.
    const bool compile = want_tools || (want_schema && tool.name == spec.forced_tool);
    if (compile && field->schema) {
      auto compiled = CompileSchema(*field->schema, field->param);
      if (!compiled) return std::move(compiled).error();
      tool.schema = *std::move(compiled);
    }
    spec.tools.push_back(std::move(tool));
  }
  if (Wants(checks, CheckKind::kGrounded)) spec.context = Context(prompt);
  return spec;
}

}  // namespace sy::verify
