// StreamCollector: realistic event sequences of each upstream dialect read as the Output that
// ReadAnswer gives for the same answer.
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "verify/verify.h"

namespace sy::verify {
namespace {

core::StreamEvent Event(std::string_view data, std::string_view name = "") {
  core::StreamEvent e;
  e.event = std::string(name);
  e.data = std::string(data);
  if (data != "[DONE]") e.SetJson(boost::json::parse(data));
  return e;
}

Output Collect(core::Dialect dialect, const std::vector<std::string>& events) {
  StreamCollector collector(dialect);
  for (const auto& e : events) collector.Add(Event(e));
  return collector.Finish();
}

TEST(StreamCollectorTest, ChatTextAndFinishReason) {
  const Output out =
      Collect(core::Dialect::kOpenAiChat,
              {R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})",
               R"({"choices":[{"index":0,"delta":{"content":"{\"total\": "}}]})",
               R"({"choices":[{"index":0,"delta":{"content":"767.55}"}}]})",
               R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}]})",
               R"({"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3}})", "[DONE]"});
  EXPECT_EQ(out.text, "{\"total\": 767.55}");
  EXPECT_EQ(out.stop, Stop::kLength);
  EXPECT_TRUE(out.tool_calls.empty());
  EXPECT_FALSE(out.truncated);
}

TEST(StreamCollectorTest, ChatToolCallsByIndexAndRefusal) {
  const Output out = Collect(
      core::Dialect::kOpenAiChat,
      {R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]})",
       R"({"choices":[{"delta":{"tool_calls":[{"index":1,"id":"c2","type":"function","function":{"name":"get_time","arguments":"{}"}}]}}]})",
       R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]})",
       R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Oslo\"}"}}]}}]})",
       R"({"choices":[{"delta":{},"finish_reason":"tool_calls"}]})"});
  ASSERT_EQ(out.tool_calls.size(), 2u);
  EXPECT_EQ(out.tool_calls[0].name, "get_weather");
  EXPECT_EQ(out.tool_calls[0].arguments, "{\"city\":\"Oslo\"}");
  EXPECT_EQ(out.tool_calls[1].name, "get_time");
  EXPECT_EQ(out.stop, Stop::kToolUse);

  const Output refused = Collect(
      core::Dialect::kOpenAiChat,
      {R"({"choices":[{"delta":{"role":"assistant","content":null,"refusal":""}}]})",
       R"({"choices":[{"delta":{"refusal":"I'm sorry, but I can't help with that request."}}]})",
       R"({"choices":[{"delta":{},"finish_reason":"stop"}]})"});
  EXPECT_EQ(refused.refusal, "I'm sorry, but I can't help with that request.");
  EXPECT_EQ(refused.text, "");
}

TEST(StreamCollectorTest, TheGatewaysJsonAnswerToolIsText) {
  const Output out = Collect(
      core::Dialect::kAnthropicMessages,
      {R"({"type":"message_start","message":{"id":"m","content":[],"usage":{"input_tokens":9,"output_tokens":1}}})",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"switchyard_json_answer","input":{}}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"age\":"}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"42}"}})",
       R"({"type":"content_block_stop","index":0})",
       R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":7}})",
       R"({"type":"message_stop"})"});
  EXPECT_EQ(out.text, "{\"age\":42}");
  EXPECT_TRUE(out.tool_calls.empty());
  EXPECT_EQ(out.stop, Stop::kComplete);
}

TEST(StreamCollectorTest, AnthropicTextToolUseAndRefusal) {
  const Output out = Collect(
      core::Dialect::kAnthropicMessages,
      {R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check."}})",
       R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"lookup","input":{}}})",
       R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"q\":1}"}})",
       R"({"type":"message_delta","delta":{"stop_reason":"tool_use"}})"});
  EXPECT_EQ(out.text, "Let me check.");
  ASSERT_EQ(out.tool_calls.size(), 1u);
  EXPECT_EQ(out.tool_calls[0].name, "lookup");
  EXPECT_EQ(out.tool_calls[0].arguments, "{\"q\":1}");
  EXPECT_EQ(out.stop, Stop::kToolUse);

  const Output refused = Collect(
      core::Dialect::kAnthropicMessages,
      {R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I can't help with that."}})",
       R"({"type":"message_delta","delta":{"stop_reason":"refusal"}})"});
  EXPECT_EQ(refused.stop, Stop::kRefusal);
}

TEST(StreamCollectorTest, ResponsesReadsTheFinalResponseWhole) {
  const Output out = Collect(
      core::Dialect::kOpenAiResponses,
      {R"({"type":"response.created","sequence_number":0,"response":{"id":"r","status":"in_progress","output":[]}})",
       R"({"type":"response.output_text.delta","sequence_number":4,"output_index":0,"content_index":0,"delta":"Hel"})",
       R"({"type":"response.output_text.delta","sequence_number":5,"output_index":0,"content_index":0,"delta":"lo"})",
       R"({"type":"response.completed","sequence_number":9,"response":{"id":"r","status":"completed","output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hello","annotations":[]}]}]}})"});
  EXPECT_EQ(out.text, "Hello");  // once: from the final Response, not the deltas again
  EXPECT_EQ(out.stop, Stop::kComplete);
}

TEST(StreamCollectorTest, ResponsesWithoutATerminalEventKeepsTheDeltas) {
  const Output out = Collect(
      core::Dialect::kOpenAiResponses,
      {R"({"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","name":"lookup","arguments":""}})",
       R"({"type":"response.function_call_arguments.delta","output_index":0,"delta":"{\"q\""})",
       R"({"type":"response.function_call_arguments.delta","output_index":0,"delta":":2}"})",
       R"({"type":"response.refusal.delta","output_index":1,"delta":"No."})"});
  ASSERT_EQ(out.tool_calls.size(), 1u);
  EXPECT_EQ(out.tool_calls[0].arguments, "{\"q\":2}");
  EXPECT_EQ(out.refusal, "No.");
}

TEST(StreamCollectorTest, BoundedAgainstAFloodingUpstream) {
  StreamCollector collector(core::Dialect::kOpenAiChat);
  const std::string piece(64 * 1024, 'x');
  const std::string chunk = R"({"choices":[{"delta":{"content":")" + piece + R"("}}]})";
  for (int i = 0; i < 80; ++i) collector.Add(Event(chunk));  // 5 MiB
  for (int i = 0; i < 300; ++i) {
    collector.Add(Event(R"({"choices":[{"delta":{"tool_calls":[{"index":)" + std::to_string(i) +
                        R"(,"function":{"name":"f"}}]}}]})"));
  }
  const Output out = collector.Finish();
  EXPECT_EQ(out.text.size(), kMaxOutputBytes);
  EXPECT_TRUE(out.truncated);
  EXPECT_LE(out.tool_calls.size(), kMaxStreamCalls);
}

TEST(StopOfTest, EachDialectsReasons) {
  using core::Dialect;
  EXPECT_EQ(StopOf(Dialect::kOpenAiChat, "stop", false), Stop::kComplete);
  EXPECT_EQ(StopOf(Dialect::kOpenAiChat, "length", false), Stop::kLength);
  EXPECT_EQ(StopOf(Dialect::kOpenAiChat, "tool_calls", true), Stop::kToolUse);
  EXPECT_EQ(StopOf(Dialect::kOpenAiChat, "tool_calls", false), Stop::kComplete);
  EXPECT_EQ(StopOf(Dialect::kOpenAiChat, "content_filter", false), Stop::kContentFilter);
  EXPECT_EQ(StopOf(Dialect::kAnthropicMessages, "end_turn", false), Stop::kComplete);
  EXPECT_EQ(StopOf(Dialect::kAnthropicMessages, "max_tokens", false), Stop::kLength);
  EXPECT_EQ(StopOf(Dialect::kAnthropicMessages, "refusal", false), Stop::kRefusal);
  EXPECT_EQ(StopOf(Dialect::kAnthropicMessages, "pause_turn", false), Stop::kOther);
}

}  // namespace
}  // namespace sy::verify
