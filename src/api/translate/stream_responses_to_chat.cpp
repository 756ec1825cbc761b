// A Responses API stream (typed events) re-framed as the Chat Completions chunk stream a Chat
// upstream sends with stream_options.include_usage, for a hub client served by a model whose
// provider speaks the Responses API natively.
//
// response.created becomes the first chunk (role assistant, empty content); output_text deltas
// become content chunks and refusal deltas refusal chunks; a function_call item's
// output_item.added becomes a tool_calls chunk (index = the n-th call of the answer, id = its
// call_id, name, empty arguments) and its function_call_arguments deltas become argument chunks;
// response.completed and response.incomplete become the finish chunk, the usage chunk (choices
// [], when a usage was reported) and [DONE]. Events that carry nothing a Chat client can see
// (in_progress, content_part.*, *.done, reasoning and its summaries, events this translator does
// not know) map to nothing. `error` and response.failed fail the stream. A stream cut off before
// its terminal event just stops: nothing is fabricated.
#include <map>
#include <string>
#include <utility>

#include <boost/json/serialize.hpp>

#include "api/translate/chat_chunks.h"
#include "api/translate/translate_internal.h"

namespace sy::api::translate::internal {
namespace {

namespace json = boost::json;

constexpr std::string_view kResponses = "OpenAI Responses stream";

class ResponsesToChatStream final : public StreamTranslator {
 public:
  explicit ResponsesToChatStream(const Context& ctx) : created_(ctx.created_unix_s) {}

  core::Status Feed(const core::StreamEvent& upstream,
                    std::vector<core::StreamEvent>& out) override {
    if (done_) return {};
    const auto* event = upstream.Json().if_object();
    if (!event) return Malformed(kResponses, "an event that is not a JSON object");
    const std::string_view type = FindString(*event, "type").value_or(upstream.event);
    if (type == "error") {
      return Failed(FindString(*event, "message"));
    }
    if (type == "response.failed") {
      const auto* response = FindObject(*event, "response");
      const auto* error = response ? FindObject(*response, "error") : nullptr;
      return Failed(error ? FindString(*error, "message") : std::nullopt);
    }
    if (type == "response.created") return Start(*event, out);
    if (!started_) {
      if (type == "response.in_progress" || type == "response.queued") return {};
      return Malformed(kResponses, "an event before response.created");
    }
    if (type == "response.output_text.delta") return Delta(*event, "content", out);
    if (type == "response.refusal.delta") return Delta(*event, "refusal", out);
    if (type == "response.output_item.added") return ItemAdded(*event, out);
    if (type == "response.function_call_arguments.delta") return Arguments(*event, out);
    if (type == "response.completed" || type == "response.incomplete") {
      return Finish(*event, upstream.usage, out);
    }
    return {};
  }

 private:
  static core::Error Failed(std::optional<std::string_view> message) {
    return core::MakeError(core::Errc::kUpstreamUnavailable,
                           "the upstream OpenAI Responses stream failed: " +
                               std::string(message.value_or("an error event")));
  }

  core::Status Start(const json::object& event, std::vector<core::StreamEvent>& out) {
    const auto* response = FindObject(event, "response");
    const auto id = response ? FindString(*response, "id") : std::nullopt;
    if (!id) return Malformed(kResponses, "a response.created without response.id");
    if (started_) return Malformed(kResponses, "a second response.created");
    int64_t created = created_;
    if (const auto* at = Find(*response, "created_at"); at && at->is_int64()) {
      created = at->get_int64();
    }
    started_ = true;
    chunks_.Begin(*id, created, FindString(*response, "model").value_or(""), out);
    return {};
  }

  core::Status Delta(const json::object& event, std::string_view field,
                     std::vector<core::StreamEvent>& out) {
    const auto delta = FindString(event, "delta");
    if (!delta) return Malformed(kResponses, "a text delta without delta");
    if (!delta->empty()) chunks_.Delta(json::object({{field, *delta}}), out);
    return {};
  }

  core::Status ItemAdded(const json::object& event, std::vector<core::StreamEvent>& out) {
    const auto* index = event.if_contains("output_index");
    const auto* item = FindObject(event, "item");
    if (!index || !index->is_int64() || !item) {
      return Malformed(kResponses, "an output_item.added without output_index or item");
    }
    if (FindString(*item, "type") != "function_call") return {};  // message, reasoning, ...
    const auto call_id = FindString(*item, "call_id");
    const auto name = FindString(*item, "name");
    if (!call_id || !name)
      return Malformed(kResponses, "a function_call item without call_id or name");
    const int64_t n = next_call_++;
    call_index_[index->get_int64()] = n;
    json::object call({{"index", n}, {"id", *call_id}, {"type", "function"}});
    call["function"] = json::object({{"name", *name}, {"arguments", ""}});
    json::object delta;
    delta["tool_calls"] = json::array({std::move(call)});
    chunks_.Delta(std::move(delta), out);
    // Some servers put the whole arguments on the added item instead of streaming them.
    if (const auto arguments = FindString(*item, "arguments"); arguments && !arguments->empty()) {
      EmitArguments(n, *arguments, out);
    }
    return {};
  }

  core::Status Arguments(const json::object& event, std::vector<core::StreamEvent>& out) {
    const auto* index = event.if_contains("output_index");
    const auto it =
        index && index->is_int64() ? call_index_.find(index->get_int64()) : call_index_.end();
    if (it == call_index_.end()) {
      return Malformed(kResponses, "an arguments delta for an item that is not a function call");
    }
    const auto delta = FindString(event, "delta");
    if (!delta) return Malformed(kResponses, "an arguments delta without delta");
    if (!delta->empty()) EmitArguments(it->second, *delta, out);
    return {};
  }

  void EmitArguments(int64_t n, std::string_view arguments,
                     std::vector<core::StreamEvent>& out) const {
    json::object call({{"index", n}});
    call["function"] = json::object({{"arguments", arguments}});
    json::object delta;
    delta["tool_calls"] = json::array({std::move(call)});
    chunks_.Delta(std::move(delta), out);
  }

  core::Status Finish(const json::object& event, const std::optional<core::Usage>& usage,
                      std::vector<core::StreamEvent>& out) {
    const auto* response = FindObject(event, "response");
    const auto* details = response ? FindObject(*response, "incomplete_details") : nullptr;
    const auto reason = details ? FindString(*details, "reason") : std::nullopt;
    std::string_view finish = "stop";
    if (next_call_ > 0) {
      finish = "tool_calls";
    } else if (reason == "max_output_tokens") {
      finish = "length";
    } else if (reason == "content_filter") {
      finish = "content_filter";
    }
    chunks_.Delta(json::object(), out, finish);
    chunks_.Close(usage, out);
    done_ = true;
    return {};
  }

  int64_t created_;
  bool started_ = false;
  bool done_ = false;
  ChatChunks chunks_;
  int64_t next_call_ = 0;
  std::map<int64_t, int64_t> call_index_;  // Responses output_index -> Chat tool-call index
};

}  // namespace

std::unique_ptr<StreamTranslator> MakeResponsesToChatStream(const Context& ctx) {
  return std::make_unique<ResponsesToChatStream>(ctx);
}

}  // namespace sy::api::translate::internal
