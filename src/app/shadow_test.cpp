#include "app/shadow.h"

#include <string>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "core/ids.h"

namespace sy::app {
namespace {

TEST(SampledTest, AllNoneAndAboutTheShareInBetween) {
  int sampled = 0;
  constexpr int kIds = 20'000;
  for (int i = 0; i < kIds; ++i) {
    const std::string id = core::NewRequestId();
    EXPECT_TRUE(Sampled(id, 1'000'000));
    EXPECT_FALSE(Sampled(id, 0));
    if (Sampled(id, 100'000)) ++sampled;
    EXPECT_EQ(Sampled(id, 100'000), Sampled(id, 100'000));  // the id decides
  }
  // 10% of 20,000 is 2,000 with a standard deviation of about 42: +-250 is six of them.
  EXPECT_GT(sampled, 1'750);
  EXPECT_LT(sampled, 2'250);
}

TEST(SampledTest, ASmallerSampleIsASubsetOfALargerOne) {
  int sampled = 0;
  for (int i = 0; i < 5'000; ++i) {
    const std::string id = core::NewRequestId();
    if (Sampled(id, 50'000)) {
      ++sampled;
      EXPECT_TRUE(Sampled(id, 200'000)) << id;
    }
  }
  // 5% of 5,000 is 250 (standard deviation about 15): the subset check ran on real samples.
  EXPECT_GT(sampled, 150);
}

struct BodyCase {
  const char* name;
  core::Dialect dialect;
  const char* body;
  const char* expected;
};

TEST(ShadowBodyTest, ForTheShadowModelNeverStreamedNorStored) {
  const BodyCase cases[] = {
      {"chat stream", core::Dialect::kOpenAiChat,
       R"({"model":"auto","stream":true,"stream_options":{"include_usage":true},"messages":[]})",
       R"({"model":"gpt-5.5","messages":[]})"},
      {"chat", core::Dialect::kOpenAiChat, R"({"messages":[],"model":"auto:x"})",
       R"({"messages":[],"model":"gpt-5.5"})"},
      {"messages", core::Dialect::kAnthropicMessages,
       R"({"model":"auto","max_tokens":5,"stream":true,"messages":[]})",
       R"({"model":"gpt-5.5","max_tokens":5,"messages":[]})"},
      {"responses stored", core::Dialect::kOpenAiResponses,
       R"({"model":"auto","input":"hi","store":true,"previous_response_id":"resp_1"})",
       R"({"model":"gpt-5.5","input":"hi","store":false,"previous_response_id":"resp_1"})"},
      {"responses default store", core::Dialect::kOpenAiResponses,
       R"({"model":"auto","input":"hi"})", R"({"model":"gpt-5.5","input":"hi","store":false})"},
  };
  for (const BodyCase& c : cases) {
    auto body = ShadowBody(c.body, c.dialect, "gpt-5.5", 64);
    ASSERT_TRUE(body) << c.name;
    EXPECT_EQ(boost::json::parse(*body), boost::json::parse(c.expected)) << c.name;
  }
}

TEST(ShadowBodyTest, NotAnObjectIsAnError) {
  for (const char* body : {"[1]", "{", "", "\"x\""}) {
    auto shadow = ShadowBody(body, core::Dialect::kOpenAiChat, "m", 64);
    ASSERT_FALSE(shadow) << body;
    EXPECT_EQ(shadow.error().code, core::Errc::kInvalidRequest);
  }
}

}  // namespace
}  // namespace sy::app
