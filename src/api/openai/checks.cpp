#include "api/openai/checks.h"

#include <string>

#include <boost/json/serialize.hpp>

#include "core/text.h"

namespace sy::api::openai {
namespace {

namespace json = boost::json;

using core::InvalidParam;

// OpenAI's integer parameters are 32-bit: larger values are refused here, as OpenAI refuses
// them, instead of failing at (or overflowing) an upstream.
constexpr int64_t kMaxInt32 = 2'147'483'647;

const char* KindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "an integer";
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

double AsDouble(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

// A JSON number as a person writes it: "2.5", not Boost.JSON's "2.5E0".
std::string NumberText(const json::value& v) {
  return v.is_double() ? core::ShortestText(v.get_double()) : json::serialize(v);
}

}  // namespace

core::Error WrongType(const std::string& param, const json::value& v, std::string_view expected) {
  return InvalidParam(param, "Invalid type for '" + param + "': expected " + std::string(expected) +
                                 ", but got " + KindName(v) + ".");
}

core::Error Missing(const std::string& param) {
  return InvalidParam(param, "Missing required parameter: '" + param + "'.");
}

core::Status CheckPositiveInt(std::string_view name, const json::value& v) {
  if (!v.is_int64() && !v.is_uint64()) return WrongType(std::string(name), v, "an integer");
  if (v.is_int64() && v.get_int64() < 1) {
    return InvalidParam(std::string(name),
                        "Invalid '" + std::string(name) + "': expected an integer of at least 1.");
  }
  if (v.is_uint64() || v.get_int64() > kMaxInt32) {
    return InvalidParam(std::string(name), "Invalid '" + std::string(name) +
                                               "': integer above maximum value. Expected a "
                                               "value <= 2147483647, but got " +
                                               json::serialize(v) + " instead.");
  }
  return {};
}

// A number parameter within [lo, hi], worded as OpenAI words it.
core::Status CheckNumberRange(std::string_view name, const json::value& v, double lo, double hi,
                              std::string_view lo_text, std::string_view hi_text) {
  if (!v.is_number()) return WrongType(std::string(name), v, "a number");
  const double x = AsDouble(v);
  if (x >= lo && x <= hi) return {};
  const bool above = x > hi;
  return InvalidParam(std::string(name), "Invalid '" + std::string(name) + "': decimal " +
                                             (above ? "above maximum" : "below minimum") +
                                             " value. Expected a value " + (above ? "<= " : ">= ") +
                                             std::string(above ? hi_text : lo_text) + ", but got " +
                                             NumberText(v) + " instead.");
}

core::Status CheckTemperature(std::string_view name, const json::value& v) {
  return CheckNumberRange(name, v, 0, 2, "0", "2");
}

core::Status CheckTopP(std::string_view name, const json::value& v) {
  return CheckNumberRange(name, v, 0, 1, "0", "1");
}

core::Status CheckString(std::string_view name, const json::value& v) {
  if (v.is_string()) return {};
  return WrongType(std::string(name), v, "a string");
}

core::Status CheckBool(std::string_view name, const json::value& v) {
  if (v.is_bool()) return {};
  return WrongType(std::string(name), v, "a boolean");
}

core::Status CheckObject(std::string_view name, const json::value& v) {
  if (v.is_object()) return {};
  return WrongType(std::string(name), v, "an object");
}

core::Status CheckParams(const json::object& body, std::span<const ParamRule> rules) {
  for (const json::key_value_pair& member : body) {
    if (member.value().is_null()) continue;
    const std::string_view key = member.key();
    for (const ParamRule& rule : rules) {
      if (rule.name != key) continue;
      if (auto s = rule.check(key, member.value()); !s) return s;
      break;
    }
  }
  return {};
}

}  // namespace sy::api::openai
