#include "emulator/responses_encode.h"

#include <boost/json.hpp>

#include "emulator/openai_encode.h"
#include "emulator/text_gen.h"

namespace sy::emulator {

namespace json = boost::json;

namespace {

bool Incomplete(const GeneratedChoice& choice) { return choice.finish == Finish::kLength; }

bool HasMessage(const GeneratedChoice& choice) {
  return !choice.text_pieces.empty() || choice.tool_calls.empty();
}

// OpenAI item ids are a prefix and 48 hex digits.
std::string MessageId(const GeneratedChoice& choice) {
  return "msg_" + HexId(Mix(choice.seed, 0x6d7367), 48);
}
std::string FunctionCallId(const GeneratedToolCall& call) {
  return "fc_" + HexId(Mix(call.id_seed, 0x6663), 48);
}

json::object TextPart(std::string text) {
  return json::object{{"type", "output_text"},
                      {"text", std::move(text)},
                      {"annotations", json::array()},
                      {"logprobs", json::array()}};
}

bool Refused(const GeneratedChoice& choice) { return choice.finish == Finish::kRefusal; }

// The message's one content part: output_text, or a refusal part when the model declined.
json::object ContentPart(const GeneratedChoice& choice, std::string text) {
  if (Refused(choice)) return json::object{{"type", "refusal"}, {"refusal", std::move(text)}};
  return TextPart(std::move(text));
}

json::object MessageItem(const GeneratedChoice& choice, std::string_view status,
                         json::array content) {
  return json::object{{"id", MessageId(choice)},
                      {"type", "message"},
                      {"status", status},
                      {"content", std::move(content)},
                      {"role", "assistant"}};
}

// The last tool call is the one a token limit cut.
std::string_view CallStatus(const GeneratedChoice& choice, size_t k) {
  return Incomplete(choice) && k + 1 == choice.tool_calls.size() ? "incomplete" : "completed";
}

json::object FunctionCallItem(const GeneratedToolCall& call, std::string_view status,
                              std::string arguments) {
  return json::object{{"id", FunctionCallId(call)},
                      {"type", "function_call"},
                      {"status", status},
                      {"arguments", std::move(arguments)},
                      {"call_id", OpenAiToolCallId(call.id_seed)},
                      {"name", call.name}};
}

json::array OutputItems(const GeneratedChoice& choice) {
  json::array output;
  if (HasMessage(choice)) {
    bool cut = Incomplete(choice) && choice.tool_calls.empty();
    output.push_back(MessageItem(choice, cut ? "incomplete" : "completed",
                                 json::array{ContentPart(choice, choice.Text())}));
  }
  for (size_t k = 0; k < choice.tool_calls.size(); ++k) {
    const GeneratedToolCall& call = choice.tool_calls[k];
    output.push_back(FunctionCallItem(call, CallStatus(choice, k), call.arguments));
  }
  return output;
}

// The Response object; `final` false gives the in-progress snapshot of response.created.
json::object ResponseObject(const ResponsesAnswer& answer, bool final) {
  json::object response{{"id", answer.id},
                        {"object", "response"},
                        {"created_at", answer.created_at},
                        {"status", "in_progress"},
                        {"background", false},
                        {"error", nullptr},
                        {"incomplete_details", nullptr},
                        {"model", answer.model},
                        {"output", json::array()},
                        {"usage", nullptr}};
  for (const auto& [key, value] : answer.echo) response[key] = value;
  if (final) {
    bool cut = Incomplete(answer.choice);
    response["status"] = cut ? "incomplete" : "completed";
    if (cut) response["incomplete_details"] = json::object{{"reason", "max_output_tokens"}};
    response["output"] = OutputItems(answer.choice);
    response["usage"] = ResponsesUsageJson(answer);
  }
  return response;
}

// Numbers events and frames them as "event: TYPE" + data.
class EventWriter {
 public:
  void Add(json::object data, std::chrono::microseconds delay = std::chrono::microseconds(0),
           int64_t tokens = 0) {
    std::string type(data.at("type").as_string());
    data["sequence_number"] = sequence_++;
    events_.push_back(StreamEvent{delay, SseEvent(type, json::serialize(data)), tokens});
  }
  std::vector<StreamEvent> Take() { return std::move(events_); }

 private:
  int64_t sequence_ = 0;
  std::vector<StreamEvent> events_;
};

void AddMessageEvents(const ResponsesAnswer& answer, const Profile& profile, EventWriter& out) {
  const GeneratedChoice& choice = answer.choice;
  std::string item_id = MessageId(choice);
  out.Add(json::object{{"type", "response.output_item.added"},
                       {"output_index", 0},
                       {"item", MessageItem(choice, "in_progress", json::array())}});
  auto part_event = [&](std::string_view type, std::string text) {
    return json::object{{"type", type},
                        {"item_id", item_id},
                        {"output_index", 0},
                        {"content_index", 0},
                        {"part", ContentPart(choice, std::move(text))}};
  };
  // A refusal streams as response.refusal.delta / .done, without logprobs.
  bool refused = Refused(choice);
  auto text_event = [&](std::string_view kind, std::string_view key, std::string value) {
    json::object event{{"type", "response." + std::string(refused ? "refusal" : "output_text") +
                                    "." + std::string(kind)},
                       {"item_id", item_id},
                       {"output_index", 0},
                       {"content_index", 0},
                       {refused && key == "text" ? "refusal" : key, std::move(value)}};
    if (!refused) event["logprobs"] = json::array();
    return event;
  };
  out.Add(part_event("response.content_part.added", ""));
  for (auto& [piece, tokens] : GroupPieces(choice.text_pieces, choice.seed)) {
    out.Add(text_event("delta", "delta", piece), TokenTime(profile, tokens), tokens);
  }
  std::string text = choice.Text();
  out.Add(text_event("done", "text", text));
  out.Add(part_event("response.content_part.done", text));
  bool cut = Incomplete(choice) && choice.tool_calls.empty();
  out.Add(json::object{{"type", "response.output_item.done"},
                       {"output_index", 0},
                       {"item", MessageItem(choice, cut ? "incomplete" : "completed",
                                            json::array{ContentPart(choice, text)})}});
}

void AddCallEvents(const GeneratedChoice& choice, size_t k, size_t output_index,
                   const Profile& profile, EventWriter& out) {
  const GeneratedToolCall& call = choice.tool_calls[k];
  std::string item_id = FunctionCallId(call);
  out.Add(json::object{{"type", "response.output_item.added"},
                       {"output_index", output_index},
                       {"item", FunctionCallItem(call, "in_progress", "")}});
  for (auto& [piece, tokens] : GroupPieces(call.argument_pieces, call.id_seed)) {
    out.Add(json::object{{"type", "response.function_call_arguments.delta"},
                         {"item_id", item_id},
                         {"output_index", output_index},
                         {"delta", piece}},
            TokenTime(profile, tokens), tokens);
  }
  out.Add(json::object{{"type", "response.function_call_arguments.done"},
                       {"item_id", item_id},
                       {"output_index", output_index},
                       {"name", call.name},
                       {"arguments", call.arguments}});
  out.Add(json::object{{"type", "response.output_item.done"},
                       {"output_index", output_index},
                       {"item", FunctionCallItem(call, CallStatus(choice, k), call.arguments)}});
}

}  // namespace

json::object ResponsesUsageJson(const ResponsesAnswer& answer) {
  const GeneratedChoice& choice = answer.choice;
  return json::object{{"input_tokens", answer.input_tokens},
                      {"input_tokens_details", {{"cached_tokens", answer.cached_tokens}}},
                      {"output_tokens", choice.output_tokens},
                      {"output_tokens_details", {{"reasoning_tokens", choice.reasoning_tokens}}},
                      {"total_tokens", answer.input_tokens + choice.output_tokens}};
}

json::object ResponsesResponseJson(const ResponsesAnswer& answer) {
  return ResponseObject(answer, true);
}

std::vector<StreamEvent> ResponsesStreamEvents(const ResponsesAnswer& answer,
                                               const Profile& profile) {
  const GeneratedChoice& choice = answer.choice;
  EventWriter out;
  json::object snapshot = ResponseObject(answer, false);
  out.Add(json::object{{"type", "response.created"}, {"response", snapshot}});
  out.Add(json::object{{"type", "response.in_progress"}, {"response", std::move(snapshot)}},
          FirstTokenTime(profile) + TokenTime(profile, choice.reasoning_tokens));
  size_t output_index = 0;
  if (HasMessage(choice)) {
    AddMessageEvents(answer, profile, out);
    ++output_index;
  }
  for (size_t k = 0; k < choice.tool_calls.size(); ++k) {
    AddCallEvents(choice, k, output_index++, profile, out);
  }
  std::string_view type = Incomplete(choice) ? "response.incomplete" : "response.completed";
  out.Add(json::object{{"type", type}, {"response", ResponseObject(answer, true)}});
  return out.Take();
}

}  // namespace sy::emulator
