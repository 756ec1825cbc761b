#include "routing/lexicon.h"

#include <algorithm>
#include <bit>
#include <tuple>
#include <utility>

#include "routing/cues.h"
#include "routing/text_scan.h"

namespace sy::routing::detail {
namespace {

constexpr int kMaxPhraseWords = 4;

// A cue's key, computed by splitting and folding it exactly as classify.cpp does a prompt.
struct CueKey {
  uint64_t first_word = 0;
  uint64_t key = 0;
  int words = 0;
};

CueKey KeyOf(std::string_view text) {
  CueKey out;
  size_t begin = 0;
  bool in_word = false, ascii = true;
  auto finish = [&](size_t end) {
    const uint64_t word = WordKey(text, begin, end, ascii);
    out.key = out.words == 0 ? word : ChainWord(out.key, word);
    if (out.words == 0) out.first_word = word;
    ++out.words;
    in_word = false;
  };
  for (size_t i = 0; i < text.size();) {
    const Utf8Char ch = DecodeUtf8(text, i);
    if (ClassOf(ch.cp) == CharClass::kWord) {
      if (!in_word) {
        begin = i;
        ascii = true;
      }
      in_word = true;
      ascii = ascii && ch.cp < 0x80;
    } else if (in_word) {
      finish(i);
    }
    i += ch.len;
  }
  if (in_word) finish(text.size());
  return out;
}

struct Item {
  uint64_t key;
  Effect effect;
};

bool SameTarget(const Effect& a, const Effect& b) { return a.kind == b.kind && a.arg == b.arg; }

// Sorts by key then target and keeps one effect per (key, target): the strongest. A cue listed
// twice (the same word in two languages' lists) counts once.
template <typename T, typename Key>
void SortAndMerge(std::vector<T>& items, Key key_of) {
  std::sort(items.begin(), items.end(), [&](const T& a, const T& b) {
    return std::tuple(key_of(a), a.effect.kind, a.effect.arg) <
           std::tuple(key_of(b), b.effect.kind, b.effect.arg);
  });
  std::vector<T> merged;
  for (const T& item : items) {
    if (!merged.empty() && key_of(merged.back()) == key_of(item) &&
        SameTarget(merged.back().effect, item.effect)) {
      merged.back().effect.weight = std::max(merged.back().effect.weight, item.effect.weight);
    } else {
      merged.push_back(item);
    }
  }
  items = std::move(merged);
}

struct SubItem {
  std::string_view text;
  Effect effect;
};

}  // namespace

const Lexicon& Lexicon::Get() {
  static const Lexicon lexicon;
  return lexicon;
}

Lexicon::Lexicon() {
  std::vector<Item> items;
  std::vector<std::pair<uint64_t, int>> starters;  // first word key, phrase length
  std::vector<SubItem> subs;
  for (const CueList& list : AllCueLists()) {
    for (const Cue& cue : list.cues) {
      const Effect effect{list.kind, list.arg, cue.weight};
      if (cue.text.empty()) continue;
      if (ClassOf(DecodeUtf8(cue.text, 0).cp) == CharClass::kIdeograph) {
        subs.push_back({cue.text, effect});
        continue;
      }
      const CueKey k = KeyOf(cue.text);
      if (k.words == 0 || k.words > kMaxPhraseWords) continue;  // pinned by lexicon tests
      items.push_back({k.key, effect});
      if (k.words > 1) starters.emplace_back(k.first_word, k.words);
    }
  }
  SortAndMerge(items, [](const Item& i) { return i.key; });
  SortAndMerge(subs, [](const SubItem& s) { return s.text; });

  std::vector<uint64_t> keys;
  for (const auto& item : items) keys.push_back(item.key);
  for (const auto& starter : starters) keys.push_back(starter.first);
  std::sort(keys.begin(), keys.end());
  const auto unique_keys =
      static_cast<size_t>(std::unique(keys.begin(), keys.end()) - keys.begin());
  const size_t capacity = std::bit_ceil(std::max<size_t>(64, 2 * unique_keys));  // load <= 1/2
  table_.assign(capacity, Entry{});
  mask_ = capacity - 1;
  shift_ = 64 - std::countr_zero(capacity);
  auto insert = [&](uint64_t key) -> Entry& {
    const uint32_t check = CheckOf(key);
    size_t i = Slot(key);
    while (table_[i].check != 0 && table_[i].check != check) i = (i + 1) & mask_;
    table_[i].check = check;
    return table_[i];
  };
  for (size_t i = 0; i < items.size();) {
    const uint64_t key = items[i].key;
    Entry& e = insert(key);
    e.first = static_cast<uint16_t>(effects_.size());
    for (; i < items.size() && items[i].key == key; ++i) effects_.push_back(items[i].effect);
    e.count = static_cast<uint8_t>(effects_.size() - e.first);
    ++word_cues_;
  }
  for (const auto& [key, words] : starters) {
    Entry& e = insert(key);
    e.phrase_words = static_cast<uint8_t>(std::max<int>(e.phrase_words, words));
  }

  // Substrings, grouped by text, ordered by first code point.
  std::stable_sort(subs.begin(), subs.end(), [](const SubItem& a, const SubItem& b) {
    return DecodeUtf8(a.text, 0).cp < DecodeUtf8(b.text, 0).cp;
  });
  first_cp_bits_.assign(0x10000 / 64, 0);
  for (size_t i = 0; i < subs.size();) {
    Substring s{subs[i].text, static_cast<uint32_t>(effects_.size()), 0};
    for (; i < subs.size() && subs[i].text == s.text; ++i) effects_.push_back(subs[i].effect);
    s.count = static_cast<uint16_t>(effects_.size() - s.first);
    const uint32_t cp = DecodeUtf8(s.text, 0).cp;
    substrings_.push_back(s);
    substring_cps_.push_back(cp);
    if (cp < 0x10000) first_cp_bits_[cp >> 6] |= uint64_t{1} << (cp & 63);
  }
}

std::span<const Lexicon::Substring> Lexicon::SubstringsStartingWith(uint32_t cp) const {
  if (cp < 0x10000 && ((first_cp_bits_[cp >> 6] >> (cp & 63)) & 1) == 0) return {};
  const auto [lo, hi] = std::equal_range(substring_cps_.begin(), substring_cps_.end(), cp);
  const auto begin = static_cast<size_t>(lo - substring_cps_.begin());
  return {substrings_.data() + begin, static_cast<size_t>(hi - lo)};
}

}  // namespace sy::routing::detail
