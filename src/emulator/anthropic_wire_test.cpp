// The Anthropic dialect, planned without sockets: status, headers, JSON shape, event sequence.
#include "emulator/anthropic_wire.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "emulator/router.h"

namespace sy::emulator {
namespace {

namespace json = boost::json;

HttpRequest Messages(std::string body) {
  HttpRequest request;
  request.method = "POST";
  request.target = "/v1/messages";
  request.headers = {{"x-api-key", "sk-ant-test"},
                     {"anthropic-version", "2023-06-01"},
                     {"content-type", "application/json"}};
  request.body = std::move(body);
  return request;
}

struct Event {
  std::string name;
  json::object data;
};

std::vector<Event> Events(const Reply& reply) {
  std::vector<Event> events;
  for (const auto& e : reply.events) {
    const std::string& bytes = e.bytes;
    EXPECT_EQ(bytes.rfind("event: ", 0), 0U) << bytes;
    size_t newline = bytes.find('\n');
    std::string name = bytes.substr(7, newline - 7);
    EXPECT_EQ(bytes.substr(newline + 1, 6), "data: ");
    EXPECT_EQ(bytes.substr(bytes.size() - 2), "\n\n");
    json::object data =
        json::parse(bytes.substr(newline + 7, bytes.size() - newline - 9)).as_object();
    EXPECT_EQ(std::string(data.at("type").as_string()), name);
    events.push_back(Event{name, std::move(data)});
  }
  return events;
}

class AnthropicWireTest : public ::testing::Test {
 protected:
  State state_{ProfileTable()};
};

constexpr std::string_view kHello =
    R"({"model":"instant","max_tokens":256,"messages":[{"role":"user","content":"Hello"}]})";

TEST_F(AnthropicWireTest, NonStreamShape) {
  Reply reply = Route(Messages(std::string(kHello)), state_);
  ASSERT_EQ(reply.status, 200) << reply.body;
  bool has_request_id = false;
  for (const auto& h : reply.headers) has_request_id |= h.first == "request-id";
  EXPECT_TRUE(has_request_id);
  json::object body = json::parse(reply.body).as_object();
  EXPECT_EQ(body.at("type"), "message");
  EXPECT_EQ(body.at("role"), "assistant");
  EXPECT_EQ(body.at("model"), "instant");
  EXPECT_EQ(body.at("id").as_string().subview(0, 4), "msg_");
  EXPECT_EQ(body.at("stop_reason"), "end_turn");
  EXPECT_TRUE(body.at("stop_sequence").is_null());
  EXPECT_EQ(body.at("content").at(0).at("type"), "text");
  const json::object& usage = body.at("usage").as_object();
  EXPECT_EQ(usage.at("input_tokens"), 3 + 2);  // role marker + "Hello"
  EXPECT_EQ(usage.at("cache_creation_input_tokens"), 0);
  EXPECT_EQ(usage.at("cache_read_input_tokens"), 0);
  EXPECT_GT(usage.at("output_tokens").as_int64(), 0);
}

TEST_F(AnthropicWireTest, StreamEventSequence) {
  std::string body(kHello);
  body.insert(1, R"("stream":true,)");
  Reply reply = Route(Messages(body), state_);
  ASSERT_TRUE(reply.stream);
  auto events = Events(reply);
  ASSERT_GE(events.size(), 7U);
  EXPECT_EQ(events[0].name, "message_start");
  EXPECT_EQ(events[0].data.at("message").at("usage").at("input_tokens"), 5);
  EXPECT_EQ(events[1].name, "content_block_start");
  EXPECT_EQ(events[2].name, "ping");
  EXPECT_EQ(events[events.size() - 3].name, "content_block_stop");
  EXPECT_EQ(events[events.size() - 2].name, "message_delta");
  EXPECT_EQ(events.back().name, "message_stop");
  std::string text;
  for (size_t i = 3; i + 3 < events.size(); ++i) {
    EXPECT_EQ(events[i].name, "content_block_delta");
    EXPECT_EQ(events[i].data.at("delta").at("type"), "text_delta");
    text += events[i].data.at("delta").at("text").as_string();
  }
  const json::object& delta = events[events.size() - 2].data;
  EXPECT_EQ(delta.at("delta").at("stop_reason"), "end_turn");
  Reply whole = Route(Messages(std::string(kHello)), state_);
  json::object message = json::parse(whole.body).as_object();
  EXPECT_EQ(std::string(message.at("content").at(0).at("text").as_string()), text);
  EXPECT_EQ(delta.at("usage").at("output_tokens"), message.at("usage").at("output_tokens"));
}

TEST_F(AnthropicWireTest, ToolUseStreamed) {
  Reply reply = Route(Messages(R"({"model":"instant","max_tokens":500,"stream":true,
      "tool_choice":{"type":"any"},
      "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object",
        "properties":{"location":{"type":"string"}},"required":["location"]}}],
      "messages":[{"role":"user","content":"Weather in Paris?"}]})"),
                      state_);
  auto events = Events(reply);
  ASSERT_EQ(events[1].name, "content_block_start");
  const json::object& block = events[1].data.at("content_block").as_object();
  EXPECT_EQ(block.at("type"), "tool_use");
  EXPECT_EQ(block.at("name"), "get_weather");
  EXPECT_EQ(block.at("id").as_string().subview(0, 6), "toolu_");
  std::string partial;
  for (const auto& e : events) {
    if (e.name == "content_block_delta") {
      EXPECT_EQ(e.data.at("delta").at("type"), "input_json_delta");
      partial += e.data.at("delta").at("partial_json").as_string();
    }
  }
  EXPECT_TRUE(json::parse(partial).at("location").is_string());
  EXPECT_EQ(events[events.size() - 2].data.at("delta").at("stop_reason"), "tool_use");
}

TEST_F(AnthropicWireTest, AutoToolChoiceSaysSomethingFirstAndToolResultIsMentioned) {
  std::string tools = R"("tools":[{"name":"lookup","input_schema":{"type":"object",
      "properties":{"q":{"type":"string"}},"required":["q"]}}])";
  Reply reply = Route(Messages(R"({"model":"instant","max_tokens":500,)" + tools +
                               R"(,"messages":[{"role":"user","content":"Find it"}]})"),
                      state_);
  json::object body = json::parse(reply.body).as_object();
  EXPECT_EQ(body.at("stop_reason"), "tool_use");
  EXPECT_EQ(body.at("content").at(0).at("type"), "text");
  EXPECT_EQ(body.at("content").at(1).at("type"), "tool_use");
  EXPECT_TRUE(body.at("content").at(1).at("input").at("q").is_string());

  Reply after = Route(Messages(R"({"model":"instant","max_tokens":500,)" + tools +
                               R"(,"messages":[{"role":"user","content":"Find it"},
      {"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"lookup",
        "input":{"q":"x"}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1",
        "content":"found 3 widgets"}]}]})"),
                      state_);
  json::object answer = json::parse(after.body).as_object();
  EXPECT_EQ(answer.at("stop_reason"), "end_turn");
  EXPECT_NE(answer.at("content").at(0).at("text").as_string().find("found 3 widgets"),
            json::string::npos);
}

TEST_F(AnthropicWireTest, StopSequencesAndMaxTokens) {
  Reply reply = Route(Messages(R"({"model":"instant","max_tokens":3,
      "messages":[{"role":"user","content":"Hello"}]})"),
                      state_);
  json::object body = json::parse(reply.body).as_object();
  EXPECT_EQ(body.at("stop_reason"), "max_tokens");
  EXPECT_EQ(body.at("usage").at("output_tokens"), 3);
  Reply stop = Route(Messages(R"({"model":"instant","max_tokens":300,"stop_sequences":[" "],
      "system":[{"type":"text","text":"Be brief."}],
      "messages":[{"role":"user","content":[{"type":"text","text":"Hello"},
        {"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAAA"}}]}]})"),
                     state_);
  json::object stopped = json::parse(stop.body).as_object();
  EXPECT_EQ(stopped.at("stop_reason"), "stop_sequence");
  EXPECT_EQ(stopped.at("stop_sequence"), " ");
}

TEST_F(AnthropicWireTest, CacheControlCreatesThenReads) {
  std::string long_text(8000, 'x');
  for (size_t i = 0; i < long_text.size(); ++i) long_text[i] = static_cast<char>('a' + i % 26);
  auto request = [&](std::string_view question) {
    return Messages(R"({"model":"instant","max_tokens":100,"system":[{"type":"text","text":")" +
                    long_text + R"(","cache_control":{"type":"ephemeral"}}],
        "messages":[{"role":"user","content":")" +
                    std::string(question) + R"("}]})");
  };
  json::object first = json::parse(Route(request("one"), state_).body).at("usage").as_object();
  EXPECT_EQ(first.at("cache_creation_input_tokens"), 3 + 2000);
  EXPECT_EQ(first.at("cache_read_input_tokens"), 0);
  json::object second = json::parse(Route(request("two"), state_).body).at("usage").as_object();
  EXPECT_EQ(second.at("cache_creation_input_tokens"), 0);
  EXPECT_EQ(second.at("cache_read_input_tokens"), 3 + 2000);
  EXPECT_EQ(second.at("input_tokens"), 3 + 1);  // the uncached tail: role marker + "two"
}

TEST_F(AnthropicWireTest, Errors) {
  HttpRequest no_key = Messages(std::string(kHello));
  no_key.headers.erase(no_key.headers.begin());
  Reply unauthorised = Route(no_key, state_);
  EXPECT_EQ(unauthorised.status, 401);
  json::object body = json::parse(unauthorised.body).as_object();
  EXPECT_EQ(body.at("type"), "error");
  EXPECT_EQ(body.at("error").at("type"), "authentication_error");

  HttpRequest no_version = Messages(std::string(kHello));
  no_version.headers.erase(no_version.headers.begin() + 1);
  EXPECT_EQ(Route(no_version, state_).status, 400);

  Reply no_max =
      Route(Messages(R"({"model":"m","messages":[{"role":"user","content":"x"}]})"), state_);
  EXPECT_EQ(no_max.status, 400);
  EXPECT_EQ(json::parse(no_max.body).at("error").at("type"), "invalid_request_error");

  HttpRequest unknown = Messages("{}");
  unknown.target = "/v1/nothing";
  Reply not_found = Route(unknown, state_);
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(json::parse(not_found.body).at("error").at("type"), "not_found_error");
}

TEST_F(AnthropicWireTest, StructuredOutputIsJsonForTheSchema) {
  constexpr std::string_view kSchema =
      R"({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},
          "required":["city","days"],"additionalProperties":false})";
  // output_config.format (GA) and the beta's top-level output_format answer alike.
  for (std::string_view field : {R"("output_config":{"format":{"type":"json_schema","schema":)",
                                 R"("output_format":{"type":"json_schema","schema":)"}) {
    std::string body = R"({"model":"instant","max_tokens":256,)" + std::string(field) +
                       std::string(kSchema) +
                       (field.find("config") != std::string_view::npos ? "}}," : "},") +
                       R"("messages":[{"role":"user","content":"Plan a trip"}]})";
    Reply reply = Route(Messages(body), state_);
    ASSERT_EQ(reply.status, 200) << body << " -> " << reply.body;
    json::object message = json::parse(reply.body).as_object();
    EXPECT_EQ(message.at("stop_reason"), "end_turn");
    json::value parsed = json::parse(message.at("content").at(0).at("text").as_string());
    EXPECT_TRUE(parsed.at("city").is_string()) << parsed;
    EXPECT_TRUE(parsed.at("days").is_int64()) << parsed;
  }
}

TEST_F(AnthropicWireTest, StructuredOutputValidation) {
  struct Case {
    std::string format;
    std::string message;
  };
  std::vector<Case> cases = {
      {R"("output_config":{"format":{"type":"json_object"}})",
       "output_config.format: Input tag 'json_object' found using 'type' does not match any of "
       "the expected tags: 'json_schema'"},
      {R"("output_config":{"format":{"type":"json_schema"}})",
       "output_config.format.schema: Field required"},
      {R"("output_config":{"format":{"schema":{}}})", "output_config.format.type: Field required"},
      {R"("output_config":"json")", "output_config: Input should be a valid dictionary"},
      {R"("output_format":{"type":"json_schema","schema":[]})",
       "output_format.schema: Input should be a valid dictionary"},
  };
  for (const auto& c : cases) {
    Reply reply = Route(Messages(R"({"model":"m","max_tokens":16,)" + c.format +
                                 R"(,"messages":[{"role":"user","content":"x"}]})"),
                        state_);
    EXPECT_EQ(reply.status, 400) << c.format;
    json::object error = json::parse(reply.body).at("error").as_object();
    EXPECT_EQ(error.at("type"), "invalid_request_error");
    EXPECT_EQ(error.at("message").as_string(), c.message);
  }
}

TEST_F(AnthropicWireTest, CountTokens) {
  HttpRequest count = Messages(R"({"model":"instant","system":"Be brief",
      "messages":[{"role":"user","content":"Hello"}]})");
  count.target = "/v1/messages/count_tokens";
  Reply reply = Route(count, state_);
  ASSERT_EQ(reply.status, 200) << reply.body;
  // system: 3 + 2 ("Be brief"); user: 3 + 2 ("Hello").
  EXPECT_EQ(json::parse(reply.body), (json::object{{"input_tokens", 10}}));
  // The same body sent to /messages reports the same input tokens.
  Reply answer = Route(Messages(R"({"model":"instant","max_tokens":64,"system":"Be brief",
      "messages":[{"role":"user","content":"Hello"}]})"),
                       state_);
  EXPECT_EQ(json::parse(answer.body).at("usage").at("input_tokens"), 10);

  for (std::string body :
       {std::string(R"({"messages":[{"role":"user","content":"x"}]})"),
        std::string(R"({"model":"m","messages":[]})"),
        std::string(R"({"model":"m","messages":[{"role":"bot","content":"x"}]})"),
        std::string("not json")}) {
    HttpRequest bad = Messages(body);
    bad.target = "/v1/messages/count_tokens";
    Reply error = Route(bad, state_);
    EXPECT_EQ(error.status, 400) << body;
    EXPECT_EQ(json::parse(error.body).at("error").at("type"), "invalid_request_error") << body;
  }
  HttpRequest no_key = count;
  no_key.headers.erase(no_key.headers.begin());
  EXPECT_EQ(Route(no_key, state_).status, 401);
}

TEST_F(AnthropicWireTest, OverloadedFault) {
  (void)state_.AddFaults(*ParseFaults(json::parse(R"({"model":"*","status":529})")));
  Reply reply = Route(Messages(std::string(kHello)), state_);
  EXPECT_EQ(reply.status, 529);
  EXPECT_EQ(json::parse(reply.body).at("error").at("type"), "overloaded_error");
}

}  // namespace
}  // namespace sy::emulator
