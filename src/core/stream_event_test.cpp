#include "core/stream_event.h"

#include <utility>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

namespace sy::core {
namespace {

namespace json = boost::json;

TEST(StreamEvent, WithoutAJsonItsJsonIsNull) {
  StreamEvent done;
  done.data = "[DONE]";
  EXPECT_TRUE(done.Json().is_null());
  EXPECT_TRUE(std::as_const(done).Json().is_null());
}

TEST(StreamEvent, ADeferredJsonIsTheDataParsedWhenFirstAsked) {
  StreamEvent event;
  event.data = R"({"choices":[{"delta":{"content":"Hi"}}],"n":[1,2.5,-3]})";
  event.DeferJson(json::parse_options{});
  const StreamEvent& read = event;
  EXPECT_EQ(read.Json(), json::parse(event.data));
  // Built once: the DOM may be changed in place and keeps the change.
  event.Json().as_object()["n"] = 7;
  EXPECT_EQ(read.Json().at("n"), 7);
}

TEST(StreamEvent, TheDeferredParseHasTheCheckedOptions) {
  StreamEvent event;
  event.data = R"({"a":1,/* a comment */})";
  json::parse_options lenient;
  lenient.allow_comments = true;
  lenient.allow_trailing_commas = true;
  event.DeferJson(lenient);
  EXPECT_EQ(event.Json(), json::parse(R"({"a":1})"));
  // Text its options refuse is a caller's bug (the decoder checked it under them): no DOM.
  StreamEvent strict;
  strict.data = event.data;
  strict.DeferJson(json::parse_options{});
  EXPECT_TRUE(strict.Json().is_null());
}

TEST(StreamEvent, SetAndDeferredJsonReplaceEachOther) {
  StreamEvent event;
  event.data = R"({"from":"data"})";
  event.DeferJson(json::parse_options{});
  event.SetJson(json::parse(R"({"from":"set"})"));
  EXPECT_EQ(event.Json().at("from"), "set");
  event.DeferJson(json::parse_options{});
  EXPECT_EQ(event.Json().at("from"), "data");
}

TEST(StreamEvent, ACopyCarriesTheDeferredParse) {
  StreamEvent event;
  event.data = R"({"x":[true]})";
  event.DeferJson(json::parse_options{});
  const StreamEvent copy = event;
  EXPECT_EQ(copy.Json(), json::parse(event.data));
  EXPECT_EQ(event.Json(), json::parse(event.data));
}

}  // namespace
}  // namespace sy::core
