// Writing an HTTP/1.1 message head by hand. Beast's serializer walks a generic buffer sequence
// per field, which costs more than the rest of a small request's handling; a head is a few
// hundred bytes that one string append loop builds, sent with the body in one gathered write.
#pragma once

#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "http/headers.h"

namespace sy::http::detail {

// True when a header name or value could split the head (CR, LF or NUL): such a header is
// dropped rather than sent, so no input can inject a header.
bool UnsafeHeader(const Header& header);

// "HTTP/1.1 200 OK\r\n" + headers + content-length (+ "connection: close") + "\r\n". To an
// HTTP/1.0 client (`http10`) a kept connection is announced ("connection: keep-alive"): it
// keeps the connection only when told (RFC 9112 Appendix C.2.2).
std::string ResponseHead(int status, const Headers& headers, size_t content_length, bool keep_alive,
                         bool http10 = false);

// The head of a streamed response: "HTTP/1.1 200 OK\r\n" + headers (+ "transfer-encoding:
// chunked") (+ "connection: close") + "\r\n". Not chunked, a "trailer" header is dropped.
std::string StreamHead(int status, const Headers& headers, bool chunked, bool keep_alive);

// A chunk's size line: the size in hex + "\r\n" (the data and its "\r\n" follow).
std::string ChunkSize(size_t size);

// The last chunk of a chunked body: "0\r\n" + trailer fields + "\r\n".
std::string LastChunk(const Headers& trailers);

// "POST /path HTTP/1.1\r\nhost: ...\r\n" + headers + content-length + "\r\n".
std::string RequestHead(std::string_view method, std::string_view target, std::string_view host,
                        const Headers& headers, size_t content_length);

// An endpoint as address:port, IPv6 in brackets: ServerRequest::peer and Server::address()
// ("127.0.0.1:53122", "[::1]:53122").
std::string EndpointText(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace sy::http::detail
