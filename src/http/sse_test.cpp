#include "http/sse.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace sy::http {
namespace {

// An event as (event name, data), which gtest compares and prints.
using Ev = std::pair<std::string, std::string>;

// Drains every complete event the parser holds.
std::vector<Ev> Drain(SseParser& parser) {
  std::vector<Ev> events;
  while (auto event = parser.Next()) events.emplace_back(event->event, event->data);
  return events;
}

// Feeds `stream` in pieces of `piece_bytes`, draining after each, as a socket would deliver it.
std::vector<Ev> ParseInPieces(std::string_view stream, size_t piece_bytes) {
  SseParser parser;
  std::vector<Ev> events;
  for (size_t i = 0; i < stream.size(); i += piece_bytes) {
    parser.Feed(stream.substr(i, piece_bytes));
    for (auto& event : Drain(parser)) events.push_back(std::move(event));
  }
  return events;
}

std::vector<Ev> ParseAll(std::string_view stream) { return ParseInPieces(stream, stream.size()); }

std::vector<Ev> Events(std::initializer_list<std::pair<const char*, const char*>> list) {
  std::vector<Ev> out;
  for (const auto& [event, data] : list) out.emplace_back(event, data);
  return out;
}

constexpr std::string_view kOpenAiStream =
    "data: {\"id\":\"1\",\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"
    "data: {\"id\":\"1\",\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n"
    "data: [DONE]\n\n";

TEST(SseParserTest, ParsesOpenAiStyleStreamIncludingDone) {
  EXPECT_EQ(ParseAll(kOpenAiStream),
            Events({{"", R"({"id":"1","choices":[{"delta":{"content":"Hel"}}]})"},
                    {"", R"({"id":"1","choices":[{"delta":{"content":"lo"}}]})"},
                    {"", "[DONE]"}}));
}

TEST(SseParserTest, AnyByteSplitGivesTheSameEvents) {
  const std::string stream =
      "event: message_start\r\ndata: {\"a\":1}\r\n\r\n"
      ": keep-alive\n\n"
      "event: content_block_delta\ndata: line one\ndata: line two\n\n"
      "data: [DONE]\r\r";
  const auto expected = Events({{"message_start", R"({"a":1})"},
                                {"content_block_delta", "line one\nline two"},
                                {"", "[DONE]"}});
  EXPECT_EQ(ParseAll(stream + "\n"), expected);
  for (size_t piece = 1; piece <= 7; ++piece) {
    EXPECT_EQ(ParseInPieces(stream + "\n", piece), expected) << "piece size " << piece;
  }
}

TEST(SseParserTest, OneByteAtATime) {
  EXPECT_EQ(ParseInPieces(kOpenAiStream, 1), ParseAll(kOpenAiStream));
}

TEST(SseParserTest, AcceptsLfCrlfAndCrLineEndings) {
  const auto expected = Events({{"ping", "a"}, {"", "b\nc"}});
  EXPECT_EQ(ParseAll("event: ping\ndata: a\n\ndata: b\ndata: c\n\n"), expected);
  EXPECT_EQ(ParseAll("event: ping\r\ndata: a\r\n\r\ndata: b\r\ndata: c\r\n\r\n"), expected);
  // With bare CR the parser cannot know whether an LF follows the last CR, so the last event
  // completes only when the next byte arrives.
  EXPECT_EQ(ParseAll("event: ping\rdata: a\r\rdata: b\rdata: c\r\r:"), expected);
  EXPECT_EQ(ParseInPieces("event: ping\rdata: a\r\rdata: b\rdata: c\r\r:", 1), expected);
  EXPECT_EQ(ParseAll("event: ping\r\ndata: a\r\rdata: b\ndata: c\r\n\n"), expected);
}

TEST(SseParserTest, CrlfSplitBetweenCrAndLfIsOneLineEnd) {
  SseParser parser;
  parser.Feed("data: x\r");
  EXPECT_FALSE(parser.Next());
  parser.Feed("\n\r");
  EXPECT_FALSE(parser.Next());
  parser.Feed("\n");
  auto event = parser.Next();
  ASSERT_TRUE(event);
  EXPECT_EQ(event->data, "x");
  EXPECT_FALSE(parser.Next());
  EXPECT_FALSE(parser.has_partial());
}

TEST(SseParserTest, JoinsMultiLineDataWithNewlines) {
  EXPECT_EQ(ParseAll("data: {\ndata:   \"a\": 1\ndata: }\n\n"), Events({{"", "{\n  \"a\": 1\n}"}}));
}

TEST(SseParserTest, FieldValueSyntax) {
  // No space after the colon, only one space removed, a field with no colon, an empty value.
  EXPECT_EQ(ParseAll("data:x\n\n"), Events({{"", "x"}}));
  EXPECT_EQ(ParseAll("data:  x\n\n"), Events({{"", " x"}}));
  EXPECT_EQ(ParseAll("data\n\n"), Events({{"", ""}}));
  EXPECT_EQ(ParseAll("data:\ndata:\n\n"), Events({{"", "\n"}}));
  EXPECT_EQ(ParseAll("data: a:b: c\n\n"), Events({{"", "a:b: c"}}));
}

TEST(SseParserTest, IgnoresCommentsAndUnknownFields) {
  EXPECT_EQ(ParseAll(": ping\n\n:\n\nid: 7\nretry: 100\nfoo: bar\ndata: x\n: inside\n\n"),
            Events({{"", "x"}}));
}

TEST(SseParserTest, EventNameWithoutData) {
  EXPECT_EQ(ParseAll("event: ping\n\n"), Events({{"ping", ""}}));
  EXPECT_EQ(ParseAll("event: a\nevent: b\ndata: d\n\n"), Events({{"b", "d"}}));
}

TEST(SseParserTest, EventNameDoesNotLeakIntoTheNextEvent) {
  EXPECT_EQ(ParseAll("event: error\ndata: 1\n\ndata: 2\n\n"), Events({{"error", "1"}, {"", "2"}}));
}

TEST(SseParserTest, BlankLinesBetweenEventsAreSkipped) {
  EXPECT_EQ(ParseAll("\n\n\r\ndata: a\n\n\n\n"), Events({{"", "a"}}));
}

// Regression (cost, not output): the search for a line's end restarted at the line's start
// after every piece, so a near-8-MiB data line fed 16 KiB at a time cost about 2 GB of
// scanning. Resuming the search must not change what is parsed, with every kind of line end and
// across the buffer's compaction (AnyByteSplitGivesTheSameEvents splits every line end).
TEST(SseParserTest, LongLinesFedInManySmallPiecesAreParsedWhole) {
  const std::string big(256 * 1024, 'x');
  const std::string stream = "data: a\n\nevent: big\r\ndata: " + big + "\r\ndata: " + big +
                             "\r\n\r\n: ping\rdata: " + big + "\r\rdata: b\n\n";
  const std::vector<Ev> expected = {{"", "a"}, {"big", big + "\n" + big}, {"", big}, {"", "b"}};
  for (size_t piece : {size_t{997}, size_t{16 * 1024}}) {
    const auto events = ParseInPieces(stream, piece);
    EXPECT_TRUE(events == expected) << "piece size " << piece << ": " << events.size() << " events";
  }
}

TEST(SseParserTest, HasPartialOnACutStream) {
  SseParser parser;
  EXPECT_FALSE(parser.has_partial());
  parser.Feed("data: complete\n\ndata: {\"cut\":");
  ASSERT_TRUE(parser.Next());
  EXPECT_FALSE(parser.Next());
  EXPECT_TRUE(parser.has_partial());

  SseParser lines_but_no_blank;
  lines_but_no_blank.Feed("event: x\ndata: y\n");
  EXPECT_FALSE(lines_but_no_blank.Next());
  EXPECT_TRUE(lines_but_no_blank.has_partial());

  SseParser clean;
  clean.Feed("data: a\n\n: trailing comment\n");
  ASSERT_TRUE(clean.Next());
  EXPECT_FALSE(clean.Next());
  EXPECT_FALSE(clean.has_partial());
}

TEST(SseParserTest, OverflowsOnALongUnterminatedLine) {
  SseParser parser(64);
  parser.Feed("data: " + std::string(100, 'x'));
  EXPECT_FALSE(parser.Next());
  EXPECT_TRUE(parser.overflowed());
}

TEST(SseParserTest, OverflowsOnManyDataLinesWithoutABlankLine) {
  SseParser parser(64);
  for (int i = 0; i < 10 && !parser.overflowed(); ++i) {
    parser.Feed("data: " + std::string(20, 'x') + "\n");
    EXPECT_FALSE(parser.Next());
  }
  EXPECT_TRUE(parser.overflowed());
}

TEST(SseParserTest, ManySmallEventsNeverOverflow) {
  SseParser parser(64);
  for (int i = 0; i < 1000; ++i) {
    parser.Feed("data: " + std::to_string(i) + "\n\n");
    auto event = parser.Next();
    ASSERT_TRUE(event);
    EXPECT_EQ(event->data, std::to_string(i));
    EXPECT_FALSE(parser.overflowed());
  }
  EXPECT_FALSE(parser.has_partial());
}

TEST(FormatSseTest, FramesDataAndOptionalEventName) {
  EXPECT_EQ(FormatSse("", "[DONE]"), "data: [DONE]\n\n");
  EXPECT_EQ(FormatSse("message_stop", R"({"type":"message_stop"})"),
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
}

TEST(FormatSseTest, RoundTripsThroughTheParser) {
  const std::string stream = FormatSse("delta", R"({"text":"a: b"})") + FormatSse("", "[DONE]");
  EXPECT_EQ(ParseInPieces(stream, 1), Events({{"delta", R"({"text":"a: b"})"}, {"", "[DONE]"}}));
}

// Regression: data with a line break (a pretty-printed event from an upstream, which the
// parser joins from several data lines) was written as one "data: " line broken in two, so a
// client read the rest of the JSON as a field name and lost it.
TEST(FormatSseTest, WritesOneDataLinePerLineOfData) {
  EXPECT_EQ(FormatSse("", "{\n  \"a\": 1\n}"), "data: {\ndata:   \"a\": 1\ndata: }\n\n");
  EXPECT_EQ(FormatSse("e", "a\r\nb\rc\n\nd"),
            "event: e\ndata: a\ndata: b\ndata: c\ndata: \ndata: d\n\n");
  EXPECT_EQ(FormatSse("", "a\n"), "data: a\ndata: \n\n");
  EXPECT_EQ(FormatSse("", "\r\n"), "data: \ndata: \n\n");
  EXPECT_EQ(FormatSse("", ""), "data: \n\n");
}

TEST(FormatSseTest, MultiLineDataRoundTripsThroughTheParser) {
  // (data, what a reader gets back): CR and CRLF come back as LF.
  const std::pair<const char*, const char*> cases[] = {{"{\n  \"a\": 1\n}", "{\n  \"a\": 1\n}"},
                                                       {"a\n", "a\n"},
                                                       {"\n", "\n"},
                                                       {"a\n\nb", "a\n\nb"},
                                                       {" x\n y", " x\n y"},
                                                       {"a\r\nb", "a\nb"},
                                                       {"a\rb", "a\nb"}};
  for (const auto& [data, read_back] : cases) {
    const std::string stream = FormatSse("delta", data) + FormatSse("", "[DONE]");
    EXPECT_EQ(ParseInPieces(stream, 1), Events({{"delta", read_back}, {"", "[DONE]"}}))
        << "data: " << data;
  }
}

}  // namespace
}  // namespace sy::http
