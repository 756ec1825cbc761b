// detail::Resolver: the host-name lookups of one worker's Client.
//
// Asio resolves on one private thread per io_context, one lookup after another, and a lookup
// cannot be cancelled once getaddrinfo runs. Awaited directly, a slow name server held a
// connect past its connect timeout and the request's deadline, and every new connection queued
// one more lookup behind it. Here:
// - a caller waits no later than its own deadline (then kUpstreamTimeout) and can be cancelled
//   (Asio per-operation cancellation); the lookup runs on, and its answer serves later callers;
// - at most one lookup per host and port is in flight: the callers of one name share it;
// - an answer is reused for Options::fresh_for. After that the next caller is given it at once
//   while one lookup refreshes it; past Options::keep_for (a refresh that keeps failing) callers
//   wait for a lookup again. A failed lookup is not kept: the next caller starts another.
//
// Thread-safety: none; used from its io_context's one thread, where lookups complete too.
// Lifetime: a lookup may complete after the Resolver is gone; it then changes nothing.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/result.h"
#include "http/task.h"

namespace sy::http::detail {

class Resolver {
 public:
  using Clock = std::chrono::steady_clock;
  using Endpoints = std::vector<boost::asio::ip::tcp::endpoint>;
  // Called once with the lookup's outcome, on the io_context's thread (or at once, inside Lookup).
  using Done = std::function<void(const boost::system::error_code&, Endpoints)>;
  // Starts a lookup of host:port.
  using Lookup = std::function<void(const std::string& host, const std::string& port, Done)>;

  struct Options {
    Clock::duration fresh_for = std::chrono::seconds(30);
    Clock::duration keep_for = std::chrono::minutes(10);
    size_t max_names = 256;  // beyond it the answers kept are dropped (names come from config)
  };

  Resolver(boost::asio::io_context& ioc, Lookup lookup, Options options);
  // Asio's resolver: getaddrinfo on the io_context's private resolver thread.
  static Lookup SystemLookup(boost::asio::io_context& ioc);

  // The addresses of host:port. Fails with kUpstreamUnavailable (the lookup failed or found
  // nothing; the wait was cancelled) or kUpstreamTimeout (no answer by `deadline`).
  Task<core::Result<Endpoints>> Resolve(const std::string& host, const std::string& port,
                                        Clock::time_point deadline);

 private:
  struct Pending;
  struct Name {
    Endpoints endpoints;  // the last answer; empty: none yet
    Clock::time_point resolved_at;
    std::shared_ptr<Pending> pending;  // the lookup in flight, if any
  };
  using Names = std::unordered_map<std::string, Name>;

  Name& Entry(const std::string& key);
  // Starts a lookup for `name` (the entry of `key`) and returns it; it may be done already.
  std::shared_ptr<Pending> Start(Name& name, const std::string& key, const std::string& host,
                                 const std::string& port);

  boost::asio::io_context& ioc_;
  Lookup lookup_;
  Options options_;
  // Shared with the lookups in flight (weakly), which record their answers here.
  std::shared_ptr<Names> names_ = std::make_shared<Names>();
};

}  // namespace sy::http::detail
