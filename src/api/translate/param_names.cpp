// Parameter names across a translation: the tables behind ClientParam (translate.h).
//
// A path is read as segments, names and array indices, from either notation (Chat and Responses
// write "tools[0].function.name", Anthropic "tools.0.name"), and written in the client's. Each
// hop between the hub (Chat Completions) and another dialect has two small tables, one per
// direction, of patterns: a name matches itself, `#` one index (the same index is written where
// the replacement has `#`), `*` whatever follows (written where the replacement has `*`, else
// dropped). The first pattern that matches decides; a name no pattern matches keeps its text.
//
// An index is carried over only where the translator maps that array one to one (tools, stop
// sequences). Messages are not: Chat's messages hold what Anthropic keeps in `system` and what
// Responses keeps in `instructions`, a tool result becomes a message of its own, and Responses'
// function calls merge into one assistant message; so a path into them names the array only.
#include <cctype>
#include <charconv>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "api/translate/translate.h"
#include "api/translate/translate_internal.h"

namespace sy::api::translate {
namespace {

namespace json = boost::json;

using Path = std::vector<std::string>;  // an index is a segment of digits

bool IsIndex(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// The index segment's value; nullopt when it does not fit (an upstream's path is untrusted text).
std::optional<size_t> IndexValue(std::string_view s) {
  size_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '#' || c == '*';
}

// "a.b[2].c" or "a.b.2.c" -> {a, b, 2, c}; nullopt when it is neither (a message, a header name).
std::optional<Path> Parse(std::string_view text) {
  Path out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '[') {
      const size_t close = text.find(']', i);
      if (close == std::string_view::npos || !IsIndex(text.substr(i + 1, close - i - 1))) {
        return std::nullopt;
      }
      out.emplace_back(text.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      if (text[i] == '.') {
        if (out.empty()) return std::nullopt;
        ++i;
      }
      const size_t start = i;
      while (i < text.size() && IsNameChar(text[i])) ++i;
      if (i == start) return std::nullopt;
      out.emplace_back(text.substr(start, i - start));
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// Anthropic: "tools.0.name"; OpenAI: "tools[0].name".
std::string Format(const Path& path, bool dotted) {
  std::string out;
  for (const auto& segment : path) {
    if (IsIndex(segment) && !dotted) {
      out += "[" + segment + "]";
    } else {
      if (!out.empty()) out += '.';
      out += segment;
    }
  }
  return out;
}

struct Rule {
  std::string_view from;
  std::string_view to;
};

// What a pattern took from a path: the indices its `#`s matched, and where its `*` began (npos
// when it has none).
struct Match {
  std::vector<std::string_view> indices;
  size_t rest = std::string_view::npos;
};

// `path` matched against the pattern `from`; nullopt when it does not match.
std::optional<Match> MatchPattern(const Path& from, const Path& path) {
  Match match;
  size_t i = 0;
  for (const auto& want : from) {
    if (want == "*") {
      match.rest = i;
      return match;
    }
    if (i == path.size() || (want == "#" ? !IsIndex(path[i]) : want != path[i])) {
      return std::nullopt;
    }
    if (want == "#") match.indices.push_back(path[i]);
    ++i;
  }
  if (i != path.size()) return std::nullopt;
  return match;
}

// `path` rewritten by the first rule of `rules` that matches it; nullopt when none does.
std::optional<Path> Apply(std::span<const Rule> rules, const Path& path) {
  for (const Rule& rule : rules) {
    const auto match = MatchPattern(Parse(rule.from).value_or(Path{}), path);
    if (!match) continue;
    const Path to = Parse(rule.to).value_or(Path{});
    Path out;
    size_t next_index = 0;
    for (const auto& segment : to) {
      if (segment == "#") {
        out.emplace_back(match->indices[next_index++]);
      } else if (segment == "*") {
        if (match->rest != std::string_view::npos) {
          out.insert(out.end(), path.begin() + static_cast<std::ptrdiff_t>(match->rest),
                     path.end());
        }
      } else {
        out.push_back(segment);
      }
    }
    return out;
  }
  return std::nullopt;
}

// --- the tables: which name the client used for what the other side names --------------------

// A Chat name, for an Anthropic client (AnthropicToOpenAiRequest in reverse).
constexpr Rule kAnthropicFromChat[] = {
    {"stop.*", "stop_sequences.*"},
    {"max_completion_tokens", "max_tokens"},
    {"tools.#.function.name", "tools.#.name"},
    {"tools.#.function.description", "tools.#.description"},
    {"tools.#.function.parameters.*", "tools.#.input_schema.*"},
    {"tools.#.*", "tools.#"},
    {"tool_choice.*", "tool_choice"},
    {"parallel_tool_calls", "tool_choice.disable_parallel_tool_use"},
    {"response_format.json_schema.schema.*", "output_config.format.schema.*"},
    {"response_format.*", "output_config.format"},
    {"user", "metadata.user_id"},
    {"messages.*", "messages"},
};

// An Anthropic name, for a Chat client (OpenAiToAnthropicRequest in reverse).
constexpr Rule kChatFromAnthropic[] = {
    {"stop_sequences.*", "stop.*"},
    {"tools.#.name", "tools.#.function.name"},
    {"tools.#.description", "tools.#.function.description"},
    {"tools.#.input_schema.*", "tools.#.function.parameters.*"},
    {"tools.#.*", "tools.#"},
    {"tool_choice.disable_parallel_tool_use", "parallel_tool_calls"},
    {"tool_choice.*", "tool_choice"},
    {"output_config.format.schema.*", "response_format.json_schema.schema.*"},
    {"output_config.*", "response_format"},
    {"output_format.schema.*", "response_format.json_schema.schema.*"},
    {"output_format.*", "response_format"},
    {"metadata.user_id", "user"},
    {"system.*", "messages"},
    {"messages.*", "messages"},
};

// A Chat name, for a Responses client (ResponsesToChatRequest in reverse).
constexpr Rule kResponsesFromChat[] = {
    {"max_completion_tokens", "max_output_tokens"},
    {"max_tokens", "max_output_tokens"},
    {"response_format.json_schema.*", "text.format.*"},
    {"response_format.*", "text.format.*"},
    {"verbosity", "text.verbosity"},
    {"reasoning_effort", "reasoning.effort"},
    {"tools.#.function.*", "tools.#.*"},
    {"tool_choice.*", "tool_choice"},
    {"messages.*", "input"},
};

// A Responses name, for a Chat client (ChatToResponsesRequest in reverse).
constexpr Rule kChatFromResponses[] = {
    {"text.format", "response_format"},
    {"text.format.type", "response_format.type"},
    {"text.format.*", "response_format.json_schema.*"},
    {"text.verbosity", "verbosity"},
    {"reasoning.*", "reasoning_effort"},
    {"tools.#.name", "tools.#.function.name"},
    {"tools.#.description", "tools.#.function.description"},
    {"tools.#.parameters.*", "tools.#.function.parameters.*"},
    {"tools.#.strict", "tools.#.function.strict"},
    {"tools.#.*", "tools.#"},
    {"tool_choice.*", "tool_choice"},
    {"instructions", "messages"},
    {"input.*", "messages"},
};

bool Has(const json::object* body, std::string_view key) {
  return body && internal::Find(*body, key) != nullptr;
}

// Chat's name for `path`, named by `upstream` (Anthropic or Responses); `body` is the Chat
// client's request, or null when Chat is only the hub between two other dialects. Where the
// client had two spellings (max_tokens and max_completion_tokens) the one it sent is named.
std::optional<Path> ChatFrom(core::Dialect upstream, const Path& path, const json::object* body) {
  const bool limit = path.size() == 1 && (upstream == core::Dialect::kAnthropicMessages
                                              ? path[0] == "max_tokens"
                                              : path[0] == "max_output_tokens");
  if (limit) {
    return Path{Has(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens"};
  }
  if (upstream == core::Dialect::kOpenAiResponses) return Apply(kChatFromResponses, path);
  const auto* stop = body ? internal::Find(*body, "stop") : nullptr;
  if (path[0] == "stop_sequences" && stop && stop->is_string()) {
    return Path{"stop"};  // one string, sent as a list of one
  }
  if (path[0] == "tools" && path.size() > 1 && IsIndex(path[1])) {
    // A tool past the client's own is the one that asks for the JSON answer (structured output).
    const auto* tools = body ? internal::FindArray(*body, "tools") : nullptr;
    if (!tools) return Path{body && Has(body, "response_format") ? "response_format" : "tools"};
    const auto index = IndexValue(path[1]);
    if (!index || *index >= tools->size()) return Path{"response_format"};
  }
  return Apply(kChatFromAnthropic, path);
}

// `client`'s name (Anthropic or Responses) for the Chat `path`.
std::optional<Path> FromChat(core::Dialect client, const Path& path, const json::object& body) {
  if (client == core::Dialect::kOpenAiResponses) return Apply(kResponsesFromChat, path);
  auto out = Apply(kAnthropicFromChat, path);
  if (out && out->size() >= 2 && (*out)[0] == "output_config" && Has(&body, "output_format")) {
    out->erase(out->begin());  // the beta spelling: output_format.schema
    (*out)[0] = "output_format";
  }
  return out;
}

}  // namespace

std::string ClientParam(core::Dialect client, core::Dialect upstream, std::string_view param,
                        const json::object& client_body) {
  constexpr core::Dialect kHub = core::Dialect::kOpenAiChat;
  const auto path = Parse(param);
  if (client == upstream || !path) return std::string(param);
  std::optional<Path> out;
  if (upstream == kHub) {
    out = FromChat(client, *path, client_body);
  } else if (client == kHub) {
    out = ChatFrom(upstream, *path, &client_body);
  } else {
    // Two hops: to the hub's name, then to the client's; a hub name no rule knows passes on.
    const Path hub = ChatFrom(upstream, *path, nullptr).value_or(*path);
    out = FromChat(client, hub, client_body);
    if (!out && hub != *path) out = hub;
  }
  if (!out) return std::string(param);
  return Format(*out, client == core::Dialect::kAnthropicMessages);
}

void NameParamForClient(core::Dialect client, core::Dialect upstream,
                        const json::object& client_body, core::Error& error) {
  if (error.param.empty()) return;
  std::string named = ClientParam(client, upstream, error.param, client_body);
  if (named == error.param) return;
  // A translator's refusal leads with the quoted name and quotes it wherever its advice names it
  // (internal::Unsupported): each of those says the client's name. Only the exact quoted name is
  // replaced, no other word of the message; an upstream's message, which leads with no quoted
  // name, is its own and stays as it was.
  const std::string quoted = "'" + error.param + "'";
  if (error.message.rfind(quoted, 0) == 0) {
    const std::string renamed = "'" + named + "'";
    for (size_t at = 0; (at = error.message.find(quoted, at)) != std::string::npos;
         at += renamed.size()) {
      error.message.replace(at, quoted.size(), renamed);
    }
  }
  error.param = std::move(named);
}

}  // namespace sy::api::translate
