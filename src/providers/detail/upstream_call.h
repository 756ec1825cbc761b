// What the provider adapters share, internal to providers/ (no other module includes it): the
// upstream request every adapter sends (a JSON POST with the provider's timeouts and TLS
// options), the reading of a complete answer and of an error body, the head checks of a stream,
// an EventStream over SSE that a dialect's event decoder drives, and readers of the JSON fields
// that upstream error and usage blocks share.
//
// Nothing here throws: upstream data is read with non-throwing Boost.JSON accessors only.
// Thread-safety: free functions are pure or touch only their arguments; an SseEventStream
// belongs to one request on one worker.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "config/config.h"
#include "core/result.h"
#include "core/secrets.h"
#include "core/usage.h"
#include "http/client.h"
#include "http/sse.h"
#include "http/task.h"
#include "providers/provider.h"
#include "providers/sse_reader.h"

namespace sy::providers::detail {

inline constexpr int64_t kMaxResponseBytes = 64 * 1024 * 1024;  // a complete JSON answer
inline constexpr int64_t kMaxErrorBytes = 64 * 1024;            // an error body

// `base_url` with its trailing slashes trimmed, followed by `path` ("/chat/completions").
std::string EndpointUrl(std::string_view base_url, std::string_view path);

// The body sent upstream: call.body with "model" set to call.UpstreamName() and the adapter's
// own top-level edits, serialised straight from the client's DOM. Copying that DOM to edit two
// members cost more than building the rest of the upstream request.
// Lifetime: `call` must outlive this object.
class UpstreamBody {
 public:
  explicit UpstreamBody(const Call& call);

  // The member `key` as it will be sent (an edit, else the client's), or nullptr.
  const boost::json::value* Find(std::string_view key) const;
  // Replaces `key` where it stands, or appends it after the client's members.
  void Set(std::string_view key, boost::json::value value);
  void Erase(std::string_view key);
  std::string Serialize() const;

 private:
  struct Edit {
    std::string_view key;
    std::optional<boost::json::value> value;  // nullopt: erased
  };
  const Edit* EditOf(std::string_view key) const;

  const boost::json::object& base_;
  std::vector<Edit> edits_;  // a handful at most: searched linearly
};

// A POST of `body` (JSON text) to `url`: content-type application/json, accept
// text/event-stream (streamed calls) or application/json, the provider's timeouts, TLS options
// and idle-connection limit, and the call's deadline. The adapter adds its own credentials and
// version headers. Stores body.size() in *call.sent_bytes when that is set, and passes
// call.delivered on as the request's own.
http::ClientRequest JsonPost(const config::ProviderConfig& config, const Call& call,
                             std::string url, std::string body);

// The upstream's own message from an error body: {"error": {"message": "..."}} (OpenAI and
// Anthropic, whose body adds "type": "error") or {"error": "..."}; "" when there is none.
std::string ErrorMessageOf(const boost::json::value& body);

// The status an OpenAI error object that arrived without one stands for, from its "type" and
// "code" (OpenAiFailureStatus in providers/upstream_error.h); a retryable 500 for anything else.
int OpenAiFailureStatusOf(const boost::json::value& error);

// The parameter an error body says it is about, in the upstream's notation; "" when none.
// OpenAI (both APIs): {"error": {"param": "..."}}. Anthropic's body ({"type": "error", ...}) has
// no such field, but its validation messages lead with the path ("max_tokens: Field required",
// "messages.1.content: ..."): that path, when the message leads with one.
std::string ErrorParamOf(const boost::json::value& body);

// The most tokens a counter of one request's usage may state. Context windows hold at most a few
// million tokens; a larger count is an upstream's bug, and billing it would charge up to the
// largest amount (9.2M USD) and overflow every spend sum it joins.
inline constexpr int64_t kMaxTokenCount = 1'000'000'000;

// The token counter `name` of a usage block; nullopt when absent, null, negative, not an
// integer (1520.0, "1520") or above kMaxTokenCount.
std::optional<int64_t> TokenField(const boost::json::object& usage, std::string_view name);

// The counter `name` of the object `parent` of a usage block, 0 when either cannot be read: for
// the counters that only describe a part of another (cached, reasoning), where 0 bills the
// whole at the full price.
int64_t NestedTokens(const boost::json::object& usage, std::string_view parent,
                     std::string_view name);

// Whether a usage block can be billed from: each counter of `required` reads (TokenField) and
// each of `optional` is absent, null or reads. A block that fails is no usage at all to its
// reader (core::Usage::reported false), which the gateway estimates: an upstream that writes
// its counts as floats or strings, leaves one out or states an impossible one is never billed
// as zero.
bool Billable(const boost::json::object& usage, std::initializer_list<std::string_view> required,
              std::initializer_list<std::string_view> optional = {});

// Reads the (bounded) body of a non-2xx answer and turns it into UpstreamError with the
// upstream's message, status and retry-after. A body that cannot be read still gives the
// status-based error, without a message.
// `secrets` (the provider's own key) are scrubbed from the message and detail.
http::Task<core::Error> ReadUpstreamError(http::ClientResponse& response,
                                          const std::string& provider,
                                          const core::SecretScrubber& secrets);

// Sends `request` and reads its complete JSON answer. On success `body`, `json` (parsed in a
// monotonic arena) and `content_type` are set; the caller reads `usage` from `json`.
// The answer may nest core::EchoJsonDepth(max_json_depth) levels (it may echo the request, whose
// body was accepted under max_json_depth: pass Call::request.max_json_depth).
// Fails as http::Client::Send and ReadAll do (kMaxResponseBytes), with ReadUpstreamError for a
// non-2xx status, and with MalformedUpstream when the body is not a JSON object (or nests deeper).
// `provider` and `secrets` must outlive the returned task.
http::Task<core::Result<Completion>> FetchJson(http::Client& client, http::ClientRequest request,
                                               const std::string& provider,
                                               const core::SecretScrubber& secrets,
                                               int64_t max_json_depth);

// A dialect's reading of an answer's usage block (ParseOpenAiUsage, ParseAnthropicUsage):
// nullopt when `usage` is not one.
using UsageReader = std::optional<core::Usage> (*)(const boost::json::value& usage);

// How FetchWithUsage reads and checks a complete answer of a dialect whose usage block is its
// top-level "usage" member (Chat Completions, Anthropic Messages).
struct AnswerReading {
  // The top-level array an answer of the dialect cannot lack.
  enum class Array { kChoices, kContent };  // Chat Completions, Messages

  UsageReader read_usage = nullptr;
  Array array = Array::kChoices;
  // The status a 2xx body that carries a top-level "error" stands for, judged as the same error
  // in a response head would be (OpenAiFailureStatusOf of the member, AnthropicFailureStatus of
  // its type).
  int (*failure_status)(const boost::json::value& body) = nullptr;
};

// As FetchJson, for an answer whose usage block is its top-level "usage" member; `usage` is
// also set, to read_usage(member) when the member is there and read_usage accepts it. With
// `needs_json` false `json` is left null: the body is checked to be one JSON object and the
// member read in one streaming pass (ScanAnswer), with no DOM of the answer. Both modes take the
// same depth limit as FetchJson. Fails as FetchJson does, with MalformedUpstream in both modes
// alike, and also on a 2xx that is no answer of the dialect, which a pass-through would
// otherwise relay as one: a body with a non-null top-level "error" (some servers and proxies
// answer a failure with 200) is UpstreamError with reading.failure_status, a body without the
// dialect's array is MalformedUpstream.
// REQUIRES: reading's functions are not null; `reading` outlives the returned task.
http::Task<core::Result<Completion>> FetchWithUsage(http::Client& client,
                                                    http::ClientRequest request,
                                                    const std::string& provider,
                                                    const core::SecretScrubber& secrets,
                                                    const AnswerReading& reading, bool needs_json,
                                                    int64_t max_json_depth);

// A dialect's decoding of one SSE event (see DecodeOpenAiEvent, AnthropicEventDecoder): the
// event, marked terminal for the dialect's end-of-stream marker, or the error it carries.
using SseDecoder = std::function<core::Result<StreamEvent>(http::SseEvent)>;

// Sends a streamed request and, once the response's head arrived with status 200 and a
// text/event-stream content type, returns an SseEventStream over its body with `decoder` and
// `cut_short`. Fails as http::Client::Send does, with ReadUpstreamError for any other status,
// and with MalformedUpstream for another content type.
// `provider` and `secrets` must outlive the returned task.
http::Task<core::Result<std::unique_ptr<EventStream>>> OpenSseStream(
    http::Client& client, http::ClientRequest request, const std::string& provider,
    const core::SecretScrubber& secrets, SseDecoder decoder, std::string cut_short);

// An EventStream over an SSE body: each Next reads one event with SseReader and decodes it.
// After the terminal event Next returns nullopt. A body that ends cleanly before the terminal
// event fails with MalformedUpstream(provider, `cut_short`), e.g. "a stream that ended before
// [DONE]"; read and decode failures are returned as they are.
class SseEventStream final : public EventStream {
 public:
  SseEventStream(std::unique_ptr<http::ClientResponse> response, std::string provider,
                 SseDecoder decoder, std::string cut_short);

  http::Task<core::Result<std::optional<StreamEvent>>> Next() override;
  std::optional<core::Result<std::optional<StreamEvent>>> NextBuffered() override;
  http::Task<void> Finish() override;

 private:
  core::Result<std::optional<StreamEvent>> Decode(http::SseEvent sse);

  SseReader reader_;
  std::string provider_;
  SseDecoder decoder_;
  std::string cut_short_;
  bool done_ = false;
};

}  // namespace sy::providers::detail
