#include "providers/stream_generated.h"

#include <string_view>

namespace sy::providers {
namespace {

namespace json = boost::json;

const json::value* Member(const json::value& v, std::string_view key) {
  const auto* obj = v.if_object();
  return obj ? obj->if_contains(key) : nullptr;
}

size_t StringBytes(const json::value* v) {
  const auto* s = v ? v->if_string() : nullptr;
  return s ? s->size() : 0;
}

size_t ArgumentsBytes(const json::array& calls) {
  size_t bytes = 0;
  for (const auto& call : calls) {
    const auto* fn = Member(call, "function");
    if (fn) bytes += StringBytes(Member(*fn, "arguments"));
  }
  return bytes;
}

core::Generated DeltaGenerated(const json::value& delta) {
  const size_t text = StringBytes(Member(delta, "content"));
  core::Generated out{.bytes = text, .content = text > 0};
  const auto* tools = Member(delta, "tool_calls");
  if (!tools || tools->is_null()) return out;
  out.content = true;
  if (const auto* calls = tools->if_array()) out.bytes += ArgumentsBytes(*calls);
  return out;
}

}  // namespace

core::Generated ChunkGenerated(const json::value& chunk) {
  const auto* choices = Member(chunk, "choices");
  const auto* list = choices ? choices->if_array() : nullptr;
  core::Generated out;
  if (!list) return out;
  for (const auto& choice : *list) {
    const auto* delta = Member(choice, "delta");
    if (!delta || !delta->is_object()) continue;
    const core::Generated g = DeltaGenerated(*delta);
    out.bytes += g.bytes;
    out.content = out.content || g.content;
  }
  return out;
}

size_t AnthropicDeltaBytes(const json::value& event) {
  const auto* delta = Member(event, "delta");
  if (!delta) return 0;
  return StringBytes(Member(*delta, "text")) + StringBytes(Member(*delta, "partial_json")) +
         StringBytes(Member(*delta, "thinking"));
}

ResponsesDelta ResponsesDeltaKind(std::string_view type) {
  if (type == "response.output_text.delta" || type == "response.function_call_arguments.delta" ||
      type == "response.refusal.delta") {
    return ResponsesDelta::kContent;
  }
  if (type == "response.reasoning_text.delta" || type == "response.reasoning_summary_text.delta") {
    return ResponsesDelta::kReasoning;
  }
  return ResponsesDelta::kNone;
}

size_t ResponsesDeltaBytes(const json::value& event) { return StringBytes(Member(event, "delta")); }

}  // namespace sy::providers
