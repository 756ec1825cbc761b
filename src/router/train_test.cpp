#include "router/train.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/prompt.h"
#include "router/router.h"
#include "router/router_testing.h"

namespace sy::router {
namespace {

using testing::SyntheticExamples;
using testing::SyntheticModelBytes;

TEST(RouterTrainTest, SameInputsAndSeedGiveTheSameBytes) {
  const std::string a = SyntheticModelBytes(1);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, SyntheticModelBytes(1));
  EXPECT_NE(a, SyntheticModelBytes(2));
}

TEST(RouterTrainTest, LearnsThePlantedSignals) {
  auto model = Model::Parse(SyntheticModelBytes(), "synthetic");
  ASSERT_TRUE(model.has_value()) << model.error().message;
  const auto score = [&](const std::string& text) {
    return (*model)->Score(core::SingleUserPrompt(text), kNoTaskType);
  };
  // The strong model's topic beats the topic both models get right.
  EXPECT_GT(score("Which enzyme catalyses reaction 7?\nA. a\nB. b\nC. c\nD. d\nAnswer:"),
            score("Which treaty ended war 7?\nA. a\nB. b\nC. c\nD. d\nAnswer:"));
  // A long word problem beats a short one.
  std::string long_problem = "Sam buys";
  for (int k = 0; k < 11; ++k) long_problem += ", then 12 apples";
  EXPECT_GT(score(long_problem + ". How many apples does Sam have?"),
            score("Sam buys, then 12 apples. How many apples does Sam have?"));
}

TEST(RouterTrainTest, RecordsItsMetadataAndCandidates) {
  TrainOptions options;
  options.seed = 9;
  options.command = "the command";
  options.data_sha256 = "abc";
  options.strong = "big";
  options.weak = "small";
  const auto examples = SyntheticExamples();
  auto result = Train(examples, options);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->train_examples + result->validation_examples,
            static_cast<int64_t>(examples.size()));
  int chosen = 0;
  for (const Candidate& c : result->candidates) chosen += c.chosen;
  EXPECT_EQ(chosen, 2);  // one per regime
  auto model = Model::Parse(result->model_bytes, "m");
  ASSERT_TRUE(model.has_value());
  const Metadata& md = (*model)->metadata();
  EXPECT_EQ(md.command, "the command");
  EXPECT_EQ(md.data_sha256, "abc");
  EXPECT_EQ(md.seed, 9u);
  EXPECT_EQ(md.strong, "big");
  EXPECT_EQ(md.weak, "small");
  EXPECT_EQ(md.train_examples, result->train_examples);
  EXPECT_GT(md.mean_prompt_tokens, 10);
  EXPECT_EQ(md.format_version, kFormatVersion);
}

TEST(RouterTrainTest, RefusesWhatItCannotUse) {
  std::vector<Example> bad = SyntheticExamples();
  bad[3].weak = 7;  // a 1-10 grade not normalised
  auto r = Train(bad, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "example mc/3: outcomes must be normalised to [0, 1]");
  const std::vector<Example> held_out = {{"routellm-gsm8k/9", "s", "", "text", kNoTaskType, 1, 0}};
  auto none = Train(held_out, {});
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().message, "no examples to train on (all are in the validation split)");
}

TEST(RouterTrainTest, Sha256HexOfKnownInput) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace sy::router
