// Edge cases of the Responses <-> hub translators that the golden cases do not pin.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/translate/translate.h"
#include "api/translate/translate_internal.h"
#include "api/translate/translate_test_util.h"

namespace sy::api::translate {
namespace {

namespace json = boost::json;
using core::Dialect;
using test_util::Event;
using test_util::J;
using test_util::MakeUsage;
using test_util::O;

core::Result<json::object> ToChat(std::string_view body) {
  return TranslateRequest(Dialect::kOpenAiResponses, Dialect::kOpenAiChat, O(body));
}

json::value ToChatOk(std::string_view body) {
  auto out = ToChat(body);
  EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().param + ": " + out.error().message);
  return out ? json::value(*out) : json::value();
}

core::Error ToChatError(std::string_view body) {
  auto out = ToChat(body);
  EXPECT_FALSE(out.has_value()) << body;
  return out ? core::Error{} : out.error();
}

TEST(ResponsesToChatRequest, RefusesWhatChatCannotExpressNamingTheParameter) {
  struct Case {
    const char* body;
    const char* param;
  };
  const Case cases[] = {
      {R"({"input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]})",
       "input[0].content[0]"},
      {R"({"input":[{"role":"user","content":[{"type":"input_image","file_id":"f"}]}]})",
       "input[0].content[0]"},
      {R"({"input":[{"role":"user","content":"x"},{"type":"reasoning","summary":[]}]})",
       "input[1]"},
      {R"({"input":[{"type":"item_reference","id":"msg_1"}]})", "input[0].type"},
      {R"({"input":"x","background":true})", "background"},
      {R"({"input":"x","conversation":"conv_1"})", "conversation"},
      {R"({"input":"x","prompt":{"id":"pmpt_1"}})", "prompt"},
      {R"({"input":"x","include":["file_search_call.results","reasoning.encrypted_content"]})",
       "include[1]"},
      {R"({"input":"x","include":["message.output_text.logprobs"]})", "include[0]"},
      {R"({"input":"x","top_logprobs":2})", "top_logprobs"},
      {R"({"input":"x","max_tool_calls":2})", "max_tool_calls"},
      {R"({"input":"x","future_param":1})", "future_param"},
      {R"({"input":"x","tools":[{"type":"function","name":"f"},{"type":"mcp","server_label":"s"}]})",
       "tools[1]"},
      {R"({"input":"x","tools":[{"type":"function","name":"f"}],
          "tool_choice":{"type":"file_search"}})",
       "tool_choice"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    const core::Error e = ToChatError(c.body);
    EXPECT_EQ(e.code, core::Errc::kInvalidRequest);
    EXPECT_EQ(e.param, c.param);
    EXPECT_NE(e.message.find("OpenAI Chat Completions API"), std::string::npos) << e.message;
  }
}

TEST(ResponsesToChatRequest, BackgroundFalseAndDroppedFieldsTranslate) {
  EXPECT_EQ(ToChatOk(R"({"input":"x","background":false,"store":true,"truncation":"auto",
                         "include":["message.input_image.image_url"],"service_tier":"flex",
                         "previous_response_id":"resp_1","prompt_cache_key":"k",
                         "text":{"format":{"type":"text"}},"safety_identifier":"u1"})"),
            J(R"({"messages":[{"role":"user","content":"x"}],"safety_identifier":"u1"})"));
}

TEST(ResponsesToChatRequest, ToolChoiceForms) {
  const std::string tools = R"("tools":[{"type":"function","name":"f"}])";
  EXPECT_EQ(
      ToChatOk(R"({"input":"x",)" + tools + R"(,"tool_choice":{"type":"function","name":"f"}})")
          .at("tool_choice"),
      J(R"({"type":"function","function":{"name":"f"}})"));
  EXPECT_EQ(ToChatOk(R"({"input":"x",)" + tools +
                     R"(,"tool_choice":{"type":"allowed_tools","mode":"required",
                        "tools":[{"type":"function","name":"f"}]}})")
                .at("tool_choice"),
            J(R"({"type":"allowed_tools","allowed_tools":{"mode":"required",
                  "tools":[{"type":"function","function":{"name":"f"}}]}})"));
  // Without tools, tool_choice and parallel_tool_calls are not sent (Chat refuses them).
  EXPECT_EQ(ToChatOk(R"({"input":"x","tool_choice":"none","parallel_tool_calls":false})"),
            J(R"({"messages":[{"role":"user","content":"x"}]})"));
}

TEST(ResponsesToChatRequest, JsonObjectAndAFunctionCallWithoutATextTurn) {
  EXPECT_EQ(ToChatOk(R"({"input":[{"role":"user","content":"q"},
      {"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
      {"type":"function_call_output","call_id":"c1","output":"1"},
      {"role":"assistant","content":[{"type":"output_text","text":"a"},
        {"type":"refusal","refusal":"r"}]}],
      "text":{"format":{"type":"json_object"}}})"),
            J(R"({"messages":[{"role":"user","content":"q"},
                  {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
                    "function":{"name":"f","arguments":"{}"}}]},
                  {"role":"tool","tool_call_id":"c1","content":"1"},
                  {"role":"assistant","content":"a","refusal":"r"}],
                  "response_format":{"type":"json_object"}})"));
}

TEST(ResponsesToChatRequest, NoInputIsRefused) {
  EXPECT_EQ(ToChatError(R"({"model":"m"})").param, "input");
}

// --- answers -----------------------------------------------------------------------------------

const boost::json::object kRequest = O(R"({"model":"m","input":"x","temperature":0.5})");

Context Ctx() {
  Context c;
  c.created_unix_s = 1700000000;
  c.response_id = "resp_abc";
  c.responses_request = &kRequest;
  return c;
}

core::Result<std::string> Answer(std::string_view upstream, const core::Usage& usage = {}) {
  return TranslateResponse(Dialect::kOpenAiChat, Dialect::kOpenAiResponses, J(upstream), usage,
                           Ctx());
}

TEST(ChatToResponsesResponse, RefusalAndContentFilter) {
  auto out = Answer(R"({"model":"m","choices":[{"index":0,"finish_reason":"content_filter",
      "message":{"role":"assistant","content":null,"refusal":"I can't help with that."}}]})",
                    MakeUsage(5, 0, 0, 3));
  ASSERT_TRUE(out) << out.error().message;
  const auto r = J(*out);
  EXPECT_EQ(r.at("status"), "incomplete");
  EXPECT_EQ(r.at("incomplete_details"), J(R"({"reason":"content_filter"})"));
  EXPECT_EQ(r.at("output"), J(R"([{"id":"msg_abc","type":"message","status":"completed",
      "role":"assistant","content":[{"type":"refusal","refusal":"I can't help with that."}]}])"));
  EXPECT_EQ(r.at("temperature"), 0.5);  // echoed from the request
  EXPECT_EQ(r.at("usage").at("total_tokens"), 8);
}

TEST(ChatToResponsesResponse, MalformedUpstreamIsUnavailable) {
  for (const char* body :
       {R"([1])", R"({"choices":[]})", R"({"choices":[{"message":5}]})",
        R"({"choices":[{"message":{"role":"assistant","tool_calls":[{"id":"c"}]}}]})",
        R"({"choices":[{"message":{"role":"assistant","tool_calls":{}}}]})"}) {
    SCOPED_TRACE(body);
    auto out = Answer(body);
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code, core::Errc::kUpstreamUnavailable);
  }
}

TEST(ChatToResponsesResponse, DefaultsWithoutAClientRequest) {
  Context ctx;
  ctx.response_id = "resp_1";
  auto out =
      TranslateResponse(Dialect::kOpenAiChat, Dialect::kOpenAiResponses,
                        J(R"({"model":"m","choices":[{"message":{"content":"hi"}}]})"), {}, ctx);
  ASSERT_TRUE(out);
  const auto r = J(*out);
  EXPECT_EQ(r.at("tools"), J("[]"));
  EXPECT_EQ(r.at("tool_choice"), "auto");
  EXPECT_EQ(r.at("text"), J(R"({"format":{"type":"text"}})"));
  EXPECT_EQ(r.at("metadata"), J("{}"));
  EXPECT_EQ(r.at("parallel_tool_calls"), true);
  EXPECT_EQ(r.at("previous_response_id"), nullptr);
}

// --- streams -------------------------------------------------------------------------------------

struct Streamed {
  std::vector<core::StreamEvent> events;
  core::Status status;
};

Streamed Stream(const std::vector<core::StreamEvent>& upstream) {
  auto t = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kOpenAiResponses, Ctx());
  Streamed s;
  for (const auto& e : upstream) {
    s.status = t->Feed(e, s.events);
    if (!s.status) break;
  }
  return s;
}

std::vector<std::string> Types(const std::vector<core::StreamEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.event);
  return out;
}

core::StreamEvent Chunk(std::string_view delta, std::string_view finish = "null") {
  return Event("", R"({"id":"c","model":"m","choices":[{"index":0,"delta":)" + std::string(delta) +
                       R"(,"finish_reason":)" + std::string(finish) + "}]}");
}

TEST(ChatToResponsesStream, TextAfterAToolCallOpensANewMessageItemAndSequenceCounts) {
  auto s = Stream({Chunk(R"({"tool_calls":[{"index":0,"id":"call_1","function":
                              {"name":"f","arguments":"{}"}}]})"),
                   Chunk(R"({"content":"done"})"), Chunk("{}", R"("stop")"), Event("", "[DONE]")});
  ASSERT_TRUE(s.status);
  EXPECT_EQ(
      Types(s.events),
      (std::vector<std::string>{
          "response.created", "response.in_progress", "response.output_item.added",
          "response.function_call_arguments.delta", "response.function_call_arguments.done",
          "response.output_item.done", "response.output_item.added", "response.content_part.added",
          "response.output_text.delta", "response.output_text.done", "response.content_part.done",
          "response.output_item.done", "response.completed"}));
  for (size_t i = 0; i < s.events.size(); ++i) {
    EXPECT_EQ(s.events[i].Json().at("sequence_number"), static_cast<int64_t>(i));
    EXPECT_EQ(json::value(s.events[i].event), s.events[i].Json().at("type"));
  }
  EXPECT_EQ(s.events[6].Json().at("output_index"), 1);
  EXPECT_EQ(s.events[6].Json().at("item").at("id"), "msg_abc");
  // [DONE] without a usage chunk: completed, usage null, no billed usage carried.
  const auto& last = s.events.back();
  EXPECT_TRUE(last.terminal);
  EXPECT_FALSE(last.usage.has_value());
  EXPECT_TRUE(last.Json().at("response").at("usage").is_null());
  EXPECT_EQ(last.Json().at("response").at("output").as_array().size(), 2u);
}

TEST(ChatToResponsesStream, RefusalStreamsInARefusalPart) {
  auto s = Stream({Chunk(R"({"refusal":"No"})"), Chunk(R"({"refusal":"."})"),
                   Chunk("{}", R"("stop")"), Event("", "[DONE]")});
  ASSERT_TRUE(s.status);
  EXPECT_EQ(s.events[3].Json().at("part"), J(R"({"type":"refusal","refusal":""})"));
  EXPECT_EQ(s.events[4].event, "response.refusal.delta");
  EXPECT_EQ(s.events[6].event, "response.refusal.done");
  EXPECT_EQ(s.events[6].Json().at("refusal"), "No.");
}

// The text of every output_text.delta, in order.
std::string Deltas(const std::vector<core::StreamEvent>& events) {
  std::string out;
  for (const auto& e : events) {
    if (e.event == "response.output_text.delta") out += e.Json().at("delta").as_string();
  }
  return out;
}

TEST(ChatToResponsesStream, UsageOnContentChunksEndsNothingAndDoneEndsWithTheLatest) {
  // Regression: the first chunk carrying usage ended the response. A server that attaches
  // (cumulative) usage to every chunk (vLLM's continuous_usage_stats) had the rest of its answer
  // dropped and the client told response.completed with the first delta only.
  auto first = Chunk(R"({"content":"hi"})");
  first.usage = MakeUsage(3, 0, 0, 1);
  auto second = Chunk(R"({"content":" there"})");
  second.usage = MakeUsage(3, 0, 0, 2);
  auto last = Chunk(R"({"content":"!"})", R"("length")");
  last.usage = MakeUsage(3, 0, 0, 3);
  auto s = Stream({first, second, last, Event("", "[DONE]")});
  ASSERT_TRUE(s.status);
  EXPECT_EQ(Deltas(s.events), "hi there!");
  int terminal = 0;
  for (size_t i = 0; i < s.events.size(); ++i) {
    if (s.events[i].terminal) ++terminal;
    EXPECT_EQ(s.events[i].usage.has_value(), i + 1 == s.events.size()) << s.events[i].event;
  }
  EXPECT_EQ(terminal, 1);
  const auto& end = s.events.back();
  EXPECT_EQ(end.event, "response.incomplete");
  EXPECT_TRUE(end.terminal);
  ASSERT_TRUE(end.usage.has_value());
  EXPECT_EQ(end.usage->output_tokens, 3);
  EXPECT_EQ(end.Json().at("response").at("usage").at("total_tokens"), 6);
  EXPECT_EQ(end.Json().at("response").at("output").at(0).at("content").at(0).at("text"),
            "hi there!");
  EXPECT_EQ(end.Json().at("response").at("output").at(0).at("status"), "incomplete");
}

TEST(ChatToResponsesStream, TheUsageChunkWithoutChoicesEndsTheResponseAndNothingFollows) {
  // OpenAI's shape: usage on a final chunk with choices: [], then [DONE]; here after a server
  // also sent (smaller) usage on a content chunk.
  auto content = Chunk(R"({"content":"hi"})", R"("stop")");
  content.usage = MakeUsage(3, 0, 0, 1);
  auto usage_chunk = Event("", R"({"id":"c","model":"m","choices":[],"usage":{}})");
  usage_chunk.usage = MakeUsage(3, 0, 0, 2);
  auto s = Stream({content, usage_chunk, Chunk(R"({"content":"late"})"), Event("", "[DONE]")});
  ASSERT_TRUE(s.status);
  EXPECT_EQ(Deltas(s.events), "hi");
  const auto& end = s.events.back();
  EXPECT_EQ(end.event, "response.completed");
  EXPECT_TRUE(end.terminal);
  ASSERT_TRUE(end.usage.has_value());
  EXPECT_EQ(end.usage->output_tokens, 2);
  EXPECT_EQ(end.Json().at("response").at("usage").at("total_tokens"), 5);
}

TEST(ChatToResponsesStream, InterleavedToolArgumentsAndMalformedChunksAreUnavailable) {
  const std::vector<std::vector<core::StreamEvent>> bad = {
      {Chunk(R"({"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":""}}]})"),
       Chunk(R"({"tool_calls":[{"index":1,"id":"b","function":{"name":"f","arguments":""}}]})"),
       Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]})")},
      {Event("", "[1]")},
      {Event("", "[DONE]")},
      {Event("", R"({"choices":{}})")},
      {Chunk(R"({"tool_calls":[{"id":"a"}]})")},
      {Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]})")},
  };
  for (const auto& events : bad) {
    auto s = Stream(events);
    ASSERT_FALSE(s.status) << events.back().data;
    EXPECT_EQ(s.status.error().code, core::Errc::kUpstreamUnavailable);
  }
}

// The translator holds the answer (the done events and the completed Response repeat it): an
// upstream that streams without end fails the stream at the bound instead of growing it (audit 4).
TEST(ChatToResponsesStream, AnAnswerPastTheBoundFailsTheStream) {
  const std::string mib(1024 * 1024, 'x');
  const core::StreamEvent text = Chunk(R"({"content":")" + mib + R"("})");
  const core::StreamEvent arguments =
      Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":")" + mib + R"("}}]})");
  for (const bool calls : {false, true}) {
    SCOPED_TRACE(calls ? "arguments" : "text");
    auto t = MakeStreamTranslator(Dialect::kOpenAiChat, Dialect::kOpenAiResponses, Ctx());
    std::vector<core::StreamEvent> out;
    if (calls) {
      ASSERT_TRUE(
          t->Feed(Chunk(R"({"tool_calls":[{"index":0,"id":"c","function":{"name":"f"}}]})"), out));
    }
    core::Status status;
    int64_t fed = 0;
    while (status && fed <= internal::kMaxHeldStreamBytes) {
      out.clear();
      status = t->Feed(calls ? arguments : text, out);
      fed += static_cast<int64_t>(mib.size());
    }
    ASSERT_FALSE(status);
    EXPECT_EQ(fed, internal::kMaxHeldStreamBytes + static_cast<int64_t>(mib.size()));
    EXPECT_EQ(status.error().code, core::Errc::kUpstreamUnavailable);
    EXPECT_NE(status.error().message.find("an answer longer than 67108864 bytes"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace sy::api::translate
