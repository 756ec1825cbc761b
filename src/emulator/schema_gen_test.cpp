#include "emulator/schema_gen.h"

#include <string>

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sy::emulator {
namespace {

namespace json = boost::json;

// A small validator for the subset the generator promises; returns "" or what is wrong.
std::string Check(const json::value& v, const json::value& schema_value, const json::value& root) {
  if (!schema_value.is_object()) return "";
  const json::object& s = schema_value.get_object();
  if (const json::value* ref = s.if_contains("$ref")) {
    boost::system::error_code ec;
    const json::value* target =
        root.find_pointer(json::string_view(ref->get_string()).substr(1), ec);
    if (target == nullptr) return "bad ref";
    return Check(v, *target, root);
  }
  if (const json::value* e = s.if_contains("enum")) {
    for (const auto& option : e->get_array()) {
      if (option == v) return "";
    }
    return "not in enum: " + json::serialize(v);
  }
  if (const json::value* any = s.if_contains("anyOf")) {
    for (const auto& alt : any->get_array()) {
      if (Check(v, alt, root).empty()) return "";
    }
    return "no anyOf branch matches";
  }
  std::string type;
  if (const json::value* t = s.if_contains("type")) {
    type = t->is_string() ? std::string(t->get_string())
                          : std::string(t->get_array().front().get_string());
  }
  if (type == "object") {
    if (!v.is_object()) return "want object";
    if (const json::value* req = s.if_contains("required")) {
      for (const auto& name : req->get_array()) {
        if (!v.get_object().contains(name.get_string())) {
          return "missing " + std::string(name.get_string());
        }
      }
    }
    if (const json::value* props = s.if_contains("properties")) {
      for (const auto& [key, sub] : props->get_object()) {
        if (const json::value* field = v.get_object().if_contains(key)) {
          std::string err = Check(*field, sub, root);
          if (!err.empty()) return std::string(key) + ": " + err;
        }
      }
    }
  } else if (type == "array") {
    if (!v.is_array()) return "want array";
    const json::array& a = v.get_array();
    if (const json::value* m = s.if_contains("minItems"); m && a.size() < m->to_number<size_t>()) {
      return "too few items";
    }
    if (const json::value* m = s.if_contains("maxItems"); m && a.size() > m->to_number<size_t>()) {
      return "too many items";
    }
    if (const json::value* items = s.if_contains("items")) {
      for (const auto& item : a) {
        std::string err = Check(item, *items, root);
        if (!err.empty()) return "item: " + err;
      }
    }
  } else if (type == "string") {
    if (!v.is_string()) return "want string";
    if (const json::value* m = s.if_contains("minLength");
        m && v.get_string().size() < m->to_number<size_t>()) {
      return "too short";
    }
    if (const json::value* m = s.if_contains("maxLength");
        m && v.get_string().size() > m->to_number<size_t>()) {
      return "too long";
    }
  } else if (type == "integer") {
    if (!v.is_int64()) return "want integer";
    if (const json::value* m = s.if_contains("minimum");
        m && v.get_int64() < m->to_number<int64_t>()) {
      return "below minimum";
    }
    if (const json::value* m = s.if_contains("maximum");
        m && v.get_int64() > m->to_number<int64_t>()) {
      return "above maximum";
    }
  } else if (type == "number") {
    if (!v.is_number()) return "want number";
    double d = v.to_number<double>();
    if (const json::value* m = s.if_contains("minimum"); m && d < m->to_number<double>()) {
      return "below minimum";
    }
    if (const json::value* m = s.if_contains("exclusiveMaximum");
        m && d >= m->to_number<double>()) {
      return "not below exclusiveMaximum";
    }
  } else if (type == "boolean") {
    if (!v.is_bool()) return "want boolean";
  } else if (type == "null") {
    if (!v.is_null()) return "want null";
  }
  return "";
}

void ExpectValid(std::string_view schema_text, uint64_t seed = 1) {
  json::value schema = json::parse(schema_text);
  json::value value = GenerateFromSchema(schema, seed);
  EXPECT_EQ(Check(value, schema, schema), "") << json::serialize(value);
  EXPECT_EQ(value, GenerateFromSchema(schema, seed)) << "not deterministic";
}

TEST(SchemaGenTest, ToolParameters) {
  ExpectValid(R"({"type":"object","properties":{
      "location":{"type":"string","description":"City and state"},
      "unit":{"type":"string","enum":["celsius","fahrenheit"]},
      "days":{"type":"integer","minimum":1,"maximum":7},
      "detailed":{"type":"boolean"}},
    "required":["location","unit"]})");
}

TEST(SchemaGenTest, NestedObjectsArraysAndBounds) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    ExpectValid(R"({"type":"object","properties":{
        "items":{"type":"array","minItems":3,"maxItems":5,"items":{"type":"object",
          "properties":{"name":{"type":"string","minLength":2,"maxLength":8},
                        "price":{"type":"number","minimum":0,"exclusiveMaximum":10},
                        "tags":{"type":"array","items":{"type":"string","enum":["a","b"]},
                                "uniqueItems":true}},
          "required":["name","price"],"additionalProperties":false}},
        "total":{"type":["number","null"]},
        "note":{"anyOf":[{"type":"null"},{"type":"string"}]}},
      "required":["items","total","note"],"additionalProperties":false})",
                seed);
  }
}

TEST(SchemaGenTest, RefsIntoDefs) {
  ExpectValid(R"({"type":"object","properties":{"step":{"$ref":"#/$defs/step"}},
                  "required":["step"],
                  "$defs":{"step":{"type":"object","properties":{"n":{"type":"integer"}},
                                   "required":["n"]}}})");
}

TEST(SchemaGenTest, FormatsAndPlausibleStrings) {
  json::value v =
      GenerateFromSchema(json::parse(R"({"type":"object","properties":{"email":{"type":"string"},
          "when":{"type":"string","format":"date-time"},"city":{"type":"string"}}})"),
                         3);
  EXPECT_NE(v.at("email").as_string().find('@'), json::string::npos);
  EXPECT_EQ(v.at("when").as_string(), "2025-01-15T09:30:00Z");
  EXPECT_EQ(v.at("city").as_string(), "Paris");
}

TEST(SchemaGenTest, RequiredWithoutPropertySchemaAndEmptySchema) {
  ExpectValid(R"({"type":"object","required":["q"]})");
  EXPECT_TRUE(GenerateFromSchema(json::object{}, 1).is_string());
  EXPECT_TRUE(GenerateFromSchema(json::parse(R"({"const":5})"), 1) == json::value(5));
}

}  // namespace
}  // namespace sy::emulator
