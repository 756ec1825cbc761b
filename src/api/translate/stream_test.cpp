#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/translate/translate.h"
#include "api/translate/translate_test_util.h"

namespace sy::api::translate {
namespace {

namespace json = boost::json;
using core::Dialect;
using core::StreamEvent;
using test_util::Event;
using test_util::J;
using test_util::MakeUsage;

const Context kCtx = [] {
  Context c;
  c.created_unix_s = 1700000000;
  return c;
}();

// Feeds `upstream` in order, expecting success, and returns every client event.
std::vector<StreamEvent> FeedAll(StreamTranslator& t, const std::vector<StreamEvent>& upstream) {
  std::vector<StreamEvent> out;
  for (const auto& e : upstream) {
    auto s = t.Feed(e, out);
    EXPECT_TRUE(s.has_value()) << e.data << ": " << (s ? "" : s.error().message);
  }
  return out;
}

// Each event's data must be its json serialized, and (Anthropic) its name must be its type.
void ExpectConsistent(const std::vector<StreamEvent>& events, Dialect client) {
  for (const auto& e : events) {
    if (e.data == "[DONE]") {
      EXPECT_TRUE(e.Json().is_null());
      continue;
    }
    EXPECT_EQ(J(e.data), e.Json());
    if (client == Dialect::kAnthropicMessages) {
      EXPECT_EQ(json::value(e.event), e.Json().at_pointer("/type"));
    } else {
      EXPECT_EQ(e.event, "");
    }
  }
}

std::string Chunk(std::string_view choices_or_rest) {
  return R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-x",)" +
         std::string(choices_or_rest) + "}";
}

std::string Delta(std::string_view delta, std::string_view finish = "null") {
  return Chunk(R"("choices":[{"index":0,"delta":)" + std::string(delta) +
               R"(,"logprobs":null,"finish_reason":)" + std::string(finish) + "}]");
}

// --- OpenAI upstream -> Anthropic client ---------------------------------------------------

TEST(OpenAiToAnthropicStream, TextAnswer) {
  auto t = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kAnthropicMessages, kCtx);
  auto usage_chunk = Event("", Chunk(R"("choices":[],"usage":{"prompt_tokens":10,
      "completion_tokens":2,"total_tokens":12})"));
  usage_chunk.usage = MakeUsage(10, 4, 0, 2);
  const auto out = FeedAll(
      *t, {Event("", Delta(R"({"role":"assistant","content":""})")),
           Event("", Delta(R"({"content":"Hel"})")), Event("", Delta(R"({"content":"lo"})")),
           Event("", Delta("{}", R"("stop")")), usage_chunk, Event("", "[DONE]")});
  ExpectConsistent(out, Dialect::kAnthropicMessages);
  std::vector<json::value> got;
  for (const auto& e : out) got.push_back(e.Json());
  const std::vector<json::value> want = {
      J(R"({"type":"message_start","message":{"id":"chatcmpl-1","type":"message",
           "role":"assistant","model":"gpt-x","content":[],"stop_reason":null,
           "stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}})"),
      J(R"({"type":"ping"})"),
      J(R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"),
      J(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel"}})"),
      J(R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"lo"}})"),
      J(R"({"type":"content_block_stop","index":0})"),
      J(R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},
           "usage":{"input_tokens":6,"cache_creation_input_tokens":0,
                    "cache_read_input_tokens":4,"output_tokens":2}})"),
      J(R"({"type":"message_stop"})")};
  EXPECT_EQ(got, want);
  ASSERT_EQ(out.size(), want.size());
  EXPECT_TRUE(out[6].usage.has_value());
  EXPECT_EQ(out[6].usage->cached_input_tokens, 4);
  for (size_t i = 0; i + 1 < out.size(); ++i) EXPECT_FALSE(out[i].terminal) << i;
  EXPECT_TRUE(out.back().terminal);
}

// Some clients read usage from message_start only: it carries the gateway's estimate, and the
// billed usage still comes with message_delta.
TEST(OpenAiToAnthropicStream, MessageStartCarriesTheInputEstimate) {
  Context ctx = kCtx;
  ctx.input_tokens_estimate = 321;
  auto t = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kAnthropicMessages, ctx);
  const auto out = FeedAll(*t, {Event("", Delta(R"({"content":"Hi"})"))});
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].Json().at_pointer("/message/usage"),
            J(R"({"input_tokens":321,"output_tokens":0})"));
  EXPECT_FALSE(out[0].usage.has_value());  // an estimate is not the billed usage
}

TEST(OpenAiToAnthropicStream, ParallelToolCallsEachGetABlockInOrder) {
  auto t = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kAnthropicMessages, kCtx);
  const auto out = FeedAll(
      *t, {Event("", Delta(R"({"role":"assistant","content":"On it."})")),
           Event("", Delta(R"({"tool_calls":[{"index":0,"id":"call_a","type":"function",
                               "function":{"name":"w","arguments":""}}]})")),
           Event("", Delta(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"c\":"}}]})")),
           Event("", Delta(R"({"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]})")),
           Event("", Delta(R"({"tool_calls":[{"index":1,"id":"call_b","type":"function",
                               "function":{"name":"now","arguments":"{}"}}]})")),
           Event("", Delta("{}", R"("tool_calls")")), Event("", "[DONE]")});
  ExpectConsistent(out, Dialect::kAnthropicMessages);
  std::vector<std::string> got;
  for (const auto& e : out) got.push_back(e.data);
  const std::vector<std::string> want = {
      json::serialize(out[0].Json()),  // message_start, checked above
      R"({"type":"ping"})",
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})",
      R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"On it."}})",
      R"({"type":"content_block_stop","index":0})",
      R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"call_a","name":"w","input":{}}})",
      R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"c\":"}})",
      R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"1}"}})",
      R"({"type":"content_block_stop","index":1})",
      R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_b","name":"now","input":{}}})",
      R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{}"}})",
      R"({"type":"content_block_stop","index":2})",
      R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}})",
      R"({"type":"message_stop"})"};
  EXPECT_EQ(got, want);
  // No usage was reported: the message_delta carries none to bill.
  EXPECT_FALSE(out[12].usage.has_value());
}

TEST(OpenAiToAnthropicStream, TextAfterAToolCallClosesItsBlockAndOpensANewOne) {
  auto t = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kAnthropicMessages, kCtx);
  const auto out =
      FeedAll(*t, {Event("", Delta(R"({"tool_calls":[{"index":0,"id":"a","type":"function",
                                "function":{"name":"f","arguments":"{}"}}]})")),
                   Event("", Delta(R"({"content":"Done."})"))});
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(out[2].Json().at_pointer("/content_block/type"), "tool_use");
  EXPECT_EQ(out[4].Json(), J(R"({"type":"content_block_stop","index":0})"));
  EXPECT_EQ(
      out[5].Json(),
      J(R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})"));
  EXPECT_EQ(
      out[6].Json(),
      J(R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Done."}})"));
}

TEST(OpenAiToAnthropicStream, UsageOnAContentChunkIsCarriedToMessageDelta) {
  // Some OpenAI-compatible upstreams put the usage block on the finish chunk itself.
  auto t = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kAnthropicMessages, kCtx);
  auto finish = Event("", Delta(R"({"content":"x"})", R"("stop")"));
  finish.usage = MakeUsage(5, 0, 0, 1);
  const auto out = FeedAll(*t, {finish, Event("", "[DONE]")});
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(out[5].event, "message_delta");
  ASSERT_TRUE(out[5].usage.has_value());
  EXPECT_EQ(out[5].Json().at_pointer("/usage/input_tokens"), 5);
  EXPECT_EQ(out[5].Json().at_pointer("/usage/output_tokens"), 1);
}

TEST(OpenAiToAnthropicStream, NothingAfterTheEnd) {
  auto t = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kAnthropicMessages, kCtx);
  auto out = FeedAll(*t, {Event("", Delta(R"({"content":"x"})")), Event("", "[DONE]")});
  const size_t n = out.size();
  ASSERT_TRUE(t->Feed(Event("", Delta(R"({"content":"late"})")), out).has_value());
  EXPECT_EQ(out.size(), n);
}

TEST(OpenAiToAnthropicStream, InterleavedToolArgumentsAreRefused) {
  auto t = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kAnthropicMessages, kCtx);
  std::vector<StreamEvent> out;
  for (const auto& e : {Event("", Delta(R"({"tool_calls":[{"index":0,"id":"a","function":
                                          {"name":"f","arguments":"{"}}]})")),
                        Event("", Delta(R"({"tool_calls":[{"index":1,"id":"b","function":
                                          {"name":"g","arguments":"{"}}]})"))}) {
    ASSERT_TRUE(t->Feed(e, out).has_value());
  }
  // A fragment-less repeat of a closed call adds nothing and is tolerated.
  ASSERT_TRUE(
      t->Feed(Event("", Delta(R"({"tool_calls":[{"index":0,"function":{"arguments":""}}]})")), out)
          .has_value());
  auto s = t->Feed(Event("", Delta(R"({"tool_calls":[{"index":0,"function":{"arguments":"}"}}]})")),
                   out);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, core::Errc::kUpstreamUnavailable);
  EXPECT_NE(s.error().message.find("interleaved"), std::string::npos);
}

TEST(OpenAiToAnthropicStream, FinishReasonsAndRefusal) {
  auto stop_reason = [](std::string_view finish, std::string_view delta = R"({"content":"x"})") {
    auto t = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kAnthropicMessages, kCtx);
    const auto out = FeedAll(*t, {Event("", Delta(delta, finish)), Event("", "[DONE]")});
    return out.size() >= 2 ? out[out.size() - 2].Json().at_pointer("/delta/stop_reason")
                           : json::value();
  };
  EXPECT_EQ(stop_reason(R"("stop")"), "end_turn");
  EXPECT_EQ(stop_reason(R"("length")"), "max_tokens");
  EXPECT_EQ(stop_reason(R"("tool_calls")"), "tool_use");
  EXPECT_EQ(stop_reason(R"("content_filter")"), "refusal");
  EXPECT_EQ(stop_reason(R"("stop")", R"({"refusal":"No."})"), "refusal");
}

TEST(OpenAiToAnthropicStream, CutOffStreamFabricatesNothing) {
  auto t = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kAnthropicMessages, kCtx);
  const auto out = FeedAll(*t, {Event("", Delta(R"({"content":"Hel"})"))});
  ASSERT_EQ(out.size(), 4u);  // message_start, ping, content_block_start, content_block_delta
  EXPECT_EQ(out.back().event, "content_block_delta");
  EXPECT_FALSE(out.back().terminal);
}

TEST(OpenAiToAnthropicStream, MalformedUpstreamIsUnavailable) {
  auto t = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kAnthropicMessages, kCtx);
  std::vector<StreamEvent> out;
  auto s = t->Feed(Event("", "[DONE]"), out);  // before any chunk: nothing to close
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, core::Errc::kUpstreamUnavailable);
  auto u = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kAnthropicMessages, kCtx);
  s = u->Feed(Event("", Delta(R"({"tool_calls":[{"index":0,"function":{"arguments":"{"}}]})")),
              out);
  EXPECT_FALSE(s.has_value());  // a new tool call must name itself
}

// --- Anthropic upstream -> OpenAI client ---------------------------------------------------

std::vector<StreamEvent> AnthropicEvents(bool with_usage) {
  auto delta = Event("message_delta", R"({"type":"message_delta","delta":{"stop_reason":
      "max_tokens","stop_sequence":null},"usage":{"output_tokens":7}})");
  if (with_usage) delta.usage = MakeUsage(100, 0, 30, 7);
  return {Event("message_start", R"({"type":"message_start","message":{"id":"msg_1",
              "type":"message","role":"assistant","model":"claude-x","content":[],
              "stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":70,
              "cache_creation_input_tokens":30,"output_tokens":1}}})"),
          Event("content_block_start", R"({"type":"content_block_start","index":0,
              "content_block":{"type":"thinking","thinking":""}})"),
          Event("content_block_delta", R"({"type":"content_block_delta","index":0,
              "delta":{"type":"thinking_delta","thinking":"hmm"}})"),
          Event("content_block_delta", R"({"type":"content_block_delta","index":0,
              "delta":{"type":"signature_delta","signature":"sig"}})"),
          Event("content_block_stop", R"({"type":"content_block_stop","index":0})"),
          Event("ping", R"({"type":"ping"})"),
          Event("content_block_start", R"({"type":"content_block_start","index":1,
              "content_block":{"type":"text","text":""}})"),
          Event("content_block_delta", R"({"type":"content_block_delta","index":1,
              "delta":{"type":"text_delta","text":"Hi"}})"),
          Event("content_block_stop", R"({"type":"content_block_stop","index":1})"),
          Event("content_block_start", R"({"type":"content_block_start","index":2,
              "content_block":{"type":"tool_use","id":"toolu_1","name":"w","input":{}}})"),
          Event("content_block_delta", R"({"type":"content_block_delta","index":2,
              "delta":{"type":"input_json_delta","partial_json":""}})"),
          Event("content_block_delta", R"({"type":"content_block_delta","index":2,
              "delta":{"type":"input_json_delta","partial_json":"{\"c\":1}"}})"),
          Event("content_block_stop", R"({"type":"content_block_stop","index":2})"),
          delta,
          Event("message_stop", R"({"type":"message_stop"})")};
}

std::string OpenAiChunk(std::string_view delta, std::string_view finish = "null") {
  return R"({"id":"msg_1","object":"chat.completion.chunk","created":1700000000,)"
         R"("model":"claude-x","choices":[{"index":0,"delta":)" +
         std::string(delta) + R"(,"logprobs":null,"finish_reason":)" + std::string(finish) + "}]}";
}

TEST(AnthropicToOpenAiStream, FullAnswer) {
  auto t = MakeStreamTranslator(Dialect::kAnthropicMessages, Dialect::kOpenAiChat, kCtx);
  const auto out = FeedAll(*t, AnthropicEvents(/*with_usage=*/true));
  ExpectConsistent(out, Dialect::kOpenAiChat);
  std::vector<json::value> got;
  for (const auto& e : out) got.push_back(e.Json());
  const std::vector<json::value> want = {
      J(OpenAiChunk(R"({"role":"assistant","content":""})")),
      J(OpenAiChunk(R"({"content":"Hi"})")),
      J(OpenAiChunk(R"({"tool_calls":[{"index":0,"id":"toolu_1","type":"function",
                      "function":{"name":"w","arguments":""}}]})")),
      J(OpenAiChunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"c\":1}"}}]})")),
      J(OpenAiChunk("{}", R"("length")")),
      J(R"({"id":"msg_1","object":"chat.completion.chunk","created":1700000000,
           "model":"claude-x","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":7,
           "total_tokens":107,"prompt_tokens_details":{"cached_tokens":0},
           "completion_tokens_details":{"reasoning_tokens":0}}})"),
      json::value()};
  EXPECT_EQ(got, want);
  ASSERT_EQ(out.size(), want.size());
  EXPECT_TRUE(out[5].usage.has_value());
  EXPECT_EQ(out.back().data, "[DONE]");
  EXPECT_TRUE(out.back().terminal);
  EXPECT_FALSE(out[5].terminal);
}

std::vector<StreamEvent> JsonAnswerEvents(std::vector<std::string> fragments,
                                          bool with_client_call) {
  std::vector<StreamEvent> events = {
      Event("message_start", R"({"type":"message_start","message":{"id":"msg_1","type":"message",
              "role":"assistant","model":"claude-x","content":[],"stop_reason":null,
              "stop_sequence":null,"usage":{"input_tokens":70,"output_tokens":1}}})"),
      Event("content_block_start", R"({"type":"content_block_start","index":0,
              "content_block":{"type":"tool_use","id":"toolu_a","name":"switchyard_json_answer",
              "input":{}}})")};
  for (const auto& f : fragments) {
    events.push_back(
        Event("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":)"
                                     R"({"type":"input_json_delta","partial_json":)" +
                                         json::serialize(json::string(f)) + "}}"));
  }
  events.push_back(Event("content_block_stop", R"({"type":"content_block_stop","index":0})"));
  if (with_client_call) {
    events.push_back(Event("content_block_start", R"({"type":"content_block_start","index":1,
              "content_block":{"type":"tool_use","id":"toolu_w","name":"w","input":{}}})"));
    events.push_back(Event("content_block_stop", R"({"type":"content_block_stop","index":1})"));
  }
  events.push_back(Event("message_delta", R"({"type":"message_delta","delta":{"stop_reason":
      "tool_use","stop_sequence":null},"usage":{"output_tokens":7}})"));
  events.push_back(Event("message_stop", R"({"type":"message_stop"})"));
  return events;
}

TEST(AnthropicToOpenAiStream, JsonAnswerToolIsStreamedAsContent) {
  auto t = MakeStreamTranslator(Dialect::kAnthropicMessages, Dialect::kOpenAiChat, kCtx);
  const auto out = FeedAll(*t, JsonAnswerEvents({"", "{\"a\":", "1}"}, false));
  ExpectConsistent(out, Dialect::kOpenAiChat);
  std::vector<json::value> got;
  for (const auto& e : out) got.push_back(e.Json());
  EXPECT_EQ(got, (std::vector<json::value>{J(OpenAiChunk(R"({"role":"assistant","content":""})")),
                                           J(OpenAiChunk(R"({"content":"{\"a\":"})")),
                                           J(OpenAiChunk(R"({"content":"1}"})")),
                                           J(OpenAiChunk("{}", R"("stop")")), json::value()}));
}

TEST(AnthropicToOpenAiStream, JsonAnswerWithoutFragmentsIsAnEmptyObject) {
  auto t = MakeStreamTranslator(Dialect::kAnthropicMessages, Dialect::kOpenAiChat, kCtx);
  const auto out = FeedAll(*t, JsonAnswerEvents({""}, false));
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].Json(), J(OpenAiChunk(R"({"content":"{}"})")));
}

TEST(AnthropicToOpenAiStream, JsonAnswerBesideAClientCallFinishesWithToolCalls) {
  auto t = MakeStreamTranslator(Dialect::kAnthropicMessages, Dialect::kOpenAiChat, kCtx);
  const auto out = FeedAll(*t, JsonAnswerEvents({"{}"}, true));
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[1].Json(), J(OpenAiChunk(R"({"content":"{}"})")));
  // The client's call is tool call 0: the answer took no tool-call index.
  EXPECT_EQ(out[2].Json().at_pointer("/choices/0/delta/tool_calls/0/index"), J("0"));
  EXPECT_EQ(out[3].Json().at_pointer("/choices/0/finish_reason"), "tool_calls");
}

TEST(AnthropicToOpenAiStream, NoUsageMeansNoUsageChunk) {
  auto t = MakeStreamTranslator(Dialect::kAnthropicMessages, Dialect::kOpenAiChat, kCtx);
  const auto out = FeedAll(*t, AnthropicEvents(/*with_usage=*/false));
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[4].Json().at_pointer("/choices/0/finish_reason"), "length");
  EXPECT_EQ(out[5].data, "[DONE]");
}

TEST(AnthropicToOpenAiStream, ParallelToolUseBlocksGetConsecutiveIndexes) {
  auto t = MakeStreamTranslator(Dialect::kAnthropicMessages, Dialect::kOpenAiChat, kCtx);
  auto events = AnthropicEvents(false);
  events.insert(events.begin() + 13,
                {Event("content_block_start", R"({"type":"content_block_start","index":3,
                     "content_block":{"type":"tool_use","id":"toolu_2","name":"now","input":{}}})"),
                 Event("content_block_delta", R"({"type":"content_block_delta","index":3,
                     "delta":{"type":"input_json_delta","partial_json":"{}"}})")});
  const auto out = FeedAll(*t, events);
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(out[4].Json(), J(OpenAiChunk(R"({"tool_calls":[{"index":1,"id":"toolu_2",
      "type":"function","function":{"name":"now","arguments":""}}]})")));
  EXPECT_EQ(out[5].Json(),
            J(OpenAiChunk(R"({"tool_calls":[{"index":1,"function":{"arguments":"{}"}}]})")));
}

TEST(AnthropicToOpenAiStream, CutOffStreamFabricatesNothing) {
  auto t = MakeStreamTranslator(Dialect::kAnthropicMessages, Dialect::kOpenAiChat, kCtx);
  auto events = AnthropicEvents(true);
  events.resize(8);  // up to the "Hi" text delta
  const auto out = FeedAll(*t, events);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out.back().terminal);
}

TEST(AnthropicToOpenAiStream, MalformedOrFailedUpstreamIsUnavailable) {
  auto expect_unavailable = [](const std::vector<StreamEvent>& events) {
    auto t = MakeStreamTranslator(Dialect::kAnthropicMessages, Dialect::kOpenAiChat, kCtx);
    std::vector<StreamEvent> out;
    core::Status s;
    for (const auto& e : events) {
      s = t->Feed(e, out);
      if (!s) break;
    }
    ASSERT_FALSE(s.has_value());
    EXPECT_EQ(s.error().code, core::Errc::kUpstreamUnavailable);
  };
  const auto start = AnthropicEvents(false)[0];
  expect_unavailable({Event("content_block_start", R"({"type":"content_block_start","index":0,
                         "content_block":{"type":"text","text":""}})")});
  expect_unavailable({start, Event("content_block_delta", R"({"type":"content_block_delta",
                         "index":5,"delta":{"type":"input_json_delta","partial_json":"{"}})")});
  expect_unavailable({start, Event("error", R"({"type":"error","error":{"type":
                         "overloaded_error","message":"Overloaded"}})")});
}

TEST(StreamTranslator, SameDialectPassesEventsThrough) {
  auto t = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kOpenAiChat, kCtx);
  const auto out = FeedAll(*t, {Event("", Delta(R"({"content":"x"})")), Event("", "[DONE]")});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].data, Delta(R"({"content":"x"})"));
  EXPECT_TRUE(out[1].terminal);
}

}  // namespace
}  // namespace sy::api::translate
