#include "providers/openai_compat/openai_provider.h"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "providers/sse_reader.h"
#include "providers/upstream_error.h"

namespace sy::providers {
namespace {

namespace json = boost::json;
constexpr int64_t kMaxResponseBytes = 64 * 1024 * 1024;
constexpr int64_t kMaxErrorBytes = 64 * 1024;

int64_t TokenField(const json::object& obj, std::string_view name) {
  const auto* v = obj.if_contains(name);
  return v && v->is_int64() ? v->get_int64()
                            : (v && v->is_uint64() ? static_cast<int64_t>(v->get_uint64()) : 0);
}

int64_t NestedTokens(const json::object& obj, std::string_view parent, std::string_view name) {
  const auto* p = obj.if_contains(parent);
  return p && p->is_object() ? TokenField(p->get_object(), name) : 0;
}

// The upstream's own error message from an OpenAI-shaped error body, or "".
std::string ErrorMessage(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  const auto* err = v.get_object().if_contains("error");
  if (!err) return {};
  if (err->is_string()) return std::string(err->get_string());
  if (!err->is_object()) return {};
  const auto* msg = err->get_object().if_contains("message");
  return msg && msg->is_string() ? std::string(msg->get_string()) : std::string();
}

class OpenAiStream final : public EventStream {
 public:
  OpenAiStream(std::unique_ptr<http::ClientResponse> response, std::string provider)
      : reader_(std::move(response), provider), provider_(std::move(provider)) {}

  http::Task<core::Result<std::optional<StreamEvent>>> Next() override {
    if (done_) co_return std::optional<StreamEvent>();
    auto sse = co_await reader_.Next();
    if (!sse) co_return std::move(sse).error();
    if (!*sse) co_return MalformedUpstream(provider_, "a stream that ended before [DONE]");
    StreamEvent event;
    event.event = std::move((*sse)->event);
    event.data = std::move((*sse)->data);
    if (event.data == "[DONE]") {
      done_ = true;
      event.terminal = true;
      co_return event;
    }
    boost::system::error_code ec;
    event.json = json::parse(event.data, ec);
    if (ec || !event.json.is_object()) {
      co_return MalformedUpstream(provider_, "a malformed stream chunk");
    }
    const auto& obj = event.json.get_object();
    if (const auto* err = obj.if_contains("error"); err && !err->is_null()) {
      co_return UpstreamError(500, {}, provider_, ErrorMessage(event.data), event.data);
    }
    if (const auto* usage = obj.if_contains("usage")) event.usage = ParseOpenAiUsage(*usage);
    co_return event;
  }

 private:
  SseReader reader_;
  std::string provider_;
  bool done_ = false;
};

class OpenAiProvider final : public Provider {
 public:
  explicit OpenAiProvider(const config::ProviderConfig& config) : config_(config) {
    url_ = config_.base_url;
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
    url_ += "/chat/completions";
  }

  core::Dialect dialect() const override { return core::Dialect::kOpenAiChat; }

  http::Task<core::Result<Completion>> Complete(const Call& call) override {
    auto request = BuildRequest(call);
    if (!request) co_return request.error();
    auto response = co_await call.client.Send(std::move(*request));
    if (!response) co_return std::move(response).error();
    auto& res = **response;
    auto body = co_await res.ReadAll(res.status() == 200 ? kMaxResponseBytes : kMaxErrorBytes);
    if (!body) co_return std::move(body).error();
    if (res.status() < 200 || res.status() >= 300) {
      co_return UpstreamError(res.status(), res.headers(), config_.name, ErrorMessage(*body),
                              *body);
    }
    Completion out;
    boost::system::error_code ec;
    out.json = json::parse(*body, ec, json::make_shared_resource<json::monotonic_resource>());
    if (ec || !out.json.is_object()) co_return MalformedUpstream(config_.name, "malformed JSON");
    if (const auto* usage = out.json.get_object().if_contains("usage")) {
      if (auto parsed = ParseOpenAiUsage(*usage)) out.usage = *parsed;
    }
    out.body = std::move(*body);
    out.content_type = std::string(res.headers().Get("content-type"));
    co_return out;
  }

  http::Task<core::Result<std::unique_ptr<EventStream>>> Stream(const Call& call) override {
    auto request = BuildRequest(call);
    if (!request) co_return request.error();
    auto response = co_await call.client.Send(std::move(*request));
    if (!response) co_return std::move(response).error();
    auto& res = **response;
    if (res.status() != 200) {
      auto body = co_await res.ReadAll(kMaxErrorBytes);
      std::string text = body ? *body : std::string();
      co_return UpstreamError(res.status(), res.headers(), config_.name, ErrorMessage(text), text);
    }
    if (res.headers().Get("content-type").find("text/event-stream") == std::string_view::npos) {
      co_return MalformedUpstream(config_.name, "a stream that is not text/event-stream");
    }
    co_return std::unique_ptr<EventStream>(new OpenAiStream(std::move(*response), config_.name));
  }

 private:
  core::Result<http::ClientRequest> BuildRequest(const Call& call) const {
    if (call.request.dialect != core::Dialect::kOpenAiChat) {
      return core::MakeError(core::Errc::kInvalidRequest,
                             "model " + call.model.id +
                                 " speaks OpenAI Chat Completions; this request's dialect cannot "
                                 "be translated to it yet");
    }
    json::object body(call.request.body, json::make_shared_resource<json::monotonic_resource>());
    body["model"] = call.model.upstream_name;
    if (call.request.stream) {
      // Always ask for usage: the cost is computed from it. The relay strips the usage chunk
      // again when the client did not ask for it.
      json::value& options = body["stream_options"];
      if (!options.is_object()) options = json::object();
      options.get_object()["include_usage"] = true;
    }
    http::ClientRequest req;
    req.url = url_;
    req.headers.Add("content-type", "application/json");
    req.headers.Add("accept", call.request.stream ? "text/event-stream" : "application/json");
    if (!config_.api_key.empty()) req.headers.Add("authorization", "Bearer " + config_.api_key);
    req.body = json::serialize(body);
    req.connect_timeout = config_.timeouts.connect;
    req.first_byte_timeout = config_.timeouts.first_byte;
    req.idle_timeout = config_.timeouts.idle;
    req.deadline = call.deadline;
    req.tls = {config_.tls_verify, config_.ca_file};
    return req;
  }

  config::ProviderConfig config_;
  std::string url_;
};

}  // namespace

std::optional<core::Usage> ParseOpenAiUsage(const json::value& usage) {
  if (!usage.is_object()) return std::nullopt;
  const auto& obj = usage.get_object();
  core::Usage u;
  u.reported = true;
  u.input_tokens = TokenField(obj, "prompt_tokens");
  u.output_tokens = TokenField(obj, "completion_tokens");
  u.cached_input_tokens = NestedTokens(obj, "prompt_tokens_details", "cached_tokens");
  u.reasoning_tokens = NestedTokens(obj, "completion_tokens_details", "reasoning_tokens");
  return u;
}

std::unique_ptr<Provider> MakeOpenAiProvider(const config::ProviderConfig& config) {
  return std::make_unique<OpenAiProvider>(config);
}

}  // namespace sy::providers
