// An Anthropic Messages stream re-framed as an OpenAI Chat Completions stream.
//
// message_start becomes the first chunk (role assistant, empty content); text deltas become
// content chunks; a tool_use block's start becomes a tool_calls chunk (index = the n-th tool call
// of the answer, id, name, empty arguments) and its input_json_delta fragments become argument
// chunks; message_delta becomes the chunk with the finish reason; message_stop becomes the usage
// chunk (when a usage was reported) and [DONE]. A tool_use block of kJsonAnswerTool (the forced
// tool that carries a JSON answer, structured_output.cpp) is no tool call: its input_json_delta
// fragments become content chunks ("{}" at its end when none came), and the finish reason is
// "stop" instead of "tool_calls" when it was the only call. Thinking and signature deltas, ping,
// content_block_stop and events this translator does not know map to nothing. A stream cut off
// before message_stop just stops: nothing is fabricated.
#include <map>
#include <string>
#include <utility>

#include <boost/json/serialize.hpp>

#include "api/translate/chat_chunks.h"
#include "api/translate/translate_internal.h"

namespace sy::api::translate::internal {
namespace {

namespace json = boost::json;

constexpr std::string_view kAnthropic = "Anthropic stream";

class AnthropicToOpenAiStream final : public StreamTranslator {
 public:
  explicit AnthropicToOpenAiStream(const Context& ctx) : ctx_(ctx) {}

  core::Status Feed(const core::StreamEvent& upstream,
                    std::vector<core::StreamEvent>& out) override {
    if (done_) return {};
    const auto* event = upstream.Json().if_object();
    if (!event) return Malformed(kAnthropic, "an event that is not a JSON object");
    if (upstream.usage) usage_ = upstream.usage;
    const std::string_view type = FindString(*event, "type").value_or(upstream.event);
    if (type == "ping") return {};
    if (type == "error") {
      const auto* error = FindObject(*event, "error");
      const auto message = error ? FindString(*error, "message") : std::nullopt;
      return core::MakeError(core::Errc::kUpstreamUnavailable,
                             "the upstream Anthropic stream failed: " +
                                 std::string(message.value_or("an error event")));
    }
    if (type == "message_start") return Start(*event, out);
    if (!started_) return Malformed(kAnthropic, "an event before message_start");
    if (type == "content_block_start") return BlockStart(*event, out);
    if (type == "content_block_delta") return BlockDelta(*event, out);
    if (type == "message_delta") {
      const auto* delta = FindObject(*event, "delta");
      const std::string_view reason =
          delta ? FindString(*delta, "stop_reason").value_or("") : std::string_view();
      const bool answered = answer_block_ && next_tool_ == 0 && reason == "tool_use";
      chunks_.Delta(json::object(), out,
                    answered ? std::string_view("stop") : FinishReasonFromStopReason(reason));
      return {};
    }
    if (type == "content_block_stop") return BlockStop(*event, out);
    if (type == "message_stop") {
      chunks_.Close(usage_, out);
      done_ = true;
    }
    return {};  // unknown events carry nothing OpenAI can show
  }

 private:
  core::Status Start(const json::object& event, std::vector<core::StreamEvent>& out) {
    const auto* message = FindObject(event, "message");
    const auto id = message ? FindString(*message, "id") : std::nullopt;
    if (!id) return Malformed(kAnthropic, "a message_start without message.id");
    started_ = true;
    chunks_.Begin(*id, ctx_.created_unix_s, FindString(*message, "model").value_or(""), out);
    return {};
  }

  core::Status BlockStart(const json::object& event, std::vector<core::StreamEvent>& out) {
    const auto* index = event.if_contains("index");
    const auto* block = FindObject(event, "content_block");
    if (!index || !index->is_int64() || !block) {
      return Malformed(kAnthropic, "a content_block_start without index or content_block");
    }
    const auto type = FindString(*block, "type");
    if (type == "text") {
      const auto text = FindString(*block, "text");
      if (text && !text->empty()) chunks_.Delta(json::object({{"content", *text}}), out);
    } else if (type == "tool_use") {
      const auto id = FindString(*block, "id");
      const auto name = FindString(*block, "name");
      if (!id || !name) return Malformed(kAnthropic, "a tool_use block without id or name");
      if (*name == kJsonAnswerTool) {
        answer_block_ = index->get_int64();
        return {};
      }
      const int64_t n = next_tool_++;
      tool_index_[index->get_int64()] = n;
      json::object call({{"index", n}, {"id", *id}, {"type", "function"}});
      call["function"] = json::object({{"name", *name}, {"arguments", ""}});
      json::object delta;
      delta["tool_calls"] = json::array({std::move(call)});
      chunks_.Delta(std::move(delta), out);
    }
    return {};  // thinking blocks and others: nothing to show
  }

  core::Status BlockDelta(const json::object& event, std::vector<core::StreamEvent>& out) {
    const auto* index = event.if_contains("index");
    const auto* delta = FindObject(event, "delta");
    if (!index || !index->is_int64() || !delta) {
      return Malformed(kAnthropic, "a content_block_delta without index or delta");
    }
    const auto type = FindString(*delta, "type");
    if (type == "text_delta") {
      const auto text = FindString(*delta, "text");
      if (text && !text->empty()) chunks_.Delta(json::object({{"content", *text}}), out);
    } else if (type == "input_json_delta" && answer_block_ == index->get_int64()) {
      const auto partial = FindString(*delta, "partial_json");
      if (partial && !partial->empty()) {
        chunks_.Delta(json::object({{"content", *partial}}), out);
        answer_streamed_ = true;
      }
    } else if (type == "input_json_delta") {
      const auto it = tool_index_.find(index->get_int64());
      if (it == tool_index_.end()) {
        return Malformed(kAnthropic, "an input_json_delta for a block that is not a tool_use");
      }
      const auto partial = FindString(*delta, "partial_json");
      if (!partial || partial->empty()) return {};
      json::object call({{"index", it->second}});
      call["function"] = json::object({{"arguments", *partial}});
      json::object chunk_delta;
      chunk_delta["tool_calls"] = json::array({std::move(call)});
      chunks_.Delta(std::move(chunk_delta), out);
    }
    return {};  // thinking_delta, signature_delta, citations_delta: nothing to show
  }

  // The end of the JSON answer's block: an answer whose input came in no fragment is "{}".
  core::Status BlockStop(const json::object& event, std::vector<core::StreamEvent>& out) {
    const auto* index = event.if_contains("index");
    if (!answer_block_ || answer_streamed_) return {};
    if (index && index->is_int64() && answer_block_ == index->get_int64()) {
      chunks_.Delta(json::object({{"content", "{}"}}), out);
      answer_streamed_ = true;
    }
    return {};
  }

  Context ctx_;
  bool started_ = false;
  bool done_ = false;
  ChatChunks chunks_;
  int64_t next_tool_ = 0;
  std::map<int64_t, int64_t> tool_index_;  // Anthropic block index -> OpenAI tool-call index
  std::optional<core::Usage> usage_;
  std::optional<int64_t> answer_block_;  // the Anthropic index of the kJsonAnswerTool block
  bool answer_streamed_ = false;         // a fragment of the JSON answer was sent
};

}  // namespace

std::unique_ptr<StreamTranslator> MakeAnthropicToOpenAiStream(const Context& ctx) {
  return std::make_unique<AnthropicToOpenAiStream>(ctx);
}

}  // namespace sy::api::translate::internal
