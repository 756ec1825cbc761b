#include "emulator/connection.h"

#include <cstdio>
#include <exception>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "emulator/router.h"

namespace sy::emulator {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

namespace {

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

HttpRequest ToHttpRequest(const http::request<http::string_body>& message) {
  HttpRequest request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(Lower(field.name_string()), std::string(field.value()));
  }
  request.body = message.body();
  return request;
}

bool PeerGone(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::operation_aborted ||
         ec == net::error::bad_descriptor || ec == net::error::broken_pipe;
}

}  // namespace

Connection::Connection(net::ip::tcp::socket socket)
    : socket_(std::move(socket)), timer_(socket_.get_executor()) {}

void Connection::Close() {
  closed_ = true;
  error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
}

void Connection::PostClose() {
  net::post(socket_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

net::awaitable<void> Connection::Serve(State& state) {
  try {
    co_await ServeRequests(state);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "emulator: connection failed: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "emulator: connection failed: unknown exception\n");
  }
  if (!closed_) {
    error_code ignored;
    socket_.shutdown(net::ip::tcp::socket::shutdown_send, ignored);
    Close();
  }
}

net::awaitable<void> Connection::ServeRequests(State& state) {
  boost::beast::flat_buffer buffer;
  while (!closed_) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
    parser.body_limit(kMaxBodyBytes);
    auto [header_ec, header_bytes] =
        co_await http::async_read_header(socket_, buffer, parser, kUseTuple);
    (void)header_bytes;
    if (closed_ || PeerGone(header_ec)) co_return;
    if (header_ec == http::error::body_limit) {  // a declared content-length over the limit
      co_await Execute(
          TransportError(ToHttpRequest(parser.get()), 413, "Request body is larger than 32 MiB."),
          false);
      co_return;
    }
    if (header_ec) {
      bool too_large = header_ec == http::error::header_limit;
      HttpRequest partial;
      co_await Execute(TransportError(partial, too_large ? 431 : 400,
                                      too_large ? "Request headers are too large."
                                                : "The request is not valid HTTP/1.1."),
                       false);
      co_return;
    }
    HttpRequest head = ToHttpRequest(parser.get());
    if (Lower(head.Header("expect")) == "100-continue") {
      if (!co_await Write("HTTP/1.1 100 Continue\r\n\r\n")) co_return;
    }
    auto [body_ec, body_bytes] = co_await http::async_read(socket_, buffer, parser, kUseTuple);
    (void)body_bytes;
    if (closed_ || PeerGone(body_ec)) co_return;
    if (body_ec) {
      bool too_large = body_ec == http::error::body_limit;
      co_await Execute(TransportError(head, too_large ? 413 : 400,
                                      too_large ? "Request body is larger than 32 MiB."
                                                : "The request body could not be read."),
                       false);
      co_return;
    }
    HttpRequest request = ToHttpRequest(parser.get());
    Reply reply = Route(request, state);
    bool keep_alive = parser.get().keep_alive() && !reply.close;
    if (!co_await Execute(reply, keep_alive) || !keep_alive) co_return;
  }
}

net::awaitable<bool> Connection::Execute(const Reply& reply, bool keep_alive) {
  if (reply.delay.count() > 0 && !co_await Wait(reply.delay)) co_return false;
  if (reply.send_head) {
    std::string head = SerializeHead(reply, keep_alive);
    if (!reply.stream) {
      head += reply.body;
      if (!co_await Write(std::move(head))) co_return false;
    } else {
      if (!co_await Write(std::move(head))) co_return false;
      for (const auto& event : reply.events) {
        if (event.delay.count() > 0 && !co_await Wait(event.delay)) co_return false;
        if (!co_await Write(ChunkFrame(event.bytes))) co_return false;
      }
      if (reply.abort == Abort::kNone && !co_await Write(std::string(kLastChunk))) {
        co_return false;
      }
    }
  }
  switch (reply.abort) {
    case Abort::kNone:
      co_return true;
    case Abort::kHang:
      co_await Hang();
      co_return false;
    case Abort::kReset:
      Reset();
      co_return false;
  }
  co_return false;
}

net::awaitable<bool> Connection::Write(std::string data) {
  if (closed_) co_return false;
  auto [ec, written] = co_await net::async_write(socket_, net::buffer(data), kUseTuple);
  (void)written;
  co_return !ec && !closed_;
}

net::awaitable<bool> Connection::Wait(std::chrono::microseconds delay) {
  if (closed_) co_return false;
  timer_.expires_after(delay);
  auto [ec] = co_await timer_.async_wait(kUseTuple);
  co_return !ec && !closed_;
}

net::awaitable<void> Connection::Hang() {
  char sink[4096];
  while (!closed_) {
    auto [ec, n] = co_await socket_.async_read_some(net::buffer(sink), kUseTuple);
    (void)n;
    if (ec) break;
  }
  Close();
}

void Connection::Reset() {
  error_code ignored;
  socket_.set_option(net::socket_base::linger(true, 0), ignored);
  Close();
}

}  // namespace sy::emulator
