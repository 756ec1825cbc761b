// Bounding client- and upstream-supplied text before it is echoed.
//
// Anything a client sends (a model name, a role, a URL) or an upstream says (an error message)
// may be arbitrarily large; where such text reaches an error message, a header, a log line or the
// ledger it goes through ClipForEcho first, so no answer and no ledger row grows with the input.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sy::core {

// The default bound for one echoed client string (a model name, a role, a path).
inline constexpr size_t kMaxEchoBytes = 256;

// `text` when it fits in `max_bytes`; otherwise its first bytes, cut on a UTF-8 character
// boundary, followed by "...[cut, N bytes]" with N the original size. The result is at most
// `max_bytes` plus the marker (under 32 bytes).
std::string ClipForEcho(std::string_view text, size_t max_bytes = kMaxEchoBytes);

// Clips `text` in place; a no-op (no allocation) when it fits.
void ClipInPlace(std::string& text, size_t max_bytes);

// `text` without the ASCII whitespace (space, tab, CR, LF) at its ends.
std::string_view TrimSpace(std::string_view text);

// `text` without the spaces and tabs at its ends: HTTP's optional whitespace (RFC 9110 §5.6.3)
// around a header value or a list element.
std::string_view TrimOws(std::string_view text);

// The shortest text that reads back as `value` (std::to_chars): "0.36", "2", "1e+308", never
// "3.6E-1" nor the 309 digits std::to_string gives 1e308.
std::string ShortestText(double value);

// The length of the terminal control character at the start of `text`, 0 when there is none:
// a C0 control or DEL (1 byte), or a C1 control U+0080..U+009F in UTF-8 (2 bytes; a terminal
// may read U+009B as CSI). Text an operator reads in a terminal must not carry them.
size_t ControlCharacterAt(std::string_view text);

// Whether `text` holds a terminal control character (ControlCharacterAt).
bool HasControlCharacters(std::string_view text);

// `text` with each terminal control character written as its escape ("\x1b", "\u009b") and
// each backslash doubled, so that what is printed cannot drive a terminal and an escape in the
// output cannot be taken for one in the text.
std::string EscapeControlCharacters(std::string_view text);

}  // namespace sy::core
