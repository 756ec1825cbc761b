#include "emulator/anthropic_encode.h"

#include <boost/json.hpp>

#include "emulator/text_gen.h"

namespace sy::emulator {

namespace json = boost::json;

namespace {

json::value StopReason(Finish finish) {
  switch (finish) {
    case Finish::kEndTurn:
      return "end_turn";
    case Finish::kLength:
      return "max_tokens";
    case Finish::kStopSequence:
      return "stop_sequence";
    case Finish::kToolCalls:
      return "tool_use";
    case Finish::kRefusal:
      return "refusal";
  }
  return "end_turn";
}

json::value StopSequence(const GeneratedChoice& choice) {
  if (choice.finish != Finish::kStopSequence) return nullptr;
  return json::value(choice.stop_sequence);
}

// Tool input as an object; arguments cut short by max_tokens parse to {} (Anthropic returns
// what it could parse).
json::value ToolInput(const GeneratedToolCall& call) {
  boost::system::error_code ec;
  json::value input = json::parse(call.arguments, ec);
  if (ec || !input.is_object()) return json::object{};
  return input;
}

StreamEvent Event(std::string_view name, const json::object& data,
                  std::chrono::microseconds delay = std::chrono::microseconds(0),
                  int64_t tokens = 0) {
  return StreamEvent{delay, SseEvent(name, json::serialize(data)), tokens};
}

}  // namespace

std::string AnthropicToolUseId(uint64_t seed) { return "toolu_01" + Base62Id(seed, 22); }

json::object AnthropicMessageJson(const AnthropicAnswer& answer) {
  const GeneratedChoice& choice = answer.choice;
  json::array content;
  if (!choice.text_pieces.empty() || choice.tool_calls.empty()) {
    content.push_back(json::object{{"type", "text"}, {"text", choice.Text()}});
  }
  for (const auto& call : choice.tool_calls) {
    content.push_back(json::object{{"type", "tool_use"},
                                   {"id", AnthropicToolUseId(call.id_seed)},
                                   {"name", call.name},
                                   {"input", ToolInput(call)}});
  }
  return json::object{{"id", answer.id},
                      {"type", "message"},
                      {"role", "assistant"},
                      {"model", answer.model},
                      {"content", std::move(content)},
                      {"stop_reason", StopReason(choice.finish)},
                      {"stop_sequence", StopSequence(choice)},
                      {"usage",
                       {{"input_tokens", answer.input_tokens},
                        {"cache_creation_input_tokens", answer.cache_creation_input_tokens},
                        {"cache_read_input_tokens", answer.cache_read_input_tokens},
                        {"output_tokens", choice.output_tokens},
                        {"service_tier", "standard"}}}};
}

std::vector<StreamEvent> AnthropicStreamEvents(const AnthropicAnswer& answer,
                                               const Profile& profile) {
  const GeneratedChoice& choice = answer.choice;
  std::vector<StreamEvent> events;
  json::object start_message{{"id", answer.id},
                             {"type", "message"},
                             {"role", "assistant"},
                             {"model", answer.model},
                             {"content", json::array()},
                             {"stop_reason", nullptr},
                             {"stop_sequence", nullptr},
                             {"usage",
                              {{"input_tokens", answer.input_tokens},
                               {"cache_creation_input_tokens", answer.cache_creation_input_tokens},
                               {"cache_read_input_tokens", answer.cache_read_input_tokens},
                               {"output_tokens", 1},
                               {"service_tier", "standard"}}}};
  events.push_back(Event("message_start",
                         json::object{{"type", "message_start"}, {"message", start_message}},
                         FirstTokenTime(profile) + TokenTime(profile, choice.reasoning_tokens)));
  size_t index = 0;
  auto block_start = [&](json::object block) {
    events.push_back(Event(
        "content_block_start",
        json::object{{"type", "content_block_start"}, {"index", index}, {"content_block", block}}));
    if (index == 0) events.push_back(Event("ping", json::object{{"type", "ping"}}));
  };
  auto block_stop = [&]() {
    events.push_back(Event("content_block_stop",
                           json::object{{"type", "content_block_stop"}, {"index", index}}));
    ++index;
  };
  auto block_delta = [&](json::object delta, auto tokens) {
    events.push_back(
        Event("content_block_delta",
              json::object{
                  {"type", "content_block_delta"}, {"index", index}, {"delta", std::move(delta)}},
              TokenTime(profile, tokens), tokens));
  };
  if (!choice.text_pieces.empty() || choice.tool_calls.empty()) {
    block_start(json::object{{"type", "text"}, {"text", ""}});
    for (auto& [piece, tokens] : GroupPieces(choice.text_pieces, choice.seed)) {
      block_delta(json::object{{"type", "text_delta"}, {"text", piece}}, tokens);
    }
    block_stop();
  }
  for (const auto& call : choice.tool_calls) {
    block_start(json::object{{"type", "tool_use"},
                             {"id", AnthropicToolUseId(call.id_seed)},
                             {"name", call.name},
                             {"input", json::object()}});
    for (auto& [piece, tokens] : GroupPieces(call.argument_pieces, call.id_seed)) {
      block_delta(json::object{{"type", "input_json_delta"}, {"partial_json", piece}}, tokens);
    }
    block_stop();
  }
  events.push_back(
      Event("message_delta", json::object{{"type", "message_delta"},
                                          {"delta",
                                           {{"stop_reason", StopReason(choice.finish)},
                                            {"stop_sequence", StopSequence(choice)}}},
                                          {"usage", {{"output_tokens", choice.output_tokens}}}}));
  events.push_back(Event("message_stop", json::object{{"type", "message_stop"}}));
  return events;
}

}  // namespace sy::emulator
