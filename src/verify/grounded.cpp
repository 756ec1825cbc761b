#include "verify/grounded.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <unordered_set>

namespace sy::verify {
namespace {

enum class TokenKind : uint8_t { kWord, kNumber, kPunct };

struct Token {
  TokenKind kind = TokenKind::kPunct;
  std::string_view text;  // as written
  double value = 0;       // kNumber: commas removed
  bool capital = false;   // kWord: starts with A-Z
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || static_cast<unsigned char>(c) >= 0x80;
}

std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  out.reserve(s.size() / 5);  // about a token per five bytes of prose: few regrowths
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    const size_t start = i;
    if (IsDigit(c)) {
      std::string digits;
      while (i < s.size()) {
        if (IsDigit(s[i])) {
          digits += s[i++];
        } else if ((s[i] == ',' || s[i] == '.') && i + 1 < s.size() && IsDigit(s[i + 1])) {
          if (s[i] == '.') digits += '.';
          ++i;
        } else {
          break;
        }
      }
      double value = 0;
      std::from_chars(digits.data(), digits.data() + digits.size(), value);
      out.push_back({TokenKind::kNumber, s.substr(start, i - start), value, false});
    } else if (IsLetter(c)) {
      while (i < s.size() && (IsLetter(s[i]) || ((s[i] == '\'' || s[i] == '-') &&
                                                 i + 1 < s.size() && IsLetter(s[i + 1])))) {
        ++i;
      }
      out.push_back({TokenKind::kWord, s.substr(start, i - start), 0, c >= 'A' && c <= 'Z'});
    } else {
      ++i;
      if (c != ' ' && c != '\t' && c != '\r')
        out.push_back({TokenKind::kPunct, s.substr(start, 1)});
    }
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string NumberKey(double v) {
  std::array<char, 32> buf{};
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), r.ptr);
}

int MonthOf(std::string_view word) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  // Only a 3-9 letter word can be a month: most words are rejected without a copy.
  if (word.size() < 3 || word.size() > 9) return 0;
  const std::string w = Lower(word);
  for (size_t m = 0; m < kMonths.size(); ++m) {
    if (w == kMonths[m] || (w.size() == 3 && kMonths[m].substr(0, 3) == w)) {
      return static_cast<int>(m) + 1;
    }
  }
  return 0;
}

bool IsStopWord(std::string_view word) {
  static const std::unordered_set<std::string> kStop = {
      "the",       "a",        "an",     "i",      "however", "in",      "on",        "at",
      "for",       "and",      "but",    "or",     "if",      "it",      "its",       "this",
      "that",      "these",    "those",  "we",     "you",     "he",      "she",       "they",
      "our",       "my",       "as",     "by",     "to",      "of",      "from",      "with",
      "according", "after",    "before", "during", "monday",  "tuesday", "wednesday", "thursday",
      "friday",    "saturday", "sunday", "yes",    "no",      "there",   "here",      "what",
      "when",      "where",    "who",    "why",    "how",     "also",    "then",      "so"};
  return kStop.count(Lower(word)) > 0 || MonthOf(word) > 0;
}

bool IsTitle(std::string_view word) {
  const std::string w = Lower(word);
  return w == "dr" || w == "mr" || w == "mrs" || w == "ms" || w == "prof" || w == "st";
}

double ScaleOf(std::string_view word) {
  const std::string w = Lower(word);
  if (w == "thousand") return 1e3;
  if (w == "million" || w == "m") return 1e6;
  if (w == "billion" || w == "bn") return 1e9;
  if (w == "trillion") return 1e12;
  return 0;
}

bool SentenceEnd(const std::vector<Token>& t, size_t i) {
  if (t[i].kind != TokenKind::kPunct) return false;
  const char c = t[i].text[0];
  if (c == '.' && i > 0 && t[i - 1].kind == TokenKind::kWord && IsTitle(t[i - 1].text)) {
    return false;  // "Dr." does not end a sentence
  }
  return c == '.' || c == '!' || c == '?' || c == '\n' || c == ':' || c == ';';
}

std::string DateKey(int y, int m, int d) {
  return std::to_string(y) + "-" + std::to_string(m) + "-" + std::to_string(d);
}

bool IsPunct(const std::vector<Token>& t, size_t i, char c) {
  return i < t.size() && t[i].kind == TokenKind::kPunct && t[i].text[0] == c;
}
bool IsNum(const std::vector<Token>& t, size_t i, double lo, double hi) {
  return i < t.size() && t[i].kind == TokenKind::kNumber && t[i].value >= lo && t[i].value <= hi &&
         t[i].text.find_first_of(",.") == std::string_view::npos;
}

// A date starting at token i: its key and how many tokens it spans.
std::optional<std::pair<std::string, size_t>> DateAt(const std::vector<Token>& t, size_t i) {
  auto as_int = [&](size_t k) { return static_cast<int>(t[k].value); };
  // 2026-11-14
  if (IsNum(t, i, 1000, 2999) && IsPunct(t, i + 1, '-') && IsNum(t, i + 2, 1, 12) &&
      IsPunct(t, i + 3, '-') && IsNum(t, i + 4, 1, 31)) {
    return std::make_pair(DateKey(as_int(i), as_int(i + 2), as_int(i + 4)), size_t{5});
  }
  // 14 November 2026
  if (IsNum(t, i, 1, 31) && i + 2 < t.size() && t[i + 1].kind == TokenKind::kWord &&
      MonthOf(t[i + 1].text) && IsNum(t, i + 2, 1000, 2999)) {
    return std::make_pair(DateKey(as_int(i + 2), MonthOf(t[i + 1].text), as_int(i)), size_t{3});
  }
  // November 14, 2026
  if (i < t.size() && t[i].kind == TokenKind::kWord && MonthOf(t[i].text) &&
      IsNum(t, i + 1, 1, 31)) {
    const size_t year = IsPunct(t, i + 2, ',') ? i + 3 : i + 2;
    if (IsNum(t, year, 1000, 2999)) {
      return std::make_pair(DateKey(as_int(year), MonthOf(t[i].text), as_int(i + 1)), year - i + 1);
    }
  }
  return std::nullopt;
}

struct Index {
  std::unordered_set<std::string> numbers;
  std::unordered_set<std::string> dates;
  // Lower-cased word 1-, 2- and 3-grams of the context, as GramKey hashes, made only of words
  // the answer's names use (no other gram can be asked for): indexing a long context then
  // allocates no string per word and inserts few grams. A 64-bit collision is as unlikely as it
  // is harmless here.
  std::unordered_set<uint64_t> grams;
};

constexpr uint64_t kFnvBasis = 14695981039346656037ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

// FNV-1a of the lower-cased word.
uint64_t WordHash(std::string_view word) {
  uint64_t h = kFnvBasis;
  for (char c : word) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    h = (h ^ static_cast<unsigned char>(c)) * kFnvPrime;
  }
  return h;
}

// A run of words (their WordHash) as one key; the order matters.
uint64_t GramKey(const uint64_t* words, size_t n) {
  uint64_t h = kFnvBasis;
  for (size_t w = 0; w < n; ++w) h = (h ^ words[w]) * kFnvPrime;
  return h;
}

// The words of the answer's capitalised runs: the only words a name claim looks up.
std::unordered_set<uint64_t> NameVocabulary(const std::vector<Token>& answer) {
  std::unordered_set<uint64_t> vocab;
  for (const Token& token : answer) {
    if (token.kind == TokenKind::kWord && token.capital) vocab.insert(WordHash(token.text));
  }
  return vocab;
}

Index BuildIndex(std::string_view context, const std::unordered_set<uint64_t>& vocab) {
  Index index;
  const auto t = Tokenize(context);
  // The current run of vocabulary words; numbers, punctuation and other words break it.
  std::vector<uint64_t> run;
  for (size_t i = 0; i < t.size(); ++i) {
    if (auto date = DateAt(t, i)) index.dates.insert(date->first);
    if (t[i].kind == TokenKind::kNumber) {
      index.numbers.insert(NumberKey(t[i].value));
      if (i + 1 < t.size() && t[i + 1].kind == TokenKind::kWord) {
        if (const double scale = ScaleOf(t[i + 1].text); scale > 0) {
          index.numbers.insert(NumberKey(t[i].value * scale));
        }
      }
      run.clear();
    } else if (t[i].kind == TokenKind::kWord) {
      const uint64_t word = WordHash(t[i].text);
      if (!vocab.contains(word)) {
        run.clear();
        continue;
      }
      run.push_back(word);
      const size_t n = run.size();
      for (size_t k = 1; k <= std::min<size_t>(n, 3); ++k) {
        index.grams.insert(GramKey(&run[n - k], k));
      }
    } else if (t[i].text[0] != '-' && t[i].text[0] != '\'') {
      run.clear();
    }
  }
  return index;
}

bool NameFound(const Index& index, const std::vector<uint64_t>& words) {
  if (words.size() <= 3) return index.grams.count(GramKey(words.data(), words.size())) > 0;
  for (size_t i = 0; i + 3 <= words.size(); ++i) {
    if (!index.grams.count(GramKey(&words[i], 3))) return false;
  }
  return true;
}

struct Scan {
  const Index& index;
  GroundedResult result;
  void Claim(bool found, std::string_view text) {
    ++result.claims;
    if (found) {
      ++result.found;
    } else {
      result.missing.emplace_back(text);
    }
  }
};

// A number claim at token i (with its currency sign, %, or scale word); returns tokens used.
size_t NumberClaim(std::string_view answer, const std::vector<Token>& t, size_t i, Scan& scan) {
  const double v = t[i].value;
  size_t used = 1;
  double scale = 0;
  if (i + 1 < t.size() && IsPunct(t, i + 1, '%')) {
    used = 2;
  } else if (i + 1 < t.size() && t[i + 1].kind == TokenKind::kWord) {
    scale = ScaleOf(t[i + 1].text);
    if (scale > 0) used = 2;
  }
  if (v <= 10 && t[i].text.find('.') == std::string_view::npos && scale == 0) return used;
  const bool found = scan.index.numbers.count(NumberKey(v)) > 0 ||
                     (scale > 0 && scan.index.numbers.count(NumberKey(v * scale)) > 0);
  const char* begin = t[i].text.data();
  if (begin > answer.data() && (begin[-1] == '$' || begin[-1] == '\xA3')) --begin;
  const char* end = t[i + used - 1].text.data() + t[i + used - 1].text.size();
  scan.Claim(found, std::string_view(begin, static_cast<size_t>(end - begin)));
  return used;
}

// A run of capitalised words starting at token i; returns tokens used.
size_t NameClaim(const std::vector<Token>& t, size_t i, bool sentence_start, Scan& scan) {
  size_t j = i;
  std::vector<uint64_t> words;  // WordHash of each word of the name
  const char* begin = nullptr;
  const char* end = nullptr;
  while (j < t.size() && t[j].kind == TokenKind::kWord && t[j].capital) {
    if (IsTitle(t[j].text) && IsPunct(t, j + 1, '.')) {
      j += 2;  // "Dr." is not part of the name
      sentence_start = false;
      continue;
    }
    if (!(words.empty() && IsStopWord(t[j].text))) {
      if (words.empty()) begin = t[j].text.data();
      end = t[j].text.data() + t[j].text.size();
      words.push_back(WordHash(t[j].text));
    } else {
      sentence_start = false;  // "The Halvorsen Institute": the name is not sentence-initial
    }
    ++j;
  }
  if (j == i) return 1;
  const bool is_name = words.size() >= 2 || (words.size() == 1 && !sentence_start);
  if (is_name) {
    scan.Claim(NameFound(scan.index, words),
               std::string_view(begin, static_cast<size_t>(end - begin)));
  }
  return j - i;
}

}  // namespace

GroundedResult CheckGrounded(std::string_view context, std::string_view answer) {
  const auto t = Tokenize(answer);
  const Index index = BuildIndex(context, NameVocabulary(t));
  Scan scan{index, {}};
  bool sentence_start = true;
  for (size_t i = 0; i < t.size();) {
    if (auto date = DateAt(t, i)) {
      const auto& last = t[i + date->second - 1].text;
      scan.Claim(index.dates.count(date->first) > 0,
                 std::string_view(t[i].text.data(), static_cast<size_t>(last.data() + last.size() -
                                                                        t[i].text.data())));
      i += date->second;
      sentence_start = false;
      continue;
    }
    size_t used = 1;
    if (t[i].kind == TokenKind::kNumber) {
      used = NumberClaim(answer, t, i, scan);
    } else if (t[i].kind == TokenKind::kWord && t[i].capital) {
      used = NameClaim(t, i, sentence_start, scan);
    }
    sentence_start = SentenceEnd(t, i + used - 1);
    i += used;
  }
  return std::move(scan.result);
}

}  // namespace sy::verify
