#include "http/server.h"

#include <array>
#include <atomic>
#include <charconv>
#include <memory>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http/client.h"
#include "http/detail/client_internal.h"
#include "http/detail/wire.h"

namespace sy::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);
using ReusePort = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

// Writes one response on a connection's stream; see ResponseWriter.
class StreamWriter final : public ResponseWriter {
 public:
  // `head_only`: the request was HEAD, so a response carries its headers (Content-Length
  // included) and no body.
  StreamWriter(beast::tcp_stream& stream, bool keep_alive, bool head_only,
               std::chrono::milliseconds write_timeout)
      : stream_(stream),
        keep_alive_(keep_alive),
        head_only_(head_only),
        write_timeout_(write_timeout) {}

  Task<bool> Send(int status, const Headers& headers, std::string body) override {
    const std::string head = detail::ResponseHead(status, headers, body.size(), keep_alive_);
    if (head_only_) body.clear();
    const std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(body)};
    started_ = finished_ = true;
    stream_.expires_after(write_timeout_);
    auto [ec, n] = co_await net::async_write(stream_, buffers, kUseTuple);
    ok_ = !ec;
    co_return ok_;
  }

  Task<bool> StartStream(int status, const Headers& headers) override {
    bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), 11};
    for (const auto& h : headers) res.set(h.name, h.value);
    res.keep_alive(keep_alive_);
    res.chunked(true);
    started_ = true;
    bhttp::response_serializer<bhttp::empty_body> serializer{res};
    stream_.expires_after(write_timeout_);
    auto [ec, n] = co_await bhttp::async_write_header(stream_, serializer, kUseTuple);
    ok_ = !ec;
    co_return ok_;
  }

  Task<bool> Write(std::string_view data) override {
    if (!ok_ || data.empty()) co_return ok_;
    stream_.expires_after(write_timeout_);
    auto [ec, n] = co_await net::async_write(
        stream_, bhttp::make_chunk(net::const_buffer(data.data(), data.size())), kUseTuple);
    ok_ = !ec;
    co_return ok_;
  }

  Task<bool> EndStream(const Headers& trailers) override {
    finished_ = true;
    if (!ok_) co_return false;
    bhttp::fields fields;
    for (const auto& h : trailers) fields.set(h.name, h.value);
    stream_.expires_after(write_timeout_);
    auto [ec, n] = co_await net::async_write(stream_, bhttp::make_chunk_last(fields), kUseTuple);
    ok_ = !ec;
    co_return ok_;
  }

  bool started() const override { return started_; }
  bool finished() const { return finished_; }
  bool ok() const { return ok_; }

 private:
  beast::tcp_stream& stream_;
  bool keep_alive_;
  bool head_only_;
  std::chrono::milliseconds write_timeout_;
  bool started_ = false;
  bool finished_ = false;
  bool ok_ = true;
};

core::Error ReadErrorFor(const beast::error_code& ec, const ServerOptions& options) {
  if (ec == bhttp::error::body_limit) {
    return core::MakeError(
        core::Errc::kPayloadTooLarge,
        "request body exceeds the limit of " + std::to_string(options.max_body_bytes) + " bytes");
  }
  if (ec == bhttp::error::header_limit) {
    auto e = core::MakeError(core::Errc::kPayloadTooLarge,
                             "request headers exceed the limit of " +
                                 std::to_string(options.max_header_bytes) + " bytes");
    e.param = "headers";
    return e;
  }
  if (ec == beast::error::timeout) {
    return core::MakeError(core::Errc::kRequestTimeout,
                           "the request was not received completely within " +
                               std::to_string(options.request_read_timeout.count()) + " ms");
  }
  return core::MakeError(core::Errc::kInvalidRequest, "malformed HTTP request: " + ec.message());
}

void CopyHead(const bhttp::request<bhttp::string_body>& msg, ServerRequest& req) {
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  for (const auto& field : msg) {
    req.headers.Add(std::string(field.name_string()), std::string(field.value()));
  }
}

}  // namespace

std::string_view ServerRequest::Path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view ServerRequest::Query() const {
  std::string_view t = target;
  const auto mark = t.find('?');
  return mark == std::string_view::npos ? std::string_view() : t.substr(mark + 1);
}

struct Worker {
  // Declared before the io_context so that it is destroyed after it: coroutine frames destroyed
  // with the io_context still hand connections back to it.
  std::unique_ptr<Client> client;
  // Each worker's sockets are used from its own thread only, so the reactor needs no locks;
  // the scheduler keeps them, for Stop() posting from the controlling thread.
  net::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::optional<tcp::acceptor> acceptor;
  std::thread thread;
};

class Server::Impl {
 public:
  Impl(const ServerOptions& options, Handler handler)
      : options_(options), handler_(std::move(handler)) {}

  core::Status Bind() {
    auto host_port = ParseHostPort(options_.listen);
    if (!host_port) return host_port.error();
    boost::system::error_code ec;
    auto address = net::ip::make_address(host_port->first, ec);
    if (ec) {
      return core::MakeError(core::Errc::kInvalidRequest,
                             "listen address \"" + options_.listen + "\" is not an IP address");
    }
    tcp::endpoint endpoint{address, host_port->second};
    const int threads = std::max(1, options_.threads);
    for (int i = 0; i < threads; ++i) {
      auto worker = std::make_unique<Worker>();
      worker->client = detail::MakeClient(worker->ioc);
      worker->acceptor.emplace(worker->ioc);
      auto& acc = *worker->acceptor;
      if (acc.open(endpoint.protocol(), ec); !ec)
        acc.set_option(tcp::acceptor::reuse_address(true));
      if (!ec) acc.set_option(ReusePort(true), ec);
      if (!ec) acc.bind(endpoint, ec);
      if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
      if (ec) {
        return core::MakeError(core::Errc::kInternal,
                               "cannot listen on " + options_.listen + ": " + ec.message());
      }
      endpoint = acc.local_endpoint();  // later workers share the port the first one got
      workers_.push_back(std::move(worker));
    }
    bound_ = endpoint;
    return {};
  }

  void Run() {
    for (auto& worker : workers_) {
      net::co_spawn(worker->ioc, AcceptLoop(*worker), net::detached);
      worker->thread = std::thread([w = worker.get()] { w->ioc.run(); });
    }
  }

  void Stop(std::chrono::milliseconds grace) {
    if (stopping_.exchange(true)) return;
    for (auto& worker : workers_) {
      net::post(worker->ioc, [w = worker.get()] {
        boost::system::error_code ignored;
        w->acceptor->close(ignored);
      });
    }
    const auto until = std::chrono::steady_clock::now() + grace;
    while (active_requests_.load() > 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (auto& worker : workers_) worker->ioc.stop();
    for (auto& worker : workers_) {
      if (worker->thread.joinable()) worker->thread.join();
    }
    for (auto& worker : workers_) worker->client->Close();
    workers_.clear();
  }

  std::string address() const {
    std::string host = bound_.address().to_string();
    if (bound_.address().is_v6()) host = "[" + host + "]";
    return host + ":" + std::to_string(bound_.port());
  }

 private:
  net::awaitable<void> AcceptLoop(Worker& worker) {
    while (!stopping_) {
      auto [ec, socket] = co_await worker.acceptor->async_accept(kUseTuple);
      if (ec) {
        if (ec == net::error::operation_aborted || stopping_) co_return;
        continue;  // e.g. EMFILE: keep serving the connections we have
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      net::co_spawn(worker.ioc, Session(std::move(socket), worker), [](std::exception_ptr) {});
    }
  }

  // Waits for the first byte of a request; false when the connection should just close.
  net::awaitable<bool> AwaitRequest(beast::tcp_stream& stream, beast::flat_buffer& buffer) {
    if (buffer.size() > 0) co_return true;
    stream.expires_after(options_.idle_timeout);
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kUseTuple);
    if (ec) co_return false;
    buffer.commit(n);
    co_return true;
  }

  net::awaitable<void> Session(tcp::socket socket, Worker& worker) {
    std::string peer;  // once per connection, not per request: getpeername is a syscall
    boost::system::error_code peer_ec;
    if (auto ep = socket.remote_endpoint(peer_ec); !peer_ec) {
      peer = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    while (!stopping_ && co_await AwaitRequest(stream, buffer)) {
      ++active_requests_;
      const bool keep = co_await ServeOne(stream, buffer, worker, peer);
      --active_requests_;
      if (!keep) break;
    }
    co_await CloseGracefully(stream);
  }

  // Reads and answers one request. Returns whether the connection may carry another.
  net::awaitable<bool> ServeOne(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                Worker& worker, const std::string& peer) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
    parser.body_limit(static_cast<uint64_t>(options_.max_body_bytes));
    auto [ec, n] = co_await ReadRequest(stream, buffer, parser);
    if (ec == bhttp::error::end_of_stream) co_return false;

    ServerRequest req;
    req.client = worker.client.get();
    req.peer = peer;
    // A Content-Length over the limit fails before the head counts as done, but the parser has
    // stored all of it: the handler needs the path to answer in the right dialect.
    if (parser.is_header_done() || ec == bhttp::error::body_limit) CopyHead(parser.get(), req);
    if (!parser.is_done()) {
      req.read_error = ReadErrorFor(ec, options_);
    } else {
      req.body = std::move(parser.get().body());
    }
    const bool keep_alive = !req.read_error && parser.get().keep_alive() && !stopping_;
    const bool head_only = parser.get().method() == bhttp::verb::head;
    StreamWriter writer(stream, keep_alive, head_only, options_.idle_timeout);
    co_await CallHandler(req, writer);
    co_return keep_alive&& writer.ok() && writer.finished();
  }

  // Reads one request within request_read_timeout. On timeout the read is cancelled, not the
  // socket closed (as tcp_stream's own timeout would), so that the handler can still answer.
  net::awaitable<std::tuple<beast::error_code, size_t>> ReadRequest(
      beast::tcp_stream& stream, beast::flat_buffer& buffer,
      bhttp::request_parser<bhttp::string_body>& parser) {
    struct Deadline {
      bool armed = true;
      bool fired = false;
    };
    auto deadline = std::make_shared<Deadline>();
    net::steady_timer timer(stream.get_executor(), options_.request_read_timeout);
    // Runs on this connection's (single-threaded) worker; touches `stream` only while armed.
    timer.async_wait([deadline, &stream](const boost::system::error_code& ec) {
      if (ec || !deadline->armed) return;
      deadline->fired = true;
      boost::system::error_code ignored;
      stream.socket().cancel(ignored);
    });
    stream.expires_never();
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kUseTuple);
    if (!ec && !parser.is_done()) {
      // curl and others wait for "100 Continue" before sending a larger body.
      if (EqualsIgnoreCase(parser.get()[bhttp::field::expect], "100-continue")) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        std::tie(ec, n) = co_await net::async_write(
            stream, net::const_buffer(kContinue.data(), kContinue.size()), kUseTuple);
      }
      if (!ec) std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, kUseTuple);
    }
    deadline->armed = false;
    timer.cancel();
    if (deadline->fired && ec) ec = beast::error::timeout;
    co_return std::tuple<beast::error_code, size_t>(ec, n);
  }

  net::awaitable<void> CallHandler(ServerRequest& req, StreamWriter& writer) {
    bool failed = false;
    try {
      co_await handler_(req, writer);
    } catch (...) {
      failed = true;  // the last-resort net: the handler is expected never to throw
    }
    if (!writer.started()) {
      Headers headers;
      headers.Add("content-type", "application/json");
      co_await writer.Send(500, headers,
                           R"({"error":{"message":"internal error","type":"server_error"}})");
    } else if (failed || !writer.finished()) {
      const Headers no_trailers;
      co_await writer.EndStream(no_trailers);
    }
  }

  // Lingering close: after the answer, keep reading (and discarding) what the client still
  // sends, for at most kLingerTime and kLingerBytes. Closing with unread bytes makes the kernel
  // send a reset, and a client still uploading an oversized body would see that reset instead
  // of its 413.
  net::awaitable<void> CloseGracefully(beast::tcp_stream& stream) {
    constexpr auto kLingerTime = std::chrono::seconds(1);
    constexpr size_t kLingerBytes = 64 * 1024 * 1024;
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    stream.expires_after(kLingerTime);  // a deadline for the whole drain, not per read
    std::vector<char> sink(64 * 1024);
    for (size_t drained = 0; drained < kLingerBytes;) {
      auto [rec, n] = co_await stream.async_read_some(net::buffer(sink), kUseTuple);
      if (rec) break;
      drained += n;
    }
  }

  ServerOptions options_;
  Handler handler_;
  std::vector<std::unique_ptr<Worker>> workers_;
  tcp::endpoint bound_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> active_requests_{0};
};

core::Result<std::unique_ptr<Server>> Server::Start(const ServerOptions& options, Handler handler) {
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  if (auto bound = impl->Bind(); !bound) return bound.error();
  impl->Run();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Stop(std::chrono::milliseconds(0)); }
std::string Server::address() const { return impl_->address(); }
void Server::Stop(std::chrono::milliseconds grace) { impl_->Stop(grace); }

core::Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view address) {
  auto bad = [&] {
    return core::MakeError(core::Errc::kInvalidRequest,
                           "\"" + std::string(address) + "\" is not host:port");
  };
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view host = address.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string_view port_text = address.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) return bad();
  return std::pair<std::string, uint16_t>(std::string(host), static_cast<uint16_t>(port));
}

}  // namespace sy::http
