#include "emulator/http_message.h"

#include <ctime>

#include <boost/json/serialize.hpp>

namespace sy::emulator {

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

bool HttpRequest::HasHeader(std::string_view lower_name) const {
  for (const auto& header : headers) {
    if (header.first == lower_name) return true;
  }
  return false;
}

std::string_view HttpRequest::Path() const {
  std::string_view target_view = target;
  return target_view.substr(0, target_view.find('?'));
}

Reply JsonReply(int status, const boost::json::value& body, HeaderList headers) {
  Reply reply;
  reply.status = status;
  reply.headers = std::move(headers);
  reply.headers.emplace_back("content-type", "application/json");
  reply.body = boost::json::serialize(body);
  return reply;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 529:
      return "Site Overloaded";
    default:
      return "Unknown";
  }
}

namespace {

std::string HttpDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm_utc{};
  gmtime_r(&now, &tm_utc);
  char buffer[64];
  size_t length = std::strftime(buffer, sizeof(buffer), "%a, %d %b %Y %H:%M:%S GMT", &tm_utc);
  return std::string(buffer, length);
}

bool MayHaveBody(int status) { return status >= 200 && status != 204 && status != 304; }

}  // namespace

std::string SerializeHead(const Reply& reply, bool keep_alive) {
  std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " ";
  head += ReasonPhrase(reply.status);
  head += "\r\n";
  for (const auto& [name, value] : reply.headers) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "date: " + HttpDate() + "\r\n";
  if (reply.stream) {
    head += "transfer-encoding: chunked\r\n";
  } else if (MayHaveBody(reply.status)) {
    head += "content-length: " + std::to_string(reply.body.size()) + "\r\n";
  }
  head += keep_alive ? "connection: keep-alive\r\n" : "connection: close\r\n";
  head += "\r\n";
  return head;
}

std::string ChunkFrame(std::string_view data) {
  if (data.empty()) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string size_hex;
  for (size_t n = data.size(); n > 0; n /= 16) size_hex.insert(size_hex.begin(), kHex[n % 16]);
  std::string frame;
  frame.reserve(size_hex.size() + data.size() + 4);
  frame += size_hex;
  frame += "\r\n";
  frame += data;
  frame += "\r\n";
  return frame;
}

namespace {

void AppendDataLines(std::string& out, std::string_view data) {
  size_t start = 0;
  while (true) {
    size_t end = data.find('\n', start);
    out += "data: ";
    out += data.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    out += "\n";
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
}

}  // namespace

std::string SseData(std::string_view data) {
  std::string out;
  AppendDataLines(out, data);
  out += "\n";
  return out;
}

std::string SseEvent(std::string_view name, std::string_view data) {
  std::string out = "event: ";
  out += name;
  out += "\n";
  AppendDataLines(out, data);
  out += "\n";
  return out;
}

}  // namespace sy::emulator
