#include "http/detail/resolver.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sy::http::detail {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// One lookup in flight and the callers waiting for it, each on a timer of its own that runs to
// its deadline unless the lookup's completion cancels it first.
struct Resolver::Pending {
  bool done = false;
  boost::system::error_code ec;
  Endpoints endpoints;
  std::vector<std::weak_ptr<net::steady_timer>> waiters;
};

Resolver::Resolver(net::io_context& ioc, Lookup lookup, Options options)
    : ioc_(ioc), lookup_(std::move(lookup)), options_(options) {}

namespace {

Resolver::Endpoints EndpointsOf(const tcp::resolver::results_type& results) {
  Resolver::Endpoints endpoints;
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  return endpoints;
}

}  // namespace

Resolver::Lookup Resolver::SystemLookup(net::io_context& ioc) {
  auto resolver = std::make_shared<tcp::resolver>(ioc);
  return [resolver](const std::string& host, const std::string& port, Done done) {
    // The handler keeps the resolver alive until the lookup completes.
    auto handler = [resolver, done = std::move(done)](const boost::system::error_code& ec,
                                                      const tcp::resolver::results_type& results) {
      done(ec, EndpointsOf(results));
    };
    resolver->async_resolve(host, port, std::move(handler));
  };
}

Resolver::Name& Resolver::Entry(const std::string& key) {
  if (names_->size() >= options_.max_names && !names_->contains(key)) names_->clear();
  return (*names_)[key];
}

std::shared_ptr<Resolver::Pending> Resolver::Start(Name& name, const std::string& key,
                                                   const std::string& host,
                                                   const std::string& port) {
  auto pending = std::make_shared<Pending>();
  name.pending = pending;
  std::weak_ptr<Names> names = names_;
  lookup_(host, port, [names, key, pending](const boost::system::error_code& ec, Endpoints found) {
    pending->done = true;
    pending->ec = ec;
    pending->endpoints = found;
    for (const auto& waiter : pending->waiters) {
      if (auto timer = waiter.lock()) timer->cancel();
    }
    auto all = names.lock();
    if (!all) return;
    auto it = all->find(key);
    if (it == all->end() || it->second.pending != pending) return;
    it->second.pending.reset();
    if (ec || found.empty()) return;  // the last answer, if any, stays until keep_for
    it->second.endpoints = std::move(found);
    it->second.resolved_at = Clock::now();
  });
  return pending;
}

Task<core::Result<Resolver::Endpoints>> Resolver::Resolve(const std::string& host,
                                                          const std::string& port,
                                                          Clock::time_point deadline) {
  const std::string key = host + ":" + port;
  Name& name = Entry(key);  // valid until the first co_await (another caller may clear the map)
  if (!name.endpoints.empty()) {
    const auto age = Clock::now() - name.resolved_at;
    if (age >= options_.fresh_for && !name.pending) Start(name, key, host, port);
    if (age < options_.keep_for) co_return name.endpoints;
  }
  const std::shared_ptr<Pending> pending =
      name.pending ? name.pending : Start(name, key, host, port);
  boost::system::error_code waited;
  if (!pending->done) {
    auto timer = std::make_shared<net::steady_timer>(ioc_, deadline);
    pending->waiters.push_back(timer);
    std::tie(waited) = co_await timer->async_wait(net::as_tuple(net::use_awaitable));
  }
  if (pending->done) {
    if (!pending->ec && !pending->endpoints.empty()) co_return pending->endpoints;
    co_return core::MakeError(
        core::Errc::kUpstreamUnavailable,
        "cannot resolve " + host + ": " +
            (pending->ec ? pending->ec.message() : std::string("no address found")));
  }
  if (waited == net::error::operation_aborted) {
    co_return core::MakeError(
        core::Errc::kUpstreamUnavailable,
        "upstream connection failed resolving " + host + ": " + waited.message());
  }
  co_return core::MakeError(core::Errc::kUpstreamTimeout, "upstream timed out resolving " + host);
}

}  // namespace sy::http::detail
