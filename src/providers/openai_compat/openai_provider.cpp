#include "providers/openai_compat/openai_provider.h"

#include "providers/detail/upstream_call.h"
#include "providers/openai_compat/openai_events.h"

namespace sy::providers {
namespace {

namespace json = boost::json;

// A 200 whose body is {"error": {...}}: judged by the error, as in a response head.
int ChatFailureStatus(const json::value& body) {
  return detail::OpenAiFailureStatusOf(body.at("error"));
}

constexpr detail::AnswerReading kChatAnswer{.read_usage = &ParseOpenAiUsage,
                                            .array = detail::AnswerReading::Array::kChoices,
                                            .failure_status = &ChatFailureStatus};

class OpenAiProvider final : public Provider {
 public:
  explicit OpenAiProvider(const config::ProviderConfig& config)
      : config_(config), url_(detail::EndpointUrl(config_.base_url, "/chat/completions")) {}

  core::Dialect dialect() const override { return core::Dialect::kOpenAiChat; }

  http::Task<core::Result<Completion>> Complete(const Call& call) override {
    http::ClientRequest request = BuildRequest(call);
    // The answer's DOM only when the caller reads it: most answers pass through unchanged.
    co_return co_await detail::FetchWithUsage(call.client, std::move(request), config_.name,
                                              *secrets_, kChatAnswer, call.needs_json,
                                              call.request.max_json_depth);
  }

  http::Task<core::Result<std::unique_ptr<EventStream>>> Stream(const Call& call) override {
    http::ClientRequest request = BuildRequest(call);
    detail::SseDecoder decoder = [provider = config_.name, secrets = secrets_,
                                  depth = call.request.max_json_depth](http::SseEvent sse) {
      return DecodeOpenAiEvent(std::move(sse), provider, *secrets, depth);
    };
    co_return co_await detail::OpenSseStream(call.client, std::move(request), config_.name,
                                             *secrets_, std::move(decoder),
                                             "a stream that ended before [DONE]");
  }

 private:
  http::ClientRequest BuildRequest(const Call& call) const {
    detail::UpstreamBody body(call);
    if (call.request.stream) {
      // Always ask for usage: the cost is computed from it. The relay strips the usage chunk
      // again when the client did not ask for it.
      const json::value* given = body.Find("stream_options");
      json::object options = given && given->is_object() ? given->get_object() : json::object();
      options["include_usage"] = true;
      body.Set("stream_options", std::move(options));
    }
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

std::optional<core::Usage> ParseOpenAiUsage(const json::value& usage) {
  if (!usage.is_object()) return std::nullopt;
  const auto& obj = usage.get_object();
  core::Usage u;
  u.reported = detail::Billable(obj, {"prompt_tokens", "completion_tokens"});
  if (!u.reported) return u;
  u.input_tokens = *detail::TokenField(obj, "prompt_tokens");
  u.output_tokens = *detail::TokenField(obj, "completion_tokens");
  u.cached_input_tokens = detail::NestedTokens(obj, "prompt_tokens_details", "cached_tokens");
  u.reasoning_tokens = detail::NestedTokens(obj, "completion_tokens_details", "reasoning_tokens");
  return u;
}

std::unique_ptr<Provider> MakeOpenAiProvider(const config::ProviderConfig& config) {
  return std::make_unique<OpenAiProvider>(config);
}

}  // namespace sy::providers
