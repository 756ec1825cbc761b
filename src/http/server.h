// http::Server: the HTTP/1.1 listener of the gateway.
//
// One io_context per worker thread, each with its own SO_REUSEPORT acceptor on the same address,
// so connections spread over cores with no shared lock; every connection is one coroutine on its
// worker. Every request, including one the server could not read completely (too large, too slow,
// malformed), is handed to the Handler, so that the application answers in the client's dialect
// and records it; only bytes that are not HTTP at all are answered by the server itself.
//
// Thread-safety: Start/Stop/address from one controlling thread. The Handler runs on worker
// threads, concurrently on different workers.
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
};

// Why the server cancelled a running handler (ServerRequest::cancelled).
enum class CancelReason { kNone, kClientClosed, kShutdown };

struct ServerRequest {
  std::string method;
  std::string target;  // path and query, as sent
  Headers headers;
  std::string body;
  std::string peer;  // "127.0.0.1:53122"
  // Set when the request could not be read completely: kPayloadTooLarge (body or headers),
  // kRequestTimeout (client too slow), kInvalidRequest (malformed HTTP). The handler answers it
  // like any failed request; the connection is closed afterwards.
  std::optional<core::Error> read_error;
  // The worker's upstream client, for calls made while serving this request.
  Client* client = nullptr;
  // Set by the server before it cancels the operation the handler is awaiting.
  CancelReason cancelled = CancelReason::kNone;

  std::string_view Path() const;   // target without the query
  std::string_view Query() const;  // what follows the '?', "" when there is none
};

// One response per request: either Send, or StartStream, Write..., EndStream.
// Each returns false when the client has gone away; the handler should then stop producing.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual Task<bool> Send(int status, const Headers& headers, std::string body) = 0;
  // Sends the status line and headers now; the body follows in chunks (chunked encoding).
  virtual Task<bool> StartStream(int status, const Headers& headers) = 0;
  // Sends one chunk and flushes it to the socket before returning.
  virtual Task<bool> Write(std::string_view data) = 0;
  // Ends the chunked body; `trailers` (declared in a "trailer" header at StartStream) carry
  // what is known only at the end, such as the cost.
  virtual Task<bool> EndStream(const Headers& trailers = {}) = 0;
  // True once anything has been sent.
  virtual bool started() const = 0;
};

using Handler = std::function<Task<void>(ServerRequest&, ResponseWriter&)>;

class Server {
 public:
  // Binds every worker's acceptor and starts the worker threads.
  // Fails with kInternal naming the address when it cannot listen.
  static core::Result<std::unique_ptr<Server>> Start(const ServerOptions& options, Handler handler);
  ~Server();

  // "127.0.0.1:8080" with the bound port.
  std::string address() const;

  // Stops accepting, lets in-flight requests finish for up to `grace`, then closes everything
  // and joins the workers. Idempotent.
  void Stop(std::chrono::milliseconds grace);

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Splits "host:port" (IPv6 as "[::1]:8080"). Fails with kInvalidRequest.
core::Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view address);

}  // namespace sy::http
