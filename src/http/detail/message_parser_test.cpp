#include "http/detail/message_parser.h"

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <gtest/gtest.h>

namespace sy::http::detail {
namespace {

namespace bhttp = boost::beast::http;

// Feeds `bytes` to `parser` in one piece after another of `step` bytes, as reads would deliver
// them; returns the last error (need_more when the message is not complete).
template <typename Parser>
boost::beast::error_code Feed(Parser& parser, std::string_view bytes, size_t step = 7) {
  std::string pending;
  boost::beast::error_code ec;
  for (size_t at = 0; at < bytes.size(); at += step) {
    pending.append(bytes.substr(at, step));
    for (;;) {
      ec = {};
      const size_t used = parser.put(boost::asio::buffer(pending), ec);
      pending.erase(0, used);
      if (ec || used == 0 || pending.empty()) break;
    }
    if (ec && ec != bhttp::error::need_more) return ec;
  }
  return ec;
}

std::vector<std::string> Names(const Headers& headers) {
  std::vector<std::string> out;
  for (const auto& h : headers) out.emplace_back(h.name);
  return out;
}

TEST(RequestParserTest, KeepsTheLineTheHeadAndTheBody) {
  RequestParser parser;
  const auto ec = Feed(parser,
                       "POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\n"
                       "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"model\":1}");
  EXPECT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.method(), bhttp::verb::post);
  EXPECT_EQ(parser.method_string(), "POST");
  EXPECT_EQ(parser.target(), "/v1/chat/completions?x=1");
  EXPECT_EQ(parser.version(), 11u);
  EXPECT_TRUE(parser.keep_alive());
  EXPECT_EQ(Names(parser.headers()),
            (std::vector<std::string>{"Host", "Content-Type", "Content-Length"}));
  EXPECT_EQ(parser.headers().Get("content-type"), "application/json");
  EXPECT_EQ(parser.body(), "{\"model\":1}");
}

// RFC 9110 §6.5.1: trailer fields are not header fields; they must not reach the handler.
TEST(RequestParserTest, AChunkedBodyIsJoinedAndItsTrailersAreNotHeaders) {
  RequestParser parser;
  const auto ec = Feed(parser,
                       "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\nAuthorization: Bearer sneaked\r\n"
                       "Connection: close\r\n\r\n",
                       5);
  EXPECT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.body(), "abcdefg");
  EXPECT_EQ(Names(parser.headers()), (std::vector<std::string>{"Host", "Transfer-Encoding"}));
  EXPECT_FALSE(parser.headers().Has("authorization"));
}

TEST(RequestParserTest, ABodyOverTheLimitFailsBeforeItIsStored) {
  RequestParser parser;
  parser.body_limit(4);
  const auto ec = Feed(parser, "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabcde");
  EXPECT_EQ(ec, bhttp::error::body_limit);
  EXPECT_EQ(parser.headers().Get("host"), "a");  // the head is there to answer in its dialect
  EXPECT_TRUE(parser.body().empty());
}

TEST(RequestParserTest, Http10WithoutKeepAliveClosesAndAHeadRequestIsKnown) {
  RequestParser parser;
  EXPECT_FALSE(Feed(parser, "HEAD / HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(parser.is_done());
  EXPECT_EQ(parser.method(), bhttp::verb::head);
  EXPECT_EQ(parser.version(), 10u);
  EXPECT_FALSE(parser.keep_alive());
}

TEST(ResponseParserTest, TheBodyGoesToTheSinkNamedForEachRead) {
  ResponseParser parser;
  boost::beast::error_code ec;
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\n";
  parser.put(boost::asio::buffer(head), ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_header_done());
  EXPECT_EQ(parser.status(), 200u);
  EXPECT_EQ(parser.headers().Get("content-type"), "text/plain");

  // With no sink the parser takes nothing.
  const std::string first = "abc";
  EXPECT_EQ(parser.put(boost::asio::buffer(first), ec), 0u);
  EXPECT_EQ(ec, bhttp::error::need_buffer);

  std::string one;
  parser.set_sink(&one);
  ec = {};
  EXPECT_EQ(parser.put(boost::asio::buffer(first), ec), 3u);
  std::string two;
  parser.set_sink(&two);
  const std::string rest = "def";
  ec = {};
  EXPECT_EQ(parser.put(boost::asio::buffer(rest), ec), 3u);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(one, "abc");
  EXPECT_EQ(two, "def");
  EXPECT_TRUE(parser.is_done());
  EXPECT_TRUE(parser.keep_alive());
}

// A body that ends with the connection cannot leave it fit for reuse.
TEST(ResponseParserTest, ABodyDelimitedByCloseIsNotKeptAlive) {
  ResponseParser parser;
  std::string body;
  parser.set_sink(&body);
  Feed(parser, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npartial");
  EXPECT_FALSE(parser.is_done());  // until the connection ends
  EXPECT_FALSE(parser.keep_alive());
  boost::beast::error_code eof;
  parser.put_eof(eof);
  EXPECT_FALSE(eof) << eof.message();
  EXPECT_EQ(body, "partial");
}

TEST(ResponseParserTest, AChunkedBodyArrivesWithoutItsFraming) {
  ResponseParser parser;
  std::string body;
  parser.set_sink(&body);
  const auto ec = Feed(parser,
                       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "5\r\ndata:\r\n3\r\n x\n\r\n0\r\nX-Trailer: t\r\n\r\n",
                       4);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(body, "data: x\n");
  EXPECT_FALSE(parser.headers().Has("x-trailer"));
}

}  // namespace
}  // namespace sy::http::detail
