// What every translator direction shares: a refusal echoes the client's keys and values only
// in part (core::ClipForEcho), in its message, its param and the error bodies built from them.
#include "api/translate/translate.h"

#include <string>

#include <gtest/gtest.h>

#include "api/anthropic/errors.h"
#include "api/openai/errors.h"
#include "api/translate/translate_test_util.h"
#include "core/text.h"

namespace sy::api::translate {
namespace {

using core::Dialect;
using test_util::O;

const std::string kHuge(std::size_t{1} << 20, 'k');  // 1 MiB
constexpr std::string_view kCut = "[cut, ";          // ClipForEcho's mark

constexpr std::string_view kChatHead =
    R"({"model":"m","messages":[{"role":"user","content":"hi"}])";
constexpr std::string_view kAnthropicHead =
    R"({"model":"m","max_tokens":16,"messages":[{"role":"user","content":"hi"}])";
constexpr std::string_view kResponsesHead = R"({"model":"m","input":"hi")";

// `head` (a request without its closing brace) plus `member`, in which "K" stands for 1 MiB.
std::string With(std::string_view head, std::string_view member) {
  std::string out(head);
  out += ',';
  for (char c : member) {
    if (c == 'K') {
      out += kHuge;
    } else {
      out += c;
    }
  }
  out += '}';
  return out;
}

// Regression: a refusal quoted the client's unknown key whole, twice in the message and once
// as Error::param (which the OpenAI body echoes and Anthropic's message repeats), and
// chat -> anthropic quoted an unknown tool_choice value whole: a 1 MiB key came back as a
// 3 MiB error.
TEST(TranslateRequest, ARefusalEchoesTheClientsKeysAndValuesOnlyInPart) {
  struct Case {
    const char* name;
    Dialect from, to;
    std::string body;
  } cases[] = {
      {"chat -> anthropic: an unknown parameter", Dialect::kOpenAiChat, Dialect::kAnthropicMessages,
       With(kChatHead, R"("K":1)")},
      {"chat -> anthropic: tool_choice", Dialect::kOpenAiChat, Dialect::kAnthropicMessages,
       With(kChatHead, R"("tool_choice":"K")")},
      {"chat -> anthropic: a content part's type", Dialect::kOpenAiChat,
       Dialect::kAnthropicMessages,
       R"({"model":"m","messages":[{"role":"user","content":[{"type":")" + kHuge + R"("}]}]})"},
      {"chat -> anthropic: an image's media type", Dialect::kOpenAiChat,
       Dialect::kAnthropicMessages,
       R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url",)"
       R"("image_url":{"url":"data:image/)" +
           kHuge + R"(;base64,AAAA"}}]}]})"},
      {"chat -> responses: an unknown parameter", Dialect::kOpenAiChat, Dialect::kOpenAiResponses,
       With(kChatHead, R"("K":1)")},
      {"anthropic -> chat: an unknown parameter", Dialect::kAnthropicMessages, Dialect::kOpenAiChat,
       With(kAnthropicHead, R"("K":1)")},
      {"anthropic -> chat: output_config.<key>", Dialect::kAnthropicMessages, Dialect::kOpenAiChat,
       With(kAnthropicHead, R"("output_config":{"K":1})")},
      {"anthropic -> chat: tool_choice.type", Dialect::kAnthropicMessages, Dialect::kOpenAiChat,
       With(kAnthropicHead, R"("tools":[{"name":"f","input_schema":{"type":"object"}}],)"
                            R"("tool_choice":{"type":"K"})")},
      {"anthropic -> responses: an unknown parameter", Dialect::kAnthropicMessages,
       Dialect::kOpenAiResponses, With(kAnthropicHead, R"("K":1)")},
      {"responses -> chat: an unknown parameter", Dialect::kOpenAiResponses, Dialect::kOpenAiChat,
       With(kResponsesHead, R"("K":1)")},
      {"responses -> anthropic: an unknown parameter", Dialect::kOpenAiResponses,
       Dialect::kAnthropicMessages, With(kResponsesHead, R"("K":1)")},
      {"responses -> chat: an input item's type", Dialect::kOpenAiResponses, Dialect::kOpenAiChat,
       R"({"model":"m","input":[{"type":")" + kHuge + R"("}]})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto out = TranslateRequest(c.from, c.to, O(c.body));
    ASSERT_FALSE(out.has_value());
    const core::Error& e = out.error();
    EXPECT_EQ(e.code, core::Errc::kInvalidRequest);
    EXPECT_LE(e.param.size(), core::kMaxEchoBytes + 32) << e.param.substr(0, 64);
    EXPECT_LE(e.message.size(), 4 * core::kMaxEchoBytes) << e.message.substr(0, 64);
    EXPECT_NE(e.message.find(kCut), std::string::npos) << e.message.substr(0, 64);
    EXPECT_LE(openai::EncodeError(e).body.size(), 8 * core::kMaxEchoBytes);
    EXPECT_LE(anthropic::EncodeError(e).body.size(), 8 * core::kMaxEchoBytes);
  }
}

}  // namespace
}  // namespace sy::api::translate
