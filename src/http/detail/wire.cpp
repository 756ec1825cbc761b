#include "http/detail/wire.h"

#include <array>
#include <charconv>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <boost/beast/http/status.hpp>

namespace sy::http::detail {
namespace {

// Copies `s` into `out` at `at` (room already made); returns the end.
size_t Put(std::string& out, size_t at, std::string_view s) {
  std::memcpy(out.data() + at, s.data(), s.size());
  return at + s.size();
}

// CR, LF or NUL anywhere in `s`. Sixteen bytes at a time where SSE2 is there (every x86-64):
// the byte loop was a tenth of a small request's instructions.
bool HasBreakingByte(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i nul = _mm_setzero_si128();
  for (; n >= 16; p += 16, n -= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)),
                                     _mm_cmpeq_epi8(v, nul));
    if (_mm_movemask_epi8(hit) != 0) return true;
  }
#endif
  for (; n > 0; ++p, --n) {
    if (*p == '\r' || *p == '\n' || *p == '\0') return true;
  }
  return false;
}

// Appends the headers that are safe to send, but one named `skip` (none when empty). Sized
// once, then copied: four appends per header were most of writing a head. One scan of the list's
// bytes clears nearly every list of CR, LF and NUL at once; only a list that has one somewhere
// is checked header by header.
void AppendHeaders(std::string& out, const Headers& headers, std::string_view skip = {}) {
  const bool check_each = HasBreakingByte(headers.bytes());
  size_t at = out.size();
  out.resize(at + headers.bytes().size() + 4 * headers.size());
  for (const auto& h : headers) {
    if (h.name.empty() || (check_each && UnsafeHeader(h))) continue;
    if (!skip.empty() && EqualsIgnoreCase(h.name, skip)) continue;
    at = Put(out, at, h.name);
    at = Put(out, at, ": ");
    at = Put(out, at, h.value);
    at = Put(out, at, "\r\n");
  }
  out.resize(at);
}

// Room for a keyed answer's head (about 600 bytes with its x-switchyard-* and x-ratelimit-*
// headers), so that appending the headers does not move it.
constexpr size_t kHeadRoom = 1024;

std::string StatusLine(int status) {
  std::string out;
  out.reserve(kHeadRoom);
  out.append("HTTP/1.1 ").append(std::to_string(status)).push_back(' ');
  out.append(boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status)));
  out.append("\r\n");
  return out;
}

void AppendLength(std::string& out, size_t content_length) {
  out.append("content-length: ").append(std::to_string(content_length)).append("\r\n");
}

}  // namespace

bool UnsafeHeader(const Header& header) {
  return header.name.empty() || HasBreakingByte(header.name) || HasBreakingByte(header.value);
}

std::string ResponseHead(int status, const Headers& headers, size_t content_length, bool keep_alive,
                         bool http10) {
  std::string out = StatusLine(status);
  AppendHeaders(out, headers);
  AppendLength(out, content_length);
  if (!keep_alive) {
    out.append("connection: close\r\n");
  } else if (http10) {
    out.append("connection: keep-alive\r\n");
  }
  out.append("\r\n");
  return out;
}

std::string StreamHead(int status, const Headers& headers, bool chunked, bool keep_alive) {
  std::string out = StatusLine(status);
  // Trailers need chunks: a body that is not chunked (HTTP/1.0) announces none.
  AppendHeaders(out, headers, chunked ? std::string_view() : std::string_view("trailer"));
  if (chunked) out.append("transfer-encoding: chunked\r\n");
  if (!keep_alive) out.append("connection: close\r\n");
  out.append("\r\n");
  return out;
}

std::string ChunkSize(size_t size) {
  char digits[2 * sizeof(size_t) + 2];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits - 2, size, 16);
  (void)ec;  // cannot fail: the buffer holds every size_t in hex
  *end++ = '\r';
  *end++ = '\n';
  return std::string(digits, end);
}

std::string LastChunk(const Headers& trailers) {
  std::string out = "0\r\n";
  AppendHeaders(out, trailers);
  out.append("\r\n");
  return out;
}

std::string RequestHead(std::string_view method, std::string_view target, std::string_view host,
                        const Headers& headers, size_t content_length) {
  std::string out;
  out.reserve(256);
  out.append(method).push_back(' ');
  out.append(target).append(" HTTP/1.1\r\nhost: ").append(host).append("\r\n");
  AppendHeaders(out, headers);
  AppendLength(out, content_length);
  out.append("\r\n");
  return out;
}

// IPv4 by hand: Asio's to_string goes through inet_ntop and sprintf, 1.3K instructions, and a
// peer's address is formatted for every connection.
std::string EndpointText(const boost::asio::ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  if (!address.is_v4()) return "[" + address.to_string() + "]:" + std::to_string(endpoint.port());
  std::string text;
  text.reserve(21);  // "255.255.255.255:65535"
  std::array<char, 8> digits{};
  auto append = [&](unsigned value) {
    text.append(digits.data(),
                std::to_chars(digits.data(), digits.data() + digits.size(), value).ptr);
  };
  for (const unsigned char byte : address.to_v4().to_bytes()) {
    if (!text.empty()) text.push_back('.');
    append(byte);
  }
  text.push_back(':');
  append(endpoint.port());
  return text;
}

}  // namespace sy::http::detail
