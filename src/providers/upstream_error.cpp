#include "providers/upstream_error.h"

#include <charconv>

#include "core/text.h"

namespace sy::providers {
namespace {

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

std::string CutUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  constexpr std::string_view kMark = "...";
  size_t keep = max_bytes > kMark.size() ? max_bytes - kMark.size() : 0;
  // Back off over continuation bytes (10xxxxxx) to the start of the sequence that was cut.
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  std::string out(text.substr(0, keep));
  out.append(kMark.substr(0, max_bytes - keep));
  return out;
}

core::Error UpstreamError(int status, const http::Headers& headers, std::string_view provider,
                          std::string_view message, std::string_view raw_body,
                          const core::SecretScrubber& secrets, std::string_view param) {
  core::Error e;
  e.code = CodeFor(status);
  e.upstream_status = status;
  e.retry_after = RetryAfter(headers);
  // Scrub before cutting: a cut through a key would leave a fragment no scrubber recognises.
  // The raw body is bounded by the caller (kMaxErrorBytes, an SSE event's size).
  e.upstream_detail = CutUtf8(secrets.Scrub(raw_body), kMaxUpstreamDetailBytes);
  const std::string shown = CutUtf8(secrets.Scrub(message), kMaxUpstreamMessageBytes);
  std::string prefix = "provider " + std::string(provider) + " answered " + std::to_string(status);
  if (status == 401 || status == 403) {
    // The upstream is refusing the gateway's own credentials: not the client's business.
    e.message = prefix + ": the gateway's credentials for this provider were refused";
  } else {
    e.message = shown.empty() ? prefix : prefix + ": " + shown;
    e.param = core::ClipForEcho(secrets.Scrub(param));
  }
  return e;
}

core::Error MalformedUpstream(std::string_view provider, std::string_view what) {
  return core::MakeError(core::Errc::kUpstreamUnavailable,
                         "provider " + std::string(provider) + " sent " + std::string(what));
}

}  // namespace sy::providers
