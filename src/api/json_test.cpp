#include "api/json.h"

#include <string>

#include <boost/json/monotonic_resource.hpp>
#include <gtest/gtest.h>

namespace sy::api {
namespace {

TEST(ParseJson, ParsesAValue) {
  auto parsed = ParseJson(R"({"a":[1,2]})", 64);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->at("a").at(1).as_int64(), 2);
}

// The decoders move the parsed body into the request's arena: built anywhere else, the move is a
// deep copy (it was, with one malloc per key, until the storage went to reset() instead of the
// constructor, which only sizes the parser's working stack).
TEST(ParseJson, BuildsTheValueInTheGivenStorage) {
  auto arena = boost::json::make_shared_resource<boost::json::monotonic_resource>();
  auto parsed =
      ParseJson(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})", 64, arena);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->storage().get(), arena.get());
  const auto& message = parsed->at("messages").at(0).as_object();
  EXPECT_EQ(message.storage().get(), arena.get());
  EXPECT_EQ(message.at("content").as_string().storage().get(), arena.get());
}

TEST(ParseJson, EnforcesTheDepthLimit) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  auto parsed = ParseJson(deep, 64);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code, core::Errc::kInvalidRequest);
  EXPECT_EQ(parsed.error().message, "The request body is nested deeper than 64 levels.");
  EXPECT_TRUE(ParseJson(deep, 128).has_value());
}

TEST(ParseJson, RejectsWhatIsNotOneJsonValue) {
  for (std::string_view body : {"{not json", R"({"a":1} trailing)", ""}) {
    auto parsed = ParseJson(body, 64);
    ASSERT_FALSE(parsed.has_value()) << body;
    EXPECT_EQ(parsed.error().code, core::Errc::kInvalidRequest);
    EXPECT_TRUE(parsed.error().param.empty());
    EXPECT_EQ(parsed.error().message.rfind("The request body is not valid JSON (", 0), 0u);
  }
}

TEST(ParseJson, RejectsInvalidUtf8) {
  auto parsed = ParseJson("\"\xC3\x28\"", 64);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().message.find("not valid JSON"), std::string::npos);
}

}  // namespace
}  // namespace sy::api
