// http::Client: HTTP/1.1 client for upstream calls, with keep-alive connection reuse and TLS.
//
// There is one Client per worker thread (ServerRequest::client); it is not thread-safe and is
// used only from its worker's io_context, which is what makes the pool lock-free. https URLs are
// verified against the system trust store (or TlsOptions::ca_file) with SNI and host name
// checks; a failed verification is an error, never a warning.
//
// Lifetime: a ClientResponse may outlive the Send call, not the Client.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/byte_budget.h"
#include "core/result.h"
#include "http/headers.h"
#include "http/task.h"

namespace sy::http {

struct TlsOptions {
  bool verify = true;
  std::string ca_file;  // "" = system store
};

struct ClientRequest {
  std::string method = "POST";
  std::string url;  // absolute http:// or https:// URL
  Headers headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds first_byte_timeout{60'000};  // until the response head arrives
  std::chrono::milliseconds idle_timeout{60'000};        // between body reads
  // No operation runs past this point, whatever the per-step timeouts say.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  TlsOptions tls;
  // Once this response is read, its connection returns to the worker's idle pool for its origin
  // (and TLS options) only while fewer than this many wait there; 0 keeps none.
  size_t max_idle_connections = 64;
  // Optional: set to true once the whole request has been written to the upstream, whatever
  // happens after (a lost or malformed answer, a timeout, a reset). From then on the upstream
  // may act on the request and bill it; the caller prices a failed attempt by it.
  bool* delivered = nullptr;
};

// A response whose head has arrived; the body is read as it comes.
class ClientResponse {
 public:
  virtual ~ClientResponse() = default;
  virtual int status() const = 0;
  virtual const Headers& headers() const = 0;
  // The body bytes already read, or, when none are, the next piece as it arrives (chunk framing
  // removed): chunks that arrived together come in one piece. "" once the body is done.
  // Fails with kUpstreamTimeout (idle timeout or deadline) or kUpstreamUnavailable (reset, a
  // malformed chunk; bytes before a malformed chunk are returned first, the failure next).
  virtual Task<core::Result<std::string>> Read() = 0;
  // The rest of the body; fails with kUpstreamUnavailable past `limit_bytes`. With `hold`, the
  // bytes the body takes in memory (its string's capacity) are reserved in hold's budget as they
  // arrive, a stated Content-Length at once: past the budget it fails with kOverloaded and
  // keeps nothing. The caller keeps `hold` as long as it keeps the body.
  Task<core::Result<std::string>> ReadAll(int64_t limit_bytes, core::BudgetShare* hold = nullptr);
  // Reads and drops the rest of the body, within `timeout` in all (where the response can bound
  // its reads), at most `max_bytes`: a body that ended leaves its connection fit for reuse.
  // Returns whether the body ended.
  virtual Task<bool> Discard(std::chrono::milliseconds timeout, int64_t max_bytes);
};

class Client {
 public:
  virtual ~Client() = default;
  // Sends the request and waits for the final response head (any status from 200 on). Interim
  // 1xx heads (100 Continue, 103 Early Hints) are read past within the first-byte timeout.
  // Host names are looked up once per worker and reused for 30 s (then refreshed while the last
  // answer serves, for up to 10 minutes); the connect timeout bounds the lookup and the connect.
  // Fails with kUpstreamTimeout (connect or first byte), kUpstreamUnavailable (resolve, connect,
  // TLS, reset; a 101 or more than a few interim heads, and the connection is dropped),
  // kInvalidRequest (bad URL).
  // A request is sent at most once to the upstream, since a provider may act on (and bill) a
  // request whose answer was lost. Idle pooled connections are checked without blocking before
  // reuse, and one the upstream closed (or sent unsolicited bytes on) is dropped for the next
  // one or a fresh connection. A request is re-sent on a fresh connection only when writing it
  // to a reused connection failed before a single byte was accepted. Once any byte went out, a
  // reset or EOF before the response head fails the call with kUpstreamUnavailable.
  virtual Task<core::Result<std::unique_ptr<ClientResponse>>> Send(ClientRequest request) = 0;
  // Drops idle connections; later responses close their connections instead of returning them.
  virtual void Close() = 0;

  // The budget the answers this client's callers read whole share (http::Server sets its
  // process-wide one on every worker's client); null: none.
  core::ByteBudget* answer_budget() const { return answer_budget_; }
  void set_answer_budget(core::ByteBudget* budget) { answer_budget_ = budget; }

 private:
  core::ByteBudget* answer_budget_ = nullptr;
};

}  // namespace sy::http
