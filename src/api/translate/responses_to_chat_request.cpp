// OpenAI Responses request body -> OpenAI Chat Completions request body (the hub).
//
// input: a string is one user message; `instructions` is a leading system message; message items
// become messages (system/developer/user keep their role; input_text -> text parts, input_image
// -> image_url parts with their detail; an assistant's output_text parts -> its content string,
// its refusal parts -> its `refusal`); function_call items join the assistant message before
// them (consecutive calls are one message with several tool_calls, call_id -> the tool call id);
// function_call_output items -> tool messages. tools: function tools -> Chat function tools;
// tool_choice, text.format (-> response_format), max_output_tokens (-> max_completion_tokens),
// temperature, top_p, parallel_tool_calls, metadata, user, safety_identifier, reasoning.effort
// (-> reasoning_effort), text.verbosity (-> verbosity) and stream (with stream_options.
// include_usage: the Response's usage comes from the usage chunk) are translated.
//
// Dropped, as they do not change the answer's content: model (the adapter sets it), store and
// previous_response_id (the gateway keeps the conversation and expands previous_response_id
// before translation), service_tier, prompt_cache_key, stream_options, reasoning.summary (no
// summary can be produced; the answer is the same), text.format type "text" (the default),
// parallel_tool_calls and tool_choice without function tools (Chat refuses them without tools,
// and without tools they change nothing), include entries that only add built-in tools' data (those
// tools are refused anyway) or input image URLs, truncation "disabled" (the default) and "auto"
// (decided: dropped; the gateway sends the whole input, so an input that fits is answered the same
// and one that does not fit fails at the upstream with a context-length error instead of being
// truncated silently), and any parameter whose value is null. Refused, naming the parameter:
// built-in tools (web_search, file_search, code_interpreter, computer_use, image_generation, mcp,
// local_shell, custom, ...) and tool_choice naming one, input_file parts, images given by file_id,
// reasoning items and other item types the Chat API has no message for, background: true,
// conversation, prompt (stored prompts), include entries that need server state or logprobs
// (reasoning.encrypted_content, message.output_text.logprobs), top_logprobs, max_tool_calls, and
// any parameter this translator does not know, since silently dropping it could change the answer.
#include <string>
#include <utility>

#include "api/translate/translate_internal.h"

namespace sy::api::translate {
namespace {

namespace json = boost::json;
using internal::Find;
using internal::FindObject;
using internal::FindString;
using internal::kOpenAiApi;
using internal::Unsupported;

std::string OrChooseResponses(std::string_view fix) {
  return std::string(fix) + ", or choose a model that speaks the OpenAI Responses API.";
}

std::string Index(std::string_view base, size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

// --- input ---------------------------------------------------------------------------------

core::Result<json::object> ImagePart(const json::object& part, const std::string& at,
                                     const json::storage_ptr& sp) {
  const auto url = FindString(part, "image_url");
  if (!url) {
    return Unsupported(at, "an image given by file_id", kOpenAiApi,
                       OrChooseResponses("Send the image as an image_url (a URL or a data URL)"));
  }
  json::object image({{"url", *url}}, sp);
  if (const auto detail = FindString(part, "detail")) image["detail"] = *detail;
  json::object out({{"type", "image_url"}}, sp);
  out["image_url"] = std::move(image);
  return out;
}

// A user/system/developer message's (or a tool output's) parts as Chat content parts.
core::Result<json::array> InputParts(const json::array& parts, const std::string& at,
                                     const json::storage_ptr& sp) {
  json::array out(sp);
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string part_at = Index(at, i);
    const auto* part = parts[i].if_object();
    if (!part) return core::InvalidParam(part_at, "Invalid '" + part_at + "': not an object.");
    const std::string_view type = FindString(*part, "type").value_or("");
    if (type == "input_text" || type == "output_text") {
      out.push_back(
          json::object({{"type", "text"}, {"text", FindString(*part, "text").value_or("")}}, sp));
    } else if (type == "input_image") {
      auto image = ImagePart(*part, part_at, sp);
      if (!image) return std::move(image).error();
      out.push_back(std::move(*image));
    } else if (type == "input_file") {
      return Unsupported(part_at, "an input_file part", kOpenAiApi,
                         OrChooseResponses("Send the file's text as input_text"));
    } else {
      return Unsupported(part_at, "a '" + core::ClipForEcho(type) + "' part", kOpenAiApi,
                         OrChooseResponses("Send input_text or input_image parts"));
    }
  }
  return out;
}

// An assistant message: output_text parts are its content, refusal parts its refusal.
core::Status AssistantContent(const json::array& parts, const std::string& at, json::object& msg) {
  std::string text;
  std::string refusal;
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto* part = parts[i].if_object();
    const std::string_view type = part ? FindString(*part, "type").value_or("") : "";
    if (type == "output_text" || type == "input_text") {
      text += FindString(*part, "text").value_or("");
    } else if (type == "refusal") {
      refusal += FindString(*part, "refusal").value_or("");
    } else {
      return Unsupported(Index(at, i),
                         "a '" + core::ClipForEcho(type) + "' part in an assistant message",
                         kOpenAiApi, OrChooseResponses("Send output_text or refusal parts"));
    }
  }
  msg["content"] = text;
  if (!refusal.empty()) msg["refusal"] = refusal;
  return {};
}

core::Result<json::object> Message(const json::object& item, const std::string& at,
                                   const json::storage_ptr& sp) {
  const std::string_view role = FindString(item, "role").value_or("user");
  json::object msg({{"role", role}}, sp);
  const auto* content = Find(item, "content");
  if (content && content->is_string()) {
    msg["content"] = content->get_string();
    return msg;
  }
  const auto* parts = content ? content->if_array() : nullptr;
  if (!parts) {
    return core::InvalidParam(at + ".content", "Invalid '" + at + ".content': expected a string " +
                                                   "or an array of content parts.");
  }
  if (role == "assistant") {
    if (auto s = AssistantContent(*parts, at + ".content", msg); !s) return std::move(s).error();
    return msg;
  }
  auto out = InputParts(*parts, at + ".content", sp);
  if (!out) return std::move(out).error();
  msg["content"] = std::move(*out);
  return msg;
}

json::object ToolCall(const json::object& item, const json::storage_ptr& sp) {
  json::object fn(sp);
  fn["name"] = FindString(item, "name").value_or("");
  fn["arguments"] = FindString(item, "arguments").value_or("");
  json::object call(sp);
  call["id"] = FindString(item, "call_id").value_or("");
  call["type"] = "function";
  call["function"] = std::move(fn);
  return call;
}

// Appends a function_call to the assistant message just before it, or opens one.
void AddToolCall(const json::object& item, json::array& messages, const json::storage_ptr& sp) {
  json::object* last = messages.empty() ? nullptr : messages.back().if_object();
  const bool joins = last && FindString(*last, "role") == "assistant";
  if (!joins) {
    messages.push_back(json::object({{"role", "assistant"}, {"content", nullptr}}, sp));
    last = &messages.back().get_object();
  }
  auto& calls = (*last)["tool_calls"];
  if (!calls.is_array()) calls = json::array(sp);
  calls.get_array().push_back(ToolCall(item, sp));
}

core::Result<json::object> ToolMessage(const json::object& item, const std::string& at,
                                       const json::storage_ptr& sp) {
  json::object msg({{"role", "tool"}}, sp);
  msg["tool_call_id"] = FindString(item, "call_id").value_or("");
  const auto* output = Find(item, "output");
  if (output && output->is_array()) {
    auto parts = InputParts(output->get_array(), at + ".output", sp);
    if (!parts) return std::move(parts).error();
    msg["content"] = std::move(*parts);
  } else {
    msg["content"] = output && output->is_string() ? std::string_view(output->get_string()) : "";
  }
  return msg;
}

core::Status Item(const json::value& v, size_t i, json::array& messages,
                  const json::storage_ptr& sp) {
  const std::string at = Index("input", i);
  const auto* item = v.if_object();
  if (!item) return core::InvalidParam(at, "Invalid '" + at + "': not an object.");
  const auto type = FindString(*item, "type");
  core::Result<json::object> msg = core::MakeError(core::Errc::kInternal, "unset");
  if (!type || *type == "message") {
    msg = Message(*item, at, sp);
  } else if (*type == "function_call") {
    AddToolCall(*item, messages, sp);
    return {};
  } else if (*type == "function_call_output") {
    msg = ToolMessage(*item, at, sp);
  } else if (*type == "reasoning") {
    return Unsupported(at, "a reasoning item", kOpenAiApi,
                       OrChooseResponses("Remove reasoning items from input"));
  } else {
    return Unsupported(at + ".type", "an input item of type '" + core::ClipForEcho(*type) + "'",
                       kOpenAiApi,
                       OrChooseResponses("Send message, function_call and function_call_output "
                                         "items"));
  }
  if (!msg) return std::move(msg).error();
  messages.push_back(std::move(*msg));
  return {};
}

core::Result<json::array> Messages(const json::object& body, const json::storage_ptr& sp) {
  json::array messages(sp);
  if (const auto instructions = FindString(body, "instructions"); instructions) {
    messages.push_back(json::object({{"role", "system"}, {"content", *instructions}}, sp));
  }
  const auto* input = Find(body, "input");
  if (input && input->is_string()) {
    messages.push_back(json::object({{"role", "user"}, {"content", input->get_string()}}, sp));
  } else if (input && input->is_array()) {
    const auto& items = input->get_array();
    for (size_t i = 0; i < items.size(); ++i) {
      if (auto s = Item(items[i], i, messages, sp); !s) return std::move(s).error();
    }
  }
  if (messages.empty()) {
    return core::InvalidParam("input", "Missing required parameter: 'input'.");
  }
  return messages;
}

// --- tools and the other parameters ----------------------------------------------------------

core::Result<json::array> Tools(const json::value& value, const json::storage_ptr& sp) {
  json::array out(sp);
  const auto* list = value.if_array();
  if (!list) return out;
  for (size_t i = 0; i < list->size(); ++i) {
    const auto* tool = (*list)[i].if_object();
    const std::string_view type = tool ? FindString(*tool, "type").value_or("") : "";
    if (type != "function") {
      return Unsupported(Index("tools", i), "the built-in tool " + core::ClipForEcho(type),
                         kOpenAiApi, OrChooseResponses("Use a function tool"));
    }
    json::object fn(sp);
    fn["name"] = FindString(*tool, "name").value_or("");
    if (const auto description = FindString(*tool, "description")) {
      fn["description"] = *description;
    }
    if (const auto* parameters = FindObject(*tool, "parameters")) fn["parameters"] = *parameters;
    if (const auto* strict = Find(*tool, "strict")) fn["strict"] = *strict;
    out.push_back(json::object({{"type", "function"}, {"function", std::move(fn)}}, sp));
  }
  return out;
}

json::object NamedFunction(std::string_view name, const json::storage_ptr& sp) {
  return json::object({{"type", "function"}, {"function", json::object({{"name", name}}, sp)}}, sp);
}

core::Result<json::value> ToolChoice(const json::value& choice, const json::storage_ptr& sp) {
  if (choice.is_string()) return json::value(choice.get_string(), sp);
  const auto* c = choice.if_object();
  const std::string_view type = c ? FindString(*c, "type").value_or("") : "";
  if (type == "function")
    return json::value(NamedFunction(FindString(*c, "name").value_or(""), sp));
  if (type == "allowed_tools") {
    json::array tools(sp);
    if (const auto* list = internal::FindArray(*c, "tools")) {
      for (const auto& t : *list) {
        const auto* tool = t.if_object();
        if (!tool || FindString(*tool, "type") != "function") {
          return Unsupported("tool_choice.tools", "an allowed built-in tool", kOpenAiApi,
                             OrChooseResponses("Allow function tools only"));
        }
        tools.push_back(NamedFunction(FindString(*tool, "name").value_or(""), sp));
      }
    }
    json::object allowed(sp);
    allowed["mode"] = FindString(*c, "mode").value_or("auto");
    allowed["tools"] = std::move(tools);
    json::object out({{"type", "allowed_tools"}}, sp);
    out["allowed_tools"] = std::move(allowed);
    return json::value(std::move(out));
  }
  return Unsupported("tool_choice", "the built-in tool choice " + core::ClipForEcho(type),
                     kOpenAiApi,
                     OrChooseResponses("Choose a function tool, auto, none or required"));
}

// text.format -> response_format; text.verbosity -> verbosity.
void Text(const json::object& text, json::object& out) {
  const auto& sp = out.storage();
  if (const auto verbosity = FindString(text, "verbosity")) out["verbosity"] = *verbosity;
  const auto* format = FindObject(text, "format");
  const std::string_view type = format ? FindString(*format, "type").value_or("") : "";
  if (type == "json_object") {
    out["response_format"] = json::object({{"type", "json_object"}}, sp);
  } else if (type == "json_schema") {
    json::object schema(sp);
    for (std::string_view key : {"name", "schema", "strict", "description"}) {
      if (const auto* v = Find(*format, key)) schema[key] = *v;
    }
    json::object rf({{"type", "json_schema"}}, sp);
    rf["json_schema"] = std::move(schema);
    out["response_format"] = std::move(rf);
  }
}

core::Status Include(const json::value& include) {
  const auto* list = include.if_array();
  if (!list) return {};
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string_view entry =
        (*list)[i].is_string() ? std::string_view((*list)[i].get_string()) : "";
    if (entry == "reasoning.encrypted_content" || entry == "message.output_text.logprobs") {
      return Unsupported(Index("include", i), "include '" + std::string(entry) + "'", kOpenAiApi,
                         OrChooseResponses("Remove it"));
    }
  }
  return {};
}

bool Dropped(std::string_view key) {
  return key == "model" || key == "input" || key == "instructions" || key == "store" ||
         key == "previous_response_id" || key == "service_tier" || key == "prompt_cache_key" ||
         key == "stream_options" || key == "truncation";
}

bool PassedAsIs(std::string_view key) {
  return key == "temperature" || key == "top_p" || key == "parallel_tool_calls" ||
         key == "metadata" || key == "user" || key == "safety_identifier";
}

core::Status Refused(std::string_view key, const json::value& value) {
  if (key == "background" && !(value.is_bool() && value.get_bool())) return {};
  const std::string what =
      key == "prompt" ? "a stored prompt" : "the parameter '" + core::ClipForEcho(key) + "'";
  return Unsupported(std::string(key), what, kOpenAiApi, OrChooseResponses("Remove it"));
}

core::Status Parameter(std::string_view key, const json::value& value, json::object& out,
                       const json::value*& tools, const json::value*& tool_choice) {
  if (Dropped(key)) return {};
  if (PassedAsIs(key)) {
    out[key] = value;
  } else if (key == "stream") {
    out["stream"] = value;
    if (value.is_bool() && value.get_bool()) {
      out["stream_options"] = json::object({{"include_usage", true}}, out.storage());
    }
  } else if (key == "max_output_tokens") {
    out["max_completion_tokens"] = value;
  } else if (key == "reasoning") {
    const auto* reasoning = value.if_object();
    if (const auto effort = reasoning ? FindString(*reasoning, "effort") : std::nullopt) {
      out["reasoning_effort"] = *effort;
    }
  } else if (key == "text") {
    if (const auto* text = value.if_object()) Text(*text, out);
  } else if (key == "include") {
    return Include(value);
  } else if (key == "tools") {
    tools = &value;
  } else if (key == "tool_choice") {
    tool_choice = &value;
  } else {
    return Refused(key, value);
  }
  return {};
}

}  // namespace

namespace internal {

core::Result<json::object> ResponsesToChatRequest(const json::object& body, json::storage_ptr sp) {
  json::object out(sp);
  auto messages = Messages(body, sp);
  if (!messages) return std::move(messages).error();
  out["messages"] = std::move(*messages);
  const json::value* tools = nullptr;
  const json::value* tool_choice = nullptr;
  for (const auto& [key, value] : body) {
    if (value.is_null()) continue;
    if (auto s = Parameter(key, value, out, tools, tool_choice); !s) return std::move(s).error();
  }
  if (tools) {
    auto list = Tools(*tools, sp);
    if (!list) return std::move(list).error();
    if (!list->empty()) out["tools"] = std::move(*list);
  }
  if (tool_choice) {
    auto choice = ToolChoice(*tool_choice, sp);
    if (!choice) return std::move(choice).error();
    // Chat refuses a tool_choice without tools; without tools it changes nothing but "none".
    if (out.contains("tools")) out["tool_choice"] = std::move(*choice);
  }
  if (!out.contains("tools")) out.erase("parallel_tool_calls");  // Chat refuses it without tools
  return out;
}

}  // namespace internal
}  // namespace sy::api::translate
