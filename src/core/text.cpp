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

}  // namespace sy::core
