#include "http/detail/deadline.h"

#include <cstdint>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>

namespace sy::http::detail {

struct Deadline::State {
  explicit State(boost::asio::ip::tcp::socket& s) : socket(s), timer(s.get_executor()) {}

  boost::asio::ip::tcp::socket& socket;
  boost::asio::steady_timer timer;
  Clock::time_point deadline = Clock::time_point::max();  // max: none
  Clock::time_point armed = Clock::time_point::max();     // when the wait ends; max: no wait
  uint64_t generation = 0;  // of the current wait: a wait replaced after it fired is ignored
  bool expired = false;
};

void Deadline::OnTimer(const std::shared_ptr<State>& state) {
  state->armed = Clock::time_point::max();
  if (state->deadline == Clock::time_point::max()) return;  // cleared meanwhile
  const auto now = Clock::now();
  if (now < state->deadline) {
    Arm(state, state->deadline);
    return;
  }
  state->expired = true;
  boost::system::error_code ignored;
  state->socket.cancel(ignored);
  Arm(state, now + kRecancel);
}

void Deadline::Arm(const std::shared_ptr<State>& state, Clock::time_point at) {
  state->armed = at;
  const uint64_t generation = ++state->generation;
  state->timer.expires_at(at);  // a wait in progress completes with operation_aborted
  state->timer.async_wait(
      [weak = std::weak_ptr<State>(state), generation](const boost::system::error_code& ec) {
        if (ec) return;  // replaced or destroyed
        auto alive = weak.lock();
        if (alive && alive->generation == generation) OnTimer(alive);
      });
}

Deadline::Deadline(boost::asio::ip::tcp::socket& socket)
    : state_(std::make_shared<State>(socket)) {}

Deadline::~Deadline() {
  // The wait's handler holds only a weak_ptr; it runs later and finds the state gone.
  state_->timer.cancel();
}

void Deadline::ExpireAt(Clock::time_point at) {
  state_->deadline = at;
  state_->expired = false;
  if (at < state_->armed) Arm(state_, at);
}

void Deadline::Clear() {
  state_->deadline = Clock::time_point::max();
  state_->expired = false;
}

bool Deadline::expired() const { return state_->expired; }

boost::system::error_code Deadline::Settle(boost::system::error_code ec) {
  if (ec && expired()) ec = boost::beast::error::timeout;
  Clear();
  return ec;
}

}  // namespace sy::http::detail
