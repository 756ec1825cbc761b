#include "core/text.h"

#include <array>
#include <charconv>
#include <system_error>

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

std::string ShortestText(double value) {
  std::array<char, 32> text{};
  const auto [end, ec] = std::to_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() ? std::string(text.data(), end) : std::string("?");
}

size_t ControlCharacterAt(std::string_view text) {
  if (text.empty()) return 0;
  const auto first = static_cast<unsigned char>(text[0]);
  if (first < 0x20 || first == 0x7f) return 1;
  if (first == 0xc2 && text.size() > 1) {
    const auto second = static_cast<unsigned char>(text[1]);
    if (second >= 0x80 && second <= 0x9f) return 2;
  }
  return 0;
}

bool HasControlCharacters(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (ControlCharacterAt(text.substr(i)) != 0) return true;
  }
  return false;
}

std::string EscapeControlCharacters(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t control = ControlCharacterAt(text.substr(i));
    if (control == 0) {
      if (text[i] == '\\') out += '\\';
      out += text[i++];
      continue;
    }
    // The code point: the byte itself (C0, DEL), or U+0080..U+009F from its second byte.
    const auto code = static_cast<unsigned char>(control == 1 ? text[i] : text[i + 1]);
    out += control == 1 ? "\\x" : "\\u00";
    out += kHex[code >> 4];
    out += kHex[code & 0xf];
    i += control;
  }
  return out;
}

}  // namespace sy::core
