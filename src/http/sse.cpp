#include "http/sse.h"

#include <algorithm>

namespace sy::http {

namespace {

// The first CR or LF at or after `from`, or npos: two memchr scans, the second only as far as
// the first found (find_first_of with a set calls memchr once per character, and every
// streamed event passes through here).
size_t LineBreak(std::string_view data, size_t from) {
  const size_t lf = data.find('\n', from);
  const size_t cr = data.substr(0, std::min(lf, data.size())).find('\r', from);
  return cr == std::string_view::npos ? lf : cr;
}

}  // namespace

std::optional<std::string_view> SseParser::NextLine() {
  // The search resumes where the last one ended: rescanning an unfinished line from its start
  // after every piece made a long line fed in small pieces cost quadratic time.
  const size_t end = LineBreak(buffer_, scan_);
  if (end == std::string::npos) {
    scan_ = buffer_.size();
    return std::nullopt;
  }
  size_t next = end + 1;
  if (buffer_[end] == '\r') {
    if (next == buffer_.size()) {  // a '\n' may still follow
      scan_ = end;
      return std::nullopt;
    }
    if (buffer_[next] == '\n') ++next;
  }
  std::string_view line(buffer_.data() + pos_, end - pos_);
  pos_ = next;
  scan_ = next;
  return line;
}

std::optional<SseEvent> SseParser::Next() {
  while (auto line = NextLine()) {
    if (line->empty()) {
      if (!pending_has_data_ && pending_.event.empty()) continue;
      SseEvent out = std::move(pending_);
      pending_ = {};
      pending_has_data_ = false;
      return out;
    }
    if (line->front() == ':') continue;
    const size_t colon = line->find(':');
    std::string_view field = line->substr(0, colon);
    std::string_view value;
    if (colon != std::string_view::npos) {
      value = line->substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
      if (pending_has_data_) pending_.data.push_back('\n');
      pending_.data.append(value);
      pending_has_data_ = true;
    } else if (field == "event") {
      pending_.event.assign(value);
    }
  }
  if (pos_ > 0 && pos_ * 2 >= buffer_.size()) {  // compact without quadratic copying
    buffer_.erase(0, pos_);
    scan_ -= pos_;
    pos_ = 0;
  }
  return std::nullopt;
}

bool SseParser::has_partial() const {
  return pending_has_data_ || !pending_.event.empty() || pos_ < buffer_.size();
}

std::string FormatSse(std::string_view event, std::string_view data) {
  std::string out;
  out.reserve(event.size() + data.size() + 16);
  if (!event.empty()) {
    out.append("event: ").append(event).push_back('\n');
  }
  // Each line of `data` is a data line of its own, which a reader joins with '\n' again: a line
  // break inside one data line would end the field there and leave the rest of the line to be
  // read as a field name. Data from a JSON serializer has one line, found by this one scan.
  size_t start = 0;
  for (size_t end; (end = LineBreak(data, start)) != std::string_view::npos;) {
    out.append("data: ").append(data.substr(start, end - start)).push_back('\n');
    start = end + 1;
    if (data[end] == '\r' && start < data.size() && data[start] == '\n') ++start;
  }
  out.append("data: ").append(data.substr(start)).append("\n\n");
  return out;
}

}  // namespace sy::http
