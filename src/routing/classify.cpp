// routing::Classify: a transparent weighted-cue scorer.
//
// 1. Scan (GatherEvidence): one pass over the system texts and the recent user texts. Words are
//    folded to lower case on the fly and looked up, with the phrases they start, in the cue
//    table (lexicon.h); Han, kana and Hangul text is matched against substring cues. Each cue
//    adds weight x multiplier to its task type, where the multiplier says how likely the words
//    are an instruction rather than pasted material:
//      last user turn, first 400 and last 300 bytes of a text    4
//      last user turn, the middle of a long text                 1
//      system texts and earlier user turns, same regions         2 / 1
//    Assistant and tool texts are not scanned for cues. Long texts are scanned in their first
//    4 KiB and last 2 KiB only, so the cost per request is bounded.
// 2. Decide (DecideType): structural evidence is added (tools, output format, context, code,
//    math notation, conversation depth; see the constants below), then the highest score wins,
//    ties going to the earlier type in kTieOrder; chat when nothing reaches kMinScore.
#include <algorithm>
#include <array>

#include "routing/classify_internal.h"
#include "routing/features.h"
#include "routing/lexicon.h"
#include "routing/text_scan.h"

namespace sy::routing {
namespace detail {
namespace {

constexpr int32_t kInstructionMultiplier = 4;  // last user turn, head and tail
constexpr int32_t kContextMultiplier = 2;      // system texts, earlier user turns
constexpr int32_t kPastedMultiplier = 1;       // the middle of a long text
constexpr size_t kHeadBytes = 400;
constexpr size_t kTailBytes = 300;
constexpr size_t kScanHeadBytes = 4096;      // longer texts: scan this much of the start...
constexpr size_t kScanTailBytes = 2048;      // ...and of the end
constexpr int kScannedUserTexts = 8;         // the most recent user texts are scanned
constexpr size_t kMarkerPassageBytes = 120;  // a marker labels context when this much follows
constexpr int32_t kMiddleCap = 8;  // at most this much per type from the middle of one text

using Type = TaskType;

// How a text is weighed and what it contributes.
struct TextRole {
  int32_t head_multiplier = kContextMultiplier;
  int32_t middle_multiplier = kPastedMultiplier;
  bool last_user = false;  // counts questions
  bool user = false;       // counts towards language
};

struct Pending {  // a phrase being matched
  uint64_t key;
  int words;
  int max_words;
};

class Scanner {
 public:
  Scanner(const Lexicon& lexicon, Evidence& ev) : lex_(lexicon), ev_(ev) {}

  void Scan(std::string_view text, const TextRole& role) {
    role_ = role;
    text_ = text;
    middle_.fill(0);
    if (text.size() <= kScanHeadBytes + kScanTailBytes) {
      ScanRange(0, text.size());
    } else {
      ScanRange(0, kScanHeadBytes);
      ScanRange(text.size() - kScanTailBytes, text.size());
    }
    // A pasted passage about translation is not a request to translate: however often its
    // middle names a task, that adds little.
    for (size_t t = 0; t < kTaskTypeCount; ++t) ev_.cues[t] += std::min(middle_[t], kMiddleCap);
  }

 private:
  int32_t MultiplierAt(size_t offset) const {
    const bool instruction = offset < kHeadBytes || offset + kTailBytes >= text_.size();
    return instruction ? role_.head_multiplier : role_.middle_multiplier;
  }

  void ScanRange(size_t begin, size_t end);
  void EndWord(uint64_t word, size_t begin, size_t end);
  void Apply(std::span<const Effect> effects, size_t begin, size_t end);
  void MatchSubstrings(size_t at, uint32_t cp);
  void EndLine();
  void CountScript(uint32_t cp);

  const Lexicon& lex_;
  Evidence& ev_;
  TextRole role_;
  std::string_view text_;
  std::array<int32_t, kTaskTypeCount> middle_{};  // cue points from the middle of this text
  std::array<Pending, 4> pending_{};
  int pending_count_ = 0;
  int line_words_ = 0;      // words so far on this line
  bool line_blank_ = true;  // nothing but spaces (and '#') so far on this line
  char line_last_ = 0;      // the last non-space ASCII character on this line
  int backticks_ = 0, quotes_ = 0;
  bool in_fence_ = false;
  bool sentence_start_ = true;  // no word yet since the last sentence end
};

void Scanner::ScanRange(size_t begin, size_t end) {
  pending_count_ = 0;
  line_words_ = 0;
  line_blank_ = true;
  line_last_ = 0;
  backticks_ = quotes_ = 0;
  sentence_start_ = true;
  bool in_word = false;
  uint64_t word = kWordSeed;
  size_t word_begin = 0;
  const std::string_view t = text_;
  for (size_t i = begin; i < end;) {
    const auto c = static_cast<unsigned char>(t[i]);
    if (c < 0x80) {
      const bool lower = c >= 'a' && c <= 'z';
      const bool upper = c >= 'A' && c <= 'Z';
      const bool digit = c >= '0' && c <= '9';
      if (lower || upper || digit || c == '\'' || c == '_') {
        if (!in_word) {
          in_word = true;
          word = kWordSeed;
          word_begin = i;
        }
        word = HashStep(word, upper ? c + 0x20u : c);
        ev_.digits += digit ? 1 : 0;
        if (role_.user && !in_fence_) ev_.scripts.latin += (lower || upper) ? 1 : 0;
        ++i;
        continue;
      }
      if (in_word) {
        in_word = false;
        EndWord(word, word_begin, i);
      }
      backticks_ = c == '`' ? backticks_ + 1 : 0;
      quotes_ = c == '"' ? quotes_ + 1 : 0;
      switch (c) {
        case '\n':
          EndLine();
          break;
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
          if (role_.last_user && MultiplierAt(i) == role_.head_multiplier) ++ev_.questions;
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
        case '\\':
          if (i + 1 < end && t[i + 1] >= 'a' && t[i + 1] <= 'z') ++ev_.latex;
          break;
        default:
          break;
      }
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        line_last_ = static_cast<char>(c);
        if (c != '#') line_blank_ = false;
      }
      ++i;
      continue;
    }
    const Utf8Char ch = DecodeUtf8(t, i);
    const CharClass cls = ClassOf(ch.cp);
    if (cls == CharClass::kWord) {
      if (!in_word) {
        in_word = true;
        word = kWordSeed;
        word_begin = i;
      }
      word = HashStep(word, FoldCase(ch.cp));
      CountScript(ch.cp);
      i += ch.len;
      continue;
    }
    if (in_word) {
      in_word = false;
      EndWord(word, word_begin, i);
    }
    backticks_ = quotes_ = 0;
    line_blank_ = false;
    line_last_ = 0;
    if (cls == CharClass::kIdeograph) {
      CountScript(ch.cp);
      MatchSubstrings(i, ch.cp);
    } else if (ch.cp == 0xFF1F || ch.cp == 0x061F) {  // full-width and Arabic question marks
      pending_count_ = 0;
      sentence_start_ = true;
      if (role_.last_user && MultiplierAt(i) == role_.head_multiplier) ++ev_.questions;
    } else {
      pending_count_ = 0;  // CJK full stops and other punctuation end phrases too
      sentence_start_ = true;
    }
    i += ch.len;
  }
  if (in_word) EndWord(word, word_begin, end);
  EndLine();
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
  int kept = 0;
  for (int k = 0; k < pending_count_; ++k) {
    Pending p = pending_[static_cast<size_t>(k)];
    p.key = ChainWord(p.key, word);
    ++p.words;
    if (const auto* e = lex_.Find(p.key)) Apply(lex_.EffectsOf(*e), begin, end);
    if (p.words < p.max_words) pending_[static_cast<size_t>(kept++)] = p;
  }
  pending_count_ = kept;
  if (const auto* e = lex_.Find(word)) {
    Apply(lex_.EffectsOf(*e), begin, end);
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
      case CueKind::kType: {
        const int32_t multiplier = MultiplierAt(begin);
        auto& sum = multiplier == role_.head_multiplier ? ev_.cues : middle_;
        sum[e.arg] += e.weight * multiplier;
        break;
      }
      case CueKind::kLanguage:
        if (role_.user) ++ev_.stop_votes[e.arg];
        break;
      case CueKind::kQuestion:  // "What ..." opening a sentence, not "... which would ..."
        if (role_.last_user && sentence_start_ && MultiplierAt(begin) == role_.head_multiplier) {
          ++ev_.questions;
        }
        break;
      case CueKind::kMarker: {
        // "Context:" / "文本：" (the colon may be part of the cue) or "<document".
        const bool colon = (end < text_.size() && text_[end] == ':') ||
                           text_.substr(end).starts_with("\xEF\xBC\x9A") || text_[end - 1] == ':' ||
                           text_.substr(0, end).ends_with("\xEF\xBC\x9A");
        const bool tag = begin > 0 && text_[begin - 1] == '<';
        if ((colon || tag) && text_.size() - end >= kMarkerPassageBytes) ++ev_.markers;
        break;
      }
      case CueKind::kCodeLine:
        if (line_words_ == 0 && line_blank_) ++ev_.code_lines;
        break;
    }
  }
}

void Scanner::MatchSubstrings(size_t at, uint32_t cp) {
  for (const auto& s : lex_.SubstringsStartingWith(cp)) {
    if (text_.substr(at).starts_with(s.text)) Apply(lex_.EffectsOf(s), at, at + s.text.size());
  }
}

void Scanner::CountScript(uint32_t cp) {
  if (!role_.user || in_fence_) return;
  ScriptCounts& s = ev_.scripts;
  if (cp < 0x250) {
    ++s.latin;
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

// --- Structural evidence, in cue units (a weight-5 cue in the instruction region scores 20).
constexpr int32_t kToolsOffered = 20;    // tools the model may call: it is expected to act
constexpr int32_t kToolRequired = 8;     // ... and must
constexpr int32_t kToolHistory = 20;     // tool calls or results already in the conversation
constexpr int32_t kJsonExtraction = 12;  // JSON or a forced tool: structured output
constexpr int32_t kJsonClassification = 4;
constexpr int32_t kContextQa = 4;         // supplied context leans to grounded QA...
constexpr int32_t kContextQuestion = 12;  // ... and a question about it even more
constexpr int32_t kShortQuestion = 4;     // a short question without context: factual
constexpr size_t kShortQuestionBytes = 300;
constexpr int32_t kCodePresent = 12;
constexpr int32_t kMathNotation = 8;
constexpr int32_t kDepthPerTurn = 2;  // chat, per user turn beyond the first (up to 4)
constexpr int32_t kMinScore = 8;      // below this nothing was asked for clearly: chat
constexpr size_t kLongPassageBytes = 1200;

// Equal scores go to the earlier type: structural and specific types before broad ones.
constexpr Type kTieOrder[] = {Type::kAgentic,    Type::kCode,           Type::kMath,
                              Type::kExtraction, Type::kClassification, Type::kSummarization,
                              Type::kRewriting,  Type::kGroundedQa,     Type::kReasoning,
                              Type::kCreative,   Type::kFactual,        Type::kChat};
static_assert(std::size(kTieOrder) == kTaskTypeCount);

void Add(Evidence& ev, Type type, int32_t points) {
  ev.scores[static_cast<size_t>(type)] += points;
}

// --- Expected output, by type (tokens; see docs/routing.md "Task classification").
int64_t ExpectedOutputTokens(Type type, size_t longest_user_text) {
  const auto supplied = static_cast<int64_t>(longest_user_text / 4);  // ~tokens of the passage
  switch (type) {
    case Type::kExtraction:
      return 250;
    case Type::kClassification:
      return 20;
    case Type::kSummarization:
      return std::clamp<int64_t>(supplied / 4, 100, 600);
    case Type::kRewriting:
      return std::clamp<int64_t>(supplied + supplied / 10, 50, 4000);
    case Type::kCode:
      return 1200;
    case Type::kMath:
      return 800;
    case Type::kReasoning:
      return 1000;
    case Type::kFactual:
      return 250;
    case Type::kGroundedQa:
      return 300;
    case Type::kCreative:
      return 700;
    case Type::kChat:
      return 200;
    case Type::kAgentic:
      return 300;
  }
  return 200;
}

int64_t PromptTokens(const core::Prompt& p) {
  int64_t tokens = 0;
  for (const auto& t : p.texts) tokens += EstimateTokens(t.text);
  if (p.body_bytes > p.text_bytes)
    tokens += static_cast<int64_t>((p.body_bytes - p.text_bytes) / 6);
  return tokens + int64_t{800} * p.images;
}

}  // namespace

void GatherEvidence(const core::Prompt& prompt, Evidence& ev) {
  const Lexicon& lex = Lexicon::Get();
  Scanner scanner(lex, ev);
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
      scanner.Scan(t.text, role);
    } else if (t.role == core::PromptRole::kUser && i >= first_user) {
      role.user = true;
      role.last_user = t.turn == last_turn;
      if (role.last_user) {
        role.head_multiplier = kInstructionMultiplier;
        ++ev.last_turn_texts;
      }
      ev.longest_user_text = std::max(ev.longest_user_text, t.text.size());
      scanner.Scan(t.text, role);
    }
  }
  ev.scores = ev.cues;
}

bool HasContext(const core::Prompt& p, const Evidence& ev) {
  return p.documents > 0 || p.tool_results || ev.markers > 0 || ev.quote_lines >= 2 ||
         ev.triple_quotes >= 2 || ev.longest_user_text >= kLongPassageBytes ||
         (ev.last_turn_texts >= 2 && ev.longest_user_text >= kHeadBytes);
}

TaskType DecideType(const core::Prompt& p, bool context, bool code, Evidence& ev) {
  const bool forced_tool = p.output == core::OutputFormat::kForcedTool;
  if (p.tools_offered > 0 && !forced_tool) {
    Add(ev, Type::kAgentic, kToolsOffered + (p.tool_required ? kToolRequired : 0));
  }
  if (p.tool_calls || p.tool_results) Add(ev, Type::kAgentic, kToolHistory);
  if (p.output != core::OutputFormat::kText) {
    Add(ev, Type::kExtraction, kJsonExtraction);
    Add(ev, Type::kClassification, kJsonClassification);
  }
  if (context)
    Add(ev, Type::kGroundedQa, ev.questions > 0 ? kContextQa + kContextQuestion : kContextQa);
  if (!context && ev.questions > 0 && ev.longest_user_text < kShortQuestionBytes) {
    Add(ev, Type::kFactual, kShortQuestion);
  }
  if (code) Add(ev, Type::kCode, kCodePresent);
  const bool notation =
      (ev.equals > 0 && ev.digits >= 2) || ev.latex > 0 || (ev.carets > 0 && ev.digits > 0);
  if (!code && notation) Add(ev, Type::kMath, kMathNotation);
  if (p.user_turns > 1) Add(ev, Type::kChat, kDepthPerTurn * std::min(p.user_turns - 1, 4));

  Type best = Type::kChat;
  int32_t best_score = kMinScore - 1;
  for (Type t : kTieOrder) {
    if (ev.scores[static_cast<size_t>(t)] > best_score) {
      best = t;
      best_score = ev.scores[static_cast<size_t>(t)];
    }
  }
  return best;
}

}  // namespace detail

Features Classify(const core::Prompt& prompt, std::optional<TaskType> stated) {
  Features f;
  f.max_output_tokens = prompt.max_output_tokens;
  f.tools = prompt.tools_offered > 0;
  f.tool_required = prompt.tool_required;
  f.tool_results = prompt.tool_results;
  f.json_output = prompt.output != core::OutputFormat::kText;
  f.json_schema = prompt.output == core::OutputFormat::kJsonSchema ||
                  prompt.output == core::OutputFormat::kForcedTool;
  f.images = prompt.images;
  f.depth = prompt.user_turns;
  f.prompt_tokens = detail::PromptTokens(prompt);

  detail::Evidence ev;
  detail::GatherEvidence(prompt, ev);
  f.code = ev.fences > 0 || ev.code_lines >= 3;
  f.context = detail::HasContext(prompt, ev);
  f.language = detail::DetectLanguage(ev);
  if (stated) {
    f.task_type = *stated;
    f.task_stated = true;
  } else {
    f.task_type = detail::DecideType(prompt, f.context, f.code, ev);
  }
  f.expected_output_tokens = detail::ExpectedOutputTokens(f.task_type, ev.longest_user_text);
  if (f.max_output_tokens > 0) {
    f.expected_output_tokens = std::min(f.expected_output_tokens, f.max_output_tokens);
  }
  return f;
}

}  // namespace sy::routing
