// Writes that wait for the worker's round.
//
// A worker runs its ready completions in rounds: one epoll_wait, then every handler it made
// ready. A request's write (the answer to its client, the request to its upstream) wakes the
// peer that reads it, and an idle peer is woken by an inter-processor interrupt, which a virtual
// machine pays with an exit to the hypervisor. Written one at a time between the round's other
// handlers, each write finds the peer idle again and pays that wake-up; written together at the
// end of the round, they wake it once. A loaded worker therefore lets its writes wait for the
// round; a worker with one request in flight writes at once, since nothing would share the
// round (docs/performance.md, "Issue 20, fourth pass").
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sy::http::detail {

// How many requests a server worker is handling. Counted by the server around each handler and
// read by the worker's own client, on the worker's thread only: no atomics.
struct WorkerLoad {
  int handling = 0;
  // Whether another request could share this write's round.
  bool Shared() const { return handling > 1; }
};

// Resumes the calling coroutine once the completions already queued on `executor` have run
// (Asio's scheduler runs posted work in order): a write made after it goes out with the writes
// the round's other requests make.
template <typename Executor>
auto AfterReadyWork(const Executor& executor) {
  return boost::asio::post(executor, boost::asio::use_awaitable);
}

}  // namespace sy::http::detail
