// http::SseParser: incremental parser of a text/event-stream body (the WHATWG server-sent
// events format), fed with whatever byte pieces the network delivers.
//
// Thread-safety: none; one parser per stream.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sy::http {

struct SseEvent {
  std::string event;  // "" when the event had no `event:` field
  std::string data;   // data lines joined with '\n'
};

class SseParser {
 public:
  explicit SseParser(size_t max_event_bytes = 8 * 1024 * 1024)
      : max_event_bytes_(max_event_bytes) {}

  // Appends bytes from the stream.
  void Feed(std::string_view bytes) { buffer_.append(bytes); }

  // The next complete event, or nullopt when more bytes are needed. Comment lines (": ping")
  // and events with neither data nor a name are skipped.
  std::optional<SseEvent> Next();

  // True when an unfinished event is larger than the limit: the stream is not SSE.
  bool overflowed() const {
    return buffer_.size() - pos_ + pending_.data.size() + pending_.event.size() > max_event_bytes_;
  }
  // True when bytes of an unfinished event are buffered (a stream cut mid-event).
  bool has_partial() const;

 private:
  std::optional<std::string_view> NextLine();

  std::string buffer_;
  size_t pos_ = 0;   // where the unfinished line starts
  size_t scan_ = 0;  // where the search for its end resumes: pos_ <= scan_ <= buffer_.size()
  size_t max_event_bytes_;
  SseEvent pending_;
  bool pending_has_data_ = false;
};

// Frames one event: "event: NAME\n" (when NAME is not empty) + "data: DATA\n\n", with one
// "data: " line per line of DATA (split at LF, CR or CRLF), so that a reader gets DATA back with
// its line breaks as '\n' (a pretty-printed JSON event from an upstream, as SseParser joins it).
// REQUIRES: event has no line break.
std::string FormatSse(std::string_view event, std::string_view data);

}  // namespace sy::http
