#include "emulator/openai_encode.h"

#include <algorithm>
#include <deque>

#include <boost/json.hpp>

#include "emulator/text_gen.h"

namespace sy::emulator {

namespace json = boost::json;

namespace {

std::string_view FinishReason(Finish finish) {
  switch (finish) {
    case Finish::kEndTurn:
    case Finish::kStopSequence:
    case Finish::kRefusal:  // the refusal is in message.refusal
      return "stop";
    case Finish::kLength:
      return "length";
    case Finish::kToolCalls:
      return "tool_calls";
  }
  return "stop";
}

}  // namespace

std::string OpenAiToolCallId(uint64_t seed) { return "call_" + Base62Id(seed, 24); }

json::object OpenAiUsageJson(const OpenAiAnswer& answer) {
  int64_t completion = 0;
  int64_t reasoning = 0;
  for (const auto& choice : answer.choices) {
    completion += choice.output_tokens;
    reasoning += choice.reasoning_tokens;
  }
  return json::object{
      {"prompt_tokens", answer.prompt_tokens},
      {"completion_tokens", completion},
      {"total_tokens", answer.prompt_tokens + completion},
      {"prompt_tokens_details", {{"cached_tokens", answer.cached_tokens}, {"audio_tokens", 0}}},
      {"completion_tokens_details",
       {{"reasoning_tokens", reasoning},
        {"audio_tokens", 0},
        {"accepted_prediction_tokens", 0},
        {"rejected_prediction_tokens", 0}}}};
}

json::object OpenAiCompletionJson(const OpenAiAnswer& answer) {
  json::array choices;
  for (size_t i = 0; i < answer.choices.size(); ++i) {
    const GeneratedChoice& choice = answer.choices[i];
    json::object message{{"role", "assistant"}};
    bool refusal = choice.finish == Finish::kRefusal;
    if (!refusal && (choice.tool_calls.empty() || !choice.text_pieces.empty())) {
      message["content"] = choice.Text();
    } else {
      message["content"] = nullptr;
    }
    message["refusal"] = refusal ? json::value(choice.Text()) : json::value(nullptr);
    message["annotations"] = json::array();
    if (!choice.tool_calls.empty()) {
      json::array calls;
      for (const auto& call : choice.tool_calls) {
        calls.push_back(
            json::object{{"id", OpenAiToolCallId(call.id_seed)},
                         {"type", "function"},
                         {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
      }
      message["tool_calls"] = std::move(calls);
    }
    choices.push_back(json::object{{"index", i},
                                   {"message", std::move(message)},
                                   {"logprobs", nullptr},
                                   {"finish_reason", FinishReason(choice.finish)}});
  }
  return json::object{{"id", answer.id},
                      {"object", "chat.completion"},
                      {"created", answer.created},
                      {"model", answer.model},
                      {"choices", std::move(choices)},
                      {"usage", OpenAiUsageJson(answer)},
                      {"service_tier", "default"},
                      {"system_fingerprint", answer.system_fingerprint}};
}

namespace {

class ChunkWriter {
 public:
  explicit ChunkWriter(const OpenAiAnswer& answer) : answer_(answer) {}

  StreamEvent Chunk(json::array choices, std::chrono::microseconds delay, int64_t tokens) const {
    json::object chunk{{"id", answer_.id},
                       {"object", "chat.completion.chunk"},
                       {"created", answer_.created},
                       {"model", answer_.model},
                       {"service_tier", "default"},
                       {"system_fingerprint", answer_.system_fingerprint},
                       {"choices", std::move(choices)}};
    if (answer_.include_usage) chunk["usage"] = nullptr;
    return StreamEvent{delay, SseData(json::serialize(chunk)), tokens};
  }

  StreamEvent Delta(size_t index, json::object delta, std::chrono::microseconds delay,
                    int64_t tokens, json::value finish = nullptr) const {
    json::array choices{json::object{{"index", index},
                                     {"delta", std::move(delta)},
                                     {"logprobs", nullptr},
                                     {"finish_reason", std::move(finish)}}};
    return Chunk(std::move(choices), delay, tokens);
  }

 private:
  const OpenAiAnswer& answer_;
};

// The events of one choice, in order. Only choice 0 carries delays: the choices of one request
// are generated side by side.
std::deque<StreamEvent> ChoiceEvents(const ChunkWriter& writer, const GeneratedChoice& choice,
                                     size_t index, const Profile& profile) {
  std::deque<StreamEvent> events;
  auto pace = [&](std::chrono::microseconds d) {
    return index == 0 ? d : std::chrono::microseconds(0);
  };
  // A refusal streams in delta.refusal instead of delta.content.
  bool refusal = choice.finish == Finish::kRefusal;
  bool text = !refusal && (choice.tool_calls.empty() || !choice.text_pieces.empty());
  std::string_view text_field = refusal ? "refusal" : "content";
  json::object role{{"role", "assistant"}};
  role["content"] = text ? json::value("") : json::value(nullptr);
  role["refusal"] = refusal ? json::value("") : json::value(nullptr);
  events.push_back(
      writer.Delta(index, std::move(role),
                   pace(FirstTokenTime(profile) + TokenTime(profile, choice.reasoning_tokens)), 0));
  for (auto& [piece, tokens] : GroupPieces(choice.text_pieces, choice.seed)) {
    events.push_back(writer.Delta(index, json::object{{text_field, piece}},
                                  pace(TokenTime(profile, tokens)), tokens));
  }
  for (size_t k = 0; k < choice.tool_calls.size(); ++k) {
    const GeneratedToolCall& call = choice.tool_calls[k];
    json::object head{{"index", k},
                      {"id", OpenAiToolCallId(call.id_seed)},
                      {"type", "function"},
                      {"function", {{"name", call.name}, {"arguments", ""}}}};
    events.push_back(writer.Delta(index, json::object{{"tool_calls", json::array{head}}},
                                  std::chrono::microseconds(0), 0));
    for (auto& [piece, tokens] : GroupPieces(call.argument_pieces, call.id_seed)) {
      json::object part{{"index", k}, {"function", {{"arguments", piece}}}};
      events.push_back(writer.Delta(index, json::object{{"tool_calls", json::array{part}}},
                                    pace(TokenTime(profile, tokens)), tokens));
    }
  }
  events.push_back(writer.Delta(index, json::object{}, std::chrono::microseconds(0), 0,
                                json::value(FinishReason(choice.finish))));
  return events;
}

}  // namespace

std::vector<StreamEvent> OpenAiStreamEvents(const OpenAiAnswer& answer, const Profile& profile) {
  ChunkWriter writer(answer);
  std::vector<std::deque<StreamEvent>> queues;
  for (size_t i = 0; i < answer.choices.size(); ++i) {
    queues.push_back(ChoiceEvents(writer, answer.choices[i], i, profile));
  }
  std::vector<StreamEvent> events;
  bool any = true;
  while (any) {
    any = false;
    for (auto& queue : queues) {
      if (queue.empty()) continue;
      events.push_back(std::move(queue.front()));
      queue.pop_front();
      any = true;
    }
  }
  if (answer.include_usage) {
    json::object chunk{
        {"id", answer.id},           {"object", "chat.completion.chunk"},
        {"created", answer.created}, {"model", answer.model},
        {"service_tier", "default"}, {"system_fingerprint", answer.system_fingerprint},
        {"choices", json::array()},  {"usage", OpenAiUsageJson(answer)}};
    events.push_back(StreamEvent{std::chrono::microseconds(0), SseData(json::serialize(chunk)), 0});
  }
  events.push_back(StreamEvent{std::chrono::microseconds(0), SseData("[DONE]"), 0});
  return events;
}

}  // namespace sy::emulator
