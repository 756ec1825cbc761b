#include "core/text.h"

namespace sy::core {
namespace {

// The longest prefix of `text` of at most `max_bytes` that does not end inside a UTF-8
// sequence (continuation bytes are 10xxxxxx).
size_t Utf8Prefix(std::string_view text, size_t max_bytes) {
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

std::string ClipForEcho(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::string out(text.substr(0, Utf8Prefix(text, max_bytes)));
  out += "...[cut, " + std::to_string(text.size()) + " bytes]";
  return out;
}

void ClipInPlace(std::string& text, size_t max_bytes) {
  if (text.size() > max_bytes) text = ClipForEcho(text, max_bytes);
}

std::string_view TrimSpace(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

std::string_view TrimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace sy::core
