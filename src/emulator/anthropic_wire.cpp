#include "emulator/anthropic_wire.h"

#include <ctime>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "emulator/anthropic_encode.h"
#include "emulator/bad_output.h"
#include "emulator/completion.h"
#include "emulator/prompt_tokens.h"
#include "emulator/text_gen.h"
#include "eval/suite.h"

namespace sy::emulator {

namespace json = boost::json;

namespace {

std::string RequestId(uint64_t seed) { return "req_011C" + Base62Id(seed, 20); }

uint64_t ClockSeed(std::string_view salt) {
  return Fnv1a(salt,
               static_cast<uint64_t>(std::clock()) ^ static_cast<uint64_t>(std::time(nullptr)));
}

Reply Invalid(std::string_view message) {
  return AnthropicError(400, "invalid_request_error", message);
}

struct Decoded {
  std::string model;
  bool stream = false;
  GenerationRequest gen;
  PromptTokens prompt;
  // eval::ItemKey of the messages (their text blocks have Chat's text-part shape): how suite
  // items are recognised.
  std::string item_key;
};

bool HasCacheControl(const json::value& block) {
  const json::object* obj = block.if_object();
  return obj != nullptr && obj->contains("cache_control") && !obj->at("cache_control").is_null();
}

std::string BlocksText(const json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  std::string text;
  if (const json::array* blocks = content.if_array()) {
    for (const auto& block : *blocks) {
      const json::object* obj = block.if_object();
      if (obj == nullptr) continue;
      if (const json::value* t = obj->if_contains("text"); t != nullptr && t->is_string()) {
        text += t->get_string();
      }
    }
  }
  return text;
}

// Adds one content block to the prompt; tool_result content is nested blocks or a string.
void AddBlock(const json::value& block, PromptTokens& prompt) {
  const json::object* obj = block.if_object();
  if (obj == nullptr) return;
  const json::value* type_value = obj->if_contains("type");
  std::string_view type = (type_value != nullptr && type_value->is_string())
                              ? std::string_view(type_value->get_string())
                              : "";
  if (type == "text") {
    if (const json::value* t = obj->if_contains("text"); t && t->is_string()) {
      prompt.AddText(t->get_string());
    }
  } else if (type == "image") {
    prompt.AddImage();
  } else if (type == "tool_use") {
    if (const json::value* n = obj->if_contains("name"); n && n->is_string()) {
      prompt.AddText(n->get_string());
    }
    if (const json::value* input = obj->if_contains("input")) {
      prompt.AddText(json::serialize(*input));
    }
  } else if (type == "tool_result") {
    if (const json::value* content = obj->if_contains("content")) {
      if (content->is_string()) {
        prompt.AddText(content->get_string());
      } else if (content->is_array()) {
        for (const auto& inner : content->get_array()) AddBlock(inner, prompt);
      }
    }
  } else if (type == "thinking") {
    if (const json::value* t = obj->if_contains("thinking"); t && t->is_string()) {
      prompt.AddText(t->get_string());
    }
  } else {
    prompt.AddText(json::serialize(block));
  }
  if (HasCacheControl(block)) prompt.MarkBreakpoint();
}

std::optional<Reply> DecodeTools(const json::object& body, Decoded& out) {
  if (const json::value* tools = body.if_contains("tools"); tools && !tools->is_null()) {
    if (!tools->is_array()) return Invalid("tools: Input should be a valid list");
    for (size_t i = 0; i < tools->get_array().size(); ++i) {
      const json::value& tool = tools->get_array()[i];
      const json::object* obj = tool.if_object();
      const json::value* name = obj != nullptr ? obj->if_contains("name") : nullptr;
      if (name == nullptr || !name->is_string()) {
        return Invalid("tools." + std::to_string(i) + ".name: Field required");
      }
      const json::value* schema = obj->if_contains("input_schema");
      // Server tools (web_search, ...) have a `type` and no input_schema; they take no arguments
      // from us.
      out.gen.tools.push_back(
          ToolSpec{std::string(name->get_string()),
                   schema != nullptr ? *schema : json::value(json::object{{"type", "object"}})});
      out.prompt.AddText(json::serialize(tool));
      if (HasCacheControl(tool)) out.prompt.MarkBreakpoint();
    }
  }
  out.gen.tool_mode = out.gen.tools.empty() ? ToolMode::kNone : ToolMode::kAuto;
  out.gen.text_before_tool = true;
  if (const json::value* choice = body.if_contains("tool_choice"); choice && choice->is_object()) {
    const json::object& obj = choice->get_object();
    const json::value* type = obj.if_contains("type");
    std::string_view kind =
        (type != nullptr && type->is_string()) ? std::string_view(type->get_string()) : "";
    if (kind == "auto") {
      // the default
    } else if (kind == "none") {
      out.gen.tool_mode = ToolMode::kNone;
    } else if (kind == "any") {
      out.gen.tool_mode = out.gen.tools.empty() ? ToolMode::kNone : ToolMode::kRequired;
      out.gen.text_before_tool = false;
    } else if (kind == "tool") {
      const json::value* name = obj.if_contains("name");
      if (name == nullptr || !name->is_string())
        return Invalid("tool_choice.tool.name: Field required");
      out.gen.named_tool = std::string(name->get_string());
      bool known = false;
      for (const auto& tool : out.gen.tools) known = known || tool.name == out.gen.named_tool;
      if (!known) {
        return Invalid("tool_choice: tool '" + out.gen.named_tool +
                       "' was not found in the provided tools");
      }
      out.gen.tool_mode = ToolMode::kNamed;
      out.gen.text_before_tool = false;
    } else {
      return Invalid("tool_choice: Input tag '" + std::string(kind) +
                     "' found using 'type' does not match any of the expected tags: 'auto', "
                     "'any', 'tool', 'none'");
    }
    if (const json::value* d = obj.if_contains("disable_parallel_tool_use"); d && d->is_bool()) {
      out.gen.parallel_tool_calls = !d->get_bool();
    }
  }
  return std::nullopt;
}

std::optional<Reply> DecodeSystem(const json::object& body, Decoded& out) {
  const json::value* system = body.if_contains("system");
  if (system == nullptr || system->is_null()) return std::nullopt;
  out.prompt.AddRoleMarker("system");
  if (system->is_string()) {
    out.prompt.AddText(system->get_string());
  } else if (system->is_array()) {
    for (const auto& block : system->get_array()) AddBlock(block, out.prompt);
  } else {
    return Invalid("system: Input should be a valid string or a list of text blocks");
  }
  return std::nullopt;
}

std::optional<Reply> DecodeMessages(const json::array& messages, Decoded& out) {
  if (messages.empty()) return Invalid("messages: at least one message is required");
  for (size_t i = 0; i < messages.size(); ++i) {
    std::string where = "messages." + std::to_string(i);
    const json::object* msg = messages[i].if_object();
    if (msg == nullptr) return Invalid(where + ": Input should be a valid dictionary");
    const json::value* role = msg->if_contains("role");
    std::string_view role_name =
        (role != nullptr && role->is_string()) ? std::string_view(role->get_string()) : "";
    if (role_name != "user" && role_name != "assistant") {
      return Invalid(where + ".role: Input should be 'user' or 'assistant'");
    }
    const json::value* content = msg->if_contains("content");
    if (content == nullptr) return Invalid(where + ".content: Field required");
    out.prompt.AddRoleMarker(role_name);
    if (content->is_string()) {
      out.prompt.AddText(content->get_string());
    } else if (content->is_array()) {
      for (const auto& block : content->get_array()) AddBlock(block, out.prompt);
    } else {
      return Invalid(where + ".content: Input should be a valid string or list");
    }
    if (i + 1 == messages.size() && role_name == "user" && content->is_array()) {
      for (const auto& block : content->get_array()) {
        const json::object* obj = block.if_object();
        const json::value* type = obj != nullptr ? obj->if_contains("type") : nullptr;
        if (type != nullptr && type->is_string() && type->get_string() == "tool_result") {
          const json::value* result = obj->if_contains("content");
          std::string text = result != nullptr ? BlocksText(*result) : std::string();
          out.gen.tool_result = out.gen.tool_result ? *out.gen.tool_result + " " + text : text;
        }
      }
    }
  }
  return std::nullopt;
}

// One structured-output format: {"type": "json_schema", "schema": {...}} at `where`.
std::optional<Reply> DecodeFormat(const json::value& format, const std::string& where,
                                  Decoded& out) {
  const json::object* obj = format.if_object();
  if (obj == nullptr) return Invalid(where + ": Input should be a valid dictionary");
  const json::value* type = obj->if_contains("type");
  if (type == nullptr) return Invalid(where + ".type: Field required");
  std::string_view kind = type->is_string() ? std::string_view(type->get_string()) : "";
  if (kind != "json_schema") {
    return Invalid(where + ": Input tag '" + std::string(kind) +
                   "' found using 'type' does not match any of the expected tags: "
                   "'json_schema'");
  }
  const json::value* schema = obj->if_contains("schema");
  if (schema == nullptr) return Invalid(where + ".schema: Field required");
  if (!schema->is_object()) return Invalid(where + ".schema: Input should be a valid dictionary");
  out.gen.format = OutputFormat::kJsonSchema;
  out.gen.schema = *schema;
  return std::nullopt;
}

// Structured outputs: output_config.format, or the beta's top-level output_format.
std::optional<Reply> DecodeOutputFormat(const json::object& body, Decoded& out) {
  if (const json::value* config = body.if_contains("output_config"); config && !config->is_null()) {
    if (!config->is_object()) return Invalid("output_config: Input should be a valid dictionary");
    const json::value* format = config->get_object().if_contains("format");
    if (format != nullptr && !format->is_null()) {
      if (auto error = DecodeFormat(*format, "output_config.format", out)) return error;
    }
  }
  if (const json::value* format = body.if_contains("output_format"); format && !format->is_null()) {
    if (auto error = DecodeFormat(*format, "output_format", out)) return error;
  }
  return std::nullopt;
}

// `count_only`: the body of /messages/count_tokens, which has no max_tokens.
std::optional<Reply> Decode(const json::object& body, Decoded& out, bool count_only = false) {
  const json::value* model = body.if_contains("model");
  if (model == nullptr) return Invalid("model: Field required");
  if (!model->is_string() || model->get_string().empty()) {
    return Invalid("model: Input should be a valid string");
  }
  out.model = std::string(model->get_string());
  const json::value* max_tokens = body.if_contains("max_tokens");
  if (max_tokens == nullptr && !count_only) return Invalid("max_tokens: Field required");
  if (max_tokens != nullptr && !count_only) {
    if (!max_tokens->is_int64() || max_tokens->get_int64() < 1) {
      return Invalid("max_tokens: Input should be a valid integer greater than or equal to 1");
    }
    out.gen.max_tokens = max_tokens->get_int64();
  }
  const json::value* messages = body.if_contains("messages");
  if (messages == nullptr) return Invalid("messages: Field required");
  if (!messages->is_array()) return Invalid("messages: Input should be a valid list");
  if (const json::value* stream = body.if_contains("stream"); stream && !stream->is_null()) {
    if (!stream->is_bool()) return Invalid("stream: Input should be a valid boolean");
    out.stream = stream->get_bool();
  }
  if (const json::value* stop = body.if_contains("stop_sequences"); stop && !stop->is_null()) {
    if (!stop->is_array()) return Invalid("stop_sequences: Input should be a valid list");
    for (const auto& s : stop->get_array()) {
      if (!s.is_string()) return Invalid("stop_sequences: Input should be a list of strings");
      out.gen.stop.emplace_back(s.get_string());
    }
  }
  if (auto error = DecodeOutputFormat(body, out)) return error;
  if (auto error = DecodeTools(body, out)) return error;
  if (auto error = DecodeSystem(body, out)) return error;
  if (auto error = DecodeMessages(messages->get_array(), out)) return error;
  out.item_key = eval::ItemKey(messages->get_array());
  if (const json::value* cc = body.if_contains("cache_control"); cc && !cc->is_null()) {
    out.prompt.MarkBreakpoint();
  }
  std::string seed_text = out.model + "\n" + json::serialize(*messages);
  for (std::string_view key :
       {"system", "tools", "tool_choice", "output_config", "output_format"}) {
    if (const json::value* v = body.if_contains(key)) seed_text += "\n" + json::serialize(*v);
  }
  out.gen.seed = Fnv1a(seed_text);
  return std::nullopt;
}

}  // namespace

std::string_view AnthropicErrorType(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 408:
      return "timeout_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

Reply AnthropicError(int status, std::string_view type, std::string_view message) {
  std::string request_id = RequestId(ClockSeed(message));
  json::object body{{"type", "error"},
                    {"error", {{"type", type}, {"message", message}}},
                    {"request_id", request_id}};
  return JsonReply(status, body, HeaderList{{"request-id", request_id}});
}

Reply AnthropicFaultReply(const Fault& fault) {
  std::string message = fault.message;
  if (message.empty()) {
    switch (fault.status) {
      case 401:
        message = "invalid x-api-key";
        break;
      case 404:
        message = "model: not found (emulated fault)";
        break;
      case 429:
        message =
            "This request would exceed the rate limit for your organization of 50 "
            "requests per minute. (emulated fault)";
        break;
      case 529:
        message = "Overloaded";
        break;
      default:
        message = fault.status >= 500 ? "Internal server error" : "Emulated fault";
        break;
    }
  }
  Reply reply = AnthropicError(fault.status, AnthropicErrorType(fault.status), message);
  if (fault.status == 429) {
    std::string retry = std::to_string(fault.retry_after_s.value_or(1));
    reply.headers.emplace_back("retry-after", retry);
    reply.headers.emplace_back("anthropic-ratelimit-requests-limit", "50");
    reply.headers.emplace_back("anthropic-ratelimit-requests-remaining", "0");
    reply.headers.emplace_back("anthropic-ratelimit-tokens-limit", "400000");
    reply.headers.emplace_back("anthropic-ratelimit-tokens-remaining", "0");
  } else if (fault.retry_after_s) {
    reply.headers.emplace_back("retry-after", std::to_string(*fault.retry_after_s));
  }
  return reply;
}

namespace {

// The checks every Anthropic endpoint makes first; on success the body is parsed into `parsed`.
std::optional<Reply> ReadAnthropicBody(const HttpRequest& request, json::value& parsed) {
  // Anthropic accepts an API key as x-api-key or as "Authorization: Bearer" (newer SDKs send
  // the latter).
  std::string_view auth = request.Header("authorization");
  bool bearer = auth.size() > 7 && auth.substr(0, 7) == "Bearer ";
  if (request.Header("x-api-key").empty() && !bearer) {
    return AnthropicError(401, "authentication_error", "x-api-key header is required");
  }
  if (request.Header("anthropic-version").empty()) {
    return Invalid("anthropic-version: header is required");
  }
  boost::system::error_code ec;
  parsed = json::parse(request.body, ec);
  if (ec || !parsed.is_object()) {
    return Invalid("There was an error parsing the body of your request: invalid JSON");
  }
  return std::nullopt;
}

}  // namespace

Reply HandleAnthropicCountTokens(const HttpRequest& request, State& /*state*/) {
  json::value parsed;
  if (auto error = ReadAnthropicBody(request, parsed)) return std::move(*error);
  Decoded decoded;
  if (auto error = Decode(parsed.get_object(), decoded, true)) return std::move(*error);
  Reply reply = JsonReply(200, json::object{{"input_tokens", decoded.prompt.count()}},
                          HeaderList{{"request-id", RequestId(ClockSeed(request.body))}});
  return reply;
}

Reply HandleAnthropicMessages(const HttpRequest& request, State& state) {
  json::value parsed;
  if (auto error = ReadAnthropicBody(request, parsed)) return std::move(*error);
  Decoded decoded;
  if (auto error = Decode(parsed.get_object(), decoded)) return std::move(*error);

  std::optional<Fault> fault = state.TakeFault(decoded.model);
  if (fault && fault->kind == FaultKind::kStatus) return AnthropicFaultReply(*fault);

  Profile profile = state.GetProfile(decoded.model);
  decoded.gen.reasoning = false;  // no extended thinking: output_tokens are all visible
  if (FixedAnswerAllowed(decoded.gen)) {
    decoded.gen.answers = state.SuiteAnswers(decoded.item_key, decoded.model, 1);
  }
  uint64_t serial = state.NextSerial();
  AnthropicAnswer answer;
  answer.id = "msg_01" + Base62Id(Mix(serial, decoded.gen.seed), 22);
  answer.model = decoded.model;
  answer.choice = Generate(decoded.gen).front();
  if (fault && fault->kind == FaultKind::kBadOutput) {
    ApplyBadOutput(fault->output, decoded.gen, answer.choice);
    // Message JSON holds tool input as an object: unparsable arguments become text (bad_output.h).
    if (fault->output == BadOutput::kInvalidJson && !decoded.stream) {
      ToolCallsToText(answer.choice);
    }
  }
  PromptCache::BreakpointUse cache = state.AnthropicCacheUse(decoded.model, decoded.prompt);
  answer.cache_read_input_tokens = cache.read_tokens;
  answer.cache_creation_input_tokens = cache.created_tokens;
  answer.input_tokens = decoded.prompt.count() - cache.read_tokens - cache.created_tokens;

  Reply reply;
  std::string request_id = RequestId(Mix(serial, 0xa17));
  reply.headers = HeaderList{{"request-id", request_id},
                             {"anthropic-organization-id", "emulator"},
                             {"anthropic-ratelimit-requests-limit", "4000"},
                             {"anthropic-ratelimit-requests-remaining", "3999"},
                             {"anthropic-ratelimit-tokens-limit", "2000000"},
                             {"anthropic-ratelimit-tokens-remaining", "1999000"}};
  if (decoded.stream) {
    reply.stream = true;
    reply.headers.emplace_back("content-type", "text/event-stream; charset=utf-8");
    reply.headers.emplace_back("cache-control", "no-cache");
    reply.events = AnthropicStreamEvents(answer, profile);
  } else {
    reply.delay = FirstTokenTime(profile) + TokenTime(profile, answer.choice.output_tokens);
    reply.headers.emplace_back("content-type", "application/json");
    reply.body = json::serialize(AnthropicMessageJson(answer));
  }
  if (fault) ApplyTransportFault(*fault, reply);
  return reply;
}

}  // namespace sy::emulator
