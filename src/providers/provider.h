// providers::Provider: one upstream API kind (OpenAI-compatible, Anthropic, ...), speaking its
// wire format. A provider encodes a core::Request for one model, sends it with the worker's
// http::Client, and decodes the answer: the body, the usage block and, for streams, the events.
//
// Providers know nothing about routing or failover: one call is one attempt. Every failure is a
// core::Error carrying the upstream status and retry-after when there was one.
//
// Thread-safety: a Provider is immutable after construction and shared by all workers; the
// streams it returns belong to one request on one worker.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "config/config.h"
#include "core/byte_budget.h"
#include "core/request.h"
#include "core/result.h"
#include "core/stream_event.h"
#include "core/usage.h"
#include "http/client.h"
#include "http/task.h"

namespace sy::providers {

// Everything one attempt needs. All references must outlive the call and any stream it returns.
struct Call {
  const core::Request& request;
  // The request body in this provider's dialect: the client's own body, or its translation
  // when the client spoke another dialect. The adapter sets `model` on its copy.
  const boost::json::object& body;
  const config::ModelConfig& model;
  http::Client& client;
  std::chrono::steady_clock::time_point deadline;
  // The deployment's name for the model (catalog::Deployment); empty: model.upstream_name.
  std::string_view upstream_name = {};
  // Whether the caller reads Completion::json. When false, a provider may leave `json` null: it
  // still checks that the body is one JSON object and reads `usage`, without the answer's DOM
  // (most answers go to the client as they came, and only their usage block is read).
  bool needs_json = true;
  // Optional: where the adapter stores the size of the body it posts (detail::JsonPost does),
  // set before the request leaves. The caller estimates the prompt from it when the upstream's
  // usage never arrives.
  size_t* sent_bytes = nullptr;
  // Optional: set to true once the whole request reached the upstream (http::ClientRequest::
  // delivered; detail::JsonPost wires it). The caller estimates the cost of an attempt that
  // failed after that point, since the provider may have billed it.
  bool* delivered = nullptr;

  std::string_view UpstreamName() const {
    return upstream_name.empty() ? std::string_view(model.upstream_name) : upstream_name;
  }
};

// A complete (non-streamed) answer in the upstream's dialect.
struct Completion {
  std::string body;         // the upstream's JSON body, unchanged
  boost::json::value json;  // the same body, parsed; null when the call did not need it
  core::Usage usage;
  std::string content_type;
  // The body's share of the process-wide answer budget (http::Client::answer_budget), given
  // back when the completion is destroyed.
  core::BudgetShare held{};
};

// One event of a streamed answer, in the upstream's dialect.
using StreamEvent = core::StreamEvent;

class EventStream {
 public:
  virtual ~EventStream() = default;
  // The next event; nullopt after the terminal event. Fails with kUpstreamTimeout or
  // kUpstreamUnavailable when the stream breaks, stalls or carries malformed or error events.
  virtual http::Task<core::Result<std::optional<StreamEvent>>> Next() = 0;
  // What Next would give without waiting for the network, when the next event (or a failure)
  // already came in with the bytes read so far; nullopt when Next would read first, or when the
  // stream cannot tell (the default). Lets the relay write events that arrived together in one
  // write instead of one each.
  virtual std::optional<core::Result<std::optional<StreamEvent>>> NextBuffered() {
    return std::nullopt;
  }
  // After the terminal event: reads what is left of the upstream body (the chunked terminator
  // that follows "[DONE]"), within a short time, so that its connection can carry the next call.
  // Without it every stream cost a new upstream connection. A no-op by default.
  virtual http::Task<void> Finish() { co_return; }
};

class Provider {
 public:
  virtual ~Provider() = default;
  // The client dialect this provider speaks natively (requests in it are forwarded as is).
  virtual core::Dialect dialect() const = 0;
  virtual http::Task<core::Result<Completion>> Complete(const Call& call) = 0;
  // Returns once the upstream accepted the stream (status 200 and its head received).
  virtual http::Task<core::Result<std::unique_ptr<EventStream>>> Stream(const Call& call) = 0;
  // The input tokens the model's own API counts for call.body (a request in this provider's
  // dialect), without generating anything. Fails with kNotFound when the API has no counting
  // endpoint (the default; the caller then estimates), else as Complete does.
  virtual http::Task<core::Result<int64_t>> CountTokens(const Call& call);
};

// Builds the adapter for a provider's kind. Fails with kInvalidRequest for an unknown kind.
core::Result<std::unique_ptr<Provider>> MakeProvider(const config::ProviderConfig& config);

}  // namespace sy::providers
