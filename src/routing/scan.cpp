// GatherEvidence: the scan half of Classify (classify.cpp decides).
//
// Only where instructions live is read word by word: the first kHeadBytes and the last
// kTailBytes of each system text and of each of the most recent user texts (a short text is
// read whole). There, words are folded to lower case on the fly and looked up, with the phrases
// they start, in the cue table (lexicon.h); Han, kana and Hangul text is matched against
// substring cues. A cue adds weight x multiplier to its task type:
//   the last user turn                     4
//   system texts and earlier user turns    2
// The middle of a long text is pasted material: it is only checked for the shape of code
// (fences, lines ending in ; { }) and quoted lines, with memchr, and its words are not read. So
// a pasted article about translation is not a request to translate, and the cost of a request
// is bounded whatever its size. Assistant and tool texts are not read at all.
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "routing/classify_internal.h"
#include "routing/lexicon.h"
#include "routing/text_scan.h"

namespace sy::routing::detail {
namespace {

constexpr int32_t kInstructionMultiplier = 4;  // the last user turn
constexpr int32_t kContextMultiplier = 2;      // system texts, earlier user turns
constexpr size_t kHeadBytes = 320;
constexpr size_t kTailBytes = 256;
constexpr int kScannedUserTexts = 8;         // the most recent user texts are read
constexpr size_t kMarkerPassageBytes = 120;  // a marker labels context when this much follows
constexpr size_t kChatTextBytes = 400;       // chat cues count in texts up to this size
constexpr size_t kInstructionBytes = 400;    // an instruction before a passage is this short
constexpr size_t kPassageBytes = 150;        // ... and a passage at least this long
constexpr size_t kClosingLineBytes = 200;    // an instruction after a passage, on its own line
constexpr int32_t kPassageMultiplier = 1;    // a cue inside a supplied passage...
constexpr int32_t kPassageCap = 4;           // ... adds at most this much per type and text

struct TextRole {
  int32_t multiplier = kContextMultiplier;
  bool last_user = false;  // counts questions
  bool user = false;       // counts towards language
};

struct Pending {  // a phrase being matched
  uint64_t key;
  int words;
  int max_words;
};

// Byte classes for the scan loop: word characters first, so one compare decides.
enum ByteClass : uint8_t { kLetter, kDigit, kWordMark, kSpace, kNewline, kPunct, kNonAscii };

constexpr std::array<uint8_t, 256> MakeByteClasses() {
  std::array<uint8_t, 256> t{};
  for (size_t c = 0; c < 256; ++c) t[c] = c < 0x80 ? kPunct : kNonAscii;
  for (size_t c = 'a'; c <= 'z'; ++c) t[c] = kLetter;
  for (size_t c = 'A'; c <= 'Z'; ++c) t[c] = kLetter;
  for (size_t c = '0'; c <= '9'; ++c) t[c] = kDigit;
  t['\''] = t['_'] = kWordMark;
  t[' '] = t['\t'] = t['\r'] = kSpace;
  t['\n'] = kNewline;
  return t;
}
constexpr std::array<uint8_t, 256> kByteClasses = MakeByteClasses();

bool IsAsciiWordByte(unsigned char c) { return kByteClasses[c] <= kWordMark; }

// snake_case, lowerCamelCase (7+ letters: not "iPhone") or a call "name(": code in prose.
bool LooksLikeIdentifier(std::string_view t, size_t begin, size_t end) {
  if (end < t.size() && t[end] == '(' && end - begin >= 2) return true;
  if (end - begin < 3) return false;
  const bool lower_first = t[begin] >= 'a' && t[begin] <= 'z';
  for (size_t k = begin + 1; k + 1 < end; ++k) {  // one pass, no calls: this runs per word
    const char c = t[k];
    if (c == '_') return true;
    if (lower_first && end - begin >= 7 && c >= 'A' && c <= 'Z' && t[k - 1] >= 'a' &&
        t[k - 1] <= 'z') {
      return true;
    }
  }
  return false;
}

bool IsMathSymbol(uint32_t cp) {
  switch (cp) {
    case 0xD7:    // ×
    case 0xF7:    // ÷
    case 0xB1:    // ±
    case 0xB2:    // ²
    case 0xB3:    // ³
    case 0x2260:  // ≠
    case 0x2264:  // ≤
    case 0x2265:  // ≥
    case 0x221A:  // √
    case 0x03C0:  // π
    case 0x2211:  // ∑
    case 0x222B:  // ∫
    case 0x2248:  // ≈
      return true;
    default:
      return false;
  }
}

// Where a passage supplied after an instruction begins: the first line break, or a colon that
// a line break or an opening quote follows ("Summarize this:\n...", "Traduz: «...»"), if it
// comes early enough to end an instruction and enough material follows. A colon or quote inside
// a line ("sort into: A, B or C", "「配送」") does not cut. npos: the text is all instruction.
size_t PassageCut(std::string_view text) {
  const std::string_view head = text.substr(0, kInstructionBytes);
  size_t cut = head.find('\n');
  for (std::string_view colon : {":", "\xEF\xBC\x9A"}) {  // ： (full width)
    for (size_t at = head.find(colon); at < cut; at = head.find(colon, at + 1)) {
      const std::string_view after = text.substr(at + colon.size());
      const size_t next = after.find_first_not_of(' ');
      if (next == std::string_view::npos) break;
      const std::string_view rest = after.substr(next);
      if (rest.starts_with('"') || rest.starts_with("\xC2\xAB") ||                 // "  «
          rest.starts_with("\xE2\x80\x9C") || rest.starts_with("\xE3\x80\x8C")) {  // “ 「
        cut = at;
        break;
      }
    }
  }
  return cut != std::string_view::npos && text.size() - cut >= kPassageBytes
             ? cut
             : std::string_view::npos;
}

// Where a closing instruction after a passage begins ("...\n\nSummarize the text above."):
// the last line, when it is short. npos: none.
size_t ClosingLine(std::string_view text, size_t cut) {
  if (cut == std::string_view::npos) return std::string_view::npos;
  const size_t nl = text.find_last_of('\n');
  // The passage must stay a passage: a short single-line passage is not a closing line.
  if (nl == std::string_view::npos || nl < cut + kPassageBytes ||
      text.size() - nl > kClosingLineBytes) {
    return std::string_view::npos;
  }
  return nl;
}

// SWAR helpers (Between, EqualTo, WordBytes): text_scan.h.
uint64_t UpperOrUnderscore(uint64_t v) { return Between(v, 'A' - 1, 'Z' + 1) | EqualTo(v, '_'); }

class Scanner {
 public:
  Scanner(const Lexicon& lexicon, Evidence& ev) : lex_(lexicon), ev_(ev) {}

  void Scan(std::string_view text, const TextRole& role) {
    role_ = role;
    text_ = text;
    in_fence_ = false;
    passage_begin_ = role.user ? PassageCut(text) : std::string_view::npos;
    passage_end_ = std::min(ClosingLine(text, passage_begin_), text.size());
    passage_.fill(0);
    ScanWindows();
    for (size_t t = 0; t < kTaskTypeCount; ++t) ev_.cues[t] += std::min(passage_[t], kPassageCap);
  }

  // Size of the passage found in the last text scanned (0: none).
  size_t passage_bytes() const {
    return passage_begin_ == std::string_view::npos ? 0 : passage_end_ - passage_begin_;
  }

 private:
  bool InInstruction(size_t offset) const {
    return offset < passage_begin_ || offset >= passage_end_;
  }

  void ScanWindows() {
    const std::string_view text = text_;
    if (text.size() <= kHeadBytes + kTailBytes) {
      ScanWords(0, text.size());
      return;
    }
    // Cut the windows after a space, so no word or character is split.
    const size_t head_end = NextSpace(kHeadBytes);
    const size_t tail_begin = std::max(head_end, NextSpace(text.size() - kTailBytes));
    ScanWords(0, head_end);
    ScanShape(head_end, tail_begin);
    ScanWords(tail_begin, text.size());
  }

  size_t NextSpace(size_t at) const {
    const size_t limit = std::min(text_.size(), at + 64);
    while (at < limit && text_[at] != ' ' && text_[at] != '\n') ++at;
    return at < limit ? at + 1 : at;  // (a run without spaces: cut anyway)
  }

  void ScanWords(size_t begin, size_t end);
  void ScanShape(size_t begin, size_t end);
  void OnPunct(unsigned char c, size_t at, size_t end);
  void EndWord(uint64_t word, size_t begin, size_t end);
  void Apply(std::span<const Effect> effects, size_t begin, size_t end);
  void MatchSubstrings(size_t at, uint32_t cp);
  void EndLine();
  void CountScript(uint32_t cp);

  const Lexicon& lex_;
  Evidence& ev_;
  TextRole role_;
  std::string_view text_;
  std::array<Pending, 4> pending_{};
  int pending_count_ = 0;
  int line_words_ = 0;      // words so far on this line
  bool line_blank_ = true;  // nothing but spaces (and '#') so far on this line
  char line_last_ = 0;      // the last non-space ASCII character on this line
  int backticks_ = 0, quotes_ = 0;
  bool in_fence_ = false;
  bool sentence_start_ = true;  // no word yet since the last sentence end
  size_t passage_begin_ = std::string_view::npos, passage_end_ = 0;  // a supplied passage
  std::array<int32_t, kTaskTypeCount> passage_{};  // cue points from inside the passage
};

void Scanner::ScanWords(size_t begin, size_t end) {
  pending_count_ = 0;
  line_words_ = 0;
  line_blank_ = true;
  line_last_ = 0;
  backticks_ = quotes_ = 0;
  sentence_start_ = true;
  const std::string_view t = text_;
  size_t i = begin;
  while (i < end) {
    const auto c = static_cast<unsigned char>(t[i]);
    if (IsAsciiWordByte(c)) {  // an ASCII word, the common case
      const size_t word_begin = i;
      uint64_t key = 0;
      bool ascii = true, maybe_identifier = true;
      if (std::endian::native == std::endian::little && i + 8 <= t.size()) {
        // Eight bytes at once: where the word ends, its key, and whether it could be an
        // identifier (an upper-case letter or '_' after its first byte).
        uint64_t v;
        std::memcpy(&v, t.data() + i, 8);
        const uint64_t stops = ~WordBytes(v) & kHighBits;
        const size_t n =
            std::min<size_t>(stops ? static_cast<size_t>(std::countr_zero(stops)) / 8 : 8, end - i);
        i += n;
        if (n < 8) {
          const uint64_t keep = (uint64_t{1} << (8 * n)) - 1;
          key = Mix64(LengthSeed(n) ^ ((v | 0x2020202020202020ULL) & keep));
          maybe_identifier = ((UpperOrUnderscore(v) & keep) >> 8) != 0;
        }
      }
      if (key == 0 || (i < end && static_cast<unsigned char>(t[i]) >= 0x80)) {
        // A long word, one near the end of the text, or one that goes on in non-ASCII letters
        // ("café"): byte by byte, and the key over the whole word.
        key = 0;
        while (i < end && IsAsciiWordByte(static_cast<unsigned char>(t[i]))) ++i;
        while (i < end && static_cast<unsigned char>(t[i]) >= 0x80) {
          const Utf8Char ch = DecodeUtf8(t, i);
          if (ClassOf(ch.cp) != CharClass::kWord) break;
          ascii = false;
          CountScript(ch.cp);
          i += ch.len;
          while (i < end && IsAsciiWordByte(static_cast<unsigned char>(t[i]))) ++i;
        }
      }
      if (role_.user && !in_fence_ && ascii) {
        ev_.scripts.latin += static_cast<int32_t>(i - word_begin);
      }
      if (c >= '0' && c <= '9') {
        ev_.digits += static_cast<int32_t>(i - word_begin);
        if (role_.last_user && InInstruction(word_begin)) ++ev_.numbers;
      }
      if (ascii && ((i < end && t[i] == '(') || maybe_identifier) &&
          LooksLikeIdentifier(t, word_begin, i)) {
        ++ev_.identifiers;
      }
      EndWord(key != 0 ? key : WordKey(t, word_begin, i, ascii), word_begin, i);
      continue;
    }
    if (c < 0x80) {
      ++i;
      const uint8_t cls = kByteClasses[c];
      if (cls == kSpace) continue;
      if (cls == kNewline) {
        EndLine();
        continue;
      }
      backticks_ = c == '`' ? backticks_ + 1 : 0;
      quotes_ = c == '"' ? quotes_ + 1 : 0;
      OnPunct(c, i - 1, end);
      line_last_ = static_cast<char>(c);
      if (c != '#') line_blank_ = false;
      continue;
    }
    const Utf8Char ch = DecodeUtf8(t, i);
    const CharClass cls = ClassOf(ch.cp);
    if (cls == CharClass::kWord) {  // a word in a non-Latin alphabet, or starting with a letter
      const size_t word_begin = i;
      while (i < end) {
        const Utf8Char w = DecodeUtf8(t, i);
        if (w.cp < 0x80 ? !IsAsciiWordByte(static_cast<unsigned char>(w.cp))
                        : ClassOf(w.cp) != CharClass::kWord) {
          break;
        }
        if (w.cp >= 0x80) CountScript(w.cp);
        i += w.len;
      }
      EndWord(WordKey(t, word_begin, i, false), word_begin, i);
      continue;
    }
    backticks_ = quotes_ = 0;
    line_blank_ = false;
    line_last_ = 0;
    if (cls == CharClass::kIdeograph) {
      CountScript(ch.cp);
      MatchSubstrings(i, ch.cp);
    } else if (IsMathSymbol(ch.cp)) {
      if (role_.last_user && InInstruction(i)) ++ev_.math_symbols;
    } else if (ch.cp >= 0x1F000 && ch.cp < 0x20000) {
      if (role_.last_user) ++ev_.emoji;
    } else if (ch.cp == 0xFF1F || ch.cp == 0x061F) {  // full-width and Arabic question marks
      pending_count_ = 0;
      sentence_start_ = true;
      if (role_.last_user && InInstruction(i)) ++ev_.questions;
    } else {
      pending_count_ = 0;  // CJK full stops and other punctuation end phrases too
      sentence_start_ = true;
    }
    i += ch.len;
  }
  EndLine();
}

void Scanner::OnPunct(unsigned char c, size_t at, size_t end) {
  switch (c) {
    case '.':
    case '!':
    case ';':
    case ':':
      pending_count_ = 0;  // phrases do not run across sentences
      sentence_start_ = true;
      break;
    case '?':
      pending_count_ = 0;
      sentence_start_ = true;
      if (role_.last_user && InInstruction(at)) ++ev_.questions;
      break;
    case '`':
      if (backticks_ == 3) {
        ++ev_.fences;
        in_fence_ = !in_fence_;
      }
      break;
    case '"':
      if (quotes_ == 3) ++ev_.triple_quotes;
      break;
    case '>':
      if (line_blank_) ++ev_.quote_lines;
      break;
    case '=':
      ++ev_.equals;
      break;
    case '^':
      ++ev_.carets;
      break;
    case '%':
      if (role_.last_user && InInstruction(at)) ++ev_.math_symbols;
      break;
    case '\\':
      if (at + 1 < end && text_[at + 1] >= 'a' && text_[at + 1] <= 'z') ++ev_.latex;
      break;
    default:
      break;
  }
}

// The middle of a long text: lines ending in ; { } (code), lines starting with '>' (quotes)
// and ``` fences, found with memchr.
void Scanner::ScanShape(size_t begin, size_t end) {
  const char* p = text_.data() + begin;
  const char* const stop = text_.data() + end;
  while (p < stop) {
    const auto* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(stop - p)));
    const char* line_end = nl ? nl : stop;
    const char* last = line_end;
    while (last > p && (last[-1] == ' ' || last[-1] == '\r' || last[-1] == '\t')) --last;
    if (last > p && (last[-1] == ';' || last[-1] == '{' || last[-1] == '}')) ++ev_.code_lines;
    if (p < line_end && *p == '>') ++ev_.quote_lines;
    if (line_end - p >= 3 && std::memcmp(p, "```", 3) == 0) ++ev_.fences;
    p = line_end + 1;
  }
}

void Scanner::EndLine() {
  if (line_last_ == ';' || line_last_ == '{' || line_last_ == '}') ++ev_.code_lines;
  pending_count_ = 0;
  sentence_start_ = true;
  line_words_ = 0;
  line_blank_ = true;
  line_last_ = 0;
}

void Scanner::EndWord(uint64_t word, size_t begin, size_t end) {
  // Extend the phrases in progress; a phrase's effects apply where its last word is.
  if (pending_count_ > 0) {
    int kept = 0;
    for (int k = 0; k < pending_count_; ++k) {
      Pending p = pending_[static_cast<size_t>(k)];
      p.key = ChainWord(p.key, word);
      ++p.words;
      if (const auto* e = lex_.Find(p.key)) Apply(lex_.EffectsOf(*e), begin, end);
      if (p.words < p.max_words) pending_[static_cast<size_t>(kept++)] = p;
    }
    pending_count_ = kept;
  }
  if (const auto* e = lex_.Find(word)) {
    if (e->count > 0) Apply(lex_.EffectsOf(*e), begin, end);
    if (e->phrase_words > 1) {
      if (pending_count_ == static_cast<int>(pending_.size())) {  // drop the oldest
        std::copy(pending_.begin() + 1, pending_.end(), pending_.begin());
        --pending_count_;
      }
      pending_[static_cast<size_t>(pending_count_++)] = {word, 1, e->phrase_words};
    }
  }
  ++line_words_;
  line_blank_ = false;
  sentence_start_ = false;
}

void Scanner::Apply(std::span<const Effect> effects, size_t begin, size_t end) {
  for (const Effect& e : effects) {
    switch (e.kind) {
      case CueKind::kType:
        // Greetings and thanks in a long text belong to a pasted email, not to small talk.
        if (e.arg == static_cast<uint8_t>(TaskType::kChat) && text_.size() > kChatTextBytes) {
          break;
        }
        if (InInstruction(begin)) {
          ev_.cues[e.arg] += e.weight * role_.multiplier;
        } else {
          passage_[e.arg] += e.weight * kPassageMultiplier;
        }
        break;
      case CueKind::kLanguage:
        if (role_.user && !in_fence_) ++ev_.stop_votes[e.arg];  // not the words of code
        break;
      case CueKind::kQuestion:  // "What ..." opening a sentence, not "... which would ..."
        if (role_.last_user && sentence_start_ && InInstruction(begin)) ++ev_.questions;
        break;
      case CueKind::kMarker: {
        // "Context:" / "文本：" (the colon may be part of the cue) or "<document".
        const std::string_view after = text_.substr(end);
        const bool colon = after.starts_with(':') || after.starts_with("\xEF\xBC\x9A") ||
                           text_[end - 1] == ':' || text_.substr(0, end).ends_with("\xEF\xBC\x9A");
        const bool tag = begin > 0 && text_[begin - 1] == '<';
        if ((colon || tag) && after.size() >= kMarkerPassageBytes) ++ev_.markers;
        break;
      }
      case CueKind::kCodeLine:
        if (line_words_ == 0 && line_blank_) ++ev_.code_lines;
        break;
    }
  }
}

void Scanner::MatchSubstrings(size_t at, uint32_t cp) {
  // Overlapping cues ("翻译" in "翻译成") count once: the longest task cue starting here wins;
  // question words and markers count regardless.
  const Lexicon::Substring* longest = nullptr;
  for (const auto& s : lex_.SubstringsStartingWith(cp)) {
    if (!text_.substr(at).starts_with(s.text)) continue;
    bool task = false;
    for (const Effect& e : lex_.EffectsOf(s)) {
      if (e.kind == CueKind::kType) {
        task = true;
      } else {
        Apply({&e, 1}, at, at + s.text.size());
      }
    }
    if (task && (!longest || s.text.size() > longest->text.size())) longest = &s;
  }
  if (!longest) return;
  for (const Effect& e : lex_.EffectsOf(*longest)) {
    if (e.kind == CueKind::kType) Apply({&e, 1}, at, at + longest->text.size());
  }
}

void Scanner::CountScript(uint32_t cp) {
  if (!role_.user || in_fence_) return;
  ScriptCounts& s = ev_.scripts;
  if (cp < 0x250) {
    ++s.latin;
    ++s.accented;
  } else if (cp >= 0x370 && cp < 0x400) {
    ++s.greek;
  } else if (cp >= 0x400 && cp < 0x530) {
    ++s.cyrillic;
  } else if (cp >= 0x590 && cp < 0x600) {
    ++s.hebrew;
  } else if ((cp >= 0x600 && cp < 0x700) || (cp >= 0x750 && cp < 0x780)) {
    ++s.arabic;
  } else if (cp >= 0x900 && cp < 0x980) {
    ++s.devanagari;
  } else if (cp >= 0xE00 && cp < 0xE80) {
    ++s.thai;
  } else if (cp >= 0x3040 && cp < 0x3100) {
    ++s.kana;
  } else if ((cp >= 0xAC00 && cp < 0xD7B0) || (cp >= 0x1100 && cp < 0x1200) ||
             (cp >= 0x3130 && cp < 0x3190)) {
    ++s.hangul;
  } else if (cp >= 0x3400) {
    ++s.han;
  }
}

int LastUserTurn(const core::Prompt& p) {
  int last = -1;
  for (const auto& t : p.texts) {
    if (t.role == core::PromptRole::kUser) last = std::max(last, t.turn);
  }
  return last;
}

}  // namespace

void GatherEvidence(const core::Prompt& prompt, Evidence& ev) {
  Scanner scanner(Lexicon::Get(), ev);
  const int last_turn = LastUserTurn(prompt);
  // The most recent user texts: count back from the end.
  int user_texts = 0;
  size_t first_user = prompt.texts.size();
  for (size_t i = prompt.texts.size(); i-- > 0;) {
    if (prompt.texts[i].role != core::PromptRole::kUser) continue;
    first_user = i;
    if (++user_texts == kScannedUserTexts) break;
  }
  for (size_t i = 0; i < prompt.texts.size(); ++i) {
    const auto& t = prompt.texts[i];
    TextRole role;
    if (t.role == core::PromptRole::kSystem) {
      ev.longest_system_text = std::max(ev.longest_system_text, t.text.size());
      scanner.Scan(t.text, role);
    } else if (t.role == core::PromptRole::kUser && i >= first_user) {
      role.user = true;
      role.last_user = t.turn == last_turn;
      if (role.last_user) {
        role.multiplier = kInstructionMultiplier;
        ++ev.last_turn_texts;
        ev.last_turn_bytes += t.text.size();
      }
      ev.longest_user_text = std::max(ev.longest_user_text, t.text.size());
      scanner.Scan(t.text, role);
      if (role.last_user) ev.passage_bytes = std::max(ev.passage_bytes, scanner.passage_bytes());
    }
  }
  ev.scores = ev.cues;
}

}  // namespace sy::routing::detail
