// The emulator's view of one HTTP exchange: the request as read, and the planned Reply that the
// connection executes (delays, status, body or timed SSE events, and an optional abort).
//
// Planning a Reply is pure (no I/O, no clock), so the wire dialects and faults are unit-tested
// without sockets; only connection.cpp turns a Reply into bytes on a socket.
//
// Thread-safety: plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace sy::emulator {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;
  std::string target;  // path and query, as sent
  HeaderList headers;  // names lower-cased, in arrival order
  std::string body;

  // The first value of a header, "" when absent. REQUIRES: lower_name is lower-case.
  std::string_view Header(std::string_view lower_name) const;
  bool HasHeader(std::string_view lower_name) const;
  // The target without its query string.
  std::string_view Path() const;
};

// One piece of a streamed body, sent after waiting `delay`.
struct StreamEvent {
  std::chrono::microseconds delay{0};
  std::string bytes;           // a complete SSE event ("data: ...\n\n"), already framed
  int64_t content_tokens = 0;  // generated tokens this event carries (for after_tokens faults)
};

enum class Abort {
  kNone,   // finish the reply normally
  kHang,   // stop sending, keep the connection open until the peer closes it or we stop
  kReset,  // abort the TCP connection with RST
};

struct Reply {
  int status = 200;
  HeaderList headers;                  // content-type and dialect headers; framing is added later
  std::chrono::microseconds delay{0};  // waited before anything is sent
  bool stream = false;                 // chunked body made of `events`
  std::string body;                    // when !stream
  std::vector<StreamEvent> events;     // when stream
  bool send_head = true;               // false: nothing is sent, then `abort` happens
  Abort abort = Abort::kNone;          // after whatever was sent
  bool close = false;                  // close the connection after the reply
};

// A non-streamed JSON reply.
Reply JsonReply(int status, const boost::json::value& body, HeaderList headers = {});

std::string_view ReasonPhrase(int status);

// Status line, the reply's headers, date, framing (content-length or chunked) and connection
// headers, and the blank line. Body bytes are not included.
std::string SerializeHead(const Reply& reply, bool keep_alive);

// One chunk of a chunked body; empty data yields "" (an empty chunk would end the body).
std::string ChunkFrame(std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// Server-sent events framing: "data: X\n\n" and "event: NAME\ndata: X\n\n". Multi-line data
// becomes several data lines.
std::string SseData(std::string_view data);
std::string SseEvent(std::string_view name, std::string_view data);

}  // namespace sy::emulator
