#include "providers/detail/upstream_call.h"

#include <limits>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "providers/upstream_error.h"

namespace sy::providers::detail {

namespace json = boost::json;

std::string EndpointUrl(std::string_view base_url, std::string_view path) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  std::string url(base_url);
  url += path;
  return url;
}

json::object CopyBody(const Call& call) {
  json::object body(call.body, json::make_shared_resource<json::monotonic_resource>());
  body["model"] = call.UpstreamName();
  return body;
}

http::ClientRequest JsonPost(const config::ProviderConfig& config, const Call& call,
                             std::string url, const json::object& body) {
  http::ClientRequest request;
  request.url = std::move(url);
  request.headers.Add("content-type", "application/json");
  request.headers.Add("accept", call.request.stream ? "text/event-stream" : "application/json");
  request.body = json::serialize(body);
  request.connect_timeout = config.timeouts.connect;
  request.first_byte_timeout = config.timeouts.first_byte;
  request.idle_timeout = config.timeouts.idle;
  request.deadline = call.deadline;
  request.tls = {config.tls_verify, config.ca_file};
  return request;
}

std::string ErrorMessageOf(const json::value& body) {
  const auto* obj = body.if_object();
  const auto* error = obj ? obj->if_contains("error") : nullptr;
  if (!error) return {};
  if (error->is_string()) return std::string(error->get_string());
  const auto* error_obj = error->if_object();
  const auto* message = error_obj ? error_obj->if_contains("message") : nullptr;
  return message && message->is_string() ? std::string(message->get_string()) : std::string();
}

std::string ErrorMessageOf(std::string_view body) {
  boost::system::error_code ec;
  auto parsed = json::parse(body, ec);
  return ec ? std::string() : ErrorMessageOf(parsed);
}

std::optional<int64_t> TokenField(const json::object& usage, std::string_view name) {
  const auto* v = usage.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_int64() && v->get_int64() >= 0) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= uint64_t{std::numeric_limits<int64_t>::max()}) {
    return static_cast<int64_t>(v->get_uint64());
  }
  return std::nullopt;
}

http::Task<core::Error> ReadUpstreamError(http::ClientResponse& response,
                                          const std::string& provider,
                                          const core::SecretScrubber& secrets) {
  auto body = co_await response.ReadAll(kMaxErrorBytes);
  std::string text = body ? std::move(*body) : std::string();
  co_return UpstreamError(response.status(), response.headers(), provider, ErrorMessageOf(text),
                          text, secrets);
}

http::Task<core::Result<Completion>> FetchJson(http::Client& client, http::ClientRequest request,
                                               const std::string& provider,
                                               const core::SecretScrubber& secrets) {
  auto response = co_await client.Send(std::move(request));
  if (!response) co_return std::move(response).error();
  auto& res = **response;
  if (res.status() < 200 || res.status() >= 300) {
    core::Error error = co_await ReadUpstreamError(res, provider, secrets);
    co_return error;
  }
  auto body = co_await res.ReadAll(kMaxResponseBytes);
  if (!body) co_return std::move(body).error();
  Completion out;
  boost::system::error_code ec;
  out.json = json::parse(*body, ec, json::make_shared_resource<json::monotonic_resource>());
  if (ec || !out.json.is_object()) co_return MalformedUpstream(provider, "malformed JSON");
  out.body = std::move(*body);
  out.content_type = std::string(res.headers().Get("content-type"));
  co_return out;
}

http::Task<core::Result<std::unique_ptr<http::ClientResponse>>> OpenEventStream(
    http::Client& client, http::ClientRequest request, const std::string& provider,
    const core::SecretScrubber& secrets) {
  auto response = co_await client.Send(std::move(request));
  if (!response) co_return std::move(response).error();
  auto& res = **response;
  if (res.status() != 200) {
    core::Error error = co_await ReadUpstreamError(res, provider, secrets);
    co_return error;
  }
  if (res.headers().Get("content-type").find("text/event-stream") == std::string_view::npos) {
    co_return MalformedUpstream(provider, "a stream that is not text/event-stream");
  }
  co_return std::move(*response);
}

SseEventStream::SseEventStream(std::unique_ptr<http::ClientResponse> response, std::string provider,
                               SseDecoder decoder, std::string cut_short)
    : reader_(std::move(response), provider),
      provider_(std::move(provider)),
      decoder_(std::move(decoder)),
      cut_short_(std::move(cut_short)) {}

http::Task<core::Result<std::optional<StreamEvent>>> SseEventStream::Next() {
  if (done_) co_return std::optional<StreamEvent>();
  auto sse = co_await reader_.Next();
  if (!sse) co_return std::move(sse).error();
  if (!*sse) co_return MalformedUpstream(provider_, cut_short_);
  auto event = decoder_(std::move(**sse));
  if (!event) co_return std::move(event).error();
  done_ = event->terminal;
  co_return std::optional<StreamEvent>(std::move(*event));
}

}  // namespace sy::providers::detail
