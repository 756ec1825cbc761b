#include "api/openai/decode.h"

#include <gtest/gtest.h>

namespace sy::api::openai {
namespace {

core::Status Decode(std::string_view body, core::Request& out) {
  return DecodeChatRequest(body, 64, out);
}

core::Error DecodeError(std::string_view body) {
  core::Request out;
  auto status = Decode(body, out);
  EXPECT_FALSE(status.has_value()) << body;
  return status.has_value() ? core::Error{} : status.error();
}

TEST(DecodeChatRequest, AcceptsAMinimalRequestAndKeepsUnknownFields) {
  core::Request out;
  ASSERT_TRUE(Decode(R"({"model":"economy","messages":[{"role":"user","content":"hi"}],
                         "seed":7,"logit_bias":{"50256":-100}})",
                     out));
  EXPECT_EQ(out.model, "economy");
  EXPECT_FALSE(out.stream);
  EXPECT_EQ(out.dialect, core::Dialect::kOpenAiChat);
  EXPECT_EQ(out.body.at("seed").as_int64(), 7);  // passed through untouched
  EXPECT_TRUE(out.body.contains("logit_bias"));
}

TEST(DecodeChatRequest, ReadsStreamAndIncludeUsage) {
  core::Request out;
  ASSERT_TRUE(Decode(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,
                         "stream_options":{"include_usage":true}})",
                     out));
  EXPECT_TRUE(out.stream);
  EXPECT_TRUE(out.include_usage);
}

TEST(DecodeChatRequest, AssistantMessageMayOmitContentWhenCallingTools) {
  core::Request out;
  EXPECT_TRUE(Decode(R"({"model":"m","messages":[{"role":"user","content":"x"},
      {"role":"assistant","tool_calls":[{"id":"c1","type":"function",
        "function":{"name":"f","arguments":"{}"}}]},
      {"role":"tool","tool_call_id":"c1","content":"42"}]})",
                     out));
}

TEST(DecodeChatRequest, NamesTheOffendingParameter) {
  EXPECT_EQ(DecodeError(R"({"messages":[]})").param, "model");
  EXPECT_EQ(DecodeError(R"({"model":"m"})").param, "messages");
  EXPECT_EQ(DecodeError(R"({"model":"m","messages":"hi"})").param, "messages");
  EXPECT_EQ(DecodeError(R"({"model":"m","messages":[]})").param, "messages");
  EXPECT_EQ(DecodeError(R"({"model":7,"messages":[{"role":"user","content":"x"}]})").param,
            "model");
  EXPECT_EQ(DecodeError(R"({"model":"m","messages":[{"content":"x"}]})").param, "messages[0].role");
  EXPECT_EQ(DecodeError(R"({"model":"m","messages":[{"role":"robot","content":"x"}]})").param,
            "messages[0].role");
  EXPECT_EQ(DecodeError(R"({"model":"m","messages":[{"role":"user","content":5}]})").param,
            "messages[0].content");
  EXPECT_EQ(DecodeError(R"({"model":"m","messages":[{"role":"tool","content":"5"}]})").param,
            "messages[0].tool_call_id");
  EXPECT_EQ(DecodeError(R"({"model":"m","messages":[{"role":"user","content":"x"}],
                           "stream":"yes"})")
                .param,
            "stream");
  // A string was once taken for false.
  EXPECT_EQ(DecodeError(R"({"model":"m","messages":[{"role":"user","content":"x"}],
                           "stream":true,"stream_options":{"include_usage":"yes"}})")
                .param,
            "stream_options.include_usage");
  EXPECT_EQ(DecodeError(R"({"model":"m","messages":[{"role":"user","content":"x"}],
                           "stream_options":[]})")
                .param,
            "stream_options");
  EXPECT_EQ(DecodeError(R"({"model":"m","messages":[{"role":"user","content":"x"}],"n":0})").param,
            "n");
  EXPECT_EQ(DecodeError(R"({"model":"m","messages":[{"role":"user","content":"x"}],
                           "tools":[{"type":"function","function":{}}]})")
                .param,
            "tools[0].function.name");
}

TEST(DecodeChatRequest, RejectsWhatIsNotAJsonObject) {
  EXPECT_EQ(DecodeError("{not json").code, core::Errc::kInvalidRequest);
  EXPECT_EQ(DecodeError("[1,2]").code, core::Errc::kInvalidRequest);
  EXPECT_EQ(DecodeError(R"({"model":"m"} trailing)").code, core::Errc::kInvalidRequest);
  EXPECT_EQ(DecodeError("").code, core::Errc::kInvalidRequest);
}

TEST(DecodeChatRequest, RejectsInvalidUtf8) {
  const std::string body =
      "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xC3\x28\"}]}";
  EXPECT_NE(DecodeError(body).message.find("not valid JSON"), std::string::npos);
}

// Regression (issue 15, hole 11): values outside OpenAI's documented ranges reached the upstream.
TEST(DecodeChatRequest, RejectsValuesOutsideTheDocumentedRanges) {
  const std::string head = R"({"model":"m","messages":[{"role":"user","content":"hi"}],)";
  const std::pair<std::string, std::string> cases[] = {
      {R"("max_tokens":2147483648})",
       "Invalid 'max_tokens': integer above maximum value. Expected a value <= 2147483647, but "
       "got 2147483648 instead."},
      {R"("max_completion_tokens":18446744073709551615})",
       "Invalid 'max_completion_tokens': integer above maximum value. Expected a value <= "
       "2147483647, but got 18446744073709551615 instead."},
      {R"("temperature":2.5})",
       "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 "
       "instead."},
      {R"("temperature":-1})",
       "Invalid 'temperature': decimal below minimum value. Expected a value >= 0, but got -1 "
       "instead."},
      {R"("top_p":1.5})",
       "Invalid 'top_p': decimal above maximum value. Expected a value <= 1, but got 1.5 "
       "instead."},
      {R"("presence_penalty":-3})",
       "Invalid 'presence_penalty': decimal below minimum value. Expected a value >= -2, but got "
       "-3 instead."},
  };
  for (const auto& [tail, message] : cases) {
    const auto e = DecodeError(head + tail);
    EXPECT_EQ(e.code, core::Errc::kInvalidRequest) << tail;
    EXPECT_EQ(e.message, message) << tail;
  }
  core::Request out;
  EXPECT_TRUE(Decode(head + R"("max_tokens":2147483647,"temperature":2,"top_p":0})", out));
}

// Regression (issue 15, hole 2): an 8 MiB role came back whole in the error message.
TEST(DecodeChatRequest, AnInvalidRoleIsEchoedOnlyInPart) {
  const std::string role(8 * 1024 * 1024, 'r');
  const auto e =
      DecodeError(R"({"model":"m","messages":[{"role":")" + role + R"(","content":"x"}]})");
  EXPECT_EQ(e.param, "messages[0].role");
  EXPECT_LT(e.message.size(), 512u);
  EXPECT_NE(e.message.find("[cut, 8388608 bytes]"), std::string::npos);
}

}  // namespace
}  // namespace sy::api::openai
