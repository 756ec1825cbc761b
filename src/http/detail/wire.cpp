#include "http/detail/wire.h"

#include <boost/beast/http/status.hpp>

namespace sy::http::detail {
namespace {

void AppendHeaders(std::string& out, const Headers& headers) {
  for (const auto& h : headers) {
    if (UnsafeHeader(h)) continue;
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
}

void AppendLength(std::string& out, size_t content_length) {
  out.append("content-length: ").append(std::to_string(content_length)).append("\r\n");
}

}  // namespace

bool UnsafeHeader(const Header& header) {
  static constexpr std::string_view kBreaking("\r\n\0", 3);
  auto bad = [](std::string_view s) { return s.find_first_of(kBreaking) != s.npos; };
  return header.name.empty() || bad(header.name) || bad(header.value);
}

std::string ResponseHead(int status, const Headers& headers, size_t content_length,
                         bool keep_alive) {
  std::string out;
  out.reserve(256);
  out.append("HTTP/1.1 ").append(std::to_string(status)).push_back(' ');
  out.append(boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status)));
  out.append("\r\n");
  AppendHeaders(out, headers);
  AppendLength(out, content_length);
  if (!keep_alive) out.append("connection: close\r\n");
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

}  // namespace sy::http::detail
