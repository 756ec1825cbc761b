#include "http/client.h"

#include <array>
#include <cerrno>
#include <charconv>
#include <map>
#include <optional>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <sys/socket.h>

#include "http/detail/client_internal.h"
#include "http/detail/deadline.h"
#include "http/detail/immediate.h"
#include "http/detail/message_parser.h"
#include "http/detail/resolver.h"
#include "http/detail/wire.h"

namespace sy::http {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);
constexpr size_t kMaxCachedTargets = 256;
// A connection's read buffer starts this large. Beast reads min(capacity, 64 KiB) and at least
// 512 bytes; from an empty buffer, 512, which split a typical answer (a 600-byte head and body)
// into two reads, two wake-ups and two parser rounds on every request.
constexpr size_t kConnectionBufferBytes = 16 * 1024;
// Interim (1xx) heads skipped before a request's final head, at most: an upstream may send a
// 100 Continue and a 103 Early Hints or two; one that keeps sending them is not answering.
constexpr int kMaxInterimHeads = 5;

struct Target {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;  // path and query
  std::string origin;
  std::string authority;  // the Host header: host[:port] as the URL spells it ("[::1]:8080")
};

core::Result<Target> ParseTarget(const std::string& url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || !parsed->has_authority()) {
    return core::MakeError(core::Errc::kInvalidRequest, "\"" + url + "\" is not an absolute URL");
  }
  Target t;
  const auto scheme = parsed->scheme();
  if (scheme != "http" && scheme != "https") {
    return core::MakeError(core::Errc::kInvalidRequest, "unsupported URL scheme in " + url);
  }
  t.tls = scheme == "https";
  t.host = parsed->host_address();
  t.port = parsed->has_port() ? std::string(parsed->port()) : (t.tls ? "443" : "80");
  t.path = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
  if (parsed->has_query()) t.path += "?" + std::string(parsed->encoded_query());
  t.origin = std::string(scheme) + "://" + t.host + ":" + t.port;
  t.authority = std::string(parsed->encoded_host_and_port());
  return t;
}

using detail::ResponseParser;

std::unique_ptr<ResponseParser> NewParser() {
  auto parser = std::make_unique<ResponseParser>();
  parser->body_limit(boost::none);  // callers bound what they keep (ReadAll)
  return parser;
}

// A 1xx head other than 101: RFC 9110 section 15.2 has a client skip it and read on, since
// the final answer follows on the same connection.
bool IsInterim(unsigned status) { return status / 100 == 1 && status != 101; }

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct Connection {
  explicit Connection(std::variant<PlainStream, TlsStream> s)
      : stream(std::move(s)), deadline(tcp().socket()) {
    tcp().expires_never();  // past the connect, `deadline` bounds every operation
    buffer.reserve(kConnectionBufferBytes);
  }
  std::variant<PlainStream, TlsStream> stream;
  detail::Deadline deadline;
  beast::flat_buffer buffer;
  std::string pool_key;  // PoolKey(): origin plus, for https, the verification it passed

  beast::tcp_stream& tcp() {
    return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                      stream);
  }
  // Bounds the operations until deadline.Settle() by the earlier of now + timeout and `at`.
  void Expire(std::chrono::milliseconds timeout, Clock::time_point at) {
    deadline.ExpireAt(std::min(Clock::now() + timeout, at));
  }
};

// TLS contexts, and so the verification a connection passed, are told apart by this key.
std::string TlsKey(const TlsOptions& tls) { return (tls.verify ? "v:" : "n:") + tls.ca_file; }

// Idle connections are pooled per origin and TLS options: a connection opened with verify=false
// (or another CA file) must never serve a request that asks for stricter verification.
std::string PoolKey(const Target& target, const TlsOptions& tls) {
  return target.tls ? target.origin + " " + TlsKey(tls) : target.origin;
}

// A timeout names which bound it hit when it was the request's whole deadline (the caller's
// total, e.g. failover.total_deadline_ms) rather than the step's own timeout: an operator then
// knows which setting to look at.
core::Error NameTheDeadline(core::Error error, Clock::time_point deadline) {
  if (error.code == core::Errc::kUpstreamTimeout && Clock::now() >= deadline) {
    error.message += " (the request's deadline passed)";
  }
  return error;
}

core::Error ErrorFrom(const beast::error_code& ec, std::string_view during,
                      Clock::time_point deadline) {
  const bool timeout = ec == beast::error::timeout;
  std::string message = timeout ? "upstream timed out " : "upstream connection failed ";
  message += during;
  if (!timeout) message += ": " + ec.message();
  return NameTheDeadline(
      core::MakeError(timeout ? core::Errc::kUpstreamTimeout : core::Errc::kUpstreamUnavailable,
                      std::move(message)),
      deadline);
}

// A request whose upstream answered 101 or kept sending interim heads (Exchange).
core::Error NoFinalHead(unsigned status) {
  return core::MakeError(core::Errc::kUpstreamUnavailable,
                         status == 101
                             ? std::string("upstream switched protocols (101) unasked")
                             : "upstream sent more than " + std::to_string(kMaxInterimHeads) +
                                   " interim (1xx) responses");
}

// Whether an idle pooled connection may carry a new request, checked without blocking: the
// upstream has not closed it (recv peeks 0 bytes) and has sent nothing since the last response
// (unsolicited bytes, such as a TLS close_notify, leave no message boundary to reuse it at).
// For TLS the TCP socket is peeked: any TLS record arriving while idle disqualifies it.
bool IsReusable(Connection& conn) {
  if (conn.buffer.size() != 0) return false;
  char byte = 0;
  const ssize_t n = ::recv(conn.tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// How far a request got on a connection.
struct ExchangeResult {
  beast::error_code ec;
  size_t bytes_written = 0;
};

class AsioClient;

class AsioResponse final : public ClientResponse {
 public:
  AsioResponse(AsioClient& owner, std::unique_ptr<Connection> conn,
               std::unique_ptr<ResponseParser> parser, const ClientRequest& request);
  ~AsioResponse() override;
  int status() const override { return status_; }
  const Headers& headers() const override { return headers_; }
  Task<core::Result<std::string>> Read() override;
  Task<bool> Discard(std::chrono::milliseconds timeout, int64_t max_bytes) override;

 private:
  AsioClient& owner_;
  std::unique_ptr<Connection> conn_;
  std::unique_ptr<ResponseParser> parser_;
  std::chrono::milliseconds idle_timeout_;
  Clock::time_point deadline_;
  size_t max_idle_;
  int status_ = 0;
  Headers headers_;
  bool done_ = false;
  // A malformed element met after body bytes that Read returned first: the next Read's error.
  std::optional<core::Error> failed_;
};

class AsioClient final : public Client {
 public:
  AsioClient(net::io_context& ioc, detail::Resolver::Lookup lookup)
      : ioc_(ioc), resolver_(ioc, std::move(lookup), {}) {}

  Task<core::Result<std::unique_ptr<ClientResponse>>> Send(ClientRequest request) override {
    auto target = TargetFor(request.url);
    if (!target) co_return target.error();
    const std::string head =
        detail::RequestHead(request.method, (*target)->path, (*target)->authority, request.headers,
                            request.body.size());
    const std::array<net::const_buffer, 2> message{net::buffer(head), net::buffer(request.body)};

    // One resend at most, and only of a request that provably never reached the upstream: its
    // write on a reused connection failed before a single byte was accepted. Once bytes went
    // out, the upstream may have processed (and billed) the request, so a reset or EOF before
    // the response head is a failed attempt like any other.
    bool may_resend = true;
    for (;;) {
      auto conn = may_resend ? TakeIdle(PoolKey(**target, request.tls)) : nullptr;
      const bool reused = conn != nullptr;
      if (!conn) {
        auto fresh = co_await Connect(**target, request);
        if (!fresh) co_return fresh.error();
        conn = std::move(*fresh);
      }
      auto parser = NewParser();
      const ExchangeResult result = co_await Exchange(*conn, message, parser, request);
      if (!result.ec) {
        // A 101 (never asked for) or yet another interim head: the connection holds no answer
        // at a message boundary and is dropped with `conn`.
        if (const unsigned status = parser->status(); status / 100 == 1) {
          co_return NoFinalHead(status);
        }
        co_return std::unique_ptr<ClientResponse>(
            new AsioResponse(*this, std::move(conn), std::move(parser), request));
      }
      const bool never_sent = result.bytes_written == 0 && result.ec != beast::error::timeout;
      if (!(reused && may_resend && never_sent)) {
        const bool sent = result.bytes_written == head.size() + request.body.size();
        co_return ErrorFrom(
            result.ec, sent ? "while waiting for the response head" : "while sending the request",
            request.deadline);
      }
      may_resend = false;
    }
  }

  void Close() override {
    closed_ = true;
    idle_.clear();
  }

  void Release(std::unique_ptr<Connection> conn, size_t max_idle) {
    if (closed_) return;
    auto& list = idle_[conn->pool_key];
    if (list.size() < max_idle) list.push_back(std::move(conn));
  }

 private:
  // Upstream URLs come from the config, a handful per worker, so each is parsed once (parsing
  // cost about 4K instructions a request). Shared, so that clearing the cache (bounded, should
  // URLs ever vary per request) leaves in-flight sends their target.
  core::Result<std::shared_ptr<const Target>> TargetFor(const std::string& url) {
    if (auto it = targets_.find(url); it != targets_.end()) return it->second;
    auto parsed = ParseTarget(url);
    if (!parsed) return std::move(parsed).error();
    if (targets_.size() >= kMaxCachedTargets) targets_.clear();
    auto target = std::make_shared<const Target>(std::move(*parsed));
    targets_.emplace(url, target);
    return target;
  }

  // The most recently used idle connection that is still reusable; dead ones are dropped.
  std::unique_ptr<Connection> TakeIdle(const std::string& pool_key) {
    auto it = idle_.find(pool_key);
    if (it == idle_.end()) return nullptr;
    auto& list = it->second;
    while (!list.empty()) {
      auto conn = std::move(list.back());
      list.pop_back();
      if (IsReusable(*conn)) return conn;
    }
    return nullptr;
  }

  Task<ExchangeResult> Exchange(Connection& conn, const std::array<net::const_buffer, 2>& msg,
                                std::unique_ptr<ResponseParser>& parser,
                                const ClientRequest& request) {
    conn.Expire(request.first_byte_timeout, request.deadline);
    // Over plain TCP, what the socket takes at once needs no asynchronous write (immediate.h).
    const size_t now = std::holds_alternative<PlainStream>(conn.stream)
                           ? detail::WriteNow(conn.tcp().socket(), msg)
                           : 0;
    beast::buffers_suffix<std::array<net::const_buffer, 2>> rest(msg);
    rest.consume(now);
    size_t written = now;
    if (beast::buffer_bytes(rest) > 0) {
      auto [wec, n] = co_await std::visit(
          [&](auto& s) { return net::async_write(s, rest, kUseTuple); }, conn.stream);
      written += n;
      if (wec) co_return ExchangeResult{conn.deadline.Settle(wec), written};
    }
    if (request.delivered) *request.delivered = true;
    // Interim heads are read past under the same deadline: a parser that completed a 1xx head
    // is done, so the next head gets a fresh one (the common 200 costs no allocation more).
    for (int interim = 0;; ++interim) {
      auto [rec, read] = co_await std::visit(
          [&](auto& s) { return bhttp::async_read_header(s, conn.buffer, *parser, kUseTuple); },
          conn.stream);
      if (rec || !IsInterim(parser->status()) || interim == kMaxInterimHeads) {
        co_return ExchangeResult{conn.deadline.Settle(rec), written};
      }
      parser = NewParser();
    }
  }

  Task<core::Result<std::unique_ptr<Connection>>> Connect(const Target& target,
                                                          const ClientRequest& request) {
    // The connect timeout bounds the name's lookup and the connect together.
    const auto connected_by = std::min(Clock::now() + request.connect_timeout, request.deadline);
    auto endpoints = co_await resolver_.Resolve(target.host, target.port, connected_by);
    if (!endpoints) co_return NameTheDeadline(std::move(endpoints).error(), request.deadline);
    beast::tcp_stream tcp_stream(ioc_);
    tcp_stream.expires_at(connected_by);  // once per connection: tcp_stream's own timer will do
    auto [cec, endpoint] = co_await tcp_stream.async_connect(*endpoints, kUseTuple);
    if (cec) co_return ErrorFrom(cec, "connecting to " + target.origin, request.deadline);
    boost::system::error_code ignored;
    tcp_stream.socket().set_option(tcp::no_delay(true), ignored);
    std::unique_ptr<Connection> conn;
    if (!target.tls) {
      conn = std::make_unique<Connection>(std::move(tcp_stream));
    } else {
      auto tls = co_await Handshake(std::move(tcp_stream), target, request, connected_by);
      if (!tls) co_return tls.error();
      conn = std::move(*tls);
    }
    conn->pool_key = PoolKey(target, request.tls);
    co_return conn;
  }

  Task<core::Result<std::unique_ptr<Connection>>> Handshake(beast::tcp_stream tcp_stream,
                                                            const Target& target,
                                                            const ClientRequest& request,
                                                            Clock::time_point connected_by) {
    auto ctx = Context(request.tls);
    if (!ctx) co_return ctx.error();
    auto conn = std::make_unique<Connection>(TlsStream(std::move(tcp_stream), **ctx));
    auto& tls = std::get<TlsStream>(conn->stream);
    // SSL_set_tlsext_host_name is a macro with a C cast; this is its expansion.
    if (!SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(target.host.c_str()))) {
      co_return core::MakeError(core::Errc::kUpstreamUnavailable, "cannot set TLS SNI");
    }
    if (request.tls.verify) tls.set_verify_callback(ssl::host_name_verification(target.host));
    conn->deadline.ExpireAt(connected_by);  // the handshake is part of connecting
    auto [hec] = co_await tls.async_handshake(ssl::stream_base::client, kUseTuple);
    if (auto ec = conn->deadline.Settle(hec)) {
      co_return ErrorFrom(ec, "in the TLS handshake with " + target.origin, request.deadline);
    }
    co_return conn;
  }

  core::Result<ssl::context*> Context(const TlsOptions& tls) {
    const std::string key = TlsKey(tls);
    if (auto it = contexts_.find(key); it != contexts_.end()) return it->second.get();
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    if (tls.ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
    } else {
      ctx->load_verify_file(tls.ca_file, ec);
    }
    if (ec) {
      return core::MakeError(core::Errc::kInternal, "cannot load CA certificates: " + ec.message());
    }
    ctx->set_verify_mode(tls.verify ? ssl::verify_peer : ssl::verify_none);
    return contexts_.emplace(key, std::move(ctx)).first->second.get();
  }

  net::io_context& ioc_;
  detail::Resolver resolver_;
  std::map<std::string, std::unique_ptr<ssl::context>> contexts_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
  std::unordered_map<std::string, std::shared_ptr<const Target>> targets_;
  bool closed_ = false;
};

AsioResponse::AsioResponse(AsioClient& owner, std::unique_ptr<Connection> conn,
                           std::unique_ptr<ResponseParser> parser, const ClientRequest& request)
    : owner_(owner),
      conn_(std::move(conn)),
      parser_(std::move(parser)),
      idle_timeout_(request.idle_timeout),
      deadline_(request.deadline),
      max_idle_(request.max_idle_connections) {
  status_ = static_cast<int>(parser_->status());
  headers_ = std::move(parser_->headers());
}

AsioResponse::~AsioResponse() {
  // Only a fully read body leaves the connection at a message boundary, fit for reuse.
  if (conn_ && done_ && parser_->keep_alive()) owner_.Release(std::move(conn_), max_idle_);
}

Task<bool> AsioResponse::Discard(std::chrono::milliseconds timeout, int64_t max_bytes) {
  // What is left is usually already buffered (the terminator came with the last event); a
  // slow, silent or trickling upstream costs at most `timeout` in all, then the connection is
  // dropped.
  idle_timeout_ = std::min(idle_timeout_, timeout);
  deadline_ = std::min(deadline_, Clock::now() + timeout);
  co_return co_await ClientResponse::Discard(timeout, max_bytes);
}

Task<core::Result<std::string>> AsioResponse::Read() {
  if (failed_) co_return *std::exchange(failed_, std::nullopt);
  if (!done_ && !conn_) {  // an earlier Read failed and dropped the connection
    co_return core::MakeError(core::Errc::kUpstreamUnavailable,
                              "the upstream response body already failed");
  }
  std::string out;
  // Body bytes are parsed straight into `out`; the parser must not keep a pointer into this
  // frame past it, whichever way it ends.
  struct Unsink {
    ResponseParser& parser;
    ~Unsink() { parser.set_sink(nullptr); }
  } unsink{*parser_};
  parser_->set_sink(&out);
  // Everything already read goes out in one piece: often all of it came with the head, and a
  // stream's chunks that arrived together are its events that arrived together, which the relay
  // then writes to its client together (one write, not one per chunk). Reads from the network
  // only when nothing is buffered.
  while (!done_) {
    if (parser_->is_done()) {
      done_ = true;
      break;
    }
    beast::error_code ec = detail::ParseBuffered(*parser_, conn_->buffer);
    if (ec == bhttp::error::need_more) {
      if (!out.empty()) break;
      conn_->Expire(idle_timeout_, deadline_);
      auto [read_ec, n] = co_await std::visit(
          [&](auto& s) { return bhttp::async_read_some(s, conn_->buffer, *parser_, kUseTuple); },
          conn_->stream);
      ec = conn_->deadline.Settle(read_ec);
    }
    if (ec) {
      conn_.reset();
      core::Error error = ErrorFrom(ec, "while reading the response body", deadline_);
      if (out.empty()) co_return error;
      failed_ = std::move(error);  // the bytes before it first, as they arrived
      break;
    }
    if (parser_->is_done()) done_ = true;
  }
  co_return out;
}

}  // namespace

Task<bool> ClientResponse::Discard(std::chrono::milliseconds /*timeout*/, int64_t max_bytes) {
  int64_t dropped = 0;
  while (dropped <= max_bytes) {
    auto piece = co_await Read();
    if (!piece) co_return false;
    if (piece->empty()) co_return true;
    dropped += static_cast<int64_t>(piece->size());
  }
  co_return false;
}

namespace {

core::Error AnswerBudgetError() {
  return core::MakeError(core::Errc::kOverloaded,
                         "too many upstream answers held at once "
                         "(server.max_buffered_answer_bytes); retry later");
}

// A Content-Length header's value, when it is one decimal number.
std::optional<int64_t> StatedLength(const Headers& headers) {
  const std::string_view text = headers.Get("content-length");
  int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || n < 0) {
    return std::nullopt;
  }
  return n;
}

}  // namespace

Task<core::Result<std::string>> ClientResponse::ReadAll(int64_t limit_bytes,
                                                        core::BudgetShare* hold) {
  std::string all;
  // A stated length is taken at once: the string then never doubles past it, and an answer the
  // budget cannot hold is refused before it is read.
  if (const auto length = StatedLength(headers()); length && *length <= limit_bytes) {
    if (hold && !hold->GrowTo(*length)) co_return AnswerBudgetError();
    all.reserve(static_cast<size_t>(*length));
  }
  for (;;) {
    auto piece = co_await Read();
    if (!piece) co_return piece.error();
    if (piece->empty()) co_return all;
    if (static_cast<int64_t>(all.size() + piece->size()) > limit_bytes) {
      co_return core::MakeError(
          core::Errc::kUpstreamUnavailable,
          "upstream response exceeds " + std::to_string(limit_bytes) + " bytes");
    }
    all += *piece;
    if (hold && !hold->GrowTo(static_cast<int64_t>(all.capacity()))) {
      co_return AnswerBudgetError();
    }
  }
}

namespace detail {

std::unique_ptr<Client> MakeClient(boost::asio::io_context& ioc) {
  return MakeClient(ioc, Resolver::SystemLookup(ioc));
}

std::unique_ptr<Client> MakeClient(boost::asio::io_context& ioc, Resolver::Lookup lookup) {
  return std::make_unique<AsioClient>(ioc, std::move(lookup));
}

}  // namespace detail
}  // namespace sy::http
