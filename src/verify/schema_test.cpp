#include "verify/schema.h"

#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sy::verify {
namespace {

namespace json = boost::json;

struct BadSchema {
  const char* schema;
  const char* message;  // the whole CompileSchema message
};

TEST(CompileSchemaTest, RefusesBadSchemasNamingThePath) {
  const BadSchema cases[] = {
      {R"({"properties":{"age":{"type":"intger"}}})",
       "s: invalid JSON Schema at /properties/age/type: Failed to match against any enum values."},
      {R"({"required":"age"})",
       "s: invalid JSON Schema at /required: Value type not permitted by 'type' constraint."},
      {R"({"properties":{"id":{"pattern":"(("}}})",
       "s: invalid JSON Schema at /properties/id/pattern: pattern does not compile: "},
      {R"({"pattern":"(a)\\1"})", "s: invalid JSON Schema at /pattern: pattern does not compile: "},
      {R"({"patternProperties":{"^x-":{}}})",
       "s: invalid JSON Schema at /patternProperties: patternProperties is not supported (its "
       "regexes would run unbounded); use properties and additionalProperties"},
      {R"({"pattern":"a{1001}"})",
       "s: invalid JSON Schema at /pattern: pattern repeats more than 1000 times"},
      {R"({"pattern":"[0-9]{2,1001}"})",
       "s: invalid JSON Schema at /pattern: pattern repeats more than 1000 times"},
      {R"({"$ref":"#"})",
       "s: invalid JSON Schema at /: references loop back here without descending into the value"},
      {R"({"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}},
          "$ref":"#/definitions/a"})",
       "s: invalid JSON Schema at /definitions/a: references loop back here without descending "
       "into the value"},
      {R"({"definitions":{"a":{"allOf":[{"$ref":"#/definitions/a"}]}},"$ref":"#/definitions/a"})",
       "s: invalid JSON Schema at /definitions/a: references loop back here without descending "
       "into the value"},
      {R"({"items":{"$ref":"#/definitions/nope"}})",
       "s: invalid JSON Schema at /items/$ref: reference \"#/definitions/nope\" does not resolve "
       "in this schema"},
      {R"({"$ref":"http://example.com/x.json"})",
       "s: invalid JSON Schema at /$ref: only local references (\"#/...\") are supported, not "
       "\"http://example.com/x.json\""},
      {"7", "s: invalid JSON Schema at /: Value type not permitted by 'type' constraint."},
  };
  for (const auto& c : cases) {
    const auto r = CompileSchema(json::parse(c.schema), "s");
    ASSERT_FALSE(r.has_value()) << c.schema;
    EXPECT_EQ(r.error().param, "s");
    // Regex messages come from libstdc++: pin the part that is ours.
    EXPECT_EQ(r.error().message.substr(0, std::string(c.message).size()), c.message) << c.schema;
  }
}

// A client's schema once crashed the whole gateway: a pattern of about 100 KB overflowed the
// worker's stack in libstdc++'s regex compiler, and a chain of about 20,000 $ref in Valijson's
// parser. Both are refused long before that, with the path.
TEST(CompileSchemaTest, RefusesWhatWouldOverflowTheStack) {
  json::object huge;
  huge["pattern"] = std::string(100'000, 'a');
  auto r = CompileSchema(huge, "s");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "s: invalid JSON Schema at /pattern: pattern longer than 1000 bytes");
  json::object at_limit;
  at_limit["pattern"] = std::string(500, '(') + std::string(500, ')');
  EXPECT_TRUE(CompileSchema(at_limit, "s").has_value());

  auto chain = [](int n) {
    json::object definitions;
    for (int i = 0; i < n; ++i) {
      definitions["d" + std::to_string(i)] =
          json::object{{"$ref", "#/definitions/d" + std::to_string(i + 1)}};
    }
    definitions["d" + std::to_string(n)] = json::object{{"type", "string"}};
    return json::value(json::object{{"definitions", std::move(definitions)},
                                    {"properties", {{"x", {{"$ref", "#/definitions/d0"}}}}}});
  };
  r = CompileSchema(chain(20'000), "s");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("more than 256 $ref"), std::string::npos) << r.error().message;
  r = CompileSchema(chain(255), "s");  // 256 references with the root's
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(Validate(**r, json::parse(R"({"x":"a"})")), std::nullopt);
  EXPECT_NE(Validate(**r, json::parse(R"({"x":1})")), std::nullopt);
}

// Valijson and the schema walk keep a copy of a node's path per level: a 7 MB schema of 250 KB
// keys nested 28 deep took 580 MB, and its error echoed the whole path (7 MB). A path is now at
// most 4096 bytes and all of them together 4 MiB; the message is clipped.
TEST(CompileSchemaTest, RefusesPathsThatWouldTakeUnboundedMemory) {
  const std::string long_key(5000, 'k');
  json::object deep{{"type", "object"}};
  for (int i = 0; i < 3; ++i) {
    deep = json::object{{"properties", json::object{{long_key, std::move(deep)}}}};
  }
  auto r = CompileSchema(deep, "s");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message.substr(0, 50),
            "s: invalid JSON Schema at /properties/" + std::string(12, 'k'));
  EXPECT_NE(r.error().message.find(": a path longer than 4096 bytes"), std::string::npos);
  EXPECT_LT(r.error().message.size(), 400u);

  // 3,000 alternatives under a 2,000-byte key: each path is about 2 KB, 6 MB together.
  json::array alternatives(3000, json::object{{"type", "string"}});
  json::value wide = json::object{
      {"properties",
       json::object{{std::string(2000, 'w'), json::object{{"anyOf", std::move(alternatives)}}}}}};
  r = CompileSchema(wide, "s");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "s: invalid JSON Schema at /: too large to check: its paths add up to more than "
            "4194304 bytes");
  wide.at("properties").as_object().begin()->value().at("anyOf").as_array().resize(1000);
  EXPECT_TRUE(CompileSchema(wide, "s").has_value());
}

// An answer is checked in bounded memory too: a path past 4096 bytes fails it, and the errors
// of a large invalid answer are not listed (Valijson keeps each with its path).
TEST(ValidateTest, AnAnswersPathsAndErrorsAreBounded) {
  const auto any = CompileSchema(json::parse(R"({"type":"object"})"), "s");
  ASSERT_TRUE(any.has_value());
  json::object nested{{std::string(5000, 'x'), json::object{{"y", 1}}}};
  const auto long_path = Validate(**any, nested);
  ASSERT_TRUE(long_path.has_value());
  EXPECT_EQ(long_path->substr(0, 12), "/xxxxxxxxxxx");
  EXPECT_NE(long_path->find(": a path longer than 4096 bytes"), std::string::npos);
  EXPECT_LT(long_path->size(), 300u);

  const auto numbers = CompileSchema(json::parse(R"({"items":{"type":"number"}})"), "s");
  ASSERT_TRUE(numbers.has_value());
  json::array strings(20'000, json::value("a"));
  EXPECT_EQ(Validate(**numbers, strings),
            "/: does not match the schema (the place is not looked for in a document of more "
            "than 10000 values)");
  strings.resize(3);
  EXPECT_EQ(Validate(**numbers, strings),
            "/0: Value type not permitted by 'type' constraint. (and 5 more)");
  json::array fine(20'000, json::value(1));
  EXPECT_EQ(Validate(**numbers, fine), std::nullopt);
}

TEST(CompileSchemaTest, RecursionThatDescendsIsFine) {
  const auto r = CompileSchema(json::parse(R"({"type":"object","properties":{
      "child":{"$ref":"#"},"name":{"type":"string"}},"required":["name"]})"),
                               "s");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(Validate(**r, json::parse(R"({"name":"a","child":{"name":"b"}})")), std::nullopt);
  EXPECT_EQ(Validate(**r, json::parse(R"({"name":"a","child":{"name":3}})")),
            "/child/name: Value type not permitted by 'type' constraint. (and 2 more)");
}

struct Case {
  const char* schema;
  const char* instance;
  std::optional<std::string> error;
};

TEST(ValidateTest, Table) {
  const Case cases[] = {
      {R"({"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]})",
       R"({"age":41})", std::nullopt},
      {R"({"type":"object","properties":{"age":{"type":"integer"}},"required":["age"]})",
       R"({"age":"41"})", "/age: Value type not permitted by 'type' constraint. (and 1 more)"},
      {R"({"type":"object","required":["age"]})", R"({})", "/: Missing required property 'age'."},
      {R"({"type":"array","items":{"type":"string"}})", R"(["a",1])",
       "/1: Value type not permitted by 'type' constraint. (and 1 more)"},
      {R"({"additionalProperties":false,"properties":{"a":{}}})", R"({"a":1,"b":2})",
       "/: Object contains a property that could not be validated using 'properties' or "
       "'additionalProperties' constraints: 'b'."},
      {R"({"pattern":"^[0-9]{3}$"})", R"("123")", std::nullopt},
      {R"({"pattern":"^[0-9]{3}$"})", R"("1234")",
       "/: Failed to match regex specified by 'pattern' constraint."},
      // format is an annotation only (see the header).
      {R"({"type":["string","null"],"format":"date"})", "null", std::nullopt},
      {R"({"format":"date"})", R"("not a date")", std::nullopt},
      {R"({"enum":["a","b"]})", R"("c")", "/: Failed to match against any enum values."},
  };
  for (const auto& c : cases) {
    const auto schema = CompileSchema(json::parse(c.schema), "s");
    ASSERT_TRUE(schema.has_value()) << c.schema << ": " << schema.error().message;
    EXPECT_EQ(Validate(**schema, json::parse(c.instance)), c.error)
        << c.schema << " " << c.instance;
  }
}

TEST(ValidateTest, LongStringsUnderPatternsAreBoundedNotCrashed) {
  const auto schema =
      CompileSchema(json::parse(R"({"properties":{"s":{"pattern":"^(a|b)*$"}}})"), "s");
  ASSERT_TRUE(schema.has_value());
  json::object ok;
  ok["s"] = std::string(kMaxPatternSubjectBytes, 'a');
  EXPECT_EQ(Validate(**schema, ok), std::nullopt);
  json::object big;
  big["s"] = std::string(1 << 20, 'a');  // std::regex in its default mode overflows the stack here
  EXPECT_EQ(Validate(**schema, big),
            "/s: string longer than 4096 bytes, the limit when the schema has patterns");
  // Without patterns, no bound.
  const auto plain = CompileSchema(json::parse(R"({"properties":{"s":{"type":"string"}}})"), "s");
  EXPECT_EQ(Validate(**plain, big), std::nullopt);
}

// A search for a pattern restarted the matcher at every byte: 300 nested quantifiers against
// 2,000 bytes took 24 s on a worker. It is one pass now, and Validate refuses before it matches
// what could take more than its step budget; ordinary answers pass far below it.
TEST(ValidateTest, MatchingWorkIsOnePassAndBounded) {
  std::string hostile;
  for (int i = 0; i < 300; ++i) hostile += "a*";
  hostile += "b";
  json::object schema{{"items", {{"pattern", hostile}}}};
  const auto slow = CompileSchema(schema, "s");
  ASSERT_TRUE(slow.has_value()) << slow.error().message;
  json::array answer(1, json::value(std::string(4'000, 'a')));  // 601 * 4,001 steps
  EXPECT_EQ(Validate(**slow, answer),
            "/0: Failed to match regex specified by 'pattern' constraint. (and 1 more)");
  answer[0] = json::value(std::string(4'000, 'a') + "b");
  EXPECT_EQ(Validate(**slow, answer), std::nullopt);
  answer = json::array(25, json::value(std::string(4'000, 'a')));  // 601 * 100,025 steps
  EXPECT_EQ(Validate(**slow, answer),
            "/: the strings are too long to match against this schema's patterns in bounded time "
            "(60000000 steps)");
  // An ordinary schema's large answer is checked: 10 patterns, 200 KB of strings.
  json::object ten;
  for (int i = 0; i < 10; ++i) {
    ten["f" + std::to_string(i)] = json::object{{"pattern", "^[A-Za-z0-9 ,.-]+$"}};
  }
  const auto ordinary = CompileSchema(json::object{{"properties", std::move(ten)}}, "s");
  ASSERT_TRUE(ordinary.has_value());
  json::object large;
  for (int i = 0; i < 50; ++i)
    large["f" + std::to_string(i % 10) + "_" + std::to_string(i)] = std::string(4'000, 'x');
  large["f0"] = "fine";
  EXPECT_EQ(Validate(**ordinary, large), std::nullopt);

  // The same pattern repeated counts each time (allOf can repeat it without end).
  json::array copies(30'000, json::object{{"pattern", "^a*a*a*a*b"}});
  const auto repeated = CompileSchema(json::object{{"allOf", std::move(copies)}}, "s");
  ASSERT_TRUE(repeated.has_value());
  EXPECT_NE(Validate(**repeated, json::value(std::string(4'000, 'a'))), std::nullopt);
}

// The one-pass form finds what a search finds: anywhere unless the pattern anchors itself, with
// its own '^' and '$' at the subject's ends only, alternatives and groups intact.
TEST(ValidateTest, PatternsKeepTheirSearchMeaning) {
  const struct {
    const char* pattern;
    const char* subject;
    bool matches;
  } cases[] = {
      {"b", "aaab", true},       {"^b", "ab", false},       {"a$", "ba", true},
      {"a$", "ab", false},       {"^a|b$", "xxb", true},    {"^a|b$", "xbx", false},
      {"(x|^a)c", "zac", false}, {"(x|^a)c", "ac", true},   {"(a)(b)", "zab", true},
      {"[)(]", "a(", true},      {"\\d{3}", "ab123", true}, {"^$", "", true},
      {"^\\p", "p", true},       {"a.c", "a\nc", false},    {"x*", "", true},
  };
  for (const auto& c : cases) {
    const auto schema = CompileSchema(json::object{{"pattern", c.pattern}}, "s");
    ASSERT_TRUE(schema.has_value()) << c.pattern << ": " << schema.error().message;
    EXPECT_EQ(!Validate(**schema, json::value(c.subject)).has_value(), c.matches)
        << c.pattern << " on " << c.subject;
  }
  // The pattern's own syntax decides, not the wrapping's: ")(" does not compile.
  EXPECT_FALSE(CompileSchema(json::object{{"pattern", ")("}}, "s").has_value());
}

}  // namespace
}  // namespace sy::verify
