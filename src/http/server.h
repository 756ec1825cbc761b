// http::Server: the HTTP/1.1 listener of the gateway.
//
// One io_context per worker thread. The server binds ONE listening socket (SO_REUSEADDR, never
// SO_REUSEPORT, so a second process cannot bind the same address) and gives every worker's
// acceptor a dup() of it; every connection is one coroutine on the worker that accepted it.
// Every request, including one the server could not read completely (too large, too slow,
// malformed, over a capacity limit), is handed to the Handler, so that the application answers
// in the client's dialect and records it; only bytes that are not HTTP at all are answered by
// the server itself.
//
// Limits, none unbounded, process-wide (over every worker) unless said otherwise:
// - max_connections open client connections. Past it, a new connection has its request head
//   read (at most max_header_bytes, within kOverloadHeadTimeout) and handed to the Handler with
//   read_error kOverloaded, then is closed. At most max_connections / 8 + 16 such connections
//   exist at once; beyond that a new connection is closed as soon as it is accepted.
// - max_buffered_body_bytes of request bodies held in memory. A body with a Content-Length
//   reserves all of it when its head arrives; a chunked body reserves as it grows (it may pass
//   the budget by one read, at most 64 KiB). The reservation is released when the handler has
//   finished. A body that does not fit is not read: read_error kOverloaded, connection closed.
// - max_buffered_answer_bytes of upstream answers read whole by the workers' clients
//   (ClientResponse::ReadAll with the client's answer budget; see http/client.h).
// - Per connection, what is buffered beyond the body: the request head at most max_header_bytes
//   (kPayloadTooLarge past it), and while a chunked body is read, an incomplete chunk-size line
//   (with its extensions) or trailer section also at most max_header_bytes (kPayloadTooLarge,
//   connection closed), each plus one read of at most 64 KiB. Before its handler runs, a
//   connection gives back read buffer past 16 KiB, so a large head does not pin memory for the
//   connection's life.
// - Framing (RFC 9112): a Transfer-Encoding other than exactly "chunked", Transfer-Encoding
//   with Content-Length or in HTTP/1.0, a missing (HTTP/1.1) or repeated Host header, and
//   obsolete line folding are kInvalidRequest; the body is not read and the connection closes,
//   so bytes after the head are never taken for a request.
// - When accept() fails for lack of descriptors or memory, the worker stops accepting for
//   50 ms, doubling up to 1 s while it lasts, keeps serving its open connections, and logs to
//   stderr at most once per 10 s with the number of failures.
//
// Thread-safety: Start/Stop/address/stats from one controlling thread. The Handler runs on
// worker threads, concurrently on different workers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "http/headers.h"
#include "http/task.h"

namespace sy::http {

class Client;

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free port
  int threads = 1;
  int64_t max_body_bytes = 8 * 1024 * 1024;
  int64_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds request_read_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  // Open client connections over all workers; see the limits above.
  int max_connections = 4096;
  // Request body bytes buffered at once over all connections; see the limits above.
  int64_t max_buffered_body_bytes = int64_t{256} * 1024 * 1024;
  // Upstream answer bytes read whole at once over all workers; see the limits above.
  int64_t max_buffered_answer_bytes = int64_t{256} * 1024 * 1024;
  // Stop(): how long handlers cancelled after the grace period get to finish.
  std::chrono::milliseconds cancel_wait{3'000};
};

// Why the server cancelled a running handler.
enum class CancelReason {
  kNone,
  kClientClosed,  // the client closed or reset its connection while the handler ran
  kShutdown,      // Stop(): the grace period ran out
};

class Background;

struct ServerRequest {
  std::string method;
  std::string target;  // path and query, as sent
  // The request head's fields. The trailer fields of a chunked body are discarded: they never
  // count as headers (RFC 9110 §6.5.1).
  Headers headers;
  std::string body;
  std::string peer;  // the client: "127.0.0.1:53122", "[::1]:53122"
  // Set when the request could not be read completely: kPayloadTooLarge (body, headers, or a
  // chunk-size line or trailer section over max_header_bytes), kRequestTimeout (client too
  // slow), kInvalidRequest (malformed HTTP, bad framing), kOverloaded (over max_connections or
  // max_buffered_body_bytes, or the server is stopping).
  // The handler answers it like any failed request; the connection is closed afterwards.
  std::optional<core::Error> read_error;
  // Set by the server just before it cancels the handler. What the handler then sees: the
  // operation it is awaiting completes at once with an error value, never an exception:
  // Client::Send / ClientResponse::Read fail (kUpstreamUnavailable, "Operation canceled"),
  // SleepFor returns early, a ResponseWriter call returns false. The cancellation hits the one
  // operation pending at that moment (also inside a nested coroutine); operations started
  // afterwards run normally, so the handler can still answer (kShutdown: the client is there)
  // and record the request; a host-name lookup the call was waiting for runs on and serves the
  // next caller (detail::Resolver). On kClientClosed, writes to the client fail anyway.
  // Only the connection's own worker thread writes this field.
  CancelReason cancelled = CancelReason::kNone;
  // The worker's upstream client, for calls made while serving this request.
  Client* client = nullptr;
  // Starts work that outlives this request's response on the same worker (shadow traffic).
  Background* background = nullptr;

  std::string_view Path() const;  // target without the query
  // What follows the '?', "" when there is none; a view into target, never a null pointer.
  std::string_view Query() const;
};

// One response per request: either Send, or StartStream, Write..., EndStream.
// Each returns false when the client has gone away; the handler should then stop producing.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual Task<bool> Send(int status, const Headers& headers, std::string body) = 0;
  // Commits to a streamed response: the status line and headers go out with the first Write
  // (or EndStream), in the same write; the body follows in chunks (chunked encoding).
  // To an HTTP/1.0 client the body is sent close-delimited instead: no Transfer-Encoding,
  // "connection: close", no trailers, and the connection closes after EndStream.
  virtual Task<bool> StartStream(int status, const Headers& headers) = 0;
  // Sends one chunk and flushes it to the socket before returning.
  virtual Task<bool> Write(std::string_view data) = 0;
  // Ends the chunked body; `trailers` (declared in a "trailer" header at StartStream) carry
  // what is known only at the end, such as the cost.
  virtual Task<bool> EndStream(const Headers& trailers = {}) = 0;
  // Write(data) (when not empty) then EndStream(trailers); false when either fails. The
  // server's writer overrides it to send both in one write, where the two would cost two.
  virtual Task<bool> WriteAndEnd(std::string_view data, const Headers& trailers);
  // True once anything has been sent.
  virtual bool started() const = 0;
};

using Handler = std::function<Task<void>(ServerRequest&, ResponseWriter&)>;

// Work a handler leaves running after its response (shadow traffic): a coroutine over a request
// of its own, which it may fill as it likes and which lives until the job ends.
using BackgroundJob = std::function<Task<void>(ServerRequest&)>;

// Runs background jobs on a worker. A job runs on the worker's thread with `client` set to the
// worker's client; it must not throw. Stop treats a running job as a request in flight: it waits
// for it within the grace, then cancels it as it cancels a handler (the job's request gets
// cancelled = kShutdown, the operation it awaits fails at once) and waits cancel_wait for it to
// end. So a job that records what it did still records it when the server stops.
class Background {
 public:
  virtual ~Background() = default;
  // Starts `job` over `request`. False, and nothing started, once the server is stopping.
  // Called only on the worker's thread (from a handler running there).
  virtual bool Start(ServerRequest request, BackgroundJob job) = 0;
};

// A snapshot of the server's counters, for operations and tests.
struct ServerStats {
  int64_t connections = 0;          // open client connections within max_connections
  int64_t buffered_body_bytes = 0;  // reserved from max_buffered_body_bytes
  int64_t accept_failures = 0;      // accept() failures for lack of descriptors or memory
  int64_t overloaded = 0;           // requests turned away with kOverloaded
};

class Server {
 public:
  // Binds the listening socket and starts the worker threads.
  // Fails with kInternal naming the address when it cannot listen (e.g. "cannot listen on
  // 127.0.0.1:8080: address already in use", also when another process holds it).
  static core::Result<std::unique_ptr<Server>> Start(const ServerOptions& options, Handler handler);
  ~Server();

  // "127.0.0.1:8080" with the bound port.
  std::string address() const;

  ServerStats stats() const;

  // Stops accepting and lets in-flight requests finish for up to `grace`. Then it cancels
  // every handler still running (ServerRequest::cancelled = kShutdown, see there) and every
  // request still being read (its handler gets kOverloaded), and waits up to
  // options.cancel_wait for them to answer; then it closes everything and joins the workers.
  // Returns within grace + cancel_wait plus a few ms. Idempotent.
  void Stop(std::chrono::milliseconds grace);

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Splits "host:port" (IPv6 as "[::1]:8080"). Fails with kInvalidRequest.
core::Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view address);

}  // namespace sy::http
