#include "emulator/text_gen.h"

#include <array>

namespace sy::emulator {

uint64_t Fnv1a(std::string_view data, uint64_t seed) {
  uint64_t hash = seed;
  for (char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

uint64_t Mix(uint64_t a, uint64_t b) {
  Rng rng(a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2)));
  return rng.Next();
}

uint64_t Rng::Next() {
  state_ += 0x9e3779b97f4a7c15ULL;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Rng::Uniform() {
  // 53 random bits scaled into [0, 1).
  return static_cast<double>(Next() >> 11) * 0x1.0p-53;
}

uint64_t Rng::Below(uint64_t bound) { return Next() % bound; }

namespace {

constexpr std::array<std::string_view, 64> kWords = {
    "the",    "model",   "answers", "quickly",  "with",    "a",       "clear",    "plan",
    "for",    "every",   "request", "and",      "routes",  "it",      "through",  "gateway",
    "while",  "tokens",  "stream",  "in",       "order",   "so",      "that",     "each",
    "client", "sees",    "steady",  "progress", "from",    "start",   "to",       "finish",
    "river",  "signal",  "bright",  "simple",   "careful", "result",  "emulated", "answer",
    "useful", "context", "prompt",  "value",    "latency", "budget",  "test",     "window",
    "quiet",  "green",   "harbor",  "light",    "north",   "summer",  "stone",    "paper",
    "orbit",  "engine",  "method",  "detail",   "record",  "measure", "number",   "report"};

std::string Capitalised(std::string_view word) {
  std::string out(word);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 32);
  return out;
}

}  // namespace

std::vector<std::string> GenerateWordPieces(uint64_t seed, int64_t count) {
  std::vector<std::string> pieces;
  if (count <= 0) return pieces;
  pieces.reserve(static_cast<size_t>(count));
  Rng rng(seed);
  int64_t sentence_left = 0;
  for (int64_t i = 0; i < count; ++i) {
    std::string_view word = kWords[rng.Below(kWords.size())];
    std::string piece;
    if (sentence_left == 0) {
      sentence_left = 6 + static_cast<int64_t>(rng.Below(7));
      piece = (i == 0 ? "" : " ") + Capitalised(word);
    } else {
      piece = " " + std::string(word);
    }
    --sentence_left;
    if (sentence_left == 0 || i + 1 == count) {
      piece += ".";
      sentence_left = 0;
    }
    pieces.push_back(std::move(piece));
  }
  return pieces;
}

std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> pieces;
  size_t start = 0;
  while (start < text.size()) {
    size_t next = text.find(' ', start + 1);
    if (next == std::string_view::npos) next = text.size();
    pieces.emplace_back(text.substr(start, next - start));
    start = next;
  }
  return pieces;
}

std::vector<std::string> SplitIntoPieces(std::string_view text, size_t piece_bytes) {
  std::vector<std::string> pieces;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = pos + piece_bytes;
    if (end >= text.size()) {
      end = text.size();
    } else {
      // Never split a UTF-8 sequence: continuation bytes are 10xxxxxx.
      while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U) ++end;
    }
    pieces.emplace_back(text.substr(pos, end - pos));
    pos = end;
  }
  return pieces;
}

int64_t CountTextTokens(std::string_view text) {
  return static_cast<int64_t>((text.size() + 3) / 4);
}

std::string JoinPieces(const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& piece : pieces) out += piece;
  return out;
}

std::string Base62Id(uint64_t seed, size_t length) {
  static constexpr std::string_view kAlphabet =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  Rng rng(seed);
  std::string out;
  out.reserve(length);
  for (size_t i = 0; i < length; ++i) out += kAlphabet[rng.Below(kAlphabet.size())];
  return out;
}

std::string HexId(uint64_t seed, size_t length) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  Rng rng(seed);
  std::string out;
  out.reserve(length);
  for (size_t i = 0; i < length; ++i) out += kHex[rng.Below(16)];
  return out;
}

}  // namespace sy::emulator
