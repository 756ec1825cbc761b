#include "http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <memory>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <unistd.h>

#include "core/byte_budget.h"
#include "core/text.h"
#include "core/thread_name.h"
#include "http/client.h"
#include "http/detail/client_internal.h"
#include "http/detail/deadline.h"
#include "http/detail/immediate.h"
#include "http/detail/message_parser.h"
#include "http/detail/wire.h"

namespace sy::http {

// Each call awaited into a local: GCC 12 miscompiles a coroutine that awaits a virtual member of
// its own object inside a condition.
Task<bool> ResponseWriter::WriteAndEnd(std::string_view data, const Headers& trailers) {
  if (!data.empty()) {
    const bool sent = co_await Write(data);
    if (!sent) co_return false;
  }
  const bool ended = co_await EndStream(trailers);
  co_return ended;
}

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using Parser = detail::RequestParser;

namespace {

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);
// Accept backoff when descriptors or memory run out: long enough not to spin, short enough
// that service resumes soon after they are freed.
constexpr std::chrono::milliseconds kAcceptBackoffMin{50};
constexpr std::chrono::milliseconds kAcceptBackoffMax{1'000};
constexpr std::chrono::seconds kAcceptLogInterval{10};
// How long a connection over max_connections gets to send its request head.
constexpr std::chrono::milliseconds kOverloadHeadTimeout{2'000};
// The read that watches for the client going away while its handler runs.
constexpr size_t kWatchBytes = 4096;
constexpr size_t kReadBytes = 64 * 1024;
// What a connection's read buffer may keep between requests: enough for an ordinary head.
constexpr size_t kKeptBufferBytes = 16 * 1024;

// Writes one response on a connection's stream; see ResponseWriter.
class StreamWriter final : public ResponseWriter {
 public:
  // `head_only`: the request was HEAD, so a response carries its headers (Content-Length
  // included) and no body. `http10`: the client speaks HTTP/1.0, which has no chunked coding.
  StreamWriter(tcp::socket& socket, detail::Deadline& deadline, bool keep_alive, bool head_only,
               bool http10, std::chrono::milliseconds write_timeout)
      : socket_(socket),
        deadline_(deadline),
        keep_alive_(keep_alive),
        head_only_(head_only),
        http10_(http10),
        write_timeout_(write_timeout) {}

  Task<bool> Send(int status, const Headers& headers, std::string body) override {
    const std::string head =
        detail::ResponseHead(status, headers, body.size(), keep_alive_, http10_);
    if (head_only_) body.clear();
    const std::array<net::const_buffer, 2> buffers{net::buffer(head), net::buffer(body)};
    started_ = finished_ = true;
    co_return co_await WriteAll(buffers);
  }

  // The head waits for the first chunk and leaves with it: one write, one segment, one wake-up of
  // the client, where writing it alone cost a syscall and a round on the way to the first token.
  Task<bool> StartStream(int status, const Headers& headers) override {
    if (http10_) keep_alive_ = false;  // the end of the connection ends the body
    pending_head_ = detail::StreamHead(status, headers, /*chunked=*/!http10_, keep_alive_);
    started_ = true;
    co_return ok_;
  }

  Task<bool> Write(std::string_view data) override {
    if (!ok_ || data.empty()) co_return ok_;
    co_return co_await WriteChunk(data, {});
  }

  Task<bool> EndStream(const Headers& trailers) override {
    co_return co_await WriteAndEnd({}, trailers);
  }

  Task<bool> WriteAndEnd(std::string_view data, const Headers& trailers) override {
    finished_ = true;
    if (!ok_) co_return false;
    const std::string last = http10_ ? std::string() : detail::LastChunk(trailers);
    if (pending_head_.empty() && data.empty() && last.empty()) {
      co_return true;  // closing ends an HTTP/1.0 body
    }
    co_return co_await WriteChunk(data, last);
  }

  bool started() const override { return started_; }
  bool finished() const { return finished_; }
  bool ok() const { return ok_; }
  bool keep_alive() const { return keep_alive_; }

 private:
  // Writes the pending head (if any), `data` as a chunk (as it is to an HTTP/1.0 client; nothing
  // when empty) and then `last` (the body's end), in one write.
  Task<bool> WriteChunk(std::string_view data, std::string_view last) {
    const bool chunk = !http10_ && !data.empty();
    const std::string size = chunk ? detail::ChunkSize(data.size()) : std::string();
    const std::string_view crlf = chunk ? std::string_view("\r\n") : std::string_view();
    const std::array<net::const_buffer, 5> buffers{net::buffer(pending_head_), net::buffer(size),
                                                   net::buffer(data), net::buffer(crlf),
                                                   net::buffer(last)};
    co_return co_await WriteAll(buffers);
  }

  // Writes `buffers` (the pending head first, if any) within the write timeout.
  template <size_t N>
  Task<bool> WriteAll(const std::array<net::const_buffer, N>& buffers) {
    beast::buffers_suffix<std::array<net::const_buffer, N>> rest(buffers);
    rest.consume(detail::WriteNow(socket_, buffers));
    if (beast::buffer_bytes(rest) > 0) {
      deadline_.ExpireAfter(write_timeout_);
      auto [ec, n] = co_await net::async_write(socket_, rest, kUseTuple);
      deadline_.Clear();
      ok_ = !ec;
    }
    pending_head_.clear();
    co_return ok_;
  }

  tcp::socket& socket_;
  detail::Deadline& deadline_;
  bool keep_alive_;
  bool head_only_;
  bool http10_;
  std::chrono::milliseconds write_timeout_;
  bool started_ = false;
  bool finished_ = false;
  bool ok_ = true;
  std::string pending_head_;  // from StartStream until the first write
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

core::Error Overloaded(std::string what) {
  return core::MakeError(core::Errc::kOverloaded, std::move(what));
}

// True when `head` (the raw bytes of a request head) folds a header line: a line that starts
// with a space or tab continues the one before (RFC 9112 §5.2). Beast joins such lines.
bool HasObsFold(std::string_view head) {
  for (size_t lf = head.find('\n'); lf != std::string_view::npos && lf + 1 < head.size();
       lf = head.find('\n', lf + 1)) {
    if (head[lf + 1] == ' ' || head[lf + 1] == '\t') return true;
  }
  return false;
}

// The framing rules of RFC 9112 §6.1 and §6.3 and the Host rule of §3.2 that Beast does not
// enforce itself. Any of these would let a client and an intermediary disagree where a request
// ends (request smuggling), so the request is refused and its connection closed.
std::optional<core::Error> FramingError(const Headers& headers, unsigned version, bool obs_fold) {
  auto invalid = [](std::string what) {
    return core::MakeError(core::Errc::kInvalidRequest, std::move(what));
  };
  if (obs_fold) return invalid("obsolete line folding in the request headers is not allowed");
  const size_t hosts = headers.Count("host");
  if (hosts > 1) return invalid("the request has more than one Host header");
  if (hosts == 0 && version >= 11) return invalid("an HTTP/1.1 request needs a Host header");
  if (!headers.Has("transfer-encoding")) return std::nullopt;
  if (version < 11) return invalid("Transfer-Encoding is not allowed in HTTP/1.0");
  if (headers.Has("content-length")) {
    return invalid("a request must not have both Content-Length and Transfer-Encoding");
  }
  std::vector<std::string_view> codings;
  for (const auto& [name, value] : headers) {
    if (!EqualsIgnoreCase(name, "transfer-encoding")) continue;
    std::string_view list = value;
    while (!list.empty()) {
      const size_t comma = std::min(list.find(','), list.size());
      if (auto coding = core::TrimOws(list.substr(0, comma)); !coding.empty())
        codings.push_back(coding);
      list.remove_prefix(std::min(comma + 1, list.size()));
    }
  }
  if (codings.size() == 1 && beast::iequals(codings.front(), "chunked")) return std::nullopt;
  if (codings.empty() || !beast::iequals(codings.back(), "chunked")) {
    return invalid("Transfer-Encoding must end with chunked");
  }
  for (auto coding : codings) {
    if (!beast::iequals(coding, "chunked")) {
      return invalid("transfer coding \"" + std::string(coding) +
                     "\" is not supported; send the body with chunked alone");
    }
  }
  return invalid("chunked may be applied only once");
}

void CopyHead(Parser& parser, ServerRequest& req) {
  req.method = std::move(parser.method_string());
  req.target = std::move(parser.target());
  req.headers = std::move(parser.headers());
}

// The method and target of a head that could not be read whole (over the header limit, timed
// out, a malformed field), for answering in the dialect its path names: the parser has them once
// it parsed the request line (a bad field after it); before that (Beast parses nothing until the
// head's end is in) they are taken from the buffered bytes when those hold a whole, well-formed
// request line. Nothing else of such a head is used.
void CopyRequestLine(Parser& parser, const beast::flat_buffer& buffer, ServerRequest& req) {
  if (!parser.target().empty()) {
    req.method = parser.method_string();
    req.target = parser.target();
    return;
  }
  const std::string_view raw(static_cast<const char*>(buffer.data().data()), buffer.size());
  const std::string_view line = raw.substr(0, raw.find("\r\n"));
  if (line.size() == raw.size()) return;  // no whole line
  const size_t first = line.find(' ');
  const size_t last = line.rfind(' ');
  if (first == std::string_view::npos || last <= first + 1 ||
      !line.substr(last + 1).starts_with("HTTP/1.")) {
    return;
  }
  const std::string_view target = line.substr(first + 1, last - first - 1);
  const bool clean = std::all_of(target.begin(), target.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!clean || target.front() != '/') return;
  req.method = std::string(line.substr(0, first));
  req.target = std::string(target);
}

// Whether `parser` holds a whole request head after reading it ended with `ec`. A Content-Length
// over the limit fails before the head counts as done, but the parser has stored all of it: the
// handler needs the path to answer in the right dialect. So has one whose framing headers Beast
// refused.
bool HasHead(const Parser& parser, const beast::error_code& ec) {
  return parser.is_header_done() || ec == bhttp::error::body_limit ||
         ec == bhttp::error::bad_transfer_encoding || ec == bhttp::error::bad_content_length ||
         ec == bhttp::error::multiple_content_length;
}

bool IsResourceExhaustion(const boost::system::error_code& ec) {
  if (ec.category() != boost::system::system_category()) return false;
  const int e = ec.value();
  return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
}

std::string LowerFirst(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

}  // namespace

std::string_view ServerRequest::Path() const {
  std::string_view t = target;
  return t.substr(0, t.find('?'));
}

std::string_view ServerRequest::Query() const {
  std::string_view t = target;
  const auto mark = t.find('?');
  // Empty but never a null view: Boost.URL 1.81's parse_query runs strlen on a null pointer.
  return t.substr(mark == std::string_view::npos ? t.size() : mark + 1);
}

// A session's completion handler while it waits for the watch to end. Kept in an optional and
// only ever move-constructed: Boost 1.81's any_completion_handler recurses without end on move
// assignment.
using WatchWaiter = net::any_completion_handler<void(boost::system::error_code)>;

// One client connection. Owned (shared) by its session coroutine and that coroutine's
// completion handler; used only on its worker's thread.
struct Connection : std::enable_shared_from_this<Connection> {
  explicit Connection(tcp::socket s) : socket(std::move(s)), deadline(socket) {}

  // A plain socket: `deadline` bounds its reads and writes, one timer a connection. (Beast's
  // tcp_stream built a timer and a shared state of its own for every connection, unused.)
  tcp::socket socket;
  detail::Deadline deadline;
  beast::flat_buffer buffer;
  // Bound to the session coroutine: emitting it cancels whatever operation the session (and
  // so the handler it runs) awaits at that moment.
  net::cancellation_signal cancel;
  // The watch: one read pending while a handler runs, to notice the client going away.
  net::cancellation_signal watch_cancel;
  bool watch_pending = false;
  bool peer_gone = false;      // the watch saw EOF or an error
  bool shutting_down = false;  // Stop() cancelled this connection
  // The session, while it waits for the watch to end (AwaitWatch): resumed by the watch's own
  // completion, directly, with no round through the scheduler (which at low load costs an
  // epoll_wait a request).
  std::optional<WatchWaiter> watch_waiter;
  ServerRequest* running = nullptr;  // the request whose handler runs now
  // The worker's list of open connections, for Stop().
  Connection* prev = nullptr;
  Connection* next = nullptr;
};

// A background job's own request and cancellation, in its worker's list (for Stop()).
struct BackgroundTask {
  ServerRequest request;
  net::cancellation_signal cancel;
  BackgroundTask* prev = nullptr;
  BackgroundTask* next = nullptr;
};

struct Worker {
  // Declared before the io_context so that it is destroyed after it: coroutine frames destroyed
  // with the io_context still hand connections back to it.
  std::unique_ptr<Client> client;
  Connection* connections = nullptr;  // head of the list; same lifetime rule
  BackgroundTask* tasks = nullptr;    // running background jobs; same lifetime rule
  std::unique_ptr<Background> jobs;   // starts them; same lifetime rule
  // Each worker's sockets are used from its own thread only, so the reactor needs no locks;
  // the scheduler keeps them, for Stop() posting from the controlling thread.
  net::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::optional<tcp::acceptor> acceptor;
  std::thread thread;

  // A session waiting in AwaitWatch is owned by its connection's watch_waiter, not by the
  // io_context, so stopping the io_context does not destroy it. Called once the thread has
  // stopped and before the io_context goes: destroys those sessions as the io_context destroys
  // the ones whose operations it holds.
  void ReleaseParkedSessions() {
    std::vector<Connection*> parked;
    for (Connection* c = connections; c != nullptr; c = c->next) {
      if (c->watch_waiter) parked.push_back(c);
    }
    // The session's frame may hold the last reference to its connection: taken out first.
    for (Connection* c : parked) {
      WatchWaiter session(std::move(*c->watch_waiter));
      c->watch_waiter.reset();
      session.get_cancellation_slot().clear();
    }
  }

  void Link(Connection* c) { LinkInto(connections, c); }
  void Unlink(Connection* c) { UnlinkFrom(connections, c); }
  void Link(BackgroundTask* t) { LinkInto(tasks, t); }
  void Unlink(BackgroundTask* t) { UnlinkFrom(tasks, t); }

 private:
  template <class Node>
  static void LinkInto(Node*& head, Node* n) {
    n->next = head;
    if (head) head->prev = n;
    head = n;
  }
  template <class Node>
  static void UnlinkFrom(Node*& head, Node* n) {
    if (n->prev) n->prev->next = n->next;
    if (n->next) n->next->prev = n->prev;
    if (head == n) head = n->next;
    n->prev = n->next = nullptr;
  }
};

class Server::Impl {
 public:
  Impl(const ServerOptions& options, Handler handler)
      : options_(options), handler_(std::move(handler)) {}

  // One listening socket, without SO_REUSEPORT: the kernel then refuses a second process
  // that tries to bind the same address. The workers share it through dup()ed descriptors.
  core::Status Bind() {
    auto host_port = ParseHostPort(options_.listen);
    if (!host_port) return host_port.error();
    boost::system::error_code ec;
    auto address = net::ip::make_address(host_port->first, ec);
    if (ec) {
      return core::MakeError(core::Errc::kInvalidRequest,
                             "listen address \"" + options_.listen + "\" is not an IP address");
    }
    const tcp::endpoint endpoint{address, host_port->second};
    auto cannot_listen = [&](const boost::system::error_code& why) {
      return core::MakeError(core::Errc::kInternal, "cannot listen on " + options_.listen + ": " +
                                                        LowerFirst(why.message()));
    };
    const int threads = std::max(1, options_.threads);
    for (int i = 0; i < threads; ++i) {
      auto worker = std::make_unique<Worker>();
      worker->client = detail::MakeClient(worker->ioc);
      worker->client->set_answer_budget(&answer_budget_);
      worker->jobs = std::make_unique<Jobs>(*this, *worker);
      worker->acceptor.emplace(worker->ioc);
      auto& acc = *worker->acceptor;
      if (i == 0) {
        if (acc.open(endpoint.protocol(), ec); !ec) {
          acc.set_option(tcp::acceptor::reuse_address(true), ec);  // restarts past TIME_WAIT
        }
        if (!ec) acc.bind(endpoint, ec);
        if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
        if (ec) return cannot_listen(ec);
        bound_ = acc.local_endpoint();
      } else {
        const int fd = ::dup(workers_.front()->acceptor->native_handle());
        if (fd < 0) return cannot_listen({errno, boost::system::system_category()});
        if (acc.assign(endpoint.protocol(), fd, ec); ec) {
          ::close(fd);
          return cannot_listen(ec);
        }
      }
      workers_.push_back(std::move(worker));
    }
    return {};
  }

  void Run() {
    for (auto& worker : workers_) {
      net::co_spawn(worker->ioc, AcceptLoop(*worker), net::detached);
      worker->thread = std::thread([w = worker.get()] {
        core::NameThisThread("sy-worker");
        w->ioc.run();
      });
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
    WaitForRequests(grace);
    if (active_requests_.load() > 0) {
      for (auto& worker : workers_) {
        net::post(worker->ioc, [w = worker.get()] { CancelAll(*w); });
      }
      WaitForRequests(options_.cancel_wait);
    }
    for (auto& worker : workers_) worker->ioc.stop();
    for (auto& worker : workers_) {
      if (worker->thread.joinable()) worker->thread.join();
      worker->ReleaseParkedSessions();
    }
    for (auto& worker : workers_) worker->client->Close();
    workers_.clear();
  }

  std::string address() const { return detail::EndpointText(bound_); }

  ServerStats stats() const {
    ServerStats s;
    s.connections = connections_.load();
    s.buffered_body_bytes = body_budget_.used();
    s.accept_failures = accept_failures_.load();
    s.overloaded = overloaded_.load();
    return s;
  }

 private:
  void WaitForRequests(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (active_requests_.load() > 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  // On the worker's thread: cancels what every connection awaits. A running handler sees
  // kShutdown; a request still being read reaches its handler as kOverloaded; an idle
  // connection closes.
  static void CancelAll(Worker& worker) {
    for (Connection* c = worker.connections; c != nullptr; c = c->next) {
      c->shutting_down = true;
      if (c->running && c->running->cancelled == CancelReason::kNone) {
        c->running->cancelled = CancelReason::kShutdown;
      }
      c->cancel.emit(net::cancellation_type::terminal);
    }
    for (BackgroundTask* t = worker.tasks; t != nullptr; t = t->next) {
      if (t->request.cancelled == CancelReason::kNone) {
        t->request.cancelled = CancelReason::kShutdown;
      }
      t->cancel.emit(net::cancellation_type::terminal);
    }
  }

  // A worker's Background: each job a coroutine on the worker, counted in active_requests_.
  class Jobs final : public Background {
   public:
    Jobs(Impl& impl, Worker& worker) : impl_(impl), worker_(worker) {}

    bool Start(ServerRequest request, BackgroundJob job) override {
      // The handler calling this is itself counted in active_requests_, so Stop cannot have
      // seen zero in flight between this check and the increment.
      if (impl_.stopping_) return false;
      auto task = std::make_shared<BackgroundTask>();
      task->request = std::move(request);
      task->request.client = worker_.client.get();
      task->request.background = this;
      ++impl_.active_requests_;
      worker_.Link(task.get());
      auto slot = task->cancel.slot();
      net::co_spawn(worker_.ioc, Run(task, std::move(job)),
                    net::bind_cancellation_slot(slot, [task](std::exception_ptr) {}));
      return true;
    }

   private:
    net::awaitable<void> Run(std::shared_ptr<BackgroundTask> task, BackgroundJob job) {
      co_await net::this_coro::throw_if_cancelled(false);  // errors, as handlers see them
      struct Leave {
        Jobs& jobs;
        BackgroundTask* task;
        ~Leave() {
          jobs.worker_.Unlink(task);
          --jobs.impl_.active_requests_;
        }
      } leave{*this, task.get()};
      co_await job(task->request);
    }

    Impl& impl_;
    Worker& worker_;
  };

  net::awaitable<void> AcceptLoop(Worker& worker) {
    net::steady_timer backoff(worker.ioc);
    auto delay = kAcceptBackoffMin;
    while (!stopping_) {
      tcp::endpoint peer;  // from accept itself: a getpeername per connection saved
      auto [ec, socket] = co_await worker.acceptor->async_accept(peer, kUseTuple);
      if (ec) {
        if (ec == net::error::operation_aborted || stopping_) co_return;
        if (!IsResourceExhaustion(ec)) continue;  // e.g. ECONNABORTED: that client gave up
        // Retrying at once would fail at once, at full CPU. Connections already open keep
        // being served meanwhile; they are what frees descriptors.
        NoteAcceptFailure(ec);
        backoff.expires_after(delay);
        co_await backoff.async_wait(kUseTuple);
        delay = std::min(delay * 2, kAcceptBackoffMax);
        continue;
      }
      delay = kAcceptBackoffMin;
      Admit(std::move(socket), peer, worker);
    }
  }

  void NoteAcceptFailure(const boost::system::error_code& ec) {
    const int64_t failures = accept_failures_.fetch_add(1) + 1;
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    int64_t last = last_accept_log_ms_.load();
    if (last != 0 && now - last < std::chrono::milliseconds(kAcceptLogInterval).count()) return;
    if (!last_accept_log_ms_.compare_exchange_strong(last, now)) return;  // another worker logs
    const int64_t since = failures - logged_accept_failures_.exchange(failures);
    std::fprintf(stderr,
                 "switchyard: cannot accept connections on %s: %s (%lld failures since the last "
                 "report); retrying every %lld-%lld ms\n",
                 address().c_str(), ec.message().c_str(), static_cast<long long>(since),
                 static_cast<long long>(kAcceptBackoffMin.count()),
                 static_cast<long long>(kAcceptBackoffMax.count()));
  }

  int64_t OverloadConnectionCap() const { return options_.max_connections / 8 + 16; }

  // Counts the connection against max_connections and starts its session; past the limit the
  // session only reads the head and answers kOverloaded; past that too, the connection closes.
  void Admit(tcp::socket socket, const tcp::endpoint& peer, Worker& worker) {
    bool over_limit = false;
    if (connections_.fetch_add(1) >= options_.max_connections) {
      connections_.fetch_sub(1);
      if (overload_connections_.fetch_add(1) >= OverloadConnectionCap()) {
        overload_connections_.fetch_sub(1);
        overloaded_.fetch_add(1);
        return;  // closed unanswered: even the answers have a bound
      }
      over_limit = true;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    // Non-blocking from the start, as the caller's flag: Asio then skips setting its own on the
    // first asynchronous operation, and WriteNow finds it set (one ioctl instead of two).
    socket.non_blocking(true, ignored);
    auto conn = std::make_shared<Connection>(std::move(socket));
    auto slot = conn->cancel.slot();
    net::co_spawn(worker.ioc, Session(conn, worker, over_limit, detail::EndpointText(peer)),
                  net::bind_cancellation_slot(slot, [conn](std::exception_ptr) {}));
  }

  // Waits for the first byte of a request; false when the connection should just close.
  net::awaitable<bool> AwaitRequest(Connection& c) {
    // A watch still pending from the last request is already the read for the next one.
    if (c.watch_pending) {
      // Ends with the next request's first bytes, or after the idle timeout without them.
      co_await FinishWatch(c, options_.idle_timeout);
      co_return !c.peer_gone && !stopping_ && c.buffer.size() > 0;
    }
    if (c.peer_gone || stopping_) co_return false;
    if (c.buffer.size() > 0) co_return true;
    c.deadline.ExpireAfter(options_.idle_timeout);
    auto [ec, n] = co_await c.socket.async_read_some(c.buffer.prepare(4096), kUseTuple);
    c.deadline.Clear();
    if (ec) co_return false;
    c.buffer.commit(n);
    co_return true;
  }

  net::awaitable<void> Session(std::shared_ptr<Connection> conn, Worker& worker, bool over_limit,
                               std::string peer) {
    // Cancellation (Stop, a client gone) must reach the handler as an error value.
    co_await net::this_coro::throw_if_cancelled(false);
    Connection& c = *conn;
    struct Leave {
      Impl* impl;
      Worker& worker;
      Connection& c;
      bool over_limit;
      ~Leave() {
        worker.Unlink(&c);
        (over_limit ? impl->overload_connections_ : impl->connections_).fetch_sub(1);
      }
    } leave{this, worker, c, over_limit};
    worker.Link(&c);
    if (over_limit) {
      co_await ServeOne(c, worker, peer, /*over_limit=*/true);
    } else {
      while (!stopping_ && co_await AwaitRequest(c)) {
        ++active_requests_;
        const bool keep = co_await ServeOne(c, worker, peer, /*over_limit=*/false);
        --active_requests_;
        if (!keep) break;
      }
    }
    co_await FinishWatch(c, std::chrono::milliseconds(0));
    co_await CloseGracefully(c);
  }

  // Reads and answers one request. Returns whether the connection may carry another.
  net::awaitable<bool> ServeOne(Connection& c, Worker& worker, const std::string& peer,
                                bool over_limit) {
    Parser parser;
    parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
    parser.body_limit(static_cast<uint64_t>(options_.max_body_bytes));
    core::BudgetShare reservation(&body_budget_);
    ServerRequest req;
    auto [ec, rejected, head_keep_alive] =
        co_await ReadRequest(c, parser, reservation, over_limit, req);
    if (ec == bhttp::error::end_of_stream || (ec && !parser.got_some())) co_return false;

    req.client = worker.client.get();
    req.background = worker.jobs.get();
    req.peer = peer;
    if (over_limit) {
      req.read_error = Overloaded("too many open connections (server.max_connections is " +
                                  std::to_string(options_.max_connections) + "); retry later");
    } else if (rejected) {
      req.read_error = std::move(rejected);
    } else if (!parser.is_done() && c.shutting_down) {
      req.read_error = Overloaded("the server is shutting down");
      req.cancelled = CancelReason::kShutdown;
    } else if (!parser.is_done()) {
      req.read_error = ReadErrorFor(ec, options_);
    } else {
      req.body = std::move(parser.body());
    }
    if (req.read_error && req.read_error->code == core::Errc::kOverloaded) overloaded_.fetch_add(1);
    const bool keep_alive = !req.read_error && head_keep_alive && !stopping_;
    const bool head_only = parser.method() == bhttp::verb::head;
    const bool http10 = parser.version() < 11;
    StreamWriter writer(c.socket, c.deadline, keep_alive, head_only, http10, options_.idle_timeout);
    // The buffer may have grown for a large head or trailer section; a handler can run for
    // minutes and the connection stay open for many more requests, so that memory goes now.
    if (c.buffer.capacity() > kKeptBufferBytes) c.buffer.shrink_to_fit();
    // Watch for the client leaving only when nothing of a next request is buffered: a read
    // now would be out of order. A request that was not read completely is not watched: its
    // client may still be sending.
    const bool watch = !req.read_error && c.buffer.size() == 0;
    co_await CallHandler(c, req, writer, watch);
    const bool keep = writer.keep_alive() && writer.ok() && writer.finished() && !c.peer_gone;
    if (!keep) co_await FinishWatch(c, std::chrono::milliseconds(0));
    co_return keep;
  }

  struct ReadOutcome {
    beast::error_code ec;                 // end_of_stream: the client closed between requests
    std::optional<core::Error> rejected;  // refused by us: framing, the body budget
    bool keep_alive = false;              // what the head asked for
  };

  // Reads one request within request_read_timeout, copying its head into `req` as soon as it
  // is read. On timeout the read is cancelled, not the socket closed, so that the handler can
  // still answer. Over the connection limit only the head is read, within kOverloadHeadTimeout.
  net::awaitable<ReadOutcome> ReadRequest(Connection& c, Parser& parser,
                                          core::BudgetShare& reservation, bool over_limit,
                                          ServerRequest& req) {
    c.deadline.ExpireAfter(over_limit
                               ? std::min(options_.request_read_timeout, kOverloadHeadTimeout)
                               : options_.request_read_timeout);
    ReadOutcome out;
    bool obs_fold = false;
    out.ec = co_await ReadHead(c, parser, obs_fold);
    // Taken before the body: a chunked body's trailer fields must not decide the connection's
    // fate (the parser stores none of them, RFC 9110 §6.5.1).
    if (HasHead(parser, out.ec)) {
      CopyHead(parser, req);
      out.keep_alive = parser.keep_alive();
    } else if (out.ec && out.ec != bhttp::error::end_of_stream) {
      CopyRequestLine(parser, c.buffer, req);
    }
    if (!out.ec && !over_limit) {
      out.rejected = FramingError(req.headers, parser.version(), obs_fold);
    }
    if (!out.ec && !over_limit && !out.rejected && !parser.is_done()) {
      if (auto length = parser.content_length();
          length && !reservation.GrowTo(static_cast<int64_t>(*length))) {
        out.rejected = BodyBudgetError();
      }
    }
    if (!out.ec && !over_limit && !out.rejected && !parser.is_done()) {
      std::tie(out.ec, out.rejected) = co_await ReadBody(c, parser, req.headers, reservation);
    }
    out.ec = c.deadline.Settle(out.ec);
    co_return out;
  }

  core::Error BodyBudgetError() const {
    return Overloaded("too many request bodies in flight (server.max_buffered_body_bytes is " +
                      std::to_string(options_.max_buffered_body_bytes) + "); retry later");
  }

  // Reads the request head into `parser`, as http::async_read_header does, and also tells
  // whether the raw head folds a line, which Beast accepts silently.
  net::awaitable<beast::error_code> ReadHead(Connection& c, Parser& parser, bool& obs_fold) {
    beast::error_code ec;
    for (;;) {
      if (c.buffer.size() > 0) {
        const auto data = c.buffer.data();
        const size_t used = parser.put(data, ec);
        if (parser.is_header_done()) {
          obs_fold = HasObsFold(std::string_view(static_cast<const char*>(data.data()), used));
        }
        c.buffer.consume(used);
        if (ec != bhttp::error::need_more) co_return ec;
        ec = {};
      }
      if (c.deadline.expired()) co_return beast::error::timeout;
      const size_t size = beast::read_size(c.buffer, kReadBytes);
      auto [rec, n] = co_await c.socket.async_read_some(c.buffer.prepare(size), kUseTuple);
      if (rec == net::error::eof) {
        if (!parser.got_some()) co_return bhttp::error::end_of_stream;
        parser.put_eof(ec);
        co_return ec ? ec : beast::error_code(bhttp::error::partial_message);
      }
      if (rec) co_return rec;
      c.buffer.commit(n);
    }
  }

  // Reads the body after the head, parsing as ReadHead does; a chunked body reserves its bytes
  // as they arrive. Body bytes leave the buffer as they are parsed, so what stays there while
  // the parser needs more is one incomplete chunk-size line (with its extensions) or trailer
  // section, which Beast bounds by no limit of its own: past max_header_bytes the request is
  // refused (kPayloadTooLarge), so the buffer holds at most that plus one read.
  net::awaitable<std::tuple<beast::error_code, std::optional<core::Error>>> ReadBody(
      Connection& c, Parser& parser, const Headers& headers, core::BudgetShare& reservation) {
    beast::error_code ec;
    // curl and others wait for "100 Continue" before sending a larger body. An HTTP/1.0 client
    // gets no 1xx: its Expect is ignored (RFC 9110 §10.1.1, §15.2).
    if (parser.version() >= 11 && EqualsIgnoreCase(headers.Get("expect"), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      std::tie(ec, std::ignore) = co_await net::async_write(
          c.socket, net::const_buffer(kContinue.data(), kContinue.size()), kUseTuple);
      if (ec) co_return std::make_tuple(ec, std::optional<core::Error>());
    }
    const auto pending_limit = static_cast<size_t>(options_.max_header_bytes);
    while (!parser.is_done()) {
      ec = detail::ParseBuffered(parser, c.buffer);  // often the whole body came with the head
      // A Content-Length was reserved before the body; a chunked body reserves as it grows.
      if (parser.chunked() && !reservation.GrowTo(static_cast<int64_t>(parser.body().size()))) {
        co_return std::make_tuple(beast::error_code(), std::optional(BodyBudgetError()));
      }
      if (!ec) continue;
      if (ec != bhttp::error::need_more) break;
      if (c.buffer.size() > pending_limit) {
        co_return std::make_tuple(beast::error_code(), std::optional(ChunkFramingError()));
      }
      // One read at a time, the deadline checked before each: a read started just as it passed
      // would otherwise wait for the next cancellation.
      if (c.deadline.expired()) {
        ec = beast::error::timeout;
        break;
      }
      const size_t size = beast::read_size(c.buffer, kReadBytes);
      auto [rec, n] = co_await c.socket.async_read_some(c.buffer.prepare(size), kUseTuple);
      if (rec == net::error::eof) {
        parser.put_eof(ec);
        if (!ec) ec = bhttp::error::partial_message;
        break;
      }
      if (rec) {
        ec = rec;
        break;
      }
      c.buffer.commit(n);
    }
    co_return std::make_tuple(ec, std::optional<core::Error>());
  }

  core::Error ChunkFramingError() const {
    return core::MakeError(core::Errc::kPayloadTooLarge,
                           "a chunk-size line or the trailer section of the request body "
                           "exceeds the limit of " +
                               std::to_string(options_.max_header_bytes) + " bytes");
  }

  net::awaitable<void> CallHandler(Connection& c, ServerRequest& req, StreamWriter& writer,
                                   bool watch) {
    if (c.shutting_down && req.cancelled == CancelReason::kNone) {
      req.cancelled = CancelReason::kShutdown;
    }
    c.running = &req;
    if (watch) StartWatch(c);
    bool failed = false;
    try {
      co_await handler_(req, writer);
    } catch (...) {
      // The very last net: the gateway's handler has its own, which answers in the client's
      // dialect and records; this one only keeps a broken handler from killing the worker.
      failed = true;
      std::fprintf(stderr, "switchyard: request handler threw; answering 500\n");
    }
    c.running = nullptr;
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

  // Starts the one read that notices the client leaving while its handler runs. Bytes that
  // arrive (a pipelined request) are kept for the next request and end the watch; EOF or an
  // error cancels the running handler (kClientClosed). The read goes to the socket itself,
  // beside the tcp_stream the handler writes through: one read and one write may be pending.
  //
  // Asio tries the read at once, which fails with EAGAIN on nearly every request (the client
  // waits for its answer). Waiting for readiness first costs an epoll_ctl instead (Asio re-arms
  // the edge-triggered registration): one system call either way, so the simpler form stays.
  void StartWatch(Connection& c) {
    c.watch_pending = true;
    c.socket.async_read_some(
        c.buffer.prepare(kWatchBytes),
        net::bind_cancellation_slot(
            c.watch_cancel.slot(),
            // Owns the connection: the session waits for the watch to end, but not if it ends
            // by an exception.
            [conn = c.shared_from_this()](const boost::system::error_code& ec, size_t n) {
              OnWatch(*conn, ec, n);
            }));
  }

  static void OnWatch(Connection& c, const boost::system::error_code& ec, size_t n) {
    c.watch_pending = false;
    if (!ec) {
      c.buffer.commit(n);
    } else if (ec != net::error::operation_aborted) {
      c.peer_gone = true;
      if (c.running && c.running->cancelled == CancelReason::kNone) {
        c.running->cancelled = CancelReason::kClientClosed;
        c.cancel.emit(net::cancellation_type::terminal);
      }
    }
    ResumeWatchWaiter(c, ec);
  }

  // Resumes the session waiting in AwaitWatch, if one is.
  static void ResumeWatchWaiter(Connection& c, const boost::system::error_code& ec) {
    if (!c.watch_waiter) return;
    WatchWaiter waiter(std::move(*c.watch_waiter));
    c.watch_waiter.reset();
    waiter.get_cancellation_slot().clear();
    std::move(waiter)(ec);
  }

  // Waits until the watch's completion has run, or until the session is cancelled (Stop). A
  // cancellation arrives inside CancelAll's walk over the connections, so it resumes the session
  // through a post, never from within that walk.
  static auto AwaitWatch(Connection& c) {
    return net::async_initiate<decltype(kUseTuple), void(boost::system::error_code)>(
        [&c](auto handler) {
          auto slot = net::get_associated_cancellation_slot(handler);
          if (slot.is_connected()) {
            // Holds no reference: the slot lives in the connection's own cancellation signal,
            // and is cleared whenever the waiter goes.
            slot.assign([&c](net::cancellation_type) {
              net::post(c.socket.get_executor(), [conn = c.shared_from_this()] {
                ResumeWatchWaiter(*conn, net::error::operation_aborted);
              });
            });
          }
          c.watch_waiter.emplace(std::move(handler));
        },
        kUseTuple);
  }

  // Ends the watch: lets it wait up to `linger` for the next request (the connection's deadline
  // cancels it then), or cancels it now, and returns once its completion has run (the buffer is
  // then the session's again).
  net::awaitable<void> FinishWatch(Connection& c, std::chrono::milliseconds linger) {
    if (!c.watch_pending) co_return;
    if (linger.count() > 0) {
      c.deadline.ExpireAfter(linger);
    } else {
      c.watch_cancel.emit(net::cancellation_type::terminal);
    }
    while (c.watch_pending) {
      co_await AwaitWatch(c);
      // Woken with the watch still pending: the session was cancelled (Stop), not the watch.
      if (c.watch_pending) c.watch_cancel.emit(net::cancellation_type::terminal);
    }
    c.deadline.Clear();
  }

  // Lingering close: after the answer, keep reading (and discarding) what the client still
  // sends, for at most kLingerTime and kLingerBytes. Closing with unread bytes makes the kernel
  // send a reset, and a client still uploading an oversized body would see that reset instead
  // of its 413.
  net::awaitable<void> CloseGracefully(Connection& c) {
    constexpr auto kLingerTime = std::chrono::seconds(1);
    constexpr size_t kLingerBytes = 64 * 1024 * 1024;
    boost::system::error_code ec;
    c.socket.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    // Into the connection's own read buffer, already allocated: every connection ends here, and
    // a 64 KiB sink of its own, allocated and zeroed, cost 69K instructions a connection, more
    // than half of what a whole request costs.
    constexpr size_t kDrainRead = 16 * 1024;
    // First without waiting: a client that has read its whole answer has usually closed by now,
    // and its end of file ends the drain here, without a timer or a round of the event loop.
    c.buffer.clear();
    if (ec = detail::ReadNow(c.socket, c.buffer, kDrainRead); ec && ec != net::error::would_block) {
      co_return;  // end of file, or the connection failed
    }
    c.deadline.ExpireAfter(kLingerTime);  // for the whole drain, not per read
    for (size_t drained = 0; drained < kLingerBytes && !c.deadline.expired();) {
      c.buffer.clear();
      auto [rec, n] = co_await c.socket.async_read_some(c.buffer.prepare(kDrainRead), kUseTuple);
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
  std::atomic<int64_t> connections_{0};
  std::atomic<int64_t> overload_connections_{0};
  core::ByteBudget body_budget_{options_.max_buffered_body_bytes};
  // Upstream answers read whole (http::ClientResponse::ReadAll), all workers' clients.
  core::ByteBudget answer_budget_{options_.max_buffered_answer_bytes};
  std::atomic<int64_t> accept_failures_{0};
  std::atomic<int64_t> logged_accept_failures_{0};
  std::atomic<int64_t> last_accept_log_ms_{0};
  std::atomic<int64_t> overloaded_{0};
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
ServerStats Server::stats() const { return impl_->stats(); }
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
