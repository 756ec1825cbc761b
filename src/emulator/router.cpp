#include "emulator/router.h"

#include <exception>
#include <string>

#include "emulator/anthropic_wire.h"
#include "emulator/control_api.h"
#include "emulator/openai_wire.h"
#include "emulator/responses_wire.h"

namespace sy::emulator {

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view TrimSlash(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

Reply DialectError(Dialect dialect, int status, std::string_view message) {
  if (dialect == Dialect::kAnthropic) {
    return AnthropicError(status, AnthropicErrorType(status), message);
  }
  std::string_view type = status >= 500 ? "server_error" : "invalid_request_error";
  return OpenAiError(status, message, type);
}

}  // namespace

Dialect DialectOf(std::string_view path, const HttpRequest& request) {
  path = TrimSlash(path);
  if (EndsWith(path, "/chat/completions")) return Dialect::kOpenAi;
  if (EndsWith(path, "/responses")) return Dialect::kOpenAi;
  if (EndsWith(path, "/messages") || EndsWith(path, "/messages/count_tokens")) {
    return Dialect::kAnthropic;
  }
  if (request.HasHeader("x-api-key") || request.HasHeader("anthropic-version")) {
    return Dialect::kAnthropic;
  }
  return Dialect::kOpenAi;
}

Reply TransportError(const HttpRequest& request, int status, std::string_view message) {
  Reply reply = DialectError(DialectOf(request.Path(), request), status, message);
  reply.close = true;
  return reply;
}

Reply Route(const HttpRequest& request, State& state) {
  std::string_view path = TrimSlash(request.Path());
  if (path.substr(0, 11) == "/_emulator/" || path == "/_emulator") {
    try {
      return HandleControl(request, state);
    } catch (const std::exception& e) {
      return DialectError(Dialect::kOpenAi, 500, std::string("emulator bug: ") + e.what());
    }
  }
  Dialect dialect = DialectOf(path, request);
  try {
    state.LogRequest(request);
    bool chat = EndsWith(path, "/chat/completions");
    bool responses = EndsWith(path, "/responses");
    bool messages = EndsWith(path, "/messages");
    bool count_tokens = EndsWith(path, "/messages/count_tokens");
    if (request.method == "POST" && chat) return HandleOpenAiChat(request, state);
    if (request.method == "POST" && responses) return HandleOpenAiResponses(request, state);
    if (request.method == "POST" && messages) return HandleAnthropicMessages(request, state);
    if (request.method == "POST" && count_tokens) {
      return HandleAnthropicCountTokens(request, state);
    }
    if (dialect == Dialect::kAnthropic) {
      return AnthropicError(404, "not_found_error", "Not Found");
    }
    return OpenAiError(404, "Invalid URL (" + request.method + " " + std::string(path) + ")",
                       "invalid_request_error");
  } catch (const std::exception& e) {
    return DialectError(dialect, 500, std::string("emulator bug: ") + e.what());
  } catch (...) {
    return DialectError(dialect, 500, "emulator bug: unknown exception");
  }
}

}  // namespace sy::emulator
