#include "emulator/responses_wire.h"

#include <algorithm>
#include <ctime>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "emulator/bad_output.h"
#include "emulator/completion.h"
#include "emulator/openai_wire.h"
#include "emulator/prompt_tokens.h"
#include "emulator/responses_encode.h"
#include "emulator/text_gen.h"
#include "eval/suite.h"

namespace sy::emulator {

namespace json = boost::json;

namespace {

// OpenAI rejects smaller limits on the Responses API.
constexpr int64_t kMinOutputTokens = 16;

Reply InvalidParam(std::string_view message, std::string_view param, std::string_view code) {
  return OpenAiError(400, message, "invalid_request_error", json::value(param),
                     code.empty() ? json::value(nullptr) : json::value(code));
}

Reply Missing(std::string_view param) {
  return InvalidParam("Missing required parameter: '" + std::string(param) + "'.", param,
                      "missing_required_parameter");
}

Reply WrongType(std::string_view param, std::string_view expected) {
  return InvalidParam(
      "Invalid type for '" + std::string(param) + "': expected " + std::string(expected) + ".",
      param, "invalid_type");
}

// The string at obj[key], or nullptr when absent or not a string.
const json::string* StringAt(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  return v != nullptr ? v->if_string() : nullptr;
}

// A present, non-null member.
const json::value* Given(const json::object& obj, std::string_view key) {
  const json::value* v = obj.if_contains(key);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

struct Decoded {
  std::string model;
  bool stream = false;
  GenerationRequest gen;
  PromptTokens prompt;
  json::object echo;     // the request fields the Response repeats
  std::string item_key;  // eval::ItemKey of the input: how suite items are recognised
};

std::optional<Reply> DecodeContent(const json::value& content, const std::string& where,
                                   Decoded& out) {
  if (content.is_string()) {
    out.prompt.AddText(content.get_string());
    return std::nullopt;
  }
  if (!content.is_array()) return WrongType(where, "a string or an array of content parts");
  const json::array& parts = content.get_array();
  for (size_t j = 0; j < parts.size(); ++j) {
    std::string part_where = where + "[" + std::to_string(j) + "]";
    const json::object* part = parts[j].if_object();
    if (part == nullptr) return WrongType(part_where, "an object");
    const json::string* type = StringAt(*part, "type");
    std::string_view kind = type != nullptr ? std::string_view(*type) : "";
    if (kind == "input_image") {
      out.prompt.AddImage();
    } else if (kind == "input_text" || kind == "output_text") {
      const json::string* text = StringAt(*part, "text");
      if (text == nullptr) return Missing(part_where + ".text");
      out.prompt.AddText(*text);
    } else {
      return InvalidParam("Invalid value: '" + std::string(kind) +
                              "'. Supported values are: 'input_text', 'input_image', and "
                              "'output_text'.",
                          part_where + ".type", "invalid_value");
    }
  }
  return std::nullopt;
}

std::optional<Reply> DecodeMessage(const json::object& item, const std::string& where,
                                   Decoded& out) {
  static constexpr std::string_view kRoles[] = {"user", "assistant", "system", "developer"};
  const json::string* role = StringAt(item, "role");
  if (role == nullptr) return Missing(where + ".role");
  if (std::find(std::begin(kRoles), std::end(kRoles), std::string_view(*role)) ==
      std::end(kRoles)) {
    return InvalidParam("Invalid value: '" + std::string(*role) +
                            "'. Supported values are: 'user', 'assistant', 'system', and "
                            "'developer'.",
                        where + ".role", "invalid_value");
  }
  const json::value* content = item.if_contains("content");
  if (content == nullptr) return Missing(where + ".content");
  out.prompt.AddRoleMarker(*role);
  return DecodeContent(*content, where + ".content", out);
}

std::optional<Reply> DecodeItem(const json::object& item, const std::string& where, bool last,
                                Decoded& out) {
  const json::string* type = StringAt(item, "type");
  std::string_view kind = type != nullptr ? std::string_view(*type) : "message";
  if (kind == "message") return DecodeMessage(item, where, out);
  if (kind == "function_call") {
    for (std::string_view key : {"call_id", "name", "arguments"}) {
      if (StringAt(item, key) == nullptr) return Missing(where + "." + std::string(key));
    }
    out.prompt.AddRoleMarker("assistant");
    out.prompt.AddText(*StringAt(item, "name"));
    out.prompt.AddText(*StringAt(item, "arguments"));
    return std::nullopt;
  }
  if (kind == "function_call_output") {
    if (StringAt(item, "call_id") == nullptr) return Missing(where + ".call_id");
    const json::value* output = item.if_contains("output");
    if (output == nullptr) return Missing(where + ".output");
    out.prompt.AddRoleMarker("tool");
    std::string text = output->is_string() ? std::string(output->get_string()) : std::string();
    if (output->is_array()) {
      if (auto error = DecodeContent(*output, where + ".output", out)) return error;
      for (const auto& part : output->get_array()) {
        if (const json::string* t = StringAt(part.get_object(), "text")) text += *t;
      }
    } else if (output->is_string()) {
      out.prompt.AddText(text);
    } else {
      return WrongType(where + ".output", "a string or an array of content parts");
    }
    if (last) out.gen.tool_result = std::move(text);
    return std::nullopt;
  }
  return InvalidParam("Invalid value: '" + std::string(kind) +
                          "'. The emulator supports input items of type 'message', "
                          "'function_call' and 'function_call_output'.",
                      where + ".type", "invalid_value");
}

// The input as Chat messages for eval::ItemKey: a string input is one user message; of an item
// list, the last user message, its input_text parts as Chat text parts.
json::array ChatShapedInput(const json::value& input) {
  if (input.is_string()) return json::array{json::object{{"role", "user"}, {"content", input}}};
  const json::array* items = input.if_array();
  if (items == nullptr) return {};
  for (auto it = items->rbegin(); it != items->rend(); ++it) {
    const json::object* item = it->if_object();
    if (item == nullptr) continue;
    const json::string* type = StringAt(*item, "type");
    const json::string* role = StringAt(*item, "role");
    if ((type != nullptr && *type != "message") || role == nullptr || *role != "user") continue;
    const json::value* content = item->if_contains("content");
    if (content == nullptr) return {};
    json::value chat_content = *content;
    if (const json::array* parts = content->if_array()) {
      json::array texts;
      for (const auto& part : *parts) {
        const json::object* obj = part.if_object();
        const json::string* kind = obj != nullptr ? StringAt(*obj, "type") : nullptr;
        const json::string* text = obj != nullptr ? StringAt(*obj, "text") : nullptr;
        if (kind != nullptr && *kind == "input_text" && text != nullptr) {
          texts.push_back(json::object{{"type", "text"}, {"text", *text}});
        }
      }
      chat_content = std::move(texts);
    }
    return json::array{json::object{{"role", "user"}, {"content", std::move(chat_content)}}};
  }
  return {};
}

std::optional<Reply> DecodeInput(const json::object& body, Decoded& out) {
  if (const json::string* instructions = StringAt(body, "instructions")) {
    out.prompt.AddRoleMarker("system");
    out.prompt.AddText(*instructions);
  } else if (Given(body, "instructions") != nullptr) {
    return WrongType("instructions", "a string");
  }
  const json::value* input = Given(body, "input");
  if (input == nullptr) return Missing("input");
  if (input->is_string()) {
    out.prompt.AddRoleMarker("user");
    out.prompt.AddText(input->get_string());
  } else if (input->is_array()) {
    const json::array& items = input->get_array();
    for (size_t i = 0; i < items.size(); ++i) {
      std::string where = "input[" + std::to_string(i) + "]";
      const json::object* item = items[i].if_object();
      if (item == nullptr) return WrongType(where, "an object");
      if (auto error = DecodeItem(*item, where, i + 1 == items.size(), out)) return error;
    }
  } else {
    return WrongType("input", "a string or an array of input items");
  }
  out.item_key = eval::ItemKey(ChatShapedInput(*input));
  out.prompt.AddReplyPrimer();
  return std::nullopt;
}

std::optional<Reply> DecodeTools(const json::object& body, Decoded& out) {
  json::array echoed;
  if (const json::value* tools = Given(body, "tools")) {
    if (!tools->is_array()) return WrongType("tools", "an array");
    for (size_t i = 0; i < tools->get_array().size(); ++i) {
      std::string where = "tools[" + std::to_string(i) + "]";
      const json::object* tool = tools->get_array()[i].if_object();
      if (tool == nullptr) return WrongType(where, "an object");
      const json::string* type = StringAt(*tool, "type");
      if (type == nullptr) return Missing(where + ".type");
      if (*type != "function") {
        return InvalidParam("Invalid value: '" + std::string(*type) +
                                "'. The emulator supports only tools of type 'function'.",
                            where + ".type", "invalid_value");
      }
      const json::string* name = StringAt(*tool, "name");
      if (name == nullptr) return Missing(where + ".name");
      const json::value* params = Given(*tool, "parameters");
      out.gen.tools.push_back(ToolSpec{
          std::string(*name), params != nullptr ? *params : json::object{{"type", "object"}}});
      json::object shown = *tool;
      if (!shown.contains("description")) shown["description"] = nullptr;
      if (!shown.contains("strict")) shown["strict"] = true;
      echoed.push_back(std::move(shown));
    }
  }
  out.echo["tools"] = std::move(echoed);
  out.gen.tool_mode = out.gen.tools.empty() ? ToolMode::kNone : ToolMode::kAuto;
  out.echo["tool_choice"] = "auto";
  if (const json::value* choice = Given(body, "tool_choice")) {
    out.echo["tool_choice"] = *choice;
    std::string_view mode = choice->is_string() ? std::string_view(choice->get_string()) : "";
    const json::string* name =
        choice->is_object() ? StringAt(choice->get_object(), "name") : nullptr;
    if (mode == "none") {
      out.gen.tool_mode = ToolMode::kNone;
    } else if (mode == "auto" || mode == "required") {
      if (!out.gen.tools.empty() && mode == "required") out.gen.tool_mode = ToolMode::kRequired;
    } else if (name != nullptr) {
      out.gen.tool_mode = ToolMode::kNamed;
      out.gen.named_tool = std::string(*name);
      bool known = std::any_of(out.gen.tools.begin(), out.gen.tools.end(),
                               [&](const ToolSpec& t) { return t.name == out.gen.named_tool; });
      if (!known) {
        return InvalidParam("Tool choice 'function' not found in 'tools' parameter.", "tool_choice",
                            "");
      }
    } else {
      return InvalidParam(
          "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or "
          "{\"type\": \"function\", \"name\": ...}.",
          "tool_choice", "invalid_value");
    }
  }
  out.echo["parallel_tool_calls"] = true;
  if (const json::value* p = Given(body, "parallel_tool_calls")) {
    if (!p->is_bool()) return WrongType("parallel_tool_calls", "a boolean");
    out.gen.parallel_tool_calls = p->get_bool();
    out.echo["parallel_tool_calls"] = p->get_bool();
  }
  return std::nullopt;
}

std::optional<Reply> DecodeTextFormat(const json::object& body, Decoded& out) {
  json::object format{{"type", "text"}};
  if (const json::value* given = Given(body, "text")) {
    if (!given->is_object()) return WrongType("text", "an object");
    if (const json::value* f = Given(given->get_object(), "format")) {
      if (!f->is_object()) return WrongType("text.format", "an object");
      format = f->get_object();
      const json::string* type = StringAt(format, "type");
      if (type == nullptr) return Missing("text.format.type");
      if (*type == "json_object") {
        out.gen.format = OutputFormat::kJsonObject;
      } else if (*type == "json_schema") {
        if (StringAt(format, "name") == nullptr) return Missing("text.format.name");
        const json::value* schema = Given(format, "schema");
        if (schema == nullptr) return Missing("text.format.schema");
        if (!schema->is_object()) return WrongType("text.format.schema", "an object");
        out.gen.format = OutputFormat::kJsonSchema;
        out.gen.schema = *schema;
      } else if (*type != "text") {
        return InvalidParam("Invalid value: '" + std::string(*type) +
                                "'. Supported values are: 'text', 'json_object', and "
                                "'json_schema'.",
                            "text.format.type", "invalid_value");
      }
    }
  }
  out.echo["text"] = json::object{{"format", std::move(format)}, {"verbosity", "medium"}};
  return std::nullopt;
}

// A number within [lo, hi] echoed under `key`, `fallback` when absent.
std::optional<Reply> DecodeRange(const json::object& body, std::string_view key, double lo,
                                 double hi, double fallback, Decoded& out) {
  out.echo[key] = fallback;
  const json::value* v = Given(body, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) return WrongType(key, "a number");
  double x = v->to_number<double>();
  if (x < lo || x > hi) {
    std::string bound = x < lo ? "below minimum" : "above maximum";
    return InvalidParam("Invalid '" + std::string(key) + "': decimal " + bound +
                            " value. Expected a value " + (x < lo ? ">= " : "<= ") +
                            json::serialize(json::value(x < lo ? lo : hi)) + ", but got " +
                            json::serialize(*v) + " instead.",
                        key, x < lo ? "decimal_below_min_value" : "decimal_above_max_value");
  }
  out.echo[key] = *v;
  return std::nullopt;
}

std::optional<Reply> DecodeOptions(const json::object& body, Decoded& out) {
  for (std::string_view key : {"stream", "store"}) {
    const json::value* v = Given(body, key);
    if (v != nullptr && !v->is_bool()) return WrongType(key, "a boolean");
  }
  if (const json::value* stream = Given(body, "stream")) out.stream = stream->get_bool();
  const json::value* store = Given(body, "store");
  out.echo["store"] = store != nullptr ? store->get_bool() : true;
  out.echo["max_output_tokens"] = nullptr;
  if (const json::value* max = Given(body, "max_output_tokens")) {
    if (!max->is_int64()) return WrongType("max_output_tokens", "an integer");
    if (max->get_int64() < kMinOutputTokens) {
      return InvalidParam(
          "Invalid 'max_output_tokens': integer below minimum value. Expected a "
          "value >= 16, but got " +
              std::to_string(max->get_int64()) + " instead.",
          "max_output_tokens", "integer_below_min_value");
    }
    out.gen.max_tokens = max->get_int64();
    out.echo["max_output_tokens"] = *max;
  }
  if (auto error = DecodeRange(body, "temperature", 0, 2, 1.0, out)) return error;
  if (auto error = DecodeRange(body, "top_p", 0, 1, 1.0, out)) return error;
  json::object reasoning{{"effort", nullptr}, {"summary", nullptr}};
  if (const json::value* r = Given(body, "reasoning")) {
    if (!r->is_object()) return WrongType("reasoning", "an object");
    if (const json::value* effort = Given(r->get_object(), "effort")) {
      static constexpr std::string_view kEfforts[] = {"none",   "minimal", "low",
                                                      "medium", "high",    "xhigh"};
      std::string_view e = effort->is_string() ? std::string_view(effort->get_string()) : "";
      if (std::find(std::begin(kEfforts), std::end(kEfforts), e) == std::end(kEfforts)) {
        return InvalidParam("Invalid value: '" + std::string(e) +
                                "'. Supported values are: 'none', 'minimal', 'low', 'medium', "
                                "'high', and 'xhigh'.",
                            "reasoning.effort", "invalid_value");
      }
      reasoning["effort"] = *effort;
    }
    if (const json::value* summary = Given(r->get_object(), "summary")) {
      reasoning["summary"] = *summary;
    }
  }
  out.echo["reasoning"] = std::move(reasoning);
  json::object metadata;
  if (const json::value* m = Given(body, "metadata")) {
    if (!m->is_object()) return WrongType("metadata", "an object");
    for (const auto& [key, value] : m->get_object()) {
      if (!value.is_string()) {
        return WrongType("metadata." + std::string(key), "a string");
      }
    }
    metadata = m->get_object();
  }
  out.echo["metadata"] = std::move(metadata);
  return std::nullopt;
}

std::optional<Reply> Decode(const json::object& body, Decoded& out) {
  const json::string* model = StringAt(body, "model");
  if (model == nullptr || model->empty()) return Missing("model");
  out.model = std::string(*model);
  if (const json::value* previous = Given(body, "previous_response_id")) {
    std::string id =
        previous->is_string() ? std::string(previous->get_string()) : json::serialize(*previous);
    return InvalidParam("Previous response with id '" + id + "' not found.", "previous_response_id",
                        "previous_response_not_found");
  }
  if (auto error = DecodeOptions(body, out)) return error;
  if (auto error = DecodeTextFormat(body, out)) return error;
  if (auto error = DecodeTools(body, out)) return error;
  // The tool definitions come first in the prompt (they sit in the system area), as in Chat.
  if (!out.gen.tools.empty()) out.prompt.AddText(json::serialize(body.at("tools")));
  if (auto error = DecodeInput(body, out)) return error;

  const json::value* instructions = body.if_contains("instructions");
  out.echo["instructions"] = instructions != nullptr ? *instructions : json::value(nullptr);
  out.echo["previous_response_id"] = nullptr;
  out.echo["truncation"] = "disabled";
  out.echo["service_tier"] = "default";
  out.echo["user"] = nullptr;

  std::string seed_text = out.model;
  for (std::string_view key : {"input", "instructions", "tools", "tool_choice", "text"}) {
    if (const json::value* v = body.if_contains(key)) seed_text += "\n" + json::serialize(*v);
  }
  out.gen.seed = Fnv1a(seed_text);
  return std::nullopt;
}

}  // namespace

Reply HandleOpenAiResponses(const HttpRequest& request, State& state) {
  json::value parsed;
  if (auto error = ReadOpenAiBody(request, parsed)) return std::move(*error);
  Decoded decoded;
  if (auto error = Decode(parsed.get_object(), decoded)) return std::move(*error);

  std::optional<Fault> fault = state.TakeFault(decoded.model);
  if (fault && fault->kind == FaultKind::kStatus) return OpenAiFaultReply(*fault, decoded.model);

  Profile profile = state.GetProfile(decoded.model);
  decoded.gen.reasoning = profile.reasoning;
  if (FixedAnswerAllowed(decoded.gen)) {
    decoded.gen.answers = state.SuiteAnswers(decoded.item_key, decoded.model, 1);
  }
  uint64_t serial = state.NextSerial();
  ResponsesAnswer answer;
  answer.id = "resp_" + HexId(Mix(serial, decoded.gen.seed), 48);
  answer.created_at = static_cast<int64_t>(std::time(nullptr));
  answer.model = decoded.model;
  answer.choice = Generate(decoded.gen).front();
  if (fault && fault->kind == FaultKind::kBadOutput) {
    ApplyBadOutput(fault->output, decoded.gen, answer.choice);
  }
  answer.input_tokens = decoded.prompt.count();
  answer.cached_tokens = state.OpenAiCachedTokens(decoded.model, decoded.prompt);
  answer.echo = std::move(decoded.echo);

  Reply reply;
  reply.headers = OpenAiHeaders(serial);
  if (decoded.stream) {
    reply.stream = true;
    reply.headers.emplace_back("content-type", "text/event-stream; charset=utf-8");
    reply.headers.emplace_back("cache-control", "no-cache");
    reply.events = ResponsesStreamEvents(answer, profile);
  } else {
    reply.delay = FirstTokenTime(profile) + TokenTime(profile, answer.choice.output_tokens);
    reply.headers.emplace_back("content-type", "application/json");
    reply.body = json::serialize(ResponsesResponseJson(answer));
  }
  if (fault) ApplyTransportFault(*fault, reply);
  return reply;
}

}  // namespace sy::emulator
