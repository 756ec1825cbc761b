// Language detection: script first (one ideograph weighs as much as three Latin letters, about a
// word), then, for Latin script, a stop-word vote among kLatinLanguages.
#include <algorithm>

#include "routing/classify_internal.h"

namespace sy::routing::detail {

std::string_view DetectLanguage(const Evidence& ev) {
  const ScriptCounts& s = ev.scripts;
  const int32_t cjk = 3 * (s.han + s.kana + s.hangul);
  struct Candidate {
    int32_t letters;
    std::string_view language;
  };
  const Candidate others[] = {{cjk, "zh"},     {s.cyrillic, "ru"}, {s.arabic, "ar"},
                              {s.greek, "el"}, {s.hebrew, "he"},   {s.devanagari, "hi"},
                              {s.thai, "th"}};
  const Candidate* best = &others[0];
  for (const auto& c : others) best = c.letters > best->letters ? &c : best;
  if (best->letters > 0 && best->letters >= s.latin) {
    if (best->language != "zh") return best->language;
    if (2 * s.hangul > s.han + s.kana) return "ko";
    if (s.kana > 0 && 10 * s.kana >= s.han) return "ja";  // Japanese mixes kana into its Han
    return "zh";
  }
  const auto top = std::max_element(ev.stop_votes.begin(), ev.stop_votes.end());
  if (*top > 0) return kLatinLanguages[static_cast<size_t>(top - ev.stop_votes.begin())];
  // No stop words: short or terse text. Accented letters say some other Latin-script language
  // (Polish, Swedish, ...); plain ASCII is most likely terse English.
  return s.accented * 50 >= s.latin && s.accented > 0 ? std::string_view("other")
                                                      : std::string_view("en");
}

}  // namespace sy::routing::detail
