#include "providers/sse_reader.h"

#include <chrono>
#include <cstdint>

#include "providers/upstream_error.h"

namespace sy::providers {

http::Task<core::Result<std::optional<http::SseEvent>>> SseReader::Next() {
  for (;;) {
    if (auto event = parser_.Next()) co_return std::optional<http::SseEvent>(std::move(*event));
    if (parser_.overflowed()) co_return MalformedUpstream(provider_, "an oversized stream event");
    auto piece = co_await response_->Read();
    if (!piece) co_return std::move(piece).error();
    if (piece->empty()) {
      if (parser_.has_partial()) co_return MalformedUpstream(provider_, "a stream cut mid-event");
      co_return std::optional<http::SseEvent>();
    }
    parser_.Feed(*piece);
  }
}

http::Task<void> SseReader::Finish() {
  constexpr std::chrono::milliseconds kTimeout{100};
  constexpr int64_t kMaxBytes = 64 * 1024;
  (void)co_await response_->Discard(kTimeout, kMaxBytes);
}

}  // namespace sy::providers
