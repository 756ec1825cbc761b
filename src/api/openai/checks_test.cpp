#include "api/openai/checks.h"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace sy::api::openai {
namespace {

namespace json = boost::json;

constexpr ParamRule kRules[] = {
    {"stream", CheckBool},
    {"top_p", CheckTopP},
    {"n", CheckPositiveInt},
};

// The parameter CheckParams names for `body`, "" when it passes.
std::string FirstBad(std::string_view body) {
  const json::value v = json::parse(body);
  const core::Status s = CheckParams(v.as_object(), kRules);
  return s ? std::string() : s.error().param;
}

TEST(CheckParams, ChecksOnlyTheNamedMembersInTheBodysOrder) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"({})", ""},
      {R"({"stream":true,"top_p":0.5,"n":3})", ""},
      {R"({"other":"anything","temperature":"hot"})", ""},  // not a rule here
      {R"({"stream":null,"top_p":null,"n":null})", ""},     // null is absent
      {R"({"stream":"yes"})", "stream"},
      {R"({"top_p":1.5})", "top_p"},
      {R"({"n":0})", "n"},
      {R"({"n":0,"stream":"yes"})", "n"},  // the first bad member in the body
      {R"({"stream":"yes","n":0})", "stream"},
      {R"({"Stream":"yes"})", ""},  // names are case-sensitive, as OpenAI's are
  };
  for (const auto& [body, param] : cases) EXPECT_EQ(FirstBad(body), param) << body;
}

TEST(CheckParams, WordsTheErrorAsTheValueCheckDoes) {
  const json::value v = json::parse(R"({"top_p":-0.5})");
  const core::Status s = CheckParams(v.as_object(), kRules);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            "Invalid 'top_p': decimal below minimum value. Expected a value >= 0, but got -0.5 "
            "instead.");
}

}  // namespace
}  // namespace sy::api::openai
