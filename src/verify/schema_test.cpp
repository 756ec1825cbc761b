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
      {R"({"patternProperties":{"[":{}}})",
       "s: invalid JSON Schema at /patternProperties/[: pattern does not compile: "},
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

}  // namespace
}  // namespace sy::verify
