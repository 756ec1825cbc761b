#include "emulator/text_gen.h"

#include <gtest/gtest.h>

#include "emulator/http_message.h"
#include "emulator/prompt_tokens.h"

namespace sy::emulator {
namespace {

TEST(TextGenTest, WordPiecesAreDeterministicAndCounted) {
  auto a = GenerateWordPieces(7, 25);
  auto b = GenerateWordPieces(7, 25);
  auto c = GenerateWordPieces(8, 25);
  ASSERT_EQ(a.size(), 25U);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_NE(a[0][0], ' ');  // the first piece has no leading space
  EXPECT_EQ(a[1][0], ' ');
  EXPECT_EQ(JoinPieces(a).back(), '.');
  EXPECT_TRUE(GenerateWordPieces(1, 0).empty());
}

TEST(TextGenTest, SplitIntoPiecesKeepsUtf8SequencesWhole) {
  EXPECT_EQ(SplitIntoPieces("abcdefghij"), (std::vector<std::string>{"abcd", "efgh", "ij"}));
  // "abc" + e-acute (2 bytes): the 4-byte cut would fall inside the sequence.
  auto pieces = SplitIntoPieces("abc\xC3\xA9xyz");
  ASSERT_EQ(pieces.size(), 2U);
  EXPECT_EQ(pieces[0], "abc\xC3\xA9");
  EXPECT_EQ(pieces[1], "xyz");
  EXPECT_TRUE(SplitIntoPieces("").empty());
}

TEST(TextGenTest, CountTextTokensIsCeilOfQuarterBytes) {
  EXPECT_EQ(CountTextTokens(""), 0);
  EXPECT_EQ(CountTextTokens("abc"), 1);
  EXPECT_EQ(CountTextTokens("abcd"), 1);
  EXPECT_EQ(CountTextTokens("abcde"), 2);
}

TEST(TextGenTest, RngIsReproducible) {
  Rng a(42);
  Rng b(42);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.Next(), b.Next());
  Rng c(1);
  for (int i = 0; i < 1000; ++i) {
    double u = c.Uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
  EXPECT_EQ(Base62Id(5, 24).size(), 24U);
  EXPECT_EQ(Base62Id(5, 24), Base62Id(5, 24));
}

TEST(PromptTokensTest, CountsOverheadTextAndImages) {
  PromptTokens prompt;
  prompt.AddRoleMarker("user");
  prompt.AddText("Hello, world!");  // 13 bytes -> 4 tokens
  prompt.AddImage();
  prompt.AddReplyPrimer();
  EXPECT_EQ(prompt.count(), kMessageOverheadTokens + 4 + kImageTokens + kReplyPrimerTokens);
  prompt.MarkBreakpoint();
  prompt.MarkBreakpoint();  // the same position is recorded once
  EXPECT_EQ(prompt.breakpoints(), (std::vector<size_t>{static_cast<size_t>(prompt.count())}));
}

TEST(HttpMessageTest, SseFraming) {
  EXPECT_EQ(SseData("{\"a\":1}"), "data: {\"a\":1}\n\n");
  EXPECT_EQ(SseData("[DONE]"), "data: [DONE]\n\n");
  EXPECT_EQ(SseEvent("ping", "{\"type\":\"ping\"}"), "event: ping\ndata: {\"type\":\"ping\"}\n\n");
  EXPECT_EQ(SseData("a\nb"), "data: a\ndata: b\n\n");
}

TEST(HttpMessageTest, ChunkedFraming) {
  EXPECT_EQ(ChunkFrame("hello"), "5\r\nhello\r\n");
  EXPECT_EQ(ChunkFrame(std::string(26, 'x')), "1a\r\n" + std::string(26, 'x') + "\r\n");
  EXPECT_EQ(ChunkFrame(""), "");
}

TEST(HttpMessageTest, HeadCarriesFraming) {
  Reply reply = JsonReply(429, boost::json::object{{"a", 1}}, {{"retry-after", "2"}});
  std::string head = SerializeHead(reply, true);
  EXPECT_EQ(head.rfind("HTTP/1.1 429 Too Many Requests\r\n", 0), 0U);
  EXPECT_NE(head.find("retry-after: 2\r\n"), std::string::npos);
  EXPECT_NE(head.find("content-length: 7\r\n"), std::string::npos);
  EXPECT_NE(head.find("connection: keep-alive\r\n"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
  reply.stream = true;
  head = SerializeHead(reply, false);
  EXPECT_NE(head.find("transfer-encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(head.find("content-length"), std::string::npos);
  EXPECT_NE(head.find("connection: close\r\n"), std::string::npos);
}

TEST(HttpMessageTest, RequestHeaderAndPath) {
  HttpRequest request;
  request.target = "/v1/chat/completions?x=1";
  request.headers = {{"authorization", "Bearer k"}};
  EXPECT_EQ(request.Path(), "/v1/chat/completions");
  EXPECT_EQ(request.Header("authorization"), "Bearer k");
  EXPECT_EQ(request.Header("x-api-key"), "");
  EXPECT_FALSE(request.HasHeader("x-api-key"));
}

}  // namespace
}  // namespace sy::emulator
