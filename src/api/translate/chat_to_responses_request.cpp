// OpenAI Chat Completions request body -> OpenAI Responses request body, for a hub request served
// by a model whose provider speaks the Responses API natively.
//
// Messages: leading system and developer messages become `instructions` (joined with a blank
// line); a system or developer message later in the conversation stays an input message item of
// its role, in place. user and assistant messages become message items (text parts -> input_text,
// or output_text for the assistant; image_url -> input_image with its detail, "auto" when none;
// file -> input_file); an assistant's tool_calls become function_call items after its message;
// tool messages become function_call_output items.
// Tools become Responses function tools; `strict` is always written because the Responses API
// defaults it to true where Chat Completions defaults it to false.
// store is always false: the gateway keeps the conversation, never the upstream.
//
// Dropped, as they do not change the answer's content: model (the adapter sets it),
// stream_options (the Responses stream always ends with the usage), store, seed, service_tier,
// prediction (a latency hint), a message's `name`, assistant refusal parts and `refusal`, empty
// assistant text, n = 1, logprobs false, logit_bias {}, frequency_penalty and presence_penalty
// of 0, modalities ["text"], and any parameter whose value is null (OpenAI treats it as absent).
// Refused: what the Responses API cannot express (n > 1, logprobs, stop sequences, logit_bias,
// non-zero penalties, audio, input_audio parts, web_search_options, the legacy functions), and
// any parameter this translator does not know, named.
#include <string>
#include <utility>

#include "api/translate/translate_internal.h"

namespace sy::api::translate::internal {
namespace {

namespace json = boost::json;

constexpr std::string_view kOrChooseChat =
    ", or choose a model that speaks the OpenAI Chat Completions API.";

std::string OrChooseChat(std::string_view fix) {
  return std::string(fix) + std::string(kOrChooseChat);
}

core::Error Refuse(std::string param, std::string_view what, std::string_view fix) {
  return Unsupported(std::move(param), what, kResponsesApi, OrChooseChat(fix));
}

core::Error MustBe(const std::string& param, std::string_view what) {
  return core::InvalidParam(param, "'" + param + "' must be " + std::string(what) + ".");
}

bool IsZero(const json::value& v) {
  return (v.is_int64() && v.get_int64() == 0) || (v.is_uint64() && v.get_uint64() == 0) ||
         (v.is_double() && v.get_double() == 0.0);
}

bool IsOne(const json::value& v) {
  return (v.is_int64() && v.get_int64() == 1) || (v.is_uint64() && v.get_uint64() == 1);
}

std::string At(std::string_view base, size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

// The text of a system, developer or tool message: a string or an array of text parts.
core::Result<std::string> PlainText(const json::value& content, const std::string& at) {
  if (content.is_string()) return std::string(content.get_string());
  const auto* parts = content.if_array();
  if (!parts) return MustBe(at, "a string or an array of text parts");
  std::string text;
  for (size_t i = 0; i < parts->size(); ++i) {
    const auto* part = (*parts)[i].if_object();
    const auto t =
        part && FindString(*part, "type") == "text" ? FindString(*part, "text") : std::nullopt;
    if (!t) return MustBe(At(at, i), "a text part");
    text += *t;
  }
  return text;
}

core::Result<json::object> ImagePart(const json::object& part, const std::string& at,
                                     const json::storage_ptr& sp) {
  const auto* image = FindObject(part, "image_url");
  const auto url = image ? FindString(*image, "url") : std::nullopt;
  if (!url) return MustBe(at + ".image_url.url", "a string");
  json::object out(sp);
  out["type"] = "input_image";
  out["image_url"] = *url;
  out["detail"] = FindString(*image, "detail").value_or("auto");
  return out;
}

core::Result<json::object> FilePart(const json::object& part, const std::string& at,
                                    const json::storage_ptr& sp) {
  const auto* file = FindObject(part, "file");
  if (!file) return MustBe(at + ".file", "an object");
  json::object out(sp);
  out["type"] = "input_file";
  for (std::string_view key : {"file_data", "file_id", "filename"}) {
    if (const auto v = FindString(*file, key)) out[key] = *v;
  }
  return out;
}

// A user or assistant message's content as Responses content: a string stays a string.
core::Result<json::value> Content(const json::value& content, bool assistant, const std::string& at,
                                  const json::storage_ptr& sp) {
  if (content.is_string()) return json::value(content.get_string(), sp);
  const auto* parts = content.if_array();
  if (!parts) return MustBe(at, "a string or an array of content parts");
  json::array out(sp);
  for (size_t i = 0; i < parts->size(); ++i) {
    const std::string part_at = At(at, i);
    const auto* part = (*parts)[i].if_object();
    const auto type = part ? FindString(*part, "type") : std::nullopt;
    if (!type) return MustBe(part_at + ".type", "a string");
    if (*type == "text") {
      const auto text = FindString(*part, "text");
      if (!text) return MustBe(part_at + ".text", "a string");
      if (assistant && text->empty()) continue;
      out.push_back(
          json::object({{"type", assistant ? "output_text" : "input_text"}, {"text", *text}}, sp));
    } else if (*type == "refusal" && assistant) {
      continue;  // an earlier answer's refusal text: the model need not see it again
    } else if (*type == "image_url" && !assistant) {
      auto image = ImagePart(*part, part_at, sp);
      if (!image) return std::move(image).error();
      out.push_back(std::move(*image));
    } else if (*type == "file" && !assistant) {
      auto file = FilePart(*part, part_at, sp);
      if (!file) return std::move(file).error();
      out.push_back(std::move(*file));
    } else if (*type == "input_audio") {
      return Refuse(part_at, "an audio input part", "Send the audio as a transcript");
    } else {
      return Refuse(part_at, "a content part of type '" + core::ClipForEcho(*type) + "'",
                    "Remove the part");
    }
  }
  return json::value(std::move(out));
}

json::object MessageItem(std::string_view role, json::value content, const json::storage_ptr& sp) {
  json::object item(sp);
  item["type"] = "message";
  item["role"] = role;
  item["content"] = std::move(content);
  return item;
}

core::Status AssistantItems(const json::object& message, const std::string& at,
                            json::array& input) {
  const auto& sp = input.storage();
  if (const auto* content = Find(message, "content")) {
    auto converted = Content(*content, /*assistant=*/true, at + ".content", sp);
    if (!converted) return std::move(converted).error();
    const bool empty =
        converted->is_string() ? converted->get_string().empty() : converted->get_array().empty();
    if (!empty) input.push_back(MessageItem("assistant", std::move(*converted), sp));
  }
  if (const auto* calls = Find(message, "tool_calls")) {
    const auto* list = calls->if_array();
    if (!list) return MustBe(at + ".tool_calls", "an array");
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string call_at = At(at + ".tool_calls", i);
      const auto* call = (*list)[i].if_object();
      const auto id = call ? FindString(*call, "id") : std::nullopt;
      const auto* fn = call ? FindObject(*call, "function") : nullptr;
      const auto name = fn ? FindString(*fn, "name") : std::nullopt;
      if (!id || !name) return MustBe(call_at, "a function tool call with id and function.name");
      json::object item(sp);
      item["type"] = "function_call";
      item["call_id"] = *id;
      item["name"] = *name;
      item["arguments"] = FindString(*fn, "arguments").value_or("{}");
      input.push_back(std::move(item));
    }
  }
  return {};
}

// `messages` -> `instructions` (leading system/developer text) and `input` items.
core::Status Messages(const json::array& messages, json::object& out) {
  const auto& sp = out.storage();
  std::string instructions;
  bool leading = true;  // still before the first user/assistant/tool message
  json::array input(sp);
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string at = At("messages", i);
    const auto* message = messages[i].if_object();
    const auto role = message ? FindString(*message, "role") : std::nullopt;
    if (!role) return MustBe(at + ".role", "a string");
    const auto* content = Find(*message, "content");
    if (*role == "system" || *role == "developer") {
      auto text = PlainText(content ? *content : json::value(""), at + ".content");
      if (!text) return std::move(text).error();
      if (leading) {
        if (!instructions.empty()) instructions += "\n\n";
        instructions += *text;
      } else {
        input.push_back(MessageItem(*role, json::value(*text, sp), sp));
      }
      continue;
    }
    leading = false;
    if (*role == "user") {
      if (!content) return MustBe(at + ".content", "a string or an array of content parts");
      auto converted = Content(*content, /*assistant=*/false, at + ".content", sp);
      if (!converted) return std::move(converted).error();
      input.push_back(MessageItem("user", std::move(*converted), sp));
    } else if (*role == "assistant") {
      if (auto s = AssistantItems(*message, at, input); !s) return s;
    } else if (*role == "tool") {
      const auto call_id = FindString(*message, "tool_call_id");
      if (!call_id) return MustBe(at + ".tool_call_id", "a string");
      auto text = PlainText(content ? *content : json::value(""), at + ".content");
      if (!text) return std::move(text).error();
      json::object item(sp);
      item["type"] = "function_call_output";
      item["call_id"] = *call_id;
      item["output"] = *text;
      input.push_back(std::move(item));
    } else {
      return Refuse(at + ".role", "a message of role '" + core::ClipForEcho(*role) + "'",
                    "Send tool messages and tool_calls instead of the legacy function role");
    }
  }
  if (!instructions.empty()) out["instructions"] = instructions;
  out["input"] = std::move(input);
  return {};
}

core::Result<json::array> Tools(const json::value& tools, const json::storage_ptr& sp) {
  const auto* list = tools.if_array();
  if (!list) return MustBe("tools", "an array");
  json::array out(sp);
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string at = At("tools", i);
    const auto* tool = (*list)[i].if_object();
    const auto type = tool ? FindString(*tool, "type") : std::nullopt;
    if (type && *type != "function") {
      return Refuse(at + ".type", "a tool of type '" + core::ClipForEcho(*type) + "'",
                    "Send function tools only");
    }
    const auto* fn = tool ? FindObject(*tool, "function") : nullptr;
    const auto name = fn ? FindString(*fn, "name") : std::nullopt;
    if (!name) return MustBe(at + ".function.name", "a string");
    json::object r(sp);
    r["type"] = "function";
    r["name"] = *name;
    if (const auto description = FindString(*fn, "description")) r["description"] = *description;
    if (const auto* parameters = Find(*fn, "parameters")) {
      if (!parameters->is_object())
        return MustBe(at + ".function.parameters", "a JSON Schema object");
      r["parameters"] = *parameters;
    } else {
      r["parameters"] = json::object({{"type", "object"}, {"properties", json::object()}}, sp);
    }
    const auto* strict = Find(*fn, "strict");
    r["strict"] = strict && strict->is_bool() && strict->get_bool();
    out.push_back(std::move(r));
  }
  return out;
}

core::Result<json::value> ToolChoice(const json::value& choice, const json::storage_ptr& sp) {
  if (choice.is_string()) {
    const std::string_view s = choice.get_string();
    if (s == "none" || s == "auto" || s == "required") return json::value(s, sp);
    return MustBe("tool_choice", "\"none\", \"auto\", \"required\" or a function choice");
  }
  const auto* obj = choice.if_object();
  const auto* fn = obj ? FindObject(*obj, "function") : nullptr;
  const auto name = fn ? FindString(*fn, "name") : std::nullopt;
  if (!obj || FindString(*obj, "type") != "function" || !name) {
    return Refuse("tool_choice", "this 'tool_choice'",
                  "Send \"none\", \"auto\", \"required\" or {\"type\": \"function\", "
                  "\"function\": {\"name\": ...}}");
  }
  return json::value(json::object({{"type", "function"}, {"name", *name}}, sp));
}

// response_format -> text.format; nullopt for {type: text} (the default).
core::Result<std::optional<json::object>> TextFormat(const json::value& format,
                                                     const json::storage_ptr& sp) {
  const auto* obj = format.if_object();
  const auto type = obj ? FindString(*obj, "type") : std::nullopt;
  if (type == "text") return std::optional<json::object>();
  if (type == "json_object") return std::optional(json::object({{"type", "json_object"}}, sp));
  if (type != "json_schema")
    return MustBe("response_format.type", "text, json_object or json_schema");
  const auto* spec = FindObject(*obj, "json_schema");
  const auto name = spec ? FindString(*spec, "name") : std::nullopt;
  if (!name) return MustBe("response_format.json_schema.name", "a string");
  json::object out(sp);
  out["type"] = "json_schema";
  out["name"] = *name;
  if (const auto description = FindString(*spec, "description")) out["description"] = *description;
  if (const auto* schema = Find(*spec, "schema")) {
    if (!schema->is_object()) return MustBe("response_format.json_schema.schema", "an object");
    out["schema"] = *schema;
  }
  const auto* strict = Find(*spec, "strict");
  out["strict"] = strict && strict->is_bool() && strict->get_bool();
  return std::optional(std::move(out));
}

// A parameter the Responses API cannot express: the error naming it, or nullopt when this value
// of it does not change the answer (dropped).
std::optional<core::Error> Untranslatable(std::string_view key, const json::value& v) {
  const std::string k(key);
  if (key == "n") {
    if (IsOne(v)) return std::nullopt;
    return Refuse(k, "more than one choice ('n' > 1)",
                  "Set 'n' to 1 and repeat the request for more");
  }
  if (key == "logprobs") {
    if (v.is_bool() && !v.get_bool()) return std::nullopt;
    return Refuse(k, "log probabilities", "Omit 'logprobs' and 'top_logprobs'");
  }
  if (key == "top_logprobs")
    return Refuse(k, "log probabilities", "Omit 'logprobs' and 'top_logprobs'");
  if (key == "stop") {
    return Refuse(k, "stop sequences", "Omit 'stop' and cut the answer yourself");
  }
  if (key == "logit_bias") {
    if (v.is_object() && v.get_object().empty()) return std::nullopt;
    return Refuse(k, "token logit biases", "Omit 'logit_bias'");
  }
  if (key == "frequency_penalty" || key == "presence_penalty") {
    if (IsZero(v)) return std::nullopt;
    return Refuse(k, "a non-zero '" + k + "'", "Omit it or set it to 0");
  }
  if (key == "modalities") {
    const auto* list = v.if_array();
    if (list && list->size() == 1 && (*list)[0].is_string() && (*list)[0].get_string() == "text") {
      return std::nullopt;
    }
    return Refuse(k, "audio output", "Omit 'modalities' and 'audio'");
  }
  if (key == "audio") return Refuse(k, "audio output", "Omit 'modalities' and 'audio'");
  if (key == "web_search_options") {
    return Refuse(k, "Chat Completions' web search options", "Omit 'web_search_options'");
  }
  if (key == "functions" || key == "function_call") {
    return Refuse(k, "the legacy '" + k + "'", "Send 'tools' and 'tool_choice' instead");
  }
  static constexpr std::string_view kDropped[] = {"stream_options", "store", "seed", "service_tier",
                                                  "prediction"};
  for (const auto dropped : kDropped) {
    if (key == dropped) return std::nullopt;
  }
  return Refuse(k, "the parameter '" + core::ClipForEcho(k) + "'", "Remove it");
}

// Parameters whose meaning and name are the same in both APIs.
bool CopiedAsIs(std::string_view key) {
  static constexpr std::string_view kSame[] = {"stream",
                                               "temperature",
                                               "top_p",
                                               "metadata",
                                               "user",
                                               "parallel_tool_calls",
                                               "safety_identifier",
                                               "prompt_cache_key"};
  for (const auto same : kSame) {
    if (key == same) return true;
  }
  return false;
}

// The Responses API refuses max_output_tokens below 16: refused here, naming the client's own
// parameter, rather than by the upstream naming one the client never sent.
constexpr int64_t kMinOutputTokens = 16;

core::Status CheckOutputLimit(const json::value& limit, std::string_view param) {
  if (!limit.is_int64() || limit.get_int64() >= kMinOutputTokens) return {};
  return Unsupported(std::string(param), "a limit below 16 output tokens", kResponsesApi,
                     "Ask for at least 16 tokens, or use a model that speaks another API.");
}

}  // namespace

core::Result<json::object> ChatToResponsesRequest(const json::object& body, json::storage_ptr sp) {
  json::object out(sp);
  const json::value* max_tokens = nullptr;
  const json::value* max_completion_tokens = nullptr;
  const json::value* messages = nullptr;
  json::object text(sp);
  for (const auto& [key, value] : body) {
    if (value.is_null() || key == "model") continue;
    if (key == "messages") {
      messages = &value;
    } else if (CopiedAsIs(key)) {
      out[key] = value;
    } else if (key == "max_tokens") {
      max_tokens = &value;
    } else if (key == "max_completion_tokens") {
      max_completion_tokens = &value;
    } else if (key == "reasoning_effort") {
      out["reasoning"] = json::object({{"effort", value}}, sp);
    } else if (key == "verbosity") {
      text["verbosity"] = value;
    } else if (key == "tools") {
      auto tools = Tools(value, sp);
      if (!tools) return std::move(tools).error();
      out["tools"] = std::move(*tools);
    } else if (key == "tool_choice") {
      auto choice = ToolChoice(value, sp);
      if (!choice) return std::move(choice).error();
      out["tool_choice"] = std::move(*choice);
    } else if (key == "response_format") {
      auto format = TextFormat(value, sp);
      if (!format) return std::move(format).error();
      if (*format) text["format"] = std::move(**format);
    } else if (auto refusal = Untranslatable(key, value)) {
      return std::move(*refusal);
    }
  }
  if (const auto* limit = max_completion_tokens ? max_completion_tokens : max_tokens) {
    const auto param = max_completion_tokens ? "max_completion_tokens" : "max_tokens";
    if (auto s = CheckOutputLimit(*limit, param); !s) return std::move(s).error();
    out["max_output_tokens"] = *limit;
  }
  if (!text.empty()) out["text"] = std::move(text);
  out["store"] = false;
  const auto* list = messages ? messages->if_array() : nullptr;
  if (!list) return MustBe("messages", "an array");
  if (auto s = Messages(*list, out); !s) return std::move(s).error();
  return out;
}

}  // namespace sy::api::translate::internal
