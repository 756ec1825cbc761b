// Internal to routing: the classifier's cue tables (lexicon.cpp holds them as readable static
// arrays, one place) compiled once into lookup tables for the hot path.
//
// A cue is a word, a phrase of up to four words, or (for Han, kana and Hangul text, which has no
// reliable word boundaries) a substring. Each cue has one or more effects: evidence for a task
// type, a stop-word vote for a language, a question word, a context marker, a code keyword.
//
// Thread-safety: Get() builds the tables on first use (a function-local static, so thread-safe);
// afterwards they are immutable and read without locks.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "routing/features.h"

namespace sy::routing::detail {

enum class CueKind : uint8_t {
  kType,      // arg: TaskType; weight: how strongly the cue says so
  kLanguage,  // arg: index in kLatinLanguages; a stop word of that language
  kQuestion,  // a question word ("what", "warum", "什么")
  kMarker,    // a context label, counted when it ends in ':' or opens a tag ("Context:", "<doc")
  kCodeLine,  // a keyword that starts a line of code ("def", "import", "#include")
};

struct Effect {
  CueKind kind = CueKind::kType;
  uint8_t arg = 0;
  int8_t weight = 0;
};

// The Latin-script languages told apart by stop words; the others by script (language.cpp).
inline constexpr std::string_view kLatinLanguages[] = {"en", "de", "fr", "es", "pt", "it", "nl"};
inline constexpr size_t kLatinLanguageCount = std::size(kLatinLanguages);

class Lexicon {
 public:
  // A word or phrase in the table (8 bytes, so the table stays in L1 cache). `phrase_words` > 1
  // when phrases of up to that many words start with this word (the entry may then have no
  // effects of its own).
  struct Entry {
    uint32_t check = 0;  // the key's low half, never 0; 0 marks an empty slot
    uint16_t first = 0;  // effects_[first, first + count)
    uint8_t count = 0;
    uint8_t phrase_words = 0;
  };
  // A substring cue for ideographic text, indexed by its first code point.
  struct Substring {
    std::string_view text;
    uint32_t first = 0;  // effects_[first, first + count)
    uint16_t count = 0;
  };

  static const Lexicon& Get();

  // The entry for a word or phrase key; null when none.
  const Entry* Find(uint64_t key) const {
    const uint32_t check = CheckOf(key);
    for (size_t i = Slot(key);; i = (i + 1) & mask_) {
      const Entry& e = table_[i];
      if (e.check == check) return &e;
      if (e.check == 0) return nullptr;
    }
  }
  std::span<const Effect> EffectsOf(const Entry& e) const {
    return {effects_.data() + e.first, e.count};
  }
  std::span<const Effect> EffectsOf(const Substring& s) const {
    return {effects_.data() + s.first, s.count};
  }
  // The substring cues whose first character is `cp` (usually none).
  std::span<const Substring> SubstringsStartingWith(uint32_t cp) const;

  // How many cues of each kind were loaded (tests and the eval tool report it).
  size_t word_cues() const { return word_cues_; }
  size_t substring_cues() const { return substrings_.size(); }

 private:
  Lexicon();
  static uint32_t CheckOf(uint64_t key) { return static_cast<uint32_t>(key) | 1u; }
  size_t Slot(uint64_t key) const {
    return static_cast<size_t>(key >> shift_);  // keys are already well mixed (text_scan.h)
  }

  std::vector<Entry> table_;  // open addressing, linear probing; key 0 = empty
  size_t mask_ = 0;
  int shift_ = 0;
  std::vector<Effect> effects_;
  std::vector<Substring> substrings_;    // sorted by first code point
  std::vector<uint32_t> substring_cps_;  // substrings_[i]'s first code point, for binary search
  std::vector<uint64_t> first_cp_bits_;  // BMP code points that start a substring cue
  size_t word_cues_ = 0;
};

}  // namespace sy::routing::detail
