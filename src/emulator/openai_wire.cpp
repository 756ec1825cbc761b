#include "emulator/openai_wire.h"

#include <algorithm>
#include <ctime>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "emulator/bad_output.h"
#include "emulator/completion.h"
#include "emulator/openai_encode.h"
#include "emulator/prompt_tokens.h"
#include "emulator/text_gen.h"
#include "eval/suite.h"

namespace sy::emulator {

namespace json = boost::json;

HeaderList OpenAiHeaders(uint64_t serial) {
  return HeaderList{{"x-request-id", "req_" + HexId(Mix(serial, 0x6f61), 32)},
                    {"openai-organization", "emulator"},
                    {"openai-processing-ms", "1"},
                    {"openai-version", "2020-10-01"},
                    {"x-ratelimit-limit-requests", "10000"},
                    {"x-ratelimit-limit-tokens", "30000000"},
                    {"x-ratelimit-remaining-requests", "9999"},
                    {"x-ratelimit-remaining-tokens", "29999000"},
                    {"x-ratelimit-reset-requests", "6ms"},
                    {"x-ratelimit-reset-tokens", "0s"}};
}

namespace {

// The value at a JSON pointer, or nullptr.
const json::value* At(const json::value& root, std::string_view pointer) {
  boost::system::error_code ec;
  return root.find_pointer(pointer, ec);
}

Reply InvalidParam(std::string_view message, std::string_view param, std::string_view code) {
  return OpenAiError(400, message, "invalid_request_error", json::value(param),
                     code.empty() ? json::value(nullptr) : json::value(code));
}

struct Decoded {
  std::string model;
  bool stream = false;
  bool include_usage = false;
  GenerationRequest gen;
  PromptTokens prompt;
  std::string item_key;  // eval::ItemKey of the messages: how suite items are recognised
};

std::string ContentText(const json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  std::string text;
  if (const json::array* parts = content.if_array()) {
    for (const auto& part : *parts) {
      const json::object* obj = part.if_object();
      if (obj == nullptr) continue;
      if (const json::value* t = obj->if_contains("text"); t != nullptr && t->is_string()) {
        text += t->get_string();
      }
    }
  }
  return text;
}

void AddContent(const json::value& content, PromptTokens& prompt) {
  if (content.is_string()) return prompt.AddText(content.get_string());
  const json::array* parts = content.if_array();
  if (parts == nullptr) return;
  for (const auto& part : *parts) {
    const json::object* obj = part.if_object();
    if (obj == nullptr) continue;
    const json::value* type = obj->if_contains("type");
    if (type != nullptr && type->is_string() && type->get_string() == "image_url") {
      prompt.AddImage();
    } else if (const json::value* t = obj->if_contains("text"); t != nullptr && t->is_string()) {
      prompt.AddText(t->get_string());
    } else {
      prompt.AddText(json::serialize(part));
    }
  }
}

std::optional<Reply> DecodeMessages(const json::array& messages, Decoded& out) {
  static constexpr std::string_view kRoles[] = {"system",    "developer", "user",
                                                "assistant", "tool",      "function"};
  for (size_t i = 0; i < messages.size(); ++i) {
    std::string where = "messages[" + std::to_string(i) + "]";
    const json::object* msg = messages[i].if_object();
    if (msg == nullptr) {
      return InvalidParam("Invalid type for '" + where + "': expected an object.", where,
                          "invalid_type");
    }
    const json::value* role = msg->if_contains("role");
    std::string_view role_name =
        (role != nullptr && role->is_string()) ? std::string_view(role->get_string()) : "";
    if (std::find(std::begin(kRoles), std::end(kRoles), role_name) == std::end(kRoles)) {
      return InvalidParam("Invalid value: '" + std::string(role_name) +
                              "'. Supported values are: 'system', 'assistant', 'user', "
                              "'function', 'tool', and 'developer'.",
                          where + ".role", "invalid_value");
    }
    out.prompt.AddRoleMarker(role_name);
    if (const json::value* name = msg->if_contains("name"); name != nullptr && name->is_string()) {
      out.prompt.AddText(name->get_string());
    }
    if (const json::value* content = msg->if_contains("content")) AddContent(*content, out.prompt);
    if (const json::value* calls = msg->if_contains("tool_calls"); calls && calls->is_array()) {
      for (const auto& call : calls->get_array()) {
        const json::value* fn =
            call.is_object() ? call.get_object().if_contains("function") : nullptr;
        if (fn != nullptr && fn->is_object()) {
          for (std::string_view key : {"name", "arguments"}) {
            const json::value* v = fn->get_object().if_contains(key);
            if (v != nullptr && v->is_string()) out.prompt.AddText(v->get_string());
          }
        }
      }
    }
    if (i + 1 == messages.size() && role_name == "tool") {
      const json::value* content = msg->if_contains("content");
      out.gen.tool_result = content != nullptr ? ContentText(*content) : std::string();
    }
  }
  out.prompt.AddReplyPrimer();
  return std::nullopt;
}

std::optional<Reply> DecodeTools(const json::object& body, Decoded& out) {
  const json::value* tools = body.if_contains("tools");
  if (tools != nullptr && !tools->is_null()) {
    if (!tools->is_array()) {
      return InvalidParam("Invalid type for 'tools': expected an array.", "tools", "invalid_type");
    }
    for (size_t i = 0; i < tools->get_array().size(); ++i) {
      const json::value& tool = tools->get_array()[i];
      const json::value* fn =
          tool.is_object() ? tool.get_object().if_contains("function") : nullptr;
      const json::value* name =
          (fn != nullptr && fn->is_object()) ? fn->get_object().if_contains("name") : nullptr;
      if (name == nullptr || !name->is_string()) {
        return InvalidParam(
            "Missing required parameter: 'tools[" + std::to_string(i) + "].function.name'.",
            "tools[" + std::to_string(i) + "].function.name", "missing_required_parameter");
      }
      const json::value* params = fn->get_object().if_contains("parameters");
      out.gen.tools.push_back(
          ToolSpec{std::string(name->get_string()),
                   params != nullptr ? *params : json::value(json::object{{"type", "object"}})});
    }
  }
  const json::value* choice = body.if_contains("tool_choice");
  out.gen.tool_mode = out.gen.tools.empty() ? ToolMode::kNone : ToolMode::kAuto;
  if (choice != nullptr && !choice->is_null()) {
    if (out.gen.tools.empty()) {
      return InvalidParam(
          "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
          "specified.",
          "tool_choice", "");
    }
    if (choice->is_string() && choice->get_string() == "none") {
      out.gen.tool_mode = ToolMode::kNone;
    } else if (choice->is_string() && choice->get_string() == "auto") {
      out.gen.tool_mode = ToolMode::kAuto;
    } else if (choice->is_string() && choice->get_string() == "required") {
      out.gen.tool_mode = ToolMode::kRequired;
    } else if (const json::value* p = At(*choice, "/function/name");
               p != nullptr && p->is_string()) {
      out.gen.tool_mode = ToolMode::kNamed;
      out.gen.named_tool = std::string(p->get_string());
      bool known = false;
      for (const auto& tool : out.gen.tools) known = known || tool.name == out.gen.named_tool;
      if (!known) {
        return InvalidParam("Invalid value for 'tool_choice': no function named '" +
                                out.gen.named_tool + "' was specified in the 'tools' parameter.",
                            "tool_choice", "");
      }
    } else {
      return InvalidParam(
          "Invalid value for 'tool_choice': expected 'none', 'auto', "
          "'required' or a named function.",
          "tool_choice", "invalid_value");
    }
  }
  if (const json::value* p = body.if_contains("parallel_tool_calls"); p && p->is_bool()) {
    out.gen.parallel_tool_calls = p->get_bool();
  }
  return std::nullopt;
}

std::optional<Reply> DecodeOptions(const json::object& body, Decoded& out) {
  if (const json::value* stream = body.if_contains("stream"); stream && !stream->is_null()) {
    if (!stream->is_bool()) {
      return InvalidParam("Invalid type for 'stream': expected a boolean.", "stream",
                          "invalid_type");
    }
    out.stream = stream->get_bool();
  }
  if (const json::value* options = body.if_contains("stream_options");
      options != nullptr && !options->is_null()) {
    if (!out.stream) {
      return InvalidParam(
          "The 'stream_options' parameter is only allowed when 'stream' is "
          "enabled.",
          "stream_options", "invalid_value");
    }
    const json::value* usage = At(*options, "/include_usage");
    out.include_usage = usage != nullptr && usage->is_bool() && usage->get_bool();
  }
  if (const json::value* n = body.if_contains("n"); n != nullptr && !n->is_null()) {
    if (!n->is_int64() || n->get_int64() < 1 || n->get_int64() > 128) {
      return InvalidParam("Invalid 'n': expected an integer between 1 and 128.", "n",
                          "invalid_value");
    }
    out.gen.n = static_cast<int>(n->get_int64());
  }
  for (std::string_view key : {"max_tokens", "max_completion_tokens"}) {
    const json::value* v = body.if_contains(key);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_int64() || v->get_int64() < 1) {
      return InvalidParam(
          "Invalid '" + std::string(key) + "': integer below minimum value. Expected a value >= 1.",
          key, "integer_below_min_value");
    }
    out.gen.max_tokens = v->get_int64();  // max_completion_tokens (second) wins
  }
  if (const json::value* stop = body.if_contains("stop"); stop != nullptr && !stop->is_null()) {
    if (stop->is_string()) {
      out.gen.stop.emplace_back(stop->get_string());
    } else if (stop->is_array()) {
      for (const auto& s : stop->get_array()) {
        if (!s.is_string()) {
          return InvalidParam(
              "Invalid type for 'stop': expected a string or an array of "
              "strings.",
              "stop", "invalid_type");
        }
        out.gen.stop.emplace_back(s.get_string());
      }
    } else {
      return InvalidParam("Invalid type for 'stop': expected a string or an array of strings.",
                          "stop", "invalid_type");
    }
  }
  if (const json::value* format = body.if_contains("response_format");
      format != nullptr && format->is_object()) {
    const json::value* type = At(*format, "/type");
    std::string_view type_name =
        (type != nullptr && type->is_string()) ? std::string_view(type->get_string()) : "text";
    if (type_name == "json_object") {
      out.gen.format = OutputFormat::kJsonObject;
    } else if (type_name == "json_schema") {
      const json::value* schema = At(*format, "/json_schema/schema");
      if (schema == nullptr) {
        return InvalidParam("Missing required parameter: 'response_format.json_schema.schema'.",
                            "response_format.json_schema.schema", "missing_required_parameter");
      }
      out.gen.format = OutputFormat::kJsonSchema;
      out.gen.schema = *schema;
    } else if (type_name != "text") {
      return InvalidParam("Invalid value: '" + std::string(type_name) +
                              "'. Supported values are: 'json_object', 'json_schema', and 'text'.",
                          "response_format.type", "invalid_value");
    }
  }
  return std::nullopt;
}

std::optional<Reply> Decode(const json::object& body, Decoded& out) {
  const json::value* model = body.if_contains("model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    return OpenAiError(400, "you must provide a model parameter", "invalid_request_error");
  }
  out.model = std::string(model->get_string());
  const json::value* messages = body.if_contains("messages");
  if (messages == nullptr) {
    return InvalidParam("Missing required parameter: 'messages'.", "messages",
                        "missing_required_parameter");
  }
  if (!messages->is_array()) {
    return InvalidParam("Invalid type for 'messages': expected an array.", "messages",
                        "invalid_type");
  }
  if (messages->get_array().empty()) {
    return InvalidParam(
        "Invalid 'messages': empty array. Expected an array with minimum length "
        "1, but got an empty array instead.",
        "messages", "empty_array");
  }
  if (auto error = DecodeOptions(body, out)) return error;
  if (auto error = DecodeTools(body, out)) return error;
  // The tool definitions come first in the prompt (they sit in the system area).
  if (const json::value* tools = body.if_contains("tools"); tools && !out.gen.tools.empty()) {
    out.prompt.AddText(json::serialize(*tools));
  }
  if (auto error = DecodeMessages(messages->get_array(), out)) return error;
  out.item_key = eval::ItemKey(messages->get_array());

  std::string seed_text = out.model + "\n" + json::serialize(*messages);
  for (std::string_view key : {"tools", "tool_choice", "response_format"}) {
    if (const json::value* v = body.if_contains(key)) seed_text += "\n" + json::serialize(*v);
  }
  out.gen.seed = Fnv1a(seed_text);
  return std::nullopt;
}

}  // namespace

Reply OpenAiError(int status, std::string_view message, std::string_view type,
                  const json::value& param, const json::value& code) {
  json::object error{{"message", message}, {"type", type}, {"param", param}, {"code", code}};
  uint64_t seed = Fnv1a(
      message, static_cast<uint64_t>(std::clock()) ^ static_cast<uint64_t>(std::time(nullptr)));
  return JsonReply(status, json::object{{"error", std::move(error)}},
                   HeaderList{{"x-request-id", "req_" + HexId(seed, 32)}});
}

Reply OpenAiFaultReply(const Fault& fault, std::string_view model) {
  std::string message = fault.message;
  std::string type = "server_error";
  json::value code = nullptr;
  switch (fault.status) {
    case 400:
      type = "invalid_request_error";
      if (message.empty()) message = "Emulated fault: the request was rejected.";
      break;
    case 401:
      type = "invalid_request_error";
      code = "invalid_api_key";
      if (message.empty()) message = "Incorrect API key provided: sk-emu***. (emulated fault)";
      break;
    case 403:
    case 408:
    case 413:
      type = "invalid_request_error";
      if (message.empty()) message = "Emulated fault: status " + std::to_string(fault.status);
      break;
    case 404:
      type = "invalid_request_error";
      code = "model_not_found";
      if (message.empty()) {
        message = "The model `" + std::string(model) +
                  "` does not exist or you do not have access to it.";
      }
      break;
    case 429:
      type = "requests";
      code = "rate_limit_exceeded";
      if (message.empty()) {
        message = "Rate limit reached for " + std::string(model) +
                  " in organization org-emulator on requests per min (RPM): Limit 10000, Used "
                  "10000, Requested 1. Please try again in " +
                  std::to_string(fault.retry_after_s.value_or(1)) + "s.";
      }
      break;
    case 503:
    case 529:
      if (message.empty()) message = "The engine is currently overloaded, please try again later.";
      break;
    default:
      if (message.empty()) {
        message = "The server had an error while processing your request. Sorry about that!";
      }
      break;
  }
  const json::value param = fault.param.empty() ? json::value(nullptr) : json::value(fault.param);
  Reply reply = OpenAiError(fault.status, message, type, param, code);
  if (fault.status == 429) {
    int64_t retry = fault.retry_after_s.value_or(1);
    reply.headers.emplace_back("retry-after", std::to_string(retry));
    reply.headers.emplace_back("x-ratelimit-limit-requests", "10000");
    reply.headers.emplace_back("x-ratelimit-limit-tokens", "30000000");
    reply.headers.emplace_back("x-ratelimit-remaining-requests", "0");
    reply.headers.emplace_back("x-ratelimit-remaining-tokens", "0");
    reply.headers.emplace_back("x-ratelimit-reset-requests", std::to_string(retry) + "s");
    reply.headers.emplace_back("x-ratelimit-reset-tokens", std::to_string(retry) + "s");
  } else if (fault.retry_after_s) {
    reply.headers.emplace_back("retry-after", std::to_string(*fault.retry_after_s));
  }
  return reply;
}

std::optional<Reply> ReadOpenAiBody(const HttpRequest& request, json::value& parsed) {
  std::string_view auth = request.Header("authorization");
  if (auth.size() <= 7 || auth.substr(0, 7) != "Bearer ") {
    return OpenAiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password "
        "field (with blank username) if you're accessing the API from your browser and are "
        "prompted for a username. You can obtain an API key from "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error");
  }
  boost::system::error_code ec;
  parsed = json::parse(request.body, ec);
  if (ec || !parsed.is_object()) {
    return OpenAiError(400,
                       "We could not parse the JSON body of your request. (HINT: This likely "
                       "means you aren't using your HTTP library correctly. The OpenAI API "
                       "expects a JSON payload, but what was sent was not valid JSON.)",
                       "invalid_request_error");
  }
  return std::nullopt;
}

Reply HandleOpenAiChat(const HttpRequest& request, State& state) {
  json::value parsed;
  if (auto error = ReadOpenAiBody(request, parsed)) return std::move(*error);
  Decoded decoded;
  if (auto error = Decode(parsed.get_object(), decoded)) return std::move(*error);

  std::optional<Fault> fault = state.TakeFault(decoded.model);
  if (fault && fault->kind == FaultKind::kStatus) return OpenAiFaultReply(*fault, decoded.model);

  Profile profile = state.GetProfile(decoded.model);
  decoded.gen.reasoning = profile.reasoning;
  if (FixedAnswerAllowed(decoded.gen)) {
    decoded.gen.answers = state.SuiteAnswers(decoded.item_key, decoded.model, decoded.gen.n);
  }
  uint64_t serial = state.NextSerial();
  OpenAiAnswer answer;
  answer.id = "chatcmpl-" + Base62Id(Mix(serial, decoded.gen.seed), 29);
  answer.created = static_cast<int64_t>(std::time(nullptr));
  answer.model = decoded.model;
  answer.system_fingerprint = "fp_" + HexId(Fnv1a(decoded.model), 10);
  answer.choices = Generate(decoded.gen);
  if (fault && fault->kind == FaultKind::kBadOutput) {
    for (auto& choice : answer.choices) ApplyBadOutput(fault->output, decoded.gen, choice);
  }
  answer.prompt_tokens = decoded.prompt.count();
  answer.cached_tokens = state.OpenAiCachedTokens(decoded.model, decoded.prompt);
  answer.include_usage = decoded.include_usage;

  Reply reply;
  reply.headers = OpenAiHeaders(serial);
  if (decoded.stream) {
    reply.stream = true;
    reply.headers.emplace_back("content-type", "text/event-stream; charset=utf-8");
    reply.headers.emplace_back("cache-control", "no-cache");
    reply.events = OpenAiStreamEvents(answer, profile);
  } else {
    int64_t longest = 0;
    for (const auto& choice : answer.choices) longest = std::max(longest, choice.output_tokens);
    reply.delay = FirstTokenTime(profile) + TokenTime(profile, longest);
    reply.headers.emplace_back("content-type", "application/json");
    reply.body = json::serialize(OpenAiCompletionJson(answer));
  }
  if (fault) ApplyTransportFault(*fault, reply);
  return reply;
}

}  // namespace sy::emulator
