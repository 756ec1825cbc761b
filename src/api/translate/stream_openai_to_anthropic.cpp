// An OpenAI Chat Completions stream re-framed as an Anthropic Messages stream.
//
// OpenAI chunks carry flat deltas (content, tool_calls by index); Anthropic streams content
// blocks, each opened, filled and closed in turn. So: the first chunk opens the message
// (message_start, ping); text opens a text block; a tool call's first fragment closes the open
// block and opens a tool_use block; its argument fragments become input_json_delta. An argument
// fragment for a tool call whose block was already closed (interleaved parallel calls) cannot be
// re-framed, as Anthropic blocks never reopen: the stream fails.
// message_start's usage carries the gateway's estimate of the input tokens (Context::
// input_tokens_estimate): some clients read usage there only. The upstream's own count arrives
// with its usage chunk, at the end, and goes to message_delta with the billed usage.
// [DONE] closes the open block and ends the message: message_delta (stop reason, usage) and
// message_stop. A stream cut off before [DONE] just stops: nothing is fabricated.
// Refusal deltas are streamed as text, and make the stop reason "refusal" (as TranslateResponse
// does).
#include <set>
#include <string>
#include <utility>

#include <boost/json/serialize.hpp>

#include "api/translate/translate_internal.h"

namespace sy::api::translate::internal {
namespace {

namespace json = boost::json;

constexpr std::string_view kOpenAi = "OpenAI stream";

class OpenAiToAnthropicStream final : public StreamTranslator {
 public:
  explicit OpenAiToAnthropicStream(int64_t input_tokens_estimate)
      : input_tokens_estimate_(input_tokens_estimate) {}

  core::Status Feed(const core::StreamEvent& upstream,
                    std::vector<core::StreamEvent>& out) override {
    if (done_) return {};
    if (upstream.data == "[DONE]") return Finish(out);
    const auto* chunk = upstream.Json().if_object();
    if (!chunk) return Malformed(kOpenAi, "a chunk that is not a JSON object");
    if (upstream.usage) usage_ = upstream.usage;
    if (!started_) {
      if (auto s = Start(*chunk, out); !s) return s;
    }
    const auto* choices = Find(*chunk, "choices");
    if (!choices) return {};
    if (!choices->is_array()) return Malformed(kOpenAi, "choices is not an array");
    for (const auto& v : choices->get_array()) {
      const auto* choice = v.if_object();
      if (!choice) return Malformed(kOpenAi, "a choice that is not an object");
      const auto* index = choice->if_contains("index");
      if (index && index->is_number() && !(index->is_int64() && index->get_int64() == 0)) {
        continue;  // n > 1 is refused on the way in; only the first choice is the answer
      }
      if (auto s = Choice(*choice, out); !s) return s;
    }
    return {};
  }

 private:
  void Emit(json::object event, std::vector<core::StreamEvent>& out,
            std::optional<core::Usage> usage = std::nullopt, bool terminal = false) {
    core::StreamEvent e;
    e.event = FindString(event, "type").value_or("");
    e.data = json::serialize(event);
    e.SetJson(std::move(event));
    e.usage = usage;
    e.terminal = terminal;
    out.push_back(std::move(e));
  }

  core::Status Start(const json::object& chunk, std::vector<core::StreamEvent>& out) {
    const auto id = FindString(chunk, "id");
    if (!id) return Malformed(kOpenAi, "a first chunk without an id");
    json::object message;
    message["id"] = *id;
    message["type"] = "message";
    message["role"] = "assistant";
    message["model"] = FindString(chunk, "model").value_or("");
    message["content"] = json::array();
    message["stop_reason"] = nullptr;
    message["stop_sequence"] = nullptr;
    message["usage"] =
        json::object({{"input_tokens", input_tokens_estimate_}, {"output_tokens", 0}});
    json::object start({{"type", "message_start"}});
    start["message"] = std::move(message);
    Emit(std::move(start), out);
    Emit(json::object({{"type", "ping"}}), out);
    started_ = true;
    return {};
  }

  core::Status Choice(const json::object& choice, std::vector<core::StreamEvent>& out) {
    if (const auto* delta = FindObject(choice, "delta")) {
      if (const auto text = FindString(*delta, "content"); text && !text->empty()) Text(*text, out);
      if (const auto refusal = FindString(*delta, "refusal"); refusal && !refusal->empty()) {
        Text(*refusal, out);
        refused_ = true;
      }
      if (const auto* calls = Find(*delta, "tool_calls")) {
        if (!calls->is_array()) return Malformed(kOpenAi, "tool_calls is not an array");
        for (const auto& call : calls->get_array()) {
          if (auto s = ToolCall(call, out); !s) return s;
        }
      }
    }
    if (const auto reason = FindString(choice, "finish_reason")) finish_reason_ = *reason;
    return {};
  }

  void Text(std::string_view text, std::vector<core::StreamEvent>& out) {
    if (open_ != Open::kText) {
      Close(out);
      Emit(json::object({{"type", "content_block_start"},
                         {"index", next_block_},
                         {"content_block", {{"type", "text"}, {"text", ""}}}}),
           out);
      open_ = Open::kText;
    }
    Emit(json::object({{"type", "content_block_delta"},
                       {"index", next_block_},
                       {"delta", {{"type", "text_delta"}, {"text", text}}}}),
         out);
  }

  core::Status ToolCall(const json::value& v, std::vector<core::StreamEvent>& out) {
    const auto* call = v.if_object();
    const auto* index = call ? call->if_contains("index") : nullptr;
    if (!index || !index->is_int64()) return Malformed(kOpenAi, "a tool call without an index");
    const int64_t i = index->get_int64();
    const auto* fn = FindObject(*call, "function");
    const auto arguments = fn ? FindString(*fn, "arguments") : std::nullopt;
    const bool has_arguments = arguments && !arguments->empty();
    if (!started_tools_.contains(i)) {
      const auto id = FindString(*call, "id");
      const auto name = fn ? FindString(*fn, "name") : std::nullopt;
      if (!id || !name) return Malformed(kOpenAi, "a new tool call without id or name");
      Close(out);
      json::object block({{"type", "tool_use"}, {"id", *id}, {"name", *name}});
      block["input"] = json::object();
      json::object start({{"type", "content_block_start"}, {"index", next_block_}});
      start["content_block"] = std::move(block);
      Emit(std::move(start), out);
      open_ = Open::kTool;
      open_tool_ = i;
      started_tools_.insert(i);
    } else if (open_ != Open::kTool || open_tool_ != i) {
      if (!has_arguments) return {};  // a repeated header without a fragment: nothing to add
      return Malformed(kOpenAi,
                       "argument fragments of parallel tool calls interleaved (Anthropic "
                       "streams each tool call's input in one block)");
    }
    if (has_arguments) {
      Emit(json::object({{"type", "content_block_delta"},
                         {"index", next_block_},
                         {"delta", {{"type", "input_json_delta"}, {"partial_json", *arguments}}}}),
           out);
    }
    return {};
  }

  void Close(std::vector<core::StreamEvent>& out) {
    if (open_ == Open::kNone) return;
    Emit(json::object({{"type", "content_block_stop"}, {"index", next_block_}}), out);
    open_ = Open::kNone;
    ++next_block_;
  }

  core::Status Finish(std::vector<core::StreamEvent>& out) {
    if (!started_) return Malformed(kOpenAi, "a stream that ended before its first chunk");
    Close(out);
    const std::string_view stop_reason =
        refused_ ? std::string_view("refusal") : StopReasonFromFinishReason(finish_reason_);
    json::object delta({{"stop_reason", stop_reason}, {"stop_sequence", nullptr}});
    // Without a reported usage the block still has Anthropic's shape (SDKs read it), all zeros,
    // and the event carries no core::Usage: the cost stays unknown.
    json::object event({{"type", "message_delta"}});
    event["delta"] = std::move(delta);
    event["usage"] = AnthropicUsageJson(usage_.value_or(core::Usage{}));
    Emit(std::move(event), out, usage_);
    Emit(json::object({{"type", "message_stop"}}), out, std::nullopt, /*terminal=*/true);
    done_ = true;
    return {};
  }

  enum class Open { kNone, kText, kTool };

  int64_t input_tokens_estimate_;
  bool started_ = false;
  bool done_ = false;
  bool refused_ = false;
  Open open_ = Open::kNone;
  int64_t next_block_ = 0;  // the Anthropic index of the open block, or of the next one
  int64_t open_tool_ = -1;  // the OpenAI tool-call index of the open tool_use block
  std::set<int64_t> started_tools_;
  std::string finish_reason_;
  std::optional<core::Usage> usage_;
};

}  // namespace

std::unique_ptr<StreamTranslator> MakeOpenAiToAnthropicStream(const Context& ctx) {
  return std::make_unique<OpenAiToAnthropicStream>(ctx.input_tokens_estimate);
}

}  // namespace sy::api::translate::internal
