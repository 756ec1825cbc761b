// Internal to routing: the evidence Classify gathers from a prompt before it decides, exposed
// for the unit tests and for sy_routing_eval's --explain (which prints it for misclassified
// records while the cue tables are tuned).
//
// Thread-safety: pure functions over values.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/prompt.h"
#include "routing/features.h"
#include "routing/lexicon.h"

namespace sy::routing::detail {

// Letters per script in the user's text (code fences excluded).
struct ScriptCounts {
  int32_t accented = 0;  // of the Latin letters, those beyond ASCII (é, ß, ø)
  int32_t latin = 0, greek = 0, cyrillic = 0, hebrew = 0, arabic = 0, devanagari = 0, thai = 0;
  int32_t kana = 0, hangul = 0, han = 0;
};

struct Evidence {
  std::array<int32_t, kTaskTypeCount> cues{};    // cue weight x position multiplier, summed
  std::array<int32_t, kTaskTypeCount> scores{};  // cues plus structural evidence: the argmax input
  // Shape of the user and system texts.
  int32_t fences = 0;         // ``` runs
  int32_t code_lines = 0;     // lines that look like code (keyword first, or ending in ; { })
  int32_t quote_lines = 0;    // lines starting with '>'
  int32_t triple_quotes = 0;  // """ runs
  int32_t markers = 0;        // context labels ("Context:", "<document>") followed by a passage
  int32_t questions = 0;      // '?' and question words in the last user turn's instruction region
  int32_t equals = 0, carets = 0, latex = 0, digits = 0;  // math notation
  int32_t numbers = 0;       // digit runs in the last user turn ("3", "2.5", "480")
  int32_t math_symbols = 0;  // × ÷ ≥ ≤ ≠ ± √ π ∑ ∫ ² ³ % in the last user turn
  int32_t emoji = 0;         // emoji in the last user turn
  int32_t identifiers = 0;   // snake_case, lowerCamelCase, name( in user and system texts
  size_t longest_user_text = 0;
  size_t longest_system_text = 0;
  size_t last_turn_texts = 0;  // text parts in the last user turn
  size_t last_turn_bytes = 0;  // their size
  size_t passage_bytes = 0;    // the largest passage supplied after an instruction (see scan.cpp)
  ScriptCounts scripts;
  std::array<int32_t, kLatinLanguageCount> stop_votes{};
};

// Scans the prompt's texts (not the decision: Classify adds structure and picks the type).
void GatherEvidence(const core::Prompt& prompt, Evidence& out);

// Adds the structural evidence (tools, output format, context, code, math notation, depth) to
// out.scores (which starts as out.cues) and returns the task type: the argmax in kTieOrder, chat
// when no score reaches kMinScore.
TaskType DecideType(const core::Prompt& prompt, bool context, bool code, Evidence& ev);

// Whether the prompt supplies context (documents, tool results, passages, markers).
bool HasContext(const core::Prompt& prompt, const Evidence& ev);

// The language of the user's text: by script, else by stop-word vote; "other" when neither
// decides. Returns a string with static storage.
std::string_view DetectLanguage(const Evidence& ev);

}  // namespace sy::routing::detail
