// A socket's time limit, kept by one timer that is re-armed only when it has to be.
#pragma once

#include <chrono>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace sy::http::detail {

// Beast's tcp_stream arms and cancels a timer around every read and write: a timer-queue insert
// and removal, a cancelled wait run through the scheduler and, whenever the new expiry is the
// earliest (at one connection, always), a timerfd_settime system call: five operations a
// proxied request, with the request-read and idle timers seven waits, and six timerfd_settime
// calls at one connection (strace). Here, setting or clearing the deadline is a store: the timer
// waits for the time it was armed for and, when it fires, either enforces the deadline or waits
// again for the one it finds, which requests keep moving later. It is re-armed at once only
// when a deadline moves earlier than the time it waits for.
//
// On expiry every operation pending on the socket is cancelled (it completes with
// operation_aborted; the caller tells a timeout by expired()), and again every kRecancel while
// the deadline stays set and passed: an operation started at the moment of expiry, after a
// completion was posted and before it ran, is cancelled too. The socket itself stays open, so
// that a server can still answer a request whose read timed out.
//
// Used from the socket's own (single) thread only. The socket must outlive the Deadline.
class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kRecancel{50};

  explicit Deadline(boost::asio::ip::tcp::socket& socket);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  void ExpireAt(Clock::time_point at);
  void ExpireAfter(std::chrono::milliseconds timeout) { ExpireAt(Clock::now() + timeout); }
  // No limit, until the next ExpireAt. Also forgets an expiry.
  void Clear();
  // The deadline set last has passed and cancelled the socket's operations.
  bool expired() const;
  // Ends a timed phase: Clear()s, and returns `ec` with a failure caused by the expiry as
  // beast::error::timeout.
  boost::system::error_code Settle(boost::system::error_code ec);

 private:
  struct State;
  static void Arm(const std::shared_ptr<State>& state, Clock::time_point at);
  static void OnTimer(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;  // shared with nothing; the timer's handler holds a weak_ptr
};

}  // namespace sy::http::detail
