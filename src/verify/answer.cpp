// ReadAnswer: a complete upstream answer, in its own dialect, as a verify::Output.
#include <string>

#include <boost/json.hpp>

#include "core/error.h"
#include "verify/detail/json_read.h"
#include "verify/verify.h"

namespace sy::verify {
namespace {

namespace json = boost::json;

using detail::Arr;
using detail::Obj;
using detail::Str;

void AppendText(Output& out, std::string_view text) {
  if (out.truncated) return;
  if (out.text.size() + text.size() > kMaxOutputBytes) {
    out.text.append(text.substr(0, kMaxOutputBytes - out.text.size()));
    out.truncated = true;
    return;
  }
  out.text.append(text);
}

// A tool call, unless it is the gateway's JSON-answer tool, whose arguments are the text.
void AddCall(Output& out, std::string_view name, std::string arguments) {
  if (name == kJsonAnswerTool) {
    AppendText(out, arguments);
  } else {
    out.tool_calls.push_back({std::string(name), std::move(arguments)});
  }
}

core::Error Malformed(std::string_view what) {
  return core::MakeError(core::Errc::kUpstreamUnavailable,
                         "upstream answer has no " + std::string(what) + " to verify");
}

core::Result<Output> ReadChat(const json::object& answer) {
  const auto* choices = Arr(answer, "choices");
  if (!choices || choices->empty() || !(*choices)[0].is_object()) return Malformed("choices[0]");
  const auto& choice = (*choices)[0].get_object();
  Output out;
  const auto* message = Obj(choice, "message");
  if (!message) return Malformed("choices[0].message");
  AppendText(out, Str(*message, "content"));
  out.refusal = std::string(Str(*message, "refusal"));
  if (const auto* calls = Arr(*message, "tool_calls")) {
    for (const auto& c : *calls) {
      const auto* fn = c.is_object() ? Obj(c.get_object(), "function") : nullptr;
      if (fn) AddCall(out, Str(*fn, "name"), std::string(Str(*fn, "arguments")));
    }
  }
  out.stop =
      StopOf(core::Dialect::kOpenAiChat, Str(choice, "finish_reason"), !out.tool_calls.empty());
  return out;
}

core::Result<Output> ReadAnthropic(const json::object& answer) {
  const auto* content = Arr(answer, "content");
  if (!content) return Malformed("content");
  Output out;
  for (const auto& b : *content) {
    if (!b.is_object()) continue;
    const auto& block = b.get_object();
    const std::string_view type = Str(block, "type");
    if (type == "text") AppendText(out, Str(block, "text"));
    if (type == "tool_use") {
      const auto* input = block.if_contains("input");
      AddCall(out, Str(block, "name"), input ? json::serialize(*input) : "{}");
    }
  }
  out.stop = StopOf(core::Dialect::kAnthropicMessages, Str(answer, "stop_reason"),
                    !out.tool_calls.empty());
  return out;
}

core::Result<Output> ReadResponses(const json::object& answer) {
  const auto* output = Arr(answer, "output");
  if (!output) return Malformed("output");
  Output out;
  if (Str(answer, "status") == "incomplete") {
    const auto* details = Obj(answer, "incomplete_details");
    const std::string_view reason = details ? Str(*details, "reason") : "";
    out.stop = reason == "max_output_tokens" ? Stop::kLength
               : reason == "content_filter"  ? Stop::kContentFilter
                                             : Stop::kOther;
  }
  for (const auto& i : *output) {
    if (!i.is_object()) continue;
    const auto& item = i.get_object();
    const std::string_view type = Str(item, "type");
    if (type == "function_call") {
      AddCall(out, Str(item, "name"), std::string(Str(item, "arguments")));
    } else if (type == "message") {
      const auto* parts = Arr(item, "content");
      for (size_t p = 0; parts && p < parts->size(); ++p) {
        if (!(*parts)[p].is_object()) continue;
        const auto& part = (*parts)[p].get_object();
        if (Str(part, "type") == "output_text") AppendText(out, Str(part, "text"));
        if (Str(part, "type") == "refusal") out.refusal += Str(part, "refusal");
      }
    }
  }
  if (out.stop == Stop::kComplete && !out.tool_calls.empty()) out.stop = Stop::kToolUse;
  return out;
}

}  // namespace

core::Result<Output> ReadAnswer(core::Dialect upstream, const json::value& answer) {
  const auto* object = answer.if_object();
  if (!object) return Malformed("JSON object");
  switch (upstream) {
    case core::Dialect::kOpenAiChat:
      return ReadChat(*object);
    case core::Dialect::kAnthropicMessages:
      return ReadAnthropic(*object);
    case core::Dialect::kOpenAiResponses:
      return ReadResponses(*object);
  }
  return Malformed("known dialect");
}

}  // namespace sy::verify
