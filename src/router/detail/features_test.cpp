#include "router/detail/features.h"

#include <cctype>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/prompt.h"
#include "router/detail/hash.h"
#include "router/router_testing.h"

namespace sy::router::detail {
namespace {

struct Seen {
  SparseKind kind;
  uint32_t bucket;
  float weight;
};

class Recorder final : public SparseVisitor {
 public:
  void Add(std::span<const SparseHit> hits) override {
    for (const SparseHit& h : hits) seen.push_back({h.kind, h.bucket, h.weight});
  }
  size_t Count(SparseKind kind) const {
    size_t n = 0;
    for (const Seen& s : seen) n += s.kind == kind;
    return n;
  }
  std::vector<Seen> seen;
};

FeatureSettings Plain() { return FeatureSettings{}; }

bool Options(const std::string& text) {
  std::array<float, kDenseCount> x{};
  ComputeDense(core::SingleUserPrompt(text), -1, Plain(), x);
  return x[kOptionsSlot] == 1.0f;
}

TEST(RouterFeaturesTest, TokensAreFoldedWordsAndPunctuation) {
  Recorder r;
  VisitSparse(core::SingleUserPrompt("Paris, PARIS 1999?"), Plain(), r);
  // Words paris, paris, 0000 and the tokens "," and "?": five unigrams, six bigrams (with the
  // start and end neighbours).
  EXPECT_EQ(r.Count(SparseKind::kUnigram), 5u);
  EXPECT_EQ(r.Count(SparseKind::kBigram), 6u);
  EXPECT_EQ(r.Count(SparseKind::kCharGram), 0u);
  const uint32_t paris = BucketOf(Fnv1a64("paris"), SparseKind::kUnigram, 16);
  EXPECT_EQ(r.seen[0].bucket, paris);  // unigram first, then its bigram
  EXPECT_EQ(r.seen[4].bucket, paris);  // case folded
  EXPECT_EQ(r.seen[0].weight, 1.0f);
  Recorder digits;
  VisitSparse(core::SingleUserPrompt("2024"), Plain(), digits);
  EXPECT_EQ(digits.seen[0].bucket, BucketOf(Fnv1a64("0000"), SparseKind::kUnigram, 16));
}

TEST(RouterFeaturesTest, CharacterGrams) {
  FeatureSettings s = Plain();
  s.char_min = 3;
  s.char_max = 4;
  Recorder r;
  VisitSparse(core::SingleUserPrompt("cat"), s, r);
  // "<cat>": 3-grams <ca cat at>, 4-grams <cat cat>.
  EXPECT_EQ(r.Count(SparseKind::kCharGram), 5u);
}

TEST(RouterFeaturesTest, ReadsUserTurnsLastFirstWithinTheBudget) {
  FeatureSettings s = Plain();
  s.bigrams = false;
  s.max_scan_bytes = 9;
  core::Prompt p;
  p.AddText(core::PromptRole::kSystem, -1, "system words");
  p.AddText(core::PromptRole::kUser, 0, "early words");
  p.AddText(core::PromptRole::kAssistant, 1, "assistant words");
  p.AddText(core::PromptRole::kUser, 2, "last one");
  Recorder r;
  VisitSparse(p, s, r);
  // "last one" (8 bytes) at weight 1, then one byte of "early words" at 0.5.
  ASSERT_EQ(r.seen.size(), 3u);
  EXPECT_EQ(r.seen[0].weight, 1.0f);
  EXPECT_EQ(r.seen[1].weight, 1.0f);
  EXPECT_EQ(r.seen[2].weight, 0.5f);
  EXPECT_EQ(r.seen[2].bucket, BucketOf(Fnv1a64("e"), SparseKind::kUnigram, 16));
}

TEST(RouterFeaturesTest, DenseFeaturesTable) {
  const struct {
    std::string text;
    int task_type;
    size_t slot;
    float value;
  } cases[] = {
      {"", -1, 0, 1.0f},
      {"abc", 3, 18 + 3, 1.0f},
      {"abc", -1, 30, 1.0f},
      {"abc", 99, 30, 1.0f},
      {"Cost $5?", -1, 5, 1.0f},
      {"Cost $5?", -1, 10, 1.0f},
      {"x = y^2", -1, 6, 1.0f},
      {"Q\nA. 1\nB. 2\nC. 3\nD. 4", -1, kOptionsSlot, 1.0f},
      {"Q\nA. 1\nB. 2", -1, kOptionsSlot, 0.0f},
      {"50% off", -1, 16, 1.0f},
  };
  for (const auto& c : cases) {
    std::array<float, kDenseCount> x{};
    ComputeDense(core::SingleUserPrompt(c.text), c.task_type, Plain(), x);
    EXPECT_EQ(x[c.slot], c.value) << c.text << " slot " << c.slot;
  }
}

TEST(RouterFeaturesTest, CountsAndOptions) {
  std::array<float, kDenseCount> x{};
  ComputeDense(core::SingleUserPrompt("How many, in total? 12 and 3.5"), 5, Plain(), x);
  EXPECT_NEAR(x[1], std::log1p(30.0) / 8, 1e-6);  // log length
  EXPECT_NEAR(x[4], std::log1p(3.0) / 3, 1e-6);   // numbers 12, 3 and 5
  EXPECT_NEAR(x[14], std::log1p(1.0) / 3, 1e-6);  // one sentence ends ("? ")
  EXPECT_NEAR(x[31], std::log1p(1.0) / 2, 1e-6);  // one comma
  EXPECT_TRUE(Options("Q?\nA. 1\nB. 2\nC. 3\nD. 4"));
  EXPECT_TRUE(Options("Q?\n(A) 1\n(B) 2\n(C) 3"));
  EXPECT_FALSE(Options("Q? A. 1 B. 2 C. 3 D. 4"));  // not at line starts
  EXPECT_FALSE(Options("Q?\nA. 1\nB. 2"));
}

// The counts behind the dense features, one byte at a time, as features.h defines them.
struct Counts {
  size_t digits = 0, numbers = 0, words = 0, word_bytes = 0, sentence_ends = 0, non_ascii = 0;
  size_t newlines = 0, dollars = 0, equals = 0, math = 0, code = 0, questions = 0, percents = 0;
  size_t commas = 0;
};

Counts CountByHand(const std::string& text) {
  const auto word = [](unsigned b) { return std::isalnum(static_cast<int>(b)) || b >= 0x80; };
  const auto digit = [](unsigned b) { return b >= '0' && b <= '9'; };
  const auto end_mark = [](unsigned b) { return b == '.' || b == '!' || b == '?'; };
  Counts c;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned b = static_cast<unsigned char>(text[i]);
    const unsigned prev = i > 0 ? static_cast<unsigned char>(text[i - 1]) : 0u;
    c.digits += digit(b);
    c.numbers += digit(b) && (i == 0 || !digit(prev));
    c.word_bytes += word(b);
    c.words += word(b) && (i == 0 || !word(prev));
    c.sentence_ends += (b == ' ' || b == '\n') && i > 0 && end_mark(prev);
    c.non_ascii += b >= 0x80;
    c.newlines += b == '\n';
    c.dollars += b == '$';
    c.equals += b == '=';
    c.math += b == '^' || b == '\\';
    c.code += b == '{' || b == '}' || b == ';' || b == '`';
    c.questions += b == '?';
    c.percents += b == '%';
    c.commas += b == ',';
  }
  c.sentence_ends += !text.empty() && end_mark(static_cast<unsigned char>(text.back()));
  return c;
}

float LogOf(size_t n) { return static_cast<float>(std::log1p(static_cast<double>(n))); }
float ShareOf(size_t part, size_t whole) {
  return whole == 0 ? 0.0f
                    : static_cast<float>(static_cast<double>(part) / static_cast<double>(whole));
}

// The scan counts with tables and packed counters (it runs on every routed request); random
// texts over the bytes that matter must give exactly what a byte-at-a-time count gives.
TEST(RouterFeaturesTest, DenseCountsMatchAByteAtATimeCount) {
  const std::string alphabet = "aZ09 \n\t.!?$=^\\{};`%,(-\x80\xc3\xa9";
  std::mt19937_64 random(7);
  for (int round = 0; round < 500; ++round) {
    std::string text(random() % 300, ' ');
    for (char& c : text) c = alphabet[random() % alphabet.size()];
    const Counts c = CountByHand(text);
    std::array<float, kDenseCount> x{};
    ComputeDense(core::SingleUserPrompt(text), -1, Plain(), x);
    SCOPED_TRACE(text);
    EXPECT_EQ(x[3], 4.0f * ShareOf(c.digits, text.size()));
    EXPECT_EQ(x[4], LogOf(c.numbers) / 3.0f);
    EXPECT_EQ(x[5], c.dollars > 0 ? 1.0f : 0.0f);
    EXPECT_EQ(x[6], c.equals > 0 ? 1.0f : 0.0f);
    EXPECT_EQ(x[7], LogOf(c.math) / 2.0f);
    EXPECT_EQ(x[8], LogOf(c.code) / 2.0f);
    EXPECT_EQ(x[9], c.questions > 0 ? 1.0f : 0.0f);
    EXPECT_EQ(x[12], 4.0f * ShareOf(c.non_ascii, text.size()));
    EXPECT_EQ(x[13], LogOf(c.newlines) / 3.0f);
    EXPECT_EQ(x[14], LogOf(c.sentence_ends) / 3.0f);
    EXPECT_EQ(x[15], ShareOf(c.word_bytes, c.words) / 8.0f);
    EXPECT_EQ(x[16], c.percents > 0 ? 1.0f : 0.0f);
    EXPECT_EQ(x[31], LogOf(c.commas) / 2.0f);
  }
}

TEST(RouterFeaturesTest, SettingsValidation) {
  FeatureSettings s;
  EXPECT_TRUE(ValidSettings(s));
  s.bucket_bits = 40;
  EXPECT_FALSE(ValidSettings(s));
  s = FeatureSettings{};
  s.char_min = 5;
  s.char_max = 3;
  EXPECT_FALSE(ValidSettings(s));
  s = FeatureSettings{};
  s.earlier_turn_weight = 2;
  EXPECT_FALSE(ValidSettings(s));
}

}  // namespace
}  // namespace sy::router::detail
