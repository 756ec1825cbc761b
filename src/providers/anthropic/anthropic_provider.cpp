#include "providers/anthropic/anthropic_provider.h"

#include <boost/json/serialize.hpp>

#include "providers/anthropic/anthropic_events.h"
#include "providers/detail/upstream_call.h"
#include "providers/upstream_error.h"

namespace sy::providers {
namespace {

namespace json = boost::json;

constexpr detail::AnswerReading kMessageAnswer{.read_usage = &ParseAnthropicUsage,
                                               .array = detail::AnswerReading::Array::kContent,
                                               .failure_status = &AnthropicFailureStatusOf};

class AnthropicProvider final : public Provider {
 public:
  explicit AnthropicProvider(const config::ProviderConfig& config)
      : config_(config),
        url_(detail::EndpointUrl(config_.base_url, "/messages")),
        count_url_(detail::EndpointUrl(config_.base_url, "/messages/count_tokens")) {}

  core::Dialect dialect() const override { return core::Dialect::kAnthropicMessages; }

  http::Task<core::Result<Completion>> Complete(const Call& call) override {
    http::ClientRequest request = BuildRequest(call);
    // The answer's DOM only when the caller reads it: most answers pass through unchanged.
    co_return co_await detail::FetchWithUsage(call.client, std::move(request), config_.name,
                                              *secrets_, kMessageAnswer, call.needs_json,
                                              call.request.max_json_depth);
  }

  http::Task<core::Result<std::unique_ptr<EventStream>>> Stream(const Call& call) override {
    http::ClientRequest request = BuildRequest(call);
    detail::SseDecoder decoder =
        [state = AnthropicEventDecoder(config_.name, secrets_, call.request.max_json_depth)](
            http::SseEvent sse) mutable { return state.Decode(std::move(sse)); };
    co_return co_await detail::OpenSseStream(call.client, std::move(request), config_.name,
                                             *secrets_, std::move(decoder),
                                             "a stream that ended before message_stop");
  }

  http::Task<core::Result<int64_t>> CountTokens(const Call& call) override {
    http::ClientRequest request = BuildCountRequest(call);
    auto out = co_await detail::FetchJson(call.client, std::move(request), config_.name, *secrets_,
                                          call.request.max_json_depth);
    if (!out) co_return std::move(out).error();
    auto tokens = detail::TokenField(out->json.get_object(), "input_tokens");
    if (!tokens) co_return MalformedUpstream(config_.name, "a count without input_tokens");
    co_return *tokens;
  }

 private:
  // count_tokens takes the prompt-shaping fields of a Messages request and refuses the
  // generation ones (max_tokens, stream, temperature, ...): only the former are sent.
  http::ClientRequest BuildCountRequest(const Call& call) const {
    static constexpr std::string_view kCounted[] = {"messages",    "system",       "tools",
                                                    "tool_choice", "thinking",     "output_config",
                                                    "mcp_servers", "cache_control"};
    json::object body;
    body["model"] = call.UpstreamName();
    for (std::string_view key : kCounted) {
      if (const auto* v = call.body.if_contains(key)) body[key] = *v;
    }
    http::ClientRequest request =
        detail::JsonPost(config_, call, count_url_, json::serialize(body));
    AddHeaders(call, request);
    return request;
  }

  void AddHeaders(const Call& call, http::ClientRequest& request) const {
    if (!config_.api_key.empty()) request.headers.Add("x-api-key", config_.api_key);
    request.headers.Add("anthropic-version", kAnthropicVersion);
    if (call.request.dialect == dialect()) {
      for (const auto& [name, value] : call.request.dialect_headers) {
        request.headers.Add(name, value);
      }
    }
  }

  http::ClientRequest BuildRequest(const Call& call) const {
    detail::UpstreamBody body(call);
    body.Set("stream", call.request.stream);
    if (const auto* max_tokens = body.Find("max_tokens"); !max_tokens || max_tokens->is_null()) {
      body.Set("max_tokens", call.model.max_output_tokens > 0 ? call.model.max_output_tokens
                                                              : kAnthropicDefaultMaxTokens);
    }
    http::ClientRequest request = detail::JsonPost(config_, call, url_, body.Serialize());
    AddHeaders(call, request);
    return request;
  }

  config::ProviderConfig config_;
  std::string url_;
  std::string count_url_;
  // The provider's own key, scrubbed from upstream error text; shared with running streams.
  std::shared_ptr<const core::SecretScrubber> secrets_ =
      std::make_shared<const core::SecretScrubber>(std::vector<std::string>{config_.api_key});
};

}  // namespace

std::unique_ptr<Provider> MakeAnthropicProvider(const config::ProviderConfig& config) {
  return std::make_unique<AnthropicProvider>(config);
}

}  // namespace sy::providers
