#include "providers/upstream_error.h"

#include <charconv>
#include <optional>
#include <span>
#include <utility>

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

// Which OpenAI error codes stand for which status (see OpenAiFailureStatus).
struct CodeStatus {
  std::string_view code;
  int status;
};

constexpr CodeStatus kCodeStatuses[] = {
    {"rate_limit_exceeded", 429},
    {"insufficient_quota", 429},
    {"invalid_api_key", 401},
    {"server_error", 500},
    {"vector_store_timeout", 504},
    {"server_is_overloaded", 503},
    {"slow_down", 503},
    // Refusals of the request itself.
    {"invalid_prompt", 400},
    {"context_length_exceeded", 400},
    {"string_above_max_length", 400},
    {"invalid_image", 400},
    {"invalid_image_format", 400},
    {"invalid_base64_image", 400},
    {"invalid_image_url", 400},
    {"image_too_large", 400},
    {"image_too_small", 400},
    {"image_parse_error", 400},
    {"image_content_policy_violation", 400},
    {"invalid_image_mode", 400},
    {"image_file_too_large", 400},
    {"unsupported_image_media_type", 400},
    {"empty_image_file", 400},
    {"failed_to_download_image", 400},
    {"image_file_not_found", 400},
};

// Error types, for a failure whose code is absent or not in kCodeStatuses.
constexpr CodeStatus kTypeStatuses[] = {
    {"invalid_request_error", 400}, {"authentication_error", 401}, {"permission_error", 403},
    {"not_found_error", 404},       {"insufficient_quota", 429},   {"rate_limit_error", 429},
    {"server_error", 500},
};

std::optional<int> Lookup(std::span<const CodeStatus> table, std::string_view key) {
  if (key.empty()) return std::nullopt;
  for (const auto& [name, status] : table) {
    if (name == key) return status;
  }
  return std::nullopt;
}

}  // namespace

int OpenAiFailureStatus(std::string_view type, std::string_view code) {
  if (auto status = Lookup(kCodeStatuses, code)) return *status;
  return Lookup(kTypeStatuses, type).value_or(500);
}

int AnthropicFailureStatus(std::string_view type) {
  static constexpr std::pair<std::string_view, int> kStatuses[] = {
      {"invalid_request_error", 400},
      {"authentication_error", 401},
      {"permission_error", 403},
      {"not_found_error", 404},
      {"request_too_large", 413},
      {"rate_limit_error", 429},
      {"api_error", 500},
      {"overloaded_error", 529},
  };
  for (const auto& [name, status] : kStatuses) {
    if (name == type) return status;
  }
  return 500;
}

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
