// The learned task-type model: feature extraction (shared with the trainer) and inference over
// the generated weights (model_weights.inc). See model_internal.h for the feature set.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>

#include "routing/model_internal.h"
#include "routing/text_scan.h"

namespace sy::routing::detail {
namespace generated {
#include "routing/model_weights.inc"
}  // namespace generated

namespace {

// The same windows as the cue scanner (scan.cpp): instructions live at a text's ends.
constexpr size_t kHeadBytes = 320;
constexpr size_t kTailBytes = 256;
constexpr size_t kMiddleBytes = 768;       // of a long text's middle, at most this much is read
constexpr size_t kInstructionBytes = 400;  // an instruction before a passage is this short
constexpr size_t kPassageBytes = 150;      // ... and a passage at least this long
constexpr size_t kClosingLineBytes = 200;  // an instruction after a passage, on its own line
constexpr int kEarlierUserTexts = 4;       // user texts before the last turn that are read
constexpr size_t kFollowUpBytes = 160;     // a last turn this short may only continue a task
constexpr int kOpeningTokens = 3;
constexpr size_t kMaxTokenChars = 32;  // a token's hash covers at most this many characters

// Token hashes: an FNV-1a step per single character (ideographs, punctuation, non-ASCII
// letters); ASCII runs of a word are packed eight bytes per Mix64 (WordHash).
constexpr uint64_t kHashOffset = 0xCBF29CE484222325ULL;
constexpr uint64_t kHashPrime = 0x100000001B3ULL;

constexpr uint64_t HashStep(uint64_t h, uint32_t cp) { return (h ^ cp) * kHashPrime; }

// Folded for hashing: lower case (text_scan.h) and every digit as '0' (numbers by shape).
uint32_t FoldForHash(uint32_t cp) {
  if (cp >= '0' && cp <= '9') return '0';
  return FoldCase(cp);
}

// ASCII bytes of words, folded for hashing (as FoldForHash); 0: not a word byte.
constexpr std::array<uint8_t, 128> MakeAsciiFold() {
  std::array<uint8_t, 128> t{};
  for (uint32_t c = 0; c < 128; ++c) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '\'' || c == '_';                      // as ClassOf (text_scan.h)
    const uint32_t folded = c >= 'A' && c <= 'Z' ? c + 0x20 : c;  // as FoldForHash
    if (word) t[c] = static_cast<uint8_t>(c >= '0' && c <= '9' ? '0' : folded);
  }
  return t;
}
constexpr std::array<uint8_t, 128> kAsciiFold = MakeAsciiFold();

// The hash of the word starting at text[i] (a word character); advances i past it. Folded
// ASCII bytes are packed eight to a register and mixed once per eight (no multiply per byte:
// this runs on every word of every request); a non-ASCII character is mixed on its own.
uint64_t WordHash(std::string_view text, size_t& i, size_t end) {
  uint64_t h = kHashOffset, packed = 0;
  size_t chars = 0, bytes = 0;
  while (i < end) {
    if (bytes == 0 && chars + 8 <= kMaxTokenChars && i + 8 <= end) {
      // Eight bytes at once (as the byte loop below would pack them): where the word stops
      // (a separator or a non-ASCII byte), and its bytes folded.
      uint64_t v;
      std::memcpy(&v, text.data() + i, 8);
      const uint64_t stops = ~WordBytes(v) & kHighBits;
      const size_t n = stops ? static_cast<size_t>(std::countr_zero(stops)) / 8 : 8;
      if (n > 0) {
        v |= Between(v, 'A' - 1, 'Z' + 1) >> 2;                        // A-Z: | 0x20
        v &= ~((Between(v, '0' - 1, '9' + 1) >> 7) * uint64_t{0x0F});  // digits: '0'
        i += n;
        chars += n;
        if (n == 8) {
          h = Mix64(h ^ v);
        } else {
          packed = v & ((uint64_t{1} << (8 * n)) - 1);
          bytes = n;
        }
        continue;
      }
    }
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      const uint64_t folded = kAsciiFold[b];
      if (folded == 0) break;
      ++i;
      if (chars++ >= kMaxTokenChars) continue;
      packed |= folded << (8 * bytes);
      if (++bytes == 8) {
        h = Mix64(h ^ packed);
        packed = 0;
        bytes = 0;
      }
      continue;
    }
    const Utf8Char w = DecodeUtf8(text, i);
    if (ClassOf(w.cp) != CharClass::kWord) break;
    i += w.len;
    if (chars++ >= kMaxTokenChars) continue;
    h = HashStep(h ^ packed, FoldForHash(w.cp));
    packed = 0;
    bytes = 0;
  }
  return Mix64(h ^ packed ^ chars);
}

// Punctuation that says something about the task (questions, code, math, lists, labels); each
// is a token of its own. Other separators only end words.
bool IsPunctToken(uint32_t cp) {
  switch (cp) {
    case '?':
    case '!':
    case ':':
    case ';':
    case '=':
    case '{':
    case '}':
    case '(':
    case ')':
    case '<':
    case '>':
    case '+':
    case '*':
    case '/':
    case '^':
    case '%':
    case '$':
    case '#':
    case '|':
    case '`':
    case '[':
    case ']':
    case '&':
    case '@':
    case '-':
    case '"':
    case '\\':
    case 0xFF1F:  // ？
    case 0xFF1A:  // ：
      return true;
    default:
      return false;
  }
}

// Dense feature rows (weights rows buckets + index).
enum Dense : size_t {
  kBias = 0,
  kCueScores = 1,     // 12: the cue scorer's scores / 20, within [0, 3]
  kCueDecision = 13,  // 12: the cue scorer's decision, one-hot
  kToolsOffered = 25,
  kForcedTool,
  kToolRequired,
  kToolCalls,
  kToolResults,
  kJsonObject,
  kJsonSchema,
  kImages,
  kDocuments,
  kCode,
  kContext,
  kMarkers,
  kDepth1,
  kDepth2,
  kDepth3Plus,
  kLastTurnUnder80,
  kLastTurnUnder200,
  kLastTurnUnder500,
  kLastTurnUnder1500,
  kLastTurnLonger,
  kQuestion,
  kNumbers3,
  kNotation,
  kMathSymbols,
  kIdentifiers,
  kEmoji,
  kFences,
  kSystemText,
  kLanguageEn,
  kLanguageCjk,
  kLanguageOther,
  kPassage,
  kQuotes,
  kMultiPart,
  kDenseUsed,
};
static_assert(kDenseUsed <= kDenseCount);

class SparseWriter {
 public:
  SparseWriter(const ModelConfig& config, FeatureVector& out) : config_(config), out_(out) {}

  // Tokenises text[begin, end) and adds its features under `region`.
  void Window(std::string_view text, size_t begin, size_t end, Region region, bool bigrams) {
    previous_ = 0;
    size_t i = begin;
    while (i < end) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c < 0x80 && kAsciiFold[c] == 0) {  // ASCII, not part of a word: the common fast path
        ++i;
        if (IsPunctToken(c)) Emit(HashStep(kHashOffset, c), region, bigrams);
        continue;
      }
      if (c >= 0x80) {
        const Utf8Char ch = DecodeUtf8(text, i);
        const CharClass cls = ClassOf(ch.cp);
        if (cls != CharClass::kWord) {
          i += ch.len;
          if (cls == CharClass::kIdeograph || IsPunctToken(ch.cp)) {
            Emit(HashStep(kHashOffset, ch.cp), region, bigrams);
          } else if (ch.cp >= 0x1F000 && ch.cp < 0x20000) {
            Emit(HashStep(kHashOffset, 0x1F600), region, bigrams);  // every emoji alike
          }
          continue;
        }
      }
      Emit(WordHash(text, i, end), region, bigrams);
    }
  }

  // The first tokens of the last user turn, by position ("Summarize", "Translate", "Why").
  void Opening(std::string_view text) {
    size_t i = 0;
    uint64_t position = 1;
    while (i < text.size() && position <= kOpeningTokens) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c < 0x80 && kAsciiFold[c] == 0) {
        ++i;
        continue;
      }
      if (c >= 0x80) {
        const Utf8Char ch = DecodeUtf8(text, i);
        const CharClass cls = ClassOf(ch.cp);
        if (cls != CharClass::kWord) {
          i += ch.len;
          if (cls == CharClass::kIdeograph) {
            Add(Bucket(HashStep(kHashOffset, ch.cp), position++, Region::kOpening,
                       config_.buckets));
          }
          continue;
        }
      }
      Add(Bucket(WordHash(text, i, text.size()), position++, Region::kOpening, config_.buckets));
    }
  }

 private:
  void Emit(uint64_t token, Region region, bool bigrams) {
    Add(Bucket(token, 0, region, config_.buckets));
    if (bigrams && previous_ != 0) Add(Bucket(token, previous_, region, config_.buckets));
    if (config_.shared && region != Region::kMiddle) {
      Add(Bucket(token, 0, Region::kShared, config_.buckets));
    }
    previous_ = token;
  }

  void Add(uint32_t bucket) {
    uint64_t& word = seen_[bucket / 64];
    const uint64_t bit = uint64_t{1} << (bucket % 64);
    if ((word & bit) != 0 || out_.sparse_count == kMaxSparse) return;
    word |= bit;
    out_.sparse[out_.sparse_count++] = bucket;
  }

  const ModelConfig& config_;
  FeatureVector& out_;
  std::array<uint64_t, kMaxBuckets / 64> seen_{};
  uint64_t previous_ = 0;
};

size_t NextSpace(std::string_view text, size_t at) {
  const size_t limit = std::min(text.size(), at + 64);
  while (at < limit && text[at] != ' ' && text[at] != '\n') ++at;
  return at < limit ? at + 1 : at;
}

// Head and tail windows under `region`; the middle, when `middle`, as kMiddle unigrams.
void ReadText(SparseWriter& w, std::string_view text, Region region, const ModelConfig& config,
              bool middle) {
  if (text.size() <= kHeadBytes + kTailBytes) {
    w.Window(text, 0, text.size(), region, config.bigrams);
    return;
  }
  const size_t head_end = NextSpace(text, kHeadBytes);
  const size_t tail_begin = std::max(head_end, NextSpace(text, text.size() - kTailBytes));
  w.Window(text, 0, head_end, region, config.bigrams);
  if (middle && tail_begin > head_end) {
    const size_t middle_end = std::min(tail_begin, NextSpace(text, head_end + kMiddleBytes));
    w.Window(text, head_end, middle_end, Region::kMiddle, false);
  }
  w.Window(text, tail_begin, text.size(), region, config.bigrams);
}

// Where a passage supplied after a short instruction begins: the first line break, or a colon
// followed by a quote, within kInstructionBytes, with at least kPassageBytes after it ("Summarize
// this:\n...", "Traduz: «...»"). npos: none. (The cue scanner's rule, scan.cpp PassageCut.)
size_t PassageBegin(std::string_view text) {
  const std::string_view head = text.substr(0, kInstructionBytes);
  size_t cut = head.find('\n');
  for (size_t at = head.find(':'); at < cut; at = head.find(':', at + 1)) {
    const size_t next = text.find_first_not_of(' ', at + 1);
    if (next == std::string_view::npos) break;
    const std::string_view rest = text.substr(next);
    if (rest.starts_with('"') || rest.starts_with("\xC2\xAB") || rest.starts_with("\xE2\x80\x9C") ||
        rest.starts_with("\xE3\x80\x8C")) {
      cut = at + 1;
      break;
    }
  }
  return cut != std::string_view::npos && text.size() - cut >= kPassageBytes
             ? cut
             : std::string_view::npos;
}

// The last user turn's text: the instruction (before a passage, and a short closing line after
// it) as kInstruction; the passage as kMiddle unigrams (a pasted article about translation is
// not a request to translate). Without a passage, as ReadText.
void ReadInstructionText(SparseWriter& w, std::string_view text, const ModelConfig& config) {
  const size_t begin = config.split_passage ? PassageBegin(text) : std::string_view::npos;
  if (begin == std::string_view::npos) {
    ReadText(w, text, Region::kInstruction, config, config.middle);
    return;
  }
  size_t end = text.size();
  const size_t nl = text.find_last_of('\n');
  if (nl != std::string_view::npos && nl >= begin + kPassageBytes &&
      text.size() - nl <= kClosingLineBytes) {
    end = nl;  // a closing instruction: "...\n\nSummarize the text above."
  }
  w.Window(text, 0, begin, Region::kInstruction, config.bigrams);
  if (config.middle) {
    w.Window(text, begin, std::min(end, NextSpace(text, begin + kMiddleBytes)), Region::kMiddle,
             false);
  }
  if (end < text.size()) w.Window(text, end, text.size(), Region::kInstruction, config.bigrams);
}

int LastUserTurn(const core::Prompt& p) {
  for (auto it = p.texts.rbegin(); it != p.texts.rend(); ++it) {
    if (it->role == core::PromptRole::kUser) return it->turn;
  }
  return -1;
}

void ReadSparse(const core::Prompt& p, const ModelConfig& config, FeatureVector& out) {
  SparseWriter w(config, out);
  const int last_turn = LastUserTurn(p);
  bool opened = false;
  int earlier = 0;
  size_t last_turn_bytes = 0;
  for (const auto& t : p.texts) {
    if (t.role == core::PromptRole::kUser && t.turn == last_turn) last_turn_bytes += t.text.size();
  }
  const Region earlier_region = !config.follow_up || last_turn_bytes >= kFollowUpBytes
                                    ? Region::kEarlier
                                : config.follow_up_as_instruction ? Region::kInstruction
                                                                  : Region::kFollowUp;
  bool replied = !config.assistant;
  for (size_t i = p.texts.size(); i-- > 0;) {  // newest first: the instruction is never dropped
    const auto& t = p.texts[i];
    if (!replied && t.role == core::PromptRole::kAssistant) {
      replied = true;
      const size_t end =
          t.text.size() <= kHeadBytes ? t.text.size() : NextSpace(t.text, kHeadBytes);
      w.Window(t.text, 0, end, Region::kAssistant, false);
    } else if (t.role == core::PromptRole::kUser && t.turn == last_turn) {
      ReadInstructionText(w, t.text, config);
    } else if (t.role == core::PromptRole::kUser && earlier < kEarlierUserTexts) {
      ++earlier;
      ReadText(w, t.text, earlier_region, config, false);
    }
  }
  for (const auto& t : p.texts) {
    if (t.role == core::PromptRole::kSystem) {
      ReadText(w, t.text, Region::kSystem, config, false);
    } else if (!opened && t.role == core::PromptRole::kUser && t.turn == last_turn) {
      opened = true;
      w.Opening(t.text);
    }
  }
}

void ReadDense(const core::Prompt& p, const Evidence& ev, TaskType cue_type, const Features& f,
               const ModelConfig& config, FeatureVector& out) {
  auto& d = out.dense;
  const auto set = [&d](size_t k, bool on) { d[k] = on ? 1.0f : 0.0f; };
  d[kBias] = 1.0f;
  if (config.cue_scores) {
    for (size_t t = 0; t < kTaskTypeCount; ++t) {
      d[kCueScores + t] = static_cast<float>(std::clamp(ev.scores[t], 0, 60)) / 20.0f;
    }
  }
  if (config.cue_decision) d[kCueDecision + static_cast<size_t>(cue_type)] = 1.0f;
  const bool forced = p.output == core::OutputFormat::kForcedTool;
  set(kToolsOffered, p.tools_offered > 0 && !forced);
  set(kForcedTool, forced);
  set(kToolRequired, p.tool_required);
  set(kToolCalls, p.tool_calls);
  set(kToolResults, p.tool_results);
  set(kJsonObject, p.output == core::OutputFormat::kJsonObject);
  set(kJsonSchema, p.output == core::OutputFormat::kJsonSchema);
  set(kImages, p.images > 0);
  set(kDocuments, p.documents > 0);
  set(kCode, f.code);
  set(kContext, f.context);
  set(kMarkers, ev.markers > 0);
  set(kDepth1, p.user_turns <= 1);
  set(kDepth2, p.user_turns == 2);
  set(kDepth3Plus, p.user_turns >= 3);
  const size_t n = ev.last_turn_bytes;
  set(kLastTurnUnder80, n < 80);
  set(kLastTurnUnder200, n >= 80 && n < 200);
  set(kLastTurnUnder500, n >= 200 && n < 500);
  set(kLastTurnUnder1500, n >= 500 && n < 1500);
  set(kLastTurnLonger, n >= 1500);
  set(kQuestion, ev.questions > 0);
  set(kNumbers3, ev.numbers >= 3);
  set(kNotation,
      (ev.equals > 0 && ev.digits >= 2) || ev.latex > 0 || (ev.carets > 0 && ev.digits > 0));
  set(kMathSymbols, ev.math_symbols > 0);
  set(kIdentifiers, ev.identifiers > 0);
  set(kEmoji, ev.emoji > 0);
  set(kFences, ev.fences > 0);
  set(kSystemText, ev.longest_system_text > 0);
  const bool cjk = f.language == "zh" || f.language == "ja" || f.language == "ko";
  set(kLanguageEn, f.language == "en");
  set(kLanguageCjk, cjk);
  set(kLanguageOther, f.language != "en" && !cjk);
  set(kPassage, ev.passage_bytes >= 150);
  set(kQuotes, ev.quote_lines >= 2 || ev.triple_quotes >= 2);
  set(kMultiPart, ev.last_turn_texts >= 2);
}

}  // namespace

uint64_t TokenHash(std::string_view token) {
  if (token.empty()) return kHashOffset;
  const Utf8Char first = DecodeUtf8(token, 0);
  if (ClassOf(first.cp) != CharClass::kWord) return HashStep(kHashOffset, first.cp);
  size_t i = 0;
  return WordHash(token, i, token.size());
}

uint32_t Bucket(uint64_t token, uint64_t previous, Region region, uint32_t buckets) {
  const uint64_t salt = (static_cast<uint64_t>(region) + 1) * 0x9E3779B97F4A7C15ULL;
  return static_cast<uint32_t>(
      Mix64(token ^ salt ^ std::rotl(previous * 0xC2B2AE3D27D4EB4FULL, 31)) & (buckets - 1));
}

void ExtractModelFeatures(const core::Prompt& prompt, const Evidence& ev, TaskType cue_type,
                          const Features& facts, const ModelConfig& config, FeatureVector& out) {
  out.sparse_count = 0;
  out.dense.fill(0.0f);
  ReadSparse(prompt, config, out);
  out.sparse_value = config.normalize && out.sparse_count > 0
                         ? 1.0f / std::sqrt(static_cast<float>(out.sparse_count))
                         : 1.0f;
  ReadDense(prompt, ev, cue_type, facts, config, out);
}

bool MayAct(const core::Prompt& p) {
  const bool forced = p.output == core::OutputFormat::kForcedTool;
  return (p.tools_offered > 0 && !forced) || p.tool_calls || p.tool_results;
}

const ModelConfig& ModelConfigInUse() { return generated::kModelConfig; }

TaskType PredictType(const core::Prompt& prompt, const FeatureVector& x) {
  constexpr uint32_t kBuckets = generated::kModelConfig.buckets;
  static_assert(std::size(generated::kWeights) == kBuckets + kDenseCount);
  std::array<int32_t, kTaskTypeCount> sparse{};
  for (size_t k = 0; k < x.sparse_count; ++k) {
    const auto& row = generated::kWeights[x.sparse[k]];
    for (size_t t = 0; t < kTaskTypeCount; ++t) sparse[t] += row[t];
  }
  std::array<float, kTaskTypeCount> score{};
  for (size_t t = 0; t < kTaskTypeCount; ++t) {
    score[t] = x.sparse_value * static_cast<float>(sparse[t]);
  }
  for (size_t k = 0; k < kDenseCount; ++k) {
    if (x.dense[k] == 0.0f) continue;
    const auto& row = generated::kWeights[kBuckets + k];
    for (size_t t = 0; t < kTaskTypeCount; ++t) score[t] += x.dense[k] * row[t];
  }
  if (!MayAct(prompt)) score[static_cast<size_t>(TaskType::kAgentic)] = -1e30f;
  size_t best = 0;
  for (size_t t = 1; t < kTaskTypeCount; ++t) {
    if (score[t] > score[best]) best = t;
  }
  return static_cast<TaskType>(best);
}

}  // namespace sy::routing::detail
