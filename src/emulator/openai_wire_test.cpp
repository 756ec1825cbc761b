// The OpenAI dialect, planned without sockets: status, headers, JSON shape and SSE sequence.
#include "emulator/openai_wire.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "emulator/router.h"

namespace sy::emulator {
namespace {

namespace json = boost::json;

HttpRequest Chat(std::string body) {
  HttpRequest request;
  request.method = "POST";
  request.target = "/v1/chat/completions";
  request.headers = {{"authorization", "Bearer sk-test"}, {"content-type", "application/json"}};
  request.body = std::move(body);
  return request;
}

std::string_view HeaderOf(const Reply& reply, std::string_view name) {
  for (const auto& [n, v] : reply.headers) {
    if (n == name) return v;
  }
  return {};
}

// The JSON payloads of a stream's data lines, "[DONE]" excluded (and checked last).
std::vector<json::object> Chunks(const Reply& reply) {
  std::vector<json::object> chunks;
  EXPECT_FALSE(reply.events.empty());
  EXPECT_EQ(reply.events.back().bytes, "data: [DONE]\n\n");
  for (size_t i = 0; i + 1 < reply.events.size(); ++i) {
    const std::string& bytes = reply.events[i].bytes;
    EXPECT_EQ(bytes.rfind("data: ", 0), 0U);
    EXPECT_EQ(bytes.substr(bytes.size() - 2), "\n\n");
    chunks.push_back(json::parse(bytes.substr(6, bytes.size() - 8)).as_object());
  }
  return chunks;
}

class OpenAiWireTest : public ::testing::Test {
 protected:
  State state_{ProfileTable()};
};

TEST_F(OpenAiWireTest, NonStreamShape) {
  Reply reply =
      Route(Chat(R"({"model":"instant","messages":[{"role":"user","content":"Hi"}]})"), state_);
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(HeaderOf(reply, "content-type"), "application/json");
  EXPECT_FALSE(HeaderOf(reply, "x-request-id").empty());
  json::object body = json::parse(reply.body).as_object();
  EXPECT_EQ(body.at("object"), "chat.completion");
  EXPECT_EQ(body.at("model"), "instant");
  EXPECT_EQ(body.at("id").as_string().subview(0, 9), "chatcmpl-");
  EXPECT_TRUE(body.at("created").is_int64());
  EXPECT_TRUE(body.at("system_fingerprint").is_string());
  const json::object& choice = body.at("choices").as_array().at(0).as_object();
  EXPECT_EQ(choice.at("index"), 0);
  EXPECT_EQ(choice.at("finish_reason"), "stop");
  EXPECT_TRUE(choice.at("logprobs").is_null());
  EXPECT_EQ(choice.at("message").at("role"), "assistant");
  EXPECT_TRUE(choice.at("message").at("refusal").is_null());
  const json::object& usage = body.at("usage").as_object();
  // 3 (role) + 1 ("Hi") + 3 (reply primer).
  EXPECT_EQ(usage.at("prompt_tokens"), 7);
  EXPECT_EQ(usage.at("total_tokens").as_int64(),
            usage.at("prompt_tokens").as_int64() + usage.at("completion_tokens").as_int64());
  EXPECT_EQ(usage.at("prompt_tokens_details").at("cached_tokens"), 0);
  EXPECT_EQ(usage.at("completion_tokens_details").at("reasoning_tokens"), 0);
  // Deterministic: the same request gets the same content.
  Reply again =
      Route(Chat(R"({"model":"instant","messages":[{"role":"user","content":"Hi"}]})"), state_);
  EXPECT_EQ(json::parse(again.body).at("choices"), body.at("choices"));
}

TEST_F(OpenAiWireTest, ReasoningModelReportsReasoningTokens) {
  Reply reply =
      Route(Chat(R"({"model":"gpt-5.5","messages":[{"role":"user","content":"Hi"}]})"), state_);
  json::object usage = json::parse(reply.body).at("usage").as_object();
  int64_t reasoning = usage.at("completion_tokens_details").at("reasoning_tokens").as_int64();
  EXPECT_GT(reasoning, 0);
  EXPECT_GT(usage.at("completion_tokens").as_int64(), reasoning);
  EXPECT_GT(reply.delay.count(), 0);  // paced by the gpt-5.5 profile
}

TEST_F(OpenAiWireTest, StreamSequenceWithUsage) {
  Reply reply = Route(Chat(R"({"model":"instant","stream":true,
      "stream_options":{"include_usage":true},
      "messages":[{"role":"user","content":"Hi"}]})"),
                      state_);
  ASSERT_TRUE(reply.stream);
  EXPECT_EQ(HeaderOf(reply, "content-type").substr(0, 17), "text/event-stream");
  auto chunks = Chunks(reply);
  ASSERT_GE(chunks.size(), 4U);
  EXPECT_EQ(chunks[0].at("object"), "chat.completion.chunk");
  EXPECT_EQ(chunks[0].at("choices").at(0).at("delta").at("role"), "assistant");
  std::string text;
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    EXPECT_TRUE(chunks[i].at("usage").is_null());
    EXPECT_EQ(chunks[i].at("id"), chunks[0].at("id"));
    const json::object& delta = chunks[i].at("choices").at(0).at("delta").as_object();
    if (const json::value* c = delta.if_contains("content")) text += c->as_string();
  }
  const json::object& finish = chunks[chunks.size() - 2];
  EXPECT_EQ(finish.at("choices").at(0).at("finish_reason"), "stop");
  const json::object& last = chunks.back();
  EXPECT_TRUE(last.at("choices").as_array().empty());
  EXPECT_GT(last.at("usage").at("completion_tokens").as_int64(), 0);
  // The stream says what the non-streamed answer says.
  Reply whole =
      Route(Chat(R"({"model":"instant","messages":[{"role":"user","content":"Hi"}]})"), state_);
  EXPECT_EQ(
      std::string(
          json::parse(whole.body).at("choices").at(0).at("message").at("content").as_string()),
      text);
}

TEST_F(OpenAiWireTest, StreamWithoutUsageHasNoUsageField) {
  Reply reply = Route(Chat(R"({"model":"instant","stream":true,
      "messages":[{"role":"user","content":"Hi"}]})"),
                      state_);
  for (const auto& chunk : Chunks(reply)) EXPECT_FALSE(chunk.contains("usage"));
}

TEST_F(OpenAiWireTest, StopAndMaxTokens) {
  Reply reply = Route(Chat(R"({"model":"instant","max_completion_tokens":5,
      "messages":[{"role":"user","content":"Hi"}]})"),
                      state_);
  json::object body = json::parse(reply.body).as_object();
  EXPECT_EQ(body.at("choices").at(0).at("finish_reason"), "length");
  EXPECT_EQ(body.at("usage").at("completion_tokens"), 5);

  Reply stop = Route(Chat(R"({"model":"instant","stop":[" "],
      "messages":[{"role":"user","content":"Hi"}]})"),
                     state_);
  json::object stopped = json::parse(stop.body).as_object();
  EXPECT_EQ(stopped.at("choices").at(0).at("finish_reason"), "stop");
  EXPECT_EQ(stopped.at("choices").at(0).at("message").at("content").as_string().find(' '),
            json::string::npos);
}

TEST_F(OpenAiWireTest, NChoices) {
  Reply reply = Route(Chat(R"({"model":"instant","n":3,"stream":true,
      "messages":[{"role":"user","content":"Hi"}]})"),
                      state_);
  std::set<int64_t> seen;
  for (const auto& chunk : Chunks(reply)) {
    seen.insert(chunk.at("choices").at(0).at("index").as_int64());
  }
  EXPECT_EQ(seen, (std::set<int64_t>{0, 1, 2}));
}

constexpr std::string_view kTools = R"("tools":[
    {"type":"function","function":{"name":"get_weather","parameters":{"type":"object",
      "properties":{"location":{"type":"string"},"unit":{"type":"string","enum":["c","f"]}},
      "required":["location","unit"]}}},
    {"type":"function","function":{"name":"get_time","parameters":{"type":"object",
      "properties":{"tz":{"type":"string"}},"required":["tz"]}}}])";

TEST_F(OpenAiWireTest, ToolCallNonStream) {
  Reply reply = Route(Chat(R"({"model":"instant",)" + std::string(kTools) +
                           R"(,"messages":[{"role":"user","content":"Weather in Paris?"}]})"),
                      state_);
  json::object choice = json::parse(reply.body).at("choices").at(0).as_object();
  EXPECT_EQ(choice.at("finish_reason"), "tool_calls");
  EXPECT_TRUE(choice.at("message").at("content").is_null());
  const json::object& call = choice.at("message").at("tool_calls").at(0).as_object();
  EXPECT_EQ(call.at("type"), "function");
  EXPECT_EQ(call.at("id").as_string().subview(0, 5), "call_");
  EXPECT_EQ(call.at("function").at("name"), "get_weather");
  json::value args = json::parse(call.at("function").at("arguments").as_string());
  EXPECT_TRUE(args.at("location").is_string());
  EXPECT_TRUE(args.at("unit") == "c" || args.at("unit") == "f");
}

TEST_F(OpenAiWireTest, ParallelToolCallsStreamed) {
  Reply reply =
      Route(Chat(R"({"model":"instant","stream":true,"tool_choice":"required",)" +
                 std::string(kTools) + R"(,"messages":[{"role":"user","content":"Both please"}]})"),
            state_);
  std::map<int64_t, std::string> names;
  std::map<int64_t, std::string> arguments;
  for (const auto& chunk : Chunks(reply)) {
    const json::object& delta = chunk.at("choices").at(0).at("delta").as_object();
    const json::value* calls = delta.if_contains("tool_calls");
    if (calls == nullptr) continue;
    for (const auto& call : calls->as_array()) {
      int64_t index = call.at("index").as_int64();
      const json::object& fn = call.at("function").as_object();
      if (const json::value* name = fn.if_contains("name")) {
        EXPECT_TRUE(call.as_object().contains("id"));
        names[index] = std::string(name->as_string());
      }
      if (const json::value* a = fn.if_contains("arguments")) arguments[index] += a->as_string();
    }
  }
  EXPECT_EQ(names, (std::map<int64_t, std::string>{{0, "get_weather"}, {1, "get_time"}}));
  EXPECT_TRUE(json::parse(arguments[0]).as_object().contains("location"));
  EXPECT_TRUE(json::parse(arguments[1]).as_object().contains("tz"));
}

TEST_F(OpenAiWireTest, AnswerAfterToolResultMentionsIt) {
  Reply reply = Route(Chat(R"({"model":"instant",)" + std::string(kTools) + R"(,"messages":[
        {"role":"user","content":"Weather?"},
        {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
          "function":{"name":"get_weather","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"call_1","content":"18C and cloudy"}]})"),
                      state_);
  json::object choice = json::parse(reply.body).at("choices").at(0).as_object();
  EXPECT_EQ(choice.at("finish_reason"), "stop");
  EXPECT_NE(choice.at("message").at("content").as_string().find("18C and cloudy"),
            json::string::npos);
}

TEST_F(OpenAiWireTest, JsonSchemaResponseFormat) {
  Reply reply = Route(Chat(R"({"model":"instant","messages":[{"role":"user","content":"x"}],
      "response_format":{"type":"json_schema","json_schema":{"name":"r","strict":true,
        "schema":{"type":"object","properties":{"ok":{"type":"boolean"},
          "tags":{"type":"array","items":{"type":"string"}}},"required":["ok","tags"],
          "additionalProperties":false}}}})"),
                      state_);
  json::value content = json::parse(
      json::parse(reply.body).at("choices").at(0).at("message").at("content").as_string());
  EXPECT_TRUE(content.at("ok").is_bool());
  EXPECT_TRUE(content.at("tags").is_array());
}

TEST_F(OpenAiWireTest, JsonObjectResponseFormat) {
  Reply reply = Route(Chat(R"({"model":"instant","messages":[{"role":"user","content":"x"}],
      "response_format":{"type":"json_object"}})"),
                      state_);
  ASSERT_EQ(reply.status, 200) << reply.body;
  json::value content = json::parse(
      json::parse(reply.body).at("choices").at(0).at("message").at("content").as_string());
  EXPECT_TRUE(content.is_object()) << content;
}

TEST_F(OpenAiWireTest, Errors) {
  HttpRequest no_key = Chat(R"({"model":"m","messages":[]})");
  no_key.headers.clear();
  Reply reply = Route(no_key, state_);
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(json::parse(reply.body).at("error").at("type"), "invalid_request_error");

  EXPECT_EQ(Route(Chat("{not json"), state_).status, 400);
  Reply no_messages = Route(Chat(R"({"model":"m"})"), state_);
  EXPECT_EQ(no_messages.status, 400);
  json::object error = json::parse(no_messages.body).at("error").as_object();
  EXPECT_EQ(error.at("param"), "messages");
  EXPECT_EQ(error.at("code"), "missing_required_parameter");
  EXPECT_EQ(Route(Chat(R"({"messages":[{"role":"user","content":"x"}]})"), state_).status, 400);

  HttpRequest unknown = Chat("{}");
  unknown.target = "/v1/nothing";
  Reply not_found = Route(unknown, state_);
  EXPECT_EQ(not_found.status, 404);
  EXPECT_TRUE(json::parse(not_found.body).at("error").is_object());
}

TEST_F(OpenAiWireTest, AnyPrefixIsAccepted) {
  HttpRequest request = Chat(R"({"model":"instant","messages":[{"role":"user","content":"x"}]})");
  request.target = "/openai/v1/chat/completions";
  EXPECT_EQ(Route(request, state_).status, 200);
}

TEST_F(OpenAiWireTest, StatusFaultInOpenAiShape) {
  (void)state_.AddFaults(
      *ParseFaults(json::parse(R"({"model":"instant","status":429,"count":1,"retry_after_s":2})")));
  Reply reply =
      Route(Chat(R"({"model":"instant","messages":[{"role":"user","content":"x"}]})"), state_);
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(HeaderOf(reply, "retry-after"), "2");
  EXPECT_EQ(HeaderOf(reply, "x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(json::parse(reply.body).at("error").at("code"), "rate_limit_exceeded");
  EXPECT_TRUE(json::parse(reply.body).at("error").at("param").is_null());
  // Used up: the next request succeeds.
  EXPECT_EQ(Route(Chat(R"({"model":"instant","messages":[{"role":"user","content":"x"}]})"), state_)
                .status,
            200);
}

TEST_F(OpenAiWireTest, AStatusFaultNamesTheParamItWasGiven) {
  (void)state_.AddFaults(*ParseFaults(json::parse(
      R"({"model":"instant","status":400,"message":"Invalid 'stop'.","param":"stop"})")));
  Reply reply =
      Route(Chat(R"({"model":"instant","messages":[{"role":"user","content":"x"}]})"), state_);
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(json::parse(reply.body).at("error").at("param"), "stop");
  EXPECT_EQ(json::parse(reply.body).at("error").at("message"), "Invalid 'stop'.");
}

TEST_F(OpenAiWireTest, PromptCachingReportsCachedTokens) {
  std::string long_text(6000, 'a');
  for (size_t i = 0; i < long_text.size(); ++i) long_text[i] = static_cast<char>('a' + i % 26);
  std::string body = R"({"model":"instant","messages":[{"role":"system","content":")" + long_text +
                     R"("},{"role":"user","content":"Q1"}]})";
  Reply first = Route(Chat(body), state_);
  auto cached = [](const Reply& r) {
    return json::parse(r.body).at("usage").at("prompt_tokens_details").at("cached_tokens");
  };
  EXPECT_EQ(cached(first), 0);
  std::string second_body = body;
  second_body.replace(second_body.find("Q1"), 2, "Q2");
  Reply second = Route(Chat(second_body), state_);
  int64_t prompt = json::parse(second.body).at("usage").at("prompt_tokens").as_int64();
  int64_t hit = cached(second).as_int64();
  EXPECT_GE(hit, 1024);
  EXPECT_EQ(hit % 128, 0);
  EXPECT_LT(hit, prompt);
  EXPECT_GT(hit, prompt - 128 - 10);
}

TEST_F(OpenAiWireTest, RequestsAreLogged) {
  (void)Route(Chat(R"({"model":"instant","messages":[{"role":"user","content":"x"}]})"), state_);
  json::object log = state_.RequestsJson();
  const json::array& requests = log.at("requests").as_array();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].at("path"), "/v1/chat/completions");
  EXPECT_EQ(requests[0].at("headers").at("authorization"), "Bearer sk-test");
  EXPECT_EQ(requests[0].at("body").at("model"), "instant");
}

}  // namespace
}  // namespace sy::emulator
