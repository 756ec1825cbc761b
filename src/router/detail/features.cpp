#include "router/detail/features.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "router/detail/hash.h"

namespace sy::router::detail {
namespace {

// Per-kind salts, so a unigram and a character n-gram of the same bytes land apart.
constexpr std::array<uint64_t, kSparseKinds> kSalt = {0x9e3779b97f4a7c15ULL, 0xc2b2ae3d27d4eb4fULL,
                                                      0x165667b19e3779f9ULL};
// The bigram neighbours of a text's first and last token.
constexpr uint64_t kStartToken = Fnv1a64("\x02start");
constexpr uint64_t kEndToken = Fnv1a64("\x03end");
// Character n-grams are read from a word's first bytes only (URLs, hashes and long numbers
// would otherwise cost hundreds of n-grams each).
constexpr size_t kMaxGramWord = 32;
constexpr size_t kTaskTypes = 12;

constexpr bool IsWordByte(uint8_t b) {
  return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b >= 0x80;
}

// A word byte as it is hashed (ASCII letters lower-cased, digits as '0'); 0 for every other byte,
// which ends a word. One lookup per byte in ScanSparse's inner loop.
constexpr std::array<uint8_t, 256> kFolded = [] {
  std::array<uint8_t, 256> t{};
  for (uint32_t b = 0; b < 256; ++b) {
    if (!IsWordByte(static_cast<uint8_t>(b))) continue;
    t[b] = static_cast<uint8_t>(b);
    if (b >= 'A' && b <= 'Z') t[b] = static_cast<uint8_t>(b + ('a' - 'A'));
    if (b >= '0' && b <= '9') t[b] = '0';
  }
  return t;
}();

// Calls fn(text, weight, last_turn) for the user texts to read: the last user turn's first, then
// earlier user turns from the latest back, until max_scan_bytes are spent.
template <typename Fn>
void ForEachUserText(const core::Prompt& prompt, const FeatureSettings& settings, Fn&& fn) {
  int last = -1;
  for (const auto& t : prompt.texts) {
    if (t.role == core::PromptRole::kUser) last = std::max(last, t.turn);
  }
  size_t budget = settings.max_scan_bytes;
  for (const auto& t : prompt.texts) {
    if (t.role != core::PromptRole::kUser || t.turn != last || budget == 0) continue;
    const size_t take = std::min(t.text.size(), budget);
    fn(t.text.substr(0, take), 1.0f, true);
    budget -= take;
  }
  for (auto it = prompt.texts.rbegin(); it != prompt.texts.rend() && budget > 0; ++it) {
    if (it->role != core::PromptRole::kUser || it->turn == last) continue;
    const size_t take = std::min(it->text.size(), budget);
    fn(it->text.substr(0, take), settings.earlier_turn_weight, false);
    budget -= take;
  }
}

class Emitter {
 public:
  Emitter(const FeatureSettings& settings, SparseVisitor& visitor, float weight)
      : s_(settings), v_(visitor), weight_(weight) {}

  void Token(uint64_t hash) {
    if (s_.unigrams) Emit(SparseKind::kUnigram, hash);
    if (s_.bigrams) Emit(SparseKind::kBigram, previous_ * kFnvPrime ^ hash);
    previous_ = hash;
  }

  // The last token's bigram with the end of the text; hands over what is buffered.
  void End() {
    if (s_.bigrams && previous_ != kStartToken) {
      Emit(SparseKind::kBigram, previous_ * kFnvPrime ^ kEndToken);
    }
    Flush();
  }

  // The character n-grams of "<word>", word folded as it is hashed; len <= kMaxGramWord.
  void CharGrams(const uint8_t* word, size_t len) {
    std::array<uint8_t, kMaxGramWord + 2> padded{};
    padded[0] = '<';
    for (size_t k = 0; k < len; ++k) padded[k + 1] = kFolded[word[k]];
    padded[len + 1] = '>';
    const size_t total = len + 2;
    for (size_t start = 0; start < total; ++start) {
      uint64_t h = kFnvOffset;
      for (size_t k = 0; k < s_.char_max && start + k < total; ++k) {
        h = FnvStep(h, padded[start + k]);
        if (k + 1 >= s_.char_min) Emit(SparseKind::kCharGram, h);
      }
    }
  }

 private:
  void Emit(SparseKind kind, uint64_t hash) {
    if (count_ == buffer_.size()) Flush();
    buffer_[count_++] = {kind, BucketOf(hash, kind, s_.bucket_bits), weight_};
  }

  void Flush() {
    v_.Add(std::span<const SparseHit>(buffer_.data(), count_));
    count_ = 0;
  }

  const FeatureSettings& s_;
  SparseVisitor& v_;
  float weight_;
  uint64_t previous_ = kStartToken;
  std::array<SparseHit, 64> buffer_{};
  size_t count_ = 0;
};

void ScanSparse(std::string_view text, const FeatureSettings& settings, SparseVisitor& visitor,
                float weight) {
  Emitter emit(settings, visitor, weight);
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    if (kFolded[bytes[i]] == 0) {
      if (settings.punctuation && bytes[i] > ' ' && bytes[i] < 0x7f) {
        emit.Token(FnvStep(kFnvOffset, bytes[i]));
      }
      ++i;
      continue;
    }
    const size_t start = i;
    uint64_t h = kFnvOffset;
    for (uint8_t f; i < n && (f = kFolded[bytes[i]]) != 0; ++i) h = FnvStep(h, f);
    emit.Token(h);
    if (settings.char_min > 0) emit.CharGrams(bytes + start, std::min(i - start, kMaxGramWord));
  }
  emit.End();
}

// Counts over the scanned part of the last user turn.
struct TextStats {
  size_t bytes = 0;    // the whole turn
  size_t scanned = 0;  // what was read
  size_t digits = 0;
  size_t numbers = 0;
  size_t non_ascii = 0;
  size_t newlines = 0;
  size_t dollars = 0;
  size_t equals = 0;
  size_t math = 0;  // ^ and backslashes (LaTeX)
  size_t code = 0;  // braces, semicolons, backticks
  size_t questions = 0;
  size_t sentence_ends = 0;
  size_t words = 0;
  size_t word_bytes = 0;
  size_t percents = 0;
  size_t commas = 0;
  bool ends_with_question = false;
  uint32_t option_mask = 0;  // bit i: a line starts with option letter 'A' + i
};

// "A. text", "(B) text", "C) text" at a line start: a multiple-choice option.
void NoteOption(std::string_view text, size_t line_start, TextStats& st) {
  size_t j = line_start;
  while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '(')) ++j;
  if (j + 1 >= text.size() || text[j] < 'A' || text[j] > 'E') return;
  if (text[j + 1] != '.' && text[j + 1] != ')') return;
  st.option_mask |= 1u << (text[j] - 'A');
}

// CountText's byte classes (kWordByte: letters and non-ASCII bytes), for the counts that depend on
// a byte's predecessor: a number starts (a digit after a non-digit), a word starts (a word byte or
// digit after anything else), a sentence ends (a space or newline after . ! or ?).
enum ByteClass : uint8_t { kOther, kWordByte, kDigit, kBlank, kEndMark, kClasses };

constexpr std::array<uint8_t, 256> kByteClass = [] {
  std::array<uint8_t, 256> t{};
  for (uint32_t b = 0; b < 256; ++b) {
    if (IsWordByte(static_cast<uint8_t>(b))) t[b] = kWordByte;
    if (b >= '0' && b <= '9') t[b] = kDigit;
  }
  t[' '] = t['\n'] = kBlank;
  t['.'] = t['!'] = t['?'] = kEndMark;
  return t;
}();

// What a (previous class, class) pair adds to the three transition counts, packed in one word:
// numbers in bits 0-20, words in 21-41, sentence ends in 42-62. A field holds 2^21 - 1, more
// than ValidSettings lets one text be scanned.
constexpr uint32_t kFieldBits = 21;
constexpr uint64_t kFieldMask = (uint64_t{1} << kFieldBits) - 1;
constexpr size_t kClassPairs = size_t{kClasses} * kClasses;
constexpr std::array<uint64_t, kClassPairs> kStarts = [] {
  std::array<uint64_t, kClassPairs> t{};
  const auto word = [](uint32_t c) { return c == kWordByte || c == kDigit; };
  for (uint32_t prev = 0; prev < kClasses; ++prev) {
    for (uint32_t cur = 0; cur < kClasses; ++cur) {
      uint64_t add = 0;
      if (cur == kDigit && prev != kDigit) add |= 1;
      if (word(cur) && !word(prev)) add |= uint64_t{1} << kFieldBits;
      if (cur == kBlank && prev == kEndMark) add |= uint64_t{1} << (2 * kFieldBits);
      t[prev * kClasses + cur] = add;
    }
  }
  return t;
}();

size_t SumOf(const std::array<uint32_t, 256>& counts, uint8_t first, uint8_t last) {
  size_t sum = 0;
  for (uint32_t b = first; b <= last; ++b) sum += counts[b];
  return sum;
}

// One pass, kept cheap (it runs on every scored request): per byte, a count of the byte and one
// table-driven add for the transitions; everything else is read off the byte counts afterwards.
// Option lines are found by memchr.
void CountText(std::string_view text, TextStats& st) {
  std::array<uint32_t, 256> counts{};
  uint64_t starts = 0;
  uint32_t prev = kOther;
  for (const char c : text) {
    const auto b = static_cast<uint8_t>(c);
    const uint32_t cls = kByteClass[b];
    ++counts[b];
    starts += kStarts[prev * kClasses + cls];
    prev = cls;
  }
  for (size_t line = 0; line < text.size();) {
    NoteOption(text, line, st);
    const size_t next = text.find('\n', line);
    if (next == std::string_view::npos) break;
    line = next + 1;
  }
  const size_t digits = SumOf(counts, '0', '9');
  const size_t non_ascii = SumOf(counts, 0x80, 0xff);
  st.scanned += text.size();
  st.digits += digits;
  st.numbers += starts & kFieldMask;
  st.words += (starts >> kFieldBits) & kFieldMask;
  st.sentence_ends += (starts >> (2 * kFieldBits)) & kFieldMask;
  st.sentence_ends += prev == kEndMark;  // the text ends a sentence
  st.word_bytes += digits + non_ascii + SumOf(counts, 'a', 'z') + SumOf(counts, 'A', 'Z');
  st.non_ascii += non_ascii;
  st.newlines += counts['\n'];
  st.dollars += counts['$'];
  st.equals += counts['='];
  st.math += counts['^'] + counts['\\'];
  st.code += counts['{'] + counts['}'] + counts[';'] + counts['`'];
  st.questions += counts['?'];
  st.percents += counts['%'];
  st.commas += counts[','];
  const size_t last = text.find_last_not_of(" \t\r\n");
  if (last != std::string_view::npos) st.ends_with_question = text[last] == '?';
}

float Log1p(size_t n) { return static_cast<float>(std::log1p(static_cast<double>(n))); }
float Share(size_t part, size_t whole) {
  return whole == 0 ? 0.0f
                    : static_cast<float>(static_cast<double>(part) / static_cast<double>(whole));
}

}  // namespace

uint32_t BucketOf(uint64_t hash, SparseKind kind, uint32_t bucket_bits) {
  return static_cast<uint32_t>(Mix64(hash ^ kSalt[static_cast<size_t>(kind)]) >>
                               (64 - bucket_bits));
}

void VisitSparse(const core::Prompt& prompt, const FeatureSettings& settings,
                 SparseVisitor& visitor) {
  ForEachUserText(prompt, settings, [&](std::string_view text, float weight, bool /*last*/) {
    ScanSparse(text, settings, visitor, weight);
  });
}

void ComputeDense(const core::Prompt& prompt, int task_type, const FeatureSettings& settings,
                  std::array<float, kDenseCount>& out) {
  TextStats st;
  int last = -1;
  for (const auto& t : prompt.texts) {
    if (t.role == core::PromptRole::kUser) last = std::max(last, t.turn);
  }
  for (const auto& t : prompt.texts) {
    if (t.role == core::PromptRole::kUser && t.turn == last) st.bytes += t.text.size();
  }
  ForEachUserText(prompt, settings, [&](std::string_view text, float /*weight*/, bool last_turn) {
    if (last_turn) CountText(text, st);
  });
  out.fill(0.0f);
  const float log_len = Log1p(st.bytes) / 8.0f;
  const float centred = log_len * 8.0f - 6.0f;
  const bool options = std::popcount(st.option_mask & 0xfu) >= 3;
  out[0] = 1.0f;
  out[1] = log_len;
  out[2] = centred * centred / 16.0f;
  out[3] = 4.0f * Share(st.digits, st.scanned);
  out[4] = Log1p(st.numbers) / 3.0f;
  out[5] = st.dollars > 0 ? 1.0f : 0.0f;
  out[6] = st.equals > 0 ? 1.0f : 0.0f;
  out[7] = Log1p(st.math) / 2.0f;
  out[8] = Log1p(st.code) / 2.0f;
  out[9] = st.questions > 0 ? 1.0f : 0.0f;
  out[10] = st.ends_with_question ? 1.0f : 0.0f;
  out[kOptionsSlot] = options ? 1.0f : 0.0f;
  out[12] = 4.0f * Share(st.non_ascii, st.scanned);
  out[13] = Log1p(st.newlines) / 3.0f;
  out[14] = Log1p(st.sentence_ends) / 3.0f;
  out[15] = Share(st.word_bytes, st.words) / 8.0f;
  out[16] = st.percents > 0 ? 1.0f : 0.0f;
  out[17] = prompt.user_turns > 1 ? Log1p(static_cast<size_t>(prompt.user_turns - 1)) : 0.0f;
  if (task_type >= 0 && static_cast<size_t>(task_type) < kTaskTypes) {
    out[18 + static_cast<size_t>(task_type)] = 1.0f;
  } else {
    out[18 + kTaskTypes] = 1.0f;
  }
  out[31] = Log1p(st.commas) / 2.0f;
}

bool ValidSettings(const FeatureSettings& s) {
  const bool grams = (s.char_min == 0 && s.char_max == 0) ||
                     (s.char_min >= 2 && s.char_min <= s.char_max && s.char_max <= kMaxCharGram);
  return s.bucket_bits >= 8 && s.bucket_bits <= kMaxBucketBits && grams && s.max_scan_bytes >= 1 &&
         s.max_scan_bytes <= (1u << 20) && s.earlier_turn_weight >= 0.0f &&
         s.earlier_turn_weight <= 1.0f;
}

}  // namespace sy::router::detail
