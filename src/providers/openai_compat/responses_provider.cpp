#include "providers/openai_compat/responses_provider.h"

#include "providers/detail/upstream_call.h"
#include "providers/openai_compat/responses_events.h"
#include "providers/upstream_error.h"

namespace sy::providers {
namespace {

namespace json = boost::json;

class ResponsesProvider final : public Provider {
 public:
  explicit ResponsesProvider(const config::ProviderConfig& config)
      : config_(config), url_(detail::EndpointUrl(config_.base_url, "/responses")) {}

  core::Dialect dialect() const override { return core::Dialect::kOpenAiResponses; }

  http::Task<core::Result<Completion>> Complete(const Call& call) override {
    http::ClientRequest request = BuildRequest(call);
    auto out = co_await detail::FetchJson(call.client, std::move(request), config_.name, *secrets_,
                                          call.request.max_json_depth);
    if (!out) co_return std::move(out);
    // A Response may arrive with 200 and status "failed": the upstream could not answer.
    if (auto failure = ResponsesFailureOf(out->json)) {
      const http::Headers no_headers;
      co_return UpstreamError(ResponsesFailureStatus(out->json), no_headers, config_.name, *failure,
                              out->body, *secrets_, detail::ErrorParamOf(out->json));
    }
    if (const auto* usage = out->json.get_object().if_contains("usage")) {
      if (auto parsed = ParseResponsesUsage(*usage)) out->usage = *parsed;
    }
    co_return std::move(out);
  }

  http::Task<core::Result<std::unique_ptr<EventStream>>> Stream(const Call& call) override {
    http::ClientRequest request = BuildRequest(call);
    detail::SseDecoder decoder = [provider = config_.name, secrets = secrets_,
                                  depth = call.request.max_json_depth](http::SseEvent sse) {
      return DecodeResponsesEvent(std::move(sse), provider, *secrets, depth);
    };
    co_return co_await detail::OpenSseStream(call.client, std::move(request), config_.name,
                                             *secrets_, std::move(decoder),
                                             "a stream that ended before response.completed");
  }

 private:
  http::ClientRequest BuildRequest(const Call& call) const {
    detail::UpstreamBody body(call);
    // The gateway keeps the conversation (a client's previous_response_id is resolved into the
    // full input before the call), and failover may send the next turn to another provider, which
    // could not see state stored here. So the upstream stores nothing and is never pointed at
    // state of its own; store:false also keeps client data out of the provider's retention.
    body.Set("store", false);
    body.Erase("previous_response_id");
    http::ClientRequest request = detail::JsonPost(config_, call, url_, body.Serialize());
    if (!config_.api_key.empty()) request.headers.Add("authorization", "Bearer " + config_.api_key);
    return request;
  }

  config::ProviderConfig config_;
  std::string url_;
  // The provider's own key, scrubbed from upstream error text; shared with running streams.
  std::shared_ptr<const core::SecretScrubber> secrets_ =
      std::make_shared<const core::SecretScrubber>(std::vector<std::string>{config_.api_key});
};

}  // namespace

std::unique_ptr<Provider> MakeResponsesProvider(const config::ProviderConfig& config) {
  return std::make_unique<ResponsesProvider>(config);
}

}  // namespace sy::providers
