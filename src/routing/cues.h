// Internal to routing: the classifier's cue lists, as data (cues.cpp). Lexicon compiles them.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "routing/lexicon.h"

namespace sy::routing::detail {

// A cue as written in the tables: lower case; words separated by single spaces (any
// non-letter splits words, as in prompts: "step-by-step" is the phrase "step by step"); a cue
// that starts with a Han, kana or Hangul character matches as a substring instead.
struct Cue {
  std::string_view text;
  int8_t weight = 1;
};

// Every cue of one kind with one argument (a task type, a language).
struct CueList {
  CueKind kind;
  uint8_t arg;
  std::span<const Cue> cues;
};

std::span<const CueList> AllCueLists();

}  // namespace sy::routing::detail
