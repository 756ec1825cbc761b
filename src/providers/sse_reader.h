// providers::SseReader: pulls server-sent events off a streamed upstream response, one at a time,
// reading from the network only when no complete event is buffered.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/result.h"
#include "http/client.h"
#include "http/sse.h"
#include "http/task.h"

namespace sy::providers {

class SseReader {
 public:
  SseReader(std::unique_ptr<http::ClientResponse> response, std::string provider)
      : response_(std::move(response)), provider_(std::move(provider)) {}

  // The next event, or nullopt when the body ended cleanly between events.
  // Fails when the connection breaks, stalls, ends mid-event or sends something that is not SSE.
  http::Task<core::Result<std::optional<http::SseEvent>>> Next();
  // The next event when it is complete in the bytes already read; nullopt when Next would read.
  std::optional<http::SseEvent> NextBuffered() { return parser_.Next(); }
  // Drops the rest of the body (see EventStream::Finish).
  http::Task<void> Finish();

 private:
  std::unique_ptr<http::ClientResponse> response_;
  std::string provider_;
  http::SseParser parser_;
};

}  // namespace sy::providers
