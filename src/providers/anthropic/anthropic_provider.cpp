#include "providers/anthropic/anthropic_provider.h"

#include "providers/anthropic/anthropic_events.h"
#include "providers/detail/upstream_call.h"

namespace sy::providers {
namespace {

namespace json = boost::json;

class AnthropicProvider final : public Provider {
 public:
  explicit AnthropicProvider(const config::ProviderConfig& config)
      : config_(config), url_(detail::EndpointUrl(config_.base_url, "/messages")) {}

  core::Dialect dialect() const override { return core::Dialect::kAnthropicMessages; }

  http::Task<core::Result<Completion>> Complete(const Call& call) override {
    http::ClientRequest request = BuildRequest(call);
    auto out = co_await detail::FetchJson(call.client, std::move(request), config_.name, *secrets_);
    if (!out) co_return std::move(out);
    if (const auto* usage = out->json.get_object().if_contains("usage")) {
      if (auto parsed = ParseAnthropicUsage(*usage)) out->usage = *parsed;
    }
    co_return std::move(out);
  }

  http::Task<core::Result<std::unique_ptr<EventStream>>> Stream(const Call& call) override {
    http::ClientRequest request = BuildRequest(call);
    auto response =
        co_await detail::OpenEventStream(call.client, std::move(request), config_.name, *secrets_);
    if (!response) co_return std::move(response).error();
    detail::SseDecoder decoder =
        [state = AnthropicEventDecoder(config_.name, secrets_)](http::SseEvent sse) mutable {
          return state.Decode(std::move(sse));
        };
    co_return std::unique_ptr<EventStream>(std::make_unique<detail::SseEventStream>(
        std::move(*response), config_.name, std::move(decoder),
        "a stream that ended before message_stop"));
  }

 private:
  http::ClientRequest BuildRequest(const Call& call) const {
    json::object body = detail::CopyBody(call);
    body["stream"] = call.request.stream;
    if (const auto* max_tokens = body.if_contains("max_tokens");
        !max_tokens || max_tokens->is_null()) {
      body["max_tokens"] = call.model.max_output_tokens > 0 ? call.model.max_output_tokens
                                                            : kAnthropicDefaultMaxTokens;
    }
    http::ClientRequest request = detail::JsonPost(config_, call, url_, body);
    if (!config_.api_key.empty()) request.headers.Add("x-api-key", config_.api_key);
    request.headers.Add("anthropic-version", kAnthropicVersion);
    if (call.request.dialect == dialect()) {
      for (const auto& [name, value] : call.request.dialect_headers) {
        request.headers.Add(name, value);
      }
    }
    return request;
  }

  config::ProviderConfig config_;
  std::string url_;
  // The provider's own key, scrubbed from upstream error text; shared with running streams.
  std::shared_ptr<const core::SecretScrubber> secrets_ =
      std::make_shared<const core::SecretScrubber>(std::vector<std::string>{config_.api_key});
};

}  // namespace

std::unique_ptr<Provider> MakeAnthropicProvider(const config::ProviderConfig& config) {
  return std::make_unique<AnthropicProvider>(config);
}

}  // namespace sy::providers
