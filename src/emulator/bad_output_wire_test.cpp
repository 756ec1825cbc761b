// bad_output faults through the three wire formats, JSON and SSE: the envelope stays what the
// dialect always sends, the content fails the intended check, and usage counts that content.
#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "emulator/bad_output.h"
#include "emulator/router.h"
#include "emulator/text_gen.h"

namespace sy::emulator {
namespace {

namespace json = boost::json;

constexpr std::string_view kOutputs[] = {"invalid_json", "schema_violation", "empty", "refusal",
                                         "ungrounded"};

constexpr std::string_view kSchema =
    R"({"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},
        "required":["city","days"],"additionalProperties":false})";

constexpr std::string_view kLookupSchema =
    R"({"type":"object","properties":{"q":{"type":"string"}},"required":["q"]})";

bool Parses(std::string_view text) {
  boost::system::error_code ec;
  (void)json::parse(text, ec);
  return !ec;
}

// What an answer says, read back from one dialect's JSON or stream.
struct Said {
  std::string text;      // the text, or the refusal
  bool refusal = false;  // it sits where the dialect puts refusals
  std::string finish;    // finish_reason, stop_reason or the Response status
  int64_t output_tokens = 0;

  bool operator==(const Said&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Said& s) {
  return os << "{" << s.text << ", refusal " << s.refusal << ", " << s.finish << ", "
            << s.output_tokens << "}";
}

// The content fails `output`'s check, and the usage counts it (text_gen.h's token model).
void ExpectFails(std::string_view output, const Said& said) {
  SCOPED_TRACE(std::string(output));
  int64_t json_tokens = static_cast<int64_t>(SplitIntoPieces(said.text).size());
  if (output == "invalid_json") {
    EXPECT_FALSE(said.text.empty());
    EXPECT_FALSE(Parses(said.text)) << said.text;
    EXPECT_EQ(said.output_tokens, json_tokens);
  } else if (output == "schema_violation") {
    json::value answer = json::parse(said.text);
    EXPECT_FALSE(answer.as_object().contains("city")) << answer;  // required by the schema
    EXPECT_TRUE(answer.at("days").is_int64()) << answer;
    EXPECT_EQ(said.output_tokens, json_tokens);
  } else if (output == "empty") {
    EXPECT_EQ(said.text, "");
    EXPECT_EQ(said.output_tokens, 0);
  } else if (output == "refusal") {
    EXPECT_EQ(said.text, kRefusalText);
    EXPECT_EQ(said.output_tokens, 9);
  } else {
    EXPECT_EQ(said.text, kUngroundedText);
    EXPECT_EQ(said.output_tokens, 24);
  }
  EXPECT_EQ(said.refusal, output == "refusal");
}

// The JSON payloads of an SSE stream, "[DONE]" skipped; every event is framed as SSE.
std::vector<json::object> Payloads(const Reply& reply) {
  EXPECT_TRUE(reply.stream);
  std::vector<json::object> payloads;
  for (const auto& event : reply.events) {
    const std::string& bytes = event.bytes;
    EXPECT_EQ(bytes.substr(bytes.size() - 2), "\n\n");
    size_t data = bytes.find("data: ");
    std::string payload = bytes.substr(data + 6, bytes.size() - data - 8);
    if (payload == "[DONE]") continue;
    payloads.push_back(json::parse(payload).as_object());
  }
  return payloads;
}

class BadOutputWireTest : public ::testing::Test {
 protected:
  // Registers a one-shot bad_output fault, then routes the request.
  Reply Struck(std::string_view output, HttpRequest request) {
    (void)state_.AddFaults(*ParseFaults(json::object{
        {"model", "instant"}, {"kind", "bad_output"}, {"output", output}, {"count", 1}}));
    Reply reply = Route(request, state_);
    EXPECT_EQ(reply.status, 200) << reply.body;
    EXPECT_TRUE(state_.ListFaults().empty());
    return reply;
  }

  State state_{ProfileTable()};
};

// ---- OpenAI Chat Completions ----

HttpRequest Chat(std::string_view fields, bool stream) {
  HttpRequest request;
  request.method = "POST";
  request.target = "/v1/chat/completions";
  request.headers = {{"authorization", "Bearer sk-test"}};
  request.body = R"({"model":"instant","messages":[{"role":"user","content":"Plan a trip"}],)" +
                 std::string(fields) +
                 (stream ? R"(,"stream":true,"stream_options":{"include_usage":true}})" : "}");
  return request;
}

std::string ChatFormat() {
  return R"("response_format":{"type":"json_schema","json_schema":{"name":"trip","schema":)" +
         std::string(kSchema) + "}}";
}

Said ChatJson(const Reply& reply) {
  json::object body = json::parse(reply.body).as_object();
  EXPECT_EQ(body.at("object"), "chat.completion");
  EXPECT_EQ(body.at("id").as_string().subview(0, 9), "chatcmpl-");
  const json::object& usage = body.at("usage").as_object();
  EXPECT_EQ(usage.at("total_tokens").as_int64(),
            usage.at("prompt_tokens").as_int64() + usage.at("completion_tokens").as_int64());
  const json::object& choice = body.at("choices").at(0).as_object();
  const json::object& message = choice.at("message").as_object();
  Said said;
  said.refusal = !message.at("refusal").is_null();
  if (said.refusal) {
    EXPECT_TRUE(message.at("content").is_null());
  }
  said.text = said.refusal ? message.at("refusal").as_string() : message.at("content").as_string();
  said.finish = choice.at("finish_reason").as_string();
  said.output_tokens = usage.at("completion_tokens").as_int64();
  return said;
}

Said ChatStream(const Reply& reply) {
  EXPECT_EQ(reply.events.back().bytes, "data: [DONE]\n\n");
  Said said;
  for (const auto& chunk : Payloads(reply)) {
    EXPECT_EQ(chunk.at("object"), "chat.completion.chunk");
    if (!chunk.at("usage").is_null())
      said.output_tokens = chunk.at("usage").at("completion_tokens").as_int64();
    if (chunk.at("choices").as_array().empty()) continue;
    const json::object& choice = chunk.at("choices").at(0).as_object();
    const json::object& delta = choice.at("delta").as_object();
    if (const json::value* c = delta.if_contains("content"); c && c->is_string()) {
      said.text += c->as_string();
    }
    if (const json::value* r = delta.if_contains("refusal"); r && r->is_string()) {
      said.refusal = true;
      said.text += r->as_string();
    }
    if (!choice.at("finish_reason").is_null()) said.finish = choice.at("finish_reason").as_string();
  }
  return said;
}

TEST_F(BadOutputWireTest, ChatCompletions) {
  for (std::string_view output : kOutputs) {
    Said json_said = ChatJson(Struck(output, Chat(ChatFormat(), false)));
    ExpectFails(output, json_said);
    EXPECT_EQ(json_said.finish, "stop");
    EXPECT_EQ(ChatStream(Struck(output, Chat(ChatFormat(), true))), json_said);
  }
  // Without a schema, schema_violation is an unexpected object and invalid_json a cut one.
  EXPECT_EQ(ChatJson(Struck("schema_violation", Chat(R"("n":1)", false))).text,
            kUnexpectedJsonText);
  EXPECT_EQ(ChatJson(Struck("invalid_json", Chat(R"("n":1)", false))).text, kCutJsonText);
}

std::string ChatTools() {
  return R"("tool_choice":"required","tools":[{"type":"function","function":{"name":"lookup",
      "parameters":)" +
         std::string(kLookupSchema) + "}}]";
}

// (name, arguments) of the tool calls, from the JSON body or the stream's deltas.
std::map<std::string, std::string> ChatCalls(const Reply& reply) {
  std::map<std::string, std::string> calls;
  if (!reply.stream) {
    json::value body = json::parse(reply.body);
    const json::object& choice = body.at("choices").at(0).as_object();
    EXPECT_EQ(choice.at("finish_reason"), "tool_calls");
    for (const auto& call : choice.at("message").at("tool_calls").as_array()) {
      calls[std::string(call.at("function").at("name").as_string())] =
          call.at("function").at("arguments").as_string();
    }
    return calls;
  }
  std::string name;
  for (const auto& chunk : Payloads(reply)) {
    if (chunk.at("choices").as_array().empty()) continue;
    const json::value* tool_calls =
        chunk.at("choices").at(0).at("delta").as_object().if_contains("tool_calls");
    if (tool_calls == nullptr) continue;
    const json::object& fn = tool_calls->at(0).at("function").as_object();
    if (const json::value* n = fn.if_contains("name")) name = n->as_string();
    calls[name] += fn.at("arguments").as_string();
  }
  return calls;
}

TEST_F(BadOutputWireTest, ChatToolArguments) {
  for (bool stream : {false, true}) {
    auto invalid = ChatCalls(Struck("invalid_json", Chat(ChatTools(), stream)));
    ASSERT_EQ(invalid.size(), 1U);
    EXPECT_FALSE(Parses(invalid["lookup"])) << invalid["lookup"];
    auto violation = ChatCalls(Struck("schema_violation", Chat(ChatTools(), stream)));
    EXPECT_EQ(violation["lookup"], "{}");  // "q" is required
  }
}

// ---- OpenAI Responses ----

HttpRequest Responses(std::string_view fields, bool stream) {
  HttpRequest request;
  request.method = "POST";
  request.target = "/v1/responses";
  request.headers = {{"authorization", "Bearer sk-test"}};
  request.body = R"({"model":"instant","input":"Plan a trip",)" + std::string(fields) +
                 (stream ? R"(,"stream":true})" : "}");
  return request;
}

std::string ResponsesFormat() {
  return R"("text":{"format":{"type":"json_schema","name":"trip","schema":)" +
         std::string(kSchema) + "}}";
}

Said ResponseSaid(const json::object& response) {
  EXPECT_EQ(response.at("object"), "response");
  const json::object& usage = response.at("usage").as_object();
  EXPECT_EQ(usage.at("total_tokens").as_int64(),
            usage.at("input_tokens").as_int64() + usage.at("output_tokens").as_int64());
  const json::object& item = response.at("output").at(0).as_object();
  EXPECT_EQ(item.at("type"), "message");
  const json::object& part = item.at("content").at(0).as_object();
  Said said;
  said.refusal = part.at("type") == "refusal";
  if (!said.refusal) {
    EXPECT_EQ(part.at("type"), "output_text");
  }
  said.text = part.at(said.refusal ? "refusal" : "text").as_string();
  said.finish = response.at("status").as_string();
  said.output_tokens = usage.at("output_tokens").as_int64();
  return said;
}

// The deltas must add up to the final Response the stream ends with.
Said ResponsesStream(const Reply& reply) {
  std::vector<json::object> events = Payloads(reply);
  EXPECT_EQ(events.front().at("type"), "response.created");
  EXPECT_EQ(events.back().at("type"), "response.completed");
  std::string deltas;
  std::string done;
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].at("sequence_number"), static_cast<int64_t>(i));
    std::string_view type = events[i].at("type").as_string();
    if (type == "response.output_text.delta" || type == "response.refusal.delta") {
      deltas += events[i].at("delta").as_string();
    }
    if (type == "response.output_text.done") done = events[i].at("text").as_string();
    if (type == "response.refusal.done") done = events[i].at("refusal").as_string();
  }
  Said said = ResponseSaid(events.back().at("response").as_object());
  EXPECT_EQ(deltas, said.text);
  EXPECT_EQ(done, said.text);
  return said;
}

TEST_F(BadOutputWireTest, Responses) {
  for (std::string_view output : kOutputs) {
    Said json_said = ResponseSaid(
        json::parse(Struck(output, Responses(ResponsesFormat(), false)).body).as_object());
    ExpectFails(output, json_said);
    EXPECT_EQ(json_said.finish, "completed");
    EXPECT_EQ(ResponsesStream(Struck(output, Responses(ResponsesFormat(), true))), json_said);
  }
}

TEST_F(BadOutputWireTest, ResponsesRefusalEvents) {
  std::vector<std::string> types;
  for (const auto& event : Payloads(Struck("refusal", Responses(R"("store":false)", true)))) {
    std::string type(event.at("type").as_string());
    if (type.find("refusal") != std::string::npos ||
        type.find("output_text") != std::string::npos) {
      types.push_back(type);
    }
  }
  ASSERT_GE(types.size(), 2U);
  EXPECT_EQ(types.front(), "response.refusal.delta");
  EXPECT_EQ(types.back(), "response.refusal.done");
}

TEST_F(BadOutputWireTest, ResponsesToolArguments) {
  std::string tools = R"("tool_choice":"required","tools":[{"type":"function","name":"lookup",
      "parameters":)" +
                      std::string(kLookupSchema) + "}]";
  for (std::string_view output : {"invalid_json", "schema_violation"}) {
    json::object response = json::parse(Struck(output, Responses(tools, false)).body).as_object();
    const json::object& call = response.at("output").at(0).as_object();
    EXPECT_EQ(call.at("type"), "function_call");
    std::string arguments(call.at("arguments").as_string());
    if (output == "invalid_json") {
      EXPECT_FALSE(Parses(arguments)) << arguments;
    } else {
      EXPECT_EQ(arguments, "{}");
    }
    std::string streamed;
    for (const auto& event : Payloads(Struck(output, Responses(tools, true)))) {
      if (event.at("type") == "response.function_call_arguments.delta") {
        streamed += event.at("delta").as_string();
      }
    }
    EXPECT_EQ(streamed, arguments);
  }
}

// ---- Anthropic Messages ----

HttpRequest Messages(std::string_view fields, bool stream) {
  HttpRequest request;
  request.method = "POST";
  request.target = "/v1/messages";
  request.headers = {{"x-api-key", "sk-ant-test"}, {"anthropic-version", "2023-06-01"}};
  request.body =
      R"({"model":"instant","max_tokens":512,"messages":[{"role":"user","content":"Plan a trip"}],)" +
      std::string(fields) + (stream ? R"(,"stream":true})" : "}");
  return request;
}

std::string MessagesFormat() {
  return R"("output_config":{"format":{"type":"json_schema","schema":)" + std::string(kSchema) +
         "}}";
}

Said MessageJson(const Reply& reply) {
  json::object body = json::parse(reply.body).as_object();
  EXPECT_EQ(body.at("type"), "message");
  EXPECT_EQ(body.at("id").as_string().subview(0, 4), "msg_");
  const json::array& content = body.at("content").as_array();
  EXPECT_EQ(content.size(), 1U);
  EXPECT_EQ(content.at(0).at("type"), "text");
  Said said;
  said.text = content.at(0).at("text").as_string();
  said.finish = body.at("stop_reason").as_string();
  said.refusal = said.finish == "refusal";
  said.output_tokens = body.at("usage").at("output_tokens").as_int64();
  return said;
}

struct Streamed {
  Said said;
  std::string partial_json;  // the input_json_delta pieces, joined
};

Streamed MessageStream(const Reply& reply) {
  std::vector<json::object> events = Payloads(reply);
  EXPECT_EQ(events.front().at("type"), "message_start");
  EXPECT_EQ(events.back().at("type"), "message_stop");
  Streamed out;
  for (const auto& event : events) {
    if (event.at("type") == "content_block_delta") {
      const json::object& delta = event.at("delta").as_object();
      if (delta.at("type") == "text_delta") out.said.text += delta.at("text").as_string();
      if (delta.at("type") == "input_json_delta") {
        out.partial_json += delta.at("partial_json").as_string();
      }
    }
    if (event.at("type") == "message_delta") {
      out.said.finish = event.at("delta").at("stop_reason").as_string();
      out.said.output_tokens = event.at("usage").at("output_tokens").as_int64();
    }
  }
  out.said.refusal = out.said.finish == "refusal";
  return out;
}

TEST_F(BadOutputWireTest, AnthropicMessages) {
  for (std::string_view output : kOutputs) {
    Said json_said = MessageJson(Struck(output, Messages(MessagesFormat(), false)));
    ExpectFails(output, json_said);
    EXPECT_EQ(json_said.finish, output == "refusal" ? "refusal" : "end_turn");
    EXPECT_EQ(MessageStream(Struck(output, Messages(MessagesFormat(), true))).said, json_said);
  }
}

TEST_F(BadOutputWireTest, AnthropicForcedTool) {
  std::string tools = R"("tool_choice":{"type":"tool","name":"lookup"},"tools":[{"name":"lookup",
      "input_schema":)" +
                      std::string(kLookupSchema) + "}]";
  // invalid_json: the JSON body cannot hold unparsable tool input, so the model's JSON is text.
  Said text = MessageJson(Struck("invalid_json", Messages(tools, false)));
  EXPECT_EQ(text.finish, "end_turn");
  EXPECT_FALSE(Parses(text.text)) << text.text;
  EXPECT_EQ(text.output_tokens, static_cast<int64_t>(SplitIntoPieces(text.text).size()));
  // The stream sends it as input_json_delta pieces that do not parse once joined.
  Streamed streamed = MessageStream(Struck("invalid_json", Messages(tools, true)));
  EXPECT_EQ(streamed.said.finish, "tool_use");
  EXPECT_EQ(streamed.partial_json, text.text);
  EXPECT_EQ(streamed.said.output_tokens, text.output_tokens);

  // schema_violation: a tool_use whose input lacks the required "q".
  json::object body =
      json::parse(Struck("schema_violation", Messages(tools, false)).body).as_object();
  EXPECT_EQ(body.at("stop_reason"), "tool_use");
  EXPECT_EQ(body.at("content").at(0).at("type"), "tool_use");
  EXPECT_EQ(body.at("content").at(0).at("input"), json::value(json::object{}));
  EXPECT_EQ(MessageStream(Struck("schema_violation", Messages(tools, true))).partial_json, "{}");
}

TEST_F(BadOutputWireTest, StruckRequestsAreLoggedLikeAnyOther) {
  (void)Struck("empty", Chat(R"("n":1)", false));
  (void)Struck("refusal", Messages(R"("stop_sequences":[])", true));
  EXPECT_EQ(state_.RequestsJson().at("requests").as_array().size(), 2U);
}

}  // namespace
}  // namespace sy::emulator
