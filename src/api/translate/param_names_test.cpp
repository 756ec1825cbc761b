// The parameter an error names, in the client's own notation when the request was translated.
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "api/anthropic/errors.h"
#include "api/translate/translate.h"
#include "api/translate/translate_test_util.h"

namespace sy::api::translate {
namespace {

using core::Dialect;
using test_util::O;

constexpr Dialect kChat = Dialect::kOpenAiChat;
constexpr Dialect kAnthropic = Dialect::kAnthropicMessages;
constexpr Dialect kResponses = Dialect::kOpenAiResponses;

struct Case {
  Dialect client;
  Dialect upstream;
  std::string_view param;  // in the upstream's notation
  std::string_view body;   // the client's request
  std::string_view named;  // in the client's
};

template <size_t N>
void ExpectAllNamed(const Case (&cases)[N]) {
  for (const Case& c : cases) {
    EXPECT_EQ(ClientParam(c.client, c.upstream, c.param, O(c.body)), c.named)
        << core::DialectName(c.client) << " <- " << core::DialectName(c.upstream) << ": " << c.param
        << " " << c.body;
  }
}

// Regression: an Anthropic client's error named the Chat parameter its request was translated
// into ("stop" for its stop_sequences).
TEST(ClientParam, AnAnthropicClientGetsItsOwnNamesForChats) {
  constexpr std::string_view kBody = R"({"max_tokens":9})";
  const Case cases[] = {
      {kAnthropic, kChat, "stop", kBody, "stop_sequences"},
      {kAnthropic, kChat, "stop[2]", kBody, "stop_sequences.2"},
      {kAnthropic, kChat, "max_completion_tokens", kBody, "max_tokens"},
      {kAnthropic, kChat, "max_tokens", kBody, "max_tokens"},
      {kAnthropic, kChat, "tools[1].function.name", kBody, "tools.1.name"},
      {kAnthropic, kChat, "tools[1].function.parameters.properties", kBody,
       "tools.1.input_schema.properties"},
      {kAnthropic, kChat, "tools[1].type", kBody, "tools.1"},
      {kAnthropic, kChat, "tool_choice.function.name", kBody, "tool_choice"},
      {kAnthropic, kChat, "parallel_tool_calls", kBody, "tool_choice.disable_parallel_tool_use"},
      {kAnthropic, kChat, "response_format.json_schema.schema", kBody,
       "output_config.format.schema"},
      {kAnthropic, kChat, "response_format.json_schema.schema",
       R"({"output_format":{"type":"json_schema","schema":{}}})", "output_format.schema"},
      {kAnthropic, kChat, "response_format.type", kBody, "output_config.format"},
      {kAnthropic, kChat, "user", kBody, "metadata.user_id"},
      // Chat's messages hold Anthropic's system too, and a tool result is a message of its own:
      // an index into them is not the client's.
      {kAnthropic, kChat, "messages[2].content", kBody, "messages"},
      {kAnthropic, kChat, "temperature", kBody, "temperature"},
      {kAnthropic, kChat, "frobnicate", kBody, "frobnicate"},
  };
  ExpectAllNamed(cases);
}

TEST(ClientParam, AChatClientGetsItsOwnNamesForAnthropics) {
  const Case cases[] = {
      {kChat, kAnthropic, "stop_sequences", R"({"stop":["a","b"]})", "stop"},
      {kChat, kAnthropic, "stop_sequences.1", R"({"stop":["a","b"]})", "stop[1]"},
      {kChat, kAnthropic, "stop_sequences.0", R"({"stop":"a"})", "stop"},
      // The limit the client sent, in its own spelling (max_completion_tokens wins, as it does
      // in the translation).
      {kChat, kAnthropic, "max_tokens", R"({"max_completion_tokens":9})", "max_completion_tokens"},
      {kChat, kAnthropic, "max_tokens", R"({"max_tokens":9})", "max_tokens"},
      {kChat, kAnthropic, "max_tokens", R"({"max_tokens":9,"max_completion_tokens":null})",
       "max_tokens"},
      {kChat, kAnthropic, "max_tokens", R"({})", "max_tokens"},
      {kChat, kAnthropic, "tools.0.name", R"({"tools":[{}]})", "tools[0].function.name"},
      {kChat, kAnthropic, "tools.0.input_schema.type", R"({"tools":[{}]})",
       "tools[0].function.parameters.type"},
      // A tool past the client's own asks for the JSON answer.
      {kChat, kAnthropic, "tools.1.input_schema", R"({"tools":[{}],"response_format":{}})",
       "response_format"},
      {kChat, kAnthropic, "tools.0.input_schema", R"({"response_format":{}})", "response_format"},
      {kChat, kAnthropic, "tools.99999999999999999999999.name", R"({"tools":[{}]})",
       "response_format"},
      {kChat, kAnthropic, "tool_choice.disable_parallel_tool_use", R"({})", "parallel_tool_calls"},
      {kChat, kAnthropic, "tool_choice.name", R"({})", "tool_choice"},
      {kChat, kAnthropic, "output_config.format.schema.properties", R"({})",
       "response_format.json_schema.schema.properties"},
      {kChat, kAnthropic, "metadata.user_id", R"({})", "user"},
      {kChat, kAnthropic, "system.0.text", R"({})", "messages"},
      {kChat, kAnthropic, "messages.3.content.0", R"({})", "messages"},
      {kChat, kAnthropic, "top_p", R"({})", "top_p"},
      {kChat, kAnthropic, "thinking.budget_tokens", R"({})", "thinking.budget_tokens"},
  };
  ExpectAllNamed(cases);
}

TEST(ClientParam, ResponsesAndChatClientsGetTheirOwnNamesForEachOthers) {
  const Case cases[] = {
      {kResponses, kChat, "max_completion_tokens", R"({})", "max_output_tokens"},
      {kResponses, kChat, "max_tokens", R"({})", "max_output_tokens"},
      {kResponses, kChat, "response_format", R"({})", "text.format"},
      {kResponses, kChat, "response_format.type", R"({})", "text.format.type"},
      {kResponses, kChat, "response_format.json_schema.schema", R"({})", "text.format.schema"},
      {kResponses, kChat, "verbosity", R"({})", "text.verbosity"},
      {kResponses, kChat, "reasoning_effort", R"({})", "reasoning.effort"},
      {kResponses, kChat, "tools[2].function.parameters", R"({})", "tools[2].parameters"},
      {kResponses, kChat, "tool_choice.function.name", R"({})", "tool_choice"},
      {kResponses, kChat, "messages", R"({})", "input"},
      {kResponses, kChat, "messages[2].content", R"({})", "input"},
      {kResponses, kChat, "temperature", R"({})", "temperature"},

      {kChat, kResponses, "max_output_tokens", R"({"max_completion_tokens":9})",
       "max_completion_tokens"},
      {kChat, kResponses, "max_output_tokens", R"({"max_tokens":9})", "max_tokens"},
      {kChat, kResponses, "text.format", R"({})", "response_format"},
      {kChat, kResponses, "text.format.type", R"({})", "response_format.type"},
      {kChat, kResponses, "text.format.schema", R"({})", "response_format.json_schema.schema"},
      {kChat, kResponses, "text.verbosity", R"({})", "verbosity"},
      {kChat, kResponses, "reasoning.effort", R"({})", "reasoning_effort"},
      {kChat, kResponses, "tools[0].parameters", R"({})", "tools[0].function.parameters"},
      {kChat, kResponses, "tools[0].name", R"({})", "tools[0].function.name"},
      {kChat, kResponses, "instructions", R"({})", "messages"},
      {kChat, kResponses, "input[4].content[0].text", R"({})", "messages"},
      {kChat, kResponses, "store", R"({})", "store"},
  };
  ExpectAllNamed(cases);
}

TEST(ClientParam, TwoHopsGoThroughTheHubsName) {
  const Case cases[] = {
      {kAnthropic, kResponses, "max_output_tokens", R"({"max_tokens":9})", "max_tokens"},
      {kAnthropic, kResponses, "text.format.schema", R"({})", "output_config.format.schema"},
      {kAnthropic, kResponses, "input[3].content", R"({})", "messages"},
      {kAnthropic, kResponses, "tools[1].parameters", R"({})", "tools.1.input_schema"},
      {kAnthropic, kResponses, "temperature", R"({})", "temperature"},
      {kResponses, kAnthropic, "max_tokens", R"({})", "max_output_tokens"},
      {kResponses, kAnthropic, "output_config.format.schema", R"({})", "text.format.schema"},
      {kResponses, kAnthropic, "messages.2.content", R"({})", "input"},
      {kResponses, kAnthropic, "system", R"({})", "input"},
      // Without the hub's body the answer tool cannot be told from the client's: the array only.
      {kResponses, kAnthropic, "tools.0.input_schema", R"({"tools":[{}]})", "tools"},
      {kResponses, kAnthropic, "top_k", R"({})", "top_k"},
  };
  ExpectAllNamed(cases);
}

TEST(ClientParam, PassesWhatItCannotReadOrNeedNotRename) {
  const Case cases[] = {
      {kChat, kChat, "stop", R"({})", "stop"},
      {kAnthropic, kAnthropic, "max_tokens", R"({})", "max_tokens"},
      {kAnthropic, kChat, "", R"({})", ""},
      {kAnthropic, kChat, "anthropic-version", R"({})", "anthropic-version"},
      {kAnthropic, kChat, "stop[x]", R"({})", "stop[x]"},
      {kAnthropic, kChat, ".stop", R"({})", ".stop"},
      {kAnthropic, kChat, "stop sequences", R"({})", "stop sequences"},
  };
  ExpectAllNamed(cases);
}

// Regression: a refusal's advice kept the Chat name after its lead was renamed
// ("'stop_sequences': ... Omit stop and ..."). Every quoted mention of the exact name is
// renamed; nothing else is.
TEST(NameParamForClient, RenamesTheParamAndEveryQuotedMentionInARefusal) {
  auto e = core::InvalidParam("stop",
                              "'stop': stop sequences cannot be expressed. Omit 'stop' "
                              "(not 'stops' nor 'stop_words'), or 'stop' it.");
  NameParamForClient(kAnthropic, kChat, O("{}"), e);
  EXPECT_EQ(e.param, "stop_sequences");
  EXPECT_EQ(e.message,
            "'stop_sequences': stop sequences cannot be expressed. Omit 'stop_sequences' "
            "(not 'stops' nor 'stop_words'), or 'stop_sequences' it.");
  // An upstream's message is its own: only the param is renamed.
  auto upstream = core::MakeError(core::Errc::kUpstreamRejected,
                                  "provider p answered 400: Invalid type for 'stop'");
  upstream.param = "stop";
  NameParamForClient(kAnthropic, kChat, O("{}"), upstream);
  EXPECT_EQ(upstream.param, "stop_sequences");
  EXPECT_EQ(upstream.message, "provider p answered 400: Invalid type for 'stop'");
  const auto body = test_util::J(anthropic::EncodeError(upstream).body);
  EXPECT_EQ(std::string(body.at("error").at("message").as_string()),
            "stop_sequences: provider p answered 400: Invalid type for 'stop'");
}

// Regression: through the hub, the second hop's refusal named the Chat parameter.
TEST(TranslateRequest, ASecondHopsRefusalNamesTheClientsParameter) {
  const auto out = TranslateRequest(kAnthropic, kResponses,
                                    O(R"({"model":"m","max_tokens":16,"stop_sequences":["END"],)"
                                      R"("messages":[{"role":"user","content":"hi"}]})"));
  ASSERT_FALSE(out.has_value());
  EXPECT_EQ(out.error().param, "stop_sequences");
  EXPECT_EQ(out.error().message.rfind("'stop_sequences': ", 0), 0u) << out.error().message;
  // Regression: the advice said "Omit stop ...", Chat's name, to a client that never sent it.
  EXPECT_NE(out.error().message.find("Omit 'stop_sequences' and cut the answer yourself"),
            std::string::npos)
      << out.error().message;
  EXPECT_EQ(out.error().message.find("'stop'"), std::string::npos) << out.error().message;
  EXPECT_EQ(out.error().message.find("Omit stop"), std::string::npos) << out.error().message;
  // Nor does it send the client to the hub's API: the client's own needs no translation.
  EXPECT_NE(out.error().message.find("a model that speaks the Anthropic Messages API"),
            std::string::npos)
      << out.error().message;
  EXPECT_EQ(out.error().message.find("Chat Completions"), std::string::npos) << out.error().message;
  const auto schema = TranslateRequest(
      kResponses, kAnthropic,
      O(R"({"model":"m","input":"hi","text":{"format":{"type":"json_schema","name":"a",)"
        R"("schema":{"type":"array"}}}})"),
      {}, TargetModel{.native_structured_output = false});
  ASSERT_FALSE(schema.has_value());
  EXPECT_EQ(schema.error().param, "text.format.schema");
}

}  // namespace
}  // namespace sy::api::translate
