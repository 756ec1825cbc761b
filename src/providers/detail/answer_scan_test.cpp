#include "providers/detail/answer_scan.h"

#include <ostream>
#include <string>
#include <string_view>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include "core/json_depth.h"
#include "providers/stream_generated.h"
#include "tests/testutil/json_identical.h"

namespace sy::providers::detail {
namespace {

namespace json = boost::json;
using testutil::Identical;

// json::parse's verdict on `body` and its top-level "usage" member: what ScanAnswer must match.
struct Reference {
  bool object = false;
  const json::value* usage = nullptr;
  bool error = false;    // a top-level "error" member that is not null
  bool choices = false;  // a top-level "choices" array
  bool content = false;  // a top-level "content" array
  json::value parsed;
};

Reference ParseReference(std::string_view body, const json::parse_options& options) {
  Reference out;
  boost::system::error_code ec;
  out.parsed = json::parse(body, ec, {}, options);
  out.object = !ec && out.parsed.is_object();
  if (!out.object) return out;
  out.usage = out.parsed.get_object().if_contains("usage");
  const auto* error = out.parsed.get_object().if_contains("error");
  out.error = error && !error->is_null();
  const auto* choices = out.parsed.get_object().if_contains("choices");
  out.choices = choices && choices->is_array();
  const auto* content = out.parsed.get_object().if_contains("content");
  out.content = content && content->is_array();
  return out;
}

// The options the gateway scans answers with, at the default server.max_json_depth.
const json::parse_options kGatewayOptions = core::EchoParseOptions(core::kDefaultMaxJsonDepth);

// Checks ScanAnswer against json::parse on `body`, and returns what ScanAnswer read.
std::optional<ScannedAnswer> ScanAgreeing(std::string_view body,
                                          const json::parse_options& options = kGatewayOptions) {
  const Reference reference = ParseReference(body, options);
  auto scanned = ScanAnswer(body, options);
  EXPECT_EQ(scanned.has_value(), reference.object) << body;
  if (!scanned || !reference.object) return scanned;
  EXPECT_EQ(scanned->error, reference.error) << body;
  EXPECT_EQ(scanned->choices, reference.choices) << body;
  EXPECT_EQ(scanned->content, reference.content) << body;
  EXPECT_EQ(scanned->usage.has_value(), reference.usage != nullptr) << body;
  if (scanned->usage && reference.usage) {
    EXPECT_TRUE(Identical(*scanned->usage, *reference.usage))
        << json::serialize(*scanned->usage) << " vs " << json::serialize(*reference.usage);
  }
  return scanned;
}

const char* const kChatAnswer =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1765000000,"model":"gpt-5-mini",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hello there!",)"
    R"("refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,)"
    R"("prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},)"
    R"("completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,)"
    R"("accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},)"
    R"("service_tier":"default","system_fingerprint":null})";

const char* const kAnthropicAnswer =
    R"({"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5",)"
    R"("content":[{"type":"text","text":"Hi!"}],"stop_reason":"end_turn","stop_sequence":null,)"
    R"("usage":{"input_tokens":21,"cache_creation_input_tokens":188,)"
    R"("cache_read_input_tokens":1900,"output_tokens":393,"service_tier":"standard"}})";

struct Accepted {
  const char* name;
  std::string body;
  const char* usage;  // the expected member as JSON text; nullptr: none
};

void PrintTo(const Accepted& c, std::ostream* os) { *os << c.name; }

class ScanAnswerAccepts : public ::testing::TestWithParam<Accepted> {};

TEST_P(ScanAnswerAccepts, AsJsonParseDoesAndReadsTheTopLevelUsage) {
  const Accepted& c = GetParam();
  auto scanned = ScanAgreeing(c.body);
  ASSERT_TRUE(scanned.has_value());
  if (!c.usage) {
    EXPECT_FALSE(scanned->usage.has_value());
    return;
  }
  ASSERT_TRUE(scanned->usage.has_value());
  EXPECT_TRUE(Identical(*scanned->usage, json::parse(c.usage))) << json::serialize(*scanned->usage);
}

// A key written wholly in escapes: the parser unescapes it into its buffer and hands it on in
// one piece, unlike "us\u0061ge", which comes as "us" then "age".
std::string EscapedUsageKey() { return R"("\u0075\u0073\u0061\u0067\u0065")"; }

// A string longer than the parser's buffer for unescaped text, so it comes in parts.
std::string LongEscapedString() {
  std::string s = "\"";
  for (int i = 0; i < 3000; ++i) s += R"(ab\"\u00e9)";
  return s + "\"";
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, ScanAnswerAccepts,
    ::testing::Values(
        Accepted{"OpenAiChat", kChatAnswer,
                 R"({"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,)"
                 R"("prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},)"
                 R"("completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,)"
                 R"("accepted_prediction_tokens":0,"rejected_prediction_tokens":0}})"},
        Accepted{"AnthropicMessage", kAnthropicAnswer,
                 R"({"input_tokens":21,"cache_creation_input_tokens":188,)"
                 R"("cache_read_input_tokens":1900,"output_tokens":393,)"
                 R"("service_tier":"standard"})"},
        Accepted{"LargeAndOddNumbers",
                 R"({"usage":{"u":18446744073709551615,"i":9223372036854775807,)"
                 R"("n":-9223372036854775808,"big":9223372036854775808,"d":1.5,"e":2.5E-3,)"
                 R"("x":1e300,"z":-0.0,"f":0.1,"g":123456789012345678901234567890}})",
                 R"({"u":18446744073709551615,"i":9223372036854775807,)"
                 R"("n":-9223372036854775808,"big":9223372036854775808,"d":1.5,"e":2.5E-3,)"
                 R"("x":1e300,"z":-0.0,"f":0.1,"g":123456789012345678901234567890})"},
        Accepted{"NoUsage", R"({"id":"x","choices":[]})", nullptr},
        Accepted{"EmptyObject", " \n{}\r\n\t ", nullptr},
        Accepted{"UsageNull", R"({"id":"x","usage":null})", "null"},
        Accepted{"UsageScalarsAndArrays", R"({"usage":[1,"two",{"three":[true,false,null]}]})",
                 R"([1,"two",{"three":[true,false,null]}])"},
        Accepted{"UsageAString", R"({"usage":"n/a \"quoted\" \u00e9"})", R"("n/a \"quoted\" é")"},
        Accepted{"OnlyInsideChoices",
                 R"({"choices":[{"usage":{"prompt_tokens":1}}],"meta":{"usage":{"x":2}}})",
                 nullptr},
        Accepted{"UsageTextInsideAString",
                 R"({"choices":[{"message":{"content":"\"usage\":{\"prompt_tokens\":99}"}}],)"
                 R"("usage":{"prompt_tokens":3}})",
                 R"({"prompt_tokens":3})"},
        Accepted{"EscapedKey", R"({"us\u0061ge":{"prompt_tokens":4}})", R"({"prompt_tokens":4})"},
        Accepted{"EveryCharacterEscaped", "{" + EscapedUsageKey() + R"(:{"prompt_tokens":5}})",
                 R"({"prompt_tokens":5})"},
        Accepted{"NearMisses",
                 R"({"usag":1,"usages":2,"Usage":3,"usage\u0000":4,"":5,"\u0075sagex":6,)"
                 R"("us":{"age":7}})",
                 nullptr},
        Accepted{"RepeatedKeyTheLastWins",
                 R"({"usage":{"prompt_tokens":1},"id":"x","usage":{"prompt_tokens":2}})",
                 R"({"prompt_tokens":2})"},
        Accepted{"RepeatedKeyLastIsNull", R"({"usage":{"prompt_tokens":1},"usage":null})", "null"},
        Accepted{"RepeatedInsideUsage", R"({"usage":{"a":1,"b":2,"a":3}})", R"({"a":3,"b":2})"},
        Accepted{"LongStringBefore",
                 R"({"choices":[{"message":{"content":)" + LongEscapedString() +
                     R"(}}],"usage":{"prompt_tokens":6}})",
                 R"({"prompt_tokens":6})"}),
    [](const auto& test_case) { return std::string(test_case.param.name); });

// Too long for the table: ScanAgreeing compares it with json::parse's.
TEST(ScanAnswer, LongStringsInsideUsageArePassedWhole) {
  const std::string body = R"({"usage":{"note":)" + LongEscapedString() + "}}";
  auto scanned = ScanAgreeing(body);
  ASSERT_TRUE(scanned && scanned->usage);
  EXPECT_EQ(scanned->usage->at("note").as_string().size(), 3000u * 5u);
}

TEST(ScanAnswer, BuildsTheUsageInTheGivenResource) {
  unsigned char buffer[512];
  json::monotonic_resource arena(buffer, sizeof(buffer));
  auto scanned = ScanAnswer(kChatAnswer, kGatewayOptions, &arena);
  ASSERT_TRUE(scanned && scanned->usage);
  EXPECT_EQ(scanned->usage->storage().get(), &arena);
  EXPECT_EQ(scanned->usage->at("prompt_tokens_details").at("cached_tokens"), 0);
}

struct Rejected {
  const char* name;
  std::string body;
};

void PrintTo(const Rejected& c, std::ostream* os) { *os << c.name; }

class ScanAnswerRejects : public ::testing::TestWithParam<Rejected> {};

TEST_P(ScanAnswerRejects, AsJsonParseAndIsObjectDo) {
  EXPECT_FALSE(ScanAgreeing(GetParam().body).has_value());
}

// Nesting `levels` arrays deep inside the answer's "usage" member.
std::string Nested(int levels) {
  return R"({"usage":)" + std::string(static_cast<size_t>(levels), '[') +
         std::string(static_cast<size_t>(levels), ']') + "}";
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, ScanAnswerRejects,
    ::testing::Values(
        Rejected{"Empty", ""}, Rejected{"Whitespace", " \n "},
        Rejected{"Unterminated", R"({"usage":{"prompt_tokens":1})"},
        Rejected{"CutInsideUsage", R"({"usage":{"prompt_tokens":1,"x":[1,{"y":"ab)"},
        Rejected{"TrailingGarbage", R"({"usage":{"prompt_tokens":1}} x)"},
        Rejected{"TwoDocuments", "{}{}"}, Rejected{"AnArray", R"([{"usage":{"prompt_tokens":1}}])"},
        Rejected{"ANumber", "42"}, Rejected{"AString", R"("usage")"}, Rejected{"Null", "null"},
        Rejected{"BadEscape", R"({"usage":"\x"})"}, Rejected{"InvalidUtf8", "{\"usage\":\"\xff\"}"},
        Rejected{"Comment", R"({/* no */"usage":1})"}, Rejected{"TrailingComma", R"({"usage":1,})"},
        Rejected{"BareKey", R"({usage:1})"}, Rejected{"TooDeep", Nested(200)}),
    [](const auto& test_case) { return std::string(test_case.param.name); });

TEST(ScanAnswer, DepthLimitIsTheParseOptionsOne) {
  // The gateway's limit (server.max_json_depth plus the echo envelope) counts the answer object
  // itself; beyond Boost.JSON's default of 32, as an answer echoing a deep schema nests.
  const auto limit = static_cast<int>(core::EchoJsonDepth(core::kDefaultMaxJsonDepth));
  ASSERT_GT(limit, 33);
  EXPECT_TRUE(ScanAgreeing(Nested(32)).has_value());
  EXPECT_TRUE(ScanAgreeing(Nested(limit - 1)).has_value());
  EXPECT_FALSE(ScanAgreeing(Nested(limit)).has_value());
  json::parse_options shallow;
  shallow.max_depth = 3;
  EXPECT_TRUE(ScanAgreeing(Nested(2), shallow).has_value());
  EXPECT_FALSE(ScanAgreeing(Nested(3), shallow).has_value());
}

TEST(ScanAnswer, ExtensionsFollowTheParseOptions) {
  json::parse_options lenient;
  lenient.allow_comments = true;
  lenient.allow_trailing_commas = true;
  auto scanned = ScanAgreeing(R"({/* c */"usage":{"a":1,},})", lenient);
  ASSERT_TRUE(scanned && scanned->usage);
  EXPECT_EQ(scanned->usage->at("a"), 1);
}

// A chunk's error member, found as the DOM has it.
TEST(ScanAnswer, ReadsWhetherTheTopLevelErrorIsThere) {
  EXPECT_TRUE(ScanAgreeing(R"({"error":{"message":"overloaded"}})")->error);
  EXPECT_TRUE(ScanAgreeing(R"({"error":"overloaded"})")->error);
  EXPECT_TRUE(ScanAgreeing(R"({"error":false})")->error);
  EXPECT_FALSE(ScanAgreeing(R"({"error":null})")->error);
  EXPECT_FALSE(ScanAgreeing(R"({"id":"x"})")->error);
  EXPECT_FALSE(
      ScanAgreeing(R"({"choices":[{"error":{"message":"x"}}],"data":{"error":1}})")->error);
  EXPECT_FALSE(ScanAgreeing(R"({"error":{"message":"x"},"error":null})")->error);
  EXPECT_TRUE(ScanAgreeing(R"({"error":null,"\u0065rror":[]})")->error);
}

TEST(ScanAnswer, ReadsWhetherTheAnswersArrayIsThere) {
  EXPECT_TRUE(ScanAgreeing(R"({"id":"x","choices":[]})")->choices);
  EXPECT_TRUE(ScanAgreeing(R"({"id":"x","content":[{"type":"text","text":"hi"}]})")->content);
  EXPECT_FALSE(ScanAgreeing(R"({"id":"x","choices":{}})")->choices);
  EXPECT_FALSE(ScanAgreeing(R"({"id":"x","choices":null})")->choices);
  EXPECT_FALSE(ScanAgreeing(R"({"id":"x","content":"hi"})")->content);
  EXPECT_FALSE(ScanAgreeing(R"({"data":{"choices":[]}})")->choices);
  EXPECT_FALSE(ScanAgreeing(R"({"choices":[],"choices":1})")->choices);  // the last one counts
  EXPECT_TRUE(ScanAgreeing(R"({"choices":1,"\u0063hoices":[[]]})")->choices);
}

struct Chunk {
  const char* name;
  std::string data;
  core::Generated generated;  // what the relay counts
};

void PrintTo(const Chunk& c, std::ostream* os) { *os << c.name; }

class ScanOpenAiChunkReads : public ::testing::TestWithParam<Chunk> {};

// The values are pinned, and the DOM reading the relay does for translated chunks must give the
// same (fuzz/chunk_scan_fuzz.cpp holds the two to each other on any input).
TEST_P(ScanOpenAiChunkReads, WhatTheChunkGeneratedAsTheDomReadingDoes) {
  const Chunk& c = GetParam();
  const auto scanned = ScanOpenAiChunk(c.data, kGatewayOptions);
  ASSERT_TRUE(scanned.has_value()) << c.data;
  EXPECT_EQ(scanned->generated.bytes, c.generated.bytes);
  EXPECT_EQ(scanned->generated.content, c.generated.content);
  const json::value dom = json::parse(c.data);
  EXPECT_EQ(ChunkGenerated(dom), c.generated);
  // And the answer's part as ScanAnswer reads it.
  const auto answer = ScanAgreeing(c.data);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(scanned->answer.error, answer->error);
  EXPECT_EQ(scanned->answer.usage.has_value(), answer->usage.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Chunks, ScanOpenAiChunkReads,
    ::testing::Values(
        Chunk{"Role",
              R"({"id":"c","object":"chat.completion.chunk","choices":[{"index":0,)"
              R"("delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,)"
              R"("finish_reason":null}],"usage":null})",
              {0, false}},
        Chunk{"Text", R"({"choices":[{"index":0,"delta":{"content":" so with"}}]})", {8, true}},
        Chunk{"EscapedTextCountsItsDecodedBytes",
              R"({"choices":[{"delta":{"content":"\u00e9\n\"x\""}}]})",
              {6, true}},
        Chunk{"TwoChoicesAddUp",
              R"({"choices":[{"delta":{"content":"ab"}},{"delta":{"content":"cde"}}]})",
              {5, true}},
        Chunk{"FinishOnly", R"({"choices":[{"delta":{},"finish_reason":"stop"}]})", {0, false}},
        Chunk{"UsageOnly",
              R"({"choices":[],"usage":{"prompt_tokens":15,"completion_tokens":3,)"
              R"("completion_tokens_details":{"content":"not generated"}}})",
              {0, false}},
        Chunk{"ToolCallOpening",
              R"({"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function",)"
              R"("function":{"name":"get_weather","arguments":""}}]}}]})",
              {0, true}},
        Chunk{"ToolCallArguments",
              R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}},)"
              R"({"index":1,"function":{"arguments":"ty\":1}"}}]}}]})",
              {10, true}},
        Chunk{
            "ToolCallsEmptyStillCarry", R"({"choices":[{"delta":{"tool_calls":[]}}]})", {0, true}},
        Chunk{"ToolCallsNullDoNot", R"({"choices":[{"delta":{"tool_calls":null}}]})", {0, false}},
        Chunk{"ToolCallsNotAnArrayCarryNoBytes",
              R"({"choices":[{"delta":{"tool_calls":{"function":{"arguments":"abc"}}}}]})",
              {0, true}},
        Chunk{"TextAndToolCalls",
              R"({"choices":[{"delta":{"content":"ok","tool_calls":[{"function":)"
              R"({"arguments":"{}"}}]}}]})",
              {4, true}},
        Chunk{"RepeatedKeysTheLastWins",
              R"({"choices":[{"delta":{"content":"first"}}],)"
              R"("choices":[{"delta":{"content":"x","content":"yz"},"delta":{"content":"abc"}}]})",
              {3, true}},
        Chunk{"RepeatedContentLastNotAString",
              R"({"choices":[{"delta":{"content":"abc","content":7}}]})",
              {0, false}},
        Chunk{"RepeatedToolCallsLastNull",
              R"({"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"ab"}}],)"
              R"("tool_calls":null}}]})",
              {0, false}},
        Chunk{"WrongTypesAddNothing", R"({"choices":{"delta":{"content":"abc"}}})", {0, false}},
        Chunk{"ChoiceNotAnObject",
              R"({"choices":["abc",[{"delta":{"content":"x"}}],null]})",
              {0, false}},
        Chunk{"DeltaNotAnObject", R"({"choices":[{"delta":[{"content":"abc"}]}]})", {0, false}},
        Chunk{"ContentNotAString", R"({"choices":[{"delta":{"content":["abc"]}}]})", {0, false}},
        Chunk{"DeeperNamesAreOtherMembers",
              R"({"choices":[{"delta":{"x":{"content":"abc"}},"message":{"content":"d"}}],)"
              R"("delta":{"content":"e"},"content":"f"})",
              {0, false}},
        Chunk{"EscapedKeys",
              R"({"ch\u006fices":[{"d\u0065lta":{"c\u006fntent":"abcd"}}]})",
              {4, true}},
        Chunk{"LongKeysMatchNothing",
              R"({"choices":[{"delta":{"content_but_much_longer_than_any":"abc"}}]})",
              {0, false}},
        Chunk{"ErrorChunk", R"({"error":{"message":"boom","content":"x"}})", {0, false}}),
    [](const auto& test_case) { return std::string(test_case.param.name); });

TEST(ScanOpenAiChunk, LongStringsArePassedWholeAndDeepChunksFollowTheLimit) {
  const std::string text(100000, 'a');
  const std::string chunk = R"({"choices":[{"delta":{"content":")" + text + R"("}}]})";
  const auto scanned = ScanOpenAiChunk(chunk, kGatewayOptions);
  ASSERT_TRUE(scanned.has_value());
  EXPECT_EQ(scanned->generated, (core::Generated{100000, true}));
  EXPECT_FALSE(ScanOpenAiChunk(Nested(200), kGatewayOptions).has_value());
  // Nesting beyond what the reader follows, inside a followed member, changes nothing.
  const std::string deep_chunk =
      R"({"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"ab","x":)" + Nested(20) +
      "}}]}}]}";
  const auto deep = ScanOpenAiChunk(deep_chunk, kGatewayOptions);
  ASSERT_TRUE(deep.has_value());
  EXPECT_EQ(deep->generated, (core::Generated{2, true}));
}

struct Delta {
  const char* name;
  std::string data;
  bool type_matches;
  size_t bytes;
};

void PrintTo(const Delta& c, std::ostream* os) { *os << c.name; }

class ScanAnthropicDeltaReads : public ::testing::TestWithParam<Delta> {};

TEST_P(ScanAnthropicDeltaReads, TheTypeAndTheBytesAsTheDomReadingDoes) {
  const Delta& c = GetParam();
  const auto scanned = ScanAnthropicDelta(c.data, kGatewayOptions);
  ASSERT_TRUE(scanned.has_value()) << c.data;
  EXPECT_EQ(scanned->type_matches, c.type_matches);
  EXPECT_EQ(scanned->bytes, c.bytes);
  const json::value dom = json::parse(c.data);
  EXPECT_EQ(AnthropicDeltaBytes(dom), c.bytes);
  const auto* type = dom.get_object().if_contains("type");
  EXPECT_EQ(type && type->is_string() && type->get_string() == "content_block_delta",
            c.type_matches);
}

INSTANTIATE_TEST_SUITE_P(
    Events, ScanAnthropicDeltaReads,
    ::testing::Values(
        Delta{
            "Text",
            R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})",
            true, 5},
        Delta{"ToolInput",
              R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta",)"
              R"("partial_json":"{\"city\": \"Par"}})",
              true, 13},
        Delta{"Thinking",
              R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta",)"
              R"("thinking":"Let me see"}})",
              true, 10},
        Delta{"Signature",
              R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta",)"
              R"("signature":"EqQBCgIYAhIM"}})",
              true, 0},
        Delta{"EscapedType", R"({"type":"content_block_d\u0065lta","delta":{"text":"ab"}})", true,
              2},
        Delta{"OtherType", R"({"type":"content_block_start","delta":{"text":"ab"}})", false, 2},
        Delta{"TypeNotAString", R"({"type":["content_block_delta"],"delta":{"text":"ab"}})", false,
              2},
        Delta{"NoType", R"({"delta":{"text":"ab"}})", false, 2},
        Delta{"RepeatedTypeTheLastWins",
              R"({"type":"ping","type":"content_block_delta","delta":{"text":"a"}})", true, 1},
        Delta{"RepeatedTypeLastIsNot",
              R"({"type":"content_block_delta","type":null,"delta":{"text":"a"}})", false, 1},
        Delta{"RepeatedTextTheLastWins",
              R"({"type":"content_block_delta","delta":{"text":"abc","text":"de"}})", true, 2},
        Delta{"RepeatedDeltaTheLastWins",
              R"({"type":"content_block_delta","delta":{"text":"abc"},"delta":{"thinking":"d"}})",
              true, 1},
        Delta{"DeltaNotAnObject",
              R"({"type":"content_block_delta","delta":{"text":"abc"},"delta":["text"]})", true, 0},
        Delta{"TextNotAString",
              R"({"type":"content_block_delta","delta":{"text":{"text":"abc"},"partial_json":7}})",
              true, 0},
        Delta{"DeeperNamesAreOtherMembers",
              R"({"type":"content_block_delta","index":{"type":"x","delta":{"text":"abc"}},)"
              R"("text":"d","delta":{"x":{"text":"e"}}})",
              true, 0},
        Delta{"EverythingAtOnce",
              R"({"type":"content_block_delta","delta":{"text":"ab","partial_json":"cd",)"
              R"("thinking":"ef","other":"gh"}})",
              true, 6}),
    [](const auto& test_case) { return std::string(test_case.param.name); });

TEST(ScanResponsesDelta, TheTypeAndTheDeltaStringAsTheDomReadingDoes) {
  struct Case {
    std::string data;
    bool type_matches;
    size_t bytes;
  };
  const std::string type = "response.output_text.delta";
  const Case cases[] = {
      {R"({"type":"response.output_text.delta","item_id":"m","delta":"Hello"})", true, 5},
      {R"({"type":"response.output_text.delta","delta":"a\u00e9\n"})", true, 4},
      {R"({"type":"response.refusal.delta","delta":"Hello"})", false, 5},
      {R"({"delta":"Hello"})", false, 5},
      {R"({"type":"response.output_text.delta","delta":{"text":"Hello"}})", true, 0},
      {R"({"type":"response.output_text.delta","delta":"abc","delta":null})", true, 0},
      {R"({"type":"response.output_text.delta","delta":7,"delta":"ab"})", true, 2},
      {R"({"type":"x","type":"response.output_text.delta","part":{"delta":"abc"}})", true, 0},
      // Escaped: the type comes in parts.
      {R"({"type":"response.output_text.d\u0065lta","delta":"x"})", true, 1},
      {R"({"type":"response.output_text.delta.and.much.longer.than.any.type\u0021","delta":"x"})",
       false, 1},
  };
  for (const Case& c : cases) {
    const auto scanned = ScanResponsesDelta(c.data, type, kGatewayOptions);
    ASSERT_TRUE(scanned.has_value()) << c.data;
    EXPECT_EQ(scanned->type_matches, c.type_matches) << c.data;
    EXPECT_EQ(scanned->bytes, c.bytes) << c.data;
    EXPECT_EQ(ResponsesDeltaBytes(json::parse(c.data)), c.bytes) << c.data;
  }
  EXPECT_FALSE(ScanResponsesDelta(R"({"delta":"x")", type, kGatewayOptions));
}

TEST(ScanAnthropicDelta, RefusesWhatJsonParseRefuses) {
  EXPECT_FALSE(ScanAnthropicDelta(R"({"type":"content_block_delta")", kGatewayOptions));
  EXPECT_FALSE(ScanAnthropicDelta(R"(["content_block_delta"])", kGatewayOptions));
  EXPECT_FALSE(ScanAnthropicDelta(Nested(200), kGatewayOptions));
}

}  // namespace
}  // namespace sy::providers::detail
