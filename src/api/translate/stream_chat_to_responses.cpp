// An OpenAI Chat Completions chunk stream (the hub) re-framed as OpenAI Responses' typed events.
//
// The first chunk opens the response (response.created, response.in_progress). Text opens a
// message item and its output_text part (output_item.added, content_part.added) and streams as
// output_text.delta; refusal deltas stream in a refusal part of the same item. A tool call's
// first fragment closes the open item and opens a function_call item (id "fc_" + call id); its
// argument fragments become function_call_arguments.delta. Closing an item emits its done events
// with the text/arguments accumulated so far (the only state kept besides the finished items the
// final Response lists). Items are closed in order, as OpenAI streams them, so an argument
// fragment for a call already closed (interleaved parallel calls) cannot be re-framed: the stream
// fails, as the Chat -> Anthropic stream does.
// The usage chunk (an event whose `usage` the provider set and that has no choices: OpenAI's
// last chunk before [DONE]), or else [DONE], closes the open item and ends the response:
// response.completed, or response.incomplete when the finish reason was length or
// content_filter, carrying the whole Response with the latest usage seen (written from
// core::Usage) and marked terminal. Usage riding on a chunk that has choices (vLLM's
// continuous_usage_stats sends it on every chunk, some servers on the last content chunk) is
// kept and ends nothing: the answer may go on. [DONE] after the end yields nothing. A stream cut
// off before then simply stops: nothing is fabricated.
// Every event carries "type" (its SSE name) and "sequence_number" counting from 0.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include <boost/json/serialize.hpp>

#include "api/translate/responses_object.h"
#include "api/translate/translate_internal.h"

namespace sy::api::translate::internal {
namespace {

namespace json = boost::json;

constexpr std::string_view kChat = "OpenAI Chat Completions stream";

class ChatToResponsesStream final : public StreamTranslator {
 public:
  explicit ChatToResponsesStream(const Context& ctx) : ctx_(ctx) {}

  core::Status Feed(const core::StreamEvent& upstream,
                    std::vector<core::StreamEvent>& out) override {
    if (done_) return {};
    if (upstream.data == "[DONE]") {
      if (!started_) return Malformed(kChat, "a stream that ended before its first chunk");
      Finish(out);
      return {};
    }
    const auto* chunk = upstream.Json().if_object();
    if (!chunk) return Malformed(kChat, "a chunk that is not a JSON object");
    if (!started_) Start(*chunk, out);
    if (upstream.usage) usage_ = upstream.usage;  // cumulative: the latest is the whole answer's
    const auto* choices = Find(*chunk, "choices");
    if (choices) {
      if (!choices->is_array()) return Malformed(kChat, "choices is not an array");
      for (const auto& v : choices->get_array()) {
        const auto* choice = v.if_object();
        if (!choice) return Malformed(kChat, "a choice that is not an object");
        const auto* index = choice->if_contains("index");
        if (index && index->is_number() && !(index->is_int64() && index->get_int64() == 0)) {
          continue;  // only the first choice is the answer
        }
        if (auto s = Choice(*choice, out); !s) return s;
      }
    }
    if (held_ > kMaxHeldStreamBytes) {
      return Malformed(kChat, "an answer longer than " + std::to_string(kMaxHeldStreamBytes) +
                                  " bytes, the most a stream translated to Responses holds");
    }
    // OpenAI's usage chunk, the last before [DONE]: no choices.
    if (upstream.usage && (!choices || choices->get_array().empty())) Finish(out);
    return {};
  }

 private:
  enum class Open { kNone, kMessage, kCall };
  enum class Part { kNone, kText, kRefusal };

  void Emit(std::string_view type, json::object event, std::vector<core::StreamEvent>& out,
            std::optional<core::Usage> usage = std::nullopt, bool terminal = false) {
    event["type"] = type;
    event["sequence_number"] = sequence_++;
    core::StreamEvent e;
    e.event = std::string(type);
    e.data = json::serialize(event);
    e.SetJson(std::move(event));
    e.usage = usage;
    e.terminal = terminal;
    out.push_back(std::move(e));
  }

  json::object Response(std::string_view status) const {
    return ResponseEnvelope(ctx_, model_, status, {});
  }

  void Start(const json::object& chunk, std::vector<core::StreamEvent>& out) {
    model_ = std::string(FindString(chunk, "model").value_or(""));
    Emit("response.created", json::object({{"response", Response("in_progress")}}), out);
    Emit("response.in_progress", json::object({{"response", Response("in_progress")}}), out);
    started_ = true;
  }

  core::Status Choice(const json::object& choice, std::vector<core::StreamEvent>& out) {
    if (const auto* delta = FindObject(choice, "delta")) {
      if (const auto text = FindString(*delta, "content"); text && !text->empty()) {
        Delta(Part::kText, *text, out);
      }
      if (const auto refusal = FindString(*delta, "refusal"); refusal && !refusal->empty()) {
        Delta(Part::kRefusal, *refusal, out);
      }
      if (const auto* calls = Find(*delta, "tool_calls")) {
        if (!calls->is_array()) return Malformed(kChat, "tool_calls is not an array");
        for (const auto& call : calls->get_array()) {
          if (auto s = ToolCall(call, out); !s) return s;
        }
      }
    }
    if (const auto reason = FindString(choice, "finish_reason")) finish_reason_ = *reason;
    return {};
  }

  json::object ItemEvent() const {
    return json::object({{"item_id", item_id_}, {"output_index", output_index_}});
  }

  json::object PartEvent() const {
    auto event = ItemEvent();
    event["content_index"] = content_index_;
    return event;
  }

  void OpenMessage(std::vector<core::StreamEvent>& out) {
    Close(out);
    item_id_ = MessageItemId(ctx_, messages_++);
    json::object item({{"id", item_id_},
                       {"type", "message"},
                       {"status", "in_progress"},
                       {"role", "assistant"},
                       {"content", json::array()}});
    Emit("response.output_item.added",
         json::object({{"output_index", output_index_}, {"item", std::move(item)}}), out);
    open_ = Open::kMessage;
    parts_ = json::array();
    content_index_ = -1;
  }

  json::object PartJson(Part part, std::string_view text) const {
    if (part == Part::kRefusal) return json::object({{"type", "refusal"}, {"refusal", text}});
    return json::object({{"type", "output_text"},
                         {"text", text},
                         {"annotations", json::array()},
                         {"logprobs", json::array()}});
  }

  void Delta(Part part, std::string_view text, std::vector<core::StreamEvent>& out) {
    if (open_ != Open::kMessage) OpenMessage(out);
    if (part_ != part) {
      ClosePart(out);
      ++content_index_;
      part_ = part;
      auto event = PartEvent();
      event["part"] = PartJson(part, "");
      Emit("response.content_part.added", std::move(event), out);
    }
    text_ += text;
    held_ += static_cast<int64_t>(text.size());
    auto event = PartEvent();
    event["delta"] = text;
    if (part == Part::kText) {
      event["logprobs"] = json::array();
      Emit("response.output_text.delta", std::move(event), out);
    } else {
      Emit("response.refusal.delta", std::move(event), out);
    }
  }

  void ClosePart(std::vector<core::StreamEvent>& out) {
    if (part_ == Part::kNone) return;
    auto event = PartEvent();
    if (part_ == Part::kText) {
      event["text"] = text_;
      event["logprobs"] = json::array();
      Emit("response.output_text.done", std::move(event), out);
    } else {
      event["refusal"] = text_;
      Emit("response.refusal.done", std::move(event), out);
    }
    auto done = PartEvent();
    done["part"] = PartJson(part_, text_);
    parts_.push_back(done["part"]);
    Emit("response.content_part.done", std::move(done), out);
    part_ = Part::kNone;
    text_.clear();
  }

  core::Status ToolCall(const json::value& v, std::vector<core::StreamEvent>& out) {
    const auto* call = v.if_object();
    const auto* index = call ? call->if_contains("index") : nullptr;
    if (!index || !index->is_int64()) return Malformed(kChat, "a tool call without an index");
    const int64_t i = index->get_int64();
    const auto* fn = FindObject(*call, "function");
    // A plain view, not an optional one: GCC 12 at -O3 warns (maybe-uninitialized) on the latter.
    const std::string_view arguments =
        fn ? FindString(*fn, "arguments").value_or(std::string_view()) : std::string_view();
    const bool has_arguments = !arguments.empty();
    if (!started_calls_.contains(i)) {
      const auto id = FindString(*call, "id");
      const auto name = fn ? FindString(*fn, "name") : std::nullopt;
      if (!id || !name) return Malformed(kChat, "a new tool call without id or name");
      Close(out);
      item_id_ = FunctionCallItemId(*id);
      call_id_ = std::string(*id);
      name_ = std::string(*name);
      Emit("response.output_item.added",
           json::object({{"output_index", output_index_}, {"item", CallItem("in_progress")}}), out);
      open_ = Open::kCall;
      open_call_ = i;
      started_calls_.insert(i);
    } else if (open_ != Open::kCall || open_call_ != i) {
      if (!has_arguments) return {};  // a repeated header without a fragment: nothing to add
      return Malformed(kChat, "argument fragments of parallel tool calls interleaved");
    }
    if (has_arguments) {
      text_ += arguments;
      held_ += static_cast<int64_t>(arguments.size());
      auto event = ItemEvent();
      event["delta"] = arguments;
      Emit("response.function_call_arguments.delta", std::move(event), out);
    }
    return {};
  }

  json::object CallItem(std::string_view status) const {
    return json::object({{"id", item_id_},
                         {"type", "function_call"},
                         {"status", status},
                         {"call_id", call_id_},
                         {"name", name_},
                         {"arguments", open_ == Open::kCall ? text_ : std::string()}});
  }

  // Closes the open item; `status` is "completed", or "incomplete" for the last item of an answer
  // cut at max_output_tokens.
  void Close(std::vector<core::StreamEvent>& out, std::string_view status = "completed") {
    if (open_ == Open::kNone) return;
    json::object item;
    if (open_ == Open::kMessage) {
      ClosePart(out);
      item = json::object({{"id", item_id_},
                           {"type", "message"},
                           {"status", status},
                           {"role", "assistant"},
                           {"content", std::move(parts_)}});
      parts_ = json::array();
    } else {
      auto event = ItemEvent();
      event["name"] = name_;
      event["arguments"] = text_;
      Emit("response.function_call_arguments.done", std::move(event), out);
      item = CallItem(status);
      text_.clear();
    }
    output_.push_back(item);
    Emit("response.output_item.done",
         json::object({{"output_index", output_index_}, {"item", std::move(item)}}), out);
    open_ = Open::kNone;
    ++output_index_;
  }

  void Finish(std::vector<core::StreamEvent>& out) {
    const std::optional<core::Usage>& usage = usage_;
    Close(out, finish_reason_ == "length" ? "incomplete" : "completed");
    json::object response = Response("completed");
    const bool incomplete = MarkIncomplete(response, finish_reason_);
    response["output"] = std::move(output_);
    // Without a reported usage the Response says so (null) and the event carries no core::Usage:
    // the cost stays unknown.
    if (usage) response["usage"] = ResponsesUsageJson(*usage);
    const std::string_view type = incomplete ? "response.incomplete" : "response.completed";
    Emit(type, json::object({{"response", std::move(response)}}), out, usage, /*terminal=*/true);
    done_ = true;
  }

  const Context ctx_;  // a copy: the caller's Context may be a temporary
  bool started_ = false;
  bool done_ = false;
  int64_t sequence_ = 0;
  std::string model_;
  std::string finish_reason_;
  std::optional<core::Usage> usage_;  // the latest usage an upstream chunk carried
  json::array output_;                // the finished items, for the final Response
  // The open item.
  Open open_ = Open::kNone;
  int64_t output_index_ = 0;  // of the open item, or of the next one
  std::string item_id_;
  int messages_ = 0;  // message items opened so far (their ids are numbered)
  // A message item: its finished parts, the open part and its index.
  json::array parts_;
  Part part_ = Part::kNone;
  int64_t content_index_ = -1;
  std::string text_;  // the open part's text, or the open call's arguments
  int64_t held_ = 0;  // every text and argument byte so far: the output items repeat them
  // A function_call item.
  std::string call_id_;
  std::string name_;
  int64_t open_call_ = -1;  // the Chat tool-call index of the open function_call item
  std::set<int64_t> started_calls_;
};

}  // namespace

std::unique_ptr<StreamTranslator> MakeChatToResponsesStream(const Context& ctx) {
  return std::make_unique<ChatToResponsesStream>(ctx);
}

}  // namespace sy::api::translate::internal
