// Work an asynchronous operation would do at once, done at once.
//
// A proxied request's writes nearly always fit the socket's send buffer, and the bytes its
// parsers wait for have often already arrived (a small request's body with its head, an
// upstream answer's body with its head). Asio and Beast finish such operations without waiting
// too, but then post the completion through the scheduler and resume the coroutine from there:
// a queue round, an operation object and executor copies each time. Doing the work first and
// leaving the asynchronous operation (with its deadline and cancellation) only for what really
// has to wait saves about 6% of a proxied request's instructions (docs/performance.md).
#pragma once

#include <cstddef>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/error_code.hpp>

namespace sy::http::detail {

// Writes as much of `buffers` as `socket` accepts without blocking (one sendmsg) and returns the
// byte count: 0 when nothing fit or on an error, which the asynchronous write that follows
// meets again and reports. Puts the socket in non-blocking mode, which affects only synchronous
// calls (Asio's own asynchronous operations are non-blocking regardless).
template <typename ConstBufferSequence>
size_t WriteNow(boost::asio::ip::tcp::socket& socket, const ConstBufferSequence& buffers) {
  boost::system::error_code ec;
  if (!socket.non_blocking()) socket.non_blocking(true, ec);
  if (ec) return 0;
  const size_t n = socket.write_some(buffers, ec);
  return ec ? 0 : n;
}

// Reads what `socket` already holds into `buffer`'s free space (at most `max` bytes, one recvmsg)
// and commits it, without blocking: the read's error (eof when the peer has closed, would_block
// when nothing has arrived yet) or none. A socket not in non-blocking mode is not read (a
// synchronous read would wait): would_block.
inline boost::system::error_code ReadNow(boost::asio::ip::tcp::socket& socket,
                                         boost::beast::flat_buffer& buffer, size_t max) {
  boost::system::error_code ec = boost::asio::error::would_block;
  if (!socket.non_blocking()) return ec;
  buffer.commit(socket.read_some(buffer.prepare(max), ec));
  return ec;
}

// Feeds `parser` what `buffer` already holds, once, as Beast's read_some does before it reads,
// and consumes what it used: one element (the head, a chunk header, body bytes). Returns
// need_more when the buffer is empty or ends inside an element (the caller reads, then), else
// the parser's error (a buffer_body parser's need_buffer among them) or none.
template <typename Parser>
boost::system::error_code ParseBuffered(Parser& parser, boost::beast::flat_buffer& buffer) {
  boost::system::error_code ec = boost::beast::http::error::need_more;
  if (buffer.size() == 0) return ec;
  buffer.consume(parser.put(buffer.data(), ec));
  return ec;
}

}  // namespace sy::http::detail
