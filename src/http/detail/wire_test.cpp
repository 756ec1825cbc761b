#include "http/detail/wire.h"

#include <gtest/gtest.h>

namespace sy::http::detail {
namespace {

TEST(Wire, ResponseHeadCarriesStatusHeadersAndLength) {
  Headers headers{{"content-type", "application/json"}, {"x-switchyard-model", "gpt-5.5"}};
  EXPECT_EQ(ResponseHead(200, headers, 12, true),
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-switchyard-model: gpt-5.5\r\n"
            "content-length: 12\r\n\r\n");
  EXPECT_EQ(ResponseHead(404, {}, 0, false),
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  EXPECT_EQ(ResponseHead(200, {}, 0, true, /*http10=*/true),
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n");
  EXPECT_EQ(ResponseHead(200, {}, 0, false, /*http10=*/true),
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
}

TEST(Wire, RequestHeadCarriesMethodTargetHostAndLength) {
  Headers headers{{"authorization", "Bearer k"}};
  EXPECT_EQ(RequestHead("POST", "/v1/chat/completions", "127.0.0.1:9", headers, 2),
            "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:9\r\nauthorization: Bearer "
            "k\r\ncontent-length: 2\r\n\r\n");
}

TEST(Wire, HeadersThatCouldSplitTheHeadAreDropped) {
  Headers headers{{"x-ok", "fine"},
                  {"x-bad", "a\r\nset-cookie: evil"},
                  {"x\nbad", "v"},
                  {"", "empty name"},
                  {"x-nul", std::string("a\0b", 3)}};
  const std::string head = ResponseHead(200, headers, 0, true);
  EXPECT_NE(head.find("x-ok: fine\r\n"), std::string::npos);
  EXPECT_EQ(head.find("evil"), std::string::npos);
  EXPECT_EQ(head.find("bad"), std::string::npos);
  EXPECT_EQ(head.find("empty"), std::string::npos);
  EXPECT_EQ(head.find("x-nul"), std::string::npos);
}

TEST(Wire, EndpointTextIsAddressColonPortWithIpv6InBrackets) {
  using boost::asio::ip::make_address;
  using boost::asio::ip::tcp;
  EXPECT_EQ(EndpointText(tcp::endpoint(make_address("127.0.0.1"), 53122)), "127.0.0.1:53122");
  EXPECT_EQ(EndpointText(tcp::endpoint(make_address("0.0.0.0"), 0)), "0.0.0.0:0");
  EXPECT_EQ(EndpointText(tcp::endpoint(make_address("255.255.255.255"), 65535)),
            "255.255.255.255:65535");
  EXPECT_EQ(EndpointText(tcp::endpoint(make_address("10.20.0.9"), 7)), "10.20.0.9:7");
  EXPECT_EQ(EndpointText(tcp::endpoint(make_address("::1"), 443)), "[::1]:443");
  EXPECT_EQ(EndpointText(tcp::endpoint(make_address("2001:db8::2"), 8080)), "[2001:db8::2]:8080");
}

}  // namespace
}  // namespace sy::http::detail
