#include "http/detail/immediate.h"

#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <gtest/gtest.h>

namespace sy::http::detail {
namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

void Fill(boost::beast::flat_buffer& buffer, std::string_view bytes) {
  const auto space = buffer.prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  buffer.commit(bytes.size());
}

TEST(ParseBufferedTest, AnEmptyBufferNeedsMore) {
  bhttp::request_parser<bhttp::string_body> parser;
  boost::beast::flat_buffer buffer;
  EXPECT_EQ(ParseBuffered(parser, buffer), bhttp::error::need_more);
  EXPECT_FALSE(parser.got_some());
}

// What the parser did not use stays buffered for the read that follows.
TEST(ParseBufferedTest, APartialHeadNeedsMoreAndTheRestCompletesIt) {
  bhttp::request_parser<bhttp::string_body> parser;
  boost::beast::flat_buffer buffer;
  Fill(buffer, "GET / HTTP/1.1\r\nhost: a\r\n");
  EXPECT_EQ(ParseBuffered(parser, buffer), bhttp::error::need_more);
  EXPECT_FALSE(parser.is_header_done());
  Fill(buffer, "\r\n");
  EXPECT_FALSE(ParseBuffered(parser, buffer));
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get()[bhttp::field::host], "a");
}

// The head and the body came in one segment: two calls parse it all, one element each, with no
// read in between.
TEST(ParseBufferedTest, ABodyThatCameWithTheHeadIsParsedWithoutReading) {
  bhttp::request_parser<bhttp::string_body> parser;
  boost::beast::flat_buffer buffer;
  Fill(buffer, "POST / HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\nhello");
  EXPECT_FALSE(ParseBuffered(parser, buffer));
  EXPECT_TRUE(parser.is_header_done());
  EXPECT_FALSE(parser.is_done());
  EXPECT_FALSE(ParseBuffered(parser, buffer));
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "hello");
  EXPECT_EQ(buffer.size(), 0u);
}

// One chunk at a time, and a chunk's trailing CRLF alone is "need more", never a loop without
// progress (the bug this shape of function invites).
TEST(ParseBufferedTest, ChunksComeOneElementAtATime) {
  bhttp::response_parser<bhttp::buffer_body> parser;
  boost::beast::flat_buffer buffer;
  Fill(buffer, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n");
  ASSERT_FALSE(ParseBuffered(parser, buffer));
  ASSERT_TRUE(parser.is_header_done());
  std::array<char, 64> out{};
  std::string got;
  boost::system::error_code ec;
  for (int i = 0; i < 4 && got.empty(); ++i) {
    parser.get().body().data = out.data();
    parser.get().body().size = out.size();
    ec = ParseBuffered(parser, buffer);
    got.append(out.data(), out.size() - parser.get().body().size);
  }
  EXPECT_EQ(got, "first");
  EXPECT_FALSE(ec);  // the data comes back before anything waits for the next chunk
  ec = ParseBuffered(parser, buffer);
  EXPECT_EQ(ec, bhttp::error::need_more);
  EXPECT_FALSE(parser.is_done());
}

TEST(ParseBufferedTest, AMalformedHeadIsTheParsersError) {
  bhttp::request_parser<bhttp::string_body> parser;
  boost::beast::flat_buffer buffer;
  Fill(buffer, "NOT HTTP AT ALL\r\n\r\n");
  const auto ec = ParseBuffered(parser, buffer);
  EXPECT_TRUE(ec);
  EXPECT_NE(ec, bhttp::error::need_more);
}

class WriteNowTest : public ::testing::Test {
 protected:
  WriteNowTest() : acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    client_.connect(acceptor_.local_endpoint());
    acceptor_.accept(server_);
  }
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  tcp::socket client_{ioc_};
  tcp::socket server_{ioc_};
};

TEST_F(WriteNowTest, WritesEverythingThatFitsAtOnce) {
  const std::array<net::const_buffer, 2> buffers{net::buffer(std::string_view("head ")),
                                                 net::buffer(std::string_view("body"))};
  EXPECT_EQ(WriteNow(server_, buffers), 9u);
  std::string got(9, '\0');
  net::read(client_, net::buffer(got));
  EXPECT_EQ(got, "head body");
}

// A peer that does not read: WriteNow never blocks; it writes what fits, then nothing.
TEST_F(WriteNowTest, NeverBlocksOnAFullSocket) {
  server_.set_option(net::socket_base::send_buffer_size(4096));
  const std::vector<char> big(8 << 20, 'x');
  const size_t first = WriteNow(server_, net::buffer(big));
  EXPECT_GT(first, 0u);
  EXPECT_LT(first, big.size());
  size_t more = 0;
  for (int i = 0; i < 8; ++i) more += WriteNow(server_, net::buffer(big));
  EXPECT_LT(first + more, big.size());
  EXPECT_EQ(WriteNow(server_, net::buffer(big)), 0u);
}

// An error (here: the socket is closed) writes nothing; the asynchronous write that follows
// reports it.
TEST_F(WriteNowTest, AnErrorWritesNothing) {
  server_.close();
  EXPECT_EQ(WriteNow(server_, net::buffer(std::string_view("x"))), 0u);
}

using ReadNowTest = WriteNowTest;

TEST_F(ReadNowTest, ReadsWhatHasArrivedAndWouldBlockOnNothing) {
  boost::beast::flat_buffer buffer;
  server_.non_blocking(true);
  EXPECT_EQ(ReadNow(server_, buffer, 64), net::error::would_block);
  EXPECT_EQ(buffer.size(), 0u);
  net::write(client_, net::buffer(std::string_view("hello")));
  server_.wait(net::socket_base::wait_read);
  EXPECT_FALSE(ReadNow(server_, buffer, 64));
  EXPECT_EQ(boost::beast::buffers_to_string(buffer.data()), "hello");
}

TEST_F(ReadNowTest, APeerThatClosedIsEndOfFile) {
  boost::beast::flat_buffer buffer;
  server_.non_blocking(true);
  client_.close();
  server_.wait(net::socket_base::wait_read);
  EXPECT_EQ(ReadNow(server_, buffer, 64), net::error::eof);
}

// A blocking socket is never read: that read would wait for the peer.
TEST_F(ReadNowTest, ABlockingSocketIsNotRead) {
  boost::beast::flat_buffer buffer;
  net::write(client_, net::buffer(std::string_view("x")));
  EXPECT_EQ(ReadNow(server_, buffer, 64), net::error::would_block);
  EXPECT_EQ(buffer.size(), 0u);
}

}  // namespace
}  // namespace sy::http::detail
