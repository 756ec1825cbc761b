#include "emulator/emulator.h"

#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "emulator/connection.h"
#include "emulator/profiles.h"
#include "emulator/quality.h"
#include "emulator/state.h"
#include "eval/suite.h"

namespace sy::emulator {

namespace net = boost::asio;
using boost::system::error_code;
using net::ip::tcp;

namespace {

// How long Stop waits for connections to finish after closing them before it stops the
// io_context outright.
constexpr std::chrono::seconds kStopGrace{5};

struct HostPort {
  std::string host;
  std::string port;
};

core::Result<HostPort> SplitListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size()) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "listen: want host:port, got \"" + listen + "\"");
  }
  HostPort hp{listen.substr(0, colon), listen.substr(colon + 1)};
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  }
  if (hp.host.empty()) hp.host = "0.0.0.0";
  for (char c : hp.port) {
    if (c < '0' || c > '9') {
      return core::MakeError(core::Errc::kInvalidRequest,
                             "listen: port must be a number, got \"" + hp.port + "\"");
    }
  }
  return hp;
}

// The suite file, or the demo suite for "". Any failure is kInvalidRequest (a bad option).
core::Result<eval::Suite> LoadSuite(const std::string& path) {
  auto suite = path.empty() ? eval::ParseSuite(eval::kDemoSuiteJsonl, "demo suite")
                            : eval::LoadSuiteFile(path);
  if (!suite) {
    std::string message = suite.error().message;
    if (!path.empty() && message.find(path) == std::string::npos) {
      message = "suite " + path + ": " + message;
    }
    return core::MakeError(core::Errc::kInvalidRequest, std::move(message));
  }
  return suite;
}

}  // namespace

struct Emulator::Impl {
  Impl(ProfileTable profiles, SuiteIndex suite, uint64_t seed)
      : state(std::move(profiles), std::move(suite), seed),
        work(net::make_work_guard(ioc)),
        accept_strand(net::make_strand(ioc)),
        acceptor(accept_strand) {}

  // Registers a connection; false when stopping (the caller then drops it).
  bool Register(const std::shared_ptr<Connection>& connection, uint64_t& id) {
    std::lock_guard lock(mu);
    if (stopping) return false;
    id = next_id++;
    connections.emplace(id, connection);
    ++active;
    return true;
  }

  void Finished(std::optional<uint64_t> id) {
    std::lock_guard lock(mu);
    if (id) connections.erase(*id);
    --active;
    cv.notify_all();
  }

  net::awaitable<void> AcceptLoop() {
    net::steady_timer backoff(accept_strand);
    while (true) {
      tcp::socket socket(net::make_strand(ioc));
      auto [ec] = co_await acceptor.async_accept(socket, net::as_tuple(net::use_awaitable));
      if (ec == net::error::operation_aborted || !acceptor.is_open()) break;
      if (ec) {  // out of descriptors and the like: back off briefly instead of spinning
        backoff.expires_after(std::chrono::milliseconds(10));
        co_await backoff.async_wait(net::as_tuple(net::use_awaitable));
        continue;
      }
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto connection = std::make_shared<Connection>(std::move(socket));
      uint64_t id = 0;
      if (!Register(connection, id)) {
        connection->PostClose();
        continue;
      }
      net::co_spawn(
          connection->executor(),
          [connection, this]() -> net::awaitable<void> { co_await connection->Serve(state); },
          [this, id](const std::exception_ptr& e) {
            if (e) std::fprintf(stderr, "emulator: connection coroutine ended by an exception\n");
            Finished(id);
          });
    }
  }

  State state;  // first: outlives everything that refers to it
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work;
  net::strand<net::io_context::executor_type> accept_strand;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::string address;

  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections;
  uint64_t next_id = 1;
  int active = 0;  // the accept loop and the live connections
  bool stopping = false;

  std::mutex stop_mu;
  bool stopped = false;
};

core::Result<std::unique_ptr<Emulator>> Emulator::Start(const Options& options) {
  ProfileTable profiles;
  if (!options.config_file.empty()) {
    if (auto loaded = profiles.LoadFile(options.config_file); !loaded) return loaded.error();
  }
  auto suite = LoadSuite(options.suite_file);
  if (!suite) return suite.error();
  auto host_port = SplitListen(options.listen);
  if (!host_port) return host_port.error();
  auto impl = std::make_unique<Impl>(std::move(profiles), SuiteIndex(*suite), options.seed);

  error_code ec;
  tcp::resolver resolver(impl->ioc);
  auto results =
      resolver.resolve(host_port->host, host_port->port, tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "listen: cannot resolve \"" + options.listen + "\": " + ec.message());
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  auto fail = [&](std::string_view what) {
    return core::MakeError(core::Errc::kInternal, "cannot listen on " + options.listen + ": " +
                                                      std::string(what) + ": " + ec.message());
  };
  impl->acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  impl->acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  tcp::endpoint bound = impl->acceptor.local_endpoint(ec);
  if (ec) return fail("local_endpoint");
  std::string host = bound.address().to_string();
  if (bound.address().is_v6()) host = "[" + host + "]";
  impl->address = host + ":" + std::to_string(bound.port());

  Impl* raw = impl.get();
  raw->active = 1;  // the accept loop
  net::co_spawn(raw->accept_strand, raw->AcceptLoop(), [raw](const std::exception_ptr& e) {
    if (e) std::fprintf(stderr, "emulator: accept loop ended by an exception\n");
    raw->Finished(std::nullopt);
  });
  int threads = options.threads < 1 ? 1 : options.threads;
  for (int i = 0; i < threads; ++i) {
    raw->threads.emplace_back([raw] {
      while (true) {
        try {
          raw->ioc.run();
          return;
        } catch (const std::exception& e) {
          std::fprintf(stderr, "emulator: worker caught: %s\n", e.what());
        }
      }
    });
  }
  return std::unique_ptr<Emulator>(new Emulator(std::move(impl)));
}

Emulator::Emulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Emulator::~Emulator() { Stop(); }

std::string Emulator::address() const { return impl_->address; }

void Emulator::Stop() {
  Impl& impl = *impl_;
  std::lock_guard stop_lock(impl.stop_mu);
  if (impl.stopped) return;
  impl.stopped = true;
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(impl.mu);
    impl.stopping = true;
    for (auto& [id, weak] : impl.connections) {
      if (auto connection = weak.lock()) open.push_back(std::move(connection));
    }
  }
  net::dispatch(impl.accept_strand, [&impl] {
    error_code ignored;
    impl.acceptor.close(ignored);
  });
  for (auto& connection : open) connection->PostClose();
  open.clear();
  {
    std::unique_lock lock(impl.mu);
    impl.cv.wait_for(lock, kStopGrace, [&impl] { return impl.active == 0; });
  }
  impl.work.reset();
  impl.ioc.stop();
  for (auto& thread : impl.threads) thread.join();
  impl.threads.clear();
}

}  // namespace sy::emulator
