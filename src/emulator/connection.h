// Connection: one accepted HTTP/1.1 connection of the emulator, served by one coroutine on
// the connection's own strand: read a request (with header and body limits), Route it, and
// execute the planned Reply (delays, chunked SSE writes flushed one event at a time, hangs and
// resets), with keep-alive.
//
// Thread-safety: Serve and Close run on the connection's executor (its strand); use Post or
// dispatch to call Close from elsewhere. Ownership: shared by the serving coroutine and the
// Emulator's registry (weakly); `state` must outlive Serve.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "emulator/http_message.h"
#include "emulator/state.h"

namespace sy::emulator {

inline constexpr size_t kMaxBodyBytes = 32 * 1024 * 1024;
inline constexpr size_t kMaxHeaderBytes = 64 * 1024;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // REQUIRES: the socket's executor is a strand.
  explicit Connection(boost::asio::ip::tcp::socket socket);

  // Serves requests until the peer closes, a fault ends the connection, or Close().
  // Never throws: a last-resort catch logs to stderr and closes the connection.
  boost::asio::awaitable<void> Serve(State& state);

  // Closes the socket and cancels any delay. REQUIRES: runs on executor().
  void Close();
  // Schedules Close() on the connection's executor; safe from any thread.
  void PostClose();

  boost::asio::any_io_executor executor() { return socket_.get_executor(); }

 private:
  boost::asio::awaitable<void> ServeRequests(State& state);
  // False when the connection must end (peer gone, abort, Close()).
  boost::asio::awaitable<bool> Execute(const Reply& reply, bool keep_alive);
  boost::asio::awaitable<bool> Write(std::string data);
  boost::asio::awaitable<bool> Wait(std::chrono::microseconds delay);
  // Reads and discards until the peer closes or Close().
  boost::asio::awaitable<void> Hang();
  // Aborts the connection with RST.
  void Reset();

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  bool closed_ = false;
};

}  // namespace sy::emulator
