#include "api/anthropic/decode.h"

#include <string>

#include <gtest/gtest.h>

namespace sy::api::anthropic {
namespace {

// A valid request plus `extra` top-level fields (a JSON fragment starting with a comma).
std::string Body(std::string_view extra = "") {
  return R"({"model":"claude","max_tokens":16,"messages":[{"role":"user","content":"hi"}])" +
         std::string(extra) + "}";
}

// A valid request whose messages are `messages` (a JSON array).
std::string WithMessages(std::string_view messages) {
  return R"({"model":"claude","max_tokens":16,"messages":)" + std::string(messages) + "}";
}

// A valid request whose one user message has `blocks` (a JSON array) as content.
std::string WithBlocks(std::string_view blocks) {
  return WithMessages(R"([{"role":"user","content":)" + std::string(blocks) + "}]");
}

core::Status Decode(std::string_view body, core::Request& out) {
  return DecodeMessagesRequest(body, 64, out);
}

core::Error DecodeError(std::string_view body) {
  core::Request out;
  auto status = Decode(body, out);
  EXPECT_FALSE(status.has_value()) << body;
  return status.has_value() ? core::Error{} : status.error();
}

void ExpectAccepted(std::string_view body) {
  core::Request out;
  auto status = Decode(body, out);
  EXPECT_TRUE(status.has_value()) << body << "\n -> " << status.error().message;
}

struct Bad {
  std::string body;
  std::string param;
  std::string message;
};

void ExpectRejected(const Bad& bad) {
  const core::Error e = DecodeError(bad.body);
  EXPECT_EQ(e.code, core::Errc::kInvalidRequest) << bad.body;
  EXPECT_EQ(e.param, bad.param) << bad.body;
  EXPECT_EQ(e.message, bad.message) << bad.body;
}

TEST(DecodeMessagesRequest, AcceptsAMinimalRequestAndKeepsUnknownFields) {
  core::Request out;
  ASSERT_TRUE(
      Decode(Body(R"(,"thinking":{"type":"enabled","budget_tokens":1024},"x_new":[1])"), out));
  EXPECT_EQ(out.dialect, core::Dialect::kAnthropicMessages);
  EXPECT_EQ(out.model, "claude");
  EXPECT_FALSE(out.stream);
  EXPECT_TRUE(out.include_usage);  // Anthropic streams always carry usage
  EXPECT_EQ(out.body.at("max_tokens").as_int64(), 16);
  EXPECT_EQ(out.body.at("thinking").at("budget_tokens").as_int64(), 1024);  // untouched
  EXPECT_EQ(out.body.at("x_new").at(0).as_int64(), 1);
}

TEST(DecodeCountTokensRequest, NeedsNoMaxTokensButChecksThePrompt) {
  core::Request out;
  auto ok = DecodeCountTokensRequest(
      R"({"model":"claude","messages":[{"role":"user","content":"hi"}],"system":"be brief"})", 64,
      out);
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(out.model, "claude");
  EXPECT_EQ(out.dialect, core::Dialect::kAnthropicMessages);
  auto bad =
      DecodeCountTokensRequest(R"({"model":"claude","messages":[{"role":"robot"}]})", 64, out);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().param, "messages.0.role");
  auto no_model = DecodeCountTokensRequest(R"({"messages":[]})", 64, out);
  ASSERT_FALSE(no_model.has_value());
  EXPECT_EQ(no_model.error().param, "model");
}

TEST(DecodeMessagesRequest, ReadsStream) {
  core::Request out;
  ASSERT_TRUE(Decode(Body(R"(,"stream":true)"), out));
  EXPECT_TRUE(out.stream);
  EXPECT_TRUE(out.include_usage);
}

TEST(DecodeMessagesRequest, LeavesTheRequestUnchangedOnFailure) {
  core::Request out;
  out.model = "before";
  EXPECT_FALSE(Decode(R"({"model":"claude","max_tokens":16})", out).has_value());
  EXPECT_EQ(out.model, "before");
  EXPECT_EQ(out.dialect, core::Dialect::kOpenAiChat);
  EXPECT_TRUE(out.body.empty());
}

TEST(DecodeMessagesRequest, AcceptsAFullConversation) {
  ExpectAccepted(R"({"model":"claude","max_tokens":1024,
    "system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
    "messages":[
      {"role":"user","content":[
        {"type":"text","text":"What is in these?"},
        {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0"}},
        {"type":"image","source":{"type":"url","url":"https://example.com/a.jpg"}},
        {"type":"image","source":{"type":"file","file_id":"file_011"}},
        {"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}]},
      {"role":"assistant","content":[
        {"type":"thinking","thinking":"hm","signature":"sig"},
        {"type":"redacted_thinking","data":"opaque"},
        {"type":"text","text":"Let me check."},
        {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},
        {"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}]},
      {"role":"user","content":[
        {"type":"tool_result","tool_use_id":"toolu_1","content":"15 C"},
        {"type":"tool_result","tool_use_id":"toolu_1","is_error":true,"content":[
          {"type":"text","text":"retry"},
          {"type":"image","source":{"type":"url","url":"https://example.com/b.gif"}},
          {"type":"search_result","source":"s","title":"t","content":[]}]},
        {"type":"tool_result","tool_use_id":"toolu_1"}]},
      {"role":"assistant","content":"The weather is"}],
    "tools":[
      {"name":"get_weather","description":"d","input_schema":{"type":"object","properties":{}}},
      {"type":"custom","name":"c","input_schema":{"type":"object"}},
      {"type":"web_search_20250305","name":"web_search","max_uses":5},
      {"type":"bash_20250124","name":"bash"}],
    "tool_choice":{"type":"tool","name":"get_weather","disable_parallel_tool_use":true},
    "stop_sequences":["\n\nHuman:"],"stream":false,"temperature":0.5,"top_p":0.9,"top_k":0,
    "metadata":{"user_id":"u1"}})");
}

TEST(DecodeMessagesRequest, AcceptsTheBoundariesAndNullOptionals) {
  ExpectAccepted(Body(R"(,"temperature":0,"top_k":40)"));
  ExpectAccepted(Body(R"(,"temperature":1)"));
  ExpectAccepted(Body(R"(,"temperature":1.0,"top_p":1)"));
  ExpectAccepted(Body(R"(,"system":"You are terse.")"));
  ExpectAccepted(Body(R"(,"system":[])"));
  ExpectAccepted(Body(R"(,"tools":[],"stop_sequences":[])"));
  for (const char* key : {"system", "tools", "tool_choice", "stop_sequences", "stream",
                          "temperature", "top_p", "top_k", "metadata"}) {
    ExpectAccepted(Body(std::string(R"(,")") + key + R"(":null)"));
  }
  for (const char* choice : {"auto", "any", "none"}) {
    ExpectAccepted(Body(std::string(R"(,"tool_choice":{"type":")") + choice + R"("})"));
  }
  ExpectAccepted(WithBlocks("[]"));
  ExpectAccepted(WithBlocks(R"([{"type":"tool_result","tool_use_id":"t","content":null}])"));
}

TEST(DecodeMessagesRequest, RejectsWhatIsNotAJsonObject) {
  ExpectRejected({"[1,2]", "", "The request body must be a JSON object."});
  ExpectRejected({R"("text")", "", "The request body must be a JSON object."});
  for (std::string_view body : {"{not json", R"({"model":"m"} trailing)", ""}) {
    const core::Error e = DecodeError(body);
    EXPECT_EQ(e.code, core::Errc::kInvalidRequest);
    EXPECT_EQ(e.param, "");
    EXPECT_EQ(e.message.rfind("The request body is not valid JSON (", 0), 0u) << e.message;
  }
  std::string deep = WithBlocks("[" + std::string(80, '[') + std::string(80, ']') + "]");
  EXPECT_EQ(DecodeError(deep).message, "The request body is nested deeper than 64 levels.");
}

TEST(DecodeMessagesRequest, RejectsBadRequiredTopLevelFields) {
  const Bad cases[] = {
      {R"({"max_tokens":16,"messages":[{"role":"user","content":"hi"}]})", "model",
       "model: Field required"},
      {R"({"model":7,"max_tokens":16,"messages":[{"role":"user","content":"hi"}]})", "model",
       "model: Input should be a valid string"},
      {R"({"model":null,"max_tokens":16,"messages":[{"role":"user","content":"hi"}]})", "model",
       "model: Input should be a valid string"},
      {R"({"model":"m","messages":[{"role":"user","content":"hi"}]})", "max_tokens",
       "max_tokens: Field required"},
      {R"({"model":"m","max_tokens":"16","messages":[{"role":"user","content":"hi"}]})",
       "max_tokens", "max_tokens: Input should be a valid integer"},
      {R"({"model":"m","max_tokens":16.5,"messages":[{"role":"user","content":"hi"}]})",
       "max_tokens", "max_tokens: Input should be a valid integer"},
      {R"({"model":"m","max_tokens":0,"messages":[{"role":"user","content":"hi"}]})", "max_tokens",
       "max_tokens: Input should be greater than or equal to 1"},
      {R"({"model":"m","max_tokens":-5,"messages":[{"role":"user","content":"hi"}]})", "max_tokens",
       "max_tokens: Input should be greater than or equal to 1"},
      {R"({"model":"m","max_tokens":16})", "messages", "messages: Field required"},
      {R"({"model":"m","max_tokens":16,"messages":{"role":"user"}})", "messages",
       "messages: Input should be a valid list"},
      {R"({"model":"m","max_tokens":16,"messages":[]})", "messages",
       "messages: List should have at least 1 item after validation, not 0"},
  };
  for (const auto& bad : cases) ExpectRejected(bad);
}

TEST(DecodeMessagesRequest, RejectsBadMessages) {
  const Bad cases[] = {
      {WithMessages(R"(["hi"])"), "messages.0",
       "messages.0: Input should be a valid dictionary or object to extract fields from"},
      {WithMessages(R"([{"content":"hi"}])"), "messages.0.role", "messages.0.role: Field required"},
      {WithMessages(R"([{"role":"user","content":"a"},{"role":"tool","content":"b"}])"),
       "messages.1.role", "messages.1.role: Input should be 'user', 'assistant' or 'system'"},
      {WithMessages(R"([{"role":"system","content":[{"type":"image"}]}])"),
       "messages.0.content.0.type", "messages.0.content.0.type: Input should be 'text'"},
      {WithMessages(R"([{"role":1,"content":"hi"}])"), "messages.0.role",
       "messages.0.role: Input should be 'user', 'assistant' or 'system'"},
      {WithMessages(R"([{"role":"user"}])"), "messages.0.content",
       "messages.0.content: Field required"},
      {WithMessages(R"([{"role":"user","content":5}])"), "messages.0.content",
       "messages.0.content: Input should be a valid string or a list of content blocks"},
      {WithMessages(R"([{"role":"user","content":null}])"), "messages.0.content",
       "messages.0.content: Input should be a valid string or a list of content blocks"},
  };
  for (const auto& bad : cases) ExpectRejected(bad);
}

TEST(DecodeMessagesRequest, RejectsBadContentBlocks) {
  const Bad cases[] = {
      {WithBlocks(R"(["hi"])"), "messages.0.content.0",
       "messages.0.content.0: Input should be a valid dictionary or object to extract fields "
       "from"},
      {WithBlocks(R"([{"text":"hi"}])"), "messages.0.content.0.type",
       "messages.0.content.0.type: Field required"},
      {WithBlocks(R"([{"type":3}])"), "messages.0.content.0.type",
       "messages.0.content.0.type: Input should be a valid string"},
      {WithBlocks(R"([{"type":"text","text":"a"},{"type":"text"}])"), "messages.0.content.1.text",
       "messages.0.content.1.text: Field required"},
      {WithBlocks(R"([{"type":"text","text":null}])"), "messages.0.content.0.text",
       "messages.0.content.0.text: Input should be a valid string"},
  };
  for (const auto& bad : cases) ExpectRejected(bad);
}

TEST(DecodeMessagesRequest, RejectsBadImageBlocks) {
  const Bad cases[] = {
      {WithBlocks(R"([{"type":"image"}])"), "messages.0.content.0.source",
       "messages.0.content.0.source: Field required"},
      {WithBlocks(R"([{"type":"image","source":"https://x"}])"), "messages.0.content.0.source",
       "messages.0.content.0.source: Input should be a valid dictionary or object to extract "
       "fields from"},
      {WithBlocks(R"([{"type":"image","source":{"data":"x"}}])"),
       "messages.0.content.0.source.type", "messages.0.content.0.source.type: Field required"},
      {WithBlocks(R"([{"type":"image","source":{"type":"path","path":"/etc"}}])"),
       "messages.0.content.0.source.type",
       "messages.0.content.0.source.type: Input tag 'path' found using 'type' does not match any "
       "of the expected tags: 'base64', 'url', 'file'"},
      {WithBlocks(R"([{"type":"image","source":{"type":"base64","data":"x"}}])"),
       "messages.0.content.0.source.media_type",
       "messages.0.content.0.source.media_type: Field required"},
      {WithBlocks(R"([{"type":"image","source":{"type":"base64","media_type":"image/bmp",
                      "data":"x"}}])"),
       "messages.0.content.0.source.media_type",
       "messages.0.content.0.source.media_type: Input should be 'image/jpeg', 'image/png', "
       "'image/gif' or 'image/webp'"},
      {WithBlocks(R"([{"type":"image","source":{"type":"base64","media_type":"image/webp"}}])"),
       "messages.0.content.0.source.data", "messages.0.content.0.source.data: Field required"},
      {WithBlocks(R"([{"type":"image","source":{"type":"url","url":5}}])"),
       "messages.0.content.0.source.url",
       "messages.0.content.0.source.url: Input should be a valid string"},
      {WithBlocks(R"([{"type":"image","source":{"type":"file"}}])"),
       "messages.0.content.0.source.file_id",
       "messages.0.content.0.source.file_id: Field required"},
  };
  for (const auto& bad : cases) ExpectRejected(bad);
}

TEST(DecodeMessagesRequest, RejectsBadToolUseAndToolResultBlocks) {
  const Bad cases[] = {
      {WithBlocks(R"([{"type":"tool_use","name":"f","input":{}}])"), "messages.0.content.0.id",
       "messages.0.content.0.id: Field required"},
      {WithBlocks(R"([{"type":"tool_use","id":"t","name":["f"],"input":{}}])"),
       "messages.0.content.0.name", "messages.0.content.0.name: Input should be a valid string"},
      {WithBlocks(R"([{"type":"tool_use","id":"t","name":"f"}])"), "messages.0.content.0.input",
       "messages.0.content.0.input: Field required"},
      {WithBlocks(R"([{"type":"tool_use","id":"t","name":"f","input":"{}"}])"),
       "messages.0.content.0.input",
       "messages.0.content.0.input: Input should be a valid dictionary"},
      {WithBlocks(R"([{"type":"tool_result","content":"x"}])"), "messages.0.content.0.tool_use_id",
       "messages.0.content.0.tool_use_id: Field required"},
      {WithBlocks(R"([{"type":"tool_result","tool_use_id":"t","content":{"text":"x"}}])"),
       "messages.0.content.0.content",
       "messages.0.content.0.content: Input should be a valid string or a list of content blocks"},
      {WithBlocks(R"([{"type":"tool_result","tool_use_id":"t","content":[{"type":"text"}]}])"),
       "messages.0.content.0.content.0.text",
       "messages.0.content.0.content.0.text: Field required"},
      {WithBlocks(R"([{"type":"tool_result","tool_use_id":"t","is_error":"yes"}])"),
       "messages.0.content.0.is_error",
       "messages.0.content.0.is_error: Input should be a valid boolean"},
  };
  for (const auto& bad : cases) ExpectRejected(bad);
}

TEST(DecodeMessagesRequest, NamesTheRightMessageAndBlock) {
  ExpectRejected({WithMessages(R"([{"role":"user","content":"a"},{"role":"assistant","content":"b"},
      {"role":"user","content":[{"type":"text","text":"c"},
        {"type":"image","source":{"type":"base64","media_type":"image/gif"}}]}])"),
                  "messages.2.content.1.source.data",
                  "messages.2.content.1.source.data: Field required"});
}

TEST(DecodeMessagesRequest, RejectsABadSystemPrompt) {
  const Bad cases[] = {
      {Body(R"(,"system":5)"), "system",
       "system: Input should be a valid string or a list of text blocks"},
      {Body(R"(,"system":["hi"])"), "system.0",
       "system.0: Input should be a valid dictionary or object to extract fields from"},
      {Body(R"(,"system":[{"type":"image","text":"x"}])"), "system.0.type",
       "system.0.type: Input should be 'text'"},
      {Body(R"(,"system":[{"type":"text","text":"a"},{"type":"text"}])"), "system.1.text",
       "system.1.text: Field required"},
  };
  for (const auto& bad : cases) ExpectRejected(bad);
}

TEST(DecodeMessagesRequest, RejectsBadTools) {
  const Bad cases[] = {
      {Body(R"(,"tools":{"name":"f"})"), "tools", "tools: Input should be a valid list"},
      {Body(R"(,"tools":["f"])"), "tools.0",
       "tools.0: Input should be a valid dictionary or object to extract fields from"},
      {Body(R"(,"tools":[{"input_schema":{"type":"object"}}])"), "tools.0.name",
       "tools.0.name: Field required"},
      {Body(R"(,"tools":[{"name":"f","input_schema":{}},{"name":"g"}])"), "tools.1.input_schema",
       "tools.1.input_schema: Field required"},
      {Body(R"(,"tools":[{"type":"custom","name":"g","input_schema":"{}"}])"),
       "tools.0.input_schema",
       "tools.0.input_schema: Input should be a valid dictionary or object to extract fields "
       "from"},
      {Body(R"(,"tools":[{"type":7,"name":"g"}])"), "tools.0.type",
       "tools.0.type: Input should be a valid string"},
      {Body(R"(,"tools":[{"type":"web_search_20250305"}])"), "tools.0.name",
       "tools.0.name: Field required"},
  };
  for (const auto& bad : cases) ExpectRejected(bad);
}

TEST(DecodeMessagesRequest, RejectsABadToolChoice) {
  const Bad cases[] = {
      {Body(R"(,"tool_choice":"auto")"), "tool_choice",
       "tool_choice: Input should be a valid dictionary or object to extract fields from"},
      {Body(R"(,"tool_choice":{})"), "tool_choice.type", "tool_choice.type: Field required"},
      {Body(R"(,"tool_choice":{"type":"required"})"), "tool_choice.type",
       "tool_choice.type: Input tag 'required' found using 'type' does not match any of the "
       "expected tags: 'auto', 'any', 'tool', 'none'"},
      {Body(R"(,"tool_choice":{"type":"tool"})"), "tool_choice.name",
       "tool_choice.name: Field required"},
      {Body(R"(,"tool_choice":{"type":"tool","name":1})"), "tool_choice.name",
       "tool_choice.name: Input should be a valid string"},
      {Body(R"(,"tool_choice":{"type":"any","disable_parallel_tool_use":"true"})"),
       "tool_choice.disable_parallel_tool_use",
       "tool_choice.disable_parallel_tool_use: Input should be a valid boolean"},
  };
  for (const auto& bad : cases) ExpectRejected(bad);
}

TEST(DecodeMessagesRequest, RejectsBadSamplingAndOtherScalars) {
  const Bad cases[] = {
      {Body(R"(,"stop_sequences":"STOP")"), "stop_sequences",
       "stop_sequences: Input should be a valid list"},
      {Body(R"(,"stop_sequences":["a",1])"), "stop_sequences.1",
       "stop_sequences.1: Input should be a valid string"},
      {Body(R"(,"stream":"true")"), "stream", "stream: Input should be a valid boolean"},
      {Body(R"(,"temperature":"hot")"), "temperature",
       "temperature: Input should be a valid number"},
      {Body(R"(,"temperature":-0.1)"), "temperature",
       "temperature: Input should be greater than or equal to 0"},
      {Body(R"(,"temperature":1.5)"), "temperature",
       "temperature: Input should be less than or equal to 1"},
      {Body(R"(,"temperature":2)"), "temperature",
       "temperature: Input should be less than or equal to 1"},
      {Body(R"(,"top_p":true)"), "top_p", "top_p: Input should be a valid number"},
      {Body(R"(,"top_k":0.5)"), "top_k", "top_k: Input should be a valid integer"},
      {Body(R"(,"top_k":-1)"), "top_k", "top_k: Input should be greater than or equal to 0"},
      // Regression: 32-bit limits were left to the upstream.
      {Body(R"(,"top_k":2147483648)"), "top_k",
       "top_k: Input should be less than or equal to 2147483647"},
      {Body(R"(,"top_k":18446744073709551615)"), "top_k",
       "top_k: Input should be less than or equal to 2147483647"},
      {Body(R"(,"metadata":"u1")"), "metadata",
       "metadata: Input should be a valid dictionary or object to extract fields from"},
  };
  for (const auto& bad : cases) ExpectRejected(bad);
}

// Regression: an unknown tag (tool_choice.type, an image source's type) came back whole in the
// message, on any Anthropic request whatever model served it.
TEST(DecodeMessagesRequest, AnUnknownTagIsEchoedOnlyInPart) {
  const std::string tag(std::size_t{1} << 20, 't');
  const struct {
    std::string body;
    const char* param;
  } cases[] = {
      {Body(R"(,"tool_choice":{"type":")" + tag + R"("})"), "tool_choice.type"},
      {WithBlocks(R"([{"type":"image","source":{"type":")" + tag + R"("}}])"),
       "messages.0.content.0.source.type"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.param);
    const auto e = DecodeError(c.body);
    EXPECT_EQ(e.code, core::Errc::kInvalidRequest);
    EXPECT_EQ(e.param, c.param);
    EXPECT_LT(e.message.size(), 512u);
    EXPECT_NE(e.message.find("[cut, 1048576 bytes]"), std::string::npos);
  }
}

}  // namespace
}  // namespace sy::api::anthropic
