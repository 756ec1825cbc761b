// Internal to routing: the character-level helpers shared by the cue tables (lexicon.cpp), which
// tokenise their cues with them once, and the classifier (classify.cpp), which tokenises prompts
// with them on every request. Both must split and fold text the same way, so they share this.
//
// Thread-safety: pure inline functions.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace sy::routing::detail {

// One UTF-8 character: its code point and byte length. Malformed bytes decode as U+FFFD with
// length 1, so scanning always advances.
struct Utf8Char {
  uint32_t cp = 0;
  uint32_t len = 1;
};

inline Utf8Char DecodeUtf8(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[k])); };
  const uint32_t c = b(i);
  if (c < 0x80) return {c, 1};
  const size_t left = s.size() - i;
  const auto cont = [&](size_t k) { return (b(i + k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c < 0xE0 && left >= 2 && cont(1))
    return {((c & 0x1F) << 6) | (b(i + 1) & 0x3F), 2};
  if (c >= 0xE0 && c < 0xF0 && left >= 3 && cont(1) && cont(2)) {
    return {((c & 0x0F) << 12) | ((b(i + 1) & 0x3F) << 6) | (b(i + 2) & 0x3F), 3};
  }
  if (c >= 0xF0 && c < 0xF5 && left >= 4 && cont(1) && cont(2) && cont(3)) {
    return {((c & 0x07) << 18) | ((b(i + 1) & 0x3F) << 12) | ((b(i + 2) & 0x3F) << 6) |
                (b(i + 3) & 0x3F),
            4};
  }
  return {0xFFFD, 1};
}

// How the tokenizer treats a character.
enum class CharClass : uint8_t {
  kSeparator,  // ends a word: spaces, punctuation, symbols, emoji
  kWord,       // part of a word: letters and digits of alphabetic scripts, ' and _
  kIdeograph,  // Han, kana, Hangul: no word boundaries to rely on; cues match as substrings
};

inline CharClass ClassOf(uint32_t cp) {
  if (cp < 0x80) {
    const bool alnum =
        (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
    return alnum || cp == '\'' || cp == '_' ? CharClass::kWord : CharClass::kSeparator;
  }
  if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7) return CharClass::kSeparator;  // Latin-1 symbols
  if (cp == 0x060C || cp == 0x061B || cp == 0x061F) return CharClass::kSeparator;  // ، ؛ ؟
  if (cp >= 0x1100 && cp < 0x1200) return CharClass::kIdeograph;                   // Hangul jamo
  if (cp >= 0x2000 && cp < 0x2E80) return CharClass::kSeparator;    // punctuation, math, arrows
  if (cp >= 0x3000 && cp < 0x3040) return CharClass::kSeparator;    // CJK punctuation
  if (cp >= 0x3040 && cp < 0xA000) return CharClass::kIdeograph;    // kana, Hangul compat, Han
  if (cp >= 0xAC00 && cp < 0xD7B0) return CharClass::kIdeograph;    // Hangul syllables
  if (cp >= 0xF900 && cp < 0xFB00) return CharClass::kIdeograph;    // CJK compatibility
  if (cp >= 0xFE30 && cp < 0xFF66) return CharClass::kSeparator;    // full-width forms
  if (cp >= 0x1F000 && cp < 0x20000) return CharClass::kSeparator;  // emoji, symbols
  if (cp >= 0x20000 && cp < 0x30000) return CharClass::kIdeograph;  // Han extensions
  return CharClass::kWord;
}

// Lower case for the scripts whose cues we list: ASCII, Latin-1, Greek, Cyrillic.
inline uint32_t FoldCase(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 0x20;
  if (cp < 0xC0) return cp;
  if (cp <= 0xDE && cp != 0xD7) return cp + 0x20;
  if (cp >= 0x391 && cp <= 0x3A9) return cp + 0x20;
  if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
  return cp;
}

// The bytes of a word that take part in its key: longer words are cut (no cue is that long).
inline constexpr size_t kMaxWordBytes = 48;

inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ULL;
  return x ^ (x >> 32);
}

// A word's key in the cue table: its case-folded UTF-8 bytes (at most kMaxWordBytes) packed
// eight at a time little-endian, the last chunk zero-padded, each chunk mixed into a hash
// seeded with the word's length (one multiply-mix for a word of up to eight bytes). The bytes
// are `text[begin, end)`; `ascii` says they are all ASCII (the common case, where folding is an
// OR with 0x20 per byte: A-Z become a-z, digits and ' stay). Built in registers: writing bytes
// to a buffer and reading it back as words stalls on store forwarding.
inline uint64_t LengthSeed(size_t n) { return 0x9E3779B97F4A7C15ULL ^ (n * 0xC2B2AE3D27D4EB4FULL); }

inline uint64_t WordKey(std::string_view text, size_t begin, size_t end, bool ascii) {
  const size_t n = end - begin < kMaxWordBytes ? end - begin : kMaxWordBytes;
  uint64_t h = LengthSeed(n);
  if (ascii) {
    for (size_t k = 0; k < n; k += 8) {
      const size_t m = n - k < 8 ? n - k : 8;
      const uint64_t keep = m == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * m)) - 1;
      uint64_t v = 0;
      if (std::endian::native == std::endian::little && begin + k + 8 <= text.size()) {
        std::memcpy(&v, text.data() + begin + k, 8);  // may read past the word, not the text
      } else {
        for (size_t b = 0; b < m; ++b) {
          v |= uint64_t{static_cast<unsigned char>(text[begin + k + b])} << (8 * b);
        }
      }
      h = Mix64(h ^ ((v | 0x2020202020202020ULL) & keep));
    }
    return h;
  }
  uint64_t v = 0;
  size_t filled = 0;
  auto put = [&](uint32_t byte) {
    if (filled == kMaxWordBytes) return;
    v |= uint64_t{byte} << (8 * (filled % 8));
    if (++filled % 8 == 0) {
      h = Mix64(h ^ v);
      v = 0;
    }
  };
  for (size_t k = begin; k < end && filled < kMaxWordBytes;) {
    const Utf8Char ch = DecodeUtf8(text, k);
    k += ch.len;
    const uint32_t cp = FoldCase(ch.cp);
    if (cp < 0x80) {
      put(cp | 0x20);  // as in the ASCII path
    } else if (cp < 0x800) {
      put(0xC0 | (cp >> 6));
      put(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      put(0xE0 | (cp >> 12));
      put(0x80 | ((cp >> 6) & 0x3F));
      put(0x80 | (cp & 0x3F));
    } else {
      put(0xF0 | (cp >> 18));
      put(0x80 | ((cp >> 12) & 0x3F));
      put(0x80 | ((cp >> 6) & 0x3F));
      put(0x80 | (cp & 0x3F));
    }
  }
  if (filled % 8 != 0) h = Mix64(h ^ v);
  return h;
}

// A phrase's key: its words' keys chained in order (a one-word phrase is the word's key).
inline uint64_t ChainWord(uint64_t phrase, uint64_t word) {
  return Mix64(std::rotl(phrase, 23) ^ word);
}

// SWAR over eight ASCII bytes (bit 7 of each byte is the answer for that byte; bytes >= 0x80
// never match): lo < byte < hi, and byte == c.
inline constexpr uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr uint64_t kLow7 = kOnes * 0x7F;
inline constexpr uint64_t kHighBits = kOnes * 0x80;
inline uint64_t Between(uint64_t v, uint64_t lo, uint64_t hi) {
  return ((kOnes * (127 + hi) - (v & kLow7)) & ~v & ((v & kLow7) + kOnes * (127 - lo))) & kHighBits;
}
inline uint64_t EqualTo(uint64_t v, uint64_t c) {
  const uint64_t x = v ^ (kOnes * c);
  return ~(((x & kLow7) + kLow7) | x | kLow7);
}
// Word bytes: letters, digits, ' and _ (as IsAsciiWordByte).
inline uint64_t WordBytes(uint64_t v) {
  return Between(v | (kOnes * 0x20), 'a' - 1, 'z' + 1) | Between(v, '0' - 1, '9' + 1) |
         EqualTo(v, '\'') | EqualTo(v, '_');
}

}  // namespace sy::routing::detail
