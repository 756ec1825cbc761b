#include <atomic>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/prompt.h"
#include "router/detail/model_file.h"
#include "router/router.h"
#include "router/router_testing.h"

// Counts heap allocations, to pin that scoring makes none.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// Every plain and nothrow form is replaced, so whatever pairs the library picks (std::stable_sort
// allocates nothrow and frees sized) meet malloc and free on both sides.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new(std::size_t n) {
  if (void* p = operator new(n, std::nothrow)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return operator new(n, std::nothrow);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace sy::router {
namespace {

using testing::SyntheticModelBytes;

// A model with no weights and a linear calibration (i / 1000), to pin the file and the
// threshold arithmetic exactly.
std::string PlainModelBytes(uint32_t version = kFormatVersion) {
  detail::ModelData m;
  m.metadata.format_version = version;
  m.metadata.command = "switchyard router train --data d --strong s --weak w --out o --seed 3";
  m.metadata.seed = 3;
  m.metadata.strong = "s";
  m.metadata.weak = "w";
  m.metadata.mean_prompt_tokens = 112.5;
  for (size_t i = 0; i < detail::kCalibrationPoints; ++i) {
    m.calibration.push_back(static_cast<double>(i) / 1000.0);
  }
  return detail::Serialize(m);
}

std::string ParseError(std::string_view bytes) {
  auto m = Model::Parse(bytes, "m.syr");
  EXPECT_FALSE(m.has_value());
  if (m) return "";
  EXPECT_EQ(m.error().code, core::Errc::kInvalidRequest);
  return m.error().message;
}

std::string WriteTemp(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(RouterModelTest, RoundTripsItsMetadata) {
  auto m = Model::Parse(PlainModelBytes(), "m.syr");
  ASSERT_TRUE(m.has_value()) << m.error().message;
  const Metadata& md = (*m)->metadata();
  EXPECT_EQ(md.format_version, kFormatVersion);
  EXPECT_EQ(md.command, "switchyard router train --data d --strong s --weak w --out o --seed 3");
  EXPECT_EQ(md.seed, 3u);
  EXPECT_EQ(md.strong, "s");
  EXPECT_EQ(md.weak, "w");
  EXPECT_EQ(md.mean_prompt_tokens, 112.5);
  // No weights: every prompt scores the middle.
  EXPECT_EQ((*m)->Score(core::SingleUserPrompt("hello"), kNoTaskType), 0.5);
}

TEST(RouterModelTest, RefusesBrokenFiles) {
  const std::string good = PlainModelBytes();
  std::string flipped = good;
  flipped[good.size() / 2] ^= 0x40;
  std::string other_version = PlainModelBytes(kFormatVersion - 1);
  const struct {
    std::string bytes;
    std::string message;
  } cases[] = {
      {"", "router model m.syr: the file is empty"},
      {"GIF89a, not a model at all, certainly",
       "router model m.syr: not a Switchyard router model (bad magic)"},
      {"SYROU", "router model m.syr: truncated: 5 bytes, not even a header"},
      {other_version,
       "router model m.syr: format version 1; this build reads version 2 (retrain with "
       "switchyard router train)"},
      {good.substr(0, good.size() - 40),
       "router model m.syr: truncated: " + std::to_string(good.size() - 40) +
           " bytes, the header announces " + std::to_string(good.size())},
      {flipped, "router model m.syr: corrupted: its SHA-256 checksum does not match its contents"},
      {good + "xyz", "router model m.syr: corrupted: 3 bytes after the checksum"},
  };
  for (const auto& c : cases) EXPECT_EQ(ParseError(c.bytes), c.message);
}

// A layer of `outputs` constant logits: its dense bias weights (every other weight 0).
detail::Layer ConstantLayer(std::vector<float> logits) {
  detail::Layer layer;
  layer.outputs = static_cast<uint32_t>(logits.size());
  layer.bucket_bits = 0;
  layer.dense.assign(detail::kDenseCount * logits.size(), 0.0f);
  for (size_t o = 0; o < logits.size(); ++o) layer.dense[o] = logits[o];
  layer.sparse.assign(logits.size(), 0.0f);
  return layer;
}

// A free-form regime of two topics at probabilities 0.75 / 0.25 whose first only the specialist
// covers: R = 0.75 R_specialist + 0.25 R_general.
detail::ModelData MixtureModel() {
  detail::ModelData m;
  for (size_t i = 0; i < detail::kCalibrationPoints; ++i) {
    m.calibration.push_back(static_cast<double>(i) / 1000.0);
  }
  const float ln3 = static_cast<float>(std::log(3.0));
  detail::Regime& r = m.free_form;
  r.topics = ConstantLayer({ln3, 0.0f});
  r.topic_gains = {0.4, -0.2};
  r.specialist = {1, 0};
  r.gain = ConstantLayer({ln3, -ln3});      // P(weak fails) 0.75, P(strong fails) 0.25: R = 0.5
  r.general = ConstantLayer({0.0f, 0.0f});  // R = 0
  r.topic_weight = 0.5;
  return m;
}

TEST(RouterModelTest, MixesTheSpecialistAndTheGeneralLayerByTopic) {
  auto m = Model::Parse(detail::Serialize(MixtureModel()), "m.syr");
  ASSERT_TRUE(m.has_value()) << m.error().message;
  // T = 0.75 * 0.4 + 0.25 * -0.2 = 0.25; R = 0.75 * 0.5 + 0.25 * 0 = 0.375;
  // raw = 0.5 T + 0.5 R = 0.3125; score = (raw + 1) / 2.
  EXPECT_NEAR((*m)->Score(core::SingleUserPrompt("What is 2 + 2?"), kNoTaskType), 0.65625, 1e-6);
  // Exam questions are the other regime, empty here: the middle.
  EXPECT_EQ((*m)->Score(core::SingleUserPrompt("Which?\nA. a\nB. b\nC. c\nD. d"), kNoTaskType),
            0.5);
}

TEST(RouterModelTest, RefusesRegimesThatCannotScore) {
  const struct {
    void (*spoil)(detail::ModelData&);
    std::string message;
  } cases[] = {
      {[](detail::ModelData& m) { m.free_form.specialist = {1}; },
       "router model m.syr: malformed: its topics do not match their gains"},
      {[](detail::ModelData& m) {
         m.free_form.specialist = {1, 2};
       },
       "router model m.syr: malformed: a weight that must be in [0, 1] is not"},
      {[](detail::ModelData& m) { m.free_form.topic_weight = 1.5; },
       "router model m.syr: malformed: a weight that must be in [0, 1] is not"},
      {[](detail::ModelData& m) {
         m.free_form.topic_gains = {0.4, -1.5};
       },
       "router model m.syr: malformed: a topic gain is outside [-1, 1]"},
      {[](detail::ModelData& m) { m.free_form.general = ConstantLayer({0.0f}); },
       "router model m.syr: malformed: a gain layer is malformed"},
      {[](detail::ModelData& m) { m.free_form.general.dense[0] = std::nanf(""); },
       "router model m.syr: malformed: a weight is not finite"},
  };
  for (const auto& c : cases) {
    detail::ModelData m = MixtureModel();
    c.spoil(m);
    EXPECT_EQ(ParseError(detail::Serialize(m)), c.message);
  }
}

TEST(RouterModelTest, LoadNamesThePath) {
  const std::string path = WriteTemp("router_model_test.syr", PlainModelBytes());
  auto m = Model::Load(path);
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ((*m)->metadata().seed, 3u);

  auto missing = Model::Load(path + ".missing");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message, "router model " + path + ".missing: no such file");
  auto dir = Model::Load(::testing::TempDir());
  ASSERT_FALSE(dir.has_value());
  EXPECT_EQ(dir.error().code, core::Errc::kInvalidRequest);
  // `router eval --model /dev/zero` grew to 8.5 GB (audit 2, finding 5): refused unread.
  auto device = Model::Load("/dev/zero");
  ASSERT_FALSE(device.has_value());
  EXPECT_EQ(device.error().message, "router model /dev/zero: not a regular file");
  const std::string bad = WriteTemp("router_model_bad.syr", "SYROUTERgarbage-garbage-garbage");
  auto corrupt = Model::Load(bad);
  ASSERT_FALSE(corrupt.has_value());
  EXPECT_EQ(corrupt.error().message.rfind("router model " + bad + ": ", 0), 0u);
}

TEST(RouterModelTest, ThresholdsAndSharesInvertEachOther) {
  auto m = Model::Parse(PlainModelBytes(), "m.syr");
  ASSERT_TRUE(m.has_value());
  const Model& model = **m;
  // Training scores spread evenly over [0, 1]: 20% of them lie at or above 0.8.
  const struct {
    double share;
    double threshold;
  } cases[] = {{0.2, 0.8}, {0.5, 0.5}, {0.9, 0.1}, {0.0005, 0.9995}, {1.0, 0.0}};
  for (const auto& c : cases) {
    EXPECT_NEAR(model.ThresholdForShare(c.share), c.threshold, 1e-12) << c.share;
    EXPECT_NEAR(model.ShareAtThreshold(c.threshold), c.share, 1e-12) << c.threshold;
  }
  EXPECT_GT(model.ThresholdForShare(0.0), 1.0);  // nothing reaches it
  EXPECT_GT(model.ThresholdForShare(-3), 1.0);
  EXPECT_EQ(model.ThresholdForShare(7), 0.0);
  EXPECT_EQ(model.ShareAtThreshold(-1), 1.0);
  EXPECT_EQ(model.ShareAtThreshold(1.5), 0.0);
}

TEST(RouterModelTest, ScoringIsDeterministicBoundedAndAllocatesNothing) {
  auto m = Model::Parse(SyntheticModelBytes(), "synthetic");
  ASSERT_TRUE(m.has_value());
  const Model& model = **m;
  std::string long_text;
  while (long_text.size() < 40000) long_text += "Which enzyme catalyses reaction 12? ";
  const core::Prompt prompts[] = {
      core::SingleUserPrompt("Which enzyme catalyses reaction 7?\nA. a\nB. b\nC. c\nD. d\nAnswer:"),
      core::SingleUserPrompt("Sam buys, then 12 apples. How many apples does Sam have?"),
      core::SingleUserPrompt(long_text), core::SingleUserPrompt(""), core::Prompt{}};
  for (const core::Prompt& p : prompts) {
    const double first = model.Score(p, 5);
    const long before = g_allocations.load();
    const double again = model.Score(p, 5);
    EXPECT_EQ(g_allocations.load(), before);
    EXPECT_EQ(first, again);
    EXPECT_GE(first, 0.0);
    EXPECT_LE(first, 1.0);
  }
}

TEST(RouterModelTest, ReadsTheUsersTextsOnly) {
  auto m = Model::Parse(SyntheticModelBytes(), "synthetic");
  ASSERT_TRUE(m.has_value());
  const Model& model = **m;
  std::string long_problem = "Sam buys";
  for (int k = 0; k < 11; ++k) long_problem += ", then 12 apples";
  core::Prompt plain = core::SingleUserPrompt(long_problem);
  core::Prompt with_system = plain;
  with_system.texts.insert(with_system.texts.begin(),
                           {core::PromptRole::kSystem, -1, "You are terse. Which treaty?"});
  EXPECT_EQ(model.Score(plain, kNoTaskType), model.Score(with_system, kNoTaskType));
  core::Prompt follow_up;
  follow_up.AddText(core::PromptRole::kUser, 0, long_problem);
  follow_up.AddText(core::PromptRole::kAssistant, 1, "Lots of apples.");
  follow_up.AddText(core::PromptRole::kUser, 2, "Sam buys, then 12 apples.");
  follow_up.messages = 3;
  follow_up.user_turns = 2;
  // The earlier turn counts (at half weight) but the last one leads.
  EXPECT_NE(model.Score(follow_up, kNoTaskType),
            model.Score(core::SingleUserPrompt("Sam buys, then 12 apples."), kNoTaskType));
}

}  // namespace
}  // namespace sy::router
