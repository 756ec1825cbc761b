// The Responses dialect, planned without sockets: validation, the Response object, the typed SSE
// sequence, tool calls and structured output.
#include "emulator/responses_wire.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "emulator/router.h"

namespace sy::emulator {
namespace {

namespace json = boost::json;

HttpRequest Responses(std::string body) {
  HttpRequest request;
  request.method = "POST";
  request.target = "/v1/responses";
  request.headers = {{"authorization", "Bearer sk-test"}, {"content-type", "application/json"}};
  request.body = std::move(body);
  return request;
}

struct Event {
  std::string name;
  json::object data;
};

// "event: NAME\ndata: JSON\n\n" events, parsed.
std::vector<Event> Events(const Reply& reply) {
  std::vector<Event> events;
  for (const auto& e : reply.events) {
    size_t nl = e.bytes.find('\n');
    EXPECT_EQ(e.bytes.rfind("event: ", 0), 0U);
    std::string name = e.bytes.substr(7, nl - 7);
    std::string data = e.bytes.substr(nl + 1);
    EXPECT_EQ(data.rfind("data: ", 0), 0U);
    events.push_back(Event{name, json::parse(data.substr(6)).as_object()});
  }
  return events;
}

class ResponsesWireTest : public ::testing::Test {
 protected:
  State state_{ProfileTable()};
};

TEST_F(ResponsesWireTest, JsonResponseShape) {
  Reply reply = Route(Responses(R"({"model":"instant","input":"Hi","instructions":"Be brief",
      "metadata":{"k":"v"}})"),
                      state_);
  ASSERT_EQ(reply.status, 200) << reply.body;
  json::object body = json::parse(reply.body).as_object();
  EXPECT_EQ(body.at("id").as_string().subview(0, 5), "resp_");
  EXPECT_EQ(body.at("object"), "response");
  EXPECT_TRUE(body.at("created_at").is_int64());
  EXPECT_EQ(body.at("status"), "completed");
  EXPECT_TRUE(body.at("error").is_null());
  EXPECT_TRUE(body.at("incomplete_details").is_null());
  EXPECT_EQ(body.at("model"), "instant");
  EXPECT_EQ(body.at("instructions"), "Be brief");
  EXPECT_EQ(body.at("metadata"), (json::object{{"k", "v"}}));
  EXPECT_EQ(body.at("tool_choice"), "auto");
  EXPECT_EQ(body.at("tools"), json::array());
  EXPECT_EQ(body.at("text").at("format"), (json::object{{"type", "text"}}));
  EXPECT_EQ(body.at("temperature"), 1.0);
  EXPECT_EQ(body.at("top_p"), 1.0);
  EXPECT_EQ(body.at("store"), true);
  EXPECT_EQ(body.at("parallel_tool_calls"), true);
  EXPECT_TRUE(body.at("previous_response_id").is_null());
  EXPECT_TRUE(body.at("max_output_tokens").is_null());
  EXPECT_EQ(body.at("truncation"), "disabled");
  const json::array& output = body.at("output").as_array();
  ASSERT_EQ(output.size(), 1U);
  const json::object& item = output[0].as_object();
  EXPECT_EQ(item.at("type"), "message");
  EXPECT_EQ(item.at("id").as_string().subview(0, 4), "msg_");
  EXPECT_EQ(item.at("status"), "completed");
  EXPECT_EQ(item.at("role"), "assistant");
  const json::object& part = item.at("content").at(0).as_object();
  EXPECT_EQ(part.at("type"), "output_text");
  EXPECT_FALSE(part.at("text").as_string().empty());
  EXPECT_EQ(part.at("annotations"), json::array());
  EXPECT_EQ(part.at("logprobs"), json::array());
  const json::object& usage = body.at("usage").as_object();
  // 3 + 2 ("Be brief") + 3 + 1 ("Hi") + 3 (reply primer), as Chat counts the same conversation.
  EXPECT_EQ(usage.at("input_tokens"), 12);
  EXPECT_EQ(usage.at("input_tokens_details").at("cached_tokens"), 0);
  EXPECT_EQ(usage.at("output_tokens_details").at("reasoning_tokens"), 0);
  EXPECT_EQ(usage.at("total_tokens").as_int64(),
            usage.at("input_tokens").as_int64() + usage.at("output_tokens").as_int64());
}

TEST_F(ResponsesWireTest, StreamSequence) {
  Reply reply = Route(Responses(R"({"model":"instant","input":"Hi","stream":true})"), state_);
  ASSERT_EQ(reply.status, 200);
  ASSERT_TRUE(reply.stream);
  std::vector<Event> events = Events(reply);
  ASSERT_GE(events.size(), 9U);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].data.at("type").as_string(), events[i].name);
    EXPECT_EQ(events[i].data.at("sequence_number"), static_cast<int64_t>(i));
  }
  std::vector<std::string> expected_head = {"response.created", "response.in_progress",
                                            "response.output_item.added",
                                            "response.content_part.added"};
  for (size_t i = 0; i < expected_head.size(); ++i) EXPECT_EQ(events[i].name, expected_head[i]);
  EXPECT_EQ(events[0].data.at("response").at("status"), "in_progress");
  EXPECT_EQ(events[2].data.at("item").at("content"), json::array());
  std::string text;
  size_t i = 4;
  for (; events[i].name == "response.output_text.delta"; ++i) {
    EXPECT_EQ(events[i].data.at("output_index"), 0);
    EXPECT_EQ(events[i].data.at("content_index"), 0);
    text += events[i].data.at("delta").as_string();
  }
  EXPECT_EQ(events[i].name, "response.output_text.done");
  EXPECT_EQ(events[i].data.at("text").as_string(), text);
  EXPECT_EQ(events[i + 1].name, "response.content_part.done");
  EXPECT_EQ(events[i + 2].name, "response.output_item.done");
  EXPECT_EQ(events[i + 3].name, "response.completed");
  ASSERT_EQ(events.size(), i + 4);
  const json::object& final = events.back().data.at("response").as_object();
  EXPECT_EQ(final.at("output").at(0).at("content").at(0).at("text").as_string(), text);
  // The same request answered without streaming says the same.
  Reply plain = Route(Responses(R"({"model":"instant","input":"Hi"})"), state_);
  EXPECT_EQ(json::parse(plain.body).at("output").at(0).at("content").at(0).at("text").as_string(),
            text);
}

TEST_F(ResponsesWireTest, MaxOutputTokensMakesItIncomplete) {
  Reply reply = Route(Responses(R"({"model":"instant","input":"Tell a story","max_output_tokens":16,
          "stream":true})"),
                      state_);
  std::vector<Event> events = Events(reply);
  EXPECT_EQ(events.back().name, "response.incomplete");
  const json::object& response = events.back().data.at("response").as_object();
  EXPECT_EQ(response.at("status"), "incomplete");
  EXPECT_EQ(response.at("incomplete_details").at("reason"), "max_output_tokens");
  EXPECT_EQ(response.at("usage").at("output_tokens"), 16);
  EXPECT_EQ(response.at("max_output_tokens"), 16);
}

TEST_F(ResponsesWireTest, FunctionCallRoundTrip) {
  std::string tools = R"([{"type":"function","name":"lookup","parameters":{"type":"object",
      "properties":{"q":{"type":"string"}},"required":["q"]}}])";
  Reply first = Route(Responses(R"({"model":"instant","input":"Look it up","tool_choice":
      "required","tools":)" + tools +
                                "}"),
                      state_);
  ASSERT_EQ(first.status, 200) << first.body;
  json::object body = json::parse(first.body).as_object();
  ASSERT_EQ(body.at("output").as_array().size(), 1U);
  const json::object& call = body.at("output").at(0).as_object();
  EXPECT_EQ(call.at("type"), "function_call");
  EXPECT_EQ(call.at("id").as_string().subview(0, 3), "fc_");
  EXPECT_EQ(call.at("call_id").as_string().subview(0, 5), "call_");
  EXPECT_EQ(call.at("name"), "lookup");
  EXPECT_EQ(call.at("status"), "completed");
  EXPECT_TRUE(json::parse(call.at("arguments").as_string()).at("q").is_string());
  EXPECT_EQ(body.at("tools").at(0).at("strict"), true);

  json::array input{json::object{{"role", "user"}, {"content", "Look it up"}}, call,
                    json::object{{"type", "function_call_output"},
                                 {"call_id", call.at("call_id")},
                                 {"output", "found 42"}}};
  json::object second_request{
      {"model", "instant"}, {"input", input}, {"tools", json::parse(tools)}, {"stream", true}};
  Reply second = Route(Responses(json::serialize(second_request)), state_);
  ASSERT_EQ(second.status, 200) << second.body;
  std::vector<Event> events = Events(second);
  const json::object& final = events.back().data.at("response").as_object();
  std::string text(final.at("output").at(0).at("content").at(0).at("text").as_string());
  EXPECT_EQ(text.rfind("The tool returned: found 42.", 0), 0U) << text;
}

TEST_F(ResponsesWireTest, StreamedFunctionCallEvents) {
  Reply reply = Route(Responses(R"({"model":"instant","input":"x","stream":true,
      "tools":[{"type":"function","name":"f","parameters":{"type":"object",
      "properties":{"city":{"type":"string"}}}}],"tool_choice":{"type":"function","name":"f"}})"),
                      state_);
  std::vector<Event> events = Events(reply);
  ASSERT_EQ(events[2].name, "response.output_item.added");
  EXPECT_EQ(events[2].data.at("item").at("type"), "function_call");
  EXPECT_EQ(events[2].data.at("item").at("arguments"), "");
  std::string arguments;
  size_t i = 3;
  for (; events[i].name == "response.function_call_arguments.delta"; ++i) {
    arguments += events[i].data.at("delta").as_string();
  }
  EXPECT_EQ(events[i].name, "response.function_call_arguments.done");
  EXPECT_EQ(events[i].data.at("arguments").as_string(), arguments);
  EXPECT_EQ(events[i + 1].name, "response.output_item.done");
  EXPECT_EQ(events[i + 1].data.at("item").at("arguments").as_string(), arguments);
  EXPECT_EQ(events[i + 2].name, "response.completed");
  EXPECT_TRUE(json::parse(arguments).at("city").is_string());
}

TEST_F(ResponsesWireTest, StructuredOutput) {
  Reply schema = Route(Responses(R"({"model":"instant","input":"x","text":{"format":{
      "type":"json_schema","name":"person","strict":true,"schema":{"type":"object",
      "properties":{"name":{"type":"string"},"age":{"type":"integer"}},
      "required":["name","age"],"additionalProperties":false}}}})"),
                       state_);
  ASSERT_EQ(schema.status, 200) << schema.body;
  json::object body = json::parse(schema.body).as_object();
  json::value parsed =
      json::parse(body.at("output").at(0).at("content").at(0).at("text").as_string());
  EXPECT_TRUE(parsed.at("name").is_string());
  EXPECT_TRUE(parsed.at("age").is_int64());
  EXPECT_EQ(body.at("text").at("format").at("name"), "person");

  Reply object = Route(
      Responses(R"({"model":"instant","input":"x","text":{"format":{"type":"json_object"}}})"),
      state_);
  json::value answer = json::parse(
      json::parse(object.body).at("output").at(0).at("content").at(0).at("text").as_string());
  EXPECT_TRUE(answer.is_object());
}

TEST_F(ResponsesWireTest, Errors) {
  struct Case {
    std::string body;
    std::string param;
    std::string message_start;
  };
  std::vector<Case> cases = {
      {R"({"input":"x"})", "model", "Missing required parameter: 'model'."},
      {R"({"model":"m"})", "input", "Missing required parameter: 'input'."},
      {R"({"model":"m","input":5})", "input", "Invalid type for 'input'"},
      {R"({"model":"m","input":[{"role":"tool","content":"x"}]})", "input[0].role",
       "Invalid value: 'tool'"},
      {R"({"model":"m","input":[{"role":"user","content":[{"type":"audio"}]}]})",
       "input[0].content[0].type", "Invalid value: 'audio'"},
      {R"({"model":"m","input":[{"type":"function_call","name":"f","arguments":"{}"}]})",
       "input[0].call_id", "Missing required parameter"},
      {R"({"model":"m","input":[{"type":"function_call_output","call_id":"c"}]})",
       "input[0].output", "Missing required parameter"},
      {R"({"model":"m","input":"x","tools":[{"type":"function"}]})", "tools[0].name",
       "Missing required parameter"},
      {R"({"model":"m","input":"x","tools":[{"type":"function","name":"f"}],
          "tool_choice":{"type":"function","name":"g"}})",
       "tool_choice", "Tool choice 'function' not found"},
      {R"({"model":"m","input":"x","tool_choice":"sometimes"})", "tool_choice", "Invalid value"},
      {R"({"model":"m","input":"x","text":{"format":{"type":"yaml"}}})", "text.format.type",
       "Invalid value: 'yaml'"},
      {R"({"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"n"}}})",
       "text.format.schema", "Missing required parameter"},
      {R"({"model":"m","input":"x","text":{"format":{"type":"json_schema","schema":{}}}})",
       "text.format.name", "Missing required parameter"},
      {R"({"model":"m","input":"x","max_output_tokens":5})", "max_output_tokens",
       "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but "
       "got 5 instead."},
      {R"({"model":"m","input":"x","temperature":3})", "temperature", "Invalid 'temperature'"},
      {R"({"model":"m","input":"x","top_p":-1})", "top_p", "Invalid 'top_p'"},
      {R"({"model":"m","input":"x","stream":"yes"})", "stream", "Invalid type for 'stream'"},
      {R"({"model":"m","input":"x","store":1})", "store", "Invalid type for 'store'"},
      {R"({"model":"m","input":"x","reasoning":{"effort":"max"}})", "reasoning.effort",
       "Invalid value: 'max'"},
      {R"({"model":"m","input":"x","metadata":{"k":1}})", "metadata.k", "Invalid type"},
      {R"({"model":"m","input":"x","parallel_tool_calls":"no"})", "parallel_tool_calls",
       "Invalid type"},
      {R"({"model":"m","input":"x","previous_response_id":"resp_123"})", "previous_response_id",
       "Previous response with id 'resp_123' not found."},
  };
  for (const auto& c : cases) {
    Reply reply = Route(Responses(c.body), state_);
    EXPECT_EQ(reply.status, 400) << c.body;
    json::object error = json::parse(reply.body).at("error").as_object();
    EXPECT_EQ(error.at("type"), "invalid_request_error") << c.body;
    EXPECT_EQ(error.at("param"), json::value(c.param)) << c.body;
    EXPECT_EQ(std::string(error.at("message").as_string()).rfind(c.message_start, 0), 0U)
        << c.body << " -> " << error.at("message");
  }
  HttpRequest no_key = Responses(R"({"model":"m","input":"x"})");
  no_key.headers.clear();
  EXPECT_EQ(Route(no_key, state_).status, 401);
}

TEST_F(ResponsesWireTest, FaultsApply) {
  Fault fault;
  fault.model = "instant";
  fault.status = 429;
  fault.count = 1;
  fault.retry_after_s = 2;
  state_.AddFaults({fault});
  Reply reply = Route(Responses(R"({"model":"instant","input":"x"})"), state_);
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(json::parse(reply.body).at("error").at("code"), "rate_limit_exceeded");
  EXPECT_EQ(Route(Responses(R"({"model":"instant","input":"x"})"), state_).status, 200);
}

}  // namespace
}  // namespace sy::emulator
