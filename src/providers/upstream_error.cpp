#include "providers/upstream_error.h"

#include <charconv>

namespace sy::providers {
namespace {

constexpr size_t kMaxDetailBytes = 2048;

std::optional<std::chrono::milliseconds> RetryAfter(const http::Headers& headers) {
  auto parse = [](std::string_view text) -> std::optional<double> {
    double value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) return std::nullopt;
    return value;
  };
  // Seconds may be fractional in retry-after-ms's absence; HTTP dates are not used by the
  // LLM providers we speak to and are ignored.
  if (auto ms = parse(headers.Get("retry-after-ms"))) {
    return std::chrono::milliseconds(static_cast<int64_t>(*ms));
  }
  if (auto s = parse(headers.Get("retry-after"))) {
    return std::chrono::milliseconds(static_cast<int64_t>(*s * 1000));
  }
  return std::nullopt;
}

core::Errc CodeFor(int status) {
  if (status == 429) return core::Errc::kRateLimited;
  if (status == 408 || status == 504) return core::Errc::kUpstreamTimeout;
  if (status == 529 || status >= 500) return core::Errc::kUpstreamUnavailable;
  return core::Errc::kUpstreamRejected;
}

}  // namespace

core::Error UpstreamError(int status, const http::Headers& headers, std::string_view provider,
                          std::string message, std::string_view raw_body) {
  core::Error e;
  e.code = CodeFor(status);
  e.upstream_status = status;
  e.retry_after = RetryAfter(headers);
  e.upstream_detail = std::string(raw_body.substr(0, kMaxDetailBytes));
  std::string prefix = "provider " + std::string(provider) + " answered " + std::to_string(status);
  if (status == 401 || status == 403) {
    // The upstream is refusing the gateway's own credentials: not the client's business.
    e.message = prefix + ": the gateway's credentials for this provider were refused";
  } else {
    e.message = message.empty() ? prefix : prefix + ": " + message;
  }
  return e;
}

core::Error MalformedUpstream(std::string_view provider, std::string_view what) {
  return core::MakeError(core::Errc::kUpstreamUnavailable,
                         "provider " + std::string(provider) + " sent " + std::string(what));
}

}  // namespace sy::providers
