#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "routing/classify_internal.h"
#include "routing/features.h"
#include "routing/model_internal.h"
#include "routing/prompt_testing.h"

namespace sy::routing::detail {
namespace {

using core::Prompt;
using core::PromptRole;

using testutil::Ask;

// The features Classify extracts for `p`, with `config`.
std::set<uint32_t> Buckets(const Prompt& p, const ModelConfig& config) {
  Evidence ev;
  GatherEvidence(p, ev);
  const Features f = Classify(p, TaskType::kChat);
  const TaskType cue = DecideType(p, f.context, f.code, ev);
  auto x = std::make_unique<FeatureVector>();
  ExtractModelFeatures(p, ev, cue, f, config, *x);
  return {x->sparse.begin(), x->sparse.begin() + static_cast<std::ptrdiff_t>(x->sparse_count)};
}

// The hashes are part of the trained model: changing them silently would scramble every weight,
// so they are pinned. If you change them on purpose, retrain (model_weights.inc's header).
TEST(ModelFeatures, TokenHashIsPinned) {
  EXPECT_EQ(TokenHash("summarize"), 3253340002726379489ULL);
  EXPECT_EQ(TokenHash("提"), 12646544588441673807ULL);
  EXPECT_EQ(Bucket(TokenHash("summarize"), 0, Region::kInstruction, 8192), 2533u);
  EXPECT_EQ(Bucket(TokenHash("the"), TokenHash("summarize"), Region::kSystem, 8192), 5373u);
}

TEST(ModelFeatures, TokensFoldCaseAndDigits) {
  EXPECT_EQ(TokenHash("Summarize"), TokenHash("summarize"));
  EXPECT_EQ(TokenHash("ÜBERSETZE"), TokenHash("übersetze"));
  EXPECT_EQ(TokenHash("2024"), TokenHash("1999"));
  EXPECT_NE(TokenHash("2024"), TokenHash("199"));
  EXPECT_NE(TokenHash("summarise"), TokenHash("summarize"));
}

TEST(ModelFeatures, RegionsSaltTheHashes) {
  const uint64_t word = TokenHash("summarize");
  std::set<uint32_t> seen;
  for (Region r : {Region::kInstruction, Region::kMiddle, Region::kSystem, Region::kEarlier,
                   Region::kOpening, Region::kShared}) {
    seen.insert(Bucket(word, 0, r, kMaxBuckets));
  }
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_NE(Bucket(word, 0, Region::kInstruction, 8192),
            Bucket(word, TokenHash("please"), Region::kInstruction, 8192));
  EXPECT_LT(Bucket(word, 0, Region::kInstruction, 4096), 4096u);
}

TEST(ModelFeatures, UnigramsBigramsAndRegions) {
  const ModelConfig config{.buckets = 8192, .bigrams = true, .middle = true, .shared = false};
  const auto b = Buckets(Ask("Summarize this, summarize THIS.", "Be brief."), config);
  const auto in = [&](uint32_t k) { return b.count(k) == 1; };
  const uint64_t summarize = TokenHash("summarize"), this_ = TokenHash("this");
  EXPECT_TRUE(in(Bucket(summarize, 0, Region::kInstruction, 8192)));
  EXPECT_TRUE(in(Bucket(this_, summarize, Region::kInstruction, 8192)));
  EXPECT_TRUE(in(Bucket(summarize, 1, Region::kOpening, 8192)));
  EXPECT_TRUE(in(Bucket(TokenHash("brief"), TokenHash("be"), Region::kSystem, 8192)));
  EXPECT_FALSE(in(Bucket(summarize, 0, Region::kSystem, 8192)));
  // Each bucket once: 2 unigrams, 2 distinct bigrams (summarize this, this summarize), 3
  // opening positions; system: 2 unigrams, 1 bigram.
  EXPECT_EQ(b.size(), 2u + 2u + 3u + 3u);
}

TEST(ModelFeatures, CjkIsReadAsCharacterBigrams) {
  const ModelConfig config{.buckets = 8192, .bigrams = true, .middle = true, .shared = false};
  const auto b = Buckets(Ask("提取日期"), config);
  EXPECT_EQ(b.count(Bucket(TokenHash("取"), TokenHash("提"), Region::kInstruction, 8192)), 1u);
  EXPECT_EQ(b.count(Bucket(TokenHash("期"), 0, Region::kInstruction, 8192)), 1u);
}

TEST(ModelFeatures, ExtractionIsDeterministicAndBounded) {
  std::string huge;
  while (huge.size() < 200000) huge += "word" + std::to_string(huge.size()) + " 字 ";
  const ModelConfig& config = ModelConfigInUse();
  EXPECT_EQ(Buckets(Ask(huge, huge), config), Buckets(Ask(huge, huge), config));
  EXPECT_LE(Buckets(Ask(huge, huge), config).size(), kMaxSparse);
}

TEST(Model, WordsAloneNeverMakeARequestAgentic) {
  Prompt p = Ask("Search the web for flights and book the cheapest one, then email me.");
  EXPECT_NE(Classify(p).task_type, TaskType::kAgentic);
  p.tools_offered = 2;
  EXPECT_EQ(Classify(p).task_type, TaskType::kAgentic);
}

struct Case {
  std::string user;
  TaskType type;
};

// Hand-written prompts, none of them in the train files: the committed model must get these
// right (if a retrain loses one, look at why before changing the expectation).
TEST(Model, HandWrittenPromptsPerType) {
  const std::string article =
      "The harbour authority announced on Monday that the old ferry terminal will close in "
      "March for eighteen months of repairs. Ferries to the islands will leave from the "
      "northern pier instead, and a shuttle bus will run every twenty minutes from the "
      "station. Fares stay the same, but the last evening crossing moves from 22:10 to 21:40.";
  const std::vector<Case> cases = {
      {"Pull every date and place name out of this notice and list them as JSON: " + article,
       TaskType::kExtraction},
      {"Is this customer message a complaint, a question or praise? Answer with one label.\n\n"
       "\"My parcel arrived crushed and nobody answers the phone.\"",
       TaskType::kClassification},
      {"Give me a two-sentence summary of this announcement:\n\n" + article,
       TaskType::kSummarization},
      {"Translate into German:\n\n" + article, TaskType::kRewriting},
      {"Write a Python function that returns the n-th Fibonacci number iteratively.",
       TaskType::kCode},
      {"Solve for x: 4x - 9 = 23. Show the steps.", TaskType::kMath},
      {"What is the boiling point of water at sea level in Fahrenheit?", TaskType::kFactual},
      {"Based only on the notice below, from which pier do the ferries leave during the "
       "repairs?\n\n" +
           article,
       TaskType::kGroundedQa},
      {"Write a short poem about a lighthouse keeper who talks to the gulls.", TaskType::kCreative},
      {"hey, how's your day going?", TaskType::kChat},
      {"Hello there!", TaskType::kChat},  // src/app/route_test.cpp relies on these two
      {"Hi", TaskType::kChat},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(TaskTypeName(Classify(Ask(c.user)).task_type), TaskTypeName(c.type)) << c.user;
  }
}

TEST(Model, ClassifyIsDeterministic) {
  const Prompt p = Ask("Should we rent or buy a house if we might move again in four years?");
  const TaskType first = Classify(p).task_type;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Classify(p).task_type, first);
}

}  // namespace
}  // namespace sy::routing::detail
